"""The answers platforms and crawlers harvest: VoID, the DCAT-AP record, dumps, sitemap, robots.

Each answer is computed once per version of the store and per server address, and carries
an ``ETag`` and ``Last-Modified`` so that a harvester polling for changes gets ``304 Not
Modified`` until the data changes. These functions read the store and may write dumps:
routes call them from worker threads (plain ``def`` routes), never on the event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from email.utils import format_datetime, parsedate_to_datetime

from rdflib import Graph
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response

from panorama.config import Settings
from panorama.dataset import dataset_description, dataset_iris, server_urls
from panorama.dumps import DUMP_FORMATS, current_dump
from panorama.negotiation import DOCUMENT_FORMATS, negotiate
from panorama.published import published_cache
from panorama.responses import cached_response
from panorama.sitemap import robots_txt, sitemap_xml
from panorama.store import Store
from panorama.void import describe_void, statistics

__all__ = [
    "catalog_response",
    "dump_response",
    "robots_response",
    "sitemap_response",
    "void_response",
]

_MAX_AGE = 300


def _rdf_document(
    request: Request, store: Store, kind: str, build: Callable[[str], Graph]
) -> Response:
    """Answer with the graph ``build(server_root)`` in the format the client asked for."""
    chosen = negotiate(
        request.headers.get("accept"), DOCUMENT_FORMATS, request.query_params.getlist("format")
    )
    root = server_urls(str(request.base_url)).root
    body = published_cache(store).get(
        (kind, root, chosen.media_type),
        lambda: build(root).serialize(format=chosen.rdflib_name, encoding="utf-8"),
    )
    here = f"{root}{request.url.path.lstrip('/')}"
    links = ", ".join(
        f'<{here}?format={fmt.name}>; rel="alternate"; type="{fmt.media_type}"'
        for fmt in DOCUMENT_FORMATS
        if fmt is not chosen
    )
    return cached_response(
        request,
        body,
        content_type=chosen.content_type,
        headers={"Vary": "Accept", "Link": links},
        last_modified=store.last_modified(),
        max_age=_MAX_AGE,
    )


def void_response(request: Request, store: Store, settings: Settings) -> Response:
    """``/.well-known/void``: the VoID description, by content negotiation."""

    def build(root: str) -> Graph:
        urls = server_urls(root)
        return describe_void(
            statistics(store),
            dataset=dataset_iris(settings.base_iri).dataset,
            base_iri=settings.base_iri,
            endpoint=urls.sparql,
            dumps=[urls.dump(name) for name in DUMP_FORMATS],
            document=urls.void,
        )

    return _rdf_document(request, store, "void", build)


def catalog_response(request: Request, store: Store, settings: Settings) -> Response:
    """``/catalog``: the DCAT-AP record, by content negotiation."""
    return _rdf_document(
        request, store, "dcat", lambda root: dataset_description(settings, store, root)
    )


def _is_fresh(request: Request, etag: str, last_modified_http: str) -> bool:
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return etag in tags or "*" in tags
    since = request.headers.get("if-modified-since")
    if since:
        try:
            return parsedate_to_datetime(last_modified_http) <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


def dump_response(request: Request, store: Store, settings: Settings, name: str) -> Response:
    """``/dumps/{name}``: a gzip file, sent as it is.

    The file is ``application/gzip`` without ``Content-Encoding``: a client saves the
    ``.gz`` it asked for instead of silently unpacking it (and the compression middleware
    leaves ``application/gzip`` alone, so nothing is compressed twice). The ETag is the
    file's SHA-256, the one the DCAT record states.
    """
    if name not in DUMP_FORMATS:
        raise HTTPException(404)
    dump = current_dump(store, name, in_memory=settings.in_memory)
    etag = f'"{dump.sha256}"'
    last_modified = format_datetime(store.last_modified(), usegmt=True)
    catalog = server_urls(str(request.base_url)).catalog
    headers = {
        "ETag": etag,
        "Last-Modified": last_modified,
        "Cache-Control": f"public, max-age={_MAX_AGE}",
        "Link": f'<{catalog}>; rel="describedby"; type="text/turtle"',
    }
    if _is_fresh(request, etag, last_modified):
        return Response(status_code=304, headers=headers)
    return FileResponse(
        dump.path,
        media_type=DUMP_FORMATS[name].compress_format,
        filename=name,
        stat_result=dump.stat,
        headers=headers,
    )


def sitemap_response(request: Request, store: Store, settings: Settings) -> Response:
    body = sitemap_xml(store, settings.base_iri, str(request.base_url))
    return cached_response(
        request,
        body,
        content_type="application/xml; charset=utf-8",
        last_modified=store.last_modified(),
        max_age=_MAX_AGE,
    )


def robots_response(request: Request) -> Response:
    return PlainTextResponse(robots_txt(str(request.base_url)))
