"""The units of the repeatable workload: one request to our server, and the SPARQL it costs.

A unit is what a visitor or a crawler asks for: a named query, a cluster's page, the home
page, the VoID description. Our server answers it with one request. For an engine that only
speaks SPARQL, the unit is the queries our server runs to give that answer: the named
query's text from ``queries/`` (its parameters bound with ``VALUES``) or the page's queries
(``page_queries``), sent as SPARQL Protocol form POSTs.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx

from benchmarks import words
from benchmarks.engines import Engine, Panorama
from benchmarks.generate import ID, Manifest, cluster_iri
from benchmarks.load import HttpRequest, sparql_post
from benchmarks.mix import JSON, NTRIPLES
from benchmarks.page_queries import (
    VOID_QUERIES,
    describe_queries,
    home_page_queries,
    is_construct,
)
from panorama.config import DEFAULT_BASE_IRI, bundle_root
from panorama.named_queries import load_named_queries
from panorama.store import Store

__all__ = ["OURS", "TIMEOUT", "Unit", "build_workload"]

OURS = "panorama"
#: Cluster pages in the workload: distinct, and each requested again in every block.
ENTITY_POOL = 25
TIMEOUT = 60


@dataclass(frozen=True)
class Unit:
    """One request to our server, and the SPARQL queries the same answer costs elsewhere."""

    kind: str  # "query/<name>", "entity-page", "home" or "void"
    ours: HttpRequest
    sparql: tuple[str, ...]

    def requests(self, engine: Engine) -> list[HttpRequest]:
        if engine.name == OURS:
            return [self.ours]
        return [
            sparql_post(engine.query_path, query, NTRIPLES if is_construct(query) else JSON)
            for query in self.sparql
        ]


def _select(engine: Engine, query: str) -> list[dict[str, str]]:
    """The solutions of ``query`` on ``engine``, each as variable → lexical value."""
    response = httpx.post(
        engine.url, data={"query": query}, headers={"Accept": JSON}, timeout=TIMEOUT
    )
    response.raise_for_status()
    return [
        {name: term["value"] for name, term in row.items()}
        for row in response.json()["results"]["bindings"]
    ]


def _bind(text: str, bindings: dict[str, str]) -> str:
    """A named query's text for another engine: header lines dropped, parameters bound.

    Our server substitutes each parameter as an RDF term before evaluation; a ``VALUES``
    block at the start of the outer ``WHERE`` does the same for every engine.
    """
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#+"))
    if not bindings:
        return body
    where = re.search(r"\bWHERE\s*\{", body, re.IGNORECASE)
    if where is None:
        raise ValueError(f"no WHERE clause to bind {sorted(bindings)} in:\n{body}")
    values = "".join(f"\n  VALUES ?{name} {{ <{iri}> }}" for name, iri in bindings.items())
    return body[: where.end()] + values + body[where.end() :]


def _parameter(name: str, example: str, rnd: random.Random, manifest: Manifest) -> str:
    """An IRI from the generated data for a parameter; the query's own example otherwise."""
    if name == "field":
        return f"{ID}innovation-field/{rnd.choice(words.FIELDS)}"
    if name in ("cluster", "subject"):
        return cluster_iri(rnd.randrange(manifest.clusters)).strip("<>")
    return example


def _named_query_units(ours: Engine, rnd: random.Random, manifest: Manifest) -> list[Unit]:
    listed = httpx.get(f"{ours.base_url}/queries", timeout=TIMEOUT).json()["queries"]
    texts = load_named_queries(bundle_root() / "queries")
    units = []
    for entry in listed:
        bindings = {
            name: _parameter(name, example or "", rnd, manifest)
            for name, example in entry["parameters"].items()
        }
        target = f"/queries/{entry['name']}" + (f"?{urlencode(bindings)}" if bindings else "")
        units.append(
            Unit(
                f"query/{entry['name']}",
                HttpRequest("GET", target, JSON),
                (_bind(texts[entry["name"]].text, bindings),),
            )
        )
    return units


def build_workload(
    ours: Panorama, native: Engine, manifest: Manifest, rnd: random.Random
) -> list[Unit]:
    """Every distinct unit: named queries, ``ENTITY_POOL`` cluster pages, home, VoID.

    A page's queries are recorded from ``describe`` on a read-only view of our server's
    store; ``native`` (any engine with the data) answers the lookups that writing the
    home page's queries needs (the IRIs it labels).
    """
    units = _named_query_units(ours, rnd, manifest)
    pool = rnd.sample(range(manifest.clusters), min(ENTITY_POOL, manifest.clusters))
    store = Store.open_read_only(ours.store, base_iri=DEFAULT_BASE_IRI)
    try:
        for index in pool:
            iri = cluster_iri(index).strip("<>")
            page = HttpRequest("GET", "/" + iri[len(DEFAULT_BASE_IRI) :], "text/html")
            units.append(Unit("entity-page", page, tuple(describe_queries(store, iri))))
    finally:
        store.close()
    home = tuple(home_page_queries(lambda query: _select(native, query)))
    units.append(Unit("home", HttpRequest("GET", "/", "text/html"), home))
    units.append(Unit("void", HttpRequest("GET", "/.well-known/void", "text/turtle"), VOID_QUERIES))
    return units
