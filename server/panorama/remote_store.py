"""The remote store: any SPARQL 1.1 engine over HTTP, behind the interface of ``Store``.

``RemoteStore`` speaks three protocols to the engine: SPARQL 1.1 Query (the query URL),
SPARQL 1.1 Update (the update URL) and the Graph Store HTTP Protocol (the store URL). Data
is parsed here, with Oxigraph's strict parsers, and sent as N-Triples; the engine is never
asked to fetch anything (no ``LOAD``). Credentials, if the engine wants any, come from
``PANORAMA_ENGINE_USER`` and ``PANORAMA_ENGINE_PASSWORD`` (HTTP basic or digest, whichever
the engine asks for).

How each operation is done, and what each engine guarantees, is in ``docs/engines.md``:

- a graph is replaced by one SPARQL Update request (``DROP``, the records' ``DELETE
  WHERE``, ``INSERT DATA`` for ground triples, ``INSERT {…} WHERE {}`` for triples with blank
  nodes). On Oxigraph one request is one transaction. On Virtuoso 7.2 it is one
  transaction too, but a reader that is counting while it commits can see part of it;
- several server instances can share one engine: every write also replaces a random
  revision token in the catalog graph, in the same request, and ``refresh()`` (one small
  query) tells a server that another instance wrote, so that its caches forget;
- the store sees the named graphs whose IRIs start with ``graph_prefix`` (the base IRI by
  default), so an engine can hold other data (and Virtuoso its system graphs) unpublished;
- work with a time limit (a resource page) sets a deadline for the requests of its context
  (``RemoteStore.deadline``): each gets what is left as its timeout, its answer is read
  only until then, and none is sent once it has passed.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import datetime
import os
import re
import secrets
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import urlencode

import httpx
import pyoxigraph as ox
from rdflib import Graph
from rdflib.term import Node

from panorama.errors import BadRequest, QuerySyntaxError
from panorama.store import (
    CatalogEntry,
    QueryRequest,
    Record,
    StoreError,
    Term,
    TermTriple,
    _rdf_format,
    _refuse_triple_terms,
    _syntax_error,
    is_iri,
    sparql_literal,
    subject_quads_query,
    to_rdflib,
)

__all__ = [
    "ENV_PASSWORD",
    "ENV_USER",
    "DeadlinePassed",
    "EngineResponse",
    "EngineUnavailable",
    "RemoteEvaluation",
    "RemoteStore",
]

ENV_USER = "PANORAMA_ENGINE_USER"
ENV_PASSWORD = "PANORAMA_ENGINE_PASSWORD"

_SPDX = "http://spdx.org/rdf/terms#"
_DCTERMS = "http://purl.org/dc/terms/"
_XSD = "http://www.w3.org/2001/XMLSchema#"
_PLAIN_DATATYPES = {f"{_XSD}string", "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"}
#: ``<catalog graph> <_REVISION> "token"``: replaced by every write, read by ``revision()``.
_REVISION = "urn:x-panorama:revision"
#: A triple no one writes: deleting it checks write permission without changing anything.
_PROBE = "<urn:x-panorama:probe> <urn:x-panorama:probe> <urn:x-panorama:probe>"
# An IRI that names no graph: a dataset of it alone is empty (as in published.py).
_NO_GRAPH = "urn:x-panorama:no-graph"
_RESULTS_JSON = "application/sparql-results+json"
_N_TRIPLES = "application/n-triples"
#: Ground triples per ``GRAPH <g> { … }`` block: Virtuoso's parser gives up near 5,000.
_BLOCK = 1000


@dataclass(frozen=True)
class _Dialect:
    """What an engine needs beyond the standards, learned from its ``Server`` header."""

    name: str
    #: Triples per ``INSERT {…} WHERE {}`` (Virtuoso 7.2: SP031 "generated SQL text has
    #: exceeded 10000 lines" at 1,500); ``None``: no limit.
    template_limit: int | None = None
    #: A template with blank nodes holds one ``GRAPH`` block (Virtuoso 7.2 fails with
    #: "SR002: Function string_output_string needs a string output" on two).
    template_one_graph: bool = False
    #: ``GRAPH ?g {}`` lists the named graphs (Virtuoso 7.2 answers one row, ?g unbound).
    lists_graphs_cheaply: bool = False
    #: Answers are cut at a row limit without an error (Virtuoso's ResultSetMaxRows: a
    #: Graph Store GET and a CONSTRUCT end early with 200 OK; a SELECT says so only in an
    #: ``X-SPARQL-MaxRows`` header).
    cuts_answers: bool = False
    #: Datatypes whose literals ``INSERT DATA`` refuses (Virtuoso 7.2: "SR553: Literal of
    #: type xsd:duration can not be created from SQL value of type INTEGER"); they are
    #: made with ``STRDT`` in a template instead.
    computed_datatypes: frozenset[str] = frozenset()


_DIALECTS = {
    "oxigraph": _Dialect("oxigraph", lists_graphs_cheaply=True),
    "virtuoso": _Dialect(
        "virtuoso",
        template_limit=1000,
        template_one_graph=True,
        cuts_answers=True,
        computed_datatypes=frozenset(
            f"http://www.w3.org/2001/XMLSchema#{name}"
            for name in ("duration", "yearMonthDuration", "dayTimeDuration")
        ),
    ),
}
_GENERIC = _Dialect("generic")


def _dialect(server: str) -> _Dialect:
    product = server.split("/", 1)[0].strip().lower()
    return _DIALECTS.get(product, _GENERIC)


class EngineUnavailable(StoreError):
    """The engine cannot be reached or did not answer in time: try again later (503)."""

    status = 503


class DeadlinePassed(EngineUnavailable):
    """The deadline of ``RemoteStore.deadline`` passed before the engine answered (503)."""


#: When the engine requests of the current context must be answered by (a
#: ``time.monotonic()`` time), while ``RemoteStore.deadline`` runs; None: no deadline.
_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "panorama_engine_deadline", default=None
)


@dataclass
class EngineResponse:
    """The engine's answer to a streamed query: status, media type and the body's bytes."""

    status: int
    media_type: str | None
    headers: httpx.Headers
    body: AsyncIterator[bytes]


# --- reading SPARQL text: where its dataset and its WHERE clause are ----------------------

_IRI_REF = re.compile(r"<[^<>\"{}|^`\\\x00-\x20]*>")
_VARIABLE = re.compile(r"[?$][\w\u00b7\u0300-\u036f\u203f-\u2040]+")
_PREFIXED = re.compile(r"[\w.-]*:[\w.%:\\-]*")
_WORD = re.compile(r"[A-Za-z_][\w-]*")
_NOTHING = re.compile(r"(?!)")
_SKIPPED = {"<": _IRI_REF, "?": _VARIABLE, "$": _VARIABLE}
_VARNAME = re.compile(r"\w+")


def _landmarks(query: str) -> Iterator[tuple[int, str, int]]:
    """Yield ``(offset, token, depth)`` for the braces and keywords of a query.

    Strings, IRIs, comments, variables and prefixed names are skipped, so a ``{`` or a
    ``WHERE`` inside them is not seen. ``depth`` is the brace depth before the token.
    """
    depth, i, end = 0, 0, len(query)
    while i < end:
        char = query[i]
        if char == "#":
            newline = query.find("\n", i)
            i = end if newline < 0 else newline + 1
        elif char in "\"'":
            quote = char * 3 if query.startswith(char * 3, i) else char
            i += len(quote)
            while i < end and not query.startswith(quote, i):
                i += 2 if query[i] == "\\" else 1
            i += len(quote)
        elif match := _SKIPPED.get(char, _NOTHING).match(query, i):
            i = match.end()  # an IRI or a variable
        elif char == "{":
            yield i, char, depth
            depth, i = depth + 1, i + 1
        elif char == "}":
            depth = max(depth - 1, 0)
            yield i, char, depth
            i += 1
        elif match := _WORD.match(query, i):
            prefixed = _PREFIXED.match(query, i)
            if prefixed and ":" in prefixed.group():
                i = prefixed.end()
            else:
                yield i, match.group().upper(), depth
                i = match.end()
        else:
            i += 1


_FORMS = ("SELECT", "CONSTRUCT", "DESCRIBE", "ASK")


def _query_form(query: str) -> str | None:
    return next((token for _, token, depth in _landmarks(query) if token in _FORMS), None)


def _names_dataset(query: str) -> bool:
    """Whether the query has ``FROM`` clauses (then the protocol adds no dataset)."""
    return any(token == "FROM" and depth == 0 for _, token, depth in _landmarks(query))


def _with_bindings(query: str, substitutions: Sequence[tuple[str, str]]) -> str:
    """The query with ``VALUES`` binding each variable to its IRI, first in its WHERE clause.

    The engine then evaluates the pattern with the variables bound, which is what Oxigraph's
    substitutions (SEP-0007) do for the embedded store, for all patterns of that group
    (FILTERs and EXISTS included; a subquery that does not project the variable does not
    see it).

    Raises:
        BadRequest: a value is not an IRI, or the query has no WHERE group to bind in.
    """
    for name, iri in substitutions:
        if not _VARNAME.fullmatch(name) or not is_iri(iri):
            raise BadRequest(f"Cannot bind ?{name} to {iri!r}: give a variable name and an IRI.")
    names = " ".join(f"?{name}" for name, _ in substitutions)
    values = " ".join(f"<{iri}>" for _, iri in substitutions)
    clause = f" VALUES ({names}) {{ ({values}) }} "
    form, templates = None, 0
    for offset, token, depth in _landmarks(query):
        if depth != 0:
            continue
        if form is None and token in _FORMS:
            form = token
        elif form == "CONSTRUCT" and token == "WHERE" and templates == 0:
            break  # CONSTRUCT WHERE { … }: a template, where VALUES cannot go
        elif form is not None and token == "{":
            if form == "CONSTRUCT" and templates == 0:
                templates = 1  # the template; the WHERE group comes next
                continue
            return query[: offset + 1] + clause + query[offset + 1 :]
    raise BadRequest(
        "Parameters are bound in the query's WHERE clause, and this query has none "
        "(write CONSTRUCT { … } WHERE { … } or SELECT … WHERE { … })."
    )


# --- reading answers ------------------------------------------------------------------------


def _term(binding: Mapping[str, object]) -> Term:
    """An Oxigraph term from a SPARQL 1.1 JSON results binding (Virtuoso's variants too)."""
    kind, value = binding.get("type"), binding.get("value")
    if kind == "uri":
        return ox.NamedNode(str(value))
    if kind == "bnode":
        return ox.BlankNode(str(value).removeprefix("nodeID://"))  # Virtuoso: "nodeID://b1001"
    if kind in ("literal", "typed-literal"):
        lang, datatype = binding.get("xml:lang"), binding.get("datatype")
        if lang:
            return ox.Literal(str(value), language=str(lang))
        if datatype and datatype not in _PLAIN_DATATYPES:
            return ox.Literal(str(value), datatype=ox.NamedNode(str(datatype)))
        return ox.Literal(str(value))  # RDF 1.1: xsd:string is the plain literal
    # An RDF 1.2 triple term: shown in its N-Triples form (as in store.py), not refused.
    return ox.Literal(str(value))


def _boolean(response: httpx.Response) -> bool:
    """The answer to an ASK query in SPARQL JSON results.

    Virtuoso 7.2 answers a POSTed ASK as a SELECT of ``?__ASK_RETVAL``: one row (``1``)
    for true, no rows for false.
    """
    document = response.json()
    if "boolean" in document:
        return bool(document["boolean"])
    rows = document.get("results", {}).get("bindings", [])
    return any(
        str(value.get("value")) not in ("0", "false") for row in rows for value in row.values()
    )


class _Chunks:
    """A file-like ``read`` over an iterator of byte chunks, for Oxigraph's parsers."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._pending) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._pending += chunk
        if size < 0:
            size = len(self._pending)
        data, self._pending = self._pending[:size], self._pending[size:]
        return data


def _until_deadline(chunks: Iterator[bytes], url: str) -> Iterator[bytes]:
    """``chunks`` as they come, until the context's deadline (``RemoteStore.deadline``).

    httpx's timeouts bound each read, not an answer: an engine that sends as it computes
    (Oxigraph's CONSTRUCT) would keep a request going past any read timeout.

    Raises:
        DeadlinePassed: the deadline passed before the last chunk.
    """
    at = _DEADLINE.get()
    for chunk in chunks:
        if at is not None and time.monotonic() > at:
            raise DeadlinePassed(
                f"The SPARQL engine at {url} was still answering when the time limit ran out."
            )
        yield chunk


def _excerpt(response: httpx.Response, limit: int = 300) -> str:
    """The start of an engine's message, on one line (an HTML error page reduced to text)."""
    text = response.text
    if "html" in response.headers.get("content-type", ""):
        text = re.sub(r"<[^>]+>", " ", text)
    plain = " ".join(text.split())
    return plain if len(plain) <= limit else plain[:limit] + " …"


# --- writing ---------------------------------------------------------------------------------


def _has_blank_node(quad: ox.Quad) -> bool:
    return isinstance(quad.subject, ox.BlankNode) or isinstance(quad.object, ox.BlankNode)


def _graph_blocks(quads: Sequence[ox.Quad], block: int | None = _BLOCK) -> str:
    """``GRAPH <g> { … }`` blocks of at most ``block`` triples, in the order given."""
    by_graph: dict[str, list[ox.Triple]] = {}
    for quad in quads:
        by_graph.setdefault(quad.graph_name.value, []).append(quad.triple)
    blocks = []
    for graph, triples in by_graph.items():
        step = block or len(triples)
        for start in range(0, len(triples), step):
            text = ox.serialize(triples[start : start + step], format=ox.RdfFormat.N_TRIPLES)
            blocks.append(f"GRAPH <{graph}> {{\n{text.decode()}}}")
    return "\n".join(blocks)


def _computed_insert(quads: Sequence[ox.Quad]) -> str:
    """One ``INSERT {…} WHERE {…}`` that makes each quad's literal object with ``STRDT``."""
    by_graph: dict[str, list[str]] = {}
    binds = []
    for index, quad in enumerate(quads):
        literal = quad.object
        assert isinstance(literal, ox.Literal)
        by_graph.setdefault(quad.graph_name.value, []).append(
            f"{quad.subject} {quad.predicate} ?computed{index} ."
        )
        binds.append(
            f"BIND(STRDT({sparql_literal(literal.value)}, {literal.datatype}) AS ?computed{index})"
        )
    blocks = " ".join(f"GRAPH <{g}> {{ {' '.join(t)} }}" for g, t in by_graph.items())
    return f"INSERT {{ {blocks} }} WHERE {{ {' '.join(binds)} }}"


def _components(quads: Sequence[ox.Quad]) -> list[list[ox.Quad]]:
    """The quads that share blank nodes, together (connected components, in order)."""
    parent: dict[str, str] = {}

    def root(node: str) -> str:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for quad in quads:
        nodes = [t.value for t in (quad.subject, quad.object) if isinstance(t, ox.BlankNode)]
        for other in nodes[1:]:
            parent[root(other)] = root(nodes[0])
    components: dict[str, list[ox.Quad]] = {}
    for quad in quads:
        node = quad.subject if isinstance(quad.subject, ox.BlankNode) else quad.object
        components.setdefault(root(node.value), []).append(quad)
    return list(components.values())


def _templates(quads: Sequence[ox.Quad], dialect: _Dialect) -> list[list[ox.Quad]]:
    """Quads with blank nodes, grouped into ``INSERT`` templates the engine takes.

    A blank node's label means one node only within one template, so quads that share
    blank nodes (a component) always go into the same one.

    Raises:
        StoreError: one component alone is more than the engine takes in one template.
    """
    limit = dialect.template_limit
    if not quads or (limit is None and not dialect.template_one_graph):
        return [list(quads)] if quads else []
    templates: dict[str, list[list[ox.Quad]]] = {}
    for component in _components(quads):
        graphs = {quad.graph_name.value for quad in component}
        if (limit is not None and len(component) > limit) or (
            dialect.template_one_graph and len(graphs) > 1
        ):
            across = f" across {len(graphs)} graphs" if len(graphs) > 1 else ""
            most = f"at most {limit:,} such triples" if limit is not None else "such triples"
            alone = ", all in one graph," if dialect.template_one_graph else ""
            raise StoreError(
                f"{len(component):,} triples hang together through blank nodes{across}; "
                f"{dialect.name} takes {most}{alone} in one write. Give some of the blank "
                "nodes IRIs."
            )
        key = next(iter(graphs)) if dialect.template_one_graph else ""
        groups = templates.setdefault(key, [[]])
        if limit is not None and len(groups[-1]) + len(component) > limit:
            groups.append([])
        groups[-1].extend(component)
    return [group for groups in templates.values() for group in groups]


class RemoteEvaluation:
    """A query whose answer is streamed from the engine as ``serialize`` writes it.

    ``Store.evaluate``'s counterpart, for the server's own whole-dataset writers (the
    Turtle dump): a graph is parsed as the engine sends it and written by Oxigraph's
    serializer, so the output is the same whichever engine answers.
    """

    def __init__(self, store: RemoteStore, request: QueryRequest, kind: str) -> None:
        self.kind = kind
        self._store = store
        self._request = request

    def serialize(self, output: IO[bytes], media_type: str) -> None:
        """Write the answer to ``output`` in ``media_type``.

        Raises:
            StoreError: the engine fails or cannot be reached.
        """
        if self.kind == "graph":
            triples = self._store._streamed_triples(self._request)
            ox.serialize(triples, output, ox.RdfFormat.from_media_type(media_type))
            return
        response = self._store._query(self._request, _RESULTS_JSON, "a query")
        results_format = ox.QueryResultsFormat.from_media_type(media_type)
        if self.kind == "boolean":  # Virtuoso answers an ASK as a one-row SELECT
            answer = ox.Store().query("ASK {}" if _boolean(response) else "ASK { FILTER(false) }")
            answer.serialize(output, results_format)
            return
        results = ox.parse_query_results(response.content, ox.QueryResultsFormat.JSON)
        results.serialize(output, results_format)


class _EngineAuth(httpx.Auth):
    """HTTP basic or digest authentication, whichever scheme the engine challenges with.

    Digest state (nonce, count) is kept per thread: the server's threads write at once.
    """

    requires_request_body = True

    def __init__(self, user: str, password: str) -> None:
        self._user, self._password = user, password
        self._scheme: str | None = None
        self._local = threading.local()

    def _delegate(self) -> httpx.Auth:
        if self._scheme == "basic":
            return httpx.BasicAuth(self._user, self._password)
        digest = getattr(self._local, "digest", None)
        if digest is None:
            digest = self._local.digest = httpx.DigestAuth(self._user, self._password)
        return digest

    def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:  # type: ignore[override]
        if self._scheme is not None:
            yield from self._delegate().auth_flow(request)  # type: ignore[misc]
            return
        response = yield request
        scheme = response.headers.get("www-authenticate", "").split(" ", 1)[0].lower()
        if response.status_code == 401 and scheme in ("basic", "digest"):
            self._scheme = scheme
            yield from self._delegate().auth_flow(request)  # type: ignore[misc]


class RemoteStore:
    """A SPARQL engine over HTTP, with the methods and errors of ``Store``."""

    def __init__(
        self,
        query_url: str,
        *,
        base_iri: str,
        update_url: str | None = None,
        store_url: str | None = None,
        user: str | None = None,
        password: str | None = None,
        graph_prefix: str | None = None,
        timeout: float = 60.0,
        write_timeout: float = 600.0,
        load_batch: int = 25_000,
        path: Path | None = None,
    ) -> None:
        """Describe an engine; nothing is sent until the first call (``check`` sends one).

        Args:
            update_url, store_url: SPARQL Update and Graph Store URLs; the query URL if None.
            user, password: credentials for every request (the engine picks the scheme).
            graph_prefix: the store's named graphs are those whose IRI starts with it.
            timeout, write_timeout: seconds to wait for an answer to a read, a write.
            load_batch: triples per Graph Store POST in ``load``.
            path: a local folder for the server's own files (ledger, dumps), if any.
        """
        self.query_url = query_url
        self.update_url = update_url or query_url
        self.store_url = store_url or query_url
        self.base_iri = base_iri
        self.catalog_graph = f"{base_iri}graph/catalog"
        self.graph_prefix = base_iri if graph_prefix is None else graph_prefix
        self.path = path
        #: Grows with every write seen (ours, or another instance's found by ``refresh``).
        self.version = 0
        #: Called after every write seen, before ``version`` moves (as in ``Store``).
        self.on_change: list[Callable[[], None]] = []
        self._auth = _EngineAuth(user, password) if user else None
        self._timeout = httpx.Timeout(timeout, connect=10.0)
        self._write_timeout = httpx.Timeout(write_timeout, connect=10.0)
        self._load_batch = load_batch
        self._client = httpx.Client(auth=self._auth, timeout=self._timeout)
        self._async: tuple[asyncio.AbstractEventLoop, httpx.AsyncClient] | None = None
        self._dialect: _Dialect | None = None
        self._seen_revision: str | None = None
        self._named_graphs: tuple[int, list[str]] | None = None
        self._graph_sizes: tuple[int, dict[str, int]] | None = None
        self._last_modified: tuple[int, datetime.datetime] | None = None

    @classmethod
    def connect(
        cls,
        query_url: str,
        *,
        base_iri: str,
        update_url: str | None = None,
        store_url: str | None = None,
        environ: Mapping[str, str] = os.environ,
        **options: object,
    ) -> RemoteStore:
        """Open a remote store with credentials from the environment, checked for writing.

        Raises:
            StoreError: the engine cannot be reached or refuses to write; the message says
                which URL and what to do.
        """
        store = cls(
            query_url,
            base_iri=base_iri,
            update_url=update_url,
            store_url=store_url,
            user=environ.get(ENV_USER) or None,
            password=environ.get(ENV_PASSWORD, ""),
            **options,  # type: ignore[arg-type]
        )
        try:
            store.check(write=True)
        except BaseException:
            store.close()
            raise
        return store

    def check(self, *, write: bool = False) -> None:
        """Make sure the engine answers queries (and, with ``write``, accepts writes).

        The write check deletes a triple that no one writes: it needs permission to write
        and changes nothing.

        Raises:
            StoreError: the engine cannot be reached, or refuses.
        """
        self.contains("urn:x-panorama:probe", self.catalog_graph)
        self._seen_revision = self.revision()
        if write:
            self._post_update(f"DELETE DATA {{ GRAPH <{self.catalog_graph}> {{ {_PROBE} }} }}")
            self._call(
                "GET",
                self.store_url,
                "a Graph Store Protocol read",
                params={"graph": self.catalog_graph},
                headers={"Accept": _N_TRIPLES},
                missing_ok=True,
            )

    def close(self) -> None:
        """Close the HTTP connections (the async ones close with their event loop)."""
        self._client.close()

    async def aclose(self) -> None:
        if self._async is not None:
            await self._async[1].aclose()
            self._async = None

    # HTTP --------------------------------------------------------------------------------

    @contextlib.contextmanager
    def deadline(self, at: float) -> Iterator[None]:
        """Have the engine requests sent in this context (thread or task) answered by ``at``.

        ``at`` is a ``time.monotonic()`` time. Each request gets what is left of it as its
        timeout, its answer is read only until then, and none is sent once it has passed,
        so that work with a time limit (a page, in a thread) stops then instead of running
        on after its client was answered.

        Raises:
            DeadlinePassed: from a request inside, when ``at`` passes before its answer.
        """
        token = _DEADLINE.set(at)
        try:
            yield
        finally:
            _DEADLINE.reset(token)

    @staticmethod
    def _bounded(timeout: httpx.Timeout, url: str, what: str) -> httpx.Timeout:
        """``timeout``, or what is left before the context's deadline when there is one.

        Raises:
            DeadlinePassed: the deadline has passed, so the request is not sent.
        """
        at = _DEADLINE.get()
        if at is None:
            return timeout
        left = at - time.monotonic()
        if left <= 0:
            raise DeadlinePassed(
                f"The time limit ran out before {what} could be sent to the SPARQL engine at {url}."
            )
        return httpx.Timeout(left)

    def _call(
        self,
        method: str,
        url: str,
        what: str,
        *,
        timeout: httpx.Timeout | None = None,
        missing_ok: bool = False,
        checked: bool = True,
        **options: object,
    ) -> httpx.Response:
        """Send one request; a failure becomes a ``StoreError`` that says what to do.

        With ``checked=False`` an answer with an error status is returned, not raised.
        """
        timeout = self._bounded(timeout or self._timeout, url, what)
        try:
            # Read chunk by chunk, for the deadline, then made whole again.
            with self._client.stream(
                method,
                url,
                timeout=timeout,
                **options,  # type: ignore[arg-type]
            ) as streamed:
                raw = b"".join(_until_deadline(streamed.iter_raw(), url))
            response = httpx.Response(
                streamed.status_code,
                headers=streamed.headers,
                content=raw,  # decoded (Content-Encoding) here
                request=streamed.request,
                extensions=streamed.extensions,
            )
        except httpx.HTTPError as error:
            raise self._unreachable(url, what, error, timeout) from error
        self._learn_dialect(response)
        if response.is_success or not checked or (missing_ok and response.status_code == 404):
            return response
        raise self._refusal(response, what)

    def _learn_dialect(self, response: httpx.Response) -> None:
        if self._dialect is None:
            self._dialect = _dialect(response.headers.get("server", ""))

    @property
    def dialect(self) -> str:
        """The engine's kind as far as this store knows it (``oxigraph``, ``virtuoso``…)."""
        return (self._dialect or _GENERIC).name

    def _unreachable(
        self, url: str, what: str, error: httpx.HTTPError, timeout: httpx.Timeout
    ) -> StoreError:
        if isinstance(error, httpx.TimeoutException) and _DEADLINE.get() is not None:
            # Its timeout was what was left before the deadline (``_bounded``).
            return DeadlinePassed(
                f"The SPARQL engine at {url} did not answer {what} within the time limit "
                f"({timeout.read:.1f} s were left)."
            )
        if isinstance(error, httpx.TimeoutException):
            return EngineUnavailable(
                f"The SPARQL engine at {url} did not answer {what} within {timeout.read:.0f} s "
                f"({type(error).__name__}). It may be overloaded, or the request too large."
            )
        return EngineUnavailable(
            f"Cannot reach the SPARQL engine at {url} for {what} ({type(error).__name__}: "
            f"{error or 'no detail'}). Check that the engine is running and that the URL given "
            "to --engine (and --engine-update, --engine-store) is right."
        )

    def _refusal(self, response: httpx.Response, what: str) -> StoreError:
        url = str(response.request.url.copy_with(query=None))
        status = f"{response.status_code} {response.reason_phrase}".strip()
        if response.status_code in (401, 403):
            if self._auth is None:
                hint = f"it wants credentials: set {ENV_USER} and {ENV_PASSWORD}"
            else:
                hint = (
                    f"it did not accept the credentials of {ENV_USER} and {ENV_PASSWORD}; "
                    "check them, and that the account may write (on Virtuoso: the "
                    "SPARQL_UPDATE role and write permission on the graphs)"
                )
            return StoreError(f"The SPARQL engine at {url} refused {what} ({status}): {hint}.")
        detail = _excerpt(response) or "no message"
        return StoreError(f"The SPARQL engine at {url} failed {what} ({status}): {detail}")

    # Reading -------------------------------------------------------------------------------

    def _query(self, request: QueryRequest, accept: str, what: str) -> httpx.Response:
        text = request.query
        if request.substitutions:
            text = _with_bindings(text, request.substitutions)
        form = [("query", text), *self._dataset(request, text)]
        response = self._call(
            "POST",
            self.query_url,
            what,
            content=urlencode(form).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": accept},
            checked=False,
        )
        if response.is_success:
            return response
        refusal = self._refusal(response, what)
        if response.status_code != 400:
            raise refusal
        # A query the engine does not take: Oxigraph's parser shows where it is wrong; if
        # it parses, the engine lacks a feature, and its own words say which.
        try:
            ox.Store().query(text)  # parses only: solutions are computed when read
        except SyntaxError as error:
            raise _syntax_error(error, text) from None
        except ValueError:
            pass
        raise BadRequest(refusal.message)

    def _dataset(self, request: QueryRequest, text: str) -> list[tuple[str, str]]:
        """The protocol's dataset for a request, with ``Store``'s meaning.

        The union default graph is the union of the store's named graphs, named explicitly
        so that every engine (and Virtuoso, whose own union includes its system graphs)
        answers the same. Named graphs stay visible when only default graphs are given, as
        in Oxigraph.
        """
        explicit = request.default_graphs or request.named_graphs
        if not explicit and (not request.union_default_graph or _names_dataset(text)):
            return []
        if request.default_graphs:
            default = list(request.default_graphs)
        elif request.union_default_graph:
            default = self.named_graphs() or [_NO_GRAPH]
        else:
            default = []  # the engine's own default graph
        named = list(request.named_graphs) or self.named_graphs() or [_NO_GRAPH]
        return [("default-graph-uri", g) for g in default] + [("named-graph-uri", g) for g in named]

    def _rows(self, query: str) -> list[dict[str, Node]]:
        """The rows of one of this module's own queries (over the engine's own dataset)."""
        return self.select(QueryRequest(query, union_default_graph=False))

    def select(self, request: QueryRequest) -> list[dict[str, Node]]:
        """Run a SELECT query and return its rows as rdflib terms (unbound variables left out).

        Raises:
            QuerySyntaxError: the query does not parse.
            BadRequest: not a SELECT query, or the engine refuses it.
            StoreError: the engine cannot be reached or fails.
        """
        rows = self.term_rows(request)
        return [{name: to_rdflib(term) for name, term in row.items()} for row in rows]

    def quads_about(self, subjects: Sequence[str]) -> list[tuple[TermTriple, Term | None]]:
        """Every triple about ``subjects`` with the graph that holds it (None: the default
        graph), as Oxigraph's terms: for pages."""
        rows = self.term_rows(
            QueryRequest(subject_quads_query(subjects), union_default_graph=False)
        )
        return [((row["s"], row["p"], row["o"]), row.get("g")) for row in rows]

    def term_rows(self, request: QueryRequest) -> list[dict[str, Term]]:
        """``select`` as Oxigraph's terms, for pages."""
        names, bindings = self._solutions(request)
        return [{name: _term(row[name]) for name in names if name in row} for row in bindings]

    def term_tuples(self, request: QueryRequest) -> list[tuple[Term | None, ...]]:
        """The rows of a SELECT query as tuples of Oxigraph's terms in the order selected
        (None where a variable is unbound), for pages."""
        names, bindings = self._solutions(request)
        return [
            tuple(_term(row[name]) if name in row else None for name in names) for row in bindings
        ]

    def _solutions(self, request: QueryRequest) -> tuple[list[str], list[dict]]:
        """The variables and the JSON bindings of a SELECT query's answer."""
        if _query_form(request.query) not in ("SELECT", None):
            raise BadRequest("select() runs SELECT queries only.")
        response = self._query(request, _RESULTS_JSON, "a SELECT query")
        if limit := response.headers.get("x-sparql-maxrows"):
            raise StoreError(
                f"The SPARQL engine at {self.query_url} cut the answer to a SELECT query at "
                f"{limit} rows (Virtuoso: [SPARQL] ResultSetMaxRows in virtuoso.ini): raise "
                "the limit, or give the query a LIMIT of its own."
            )
        try:
            document = response.json()
            return document["head"]["vars"], document["results"]["bindings"]
        except (ValueError, KeyError, TypeError) as error:
            raise StoreError(
                f"The SPARQL engine at {self.query_url} did not answer a SELECT query with "
                f"SPARQL JSON results: {_excerpt(response)}"
            ) from error

    def construct(self, request: QueryRequest, into: Graph | None = None) -> Graph:
        """Run a CONSTRUCT or DESCRIBE query into an rdflib graph, for the server's own use.

        Args:
            into: the graph to add the triples to (a new one if None).
        """
        if _query_form(request.query) not in ("CONSTRUCT", "DESCRIBE", None):
            raise BadRequest("construct() runs CONSTRUCT and DESCRIBE queries only.")
        response = self._query(request, _N_TRIPLES, "a CONSTRUCT query")
        graph = Graph() if into is None else into
        graph.addN(
            (
                to_rdflib(triple.subject),
                to_rdflib(triple.predicate),
                to_rdflib(triple.object),
                graph,
            )
            for triple in self._parsed(ox.parse(response.content, self._answer_format(response)))
        )
        return graph

    def triples(self, request: QueryRequest) -> list[tuple[Node, Node, Node]]:
        """Run a CONSTRUCT or DESCRIBE query and return its triples as rdflib terms."""
        return [
            (to_rdflib(s), to_rdflib(p), to_rdflib(o)) for s, p, o in self.term_triples(request)
        ]

    def term_triples(self, request: QueryRequest) -> list[TermTriple]:
        """``triples`` as Oxigraph's terms, for pages."""
        if _query_form(request.query) not in ("CONSTRUCT", "DESCRIBE", None):
            raise BadRequest("triples() runs CONSTRUCT and DESCRIBE queries only.")
        response = self._query(request, _N_TRIPLES, "a CONSTRUCT query")
        return [
            (triple.subject, triple.predicate, triple.object)  # type: ignore[misc]
            for triple in self._parsed(ox.parse(response.content, self._answer_format(response)))
        ]

    def evaluate(self, request: QueryRequest) -> RemoteEvaluation:
        """A query whose answer streams from the engine when it is serialized."""
        form = _query_form(request.query)
        kind = {"ASK": "boolean", "CONSTRUCT": "graph", "DESCRIBE": "graph"}.get(
            form or "", "solutions"
        )
        return RemoteEvaluation(self, request, kind)

    def _streamed_triples(self, request: QueryRequest) -> Iterator[ox.Triple]:
        """The triples of a CONSTRUCT or DESCRIBE answer, parsed as the engine sends them."""
        text = request.query
        if request.substitutions:
            text = _with_bindings(text, request.substitutions)
        form = [("query", text), *self._dataset(request, text)]
        what = "a CONSTRUCT query"
        timeout = self._bounded(self._write_timeout, self.query_url, what)
        try:
            with self._client.stream(
                "POST",
                self.query_url,
                content=urlencode(form).encode(),
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Accept": _N_TRIPLES,
                },
                timeout=timeout,
            ) as response:
                if not response.is_success:
                    response.read()
                    raise self._refusal(response, what)
                chunks = _until_deadline(response.iter_bytes(), self.query_url)
                yield from self._parsed(ox.parse(_Chunks(chunks), self._answer_format(response)))
        except httpx.HTTPError as error:
            raise self._unreachable(self.query_url, what, error, timeout) from error

    def protocol_form(self, request: QueryRequest) -> tuple[str, list[tuple[str, str]]]:
        """The query text (parameters bound) and the protocol's dataset parameters for it.

        What ``select`` sends, for a caller that sends the query itself (the ``/sparql``
        proxy). Reads the store's graph list when it is not known for this version.
        """
        text = request.query
        if request.substitutions:
            text = _with_bindings(text, request.substitutions)
        return text, self._dataset(request, text)

    @property
    def knows_named_graphs(self) -> bool:
        """Whether ``named_graphs`` (and so ``protocol_form``) answers without a request."""
        return self._named_graphs is not None and self._named_graphs[0] == self.version

    def private_graph(self, name: str) -> str:
        """A graph for the server's own records, outside ``graph_prefix``.

        Outside the prefix, it is in no union default graph, dump, count or listing, and
        the ``/sparql`` proxy refuses queries that name it.
        """
        return f"urn:x-panorama:{name}:{self.base_iri}"

    def _parsed(self, triples: Iterator[ox.Triple]) -> Iterator[ox.Triple]:
        """``triples`` as they are parsed, an answer that does not parse being the engine's
        failure, not the server's: the Oxigraph server ends an answer that it stopped at its
        own time limit (``--timeout-s``) with "The SPARQL operation has been cancelled",
        after the 200 and the triples it had sent."""
        try:
            yield from triples
        except SyntaxError as error:
            raise EngineUnavailable(
                f"The SPARQL engine at {self.query_url} sent an answer to a CONSTRUCT query "
                f"that does not parse ({error}); it may have stopped the query at its own "
                "time limit. Narrow the query (LIMIT, more specific patterns), or raise the "
                "engine's limit."
            ) from None

    @staticmethod
    def _answer_format(response: httpx.Response) -> ox.RdfFormat:
        media_type = response.headers.get("content-type", "").split(";", 1)[0].strip()
        if media_type == "text/plain":  # N-Triples, as engines of SPARQL 1.0 days label it
            return ox.RdfFormat.N_TRIPLES
        return ox.RdfFormat.from_media_type(media_type) or ox.RdfFormat.N_TRIPLES

    def contains(self, subject: str, graph: str) -> bool:
        """Whether ``graph`` says anything about ``subject``."""
        response = self._query(
            QueryRequest(
                f"ASK {{ GRAPH <{graph}> {{ <{subject}> ?p ?o }} }}", union_default_graph=False
            ),
            _RESULTS_JSON,
            "an ASK query",
        )
        return _boolean(response)

    def revision(self) -> str:
        """An opaque token that every write replaces (``""`` before the first write).

        One small indexed query: cheap enough for every request. Two writes that commit at
        once on an engine without serializable writes may leave two tokens; they are
        joined, and the next write replaces both.
        """
        rows = self._rows(
            f"SELECT ?r WHERE {{ GRAPH <{self.catalog_graph}> {{ "
            f"<{self.catalog_graph}> <{_REVISION}> ?r }} }}"
        )
        return " ".join(sorted(str(row["r"]) for row in rows if "r" in row))

    def refresh(self) -> bool:
        """Learn whether another server wrote since we last looked; if so, caches forget.

        Returns:
            whether the store changed (``on_change`` was called and ``version`` moved).
        """
        current = self.revision()
        if current == self._seen_revision:
            return False
        self._seen_revision = current
        self._changed()
        return True

    async def arefresh(self) -> bool:
        """``refresh`` over the async client, for the event loop.

        If the engine cannot be asked, the caches forget anyway (an answer kept from
        before could be stale), and the error is raised.

        Raises:
            EngineUnavailable: the engine cannot be reached.
            StoreError: it fails.
        """
        query = (
            f"SELECT ?r WHERE {{ GRAPH <{self.catalog_graph}> {{ "
            f"<{self.catalog_graph}> <{_REVISION}> ?r }} }}"
        )
        try:
            response = await self._async_client().post(
                self.query_url,
                content=urlencode([("query", query)]).encode(),
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Accept": _RESULTS_JSON,
                },
            )
            if not response.is_success:
                raise self._refusal(response, "the revision query")
            rows = response.json()["results"]["bindings"]
        except (httpx.HTTPError, StoreError, ValueError, KeyError, TypeError) as error:
            self._seen_revision = None
            self._changed()
            if isinstance(error, httpx.HTTPError):
                raise self._unreachable(
                    self.query_url, "the revision query", error, self._timeout
                ) from error
            if isinstance(error, StoreError):
                raise
            raise StoreError(f"The revision query failed: {error}") from error
        current = " ".join(sorted(str(row["r"]["value"]) for row in rows if "r" in row))
        if current == self._seen_revision:
            return False
        self._seen_revision = current
        self._changed()
        return True

    def last_modified(self) -> datetime.datetime:
        """When a graph was last written, from the catalog (or now, for an empty store)."""
        if self._last_modified is None or self._last_modified[0] != self.version:
            rows = self._rows(
                f"""SELECT (MAX(?t) AS ?last) WHERE {{ GRAPH <{self.catalog_graph}> {{
                      ?g <{_DCTERMS}modified> ?t }} }}"""
            )
            moment = datetime.datetime.now(datetime.UTC)
            if rows and "last" in rows[0]:
                with contextlib.suppress(ValueError):
                    moment = datetime.datetime.fromisoformat(str(rows[0]["last"]))
                if moment.tzinfo is None:  # an engine that drops the time zone: UTC
                    moment = moment.replace(tzinfo=datetime.UTC)
            self._last_modified = (self.version, moment.replace(microsecond=0))
        return self._last_modified[1]

    def _in_scope(self, variable: str) -> str:
        return f"FILTER(STRSTARTS(STR(?{variable}), {sparql_literal(self.graph_prefix)}))"

    def named_graphs(self) -> list[str]:
        """The named graphs under ``graph_prefix`` that hold triples (once per version)."""
        if self._named_graphs is None or self._named_graphs[0] != self.version:
            if self._dialect is None:
                self.check()
            if (self._dialect or _GENERIC).lists_graphs_cheaply:
                query = f"SELECT ?g WHERE {{ GRAPH ?g {{}} {self._in_scope('g')} }}"
            else:
                query = (
                    f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} {self._in_scope('g')} }}"
                )
            graphs = sorted({str(row["g"]) for row in self._rows(query) if "g" in row})
            self._named_graphs = (self.version, graphs)
        return list(self._named_graphs[1])

    def graph_sizes(self) -> dict[str, int]:
        """Count the triples of every named graph (counted once per version of the store)."""
        if self._graph_sizes is None or self._graph_sizes[0] != self.version:
            rows = self._rows(
                "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
                f"{self._in_scope('g')} }} GROUP BY ?g"
            )
            sizes = {str(row["g"]): int(str(row["n"])) for row in rows if "g" in row}
            self._graph_sizes = (self.version, sizes)
        return dict(self._graph_sizes[1])

    def __len__(self) -> int:
        """Triples in the store's named graphs (a remote store has no default graph of its own)."""
        return sum(self.graph_sizes().values())

    def catalog(self) -> dict[str, CatalogEntry]:
        """The graphs loaded from files, by graph IRI."""
        rows = self._rows(
            f"""SELECT ?g ?source ?sha WHERE {{ GRAPH <{self.catalog_graph}> {{
                  ?g <{_DCTERMS}source> ?source ;
                     <{_SPDX}checksum>/<{_SPDX}checksumValue> ?sha }} }}"""
        )
        return {
            str(row["g"]): CatalogEntry(str(row["g"]), str(row["source"]), str(row["sha"]))
            for row in rows
        }

    def dump(self, output: IO[bytes], format_hint: str, graph: str | None = None) -> None:
        """Write the store's named graphs (or one graph) to ``output``, as they stream in.

        Each graph is read with a Graph Store Protocol GET and written through Oxigraph's
        serializer, so the output is the same whichever engine holds the data, and no
        graph is held in memory.

        Raises:
            StoreError: a format without graphs (Turtle…) was asked for the whole dataset,
                or the engine fails.
        """
        rdf_format = _rdf_format(format_hint)
        if graph is None and not rdf_format.supports_datasets:
            raise StoreError(
                f"{rdf_format.name} holds a single graph: dump to N-Quads (.nq) or TriG "
                "(.trig), or name one graph with --graph."
            )
        if graph is not None:
            ox.serialize(self._graph_triples(graph), output, rdf_format)
            return

        def quads() -> Iterator[ox.Quad]:
            for name in self.named_graphs():
                target = ox.NamedNode(name)
                for triple in self._graph_triples(name):
                    yield ox.Quad(triple.subject, triple.predicate, triple.object, target)

        ox.serialize(quads(), output, rdf_format)

    def _graph_triples(self, graph: str) -> Iterator[ox.Triple]:
        """The triples of ``graph`` as the engine streams them (none if there is no graph)."""
        what = f"the Graph Store read of <{graph}>"
        timeout = self._bounded(self._write_timeout, self.store_url, what)
        try:
            with self._client.stream(
                "GET",
                self.store_url,
                params={"graph": graph},
                headers={"Accept": _N_TRIPLES},
                timeout=timeout,
            ) as response:
                if response.status_code == 404:
                    return
                if not response.is_success:
                    response.read()
                    raise self._refusal(response, what)
                received = 0
                chunks = _until_deadline(response.iter_bytes(), self.store_url)
                for quad in ox.parse(_Chunks(chunks), self._answer_format(response)):
                    received += 1
                    yield quad.triple
        except httpx.HTTPError as error:
            raise self._unreachable(self.store_url, what, error, timeout) from error
        if (self._dialect or _GENERIC).cuts_answers:
            (row,) = self._rows(
                f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
            )
            if received < int(str(row["n"])):
                raise StoreError(
                    f"The SPARQL engine at {self.store_url} sent {received:,} of the "
                    f"{int(str(row['n'])):,} triples of <{graph}>: it cuts answers at a row "
                    "limit (Virtuoso: [SPARQL] ResultSetMaxRows in virtuoso.ini); raise the "
                    "limit above the largest graph. (If the graph was written meanwhile, "
                    "dump again.)"
                )

    @contextlib.asynccontextmanager
    async def query_stream(
        self,
        query: str,
        accept: str,
        params: Sequence[tuple[str, str]] = (),
        *,
        timeout: float | None = None,
    ) -> AsyncIterator[EngineResponse]:
        """Send a client's query as it is and stream the engine's answer, for a proxy.

        ``params`` are further SPARQL protocol parameters (``default-graph-uri``…). The
        response is yielded whatever its status; reading ``body`` streams it.
        ``timeout`` (seconds) bounds each read; None keeps the store's read timeout (a
        proxy that enforces its own deadline passes a larger one).

        Raises:
            EngineUnavailable: the engine cannot be reached.
        """
        client = self._async_client()
        request = client.build_request(
            "POST",
            self.query_url,
            content=urlencode([("query", query), *params]).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": accept},
            timeout=self._timeout if timeout is None else httpx.Timeout(timeout, connect=10.0),
        )
        try:
            response = await client.send(request, stream=True)
        except httpx.HTTPError as error:
            raise self._unreachable(self.query_url, "a query", error, self._timeout) from error
        try:
            yield EngineResponse(
                response.status_code,
                response.headers.get("content-type"),
                response.headers,
                response.aiter_bytes(),
            )
        finally:
            await response.aclose()

    def _async_client(self) -> httpx.AsyncClient:
        # An async client belongs to one event loop; a new loop (a test's, a restart) gets
        # its own.
        loop = asyncio.get_running_loop()
        if self._async is None or self._async[0] is not loop:
            self._async = (loop, httpx.AsyncClient(auth=self._auth, timeout=self._timeout))
        return self._async[1]

    # Writing -------------------------------------------------------------------------------

    def replace_graph(
        self,
        graph: str,
        data: bytes,
        format_hint: str,
        *,
        records: Sequence[Record] = (),
    ) -> int:
        """Make ``data`` the whole content of ``graph``, with ``records`` about it, atomically.

        The data is parsed here, strictly, with the graph IRI as its base. One SPARQL Update
        request drops the graph, removes the records' old statements, inserts the data and
        the records, and replaces the revision token: see ``docs/engines.md`` for what each
        engine makes of one request.

        Returns:
            the number of triples now in the graph.

        Raises:
            QuerySyntaxError: the data does not parse (message with line and column).
            StoreError: the data holds named graphs of its own, or the engine fails.
        """
        rdf_format = _rdf_format(format_hint)
        try:
            quads = list(ox.parse(data, rdf_format, base_iri=graph))
        except SyntaxError as error:
            raise _syntax_error(error, data.decode("utf-8", "replace"), rdf_format.name) from error
        if any(not isinstance(q.graph_name, ox.DefaultGraph) for q in quads):
            raise StoreError(f"<{graph}>: the data holds named graphs; give one graph.")
        target = ox.NamedNode(graph)
        additions = []
        for quad in quads:
            _refuse_triple_terms(quad)
            additions.append(ox.Quad(quad.subject, quad.predicate, quad.object, target))
        for record in records:
            additions.extend(self._record_quads(record))
        removals = [
            f"DELETE WHERE {{ GRAPH <{r.graph}> {{ {r.remove} }} }}" for r in records if r.remove
        ]
        self._write([f"DROP SILENT GRAPH <{graph}>", *removals], additions)
        return len(quads)

    @staticmethod
    def _record_quads(record: Record) -> list[ox.Quad]:
        if not record.add:
            return []
        target = ox.NamedNode(record.graph)
        try:
            triples = ox.parse(record.add.encode(), ox.RdfFormat.TURTLE)
            return [ox.Quad(t.subject, t.predicate, t.object, target) for t in triples]
        except SyntaxError as error:  # the server's own text: a bug, not the user's
            raise StoreError(f"A record about <{record.graph}> does not parse: {error}") from error

    def catalog_record(self, graph: str, *, source: str, sha256: str) -> Record:
        """The catalog entry of a graph loaded from a file (its path and SHA-256)."""
        now = datetime.datetime.now(datetime.UTC).isoformat()
        return Record(
            self.catalog_graph,
            remove=f"<{graph}> <{_SPDX}checksum> ?c . ?c ?p ?o . <{graph}> ?q ?v",
            add=f"""<{graph}> <{_DCTERMS}source> {sparql_literal(source)} ;
                  <{_DCTERMS}modified> "{now}"^^<{_XSD}dateTime> ;
                  <{_SPDX}checksum> [ a <{_SPDX}Checksum> ;
                    <{_SPDX}algorithm> <{_SPDX}checksumAlgorithm_sha256> ;
                    <{_SPDX}checksumValue> {sparql_literal(sha256)} ] .""",
        )

    def update(self, operations: Sequence[str]) -> None:
        """Send the server's own SPARQL Update ``operations`` as one request.

        The revision moves with them, as with every write: other servers' caches forget.

        Raises:
            StoreError: the engine refuses or fails.
        """
        self._write(operations, [])

    def drop_graph(self, graph: str) -> None:
        """Remove a graph and its catalog entry, in one request."""
        self._write(
            [
                f"DROP SILENT GRAPH <{graph}>",
                f"""DELETE WHERE {{ GRAPH <{self.catalog_graph}> {{
                    <{graph}> <{_SPDX}checksum> ?c . ?c ?p ?o . <{graph}> ?q ?v }} }}""",
            ],
            [],
        )

    def load(
        self,
        source: IO[bytes],
        format_hint: str,
        *,
        graph: str | None = None,
        base_iri: str | None = None,
    ) -> None:
        """Bulk-load a large file without holding it in memory (not transactional).

        The file is parsed here as it is read and sent in Graph Store Protocol POSTs of
        ``load_batch`` triples. Triples go to ``graph`` (or the default graph); quads keep
        their own graph. A blank node is one node within one POST: engines that give each
        request's labels their own scope (Virtuoso) split a node whose triples fall into
        two batches.

        Raises:
            QuerySyntaxError: the file does not parse (message with line and column).
            BadRequest: it holds RDF 1.2 triple terms.
            StoreError: the engine fails.
        """
        rdf_format = _rdf_format(format_hint)
        batch: dict[str | None, list[ox.Triple]] = {}
        size, sent = 0, False
        try:
            for quad in ox.parse(source, rdf_format, base_iri=base_iri):
                _refuse_triple_terms(quad)
                name = quad.graph_name.value if isinstance(quad.graph_name, ox.NamedNode) else graph
                batch.setdefault(name, []).append(quad.triple)
                size += 1
                if size >= self._load_batch:
                    sent = True
                    self._post_triples(batch)
                    batch, size = {}, 0
            sent = sent or bool(batch)
            self._post_triples(batch)
        except SyntaxError as error:
            raise QuerySyntaxError(f"{rdf_format.name} syntax error: {error}") from error
        finally:
            if sent:
                self._write([], [])

    def _post_triples(self, batch: Mapping[str | None, list[ox.Triple]]) -> None:
        for graph, triples in batch.items():
            self._call(
                "POST",
                self.store_url,
                f"a Graph Store Protocol POST to <{graph or 'the default graph'}>",
                params={"graph": graph} if graph else {"default": ""},
                content=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES),
                headers={"Content-Type": _N_TRIPLES},
                timeout=self._write_timeout,
            )

    def _write(self, operations: Sequence[str], additions: Sequence[ox.Quad]) -> None:
        """Send ``operations`` then ``additions`` as one update that also moves the revision."""
        token = secrets.token_hex(12)
        catalog = ox.NamedNode(self.catalog_graph)
        additions = [
            *additions,
            ox.Quad(catalog, ox.NamedNode(_REVISION), ox.Literal(token), catalog),
        ]
        if self._dialect is None:
            self.check()
        dialect = self._dialect or _GENERIC
        computed = [
            q
            for q in additions
            if isinstance(q.object, ox.Literal)
            and q.object.datatype.value in dialect.computed_datatypes
            and not _has_blank_node(q)
        ]
        ground = [q for q in additions if not _has_blank_node(q) and q not in computed]
        linked = [q for q in additions if _has_blank_node(q)]
        templates = _templates(linked, dialect)
        parts = [
            *operations,
            f"DELETE WHERE {{ GRAPH <{self.catalog_graph}> {{ "
            f"<{self.catalog_graph}> <{_REVISION}> ?revision }} }}",
            f"INSERT DATA {{\n{_graph_blocks(ground)}\n}}",
            # Blank nodes: Virtuoso 7.2 refuses them in INSERT DATA ("SP031: Blank node …
            # is not allowed in a constant clause"); a template over one empty solution
            # makes one new node per label, everywhere in the template.
            *(f"INSERT {{\n{_graph_blocks(group, None)}\n}} WHERE {{}}" for group in templates),
            *(
                _computed_insert(computed[start : start + _BLOCK])
                for start in range(0, len(computed), _BLOCK)
            ),
        ]
        try:
            self._post_update(" ;\n".join(parts))
        finally:
            # Even a failed request may have written (Virtuoso does not roll back every
            # error): let caches forget either way.
            self._changed()
        self._seen_revision = token

    def _post_update(self, update: str) -> None:
        self._call(
            "POST",
            self.update_url,
            "a SPARQL update",
            content=update.encode(),
            headers={"Content-Type": "application/sparql-update; charset=utf-8"},
            timeout=self._write_timeout,
        )

    def _changed(self) -> None:
        for callback in self.on_change:
            callback()
        self.version += 1
