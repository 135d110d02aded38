"""SPARQL answers are cached per store version: repeated queries are cheap, never stale."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from panorama.flights import Flights

from support import GRAPH, Backend, LiveServer, counting_query, write_bundle

EX = "https://example.org/"
COUNT = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?c a <{EX}Cluster> }}"


def count(response: httpx.Response) -> int:
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def test_a_repeated_query_is_answered_from_the_cache(example_server: LiveServer) -> None:
    first = httpx.get(example_server.sparql, params={"query": COUNT})
    second = httpx.get(example_server.sparql, params={"query": COUNT})
    assert "x-cache" not in first.headers
    assert second.headers["x-cache"] == "hit"
    assert second.content == first.content
    # Another format is another answer.
    csv = httpx.get(example_server.sparql, params={"query": COUNT, "format": "csv"})
    assert csv.headers["content-type"].startswith("text/csv")


def test_volatile_queries_are_never_cached(example_server: LiveServer) -> None:
    query = "SELECT (RAND() AS ?r) WHERE {}"
    answers = [httpx.get(example_server.sparql, params={"query": query}) for _ in range(2)]
    assert all("x-cache" not in a.headers for a in answers)
    assert answers[0].json() != answers[1].json()


def test_a_write_to_the_store_invalidates_the_cache(make_server, tmp_path) -> None:
    bundle = write_bundle(tmp_path / "bundle", {"data/a.ttl": f"<{EX}a> a <{EX}Cluster> ."})
    server = make_server(bundle)
    assert count(httpx.get(server.sparql, params={"query": COUNT})) == 1
    assert httpx.get(server.sparql, params={"query": COUNT}).headers["x-cache"] == "hit"
    store = server.app.state.store
    # A graph of the store's (an engine's store sees only the graphs under its base IRI).
    store.replace_graph(f"{GRAPH}data/new", f"<{EX}b> a <{EX}Cluster> .".encode(), "ttl")
    server.app.state.pool.refresh()
    fresh = httpx.get(server.sparql, params={"query": COUNT})
    assert "x-cache" not in fresh.headers
    assert count(fresh) == 2


def test_the_cache_can_be_switched_off(make_server, example_bundle) -> None:
    server = make_server(example_bundle, answer_cache=0)
    answers = [httpx.get(server.sparql, params={"query": COUNT}) for _ in range(2)]
    assert [count(a) for a in answers] == [3, 3]
    assert all("x-cache" not in a.headers for a in answers)


ROWS = (
    "SELECT ?i { VALUES ?a { "
    + " ".join(map(str, range(300)))
    + " } VALUES ?b { "
    + " ".join(map(str, range(100)))
    + " } BIND(?a * 100 + ?b AS ?i) }"
)


def test_a_streamed_answer_is_kept_once_it_ended_whole(example_server: LiveServer) -> None:
    params = {"query": ROWS + " # streamed", "format": "csv"}
    first = httpx.get(example_server.sparql, params=params)
    assert "content-length" not in first.headers  # over 64 KiB: it came as a stream
    second = httpx.get(example_server.sparql, params=params)
    assert second.headers["x-cache"] == "hit"
    assert second.content == first.content
    assert second.content.count(b"\r\n") == 30_001


def test_an_answer_over_the_largest_entry_is_streamed_every_time(
    make_server, example_bundle
) -> None:
    server = make_server(example_bundle, answer_cache_largest_mb=0)
    params = {"query": ROWS, "format": "csv"}
    answers = [httpx.get(server.sparql, params=params) for _ in range(2)]
    assert all("x-cache" not in a.headers for a in answers)
    assert answers[0].content == answers[1].content


def test_a_stream_cut_short_is_not_kept(example_server: LiveServer) -> None:
    # 8 MB: more than the sockets between client and server can hold, so it is really cut.
    # In 100,000 rows of 85 bytes rather than a million short ones: the engines take a
    # fifth (Virtuoso) to a tenth (the embedded store) of the time for the same bytes.
    thousand, hundred = (" ".join(map(str, range(n))) for n in (1000, 100))
    query = (
        f"SELECT ?a ?b ?text {{ VALUES ?a {{ {thousand} }} VALUES ?b {{ {hundred} }} "
        f'BIND(CONCAT(STR(?a), "-", STR(?b), "{"x" * 70}") AS ?text) }}'
    )
    params = {"query": query, "format": "csv"}
    with httpx.stream("GET", example_server.sparql, params=params) as response:
        next(response.iter_raw())  # the client leaves after the first chunk
    again = httpx.get(example_server.sparql, params=params, timeout=60)
    assert "x-cache" not in again.headers
    assert len(again.content) > 8_000_000
    assert again.content.count(b"\r\n") == 100_001


# Queries at the same moment (panorama.flights) ---------------------------------------------


def _slow(backend: Backend, extra: str = "") -> str:
    """Counts the clusters, after a cross product that takes a second or two (Virtuoso
    takes five times as long as Oxigraph over the same product: it gets a smaller one)."""
    values = " ".join(str(i) for i in range(130 if backend.name == "virtuoso" else 220))
    return (
        f"SELECT ?n ?m {{ {{ SELECT (COUNT(*) AS ?n) {{ ?c a <{EX}Cluster> }} }} "
        f"{{ SELECT (COUNT(*) AS ?m) {{ VALUES ?a {{ {values} }} VALUES ?b {{ {values} }} "
        f"VALUES ?d {{ {values} }} }} }} }} # {extra}"
    )


async def _at_once(url: str, queries: list[str], pause: float = 0.0) -> list[httpx.Response]:
    """Send ``queries`` together (the first ``pause`` seconds ahead of the others)."""
    async with httpx.AsyncClient(timeout=120) as client:
        first = asyncio.create_task(client.get(url, params={"query": queries[0]}))
        await asyncio.sleep(pause)
        rest = [client.get(url, params={"query": query}) for query in queries[1:]]
        return list(await asyncio.gather(first, *rest))


def _health(server: LiveServer) -> dict:
    return httpx.get(server.url + "/health").json()


def test_the_same_query_at_the_same_time_is_evaluated_once(
    example_server: LiveServer, backend: Backend
) -> None:
    query = _slow(backend, "shared")
    before = _health(example_server)
    answers = asyncio.run(_at_once(example_server.sparql, [query] * 4, pause=0.2))
    after = _health(example_server)
    assert [a.status_code for a in answers] == [200] * 4
    assert "x-cache" not in answers[0].headers
    assert [a.headers["x-cache"] for a in answers[1:]] == ["shared"] * 3
    assert {a.content for a in answers} == {answers[0].content}
    assert after["queries"] - before["queries"] == 1
    assert after["queries_shared"] - before["queries_shared"] == 3


def test_a_query_after_a_write_does_not_wait_for_one_from_before(
    make_server, tmp_path, backend: Backend
) -> None:
    bundle = write_bundle(tmp_path / "bundle", {"data/a.ttl": f"<{EX}a> a <{EX}Cluster> ."})
    server = make_server(bundle)
    query = _slow(backend, "fresh")

    async def scenario() -> tuple[httpx.Response, httpx.Response]:
        async with httpx.AsyncClient(timeout=120) as client:
            first = asyncio.create_task(client.get(server.sparql, params={"query": query}))
            await asyncio.sleep(0.2)  # the first is being evaluated
            store = server.app.state.store
            await asyncio.to_thread(
                store.replace_graph,
                f"{GRAPH}data/new",
                f"<{EX}b> a <{EX}Cluster> .".encode(),
                "ttl",
            )
            server.app.state.pool.refresh()
            second = await client.get(server.sparql, params={"query": query})
            return await first, second

    first, second = asyncio.run(scenario())
    assert "x-cache" not in second.headers
    assert second.json()["results"]["bindings"][0]["n"]["value"] == "2"
    # The first may have read the store before or after the write: either is true for it.
    assert first.json()["results"]["bindings"][0]["n"]["value"] in ("1", "2")


@pytest.mark.embedded_only("counts the timeouts of the server's own worker processes")
def test_a_query_that_times_out_times_out_once_for_everyone_waiting(
    make_server, example_bundle
) -> None:
    server = make_server(example_bundle, query_timeout=0.5)
    endless = counting_query(3000)
    answers = asyncio.run(_at_once(server.sparql, [endless] * 3, pause=0.1))
    assert [a.status_code for a in answers] == [503] * 3
    assert _health(server)["timeouts"] == 1


def test_a_waiter_runs_the_query_itself_when_the_first_brings_no_answer() -> None:
    async def scenario() -> tuple[object, object, object]:
        flights = Flights()
        flight = flights.take_off("q")
        assert flight is not None and flights.take_off("q") is None
        waiting = asyncio.create_task(flights.wait_for("q"))
        await asyncio.sleep(0)
        flight.land(None)  # its client went away, or its answer came as a stream
        nothing = await waiting
        again = flights.take_off("q")  # the next one evaluates it, and others may wait
        assert again is not None
        waiting = asyncio.create_task(flights.wait_for("q"))
        await asyncio.sleep(0)
        again.land((b"answer", "text/csv"))
        return nothing, await waiting, len(flights)

    nothing, shared, running = asyncio.run(scenario())
    assert nothing is None
    assert shared == (b"answer", "text/csv")
    assert running == 0
