"""The view of one resource for people: plain data for the ``resource.html`` template.

Every value is shown by its label and linked (local IRIs to their page, foreign ones as
they are); every statement names the sources of the graphs that hold it, so a reader sees
"Quelle: Cluster-Panorama NRW, Abschnitt 2" next to what the brief says.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pyoxigraph as ox

from panorama.labels import COMMON_LABELS, best_labels, fallback_label, prefixed_name
from panorama.linked_data import RDF_TYPE, Description, resource_url
from panorama.store import QueryRequest, Store, Term

__all__ = [
    "EntityPage",
    "Shown",
    "Statement",
    "build_entity_page",
    "graph_sources",
    "property_names",
    "schema_types",
]

_PROV_DERIVED = "http://www.w3.org/ns/prov#wasDerivedFrom"
_SCHEMA = "https://schema.org/"
_TYPE = ox.NamedNode(RDF_TYPE)
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


@dataclass(frozen=True)
class Shown:
    """A term as a page shows it."""

    text: str
    href: str | None = None
    lang: str | None = None
    datatype: str | None = None
    nested: tuple[Statement, ...] = ()


@dataclass(frozen=True)
class Statement:
    """One property of the resource with its values, each with the sources that state it.

    When several values have the same sources, they are the row's ``sources``, named once,
    and the values name none: a cluster's forty members from one graph need not cite it
    forty times (it made a third of a cluster page's HTML).
    """

    property: Shown
    values: tuple[tuple[Shown, tuple[Shown, ...]], ...]
    sources: tuple[Shown, ...] = ()


@dataclass
class EntityPage:
    iri: str
    title: str
    lang: str
    types: list[Shown]
    statements: list[Statement]
    incoming: list[Statement]
    sources: list[Shown]
    sections: list[EntityPage] = field(default_factory=list)  # fragments of a document
    anchor: str = ""
    json_ld: str = ""
    #: Links to the resource in all, when ``incoming`` shows only the first of them, and a
    #: query page that lists every one.
    links_in_total: int | None = None
    links_in_shown: int = 0
    links_in_query: str = ""


class _Linker:
    """Turns terms into ``Shown`` values: labels from the description, links by locality."""

    def __init__(
        self,
        description: Description,
        base_iri: str,
        lang: str,
        property_names: Mapping[Term, str],
    ) -> None:
        self.description = description
        self.base_iri = base_iri
        self.lang = lang
        self.property_names = property_names
        self._labels = best_labels(description.triples, lang)

    def label(self, node: Term) -> str:
        label = self._labels.get(node)
        return label if label is not None else fallback_label(node.value, self.lang)

    def href(self, iri: str) -> str:
        return resource_url(self.base_iri, iri)

    def term(self, node: Term, *, seen: frozenset[Term] = frozenset()) -> Shown:
        if isinstance(node, ox.NamedNode):
            return Shown(self.label(node), href=self.href(node.value))
        if isinstance(node, ox.Literal):
            # A language's literal shows its language; a plain one (xsd:string) nothing.
            datatype = node.datatype.value
            shown_type = None if node.language or datatype == _XSD_STRING else datatype
            return Shown(
                node.value,
                lang=node.language,
                datatype=prefixed_name(shown_type) if shown_type else None,
            )
        if isinstance(node, ox.BlankNode) and node not in seen:
            nested = self.statements(node, seen=seen | {node})
            return Shown("", nested=tuple(nested))
        # A blank node already shown above (a cycle), or an RDF 1.2 triple term.
        return Shown(_text(node))

    def property(self, predicate: ox.NamedNode) -> Shown:
        # The ontology's name, a common one, or what the description says of the property.
        label = self.property_names.get(predicate)
        if label is None:
            common = COMMON_LABELS.get(predicate.value)
            label = common.get(self.lang, common["en"]) if common else self.label(predicate)
        return Shown(label, href=self.href(predicate.value))

    def statements(
        self,
        subject: Term,
        *,
        sources: dict[tuple[str, str], tuple[Shown, ...]] | None = None,
        seen: frozenset[Term] = frozenset(),
    ) -> list[Statement]:
        by_property: dict[ox.NamedNode, list[Term]] = {}
        for predicate, value in self.description.outgoing(subject):
            if predicate == _TYPE and not isinstance(subject, ox.BlankNode):
                continue
            by_property.setdefault(predicate, []).append(value)  # type: ignore[arg-type]
        rows = []
        for predicate, values in by_property.items():
            literals_first = sorted(
                values, key=lambda v: (not isinstance(v, ox.Literal), _text(v), _key(v))
            )
            origins = [(sources or {}).get((predicate.value, _key(v)), ()) for v in literals_first]
            alike = len(origins) > 1 and all(origin == origins[0] for origin in origins)
            shared = origins[0] if alike else ()
            shown = tuple(
                (self.term(value, seen=seen), () if shared else origin)
                for value, origin in zip(literals_first, origins, strict=True)
            )
            rows.append(Statement(self.property(predicate), shown, shared))
        rows.sort(key=lambda row: _order(row.property))
        return rows


def _order(shown: Shown) -> tuple[str, str]:
    """How a page orders what it lists: by name, and by IRI where two share a name (rdfs:label
    and skos:prefLabel are both "Name"), so it never follows the engine's row order."""
    return shown.text.casefold(), shown.href or ""


def _text(node: Term) -> str:
    """What a value reads as; an RDF 1.2 triple term (which has no ``value``) in N-Triples."""
    return node.value if not isinstance(node, ox.Triple) else str(node)


def _key(node: Term) -> str:
    """A term in N-Triples, to tell values apart that read the same (blank nodes: all one)."""
    return str(node) if not isinstance(node, ox.BlankNode) else "_:"


def graph_sources(store: Store, lang: str) -> dict[Term, tuple[Shown, ...]]:
    """The sources each named graph is derived from, labelled in ``lang``.

    One table for every page of a store version: asking each page's graphs for their
    sources cost more than the rest of its queries together.
    """
    rows = store.term_rows(
        QueryRequest(
            f"""SELECT ?g ?src ?label WHERE {{ ?g <{_PROV_DERIVED}> ?src
                  OPTIONAL {{ ?src <http://www.w3.org/2000/01/rdf-schema#label> ?label
                              FILTER(LANGMATCHES(LANG(?label), "{lang}")) }} }}"""
        )
    )
    found: dict[Term, dict[str, Shown]] = {}
    for row in rows:
        source = row["src"].value
        label = row["label"].value if "label" in row else source
        found.setdefault(row["g"], {})[source] = Shown(label, href=source)
    return {graph: tuple(sorted(shown.values(), key=_order)) for graph, shown in found.items()}


def property_names(store: Store, lang: str) -> dict[Term, str]:
    """The ontology's name in ``lang`` for every property it declares, for naming rows.

    One table for every page of a store version: a page names twenty properties, and
    looking each up in a graph of labels cost a millisecond a page.
    """
    triples = store.term_triples(
        QueryRequest(
            # The properties first, in a subquery: otherwise the engine may start from every
            # label in the store (15.7 s at 10M triples; 0.8 s this way).
            """CONSTRUCT { ?p ?label ?name } WHERE {
                 { SELECT DISTINCT ?p WHERE {
                     VALUES ?type { <http://www.w3.org/2002/07/owl#ObjectProperty>
                       <http://www.w3.org/2002/07/owl#DatatypeProperty>
                       <http://www.w3.org/2002/07/owl#AnnotationProperty>
                       <http://www.w3.org/1999/02/22-rdf-syntax-ns#Property> }
                     ?p a ?type } }
                 VALUES ?label { <http://www.w3.org/2000/01/rdf-schema#label>
                   <http://www.w3.org/2004/02/skos/core#prefLabel> }
                 ?p ?label ?name }"""
        )
    )
    return best_labels(triples, lang)


def _statement_sources(
    description: Description, subject: Term, sources: Mapping[Term, tuple[Shown, ...]]
) -> dict[tuple[str, str], tuple[Shown, ...]]:
    """For each (property, value) of ``subject``, the sources of the graphs that state it."""
    found: dict[tuple[str, str], dict[str, Shown]] = {}
    # Read in order rather than looked up: hashing an rdflib literal costs 15 µs.
    for (stated, predicate, value), graphs in description.stated_in.items():
        if stated != subject or not graphs:
            continue
        shown = found.setdefault((predicate.value, _key(value)), {})
        for graph in graphs:
            for source in sources.get(graph, ()):
                shown[source.href] = source  # type: ignore[index]
    return {key: tuple(sorted(shown.values(), key=_order)) for key, shown in found.items() if shown}


def schema_types(store: Store, types: tuple[ox.NamedNode, ...]) -> list[str]:
    """schema.org types a resource has through the ontology's class mappings."""
    if not types:
        return []
    # One path per type, each starting from a constant: Virtuoso 7.2 refuses a path whose
    # start is bound by VALUES ("transitive start not given").
    paths = " UNION ".join(
        f"""{{ {t} (<http://www.w3.org/2000/01/rdf-schema#subClassOf>
                |<http://www.w3.org/2002/07/owl#equivalentClass>)* ?schema }}"""
        for t in types
    )
    rows = store.select(
        QueryRequest(
            f"""SELECT DISTINCT ?schema WHERE {{ {paths}
                  FILTER(STRSTARTS(STR(?schema), "{_SCHEMA}")) }}"""
        )
    )
    return sorted(str(row["schema"])[len(_SCHEMA) :] for row in rows)


def _json_ld(description: Description, title: str, schema_types: list[str], url: str) -> str:
    """A small schema.org description for search engines, safe inside a ``<script>``."""
    document: dict[str, object] = {
        "@context": "https://schema.org",
        "@id": description.iri,
        "@type": schema_types or "Thing",
        "name": title,
        "url": url,
    }
    subject = ox.NamedNode(description.iri)
    comments = [
        text
        for p in (
            "http://www.w3.org/2000/01/rdf-schema#comment",
            "http://purl.org/dc/terms/description",
        )
        for text in sorted(o.value for o in description.objects(subject, ox.NamedNode(p)))
    ]
    if comments:
        document["description"] = comments[0]
    homepage = ox.NamedNode("http://xmlns.com/foaf/0.1/homepage")
    same_as = sorted(o.value for o in description.objects(subject, homepage))
    if same_as:
        document["sameAs"] = same_as
    # "</" must not end the script element early.
    return json.dumps(document, ensure_ascii=False).replace("</", "<\\/")


def build_entity_page(
    store: Store,
    description: Description,
    *,
    lang: str,
    property_names: Mapping[Term, str],
    sources: Mapping[Term, tuple[Shown, ...]],
    schema_types_of: Callable[[tuple[ox.NamedNode, ...]], list[str]],
    page_url: str,
) -> EntityPage:
    """Everything ``resource.html`` shows about ``description.iri``, in ``lang``.

    Args:
        property_names: the ontology's names for its properties in ``lang``
            (``property_names``).
        sources: what each named graph is derived from (``graph_sources``).
        schema_types_of: ``schema_types`` for a resource's types, or a cache in front of it
            (thousands of clusters share a handful of type sets).
        page_url: where the page is, for its schema.org description.
    """
    linker = _Linker(description, store.base_iri, lang, property_names)

    def section(iri: str) -> EntityPage:
        subject = ox.NamedNode(iri)
        stated = _statement_sources(description, subject, sources)
        types = sorted(
            (linker.term(t) for t in description.objects(subject, _TYPE)),
            key=_order,
        )
        incoming: dict[ox.NamedNode, list[Term]] = {}
        for subject_in, predicate in description.incoming(subject):
            if isinstance(subject_in, ox.NamedNode) and subject_in != subject:
                incoming.setdefault(predicate, []).append(subject_in)  # type: ignore[arg-type]
        incoming_rows = [
            Statement(
                linker.property(predicate),
                tuple((linker.term(s), ()) for s in sorted(subjects, key=lambda n: n.value)),
            )
            for predicate, subjects in incoming.items()
        ]
        all_sources = {s.href: s for shown in stated.values() for s in shown}
        return EntityPage(
            iri=iri,
            title=linker.label(subject),
            lang=lang,
            types=types,
            statements=linker.statements(subject, sources=stated),
            incoming=sorted(incoming_rows, key=lambda row: _order(row.property)),
            sources=sorted(all_sources.values(), key=_order),
            anchor=iri.rsplit("#", 1)[1] if "#" in iri else "",
        )

    page = section(description.iri)
    page.sections = [section(fragment) for fragment in description.fragments]
    if description.links_in_total is not None:
        page.links_in_total = description.links_in_total
        page.links_in_shown = sum(len(row.values) for row in page.incoming)
        query = f"""SELECT ?in ?p WHERE {{ ?in ?p <{description.iri}> FILTER(isIRI(?in)) }}
ORDER BY ?p ?in"""
        page.links_in_query = "/query?" + urlencode({"query": query})
    types = description.objects(ox.NamedNode(description.iri), _TYPE)
    iris = tuple(sorted((t for t in types if isinstance(t, ox.NamedNode)), key=lambda t: t.value))
    page.json_ld = _json_ld(description, page.title, schema_types_of(iris), page_url)
    return page
