"""The VoID description of the dataset, served at ``/.well-known/void`` (RFC 8615, VoID §7.2).

It tells a crawler, before it runs one query, how big the graph is, which vocabularies and
classes it uses, where the SPARQL endpoint and the dumps are, and which namespace its IRIs
are minted in (``void:uriSpace`` is the configured ``base_iri``, not the host the server
happens to run on). Every number is counted from the store, over the published graphs (see
``panorama.published``), once per version of the store.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, VOID, XSD

from panorama.published import published_cache, published_request
from panorama.store import Store

__all__ = ["DatasetStatistics", "describe_void", "statistics", "vocabulary_of"]

FORMATS = Namespace("http://www.w3.org/ns/formats/")

_PROPERTIES = """
SELECT ?p (COUNT(*) AS ?n) WHERE { { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } } }
GROUP BY ?p"""
_CLASSES = """
SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?class FILTER(isIRI(?class)) }
GROUP BY ?class"""
_DISTINCT_NODES = """
SELECT (COUNT(DISTINCT ?s) AS ?subjects) (COUNT(DISTINCT ?o) AS ?objects) WHERE { ?s ?p ?o }"""


@dataclass(frozen=True)
class DatasetStatistics:
    """What the published graphs hold, counted at one version of the store."""

    triples: int
    distinct_subjects: int
    distinct_objects: int
    #: class IRI → number of distinct instances
    classes: dict[str, int]
    #: property IRI → number of distinct triples using it
    properties: dict[str, int]
    modified: datetime.datetime

    @property
    def vocabularies(self) -> list[str]:
        """Namespaces of the classes and properties used, sorted."""
        return sorted({vocabulary_of(term) for term in (*self.classes, *self.properties)})


def vocabulary_of(term: str) -> str:
    """The namespace of a term: its IRI up to the last ``#`` or ``/``.

    >>> vocabulary_of("http://www.w3.org/ns/org#memberOf")
    'http://www.w3.org/ns/org#'
    """
    cut = max(term.rfind("#"), term.rfind("/"))
    return term[: cut + 1] if cut >= 0 else term


def _count_statistics(store: Store) -> DatasetStatistics:
    properties = {
        str(row["p"]): int(row["n"])
        for row in store.select(published_request(store, _PROPERTIES))
        if "p" in row
    }
    classes = {
        str(row["class"]): int(row["n"])
        for row in store.select(published_request(store, _CLASSES))
        if "class" in row
    }
    (nodes,) = store.select(published_request(store, _DISTINCT_NODES))
    return DatasetStatistics(
        # Every distinct triple has exactly one predicate, so the partitions add up.
        triples=sum(properties.values()),
        distinct_subjects=int(nodes["subjects"]),
        distinct_objects=int(nodes["objects"]),
        classes=classes,
        properties=properties,
        modified=store.last_modified(),
    )


def statistics(store: Store) -> DatasetStatistics:
    """Count the published graphs; the counts are kept until the store changes."""
    return published_cache(store).get("void-statistics", lambda: _count_statistics(store))


def describe_void(
    stats: DatasetStatistics,
    *,
    dataset: str,
    base_iri: str,
    endpoint: str,
    dumps: list[str],
    document: str,
) -> Graph:
    """Build the VoID description.

    Args:
        stats: the counts.
        dataset: the dataset's persistent IRI (the same resource the DCAT record describes).
        base_iri: the namespace the dataset's IRIs are minted in.
        endpoint: URL of the SPARQL endpoint.
        dumps: URLs of the dump files.
        document: URL this description is served at.
    """
    graph = Graph()
    graph.bind("void", VOID)
    graph.bind("dcterms", DCTERMS)
    graph.bind("foaf", FOAF)
    node = URIRef(dataset)
    description = URIRef(document)
    graph.add((description, RDF.type, VOID.DatasetDescription))
    graph.add(
        (description, DCTERMS.title, Literal("VoID description of Cluster-Panorama NRW", lang="en"))
    )
    graph.add((description, FOAF.primaryTopic, node))

    graph.add((node, RDF.type, VOID.Dataset))
    graph.add((node, DCTERMS.title, Literal("Cluster-Panorama NRW", lang="de")))
    graph.add((node, DCTERMS.title, Literal("Cluster-Panorama NRW", lang="en")))
    graph.add((node, DCTERMS.modified, Literal(stats.modified, datatype=XSD.dateTime)))
    graph.add((node, VOID.sparqlEndpoint, URIRef(endpoint)))
    graph.add((node, VOID.uriSpace, Literal(base_iri)))
    for dump in dumps:
        graph.add((node, VOID.dataDump, URIRef(dump)))
    graph.add((node, VOID.feature, FORMATS["N-Quads"]))
    graph.add((node, VOID.feature, FORMATS.Turtle))
    for predicate, count in (
        (VOID.triples, stats.triples),
        (VOID.distinctSubjects, stats.distinct_subjects),
        (VOID.distinctObjects, stats.distinct_objects),
        (VOID.classes, len(stats.classes)),
        (VOID.properties, len(stats.properties)),
    ):
        graph.add((node, predicate, Literal(count, datatype=XSD.integer)))
    for vocabulary in stats.vocabularies:
        graph.add((node, VOID.vocabulary, URIRef(vocabulary)))
    for class_iri, count in sorted(stats.classes.items()):
        partition = BNode()
        graph.add((node, VOID.classPartition, partition))
        graph.add((partition, VOID["class"], URIRef(class_iri)))
        graph.add((partition, VOID.entities, Literal(count, datatype=XSD.integer)))
    for property_iri, count in sorted(stats.properties.items()):
        partition = BNode()
        graph.add((node, VOID.propertyPartition, partition))
        graph.add((partition, VOID.property, URIRef(property_iri)))
        graph.add((partition, VOID.triples, Literal(count, datatype=XSD.integer)))
    return graph
