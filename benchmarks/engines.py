"""The SPARQL servers under test: load the same files, serve on 127.0.0.1, report RSS.

- ``panorama``: ``panorama load`` then ``panorama serve --store`` (our server, as shipped);
- ``oxigraph``: ``oxigraph load`` then ``oxigraph serve-read-only --union-default-graph``;
- ``virtuoso``: ``virtuoso-t`` with a minimal ini file, bulk-loaded with ``ld_dir``;
- ``rdflib``: rdflib-endpoint over an in-memory ``Dataset`` (small scales only);
- ``panorama-remote``: ``panorama serve --engine`` in front of ``oxigraph serve`` (read-write,
  on a copy of the data of its own): the cost of the remote path against ``oxigraph``;
- ``panorama-remote-virtuoso``: ``panorama serve --engine`` in front of a Virtuoso of its own
  (the same ini file and bulk load as ``virtuoso``, plus a writer account): the cost of the
  remote path against ``virtuoso``.

Every engine sees the synthetic data plus the bundled files, with the union of all graphs
as the default graph. Each server runs in its own session so that stopping it ends the
processes it started (query workers included), and nothing else.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import httpx
import psutil

from panorama.worker_processes import MALLOC_CACHE

__all__ = [
    "ENGINES",
    "REMOTE_PEERS",
    "Engine",
    "LoadProgress",
    "LoadResult",
    "Panorama",
    "PanoramaOnEngine",
    "PanoramaOnVirtuoso",
    "RssSampler",
    "free_port",
    "settle",
    "write_bundle",
]

HOST = "127.0.0.1"
#: Seconds after which every server stops a query; clients give up sooner (60 s, wrk 120 s).
QUERY_TIMEOUT = 300
VENV_BIN = Path(sys.executable).parent
REPOSITORY = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def tree_rss(pid: int) -> int:
    """Resident memory of a process and all its descendants, in bytes."""
    try:
        root = psutil.Process(pid)
        total = root.memory_info().rss
        for child in root.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += child.memory_info().rss
        return total
    except psutil.Error:
        return 0


def tree_cpu_seconds(pid: int) -> float:
    """CPU time (user and system) a process and its descendants have used so far."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0.0
    for process in processes:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            total += times.user + times.system
    return total


def settle(
    pids: list[int], *, idle_share: float = 0.05, window: float = 1.0, limit: float = 120
) -> float:
    """Wait until the process trees of ``pids`` use less than ``idle_share`` of a core.

    A phase that measures latency must not pay for the last one: a server may still be
    finishing queries whose clients gave up (up to its time limit), Virtuoso may be writing
    a checkpoint. Returns the seconds waited (``limit`` at most).
    """
    started = time.monotonic()
    while time.monotonic() - started < limit:
        before = sum(tree_cpu_seconds(pid) for pid in pids)
        time.sleep(window)
        if sum(tree_cpu_seconds(pid) for pid in pids) - before < idle_share * window:
            break
    return time.monotonic() - started


class RssSampler:
    """Samples a process tree's RSS in a thread; ``peak`` since the last ``reset``."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self.last = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.last = tree_rss(self.pid)
            self.peak = max(self.peak, self.last)
            self._stop.wait(self.interval)

    def reset(self) -> int:
        self.last = tree_rss(self.pid)
        self.peak = self.last
        return self.last

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


class LoadProgress:
    """Prints, every ``interval`` seconds, how far a process tree has read a data file.

    A 10M-triple load runs for minutes with nothing on the console (the loaders' own
    progress bars stay silent when their output is a log file); the read offset of the
    file, taken from ``/proc``, shows that it moves and how far it is.
    """

    def __init__(self, label: str, pid: int, data: Path, interval: float = 30) -> None:
        self.label = label
        self.pid = pid
        self.data = data
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)
        self._thread.start()

    def _position(self) -> int | None:
        try:
            root = psutil.Process(self.pid)
            for process in (root, *root.children(recursive=True)):
                with contextlib.suppress(psutil.Error):
                    for opened in process.open_files():
                        if opened.path == str(self.data):
                            return opened.position
        except psutil.Error:
            pass
        return None

    def _run(self, interval: float) -> None:
        size = max(self.data.stat().st_size, 1)
        opened = False
        while not self._stop.wait(interval):
            position = self._position()
            if position is not None:
                opened = True
                read = f"read {position / size:.0%} of {self.data.name}"
            else:  # not open (yet, or any more: the loader builds its indexes)
                read = f"done reading {self.data.name}" if opened else "starting"
            print(
                f"    {self.label}: {read}, {time.monotonic() - self.started:.0f} s, "
                f"RSS {tree_rss(self.pid) / 2**20:,.0f} MB",
                flush=True,
            )

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _run_loader(command: list[str], log: Path, label: str, data: Path) -> tuple[float, int, str]:
    """Run a load command; return wall seconds, peak RSS of its tree, its output."""
    started = time.perf_counter()
    with log.open("a") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        sampler = RssSampler(process.pid, 0.2)
        progress = LoadProgress(label, process.pid, data)
        code = process.wait()
        progress.stop()
        sampler.stop()
    seconds = time.perf_counter() - started
    if code != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({code}); see {log}")
    return seconds, sampler.peak, log.read_text()[-2000:]


def _oxigraph_load(store: Path, data: Path, log: Path, label: str) -> tuple[float, int, str]:
    """``oxigraph load`` of one file into ``store`` (see ``_run_loader``)."""
    command = [str(VENV_BIN / "oxigraph"), "load", "--location", str(store), "--file", str(data)]
    return _run_loader(command, log, label, data)


def write_bundle(path: Path) -> Path:
    """The bundled ontology/data/shapes as N-Quads, one graph per file as panorama names them."""
    import pyoxigraph as ox

    from panorama import bundle
    from panorama.config import DEFAULT_BASE_IRI, bundle_root

    with path.open("wb") as out:
        for bundled in bundle.bundled_files(bundle_root(), DEFAULT_BASE_IRI):
            graph = ox.NamedNode(bundled.graph)
            quads = [
                ox.Quad(q.subject, q.predicate, q.object, graph)
                for q in ox.parse(
                    bundled.path.read_bytes(),
                    ox.RdfFormat.from_extension(bundled.path.suffix[1:]) or ox.RdfFormat.TURTLE,
                    base_iri=bundled.graph,
                )
            ]
            out.write(ox.serialize(quads, format=ox.RdfFormat.N_QUADS))
    return path


@dataclass
class LoadResult:
    seconds: float
    peak_rss: int
    detail: str = ""


@dataclass
class Engine:
    """One server under test; subclasses know how to load and start it."""

    name: str
    workdir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    query_path: str = "/sparql"
    sampler: RssSampler | None = None
    #: the user and password a client needs to write, if the server wants any
    writer: tuple[str, str] | None = None
    #: the highest RSS of the server's earlier starts (the throughput phase restarts it)
    earlier_peak: int = 0

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base_url}{self.query_path}"

    @property
    def log(self) -> Path:
        return self.workdir / f"{self.name}.log"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def pids(self) -> list[int]:
        """The processes that answer for this engine (with any engine behind it)."""
        return [self.pid] if self.process is not None else []

    def load(self, data: Path, bundle_file: Path | None) -> LoadResult:
        """Load ``data`` and, unless None, the bundled files (``write_bundle``)."""
        raise NotImplementedError

    def command(self) -> list[str]:
        raise NotImplementedError

    def environment(self) -> dict[str, str]:
        """Variables the server's command needs besides the benchmark's own."""
        return {}

    def running(self) -> bool:
        """Whether the server's processes are up (not whether it answers)."""
        return self.process is not None and self.process.poll() is None

    def protocol_urls(self) -> tuple[str, str, str]:
        """The query, update and Graph Store URLs, for an engine our server can run on."""
        raise NotImplementedError(f"{self.name} is not an engine for panorama serve --engine")

    def start(self, timeout: float = 900) -> float:
        """Start the server and wait until it answers a query; return the seconds it took."""
        started = time.perf_counter()
        out = self.log.open("a")
        self.process = subprocess.Popen(
            self.command(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=self.workdir,
            env={**os.environ, "PYTHONPATH": str(REPOSITORY), **self.environment()},
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited ({self.process.returncode}); see {self.log}"
                )
            try:
                response = httpx.get(
                    self.url,
                    params={"query": "ASK { ?s ?p ?o }"},
                    headers={"Accept": "application/sparql-results+json"},
                    timeout=5,
                )
                if response.status_code == 200:
                    self.sampler = RssSampler(self.pid)
                    return time.perf_counter() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{self.name} did not answer within {timeout:.0f} s; see {self.log}")

    @property
    def peak_rss(self) -> int:
        """The server's highest RSS (bytes) since its sampler was last reset, over restarts."""
        return max(self.earlier_peak, self.sampler.peak if self.sampler else 0)

    def stop(self) -> None:
        if self.sampler is not None:
            self.sampler.stop()
            self.earlier_peak = max(self.earlier_peak, self.sampler.peak)
        if self.process is None or self.process.poll() is not None:
            return
        # The server runs in a session of its own: signal that group, which is exactly the
        # processes this benchmark started for it.
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@dataclass
class Panorama(Engine):
    workers: int | None = None
    query_timeout: float = QUERY_TIMEOUT

    @property
    def store(self) -> Path:
        return self.workdir / "panorama-store"

    def load(self, data: Path, bundle_file: Path | None) -> LoadResult:
        shutil.rmtree(self.store, ignore_errors=True)
        seconds, rss, output = _run_loader(
            [str(VENV_BIN / "panorama"), "load", str(data), "--store", str(self.store)],
            self.log,
            f"load {self.name}",
            data,
        )
        # The bundle is not loaded here: `panorama serve` syncs it into the store itself.
        found = re.findall(r"Loaded .*", output)
        return LoadResult(seconds, rss, found[-1] if found else "")

    def data_options(self) -> list[str]:
        """Where ``panorama serve`` finds the data."""
        return ["--store", str(self.store)]

    def command(self) -> list[str]:
        command = [
            str(VENV_BIN / "panorama"),
            "serve",
            *self.data_options(),
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--query-timeout",
            str(self.query_timeout),
        ]
        if self.workers is not None:  # 0 is a value: queries in the server's own threads
            command += ["--query-workers", str(self.workers)]
        return command

    def environment(self) -> dict[str, str]:
        if self.workers == 0:
            # Its queries run in the server's own threads: start it with the malloc cache the
            # worker processes get, so that comparing the two measures the workers and the
            # timeouts alone.
            return {"GLIBC_TUNABLES": MALLOC_CACHE}
        return {}


@dataclass
class Oxigraph(Engine):
    query_path: str = "/query"

    @property
    def store(self) -> Path:
        return self.workdir / "oxigraph-store"

    def load(self, data: Path, bundle_file: Path | None) -> LoadResult:
        shutil.rmtree(self.store, ignore_errors=True)
        seconds, rss, output = _oxigraph_load(self.store, data, self.log, f"load {self.name}")
        if bundle_file is not None:
            _oxigraph_load(self.store, bundle_file, self.log, f"load {self.name} bundle")
        return LoadResult(seconds, rss, output.strip().splitlines()[-1] if output.strip() else "")

    def command(self) -> list[str]:
        return [
            str(VENV_BIN / "oxigraph"),
            "serve-read-only",
            "--location",
            str(self.store),
            "--bind",
            f"{HOST}:{self.port}",
            "--union-default-graph",
            # Like our server and Virtuoso, stop a query after 300 s rather than never.
            "--timeout-s",
            str(QUERY_TIMEOUT),
        ]


@dataclass
class OxigraphServer(Oxigraph):
    """``oxigraph serve``, read-write, as ``panorama serve --engine`` needs it: queries at
    ``/query``, updates at ``/update``, the Graph Store Protocol at ``/store``; no union
    default graph (our server names its graphs in every query)."""

    def protocol_urls(self) -> tuple[str, str, str]:
        """The query, update and Graph Store URLs."""
        return (f"{self.base_url}/query", f"{self.base_url}/update", f"{self.base_url}/store")

    def command(self) -> list[str]:
        return [
            str(VENV_BIN / "oxigraph"),
            "serve",
            "--location",
            str(self.store),
            "--bind",
            f"{HOST}:{self.port}",
            # A little above our server's limit, which abandons the request (docs/engines.md).
            "--timeout-s",
            str(QUERY_TIMEOUT + 10),
        ]


#: The one Virtuoso configuration of the benchmarks (the ``virtuoso`` peer and the engine of
#: ``panorama-remote-virtuoso``): loopback only, 40 HTTP threads, no cap on answers that
#: matters here, every query stopped after ``QUERY_TIMEOUT`` s.
_VIRTUOSO_INI = """[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = {host}:{sql_port}
ServerThreads = 40
NumberOfBuffers = 340000
MaxDirtyBuffers = 250000
DirsAllowed = ., {data_dir}
CheckpointInterval = 0

[HTTPServer]
ServerPort = {host}:{http_port}
ServerThreads = 40
MaxClientConnections = 40
KeepAliveTimeout = 10

[SPARQL]
ResultSetMaxRows = 2000000
MaxQueryCostEstimationTime = 0
MaxQueryExecutionTime = {query_timeout}
DefaultQuery = ASK {{ ?s ?p ?o }}
"""

#: A writer for ``panorama serve --engine`` (as ``tests/engines.py`` makes it, see
#: docs/engines.md): the SPARQL_UPDATE role, which ``/sparql-auth`` and
#: ``/sparql-graph-crud-auth`` check (digest only), and read-write permission on all graphs.
_VIRTUOSO_WRITER = (
    "DB.DBA.USER_CREATE('{user}', '{password}'); "
    'GRANT SPARQL_UPDATE TO "{user}"; '
    "DB.DBA.RDF_DEFAULT_USER_PERMS_SET('{user}', 3);"
)
#: Triples of a data file without a graph go here; N-Quads keep their own graphs, since the
#: bulk loader reads ``*.nq`` files as quads (``ld_ttlp_flags``: 255 + 512).
_VIRTUOSO_DEFAULT_GRAPH = "https://w3id.org/cluster-panorama/graph/data/synthetic/default"


@dataclass
class Virtuoso(Engine):
    sql_port: int = field(default_factory=free_port)

    @property
    def directory(self) -> Path:
        return self.workdir / "virtuoso"

    def protocol_urls(self) -> tuple[str, str, str]:
        """Anonymous read-only queries; updates and the Graph Store behind digest auth."""
        return (
            f"{self.base_url}/sparql",
            f"{self.base_url}/sparql-auth",
            f"{self.base_url}/sparql-graph-crud-auth",
        )

    def _isql(self, statement: str) -> str:
        result = subprocess.run(
            ["isql-vt", f"{HOST}:{self.sql_port}", "dba", "dba", f"exec={statement}"],
            capture_output=True,
            text=True,
            timeout=7200,
            check=False,
        )
        if result.returncode != 0 or "Error" in result.stdout + result.stderr:
            raise RuntimeError(f"isql {statement!r}: {result.stdout[-500:]} {result.stderr[-500:]}")
        return result.stdout

    def _bulk_load(self, data: Path) -> None:
        self._isql(
            f"ld_dir('{data.parent}', '{data.name}', '{_VIRTUOSO_DEFAULT_GRAPH}'); "
            "rdf_loader_run(); checkpoint;"
        )

    def load(self, data: Path, bundle_file: Path | None) -> LoadResult:
        shutil.rmtree(self.directory, ignore_errors=True)
        self.directory.mkdir(parents=True)
        (self.directory / "virtuoso.ini").write_text(
            _VIRTUOSO_INI.format(
                dir=self.directory,
                host=HOST,
                sql_port=self.sql_port,
                http_port=self.port,
                data_dir=data.parent,
                query_timeout=QUERY_TIMEOUT,
            )
        )
        # Loading needs the server running: start it on the empty database, load, and keep it.
        self.start()
        assert self.sampler is not None
        started = time.perf_counter()
        self.sampler.reset()
        progress = LoadProgress(f"load {self.name}", self.pid, data)
        try:
            self._bulk_load(data)
        finally:
            progress.stop()
        seconds = time.perf_counter() - started
        peak = self.sampler.peak
        if bundle_file is not None:
            self._bulk_load(bundle_file)
        return LoadResult(seconds, peak, "ld_dir + rdf_loader_run + checkpoint")

    def add_writer(self, user: str = "panorama") -> None:
        """Create ``user`` with a random password as the writer (``writer``); the server runs.

        dba/dba is Virtuoso's initial account: it only listens on loopback, in a folder of
        the benchmark's.
        """
        password = secrets.token_urlsafe(16)
        self._isql(_VIRTUOSO_WRITER.format(user=user, password=password) + " checkpoint;")
        self.writer = (user, password)

    def command(self) -> list[str]:
        return ["virtuoso-t", "-f", "-c", str(self.directory / "virtuoso.ini")]

    def start(self, timeout: float = 900) -> float:
        if self.running():
            return 0.0  # already running since the load
        return super().start(timeout)


@dataclass
class PanoramaOnEngine(Panorama):
    """Our server on an external engine (``panorama serve --engine``): what the remote path
    costs. The engine (``engine_class``) runs read-write (the server syncs the bundle into
    it) on a copy of the data of its own, so that the ratio to ``peer``, the same engine
    answering directly, is the cost of our layer in front of it. This one: the native
    Oxigraph server, against ``oxigraph``.
    """

    engine_class: ClassVar[type[Engine]] = OxigraphServer
    #: the engine of the suite that answers the same queries directly
    peer: ClassVar[str] = "oxigraph"
    engine: Engine = field(init=False)

    def __post_init__(self) -> None:
        # Its own name, so its log (and Virtuoso's folder) sit next to our server's.
        self.engine = self.engine_class(name=f"{self.peer}-engine", workdir=self.workdir)

    def pids(self) -> list[int]:
        return [*super().pids(), *self.engine.pids()]

    def load(self, data: Path, bundle_file: Path | None) -> LoadResult:
        loaded = self.engine.load(data, None)
        detail = f"{loaded.detail} into the engine; the bundle is synced by panorama serve"
        return LoadResult(loaded.seconds, loaded.peak_rss, detail)

    def data_options(self) -> list[str]:
        query, update, store = self.engine.protocol_urls()
        return ["--engine", query, "--engine-update", update, "--engine-store", store]

    def environment(self) -> dict[str, str]:
        from panorama.remote_store import ENV_PASSWORD, ENV_USER

        if self.engine.writer is None:
            return {}
        user, password = self.engine.writer
        return {ENV_USER: user, ENV_PASSWORD: password}

    def running(self) -> bool:
        return super().running() and self.engine.running()

    def start(self, timeout: float = 900) -> float:
        if not self.engine.running():
            self.engine.start(timeout)
        return super().start(timeout)

    def stop(self) -> None:
        super().stop()
        self.engine.stop()


@dataclass
class PanoramaOnVirtuoso(PanoramaOnEngine):
    """Our server on a Virtuoso of its own, against ``virtuoso``: the same ini file and bulk
    load (the data only), then a writer account whose credentials ``panorama serve`` gets
    from the environment (``PANORAMA_ENGINE_USER``/``PANORAMA_ENGINE_PASSWORD``)."""

    engine_class: ClassVar[type[Engine]] = Virtuoso
    peer: ClassVar[str] = "virtuoso"

    def load(self, data: Path, bundle_file: Path | None) -> LoadResult:
        loaded = super().load(data, bundle_file)
        assert isinstance(self.engine, Virtuoso)
        self.engine.add_writer()
        return loaded


@dataclass
class Rdflib(Engine):
    files: tuple[Path, ...] = ()

    def load(self, data: Path, bundle_file: Path | None) -> LoadResult:
        # rdflib holds the graph in the server process: loading is part of starting it.
        self.files = (data,) if bundle_file is None else (data, bundle_file)
        seconds = self.start()
        return LoadResult(seconds, self.sampler.peak if self.sampler else 0, "parse at start-up")

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "benchmarks.rdflib_server",
            "--port",
            str(self.port),
            *map(str, self.files),
        ]

    def start(self, timeout: float = 900) -> float:
        if self.running():
            return 0.0
        return super().start(timeout)


ENGINES = {
    "panorama": Panorama,
    "oxigraph": Oxigraph,
    "virtuoso": Virtuoso,
    "rdflib": Rdflib,
    "panorama-remote": PanoramaOnEngine,
    "panorama-remote-virtuoso": PanoramaOnVirtuoso,
}
#: Each remote engine and the engine of the suite it is compared with (the same engine,
#: answering directly).
REMOTE_PEERS = {
    name: kind.peer for name, kind in ENGINES.items() if issubclass(kind, PanoramaOnEngine)
}
