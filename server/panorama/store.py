"""The store: the only module that touches Oxigraph.

Its interface is narrow on purpose (evaluate a query, load, replace a graph, dump, list
graphs), so that a remote SPARQL engine can stand behind it later without the web layer
noticing. Results leave this module as bytes written by Oxigraph's own serializers, as
rdflib terms for the server's own small queries, or as Oxigraph's terms for pages (which
read them as values, never the engine).

Every named graph that comes from a file is described in a catalog graph (its source path
and SHA-256), written in the same transaction as the graph itself; that is how a restart
knows which files are already loaded.
"""

from __future__ import annotations

import datetime
import functools
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Literal

import pyoxigraph as ox
from rdflib import BNode, Graph, URIRef
from rdflib import Literal as RdfLiteral
from rdflib.term import Node

if TYPE_CHECKING:
    from panorama.config import Settings
from panorama.errors import (
    BadRequest,
    NotAcceptable,
    PanoramaError,
    PayloadTooLarge,
    QuerySyntaxError,
)
from panorama.query_text import bind_values

__all__ = [
    "CatalogEntry",
    "Evaluation",
    "QueryRequest",
    "Record",
    "Store",
    "StoreError",
    "Term",
    "TermTriple",
    "from_rdflib",
    "is_iri",
    "load_checked",
    "sparql_literal",
    "subject_quads_query",
    "to_rdflib",
]

_SPDX = "http://spdx.org/rdf/terms#"
_DCTERMS = "http://purl.org/dc/terms/"
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_SYNTAX_POSITION = re.compile(r"^error at (\d+):(\d+): (.*)$", re.DOTALL)


# A store directory holds Oxigraph's files in this folder, and the server's own files
# (the contribution ledger, the dumps) beside it.
_ENGINE_FOLDER = "oxigraph"


class StoreError(PanoramaError):
    """The store cannot be opened, read or written; the message says what to do."""


@dataclass(frozen=True)
class QueryRequest:
    """A SPARQL query and the dataset it runs over (SPARQL 1.1 Protocol, section 2.1.4).

    ``union_default_graph`` makes the default graph the union of all graphs; it is ignored
    when the query or the protocol names a dataset of its own.
    """

    query: str
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    union_default_graph: bool = True
    #: (variable, IRI) pairs bound as RDF terms (SPARQL SEP-0007), never pasted into text.
    substitutions: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Record:
    """Statements about a graph, written in the transaction that replaces the graph.

    ``remove`` is a ``DELETE WHERE`` pattern for the statements they replace; ``add`` is
    triples in SPARQL ``INSERT DATA`` syntax. Both are the server's own text, never a user's.
    """

    graph: str
    add: str
    remove: str = ""


@dataclass(frozen=True)
class CatalogEntry:
    graph: str
    source: str
    sha256: str


@dataclass
class Evaluation:
    """A query whose solutions are computed lazily, as ``serialize`` writes them."""

    kind: Literal["solutions", "boolean", "graph"]
    _result: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples = field(repr=False)

    def serialize(self, output: IO[bytes], media_type: str) -> None:
        """Write the results to ``output`` in ``media_type`` (a format Oxigraph has).

        Raises:
            NotAcceptable: the results hold RDF 1.2 triple terms and ``media_type`` cannot
                carry them (JSON-LD), which the engine finds only when it meets one.
            PanoramaError: the engine failed while evaluating (the results come lazily);
                what ``output`` itself raises comes through as it is.
        """
        try:
            if self.kind == "graph":
                self._result.serialize(output, ox.RdfFormat.from_media_type(media_type))
            else:
                self._result.serialize(output, ox.QueryResultsFormat.from_media_type(media_type))
        except (OSError, ValueError, RuntimeError) as error:
            if "does not support RDF 1.2" in str(error):
                raise NotAcceptable(
                    f"The results hold RDF 1.2 triple terms, which {media_type} cannot "
                    "carry: ask for Turtle (text/turtle) or N-Triples (application/n-triples)."
                ) from error
            raise PanoramaError(f"The query engine failed: {error}") from error


def _syntax_error(error: SyntaxError, text: str, what: str = "SPARQL") -> QuerySyntaxError:
    """Turn Oxigraph's ``error at 3:22: …`` into a message that shows the place."""
    message = str(error)
    match = _SYNTAX_POSITION.match(message)
    if not match:
        return QuerySyntaxError(f"{what} syntax error: {message}")
    line, column, detail = int(match.group(1)), int(match.group(2)), match.group(3)
    if "Prefix not found" in detail:
        detail = "undeclared prefix; declare it with PREFIX (or use the full <IRI>)"
    elif len(detail) > 300:
        detail = detail[:300] + " …"
    lines = text.splitlines()
    excerpt = ""
    if 1 <= line <= len(lines):
        excerpt = f"\n  {lines[line - 1]}\n  {' ' * max(column - 1, 0)}^"
    return QuerySyntaxError(
        f"{what} syntax error at line {line}, column {column}: {detail}{excerpt}"
    )


def _rdf_format(format_hint: str) -> ox.RdfFormat:
    """Find an RDF format by media type or file extension (``ttl``, ``nq``, ``jsonld``…)."""
    hint = format_hint.lower().lstrip(".")
    found = ox.RdfFormat.from_media_type(hint) if "/" in hint else ox.RdfFormat.from_extension(hint)
    if found is None and hint in {"owl", "xml"}:
        found = ox.RdfFormat.RDF_XML
    if found is None:
        raise BadRequest(
            f"Unknown RDF format {format_hint!r}: use N-Triples (.nt), N-Quads (.nq), "
            "Turtle (.ttl), TriG (.trig), RDF/XML (.rdf) or JSON-LD (.jsonld)."
        )
    return found


#: An RDF term as Oxigraph reads it. Pages are built from these directly: turning a
#: page's few hundred terms into rdflib ones cost a sixth of its time.
Term = ox.NamedNode | ox.BlankNode | ox.Literal
TermTriple = tuple[Term, Term, Term]


def subject_quads_query(subjects: Sequence[str]) -> str:
    """Every triple about ``subjects`` with the graph that holds it (``?g`` unbound: the
    default graph), as a query over the store's own dataset (no union default graph)."""
    values = " ".join(f"<{s}>" for s in subjects)
    return f"""SELECT ?s ?p ?o ?g WHERE {{ VALUES ?s {{ {values} }}
                  {{ GRAPH ?g {{ ?s ?p ?o }} }} UNION {{ ?s ?p ?o }} }}"""


@functools.lru_cache(maxsize=65_536)
def _iri(value: str) -> URIRef:
    # Pages repeat their predicates, types and neighbours: making a URIRef (which checks
    # the IRI) once each is a third of the cost of turning an answer into rdflib terms.
    return URIRef(value)


def to_rdflib(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> Node:
    if isinstance(term, ox.NamedNode):
        return _iri(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return RdfLiteral(term.value, lang=term.language)
        if term.datatype.value == _XSD_STRING:  # RDF 1.1: a simple literal
            return RdfLiteral(term.value)
        return RdfLiteral(term.value, datatype=_iri(term.datatype.value))
    # An RDF 1.2 triple term (a query can make one with TRIPLE()): rdflib has no such term,
    # so it is shown in its N-Triples form rather than refused.
    return RdfLiteral(str(term))


def from_rdflib(node: Node) -> Term:
    """The Oxigraph term for an rdflib one (records made on the fly with rdflib)."""
    if isinstance(node, URIRef):
        return ox.NamedNode(str(node))
    if isinstance(node, BNode):
        return ox.BlankNode(str(node))
    assert isinstance(node, RdfLiteral)
    if node.language:
        return ox.Literal(str(node), language=node.language)
    if node.datatype:
        return ox.Literal(str(node), datatype=ox.NamedNode(str(node.datatype)))
    return ox.Literal(str(node))


def _refuse_triple_terms(quad: ox.Quad) -> None:
    if isinstance(quad.subject, ox.Triple) or isinstance(quad.object, ox.Triple):
        raise BadRequest("RDF 1.2 triple terms (<<( … )>>) are not accepted here.")


# The characters XML 1.0 cannot carry, not even escaped (its ``Char`` production). RDF
# allows them in a literal, and Oxigraph and rdflib write them as they are, so one such
# literal makes every RDF/XML document and SPARQL XML result that shows it unreadable (XML
# is the default results format of SPARQLWrapper and of rdflib's SPARQLStore).
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# What may write one in Turtle, N-Triples or JSON-LD: the character itself (in UTF-8), or
# a \b, \f, \u or \U escape of it. Found by the fastest means for each (a regex over every
# byte took 140 ms for 5 MB); tab and line ends, and an escaped backslash before a b or an
# f, are found too: the literals themselves are then read.
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
_ESCAPES = re.compile(rb"\\(?:[bf]|u00[01]|U000000[01]|[uU](?:0000)?[fF]{3}[eEfF])")
_SHORT_ESCAPES = {0x08: "\\b", 0x0C: "\\f"}


def _refuse_what_xml_cannot_carry(data: bytes, quads: Sequence[ox.Quad]) -> None:
    """Refuse a literal holding a character of ``_NOT_IN_XML``, naming its place.

    Most data writes no such character anywhere, which a look at its bytes tells; only
    otherwise are the literals read.
    """
    if (
        len(data.translate(None, _CONTROL_BYTES)) == len(data)
        and b"\xef\xbf\xbe" not in data
        and b"\xef\xbf\xbf" not in data
        and not _ESCAPES.search(data)
    ):
        return
    for quad in quads:
        value = quad.object
        if isinstance(value, ox.Literal) and (found := _NOT_IN_XML.search(value.value)):
            code = ord(found.group())
            line, column = _where_written(data.decode("utf-8", "replace"), code)
            place = f"Line {line}, column {column}: the" if line else "The"
            raise BadRequest(
                f"{place} value of {quad.subject} {quad.predicate} holds the character "
                f"U+{code:04X}, which XML cannot carry: RDF/XML and SPARQL results in XML "
                "(the default of SPARQLWrapper and rdflib) would be unreadable wherever it "
                "shows. Remove it from the text."
            )


def _where_written(text: str, code: int) -> tuple[int, int]:
    """Line and column (from 1) where ``text`` first writes character ``code``, itself or
    escaped; (0, 0) if nowhere."""
    hexa = f"{code:04X}"
    forms = [chr(code), f"\\u{hexa}", f"\\U0000{hexa}"]
    if code in _SHORT_ESCAPES:
        forms.append(_SHORT_ESCAPES[code])
    written = re.compile("|".join(map(re.escape, forms)), flags=re.IGNORECASE)
    match = written.search(text)
    if match is None:
        return 0, 0
    start = text.rfind("\n", 0, match.start()) + 1
    return text.count("\n", 0, match.start()) + 1, match.start() - start + 1


def is_iri(text: str) -> bool:
    """Whether ``text`` is an absolute IRI (RFC 3987): then it cannot break out of ``<…>``."""
    try:
        ox.NamedNode(text)
    except ValueError:
        return False
    return True


def sparql_literal(value: str, lang: str | None = None) -> str:
    """``value`` as a SPARQL (and Turtle) string literal, safe to put in a query's text."""
    escaped = (
        value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    )
    return f'"{escaped}"' + (f"@{lang}" if lang else "")


class Store:
    """An Oxigraph store on disk (or in a throwaway directory kept in RAM)."""

    def __init__(
        self, oxigraph_store: ox.Store, path: Path, *, base_iri: str, temporary: bool = False
    ) -> None:
        self._store = oxigraph_store
        self.path = path
        self.base_iri = base_iri
        self.catalog_graph = f"{base_iri}graph/catalog"
        self._temporary = temporary
        #: Grows with every write, so caches of what the store holds know when to forget.
        self.version = 0
        #: Called after every write, before ``version`` moves: whoever reads snapshots of
        #: the store (the query workers) must see the write before any cache can.
        self.on_change: list[Callable[[], None]] = []
        self._graph_sizes: tuple[int, dict[str, int]] | None = None
        self._last_modified: tuple[int, datetime.datetime] | None = None

    # Opening -----------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path, *, base_iri: str) -> Store:
        """Open (or create) a store for reading and writing; one process at a time."""
        path.mkdir(parents=True, exist_ok=True)
        try:
            return cls(ox.Store(str(path / _ENGINE_FOLDER)), path, base_iri=base_iri)
        except OSError as error:
            if "lock" in str(error).lower():
                raise StoreError(
                    f"The store at {path} is in use by another process (a running "
                    "`panorama serve`?). Stop that process, choose another --store, or use "
                    "--memory."
                ) from error
            raise StoreError(f"Cannot open the store at {path}: {error}") from error

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        """Open the store the settings name: a directory, or a throwaway one in memory."""
        if settings.store is None:
            return cls.in_memory(base_iri=settings.base_iri)
        return cls.open(settings.store, base_iri=settings.base_iri)

    @classmethod
    def in_memory(cls, *, base_iri: str) -> Store:
        """Create a throwaway store, in RAM where ``/dev/shm`` exists, removed by ``close``.

        It lives in a directory rather than in the process so that query worker processes
        can open it too.
        """
        shm = Path("/dev/shm")
        parent = shm if shm.is_dir() else None
        path = Path(tempfile.mkdtemp(prefix="panorama-store-", dir=parent))
        return cls(ox.Store(str(path / _ENGINE_FOLDER)), path, base_iri=base_iri, temporary=True)

    @classmethod
    def open_read_only(cls, path: Path, *, base_iri: str) -> Store:
        """Open a snapshot of a store another process may be writing to.

        The snapshot does not see later writes; open a new one to see them.
        """
        if not (path / _ENGINE_FOLDER / "CURRENT").is_file():
            raise StoreError(
                f"There is no store at {path}. Create one with `panorama load FILE --store "
                f"{path}` or start `panorama serve --store {path}`."
            )
        deadline = time.monotonic() + 5.0
        while True:
            try:
                return cls(ox.Store.read_only(str(path / _ENGINE_FOLDER)), path, base_iri=base_iri)
            except (OSError, RuntimeError) as error:
                # A writer compacting the store deletes files while we read its manifest
                # ("Corruption: … No such file"); a moment later the manifest is whole.
                if time.monotonic() > deadline:
                    raise StoreError(f"Cannot read the store at {path}: {error}") from error
                time.sleep(0.05)

    def close(self) -> None:
        """Release the store; a throwaway store's directory is deleted."""
        self._store = None  # type: ignore[assignment]
        if self._temporary:
            shutil.rmtree(self.path, ignore_errors=True)

    # Reading -----------------------------------------------------------------------------

    def evaluate(self, request: QueryRequest) -> Evaluation:
        """Parse a query and start its evaluation; solutions come as they are serialized.

        Raises:
            QuerySyntaxError: the query does not parse; the message gives line and column.
        """
        options: dict[str, object] = {}
        try:
            if request.default_graphs:
                options["default_graph"] = [ox.NamedNode(g) for g in request.default_graphs]
            elif request.union_default_graph:
                options["use_default_graph_as_union"] = True
            if request.named_graphs:
                options["named_graphs"] = [ox.NamedNode(g) for g in request.named_graphs]
            query = request.query
            if request.substitutions:
                query = bind_values(query, request.substitutions)
            result = self._store.query(query, **options)
        except SyntaxError as error:
            raise _syntax_error(error, request.query) from error
        except ValueError as error:  # an invalid IRI, a parameter the query does not select
            raise BadRequest(str(error)) from error
        if isinstance(result, ox.QuerySolutions):
            return Evaluation("solutions", result)
        if isinstance(result, ox.QueryBoolean):
            return Evaluation("boolean", result)
        return Evaluation("graph", result)

    def select(self, request: QueryRequest) -> list[dict[str, Node]]:
        """Run a SELECT query and return its rows as rdflib terms (unbound variables left out).

        For the server's own, small queries; answers to clients stream through ``evaluate``.
        """
        rows = self.term_rows(request)
        return [{name: to_rdflib(term) for name, term in row.items()} for row in rows]

    def construct(self, request: QueryRequest, into: Graph | None = None) -> Graph:
        """Run a CONSTRUCT or DESCRIBE query into an rdflib graph, for the server's own use.

        Args:
            into: the graph to add the triples to (a new one if None).
        """
        evaluation = self.evaluate(request)
        if evaluation.kind != "graph":
            raise BadRequest("construct() runs CONSTRUCT and DESCRIBE queries only.")
        graph = Graph() if into is None else into
        graph.addN(
            (
                to_rdflib(triple.subject),
                to_rdflib(triple.predicate),
                to_rdflib(triple.object),
                graph,
            )
            for triple in evaluation._result  # type: ignore[union-attr]
        )
        return graph

    def triples(self, request: QueryRequest) -> list[tuple[Node, Node, Node]]:
        """Run a CONSTRUCT or DESCRIBE query and return its triples as rdflib terms.

        For code that reads a few hundred triples by subject and object: an rdflib graph
        would index every triple three ways, and cost more than the query.
        """
        return [
            (to_rdflib(s), to_rdflib(p), to_rdflib(o)) for s, p, o in self.term_triples(request)
        ]

    def quads_about(self, subjects: Sequence[str]) -> list[tuple[TermTriple, Term | None]]:
        """Every triple about ``subjects``, each with the graph that holds it (None: the
        default graph), as Oxigraph's terms: for pages (``subject_quads_query`` says it in
        SPARQL)."""
        found: list[tuple[TermTriple, Term | None]] = []
        for subject in subjects:
            for quad in self._store.quads_for_pattern(ox.NamedNode(subject), None, None, None):
                graph = quad.graph_name
                found.append(
                    (
                        (quad.subject, quad.predicate, quad.object),  # type: ignore[arg-type]
                        None if isinstance(graph, ox.DefaultGraph) else graph,  # type: ignore[arg-type]
                    )
                )
        return found

    def term_triples(self, request: QueryRequest) -> list[TermTriple]:
        """``triples`` as Oxigraph's terms, for pages."""
        evaluation = self.evaluate(request)
        if evaluation.kind != "graph":
            raise BadRequest("triples() runs CONSTRUCT and DESCRIBE queries only.")
        return [
            (t.subject, t.predicate, t.object)  # type: ignore[misc]
            for t in evaluation._result  # type: ignore[union-attr]
        ]

    def term_rows(self, request: QueryRequest) -> list[dict[str, Term]]:
        """``select`` as Oxigraph's terms, for pages."""
        solutions = self._solutions(request)
        names = [variable.value for variable in solutions.variables]
        return [{name: row[name] for name in names if row[name] is not None} for row in solutions]

    def term_tuples(self, request: QueryRequest) -> list[tuple[Term | None, ...]]:
        """The rows of a SELECT query as tuples of Oxigraph's terms in the order selected
        (None where a variable is unbound): for pages, which read thousands of rows, a
        tuple costs less than ``term_rows``' dictionary."""
        return [tuple(row) for row in self._solutions(request)]

    def _solutions(self, request: QueryRequest) -> ox.QuerySolutions:
        """The solutions of a SELECT query, as they come."""
        evaluation = self.evaluate(request)
        if evaluation.kind != "solutions":
            raise BadRequest("select() runs SELECT queries only.")
        return evaluation._result  # type: ignore[return-value]

    def last_modified(self) -> datetime.datetime:
        """When a graph was last written, from the catalog (or now, for an empty store)."""
        if self._last_modified is None or self._last_modified[0] != self.version:
            rows = self._store.query(
                f"""SELECT (MAX(?t) AS ?last) WHERE {{ GRAPH <{self.catalog_graph}> {{
                      ?g <{_DCTERMS}modified> ?t }} }}"""
            )
            value = next(iter(rows))["last"]
            moment = (
                datetime.datetime.fromisoformat(value.value)
                if value is not None
                else datetime.datetime.now(datetime.UTC)
            )
            self._last_modified = (self.version, moment.replace(microsecond=0))
        return self._last_modified[1]

    def named_graphs(self) -> list[str]:
        return sorted(graph.value for graph in self._store.named_graphs())

    def graph_sizes(self) -> dict[str, int]:
        """Count the triples of every named graph (counted once per version of the store)."""
        if self._graph_sizes is None or self._graph_sizes[0] != self.version:
            solutions = self._store.query(
                "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
            )
            sizes = {row["g"].value: int(row["n"].value) for row in solutions}
            self._graph_sizes = (self.version, sizes)
        return dict(self._graph_sizes[1])

    def __len__(self) -> int:
        return len(self._store)

    def catalog(self) -> dict[str, CatalogEntry]:
        """The graphs loaded from files, by graph IRI."""
        solutions = self._store.query(
            f"""SELECT ?g ?source ?sha WHERE {{ GRAPH <{self.catalog_graph}> {{
                  ?g <{_DCTERMS}source> ?source ;
                     <{_SPDX}checksum>/<{_SPDX}checksumValue> ?sha }} }}"""
        )
        return {
            row["g"].value: CatalogEntry(row["g"].value, row["source"].value, row["sha"].value)
            for row in solutions
        }

    def dump(self, output: IO[bytes], format_hint: str, graph: str | None = None) -> None:
        """Write the whole dataset (or one graph) to ``output``.

        Raises:
            StoreError: a format without graphs (Turtle…) was asked for the whole dataset.
        """
        rdf_format = _rdf_format(format_hint)
        if graph is None and not rdf_format.supports_datasets:
            raise StoreError(
                f"{rdf_format.name} holds a single graph: dump to N-Quads (.nq) or TriG "
                "(.trig), or name one graph with --graph."
            )
        from_graph = ox.NamedNode(graph) if graph else None
        self._store.dump(output, rdf_format, from_graph=from_graph)

    # Writing -----------------------------------------------------------------------------

    def replace_graph(
        self,
        graph: str,
        data: bytes,
        format_hint: str,
        *,
        records: Sequence[Record] = (),
    ) -> int:
        """Make ``data`` the whole content of ``graph``, with ``records`` about it, atomically.

        The data is parsed strictly with the graph IRI as its base, so ``<>`` in a file
        denotes the file's own graph. One SPARQL update does everything: readers see the
        old graph or the new one, and a crash leaves the old one, never a mix.

        Returns:
            the number of triples now in the graph.

        Raises:
            QuerySyntaxError: the data does not parse (message with line and column).
            StoreError: the data holds named graphs of its own.
        """
        rdf_format = _rdf_format(format_hint)
        try:
            quads = list(ox.parse(data, rdf_format, base_iri=graph))
        except SyntaxError as error:
            raise _syntax_error(error, data.decode("utf-8", "replace"), rdf_format.name) from error
        if any(not isinstance(q.graph_name, ox.DefaultGraph) for q in quads):
            raise StoreError(f"<{graph}>: the data holds named graphs; give one graph.")
        for quad in quads:
            _refuse_triple_terms(quad)
        triples = ox.serialize([q.triple for q in quads], format=ox.RdfFormat.N_TRIPLES)
        removals = "".join(
            f" ; DELETE WHERE {{ GRAPH <{r.graph}> {{ {r.remove} }} }}" for r in records if r.remove
        )
        additions = " ".join(f"GRAPH <{r.graph}> {{ {r.add} }}" for r in records if r.add)
        self._store.update(
            f"DROP SILENT GRAPH <{graph}>{removals} ; "
            f"INSERT DATA {{ GRAPH <{graph}> {{ {triples.decode()} }} {additions} }}"
        )
        self._changed()
        return len(quads)

    def catalog_record(self, graph: str, *, source: str, sha256: str) -> Record:
        """The catalog entry of a graph loaded from a file (its path and SHA-256)."""
        now = datetime.datetime.now(datetime.UTC).isoformat()
        return Record(
            self.catalog_graph,
            remove=f"<{graph}> <{_SPDX}checksum> ?c . ?c ?p ?o . <{graph}> ?q ?v",
            add=f"""<{graph}> <{_DCTERMS}source> {sparql_literal(source)} ;
                  <{_DCTERMS}modified> "{now}"^^<http://www.w3.org/2001/XMLSchema#dateTime> ;
                  <{_SPDX}checksum> [ a <{_SPDX}Checksum> ;
                    <{_SPDX}algorithm> <{_SPDX}checksumAlgorithm_sha256> ;
                    <{_SPDX}checksumValue> {sparql_literal(sha256)} ] .""",
        )

    def contains(self, subject: str, graph: str) -> bool:
        """Whether ``graph`` says anything about ``subject``."""
        return bool(self._store.query(f"ASK {{ GRAPH <{graph}> {{ <{subject}> ?p ?o }} }}"))

    def drop_graph(self, graph: str) -> None:
        """Remove a graph and its catalog entry, in one transaction."""
        self._store.update(
            f"""DROP SILENT GRAPH <{graph}> ;
            DELETE WHERE {{ GRAPH <{self.catalog_graph}> {{
                <{graph}> <{_SPDX}checksum> ?c . ?c ?p ?o . <{graph}> ?q ?v }} }}"""
        )
        self._changed()

    def backup(self, target: Path) -> None:
        """Copy the store into ``target`` (a new directory), consistently, while it serves."""
        target.mkdir(parents=True)
        self._store.backup(str(target / _ENGINE_FOLDER))

    def load(
        self,
        source: IO[bytes],
        format_hint: str,
        *,
        graph: str | None = None,
        base_iri: str | None = None,
    ) -> None:
        """Bulk-load a large file without holding it in memory (not transactional).

        Triples go to ``graph`` (or the default graph); quads keep their own graph.

        Raises:
            QuerySyntaxError: the file does not parse (message with line and column).
        """
        rdf_format = _rdf_format(format_hint)
        to_graph = ox.NamedNode(graph) if graph else None
        try:
            self._store.bulk_load(source, rdf_format, base_iri=base_iri, to_graph=to_graph)
        except SyntaxError as error:
            raise QuerySyntaxError(f"{rdf_format.name} syntax error: {error}") from error
        finally:
            self._changed()

    def _changed(self) -> None:
        # Flushed so that read-only snapshots opened from now on see the write.
        self._store.flush()
        for callback in self.on_change:
            callback()
        self.version += 1


# --- checked loading for validation (panorama.validation) ---------------------------------
# "Parser error at line 2 column 10: …", "… between line 3 column 7 and line 4 column 1: …"
_PARSER_POSITION = re.compile(r"^Parser error (?:at|between) line [^:]*: ")


def load_checked(
    data: bytes,
    format_hint: str,
    *,
    graph: str,
    into: Store | None = None,
    max_triples: int | None = None,
) -> Store:
    """Parse untrusted ``data`` strictly into ``graph`` of a store held in process memory.

    Made for submissions that are checked and thrown away: the store lives in this
    process only (``into``, or a new one), so it is fast and leaves nothing behind. The
    parser is Oxigraph's strict one, relative IRIs resolve against ``graph``, a JSON-LD
    remote ``@context`` is refused (nothing is fetched) and named graphs are refused.
    Which formats a caller accepts (no RDF/XML from strangers) is the caller's policy.

    Returns:
        the store holding the triples (``into`` if given).

    Raises:
        QuerySyntaxError: the data does not parse; the message names line and column.
        BadRequest: the data asks for a remote JSON-LD context, or holds named graphs.
        PayloadTooLarge: it holds more than ``max_triples`` triples (counted while parsing,
            so an oversized submission is never held whole).
    """
    rdf_format = _rdf_format(format_hint)
    target = ox.NamedNode(graph)
    quads: list[ox.Quad] = []
    try:
        for quad in ox.parse(data, rdf_format, base_iri=graph, without_named_graphs=True):
            _refuse_triple_terms(quad)
            quads.append(ox.Quad(quad.subject, quad.predicate, quad.object, target))
            if max_triples is not None and len(quads) > max_triples:
                raise PayloadTooLarge(
                    f"The data holds more than {max_triples:,} triples, the limit here; "
                    "split it into smaller parts."
                )
    except SyntaxError as error:
        detail = _PARSER_POSITION.sub("", str(error.msg))
        if "LoadDocumentCallback" in detail:
            raise BadRequest(
                "JSON-LD remote contexts are not loaded here: put the @context inline."
            ) from error
        if "named graph" in detail.lower():
            raise BadRequest(
                f"{rdf_format.name} data with named graphs: send one graph."
            ) from error
        if error.lineno:
            error = SyntaxError(f"error at {error.lineno}:{error.offset or 1}: {detail}")
        raise _syntax_error(error, data.decode("utf-8", "replace"), rdf_format.name) from None
    _refuse_what_xml_cannot_carry(data, quads)
    store = into if into is not None else Store(ox.Store(), Path(), base_iri=graph)
    store._store.extend(quads)
    return store
