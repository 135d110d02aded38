"""Identical queries at the same moment share one evaluation.

The answer cache keeps an answer once it is complete. Until then, every copy of a query
that arrives would be evaluated anew: a heavy query sent by many clients at once (a
dashboard opened by a class, a harvester's retries, a notebook run by a team) would take a
worker each. A query that arrives while the same job (text, dataset, format) is being
evaluated on the same store version waits for that evaluation instead.

Only answers that come whole (up to 64 KiB) are shared: a streamed answer goes to the one
client that asked, and the others then run the query themselves. An error of the query
(a timeout, a bad query) is every waiter's error; if the first client's request ends
otherwise (it went away), the others run the query themselves. Keying on the store
version keeps answers fresh: a request that arrives after a write never joins an
evaluation that started before it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable

from panorama.errors import PanoramaError

__all__ = ["Flight", "Flights", "Landing"]

#: What a waiter gets: the answer's bytes and media type, the query's error, or None (run
#: it yourself).
Landing = tuple[bytes, str] | PanoramaError | None


class Flight:
    """One evaluation others may wait for; ``land`` it exactly once, whatever happens."""

    def __init__(self, running: dict[Hashable, Flight], key: Hashable) -> None:
        self._running = running  # the flights under way, which this one leaves on landing
        self._key = key
        self.future: asyncio.Future[Landing] = asyncio.get_running_loop().create_future()

    def land(self, landing: Landing) -> None:
        if self._running.get(self._key) is self:
            del self._running[self._key]
        if not self.future.done():
            self.future.set_result(landing)


class Flights:
    """The evaluations under way, by job and store version."""

    def __init__(self) -> None:
        self._running: dict[Hashable, Flight] = {}
        self.shared = 0

    def __len__(self) -> int:
        return len(self._running)

    def take_off(self, key: Hashable) -> Flight | None:
        """A new flight for ``key``, or None if one is under way: ``wait_for`` it then."""
        if key in self._running:
            return None
        flight = self._running[key] = Flight(self._running, key)
        return flight

    async def wait_for(self, key: Hashable) -> Landing:
        """What the flight under way for ``key`` lands with (None if there is none)."""
        flight = self._running.get(key)
        if flight is None:
            return None
        # Shielded: a waiter whose client leaves must not cancel the others' answer.
        landing = await asyncio.shield(flight.future)
        if landing is not None:
            self.shared += 1
        return landing
