"""SPARQL answers are cached per store version: repeated queries are cheap, never stale."""

from __future__ import annotations

import httpx

from support import GRAPH, LiveServer, write_bundle

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
