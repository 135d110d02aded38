"""SPARQL queries run in worker processes, so that a query past its time can really be stopped.

pyoxigraph offers no timeout, and a query cannot be interrupted from Python; a thread that
runs a pathological query holds a core for ever. Each worker is a process with its own
read-only view of the store. The server sends it a job over a socket pair and relays what
comes back: the worker serializes the results with Oxigraph's serializers and sends them in
frames of up to 64 KiB, so large results stream and nothing is built in memory. A query
past its deadline gets its worker killed (SIGKILL frees everything at once) and replaced,
while the other workers keep answering.

The first frame of a result is sent only with its first 64 KiB (or the end), so a query
that computes for long before its first solution (aggregates, ORDER BY) can still get a
clean 503; a stream cut later ends the connection without the closing chunk, which HTTP
clients report as an error instead of a silently shortened result.

Frame: one type byte (R ready, H head, D data, E error, Z end), a 4-byte length, the
payload. A worker says R once it has imported everything, so no query waits on a start-up.

Lookups (``query_text.is_lookup``: one triple pattern, or a DESCRIBE of named resources) skip
the hop: their engine work is proportional to their output, so they are answered in the
server's thread from its own store, with the output capped at one chunk; a lookup whose
answer is larger is handed to a worker and streamed like any other query.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
import logging
import multiprocessing
import signal
import socket
import struct
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Protocol

from panorama.cache import VersionedCache
from panorama.chunks import ChunkWriter
from panorama.errors import PanoramaError, QueryTimeout, ServiceUnavailable
from panorama.negotiation import GRAPH_FORMATS, SOLUTION_FORMATS, Format, negotiate
from panorama.resources import (
    PageJob,
    ResourceAnswer,
    page_timeout,
    render_resource,
    shared_by_pages,
)
from panorama.store import Evaluation, QueryRequest, Store
from panorama.templating import preload
from panorama.worker_processes import WorkerProcess, error_class, receive_job

__all__ = [
    "PoolStats",
    "QueryAnswer",
    "QueryJob",
    "QueryPool",
    "QueryRunner",
    "QueryStream",
    "WholeAnswer",
    "answer_lookup",
    "start_query",
]

log = logging.getLogger("panorama.executor")

_FRAME = struct.Struct("!cI")
#: Allocations between two collections of the youngest generation, in a worker process.
_GC_THRESHOLD = 5_000
HEAD, DATA, ERROR, END, READY = b"H", b"D", b"E", b"Z", b"R"


@dataclass(frozen=True)
class QueryJob:
    """What a worker needs: the query, and the client's wishes for the format."""

    request: QueryRequest
    accept: str | None = None
    format: tuple[str, ...] = ()
    #: A lookup (``query_text.is_lookup``): may be answered in the server's own thread.
    lookup: bool = False


def start_query(store: Store, job: QueryJob) -> tuple[Evaluation, Format]:
    """Start evaluating ``job`` and choose its format (worker and server thread alike).

    Raises:
        PanoramaError: the query or the format cannot be had, with the status to answer.
    """
    try:
        evaluation = store.evaluate(job.request)
    except (OSError, ValueError, RuntimeError) as error:
        raise PanoramaError(f"The query engine failed: {error}") from error
    offered = GRAPH_FORMATS if evaluation.kind == "graph" else SOLUTION_FORMATS
    try:
        chosen = negotiate(job.accept, offered, job.format, known=SOLUTION_FORMATS + GRAPH_FORMATS)
    except PanoramaError:
        # Oxigraph's results must be dropped in the thread that made them, or they are
        # never freed. The error's traceback holds this frame, and the error may end in a
        # reference cycle that the collector breaks later, in whatever thread it runs.
        del evaluation
        raise
    return evaluation, chosen


# Worker side ------------------------------------------------------------------------------


def _send_frame(sock: socket.socket, kind: bytes, payload: bytes) -> None:
    sock.sendall(_FRAME.pack(kind, len(payload)) + payload)


class _FrameWriter(ChunkWriter):
    """Sends each chunk as a frame; the head goes with the first, the end mark with the last."""

    def __init__(self, sock: socket.socket, content_type: str) -> None:
        super().__init__()
        self._sock = sock
        self._content_type = content_type
        self._head_sent = False

    def hand_on(self, chunk: bytes, *, last: bool) -> None:
        message = b""
        if not self._head_sent:
            # "complete": the whole answer follows in this one message.
            head = json.dumps({"content_type": self._content_type, "complete": last}).encode()
            message = _FRAME.pack(HEAD, len(head)) + head
            self._head_sent = True
        message += _FRAME.pack(DATA, len(chunk)) + chunk
        if last:
            message += _FRAME.pack(END, 0)  # with the last chunk: a small answer is one write
        self._sock.sendall(message)


class _AnswerTooLarge(Exception):
    """Raised by ``_CappedBuffer`` to stop Oxigraph's serializer."""


class _CappedBuffer(ChunkWriter):
    """Keeps an answer of one chunk at most (a lookup answered in the server's thread)."""

    data = b""

    def hand_on(self, chunk: bytes, *, last: bool) -> None:
        if not last:
            raise _AnswerTooLarge
        self.data = chunk


@dataclass(frozen=True)
class WholeAnswer:
    """An answer computed whole in the server's thread (a ``QueryAnswer``)."""

    content_type: str
    body: bytes

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.body


def answer_lookup(store: Store | None, job: QueryJob, stats: PoolStats) -> WholeAnswer | None:
    """A lookup's answer computed in the calling thread and counted in ``stats``.

    None when ``job`` is no lookup (``QueryJob.lookup``), there is no store to read, or the
    answer is over one chunk. A lookup's engine work is proportional to its output, so the
    cap bounds the time it holds the thread.

    Raises:
        PanoramaError: the query or the format cannot be had, with the status to answer.
    """
    if not job.lookup or store is None:
        return None
    evaluation, chosen = start_query(store, job)
    answer = _CappedBuffer()
    try:
        evaluation.serialize(answer, chosen.media_type)  # type: ignore[arg-type]
    except _AnswerTooLarge:
        return None
    answer.finish()
    stats.queries += 1
    stats.in_thread += 1
    return WholeAnswer(chosen.content_type, answer.data)


def _error_payload(error: PanoramaError) -> bytes:
    return json.dumps(
        {"class": type(error).__name__, "message": error.message, "status": error.status}
    ).encode()


class _Snapshot:
    """The worker's read-only view of the store, shared by its threads, reopened after writes.

    Each view comes with a cache of what pages share (property names, sources, the names
    of neighbours), which is valid exactly as long as the view.
    """

    def __init__(self, store_path: str, base_iri: str, generation: Synchronized) -> None:
        self._path = Path(store_path)
        self._base_iri = base_iri
        self._generation = generation
        self._lock = threading.Lock()
        self._view: tuple[Store, VersionedCache] | None = None
        self._seen = -1

    def current(self) -> tuple[Store, VersionedCache]:
        """The newest view; a thread still reading an older one keeps it until it is done."""
        with self._lock:
            if self._view is None or self._generation.value != self._seen:
                self._seen = self._generation.value
                store = Store.open_read_only(self._path, base_iri=self._base_iri)
                self._view = (store, shared_by_pages(store))
            return self._view


def _send_page(sock: socket.socket, answer: ResourceAnswer) -> None:
    """A rendered page in one message: head (with its status), body, end mark."""
    head = json.dumps(
        {"content_type": answer.content_type, "complete": True, "status": answer.status}
    ).encode()
    sock.sendall(
        _FRAME.pack(HEAD, len(head))
        + head
        + _FRAME.pack(DATA, len(answer.body))
        + answer.body
        + _FRAME.pack(END, 0)
    )


def _serve(sock: socket.socket, snapshot: _Snapshot) -> None:
    """Answer the jobs sent on one connection until the server closes it."""
    with sock:
        _send_frame(sock, READY, b"")
        while True:
            job = receive_job(sock)
            if not isinstance(job, QueryJob | PageJob):
                return
            try:
                store, cache = snapshot.current()
                if isinstance(job, PageJob):
                    _send_page(sock, render_resource(store, cache, job))
                    continue
                evaluation, chosen = start_query(store, job)
                writer = _FrameWriter(sock, chosen.content_type)
                evaluation.serialize(writer, chosen.media_type)  # type: ignore[arg-type]
                writer.finish()
            except PanoramaError as error:
                _send_frame(sock, ERROR, _error_payload(error))
            except (OSError, ValueError, RuntimeError) as error:
                _send_frame(
                    sock,
                    ERROR,
                    _error_payload(PanoramaError(f"The query engine failed: {error}")),
                )


def _worker_main(
    socks: list[socket.socket], store_path: str, base_iri: str, generation: Synchronized
) -> None:
    """Serve each connection in a thread of its own, over one shared view of the store.

    Oxigraph releases the GIL while it evaluates and serializes, so the threads of one
    process run queries in parallel, sharing one RocksDB instance and its cache.
    """
    # Ctrl-C reaches the whole process group; the server decides when workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from panorama.isolation import isolate_from_network

    isolate_from_network()
    preload("base.html", "_terms.html", "resource.html", "not_found.html")
    # A page makes thousands of short-lived objects, and the neighbours' names it keeps
    # (``shared_by_pages``) are long-lived ones: at the default threshold (700) the
    # collector ran about once a page and a full collection every 125 pages, 0.5 ms a
    # cluster page at 1M triples; at 5,000, 0.06 ms. (The templates make no reference
    # cycles, so what it finds is little.)
    gc.set_threshold(_GC_THRESHOLD, *gc.get_threshold()[1:])
    snapshot = _Snapshot(store_path, base_iri, generation)
    threads = [threading.Thread(target=_serve, args=(sock, snapshot)) for sock in socks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


# Server side ------------------------------------------------------------------------------


class _Worker(WorkerProcess):
    async def connect(self) -> None:
        """Open the stream to the worker and wait for its start-up to finish."""
        if await self.open_streams():
            kind, _ = await self.read_frame()
            if kind != READY:
                raise ConnectionError(f"the query worker started with {kind!r}")

    async def read_frame(self) -> tuple[bytes, bytes]:
        assert self.reader is not None
        kind, length = _FRAME.unpack(await self.reader.readexactly(_FRAME.size))
        return kind, await self.reader.readexactly(length)


def _raise_from_payload(payload: bytes) -> None:
    details = json.loads(payload)
    raise error_class(details["class"])(details["message"])


class QueryAnswer(Protocol):
    """An answer on its way: ``body`` when it came whole, else iterate for its chunks."""

    content_type: str
    body: bytes | None

    def __aiter__(self) -> AsyncIterator[bytes]: ...


class QueryRunner(Protocol):
    """What the routes need of whatever runs the queries (``QueryPool``, ``ThreadedQueries``)."""

    size: int
    threads: int
    stats: PoolStats

    @property
    def alive(self) -> int: ...

    def answer_in_place(self, job: QueryJob) -> WholeAnswer | None:
        """A lookup's whole answer without leaving the calling thread, or None: ``run`` it."""
        ...

    async def run(self, job: QueryJob) -> QueryAnswer: ...

    async def page(self, job: PageJob) -> ResourceAnswer: ...


@dataclass
class PoolStats:
    queries: int = 0
    #: Resource pages rendered (``PageJob``), in workers or threads.
    pages: int = 0
    #: Lookups answered in the server's thread, without a worker.
    in_thread: int = 0
    #: Queries sent to a second worker because the first was killed for another's timeout.
    resent: int = 0
    timeouts: int = 0
    workers_replaced: int = 0
    started_at: float = field(default_factory=time.time)


class _IdleConnections:
    """Idle worker connections, handed out from the first process (by rank) that has one.

    Each worker process has an Oxigraph store of its own, and so its own RocksDB block
    cache. Handed out in turn, a query found the blocks it reads cached in one process of
    four: the benchmark's entity-page query at 1M took 6.5 ms (the native server 3.9 ms);
    from the first process with a free thread, 4.3 ms (3.3 ms). With enough threads a
    process (``--query-threads``, 32), a load of 32 queries stays in one process too.
    """

    def __init__(self) -> None:
        self._queue: asyncio.PriorityQueue[tuple[int, int, _Worker]] = asyncio.PriorityQueue()
        self._order = itertools.count()  # ties go to the most recently idle connection
        self.rank: dict[object, int] = {}  # process → its place in the order

    def put(self, worker: _Worker) -> None:
        rank = self.rank.get(worker.process)
        if rank is not None:  # else its process was replaced: the connection is closed
            self._queue.put_nowait((rank, -next(self._order), worker))

    async def get(self) -> _Worker:
        return (await self._queue.get())[2]

    def take_all(self) -> list[_Worker]:
        """Every idle connection, best first (``put`` back the ones not used)."""
        taken = []
        while not self._queue.empty():
            taken.append(self._queue.get_nowait()[2])
        return taken


class QueryPool:
    """Query worker processes over one store directory, each serving ``threads`` queries.

    A worker process answers each of its connections in a thread; a query past its time
    has its whole process killed. The other queries of that process are sent again to
    another worker if they had not answered yet (a query has no side effects), and cut
    like a timeout if they were streaming. A query whose client went away is left to
    finish (its answer is read and dropped) rather than killed, for the same reason.

    With ``store`` (the server's own), lookups are answered in the calling thread. Resource
    pages run one to a process, as many at once as there are processes; others wait.
    """

    def __init__(
        self,
        store_path: Path,
        *,
        base_iri: str,
        size: int,
        timeout: float,
        threads: int = 1,
        store: Store | None = None,
    ) -> None:
        self.store_path = store_path
        self.store = store
        self.base_iri = base_iri
        self.size = size
        self.threads = threads
        self.timeout = timeout
        self.stats = PoolStats()
        self._context = multiprocessing.get_context("spawn")
        self._generation: Synchronized = self._context.Value("Q", 0)  # type: ignore[assignment]
        self._idle = _IdleConnections()
        # Pages are mostly Python, and threads of one process take turns on its GIL: one
        # page at a time per process, each on a process no other page is on, gave 10 % more
        # pages a second than eight at a time, and queries keep every thread. As many pages
        # at once as processes, even on fewer cores: on two, four at once took a little
        # more CPU a cold page than two (5.7 against 5.5 ms) but kept both cores busy while
        # a page waited for the disk or for the main process, for 6-8 % more pages a second
        # (9 of 9 alternated rounds, half run in each order, store cached or half evicted).
        self._page_slots = asyncio.Semaphore(size)
        self._rendering: dict[object, int] = {}
        # Each live worker process, with its connections.
        self._processes: dict[object, list[_Worker]] = {}
        self._draining: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Start the workers and wait until each can take a query (``close`` stops them all)."""
        connections = [c for rank in range(self.size) for c in self._spawn(rank)]
        await asyncio.gather(*(connection.connect() for connection in connections))
        for connection in connections:
            self._idle.put(connection)

    def refresh(self) -> None:
        """Make every worker reopen the store before its next query, to see new writes."""
        with self._generation.get_lock():
            self._generation.value += 1

    def close(self) -> None:
        for task in self._draining:
            task.cancel()
        for connections in self._processes.values():
            connections[0].kill()
            for connection in connections[1:]:
                connection.disconnect()
        self._processes.clear()

    @property
    def alive(self) -> int:
        """Worker processes running."""
        return sum(1 for c in self._processes.values() if c[0].process.is_alive())

    @property
    def capacity(self) -> int:
        """Queries the workers can run at once."""
        return self.size * self.threads

    def _spawn(self, rank: int) -> list[_Worker]:
        connections = _Worker.start_threaded(
            self._context,
            _worker_main,
            (str(self.store_path), self.base_iri, self._generation),
            "panorama-query-worker",
            self.threads,
        )
        self._processes[connections[0].process] = connections
        self._idle.rank[connections[0].process] = rank
        return connections

    def _replace(self, worker: _Worker) -> None:
        """Kill a worker's process (freeing whatever it held) and start a fresh one.

        Synchronous on purpose: it also runs while a cancelled request unwinds. The other
        connections of the process are closed, so whoever waits on them hears of it.
        """
        connections = self._processes.pop(worker.process, None)
        if connections is None:
            return  # replaced already, because of another of its queries
        worker.kill()
        for connection in connections:
            connection.disconnect()
        self.stats.workers_replaced += 1
        for connection in self._spawn(self._idle.rank.pop(worker.process)):
            self._idle.put(connection)

    def _replaced(self, worker: _Worker) -> bool:
        return worker.process not in self._processes

    def _release(self, worker: _Worker) -> None:
        if not self._replaced(worker):
            self._idle.put(worker)

    def _abandon(self, worker: _Worker, deadline: float) -> None:
        """Free a worker whose client went away while its query was running.

        A process of its own is killed (that frees its core at once). One shared with other
        queries is left to finish: the rest of the answer is read and dropped, and the
        process is killed only at the deadline.
        """
        if self.threads == 1:
            self._replace(worker)
            return

        async def drain() -> None:
            try:
                async with asyncio.timeout_at(deadline):
                    while (await worker.read_frame())[0] not in (END, ERROR):
                        pass  # nobody reads this answer any more
            except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
                self._replace(worker)
            else:
                self._release(worker)

        task = asyncio.get_running_loop().create_task(drain())
        self._draining.add(task)
        task.add_done_callback(self._draining.discard)

    def _busy(self) -> ServiceUnavailable:
        return ServiceUnavailable(
            f"All {self.capacity} query slots stayed busy for {self.timeout:g} s; "
            "try again shortly.",
            headers={"Retry-After": "5"},
        )

    async def _acquire(self, deadline: float, *, page: bool = False) -> _Worker:
        loop = asyncio.get_running_loop()
        while True:
            try:
                worker = await asyncio.wait_for(self._idle.get(), deadline - loop.time())
            except TimeoutError:
                raise self._busy() from None
            if page and self._rendering.get(worker.process):
                worker = self._swap_for_page(worker)
            if not self._replaced(worker):
                return worker

    def _swap_for_page(self, worker: _Worker) -> _Worker:
        """An idle connection of a process no page is on, if there is one, else ``worker``."""
        idle = [worker, *self._idle.take_all()]
        chosen = next((w for w in idle if not self._rendering.get(w.process)), worker)
        for other in idle:
            if other is not chosen:
                self._idle.put(other)
        return chosen

    def answer_in_place(self, job: QueryJob) -> WholeAnswer | None:
        """A lookup's answer from the server's own store, in the calling thread.

        None when ``job`` is no lookup, or its answer is over one chunk: ``run`` it then.
        """
        return answer_lookup(self.store, job, self.stats)

    async def run(self, job: QueryJob) -> QueryAnswer:
        """Start a query; return once its first chunk (or its error) is there.

        Raises:
            QueryTimeout: the query ran past the timeout before sending anything.
            ServiceUnavailable: every worker stayed busy until the timeout.
            PanoramaError: the query failed (syntax error, 406…), with its status.
        """
        if (answer := self.answer_in_place(job)) is not None:
            return answer
        self.stats.queries += 1
        return await self._dispatch(job)

    async def page(self, job: PageJob) -> ResourceAnswer:
        """Render a resource in a worker, with the time limit of a query.

        Raises:
            QueryTimeout: the page took longer than a query may.
            ServiceUnavailable: every worker stayed busy until the timeout.
        """
        self.stats.pages += 1
        deadline = asyncio.get_running_loop().time() + self.timeout
        try:
            async with asyncio.timeout_at(deadline):
                await self._page_slots.acquire()
        except TimeoutError:
            raise self._busy() from None
        try:
            stream = await self._dispatch(job, deadline)
            body = stream.body if stream.body is not None else b"".join([c async for c in stream])
        finally:
            self._page_slots.release()
        return ResourceAnswer(stream.status, body, stream.content_type)

    async def _dispatch(
        self, job: QueryJob | PageJob, deadline: float | None = None
    ) -> QueryStream:
        if deadline is None:
            deadline = asyncio.get_running_loop().time() + self.timeout
        page = isinstance(job, PageJob)
        while True:
            worker = await self._acquire(deadline, page=page)
            process = worker.process
            if page:
                self._rendering[process] = self._rendering.get(process, 0) + 1
            try:
                return await self._run_on(worker, job, deadline)
            except (asyncio.IncompleteReadError, ConnectionError) as error:
                if not self._replaced(worker):
                    self._replace(worker)
                    raise PanoramaError("The query worker stopped unexpectedly.") from error
                # Its process was killed for another query's timeout: send it again.
                self.stats.resent += 1
            finally:
                if page:
                    self._rendering[process] -= 1
                    if not self._rendering[process]:
                        del self._rendering[process]  # the process may be gone for good

    async def _run_on(
        self, worker: _Worker, job: QueryJob | PageJob, deadline: float
    ) -> QueryStream:
        sent = done = False
        try:
            async with asyncio.timeout_at(deadline):
                await worker.connect()  # a replacement may still be starting
                worker.send_job(job)
                sent = True
                kind, payload = await worker.read_frame()
                if kind == ERROR:
                    done = True
                    self._release(worker)
                    _raise_from_payload(payload)
                head = json.loads(payload)
                kind, first = await worker.read_frame()
                if head["complete"]:
                    await worker.read_frame()  # the end mark, already here
                    done = True
                    self._release(worker)
                    return QueryStream(
                        self, None, head["content_type"], first, deadline, head.get("status", 200)
                    )
                done = True
                return QueryStream(self, worker, head["content_type"], first, deadline)
        except TimeoutError:
            self.stats.timeouts += 1
            self._replace(worker)
            if isinstance(job, PageJob):
                raise page_timeout(self.timeout) from None
            raise QueryTimeout(
                f"The query was stopped after {self.timeout:g} s, the time limit of this "
                "endpoint. Narrow it down (LIMIT, more specific patterns) or run it on your own "
                "copy of the data (see /sparql for the dump)."
            ) from None
        except (asyncio.IncompleteReadError, ConnectionError):
            raise  # the worker is gone; ``run`` decides
        except asyncio.CancelledError:
            if not done:  # the client went away
                if sent:
                    self._abandon(worker, deadline)
                else:
                    self._replace(worker)
            raise
        except BaseException:
            if not done:
                self._replace(worker)
            raise


class QueryStream:
    """The body of a query's answer, relayed frame by frame from its worker.

    ``body`` holds the whole answer when it came in one piece (most answers do): it can be
    sent with a Content-Length, without streaming.
    """

    def __init__(
        self,
        pool: QueryPool,
        worker: _Worker | None,
        content_type: str,
        first_chunk: bytes,
        deadline: float,
        status: int = 200,
    ) -> None:
        self.content_type = content_type
        self.status = status
        self.body = first_chunk if worker is None else None
        self._pool = pool
        self._worker = worker
        self._first = first_chunk
        self._deadline = deadline

    async def __aiter__(self) -> AsyncIterator[bytes]:
        worker = self._worker
        if worker is None:
            yield self._first
            return
        finished = False  # the worker is ready for another query
        kind, payload = DATA, self._first
        try:
            async with asyncio.timeout_at(self._deadline):
                while True:
                    if kind == DATA:
                        yield payload
                    elif kind == END:
                        finished = True
                        return
                    else:
                        finished = True
                        # Raising (not returning) cuts the connection, so the client cannot
                        # mistake the part it got for the whole answer.
                        raise RuntimeError(f"query failed while streaming: {payload[:500]!r}")
                    kind, payload = await worker.read_frame()
        except TimeoutError:
            self._pool.stats.timeouts += 1
            log.warning("query stopped after %.0f s while streaming", self._pool.timeout)
            self._pool._replace(worker)
            raise
        except (asyncio.IncompleteReadError, ConnectionError):
            self._pool._replace(worker)  # a no-op if it was killed for another query
            raise
        finally:
            if finished:
                self._pool._release(worker)
            elif not self._pool._replaced(worker):
                self._pool._abandon(worker, self._deadline)  # the client went away
