"""The endpoint through the clients researchers use: SPARQLWrapper and rdflib's SPARQLStore."""

from __future__ import annotations

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, JSONLD, N3, POST, TSV, TURTLE, XML, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

from support import Backend, LiveServer

EX = "https://example.org/"
SELECT = f"SELECT ?c ?f WHERE {{ ?c <{EX}field> ?f }} ORDER BY ?c ?f"
CONSTRUCT = f"CONSTRUCT {{ ?c <{EX}field> ?f }} WHERE {{ ?c <{EX}field> ?f }}"
PAIRS = [
    (EX + "clib", EX + "medicine"),
    (EX + "clib", EX + "production"),
    (EX + "its-owl", EX + "production"),
    (EX + "ki-nrw", EX + "key-technologies"),
]


def wrapper(server: LiveServer, query: str, return_format: str, method: str = "GET"):
    sparql = SPARQLWrapper(server.sparql)
    sparql.setQuery(query)
    sparql.setReturnFormat(return_format)
    sparql.setMethod(method)
    return sparql.query()


@pytest.mark.parametrize("method", ["GET", POST])
def test_sparqlwrapper_select_as_json(example_server: LiveServer, method: str) -> None:
    results = wrapper(example_server, SELECT, JSON, method).convert()
    assert [(b["c"]["value"], b["f"]["value"]) for b in results["results"]["bindings"]] == PAIRS


def test_sparqlwrapper_select_as_xml(example_server: LiveServer) -> None:
    document = wrapper(example_server, SELECT, XML).convert()
    uris = [node.firstChild.data for node in document.getElementsByTagName("uri")]
    assert uris == [iri for pair in PAIRS for iri in pair]


@pytest.mark.parametrize("return_format, separator", [(CSV, ","), (TSV, "\t")])
def test_sparqlwrapper_select_as_csv_and_tsv(
    example_server: LiveServer, return_format: str, separator: str
) -> None:
    text = wrapper(example_server, SELECT, return_format).convert().decode()
    lines = text.splitlines()
    assert lines[0].replace("?", "") == f"c{separator}f"
    assert len(lines) == 1 + len(PAIRS)


def test_sparqlwrapper_ask(example_server: LiveServer) -> None:
    query = f"ASK {{ <{EX}clib> <{EX}field> <{EX}medicine> }}"
    assert wrapper(example_server, query, JSON).convert()["boolean"] is True


@pytest.mark.parametrize("return_format", [TURTLE, XML, JSONLD, N3])
def test_sparqlwrapper_construct(example_server: LiveServer, return_format: str) -> None:
    converted = wrapper(example_server, CONSTRUCT, return_format).convert()
    graph = (
        converted
        if isinstance(converted, Graph)
        else Graph().parse(
            data=converted, format={TURTLE: "turtle", JSONLD: "json-ld", N3: "n3"}[return_format]
        )
    )
    assert {(str(s), str(o)) for s, _, o in graph} == set(PAIRS)


def test_sparqlwrapper_reports_a_syntax_error(example_server: LiveServer, backend: Backend) -> None:
    with pytest.raises(QueryBadFormed) as error:
        wrapper(example_server, "SELECT * WHERE { ?s ?p }", JSON)
    # On an engine the place is given in the engine's words (engine_queries.py).
    place = {"embedded": "line 1", "oxigraph": "error at 1:", "virtuoso": "line 1"}
    assert place[backend.name] in str(error.value)


def test_rdflib_sparqlstore_select_and_construct(example_server: LiveServer) -> None:
    store = SPARQLStore(query_endpoint=example_server.sparql, returnFormat="json")
    graph = Graph(store=store)
    rows = list(graph.query(SELECT))
    assert [(str(r.c), str(r.f)) for r in rows] == PAIRS
    constructed = graph.query(CONSTRUCT).graph
    assert {(str(s), str(o)) for s, _, o in constructed} == set(PAIRS)
    labels = set(
        graph.objects(URIRef(EX + "its-owl"), URIRef("http://www.w3.org/2000/01/rdf-schema#label"))
    )
    assert labels == {Literal("it's OWL", lang="de")}


def test_rdflib_sparqlstore_with_post_and_xml(example_server: LiveServer) -> None:
    store = SPARQLStore(query_endpoint=example_server.sparql, method="POST", returnFormat="xml")
    rows = list(Graph(store=store).query(SELECT))
    assert len(rows) == len(PAIRS)
