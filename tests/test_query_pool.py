"""Worker processes that run several queries at once (``--query-threads``).

A process is killed when one of its queries runs past the timeout; the others must not pay
for it: those that had not answered are sent again, and a client that goes away does not
get a shared process killed.
"""

from __future__ import annotations

import asyncio
import time
import traceback
from pathlib import Path

import psutil
import pytest

from panorama.errors import NotAcceptable, QueryTimeout
from panorama.executor import QueryJob, QueryPool, start_query
from panorama.in_thread import ThreadedQueries
from panorama.store import Evaluation, QueryRequest, Store
from panorama.worker_processes import MALLOC_CACHE, deepen_malloc_cache

from support import counting_query

MEDIUM = counting_query(250)
# Half the work of MEDIUM, for the test that waits about five times as long as it takes
# (and measures it first).
SHORTER = counting_query(200)
ENDLESS = counting_query(5000)  # hours


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    store = Store.open(tmp_path / "store", base_iri="https://example.org/")
    store.close()
    return tmp_path / "store"


def _job(query: str) -> QueryJob:
    return QueryJob(QueryRequest(query), format=("csv",))


async def _answer(pool: QueryPool, query: str) -> bytes:
    stream = await pool.run(_job(query))
    return b"".join([chunk async for chunk in stream])


def test_a_query_whose_process_is_killed_for_another_is_sent_again(store_path: Path) -> None:
    async def calibrate() -> float:
        pool = QueryPool(store_path, base_iri="https://example.org/", size=1, timeout=60)
        await pool.start()
        try:
            started = time.monotonic()
            await _answer(pool, SHORTER)
            return time.monotonic() - started
        finally:
            pool.close()

    async def scenario(medium_seconds: float) -> tuple[object, bytes, float]:
        # Long enough for the medium query to run, be killed half-way, and run again.
        timeout = 3 * medium_seconds + 2
        pool = QueryPool(
            store_path, base_iri="https://example.org/", size=1, threads=2, timeout=timeout
        )
        await pool.start()
        try:
            endless = asyncio.create_task(_answer(pool, ENDLESS))
            await asyncio.sleep(timeout - medium_seconds / 2)
            # Still computing when its neighbour's timeout kills their shared process.
            started = time.monotonic()
            medium = await _answer(pool, SHORTER)
            seconds = time.monotonic() - started
            endless_outcome = await asyncio.gather(endless, return_exceptions=True)
            assert pool.stats.timeouts == 1
            assert pool.stats.workers_replaced == 1
            assert pool.stats.resent == 1
            return endless_outcome[0], medium, seconds
        finally:
            pool.close()

    medium_seconds = asyncio.run(calibrate())
    endless, medium, seconds = asyncio.run(scenario(medium_seconds))
    assert isinstance(endless, QueryTimeout)
    assert medium == f"n\r\n{200**3}\r\n".encode()
    assert seconds > medium_seconds  # it was in flight at the kill, then ran again


def test_a_client_that_goes_away_does_not_get_a_shared_process_killed(store_path: Path) -> None:
    async def scenario() -> None:
        pool = QueryPool(store_path, base_iri="https://example.org/", size=1, threads=2, timeout=30)
        await pool.start()
        try:
            abandoned = asyncio.create_task(_answer(pool, MEDIUM))
            neighbour = asyncio.create_task(_answer(pool, MEDIUM))
            await asyncio.sleep(0.3)
            abandoned.cancel()
            assert await neighbour == f"n\r\n{250**3}\r\n".encode()
            assert pool.stats.workers_replaced == 0
            # The abandoned query's answer is read and dropped; then both slots take queries.
            answers = await asyncio.gather(*(_answer(pool, "ASK {}") for _ in range(2)))
            assert all(b"true" in answer for answer in answers)
            assert pool.stats.workers_replaced == 0
        finally:
            pool.close()

    asyncio.run(scenario())


def test_a_client_that_goes_away_gets_a_process_of_its_own_killed(store_path: Path) -> None:
    async def scenario() -> None:
        pool = QueryPool(store_path, base_iri="https://example.org/", size=1, threads=1, timeout=30)
        await pool.start()
        try:
            abandoned = asyncio.create_task(_answer(pool, ENDLESS))
            await asyncio.sleep(0.3)
            abandoned.cancel()
            await asyncio.sleep(0)
            assert pool.stats.workers_replaced == 1  # the core is freed at once
            assert b"true" in await _answer(pool, "ASK {}")
        finally:
            pool.close()

    asyncio.run(scenario())


def _cpu_seconds(process: object) -> float:
    times = psutil.Process(process.pid).cpu_times()  # type: ignore[attr-defined]
    return times.user + times.system


def test_queries_go_to_the_first_process_while_it_has_a_free_thread(store_path: Path) -> None:
    """Each process has its own store and block cache: one at a time, queries share one."""
    small = counting_query(60)  # a few milliseconds

    async def scenario() -> list[float]:
        pool = QueryPool(store_path, base_iri="https://example.org/", size=2, threads=2, timeout=60)
        await pool.start()
        try:
            processes = list(pool._processes)
            before = [_cpu_seconds(p) for p in processes]
            for _ in range(40):
                await _answer(pool, small)
            return [_cpu_seconds(p) - b for p, b in zip(processes, before, strict=True)]
        finally:
            pool.close()

    first, second = asyncio.run(scenario())
    assert first > 0.05, "the queries did not run in the first process"
    assert second < first / 5, (first, second)


def test_workers_start_with_a_deeper_malloc_cache(
    store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """glibc reads its tunables when a process starts: the worker's own environment shows it."""
    monkeypatch.setenv("GLIBC_TUNABLES", "")

    async def scenario() -> bytes:
        pool = QueryPool(store_path, base_iri="https://example.org/", size=1, timeout=60)
        await pool.start()
        try:
            (process,) = pool._processes
            return Path(f"/proc/{process.pid}/environ").read_bytes()  # type: ignore[attr-defined]
        finally:
            pool.close()

    environment = asyncio.run(scenario()).split(b"\0")
    assert f"GLIBC_TUNABLES={MALLOC_CACHE}".encode() in environment


@pytest.mark.parametrize(
    ("operator", "workers"),
    [
        (None, MALLOC_CACHE),
        ("glibc.malloc.arena_max=2", f"glibc.malloc.arena_max=2:{MALLOC_CACHE}"),
        ("glibc.malloc.tcache_count=7", "glibc.malloc.tcache_count=7"),
    ],
)
def test_an_operators_malloc_tunables_are_kept(operator: str | None, workers: str) -> None:
    environ = {} if operator is None else {"GLIBC_TUNABLES": operator}
    deepen_malloc_cache(environ)
    deepen_malloc_cache(environ)  # each worker's start calls it: the second changes nothing
    assert environ == {"GLIBC_TUNABLES": workers}


def _evaluations_held(error: BaseException) -> list[str]:
    """Names of the frame variables holding an ``Evaluation`` in the tracebacks of ``error``
    and of the errors it came from."""
    held = []
    link: BaseException | None = error
    while link is not None:
        for frame, _ in traceback.walk_tb(link.__traceback__):
            held += [n for n, v in frame.f_locals.items() if isinstance(v, Evaluation)]
        link = link.__cause__ or link.__context__
    return held


def test_a_refused_format_keeps_no_evaluation_in_its_error() -> None:
    """Oxigraph's results are freed only in the thread that made them ("unsendable, but is
    being dropped on another thread", and they stay in memory). A refused format comes
    after the query was started: the error's traceback must not hold the evaluation, or
    a reference cycle through the error leaves it to the collector, in any thread."""
    store = Store.in_memory(base_iri="https://example.org/")
    job = QueryJob(QueryRequest("SELECT * WHERE { ?s ?p ?o }"), accept="image/png")
    with pytest.raises(NotAcceptable) as raised:
        start_query(store, job)
    assert _evaluations_held(raised.value) == []


def test_an_error_from_a_query_thread_keeps_no_evaluation() -> None:
    """With ``--query-workers 0`` an error met while serializing goes from the query's thread
    to the event loop: it must not take the evaluation along (see the test above)."""
    store = Store.in_memory(base_iri="https://example.org/")
    query = (
        "CONSTRUCT { <https://example.org/s> <https://example.org/p> ?x } WHERE { "
        "VALUES ?n { 1 2 3 } BIND(IF(?n = 3, <<( <https://example.org/a> "
        "<https://example.org/b> <https://example.org/c> )>>, ?n) AS ?x) }"
    )
    job = QueryJob(QueryRequest(query), accept="application/ld+json")

    async def ask() -> None:
        await ThreadedQueries(store).run(job)

    with pytest.raises(NotAcceptable, match="triple terms") as raised:
        asyncio.run(ask())
    assert _evaluations_held(raised.value) == []
