"""Queries in the server's own threads: no worker processes, and therefore no timeouts.

``--query-workers 0`` chooses this. It is the usual design of a Python SPARQL endpoint, and
what ``benchmarks/`` compares the worker processes with, to measure what real timeouts
cost. A query here cannot be stopped: use it only where every query is trusted. SERVICE
is still refused before evaluation (``sparql.check_query``), but the threads share the
server's network.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator

import anyio.to_thread

from panorama.chunks import ChunkWriter
from panorama.errors import PanoramaError
from panorama.executor import (
    PoolStats,
    QueryAnswer,
    QueryJob,
    WholeAnswer,
    answer_lookup,
    start_query,
)
from panorama.resources import PageJob, ResourceAnswer, render_resource, shared_by_pages
from panorama.store import Store

__all__ = ["ThreadedQueries"]

#: Chunks a thread may serialize ahead of the client.
_AHEAD = 4
_WHOLE, _PART, _END, _FAILED = "whole", "part", "end", "failed"


class _Gone(Exception):
    """Raised into the serializer when nobody reads the answer any more."""


def _without_frames(error: BaseException) -> BaseException:
    """``error``, and the errors it came from, without their tracebacks.

    The error goes on to the event loop, and its frames hold the evaluation: Oxigraph's
    results are freed only in the thread that made them (``executor.start_query``), and
    dropped in another they stay in memory.
    """
    seen: set[int] = set()
    link: BaseException | None = error
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        link.__traceback__ = None
        link = link.__cause__ or link.__context__
    return error


class ThreadStream(ChunkWriter):
    """An answer serialized in a thread and handed to the event loop chunk by chunk.

    ``body`` is the whole answer when it fitted in one chunk, as with ``QueryStream``.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self.content_type = ""
        self.body: bytes | None = None
        self._loop = loop
        self._items: asyncio.Queue[tuple[str, object]] = asyncio.Queue()
        self._room = threading.Semaphore(_AHEAD)
        self._gone = False
        self._first = b""

    # In the thread -------------------------------------------------------------------------

    def produce(self, store: Store, job: QueryJob) -> None:
        """Evaluate and serialize ``job``, handing the chunks over as they are written."""
        with contextlib.suppress(_Gone):
            self._produce(store, job)

    def _produce(self, store: Store, job: QueryJob) -> None:
        try:
            evaluation, chosen = start_query(store, job)
            self.content_type = chosen.content_type
            evaluation.serialize(self, chosen.media_type)  # type: ignore[arg-type]
        except PanoramaError as error:
            self._hand_over(_FAILED, _without_frames(error))
            return
        self.finish()

    def hand_on(self, chunk: bytes, *, last: bool) -> None:
        if not last:
            self._hand_over(_PART, chunk)
        elif self.whole:
            self._hand_over(_WHOLE, chunk)
        else:
            self._hand_over(_PART, chunk)
            self._hand_over(_END, b"")

    def _hand_over(self, kind: str, payload: object) -> None:
        self._room.acquire()
        if self._gone:
            raise _Gone
        self._loop.call_soon_threadsafe(self._items.put_nowait, (kind, payload))

    # In the event loop ---------------------------------------------------------------------

    async def _take(self) -> tuple[str, object]:
        item = await self._items.get()
        self._room.release()
        return item

    async def first(self) -> None:
        """Wait for the first chunk; raise the query's error if it failed before it."""
        try:
            kind, payload = await self._take()
        except BaseException:
            self.abandon()
            raise
        if kind == _FAILED:
            raise payload  # type: ignore[misc]
        assert isinstance(payload, bytes)
        if kind == _WHOLE:
            self.body = payload
        self._first = payload

    def abandon(self) -> None:
        """Nobody reads on: the thread stops at its next chunk."""
        self._gone = True
        self._room.release()  # wake the thread if it waits for room

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self.body is not None:
            yield self.body
            return
        try:
            yield self._first
            while True:
                kind, payload = await self._take()
                if kind == _END:
                    return
                if kind == _FAILED:
                    # Raising (not returning) cuts the connection, as QueryStream does.
                    raise RuntimeError(f"query failed while streaming: {payload}")
                yield payload  # type: ignore[misc]
        finally:
            self.abandon()


class ThreadedQueries:
    """The query runner for ``--query-workers 0``, with ``QueryPool``'s interface."""

    size = 0
    threads = 0
    alive = 0

    def __init__(self, store: Store) -> None:
        self.store = store
        self.stats = PoolStats()
        self._running: set[asyncio.Future[None]] = set()
        self._shared = shared_by_pages(store)

    @property
    def running(self) -> int:
        """Queries whose thread has not finished."""
        return len(self._running)

    @property
    def capacity(self) -> int:
        """Queries run at once: the size of the framework's thread pool."""
        return int(anyio.to_thread.current_default_thread_limiter().total_tokens)

    async def start(self) -> None:
        pass

    def refresh(self) -> None:
        pass  # the threads read the server's own store, always current

    def close(self) -> None:
        pass

    def answer_in_place(self, job: QueryJob) -> WholeAnswer | None:
        """A lookup's answer in the calling thread, as ``QueryPool`` gives it; else None."""
        return answer_lookup(self.store, job, self.stats)

    async def run(self, job: QueryJob) -> QueryAnswer:
        """Start the query in a thread; return once its first chunk (or its error) is there.

        A lookup is answered in the calling thread, as ``QueryPool`` answers it.
        """
        if (answer := self.answer_in_place(job)) is not None:
            return answer
        self.stats.queries += 1
        stream = ThreadStream(asyncio.get_running_loop())
        task = asyncio.ensure_future(anyio.to_thread.run_sync(stream.produce, self.store, job))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        await stream.first()
        return stream

    async def page(self, job: PageJob) -> ResourceAnswer:
        """Render a resource in a thread of the server."""
        self.stats.pages += 1
        return await anyio.to_thread.run_sync(render_resource, self.store, self._shared, job)
