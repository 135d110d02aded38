"""Validations run in worker processes, so that one past its time limit is really stopped.

Oxigraph's queries cannot be interrupted from Python (``executor.py`` explains), and a
submission can be built to make a check slow. As for SPARQL queries, each worker is a
process; the server sends it a job over a socket pair and waits for the report. When
the time limit passes, the worker is killed (SIGKILL frees everything it held) and a
fresh one takes its place. The number of workers bounds how many validations run at
once; ``queue`` bounds how many more may wait for a worker, and the rest get a 503 at
once instead of piling up.

Each worker compiles the shapes once, at start, from the project's bundle. The
reference graph is sent along with a job only when the worker has not seen that version.

Message: a 4-byte length, then a pickle. Jobs and reports are plain dataclasses; errors
travel as (class name, message) and are raised again here as the same ``PanoramaError``.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import pickle
import signal
import socket
from dataclasses import dataclass
from pathlib import Path

from panorama.errors import PanoramaError, ServiceUnavailable, UnprocessableEntity
from panorama.validation import Reference, Report, Submission
from panorama.worker_processes import LENGTH, WorkerProcess, error_class, receive_job

__all__ = ["ValidationJob", "ValidationPool"]

log = logging.getLogger("panorama.validation")


@dataclass(frozen=True)
class ValidationJob:
    submission: Submission
    reference_version: int
    reference: bytes | None  # None: the worker has this version already
    max_triples: int | None


def _send(sock: socket.socket, message: object) -> None:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    sock.sendall(LENGTH.pack(len(payload)) + payload)


def _worker_main(sock: socket.socket, root: str, base_iri: str) -> None:
    """Validate jobs until the server closes its end of the socket."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server decides when workers stop
    from panorama.validation import load_shapes, validate

    shapes = load_shapes(Path(root), base_iri)
    reference: Reference | None = None
    with sock:
        while True:
            job = receive_job(sock)
            if not isinstance(job, ValidationJob):
                return
            try:
                if job.reference is not None:
                    reference = Reference(job.reference_version, job.reference)
                assert reference is not None, "a worker's first job carries the reference"
                report = validate(
                    job.submission,
                    shapes,
                    reference,
                    base_iri=base_iri,
                    max_triples=job.max_triples,
                )
                _send(sock, ("report", report))
            except PanoramaError as error:
                _send(sock, ("error", type(error).__name__, error.message))
            except Exception as error:  # reported, and the worker lives on
                _send(sock, ("error", "PanoramaError", f"The validator failed: {error}"))


class _Worker(WorkerProcess):
    reference_version: int = -1

    async def exchange(self, job: ValidationJob) -> tuple:
        await self.open_streams()
        assert self.reader is not None
        self.send_job(job)
        (length,) = LENGTH.unpack(await self.reader.readexactly(LENGTH.size))
        return pickle.loads(await self.reader.readexactly(length))


class ValidationPool:
    """A fixed number of validation worker processes."""

    def __init__(self, root: Path, *, base_iri: str, size: int, timeout: float, queue: int) -> None:
        self.root = root
        self.base_iri = base_iri
        self.size = size
        self.timeout = timeout
        self.queue = queue
        self.timeouts = 0
        self._context = multiprocessing.get_context("spawn")
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self._workers: set[_Worker] = set()
        self._waiting = 0

    def start(self) -> None:
        for _ in range(self.size):
            self._idle.put_nowait(self._spawn())

    def close(self) -> None:
        for worker in list(self._workers):
            worker.kill()
        self._workers.clear()

    @property
    def pids(self) -> list[int]:
        """Process ids of the live workers (for tests and monitoring)."""
        return [w.process.pid for w in self._workers if w.process.pid and w.process.is_alive()]

    @property
    def busy(self) -> int:
        """Workers at a validation now (for tests and monitoring)."""
        return len(self._workers) - self._idle.qsize()

    def _spawn(self) -> _Worker:
        worker = _Worker.start(
            self._context,
            _worker_main,
            (str(self.root), self.base_iri),
            "panorama-validation-worker",
        )
        self._workers.add(worker)
        return worker

    def _replace(self, worker: _Worker) -> None:
        worker.kill()
        self._workers.discard(worker)
        self._idle.put_nowait(self._spawn())

    async def _acquire(self) -> _Worker:
        if self._idle.empty() and self._waiting >= self.queue:
            raise ServiceUnavailable(
                f"All {self.size} validators are busy and {self._waiting} submission(s) are "
                "waiting; try again in a few seconds.",
                headers={"Retry-After": "5"},
            )
        self._waiting += 1
        try:
            return await asyncio.wait_for(self._idle.get(), self.timeout)
        except TimeoutError:
            raise ServiceUnavailable(
                f"All {self.size} validators stayed busy for {self.timeout:g} s; try again "
                "shortly.",
                headers={"Retry-After": "5"},
            ) from None
        finally:
            self._waiting -= 1

    async def validate(
        self, submission: Submission, reference: Reference, *, max_triples: int | None
    ) -> Report:
        """Validate in a worker; return its report.

        Raises:
            UnprocessableEntity: the validation ran past the time limit (it was stopped).
            ServiceUnavailable: every worker is busy (and the queue is full, or stayed so).
            PanoramaError: what the validation raised (syntax error, too many triples…).
        """
        worker = await self._acquire()
        done = False
        try:
            send_reference = worker.reference_version != reference.version
            job = ValidationJob(
                submission,
                reference.version,
                reference.ntriples if send_reference else None,
                max_triples,
            )
            async with asyncio.timeout(self.timeout):
                answer = await worker.exchange(job)
            worker.reference_version = reference.version
            done = True
        except TimeoutError:
            self.timeouts += 1
            self._replace(worker)
            raise UnprocessableEntity(
                f"The validation was stopped after {self.timeout:g} s, the time limit here. "
                "Split the submission into smaller files, or validate it locally with "
                "`panorama validate FILE`."
            ) from None
        except (asyncio.IncompleteReadError, ConnectionError) as error:
            self._replace(worker)
            raise PanoramaError("The validation worker stopped unexpectedly.") from error
        finally:
            if done:
                self._idle.put_nowait(worker)
            elif worker in self._workers:
                # Cancelled (the client left) while the worker was busy: it cannot be reused.
                self._replace(worker)
        if answer[0] == "error":
            raise error_class(answer[1])(answer[2])
        return answer[1]
