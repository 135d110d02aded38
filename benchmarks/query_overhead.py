"""What do worker processes cost a small query? Measured against an in-thread baseline.

The endpoint runs each query in a worker process so that a query past its timeout can be
killed. This compares, on the same store and the same small queries:

- ``in-process``: pyoxigraph called directly, serialized to bytes (no HTTP): the floor;
- ``in-thread``: a minimal FastAPI app that runs the query in its thread pool, the usual
  design, which cannot stop a runaway query;
- ``panorama``: our ``/sparql``, with worker processes.

Run: ``python benchmarks/query_overhead.py [--requests 2000]``. It prints medians and p95
and the ratio panorama / in-thread.
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pyoxigraph as ox
import uvicorn
from fastapi import FastAPI
from fastapi.responses import Response

from panorama.app import create_app
from panorama.config import Settings

QUERIES = {
    "iri-lookup": "SELECT ?p ?o WHERE { <https://example.org/s{n}> ?p ?o }",
    "ask": "ASK { <https://example.org/s{n}> ?p ?o }",
    "count-limit": "SELECT ?s WHERE { ?s <https://example.org/p{m}> ?o } LIMIT 10",
}


def write_bundle(root: Path, triples: int) -> Path:
    for folder in ("ontology", "data", "shapes"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    with (root / "data" / "bench.nt").open("w") as out:
        for i in range(triples):
            out.write(f'<https://example.org/s{i}> <https://example.org/p{i % 20}> "{i}" .\n')
    return root


def open_read_only(path: Path) -> ox.Store:
    # The writer may be compacting right after the load; try again as panorama does.
    for _ in range(50):
        try:
            return ox.Store.read_only(str(path / "oxigraph"))
        except (OSError, RuntimeError):
            time.sleep(0.1)
    raise RuntimeError(f"cannot open {path}")


def baseline_app(store_path: Path) -> FastAPI:
    store = open_read_only(store_path)
    app = FastAPI()

    @app.get("/sparql")
    def sparql(query: str) -> Response:
        result = store.query(query, use_default_graph_as_union=True)
        body = result.serialize(format=ox.QueryResultsFormat.JSON)
        return Response(body, media_type="application/sparql-results+json")

    return app


class Served:
    def __init__(self, app: FastAPI) -> None:
        self.server = uvicorn.Server(uvicorn.Config(app, port=0, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/sparql"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join()


def measure(call, requests: int) -> list[float]:
    timings = []
    for n in range(requests):
        started = time.perf_counter()
        call(n)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def summary(timings: list[float]) -> tuple[float, float]:
    ordered = sorted(timings)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.95)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--triples", type=int, default=100_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        bundle = write_bundle(Path(tmp) / "bundle", args.triples)
        settings = Settings(bundle=bundle, store=Path(tmp) / "store", query_workers=2)
        ours = Served(create_app(settings))
        baseline = Served(baseline_app(settings.store))  # type: ignore[arg-type]
        direct = open_read_only(settings.store)  # type: ignore[arg-type]
        print(f"{args.triples:,} triples, {args.requests} sequential requests per row (ms)\n")
        print(f"{'query':<12} {'in-process':>16} {'in-thread':>16} {'panorama':>16} {'ratio':>6}")
        try:
            with httpx.Client() as client:
                for name, template in QUERIES.items():

                    def text(n: int, template: str = template) -> str:
                        subject = str(n * 7919 % args.triples)
                        query = template.replace("{n}", subject).replace("{m}", str(n % 20))
                        # A distinct text per request, so panorama's answer cache never helps.
                        return f"{query}\n# request {n}"

                    def in_process(n: int) -> None:
                        result = direct.query(text(n), use_default_graph_as_union=True)
                        result.serialize(io.BytesIO(), format=ox.QueryResultsFormat.JSON)

                    def over_http(url: str, text=text):
                        def get(n: int) -> None:
                            response = client.get(url, params={"query": text(n)})
                            assert response.status_code == 200, response.text

                        return get

                    rows = []
                    for call in (in_process, over_http(baseline.url), over_http(ours.url)):
                        measure(call, 100)  # warm up
                        rows.append(summary(measure(call, args.requests)))
                    cells = " ".join(f"{m:7.3f} / {p:6.3f}" for m, p in rows)
                    print(f"{name:<12} {cells} {rows[2][0] / rows[1][0]:6.2f}")
        finally:
            ours.stop()
            baseline.stop()
        print("\ncells: median / p95; ratio: panorama median / in-thread median")


if __name__ == "__main__":
    main()
