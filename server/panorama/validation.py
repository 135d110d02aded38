"""Validating contributions against the project's SHACL shapes: the one engine behind
``panorama validate``, ``POST /validate`` and the ``/validate`` page.

A submission is checked together with the published graph it points to (the ontology
and ``data/``: the *reference*), so that a link to an innovation field or a programme
must name one the graph knows. Only nodes that are subjects in the submission are
focus nodes: the published data is tested by ``tests/test_shapes.py``, not here.

How it runs (see ``shacl_checks`` for why not pyshacl): the submission is parsed strictly
by Oxigraph into a store held in memory, next to the reference, and every compiled check
is a SPARQL query over both. ``line_map`` supplies the lines each finding points at.

``conforms`` follows pyshacl's ``allow_warnings``: only violations make a submission fail;
warnings and infos are advice. (Plain SHACL would set ``sh:conforms false`` for them too.)
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import BNode, Graph, URIRef
from rdflib.term import Node

from panorama import bundle
from panorama.errors import (
    BadRequest,
    PanoramaError,
    QuerySyntaxError,
    RdfSyntaxError,
    UnsupportedMediaType,
)
from panorama.line_map import LineIndex, index_turtle
from panorama.shacl_checks import SH, Check, compile_shapes
from panorama.store import QueryRequest, Store, load_checked

__all__ = [
    "SUBMISSION_FORMATS",
    "Finding",
    "Reference",
    "ReferenceCache",
    "Report",
    "Shapes",
    "SourceLine",
    "Submission",
    "SubmissionPart",
    "load_shapes",
    "reference_data",
    "validate",
    "validate_files",
    "validate_store",
]

#: Formats a submission may come in, by name; RDF/XML is not among them on purpose (XML
#: entities), nor are formats with named graphs.
SUBMISSION_FORMATS = {"turtle": "ttl", "ntriples": "nt", "jsonld": "jsonld"}
_FORMAT_ALIASES = {
    "ttl": "turtle",
    "text/turtle": "turtle",
    "application/x-turtle": "turtle",
    "nt": "ntriples",
    "n-triples": "ntriples",
    "application/n-triples": "ntriples",
    "json-ld": "jsonld",
    "application/ld+json": "jsonld",
}
SEVERITIES = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}
_SEVERITY_ORDER = {"Violation": 0, "Warning": 1, "Info": 2}


def submission_format(name: str) -> str:
    """The canonical name (``turtle``, ``ntriples``, ``jsonld``) of a format or media type.

    Raises:
        UnsupportedMediaType: RDF/XML or anything else.
    """
    wanted = name.split(";")[0].strip().lower().lstrip(".")
    found = wanted if wanted in SUBMISSION_FORMATS else _FORMAT_ALIASES.get(wanted)
    if found is None:
        raise UnsupportedMediaType(
            f"Cannot validate {name!r}: send Turtle (text/turtle), N-Triples "
            "(application/n-triples) or JSON-LD with an inline context (application/ld+json). "
            "RDF/XML is not accepted here."
        )
    return found


@dataclass(frozen=True)
class SubmissionPart:
    data: bytes
    format: str  # a key of SUBMISSION_FORMATS
    source: str = "submission"  # the file name shown next to line numbers


@dataclass(frozen=True)
class Submission:
    parts: tuple[SubmissionPart, ...]


@dataclass(frozen=True)
class SourceLine:
    source: str
    line: int


@dataclass(frozen=True)
class Finding:
    """One validation result, with what a person needs to act on it."""

    severity: str  # Violation, Warning, Info
    focus: Node
    path: URIRef | None
    value: Node | None
    component: URIRef
    shape: Node
    messages: dict[str, str] = field(hash=False, compare=False)
    names: dict[str, str] = field(hash=False, compare=False)
    lines: tuple[SourceLine, ...] = ()

    def message(self, lang: str) -> str:
        return self.messages.get(lang) or self.messages.get("en") or self.messages.get("", "")

    def name(self, lang: str) -> str:
        fallback = str(self.path).rsplit("#", 1)[-1].rsplit("/", 1)[-1] if self.path else ""
        return self.names.get(lang) or self.names.get("en") or fallback


@dataclass(frozen=True)
class Report:
    findings: tuple[Finding, ...]
    triples: int
    seconds: float
    sources: tuple[str, ...] = ("submission",)

    @property
    def conforms(self) -> bool:
        return not any(finding.severity == "Violation" for finding in self.findings)

    def count(self, severity: str) -> int:
        return sum(1 for finding in self.findings if finding.severity == severity)


@dataclass(frozen=True)
class Shapes:
    """The project's shapes, compiled once."""

    checks: tuple[Check, ...]
    graph: Graph = field(repr=False, compare=False)


def load_shapes(root: Path, base_iri: str) -> Shapes:
    """Read and compile the shapes under ``root/shapes`` (never from anywhere else).

    Raises:
        panorama.shacl_checks.ShapeError: a shape uses an unsupported feature.
    """
    graph = Graph()
    for bundled in bundle.bundled_files(root, base_iri):
        if bundled.relative.startswith("shapes/"):
            # Parsed by Oxigraph too, strictly; rdflib gets the triples, not the file.
            parsed = load_checked(
                bundled.content(base_iri), bundled.path.suffix, graph=bundled.graph
            )
            graph += parsed.construct(
                QueryRequest("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", union_default_graph=True)
            )
    return Shapes(tuple(compile_shapes(graph)), graph)


@dataclass(frozen=True)
class Reference:
    """The published graph a submission is checked with, as N-Triples."""

    version: int
    ntriples: bytes


def reference_data(store: Store) -> Reference:
    """The ontology and ``data/`` graphs of ``store``, merged (shapes and catalog left out)."""
    graphs = f"{store.base_iri}graph/"
    with _quiet_ill_typed_literals():
        graph = store.construct(
            QueryRequest(
                f"""CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH ?g {{ ?s ?p ?o }}
                    FILTER(STRSTARTS(STR(?g), "{graphs}ontology/")
                        || STRSTARTS(STR(?g), "{graphs}data/"))
                }}""",
                union_default_graph=False,
            )
        )
    return Reference(store.version, graph.serialize(format="nt", encoding="utf-8"))


class _IllTypedLiteral(logging.Filter):
    """Drops rdflib's traceback for a literal whose text is not of its datatype.

    Virtuoso 7.2 gives ``xsd:duration`` values back as numbers of months (docs/engines.md).
    rdflib keeps such a literal as written but logs a traceback for each one, which on a
    terminal or in a server log reads as a crash.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Failed to convert Literal lexical form")


@contextlib.contextmanager
def _quiet_ill_typed_literals() -> Iterator[None]:
    # A filter of its own per call, not a level: threads may build references at once.
    literals, quiet = logging.getLogger("rdflib.term"), _IllTypedLiteral()
    literals.addFilter(quiet)
    try:
        yield
    finally:
        literals.removeFilter(quiet)


class ReferenceCache:
    """``reference_data``, rebuilt only when the ontology or ``data/`` graphs change.

    Contributions move ``store.version`` but are not reference data; the catalog's
    checksums of the bundled graphs tell whether the reference really changed.
    """

    def __init__(self) -> None:
        self._cached: Reference | None = None
        self._fingerprint: tuple[tuple[str, str], ...] = ()
        self._checked_version = -1

    def get(self, store: Store) -> Reference:
        if self._cached is not None and self._checked_version == store.version:
            return self._cached
        fingerprint = tuple(
            sorted(
                (graph, entry.sha256)
                for graph, entry in store.catalog().items()
                if entry.source.startswith(("ontology/", "data/"))
            )
        )
        if self._cached is None or fingerprint != self._fingerprint:
            self._cached = reference_data(store)
            self._fingerprint = fingerprint
        self._checked_version = store.version
        return self._cached


# Validating -------------------------------------------------------------------------------


def _graphs(base_iri: str) -> tuple[str, str]:
    return f"{base_iri}graph/contribution", f"{base_iri}graph/reference"


def _load(submission: Submission, reference: Reference, base_iri: str, max_triples: int | None):
    submission_graph, reference_graph = _graphs(base_iri)
    scratch = load_checked(reference.ntriples, "nt", graph=reference_graph)
    before = len(scratch)
    for part in submission.parts:
        remaining = None if max_triples is None else max_triples - (len(scratch) - before)
        try:
            load_checked(
                part.data,
                SUBMISSION_FORMATS[part.format],
                graph=submission_graph,
                into=scratch,
                max_triples=remaining,
            )
        except QuerySyntaxError as error:
            where = f"{part.source}: " if len(submission.parts) > 1 else ""
            raise RdfSyntaxError(where + error.message) from None
        except PanoramaError as error:
            if len(submission.parts) > 1:
                error.message = f"{part.source}: {error.message}"
            raise
    return scratch, len(scratch) - before


def _line_indexes(submission: Submission, base_iri: str) -> list[tuple[str, LineIndex]]:
    # Built only when there is something to report: scanning is a third of a big batch.
    submission_graph, _ = _graphs(base_iri)
    return [
        (part.source, index_turtle(part.data.decode("utf-8", "replace"), submission_graph))
        for part in submission.parts
        if part.format != "jsonld"
    ]


def _key(term: Node) -> str:
    return f"_:{term}" if isinstance(term, BNode) else f"<{term}>"


def _anonymous_keys(store: Store, graph: str, indexes: list[tuple[str, LineIndex]]) -> dict:
    """Map blank nodes written as ``[ … ]`` to their place, through the triple holding them."""
    rows = store.select(
        QueryRequest(
            f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o FILTER(isBlank(?o)) }} }}",
            union_default_graph=False,
        )
    )
    places: dict[Node, list[tuple[str, str]]] = {}
    for row in rows:
        for source, index in indexes:
            for key in index.anonymous.get((_key(row["s"]), str(row["p"])), []):
                places.setdefault(row["o"], []).append((source, key))
    return places


def _lines(
    focus: Node, path: URIRef | None, indexes: list[tuple[str, LineIndex]], anonymous: dict
) -> tuple[SourceLine, ...]:
    found: list[SourceLine] = []
    keys = [(source, _key(focus)) for source, _ in indexes]
    if isinstance(focus, BNode) and focus in anonymous:
        keys = anonymous[focus]
    by_source = dict(indexes)
    for source, key in keys:
        for line in by_source[source].lines(key, str(path) if path else None):
            found.append(SourceLine(source, line))
    return tuple(found)


def _run_checks(
    store: Store,
    checks: Sequence[Check],
    data_graphs: tuple[str, ...],
    focus_graph: str | None,
) -> list[tuple[Check, Node, Node | None]]:
    results: dict[tuple, tuple[Check, Node, Node | None]] = {}
    for check in checks:
        request = QueryRequest(
            check.sparql(focus_graph),
            default_graphs=data_graphs,
            named_graphs=(focus_graph,) if focus_graph else (),
        )
        for row in store.select(request):
            value = row.get("value")
            # A shape shared by several node shapes that target one node reports once.
            results.setdefault(
                (row["this"], check.path, value, check.component, check.shape),
                (check, row["this"], value),
            )
    return list(results.values())


def _findings(raw, indexes, anonymous) -> tuple[Finding, ...]:
    findings = [
        Finding(
            severity=SEVERITIES[check.severity],
            focus=focus,
            path=check.path,
            value=value,
            component=check.component,
            shape=check.shape,
            messages=check.messages,
            names=check.names,
            lines=_lines(focus, check.path, indexes, anonymous),
        )
        for check, focus, value in raw
    ]
    findings.sort(
        key=lambda f: (
            (f.lines[0].source, f.lines[0].line) if f.lines else ("~", 0),
            str(f.focus),
            _SEVERITY_ORDER[f.severity],
            str(f.path),
            str(f.value),
        )
    )
    return tuple(findings)


def validate(
    submission: Submission,
    shapes: Shapes,
    reference: Reference,
    *,
    base_iri: str,
    max_triples: int | None = None,
) -> Report:
    """Validate a submission (one or more files) with the reference graph.

    Raises:
        RdfSyntaxError: a part does not parse (line and column in the message).
        UnsupportedMediaType: a part is in a format not accepted for submissions.
        PayloadTooLarge: the parts hold more than ``max_triples`` triples together.
        BadRequest: a part asks for a remote JSON-LD context or holds named graphs.
    """
    started = time.perf_counter()
    for part in submission.parts:
        if part.format not in SUBMISSION_FORMATS:
            submission_format(part.format)
    scratch, triples = _load(submission, reference, base_iri, max_triples)
    try:
        submission_graph, reference_graph = _graphs(base_iri)
        raw = _run_checks(
            scratch, shapes.checks, (submission_graph, reference_graph), submission_graph
        )
        indexes = _line_indexes(submission, base_iri) if raw else []
        anonymous = {}
        if any(isinstance(focus, BNode) for _, focus, _ in raw):
            anonymous = _anonymous_keys(scratch, submission_graph, indexes)
        findings = _findings(raw, indexes, anonymous)
    finally:
        scratch.close()
    return Report(
        findings,
        triples,
        time.perf_counter() - started,
        tuple(part.source for part in submission.parts),
    )


def validate_store(store: Store, shapes: Shapes, graphs: Sequence[str]) -> Report:
    """Validate the union of ``graphs`` of a store; every target node is a focus node.

    This is how the published data is checked (``tests/test_shapes.py``).
    """
    started = time.perf_counter()
    raw = _run_checks(store, shapes.checks, tuple(graphs), None)
    sizes = store.graph_sizes()
    return Report(
        _findings(raw, [], {}),
        sum(sizes.get(graph, 0) for graph in graphs),
        time.perf_counter() - started,
        (),
    )


def validate_files(
    paths: Sequence[Path],
    *,
    root: Path,
    base_iri: str,
    syntax: str | None = None,
    reference_store: Callable[[], Store] | None = None,
) -> Report:
    """Validate local files together, with the project's shapes and published data.

    The reference graph is the bundle under ``root``, synced into a throwaway store, so the
    answer is the same as the server's for the same version of the project.

    Args:
        reference_store: opens the store whose data to check links against instead (a
            SPARQL engine that servers run on); it is opened once the files are read.

    Raises:
        PanoramaError: a file cannot be read (``BadRequest``) or parsed (``RdfSyntaxError``),
            or the reference store cannot be read.
    """
    parts = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as error:
            raise BadRequest(f"Cannot read {path}: {error.strerror}") from error
        fmt = submission_format(syntax or path.suffix or "ttl")
        parts.append(SubmissionPart(data, fmt, str(path)))
    if reference_store is None:
        store = Store.in_memory(base_iri=base_iri)
        bundle.sync(store, root)
    else:
        store = reference_store()
    try:
        reference = reference_data(store)
    finally:
        store.close()
    return validate(
        Submission(tuple(parts)), load_shapes(root, base_iri), reference, base_iri=base_iri
    )
