"""Answers cut into chunks of one size as Oxigraph serializes them.

Oxigraph's serializers write to a binary file in small pieces and flush only at the end.
Whoever carries an answer (a worker's frames, a thread's hand-over to the event loop, a
lookup answered in place) wants it in chunks of a size that keeps memory flat and still
sends a small answer in one piece, with a Content-Length. ``ChunkWriter`` is that file;
each carrier says only what handing a chunk on means.
"""

from __future__ import annotations

__all__ = ["CHUNK", "ChunkWriter"]

#: Bytes per chunk: large enough that most answers are one chunk, small enough to stream.
CHUNK = 64 * 1024


class ChunkWriter:
    """A binary file that hands on every ``CHUNK`` bytes written to it, and the rest at the end.

    ``whole`` tells the last chunk whether it is the entire answer (nothing was handed on
    before it).
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.whole = True

    def write(self, data: bytes) -> int:
        self._buffer += data
        if len(self._buffer) >= CHUNK:
            self.hand_on(bytes(self._buffer), last=False)
            self._buffer.clear()
            self.whole = False
        return len(data)

    def flush(self) -> None:
        """Oxigraph flushes only at the end: the chunk size decides when to hand on."""

    def finish(self) -> None:
        """Hand on what is left as the last chunk (call once the serializer returned)."""
        self.hand_on(bytes(self._buffer), last=True)
        self._buffer.clear()

    def hand_on(self, chunk: bytes, *, last: bool) -> None:
        """Carry ``chunk`` on; raising stops the serializer (the answer is not wanted)."""
        raise NotImplementedError
