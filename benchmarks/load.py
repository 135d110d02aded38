"""The clients: one sequential keep-alive client for latency, ``wrk`` for throughput.

Latency is measured one request at a time with ``httpx`` (keep-alive), from sending the
request to the last byte of the body; counting the rows happens after the clock stops.
Throughput is measured with ``wrk`` (C, epoll) replaying a file of whole requests
(``replay.lua``): the mix's SPARQL GETs, page GETs and form POSTs. Its
CPU time is read from the kernel (``wait4``), so every report says what share of a core the
generator itself took, and ``calibrate`` runs both clients against a trivial endpoint.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import quote

import httpx

from benchmarks.engines import HOST, free_port
from benchmarks.mix import QueryInstance

__all__ = [
    "HttpRequest",
    "Measured",
    "WrkResult",
    "calibrate",
    "fetch",
    "latency_summary",
    "measure",
    "run_wrk",
    "run_wrk_replay",
    "sparql_post",
    "write_replay",
    "write_requests",
]

REPLAY_LUA = Path(__file__).with_name("replay.lua")
FORM = "application/x-www-form-urlencoded"


@dataclass
class Measured:
    seconds: float
    status: int
    rows: int | None
    size: int
    error: str = ""


def count_rows(content_type: str, body: bytes) -> int | None:
    """Solutions in a JSON result, 1 for a boolean, lines of N-Triples; None if unknown."""
    if "json" in content_type:
        data = json.loads(body)
        if "boolean" in data:
            return 1
        return len(data["results"]["bindings"])
    if "n-triples" in content_type or "ntriples" in content_type or "text/plain" in content_type:
        return sum(1 for line in body.splitlines() if line.strip() and not line.startswith(b"#"))
    import pyoxigraph as ox

    rdf_format = ox.RdfFormat.from_media_type(content_type.split(";")[0].strip())
    if rdf_format is not None:
        return sum(1 for _ in ox.parse(body, rdf_format))
    return None


#: wrk sends no Accept-Encoding; the latency client does the same unless told otherwise.
IDENTITY = {"Accept-Encoding": "identity"}


def _timed(send: Callable[[], httpx.Response]) -> Measured:
    """Time ``send`` from sending to the last byte of the (decoded) body, then count rows."""
    started = time.perf_counter()
    try:
        response = send()
        body = response.content
    except httpx.HTTPError as error:
        return Measured(time.perf_counter() - started, 0, None, 0, type(error).__name__)
    seconds = time.perf_counter() - started
    if response.status_code != 200:
        return Measured(
            seconds, response.status_code, None, len(body), body[:200].decode(errors="replace")
        )
    try:
        rows = count_rows(response.headers.get("content-type", ""), body)
    except (ValueError, KeyError, SyntaxError) as error:
        return Measured(seconds, 200, None, len(body), f"unreadable result: {error}")
    return Measured(seconds, 200, rows, len(body))


def measure(
    client: httpx.Client,
    url: str,
    instance: QueryInstance,
    timeout: float,
    headers: dict[str, str] = IDENTITY,
) -> Measured:
    """One SPARQL query by GET, timed from sending to the last byte of the body."""
    return _timed(
        lambda: client.get(
            url,
            params={"query": instance.query},
            headers={"Accept": instance.accept, **headers},
            timeout=timeout,
        )
    )


@dataclass(frozen=True)
class HttpRequest:
    """A whole request as both clients send it: ``target`` is the path with its query."""

    method: str
    target: str
    accept: str
    form: str = ""  # an url-encoded form body (POST)


def sparql_post(path: str, query: str, accept: str) -> HttpRequest:
    """A SPARQL Protocol query sent as a form: page queries can be longer than a URL may be."""
    return HttpRequest("POST", path, accept, "query=" + quote(query, safe=""))


def fetch(
    client: httpx.Client,
    base_url: str,
    request: HttpRequest,
    timeout: float,
    headers: dict[str, str] = IDENTITY,
) -> Measured:
    """One ``request`` to the server at ``base_url``, timed like ``measure``."""
    sent = {"Accept": request.accept, **headers}
    if request.form:
        sent["Content-Type"] = FORM
    return _timed(
        lambda: client.request(
            request.method,
            base_url + request.target,
            content=request.form.encode() or None,
            headers=sent,
            timeout=timeout,
        )
    )


def latency_summary(seconds: list[float]) -> dict:
    """Number, median and 95th percentile (in ms) of a list of timings in seconds."""
    ordered = sorted(seconds)
    return {
        "n": len(ordered),
        "median_ms": round(statistics.median(ordered) * 1000, 3),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000, 3),
    }


def write_requests(path: Path, instances: list[QueryInstance]) -> Path:
    """The mix file ``run_wrk`` replays: url-encoded query, tab, Accept."""
    with path.open("w") as out:
        for instance in instances:
            out.write(f"query={quote(instance.query, safe='')}\t{instance.accept}\n")
    return path


@dataclass
class WrkResult:
    clients: int
    seconds: float
    requests: int
    throughput: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    errors: int
    status_errors: int
    timeouts: int
    client_cpu_seconds: float
    client_cpu_per_request_us: float
    client_core_share: float

    def as_dict(self) -> dict:
        return asdict(self)


def write_replay(path: Path, requests: Iterable[HttpRequest]) -> Path:
    """The request file ``replay.lua`` replays: method, target, Accept and form body."""
    with path.open("w") as out:
        for request in requests:
            out.write(f"{request.method}\t{request.target}\t{request.accept}\t{request.form}\n")
    return path


def run_wrk(
    url: str,
    requests_file: Path,
    clients: int,
    duration: float,
    threads: int = 2,
    *,
    part: tuple[int, int] | None = None,
) -> WrkResult:
    """Replay the mix file (``write_requests``) as GET ``url?query`` with ``wrk``.

    The mix is written once for every engine; each endpoint path gets its own replay file.

    Args:
        part: ``(k, n)`` for the k-th of n runs on one server that must not replay each
            other's requests (an answer cache would answer a replay from memory): each wrk
            thread starts at the k-th n-th of its own slice of the file.
    """
    base, path = url.split("/", 3)[2], "/" + url.split("/", 3)[3]
    replay = requests_file.with_name(f"{requests_file.stem}{path.replace('/', '-')}.replay")
    if not replay.exists() or replay.stat().st_mtime < requests_file.stat().st_mtime:
        with requests_file.open() as source, replay.open("w") as out:
            for line in source:
                query, accept = line.rstrip("\n").split("\t", 1)
                out.write(f"GET\t{path}?{query}\t{accept}\t\n")
    return run_wrk_replay(f"http://{base}", replay, clients, duration, threads, part=part)


def run_wrk_replay(
    base_url: str,
    replay_file: Path,
    clients: int,
    duration: float,
    threads: int = 2,
    *,
    split: bool = False,
    part: tuple[int, int] | None = None,
    once: bool = False,
) -> WrkResult:
    """``wrk`` replaying whole requests (``write_replay``) against the server at ``base_url``.

    Args:
        split: give each wrk thread its own slice of the file, so that no request is sent
            twice before a thread has gone through its slice (for cold-cache figures).
        part: ``(k, n)``: split, and start each thread at the k-th n-th of its slice.
        once: split, and send each slice once, for ``duration`` at most: the figures are
            of the answers to it, over the time from the first request to the last answer.
            (Without it a server faster than the file is long goes round its slices, and
            a cache answers the second round.)
    """
    threads = min(threads, clients)
    where = []
    if once:
        where = ["split", str(threads), *(str(x) for x in (part or (0, 1))), "once"]
    elif split or part is not None:
        where = ["split", str(threads), *(str(x) for x in (part or ()))]
    return _run_wrk(
        [*_wrk_options(clients, duration, threads), "-s", str(REPLAY_LUA), base_url],
        [str(replay_file), *where],
        clients,
    )


def _wrk_options(clients: int, duration: float, threads: int) -> list[str]:
    return [f"-t{min(threads, clients)}", f"-c{clients}", f"-d{duration:.0f}s", "--timeout", "120s"]


def _run_wrk(options: list[str], script_args: list[str], clients: int) -> WrkResult:
    """Run wrk, read the JSON line its script prints and its CPU time from the kernel."""
    command = ["wrk", *options, "--", *script_args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = process.stdout.read().decode(errors="replace")  # type: ignore[union-attr]
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    lines = [line for line in output.splitlines() if line.startswith("WRKJSON ")]
    if process.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed: {output[-1000:]}")
    data = json.loads(lines[-1][len("WRKJSON ") :])
    seconds = data["duration_us"] / 1e6
    if "once" in data:
        data["requests"] = data["once"]["answers"]
        seconds = data["once"]["seconds"] or seconds
    cpu = usage.ru_utime + usage.ru_stime
    errors = data["connect_errors"] + data["read_errors"] + data["write_errors"]
    return WrkResult(
        clients=clients,
        seconds=round(seconds, 2),
        requests=data["requests"],
        throughput=round(data["requests"] / seconds, 2),
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        errors=errors,
        status_errors=data["status_errors"],
        timeouts=data["timeouts"],
        client_cpu_seconds=round(cpu, 3),
        client_cpu_per_request_us=round(cpu / max(data["requests"], 1) * 1e6, 1),
        client_core_share=round(cpu / seconds, 4),
    )


def calibrate(requests_file: Path, duration: float = 5.0) -> dict:
    """Both clients against a trivial endpoint: the ceiling of the load generator itself."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.static_server", "--port", str(port)],
        start_new_session=True,
    )
    url = f"http://{HOST}:{port}/sparql"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        result: dict = {"endpoint": "static 200 JSON answer (benchmarks/static_server.py)"}
        for clients in (8, 32):
            result[f"wrk_{clients}"] = run_wrk(url, requests_file, clients, duration).as_dict()
        # The sequential client's own floor, with the same (long) query strings.
        lines = requests_file.read_text().splitlines()[:500]
        samples = []
        with httpx.Client() as client:
            for line in lines:
                query = line.split("\t")[0]
                started = time.perf_counter()
                client.get(url + "?" + query, headers={"Accept": "application/sparql-results+json"})
                samples.append(time.perf_counter() - started)
        samples.sort()
        result["httpx_sequential_median_ms"] = round(samples[len(samples) // 2] * 1000, 3)
        result["httpx_sequential_p95_ms"] = round(samples[int(len(samples) * 0.95)] * 1000, 3)
        return result
    finally:
        server.terminate()
        server.wait(10)
