"""Turn a results dictionary (see ``run.py``) into Markdown and a PNG plot.

The plot puts throughput and latency against data size, for the query mix and for the
repeatable workload, so a report merged from runs at 100k, 1M and 10M (``main``) shows
how each engine scales.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from benchmarks.report_targets import geometric_mean, listed_round_ratios, targets_section

__all__ = ["markdown", "plot"]

BASELINE = "oxigraph"


def _ratio(value: float | None, base: float | None) -> str:
    if not value or not base:
        return "-"
    return f"{value / base:.2f}x"


def _size_section(size: dict) -> list[str]:
    lines = [f"## {size['size']} ({size['triples']:,} triples, {size['clusters']:,} clusters)", ""]
    load = size.get("load", {})
    if load:
        lines += [
            "| Engine | Load s | triples/s | Loader peak RSS MB | Server idle RSS MB "
            "| Server peak RSS MB |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for name, entry in load.items():
            lines.append(
                f"| {name} | {entry['seconds']} | {entry['triples_per_s']:,} "
                f"| {entry['peak_rss_mb']} | {entry.get('idle_rss_mb', '-')} "
                f"| {size.get('peak_rss_mb', {}).get(name, '-')} |"
            )
        lines += [
            "",
            f"Load speed, panorama / oxigraph: **{size.get('load_ratio_vs_oxigraph')}x** "
            "(same file, wall time of `panorama load` vs `oxigraph load`).",
            "",
        ]
    latency = size.get("latency", {}).get("engines", {})
    if latency:
        names = list(latency)
        header = (
            "| Query | "
            + " | ".join(f"{n} median ms | p95" for n in names)
            + " | panorama/native median |"
        )
        lines += [
            "### Latency, one request at a time",
            "",
            header,
            "|---|" + "---:|---:|" * len(names) + "---:|",
        ]
        kinds = list(latency.get(BASELINE, latency[names[0]])["kinds"])
        for kind in kinds:
            cells = []
            for name in names:
                entry = latency[name]["kinds"].get(kind)
                cells.append(f"{entry['median_ms']} | {entry['p95_ms']}" if entry else "- | -")
            ours = latency.get("panorama", {}).get("kinds", {}).get(kind, {}).get("median_ms")
            base = latency.get(BASELINE, {}).get("kinds", {}).get(kind, {}).get("median_ms")
            lines.append(f"| {kind} | " + " | ".join(cells) + f" | {_ratio(ours, base)} |")
        lines.append("")
        for name in names:
            for kind, errors in latency[name]["failures"].items():
                lines.append(f"- {name} failed on {kind}: {len(errors)} times ({errors[0]})")
        mismatches = size["latency"].get("mismatch_count", 0)
        by_engine = size["latency"].get("mismatches_by_engine", {})
        per_engine = ", ".join(f"{name} {count}" for name, count in by_engine.items())
        lines.append(
            f"- result-size mismatches against oxigraph: {mismatches}"
            + (f" ({per_engine})" if per_engine else "")
        )
        lines += [f"- incident: {i}" for i in size["latency"].get("incidents", [])]
        for m in size["latency"].get("mismatches", [])[:10]:
            lines.append(f"  - {m['engine']} {m['kind']}: {m['rows']} rows vs {m['oxigraph_rows']}")
        lines.append("")
    throughput = size.get("throughput", {})
    if throughput:
        lines += [
            "### Throughput, weighted mix (wrk, keep-alive)",
            "",
            "| Engine | Clients | q/s | ratio to native | per round | p50 ms | p99 ms | errors "
            "| wrk CPU share |",
            "|---|---:|---:|---:|---|---:|---:|---:|---:|",
        ]
        for name, by_clients in throughput.items():
            if name.startswith("_"):
                continue
            for clients, entry in by_clients.items():
                base_entry = throughput.get(BASELINE, {}).get(clients, {})
                per_round = listed_round_ratios(entry["runs"], base_entry.get("runs", []))
                lines.append(
                    f"| {name} | {clients} | {entry['throughput']} "
                    f"| {_ratio(entry['throughput'], base_entry.get('throughput'))} "
                    f"| {per_round if name != BASELINE else '-'} "
                    f"| {entry['p50_ms']} | {entry['p99_ms']} | {entry['errors']} "
                    f"| {entry['client_core_share']:.1%} |"
                )
        lines += [
            "",
            "Per round: the same requests went to every engine in a round; the ratio to "
            "native is of the medians of the rounds.",
        ]
        lines.append("")
        for incident in throughput.get("_incidents", []):
            lines.append(f"- incident: {incident}")
        lines.append("")
    lines += _remote_section(size)
    lines += targets_section(size)
    if size.get("incidents"):
        lines += [*(f"- incident: {i}" for i in size["incidents"]), ""]
    streaming = size.get("streaming")
    if streaming:
        lines += [
            "### Streaming a 1,000,000-row SELECT (CSV)",
            "",
            "| Engine | rows | MB | s | first byte s | RSS before MB | peak MB | growth MB |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for name, s in streaming.items():
            lines.append(
                f"| {name} | {s['rows']:,} | {s['bytes'] / 2**20:.0f} | {s['seconds']} "
                f"| {s['first_byte_s']} | {s['rss_before_mb']} | {s['rss_peak_mb']} "
                f"| {s['rss_growth_mb']} |"
            )
        lines.append("")
    return lines


def _remote_section(size: dict) -> list[str]:
    """Our server on an engine (``--remote``) against that engine answering directly."""
    remote = size.get("remote_path")
    if not remote:
        return []
    pairs = list(remote.items())
    header = "".join(f" | {name} ms | {r['engine']} ms | ratio" for name, r in pairs)
    lines = [
        "### The remote path: our server with `--engine` against the engine it fronts",
        "",
        "Each remote engine has a copy of the data of its own; the ratio is remote / engine, "
        "in the same minutes (latency: above 1 is slower; throughput: below 1 serves fewer).",
        "",
        "| Latency, median, one request at a time" + header + " |",
        "|---|" + "---:|---:|---:|" * len(pairs),
    ]
    kinds = list(dict.fromkeys(kind for _, r in pairs for kind in r["latency"]))
    for kind in kinds:
        cells = []
        for _, r in pairs:
            entry = r["latency"].get(kind, {})
            cells += [
                str(entry.get("remote_ms") or "-"),
                str(entry.get("engine_ms") or "-"),
                f"{entry['ratio']:.2f}x" if entry.get("ratio") else "-",
            ]
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    means = []
    for _, r in pairs:
        mean = r.get("latency_ratio_geomean")
        means += ["", "", f"**{mean:.2f}x**" if mean else "-"]
    lines.append("| geometric mean of the ratios | " + " | ".join(means) + " |")
    clients = list(dict.fromkeys(c for _, r in pairs for c in r["throughput"]))
    for c in clients:
        cells = []
        for _, r in pairs:
            entry = r["throughput"].get(c, {})
            cells += [
                f"{entry.get('remote_qps', '-')} q/s",
                f"{entry.get('engine_qps') or '-'} q/s",
                f"**{entry['ratio']:.2f}x**" if entry.get("ratio") else "-",
            ]
        lines.append(f"| mix throughput, {c} clients | " + " | ".join(cells) + " |")
    lines.append("")
    for name, r in pairs:
        idle = size.get("load", {}).get(name, {}).get("engine_idle_rss_mb", "-")
        lines.append(
            f"- {name}: answers of another size than {r['engine']}'s: "
            f"{r['answers_of_another_size']}; the engine behind it: RSS {idle} MB idle, "
            f"{r['engine_peak_rss_mb']} MB at its peak (our server's are in the load table)"
        )
    for m in size.get("latency", {}).get("remote_mismatches", [])[:10]:
        lines.append(f"  - {m['engine']} {m['kind']}: {m['rows']} rows vs {m['engine_rows']}")
    return [*lines, ""]


def markdown(results: dict) -> str:
    machine = results["machine"]
    lines = [
        "# Cluster-Panorama benchmark",
        "",
        f"Run {results['started']} on {machine['cpus']} CPUs, {machine['platform']}, "
        f"Python {machine['python']}; load average at start {machine['loadavg_at_start']}.",
        "Ratios are to the native Oxigraph server (`oxigraph serve-read-only`) in the same run.",
        "",
    ]
    generator = results.get("load_generator")
    if generator:
        lines += [
            "Load generator (wrk) against a trivial static endpoint: "
            f"{generator['wrk_8']['throughput']:,.0f} req/s at 8 clients, "
            f"{generator['wrk_32']['throughput']:,.0f} req/s at 32 "
            f"({generator['wrk_8']['client_cpu_per_request_us']} µs CPU per request); "
            f"sequential httpx client floor {generator['httpx_sequential_median_ms']} ms median.",
            "",
        ]
    for size in results["sizes"]:
        lines += _size_section(size)
    lines += ["## Query kinds", "", "| Kind | weight | what |", "|---|---:|---|"]
    for kind, spec in results["kinds"].items():
        lines.append(f"| {kind} | {spec['weight']} | {spec['description']} |")
    return "\n".join(lines) + "\n"


def _points(
    sizes: list[dict], path: tuple[str, ...], reduce: Callable[[dict], float] | None = None
) -> list[tuple[int, float]]:
    """(triples, figure) for every size that has a figure at ``path`` (reduced if asked)."""
    found = []
    for size in sizes:
        figure = size
        try:
            for key in path:
                figure = figure[key]
        except (KeyError, TypeError):
            continue
        value = reduce(figure) if reduce else figure
        if value:
            found.append((size["triples"], value))
    return found


def _median_mean(kinds: dict) -> float:
    """The geometric mean of the per-kind medians (0 when there are none)."""
    return geometric_mean([k["median_ms"] for k in kinds.values()]) if kinds else 0.0


def _plot_mix(left, right, sizes: list[dict]) -> None:
    engines = sorted(
        {name for s in sizes for name in s.get("throughput", {}) if not name.startswith("_")}
    )
    for name in engines:
        for clients, style in (("8", "-o"), ("32", "--s")):
            points = _points(sizes, ("throughput", name, clients, "throughput"))
            if points:
                left.plot(*zip(*points, strict=True), style, label=f"{name}, {clients} clients")
        points = _points(sizes, ("latency", "engines", name, "kinds"), _median_mean)
        if points:
            right.plot(*zip(*points, strict=True), "-o", label=name)
    left.set(ylabel="queries/s (mix)", title="Mixed-load throughput")
    right.set(ylabel="ms", title="Mix latency: geometric mean of per-query medians")


def _plot_repeatable(left, right, sizes: list[dict]) -> None:
    engines = sorted(
        {
            name
            for s in sizes
            for name in s.get("repeatable", {}).get("throughput", {})
            if not name.startswith("_")
        }
    )
    for name in engines:
        points = _points(sizes, ("repeatable", "throughput", name, "units_per_s"))
        if points:
            left.plot(*zip(*points, strict=True), "-o", label=f"{name}, 8 clients")
        points = _points(sizes, ("repeatable", "latency", "engines", name, "kinds"), _median_mean)
        if points:
            right.plot(*zip(*points, strict=True), "-o", label=name)
    pages = _points(sizes, ("entity_pages", "throughput", "pages_per_s"))
    if pages:
        left.plot(*zip(*pages, strict=True), "--^", label="panorama entity pages, 8 clients")
        left.axhline(300, color="grey", linestyle=":", label="target: 300 pages/s")
    first = _points(sizes, ("entity_pages", "first_visit", "median_ms"))
    if first:
        right.plot(*zip(*first, strict=True), "--^", label="panorama entity page, first visit")
        right.axhline(15, color="grey", linestyle=":", label="target: 15 ms")
    left.set(ylabel="units/s", title="Repeatable workload throughput (after warm-up)")
    right.set(ylabel="ms", title="Repeatable workload: geometric mean of per-unit medians")


def plot(results: dict, path: Path) -> None:
    """Throughput and latency against data size: the mix, then the repeatable workload."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = results["sizes"]
    figure, axes = plt.subplots(2, 2, figsize=(12, 8.4))
    _plot_mix(axes[0][0], axes[0][1], sizes)
    _plot_repeatable(axes[1][0], axes[1][1], sizes)
    for axis in axes.flat:
        axis.set(xscale="log", yscale="log", xlabel="triples")
        axis.grid(True, which="both", alpha=0.3)
        if axis.get_legend_handles_labels()[0]:
            axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main() -> None:
    """Merge result files of separate runs (one size each) into one report and plot.

    Run: ``python -m benchmarks.report OUT_STEM results/run-A.json results/run-B.json``.
    A size measured in several of the files is taken from the last one that has it, so
    the plot has one point per engine and size.
    """
    import json
    import sys

    stem, *paths = sys.argv[1:]
    runs = [json.loads(Path(p).read_text()) for p in paths]
    merged = dict(runs[-1])
    by_size = {s["size"]: s for r in runs for s in r["sizes"]}
    merged["sizes"] = sorted(by_size.values(), key=lambda s: s["triples"])
    merged["started"] = " + ".join(r["started"] for r in runs)
    Path(f"{stem}.json").write_text(json.dumps(merged, indent=1, default=str))
    Path(f"{stem}.md").write_text(markdown(merged))
    plot(merged, Path(f"{stem}.png"))


if __name__ == "__main__":
    main()
