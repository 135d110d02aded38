"""The SPARQL 1.1 Protocol at /sparql, over a real server, with httpx and rdflib parsers."""

from __future__ import annotations

import io
import json

import httpx
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.query import Result

from panorama.config import Settings

from support import EXAMPLE_GRAPH, EXTRA_GRAPH, Backend, LiveServer

EX = "https://example.org/"
CLUSTERS = "PREFIX ex: <https://example.org/> SELECT ?c WHERE { ?c a ex:Cluster } ORDER BY ?c"
CONSTRUCT = (
    "PREFIX ex: <https://example.org/> "
    "CONSTRUCT { ?c ex:field ?f } WHERE { ?c ex:field ?f } ORDER BY ?c ?f"
)
EXPECTED_CLUSTERS = [EX + "clib", EX + "its-owl", EX + "ki-nrw"]


def expected_construct() -> Graph:
    graph = Graph()
    for cluster, field in [
        ("its-owl", "production"),
        ("clib", "medicine"),
        ("clib", "production"),
        ("ki-nrw", "key-technologies"),
    ]:
        graph.add((URIRef(EX + cluster), URIRef(EX + "field"), URIRef(EX + field)))
    return graph


def select_values(result: Result, variable: str = "c") -> list[str]:
    return [str(row[variable]) for row in result]


@pytest.fixture(scope="module")
def client(example_server: LiveServer):
    with httpx.Client(base_url=example_server.url, timeout=30) as client:
        yield client


# Asking -------------------------------------------------------------------------------------


def test_get_query_answers_json_by_default(client: httpx.Client) -> None:
    response = client.get("/sparql", params={"query": CLUSTERS})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/sparql-results+json")
    bindings = response.json()["results"]["bindings"]
    assert [b["c"]["value"] for b in bindings] == EXPECTED_CLUSTERS


@pytest.mark.parametrize(
    "send",
    [
        pytest.param(lambda c: c.get("/sparql", params={"query": CLUSTERS}), id="get"),
        pytest.param(lambda c: c.post("/sparql", data={"query": CLUSTERS}), id="post-form"),
        pytest.param(
            lambda c: c.post(
                "/sparql",
                content=CLUSTERS.encode(),
                headers={"Content-Type": "application/sparql-query; charset=utf-8"},
            ),
            id="post-direct",
        ),
    ],
)
def test_every_protocol_operation_gives_the_same_answer(client: httpx.Client, send) -> None:
    response = send(client)
    assert response.status_code == 200
    assert [b["c"]["value"] for b in response.json()["results"]["bindings"]] == EXPECTED_CLUSTERS


@pytest.mark.parametrize(
    "accept, media_type, rdflib_format",
    [
        pytest.param(
            "application/sparql-results+json", "application/sparql-results+json", "json", id="json"
        ),
        pytest.param(
            "application/json", "application/sparql-results+json", "json", id="plain-json"
        ),
        pytest.param(
            "application/sparql-results+xml", "application/sparql-results+xml", "xml", id="xml"
        ),
        pytest.param("text/csv", "text/csv", "csv", id="csv"),
        pytest.param("text/tab-separated-values", "text/tab-separated-values", "tsv", id="tsv"),
    ],
)
def test_select_results_come_in_every_format(
    client: httpx.Client, accept: str, media_type: str, rdflib_format: str
) -> None:
    response = client.get("/sparql", params={"query": CLUSTERS}, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type
    assert "Accept" in response.headers["vary"]
    result = Result.parse(io.BytesIO(response.content), format=rdflib_format)
    assert select_values(result) == EXPECTED_CLUSTERS


@pytest.mark.parametrize(
    "accept, media_type, rdflib_format",
    [
        pytest.param("text/turtle", "text/turtle", "turtle", id="turtle"),
        pytest.param("application/n-triples", "application/n-triples", "nt", id="ntriples"),
        pytest.param("application/ld+json", "application/ld+json", "json-ld", id="jsonld"),
        pytest.param("application/rdf+xml", "application/rdf+xml", "xml", id="rdfxml"),
        pytest.param("application/trig", "application/trig", "trig", id="trig"),
        pytest.param("application/n-quads", "application/n-quads", "nquads", id="nquads"),
        pytest.param("text/n3", "text/n3", "n3", id="n3"),
    ],
)
def test_construct_results_come_in_every_rdf_format(
    client: httpx.Client, accept: str, media_type: str, rdflib_format: str
) -> None:
    response = client.get("/sparql", params={"query": CONSTRUCT}, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type
    graph = Graph()
    graph.parse(data=response.content, format=rdflib_format)
    assert isomorphic(graph, expected_construct())


def test_describe_returns_the_resource(client: httpx.Client) -> None:
    response = client.get(
        "/sparql",
        params={"query": f"DESCRIBE <{EX}its-owl>"},
        headers={"Accept": "text/turtle"},
    )
    graph = Graph().parse(data=response.content, format="turtle")
    assert (URIRef(EX + "its-owl"), URIRef(EX + "field"), URIRef(EX + "production")) in graph
    assert {str(s) for s in graph.subjects()} == {EX + "its-owl"}


@pytest.mark.parametrize(
    "query, expected",
    [
        pytest.param(f"ASK {{ <{EX}clib> <{EX}field> <{EX}medicine> }}", True, id="true"),
        pytest.param(f"ASK {{ <{EX}its-owl> <{EX}field> <{EX}medicine> }}", False, id="false"),
    ],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_ask_answers_a_boolean(client: httpx.Client, query: str, expected: bool, fmt: str) -> None:
    response = client.get("/sparql", params={"query": query, "format": fmt})
    assert response.status_code == 200
    assert Result.parse(io.BytesIO(response.content), format=fmt).askAnswer is expected


# Negotiation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "accept, expected",
    [
        pytest.param(
            "text/csv;q=0.5, application/sparql-results+xml",
            "application/sparql-results+xml",
            id="q-values",
        ),
        pytest.param("text/*", "text/csv", id="type-wildcard"),
        pytest.param("*/*", "application/sparql-results+json", id="any"),
        pytest.param("", "application/sparql-results+json", id="empty"),
        pytest.param(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "application/sparql-results+json",
            id="browser",
        ),
        pytest.param(
            "text/csv;q=0, */*;q=0.1", "application/sparql-results+json", id="refused-type"
        ),
        pytest.param(
            "application/sparql-results+json;q=0.2, text/tab-separated-values;q=0.9",
            "text/tab-separated-values",
            id="order-by-q",
        ),
    ],
)
def test_accept_header_is_honoured_with_q_values_and_wildcards(
    client: httpx.Client, accept: str, expected: str
) -> None:
    response = client.get("/sparql", params={"query": CLUSTERS}, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == expected


def test_format_parameter_overrides_accept(client: httpx.Client) -> None:
    response = client.get(
        "/sparql",
        params={"query": CLUSTERS, "format": "csv"},
        headers={"Accept": "application/sparql-results+xml"},
    )
    assert response.headers["content-type"].split(";")[0] == "text/csv"
    assert response.text.splitlines() == ["c", *EXPECTED_CLUSTERS]


def test_csv_quotes_only_what_needs_it_and_ends_lines_with_crlf(client: httpx.Client) -> None:
    # SPARQL 1.1 CSV (RFC 4180), in UTF-8: Virtuoso's own CSV is rewritten into this
    # (results_tsv.py), and its Latin-1 bytes for the query's own "ü" with it.
    query = (
        'SELECT ?plain ?comma ?quote ?lines ?city WHERE { BIND("CLIB" AS ?plain) '
        """BIND("x, y" AS ?comma) BIND('say "hi"' AS ?quote) BIND("one\\ntwo" AS ?lines) """
        'BIND("Düsseldorf" AS ?city) }'
    )
    response = client.get("/sparql", params={"query": query, "format": "csv"})
    assert response.status_code == 200, response.text
    assert response.content.decode("utf-8") == (
        'plain,comma,quote,lines,city\r\nCLIB,"x, y","say ""hi""","one\ntwo",Düsseldorf\r\n'
    )


def test_nothing_acceptable_is_406(client: httpx.Client) -> None:
    response = client.get("/sparql", params={"query": CLUSTERS}, headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert "application/sparql-results+json" in response.text


def test_accept_of_the_other_kind_gets_the_default_format(client: httpx.Client) -> None:
    # Clients such as rdflib's SPARQLStore send one Accept header for every query form.
    response = client.get(
        "/sparql",
        params={"query": CONSTRUCT},
        headers={"Accept": "application/sparql-results+json"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/turtle")
    graph = Graph().parse(data=response.content, format="turtle")
    assert isomorphic(graph, expected_construct())


def test_format_of_the_wrong_kind_is_406_and_unknown_format_is_400(client: httpx.Client) -> None:
    wrong_kind = client.get("/sparql", params={"query": CONSTRUCT, "format": "csv"})
    assert wrong_kind.status_code == 406
    assert "turtle" in wrong_kind.text
    unknown = client.get("/sparql", params={"query": CLUSTERS, "format": "yaml"})
    assert unknown.status_code == 400
    assert "yaml" in unknown.text


# Dataset ------------------------------------------------------------------------------------


def count_clusters(client: httpx.Client, query: str, **params: str | list[str]) -> int:
    response = client.get("/sparql", params={"query": query, **params})
    assert response.status_code == 200, response.text
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?c a <https://example.org/Cluster> }"


def test_default_graph_is_the_union_of_all_graphs(client: httpx.Client) -> None:
    assert count_clusters(client, COUNT) == 3


def test_from_picks_the_default_graph(client: httpx.Client) -> None:
    query = f"SELECT (COUNT(*) AS ?n) FROM <{EXTRA_GRAPH}> WHERE {{ ?c a <{EX}Cluster> }}"
    assert count_clusters(client, query) == 1


def test_default_graph_uri_parameter_picks_the_default_graph(client: httpx.Client) -> None:
    assert count_clusters(client, COUNT, **{"default-graph-uri": EXAMPLE_GRAPH}) == 2
    both = [EXAMPLE_GRAPH, EXTRA_GRAPH]
    assert count_clusters(client, COUNT, **{"default-graph-uri": both}) == 3


def test_graph_and_named_graph_uri_pick_source_graphs(client: httpx.Client) -> None:
    query = f"SELECT ?g WHERE {{ GRAPH ?g {{ <{EX}ki-nrw> ?p ?o }} }}"
    response = client.get("/sparql", params={"query": query})
    assert {b["g"]["value"] for b in response.json()["results"]["bindings"]} == {EXTRA_GRAPH}
    restricted = client.get("/sparql", params={"query": query, "named-graph-uri": EXAMPLE_GRAPH})
    assert restricted.json()["results"]["bindings"] == []


# Errors -------------------------------------------------------------------------------------


def test_syntax_error_is_400_with_line_and_column(client: httpx.Client, backend: Backend) -> None:
    response = client.get("/sparql", params={"query": "SELECT ?s\nWHERE {\n  ?s ?p \n}"})
    assert response.status_code == 400
    if backend.embedded:
        assert "at line 4, column" in response.text
        assert "expected" in response.text
    else:
        # An engine parses the query, and its own words are passed on (engine_queries.py):
        # the place is still there, in its notation.
        assert "The SPARQL engine refused the query" in response.text
        place = {"oxigraph": "error at 4:2: expected", "virtuoso": "SPARQL compiler, line 4:"}
        assert place[backend.name] in response.text


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods_are_405(client: httpx.Client, method: str) -> None:
    response = client.request(method, "/sparql", content=CLUSTERS)
    assert response.status_code == 405
    assert "GET" in response.headers["allow"] and "POST" in response.headers["allow"]


def test_wrong_content_type_is_415(client: httpx.Client) -> None:
    response = client.post("/sparql", content=CLUSTERS, headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert "application/sparql-query" in response.text


def test_query_over_the_size_limit_is_413(make_server, example_bundle) -> None:
    server = make_server(example_bundle, max_query_bytes=1000)
    query = "SELECT * WHERE { ?s ?p ?o } #" + "x" * 1000
    with httpx.Client(base_url=server.url) as client:
        answers = [
            client.get("/sparql", params={"query": query}),
            client.post("/sparql", data={"query": query}),
            client.post(
                "/sparql", content=query, headers={"Content-Type": "application/sparql-query"}
            ),
        ]
        assert [a.status_code for a in answers] == [413, 413, 413]
        assert all("1000 bytes" in a.text for a in answers)
        within = client.get("/sparql", params={"query": query[:900]})
        assert within.status_code == 200


@pytest.mark.parametrize(
    "send",
    [
        pytest.param(
            lambda c: c.post("/sparql", data={"update": f"INSERT DATA {{ <{EX}a> <{EX}b> 1 }}"}),
            id="update-form",
        ),
        pytest.param(
            lambda c: c.post(
                "/sparql",
                content=f"INSERT DATA {{ <{EX}a> <{EX}b> 1 }}",
                headers={"Content-Type": "application/sparql-update"},
            ),
            id="update-direct",
        ),
        pytest.param(
            lambda c: c.get("/sparql", params={"query": f"DROP GRAPH <{EXAMPLE_GRAPH}>"}),
            id="update-as-query",
        ),
    ],
)
def test_updates_are_never_accepted(client: httpx.Client, send) -> None:
    response = send(client)
    assert response.status_code == 403
    assert "SPARQL Update is never accepted" in response.text
    assert count_clusters(client, COUNT) == 3


def test_undeclared_prefix_is_named_in_the_error(client: httpx.Client) -> None:
    response = client.get("/sparql", params={"query": "SELECT * WHERE { ?s foo:bar ?o }"})
    assert response.status_code == 400
    assert "undeclared prefix" in response.text
    assert "line 1, column 28" in response.text


def test_parameter_given_twice_is_400(client: httpx.Client) -> None:
    response = client.get("/sparql", params=[("query", CLUSTERS), ("query", COUNT)])
    assert response.status_code == 400


def test_error_page_is_html_for_browsers(client: httpx.Client) -> None:
    response = client.get(
        "/sparql", params={"query": "SELECT"}, headers={"Accept": "text/html,*/*;q=0.8"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>400" in response.text


# CORS ---------------------------------------------------------------------------------------


def test_cors_allows_reads_from_any_origin_without_credentials(client: httpx.Client) -> None:
    origin = {"Origin": "https://data.europa.eu"}
    response = client.get("/sparql", params={"query": CLUSTERS}, headers=origin)
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers
    preflight = client.options(
        "/sparql",
        headers={
            **origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["access-control-allow-methods"]


# Service description ------------------------------------------------------------------------

SD = "http://www.w3.org/ns/sparql-service-description#"


def test_service_description_is_turtle_rdflib_can_read(
    client: httpx.Client, example_server: LiveServer
) -> None:
    response = client.get("/sparql")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/turtle")
    graph = Graph().parse(data=response.text, format="turtle")
    service = URIRef(example_server.sparql)
    assert (service, URIRef(SD + "endpoint"), service) in graph
    assert (service, URIRef(SD + "supportedLanguage"), URIRef(SD + "SPARQL11Query")) in graph
    assert (service, URIRef(SD + "feature"), URIRef(SD + "UnionDefaultGraph")) in graph
    formats = {str(o) for o in graph.objects(service, URIRef(SD + "resultFormat"))}
    assert {
        "http://www.w3.org/ns/formats/SPARQL_Results_JSON",
        "http://www.w3.org/ns/formats/SPARQL_Results_CSV",
        "http://www.w3.org/ns/formats/Turtle",
        "http://www.w3.org/ns/formats/JSON-LD",
    } <= formats
    sizes = {
        str(row.name): int(row.triples)
        for row in graph.query(
            """PREFIX sd: <http://www.w3.org/ns/sparql-service-description#>
               PREFIX void: <http://rdfs.org/ns/void#>
               SELECT ?name ?triples WHERE { ?s sd:defaultDataset/sd:namedGraph ?ng .
                 ?ng sd:name ?name ; sd:graph/void:triples ?triples }"""
        )
    }
    assert sizes[EXAMPLE_GRAPH] == 8
    assert sizes[EXTRA_GRAPH] == 2


def test_service_description_is_a_page_for_browsers(client: httpx.Client) -> None:
    response = client.get(
        "/sparql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert EXAMPLE_GRAPH in response.text
    assert '<textarea id="query" name="query"' in response.text


def test_service_description_in_json_ld(client: httpx.Client) -> None:
    response = client.get("/sparql", headers={"Accept": "application/ld+json"})
    graph = Graph().parse(data=response.text, format="json-ld")
    assert any(graph.subject_objects(URIRef(SD + "namedGraph")))
    assert json.loads(response.text)


def test_health_reports_the_workers(client: httpx.Client, backend: Backend) -> None:
    assert client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).status_code == 200
    health = client.get("/health").json()
    assert health["status"] == "ok"
    if backend.embedded:
        threads = Settings.model_fields["query_threads"].default  # the servers' own
        assert health["query_workers"] == {"size": 2, "alive": 2, "threads": threads}
    else:  # the engine evaluates: the server has no query workers
        assert health["query_workers"] == {"size": 0, "alive": 0, "threads": 0}
    assert health["queries"] > 0


def test_literal_results_keep_language_tags(client: httpx.Client) -> None:
    query = f"SELECT ?l WHERE {{ <{EX}its-owl> <http://www.w3.org/2000/01/rdf-schema#label> ?l }}"
    result = Result.parse(
        io.BytesIO(client.get("/sparql", params={"query": query}).content), format="json"
    )
    assert [row["l"] for row in result] == [Literal("it's OWL", lang="de")]
