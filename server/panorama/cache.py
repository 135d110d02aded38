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
    """A bounded LRU map, emptied whenever ``store.version`` moves."""

    def __init__(self, store: Store, maxsize: int = 4096) -> None:
        self._store = store
        self._maxsize = maxsize
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
                self._entries.clear()
                self._version = self._store.version
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
                self._entries[key] = value
                if len(self._entries) > self._maxsize:
                    self._entries.popitem(last=False)

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The cached value for ``key``, computing it (outside the lock) when missing."""
        version = self._store.version
        with self._lock:
            if version != self._version:
                self._entries.clear()
                self._version = version
            if key in self._entries:
                self._entries.move_to_end(key)
                self.hits += 1
                return self._entries[key]  # type: ignore[return-value]
        self.misses += 1
        value = compute()
        with self._lock:
            # A write during compute() makes this value possibly stale: don't keep it.
            if self._store.version == version == self._version:
                self._entries[key] = value
                if len(self._entries) > self._maxsize:
                    self._entries.popitem(last=False)
        return value
