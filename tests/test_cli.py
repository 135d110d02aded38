"""The ``panorama`` command, run as a real process as a researcher would run it."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph
import pytest

from support import write_bundle

PANORAMA = str(Path(sys.executable).parent / "panorama")
COUNT_ALL = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def run(*args: str, input: str | None = None, env: dict[str, str] | None = None):
    return subprocess.run(
        [PANORAMA, *args],
        capture_output=True,
        text=True,
        input=input,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


class ServeProcess:
    """``panorama serve`` in a child process, with its URL read from what it prints."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [PANORAMA, "serve", "--port", "0", "--query-workers", "1", *args],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
            env={**os.environ, **(env or {})},
        )
        self.lines: list[str] = []
        self.url = ""
        deadline = time.monotonic() + 60
        assert self.process.stderr is not None
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line:
                break
            self.lines.append(line)
            found = re.search(r"Serving (http://\S+)/ ", line)
            if found:
                self.url = found.group(1)
                break
        if not self.url:
            return
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("panorama serve did not answer")

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def count(self) -> int:
        response = httpx.get(f"{self.url}/sparql", params={"query": COUNT_ALL})
        return int(response.json()["results"]["bindings"][0]["n"]["value"])

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=30)
        finally:
            if self.process.stderr:
                self.process.stderr.close()


@pytest.fixture
def bundle_env(tmp_path: Path) -> dict[str, str]:
    root = write_bundle(
        tmp_path / "bundle",
        {
            "ontology/o.ttl": "<https://example.org/O> a <https://example.org/Ontology> .",
            "data/d.ttl": "<https://example.org/a> <https://example.org/b> 1, 2, 3 .",
        },
    )
    return {"PANORAMA_BUNDLE": str(root)}


@pytest.fixture
def served(tmp_path: Path, bundle_env: dict[str, str]) -> Iterator[ServeProcess]:
    server = ServeProcess("--store", str(tmp_path / "store"), env=bundle_env)
    assert server.url, server.output
    yield server
    server.stop()


@pytest.mark.parametrize("command", ["serve", "load", "query", "dump"])
def test_every_command_explains_itself(command: str) -> None:
    result = run(command, "--help")
    assert result.returncode == 0
    assert "--store" in result.stdout


def test_serve_loads_the_bundle_and_answers(served: ServeProcess) -> None:
    assert "loaded    data/d.ttl" in served.output
    assert served.count() > 0


def test_a_restart_loads_nothing_twice(tmp_path: Path, bundle_env: dict[str, str]) -> None:
    store = str(tmp_path / "store")
    first = ServeProcess("--store", store, env=bundle_env)
    triples = first.count()
    assert first.stop() == 0
    second = ServeProcess("--store", store, env=bundle_env)
    try:
        assert "0 file(s) loaded" in second.output
        assert "unchanged data/d.ttl" in second.output
        assert second.count() == triples
    finally:
        second.stop()


def test_a_second_server_on_the_same_store_is_told_it_is_in_use(
    served: ServeProcess, tmp_path: Path, bundle_env: dict[str, str]
) -> None:
    result = subprocess.run(
        [PANORAMA, "serve", "--port", "0", "--store", str(tmp_path / "store")],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **bundle_env},
    )
    assert result.returncode == 1
    assert "in use by another process" in result.stderr


def test_a_busy_port_is_reported(tmp_path: Path, bundle_env: dict[str, str]) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = str(taken.getsockname()[1])
        result = run("serve", "--memory", "--port", port, env=bundle_env)
    assert result.returncode == 1
    assert f"Port {port} on 127.0.0.1 is already in use" in result.stderr


def test_memory_serve_keeps_nothing(bundle_env: dict[str, str]) -> None:
    server = ServeProcess("--memory", env=bundle_env)
    try:
        assert "Store: memory" in server.output
        assert server.count() > 0
    finally:
        server.stop()


def test_query_reads_the_store_while_the_server_runs(served: ServeProcess, tmp_path: Path) -> None:
    result = run("query", COUNT_ALL, "--store", str(tmp_path / "store"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["n", str(served.count())]


# Loading ------------------------------------------------------------------------------------


def write_ntriples(path: Path, count: int) -> Path:
    with path.open("w") as output:
        for i in range(count):
            output.write(f'<https://example.org/s{i}> <https://example.org/p> "{i}" .\n')
    return path


def test_load_shows_progress_and_speed_and_the_data_is_queryable(tmp_path: Path) -> None:
    data = write_ntriples(tmp_path / "big.nt", 20_000)
    store = str(tmp_path / "store")
    result = run("load", str(data), "--store", store, "--graph", "https://example.org/g")
    assert result.returncode == 0, result.stderr
    assert "big.nt" in result.stderr  # the progress bar's label
    assert re.search(r"Loaded 20,000 triples in [\d.]+ s \([\d,]+ triples/s\)", result.stderr)
    query = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <https://example.org/g> { ?s ?p ?o } }"
    counted = run("query", query, "--store", store, "--format", "tsv")
    assert counted.stdout.splitlines()[1].startswith("20000")


@pytest.mark.parametrize(
    "suffix, text",
    [
        (".ttl", "@prefix ex: <https://example.org/> . ex:a ex:b ex:c ."),
        (".trig", "<https://example.org/g> { <https://example.org/a> <https://example.org/b> 1 }"),
        (".nq", '<https://example.org/a> <https://example.org/b> "x" <https://example.org/g> .'),
        (
            ".rdf",
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            '<rdf:Description rdf:about="https://example.org/a">'
            "<rdf:value>1</rdf:value></rdf:Description></rdf:RDF>",
        ),
        (".jsonld", '{"@id": "https://example.org/a", "https://example.org/b": "x"}'),
    ],
)
def test_load_reads_every_rdf_format(tmp_path: Path, suffix: str, text: str) -> None:
    path = tmp_path / f"data{suffix}"
    path.write_text(text)
    result = run("load", str(path), "--store", str(tmp_path / "store"))
    assert result.returncode == 0, result.stderr
    assert "Loaded 1 triples" in result.stderr


def test_load_names_the_line_of_a_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.nt"
    path.write_text('<https://example.org/a> <https://example.org/b> "ok" .\n<a> <b> .\n')
    result = run("load", str(path), "--store", str(tmp_path / "store"))
    assert result.returncode == 1
    assert "bad.nt" in result.stderr
    assert "line 2" in result.stderr


def test_load_of_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = run("load", str(tmp_path / "nope.nt"), "--store", str(tmp_path / "store"))
    assert result.returncode == 1
    assert "Cannot read" in result.stderr and "nope.nt" in result.stderr
    assert "Traceback" not in result.stderr


# Querying and dumping -----------------------------------------------------------------------


def test_query_on_a_missing_store_says_how_to_create_one(tmp_path: Path) -> None:
    result = run("query", COUNT_ALL, "--store", str(tmp_path / "none"))
    assert result.returncode == 1
    assert "There is no store" in result.stderr
    assert "panorama load" in result.stderr


def test_query_reports_syntax_errors_and_refuses_service(tmp_path: Path) -> None:
    write_ntriples(tmp_path / "d.nt", 3)
    run("load", str(tmp_path / "d.nt"), "--store", str(tmp_path / "store"))
    bad = run("query", "SELECT * {", "--store", str(tmp_path / "store"))
    assert bad.returncode == 1 and "line 1" in bad.stderr
    service = run(
        "query",
        "SELECT * { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }",
        "--store",
        str(tmp_path / "store"),
    )
    assert service.returncode == 1 and "SERVICE is not allowed" in service.stderr


def test_query_from_standard_input_as_json(tmp_path: Path) -> None:
    write_ntriples(tmp_path / "d.nt", 3)
    run("load", str(tmp_path / "d.nt"), "--store", str(tmp_path / "store"))
    result = run(
        "query", "-", "--format", "json", "--store", str(tmp_path / "store"), input=COUNT_ALL
    )
    assert '"value":"3"' in result.stdout.replace(" ", "")


def test_dump_round_trips_the_dataset(tmp_path: Path) -> None:
    write_ntriples(tmp_path / "d.nt", 50)
    store = str(tmp_path / "store")
    run("load", str(tmp_path / "d.nt"), "--store", store, "--graph", "https://example.org/g")
    result = run("dump", str(tmp_path / "out.nq"), "--store", store)
    assert result.returncode == 0, result.stderr
    quads = list(pyoxigraph.parse(path=str(tmp_path / "out.nq")))
    assert len(quads) == 50
    assert {q.graph_name.value for q in quads} == {"https://example.org/g"}


def test_dump_to_turtle_needs_a_graph(tmp_path: Path) -> None:
    write_ntriples(tmp_path / "d.nt", 5)
    store = str(tmp_path / "store")
    run("load", str(tmp_path / "d.nt"), "--store", store, "--graph", "https://example.org/g")
    refused = run("dump", str(tmp_path / "out.ttl"), "--store", store)
    assert refused.returncode == 1 and "--graph" in refused.stderr
    assert not (tmp_path / "out.ttl").exists()
    graph = run(
        "dump", str(tmp_path / "out.ttl"), "--store", store, "--graph", "https://example.org/g"
    )
    assert graph.returncode == 0
    assert len(list(pyoxigraph.parse(path=str(tmp_path / "out.ttl")))) == 5
