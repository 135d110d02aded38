"""Jinja2 templates: autoescaped, given plain data, never querying anything themselves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.templating import Jinja2Templates

from panorama import __version__

__all__ = ["render"]

_templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
_templates.env.globals["version"] = __version__


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
):
    """Render ``name`` with ``context`` into an HTML response."""
    return _templates.TemplateResponse(
        request, name, context, status_code=status_code, headers=headers
    )
