"""Jinja2 templates: autoescaped, given plain data, never querying anything themselves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from starlette.requests import Request
from starlette.templating import Jinja2Templates

from panorama import __version__

__all__ = ["preload", "render", "render_text"]

# The interface's own words, in the languages pages come in.
UI_TEXT: dict[str, dict[str, str]] = {
    "de": {
        "home": "Start",
        "query": "Abfrage",
        "sparql": "SPARQL-Endpunkt",
        "ontology": "Ontologie",
        "properties": "Eigenschaften",
        "incoming": "Verweise auf diese Ressource",
        "links_in_more": "Die ersten {shown} von {total} Verweisen; alle mit SPARQL",
        "sources": "Quellen",
        "source": "Quelle",
        "data": "Daten",
        "search": "Suche",
        "search_placeholder": "Cluster, Innovationsfeld, Programm …",
        "not_found": "Nicht gefunden",
        "not_found_text": "Diese IRI kommt im Graphen nicht vor.",
        "language": "Sprache",
        "type": "Typ",
        "results": "Ergebnisse",
        "no_results": "Keine Treffer.",
    },
    "en": {
        "home": "Home",
        "query": "Query",
        "sparql": "SPARQL endpoint",
        "ontology": "Ontology",
        "properties": "Properties",
        "incoming": "Referenced by",
        "links_in_more": "The first {shown} of {total} links; all of them with SPARQL",
        "sources": "Sources",
        "source": "Source",
        "data": "Data",
        "search": "Search",
        "search_placeholder": "Cluster, innovation field, programme …",
        "not_found": "Not found",
        "not_found_text": "This IRI does not occur in the graph.",
        "language": "Language",
        "type": "Type",
        "results": "Results",
        "no_results": "Nothing found.",
    },
}


@pass_context
def _text(context: Context, key: str) -> str:
    return UI_TEXT.get(context.get("lang", "de"), UI_TEXT["de"]).get(key, key)


_templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
# The templates ship with the package and change only with it: without this, every page
# looked up the modification time of each template it uses (1.8 % of a cold page's CPU).
_templates.env.auto_reload = False
_templates.env.globals["version"] = __version__
_templates.env.globals["t"] = _text


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


def render_text(request: Request | None, name: str, context: dict[str, Any]) -> str:
    """Render ``name`` to a string, for answers that are cached before they are sent.

    Without a request (in a query worker process), the template must not use one.
    """
    template = _templates.get_template(name)
    return template.render({"request": request, **context})


def preload(*names: str) -> None:
    """Compile templates now, so that the first page a process renders is not the slow one."""
    for name in names:
        _templates.get_template(name)
