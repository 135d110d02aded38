"""Showing long work: the commands pass a progress bar down as ``Progress``.

The code that does the work stays free of the terminal; the CLI gives it click's bar.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import IO

__all__ = ["Progress", "ProgressReader"]

#: ``progress(label, total)`` gives a context whose value advances the bar by n.
Progress = Callable[[str, int], AbstractContextManager[Callable[[int], None]]]


class ProgressReader:
    """A binary reader that advances a progress bar as a parser pulls bytes from it."""

    def __init__(self, raw: IO[bytes], advance: Callable[[int], None]) -> None:
        self._raw = raw
        self._advance = advance

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self._advance(len(data))
        return data

    def readinto(self, buffer: bytearray | memoryview) -> int:
        count = self._raw.readinto(buffer)  # type: ignore[attr-defined]
        self._advance(count or 0)
        return count or 0
