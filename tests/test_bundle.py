"""Loading the bundled files: one graph per file, nothing loaded twice, changes replace."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rdflib import Literal, URIRef

from panorama import bundle
from panorama.config import DEFAULT_BASE_IRI, bundle_root
from panorama.store import QueryRequest, Store, StoreError

from support import EXAMPLE_TTL, EXTRA_TTL, REPO, write_bundle

GRAPH = DEFAULT_BASE_IRI + "graph/"


@pytest.fixture
def store():
    store = Store.in_memory(base_iri=DEFAULT_BASE_IRI)
    yield store
    store.close()


def select(store: Store, query: str) -> list[dict[str, str]]:
    rows = store.select(QueryRequest(query))
    return [{name: str(value) for name, value in row.items()} for row in rows]


def count(store: Store, query: str = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }") -> int:
    return int(select(store, query)[0]["n"])


def test_each_file_becomes_its_own_named_graph(store: Store, example_bundle: Path) -> None:
    report = bundle.sync(store, example_bundle)
    assert report.loaded == ["data/example.ttl", "data/extra.ttl"]
    sizes = store.graph_sizes()
    assert sizes[GRAPH + "data/example"] == 8
    assert sizes[GRAPH + "data/extra"] == 2
    catalog = store.catalog()
    assert catalog[GRAPH + "data/example"].source == "data/example.ttl"
    assert len(catalog[GRAPH + "data/example"].sha256) == 64


def test_syncing_twice_loads_nothing_twice(store: Store, example_bundle: Path) -> None:
    bundle.sync(store, example_bundle)
    before = count(store)
    report = bundle.sync(store, example_bundle)
    assert report.loaded == []
    assert report.unchanged == ["data/example.ttl", "data/extra.ttl"]
    assert count(store) == before


def test_a_changed_file_replaces_its_graph(store: Store, example_bundle: Path) -> None:
    bundle.sync(store, example_bundle)
    (example_bundle / "data/extra.ttl").write_text(
        "@prefix ex: <https://example.org/> .\nex:qt-nrw a ex:Cluster .\n"
    )
    report = bundle.sync(store, example_bundle)
    assert report.loaded == ["data/extra.ttl"]
    assert report.unchanged == ["data/example.ttl"]
    clusters = {
        row["c"] for row in select(store, "SELECT ?c { ?c a <https://example.org/Cluster> }")
    }
    assert clusters == {
        "https://example.org/its-owl",
        "https://example.org/clib",
        "https://example.org/qt-nrw",
    }


def test_a_removed_file_takes_its_graph_along(store: Store, example_bundle: Path) -> None:
    bundle.sync(store, example_bundle)
    (example_bundle / "data/extra.ttl").unlink()
    report = bundle.sync(store, example_bundle)
    assert report.removed == ["data/extra.ttl"]
    assert GRAPH + "data/extra" not in store.graph_sizes()
    assert GRAPH + "data/extra" not in store.catalog()


def test_a_file_describes_its_own_graph_with_the_empty_iri(store: Store, tmp_path: Path) -> None:
    root = write_bundle(
        tmp_path,
        {"data/brief/section-2.ttl": '<> <http://purl.org/dc/terms/title> "Abschnitt 2"@de .'},
    )
    bundle.sync(store, root)
    rows = select(store, "SELECT ?g WHERE { ?g <http://purl.org/dc/terms/title> ?t }")
    assert rows == [{"g": GRAPH + "data/brief/section-2"}]


def test_a_broken_file_is_named_with_its_line_and_nothing_of_it_is_loaded(
    store: Store, example_bundle: Path
) -> None:
    bundle.sync(store, example_bundle)
    before = count(store)
    (example_bundle / "data/extra.ttl").write_text(
        "@prefix ex: <https://example.org/> .\nex:a ex:b ex:c .\nex:d ex:e .\n"
    )
    with pytest.raises(StoreError) as error:
        bundle.sync(store, example_bundle)
    assert "data/extra.ttl" in error.value.message
    assert "line 3" in error.value.message
    assert count(store) == before  # the old graph is still whole


def test_another_namespace_rewrites_the_bundled_iris(tmp_path: Path) -> None:
    root = write_bundle(
        tmp_path,
        {"data/x.ttl": f"<{DEFAULT_BASE_IRI}id/cluster/x> a <{DEFAULT_BASE_IRI}def#Cluster> ."},
    )
    store = Store.in_memory(base_iri="https://panorama.example.org/")
    try:
        bundle.sync(store, root)
        rows = select(
            store,
            "SELECT ?s ?g WHERE { GRAPH ?g { ?s a <https://panorama.example.org/def#Cluster> } }",
        )
    finally:
        store.close()
    assert rows == [
        {
            "s": "https://panorama.example.org/id/cluster/x",
            "g": "https://panorama.example.org/graph/data/x",
        }
    ]


def test_the_real_bundle_loads_one_graph_per_file(store: Store) -> None:
    report = bundle.sync(store, REPO)
    files = bundle.bundled_files(REPO, DEFAULT_BASE_IRI)
    assert files, "the repository bundles no RDF files"
    assert report.loaded == [f.relative for f in files]
    sizes = store.graph_sizes()
    for bundled in files:
        assert sizes.get(bundled.graph, 0) > 0, bundled.relative


def test_example_texts_parse(store: Store, tmp_path: Path) -> None:
    # Guards the fixtures other tests count on.
    bundle.sync(store, write_bundle(tmp_path, {"data/a.ttl": EXAMPLE_TTL, "data/b.ttl": EXTRA_TTL}))
    assert sum(store.graph_sizes().values()) - store.graph_sizes()[store.catalog_graph] == 10


def test_dumping_the_dataset_to_turtle_needs_a_graph(store: Store, example_bundle: Path) -> None:
    bundle.sync(store, example_bundle)
    with pytest.raises(StoreError, match="single graph"):
        store.dump(io.BytesIO(), "ttl")
    output = io.BytesIO()
    store.dump(output, "ttl", GRAPH + "data/extra")
    assert b"ki-nrw" in output.getvalue()
    assert b"its-owl" not in output.getvalue()


def test_reading_a_missing_store_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="There is no store"):
        Store.open_read_only(tmp_path / "nothing", base_iri=DEFAULT_BASE_IRI)


def test_the_installed_package_carries_the_bundle() -> None:
    # In CI the package is installed from a wheel: this checks the wheel, not the checkout.
    root = bundle_root()
    shipped = [f.relative for f in bundle.bundled_files(root, DEFAULT_BASE_IRI)]
    in_repository = [f.relative for f in bundle.bundled_files(REPO, DEFAULT_BASE_IRI)]
    assert shipped == in_repository
    assert sorted(p.name for p in (root / "queries").glob("*.rq")) == sorted(
        p.name for p in (REPO / "queries").glob("*.rq")
    )


def test_construct_and_select_give_rdflib_terms(store: Store, example_bundle: Path) -> None:
    bundle.sync(store, example_bundle)
    graph = store.construct(QueryRequest("DESCRIBE <https://example.org/its-owl>"))
    label = URIRef("http://www.w3.org/2000/01/rdf-schema#label")
    assert graph.value(URIRef("https://example.org/its-owl"), label) == Literal(
        "it's OWL", lang="de"
    )
    rows = store.select(
        QueryRequest(
            "SELECT ?c WHERE { ?c a <https://example.org/Cluster> }",
            substitutions=(("c", "https://example.org/clib"),),
        )
    )
    assert rows == [{"c": URIRef("https://example.org/clib")}]
