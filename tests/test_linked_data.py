"""Dereferencing our IRIs over a real server on the real bundle, as crawlers and people do."""

from __future__ import annotations

import gzip
import html
import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import OWL, RDF, RDFS

from panorama.store import Store

from support import ENGINE_CHANGES, REPO, Backend, Listener, LiveServer, write_bundle

BASE = "https://w3id.org/cluster-panorama/"
CP = BASE + "def#"
ITS_OWL = BASE + "id/cluster/its-owl"
RDF_FORMATS = {
    "text/turtle": ("turtle", ".ttl"),
    "application/ld+json": ("json-ld", ".jsonld"),
    "application/n-triples": ("nt", ".nt"),
    "application/rdf+xml": ("xml", ".rdf"),
}
PATHS = [
    "/id/cluster/its-owl",
    "/id/innovation-field/materials-production",
    "/id/programme/innosup-1",
    "/def",
    "/shapes",
    "/graph/data/brief/section-2",
]


@pytest.fixture(scope="module")
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


def parse(response: httpx.Response) -> Graph:
    media_type = response.headers["content-type"].split(";")[0]
    return Graph().parse(data=response.content, format=RDF_FORMATS[media_type][0])


@pytest.mark.parametrize("path", PATHS)
def test_every_format_carries_the_same_triples(client: httpx.Client, path: str) -> None:
    graphs = []
    for media_type, (_, suffix) in RDF_FORMATS.items():
        by_accept = client.get(path, headers={"Accept": media_type})
        by_suffix = client.get(path + suffix)
        by_parameter = client.get(path, params={"format": suffix.lstrip(".")})
        for response in (by_accept, by_suffix, by_parameter):
            assert response.status_code == 200, (path, media_type, response.text[:200])
            assert response.headers["content-type"].split(";")[0] == media_type
        graphs.append(parse(by_accept))
        assert isomorphic(graphs[-1], parse(by_suffix))
    assert len(graphs[0]) > 0
    for other in graphs[1:]:
        assert isomorphic(graphs[0], other)


def test_description_can_be_read_alone(client: httpx.Client) -> None:
    graph = parse(client.get("/id/cluster/its-owl", headers={"Accept": "text/turtle"}))
    its_owl = URIRef(ITS_OWL)
    field = URIRef(BASE + "id/innovation-field/materials-production")
    assert (its_owl, URIRef(CP + "innovationField"), field) in graph
    # Neighbours come with their labels and types...
    assert any(graph.objects(field, RDFS.label))
    assert (field, RDF.type, URIRef(CP + "InnovationField")) in graph
    # ... and so do the things that point here (the label awards).
    awards = set(graph.subjects(URIRef(CP + "awardedTo"), its_owl))
    assert len(awards) == 2
    assert all(any(graph.objects(a, RDFS.label)) for a in awards)


def test_headers_advertise_the_alternatives(client: httpx.Client) -> None:
    response = client.get("/id/cluster/its-owl", headers={"Accept": "text/turtle"})
    assert "Accept" in response.headers["vary"]
    links = response.headers["link"]
    for suffix in (".ttl", ".jsonld", ".nt", ".rdf", ".html"):
        assert f'</id/cluster/its-owl{suffix}>; rel="alternate"' in links


def test_browsers_get_a_page_and_others_can_ask_for_rdf(client: httpx.Client) -> None:
    page = client.get("/id/cluster/its-owl", headers={"Accept": "text/html,*/*;q=0.8"})
    assert page.headers["content-type"].startswith("text/html")
    plain = client.get(
        "/id/cluster/its-owl", headers={"Accept": "application/rdf+xml;q=0.9, text/turtle"}
    )
    assert plain.headers["content-type"].startswith("text/turtle")


def test_unknown_iri_is_a_helpful_404(client: httpx.Client) -> None:
    page = client.get("/id/cluster/does-not-exist", headers={"Accept": "text/html"})
    assert page.status_code == 404
    assert "does-not-exist" in page.text and 'action="/search"' in page.text
    data = client.get("/id/cluster/does-not-exist.ttl")
    assert data.status_code == 404
    assert "nothing about" in data.text


def test_conditional_get_answers_304(client: httpx.Client) -> None:
    first = client.get("/id/cluster/its-owl.ttl")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert client.get("/id/cluster/its-owl.ttl", headers={"If-None-Match": etag}).status_code == 304
    assert (
        client.get("/id/cluster/its-owl.ttl", headers={"If-Modified-Since": modified}).status_code
        == 304
    )
    other = client.get("/id/cluster/its-owl.nt", headers={"If-None-Match": etag})
    assert other.status_code == 200  # another representation, another tag


def test_responses_are_compressed_on_request(client: httpx.Client) -> None:
    with client.stream(
        "GET", "/id/cluster/its-owl.ttl", headers={"Accept-Encoding": "gzip"}
    ) as response:
        assert response.headers["content-encoding"] == "gzip"
        raw = b"".join(response.iter_raw())
    assert b"its-owl" in gzip.decompress(raw)
    plain = client.get("/id/cluster/its-owl.ttl", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers


def test_reads_are_open_to_every_origin(client: httpx.Client) -> None:
    response = client.get("/id/cluster/its-owl.ttl", headers={"Origin": "https://example.org"})
    assert response.headers["access-control-allow-origin"] == "*"


# The entity page ----------------------------------------------------------------------------


def test_entity_page_shows_labels_sources_and_json_ld(client: httpx.Client) -> None:
    page = client.get("/id/cluster/its-owl", params={"lang": "de"}, headers={"Accept": "text/html"})
    html = page.text
    assert "<h1" in html and "it&#39;s OWL</h1>" in html
    assert "Innovative Werkstoffe und Intelligente Produktion" in html  # a value by its label
    assert "Quelle:" in html and "Abschnitt 2" in html  # provenance by statement
    assert 'href="/id/innovation-field/materials-production"' in html
    script = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.DOTALL)
    assert script is not None
    document = json.loads(script.group(1))
    assert document["@id"] == ITS_OWL
    assert "Organization" in document["@type"]
    assert document["name"] == "it's OWL"


def test_a_row_of_values_from_the_same_sources_names_them_once(client: httpx.Client) -> None:
    """Seven fields from the same graphs: one source line for the row, not seven; values
    from different graphs (it's OWL's kinds, from sections 1.4 and 2) each keep theirs."""

    def row_of(html: str, property_iri: str) -> str:
        rows = [
            row
            for row in html.split("<tr>")
            if f'<th scope="row"><a class="external" href="{property_iri}"' in row
            or f'<th scope="row"><a href="{property_iri}"' in row
        ]
        assert len(rows) == 1, property_iri
        return rows[0]

    scheme = client.get("/id/scheme/innovation-fields", headers={"Accept": "text/html"}).text
    fields = row_of(scheme, "http://www.w3.org/2004/02/skos/core#hasTopConcept")
    assert fields.count("<li>") == 7
    assert (
        fields.count('<p class="sources">') == 1
        and 'class="sources"' not in fields.split("</ul>")[0]
    )
    assert "Gremieninformation" in fields.split("</ul>")[1]
    owl = client.get("/id/cluster/its-owl", headers={"Accept": "text/html"}).text
    kinds = row_of(owl, "/def#clusterKind")
    assert kinds.count('<span class="sources">') == kinds.count("<li>") == 3
    assert '<p class="sources">' not in kinds
    assert "Abschnitt 1.4" in kinds and "Abschnitt 2" in kinds


def test_entity_page_speaks_the_readers_language(client: httpx.Client) -> None:
    english = client.get(
        "/id/innovation-field/materials-production",
        headers={"Accept": "text/html", "Accept-Language": "en-GB,en;q=0.9"},
    )
    assert "Innovative Materials and Intelligent Production</h1>" in english.text
    assert english.headers["content-language"] == "en"
    german = client.get("/id/innovation-field/materials-production", params={"lang": "de"})
    assert "Innovative Werkstoffe und Intelligente Produktion</h1>" in german.text
    assert '<html lang="de">' in german.text


def test_shape_iris_resolve_to_the_shapes(client: httpx.Client) -> None:
    shapes = parse(client.get("/shapes", headers={"Accept": "text/turtle"}))
    node_shapes = set(shapes.subjects(RDF.type, URIRef("http://www.w3.org/ns/shacl#NodeShape")))
    assert len(node_shapes) >= 10
    assert all(str(shape).startswith(BASE + "shapes#") for shape in node_shapes)


def test_ontology_iri_gives_documentation_and_the_ontology(client: httpx.Client) -> None:
    page = client.get("/def", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert 'id="Cluster"' in page.text  # def#Cluster lands on its section
    assert "<script src=" not in page.text and 'stylesheet" href="http' not in page.text
    ontology = parse(client.get("/def", headers={"Accept": "text/turtle"}))
    assert (URIRef(BASE + "def"), RDF.type, OWL.Ontology) in ontology
    assert (URIRef(CP + "Cluster"), RDF.type, OWL.Class) in ontology


def test_search_is_tolerant_of_case_and_umlauts(client: httpx.Client) -> None:
    for text in ("düsseldorf", "DUESSELDORF", "dusseldorf"):
        found = client.get("/search", params={"q": text}, headers={"Accept": "application/json"})
        assert [hit["label"] for hit in found.json()["results"]][:1] == ["Düsseldorf"], text
    page = client.get("/search", params={"q": "its owl"}, headers={"Accept": "text/html"})
    assert 'href="/id/cluster/its-owl"' in page.text


def test_home_page_counts_and_pictures(client: httpx.Client) -> None:
    page = client.get("/", params={"lang": "en"})
    assert page.status_code == 200
    clusters = re.search(r"<dt>Clusters and networks</dt><dd>(\d+)</dd>", page.text)
    assert clusters is not None and int(clusters.group(1)) == 23
    network = page.text[page.text.index("<svg") : page.text.index("</svg>")]
    assert network.count('class="cluster"') == 23
    assert network.count('class="field"') + network.count('class="cross-sectional"') == 7
    assert 'href="/id/cluster/its-owl?lang=en"' in network


# The namespace is one setting --------------------------------------------------------------


def test_another_namespace_is_served_under_its_own_paths(make_server, tmp_path: Path) -> None:
    bundle = write_bundle(
        tmp_path / "bundle",
        {
            "data/x.ttl": f"""<{BASE}id/cluster/x> <{RDFS.label}> "X"@de ;
                               <{CP}detail> [ <{RDFS.comment}> "nested" ] ."""
        },
    )
    live = make_server(bundle, base_iri="https://panorama.example.org/")
    graph = parse(httpx.get(f"{live.url}/id/cluster/x", headers={"Accept": "text/turtle"}))
    subject = URIRef("https://panorama.example.org/id/cluster/x")
    assert (subject, RDFS.label, Literal("X", lang="de")) in graph
    # The blank node's own statements come along (a concise bounded description).
    detail = graph.value(subject, URIRef("https://panorama.example.org/def#detail"))
    assert graph.value(detail, RDFS.comment) == Literal("nested")


@pytest.mark.parametrize(
    "path, rdf_type",
    [
        ("/id/catalog", "http://www.w3.org/ns/dcat#Catalog"),
        ("/id/dataset/cluster-panorama", "http://www.w3.org/ns/dcat#Dataset"),
        ("/id/service/sparql", "http://www.w3.org/ns/dcat#DataService"),
    ],
)
def test_the_dataset_iris_dereference_to_the_dcat_record(
    client: httpx.Client, path: str, rdf_type: str
) -> None:
    graph = parse(client.get(path, headers={"Accept": "text/turtle"}))
    assert (URIRef(BASE + path.lstrip("/")), RDF.type, URIRef(rdf_type)) in graph
    page = client.get(path, headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "<h1" in page.text


@pytest.mark.parametrize(
    "path",
    [
        "/id/cluster/a%20b",
        "/id/cluster/a%22b",
        "/id/cluster/its-owl%3E%20%7D%20SERVICE%20%3Chttp://127.0.0.1:9/%3E%20%7B%20?s%20?p%20?o"
        "%20%7D%20VALUES%20?z%20%7B%20%3Curn:a",
    ],
    ids=["space", "quote", "injection"],
)
def test_a_path_that_is_no_iri_is_404_and_never_reaches_a_query(
    client: httpx.Client, path: str
) -> None:
    listener = Listener()
    try:
        response = client.get(
            path.replace("127.0.0.1:9", listener.url[7:].rstrip("/")),
            headers={"Accept": "text/turtle"},
        )
        assert response.status_code == 404
        time.sleep(0.3)
        assert listener.connections == 0
    finally:
        listener.close()


def test_the_host_header_does_not_leak_into_what_others_get(client: httpx.Client) -> None:
    client.get("/id/catalog", headers={"Accept": "text/turtle", "Host": "evil.example"})
    honest = client.get("/id/catalog", headers={"Accept": "text/turtle"})
    assert "evil.example" not in honest.text


def test_named_queries_are_listed_and_run_with_their_parameters(client: httpx.Client) -> None:
    listed = client.get("/queries").json()["queries"]
    assert len(listed) >= 15
    in_field = next(q for q in listed if q["name"] == "clusters-in-field")
    assert list(in_field["parameters"]) == ["field"]
    field = BASE + "id/innovation-field/key-technologies-ict"
    answer = client.get(in_field["url"], params={"field": field, "format": "json"})
    assert answer.status_code == 200
    clusters = {b["cluster"]["value"] for b in answer.json()["results"]["bindings"]}
    assert BASE + "id/cluster/ki-nrw" in clusters
    assert BASE + "id/cluster/its-owl" not in clusters
    bad = client.get(in_field["url"], params={"field": "not an iri"})
    assert bad.status_code == 400 and "must be an IRI" in bad.text
    assert client.get("/queries/no-such-query").status_code == 404


def test_the_query_page_links_keep_a_named_querys_parameters(client: httpx.Client) -> None:
    field = BASE + "id/innovation-field/key-technologies-ict"
    page = client.get("/query", params={"name": "clusters-in-field", "field": field})
    assert page.status_code == 200
    assert "/queries/clusters-in-field?field=" in page.text
    assert 'href="/query?name=clusters-in-field&amp;field=' in page.text


@pytest.fixture(scope="module")
def reference_pages() -> Iterator[Callable[[str, str], bytes]]:
    """Pages rendered straight from an embedded store over the same bundle, in process."""
    from panorama.bundle import sync
    from panorama.cache import VersionedCache
    from panorama.resources import PageJob, render_resource

    store = Store.in_memory(base_iri=BASE)
    sync(store, REPO)
    cache = VersionedCache(store)
    try:
        yield lambda path, lang: render_resource(store, cache, PageJob(path, "html", lang)).body
    finally:
        store.close()


@pytest.mark.parametrize(
    "path",
    [
        "id/cluster/its-owl",
        "id/innovation-field/materials-production",
        "id/programme/innosup-1",
        "id/cluster-label/gold",
        "id/event/european-cluster-conference-2022",
    ],
)
def test_a_page_reads_the_same_on_every_backend(
    client: httpx.Client,
    reference_pages: Callable[[str, str], bytes],
    backend: Backend,
    path: str,
) -> None:
    """Engines give rows in orders of their own; a page must not show it.

    What an engine is known to change in the data itself (docs/engines.md) is applied to
    the reference, so that anything else it changes still fails.
    """
    for lang in ("de", "en"):
        served = client.get(f"/{path}", params={"lang": lang}, headers={"Accept": "text/html"})
        assert served.status_code == 200, served.text
        expected = reference_pages(path, lang)
        for stored, read_back in ENGINE_CHANGES.get(backend.name, ()):
            expected = expected.replace(stored, read_back)
        assert served.content == expected, (path, lang)


def test_a_hub_page_lists_the_first_links_counts_them_all_and_links_a_query(
    make_server, tmp_path: Path
) -> None:
    """A page for people shows the first links to a hub; the RDF forms keep every one."""
    from panorama.resources import PAGE_LINKS_IN

    hub, members = f"{BASE}id/cluster/hub", PAGE_LINKS_IN + 200
    lines = [
        f"<{BASE}id/organisation/m{i:04d}> <http://www.w3.org/ns/org#memberOf> <{hub}> ."
        for i in range(members)
    ]
    live = make_server(write_bundle(tmp_path / "bundle", {"data/hub.ttl": "\n".join(lines)}))
    page = httpx.get(
        live.url + "/id/cluster/hub", params={"lang": "en"}, headers={"Accept": "text/html"}
    )
    assert page.status_code == 200, page.text
    assert f"The first {PAGE_LINKS_IN} of {members} links" in page.text
    assert page.text.count('href="/id/organisation/m') == PAGE_LINKS_IN
    assert "/id/organisation/m0999" in page.text and "/id/organisation/m1000" not in page.text
    more = re.search(r'<p class="more"><a href="/query\?([^"]+)"', page.text)
    assert more is not None
    query = parse_qs(html.unescape(more[1]))["query"][0]
    rows = httpx.get(
        live.sparql, params={"query": query}, headers={"Accept": "application/sparql-results+json"}
    ).json()["results"]["bindings"]
    assert len(rows) == members
    turtle = parse(httpx.get(live.url + "/id/cluster/hub", headers={"Accept": "text/turtle"}))
    assert len(set(turtle.subjects(URIRef("http://www.w3.org/ns/org#memberOf"), URIRef(hub)))) == (
        members
    )
