"""Error answers a person can read: plain text for programs, a page for browsers."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from panorama.errors import NotAcceptable, PanoramaError
from panorama.negotiation import HTML, Format, negotiate
from panorama.templating import render

__all__ = ["error_response", "http_error_response"]

_PLAIN = Format(("text",), "text/plain")


def _wants_html(request: Request) -> bool:
    try:
        return negotiate(request.headers.get("accept"), (_PLAIN, HTML)) is HTML
    except NotAcceptable:
        return False


def _respond(
    request: Request, status: int, title: str, message: str, headers: dict[str, str]
) -> Response:
    if _wants_html(request):
        context = {"status": status, "title": title, "message": message}
        return render(request, "error.html", context, status_code=status, headers=headers)
    return PlainTextResponse(f"{message}\n", status_code=status, headers=headers)


async def error_response(request: Request, error: Exception) -> Response:
    """The handler for every ``PanoramaError``."""
    assert isinstance(error, PanoramaError)
    return _respond(request, error.status, error.title, error.message, error.headers)


async def http_error_response(request: Request, error: Exception) -> Response:
    """The handler for the router's own errors (404, 405), in the same style."""
    assert isinstance(error, HTTPException)
    message = {
        404: f"There is nothing at {request.url.path}.",
        405: f"{request.method} is not allowed at {request.url.path}.",
    }.get(error.status_code, str(error.detail))
    title = str(error.detail) if error.status_code in (404, 405) else "Error"
    return _respond(request, error.status_code, title, message, dict(error.headers or {}))
