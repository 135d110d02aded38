"""The bundled files (``ontology/``, ``data/``, ``shapes/``), and keeping the store in step.

Each file becomes one named graph, ``{base_iri}graph/{folder}/{path without suffix}``. At
start-up a file whose content is unchanged is skipped, a changed one replaces its graph in
one transaction, and the graph of a file that is gone is dropped; so starting twice never
duplicates anything.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from panorama.config import DEFAULT_BASE_IRI
from panorama.errors import PanoramaError
from panorama.store import Store, StoreError

__all__ = ["BUNDLE_FOLDERS", "BundledFile", "SyncReport", "bundled_files", "sync"]

BUNDLE_FOLDERS = ("ontology", "data", "shapes")
RDF_SUFFIXES = (".ttl", ".nt", ".rdf", ".owl", ".jsonld")


@dataclass(frozen=True)
class BundledFile:
    path: Path
    relative: str  # e.g. "data/brief/section-2.ttl"
    graph: str

    def content(self, base_iri: str) -> bytes:
        """The file's bytes, written into ``base_iri`` if that is not the default namespace."""
        data = self.path.read_bytes()
        if base_iri != DEFAULT_BASE_IRI:
            data = data.replace(DEFAULT_BASE_IRI.encode(), base_iri.encode())
        return data


@dataclass
class SyncReport:
    loaded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    triples: int = 0

    def __str__(self) -> str:
        return (
            f"{len(self.loaded)} file(s) loaded ({self.triples} triples), "
            f"{len(self.unchanged)} unchanged, {len(self.removed)} removed"
        )


def bundled_files(root: Path, base_iri: str) -> list[BundledFile]:
    """List the RDF files under the bundle folders of ``root``, in a stable order."""
    files = []
    for folder in BUNDLE_FOLDERS:
        for path in sorted((root / folder).rglob("*")):
            if path.suffix in RDF_SUFFIXES and path.is_file():
                relative = path.relative_to(root).as_posix()
                graph = f"{base_iri}graph/{relative.rsplit('.', 1)[0]}"
                files.append(BundledFile(path, relative, graph))
    return files


def sync(
    store: Store,
    root: Path,
    *,
    on_file: Callable[[BundledFile, str], None] | None = None,
) -> SyncReport:
    """Bring the store's bundled graphs in line with the files under ``root``.

    Args:
        on_file: called with each file and what happened to it ("loaded", "unchanged").

    Raises:
        StoreError: a file cannot be read or parsed; the message names file, line, column.
    """
    report = SyncReport()
    catalog = store.catalog()
    current = bundled_files(root, store.base_iri)
    for bundled in current:
        try:
            data = bundled.content(store.base_iri)
        except OSError as error:
            raise StoreError(f"Cannot read {bundled.path}: {error.strerror}") from error
        sha256 = hashlib.sha256(store.base_iri.encode() + b"\n" + data).hexdigest()
        entry = catalog.get(bundled.graph)
        if entry is not None and entry.sha256 == sha256:
            report.unchanged.append(bundled.relative)
            status = "unchanged"
        else:
            try:
                record = store.catalog_record(bundled.graph, source=bundled.relative, sha256=sha256)
                report.triples += store.replace_graph(
                    bundled.graph, data, bundled.path.suffix, records=[record]
                )
            except PanoramaError as error:
                raise StoreError(f"{bundled.relative}: {error.message}") from error
            report.loaded.append(bundled.relative)
            status = "loaded"
        if on_file is not None:
            on_file(bundled, status)
    kept = {bundled.graph for bundled in current}
    for graph, entry in catalog.items():
        if graph not in kept and entry.source.startswith(tuple(f"{f}/" for f in BUNDLE_FOLDERS)):
            store.drop_graph(graph)
            report.removed.append(entry.source)
    return report
