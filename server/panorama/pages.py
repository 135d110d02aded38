"""The pages that are not resources: the home page and the search results.

Each is also machine-readable: the home page links the VoID description, and search
answers JSON to clients that ask for it.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from panorama.cache import VersionedCache
from panorama.home_page import build_home_page
from panorama.labels import request_language
from panorama.linked_data import resource_url
from panorama.negotiation import HTML, JSON, negotiate
from panorama.responses import cached_response
from panorama.search import SearchIndex
from panorama.store import Store
from panorama.templating import render_text

__all__ = ["home_response", "search_response"]


def home_response(request: Request, store: Store, cache: VersionedCache) -> Response:
    lang = request_language(request)

    def render() -> bytes:
        page = build_home_page(store, lang)
        return render_text(request, "home.html", {"page": page, "lang": lang}).encode()

    body = cache.get(("home", lang), render)
    return cached_response(
        request,
        body,
        content_type=HTML.content_type,
        headers={"Vary": "Accept-Language", "Content-Language": lang},
        last_modified=store.last_modified(),
        max_age=60,
    )


def search_response(request: Request, store: Store, cache: VersionedCache) -> Response:
    lang = request_language(request)
    text = request.query_params.get("q", "").strip()[:200]
    index = cache.get("search-index", lambda: SearchIndex(store))
    hits = index.search(text, lang=lang)
    fmt = negotiate(
        request.headers.get("accept"), (HTML, JSON), request.query_params.getlist("format")
    )
    base = store.base_iri
    rows = [
        {
            "iri": hit.iri,
            "label": hit.label,
            "href": resource_url(base, hit.iri),
        }
        for hit in hits
    ]
    if fmt is JSON:
        return JSONResponse({"query": text, "results": rows})
    context = {"hits": rows, "query_text": text, "lang": lang}
    return Response(render_text(request, "search.html", context), media_type="text/html")
