"""The shapes themselves: one for every class, messages in both languages, and the shipped
data (ontology + data/, as the server loads them) conforming to them."""

from __future__ import annotations

from collections.abc import Iterator

import pyshacl
import pytest
from rdflib import OWL, RDF, Graph, URIRef

from panorama import bundle
from panorama.config import DEFAULT_BASE_IRI
from panorama.shacl_checks import SH
from panorama.store import QueryRequest, Store
from panorama.validation import Shapes, load_shapes, validate_files, validate_store

from support import REPO


@pytest.fixture(scope="module")
def shapes() -> Shapes:
    return load_shapes(REPO, DEFAULT_BASE_IRI)


@pytest.fixture(scope="module")
def shipped() -> Iterator[tuple[Store, list[str]]]:
    """The bundle synced into an in-memory store, and its ontology and data graphs."""
    store = Store.in_memory(base_iri=DEFAULT_BASE_IRI)
    bundle.sync(store, REPO)
    graphs = [
        graph
        for graph in store.named_graphs()
        if graph.startswith(
            (f"{DEFAULT_BASE_IRI}graph/ontology/", f"{DEFAULT_BASE_IRI}graph/data/")
        )
    ]
    yield store, graphs
    store.close()


def test_every_class_of_the_ontology_has_a_node_shape(shapes: Shapes) -> None:
    ontology = Graph().parse(REPO / "ontology" / "cluster-panorama.ttl")
    classes = {c for c in ontology.subjects(RDF.type, OWL.Class) if isinstance(c, URIRef)}
    targeted = set(shapes.graph.objects(None, SH.targetClass))
    assert len(classes) == 20
    assert classes - targeted == set()


def test_every_property_shape_has_name_description_and_message_in_german_and_english(
    shapes: Shapes,
) -> None:
    property_shapes = set(shapes.graph.objects(None, SH.property))
    assert len(property_shapes) > 40
    for shape in property_shapes:
        for predicate in (SH.name, SH.description, SH.message):
            languages = {value.language for value in shapes.graph.objects(shape, predicate)}
            assert {"de", "en"} <= languages, f"{shape} lacks {predicate} in de or en"


def test_every_check_has_a_message_in_both_languages(shapes: Shapes) -> None:
    for check in shapes.checks:
        assert {"de", "en"} <= set(check.messages), f"{check.shape} {check.component}"


def test_the_shipped_data_has_no_violations(shipped: tuple[Store, list[str]], shapes) -> None:
    store, graphs = shipped
    report = validate_store(store, shapes, graphs)
    violations = [
        (str(f.focus), str(f.shape)) for f in report.findings if f.severity == "Violation"
    ]
    assert violations == []
    assert report.conforms
    assert report.triples > 2_000


def test_pyshacl_finds_the_same_results_on_the_shipped_data(
    shipped: tuple[Store, list[str]], shapes: Shapes
) -> None:
    # The engine compiles shapes to SPARQL; pyshacl is the reference implementation.
    store, graphs = shipped
    ours = validate_store(store, shapes, graphs)
    data = Graph()
    for graph in graphs:
        data += store.construct(
            QueryRequest(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
        )
    conforms, results, _ = pyshacl.validate(data, shacl_graph=shapes.graph, allow_warnings=True)
    theirs = {
        (results.value(r, SH.focusNode), results.value(r, SH.sourceShape))
        for r in results.subjects(RDF.type, SH.ValidationResult)
    }
    assert conforms is True
    assert {(f.focus, f.shape) for f in ours.findings} == theirs
    assert len(theirs) > 10  # the warnings: profiles that could say more


def test_the_contributor_template_conforms_without_warnings() -> None:
    report = validate_files(
        [REPO / "docs" / "examples" / "cluster-template.ttl"],
        root=REPO,
        base_iri=DEFAULT_BASE_IRI,
    )
    assert report.conforms
    assert report.findings == ()
    assert report.triples >= 15
