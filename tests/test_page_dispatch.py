"""Resource pages in the query worker pool: one page at a time per process.

A page is mostly Python, and the threads of one process take turns on its GIL, so two
pages in one process are slower than two pages in two processes. The pool sends a page
to a process no other page is on, lets as many pages run as there are processes, and the
others wait for a turn; queries keep every thread.
"""

from __future__ import annotations

import asyncio
import io
import time
from pathlib import Path

import pytest

from panorama.executor import QueryJob, QueryPool
from panorama.resources import PageJob
from panorama.store import QueryRequest, Store

BASE = "https://example.org/"
# Long enough to hold a thread of the process for the whole test (an n³ cross product).
_VALUES = " ".join(str(i) for i in range(5000))
ENDLESS = f"SELECT (COUNT(*) AS ?n) {{ VALUES ?a {{ {_VALUES} }} VALUES ?b {{ {_VALUES} }} }}"


GRAPH = f"{BASE}graph/g"


def _members(first_name: str = "Mitglied 0") -> bytes:
    members = "\n".join(
        f"<{BASE}id/c> <http://www.w3.org/ns/org#hasMember> <{BASE}id/m{i}> ." for i in range(200)
    )
    names = "\n".join(
        f'<{BASE}id/m{i}> <http://www.w3.org/2000/01/rdf-schema#label> "{name}"@de .'
        for i, name in enumerate([first_name, *(f"Mitglied {i}" for i in range(1, 200))])
    )
    return f"{members}\n{names}\n".encode()


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    store = Store.open(tmp_path / "store", base_iri=BASE)
    store.load(io.BytesIO(_members()), "nt", graph=GRAPH)
    store.close()
    return tmp_path / "store"


def _page(path: str = "id/c") -> PageJob:
    return PageJob(path, "html", "de")


@pytest.mark.parametrize("processes", [2, 4])
def test_pages_go_one_to_a_process_and_the_rest_wait_their_turn(
    store_path: Path, processes: int
) -> None:
    """As many pages at once as there are processes, however many cores: a page waiting
    for the disk or for the main process leaves its core to another."""

    async def scenario() -> tuple[list[int], int, int]:
        pool = QueryPool(store_path, base_iri=BASE, size=processes, threads=4, timeout=30)
        await pool.start()
        most_in_one_process = most_at_once = 0
        try:

            async def watch() -> None:
                nonlocal most_in_one_process, most_at_once
                while True:
                    rendering = pool._rendering.values()
                    most_in_one_process = max(most_in_one_process, *rendering, 0)
                    most_at_once = max(most_at_once, sum(rendering))
                    await asyncio.sleep(0)

            watcher = asyncio.create_task(watch())
            answers = await asyncio.gather(*(pool.page(_page()) for _ in range(12)))
            watcher.cancel()
            return [a.status for a in answers], most_in_one_process, most_at_once
        finally:
            pool.close()

    statuses, most_in_one_process, most_at_once = asyncio.run(scenario())
    assert statuses == [200] * 12
    assert most_in_one_process == 1
    assert most_at_once == processes  # every process rendered, never more


def test_a_page_is_answered_while_its_process_runs_a_query(store_path: Path) -> None:
    async def scenario() -> tuple[int, float]:
        pool = QueryPool(store_path, base_iri=BASE, size=1, threads=2, timeout=60)
        await pool.start()
        try:
            query = asyncio.create_task(pool.run(QueryJob(QueryRequest(ENDLESS), format=("csv",))))
            await asyncio.sleep(0.3)  # the query holds one of the two threads
            started = time.monotonic()
            answer = await pool.page(_page())
            seconds = time.monotonic() - started
            query.cancel()
            return answer.status, seconds
        finally:
            pool.close()

    status, seconds = asyncio.run(scenario())
    assert status == 200
    assert seconds < 10  # not after the query: it would take hours


def test_a_page_that_is_not_found_frees_its_turn(store_path: Path) -> None:
    async def scenario() -> list[int]:
        pool = QueryPool(store_path, base_iri=BASE, size=1, threads=2, timeout=30)
        await pool.start()
        try:
            first = await asyncio.gather(*(pool.page(_page("id/none")) for _ in range(3)))
            then = await asyncio.wait_for(pool.page(_page()), 10)
            return [a.status for a in [*first, then]]
        finally:
            pool.close()

    assert asyncio.run(scenario()) == [404, 404, 404, 200]


def test_a_worker_names_neighbours_anew_after_a_write(store_path: Path) -> None:
    """Workers keep the names pages share per view of the store; a write ends the view."""

    async def scenario() -> list[bytes]:
        pool = QueryPool(store_path, base_iri=BASE, size=1, threads=2, timeout=30)
        await pool.start()
        try:
            before = await pool.page(_page())
            writer = Store.open(store_path, base_iri=BASE)
            writer.replace_graph(GRAPH, _members(first_name="Umbenannt"), "nt")
            writer.close()
            pool.refresh()
            after = await pool.page(_page())
            return [before.body, after.body]
        finally:
            pool.close()

    before, after = asyncio.run(scenario())
    assert b"Mitglied 0<" in before and b"Umbenannt" not in before
    assert b"Umbenannt" in after and b"Mitglied 0<" not in after
