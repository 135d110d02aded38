"""Issue 7's target for the timeout machinery: it costs at most 5 % of the mix's throughput.

``panorama serve --query-workers 0`` runs queries in the server's own threads: no worker
processes, and no query is ever stopped. Served next to the shipped server (4 workers) from
a copy of the same store, and measured in the same interleaved throughput phase, the ratio
panorama / panorama-inthread is what the workers and timeouts cost.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from benchmarks.engines import Panorama

__all__ = ["MAX_COST", "NAME", "in_thread_copy", "start_in_thread", "timeout_cost"]

NAME = "panorama-inthread"
MAX_COST = 0.05


def in_thread_copy(loaded: Panorama, workdir: Path) -> Panorama:
    """An in-thread server over a copy of ``loaded``'s store; call it before either starts.

    Two servers cannot open one store directory read-write, and a copy made while the
    first server runs could catch its files half-written.
    """
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    copy = Panorama(name=NAME, workdir=workdir, workers=0, query_timeout=loaded.query_timeout)
    shutil.copytree(loaded.store, copy.store)
    return copy


def start_in_thread(engine: Panorama) -> str:
    """Start the copy; return "" if it serves, else why the comparison is skipped."""
    try:
        engine.start(timeout=300)
    except RuntimeError:
        said = [line for line in engine.log.read_text().splitlines() if line.strip()]
        return (
            "`panorama serve --query-workers 0` did not start "
            f"({said[-1].strip() if said else 'no output'}); the timeout-cost comparison is "
            "skipped"
        )
    return ""


def timeout_cost(throughput: dict) -> dict:
    """Per client count: both throughputs, their ratio, the cost (1 - ratio), pass or fail."""
    ours, in_thread = throughput.get("panorama", {}), throughput.get(NAME, {})
    result = {}
    for clients, entry in ours.items():
        other = in_thread.get(clients)
        if not other or not other["throughput"]:
            continue
        ratio = entry["throughput"] / other["throughput"]
        result[clients] = {
            "panorama": entry["throughput"],
            NAME: other["throughput"],
            "ratio": round(ratio, 3),
            "cost": round(1 - ratio, 3),
            "pass": ratio >= 1 - MAX_COST,
        }
    return result
