"""The repeatable workload: the requests a published site gets again and again.

Every named query (``GET /queries/{name}``), the HTML pages of a fixed set of clusters, the
home page and the VoID description. Our server answers each with one request; an engine
that only speaks SPARQL is sent the same SPARQL those answers cost (``page_queries``, the
``queries/*.rq`` texts), one query after another, and one "unit" of the workload is then
that whole sequence. So the comparison is page for page, and "faster than Virtuoso" means
that a visitor (or a crawler) of our site waits less than one of a site built on Virtuoso.

The same requests repeat, and our server keeps small answers until the store changes, so a
warm-up pass over every distinct request comes first (the other engines get it too).
"""

from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx

from benchmarks import words
from benchmarks.engines import Engine
from benchmarks.generate import ID, Manifest, cluster_iri
from benchmarks.load import (
    HttpRequest,
    Measured,
    fetch,
    latency_summary,
    run_wrk_replay,
    sparql_post,
    write_replay,
)
from benchmarks.mix import JSON, NTRIPLES
from benchmarks.page_queries import (
    VOID_QUERIES,
    entity_page_queries,
    home_page_queries,
    is_construct,
)
from panorama.config import DEFAULT_BASE_IRI, bundle_root
from panorama.named_queries import load_named_queries

__all__ = ["Unit", "build_workload", "repeatable_phase", "select"]

OURS = "panorama"
BASELINE = "oxigraph"
#: Cluster pages in the workload: distinct, and each requested again in every block.
ENTITY_POOL = 25
#: Latency repetitions of the units that cost the other engines whole-graph scans.
HEAVY = {"void": 5, "home": 5}
CLIENTS = 8
#: Shuffled copies of the workload in a replay file, so that wrk's threads, which start at
#: different offsets, each see the workload's composition.
BLOCKS = 20
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


def select(engine: Engine, query: str) -> list[dict[str, str]]:
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
    ours: Engine, native: Engine, manifest: Manifest, rnd: random.Random
) -> list[Unit]:
    """Every distinct unit: named queries, ``ENTITY_POOL`` cluster pages, home, VoID.

    ``native`` (any engine with the data) answers the lookups that writing the page
    queries needs: each cluster's types, the IRIs the home page labels.
    """
    units = _named_query_units(ours, rnd, manifest)
    pool = rnd.sample(range(manifest.clusters), min(ENTITY_POOL, manifest.clusters))
    for index in pool:
        iri = cluster_iri(index).strip("<>")
        types = [row["t"] for row in select(native, f"SELECT ?t WHERE {{ <{iri}> a ?t }}")]
        page = HttpRequest("GET", "/" + iri[len(DEFAULT_BASE_IRI) :], "text/html")
        units.append(Unit("entity-page", page, tuple(entity_page_queries(iri, types))))
    home = tuple(home_page_queries(lambda query: select(native, query)))
    units.append(Unit("home", HttpRequest("GET", "/", "text/html"), home))
    units.append(Unit("void", HttpRequest("GET", "/.well-known/void", "text/turtle"), VOID_QUERIES))
    return units


def _run_unit(client: httpx.Client, engine: Engine, unit: Unit) -> Measured:
    """The unit's requests one after another; the time is their sum."""
    seconds, size, rows = 0.0, 0, None
    for request in unit.requests(engine):
        result = fetch(client, engine.base_url, request, TIMEOUT)
        seconds += result.seconds
        size += result.size
        if result.status != 200:
            return Measured(seconds, result.status, None, size, result.error)
        rows = result.rows
    return Measured(seconds, 200, rows, size)


def _latency(engines: list[Engine], units: list[Unit], reps: int, budget: float, seed: int) -> dict:
    """Each kind ``reps`` times, every engine in a shuffled order, after a warm-up pass."""
    by_kind: dict[str, list[Unit]] = {}
    for unit in units:
        by_kind.setdefault(unit.kind, []).append(unit)
    order = random.Random(seed)
    samples: dict[str, dict[str, list[float]]] = {e.name: {} for e in engines}
    failures: dict[str, dict[str, list[str]]] = {e.name: {} for e in engines}
    skipped: dict[str, set[str]] = {e.name: set() for e in engines}
    mismatches: list[dict] = []
    clients = {e.name: httpx.Client() for e in engines}

    def run(engine: Engine, unit: Unit) -> Measured | None:
        if unit.kind in skipped[engine.name]:
            return None
        result = _run_unit(clients[engine.name], engine, unit)
        if result.status != 200:
            failures[engine.name].setdefault(unit.kind, []).append(
                f"{result.status} {result.error[:160]}"
            )
            if result.status == 0:  # a timeout: do not wait for it again
                skipped[engine.name].add(unit.kind)
            return None
        return result

    try:
        for unit in units:  # the warm-up pass, not recorded
            for engine in engines:
                run(engine, unit)
        deadline = time.monotonic() + budget
        for rep in range(reps):
            for kind, choices in by_kind.items():
                if rep >= HEAVY.get(kind, reps) or time.monotonic() > deadline:
                    continue
                unit = choices[rep % len(choices)]
                shuffled = engines[:]
                order.shuffle(shuffled)
                rows = {}
                for engine in shuffled:
                    result = run(engine, unit)
                    if result is not None:
                        samples[engine.name].setdefault(kind, []).append(result.seconds)
                        rows[engine.name] = result.rows
                expected = rows.get(BASELINE)
                if kind.startswith("query/") and expected is not None:
                    mismatches += [
                        {"engine": name, "kind": kind, "rows": count, "oxigraph_rows": expected}
                        for name, count in rows.items()
                        if count != expected
                    ]
    finally:
        for client in clients.values():
            client.close()
    return {
        "engines": {
            e.name: {
                "kinds": {k: latency_summary(v) for k, v in samples[e.name].items()},
                "failures": failures[e.name],
            }
            for e in engines
        },
        "mismatches": mismatches[:50],
        "mismatch_count": len(mismatches),
    }


def _throughput(
    engines: list[Engine],
    units: list[Unit],
    workdir: Path,
    duration: float,
    rounds: int,
    seed: int,
) -> dict:
    """wrk at ``CLIENTS`` connections on a replay file of ``BLOCKS`` shuffled workloads.

    For the other engines a unit is several requests; units/s is requests/s times the
    file's units per request (wrk replays the file in order, so its composition holds).
    """
    rnd = random.Random(seed)
    sequence = []
    for _ in range(BLOCKS):
        block = units[:]
        rnd.shuffle(block)
        sequence += block
    files = {}
    for engine in engines:
        requests = [request for unit in sequence for request in unit.requests(engine)]
        path = write_replay(workdir / f"repeatable-{engine.name}.tsv", requests)
        files[engine.name] = (path, len(sequence) / len(requests))
    runs: dict[str, list[dict]] = {e.name: [] for e in engines}
    incidents = []
    for round_ in range(rounds):
        for engine in engines if round_ % 2 == 0 else engines[::-1]:
            path, units_per_request = files[engine.name]
            try:
                result = run_wrk_replay(engine.base_url, path, CLIENTS, duration)
            except RuntimeError as error:
                incidents.append(f"{engine.name}: {error}")
                continue
            units_per_s = result.throughput * units_per_request
            runs[engine.name].append({**result.as_dict(), "units_per_s": round(units_per_s, 2)})
            print(
                f"    {engine.name:9} {CLIENTS} clients: {units_per_s:8.1f} units/s "
                f"({result.throughput:.1f} requests/s, p50 {result.p50_ms:.1f} ms, "
                f"errors {result.errors + result.status_errors})",
                flush=True,
            )
    summary: dict = {"_incidents": incidents}
    for name, results in runs.items():
        if results:
            ordered = sorted(results, key=lambda r: r["units_per_s"])
            median = ordered[len(ordered) // 2]
            summary[name] = {
                "clients": CLIENTS,
                "units_per_s": median["units_per_s"],
                "requests_per_s": median["throughput"],
                "requests_per_unit": round(1 / files[name][1], 2),
                "p50_ms": median["p50_ms"],
                "errors": sum(r["errors"] + r["status_errors"] for r in results),
                "client_core_share": max(r["client_core_share"] for r in results),
                "runs": results,
            }
    return summary


def repeatable_phase(
    engines: list[Engine],
    manifest: Manifest,
    workdir: Path,
    *,
    reps: int,
    budget: float,
    duration: float,
    rounds: int,
    seed: int,
) -> dict:
    """Latency and throughput of the repeatable workload on our server and the others.

    Args:
        engines: our server and the SPARQL engines to compare it with; the baseline
            (oxigraph) must be among them: it answers the lookups that build the workload.
        workdir: where the replay files go.
    """
    by_name = {e.name: e for e in engines}
    units = build_workload(by_name[OURS], by_name[BASELINE], manifest, random.Random(seed))
    kinds: dict[str, int] = {}
    for unit in units:
        kinds[unit.kind] = kinds.get(unit.kind, 0) + 1
    print(f"    {len(units)} distinct units; latency…", flush=True)
    latency = _latency(engines, units, reps, budget, seed + 1)
    print("    throughput…", flush=True)
    throughput = _throughput(engines, units, workdir, duration, rounds, seed + 2)
    return {
        "units": kinds,
        "sparql_per_unit": {
            unit.kind: len(unit.sparql) for unit in units if not unit.kind.startswith("query/")
        },
        "parameters": {u.kind: u.ours.target for u in units if "?" in u.ours.target},
        "latency": latency,
        "throughput": throughput,
    }
