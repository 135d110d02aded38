"""Backing up the graphs servers keep on a SPARQL engine, and restoring them into another.

An embedded store is backed up as a copy of its directory (``Store.backup``); an engine's
data is what the servers own there: every graph under the base IRI and the private ledger
graph (``EngineLedger``). A backup is a directory with those in one N-Quads file and a small
manifest naming the base IRI, because graphs restored under another base IRI would be
invisible to the servers.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from panorama.errors import PanoramaError
from panorama.progress import Progress, ProgressReader
from panorama.remote_store import RemoteStore
from panorama.store import QueryRequest

__all__ = [
    "BackupError",
    "BackupMade",
    "backup_engine",
    "backup_size",
    "is_engine_backup",
    "restore_engine",
]

DATA = "dataset.nq"
MANIFEST = "panorama-backup.json"


class BackupError(PanoramaError):
    """A backup or restore that cannot be done; the message says what to do instead."""


@dataclass(frozen=True)
class BackupMade:
    graphs: int
    quads: int


def backup_engine(store: RemoteStore, target: Path, progress: Progress) -> BackupMade:
    """Write the published graphs and the ledger graph of the engine into ``target``.

    The engine is read graph by graph while servers may write to it; if its revision moved
    meanwhile, a graph may be from before a write and the ledger from after it, so such a
    copy is not kept. The directory is written under another name and renamed when
    complete: ``target`` exists only as a whole backup.

    Raises:
        BackupError: ``target`` cannot be written, or the engine was written to meanwhile.
        PanoramaError: the engine cannot be read.
    """
    ledger_graph = store.private_graph("ledger")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    except OSError as error:
        raise BackupError(f"Cannot write {target}: {error.strerror}") from error
    try:
        revision = store.revision()
        graphs = store.graph_sizes()
        total = sum(graphs.values()) + graph_size(store, ledger_graph)
        with (partial / DATA).open("wb") as raw, progress(DATA, total) as advance:
            written = _LineCount(raw, advance)
            store.dump(written, "nq")
            store.dump(_InGraph(written, ledger_graph), "nt", graph=ledger_graph)
        if store.revision() != revision:
            raise BackupError(
                f"The SPARQL engine at {store.query_url} was written to while it was being "
                "copied (a contribution, a load), so the copy may not agree with itself; "
                "nothing was kept. Run the backup again."
            )
        manifest = {"base_iri": store.base_iri, "quads": written.lines}
        (partial / MANIFEST).write_text(json.dumps(manifest) + "\n", encoding="utf-8")
        partial.rename(target)
    except OSError as error:
        raise BackupError(f"Cannot write {target}: {error.strerror}") from error
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return BackupMade(len(graphs), written.lines)


def backup_size(source: Path, base_iri: str) -> int:
    """The number of quads in the engine backup ``source``, once it is known to be one.

    Raises:
        BackupError: ``source`` is no engine backup, or one of another base IRI.
    """
    manifest = source / MANIFEST
    if not (manifest.is_file() and (source / DATA).is_file()):
        if (source / "oxigraph" / "CURRENT").is_file():
            raise BackupError(
                f"{source} is the backup of a store directory: restore it with --store DIR."
            )
        raise BackupError(f"{source} is not a backup made by `panorama backup --engine`.")
    try:
        described = json.loads(manifest.read_text(encoding="utf-8"))
        made_for, quads = str(described["base_iri"]), int(described["quads"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise BackupError(
            f"{manifest} cannot be read ({error}); is {source} a backup made by "
            "`panorama backup --engine`?"
        ) from error
    if made_for != base_iri:
        raise BackupError(
            f"{source} holds the graphs of <{made_for}>, and the base IRI here is <{base_iri}>: "
            f"set PANORAMA_BASE_IRI={made_for} to restore it."
        )
    return quads


def is_engine_backup(source: Path) -> bool:
    return (source / MANIFEST).is_file()


def restore_engine(store: RemoteStore, source: Path, progress: Progress) -> int:
    """Load the engine backup ``source`` into the engine, which holds no Panorama data yet.

    Loading is sent in batches, not as one transaction, so when it fails what it wrote is
    dropped again: the engine is left without Panorama data, ready for another try.

    Returns:
        The number of quads restored.

    Raises:
        BackupError: ``source`` is no backup for this base IRI, the engine holds Panorama
            data already, or loading failed (the message says what the engine holds now).
    """
    quads = backup_size(source, store.base_iri)
    held = _panorama_data(store)
    if held is not None:
        raise BackupError(
            f"The SPARQL engine at {store.query_url} holds Cluster-Panorama data already "
            f"({held}); nothing was restored. Restore into an engine without it, or drop "
            "those graphs there first."
        )
    data = source / DATA
    before = store.version
    try:
        with data.open("rb") as raw, progress(data.name, data.stat().st_size) as advance:
            store.load(ProgressReader(raw, advance), "nq")  # type: ignore[arg-type]
        return quads
    except PanoramaError as error:
        problem = f"{data}: {error.message}"
    except OSError as error:
        problem = f"Cannot read {data}: {error.strerror}"
    except KeyboardInterrupt:
        problem = "Interrupted."
    if store.version == before:  # it failed before its first batch was sent
        raise BackupError(f"{problem}\nNothing was restored.")
    ledger_graph = store.private_graph("ledger")
    try:
        store.update([f"DROP SILENT GRAPH <{g}>" for g in [*store.named_graphs(), ledger_graph]])
    except PanoramaError as error:
        raise BackupError(
            f"{problem}\nThe engine may hold part of the backup: removing it failed too "
            f"({error.message}). Drop the graphs under <{store.base_iri}> and the graph "
            f"<{ledger_graph}> before you restore again."
        ) from None
    raise BackupError(f"{problem}\nNothing was restored: what had been loaded was removed again.")


def graph_size(store: RemoteStore, graph: str) -> int:
    """Triples in one graph of the engine, in the store's scope or not (the ledger's)."""
    (row,) = store.select(
        QueryRequest(
            f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}",
            union_default_graph=False,
        )
    )
    return int(str(row["n"]))


def _panorama_data(store: RemoteStore) -> str | None:
    """What Panorama data the engine holds (graphs under the base IRI, a ledger), if any."""
    # Every write leaves a revision token in the catalog graph (a cleared-up failed restore's
    # too): the catalog counts only when it lists a file. The sizes, not named_graphs(): the
    # Oxigraph server lists a graph emptied by DELETE as well.
    sizes = store.graph_sizes()
    graphs = [graph for graph, size in sizes.items() if size and graph != store.catalog_graph]
    if graphs or store.catalog():
        return f"{len(graphs)} graph(s) under <{store.base_iri}>"
    if graph_size(store, store.private_graph("ledger")):
        return "a contribution ledger"
    return None


class _LineCount:
    """A binary writer that counts the lines written through it and reports each batch.

    In N-Triples and N-Quads a line is a statement: newlines in literals are escaped.
    """

    def __init__(self, raw: IO[bytes], advance: Callable[[int], None]) -> None:
        self._raw = raw
        self._advance = advance
        self.lines = 0

    def write(self, data: bytes) -> int:
        count = data.count(b"\n")
        self.lines += count
        self._advance(count)
        return self._raw.write(data)

    def flush(self) -> None:
        self._raw.flush()


class _InGraph:
    """A binary writer that turns the N-Triples written to it into N-Quads of ``graph``.

    ``RemoteStore.dump`` gives quads for the store's own graphs only, and any other graph
    (the private ledger) as triples. An N-Triples line ends with `` .``; with the graph's
    IRI before that end it is the N-Quads line of the same statement in that graph.
    """

    def __init__(self, output: _LineCount, graph: str) -> None:
        self._output = output
        self._end = f" <{graph}> .\n".encode()
        self._pending = b""

    def write(self, data: bytes) -> int:
        *lines, self._pending = (self._pending + data).split(b"\n")
        self._output.write(b"".join(line.removesuffix(b" .") + self._end for line in lines))
        return len(data)

    def flush(self) -> None:
        self._output.flush()
