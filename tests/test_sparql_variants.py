"""However /sparql is served, the answers are the same, byte for byte, header for header.

- ``shortcut``: ``SparqlShortcut`` answers ahead of the middleware stack (the default);
- ``framework``: the route behind the whole stack (``sparql_shortcut=False``);
- ``in-thread``: ``--query-workers 0``, queries in the server's threads, no worker processes.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

pytestmark = pytest.mark.embedded_only(
    "compares the embedded store's ways of running /sparql: worker processes and threads"
)

EX = "PREFIX ex: <https://example.org/>\n"
FORM = "application/x-www-form-urlencoded"
_TIME = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?")
#: Headers whose value is part of the answer (``date`` and ``server`` are not).
COMPARED = (
    "content-type",
    "content-encoding",
    "vary",
    "access-control-allow-origin",
    "access-control-expose-headers",
    "retry-after",
    "allow",
)

TRIPLE_TERMS = (
    EX + "CONSTRUCT { ex:s ex:says ?x } WHERE { VALUES ?n { 1 2 3 } "
    "BIND(IF(?n = 3, <<( ex:a ex:b ex:c )>>, ?n) AS ?x) }"
)

REQUESTS = {
    "select json": ("GET", {"query": EX + "SELECT ?o { ex:clib ex:field ?o } ORDER BY ?o"}, {}),
    "lookup csv": (
        "GET",
        {"query": EX + "SELECT ?o { ex:clib ex:field ?o }"},
        {"Accept": "text/csv"},
    ),
    # Lookups a GET asks for are answered in place (``endpoint._answered_in_place``).
    "lookup json": ("GET", {"query": "SELECT * { <https://example.org/clib> ?p ?o }"}, {}),
    "lookup gzip": (
        "GET",
        {"query": EX + "SELECT ?n { ex:counted ex:n ?n }"},
        {"Accept-Encoding": "gzip", "Accept": "application/sparql-results+xml"},
    ),
    "lookup over the gzip minimum": (
        "GET",
        {"query": EX + "SELECT ?n { ex:counted ex:n ?n }"},
        {"Accept": "application/sparql-results+xml"},
    ),
    "lookup describe turtle": (
        "GET",
        {"query": EX + "DESCRIBE ex:clib ex:its-owl"},
        {"Accept": "text/turtle", "Origin": "https://yasgui.example"},
    ),
    "lookup ask cors": ("GET", {"query": "ASK { ?s ?p 3 }"}, {"Origin": "https://yasgui.example"}),
    "lookup with format": (
        "GET",
        {"query": "SELECT * { ?s ?p ?o } LIMIT 2", "format": "csv"},
        {},
    ),
    "lookup unknown prefix": ("GET", {"query": "SELECT ?o { nope:clib ?p ?o }"}, {}),
    "lookup not acceptable": (
        "GET",
        {"query": "SELECT * { ?s ?p ?o }"},
        {"Accept": "image/png, text/html;q=0.1"},
    ),
    "construct turtle": (
        "GET",
        {"query": EX + "CONSTRUCT WHERE { ?s a ex:Cluster ; ?p ?o }"},
        {"Accept": "text/turtle"},
    ),
    "gzip": (
        "GET",
        {"query": EX + "SELECT * { ?s a ex:Cluster ; ?p ?o } ORDER BY ?s ?p ?o"},
        {"Accept-Encoding": "gzip", "Accept": "application/sparql-results+xml"},
    ),
    "cors": ("GET", {"query": "ASK { ?s ?p ?o }"}, {"Origin": "https://yasgui.example"}),
    "syntax error": ("GET", {"query": "SELECT ?s WHERE { ?s ?p }"}, {}),
    "syntax error html": ("GET", {"query": "SELEKT"}, {"Accept": "text/html"}),
    "update": ("GET", {"update": "CLEAR ALL"}, {}),
    "service": ("GET", {"query": "SELECT * { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"}, {}),
    "not acceptable": ("GET", {"query": "ASK {}"}, {"Accept": "image/png"}),
    # The engine finds that JSON-LD cannot carry the answer only at its third triple.
    "triple terms as json-ld": (
        "GET",
        {"query": TRIPLE_TERMS},
        {"Accept": "application/ld+json"},
    ),
    "form post": ("POST", {"query": "ASK { ?s ?p ?o }"}, {"Content-Type": FORM}),
    "direct post": ("POST", "ASK { ?s ?p ?o }", {"Content-Type": "application/sparql-query"}),
    "wrong media type": ("POST", "ASK {}", {"Content-Type": "text/plain"}),
    "too large": ("POST", "#" * 200_000, {"Content-Type": "application/sparql-query"}),
    "twice": ("GET", [("query", "ASK {}"), ("query", "ASK {}")], {}),
    "put": ("PUT", "ASK {}", {"Content-Type": "application/sparql-query"}),
    "preflight": (
        "OPTIONS",
        None,
        {"Origin": "https://yasgui.example", "Access-Control-Request-Method": "POST"},
    ),
    "service description": ("GET", None, {"Accept": "text/turtle"}),
    "streamed csv": (
        "GET",
        {
            "query": "SELECT ?i { VALUES ?a { "
            + " ".join(map(str, range(200)))
            + " } VALUES ?b { "
            + " ".join(map(str, range(100)))
            + " } BIND(?a * 100 + ?b AS ?i) }"
        },
        {"Accept": "text/csv"},
    ),
}
VARIANTS = {
    "shortcut": {"query_workers": 1},
    "framework": {"query_workers": 1, "sparql_shortcut": False},
    "in-thread": {"query_workers": 0},
}


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory):
    from panorama.config import Settings

    from support import EXAMPLE_TTL, EXTRA_TTL, LiveServer, write_bundle

    root = tmp_path_factory.mktemp("shortcut")
    # Enough numbers to take a lookup's answer over GZIP_MINIMUM, in an order every store keeps.
    counted = "@prefix ex: <https://example.org/> .\nex:counted ex:n " + ", ".join(
        map(str, range(40))
    )
    bundle = write_bundle(
        root / "bundle",
        {
            "data/example.ttl": EXAMPLE_TTL,
            "data/extra.ttl": EXTRA_TTL,
            "data/counted.ttl": counted + " .",
        },
    )
    started = {}
    for name, options in VARIANTS.items():
        settings = Settings(
            bundle=bundle, store=root / f"store-{name}", max_query_bytes=100_000, **options
        )
        started[name] = LiveServer(settings).__enter__()
    yield started
    for live in started.values():
        live.__exit__(None, None, None)


def _send(url: str, method: str, params, headers: dict) -> httpx.Response:
    headers = {"Accept-Encoding": "identity", **headers}
    if method == "GET":
        query = urlencode(params) if params else ""
        return httpx.get(f"{url}/sparql?{query}", headers=headers, timeout=30)
    content = urlencode(params) if isinstance(params, dict) else params
    return httpx.request(method, f"{url}/sparql", content=content, headers=headers, timeout=30)


def _comparable(response: httpx.Response, url: str) -> bytes:
    """The body without what differs between two stores: their address and their times."""
    return _TIME.sub(b"TIME", response.content.replace(url.encode(), b"SERVER"))


@pytest.mark.parametrize("variant", ["shortcut", "in-thread"])
@pytest.mark.parametrize("name", REQUESTS)
def test_every_way_answers_as_the_framework_does(servers, variant: str, name: str) -> None:
    method, params, headers = REQUESTS[name]
    tried, framework = (
        _send(servers[which].url, method, params, headers) for which in (variant, "framework")
    )
    assert tried.status_code == framework.status_code
    for header in COMPARED:
        assert tried.headers.get(header) == framework.headers.get(header), header
    bodies = [
        _comparable(tried, servers[variant].url),
        _comparable(framework, servers["framework"].url),
    ]
    if name == "service description":  # the serializer orders blank nodes as it likes
        graphs = [Graph().parse(data=body, format="turtle") for body in bodies]
        assert isomorphic(*graphs)
    else:
        assert bodies[0] == bodies[1]
    if name in ("gzip", "lookup gzip"):
        assert tried.headers["content-encoding"] == "gzip"
    if name in ("cors", "lookup ask cors", "lookup describe turtle"):
        assert tried.headers["access-control-allow-origin"] == "*"
    if name == "triple terms as json-ld":
        assert tried.status_code == 406
        assert "triple terms" in tried.text and "text/turtle" in tried.text
    if name == "streamed csv":
        assert "content-length" not in tried.headers
        assert tried.content.count(b"\r\n") == 20_001


def test_the_shortcut_is_on_by_default_and_off_on_request(servers) -> None:
    from panorama.config import Settings
    from panorama.endpoint import SparqlShortcut

    assert Settings(store=Path("unused")).sparql_shortcut
    in_stack = {
        name: any(m.cls is SparqlShortcut for m in live.app.user_middleware)
        for name, live in servers.items()
    }
    assert in_stack == {"shortcut": True, "framework": False, "in-thread": True}


def test_in_thread_queries_use_no_worker_processes(servers) -> None:
    health = httpx.get(f"{servers['in-thread'].url}/health").json()
    assert health["status"] == "ok"
    assert health["query_workers"] == {"size": 0, "alive": 0, "threads": 0}
    assert health["queries"] > 0


def test_in_thread_a_client_that_goes_away_stops_the_serializing_thread(servers) -> None:
    values = " ".join(map(str, range(1000)))
    endless = (
        f"SELECT * {{ VALUES ?a {{ {values} }} VALUES ?b {{ {values} }} VALUES ?c {{ {values} }} }}"
    )
    with httpx.stream(
        "GET",
        f"{servers['in-thread'].url}/sparql",
        params={"query": endless},
        headers={"Accept": "text/csv", "Accept-Encoding": "identity"},
        timeout=30,
    ) as response:
        assert response.status_code == 200
        received = 0
        for chunk in response.iter_raw():
            received += len(chunk)
            if received > 300_000:
                break
    # Nobody reads the rest: within a moment the thread has stopped (it is not merely
    # waiting for room, which would hold a thread for ever) and nothing computes any more.
    runner = servers["in-thread"].app.state.pool
    deadline = time.monotonic() + 5
    while runner.running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert runner.running == 0
    busy = time.process_time()
    time.sleep(1.0)
    assert time.process_time() - busy < 0.3
    answer = httpx.get(f"{servers['in-thread'].url}/sparql", params={"query": "ASK {}"}, timeout=10)
    assert answer.json()["boolean"] is True
