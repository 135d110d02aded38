"""Worker processes that the server can kill: the part the query and validation pools share.

A worker is a process started with ``spawn`` (never ``fork``: the server has threads and an
event loop) and connected to the server by a socket pair. Jobs go to it as length-prefixed
pickles; a worker past its time is killed with SIGKILL, which frees whatever it held, and
reaped in the background.

Workers start with a deeper malloc cache than glibc's default (``deepen_malloc_cache``):
they are where the engine evaluates queries, and that is mostly allocating and freeing.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import pickle
import socket
import struct
import threading
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from multiprocessing.context import SpawnContext

from panorama import errors
from panorama.errors import PanoramaError

__all__ = [
    "LENGTH",
    "MALLOC_CACHE",
    "WorkerProcess",
    "deepen_malloc_cache",
    "error_class",
    "receive_exactly",
    "receive_job",
]

LENGTH = struct.Struct("!I")

#: glibc keeps 7 freed blocks of each small size per thread by default; past that a free
#: goes back to the shared arena, and the next allocation fetches it again. Evaluating a
#: property path or an aggregate, the engine allocates and frees small blocks by the
#: million (malloc and free were 22 % of its time on the benchmark's ``topic-path``).
#: With 1,000 a thread, measured at 1M triples two processes at a time on two cores, in
#: three pairs: ``topic-path`` 7 % faster, ``field-counts`` 12 %, ``events-window`` 10 %,
#: ``regex`` 2 %, a 100,000-row SELECT the same, peak RSS +1 MB; 128 did as well, 65,535
#: no better for 15 MB more.
MALLOC_CACHE = "glibc.malloc.tcache_count=1000"


def deepen_malloc_cache(environ: MutableMapping[str, str] = os.environ) -> None:
    """Make the processes started from now on use ``MALLOC_CACHE``, unless told otherwise.

    glibc reads its tunables when a process starts, so this sets the environment the
    workers inherit (``spawn`` passes the server's). An operator's own
    ``glibc.malloc.tcache_count`` in ``GLIBC_TUNABLES`` is left as it is; other C
    libraries ignore the variable.
    """
    tunables = environ.get("GLIBC_TUNABLES", "")
    if "glibc.malloc.tcache_count=" in tunables:
        return
    environ["GLIBC_TUNABLES"] = f"{tunables}:{MALLOC_CACHE}" if tunables else MALLOC_CACHE


def receive_exactly(sock: socket.socket, size: int) -> bytes | None:
    """``size`` bytes from a blocking socket, or None once the server has gone."""
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(min(size - len(chunks), 1 << 20))
        if not chunk:
            return None
        chunks += chunk
    return bytes(chunks)


def receive_job(sock: socket.socket) -> object | None:
    """The next job a worker is sent, or None when the server closed its end."""
    header = receive_exactly(sock, LENGTH.size)
    if header is None:
        return None
    payload = receive_exactly(sock, LENGTH.unpack(header)[0])
    return None if payload is None else pickle.loads(payload)


def error_class(name: str) -> type[PanoramaError]:
    """The error class a worker named, so its status survives the trip (else 500)."""
    found = getattr(errors, name, PanoramaError)
    return found if isinstance(found, type) and issubclass(found, PanoramaError) else PanoramaError


@dataclass(eq=False)
class WorkerProcess:
    """One worker as the server sees it: the process and the streams to it."""

    process: multiprocessing.process.BaseProcess
    sock: socket.socket
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None

    @classmethod
    def start(
        cls, context: SpawnContext, target: Callable[..., None], args: tuple, name: str
    ) -> WorkerProcess:
        """Start ``target(worker_socket, *args)`` in a new process."""
        parent_end, child_end = socket.socketpair()
        process = context.Process(target=target, args=(child_end, *args), name=name, daemon=True)
        deepen_malloc_cache()
        process.start()
        child_end.close()
        return cls(process, parent_end)

    @classmethod
    def start_threaded(
        cls,
        context: SpawnContext,
        target: Callable[..., None],
        args: tuple,
        name: str,
        channels: int,
    ) -> list[WorkerProcess]:
        """Start ``target([worker_socket, …], *args)``: one process, ``channels`` connections.

        The process serves each connection in a thread of its own; killing it ends them all.
        """
        pairs = [socket.socketpair() for _ in range(channels)]
        children = [child for _, child in pairs]
        process = context.Process(target=target, args=(children, *args), name=name, daemon=True)
        deepen_malloc_cache()
        process.start()
        for child in children:
            child.close()
        return [cls(process, parent) for parent, _ in pairs]

    async def open_streams(self) -> bool:
        """Open the asyncio streams once; True the first time (the worker is new)."""
        if self.reader is not None:
            return False
        self.reader, self.writer = await asyncio.open_connection(sock=self.sock)
        return True

    def send_job(self, job: object) -> None:
        assert self.writer is not None
        payload = pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
        self.writer.write(LENGTH.pack(len(payload)) + payload)

    def kill(self) -> None:
        self.process.kill()
        # Reap it once it is gone, without making anyone wait for that.
        threading.Thread(target=self.process.join, daemon=True).start()
        self.disconnect()

    def disconnect(self) -> None:
        """Close this end of the connection (the process may serve others)."""
        if self.writer is not None:
            self.writer.close()
        else:
            self.sock.close()
