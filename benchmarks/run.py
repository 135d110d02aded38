"""Run the benchmark suite: every engine on the same data, interleaved, at several sizes.

    python -m benchmarks.run --sizes 100k,1m [--virtuoso] [--remote] [--no-rdflib]
                             [--duration 15] [--timeout-cost]

For each size: generate the data (cached), load it into every engine (timed, peak RSS),
start all servers side by side, then

1. latency: every query kind ``--reps`` times; each repetition draws fresh parameters and
   sends the same query to every engine, in a shuffled order (interleaved), one at a time;
   result sizes are compared with the native server's;
2. throughput: the weighted mix with ``wrk`` at 8 and 32 clients, ``--rounds`` rounds,
   alternating the engines within each round; with ``--timeout-cost`` also our server
   without query workers (``timeout_cost.py``);
3. entity pages: issue 7's target for a random cluster's HTML page (``entity_pages.py``);
4. the repeatable workload: named queries, pages and VoID on our server against the same
   SPARQL on the others (``repeatable.py``);
5. streaming (sizes of 1M and up): a 1,000,000-row SELECT, with the server's RSS sampled
   every 20 ms.

With ``--remote``, our server on an engine (``panorama serve --engine``) takes part in the
latency and throughput phases: ``panorama-remote`` on ``oxigraph serve``, and with
``--virtuoso`` also ``panorama-remote-virtuoso`` on a Virtuoso; each is compared with the
same engine answering directly (``remote_path``: latency and throughput ratios, answers of
another size).

Results go to ``benchmarks/results/`` (JSON, Markdown, PNG). Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import random
import shutil
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from benchmarks import report
from benchmarks.engines import (
    ENGINES,
    REMOTE_PEERS,
    Engine,
    Panorama,
    PanoramaOnEngine,
    RssSampler,
    settle,
    write_bundle,
)
from benchmarks.entity_pages import entity_page_target
from benchmarks.generate import generate_file, parse_size
from benchmarks.load import (
    IDENTITY,
    calibrate,
    latency_summary,
    measure,
    run_wrk,
    write_requests,
)
from benchmarks.mix import KINDS, QueryInstance, draw, draw_mix
from benchmarks.repeatable import repeatable_phase
from benchmarks.report_targets import geometric_mean
from benchmarks.timeout_cost import NAME as TIMEOUT_COST_NAME
from benchmarks.timeout_cost import in_thread_copy, start_in_thread, timeout_cost

RESULTS = Path(__file__).with_name("results")
BASELINE = "oxigraph"
#: Repetitions of the heaviest kinds are capped so a round stays bounded in time.
HEAVY = {"select-100k": 5}
#: Draws of a kind per repetition, where one is not enough: the IRI lookup's target is a
#: ratio of two medians of answers of about a millisecond, and over 20 samples it moved
#: between 1.01x and 1.38x from one run to the next.
DRAWS = {"lookup": 5}
#: Seconds of an answer after which a kind is not warmed up again on that target.
WARM_ENOUGH = 1.0
#: The engines the repeatable workload compares: ours and the SPARQL servers people run.
REPEATABLE_ENGINES = ("panorama", "oxigraph", "virtuoso")


def _label(triples: int) -> str:
    return f"{triples // 1_000_000}M" if triples >= 1_000_000 else f"{triples // 1000}k"


@dataclass(frozen=True)
class _Target:
    name: str
    url: str
    headers: dict


def revive(engines: list[Engine], when: str) -> list[str]:
    """Restart the servers that are gone; return an incident line for each.

    Seen: a server stopped from outside between phases (a SIGTERM in its log). Measuring
    the others while it is down would leave holes in every later table.
    """
    incidents = []
    for engine in engines:
        if not engine.running():
            print(f"    {engine.name} is not running; restarting it", flush=True)
            incidents.append(f"{engine.name} restarted {when}")
            engine.stop()  # what is left of it: our server when only its engine is gone
            engine.start()
    return incidents


def _unseen(instance: QueryInstance, mark: str) -> QueryInstance:
    """``instance`` with a comment that makes its text one no cache has seen."""
    return dataclasses.replace(instance, query=f"{instance.query}\n# {mark}\n")


def latency_phase(engines: list[Engine], manifest, reps: int, seed: int, budget: float) -> dict:
    """Each kind ``reps`` times (``DRAWS``: more), the same query to every target, shuffled.

    Besides each engine (no compression, as wrk), ``panorama-gzip`` asks our server with
    ``Accept-Encoding: gzip`` as httpx, requests and browsers do. Every text sent ends in
    a comment naming its target, repetition and draw: our server's answer cache would otherwise
    answer ``panorama`` what it just answered ``panorama-gzip`` (or an earlier repetition
    that drew the same parameters), and these are the latencies of answering.
    """
    rnd = random.Random(seed)
    order = random.Random(seed + 1)
    targets = [_Target(e.name, e.url, IDENTITY) for e in engines]
    targets += [
        _Target("panorama-gzip", e.url, {"Accept-Encoding": "gzip"})
        for e in engines
        if e.name == "panorama"
    ]
    samples: dict[str, dict[str, list[float]]] = {t.name: {k: [] for k in KINDS} for t in targets}
    failures: dict[str, dict[str, list[str]]] = {t.name: {} for t in targets}
    mismatches: list[dict] = []
    # A remote engine's answers against its own engine's: what our layer changes.
    remote_mismatches: list[dict] = []
    incidents: list[str] = []
    skipped: dict[str, set[str]] = {t.name: set() for t in targets}
    clients = {t.name: httpx.Client() for t in targets}
    deadline = time.monotonic() + budget
    try:
        # One warm-up round per worker process (4 by default), not recorded. A kind that
        # took a target over WARM_ENOUGH seconds is not warmed again there (a warm worker
        # saves nothing that counts), and one that timed out is not asked again: the slow
        # remote engines would otherwise spend the whole budget here (seen at 100k).
        warm: dict[str, set[str]] = {t.name: set() for t in targets}
        for warm_up in range(4):
            for kind in KINDS:
                if kind in HEAVY:
                    continue
                instance = draw(kind, rnd, manifest)
                for target in targets:
                    if kind in skipped[target.name] or kind in warm[target.name]:
                        continue
                    sent = _unseen(instance, f"{target.name} warm-up {warm_up}")
                    result = measure(clients[target.name], target.url, sent, 60, target.headers)
                    if result.status == 0:
                        failures[target.name].setdefault(kind, []).append(
                            f"0 {result.error[:160]} (warm-up)"
                        )
                        skipped[target.name].add(kind)
                    elif result.seconds > WARM_ENOUGH:
                        warm[target.name].add(kind)
        for rep in range(reps):
            incidents += revive(engines, f"before latency repetition {rep}")
            kinds = [(k, n) for k in KINDS for n in range(DRAWS.get(k, 1))]
            for kind, drawn in kinds:
                # Every kind once, however long the warm-up took; then within the budget.
                if rep >= HEAVY.get(kind, reps) or (rep > 0 and time.monotonic() > deadline):
                    continue
                instance = draw(kind, rnd, manifest)
                shuffled = targets[:]
                order.shuffle(shuffled)
                rows = {}
                for target in shuffled:
                    if kind in skipped[target.name]:
                        continue
                    sent = _unseen(instance, f"{target.name} {rep}.{drawn}")
                    result = measure(clients[target.name], target.url, sent, 60, target.headers)
                    if result.status != 200:
                        failures[target.name].setdefault(kind, []).append(
                            f"{result.status} {result.error[:160]}"
                        )
                        if result.status == 0:  # a timeout: do not wait for it again
                            skipped[target.name].add(kind)
                        continue
                    samples[target.name][kind].append(result.seconds)
                    rows[target.name] = result.rows
                expected = rows.get(BASELINE)
                for name, count in rows.items():
                    if name != BASELINE and expected is not None and count != expected:
                        mismatches.append(
                            {
                                "engine": name,
                                "kind": kind,
                                "rows": count,
                                "oxigraph_rows": expected,
                                "query": instance.query,
                            }
                        )
                    peer = REMOTE_PEERS.get(name)
                    if peer in rows and count != rows[peer]:
                        remote_mismatches.append(
                            {
                                "engine": name,
                                "kind": kind,
                                "rows": count,
                                "engine_rows": rows[peer],
                                "query": instance.query,
                            }
                        )
    finally:
        for client in clients.values():
            client.close()
    summary: dict = {}
    for target in targets:
        per_kind = {
            kind: latency_summary(values) for kind, values in samples[target.name].items() if values
        }
        summary[target.name] = {"kinds": per_kind, "failures": failures[target.name]}
    return {
        "engines": summary,
        "mismatches": mismatches[:50],
        "mismatch_count": len(mismatches),
        "mismatches_by_engine": {
            name: sum(1 for m in mismatches if m["engine"] == name)
            for name in dict.fromkeys(m["engine"] for m in mismatches)
        },
        "remote_mismatches": remote_mismatches[:50],
        "remote_mismatch_count": len(remote_mismatches),
        "incidents": incidents,
    }


def remote_path(result: dict, engines: list[Engine]) -> dict:
    """Each remote engine against its peer, the same engine answering directly.

    Per query kind the latency medians and remote / peer (above 1: the remote path is
    slower), their geometric mean over the kinds both answered; per client count the mix
    throughputs and remote / peer (below 1: the remote path serves fewer); how many answers
    differed in size from the peer's; the engine's peak RSS (our server's is in
    ``peak_rss_mb``).
    """
    latency = result.get("latency", {}).get("engines", {})
    throughput = result.get("throughput", {})
    remote_mismatches = result.get("latency", {}).get("remote_mismatches", [])
    summary = {}
    for engine in engines:
        if not isinstance(engine, PanoramaOnEngine) or engine.peer not in latency:
            continue
        name, peer = engine.name, engine.peer
        kinds, ratios = {}, []
        for kind in KINDS:
            ours = latency[name]["kinds"].get(kind, {}).get("median_ms")
            theirs = latency[peer]["kinds"].get(kind, {}).get("median_ms")
            ratio = round(ours / theirs, 2) if ours and theirs else None
            if ratio:
                ratios.append(ours / theirs)
            kinds[kind] = {"remote_ms": ours, "engine_ms": theirs, "ratio": ratio}
        served = {}
        for clients, entry in throughput.get(name, {}).items():
            theirs = throughput.get(peer, {}).get(clients, {}).get("throughput")
            served[clients] = {
                "remote_qps": entry["throughput"],
                "engine_qps": theirs,
                "ratio": round(entry["throughput"] / theirs, 3) if theirs else None,
                "remote_errors": entry["errors"],
            }
        summary[name] = {
            "engine": peer,
            "latency": kinds,
            "latency_ratio_geomean": round(geometric_mean(ratios), 2) if ratios else None,
            "throughput": served,
            "answers_of_another_size": sum(1 for m in remote_mismatches if m["engine"] == name),
            "engine_peak_rss_mb": round(engine.engine.peak_rss / 2**20, 1),
        }
    return summary


def throughput_phase(
    engines: list[Engine],
    requests_file: Path,
    clients: list[int],
    duration: float,
    rounds: int,
    slow: set[str],
) -> dict:
    runs: dict[str, dict[str, list[dict]]] = {
        e.name: {str(c): [] for c in clients} for e in engines
    }
    restarts: list[str] = []
    # Every run of one engine sends other requests than its others: a run that replayed
    # an earlier one would be answered from our server's cache, not by its engine.
    # Restarting the servers resets their peak RSS samplers; ``Engine.peak_rss`` keeps it.
    parts = len(clients) * rounds
    for ci, c in enumerate(clients):
        for round_ in range(rounds):
            ordered = engines if round_ % 2 == 0 else engines[::-1]
            for engine in ordered:
                if engine.name in slow and round_ > 0:
                    continue
                # A fresh server for every run: our server's answer cache would otherwise
                # hold some heavy answers of the run before, depending on when each ended
                # (the timeout-cost pair, on the same requests, differed by up to 20 %).
                if not engine.running():
                    restarts.append(f"{engine.name} was down before {c} clients, round {round_}")
                engine.stop()
                engine.start()
                # The last run's engine may still be computing queries whose clients left
                # when wrk stopped: without the wait, the engine after it pays for them.
                waited = settle([pid for e in engines for pid in e.pids()])
                try:
                    result = run_wrk(
                        engine.url,
                        requests_file,
                        c,
                        duration,
                        part=(ci * rounds + round_, parts),
                    )
                except RuntimeError as error:
                    restarts.append(f"{engine.name} {c} clients: {error}")
                    continue
                runs[engine.name][str(c)].append(
                    {**result.as_dict(), "settled_s": round(waited, 1), "round": round_}
                )
                print(
                    f"    {engine.name:24} {c:2} clients: {result.throughput:8.1f} q/s "
                    f"(p50 {result.p50_ms:.1f} ms, errors {result.errors + result.status_errors}, "
                    f"wrk {result.client_core_share:.1%} of a core)",
                    flush=True,
                )
    summary = {}
    for name, by_clients in runs.items():
        summary[name] = {}
        for c, results in by_clients.items():
            if not results:
                continue
            summary[name][c] = {
                "throughput": round(statistics.median(r["throughput"] for r in results), 2),
                "p50_ms": round(statistics.median(r["p50_ms"] for r in results), 2),
                "p99_ms": round(statistics.median(r["p99_ms"] for r in results), 2),
                "errors": sum(r["errors"] + r["status_errors"] for r in results),
                "client_core_share": max(r["client_core_share"] for r in results),
                "client_cpu_per_request_us": max(r["client_cpu_per_request_us"] for r in results),
                "runs": results,
            }
    summary["_incidents"] = restarts
    return summary


def streaming_phase(engine: Engine, rows: int = 1_000_000) -> dict:
    """A ``rows``-row SELECT read as fast as it comes; the server's RSS sampled every 20 ms."""
    sampler = RssSampler(engine.pid, 0.02)
    time.sleep(0.5)
    baseline = sampler.reset()
    query = f"SELECT ?s ?p ?o WHERE {{ ?s ?p ?o }} LIMIT {rows}"
    started = time.perf_counter()
    received = 0
    lines = 0
    first_byte = None
    error = ""
    status = 0
    try:
        with httpx.stream(
            "GET",
            engine.url,
            params={"query": query},
            headers={"Accept": "text/csv"},
            timeout=600,
        ) as response:
            status = response.status_code
            for chunk in response.iter_bytes():
                if first_byte is None:
                    first_byte = time.perf_counter() - started
                received += len(chunk)
                lines += chunk.count(b"\n")
    except httpx.HTTPError as failure:
        # A cut stream is a finding (the server ended it early), not a reason to stop.
        error = f"{type(failure).__name__}: {failure}"
    seconds = time.perf_counter() - started
    time.sleep(0.3)
    sampler.stop()
    return {
        "status": status,
        "error": error,
        "rows": lines - 1,
        "bytes": received,
        "seconds": round(seconds, 2),
        "first_byte_s": round(first_byte or 0, 3),
        "rss_before_mb": round(baseline / 2**20, 1),
        "rss_peak_mb": round(sampler.peak / 2**20, 1),
        "rss_growth_mb": round((sampler.peak - baseline) / 2**20, 1),
    }


def _settle(engines: list[Engine]) -> float:
    """Wait for every engine to be idle, so that a phase does not pay for the last one."""
    waited = settle([pid for engine in engines for pid in engine.pids()])
    print(f"    (engines idle after {waited:.1f} s)", flush=True)
    return round(waited, 1)


def _target_phase(result: dict, key: str, engines: list[Engine], run: Callable[[], dict]) -> None:
    """Run a phase of issue 7's targets; a failure goes into the report instead of ending
    a run that may have loaded 10M triples."""
    result.setdefault("incidents", []).extend(revive(engines, f"before the {key} phase"))
    waited = _settle(engines)
    try:
        result[key] = run()
        result[key]["settled_s"] = waited
    except (RuntimeError, ValueError, KeyError, httpx.HTTPError) as error:
        print(f"    failed: {type(error).__name__}: {error}", flush=True)
        result[key] = {"error": f"{type(error).__name__}: {error}"[:2000]}


def run_size(args: argparse.Namespace, triples: int, workdir: Path, calibration_file: list) -> dict:
    label = _label(triples)
    print(f"== {label}", flush=True)
    data = workdir / "data" / f"synthetic-{label}.nq"
    if not data.is_file():
        print(f"  generating {data.name}…", flush=True)
    manifest = generate_file(data, triples, seed=args.seed)
    bundle_file = write_bundle(workdir / "data" / "bundle.nq")
    print(f"  data: {manifest.triples:,} triples, {manifest.clusters:,} clusters", flush=True)
    names = ["panorama", "oxigraph"]
    if args.virtuoso:
        names.append("virtuoso")
    if args.rdflib and triples <= args.rdflib_max:
        names.append("rdflib")
    if args.remote:
        names.append("panorama-remote")
        if args.virtuoso:
            names.append("panorama-remote-virtuoso")
    engines: list[Engine] = []
    in_thread: Panorama | None = None
    result: dict = {"size": label, "triples": manifest.triples, "clusters": manifest.clusters}
    loads: dict = {}
    try:
        for name in names:
            engine_dir = workdir / label / name
            shutil.rmtree(engine_dir, ignore_errors=True)
            engine_dir.mkdir(parents=True)
            engine = ENGINES[name](name=name, workdir=engine_dir)
            if name == "panorama" and args.workers:
                engine.workers = args.workers
            # Listed before it loads: Virtuoso's loader starts the server, and `finally`
            # below stops it if the load fails.
            engines.append(engine)
            loaded = engine.load(data, bundle_file)
            loads[name] = {
                "seconds": round(loaded.seconds, 2),
                "triples_per_s": round(manifest.triples / loaded.seconds),
                "peak_rss_mb": round(loaded.peak_rss / 2**20, 1),
                "detail": loaded.detail,
            }
            print(f"  load {name:24} {loaded.seconds:7.1f} s", flush=True)
        ours = engines[0]
        assert isinstance(ours, Panorama)
        if args.timeout_cost:
            in_thread = in_thread_copy(ours, workdir / label / TIMEOUT_COST_NAME)
        for engine in engines:
            started = engine.start()
            loads[engine.name]["start_seconds"] = round(started, 2)
            assert engine.sampler is not None
            loads[engine.name]["idle_rss_mb"] = round(engine.sampler.reset() / 2**20, 1)
            engine.earlier_peak = 0  # the peaks from here on
            if isinstance(engine, PanoramaOnEngine) and engine.engine.sampler is not None:
                idle = engine.engine.sampler.reset()  # from here on, not the load's peak
                engine.engine.earlier_peak = 0
                loads[engine.name]["engine_idle_rss_mb"] = round(idle / 2**20, 1)
        mix_engines = engines[:]
        if in_thread is not None:
            if skipped := start_in_thread(in_thread):
                print(f"  {skipped}", flush=True)
                result["timeout_cost"] = {"skipped": skipped}
            else:
                mix_engines.insert(1, in_thread)
        result["load"] = loads
        result["load_ratio_vs_oxigraph"] = round(
            loads["oxigraph"]["seconds"] / loads["panorama"]["seconds"], 3
        )
        os.environ.setdefault("PYTHONHASHSEED", "0")
        print("  latency…", flush=True)
        settled = _settle(engines)
        result["latency"] = latency_phase(
            engines, manifest, args.reps, args.seed, args.latency_budget
        )
        result["latency"]["settled_s"] = settled
        requests_file = write_requests(
            workdir / f"requests-{label}.tsv",
            draw_mix(args.mix_size, random.Random(args.seed + 2), manifest),
        )
        if not calibration_file:
            print("  load generator calibration…", flush=True)
            calibration_file.append(calibrate(requests_file))
        print("  throughput…", flush=True)
        result["throughput"] = throughput_phase(
            mix_engines, requests_file, args.clients, args.duration, args.rounds, slow={"rdflib"}
        )
        if TIMEOUT_COST_NAME in result["throughput"]:
            result["timeout_cost"] = timeout_cost(result["throughput"])
        if remote := remote_path(result, engines):
            result["remote_path"] = remote
        print("  entity pages of random clusters (our server)…", flush=True)
        _target_phase(
            result,
            "entity_pages",
            engines,
            lambda: entity_page_target(
                ours,
                manifest,
                workdir / label,
                budget=min(args.latency_budget, 60),
                duration=args.duration,
                rounds=args.rounds,
                seed=args.seed + 3,
                native=next(e for e in engines if e.name == "oxigraph"),
            ),
        )
        print("  repeatable workload…", flush=True)
        _target_phase(
            result,
            "repeatable",
            engines,
            lambda: repeatable_phase(
                [e for e in engines if e.name in REPEATABLE_ENGINES],
                manifest,
                workdir / label,
                reps=args.reps,
                budget=args.latency_budget,
                duration=args.duration,
                rounds=args.rounds,
                seed=args.seed + 4,
            ),
        )
        result["peak_rss_mb"] = {e.name: round(e.peak_rss / 2**20, 1) for e in mix_engines}
        if triples >= 1_000_000 and not args.no_streaming:
            print("  streaming 1,000,000 rows…", flush=True)
            result["streaming"] = {
                e.name: streaming_phase(e) for e in engines if e.name in ("panorama", "oxigraph")
            }
    finally:
        for engine in [*engines, *([in_thread] if in_thread else [])]:
            engine.stop()
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100k,1m", help="comma-separated: 100k,1m,10m")
    parser.add_argument("--virtuoso", action="store_true", help="include Virtuoso (virtuoso-t)")
    parser.add_argument(
        "--remote",
        action="store_true",
        help="include our server on an engine (panorama serve --engine): panorama-remote on "
        "`oxigraph serve`, and with --virtuoso panorama-remote-virtuoso on a Virtuoso",
    )
    parser.add_argument("--no-rdflib", dest="rdflib", action="store_false")
    parser.add_argument(
        "--rdflib-max",
        default="100k",
        type=parse_size,
        help="largest size rdflib-endpoint runs at [100k]",
    )
    parser.add_argument("--reps", type=int, default=20, help="latency repetitions per kind")
    parser.add_argument("--latency-budget", type=float, default=300, help="seconds per size")
    parser.add_argument("--duration", type=float, default=15, help="seconds per wrk run")
    parser.add_argument(
        "--rounds", type=int, default=2, help="wrk runs per engine and client count"
    )
    parser.add_argument("--clients", default="8,32")
    parser.add_argument("--mix-size", type=int, default=10_000, help="requests in the replay file")
    parser.add_argument("--workers", type=int, help="panorama --query-workers [its default]")
    parser.add_argument("--no-streaming", action="store_true")
    parser.add_argument(
        "--timeout-cost",
        action="store_true",
        help="add panorama-inthread (--query-workers 0, a copy of the store) to the mix "
        "throughput: what worker processes and timeouts cost",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/panorama-bench"))
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    args.clients = [int(c) for c in args.clients.split(",")]
    sizes = [parse_size(s) for s in args.sizes.split(",")]
    if args.virtuoso and not shutil.which("virtuoso-t"):
        parser.error("virtuoso-t not found: apt-get install -y virtuoso-opensource-7-bin")
    if not shutil.which("wrk"):
        parser.error("wrk not found: apt-get install -y wrk")
    args.workdir.mkdir(parents=True, exist_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)
    calibration: list = []
    results = {
        "started": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "loadavg_at_start": os.getloadavg(),
        },
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "kinds": {k: {"weight": v.weight, "description": v.description} for k, v in KINDS.items()},
        "sizes": [],
    }
    for triples in sizes:
        results["sizes"].append(run_size(args, triples, args.workdir, calibration))
        results["load_generator"] = calibration[0] if calibration else None
        stamp = results["started"].replace(":", "")
        for name in (f"run-{stamp}", "latest"):
            (args.out / f"{name}.json").write_text(json.dumps(results, indent=1, default=str))
            (args.out / f"{name}.md").write_text(report.markdown(results))
        report.plot(results, args.out / "latest.png")
        report.plot(results, args.out / f"run-{stamp}.png")
    print(report.markdown(results))


if __name__ == "__main__":
    main()
