"""What keeps a public endpoint safe: no outbound connections, timeouts that really stop work,
results that stream."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest

from panorama.executor import QueryJob, QueryPool
from panorama.store import QueryRequest, Store

from support import Backend, Listener, LiveServer, write_bundle


@pytest.fixture
def listener():
    listener = Listener("/sparql")
    yield listener
    listener.close()


def test_the_listener_sees_the_engine_connect_when_nothing_refuses(listener: Listener) -> None:
    # The control experiment: pyoxigraph itself does call a SERVICE IRI.
    store = Store.in_memory(base_iri="https://example.org/")
    try:
        evaluation = store.evaluate(
            QueryRequest(f"SELECT * WHERE {{ SERVICE SILENT <{listener.url}> {{ ?s ?p ?o }} }}")
        )
        with open(os.devnull, "wb") as sink:
            evaluation.serialize(sink, "application/sparql-results+json")
    finally:
        store.close()
    deadline = time.monotonic() + 5
    while listener.connections == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert listener.connections >= 1


@pytest.mark.parametrize(
    "template",
    [
        pytest.param("SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}", id="service"),
        pytest.param("select * where {{ service silent <{url}> {{ ?s ?p ?o }} }}", id="silent"),
        pytest.param("SELECT * WHERE {{ \\u0053ERVICE <{url}> {{ ?s ?p ?o }} }}", id="escaped"),
        pytest.param(
            "SELECT * WHERE {{ BIND(<{url}> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}", id="variable"
        ),
        pytest.param(
            # An escaped '#' in a prefixed name is not a comment.
            "PREFIX ex: <urn:x:> SELECT * WHERE {{ BIND(ex:a\\#b AS ?q) "
            "SERVICE <{url}> {{ ?x ?y ?z }} }}",
            id="escaped-hash",
        ),
        pytest.param(
            "CONSTRUCT {{ ?s ?p ?o }} WHERE {{ "
            "{{ SELECT * {{ SERVICE <{url}> {{ ?s ?p ?o }} }} }} }}",
            id="subquery",
        ),
    ],
)
def test_service_is_refused_before_evaluation(
    example_server, listener: Listener, template: str
) -> None:
    query = template.format(url=listener.url)
    for send in (
        lambda: httpx.get(example_server.sparql, params={"query": query}),
        lambda: httpx.post(example_server.sparql, data={"query": query}),
    ):
        response = send()
        assert response.status_code == 400
        assert "SERVICE is not allowed" in response.text
    time.sleep(0.5)
    assert listener.connections == 0


def test_words_that_only_look_like_service_are_fine(example_server) -> None:
    query = (
        'PREFIX ex: <https://example.org/> SELECT ?service WHERE { ?service ex:SERVICE "SERVICE" }'
        " # SERVICE <http://example.org/>"
    )
    assert httpx.get(example_server.sparql, params={"query": query}).status_code == 200


# Timeouts -----------------------------------------------------------------------------------

HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
LIGHT = "ASK { <https://example.org/s0> ?p ?o }"


@pytest.fixture
def big_bundle(tmp_path: Path) -> Path:
    lines = ["@prefix ex: <https://example.org/> ."]
    lines += [f"ex:s{i} ex:p{i % 7} ex:o{i % 13} ." for i in range(3000)]
    return write_bundle(tmp_path / "bundle", {"data/many.ttl": "\n".join(lines)})


def worker_processes() -> list[psutil.Process]:
    return [
        p
        for p in psutil.Process().children(recursive=True)
        if "multiprocessing" in " ".join(p.cmdline())
    ]


def _heavy_query_is_stopped_while_others_are_answered(server: LiveServer) -> None:
    outcome: dict[str, object] = {}

    def run_heavy() -> None:
        started = time.monotonic()
        response = httpx.get(server.sparql, params={"query": HEAVY}, timeout=60)
        outcome.update(
            status=response.status_code, text=response.text, seconds=time.monotonic() - started
        )

    heavy = threading.Thread(target=run_heavy)
    heavy.start()
    light_latencies = []
    with httpx.Client(timeout=10) as client:
        while heavy.is_alive():
            started = time.monotonic()
            response = client.get(server.sparql, params={"query": LIGHT})
            light_latencies.append(time.monotonic() - started)
            assert response.status_code == 200
            assert response.json()["boolean"] is True
            time.sleep(0.05)
    heavy.join()
    assert outcome["status"] == 503
    assert "stopped after 2 s" in str(outcome["text"])
    assert 2 <= float(outcome["seconds"]) < 5  # type: ignore[arg-type]
    assert len(light_latencies) >= 10
    assert max(light_latencies) < 0.5


def _the_killed_worker_is_replaced(server: LiveServer) -> None:
    # The killed worker's work is gone: no query process keeps burning a core.
    time.sleep(0.5)
    workers = worker_processes()
    for process in workers:
        process.cpu_percent(None)
    time.sleep(1.0)
    assert all(process.cpu_percent(None) < 30 for process in workers)
    health = httpx.get(f"{server.url}/health").json()
    assert health["timeouts"] == 1
    assert health["workers_replaced"] == 1
    assert health["query_workers"]["alive"] == 2


def test_a_query_past_the_timeout_is_stopped_while_others_are_answered(
    make_server, big_bundle: Path, backend: Backend
) -> None:
    server = make_server(big_bundle, query_timeout=2, query_workers=2, query_threads=1)
    _heavy_query_is_stopped_while_others_are_answered(server)
    if backend.embedded:
        _the_killed_worker_is_replaced(server)
    else:  # the server abandons the engine's request; it has no worker to replace
        health = httpx.get(f"{server.url}/health").json()
        assert health["timeouts"] == 1 and health["workers_replaced"] == 0


@pytest.mark.embedded_only("two queries share a worker process: the embedded store's workers")
def test_a_query_past_the_timeout_is_stopped_while_another_in_its_process_is_answered(
    make_server, big_bundle: Path
) -> None:
    server = make_server(big_bundle, query_timeout=2, query_workers=2, query_threads=2)
    _heavy_query_is_stopped_while_others_are_answered(server)
    _the_killed_worker_is_replaced(server)


def test_a_stream_past_the_timeout_is_cut_so_the_client_sees_an_error(
    make_server, big_bundle: Path, backend: Backend
) -> None:
    server = make_server(big_bundle, query_timeout=2, query_workers=2)
    endless = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    received = 0
    started = time.monotonic()
    if backend.name == "virtuoso":
        # Virtuoso sends an answer only once it has computed all of it, so the deadline
        # passes before the first chunk: the client gets a clean 503 instead of a cut.
        response = httpx.get(server.sparql, params={"query": endless, "format": "csv"}, timeout=30)
        assert response.status_code == 503
        assert "stopped after 2 s" in response.text
        assert time.monotonic() - started < 6
        assert httpx.get(server.sparql, params={"query": LIGHT}).json()["boolean"] is True
        return
    with (
        pytest.raises(httpx.RemoteProtocolError),
        httpx.stream(
            "GET", server.sparql, params={"query": endless, "format": "csv"}, timeout=30
        ) as response,
    ):
        assert response.status_code == 200
        for chunk in response.iter_bytes():
            received += len(chunk)
    assert received > 0
    assert time.monotonic() - started < 6
    # The server is still fine afterwards.
    assert httpx.get(server.sparql, params={"query": LIGHT}).json()["boolean"] is True


# Streaming ----------------------------------------------------------------------------------

MILLION = (
    "SELECT ?i WHERE { "
    + "VALUES ?a { "
    + " ".join(str(i) for i in range(1000))
    + " } "
    + "VALUES ?b { "
    + " ".join(str(i) for i in range(1000))
    + " } "
    + "BIND(?a * 1000 + ?b AS ?i) }"
)


def test_a_million_rows_stream_from_the_first_byte(example_server, backend: Backend) -> None:
    started = time.monotonic()
    first_byte = None
    lines = chunks = 0
    tail = b""
    with httpx.stream(
        "GET",
        example_server.sparql,
        params={"query": MILLION},
        headers={"Accept": "text/csv", "Accept-Encoding": "identity"},
        timeout=60,
    ) as response:
        assert response.status_code == 200
        for chunk in response.iter_raw():
            if first_byte is None:
                first_byte = time.monotonic() - started
            lines += chunk.count(b"\n")
            chunks += 1
            tail = (tail + chunk)[-64:]
            if chunks == 1:
                assert chunk.startswith(b"i\r\n")
    total = time.monotonic() - started
    assert first_byte is not None
    # The first bytes leave long before the last row is computed; Virtuoso computes the
    # whole answer before it sends any (then it comes in chunks all the same).
    if backend.name != "virtuoso":
        assert first_byte < total / 4, (first_byte, total)
    print(f"1,000,000 rows: first byte {first_byte * 1000:.0f} ms, all in {total:.2f} s")
    assert chunks > 50
    assert lines == 1_000_001
    assert tail.endswith(b"\r\n")


def test_query_workers_cannot_connect_even_if_a_service_slipped_through(
    tmp_path: Path, listener: Listener
) -> None:
    # The second wall: the worker processes have no network at all.
    store = Store.open(tmp_path / "store", base_iri="https://example.org/")
    store.close()
    job = QueryJob(
        QueryRequest(f"SELECT * WHERE {{ SERVICE SILENT <{listener.url}> {{ ?s ?p ?o }} }}"),
        format=("json",),
    )

    async def run() -> bytes:
        pool = QueryPool(tmp_path / "store", base_iri="https://example.org/", size=1, timeout=20)
        await pool.start()
        try:
            stream = await pool.run(job)
            return b"".join([chunk async for chunk in stream])
        finally:
            pool.close()

    body = asyncio.run(run())
    assert b'"bindings":[' in body
    time.sleep(0.5)
    assert listener.connections == 0


def test_the_query_page_says_clearly_when_a_query_was_stopped(
    make_server, big_bundle: Path
) -> None:
    server = make_server(big_bundle, query_timeout=2, query_workers=1)
    page = httpx.get(f"{server.url}/query", params={"query": HEAVY, "lang": "en"}, timeout=30)
    assert page.status_code == 503
    assert 'role="alert"' in page.text
    assert "stopped after 2 s" in page.text
