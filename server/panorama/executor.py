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
import json
import logging
import multiprocessing
import signal
import socket
import struct
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path

from panorama.errors import PanoramaError, QueryTimeout, ServiceUnavailable
from panorama.negotiation import GRAPH_FORMATS, SOLUTION_FORMATS, Format, negotiate
from panorama.store import Evaluation, QueryRequest, Store
from panorama.worker_processes import WorkerProcess, error_class, receive_job

__all__ = ["QueryJob", "QueryPool", "QueryStream"]

log = logging.getLogger("panorama.executor")

_FRAME = struct.Struct("!cI")
_CHUNK = 64 * 1024
HEAD, DATA, ERROR, END, READY = b"H", b"D", b"E", b"Z", b"R"


@dataclass(frozen=True)
class QueryJob:
    """What a worker needs: the query, and the client's wishes for the format."""

    request: QueryRequest
    accept: str | None = None
    format: tuple[str, ...] = ()
    #: A lookup (``query_text.is_lookup``): may be answered in the server's own thread.
    lookup: bool = False


def _start(store: Store, job: QueryJob) -> tuple[Evaluation, Format]:
    """Start evaluating ``job`` and choose its format (worker and server thread alike).

    Raises:
        PanoramaError: the query or the format cannot be had, with the status to answer.
    """
    try:
        evaluation = store.evaluate(job.request)
    except (OSError, ValueError, RuntimeError) as error:
        raise PanoramaError(f"The query engine failed: {error}") from error
    offered = GRAPH_FORMATS if evaluation.kind == "graph" else SOLUTION_FORMATS
    chosen = negotiate(job.accept, offered, job.format, known=SOLUTION_FORMATS + GRAPH_FORMATS)
    return evaluation, chosen


# Worker side ------------------------------------------------------------------------------


def _send_frame(sock: socket.socket, kind: bytes, payload: bytes) -> None:
    sock.sendall(_FRAME.pack(kind, len(payload)) + payload)


class _FrameWriter:
    """The binary file Oxigraph serializes into; it sends the head with the first chunk."""

    def __init__(self, sock: socket.socket, content_type: str) -> None:
        self._sock = sock
        self._content_type = content_type
        self._head_sent = False
        self._buffer = bytearray()

    def write(self, data: bytes) -> int:
        self._buffer += data
        if len(self._buffer) >= _CHUNK:
            self._send()
        return len(data)

    def flush(self) -> None:
        """Oxigraph flushes at the end only; sending is driven by the chunk size instead."""

    def _send(self, *, last: bool = False) -> None:
        message = b""
        if not self._head_sent:
            # "complete": the whole answer follows in this one message.
            head = json.dumps({"content_type": self._content_type, "complete": last}).encode()
            message = _FRAME.pack(HEAD, len(head)) + head
            self._head_sent = True
        message += _FRAME.pack(DATA, len(self._buffer)) + bytes(self._buffer)
        if last:
            message += _FRAME.pack(END, 0)
        self._sock.sendall(message)
        self._buffer.clear()

    def finish(self) -> None:
        """Send what is left and the end mark in one write, so a small answer costs one."""
        self._send(last=True)


class _AnswerTooLarge(Exception):
    """Raised by ``_CappedBuffer`` to stop Oxigraph's serializer."""


class _CappedBuffer:
    """The binary file a lookup is serialized into in the server's thread: one chunk at most."""

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, data: bytes) -> int:
        self.data += data
        if len(self.data) > _CHUNK:
            raise _AnswerTooLarge
        return len(data)

    def flush(self) -> None:
        pass


def _error_payload(error: PanoramaError) -> bytes:
    return json.dumps(
        {"class": type(error).__name__, "message": error.message, "status": error.status}
    ).encode()


def _worker_main(
    sock: socket.socket, store_path: str, base_iri: str, generation: Synchronized
) -> None:
    """Serve jobs until the server closes its end of the socket."""
    # Ctrl-C reaches the whole process group; the server decides when workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from panorama.isolation import isolate_from_network

    isolate_from_network()

    store: Store | None = None
    seen = -1
    with sock:
        _send_frame(sock, READY, b"")
        while True:
            job = receive_job(sock)
            if not isinstance(job, QueryJob):
                return
            try:
                if store is None or generation.value != seen:
                    seen = generation.value
                    store = Store.open_read_only(Path(store_path), base_iri=base_iri)
                evaluation, chosen = _start(store, job)
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


@dataclass
class PoolStats:
    queries: int = 0
    #: Lookups answered in the server's thread, without a worker.
    in_thread: int = 0
    timeouts: int = 0
    workers_replaced: int = 0
    started_at: float = field(default_factory=time.time)


class QueryPool:
    """A fixed number of query worker processes over one store directory.

    With ``store`` (the server's own), lookups are answered in the calling thread.
    """

    def __init__(
        self,
        store_path: Path,
        *,
        base_iri: str,
        size: int,
        timeout: float,
        store: Store | None = None,
    ) -> None:
        self.store_path = store_path
        self.store = store
        self.base_iri = base_iri
        self.size = size
        self.timeout = timeout
        self.stats = PoolStats()
        self._context = multiprocessing.get_context("spawn")
        self._generation: Synchronized = self._context.Value("Q", 0)  # type: ignore[assignment]
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self._workers: set[_Worker] = set()

    async def start(self) -> None:
        """Start the workers and wait until each can take a query (``close`` stops them all)."""
        workers = [self._spawn() for _ in range(self.size)]
        await asyncio.gather(*(worker.connect() for worker in workers))
        for worker in workers:
            self._idle.put_nowait(worker)

    def refresh(self) -> None:
        """Make every worker reopen the store before its next query, to see new writes."""
        with self._generation.get_lock():
            self._generation.value += 1

    def close(self) -> None:
        for worker in list(self._workers):
            worker.kill()
        self._workers.clear()

    @property
    def alive(self) -> int:
        return sum(1 for worker in self._workers if worker.process.is_alive())

    def _spawn(self) -> _Worker:
        worker = _Worker.start(
            self._context,
            _worker_main,
            (str(self.store_path), self.base_iri, self._generation),
            "panorama-query-worker",
        )
        self._workers.add(worker)
        return worker

    def _replace(self, worker: _Worker) -> None:
        """Kill a worker (freeing whatever its query held) and put a fresh one in its place.

        Synchronous on purpose: it also runs while a cancelled request unwinds.
        """
        worker.kill()
        self._workers.discard(worker)
        self.stats.workers_replaced += 1
        self._idle.put_nowait(self._spawn())

    def _release(self, worker: _Worker) -> None:
        self._idle.put_nowait(worker)

    async def run(self, job: QueryJob) -> QueryStream:
        """Start a query; return once its first chunk (or its error) is there.

        Raises:
            QueryTimeout: the query ran past the timeout before sending anything.
            ServiceUnavailable: every worker stayed busy until the timeout.
            PanoramaError: the query failed (syntax error, 406…), with its status.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        self.stats.queries += 1
        if job.lookup and self.store is not None:
            evaluation, chosen = _start(self.store, job)
            answer = _CappedBuffer()
            try:
                evaluation.serialize(answer, chosen.media_type)
            except _AnswerTooLarge:
                pass  # too large to hold: a worker streams it
            except (OSError, ValueError, RuntimeError) as error:
                raise PanoramaError(f"The query engine failed: {error}") from error
            else:
                self.stats.in_thread += 1
                return QueryStream(self, None, chosen.content_type, bytes(answer.data), deadline)
        try:
            worker = await asyncio.wait_for(self._idle.get(), self.timeout)
        except TimeoutError:
            raise ServiceUnavailable(
                f"All {self.size} query workers stayed busy for {self.timeout:g} s; "
                "try again shortly.",
                headers={"Retry-After": "5"},
            ) from None
        released = False
        try:
            async with asyncio.timeout_at(deadline):
                await worker.connect()  # a replacement may still be starting
                worker.send_job(job)
                kind, payload = await worker.read_frame()
                if kind == ERROR:
                    self._release(worker)
                    released = True
                    _raise_from_payload(payload)
                head = json.loads(payload)
                kind, first = await worker.read_frame()
                if head["complete"]:
                    await worker.read_frame()  # the end mark, already here
                    self._release(worker)
                    released = True
                    return QueryStream(self, None, head["content_type"], first, deadline)
        except TimeoutError:
            self.stats.timeouts += 1
            self._replace(worker)
            raise QueryTimeout(
                f"The query was stopped after {self.timeout:g} s, the time limit of this "
                "endpoint. Narrow it down (LIMIT, more specific patterns) or run it on your own "
                "copy of the data (see /sparql for the dump)."
            ) from None
        except (asyncio.IncompleteReadError, ConnectionError) as error:
            self._replace(worker)
            raise PanoramaError("The query worker stopped unexpectedly.") from error
        except BaseException:
            if not released:
                self._replace(worker)
            raise
        return QueryStream(self, worker, head["content_type"], first, deadline)


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
    ) -> None:
        self.content_type = content_type
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
        finished = False
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
                        # Raising (not returning) cuts the connection, so the client cannot
                        # mistake the part it got for the whole answer.
                        raise RuntimeError(f"query failed while streaming: {payload[:500]!r}")
                    kind, payload = await worker.read_frame()
        except TimeoutError:
            self._pool.stats.timeouts += 1
            log.warning("query stopped after %.0f s while streaming", self._pool.timeout)
            raise
        finally:
            if finished:
                self._pool._release(worker)
            else:
                # Cut short (timeout, error, client gone): the worker may still be writing.
                self._pool._replace(worker)
