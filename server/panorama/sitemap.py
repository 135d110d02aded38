"""``/sitemap.xml`` and ``/robots.txt``: telling crawlers which pages exist, and which not to fetch.

The sitemap lists the page of every resource in the namespace: every published subject IRI
under ``{base_iri}id/``, the ontology document ``{base_iri}def`` and the dataset's own
record (``panorama.dataset.DatasetIris``). An IRI maps to the path after the namespace on
the answering server (``{base_iri}id/cluster/its-owl`` → ``{server}/id/cluster/its-owl``);
terms with a fragment share their document's page.
"""

from __future__ import annotations

import logging
from urllib.parse import quote
from xml.sax.saxutils import escape

from panorama.dataset import dataset_iris, server_urls
from panorama.published import published_cache, published_request
from panorama.store import Store

__all__ = ["MAX_URLS", "resource_paths", "robots_txt", "sitemap_xml"]

log = logging.getLogger("panorama")

#: The sitemap protocol's limit for one file.
MAX_URLS = 50_000

_SUBJECTS = """
SELECT DISTINCT ?s ?instances ?ontology WHERE {
  ?s ?p ?o
  FILTER(isIRI(?s) && (STRSTARTS(STR(?s), STR(?instances)) || STRSTARTS(STR(?s), STR(?ontology))))
}"""
# Keep ; , & ' ( ) as they are: they are legal in a path and common in slugs.
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"


def resource_paths(store: Store, base_iri: str) -> list[str]:
    """The server paths (``id/cluster/its-owl``, ``def``) of every resource page, sorted."""
    ontology = f"{base_iri}def"
    request = published_request(
        store, _SUBJECTS, substitutions=(("instances", f"{base_iri}id/"), ("ontology", ontology))
    )
    iris = {str(row["s"]) for row in store.select(request)}
    iris.update(dataset_iris(base_iri).documents)
    paths = set()
    for iri in iris:
        document = iri.split("#", 1)[0] if not base_iri.endswith("#") else iri
        # The ontology's terms may live in the document's own namespace (def#Cluster,
        # def/Cluster); only the document itself has a page of its own.
        if document.startswith(ontology) and document != ontology:
            continue
        paths.add(document[len(base_iri) :])
    return sorted(paths)


def _render(store: Store, base_iri: str, base_url: str) -> bytes:
    root = server_urls(base_url).root
    paths = ["", *resource_paths(store, base_iri)]  # "" is the home page
    if len(paths) > MAX_URLS:
        log.warning("sitemap: %d pages, only the first %d are listed", len(paths), MAX_URLS)
        paths = paths[:MAX_URLS]
    lines = ['<?xml version="1.0" encoding="UTF-8"?>']
    lines.append('<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">')
    for path in paths:
        lines.append(f"  <url><loc>{escape(root + quote(path, safe=_PATH_SAFE))}</loc></url>")
    lines.append("</urlset>")
    return ("\n".join(lines) + "\n").encode()


def sitemap_xml(store: Store, base_iri: str, base_url: str) -> bytes:
    """The sitemap for the server at ``base_url``, kept until the store changes."""
    return published_cache(store).get(
        ("sitemap", base_iri, base_url), lambda: _render(store, base_iri, base_url)
    )


def robots_txt(base_url: str) -> str:
    """Everything may be crawled except query URLs, which are endless and costly to answer."""
    root = server_urls(base_url).root
    return (
        "# Cluster-Panorama NRW: every resource page may be crawled; dumps are at /dumps/,\n"
        "# the DCAT-AP record at /catalog and the VoID description at /.well-known/void.\n"
        "User-agent: *\n"
        # Disallow first: RFC 9309 crawlers take the longest match, older ones the first.
        "Disallow: /sparql?\n"
        "Allow: /\n"
        "\n"
        f"Sitemap: {root}sitemap.xml\n"
    )
