"""The whole server on a SPARQL engine: two real servers on one real engine, real clients.

Each engine of ``tests/engines.py`` (native Oxigraph, Virtuoso) starts once for this module,
and two servers (``panorama serve --engine`` as the app builds it, in uvicorn) share it,
as stateless instances behind a load balancer would.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from rdflib import Dataset, Graph, Namespace, URIRef

from engines import Engine, EngineUnavailable, free_port, start_oxigraph, start_virtuoso
from panorama.config import Settings

from support import REPO, LiveServer, engine_credentials, engine_environ

BASE = "https://w3id.org/cluster-panorama/"
ITS_OWL = BASE + "id/cluster/its-owl"
COMMENT = "http://www.w3.org/2000/01/rdf-schema#comment"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
LEDGER = f"urn:x-panorama:ledger:{BASE}"
VOID = Namespace("http://rdfs.org/ns/void#")
PANORAMA = str(Path(sys.executable).parent / "panorama")
QUERY_TIMEOUT = 3.0
# 30^5 = 24 million solutions, none of them stored: seconds of work on any engine.
SLOW = (
    "SELECT (COUNT(*) AS ?n) WHERE { "
    + " ".join(f"VALUES ?{v} {{ {' '.join(str(i) for i in range(30))} }}" for v in "abcde")
    + " FILTER(?a + ?b + ?c + ?d + ?e > 0) }"
)
STARTERS = {
    # The native server stops a query itself after a while: its client leaving does not.
    "oxigraph": lambda folder: start_oxigraph(folder, query_timeout=QUERY_TIMEOUT + 2),
    "virtuoso": start_virtuoso,
}


@pytest.fixture(scope="module", params=list(STARTERS))
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    try:
        running = STARTERS[request.param](tmp_path_factory.mktemp(request.param))
    except EngineUnavailable as error:
        pytest.fail(str(error), pytrace=False)  # CI installs both engines
    with running:
        yield running


def engine_settings(
    engine: Engine, query_url: str | None = None, query_timeout: float = QUERY_TIMEOUT
) -> Settings:
    return Settings(
        bundle=REPO,
        engine=query_url or engine.query_url,
        engine_update=engine.update_url,
        engine_store=engine.store_url,
        query_timeout=query_timeout,
        validation_workers=1,
    )


@pytest.fixture(scope="module")
def servers(engine: Engine) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two servers on the engine; credentials come from the environment, as in production."""
    with (
        engine_credentials(engine),
        LiveServer(engine_settings(engine)) as one,
        LiveServer(engine_settings(engine)) as two,
    ):
        yield one, two


@pytest.fixture(scope="module")
def server(servers: tuple[LiveServer, LiveServer]) -> LiveServer:
    return servers[0]


def cli(engine: Engine, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, **engine_environ(engine)}
    return subprocess.run(
        [PANORAMA, *args], capture_output=True, text=True, timeout=60, env=environment
    )


@pytest.fixture(scope="module")
def token(engine: Engine, servers: tuple[LiveServer, LiveServer]) -> str:
    """A contributor's token, made with the CLI on the engine while the servers run."""
    made = cli(engine, "token", "create", "its-owl", *engine.cli_options)
    assert made.returncode == 0, made.stderr
    return made.stdout.strip()


def select(url: str, query: str, **params: str) -> list[dict[str, str]]:
    response = httpx.get(
        f"{url}/sparql",
        params={"query": query, **params},
        headers={"Accept": "application/sparql-results+json"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return [
        {name: value["value"] for name, value in row.items()}
        for row in response.json()["results"]["bindings"]
    ]


def contribute(url: str, token: str, text: str) -> httpx.Response:
    return httpx.post(
        f"{url}/contributions",
        content=f'<{ITS_OWL}> <{COMMENT}> "{text}"@de .\n'.encode(),
        headers={
            "Content-Type": "text/turtle",
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
        },
        timeout=120,
    )


# --- /sparql ----------------------------------------------------------------------------

LABEL_QUERY = f"SELECT ?label WHERE {{ <{ITS_OWL}> <{LABEL}> ?label }}"


@pytest.mark.parametrize(
    "accept, media_type, expected",
    [
        pytest.param(
            "application/sparql-results+json",
            "application/sparql-results+json",
            '"value"',
            id="json",
        ),
        pytest.param(
            "application/sparql-results+xml", "application/sparql-results+xml", "<literal", id="xml"
        ),
        pytest.param("text/csv", "text/csv", "label", id="csv"),
        pytest.param("text/tab-separated-values", "text/tab-separated-values", "?label", id="tsv"),
    ],
)
def test_select_is_answered_in_every_results_format(
    server: LiveServer, accept: str, media_type: str, expected: str
) -> None:
    response = httpx.get(
        server.sparql, params={"query": LABEL_QUERY}, headers={"Accept": accept}, timeout=30
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == f"{media_type}; charset=utf-8"
    assert expected in response.text
    assert "OWL" in response.text


@pytest.mark.parametrize(
    "accept, rdflib_format",
    [
        pytest.param("text/turtle", "turtle", id="turtle"),
        pytest.param("application/n-triples", "nt", id="nt"),
        pytest.param("application/ld+json", "json-ld", id="jsonld"),
        pytest.param("application/rdf+xml", "xml", id="rdfxml"),
        pytest.param("application/trig", "trig", id="trig"),
        pytest.param("application/n-quads", "nquads", id="nquads"),
        pytest.param("text/n3", "n3", id="n3"),
    ],
)
def test_construct_is_answered_in_every_graph_format(
    server: LiveServer, accept: str, rdflib_format: str
) -> None:
    query = f"CONSTRUCT {{ <{ITS_OWL}> ?p ?o }} WHERE {{ <{ITS_OWL}> ?p ?o }}"
    (count,) = select(server.url, f"SELECT (COUNT(*) AS ?n) WHERE {{ <{ITS_OWL}> ?p ?o }}")
    response = httpx.get(
        server.sparql, params={"query": query}, headers={"Accept": accept}, timeout=30
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == f"{accept}; charset=utf-8"
    parsed = Dataset() if rdflib_format in ("trig", "nquads") else Graph()
    parsed.parse(data=response.content, format=rdflib_format)
    if isinstance(parsed, Dataset):
        triples = {(s, p, o) for s, p, o, _ in parsed.quads((None, None, None, None))}
    else:
        triples = set(parsed)
    assert 0 < len(triples) <= int(count["n"])
    assert any(p == URIRef(LABEL) for s, p, o in triples)


@pytest.mark.parametrize(
    "accept", ["application/sparql-results+json", "application/sparql-results+xml"]
)
def test_ask_is_answered_as_a_boolean(server: LiveServer, accept: str) -> None:
    answers = {}
    for truth, query in (
        (True, f"ASK {{ <{ITS_OWL}> ?p ?o }}"),
        (False, f"ASK {{ <{ITS_OWL}> <urn:x:nothing> ?o }}"),
    ):
        response = httpx.get(
            server.sparql, params={"query": query}, headers={"Accept": accept}, timeout=30
        )
        assert response.status_code == 200, response.text
        answers[truth] = response.text
    if accept.endswith("json"):
        assert json.loads(answers[True])["boolean"] is True
        assert json.loads(answers[False])["boolean"] is False
    else:
        assert "<boolean>true</boolean>" in answers[True]
        assert "<boolean>false</boolean>" in answers[False]


@pytest.mark.parametrize(
    "params, status, words",
    [
        pytest.param(
            {"query": "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"},
            400,
            "SERVICE is not allowed",
            id="service",
        ),
        pytest.param({"update": "DROP ALL"}, 403, "queries only", id="update"),
        pytest.param({"query": "SELECT * WHERE {\n  ?s ?p }"}, 400, "2", id="syntax-error"),
        pytest.param(
            {"query": "SELECT * WHERE { ?s rdfs:label ?o }"}, 400, "undeclared prefix", id="prefix"
        ),
        pytest.param(
            {"query": f"SELECT * FROM <{LEDGER}> WHERE {{ ?s ?p ?o }}"},
            400,
            "not one of this dataset's",
            id="from-private-graph",
        ),
        pytest.param(
            {"query": f"SELECT * WHERE {{ GRAPH <{LEDGER}> {{ ?s ?p ?o }} }}"},
            400,
            "not one of this dataset's",
            id="graph-private-graph",
        ),
        pytest.param(
            {"query": "PREFIX l: <urn:x-panorama:> SELECT * FROM NAMED l:x { GRAPH ?g {} }"},
            400,
            "not one of this dataset's",
            id="from-named-prefixed",
        ),
        pytest.param(
            {"query": "SELECT * WHERE { ?s ?p ?o }", "default-graph-uri": LEDGER},
            400,
            "not one of this dataset's",
            id="protocol-default-graph",
        ),
        pytest.param(
            {"query": "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }", "named-graph-uri": LEDGER},
            400,
            "not one of this dataset's",
            id="protocol-named-graph",
        ),
        pytest.param(
            {"query": f"DEFINE input:default-graph-uri <{LEDGER}> SELECT * {{ ?s ?p ?o }}"},
            400,
            "pragma",
            id="virtuoso-define",
        ),
        pytest.param(
            {"query": 'PREFIX bif: <bif:> SELECT (bif:http_get("http://127.0.0.1:9/") AS ?x) {}'},
            400,
            "standard SPARQL 1.1 only",
            id="virtuoso-function",
        ),
    ],
)
def test_what_may_not_run_is_refused_before_the_engine_sees_it(
    server: LiveServer, params: dict[str, str], status: int, words: str
) -> None:
    response = httpx.get(server.sparql, params=params, timeout=30)
    assert response.status_code == status, response.text
    assert words in response.text


def test_the_ledger_graph_is_invisible_to_every_graph_pattern(
    server: LiveServer, token: str
) -> None:
    assert contribute(server.url, token, "Sichtbar").status_code == 201
    union = select(server.url, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
    chosen = select(
        server.url,
        f"SELECT DISTINCT ?g FROM <{BASE}graph/catalog> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
    )
    secrets = select(server.url, "SELECT ?o WHERE { ?s <urn:x-panorama:ledger#tokenSha256> ?o }")
    assert union and all(row["g"].startswith(BASE) for row in union)
    assert chosen == [] and secrets == []


def test_a_slow_query_is_stopped_at_the_timeout(server: LiveServer) -> None:
    started = time.monotonic()
    response = httpx.get(server.sparql, params={"query": SLOW}, timeout=60)
    elapsed = time.monotonic() - started
    assert response.status_code == 503, response.text
    assert "stopped after 3 s" in response.text
    assert elapsed < QUERY_TIMEOUT + 2
    assert select(server.url, LABEL_QUERY)  # and the next query is answered


class Relay:
    """A TCP relay to the engine that counts the bytes it has passed on to the server.

    It reads from the engine only as fast as the server takes: if the server buffered
    whole answers, it would have taken all of one before its client read the first chunk.
    """

    def __init__(self, target: str) -> None:
        self.target_host, port = target.split("//", 1)[1].split("/", 1)[0].split(":")
        self.target_port = int(port)
        self.port = free_port()
        self.to_server = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", self.port)
        )
        self._ready.set()
        self._loop.run_forever()
        server.close()

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        engine_r, engine_w = await asyncio.open_connection(self.target_host, self.target_port)

        async def pipe(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, count: bool
        ) -> None:
            try:
                while data := await reader.read(16384):
                    writer.write(data)
                    await writer.drain()
                    if count:
                        self.to_server += len(data)
            except (ConnectionError, OSError):
                pass
            finally:
                writer.close()

        await asyncio.gather(pipe(client_r, engine_w, False), pipe(engine_r, client_w, True))

    def close(self) -> None:
        """End the relayed connections while the loop runs, then the loop: a connection's
        coroutine left to the collector would close its socket on a closed loop."""

        async def end_connections() -> None:
            tasks = asyncio.all_tasks() - {asyncio.current_task()}
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(end_connections(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


def test_a_large_answer_streams_through_without_being_held(engine: Engine) -> None:
    # 25,000 rows of about 4 KB (under Virtuoso's row limit in the tests): 100 MB. The
    # kernel's buffers between relay and server can hold a third of it.
    filler = "x" * 4000
    query = (
        f"SELECT ?a ?b ?text WHERE {{ VALUES ?a {{ {' '.join(map(str, range(250)))} }} "
        f"VALUES ?b {{ {' '.join(map(str, range(100)))} }} "
        f'BIND(CONCAT(STR(?a), "-", STR(?b), "{filler}") AS ?text) }}'
    )
    relay = Relay(engine.query_url)
    # A small receive buffer of its own (Linux grows one up to tcp_rmem, 32 MB here).
    small_buffer = [(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 16)]
    relayed_url = engine.query_url.replace(f":{relay.target_port}/", f":{relay.port}/")
    try:
        with (
            engine_credentials(engine),
            LiveServer(engine_settings(engine, relayed_url, query_timeout=60)) as live,
            httpx.Client(transport=httpx.HTTPTransport(socket_options=small_buffer)) as client,
            client.stream(
                "GET",
                live.sparql,
                params={"query": query},
                # Uncompressed: gzip would shrink such rows a thousandfold.
                headers={"Accept": "text/csv", "Accept-Encoding": "identity"},
                timeout=60,
            ) as response,
        ):
            assert response.status_code == 200
            assert "content-length" not in response.headers
            chunks = response.iter_bytes()
            received = len(next(chunks))
            time.sleep(1.0)  # the server could take the whole answer meanwhile, if it would
            held = relay.to_server
            received += sum(len(chunk) for chunk in chunks)
    finally:
        relay.close()
    assert received > 100_000_000
    assert held < received / 2, f"the server took {held:,} of {received:,} bytes at once"


def test_an_answer_the_engine_would_cut_is_refused_not_shortened(
    server: LiveServer, engine: Engine
) -> None:
    rows = " ".join(map(str, range(200)))  # 40,000 rows: over Virtuoso's 30,000 here
    query = f"SELECT ?a ?b WHERE {{ VALUES ?a {{ {rows} }} VALUES ?b {{ {rows} }} }}"
    response = httpx.get(server.sparql, params={"query": query}, timeout=60)
    if engine.name == "virtuoso":
        assert response.status_code == 502
        assert "LIMIT 30000" in response.text
    else:
        assert response.status_code == 200
        assert response.text.count('"a"') > 40_000  # the head names it too


# --- pages, validation, dataset description ----------------------------------------------


def test_an_entity_page_is_served_as_html_and_turtle(server: LiveServer) -> None:
    page = httpx.get(f"{server.url}/id/cluster/its-owl", headers={"Accept": "text/html"})
    assert page.status_code == 200, page.text
    assert "it&#39;s OWL</h1>" in page.text
    assert '"Organization"' in page.text  # its schema.org type, through the class mappings
    turtle = httpx.get(f"{server.url}/id/cluster/its-owl.ttl")
    assert turtle.status_code == 200
    graph = Graph().parse(data=turtle.text, format="turtle")
    assert (URIRef(ITS_OWL), URIRef(LABEL), None) in graph


@pytest.fixture
def hub(engine: Engine, tmp_path: Path) -> Iterator[str]:
    """A cluster with 60,000 members, loaded into the engine beside the bundle: its path.

    Measured without a time limit, its page took 11 s on Oxigraph and 6 s on Virtuoso
    (which then refused the query for the members' names: a VALUES that long), nearly all
    of it in the engine, while other pages took under a second. The graph is dropped
    afterwards, so later tests count without it.
    """
    graph, cluster = f"{BASE}graph/test/hub", f"{BASE}id/cluster/hub"
    members = tmp_path / "hub.nt"
    members.write_text(
        "".join(
            f"<{BASE}id/organisation/o{i}> <http://www.w3.org/ns/org#memberOf> <{cluster}> .\n"
            for i in range(60_000)
        )
    )
    loaded = cli(engine, "load", str(members), "--graph", graph, *engine.cli_options)
    assert loaded.returncode == 0, loaded.stderr
    try:
        yield "/id/cluster/hub"
    finally:
        dropped = httpx.post(
            engine.update_url,
            data={"update": f"DROP SILENT GRAPH <{graph}>"},
            auth=engine.auth,
            timeout=60,
        )
        dropped.raise_for_status()


#: The time limit of the server the hub is asked of, in Turtle (every link; its HTML page
#: lists the first 1,000 and took 2.6 s on both engines). Virtuoso gives at most 30,000 rows
#: here (``ResultSetMaxRows``), and the Turtle took 4.5 s, the Oxigraph server's 9.9 s: a
#: limit of 1 s is well below both.
HUB_TIMEOUT = 1.0


def test_a_page_past_the_time_limit_answers_503_at_the_limit_and_the_server_goes_on(
    server: LiveServer, engine: Engine, hub: str
) -> None:
    with LiveServer(engine_settings(engine, query_timeout=HUB_TIMEOUT)) as limited:
        health = httpx.get(f"{limited.url}/health").json()
        started = time.monotonic()
        slow = httpx.get(limited.url + hub, headers={"Accept": "text/turtle"}, timeout=60)
        elapsed = time.monotonic() - started
        assert slow.status_code == 503, slow.text
        assert f"took longer than {HUB_TIMEOUT:g} s to build" in slow.text
        assert "/sparql" in slow.text and "/dumps/" in slow.text
        assert elapsed < HUB_TIMEOUT + 1.5  # at the limit, not when the page would be done
        assert select(limited.url, LABEL_QUERY)
        after = httpx.get(f"{limited.url}/health").json()
        assert after["timeouts"] == health["timeouts"] + 1
        assert after["pages_rendered"] == health["pages_rendered"] + 1
    # Ordinary pages, on a server with the usual limit, are not held up by the hub.
    for path in ("/id/cluster/its-owl", "/id/innovation-field/materials-production"):
        page = httpx.get(server.url + path, headers={"Accept": "text/html"}, timeout=60)
        assert page.status_code == 200, page.text


def test_validation_checks_submissions_against_the_reference_data(server: LiveServer) -> None:
    good = f'<{ITS_OWL}> <{COMMENT}> "Gut"@de .\n'
    bad = (
        f"@prefix cp: <{BASE}def#> .\n<{BASE}id/cluster/new-one> a cp:Cluster ;\n"
        f"    cp:innovationField <{BASE}id/innovation-field/nonsense> .\n"
    )
    reports = [
        httpx.post(
            f"{server.url}/validate",
            content=text.encode(),
            headers={"Content-Type": "text/turtle", "Accept": "application/json"},
            timeout=60,
        )
        for text in (good, bad)
    ]
    assert [r.status_code for r in reports] == [200, 200]
    assert [r.json()["conforms"] for r in reports] == [True, False]


def test_void_counts_and_dumps_hold_the_published_graphs_only(
    server: LiveServer, token: str
) -> None:
    assert contribute(server.url, token, "Gezählt").status_code == 201
    void = Graph().parse(data=httpx.get(f"{server.url}/.well-known/void").text, format="turtle")
    (dataset,) = set(void.subjects(VOID.sparqlEndpoint, None))
    (union,) = select(
        server.url,
        "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } "
        f"FILTER(?g != <{BASE}graph/catalog>) }} }}",
    )
    assert int(void.value(dataset, VOID.triples)) == int(union["n"])
    dump = httpx.get(f"{server.url}/dumps/cluster-panorama.nq.gz", timeout=60)
    assert dump.status_code == 200
    quads = Dataset().parse(data=gzip.decompress(dump.content), format="nquads")
    graphs = {str(g.identifier) for g in quads.graphs() if len(g)}
    assert graphs and all(g.startswith(BASE) and g != f"{BASE}graph/catalog" for g in graphs)
    turtle = httpx.get(f"{server.url}/dumps/cluster-panorama.ttl.gz", timeout=60)
    merged = Graph().parse(data=gzip.decompress(turtle.content), format="turtle")
    assert len(merged) == int(union["n"])


# --- two servers, one engine ---------------------------------------------------------------


def test_a_contribution_through_one_server_is_seen_at_once_through_the_other(
    servers: tuple[LiveServer, LiveServer], token: str
) -> None:
    one, two = servers
    comments = f"SELECT ?c WHERE {{ <{ITS_OWL}> <{COMMENT}> ?c }}"
    page = f"{two.url}/id/cluster/its-owl.ttl"
    # Fill the other server's caches first: answers, the page, VoID, the list.
    for _ in range(2):
        before = select(two.url, comments)
        page_before = httpx.get(page).text
        void_before = httpx.get(f"{two.url}/.well-known/void").text
        listed_before = httpx.get(f"{two.url}/contributions?format=json").json()
    accepted = contribute(one.url, token, "Neu über den ersten Server")
    assert accepted.status_code == 201, accepted.text
    after = select(two.url, comments)
    assert {"c": "Neu über den ersten Server"} in after and after != before
    assert "Neu über den ersten Server" in httpx.get(page).text
    assert "Neu über den ersten Server" not in page_before
    assert httpx.get(f"{two.url}/.well-known/void").text != void_before
    listed = httpx.get(f"{two.url}/contributions?format=json").json()["contributions"]
    assert listed[0]["id"] == accepted.json()["id"]
    assert len(listed) == len(listed_before["contributions"]) + 1
    content = httpx.get(f"{two.url}/contributions/{listed[0]['id']}/content")
    assert "Neu über den ersten Server" in content.text


def test_a_refused_contribution_changes_nothing_on_either_server(
    servers: tuple[LiveServer, LiveServer], token: str
) -> None:
    one, two = servers
    before = httpx.get(f"{two.url}/contributions?format=json").json()
    refused = httpx.post(
        f"{one.url}/contributions",
        content=b"<not turtle",
        headers={"Content-Type": "text/turtle", "Authorization": f"Bearer {token}"},
        timeout=60,
    )
    assert refused.status_code == 400
    unknown = contribute(one.url, "not-a-token", "nope")
    assert unknown.status_code == 401
    assert httpx.get(f"{two.url}/contributions?format=json").json() == before


# --- the command line ----------------------------------------------------------------------


def test_serve_says_what_to_do_when_the_engine_is_unreachable(engine: Engine) -> None:
    with socket.socket() as nobody:
        nobody.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{nobody.getsockname()[1]}/query"
        result = cli(engine, "serve", "--port", "0", "--engine", url)
    assert result.returncode == 1
    assert f"Cannot reach the SPARQL engine at {url}" in result.stderr
    assert "--engine" in result.stderr and "Traceback" not in result.stderr


def test_serve_says_what_to_do_when_the_engine_refuses_writes(engine: Engine) -> None:
    # Virtuoso's anonymous endpoint answers queries and refuses updates; Oxigraph's
    # query URL refuses updates too (405).
    result = cli(
        engine,
        "serve",
        "--port",
        "0",
        "--engine",
        engine.query_url,
        "--engine-update",
        engine.query_url,
        "--engine-store",
        engine.store_url,
    )
    assert result.returncode == 1
    assert "SPARQL update" in result.stderr and "Traceback" not in result.stderr
