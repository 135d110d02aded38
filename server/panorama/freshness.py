"""Several servers on one engine: each request first learns whether another one wrote.

Every cache of a server (answers, pages, VoID counts, dumps) is keyed on ``store.version``,
which moves when this server writes. A write through another server on the same engine is
learned from the engine's revision token (``RemoteStore.arefresh``: one small query).
``StoreFreshness`` runs that check before a request is answered, so a request that arrives
after another server answered a write (201) never gets an answer from before it.

Checks are shared: a request waits for a check that started after it arrived (it sees
every write answered before that), joining one already running rather than sending its
own, so that under load one revision query serves many requests. ``interval`` (seconds)
trades that guarantee for fewer queries: within it, the last check is trusted.

If the engine cannot be asked, the caches forget (an answer kept from before could be
stale) and the request goes on: it is answered from the engine, or gets its 503.
"""

from __future__ import annotations

import asyncio
import logging

from starlette.types import ASGIApp, Receive, Scope, Send

from panorama.remote_store import RemoteStore
from panorama.store import StoreError

__all__ = ["RevisionWatch", "StoreFreshness"]

log = logging.getLogger("panorama.freshness")


class RevisionWatch:
    """Shared, coalesced revision checks of one remote store."""

    def __init__(self, store: RemoteStore, *, interval: float = 0.0) -> None:
        self.store = store
        self.interval = interval
        self.checks = 0
        self._running: asyncio.Future[None] | None = None
        self._running_since = 0.0
        self._last_started = float("-inf")

    async def ensure_fresh(self) -> None:
        """Return once a check that started after this call has finished."""
        loop = asyncio.get_running_loop()
        arrived = loop.time()
        if self.interval and arrived - self._last_started < self.interval:
            return
        while True:
            running = self._running
            # A check that is done but whose callback has not run yet is over too (and
            # awaiting it would not yield, so this loop would spin).
            if running is None or running.done():
                running = self._start(loop)
            elif self._running_since < arrived:
                # Started before we came: it may miss a write answered just before. Wait
                # for it to end, then join (or start) the next one.
                await asyncio.shield(running)
                continue
            await asyncio.shield(running)
            return

    def _start(self, loop: asyncio.AbstractEventLoop) -> asyncio.Future[None]:
        self._running_since = self._last_started = loop.time()
        self.checks += 1
        task = loop.create_task(self._check())
        self._running = task
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Future[None]) -> None:
        if self._running is task:
            self._running = None

    async def _check(self) -> None:
        try:
            await self.store.arefresh()
        except StoreError as error:  # the caches have forgotten; the request goes on
            log.warning("cannot read the engine's revision: %s", error.message)


class StoreFreshness:
    """Middleware: the app's ``RevisionWatch`` (``app.state.freshness``) runs first."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith("/static/"):
            watch = getattr(scope["app"].state, "freshness", None)
            if watch is not None:
                await watch.ensure_fresh()
        await self.app(scope, receive, send)
