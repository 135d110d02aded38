"""What keeps a public endpoint safe: no outbound connections, timeouts that really stop work,
results that stream."""

from __future__ import annotations

import asyncio
import os
import socket
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


def _refused_without_a_connection(server: LiveServer, listener: Listener, query: str) -> None:
    for send in (
        lambda: httpx.get(server.sparql, params={"query": query}),
        lambda: httpx.post(server.sparql, data={"query": query}),
    ):
        response = send()
        assert response.status_code == 400
        assert "SERVICE is not allowed" in response.text
    # A connection made while evaluating would be there before the 400; this is for a late one.
    time.sleep(0.25)
    assert listener.connections == 0


def test_service_is_refused_before_the_store_or_engine_sees_it(
    example_server, listener: Listener
) -> None:
    query = f"SELECT * WHERE {{ SERVICE <{listener.url}> {{ ?s ?p ?o }} }}"
    _refused_without_a_connection(example_server, listener, query)


@pytest.mark.embedded_only(
    "the server refuses SERVICE before any backend sees the query, in the same code for all; "
    "test_service_is_refused_before_the_store_or_engine_sees_it runs on every backend"
)
@pytest.mark.parametrize(
    "template",
    [
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
    _refused_without_a_connection(example_server, listener, template.format(url=listener.url))


def test_words_that_only_look_like_service_are_fine(example_server) -> None:
    query = (
        'PREFIX ex: <https://example.org/> SELECT ?service WHERE { ?service ex:SERVICE "SERVICE" }'
        " # SERVICE <http://example.org/>"
    )
    assert httpx.get(example_server.sparql, params={"query": query}).status_code == 200


# Nesting ------------------------------------------------------------------------------------

# A query nesting n of a kind, and how deep it nests in all.
NESTED = {
    "parentheses": (
        lambda n: "SELECT * WHERE { FILTER(" + "(" * n + "true" + ")" * n + ") }",
        lambda n: n + 2,
    ),
    "braces": (lambda n: "SELECT * WHERE " + "{" * n + " ?s ?p ?o " + "}" * n, lambda n: n),
    "brackets": (
        lambda n: "SELECT * WHERE { ?s ?p " + "[ <urn:x:p> " * n + "?o" + " ]" * n + "}",
        lambda n: n + 1,
    ),
}


@pytest.mark.parametrize("kind", NESTED)
def test_a_query_nested_too_deep_is_refused_before_evaluation(
    example_server, backend: Backend, kind: str
) -> None:
    """10,000 nested parentheses ended a worker process (a 500, and the worker replaced)."""
    query, depth = NESTED[kind]
    health = example_server.url + "/health"
    replaced = httpx.get(health).json().get("workers_replaced")
    response = httpx.post(example_server.sparql, data={"query": query(5_000)})
    assert response.status_code == 400
    assert f"nests {depth(5_000)} levels deep" in response.text
    assert "the limit is 256" in response.text
    if backend.embedded:
        assert httpx.post(example_server.sparql, data={"query": query(200)}).is_success
        assert httpx.get(health).json()["workers_replaced"] == replaced


def test_nesting_written_as_escapes_counts_too(example_server) -> None:
    """SPARQL applies escapes before it parses: an escaped parenthesis is a parenthesis."""
    query = "ASK { FILTER(" + r"\u0028" * 5_000 + "true" + r"\u0029" * 5_000 + ") }"
    response = httpx.post(example_server.sparql, data={"query": query})
    assert response.status_code == 400
    assert "nests 5002 levels deep" in response.text


def test_a_sum_of_too_many_terms_is_refused_before_evaluation(
    example_server, backend: Backend
) -> None:
    """A sum of 8,000 terms ended a worker process: the engine reads it as a tree that deep."""

    def total(terms: int) -> str:
        return "ASK { FILTER(" + " + ".join(["1"] * terms) + " > 0) }"

    response = httpx.post(example_server.sparql, data={"query": total(5_000)})
    assert response.status_code == 400
    assert "holds 4999 arithmetic operators" in response.text
    assert "the limit is 1000" in response.text
    if backend.embedded:
        assert httpx.post(example_server.sparql, data={"query": total(900)}).is_success


def test_brackets_and_operators_in_strings_iris_and_comments_do_not_count(example_server) -> None:
    query = 'SELECT * WHERE { BIND("' + "(+" * 5_000 + '" AS ?x) } # ' + "{*" * 5_000
    assert httpx.post(example_server.sparql, data={"query": query}).status_code == 200
    # Nor do the hyphens of prefixed names.
    names = " ".join(f"ex:its-owl-{i}" for i in range(2_000))
    query = f"PREFIX ex: <https://example.org/> SELECT * WHERE {{ VALUES ?c {{ {names} }} }}"
    assert httpx.post(example_server.sparql, data={"query": query}).status_code == 200


# Timeouts -----------------------------------------------------------------------------------

HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
LIGHT = "ASK { <https://example.org/s0> ?p ?o }"


@pytest.fixture
def big_bundle(tmp_path: Path) -> Path:
    lines = ["@prefix ex: <https://example.org/> ."]
    lines += [f"ex:s{i} ex:p{i % 7} ex:o{i % 13} ." for i in range(3000)]
    return write_bundle(tmp_path / "bundle", {"data/many.ttl": "\n".join(lines)})


def worker_processes() -> list[psutil.Process]:
    """The live worker processes of this process's servers (not a killed one left unreaped)."""
    workers = []
    for process in psutil.Process().children(recursive=True):
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                continue
            if "multiprocessing" in " ".join(process.cmdline()):
                workers.append(process)
        except psutil.Error:  # it ended since it was listed
            continue
    return workers


def _heavy_query_is_stopped_while_others_are_answered(server: LiveServer) -> None:
    """The heavy query is stopped at the server's 2 s limit, and light ones get through."""
    outcome: dict[str, object] = {}

    def run_heavy() -> None:
        response = httpx.get(server.sparql, params={"query": HEAVY}, timeout=60)
        outcome.update(
            status=response.status_code,
            text=response.text,
            answered=time.monotonic() - heavy_sent,
        )

    heavy = threading.Thread(target=run_heavy)
    heavy_sent = time.monotonic()
    heavy.start()
    lights: list[tuple[float, float]] = []  # (sent, answered), in seconds after the heavy one
    with httpx.Client(timeout=10) as client:
        while heavy.is_alive():
            sent = time.monotonic() - heavy_sent
            response = client.get(server.sparql, params={"query": LIGHT})
            lights.append((sent, time.monotonic() - heavy_sent))
            assert response.status_code == 200
            assert response.json()["boolean"] is True
            time.sleep(0.05)
    heavy.join()
    heavy_answered = float(outcome["answered"])  # type: ignore[arg-type]
    assert outcome["status"] == 503
    assert "stopped after 2 s" in str(outcome["text"])
    assert 2 <= heavy_answered < 5
    # Light queries sent once the heavy one had surely started, and answered before it was:
    # one queued behind the heavy query would be answered only when it is stopped, and the
    # next is sent only after that. How many fit in the 2 s depends on the machine's load
    # (20 or more on an idle one), and proves no more.
    overtaking = [
        (sent, answered) for sent, answered in lights if sent >= 0.5 and answered < heavy_answered
    ]
    assert len(overtaking) >= 3, (heavy_answered, lights)


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
    server = make_server(big_bundle, query_timeout=1, query_workers=2)
    endless = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    received = 0
    started = time.monotonic()
    if backend.name == "virtuoso":
        # Virtuoso sends an answer only once it has computed all of it, so the deadline
        # passes before the first chunk: the client gets a clean 503 instead of a cut.
        response = httpx.get(server.sparql, params={"query": endless, "format": "csv"}, timeout=30)
        assert response.status_code == 503
        assert "stopped after 1 s" in response.text
        assert time.monotonic() - started < 5
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
    assert time.monotonic() - started < 5
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


def worker_cpu_seconds() -> dict[int, float]:
    """CPU seconds each query worker process has used so far, by process id."""
    used = {}
    for process in worker_processes():
        try:
            times = process.cpu_times()
        except psutil.Error:  # it ended since it was listed
            continue
        used[process.pid] = times.user + times.system
    return used


def test_a_million_rows_stream_from_the_first_byte(example_server, backend: Backend) -> None:
    # 8 MB of CSV, more than the buffers between a worker and this client hold while the
    # client does not read: its own (64 KiB asked, so that Linux does not grow it), the
    # server's socket (4 MB at most) and the socket pair from the worker.
    small_buffer = [(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 16)]
    cpu_before = worker_cpu_seconds()
    cpu_held: dict[int, float] = {}
    started = time.monotonic()
    first_byte = 0.0
    lines = chunks = 0
    tail = b""
    with (
        httpx.Client(transport=httpx.HTTPTransport(socket_options=small_buffer)) as client,
        client.stream(
            "GET",
            example_server.sparql,
            params={"query": MILLION},
            headers={"Accept": "text/csv", "Accept-Encoding": "identity"},
            timeout=60,
        ) as response,
    ):
        assert response.status_code == 200
        for chunk in response.iter_raw():
            if chunks == 0:
                first_byte = time.monotonic() - started
                assert chunk.startswith(b"i\r\n")
                if backend.embedded:
                    time.sleep(0.3)  # hold still: a worker that streams stops at full buffers
                    cpu_held = worker_cpu_seconds()
            lines += chunk.count(b"\n")
            chunks += 1
            tail = (tail + chunk)[-64:]
    total = time.monotonic() - started
    print(f"1,000,000 rows: first byte {first_byte * 1000:.0f} ms, all in {total:.2f} s")
    assert chunks > 50
    assert lines == 1_000_001
    assert tail.endswith(b"\r\n")
    # The first bytes leave long before the last row is computed.
    if backend.embedded:
        # In CPU seconds of the worker that answered, which a loaded machine does not
        # stretch as it stretches the wall clock: a good part of its work was still ahead
        # after the client had the first chunk and had held still (about 40% here). A worker
        # that computed the whole answer before the first byte left would have none left, as
        # with an answer small enough for the buffers: 0.00 s.
        cpu_after = worker_cpu_seconds()
        worker = max(cpu_after, key=lambda pid: cpu_after[pid] - cpu_before.get(pid, 0.0))
        ahead = cpu_held[worker] - cpu_before.get(worker, 0.0)
        left = cpu_after[worker] - cpu_held[worker]
        print(f"worker CPU: {ahead:.2f} s before the client read on, {left:.2f} s after")
        assert left > (ahead + left) / 5, (ahead, left)
    # On an engine, the server's side of it (that it passes on the engine's answer without
    # holding it) is test_engine_serving.py's test_a_large_answer_streams_through_without_
    # being_held, counted in bytes at a relay: a client here cannot tell, since the engine's
    # socket takes all 8 MB while the client holds still, and a wall-clock ratio measures the
    # machine's load as much. Virtuoso computes the whole answer before it sends any.


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
    server = make_server(big_bundle, query_timeout=1, query_workers=1)
    page = httpx.get(f"{server.url}/query", params={"query": HEAVY, "lang": "en"}, timeout=30)
    assert page.status_code == 503
    assert 'role="alert"' in page.text
    assert "stopped after 1 s" in page.text
