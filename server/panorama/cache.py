"""Answers computed from the store, kept until the store changes.

The graph changes only through loads and contributions, and every write bumps
``Store.version``; a cache keyed on that version can never serve a stale answer.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from panorama.store import Store

__all__ = ["VersionedCache"]

T = TypeVar("T")


class VersionedCache:
    """A bounded LRU map, emptied whenever ``store.version`` moves.

    Bounded by its number of entries and, with ``weigh``, by their total weight (bytes).
    """

    def __init__(
        self,
        store: Store,
        maxsize: int = 4096,
        *,
        max_weight: int | None = None,
        max_entry_weight: int | None = None,
        weigh: Callable[[object], int] | None = None,
    ) -> None:
        self._store = store
        self._maxsize = maxsize
        self._max_weight = max_weight
        #: The heaviest entry kept; heavier values are not worth gathering to ``put``.
        self.max_entry_weight = max_entry_weight if max_entry_weight is not None else max_weight
        self._weigh = weigh
        self._weight = 0
        self._version = store.version
        self._entries: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    @property
    def version(self) -> int:
        """The store version now; pass it to ``put`` for a value computed from here on."""
        return self._store.version

    def peek(self, key: Hashable) -> object | None:
        """The cached value for ``key`` at the store's current version, or None."""
        with self._lock:
            if self._store.version != self._version:
                self._clear(self._store.version)
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
                self.hits += 1
            return value

    def put(self, key: Hashable, value: object, *, version: int) -> None:
        """Keep ``value``, computed from the store at ``version``, unless the store moved on."""
        if self._maxsize == 0:
            return
        with self._lock:
            if self._store.version == version == self._version:
                self._keep(key, value)

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The cached value for ``key``, computing it (outside the lock) when missing."""
        version = self._store.version
        with self._lock:
            if version != self._version:
                self._clear(version)
            if key in self._entries:
                self._entries.move_to_end(key)
                self.hits += 1
                return self._entries[key]  # type: ignore[return-value]
        self.misses += 1
        value = compute()
        with self._lock:
            # A write during compute() makes this value possibly stale: don't keep it.
            if self._store.version == version == self._version:
                self._keep(key, value)
        return value

    # Both with the lock held.

    def _clear(self, version: int) -> None:
        self._entries.clear()
        self._weight = 0
        self._version = version

    def _keep(self, key: Hashable, value: object) -> None:
        weight = self._weigh(value) if self._weigh else 0
        if self.max_entry_weight is not None and weight > self.max_entry_weight:
            return
        if (old := self._entries.pop(key, None)) is not None and self._weigh:
            self._weight -= self._weigh(old)
        self._entries[key] = value
        self._weight += weight
        while len(self._entries) > self._maxsize or (
            self._max_weight is not None and self._weight > self._max_weight
        ):
            _, evicted = self._entries.popitem(last=False)
            if self._weigh:
                self._weight -= self._weigh(evicted)
