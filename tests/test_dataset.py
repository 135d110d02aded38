"""The DCAT-AP 3.0.1 record at /catalog: conformance to the official shapes, and its facts."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import httpx
import pytest
from pyshacl import validate
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, FOAF, RDF, SH

from panorama.config import DEFAULT_BASE_IRI
from panorama.dataset import dataset_description, dataset_iris

from support import REPO, LiveServer

SPDX = Namespace("http://spdx.org/rdf/terms#")
# Open namespaces: pytest probes module attributes, which rdflib's closed ones warn about.
DCAT = Namespace("http://www.w3.org/ns/dcat#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
SHAPES = REPO.parent / "shared" / "vocab" / "dcat-ap-3.0.1"
IRIS = dataset_iris(DEFAULT_BASE_IRI)
# The official ranges.ttl lists these property shapes without defining them (in either
# file); pyshacl refuses a shapes graph with such dangling references. A shape with no
# statements constrains nothing, so dropping the references loses no check.
UNDEFINED_SHAPES = 5


def dcat_ap_shapes() -> Graph:
    """The official DCAT-AP 3.0.1 shapes and range shapes, as one shapes graph."""
    files = [SHAPES / "dcat-ap-SHACL.ttl", SHAPES / "ranges.ttl"]
    missing = [str(path) for path in files if not path.is_file()]
    if missing:
        pytest.fail(
            f"The DCAT-AP 3.0.1 shapes are missing: {', '.join(missing)}. They are expected "
            "in shared/vocab/dcat-ap-3.0.1/ beside the repository (see shared/vocab/README.md)."
        )
    shapes = Graph()
    for path in files:
        shapes.parse(path, format="turtle")
    dangling = [
        (shape, ref)
        for shape, ref in shapes.subject_objects(SH.property)
        if (ref, None, None) not in shapes
    ]
    assert len(dangling) == UNDEFINED_SHAPES, "the official shapes changed: review the workaround"
    for shape, ref in dangling:
        shapes.remove((shape, SH.property, ref))
    return shapes


def conformance(record: Graph) -> tuple[bool, str]:
    conforms, _, text = validate(record, shacl_graph=dcat_ap_shapes())
    return bool(conforms), str(text)


@pytest.fixture(scope="module")
def record(server: LiveServer) -> Graph:
    response = httpx.get(f"{server.url}/catalog", headers={"Accept": "text/turtle"})
    assert response.status_code == 200, response.text
    return Graph().parse(data=response.text, format="turtle")


def test_catalog_conforms_to_the_official_dcat_ap_shapes(record: Graph) -> None:
    conforms, report = conformance(record)
    assert conforms, report


def test_a_record_missing_a_mandatory_property_is_caught_by_the_shapes(record: Graph) -> None:
    broken = Graph()
    for triple in record:
        broken.add(triple)
    broken.remove((URIRef(IRIS.publisher), FOAF.name, None))
    conforms, report = conformance(broken)
    assert not conforms
    assert f"Less than 1 values on <{IRIS.publisher}>->foaf:name" in report


@pytest.mark.parametrize(
    "accept, rdflib_format",
    [
        pytest.param("text/turtle", "turtle", id="turtle"),
        pytest.param("application/ld+json", "json-ld", id="jsonld"),
        pytest.param("application/rdf+xml", "xml", id="rdfxml"),
        pytest.param("application/n-triples", "nt", id="ntriples"),
    ],
)
def test_catalog_carries_the_same_triples_in_every_format(
    server: LiveServer, record: Graph, accept: str, rdflib_format: str
) -> None:
    response = httpx.get(f"{server.url}/catalog", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(accept)
    assert "Accept" in response.headers["vary"]
    assert isomorphic(Graph().parse(data=response.content, format=rdflib_format), record)


def test_catalog_describes_licence_publisher_place_and_themes(record: Graph) -> None:
    catalog, dataset = URIRef(IRIS.catalog), URIRef(IRIS.dataset)
    assert (catalog, DCAT.dataset, dataset) in record
    assert (catalog, DCAT.service, URIRef(IRIS.service)) in record
    licence = URIRef("https://creativecommons.org/licenses/by/4.0/")
    assert (dataset, DCTERMS.license, licence) in record
    assert (dataset, DCTERMS.publisher, URIRef(IRIS.publisher)) in record
    assert (dataset, DCTERMS.spatial, URIRef("http://data.europa.eu/nuts/code/DEA")) in record
    themes = {str(theme) for theme in record.objects(dataset, DCAT.theme)}
    assert "http://publications.europa.eu/resource/authority/data-theme/ECON" in themes
    contact = record.value(dataset, DCAT.contactPoint)
    assert (contact, RDF.type, URIRef("http://www.w3.org/2006/vcard/ns#Kind")) in record
    assert record.value(dataset, DCTERMS.issued) == Literal("2026-11-27", datatype=XSD.date)
    assert record.value(dataset, DCTERMS.modified).datatype == XSD.dateTime


def test_catalog_licence_and_publisher_are_those_the_ontology_declares(
    server: LiveServer, record: Graph
) -> None:
    query = (
        f"SELECT ?licence ?publisher WHERE {{ <{DEFAULT_BASE_IRI}def> "
        f"<{DCTERMS.license}> ?licence ; <{DCTERMS.publisher}> ?publisher }}"
    )
    rows = httpx.get(
        server.sparql,
        params={"query": query},
        headers={"Accept": "application/sparql-results+json"},
    ).json()
    (row,) = rows["results"]["bindings"]
    dataset = URIRef(IRIS.dataset)
    assert record.value(dataset, DCTERMS.license) == URIRef(row["licence"]["value"])
    assert record.value(dataset, DCTERMS.publisher) == URIRef(row["publisher"]["value"])


def test_sparql_endpoint_is_a_data_service_pointing_at_the_service_description(
    server: LiveServer, record: Graph
) -> None:
    service = URIRef(IRIS.service)
    assert (service, RDF.type, DCAT.DataService) in record
    assert record.value(service, DCAT.endpointURL) == URIRef(server.sparql)
    described = record.value(service, DCAT.endpointDescription)
    response = httpx.get(str(described), headers={"Accept": "text/turtle"})
    description = Graph().parse(data=response.text, format="turtle")
    sd = Namespace("http://www.w3.org/ns/sparql-service-description#")
    assert (URIRef(server.sparql), RDF.type, sd.Service) in description


def test_dump_distributions_state_the_size_and_checksum_of_the_files_served(
    server: LiveServer, record: Graph
) -> None:
    dumps = list(record.objects(URIRef(IRIS.dataset), DCAT.distribution))
    downloads = [d for d in dumps if record.value(d, DCAT.downloadURL) is not None]
    assert len(downloads) == 2
    for distribution in downloads:
        body = httpx.get(str(record.value(distribution, DCAT.downloadURL))).content
        assert int(record.value(distribution, DCAT.byteSize)) == len(body)
        checksum = record.value(distribution, SPDX.checksum)
        assert record.value(checksum, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
        assert str(record.value(checksum, SPDX.checksumValue)) == hashlib.sha256(body).hexdigest()
        gzip.decompress(body)  # really a gzip file
        media = str(record.value(distribution, DCAT.compressFormat))
        assert media.endswith("/application/gzip")


def test_dataset_description_describes_the_persistent_iris_with_the_server_urls(
    server: LiveServer,
) -> None:
    app = server.app
    graph = dataset_description(app.state.settings, app.state.store, "http://staging.example/")
    dataset = URIRef(IRIS.dataset)
    assert set(IRIS.documents) == {
        f"{DEFAULT_BASE_IRI}id/catalog",
        f"{DEFAULT_BASE_IRI}id/dataset/cluster-panorama",
        f"{DEFAULT_BASE_IRI}id/service/sparql",
    }
    assert (dataset, RDF.type, DCAT.Dataset) in graph
    assert graph.value(dataset, DCAT.landingPage) == URIRef("http://staging.example/")
    urls = {
        str(url)
        for d in graph.objects(dataset, DCAT.distribution)
        for url in graph.objects(d, DCAT.accessURL)
    }
    assert "http://staging.example/sparql" in urls
    assert "http://staging.example/dumps/cluster-panorama.nq.gz" in urls


def test_missing_shapes_folder_fails_with_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(f"{__name__}.SHAPES", Path("/nonexistent/dcat-ap-3.0.1"))
    with pytest.raises(pytest.fail.Exception, match=r"DCAT-AP 3\.0\.1 shapes are missing"):
        dcat_ap_shapes()


def test_catalog_answers_304_to_a_revalidation_with_its_etag(server: LiveServer) -> None:
    first = httpx.get(f"{server.url}/catalog")
    again = httpx.get(f"{server.url}/catalog", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert first.headers["last-modified"]
