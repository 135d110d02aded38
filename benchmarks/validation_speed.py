"""How fast is validation? Our engine (SHACL compiled to SPARQL on Oxigraph) against plain
pyshacl, on the same shapes, the same reference graph and the same submissions.

- ``1,000 triples over HTTP``: median of ``--requests`` POSTs of a 1,000-triple Turtle
  submission to ``/validate`` on a real uvicorn server (end to end: upload, parsing in a
  worker process, checks, JSON report). Target: under 150 ms.
- ``100,000-triple batch``: one call of ``validation.validate`` in this process, as
  ``panorama validate`` runs it (parsing, line map, checks, report). Target: under 5 s.
- ``plain pyshacl``: rdflib parses the same Turtle, the reference graph is added, and
  ``pyshacl.validate(..., allow_warnings=True)`` runs the same shapes (no inference),
  in this process. The ratio is pyshacl's time divided by ours.

The submissions are synthetic cluster profiles (a cluster and its management
organisation, with labels, kind, innovation field, region, homepage), with one planted
violation (an unknown innovation field) in every 50 clusters.

Run: ``python benchmarks/validation_speed.py [--requests 30] [--skip-pyshacl-batch]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

import httpx
import pyshacl
import uvicorn
from rdflib import Graph

from panorama import bundle
from panorama.app import create_app
from panorama.config import Settings
from panorama.store import Store
from panorama.validation import (
    Submission,
    SubmissionPart,
    load_shapes,
    reference_data,
    validate,
)

ROOT = Path(__file__).resolve().parents[1]
BASE = "https://w3id.org/cluster-panorama/"
FIELDS = (
    "materials-production",
    "energy-construction",
    "mobility-logistics",
    "key-technologies-ict",
)
PREFIXES = """@prefix cp: <https://w3id.org/cluster-panorama/def#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .
@prefix org: <http://www.w3.org/ns/org#> .
@prefix id: <https://w3id.org/cluster-panorama/id/> .
"""
TRIPLES_PER_CLUSTER = 12


def make_submission(triples: int) -> bytes:
    """Turtle with about ``triples`` triples of cluster profiles."""
    lines = [PREFIXES]
    for i in range(max(1, triples // TRIPLES_PER_CLUSTER)):
        field = "space" if i % 50 == 49 else FIELDS[i % len(FIELDS)]
        lines.append(
            f"<{BASE}id/cluster/bench-{i}> a cp:Cluster ;\n"
            f'    rdfs:label "Benchmark-Cluster {i}"@de, "Benchmark cluster {i}"@en ;\n'
            "    cp:clusterKind <https://w3id.org/cluster-panorama/id/cluster-kind/network> ;\n"
            f"    cp:innovationField <{BASE}id/innovation-field/{field}> ;\n"
            f"    cp:region <{BASE}id/region/nrw> ;\n"
            f"    foaf:homepage <https://cluster-{i}.example.org> ;\n"
            f"    cp:managedBy <{BASE}id/organisation/bench-{i}> .\n"
            f"<{BASE}id/organisation/bench-{i}> a org:Organization, "
            "cp:ClusterManagementOrganisation ;\n"
            f'    rdfs:label "Benchmark GmbH {i}"@de ;\n'
            f"    foaf:homepage <https://org-{i}.example.org> .\n"
        )
    return "\n".join(lines).encode()


def _serve(settings: Settings) -> tuple[uvicorn.Server, threading.Thread, str]:
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, thread, f"http://127.0.0.1:{port}"


def over_http(data: bytes, requests: int) -> list[float]:
    settings = Settings(bundle=ROOT, store=None, query_workers=1, validation_workers=2)
    server, thread, url = _serve(settings)
    try:
        with httpx.Client(timeout=60) as client:
            times = []
            for i in range(requests + 3):
                started = time.perf_counter()
                response = client.post(
                    f"{url}/validate", content=data, headers={"Content-Type": "text/turtle"}
                )
                elapsed = time.perf_counter() - started
                response.raise_for_status()
                if i >= 3:  # the first ones warm the workers up
                    times.append(elapsed)
        return times
    finally:
        server.should_exit = True
        thread.join()


def plain_pyshacl(data: bytes, shapes: Graph, reference: bytes) -> float:
    started = time.perf_counter()
    graph = Graph().parse(data=data, format="turtle")
    graph.parse(data=reference, format="nt")
    pyshacl.validate(graph, shacl_graph=shapes, allow_warnings=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--skip-pyshacl-batch", action="store_true", help="saves about 40 s")
    args = parser.parse_args()

    store = Store.in_memory(base_iri=BASE)
    bundle.sync(store, ROOT)
    reference = reference_data(store)
    store.close()
    shapes = load_shapes(ROOT, BASE)

    small, batch = make_submission(1_000), make_submission(100_000)
    times = over_http(small, args.requests)
    http_median = statistics.median(times)
    started = time.perf_counter()
    report = validate(
        Submission((SubmissionPart(batch, "turtle"),)), shapes, reference, base_iri=BASE
    )
    batch_seconds = time.perf_counter() - started
    small_report = validate(
        Submission((SubmissionPart(small, "turtle"),)), shapes, reference, base_iri=BASE
    )

    pyshacl_small = statistics.median(
        plain_pyshacl(small, shapes.graph, reference.ntriples) for _ in range(3)
    )
    print(f"submission: {small_report.triples:,} triples; batch: {report.triples:,} triples")
    print(
        f"1,000 triples over HTTP: median {http_median * 1000:.0f} ms "
        f"(p95 {sorted(times)[int(len(times) * 0.95) - 1] * 1000:.0f} ms, "
        f"{len(times)} requests); target < 150 ms"
    )
    print(
        f"  plain pyshacl, in process: {pyshacl_small * 1000:.0f} ms "
        f"(ratio {pyshacl_small / http_median:.1f}x)"
    )
    print(
        f"100,000-triple batch: {batch_seconds:.2f} s "
        f"({report.count('Violation')} violations found); target < 5 s"
    )
    if not args.skip_pyshacl_batch:
        pyshacl_batch = plain_pyshacl(batch, shapes.graph, reference.ntriples)
        print(
            f"  plain pyshacl, in process: {pyshacl_batch:.1f} s "
            f"(ratio {pyshacl_batch / batch_seconds:.1f}x)"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
