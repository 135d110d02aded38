"""Answering for a resource IRI: negotiate the format, describe, render, cache, validate.

Every IRI in the namespace resolves here (W3C "Cool URIs for the Semantic Web"): HTML for
people, Turtle, JSON-LD, N-Triples or RDF/XML for machines, chosen by ``Accept``, by a
``format`` parameter, or by a suffix (``/id/cluster/its-owl.ttl``). Answers are cached per
store version and carry an ETag, so crawlers can revalidate for free.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from panorama.cache import VersionedCache
from panorama.config import Settings
from panorama.dataset import dataset_description, dataset_iris
from panorama.entity_page import build_entity_page, graph_sources, property_names, schema_types
from panorama.errors import QueryTimeout
from panorama.labels import PREFIXES, request_language
from panorama.linked_data import (
    RESOURCE_FORMATS,
    SUFFIXES,
    Description,
    describe,
    split_suffix,
)
from panorama.negotiation import HTML, Format, negotiate
from panorama.ontology_docs import ontology_html
from panorama.responses import cached_response
from panorama.store import Store, is_iri
from panorama.templating import render_text

__all__ = [
    "PageJob",
    "PageRenderer",
    "ResourceAnswer",
    "answer_resource",
    "page_timeout",
    "render_resource",
    "shared_by_pages",
]

_ONTOLOGY_PATH = "def"
#: Links to a resource its HTML page lists at most; the count and a query give the rest.
PAGE_LINKS_IN = 1_000
#: Entries of ``shared_by_pages``: a neighbour's names are a few hundred bytes.
SHARED_ENTRIES = 20_000


@dataclass(frozen=True)
class ResourceAnswer:
    status: int
    body: bytes
    content_type: str


def _alternates(path: str) -> str:
    links = [
        f'<{path}{suffix}>; rel="alternate"; type="{fmt.media_type}"'
        for suffix, fmt in SUFFIXES.items()
    ]
    return ", ".join(links)


def _not_found(iri: str, fmt: Format, lang: str) -> ResourceAnswer:
    if fmt is HTML:
        body = render_text(None, "not_found.html", {"iri": iri, "lang": lang})
        return ResourceAnswer(404, body.encode(), HTML.content_type)
    message = f"There is nothing about <{iri}> in this graph.\n"
    return ResourceAnswer(404, message.encode(), "text/plain; charset=utf-8")


@dataclass(frozen=True)
class PageJob:
    """A resource to render where the queries run (``render_resource``), not in the server.

    Pages are mostly Python (turning rows into terms, laying them out), and Python threads
    share one core: eight threads rendering at once gave fewer pages a second than one.
    Rendered in the query worker processes, pages use every core and get the same time
    limit as queries.
    """

    path: str
    #: The name of one of RESOURCE_FORMATS: a pickled Format comes back as a copy, and
    #: formats are compared by identity.
    format: str
    lang: str
    #: Never a lookup: the pool answers lookups in the server's thread, pages never.
    lookup: bool = field(default=False, init=False)

    @property
    def fmt(self) -> Format:
        return next(f for f in RESOURCE_FORMATS if f.name == self.format)


def page_timeout(seconds: float) -> QueryTimeout:
    """What a client is told of a page past the time limit: where its data can be had."""
    return QueryTimeout(
        f"This page took longer than {seconds:g} s to build, the time limit of this server. "
        "Its data can be had in parts with SPARQL (/sparql) or whole from the dumps "
        "(/dumps/cluster-panorama.nq.gz)."
    )


class PageRenderer(Protocol):
    """What renders a ``PageJob``: the query worker pool, or a thread of the server."""

    async def page(self, job: PageJob) -> ResourceAnswer: ...


def shared_by_pages(store: Store) -> VersionedCache:
    """A cache for what every page of ``store``'s current version shares (``render_resource``).

    Property names, graph sources and schema.org types are a few entries; the rest is the
    names of neighbours, which most pages share (fields, kinds, regions, programmes).
    """
    return VersionedCache(store, maxsize=SHARED_ENTRIES)


def render_resource(store: Store, cache: VersionedCache, job: PageJob) -> ResourceAnswer:
    """Describe and render an ordinary resource (not a dataset document, not the ontology).

    Args:
        cache: what every page of this store version shares (``shared_by_pages``).
    """
    iri = store.base_iri + job.path
    fmt, lang = job.fmt, job.lang
    description = describe(
        store,
        iri,
        with_fragments=not job.path.startswith("id/"),
        links_in=PAGE_LINKS_IN if fmt is HTML else None,
        neighbour_types=fmt is not HTML,
        names=cache,
    )
    if not description.found:
        return _not_found(iri, fmt, lang)
    if fmt is not HTML:
        return _serialized(description, fmt)
    return _entity_page(store, cache, description, job.path, lang)


def _entity_page(
    store: Store, cache: VersionedCache, description: Description, path: str, lang: str
) -> ResourceAnswer:
    page = build_entity_page(
        store,
        description,
        lang=lang,
        property_names=cache.get(("property-names", lang), lambda: property_names(store, lang)),
        sources=cache.get(("graph-sources", lang), lambda: graph_sources(store, lang)),
        schema_types_of=lambda types: cache.get(
            ("schema-types", types), lambda: schema_types(store, types)
        ),
        page_url=description.iri,
    )
    body = render_text(
        None,
        "resource.html",
        {"page": page, "path": "/" + path, "lang": lang, "formats": SUFFIXES},
    )
    return ResourceAnswer(200, body.encode(), HTML.content_type)


def _serialized(description: Description, fmt: Format) -> ResourceAnswer:
    for prefix, namespace in PREFIXES.items():
        description.graph.bind(prefix, namespace)
    return ResourceAnswer(200, description.serialize(fmt), fmt.content_type)


def _render_document(
    request: Request,
    store: Store,
    settings: Settings,
    cache: VersionedCache,
    path: str,
    fmt: Format,
    lang: str,
) -> ResourceAnswer:
    """A dataset document (described from the live store) or the ontology's page (pyLODE)."""
    iri = store.base_iri + path
    description = describe(store, iri, with_fragments=True)
    if iri in dataset_iris(store.base_iri).documents:
        description = description.with_graph(
            dataset_description(settings, store, str(request.base_url))
        )
    if not description.found:
        return _not_found(iri, fmt, lang)
    if fmt is not HTML:
        return _serialized(description, fmt)
    if path == _ONTOLOGY_PATH:
        return ResourceAnswer(200, ontology_html(store).encode(), HTML.content_type)
    return _entity_page(store, cache, description, path, lang)


async def answer_resource(
    request: Request,
    store: Store,
    settings: Settings,
    cache: VersionedCache,
    renderer: PageRenderer,
    path: str,
) -> Response:
    """The answer for the resource at server ``path`` (the IRI's path under the namespace).

    Cached answers are sent from the event loop; others are rendered by ``renderer``,
    except the few documents that need this server's settings and URL.
    """
    path, suffix_format = split_suffix(path.lstrip("/"))
    fmt = suffix_format or negotiate(
        request.headers.get("accept"),
        RESOURCE_FORMATS,
        request.query_params.getlist("format"),
    )
    lang = request_language(request)
    iri = store.base_iri + path
    if not is_iri(iri):
        # Not an IRI at all (spaces, quotes, brackets…): nothing can be said about it, and
        # it must never reach a query's text.
        answer = _not_found(iri, fmt, lang)
    else:
        key = ("resource", path, fmt.name, lang if fmt is HTML else "")
        document = iri in dataset_iris(store.base_iri).documents
        if document:
            key += (str(request.base_url),)  # the record names this server's URLs
        answer = cache.peek(key)  # type: ignore[assignment]
        if answer is None:
            version = cache.version
            if document or (path == _ONTOLOGY_PATH and fmt is HTML):
                answer = await run_in_threadpool(
                    _render_document, request, store, settings, cache, path, fmt, lang
                )
            else:
                answer = await renderer.page(PageJob(path, fmt.name, lang))
            if answer.status == 200:  # 404s are cheap, and caching them lets anyone evict
                cache.put(key, answer, version=version)
    headers = {
        "Vary": "Accept, Accept-Language",
        "Link": _alternates("/" + path),
        "Content-Language": lang if fmt is HTML else "",
    }
    return cached_response(
        request,
        answer.body,
        status_code=answer.status,
        content_type=answer.content_type,
        headers={k: v for k, v in headers.items() if v},
        last_modified=store.last_modified(),
    )
