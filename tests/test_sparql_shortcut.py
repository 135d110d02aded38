"""``SparqlShortcut`` answers /sparql ahead of the middleware stack: the answers must be the
same as the framework's, byte for byte, header for header."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

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

REQUESTS = {
    "select json": ("GET", {"query": EX + "SELECT ?o { ex:clib ex:field ?o } ORDER BY ?o"}, {}),
    "lookup csv": (
        "GET",
        {"query": EX + "SELECT ?o { ex:clib ex:field ?o }"},
        {"Accept": "text/csv"},
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
}


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory):
    from panorama.config import Settings

    from support import EXAMPLE_TTL, EXTRA_TTL, LiveServer, write_bundle

    root = tmp_path_factory.mktemp("shortcut")
    bundle = write_bundle(
        root / "bundle", {"data/example.ttl": EXAMPLE_TTL, "data/extra.ttl": EXTRA_TTL}
    )
    started = []
    for shortcut in (True, False):
        settings = Settings(
            bundle=bundle,
            store=root / f"store-{shortcut}",
            query_workers=1,
            sparql_shortcut=shortcut,
            max_query_bytes=100_000,
        )
        started.append(LiveServer(settings).__enter__())
    yield started
    for live in started:
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


@pytest.mark.parametrize("name", REQUESTS)
def test_the_shortcut_answers_as_the_framework_does(servers, name: str) -> None:
    method, params, headers = REQUESTS[name]
    fast, framework = (_send(live.url, method, params, headers) for live in servers)
    assert fast.status_code == framework.status_code
    for header in COMPARED:
        assert fast.headers.get(header) == framework.headers.get(header), header
    bodies = [_comparable(fast, servers[0].url), _comparable(framework, servers[1].url)]
    if name == "service description":  # the serializer orders blank nodes as it likes
        graphs = [Graph().parse(data=body, format="turtle") for body in bodies]
        assert isomorphic(*graphs)
    else:
        assert bodies[0] == bodies[1]
    if name == "gzip":
        assert fast.headers["content-encoding"] == "gzip"
    if name == "cors":
        assert fast.headers["access-control-allow-origin"] == "*"


def test_the_shortcut_is_on_by_default_and_off_on_request(servers) -> None:
    from panorama.config import Settings
    from panorama.endpoint import SparqlShortcut

    assert Settings(store=Path("unused")).sparql_shortcut
    in_stack = [any(m.cls is SparqlShortcut for m in live.app.user_middleware) for live in servers]
    assert in_stack == [True, False]
