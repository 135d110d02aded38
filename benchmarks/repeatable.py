"""The repeatable workload: the requests a published site gets again and again.

Every named query (``GET /queries/{name}``), the HTML pages of a fixed set of clusters, the
home page and the VoID description (``workload.py`` builds them). Our server answers each
with one request; an engine that only speaks SPARQL is sent the same SPARQL those answers
cost, one query after another, and one "unit" of the workload is then that whole sequence.
So the comparison is page for page: "faster than Virtuoso" means that a visitor (or a
crawler) of our site waits less than one of a site built on Virtuoso.

The same requests repeat, and our server keeps small answers until the store changes, so a
warm-up pass over every distinct request comes first (the other engines get it too).
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import httpx

from benchmarks.engines import Engine
from benchmarks.generate import Manifest
from benchmarks.load import Measured, fetch, latency_summary, run_wrk_replay, write_replay
from benchmarks.workload import OURS, TIMEOUT, Unit, build_workload

__all__ = ["repeatable_phase"]

BASELINE = "oxigraph"
#: Latency repetitions of the units that cost the other engines whole-graph scans.
HEAVY = {"void": 5, "home": 5}
#: Seconds past which a unit is measured once only and left out of the throughput run: a
#: few named queries scan pairs of clusters, and wrk's 8 connections would all wait on them.
SLOW_UNIT = 2.0
CLIENTS = 8
#: Shuffled copies of the workload in a replay file, so that wrk's threads, which start at
#: different offsets, each see the workload's composition.
BLOCKS = 20


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


class _LatencyRun:
    """Sequential requests to every engine, their timings, failures and row counts."""

    def __init__(self, engines: list[Engine], seed: int) -> None:
        self.engines = engines
        self.order = random.Random(seed)
        self.clients = {e.name: httpx.Client() for e in engines}
        self.samples: dict[str, dict[str, list[float]]] = {e.name: {} for e in engines}
        self.warm: dict[str, dict[str, list[float]]] = {e.name: {} for e in engines}
        self.failures: dict[str, dict[str, list[str]]] = {e.name: {} for e in engines}
        self.skipped: dict[str, set[str]] = {e.name: set() for e in engines}
        self.mismatches: list[dict] = []
        self.restarts: list[str] = []

    def _run(self, engine: Engine, unit: Unit) -> Measured | None:
        if unit.kind in self.skipped[engine.name]:
            return None
        result = _run_unit(self.clients[engine.name], engine, unit)
        if result.status != 200:
            self.failures[engine.name].setdefault(unit.kind, []).append(
                f"{result.status} {' '.join(result.error.split())[:160]}"
            )
        if result.status == 0:  # no answer: a timeout, or a server that is gone
            if "Timeout" in result.error:  # do not wait for it again
                self.skipped[engine.name].add(unit.kind)
            # After a timeout the server may go on computing for minutes and slow down every
            # later measurement: a restart ends the query (and revives a server that died).
            said = f"{engine.name} gave no answer to {unit.kind} ({result.error})"
            print(f"    {said}; restarting it", flush=True)
            self.restarts.append(f"{said}: restarted")
            engine.stop()
            engine.start()
        return result

    def warm_up(self, units: list[Unit]) -> dict[str, dict[str, float]]:
        """Every unit once on every engine; the slowest time of each kind, per engine."""
        slowest: dict[str, dict[str, float]] = {}
        for unit in units:
            for engine in self.engines:
                result = self._run(engine, unit)
                if result is None:
                    continue
                if result.status == 200:
                    self.warm[engine.name].setdefault(unit.kind, []).append(result.seconds)
                per_engine = slowest.setdefault(unit.kind, {})
                per_engine[engine.name] = max(per_engine.get(engine.name, 0.0), result.seconds)
        return slowest

    def record(self, kind: str, unit: Unit) -> None:
        """``unit`` on every engine in a shuffled order; named queries' row counts compared."""
        shuffled = self.engines[:]
        self.order.shuffle(shuffled)
        rows = {}
        for engine in shuffled:
            result = self._run(engine, unit)
            if result is not None and result.status == 200:
                self.samples[engine.name].setdefault(kind, []).append(result.seconds)
                rows[engine.name] = result.rows
        expected = rows.get(BASELINE)
        if kind.startswith("query/") and expected is not None:
            for name, count in rows.items():
                found = {"engine": name, "kind": kind, "rows": count, "oxigraph_rows": expected}
                if count != expected and found not in self.mismatches:
                    self.mismatches.append(found)

    def summary(self) -> dict:
        """Per engine and kind: n, median, p95; warm-up times where nothing else was left."""
        engines = {}
        for engine in self.engines:
            name = engine.name
            kinds = {k: latency_summary(v) for k, v in self.samples[name].items()}
            for kind, values in self.warm[name].items():
                if kind not in kinds:
                    kinds[kind] = {**latency_summary(values), "warm_up_only": True}
            engines[name] = {"kinds": kinds, "failures": self.failures[name]}
        return {
            "engines": engines,
            "restarts": self.restarts,
            "mismatches": self.mismatches[:50],
            "mismatch_count": len(self.mismatches),
        }

    def close(self) -> None:
        for client in self.clients.values():
            client.close()


def _latency(
    engines: list[Engine], units: list[Unit], reps: int, budget: float, seed: int
) -> tuple[dict, dict[str, dict[str, float]]]:
    """Each kind ``reps`` times, every engine in a shuffled order, after a warm-up pass.

    A kind that took over ``SLOW_UNIT`` seconds on some engine in the warm-up is measured
    once more at the end, if the time budget allows (else its warm-up time is reported),
    so that one pathological query cannot use up the budget of all the others.

    Returns:
        the summary, and the slow kinds with each engine's warm-up seconds.
    """
    by_kind: dict[str, list[Unit]] = {}
    for unit in units:
        by_kind.setdefault(unit.kind, []).append(unit)
    run = _LatencyRun(engines, seed)
    try:
        slowest = run.warm_up(units)
        slow = {k: v for k, v in slowest.items() if max(v.values()) > SLOW_UNIT}
        if run.restarts:  # a restart emptied that server's caches: warm them up again
            run.warm_up([unit for unit in units if unit.kind not in slow])
        deadline = time.monotonic() + budget
        for rep in range(reps):
            for kind, choices in by_kind.items():
                if kind in slow or rep >= HEAVY.get(kind, reps) or time.monotonic() > deadline:
                    continue
                run.record(kind, choices[rep % len(choices)])
        for kind in slow:
            if time.monotonic() <= deadline:
                run.record(kind, by_kind[kind][0])
    finally:
        run.close()
    return run.summary(), slow


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
    latency, slow = _latency(engines, units, reps, budget, seed + 1)
    if slow:
        print(f"    slow, measured once and left out of the throughput run: {sorted(slow)}")
    print("    throughput…", flush=True)
    throughput = _throughput(
        engines, [u for u in units if u.kind not in slow], workdir, duration, rounds, seed + 2
    )
    return {
        "units": kinds,
        "sparql_per_unit": {
            unit.kind: len(unit.sparql) for unit in units if not unit.kind.startswith("query/")
        },
        "parameters": {u.kind: u.ours.target for u in units if "?" in u.ours.target},
        "latency": latency,
        "slow_units": {kind: {n: round(s, 2) for n, s in v.items()} for kind, v in slow.items()},
        "throughput": throughput,
    }
