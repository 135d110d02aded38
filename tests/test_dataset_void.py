"""The VoID description at /.well-known/void: its counts, links and caching."""

from __future__ import annotations

import gzip
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF

from panorama.config import DEFAULT_BASE_IRI
from panorama.void import statistics

from support import EXAMPLE_TTL, LiveServer, write_bundle

VOID = Namespace("http://rdfs.org/ns/void#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
DATASET = URIRef(f"{DEFAULT_BASE_IRI}id/dataset/cluster-panorama")


def get_void(url: str, accept: str = "text/turtle") -> Graph:
    response = httpx.get(f"{url}/.well-known/void", headers={"Accept": accept})
    assert response.status_code == 200, response.text
    return Graph().parse(data=response.text, format="turtle")


def integer(graph: Graph, subject: object, predicate: URIRef) -> int:
    value = graph.value(subject, predicate)  # type: ignore[arg-type]
    assert value is not None, f"no {predicate}"
    return int(value)


@pytest.fixture(scope="module")
def void(server: LiveServer) -> Graph:
    return get_void(server.url)


@pytest.fixture(scope="module")
def union(server: LiveServer) -> Graph:
    """The published graphs as one graph, from the Turtle dump."""
    body = httpx.get(f"{server.url}/dumps/cluster-panorama.ttl.gz").content
    return Graph().parse(data=gzip.decompress(body), format="turtle")


def test_void_links_endpoint_dumps_and_namespace(server: LiveServer, void: Graph) -> None:
    assert (DATASET, RDF.type, VOID.Dataset) in void
    assert void.value(DATASET, VOID.sparqlEndpoint) == URIRef(server.sparql)
    assert void.value(DATASET, VOID.uriSpace) == Literal(DEFAULT_BASE_IRI)
    dumps = {str(dump) for dump in void.objects(DATASET, VOID.dataDump)}
    assert dumps == {
        f"{server.url}/dumps/cluster-panorama.nq.gz",
        f"{server.url}/dumps/cluster-panorama.ttl.gz",
    }
    for dump in dumps:
        assert httpx.head(dump).status_code == 200
    assert void.value(DATASET, DCTERMS.modified) is not None


def test_void_counts_match_the_dumped_graph(void: Graph, union: Graph) -> None:
    assert integer(void, DATASET, VOID.triples) == len(union)
    assert integer(void, DATASET, VOID.distinctSubjects) == len(set(union.subjects()))
    assert integer(void, DATASET, VOID.distinctObjects) == len(set(union.objects()))


def test_void_class_partitions_count_instances(void: Graph, union: Graph) -> None:
    expected = Counter(cls for _, cls in set(union.subject_objects(RDF.type)))
    partitions = {
        void.value(p, VOID["class"]): integer(void, p, VOID.entities)
        for p in void.objects(DATASET, VOID.classPartition)
    }
    assert partitions == dict(expected)
    assert partitions[URIRef(f"{DEFAULT_BASE_IRI}def#Cluster")] > 20


def test_void_property_partitions_count_triples(void: Graph, union: Graph) -> None:
    expected = Counter(predicate for _, predicate, _ in union)
    partitions = {
        void.value(p, VOID.property): integer(void, p, VOID.triples)
        for p in void.objects(DATASET, VOID.propertyPartition)
    }
    assert partitions == dict(expected)


def test_void_vocabularies_are_those_used(void: Graph) -> None:
    vocabularies = {str(v) for v in void.objects(DATASET, VOID.vocabulary)}
    assert {"http://www.w3.org/ns/org#", "https://schema.org/", f"{DEFAULT_BASE_IRI}def#"} <= (
        vocabularies
    )
    assert "http://rdfs.org/ns/void#" not in vocabularies  # not used by the data


def test_void_leaves_out_the_catalog_graph(server: LiveServer, void: Graph) -> None:
    query = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    rows = httpx.get(
        server.sparql,
        params={"query": query},
        headers={"Accept": "application/sparql-results+json"},
    ).json()
    all_quads = int(rows["results"]["bindings"][0]["n"]["value"])
    spdx = URIRef("http://spdx.org/rdf/terms#checksumValue")
    assert spdx not in set(void.objects(None, VOID.property))
    assert integer(void, DATASET, VOID.triples) < all_quads


@pytest.mark.parametrize(
    "accept, rdflib_format",
    [
        pytest.param("application/ld+json", "json-ld", id="jsonld"),
        pytest.param("application/rdf+xml", "xml", id="rdfxml"),
        pytest.param("application/n-triples", "nt", id="ntriples"),
        pytest.param("*/*", "turtle", id="default-turtle"),
    ],
)
def test_void_carries_the_same_triples_in_every_format(
    server: LiveServer, void: Graph, accept: str, rdflib_format: str
) -> None:
    response = httpx.get(f"{server.url}/.well-known/void", headers={"Accept": accept})
    assert response.status_code == 200
    assert isomorphic(Graph().parse(data=response.content, format=rdflib_format), void)


def test_void_refuses_html_only_clients(server: LiveServer) -> None:
    response = httpx.get(f"{server.url}/.well-known/void", headers={"Accept": "text/html"})
    assert response.status_code == 406


def test_void_answers_304_until_the_store_changes(
    make_server: Callable[..., LiveServer], tmp_path: Path
) -> None:
    bundle = write_bundle(tmp_path / "bundle", {"data/example.ttl": EXAMPLE_TTL})
    server = make_server(bundle, query_workers=1)
    store = server.app.state.store
    first = httpx.get(f"{server.url}/.well-known/void")
    etag = first.headers["etag"]
    assert (
        httpx.get(f"{server.url}/.well-known/void", headers={"If-None-Match": etag}).status_code
        == 304
    )
    before = statistics(store)
    assert statistics(store) is before  # counted once per version

    extra = b"<https://example.org/new> a <https://example.org/Cluster> ."
    store.replace_graph(f"{DEFAULT_BASE_IRI}graph/data/new", extra, "ttl")
    again = httpx.get(f"{server.url}/.well-known/void", headers={"If-None-Match": etag})
    assert again.status_code == 200
    graph = Graph().parse(data=again.text, format="turtle")
    assert integer(graph, DATASET, VOID.triples) == before.triples + 1


def test_void_uri_space_is_the_configured_namespace_not_the_server(
    make_server: Callable[..., LiveServer], tmp_path: Path
) -> None:
    base = "https://data.example.org/panorama/"
    bundle = write_bundle(tmp_path / "bundle", {"data/example.ttl": EXAMPLE_TTL})
    server = make_server(bundle, query_workers=1, base_iri=base)
    graph = get_void(server.url)
    dataset = URIRef(f"{base}id/dataset/cluster-panorama")
    assert graph.value(dataset, VOID.uriSpace) == Literal(base)
    assert graph.value(dataset, VOID.sparqlEndpoint) == URIRef(server.sparql)
