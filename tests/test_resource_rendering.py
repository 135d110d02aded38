"""Where resource pages are rendered: in the query workers, with their time limit.

Pages are rendered in the query worker processes (``PageJob``), so that they use every
core and a page that would take too long is stopped like a query. The answers must be the
same, byte for byte, as when the server renders them in its own threads
(``--query-workers 0``), and the provenance a page shows must be the graphs' own.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

from panorama.config import Settings
from panorama.store import QueryRequest, Store

from support import ENGINE_CHANGES, REPO, Backend, LiveServer, write_bundle

BASE = "https://w3id.org/cluster-panorama/"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
LOADED = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)")
UNORDERED = {"application/ld+json": "json-ld", "application/rdf+xml": "xml"}
REQUESTS = [
    ("/id/cluster/its-owl", {"Accept": "text/html"}, {"lang": "de"}),
    ("/id/cluster/its-owl", {"Accept": "text/html"}, {"lang": "en"}),
    ("/id/cluster/its-owl", {"Accept": "text/turtle"}, {}),
    ("/id/cluster/its-owl.jsonld", {}, {}),
    ("/id/innovation-field/materials-production", {"Accept": "text/html"}, {}),
    ("/id/programme/innosup-1.rdf", {}, {}),
    ("/graph/data/brief/section-2", {"Accept": "text/html"}, {}),
    ("/def.ttl", {}, {}),
    ("/def", {"Accept": "text/html"}, {}),  # pyLODE, in the server
    ("/id/catalog", {"Accept": "text/html"}, {}),  # names this server's URLs, in the server
    ("/id/cluster/nobody", {"Accept": "text/html"}, {}),
    ("/id/cluster/nobody", {"Accept": "text/turtle"}, {}),
]


@pytest.fixture(scope="module")
def in_threads(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    store = tmp_path_factory.mktemp("threads") / "store"
    with LiveServer(Settings(bundle=REPO, store=store, query_workers=0)) as live:
        yield live


def _answer(server: LiveServer, path: str, headers: dict, params: dict) -> httpx.Response:
    response = httpx.get(server.url + path, headers=headers, params=params, timeout=60)
    assert response.status_code in (200, 404), (path, response.text[:300])
    return response


@pytest.mark.parametrize(("path", "headers", "params"), REQUESTS)
def test_pages_from_workers_are_the_pages_of_the_server_threads(
    server: LiveServer,
    in_threads: LiveServer,
    backend: Backend,
    path: str,
    headers: dict,
    params: dict,
) -> None:
    """On an engine, the pages it renders are compared with the embedded store's."""
    from_workers = _answer(server, path, headers, params)
    from_threads = _answer(in_threads, path, headers, params)
    assert from_workers.status_code == from_threads.status_code
    assert from_workers.headers["content-type"] == from_threads.headers["content-type"]
    # The catalog names the server's own URLs, which differ by port between the two, and
    # a graph's record says when it was loaded into each store.
    body = from_threads.content.replace(in_threads.url.encode(), server.url.encode())
    body = LOADED.sub(b"LOADED", body)
    ours = LOADED.sub(b"LOADED", from_workers.content)
    media_type = from_workers.headers["content-type"].split(";")[0]
    if media_type in UNORDERED:
        # rdflib writes these in an order that depends on the process's string hashes.
        assert isomorphic(
            Graph().parse(data=ours, format=UNORDERED[media_type]),
            Graph().parse(data=body, format=UNORDERED[media_type]),
        )
    elif media_type == "text/html":
        # Pages list everything in an order of their own, never the engine's row order;
        # what an engine changes in the data itself is applied to the embedded page.
        for stored, read_back in ENGINE_CHANGES.get(backend.name, ()):
            body = body.replace(stored, read_back)
        assert ours == body
    else:
        assert ours == body


def test_pages_are_rendered_by_the_workers(server: LiveServer) -> None:
    health = httpx.get(server.url + "/health").json()
    response = httpx.get(
        server.url + "/id/programme/go-cluster", headers={"Accept": "application/n-triples"}
    )
    assert response.status_code == 200
    after = httpx.get(server.url + "/health").json()
    assert after["pages_rendered"] == health["pages_rendered"] + 1
    assert after["queries"] == health["queries"]  # a page is not counted as a query
    again = httpx.get(
        server.url + "/id/programme/go-cluster", headers={"Accept": "application/n-triples"}
    )
    assert again.content == response.content
    assert httpx.get(server.url + "/health").json()["pages_rendered"] == after["pages_rendered"]


def _store_with_hub(path: Path, links: int) -> None:
    """A store where one resource is pointed at by ``links`` others, each with a label.

    Bulk-loaded beside the bundle: as a bundle file, its 120,000 triples would take the
    server 9 s to sync at start-up (one SPARQL INSERT DATA, parsed at ~50 µs a triple).
    """
    hub, member = f"{BASE}id/cluster/hub", "http://www.w3.org/ns/org#memberOf"
    lines = [
        f"<{BASE}id/organisation/o{i}> <{member}> <{hub}> .\n"
        f'<{BASE}id/organisation/o{i}> <{LABEL}> "Organisation {i}"@de .\n'
        for i in range(links)
    ]
    store = Store.open(path, base_iri=BASE)
    try:
        store.load(io.BytesIO("".join(lines).encode()), "nt", graph=f"{BASE}graph/test/hub")
    finally:
        store.close()


@pytest.mark.embedded_only("a page past its time is stopped by killing its worker process")
def test_a_page_past_the_time_limit_is_stopped_and_the_server_goes_on(tmp_path: Path) -> None:
    _store_with_hub(tmp_path / "store", 60_000)
    bundle = write_bundle(
        tmp_path / "bundle",
        {"data/small.ttl": f'<{BASE}id/cluster/small> <{LABEL}> "Klein"@de .\n'},
    )
    settings = Settings(bundle=bundle, store=tmp_path / "store", query_workers=2, query_timeout=1.5)
    with LiveServer(settings) as live:
        # In Turtle, every link: the HTML page lists the first 1,000 (PAGE_LINKS_IN).
        hub = live.url + "/id/cluster/hub"
        slow = httpx.get(hub, headers={"Accept": "text/turtle"}, timeout=60)
        assert slow.status_code == 503
        assert "took longer than 1.5 s to build" in slow.text
        assert "/dumps/" in slow.text
        small = httpx.get(live.url + "/id/cluster/small", headers={"Accept": "text/html"})
        assert small.status_code == 200 and "Klein" in small.text
        health = httpx.get(live.url + "/health").json()
        assert health["timeouts"] == 1 and health["workers_replaced"] == 1


def test_a_triple_term_value_is_shown_not_a_failure() -> None:
    """A store loaded with ``panorama load`` may hold RDF 1.2 triple terms as values."""
    from panorama.cache import VersionedCache
    from panorama.resources import PageJob, render_resource

    store = Store.in_memory(base_iri=BASE)
    data = (
        f'<{BASE}id/a> <{BASE}def#says> <<( <{BASE}id/b> <{BASE}def#q> "zitiert" )>> .\n'
        f'<{BASE}id/a> <{LABEL}> "A"@de .\n'
    )
    store.load(io.BytesIO(data.encode()), "nt", graph=f"{BASE}graph/g")
    for fmt in ("html", "turtle"):
        answer = render_resource(store, VersionedCache(store), PageJob("id/a", fmt, "de"))
        assert answer.status == 200
        assert b"zitiert" in answer.body


def test_what_rdf_xml_cannot_write_is_a_406_naming_the_formats_that_can(tmp_path: Path) -> None:
    """RDF/XML writes a property as an element name, and ``urn:isbn:123`` ends in none."""
    data = f'<{BASE}id/a> <urn:isbn:123> "odd" .\n<{BASE}id/a> <{LABEL}> "A"@de .\n'
    bundle = write_bundle(tmp_path / "bundle", {"data/odd.ttl": data})
    with LiveServer(Settings(bundle=bundle, store=tmp_path / "store", query_workers=1)) as live:
        refused = httpx.get(live.url + "/id/a.rdf", timeout=30)
        assert refused.status_code == 406
        assert "cannot be written in RDF/XML" in refused.text and "text/turtle" in refused.text
        for suffix in ("", ".ttl", ".jsonld", ".nt"):
            response = httpx.get(live.url + "/id/a" + suffix, timeout=30)
            assert response.status_code == 200 and "odd" in response.text


def _two_clusters_and_their_field(field_label: str) -> bytes:
    return (
        "".join(
            f"<{BASE}id/{cluster}> <http://www.w3.org/2004/02/skos/core#related> <{BASE}id/f> .\n"
            f'<{BASE}id/{cluster}> <{LABEL}> "Cluster {cluster}"@de .\n'
            for cluster in ("a", "b")
        ).encode()
        + f'<{BASE}id/f> <{LABEL}> "{field_label}"@de .\n'.encode()
    )


def test_a_name_stated_in_two_graphs_is_one_triple_of_the_description() -> None:
    """Neighbours' names are read as rows, which the union of graphs gives once for each
    graph that states them; a description holds each triple once, as a CONSTRUCT would."""
    from panorama.linked_data import describe

    store = Store.in_memory(base_iri=BASE)
    store.replace_graph(f"{BASE}graph/g", _two_clusters_and_their_field("Feld"), "nt")
    store.replace_graph(f"{BASE}graph/h", f'<{BASE}id/f> <{LABEL}> "Feld"@de .\n'.encode(), "nt")
    for neighbour_types in (False, True):
        description = describe(
            store, f"{BASE}id/a", with_fragments=False, neighbour_types=neighbour_types
        )
        named = [t for t in description.triples if str(t[0]) == f"<{BASE}id/f>"]
        assert [(str(p), o.value) for _, p, o in named] == [(f"<{LABEL}>", "Feld")]


def test_pages_share_a_neighbours_name_until_the_store_changes() -> None:
    """The second page names the field from what the first read; after a write, anew."""
    from panorama.resources import PageJob, render_resource, shared_by_pages

    store = Store.in_memory(base_iri=BASE)
    graph = f"{BASE}graph/g"
    store.replace_graph(graph, _two_clusters_and_their_field("Feld alt"), "nt")
    asked: list[str] = []

    def recording(read: Callable[[QueryRequest], list]) -> Callable[[QueryRequest], list]:
        def recorded(request: QueryRequest) -> list:
            asked.append(request.query)
            return read(request)

        return recorded

    store.term_triples = recording(store.term_triples)  # type: ignore[method-assign]
    store.term_tuples = recording(store.term_tuples)  # type: ignore[method-assign]
    shared = shared_by_pages(store)
    first = render_resource(store, shared, PageJob("id/a", "html", "de"))
    assert any(f"<{BASE}id/f>" in query for query in asked)
    asked.clear()
    second = render_resource(store, shared, PageJob("id/b", "html", "de"))
    assert b"Feld alt" in first.body and b"Feld alt" in second.body
    assert not any(f"<{BASE}id/f>" in query for query in asked)  # named by the first page

    store.replace_graph(graph, _two_clusters_and_their_field("Feld neu"), "nt")
    again = render_resource(store, shared, PageJob("id/a", "html", "de"))
    assert b"Feld neu" in again.body and b"Feld alt" not in again.body


def test_a_page_leaves_no_reference_cycles_for_the_collector() -> None:
    """Rendering frees what it made as it goes: a page whose template holds its context in
    a cycle (a macro imported ``with context``) left 280 objects a cluster page for the
    garbage collector, which then took 5 % of a worker's time."""
    import gc

    from panorama.resources import PageJob, render_resource, shared_by_pages

    store = Store.in_memory(base_iri=BASE)
    store.replace_graph(f"{BASE}graph/g", _two_clusters_and_their_field("Feld"), "nt")
    shared = shared_by_pages(store)
    pages = [PageJob("id/a", "html", lang) for lang in ("de", "en")] + [
        PageJob("id/f", "html", "de")
    ]
    for job in pages:  # the first page of each also fills caches and compiles templates
        render_resource(store, shared, job)
    gc.collect()
    gc.disable()
    try:
        for job in pages:
            assert b"Feld" in render_resource(store, shared, job).body
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_a_page_does_not_look_at_the_template_files_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The templates ship with the package: once compiled, a page renders without asking
    the file system whether they changed (a stat per template, 1.8 % of a cold page)."""
    import os

    from panorama.resources import PageJob, render_resource, shared_by_pages

    store = Store.in_memory(base_iri=BASE)
    store.replace_graph(f"{BASE}graph/g", _two_clusters_and_their_field("Feld"), "nt")
    shared = shared_by_pages(store)
    job = PageJob("id/a", "html", "de")
    render_resource(store, shared, job)  # compiles the templates
    looked_at: list[str] = []
    getmtime = os.path.getmtime

    def counting(path: str) -> float:
        looked_at.append(str(path))
        return getmtime(path)

    monkeypatch.setattr(os.path, "getmtime", counting)
    assert b"Feld" in render_resource(store, shared, job).body
    assert [path for path in looked_at if path.endswith(".html")] == []
