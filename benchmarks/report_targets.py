"""The report's sections on issue 7's targets: entity pages, the repeatable workload, and
what the timeout machinery costs. Each says pass or fail next to the figure it judges."""

from __future__ import annotations

import math
import statistics

__all__ = ["geometric_mean", "listed_round_ratios", "targets_section"]

OURS = "panorama"
OTHERS = ("oxigraph", "virtuoso")
TARGET_NOTE = {"virtuoso": " (the target: faster than Virtuoso)"}


def geometric_mean(values: list[float]) -> float:
    """The geometric mean of positive values (ratios and medians span orders of magnitude)."""
    return math.exp(sum(math.log(max(v, 1e-6)) for v in values) / len(values))


def _round_ratios(runs: list[dict], base_runs: list[dict]) -> list[float]:
    """``runs`` / ``base_runs`` in throughput, round by round.

    Every engine is sent the same requests in a round (``run_wrk(part=…)``), so these
    pairs compare like with like; a 15 s run still moves with the few heavy queries in it,
    and the median of four runs can follow one outlying round.
    """
    by_round = {r.get("round", i): r["throughput"] for i, r in enumerate(base_runs)}
    return [
        round(r["throughput"] / by_round[key], 3)
        for i, r in enumerate(runs)
        if by_round.get(key := r.get("round", i))
    ]


def listed_round_ratios(runs: list[dict], base_runs: list[dict]) -> str:
    """``1.01, 0.85, 1.04, 1.00 (median 1.00)``: ``_round_ratios``, or ``-`` without pairs."""
    ratios = _round_ratios(runs, base_runs)
    if not ratios:
        return "-"
    return f"{', '.join(f'{r:.2f}' for r in ratios)} (median {statistics.median(ratios):.2f})"


def _verdict(passed: bool) -> str:
    return "**pass**" if passed else "**FAIL**"


def _error(entry: dict) -> list[str]:
    return [f"Not measured: {entry['error']}", ""] if "error" in entry else []


def _cold_row(entry: dict) -> list[str]:
    cold = entry.get("cold_throughput")
    if cold is None:  # results of a suite from before the cold run
        return []
    note = "" if cold["all_first_visits"] else "; some pages asked twice"
    rows = [
        f"| pages/s at {cold['clients']} clients, pages nobody asked for yet (wrk, "
        f"{cold['run']['seconds']} s{note}) | {cold['pages_per_s']} "
        f"| >= {entry['target_pages_per_s']:g} | {_verdict(entry['cold_throughput_pass'])} |"
    ]
    reads = cold.get("engine_reads")
    if reads:
        rows.append(
            f"| the same pages' reads alone, sent to the native server ({reads['engine']}, "
            f"{reads['queries_per_page']} queries a page at most, {reads['queries_per_s']} q/s, "
            f"errors {reads['errors']}): page-sets/s | {reads['page_sets_per_s']} | | |"
        )
    return rows


def _entity_pages(entry: dict) -> list[str]:
    title = ["### Entity page of a random cluster (our server)", ""]
    if "error" in entry:
        return title + _error(entry)
    first, repeat, wrk = entry["first_visit"], entry["repeat_visit"], entry["throughput"]
    return [
        *title,
        "| Figure | measured | target | |",
        "|---|---:|---:|---|",
        f"| median of first visits, ms (n={first['n']}, one request at a time) "
        f"| {first['median_ms']} | <= {entry['target_median_ms']:g} "
        f"| {_verdict(entry['median_pass'])} |",
        *_cold_row(entry),
        f"| pages/s at {wrk['clients']} clients (wrk, all {entry['clusters']:,} clusters "
        f"shuffled) | {wrk['pages_per_s']} | >= {entry['target_pages_per_s']:g} "
        f"| {_verdict(entry['throughput_pass'])} |",
        "",
        f"First visits: p95 {first['p95_ms']} ms. Repeat visits (answered from the page cache): "
        f"median {repeat['median_ms']} ms, p95 {repeat['p95_ms']} ms. The wrk run went "
        f"{wrk['passes_over_clusters']} times through the clusters (p50 {wrk['p50_ms']} ms, "
        f"p99 {wrk['p99_ms']} ms, errors {wrk['errors']}); passes after the first are answered "
        "from the cache as far as the clusters fit in it (4,096 pages)." + _settled(entry),
        "",
    ]


def _settled(entry: dict) -> str:
    if "settled_s" not in entry:
        return ""
    return (
        f" The phase began once every engine had been idle for a second "
        f"(after {entry['settled_s']} s of waiting)."
    )


def _ratio_cell(ours: float | None, theirs: float | None) -> str:
    return f"{ours / theirs:.2f}x" if ours and theirs else "-"


def _repeatable(entry: dict) -> list[str]:
    lines = ["### Repeatable workload: named queries, entity pages, home page, VoID", ""]
    if "error" in entry:
        return lines + _error(entry)
    per_unit = ", ".join(f"{kind} {n}" for kind, n in entry["sparql_per_unit"].items())
    lines += [
        f"Units: {sum(entry['units'].values())} distinct ({len(entry['units'])} kinds). Our "
        "server answers each with one request; the others are sent the SPARQL the same answer "
        f"costs, one query after another (queries per unit: {per_unit}; named queries 1). "
        "A warm-up pass over every distinct unit comes first, for every engine: our server "
        "keeps small answers and pages until the store changes, and this workload repeats.",
        "",
    ]
    table, latency_ratios = _repeatable_latency(entry)
    throughput = entry["throughput"]
    ours = throughput.get(OURS, {}).get("units_per_s")
    verdicts = []
    for other, ratio in latency_ratios.items():
        theirs = throughput.get(other, {}).get("units_per_s")
        served = f", units/s ours/{other} {ours / theirs:.2f}x" if ours and theirs else ""
        verdicts.append(
            f"- ours against {other}{TARGET_NOTE.get(other, '')}: latency ours/{other}, "
            "geometric mean over the units, "
            f"**{ratio:.2f}x** (below 1: we answer sooner){served}: "
            + _verdict(ratio < 1 and (not served or ours > theirs))
        )
    return [*lines, *table, *verdicts, "", *_repeatable_throughput(throughput)]


def _repeatable_latency(entry: dict) -> tuple[list[str], dict[str, float]]:
    """The per-unit table and its notes; the geometric mean of ours/other per engine."""
    latency = entry["latency"]["engines"]
    names = list(latency)
    others = [n for n in OTHERS if n in latency]
    lines = [
        "| Unit | "
        + " | ".join(f"{n} median ms | p95" for n in names)
        + "".join(f" | ours/{o} median" for o in others)
        + " |",
        "|---|" + "---:|---:|" * len(names) + "---:|" * len(others),
    ]
    ratios: dict[str, list[float]] = {o: [] for o in others}
    warm_up_only = False
    for kind in latency.get(OURS, {}).get("kinds", {}):
        cells = []
        for name in names:
            found = latency[name]["kinds"].get(kind)
            mark = "*" if found and found.get("warm_up_only") else ""
            warm_up_only = warm_up_only or bool(mark)
            cells.append(f"{found['median_ms']}{mark} | {found['p95_ms']}" if found else "- | -")
        ours = latency[OURS]["kinds"][kind]["median_ms"]
        for other in others:
            theirs = latency[other]["kinds"].get(kind, {}).get("median_ms")
            cells.append(_ratio_cell(ours, theirs))
            if theirs:
                ratios[other].append(ours / theirs)
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    lines.append("")
    if warm_up_only:
        lines += ["\\* the warm-up's time: the time budget ended before this unit's turn.", ""]
    slow = entry.get("slow_units", {})
    if slow:
        lines.append(
            "- over 2 s in the warm-up on some engine, so measured once and left out of the "
            "throughput run: "
            + "; ".join(
                f"{kind} ({', '.join(f'{n} {s} s' for n, s in times.items())})"
                for kind, times in slow.items()
            )
        )
    for name in names:
        for kind, errors in latency[name]["failures"].items():
            lines.append(f"- {name} failed on {kind}: {len(errors)} times ({errors[0]})")
    lines += [f"- incident: {r}" for r in entry["latency"].get("restarts", [])]
    lines.append(
        "- named-query result sizes that differ from oxigraph's (distinct cases): "
        f"{entry['latency']['mismatch_count']}"
    )
    for m in entry["latency"]["mismatches"][:10]:
        lines.append(f"  - {m['engine']} {m['kind']}: {m['rows']} rows vs {m['oxigraph_rows']}")
    return lines, {o: geometric_mean(v) for o, v in ratios.items() if v}


def _repeatable_throughput(throughput: dict) -> list[str]:
    engines = {n: e for n, e in throughput.items() if not n.startswith("_")}
    if not engines:
        return []
    ours = engines.get(OURS, {}).get("units_per_s")
    lines = [
        "| Engine | clients | units/s | requests/s | requests per unit | p50 ms | errors "
        "| ours / engine | wrk CPU share |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, e in engines.items():
        lines.append(
            f"| {name} | {e['clients']} | {e['units_per_s']} | {e['requests_per_s']} "
            f"| {e['requests_per_unit']} | {e['p50_ms']} | {e['errors']} "
            f"| {_ratio_cell(ours, e['units_per_s']) if name != OURS else '-'} "
            f"| {e['client_core_share']:.1%} |"
        )
    lines += [
        "",
        "wrk replays 20 shuffled copies of the workload; units/s is requests/s times the "
        'file\'s units per request. Above 1 in "ours / engine" means we serve more.',
    ]
    lines += [f"- incident: {incident}" for incident in throughput.get("_incidents", [])]
    return [*lines, ""]


def _timeout_cost(entry: dict, throughput: dict) -> list[str]:
    lines = ["### What worker processes and timeouts cost (mix throughput)", ""]
    if "skipped" in entry:
        return [*lines, entry["skipped"] + ".", ""]
    lines += [
        "`panorama` (query worker processes, timeouts) against `panorama-inthread` "
        "(`--query-workers 0`: queries in the server's threads, no timeouts) on a copy of "
        "the same store, interleaved in the throughput phase above. Target: cost <= 5 %.",
        "",
        "| Clients | panorama q/s | panorama-inthread q/s | ratio | cost | | ratio per round |",
        "|---:|---:|---:|---:|---:|---|---|",
    ]
    for clients, c in entry.items():
        per_round = listed_round_ratios(
            throughput.get("panorama", {}).get(clients, {}).get("runs", []),
            throughput.get("panorama-inthread", {}).get(clients, {}).get("runs", []),
        )
        lines.append(
            f"| {clients} | {c['panorama']} | {c['panorama-inthread']} | {c['ratio']} "
            f"| {c['cost']:.1%} | {_verdict(c['pass'])} | {per_round} |"
        )
    lines += [
        "",
        "The verdict is on the ratio of the medians; the same requests go to both servers "
        "in a round, so the per-round ratios show how much one round moves it.",
    ]
    return [*lines, ""]


def targets_section(size: dict) -> list[str]:
    """The Markdown lines on issue 7's targets for one size; empty if none was measured."""
    lines: list[str] = []
    if "entity_pages" in size:
        lines += _entity_pages(size["entity_pages"])
    if "repeatable" in size:
        lines += _repeatable(size["repeatable"])
    if "timeout_cost" in size:
        lines += _timeout_cost(size["timeout_cost"], size.get("throughput", {}))
    return lines
