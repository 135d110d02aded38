"""RemoteStore against two real, independent engines: native Oxigraph and Virtuoso.

Each engine starts once for this module (``tests/engines.py``); each test gets a store of
its own on it, under its own base IRI, so tests do not see each other's graphs.
"""

from __future__ import annotations

import asyncio
import datetime
import io
import json
import re
import threading
import uuid
import warnings
from collections.abc import Iterator
from contextlib import closing

import pyoxigraph as ox
import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import isomorphic

from engines import Engine, EngineUnavailable, free_port, start_oxigraph, start_virtuoso
from panorama.errors import BadRequest, QuerySyntaxError
from panorama.remote_store import ENV_PASSWORD, ENV_USER, RemoteStore
from panorama.store import QueryRequest, Record, StoreError

from support import engine_environ

EX = "https://example.org/"
DATA_TTL = """\
@prefix ex: <https://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<> ex:title "Cluster-Panorama"@de ;
   ex:count 3 ;
   ex:since "2024-05-01"^^xsd:date ;
   ex:note "Zeile 1\\nZeile 2 \\"zitiert\\" — äöü ✓ 😀" .
ex:its-owl a ex:Cluster ; ex:seat [ ex:city "Paderborn" ; ex:zip "33102" ] .
"""
STARTERS = {"oxigraph": start_oxigraph, "virtuoso": start_virtuoso}


@pytest.fixture(scope="module", params=list(STARTERS))
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """One running engine for the module; pytest runs all tests on one before the other."""
    try:
        running = STARTERS[request.param](tmp_path_factory.mktemp(request.param))
    except EngineUnavailable as error:
        missing = str(error)
    else:
        missing = ""
    if missing:  # a failure, not a skip: CI installs both engines
        pytest.fail(missing, pytrace=False)
    with running:
        yield running


def connect(engine: Engine, base_iri: str | None = None, **options: object) -> RemoteStore:
    return RemoteStore.connect(
        engine.query_url,
        update_url=engine.update_url,
        store_url=engine.store_url,
        base_iri=base_iri or f"{EX}{uuid.uuid4().hex[:12]}/",
        environ=engine_environ(engine),
        **options,
    )


@pytest.fixture
def store(engine: Engine) -> Iterator[RemoteStore]:
    remote = connect(engine)
    yield remote
    remote.close()


def graph_of(store: RemoteStore, name: str) -> str:
    return f"{store.base_iri}graph/{name}"


def graph_content(store: RemoteStore, graph: str) -> Graph:
    return store.construct(
        QueryRequest(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    )


def canonical(data: bytes, format_hint: str, base_iri: str | None = None) -> set[str]:
    """Triples with canonical blank node labels (rdflib's isomorphism is slow on many)."""
    rdf_format = ox.RdfFormat.from_extension(format_hint)
    dataset = ox.Dataset(
        ox.Quad(t.subject, t.predicate, t.object)
        for t in ox.parse(data, rdf_format, base_iri=base_iri)
    )
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return {str(quad) for quad in dataset}


def expected_graph(text: str, graph: str) -> Graph:
    return Graph().parse(data=text, format="turtle", publicID=graph)


# Connecting ------------------------------------------------------------------------------


def test_connect_checks_the_engine_and_learns_its_dialect(engine: Engine) -> None:
    with closing(connect(engine)) as remote:
        assert remote.dialect == engine.name
        assert remote.revision() == ""


def test_unreachable_engine_error_names_the_url_and_what_to_do() -> None:
    url = f"http://127.0.0.1:{free_port()}/sparql"
    with pytest.raises(StoreError) as raised:
        RemoteStore.connect(url, base_iri=EX, environ={})
    message = raised.value.message
    assert message.startswith(f"Cannot reach the SPARQL engine at {url} for an ASK query")
    assert "Check that the engine is running" in message

    async def stream(remote: RemoteStore) -> None:
        async with remote.query_stream("ASK {}", "application/sparql-results+json"):
            pass

    unreachable = f"^Cannot reach the SPARQL engine at {re.escape(url)} for a query"
    with (
        closing(RemoteStore(url, base_iri=EX)) as remote,
        pytest.raises(StoreError, match=unreachable),
    ):
        asyncio.run(stream(remote))


def test_an_answer_the_engine_cut_at_its_own_time_limit_is_its_failure_not_ours() -> None:
    """The Oxigraph server with ``--timeout-s`` answers 200, sends the triples it has, and
    ends a query it stopped with these words (as it did for a 443 MB CONSTRUCT): a 503
    that says so, where a parse error used to give a 500."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    cut = f'<{EX}s> <{EX}p> "1" .\n<{EX}s> <{EX}p> "2The SPARQL operation has been cancelled'

    class CancellingEngine(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            body = cut.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/n-triples")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    engine = ThreadingHTTPServer(("127.0.0.1", 0), CancellingEngine)
    threading.Thread(target=engine.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{engine.server_address[1]}/query"
    construct = QueryRequest("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", union_default_graph=False)
    try:
        with closing(RemoteStore(url, base_iri=EX)) as remote:
            for read in (remote.term_triples, remote.construct):
                with pytest.raises(StoreError) as raised:
                    read(construct)
                assert raised.value.status == 503
                assert raised.value.message.startswith(
                    f"The SPARQL engine at {url} sent an answer to a CONSTRUCT query that does "
                    "not parse"
                )
                assert "its own time limit" in raised.value.message
    finally:
        engine.shutdown()
        engine.server_close()


def test_wrong_credentials_are_refused_with_advice(engine: Engine) -> None:
    wrong = {ENV_USER: "panorama", ENV_PASSWORD: "not-the-password"}
    urls = {"update_url": engine.update_url, "store_url": engine.store_url}
    if engine.user is None:  # Oxigraph asks for no credentials: there is nothing to refuse
        with closing(RemoteStore.connect(engine.query_url, base_iri=EX, environ=wrong, **urls)):
            return
    with pytest.raises(StoreError) as raised:
        RemoteStore.connect(engine.query_url, base_iri=EX, environ=wrong, **urls)
    assert raised.value.message == (
        f"The SPARQL engine at {engine.update_url} refused a SPARQL update (401 Unauthorized): "
        f"it did not accept the credentials of {ENV_USER} and {ENV_PASSWORD}; check them, and "
        "that the account may write (on Virtuoso: the SPARQL_UPDATE role and write "
        "permission on the graphs)."
    )
    with pytest.raises(
        StoreError, match=f"it wants credentials: set {ENV_USER} and {ENV_PASSWORD}"
    ):
        RemoteStore.connect(engine.query_url, base_iri=EX, environ={}, **urls)


def test_engine_refusing_an_update_gives_its_status_and_words(engine: Engine) -> None:
    # The query endpoint does not take updates: the engine's own refusal is passed on.
    remote = RemoteStore(engine.query_url, base_iri=f"{EX}refused/")
    with pytest.raises(
        StoreError, match=r"^The SPARQL engine at \S+ failed a SPARQL update \(\d{3}"
    ):
        remote.drop_graph(f"{EX}refused/graph/x")


# Reading -----------------------------------------------------------------------------------


def test_replace_graph_then_construct_gives_the_same_graph(store: RemoteStore) -> None:
    graph = graph_of(store, "data/example")
    assert store.replace_graph(graph, DATA_TTL.encode(), "ttl") == 8
    assert isomorphic(graph_content(store, graph), expected_graph(DATA_TTL, graph))


def test_select_returns_rdflib_terms(store: RemoteStore) -> None:
    graph = graph_of(store, "data/example")
    store.replace_graph(graph, DATA_TTL.encode(), "ttl")
    rows = store.select(
        QueryRequest(
            f"""PREFIX ex: <{EX}>
            SELECT ?title ?count ?note ?seat ?none WHERE {{
              <{graph}> ex:title ?title ; ex:count ?count ; ex:note ?note .
              ex:its-owl ex:seat ?seat OPTIONAL {{ ?seat ex:nothing ?none }} }}"""
        )
    )
    assert len(rows) == 1
    row = rows[0]
    assert row["title"] == Literal("Cluster-Panorama", lang="de")
    assert row["count"].toPython() == 3
    assert row["note"] == Literal('Zeile 1\nZeile 2 "zitiert" — äöü ✓ 😀')
    assert isinstance(row["seat"], BNode)
    assert "none" not in row


def test_term_tuples_read_as_the_embedded_stores(store: RemoteStore) -> None:
    """Rows in the order of the selected variables, None where one is unbound: what the
    embedded store gives for the same data (pages read their neighbours' names so)."""
    from panorama.store import Store

    graph = graph_of(store, "data/example")
    store.replace_graph(graph, DATA_TTL.encode(), "ttl")
    embedded = Store.in_memory(base_iri=store.base_iri)
    embedded.replace_graph(graph, DATA_TTL.encode(), "ttl")
    query = QueryRequest(
        f"""PREFIX ex: <{EX}>
        SELECT ?i ?title ?none WHERE {{ VALUES (?i ?g) {{ (7 <{graph}>) }}
          ?g ex:title ?title OPTIONAL {{ ?g ex:nothing ?none }} }}"""
    )
    try:
        rows = store.term_tuples(query)
        assert rows == embedded.term_tuples(query)
    finally:
        embedded.close()
    integer = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
    title = ox.Literal("Cluster-Panorama", language="de")
    assert rows == [(ox.Literal("7", datatype=integer), title, None)]


def test_select_binds_substitutions_as_terms(store: RemoteStore) -> None:
    graph = graph_of(store, "data/example")
    store.replace_graph(graph, DATA_TTL.encode(), "ttl")
    # The variable is used in a FILTER and projected: as the sitemap's query does.
    query = """SELECT DISTINCT ?s ?prefix WHERE {
      ?s ?p ?o FILTER(isIRI(?s) && STRSTARTS(STR(?s), STR(?prefix))) }"""
    rows = store.select(QueryRequest(query, substitutions=(("prefix", f"{EX}its"),)))
    assert rows == [{"s": URIRef(f"{EX}its-owl"), "prefix": URIRef(f"{EX}its")}]


@pytest.mark.parametrize(
    "request_options, expected",
    [
        pytest.param({}, {"a", "b"}, id="union-of-the-store-graphs"),
        pytest.param({"default_graphs": ("a",)}, {"a"}, id="default-graphs"),
        pytest.param(
            {"union_default_graph": False, "named_graphs": ("b",)}, set(), id="named-only"
        ),
    ],
)
def test_dataset_of_a_request(
    engine: Engine, store: RemoteStore, request_options: dict[str, object], expected: set[str]
) -> None:
    for name in ("a", "b"):
        store.replace_graph(
            graph_of(store, name), f"<{EX}{name}> <{EX}in> <{EX}x> .".encode(), "nt"
        )
    # Another store on the same engine, under another base IRI: never part of this one.
    with closing(connect(engine)) as other:
        other.replace_graph(graph_of(other, "c"), f"<{EX}c> <{EX}in> <{EX}x> .".encode(), "nt")
        options = {
            key: tuple(graph_of(store, g) for g in value) if key.endswith("graphs") else value
            for key, value in request_options.items()
        }
        rows = store.select(QueryRequest(f"SELECT ?s WHERE {{ ?s <{EX}in> ?o }}", **options))
    assert {str(row["s"]).removeprefix(EX) for row in rows} == expected
    # Named graphs stay visible whatever the default graph is, as in the embedded store.
    named = store.select(
        QueryRequest("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", **options)
    )
    assert {str(row["g"]) for row in named} >= {graph_of(store, "b")}


def test_select_reports_a_syntax_error_with_line_and_column(store: RemoteStore) -> None:
    with pytest.raises(QuerySyntaxError, match=r"^SPARQL syntax error at line 3, column 2"):
        store.select(QueryRequest("SELECT ?s WHERE {\n  ?s ?p \n}"))


@pytest.mark.parametrize(
    "method, query, message",
    [
        pytest.param("select", "ASK {}", "select() runs SELECT queries only.", id="select-ask"),
        pytest.param(
            "construct",
            "SELECT * WHERE {}",
            "construct() runs CONSTRUCT and DESCRIBE queries only.",
            id="construct-select",
        ),
    ],
)
def test_query_of_the_wrong_form_is_refused(
    store: RemoteStore, method: str, query: str, message: str
) -> None:
    with pytest.raises(BadRequest) as raised:
        getattr(store, method)(QueryRequest(query))
    assert raised.value.message == message


def test_contains_tells_whether_a_graph_speaks_of_a_subject(store: RemoteStore) -> None:
    graph = graph_of(store, "data/example")
    store.replace_graph(graph, DATA_TTL.encode(), "ttl")
    assert store.contains(f"{EX}its-owl", graph)
    assert not store.contains(f"{EX}clib", graph)
    assert not store.contains(f"{EX}its-owl", graph_of(store, "other"))


# Writing and the catalog -------------------------------------------------------------------


def test_catalog_records_are_written_with_the_graph_and_replaced(store: RemoteStore) -> None:
    graph = graph_of(store, "data/example")
    for sha in ("1" * 64, "2" * 64):
        record = store.catalog_record(graph, source="data/example.ttl", sha256=sha)
        store.replace_graph(graph, DATA_TTL.encode(), "ttl", records=[record])
    entries = store.catalog()
    assert list(entries) == [graph]
    assert (entries[graph].source, entries[graph].sha256) == ("data/example.ttl", "2" * 64)
    assert store.named_graphs() == sorted([graph, store.catalog_graph])
    sizes = store.graph_sizes()
    assert sizes[graph] == 8
    assert len(store) == sum(sizes.values())
    assert abs((store.last_modified() - datetime.datetime.now(datetime.UTC)).total_seconds()) < 120


def test_drop_graph_removes_the_graph_and_its_catalog_entry(store: RemoteStore) -> None:
    graph = graph_of(store, "data/example")
    record = store.catalog_record(graph, source="data/example.ttl", sha256="0" * 64)
    store.replace_graph(graph, DATA_TTL.encode(), "ttl", records=[record])
    store.drop_graph(graph)
    assert store.catalog() == {}
    assert graph not in store.named_graphs()
    assert len(graph_content(store, graph)) == 0


def test_replace_graph_refuses_data_that_does_not_parse(store: RemoteStore) -> None:
    with pytest.raises(QuerySyntaxError, match="line 2"):
        store.replace_graph(graph_of(store, "bad"), b"<a> <b> <c> .\n<a> <b> .", "ttl")
    with pytest.raises(StoreError, match="holds named graphs"):
        store.replace_graph(
            graph_of(store, "bad"), f"<{EX}a> <{EX}b> <{EX}c> <{EX}g> .".encode(), "nq"
        )


def list_of(items: int) -> str:
    return f"<{EX}list> <{EX}items> ({' '.join(f'<{EX}i{i}>' for i in range(items))}) ."


@pytest.mark.parametrize(
    "data, triples",
    [
        # 1,500 small blank-node structures: Virtuoso takes them in several templates.
        pytest.param(
            "\n".join(f"<{EX}s{i}> <{EX}seat> [ <{EX}zip> {i} ] ." for i in range(1500)),
            3000,
            id="many-small-structures",
        ),
        # One list of 600 items: 1,201 triples joined by blank nodes, more than one
        # Virtuoso template takes.
        pytest.param(list_of(600), 1201, id="one-long-list"),
    ],
)
def test_replace_graph_with_blank_nodes(
    engine: Engine, store: RemoteStore, data: str, triples: int
) -> None:
    graph = graph_of(store, "blank-nodes")
    if engine.name == "virtuoso" and triples == 1201:
        with pytest.raises(StoreError, match=r"^1,201 triples hang together through blank nodes"):
            store.replace_graph(graph, data.encode(), "ttl")
        return
    assert store.replace_graph(graph, data.encode(), "ttl") == triples
    dumped = io.BytesIO()
    store.dump(dumped, "nt", graph=graph)
    assert canonical(dumped.getvalue(), "nt") == canonical(data.encode(), "ttl", graph)


def test_failed_replacement_leaves_the_old_graph(store: RemoteStore) -> None:
    graph = graph_of(store, "data/example")
    store.replace_graph(graph, DATA_TTL.encode(), "ttl")
    broken = Record(store.catalog_graph, add="", remove="this is not SPARQL")
    with pytest.raises(StoreError, match=r"failed a SPARQL update \(400 "):
        store.replace_graph(graph, f"<{EX}a> <{EX}b> <{EX}c> .".encode(), "nt", records=[broken])
    assert isomorphic(graph_content(store, graph), expected_graph(DATA_TTL, graph))


# Dumps and loads --------------------------------------------------------------------------------


def test_dump_writes_one_graph_or_all_graphs(store: RemoteStore) -> None:
    first, second = graph_of(store, "data/example"), graph_of(store, "data/extra")
    store.replace_graph(first, DATA_TTL.encode(), "ttl")
    store.replace_graph(second, f"<{EX}ki-nrw> a <{EX}Cluster> .".encode(), "ttl")
    one = io.BytesIO()
    store.dump(one, "nt", graph=first)
    assert isomorphic(
        Graph().parse(data=one.getvalue(), format="nt"), expected_graph(DATA_TTL, first)
    )
    everything = io.BytesIO()
    store.dump(everything, "nq")
    graphs = {q.graph_name.value for q in ox.parse(everything.getvalue(), ox.RdfFormat.N_QUADS)}
    assert graphs == {first, second, store.catalog_graph}
    with pytest.raises(StoreError, match=r"^Turtle holds a single graph"):
        store.dump(io.BytesIO(), "ttl")


def test_dump_of_a_missing_graph_is_empty(store: RemoteStore) -> None:
    output = io.BytesIO()
    store.dump(output, "nt", graph=graph_of(store, "missing"))
    assert output.getvalue() == b""


def test_answers_longer_than_the_engine_gives_fail_loudly(
    engine: Engine, store: RemoteStore
) -> None:
    # The test Virtuoso cuts answers at 30,000 rows (ResultSetMaxRows), without an error.
    graph, size = graph_of(store, "large"), 30_500
    store.replace_graph(
        graph, "".join(f'<{EX}s{i}> <{EX}p> "{i}" .\n' for i in range(size)).encode(), "nt"
    )
    everything = QueryRequest(f"SELECT * WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    output = io.BytesIO()
    if engine.name == "virtuoso":
        with pytest.raises(StoreError, match=rf"sent [\d,]+ of the 30,500 triples of <{graph}>"):
            store.dump(output, "nt", graph=graph)
        with pytest.raises(StoreError, match="cut the answer to a SELECT query at 30000 rows"):
            store.select(everything)
        return
    store.dump(output, "nt", graph=graph)
    assert output.getvalue().count(b"\n") == size
    assert len(store.select(everything)) == size


def test_load_streams_batches_into_their_graphs(engine: Engine) -> None:
    with closing(connect(engine, load_batch=100)) as remote:
        before = remote.revision()
        own, named = graph_of(remote, "loaded"), graph_of(remote, "quads")
        lines = [f'<{EX}s{i}> <{EX}p> "{i}" .' for i in range(250)]
        lines += [f'<{EX}q{i}> <{EX}p> "{i}" <{named}> .' for i in range(120)]
        remote.load(io.BytesIO("\n".join(lines).encode()), "nq", graph=own)
        assert remote.graph_sizes() == {own: 250, named: 120, remote.catalog_graph: 1}
        assert remote.revision() != before


def test_load_reports_a_syntax_error(store: RemoteStore) -> None:
    with pytest.raises(QuerySyntaxError, match=r"^N-Triples syntax error"):
        store.load(io.BytesIO(b"<a> <b> ."), "nt", graph=graph_of(store, "bad"))


# Several servers on one engine ---------------------------------------------------------------


def test_revision_tells_another_instance_that_the_store_changed(engine: Engine) -> None:
    writer = connect(engine)
    reader = connect(engine, base_iri=writer.base_iri)
    with closing(writer), closing(reader):
        seen: list[int] = []
        reader.on_change.append(lambda: seen.append(reader.version))
        assert reader.named_graphs() == []
        assert not reader.refresh()
        graph = graph_of(writer, "data/example")
        writer.replace_graph(graph, DATA_TTL.encode(), "ttl")
        assert reader.refresh()
        assert (seen, reader.version) == ([0], 1)
        assert not reader.refresh()
        assert graph in reader.named_graphs()
        writer.drop_graph(graph)
        assert reader.refresh()
        assert graph not in reader.named_graphs()


# Atomic replacement --------------------------------------------------------------------------

ATOMIC_SIZES = (10_000, 12_500)


def test_replace_graph_is_atomic_for_concurrent_readers(engine: Engine, store: RemoteStore) -> None:
    """A reader counting the graph while it is replaced sees the old or the new count.

    Oxigraph reads a snapshot: nothing else may be seen. Virtuoso 7.2 reads at READ
    COMMITTED without a snapshot, so a count that runs while a replacement commits can see
    part of it (seen while writing this test: 20,001, 25,001 and 30,000 between 20,000 and
    25,000, about once in a thousand reads; repeatable read instead deadlocks every large
    write against the readers). There the test asserts what holds: the graph never
    disappears, in-between counts stay rare, and each one is reported as a warning.
    """
    graph = graph_of(store, "atomic")

    def version(number: int) -> bytes:
        size = ATOMIC_SIZES[number % 2]
        return "".join(f'<{EX}s{i}> <{EX}p> "v{number} {i}" .\n' for i in range(size)).encode()

    store.replace_graph(graph, version(0), "nt")
    counts: dict[int, int] = {}
    failures: list[BaseException] = []
    stop = threading.Event()
    count = QueryRequest(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")

    def poll() -> None:
        with closing(connect(engine, base_iri=store.base_iri)) as reader:
            try:
                while not stop.is_set():
                    seen = int(reader.select(count)[0]["n"])
                    counts[seen] = counts.get(seen, 0) + 1
            except BaseException as error:  # reported by the test, not lost in a thread
                failures.append(error)

    reader = threading.Thread(target=poll)
    reader.start()
    try:
        for number in range(1, 5):
            store.replace_graph(graph, version(number), "nt")
    finally:
        stop.set()
        reader.join()
    assert not failures, failures
    reads = sum(counts.values())
    assert reads > 10, f"the reader hardly ran: {counts}"
    in_between = {n: times for n, times in counts.items() if n not in ATOMIC_SIZES}
    if engine.name != "virtuoso":
        assert not in_between, f"readers saw in-between counts {in_between} in {counts}"
        return
    assert 0 not in counts, f"a reader found the graph empty: {counts}"
    assert sum(in_between.values()) <= max(2, reads // 100), counts
    if in_between:
        warnings.warn(
            f"Virtuoso: readers saw in-between counts {in_between} in {reads} reads",
            stacklevel=1,
        )


# Streaming for the proxy -----------------------------------------------------------------------


def test_query_stream_yields_the_engines_answer(store: RemoteStore) -> None:
    store.replace_graph(graph_of(store, "data/example"), DATA_TTL.encode(), "ttl")

    async def fetch(query: str) -> tuple[int, str | None, bytes]:
        async with store.query_stream(
            query,
            "application/sparql-results+json",
            [("default-graph-uri", graph_of(store, "data/example"))],
        ) as answer:
            body = b"".join([chunk async for chunk in answer.body])
        return answer.status, answer.media_type, body

    async def both() -> list[tuple[int, str | None, bytes]]:
        try:
            return [
                await fetch(f"SELECT ?c WHERE {{ ?c a <{EX}Cluster> }}"),
                await fetch("SELECT ?c WHERE { ?c a"),
            ]
        finally:
            await store.aclose()

    (status, media_type, body), (bad_status, _, bad_body) = asyncio.run(both())
    assert status == 200
    assert media_type is not None and media_type.startswith("application/sparql-results+json")
    bindings = json.loads(body)["results"]["bindings"]
    assert [b["c"]["value"] for b in bindings] == [f"{EX}its-owl"]
    assert bad_status == 400 and bad_body


def test_a_hub_is_described_with_every_neighbours_name(store: RemoteStore) -> None:
    """The neighbours' names are asked in parts: Virtuoso refuses a VALUES of 5,000 terms."""
    from panorama.linked_data import describe

    hub, members = f"{store.base_iri}id/hub", 6_000
    data = "".join(
        f"<{store.base_iri}id/o{i}> <http://www.w3.org/ns/org#memberOf> <{hub}> ; "
        f'<http://www.w3.org/2000/01/rdf-schema#label> "Member {i}" .\n'
        for i in range(members)
    )
    store.replace_graph(graph_of(store, "hub"), data.encode(), "ttl")
    description = describe(store, hub, with_fragments=False)
    names = {
        o.value
        for s, p, o in description.triples
        if p.value == "http://www.w3.org/2000/01/rdf-schema#label"
    }
    assert len(names) == members
    assert "Member 5999" in names
