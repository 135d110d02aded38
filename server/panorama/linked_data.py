"""Dereferencing: which IRI a request path names, and what the server says about it.

The canonical namespace (``settings.base_iri``) is one setting. Wherever the server runs
(``localhost``, a staging host), the path after the host is read as the path after the
namespace: ``/id/cluster/its-owl`` names ``{base_iri}id/cluster/its-owl``. A document IRI
with hash terms (``/def`` for ``def#Cluster``) describes itself and its fragments.

A description is the resource's concise bounded description (its triples, following blank
nodes), the triples pointing at it, and the labels and types of every neighbour, so that
it can be read alone (the W3C "Cool URIs" practice).
"""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import Graph, URIRef

from panorama.negotiation import HTML, JSON_LD, NTRIPLES, RDF_XML, TURTLE, Format
from panorama.store import QueryRequest, Store

__all__ = [
    "RESOURCE_FORMATS",
    "SUFFIXES",
    "Description",
    "describe",
    "resource_url",
    "split_suffix",
]

# The formats a resource can be had in, HTML first: a browser asks for it explicitly, and a
# client that asks for nothing in particular still gets a page with links to the data.
RESOURCE_FORMATS: tuple[Format, ...] = (HTML, TURTLE, JSON_LD, NTRIPLES, RDF_XML)
SUFFIXES: dict[str, Format] = {
    ".html": HTML,
    ".ttl": TURTLE,
    ".jsonld": JSON_LD,
    ".nt": NTRIPLES,
    ".rdf": RDF_XML,
}

#: Properties that name a thing, most telling first.
LABEL_PROPERTIES = (
    "http://www.w3.org/2004/02/skos/core#prefLabel",
    "http://www.w3.org/2000/01/rdf-schema#label",
    "https://schema.org/name",
    "http://purl.org/dc/terms/title",
    "http://xmlns.com/foaf/0.1/name",
)
_LABELS = " ".join(f"<{p}>" for p in LABEL_PROPERTIES)


def resource_url(base_iri: str, iri: str) -> str:
    """Where a page links to ``iri``: its path on this server if it is ours, else itself."""
    return "/" + iri[len(base_iri) :] if iri.startswith(base_iri) else iri


def split_suffix(path: str) -> tuple[str, Format | None]:
    """``id/x.ttl`` → (``id/x``, Turtle); a path without a known suffix is left whole."""
    for suffix, fmt in SUFFIXES.items():
        if path.endswith(suffix):
            return path[: -len(suffix)], fmt
    return path, None


@dataclass(frozen=True)
class Description:
    """What the store says about one IRI, ready to serialize or to show."""

    iri: str
    graph: Graph  # the description as triples
    fragments: tuple[str, ...]  # hash terms described along with a document IRI

    @property
    def found(self) -> bool:
        return len(self.graph) > 0

    def serialize(self, fmt: Format) -> bytes:
        return self.graph.serialize(format=fmt.rdflib_name, encoding="utf-8")


def _fragments(store: Store, iri: str) -> tuple[str, ...]:
    rows = store.select(
        QueryRequest(
            f"""SELECT DISTINCT ?s WHERE {{ ?s ?p ?o FILTER(STRSTARTS(STR(?s), "{iri}#")) }}
                ORDER BY ?s"""
        )
    )
    return tuple(str(row["s"]) for row in rows)


def describe(store: Store, iri: str, *, with_fragments: bool) -> Description:
    """Describe ``iri``: its CBD, incoming triples, and its neighbours' labels and types.

    Args:
        with_fragments: also describe ``iri#…`` terms, for document IRIs such as the
            ontology's; it scans every subject, so instance IRIs skip it.
    """
    fragments = _fragments(store, iri) if with_fragments else ()
    described = (iri, *fragments)
    subjects = " ".join(f"<{s}>" for s in described)
    graph = Graph()
    for query in (
        # The concise bounded description, following blank nodes two levels deep; in two
        # queries, as OPTIONALs on every triple cost the engine four times as much.
        f"""CONSTRUCT {{ ?s ?p ?o }} WHERE {{
              VALUES ?s {{ {subjects} }} ?s ?p ?o FILTER(!isBlank(?o)) }}""",
        f"""CONSTRUCT {{ ?s ?p ?o . ?o ?p1 ?o1 . ?o1 ?p2 ?o2 }} WHERE {{
              VALUES ?s {{ {subjects} }} ?s ?p ?o FILTER(isBlank(?o))
              OPTIONAL {{ ?o ?p1 ?o1 OPTIONAL {{ ?o1 ?p2 ?o2 FILTER(isBlank(?o1)) }} }} }}""",
        f"""CONSTRUCT {{ ?in ?p ?s }} WHERE {{
              VALUES ?s {{ {subjects} }} ?in ?p ?s FILTER(isIRI(?in)) }}""",
    ):
        store.construct(QueryRequest(query), into=graph)
    # The neighbours' labels and types, asked by name: binding them with VALUES lets the
    # engine go straight to each one (a join over the neighbours' patterns cost twice as
    # much on a million triples).
    terms = [URIRef(s) for s in described]
    neighbours = {o for s in terms for o in graph.objects(s) if isinstance(o, URIRef)}
    neighbours |= {s for o in terms for s in graph.subjects(None, o) if isinstance(s, URIRef)}
    neighbours.difference_update(terms)
    if neighbours:
        values = " ".join(f"<{n}>" for n in sorted(neighbours))
        store.construct(
            QueryRequest(
                f"""CONSTRUCT {{ ?n a ?type . ?n ?label ?name }} WHERE {{
                      VALUES ?n {{ {values} }}
                      {{ ?n a ?type }} UNION {{ VALUES ?label {{ {_LABELS} }} ?n ?label ?name }}
                    }}"""
            ),
            into=graph,
        )
    return Description(iri, graph, fragments)
