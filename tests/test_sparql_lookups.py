"""Lookups (one triple pattern, or DESCRIBE of IRIs) are answered without the worker hop.

Their engine work is proportional to their output, so the server answers them in its own
thread with the output capped at one chunk; anything larger, and every other query, goes to
a killable worker.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from panorama.query_text import is_lookup

from support import EXAMPLE_TTL, GRAPH, write_bundle

EX = "PREFIX ex: <https://example.org/>\n"


@pytest.mark.parametrize(
    "query",
    [
        "SELECT ?p ?o WHERE { <https://example.org/clib> ?p ?o }",
        "select * { ?s ?p ?o . }",
        "SELECT ?s { ?s a ex:Cluster } LIMIT 5",
        EX + "SELECT ?o WHERE { ex:clib ex:field ?o }",
        "BASE <https://example.org/> SELECT ?o { <clib> ?p ?o }",
        'SELECT ?s { ?s ?p "CLIB"@de }',
        'ASK { ?s ?p "3"^^<http://www.w3.org/2001/XMLSchema#integer> }',
        "ASK WHERE { ?s ?p 3 }",
        "ASK { ?s ?p true }",
        "DESCRIBE <https://example.org/clib>",
        EX + "DESCRIBE ex:clib ex:its-owl",
        "SELECT * { ?s ?p ?o } # a comment with } and SERVICE in it",
        "SELECT * { ?s \\u003Chttps://example.org/p> ?o }",
    ],
)
def test_single_patterns_and_describes_are_lookups(query: str) -> None:
    assert is_lookup(query)


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * { ?s ?p ?o . ?o ?q ?r }",
        "SELECT * { ?s ?p ?o FILTER(?o > 3) }",
        "SELECT DISTINCT ?p { ?s ?p ?o }",
        "SELECT * { ?s ?p ?o } ORDER BY ?o",
        "SELECT * { ?s ?p ?o } OFFSET 1000000",
        "SELECT * { ?s ?p ?o } LIMIT 10 OFFSET 5",
        "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }",
        "SELECT * { ?s <https://example.org/p>* ?o }",
        "SELECT * { ?s ?p [ ?q ?r ] }",
        "SELECT * { GRAPH ?g { ?s ?p ?o } }",
        "SELECT * { OPTIONAL { ?s ?p ?o } }",
        "SELECT * { SERVICE <http://127.0.0.1:1/sparql> { ?s ?p ?o } }",
        "SELECT * { ?s ?p ?o } \\u0053ERVICE",
        "SELECT * FROM <https://example.org/g> { ?s ?p ?o }",
        "SELECT * { { SELECT * { ?s ?p ?o } ORDER BY ?o } }",
        "SELECT * { VALUES ?s { <a> } ?s ?p ?o }",
        "SELECT * { ?s ?p '''long''' }",
        "DESCRIBE ?s WHERE { ?s ?p ?o }",
        "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }",
        "ASK {}",
        "INSERT DATA { <a> <b> <c> }",
        "",
    ],
)
def test_everything_else_is_not(query: str) -> None:
    assert not is_lookup(query)


def _health(server) -> dict:
    return httpx.get(f"{server.url}/health").json()


def test_lookups_are_answered_without_a_worker_and_agree_with_one(example_server, backend) -> None:
    lookup = EX + "SELECT ?p ?o WHERE { ex:clib ?p ?o }"
    # The same question, but a FILTER makes it an ordinary query for a worker.
    ordinary = EX + "SELECT ?p ?o WHERE { ex:clib ?p ?o FILTER(true) }"
    before = _health(example_server)["lookups_in_thread"]
    answers = []
    for query in (lookup, ordinary):
        response = httpx.get(
            example_server.sparql, params={"query": query, "format": "json"}, timeout=30
        )
        assert response.status_code == 200
        rows = response.json()["results"]["bindings"]
        answers.append(sorted((row["p"]["value"], row["o"]["value"]) for row in rows))
    assert answers[0] == answers[1]
    assert len(answers[0]) == 4
    # On an engine, the engine answers every query: nothing is answered in the server.
    in_thread = 1 if backend.embedded else 0
    assert _health(example_server)["lookups_in_thread"] == before + in_thread


@pytest.mark.embedded_only("on an engine a lookup is a request to it, cached as any other")
def test_a_lookup_by_get_is_computed_each_time_and_sees_every_write(
    make_server, tmp_path: Path
) -> None:
    # GET lookups are answered in place, past the answer cache: computing one costs the
    # engine about what a cache hit would save. A POST of the same lookup is cached.
    lookup = EX + "SELECT ?o WHERE { ex:clib ex:field ?o }"
    server = make_server(write_bundle(tmp_path / "bundle", {"data/example.ttl": EXAMPLE_TTL}))
    before = _health(server)
    got = [httpx.get(server.sparql, params={"query": lookup}) for _ in range(2)]
    posted = [httpx.post(server.sparql, data={"query": lookup}) for _ in range(2)]
    assert [r.status_code for r in got + posted] == [200] * 4
    assert all("x-cache" not in r.headers for r in [*got, posted[0]])
    assert posted[1].headers["x-cache"] == "hit"
    assert got[0].content == got[1].content == posted[0].content
    after = _health(server)
    assert after["queries"] == before["queries"] + 3
    assert after["lookups_in_thread"] == before["lookups_in_thread"] + 3
    assert len(got[0].json()["results"]["bindings"]) == 2
    store = server.app.state.store
    extra = "<https://example.org/clib> <https://example.org/field> <https://example.org/x> ."
    store.replace_graph(f"{GRAPH}data/new", extra.encode(), "ttl")
    again = httpx.get(server.sparql, params={"query": lookup})
    assert len(again.json()["results"]["bindings"]) == 3


def test_a_lookup_error_is_the_same_clear_error(example_server) -> None:
    response = httpx.get(
        example_server.sparql,
        params={"query": "SELECT ?o WHERE { nope:clib ?p ?o }"},
    )
    assert response.status_code == 400
    assert "line 1, column" in response.text and "PREFIX" in response.text
    response = httpx.get(
        example_server.sparql,
        params={"query": "SELECT ?o WHERE { ?s ?p ?o }", "format": "turtle"},
    )
    assert response.status_code == 406


def test_a_lookup_too_large_to_hold_streams_from_a_worker(make_server, tmp_path: Path) -> None:
    # 3,000 triples, about 200 KB as CSV: more than the one chunk (64 KiB) a lookup may take.
    lines = ["@prefix ex: <https://example.org/> ."]
    lines += [f"ex:s{i} ex:p{i % 7} ex:o{i % 13} ." for i in range(3000)]
    server = make_server(write_bundle(tmp_path / "bundle", {"data/many.ttl": "\n".join(lines)}))
    counted = httpx.get(
        server.sparql, params={"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }", "format": "json"}
    ).json()
    expected = int(counted["results"]["bindings"][0]["n"]["value"])
    before = _health(server)
    with httpx.stream(
        "GET",
        server.sparql,
        params={"query": "SELECT * { ?s ?p ?o }"},
        headers={"Accept": "text/csv"},
        timeout=60,
    ) as response:
        assert response.status_code == 200
        assert "content-length" not in response.headers  # streamed, not held
        body = response.read()
    after = _health(server)
    assert body.count(b"\r\n") == expected + 1 > 1000
    assert after["lookups_in_thread"] == before["lookups_in_thread"]
    assert after["queries"] == before["queries"] + 1


# Binding parameters (query_text.bind_values) --------------------------------------------------

IRI = "https://example.org/clib"
BOUND = f" VALUES (?c) {{ (<{IRI}>) }} "


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("SELECT * WHERE { ?c ?p ?o }", f"SELECT * WHERE {{{BOUND} ?c ?p ?o }}"),
        ("select * { ?c ?p ?o }", f"select * {{{BOUND} ?c ?p ?o }}"),
        (
            "# a { brace in a comment\nPREFIX ex: <https://example.org/{x}>\n"
            'SELECT ("{" AS ?b) WHERE { ?c ?p ?o }',
            "# a { brace in a comment\nPREFIX ex: <https://example.org/{x}>\n"
            f'SELECT ("{{" AS ?b) WHERE {{{BOUND} ?c ?p ?o }}',
        ),
        (
            "CONSTRUCT { ?c ?p ?o } WHERE { ?c ?p ?o }",
            f"CONSTRUCT {{ ?c ?p ?o }} WHERE {{{BOUND} ?c ?p ?o }}",
        ),
        (
            "SELECT * WHERE { { SELECT ?c WHERE { ?c ?p ?o } } }",
            f"SELECT * WHERE {{{BOUND} {{ SELECT ?c WHERE {{ ?c ?p ?o }} }} }}",
        ),
    ],
)
def test_parameters_are_bound_first_in_the_where_group(query: str, expected: str) -> None:
    from panorama.query_text import bind_values

    assert bind_values(query, (("c", IRI),)) == expected


def test_a_construct_where_has_no_group_to_bind_in() -> None:
    from panorama.query_text import bind_values

    with pytest.raises(ValueError, match="WHERE group"):
        bind_values("CONSTRUCT WHERE { ?c ?p ?o }", (("c", IRI),))
