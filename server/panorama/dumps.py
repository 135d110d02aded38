"""Dumps of the published graphs: gzip files on disk, made once per version of the store.

Two files, at stable URLs under ``/dumps/``:

- ``cluster-panorama.nq.gz``: N-Quads, every published graph with its name, so the source
  of every statement survives the download;
- ``cluster-panorama.ttl.gz``: Turtle, the union of the published graphs as one graph (a
  triple stated by several sources appears once).

The gzip stream carries no file name and no time stamp, so the same store content gives
the same bytes and the same SHA-256: a harvester can compare the checksum in the DCAT
record with the one it saw last time and skip the download. Blank-node labels are the
store's own, so a store rebuilt from scratch (``--memory``) gives new labels and a new
checksum even for the same triples.

Files live in ``{store}/dumps/`` in an on-disk store's directory, or in a temporary directory for a
store in memory. They are named by store version; the previous version's file is kept so
that a download that has already begun can finish, older ones are deleted. Files left by
an earlier process are deleted at first use: the version counter starts again at 0 in every
process, so it does not say which content an old file holds.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from panorama.published import published_graphs, published_request
from panorama.store import Store

__all__ = ["DUMP_FORMATS", "DumpFile", "DumpFormat", "current_dump"]

_GZIP_MEDIA_TYPE = "application/gzip"


class _GraphNamer:
    """A writer that turns the N-Triples Oxigraph writes into N-Quads of one graph.

    Oxigraph writes one triple per line, each ending with `` .``; the graph name goes
    before that dot.
    """

    def __init__(self, output: IO[bytes], graph: str) -> None:
        self._output = output
        self._ending = f" <{graph}> .\n".encode()
        self._pending = b""

    def write(self, data: bytes) -> int:
        lines = (self._pending + bytes(data)).split(b"\n")
        self._pending = lines.pop()
        for line in lines:
            if line:
                self._output.write(line.removesuffix(b" .") + self._ending)
        return len(data)

    def flush(self) -> None:
        if self._pending.strip():
            raise ValueError(f"unterminated N-Triples line: {self._pending[:80]!r}")


def _write_nquads(store: Store, output: IO[bytes]) -> None:
    for graph in published_graphs(store):
        store.dump(_GraphNamer(output, graph), "nt", graph=graph)  # type: ignore[arg-type]


_UNION = "CONSTRUCT { ?s ?p ?o } WHERE { { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } } }"


def _write_turtle(store: Store, output: IO[bytes]) -> None:
    store.evaluate(published_request(store, _UNION)).serialize(output, "text/turtle")


@dataclass(frozen=True)
class DumpFormat:
    """One kind of dump: its file name (also its URL path) and how it is written."""

    file_name: str
    media_type: str  # of the content inside the gzip stream
    title: str
    #: code in the EU file-type authority table (for ``dct:format``)
    file_type: str
    write: Callable[[Store, IO[bytes]], None]

    @property
    def compress_format(self) -> str:
        return _GZIP_MEDIA_TYPE


DUMP_FORMATS: dict[str, DumpFormat] = {
    fmt.file_name: fmt
    for fmt in (
        DumpFormat(
            "cluster-panorama.nq.gz",
            "application/n-quads",
            "N-Quads dump, one named graph per source (gzip)",
            "RDF_N_QUADS",
            _write_nquads,
        ),
        DumpFormat(
            "cluster-panorama.ttl.gz",
            "text/turtle",
            "Turtle dump, all sources merged into one graph (gzip)",
            "RDF_TURTLE",
            _write_turtle,
        ),
    )
}


@dataclass(frozen=True)
class DumpFile:
    """A dump written from one version of the store."""

    format: DumpFormat
    path: Path
    byte_size: int
    sha256: str
    version: int
    stat: os.stat_result


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class _DumpFolder:
    """The dump files of one store, regenerated when the store's version moves."""

    def __init__(self, folder: Path | None) -> None:
        if folder is None:
            # Removed when this object is collected, or at exit at the latest.
            self._temporary: tempfile.TemporaryDirectory[str] | None = tempfile.TemporaryDirectory(
                prefix="panorama-dumps-"
            )
            folder = Path(self._temporary.name)
        else:
            self._temporary = None
            folder.mkdir(parents=True, exist_ok=True)
            for stale in folder.glob("v*-cluster-panorama.*"):
                stale.unlink(missing_ok=True)
        self.folder = folder
        self._lock = threading.Lock()
        self._files: dict[str, list[DumpFile]] = {}  # newest last

    def current(self, store: Store, fmt: DumpFormat) -> DumpFile:
        with self._lock:
            made = self._files.setdefault(fmt.file_name, [])
            if made and made[-1].version == store.version:
                return made[-1]
            dump = self._write(store, fmt)
            made.append(dump)
            for old in made[:-2]:
                old.path.unlink(missing_ok=True)
            del made[:-2]
            return dump

    def _write(self, store: Store, fmt: DumpFormat) -> DumpFile:
        # Read before writing: a write to the store meanwhile leaves this file one version
        # behind, and the next request makes it again.
        version = store.version
        path = self.folder / f"v{version}-{fmt.file_name}"
        partial = path.with_name(path.name + ".partial")
        with (
            partial.open("wb") as raw,
            gzip.GzipFile(
                filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6
            ) as compressed,
        ):
            fmt.write(store, compressed)  # type: ignore[arg-type]
        os.replace(partial, path)
        stat = path.stat()
        return DumpFile(fmt, path, stat.st_size, _sha256(path), version, stat)


_folders: weakref.WeakKeyDictionary[Store, _DumpFolder] = weakref.WeakKeyDictionary()
_folders_lock = threading.Lock()


def _folder_of(store: Store, in_memory: bool) -> _DumpFolder:
    with _folders_lock:
        folder = _folders.get(store)
        if folder is None:
            place = None if in_memory else store.path / "dumps"
            folder = _folders[store] = _DumpFolder(place)
        return folder


def current_dump(store: Store, file_name: str, *, in_memory: bool) -> DumpFile:
    """The dump ``file_name`` of the store as it is now, written first if need be.

    Writing reads the whole store: call this from a worker thread, not the event loop.

    Args:
        in_memory: the store is a throwaway one, so its dumps go to a temporary directory.

    Raises:
        KeyError: ``file_name`` names no dump (see ``DUMP_FORMATS``).
    """
    return _folder_of(store, in_memory).current(store, DUMP_FORMATS[file_name])
