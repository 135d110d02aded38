"""Real SPARQL engines for the remote-store tests, started on free loopback ports.

- ``start_oxigraph(folder)``: the native Oxigraph server (PyPI ``oxigraph``), read-write:
  queries at ``/query``, updates at ``/update``, the Graph Store Protocol at ``/store``,
  no credentials.
- ``start_virtuoso(folder)``: Virtuoso open source 7.2 (Debian
  ``virtuoso-opensource-7-bin``) with a minimal ini file, both ports on loopback, and a
  user of its own for writes: anonymous queries at ``/sparql``, SPARQL Update at
  ``/sparql-auth`` and the Graph Store Protocol at ``/sparql-graph-crud-auth``, both behind
  HTTP digest authentication.

Both are kept small (the machines running the tests are small and shared), and each runs
in a session of its own so that ``stop()`` ends exactly the processes it started.
Nothing here needs pytest: a script can ``with start_virtuoso(Path("/tmp/v")) as engine:``
and use ``engine.query_url``.

``EngineShelf`` keeps engines for a whole test session: a server leases one of a kind,
emptied of every graph an earlier lease wrote, and gives it back when it stops; a second
engine of that kind starts only while two servers of the kind run at once.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

__all__ = [
    "Engine",
    "EngineShelf",
    "EngineUnavailable",
    "free_port",
    "start_oxigraph",
    "start_virtuoso",
]

HOST = "127.0.0.1"
VIRTUOSO_PACKAGE = "virtuoso-opensource-7-bin"


class EngineUnavailable(RuntimeError):
    """An engine cannot be started here; the message says what to install."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@dataclass
class Engine:
    """A running engine: its three protocol URLs, its write credentials, its process."""

    name: str
    folder: Path
    process: subprocess.Popen[bytes]
    query_url: str
    update_url: str
    store_url: str
    user: str | None = None
    password: str | None = None
    #: files to delete once the engine has stopped (large database files)
    scratch: list[Path] = field(default_factory=list)

    @property
    def log(self) -> Path:
        return self.folder / f"{self.name}.log"

    @property
    def cli_options(self) -> list[str]:
        """The ``panorama`` command's options for this engine's three URLs."""
        return [
            "--engine",
            self.query_url,
            "--engine-update",
            self.update_url,
            "--engine-store",
            self.store_url,
        ]

    @property
    def auth(self) -> httpx.Auth | None:
        """The writer's credentials (Virtuoso checks them by digest only)."""
        if self.user is None:
            return None
        return httpx.DigestAuth(self.user, self.password or "")

    def select(self, query: str) -> list[dict[str, dict[str, str]]]:
        """The SPARQL JSON bindings of ``query``, asked of the engine itself (not our store)."""
        response = httpx.post(
            self.query_url,
            data={"query": query},
            headers={"Accept": "application/sparql-results+json"},
            timeout=60,
        )
        response.raise_for_status()
        return response.json()["results"]["bindings"]

    def graphs(self) -> set[str]:
        """The names of the graphs that hold at least one triple."""
        rows = self.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
        return {row["g"]["value"] for row in rows}

    def empty(self, keep: set[str]) -> None:
        """Delete every triple of every graph but those in ``keep``, in one update.

        One ``DELETE … WHERE`` rather than a ``DROP GRAPH`` each: Virtuoso takes about
        0.25 s per DROP, and a second or two for the graphs a server writes.
        """
        kept = ", ".join(f"<{graph}>" for graph in sorted(keep))
        update = "DELETE { GRAPH ?g { ?s ?p ?o } } WHERE { GRAPH ?g { ?s ?p ?o } " + (
            f"FILTER(?g NOT IN ({kept})) }}" if keep else "}"
        )
        response = httpx.post(self.update_url, data={"update": update}, auth=self.auth, timeout=120)
        response.raise_for_status()

    def stop(self) -> None:
        """Stop the engine (its whole process group) and delete its large files."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        for path in self.scratch:
            path.unlink(missing_ok=True)

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _spawn(command: list[str], folder: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=folder,
            start_new_session=True,
        )


def _wait_until_answering(engine: Engine, timeout: float) -> None:
    """Wait until the query URL answers ``ASK {}``; stop the engine if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if engine.process.poll() is not None:
            raise EngineUnavailable(
                f"{engine.name} exited with status {engine.process.returncode} while "
                f"starting; its log: {engine.log}\n{_tail(engine.log)}"
            )
        try:
            response = httpx.get(
                engine.query_url,
                params={"query": "ASK {}"},
                headers={"Accept": "application/sparql-results+json"},
                timeout=2,
            )
            if response.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    engine.stop()
    raise EngineUnavailable(
        f"{engine.name} did not answer within {timeout:.0f} s; its log: {engine.log}\n"
        f"{_tail(engine.log)}"
    )


def _tail(path: Path, size: int = 1500) -> str:
    try:
        return path.read_text(errors="replace")[-size:]
    except OSError:
        return ""


# --- Oxigraph ---------------------------------------------------------------------------


def _oxigraph_command() -> str:
    beside_python = Path(sys.executable).parent / "oxigraph"
    found = str(beside_python) if beside_python.is_file() else shutil.which("oxigraph")
    if found is None:
        raise EngineUnavailable(
            "The `oxigraph` server is not installed: pip install 'oxigraph>=0.5.13,<0.6' "
            "(it is in the `test` extra: pip install '.[test]')."
        )
    return found


def start_oxigraph(
    folder: Path, *, timeout: float = 30, query_timeout: float | None = None
) -> Engine:
    """Start ``oxigraph serve`` (read-write) over a store in ``folder``.

    ``query_timeout``: seconds after which the server stops a query itself
    (``--timeout-s``); without it, a query runs to its end even if its client left.

    Raises:
        EngineUnavailable: the command is missing, or the server does not come up.
    """
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    base = f"http://{HOST}:{port}"
    log = folder / "oxigraph.log"
    process = _spawn(
        [
            _oxigraph_command(),
            "serve",
            "--location",
            str(folder / "store"),
            "--bind",
            f"{HOST}:{port}",
            *(["--timeout-s", str(max(int(query_timeout), 1))] if query_timeout else []),
        ],
        folder,
        log,
    )
    engine = Engine("oxigraph", folder, process, f"{base}/query", f"{base}/update", f"{base}/store")
    _wait_until_answering(engine, timeout)
    return engine


# --- Virtuoso ---------------------------------------------------------------------------

# Small on purpose: ~80 MB of buffers, a few threads. DefaultIsolation 2 is read committed,
# Virtuoso's documented default, spelled out because 4 (repeatable read) makes every large
# write deadlock against concurrent readers (seen: "40001 Error SR172: Transaction
# deadlocked" on each replacement while a reader polled). ResultSetMaxRows cuts every answer
# (SELECT, CONSTRUCT, Graph Store GET) at that many rows, silently but for SELECT's
# X-SPARQL-MaxRows header: the tests set it low to see that RemoteStore notices.
# ThreadsPerQuery 1: a heavy query gets one thread, not every core: on two loaded cores
# the light queries of test_sparql_safety waited 2 s behind it (twice in CI runs).
_VIRTUOSO_INI = """\
[Database]
DatabaseFile = {folder}/virtuoso.db
ErrorLogFile = {folder}/virtuoso-errors.log
LockFile = {folder}/virtuoso.lck
TransactionFile = {folder}/virtuoso.trx
xa_persistent_file = {folder}/virtuoso.pxa
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {folder}/virtuoso-temp.db
TransactionFile = {folder}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = {host}:{sql_port}
ServerThreads = 10
ThreadsPerQuery = 1
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
DirsAllowed = .
CheckpointInterval = 0
DefaultIsolation = 2

[HTTPServer]
ServerPort = {host}:{http_port}
ServerThreads = 10
MaxClientConnections = 10
KeepAliveTimeout = 10

[SPARQL]
ResultSetMaxRows = {max_rows}
MaxQueryCostEstimationTime = 0
MaxQueryExecutionTime = 60
DefaultQuery = ASK {{ ?s ?p ?o }}
"""

# The writer: a SQL user with the SPARQL_UPDATE role (which /sparql-auth and
# /sparql-graph-crud-auth check through DB.DBA.HP_AUTH_SPARQL_USER, digest only) and
# read-write permission on all graphs (graph-level security, bit 1 read + bit 2 write).
# The anonymous /sparql user keeps SPARQL_SELECT only: its updates are refused.
_VIRTUOSO_WRITER = """\
DB.DBA.USER_CREATE('{user}', '{password}');
GRANT SPARQL_UPDATE TO "{user}";
DB.DBA.RDF_DEFAULT_USER_PERMS_SET('{user}', 3);
"""


def _virtuoso_commands() -> tuple[str, str]:
    server, isql = shutil.which("virtuoso-t"), shutil.which("isql-vt")
    if server is None or isql is None:
        raise EngineUnavailable(
            "Virtuoso is not installed (no `virtuoso-t` / `isql-vt` on PATH): "
            f"apt-get install {VIRTUOSO_PACKAGE}"
        )
    return server, isql


def start_virtuoso(
    folder: Path,
    *,
    timeout: float = 60,
    user: str = "panorama",
    password: str | None = None,
    max_rows: int = 30_000,
) -> Engine:
    """Start Virtuoso over a new database in ``folder`` with a writer ``user``.

    ``max_rows`` is its ResultSetMaxRows: no answer has more rows (or triples).

    The writer's password is random unless given; read it from ``Engine.password``.

    Raises:
        EngineUnavailable: Virtuoso is not installed, or does not come up.
    """
    server, isql = _virtuoso_commands()
    folder.mkdir(parents=True, exist_ok=True)
    sql_port, http_port = free_port(), free_port()
    ini = folder / "virtuoso.ini"
    ini.write_text(
        _VIRTUOSO_INI.format(
            folder=folder, host=HOST, sql_port=sql_port, http_port=http_port, max_rows=max_rows
        )
    )
    log = folder / "virtuoso.log"
    process = _spawn([server, "-f", "-c", str(ini)], folder, log)
    base = f"http://{HOST}:{http_port}"
    password = password or secrets.token_urlsafe(16)
    engine = Engine(
        "virtuoso",
        folder,
        process,
        f"{base}/sparql",
        f"{base}/sparql-auth",
        f"{base}/sparql-graph-crud-auth",
        user=user,
        password=password,
        scratch=[folder / name for name in ("virtuoso.db", "virtuoso-temp.db", "virtuoso.trx")],
    )
    _wait_until_answering(engine, timeout)
    # dba/dba is Virtuoso's initial account; it only listens on loopback, in a throwaway folder.
    result = subprocess.run(
        [isql, f"{HOST}:{sql_port}", "dba", "dba"],
        input=_VIRTUOSO_WRITER.format(user=user, password=password),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0 or "Error" in result.stdout + result.stderr:
        engine.stop()
        raise EngineUnavailable(
            f"Setting up the Virtuoso writer failed: {result.stdout[-800:]} {result.stderr[-800:]}"
        )
    return engine


# --- engines shared by a session --------------------------------------------------------


class EngineShelf:
    """Running engines shared by the servers of a test session, one server per engine.

    ``lease(kind)`` gives an engine of that kind that no other lease holds, with every
    graph it did not hold when it started dropped; engines are started only when all of
    that kind are leased. ``stop()`` stops every one.
    """

    def __init__(self, folder: Path, starters: Mapping[str, Callable[[Path], Engine]]) -> None:
        self.folder = folder
        self.starters = dict(starters)
        self._idle: dict[str, list[Engine]] = {kind: [] for kind in starters}
        self._running: list[Engine] = []
        self._own_graphs: dict[int, set[str]] = {}  # the engine's own, by process id
        self._lock = threading.Lock()

    def _start(self, kind: str) -> Engine:
        engine = self.starters[kind](self.folder / f"{kind}-{len(self._running)}")
        with self._lock:
            self._running.append(engine)
        self._own_graphs[engine.process.pid] = engine.graphs()  # Virtuoso's system graphs
        return engine

    @contextmanager
    def lease(self, kind: str) -> Iterator[Engine]:
        """An engine of ``kind`` for this lease alone, holding none of the tests' graphs.

        Raises:
            EngineUnavailable: the engine cannot be started.
        """
        with self._lock:
            idle = self._idle[kind]
            engine = idle.pop() if idle else None
        if engine is None or engine.process.poll() is not None:
            engine = self._start(kind)
        else:
            engine.empty(keep=self._own_graphs[engine.process.pid])
        try:
            yield engine
        finally:
            with self._lock:
                self._idle[kind].append(engine)

    def stop(self) -> None:
        for engine in self._running:
            engine.stop()
