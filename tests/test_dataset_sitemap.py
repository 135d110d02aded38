"""/sitemap.xml and /robots.txt: what crawlers are told to fetch and not to fetch."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from urllib.robotparser import RobotFileParser

import httpx
import pytest

from support import REPO, Backend, LiveServer

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture(scope="module")
def server(backend: Backend) -> Iterator[LiveServer]:
    with backend.serve(REPO, store=None, query_workers=1) as live:
        yield live


@pytest.fixture(scope="module")
def locations(server: LiveServer) -> list[str]:
    response = httpx.get(f"{server.url}/sitemap.xml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{SITEMAP}urlset"
    return [loc.text or "" for loc in root.iter(f"{SITEMAP}loc")]


def test_sitemap_lists_resource_pages_on_this_server(
    server: LiveServer, locations: list[str]
) -> None:
    paths = {loc.removeprefix(server.url) for loc in locations}
    assert all(loc.startswith(f"{server.url}/") for loc in locations)
    assert {
        "/",
        "/def",
        "/id/cluster/its-owl",
        "/id/catalog",
        "/id/dataset/cluster-panorama",
    } <= paths
    assert len(paths) == len(locations) > 100


def test_sitemap_leaves_out_graphs_fragments_and_foreign_iris(locations: list[str]) -> None:
    assert not any("/graph/" in loc or "#" in loc for loc in locations)
    assert not any("w3id.org" in loc or "schema.org" in loc for loc in locations)


def test_every_listed_resource_is_a_subject_of_the_graph(
    server: LiveServer, locations: list[str]
) -> None:
    base = "https://w3id.org/cluster-panorama/"
    query = (
        "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s ?p ?o "
        f'FILTER(STRSTARTS(STR(?s), "{base}id/") && !STRSTARTS(STR(?s), "{base}id/catalog")) }}'
    )
    rows = httpx.get(
        server.sparql,
        params={"query": query},
        headers={"Accept": "application/sparql-results+json"},
    ).json()
    subjects = int(rows["results"]["bindings"][0]["n"]["value"])
    # Home page, the ontology, and the three IRIs of the dataset record come on top.
    instance_pages = [loc for loc in locations if "/id/" in loc and "/id/catalog" not in loc]
    assert len(instance_pages) == subjects + 2  # id/dataset/…, id/service/sparql


def test_robots_allows_pages_and_refuses_query_urls(server: LiveServer) -> None:
    response = httpx.get(f"{server.url}/robots.txt")
    assert response.status_code == 200
    assert f"Sitemap: {server.url}/sitemap.xml" in response.text
    robots = RobotFileParser()
    robots.parse(response.text.splitlines())
    assert robots.can_fetch("*", f"{server.url}/id/cluster/its-owl")
    # Python's parser drops the "?" of "Disallow: /sparql?" (RFC 9309 parsers keep it and
    # still allow /sparql itself), so only query URLs are checked here.
    assert "Disallow: /sparql?\n" in response.text
    assert not robots.can_fetch("*", f"{server.url}/sparql?query=SELECT%20*")
