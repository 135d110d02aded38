"""What the dataset publishes: every named graph of the store except the catalog graph.

The catalog graph (``{base_iri}graph/catalog``) is load bookkeeping: the source path, SHA-256
and load time of each bundled file on *this* server. It is not knowledge, and counting it
would make two servers holding the same data report different statistics and dumps with
different checksums. Everything else (``ontology/``, ``data/``, ``shapes/`` and graphs
loaded with ``panorama load --graph``) is published: VoID counts it, the dumps carry it and
the sitemap lists its resources. Triples in the store's unnamed default graph belong to no
source and are not published.

Counts are over the union of the published graphs as one RDF graph: a triple stated by two
sources counts once (the N-Quads dump still carries it in both graphs).
"""

from __future__ import annotations

import weakref

from panorama.cache import VersionedCache
from panorama.store import QueryRequest, Store

__all__ = ["published_cache", "published_graphs", "published_request"]

# An IRI that names no graph: a query over it sees an empty dataset. Without it an empty
# list of graphs would fall back to the union of *all* graphs, catalog included.
_NO_GRAPH = "urn:x-panorama:no-graph"

_caches: weakref.WeakKeyDictionary[Store, VersionedCache] = weakref.WeakKeyDictionary()


def published_graphs(store: Store) -> tuple[str, ...]:
    """The IRIs of the published graphs, sorted (so dumps come out in a stable order)."""
    return tuple(graph for graph in store.named_graphs() if graph != store.catalog_graph)


def published_request(store: Store, query: str, **options: object) -> QueryRequest:
    """A query whose default graph is the union of the published graphs.

    A triple in several graphs matches once per graph: select ``DISTINCT`` triples in a
    subquery to count the union as one graph.
    """
    graphs = published_graphs(store) or (_NO_GRAPH,)
    return QueryRequest(query, default_graphs=graphs, **options)  # type: ignore[arg-type]


def published_cache(store: Store) -> VersionedCache:
    """The cache of answers about what ``store`` publishes, emptied when the store changes.

    Keyed by the store itself (and dropped with it) because the dataset description is also
    built outside a request, by callers that hold only the store.
    """
    cache = _caches.get(store)
    if cache is None:
        cache = _caches.setdefault(store, VersionedCache(store, maxsize=64))
    return cache
