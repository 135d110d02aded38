"""The SPARQL our pages cost, as plain query strings another engine can be sent.

Our server builds an entity page, the home page and the VoID description from several
queries that it runs in-process. To compare it with an engine that only speaks SPARQL,
the benchmark sends that engine the same queries over HTTP. An entity page's are recorded
from ``panorama.linked_data.describe`` itself (``describe_queries``). The others mirror
``panorama.home_page.build_home_page`` with ``Store.graph_sizes``, and ``panorama.void``
(its three counts); they are copied, not imported, so the benchmark does not break when
the server's private helpers move. When those modules change their queries, change these
too.

Left out because our server computes them once per store version and keeps them: what
every entity page shares (``resources.shared_by_pages``: the names of properties, the
sources of graphs, schema.org types).
"""

from __future__ import annotations

from collections.abc import Callable

from panorama.linked_data import describe
from panorama.resources import PAGE_LINKS_IN
from panorama.store import QueryRequest, Store

__all__ = ["VOID_QUERIES", "describe_queries", "home_page_queries", "is_construct"]

_CP = "https://w3id.org/cluster-panorama/def#"
_SUBCLASS = "<http://www.w3.org/2000/01/rdf-schema#subClassOf>"

VOID_QUERIES: tuple[str, ...] = (
    """SELECT ?p (COUNT(*) AS ?n) WHERE { { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } } }
GROUP BY ?p""",
    """SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?class FILTER(isIRI(?class)) }
GROUP BY ?class""",
    "SELECT (COUNT(DISTINCT ?s) AS ?subjects) (COUNT(DISTINCT ?o) AS ?objects) WHERE { ?s ?p ?o }",
)


def is_construct(query: str) -> bool:
    """Whether ``query`` (one of this module's) returns triples rather than solutions."""
    return query.lstrip().startswith("CONSTRUCT")


class _Recorder:
    """A store that notes every query ``describe`` sends it, and answers from ``store``."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.base_iri = store.base_iri
        self.queries: list[str] = []

    def select(self, request: QueryRequest) -> list:
        self.queries.append(request.query)
        return self.store.select(request)

    def quads_about(self, subjects: list[str]) -> list:
        # Our store reads these without SPARQL. An engine is asked for them by graph: every
        # triple of the generated data and of the bundle is in a named graph.
        values = " ".join(f"<{s}>" for s in subjects)
        self.queries.append(
            f"SELECT ?s ?p ?o ?g WHERE {{ VALUES ?s {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }}"
        )
        return self.store.quads_about(subjects)

    def term_triples(self, request: QueryRequest) -> list:
        self.queries.append(request.query)
        return self.store.term_triples(request)

    def term_tuples(self, request: QueryRequest) -> list:
        self.queries.append(request.query)
        return self.store.term_tuples(request)


def describe_queries(store: Store, iri: str) -> list[str]:
    """The queries our server runs to describe ``iri`` (an ``id/`` IRI) for its HTML page.

    Recorded from ``panorama.linked_data.describe`` on ``store`` (which answers them), so
    the neighbours named are the page's own. Without a cache of neighbours' names: each
    page's queries are complete. What the page adds comes from tables our server keeps
    per store version (the sources of graphs, the names of properties, schema.org types).
    """
    recorder = _Recorder(store)
    describe(  # type: ignore[arg-type]
        recorder, iri, with_fragments=False, links_in=PAGE_LINKS_IN, neighbour_types=False
    )
    return recorder.queries


def _count(class_iri: str) -> str:
    return f"SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ ?x a/{_SUBCLASS}* <{class_iri}> }}"


def home_page_queries(select: Callable[[str], list[dict[str, str]]]) -> list[str]:
    """The queries of the home page, in the order the page runs them.

    The label query names every field, cluster, kind and seat the earlier queries found,
    so this runs those through ``select`` (a query → rows of variable → value function,
    against any engine holding the data) to write it exactly as the page does.
    """
    pairs = {
        "assigned": f"SELECT DISTINCT ?a ?b WHERE {{ ?b <{_CP}innovationField> ?a }}",
        "joint": f"""SELECT DISTINCT ?a ?b WHERE {{ ?m a <{_CP}JointMention> ;
  <{_CP}mentionsField> ?a ; <{_CP}mentionsCluster> ?b }}""",
        "kinds": f"SELECT DISTINCT ?a ?b WHERE {{ ?b <{_CP}clusterKind> ?a }}",
        "seats": f"SELECT DISTINCT ?a ?b WHERE {{ ?b a <{_CP}Cluster> ; <{_CP}seat> ?a }}",
    }
    fields = f"""SELECT DISTINCT ?f WHERE {{ ?f a/{_SUBCLASS}* <{_CP}InnovationField> }}
ORDER BY ?f"""
    cross_sectional = f"SELECT ?f WHERE {{ ?f a <{_CP}CrossSectionalInnovationField> }}"
    clusters = f"SELECT ?c WHERE {{ ?c a <{_CP}Cluster> }}"
    named = {row["f"] for row in select(fields)} | {row["c"] for row in select(clusters)}
    for key in ("kinds", "seats"):
        named |= {value for row in select(pairs[key]) for value in (row["a"], row["b"])}
    values = " ".join(f"<{iri}>" for iri in sorted(named))
    labels = f"""CONSTRUCT {{ ?x ?p ?l }} WHERE {{ VALUES ?x {{ {values} }}
  VALUES ?p {{ <http://www.w3.org/2004/02/skos/core#prefLabel>
               <http://www.w3.org/2000/01/rdf-schema#label> }} ?x ?p ?l }}"""
    return [
        *pairs.values(),
        fields,
        cross_sectional,
        clusters,
        labels,
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
        _count(f"{_CP}Programme"),
        _count(f"{_CP}Event"),
        _count("http://www.w3.org/ns/org#Organization"),
    ]
