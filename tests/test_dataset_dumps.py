"""The dumps under /dumps/: gzip files of the published graphs, made once per store version."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from rdflib import Dataset, Graph, URIRef
from rdflib.compare import isomorphic

from panorama.config import DEFAULT_BASE_IRI, Settings
from panorama.dumps import current_dump

from support import EXAMPLE_GRAPH, EXAMPLE_TTL, EXTRA_TTL, Backend, LiveServer, write_bundle

NQ, TTL = "cluster-panorama.nq.gz", "cluster-panorama.ttl.gz"
CATALOG = f"{DEFAULT_BASE_IRI}graph/catalog"


def download(server: LiveServer, name: str) -> httpx.Response:
    response = httpx.get(f"{server.url}/dumps/{name}", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200, response.text
    return response


@pytest.fixture(scope="module")
def quads(server: LiveServer) -> Dataset:
    dataset = Dataset()
    dataset.parse(data=gzip.decompress(download(server, NQ).content), format="nquads")
    return dataset


@pytest.mark.parametrize("name", [NQ, TTL])
def test_dump_is_served_as_a_gzip_file_not_as_an_encoding(server: LiveServer, name: str) -> None:
    response = download(server, name)
    assert response.headers["content-type"] == "application/gzip"
    # With Content-Encoding a client would unpack the file on the fly and save plain text
    # under a .gz name; and nothing may compress it a second time.
    assert "content-encoding" not in response.headers
    assert response.content[:2] == b"\x1f\x8b"
    assert name in response.headers["content-disposition"]
    assert response.headers["etag"] == f'"{hashlib.sha256(response.content).hexdigest()}"'


def test_nquads_dump_holds_every_published_graph_with_its_name(
    server: LiveServer, quads: Dataset
) -> None:
    sizes = server.app.state.store.graph_sizes()
    dumped = {
        str(graph.identifier): len(graph)
        for graph in quads.graphs()
        if str(graph.identifier).startswith(DEFAULT_BASE_IRI)
    }
    expected = {graph: size for graph, size in sizes.items() if graph != CATALOG}
    assert dumped == expected
    assert CATALOG not in dumped


def test_nquads_graph_equals_the_store_graph(server: LiveServer, quads: Dataset) -> None:
    graph = f"{DEFAULT_BASE_IRI}graph/data/public/its-owl"
    query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    response = httpx.get(server.sparql, params={"query": query}, headers={"Accept": "text/turtle"})
    from_endpoint = Graph().parse(data=response.text, format="turtle")
    assert len(from_endpoint) > 5
    assert isomorphic(quads.graph(URIRef(graph)), from_endpoint)


def test_turtle_dump_is_the_union_of_the_published_graphs(
    server: LiveServer, quads: Dataset
) -> None:
    union = Graph()
    for graph in quads.graphs():
        for triple in graph:
            union.add(triple)
    turtle = Graph().parse(data=gzip.decompress(download(server, TTL).content), format="turtle")
    assert isomorphic(turtle, union)


def test_dump_answers_304_to_its_checksum_and_head_without_body(server: LiveServer) -> None:
    etag = download(server, NQ).headers["etag"]
    url = f"{server.url}/dumps/{NQ}"
    assert httpx.get(url, headers={"If-None-Match": etag}).status_code == 304
    head = httpx.head(url)
    assert head.status_code == 200
    assert head.headers["content-length"] == str(len(download(server, NQ).content))
    assert head.content == b""


def test_unknown_dump_is_404(server: LiveServer) -> None:
    assert httpx.get(f"{server.url}/dumps/cluster-panorama.zip").status_code == 404


def test_dumps_are_remade_when_the_store_changes(
    make_server: Callable[..., LiveServer], tmp_path: Path, backend: Backend
) -> None:
    bundle = write_bundle(tmp_path / "bundle", {"data/example.ttl": EXAMPLE_TTL})
    server = make_server(bundle, query_workers=1)
    before = download(server, NQ).headers["etag"]
    assert download(server, NQ).headers["etag"] == before  # made once
    store = server.app.state.store
    folder = current_dump(store, NQ, in_memory=server.settings.in_memory).path.parent
    if backend.embedded:
        assert folder == tmp_path / "store" / "dumps"  # inside the store directory
    else:  # a server on an engine has no directory of its own
        assert folder.name.startswith("panorama-dumps-")
    assert len(list(folder.iterdir())) == 1

    etags = [before]
    for text in (EXTRA_TTL, EXAMPLE_TTL):
        store.replace_graph(EXAMPLE_GRAPH, text.encode(), "ttl")
        etags.append(download(server, NQ).headers["etag"])
        # The previous file stays for downloads under way; older ones are deleted.
        assert len(list(folder.iterdir())) == 2
    # Other content, another checksum; the same content again, the same checksum.
    assert etags[1] != etags[0] == etags[2]
    dataset = Dataset()
    dataset.parse(data=gzip.decompress(download(server, NQ).content), format="nquads")
    example = dataset.graph(URIRef(EXAMPLE_GRAPH))
    assert (URIRef("https://example.org/clib"), None, None) in example
    assert (URIRef("https://example.org/ki-nrw"), None, None) not in example


@pytest.mark.embedded_only("restarts over one store directory, whose dumps/ files it checks")
def test_dump_checksum_is_stable_across_restarts_of_an_unchanged_store(
    tmp_path: Path,
) -> None:
    bundle = write_bundle(tmp_path / "bundle", {"data/example.ttl": EXAMPLE_TTL})
    settings = Settings(bundle=bundle, store=tmp_path / "store", query_workers=1)
    etags = []
    for _ in range(2):
        with LiveServer(settings) as server:
            etags.append(download(server, NQ).headers["etag"])
            # Files of the earlier process are gone: its version numbers meant other content.
            assert len(list((tmp_path / "store" / "dumps").iterdir())) == 1
    assert etags[0] == etags[1]
