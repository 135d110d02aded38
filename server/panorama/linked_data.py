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

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import pyoxigraph as ox
from rdflib import Graph

from panorama.cache import VersionedCache
from panorama.errors import NotAcceptable
from panorama.negotiation import HTML, JSON_LD, NTRIPLES, RDF_XML, TURTLE, Format
from panorama.store import QueryRequest, Store, Term, TermTriple, from_rdflib, to_rdflib

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

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

#: Properties that name a thing, most telling first.
LABEL_PROPERTIES = (
    "http://www.w3.org/2004/02/skos/core#prefLabel",
    "http://www.w3.org/2000/01/rdf-schema#label",
    "https://schema.org/name",
    "http://purl.org/dc/terms/title",
    "http://xmlns.com/foaf/0.1/name",
)
# The label properties, with rdf:type or without, for a FILTER … IN.
_LABELS = ", ".join(f"<{p}>" for p in LABEL_PROPERTIES)
_NAMING = f"<{RDF_TYPE}>, {_LABELS}"
_NEIGHBOURS_PER_QUERY = 2_000
#: The key of a neighbour's naming triples in ``describe``'s ``names`` cache.
_NAMES = "neighbour-names"


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
    """What the store says about one IRI, ready to serialize or to show.

    The triples are Oxigraph's terms, kept as a list with two small indexes rather than an
    rdflib graph: a page reads them by subject and by object, and building a graph (three
    indexes, events, contexts) cost as much as the queries. The rdflib graph is built only
    to serialize.
    """

    iri: str
    triples: tuple[TermTriple, ...]
    fragments: tuple[str, ...] = ()  # hash terms described along with a document IRI
    #: The named graphs that state each triple about the described IRIs (not their blank
    #: nodes' triples, nor incoming ones): a page names their sources.
    stated_in: Mapping[TermTriple, tuple[Term, ...]] = field(default_factory=dict)
    #: How many IRIs link to the resource, when ``links_in`` kept only the first of them.
    links_in_total: int | None = None

    @property
    def found(self) -> bool:
        return bool(self.triples)

    @cached_property
    def _by_subject(self) -> dict[Term, list[tuple[Term, Term]]]:
        index: dict[Term, list[tuple[Term, Term]]] = {}
        for s, p, o in self.triples:
            index.setdefault(s, []).append((p, o))
        return index

    @cached_property
    def _by_object(self) -> dict[Term, list[tuple[Term, Term]]]:
        # Literals are left out: nothing points at them.
        index: dict[Term, list[tuple[Term, Term]]] = {}
        for s, p, o in self.triples:
            if not isinstance(o, ox.Literal):
                index.setdefault(o, []).append((s, p))
        return index

    def outgoing(self, subject: Term) -> list[tuple[Term, Term]]:
        """(predicate, object) of every triple about ``subject``, in the engine's order."""
        return self._by_subject.get(subject, [])

    def incoming(self, node: Term) -> list[tuple[Term, Term]]:
        """(subject, predicate) of every triple pointing at ``node`` (an IRI or blank node)."""
        return self._by_object.get(node, [])

    def objects(self, subject: Term, predicate: Term) -> list[Term]:
        return [o for p, o in self.outgoing(subject) if p == predicate]

    def with_graph(self, graph: Graph) -> Description:
        """This description and the triples of ``graph`` (a record made on the fly)."""
        extra = tuple((from_rdflib(s), from_rdflib(p), from_rdflib(o)) for s, p, o in graph)
        return Description(
            self.iri, self.triples + extra, self.fragments, self.stated_in, self.links_in_total
        )

    @cached_property
    def graph(self) -> Graph:
        graph = Graph()
        graph.addN((to_rdflib(s), to_rdflib(p), to_rdflib(o), graph) for s, p, o in self.triples)
        return graph

    def serialize(self, fmt: Format) -> bytes:
        """The description in ``fmt``.

        Raises:
            NotAcceptable: RDF/XML cannot write one of its properties: an element's name
                must end the property's IRI, and ``urn:isbn:123`` or ``https://example.org/``
                end in no XML name.
        """
        try:
            return self.graph.serialize(format=fmt.rdflib_name, encoding="utf-8")
        except ValueError as error:
            if fmt is not RDF_XML:
                raise
            raise NotAcceptable(
                f"<{self.iri}> cannot be written in RDF/XML ({error}): ask for Turtle "
                "(text/turtle), N-Triples (application/n-triples) or JSON-LD "
                "(application/ld+json)."
            ) from error


def _fragments(store: Store, iri: str) -> tuple[str, ...]:
    rows = store.select(
        QueryRequest(
            f"""SELECT DISTINCT ?s WHERE {{ ?s ?p ?o FILTER(STRSTARTS(STR(?s), "{iri}#")) }}
                ORDER BY ?s"""
        )
    )
    return tuple(str(row["s"]) for row in rows)


def describe(
    store: Store,
    iri: str,
    *,
    with_fragments: bool,
    links_in: int | None = None,
    neighbour_types: bool = True,
    names: VersionedCache | None = None,
) -> Description:
    """Describe ``iri``: its CBD, the triples linking to it, its neighbours' labels and types.

    Args:
        with_fragments: also describe ``iri#…`` terms, for document IRIs such as the
            ontology's; it scans every subject, so instance IRIs skip it.
        links_in: keep only the first this many links to ``iri`` (by property, then IRI),
            and count them all: a page for people of a hub (a funder of 60,000 projects)
            cannot show every link, and the RDF forms keep them.
        neighbour_types: also give the neighbours' types, which the RDF forms carry so
            that they read alone; a page for people shows neighbours by name only, and
            leaving their types out saves a tenth of its time.
        names: where the neighbours' naming triples read at this store version are kept
            for the next description: most pages name the same fields, kinds, regions
            and programmes, and reading a name costs more than looking it up.
    """
    fragments = _fragments(store, iri) if with_fragments else ()
    described = (iri, *fragments)
    subjects = " ".join(f"<{s}>" for s in described)
    # The described IRIs' own triples, with the graphs that state each one; the real
    # default graph too, as the union default graph would have it.
    stated_in: dict[TermTriple, list[Term]] = {}
    for triple, graph in store.quads_about(described):
        graphs = stated_in.setdefault(triple, [])
        if graph is not None:
            graphs.append(graph)
    triples: list[TermTriple] = list(stated_in)
    # Blank nodes two levels deep (the rest of the concise bounded description), and
    # incoming triples: in queries of their own, as OPTIONALs on every triple cost the
    # engine four times as much. Most resources have no blank node, and skip that query.
    if any(isinstance(o, ox.BlankNode) for _, _, o in triples):
        triples += store.term_triples(
            QueryRequest(
                f"""CONSTRUCT {{ ?o ?p1 ?o1 . ?o1 ?p2 ?o2 }} WHERE {{
                      VALUES ?s {{ {subjects} }} ?s ?p ?o FILTER(isBlank(?o))
                      OPTIONAL {{ ?o ?p1 ?o1
                        OPTIONAL {{ ?o1 ?p2 ?o2 FILTER(isBlank(?o1)) }} }} }}"""
            )
        )
    # Links to the resource itself only: a document's hash terms are linked to by their
    # instances (every cluster to cp:Cluster), which would make /def a dump.
    linking = f"?in ?p <{iri}> FILTER(isIRI(?in))"
    links = f"CONSTRUCT {{ ?in ?p <{iri}> }} WHERE {{ {linking} }}"
    # Unordered first: ordering the links made the engine read every linking IRI's text,
    # a third of a millisecond a page. Only a hub, past ``links_in``, needs the first ones.
    limit = "" if links_in is None else f" LIMIT {links_in + 1}"
    incoming = store.term_triples(QueryRequest(links + limit))
    links_in_total = None
    if links_in is not None and len(incoming) > links_in:
        incoming = store.term_triples(QueryRequest(f"{links} ORDER BY ?p ?in LIMIT {links_in}"))
        incoming = sorted(incoming, key=lambda t: (t[1].value, t[0].value))
        (row,) = store.select(
            QueryRequest(
                f"SELECT (COUNT(*) AS ?n) WHERE {{ SELECT DISTINCT ?in ?p WHERE {{ {linking} }} }}"
            )
        )
        links_in_total = int(str(row["n"]))
    triples += incoming
    # The neighbours' labels and types.
    terms = {ox.NamedNode(s) for s in described}
    neighbours = {o for s, _, o in triples if s in terms and isinstance(o, ox.NamedNode)}
    neighbours |= {s for s, _, o in triples if o in terms and isinstance(s, ox.NamedNode)}
    neighbours -= terms  # type: ignore[arg-type]
    named = sorted(neighbours, key=lambda n: n.value)
    triples += _naming_triples(store, named, neighbour_types, names)
    return Description(
        iri,
        tuple(dict.fromkeys(triples)),
        fragments,
        {triple: tuple(graphs) for triple, graphs in stated_in.items()},
        links_in_total,
    )


def _naming_triples(
    store: Store, named: list[ox.NamedNode], with_types: bool, names: VersionedCache | None
) -> list[TermTriple]:
    """The label triples (and types, ``with_types``) of ``named``, in the order of ``named``.

    Those ``names`` has are not read again; those read are kept there, none or not.
    """
    version = names.version if names is not None else 0
    known: dict[ox.NamedNode, tuple[TermTriple, ...]] = {}
    if names is not None:
        for node in named:
            hit = names.peek((_NAMES, with_types, node))
            if hit is not None:
                known[node] = hit  # type: ignore[assignment]
    unknown = [node for node in named if node not in known]
    naming = _NAMING if with_types else _LABELS
    # Asked by name: binding them with VALUES lets the engine go straight to each one, and
    # a FILTER on the predicate over each one's own triples cost a quarter of a UNION of
    # the type and label patterns (1M triples). In parts: Virtuoso 7.2 refuses a VALUES of
    # 5,000 terms (SP030: too many arguments for "in"), and a hub has that many members.
    for start in range(0, len(unknown), _NEIGHBOURS_PER_QUERY):
        part = unknown[start : start + _NEIGHBOURS_PER_QUERY]
        read: list[list[TermTriple]] = [[] for _ in part]
        # Each neighbour comes back as its number in ``part``, not as itself: the engine
        # then needn't read its IRI back from its table of strings, a random read for
        # each neighbour (8 to 16 % of a cold page's CPU at 1M triples, under load).
        values = " ".join(f"({index} {node})" for index, node in enumerate(part))
        for index, predicate, value in store.term_tuples(
            QueryRequest(
                f"""SELECT ?i ?p ?o WHERE {{ VALUES (?i ?n) {{ {values} }} ?n ?p ?o
                      FILTER(?p IN ({naming})) }}"""
            )
        ):
            number = int(index.value)
            read[number].append((part[number], predicate, value))
        for node, triples in zip(part, read, strict=True):
            known[node] = tuple(triples)
            if names is not None:
                names.put((_NAMES, with_types, node), known[node], version=version)
    return [triple for node in named for triple in known[node]]
