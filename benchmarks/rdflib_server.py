"""rdflib-endpoint over an in-memory rdflib ``Dataset`` whose default graph is the union.

Run: ``python -m benchmarks.rdflib_server --port 8123 data.nq bundle.nq`` (127.0.0.1 only).
"""

from __future__ import annotations

import argparse

import uvicorn
from rdflib import Dataset
from rdflib_endpoint import SparqlEndpoint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    dataset = Dataset(default_union=True)
    for path in args.files:
        dataset.parse(path, format="nquads")
    app = SparqlEndpoint(graph=dataset, path="/sparql", cors_enabled=False)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
