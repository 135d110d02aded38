"""``/sparql`` on a SPARQL engine: the client's query, checked and scoped, proxied to it.

``EngineQueries`` is the ``QueryRunner`` of a server whose store is a ``RemoteStore``: the
engine evaluates, and this module does what the worker processes do for the embedded
store, with the same answers for the same cases:

- the query is checked as everywhere (``sparql.check_query``: no updates, no SERVICE),
  and kept to the store's graphs and to standard SPARQL (``query_scope``); the engine
  parses it, and its syntax errors are answered 400 with its own words;
- the format is negotiated here, from the same table, and asked of the engine; TriG,
  N-Quads and N3 answers are asked as Turtle or N-Triples, which are valid documents of
  those formats for one graph (Virtuoso 7.2 answers 406 to the first two). An ASK is asked
  as SPARQL JSON and written here, because Virtuoso answers it as a one-column SELECT,
  Virtuoso's TSV (not the standard's) is written here from its XML, and its CSV is
  rewritten as the standard's (``results_tsv``);
- the deadline is ours (``query_timeout``): the upstream request is abandoned when it
  passes (503 before the first chunk, a cut connection after), and engines that take a
  timeout per query are sent what is left of it (Virtuoso: ``timeout`` in ms, whose
  incomplete "anytime" answers are refused, never passed on as complete);
- the answer streams through as the engine sends it, chunk by chunk: only the first
  64 KiB are gathered, so that a small answer goes out whole (and can be cached) and a
  query that fails or times out before it can still get a clean error status.

Resource pages are rendered in a thread of the server, their queries sent to the engine by
the store, and they get the time limit of a query as in the worker processes: the client
is answered 503 when it passes, and the page's requests are bounded by the same deadline
(``RemoteStore.deadline``), so its thread stops at its next query rather than running on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import anyio.to_thread
import pyoxigraph as ox

from panorama.chunks import CHUNK
from panorama.errors import (
    BadRequest,
    PanoramaError,
    QuerySyntaxError,
    QueryTimeout,
    ServiceUnavailable,
)
from panorama.executor import PoolStats, QueryJob
from panorama.negotiation import GRAPH_FORMATS, SOLUTION_FORMATS, Format, negotiate
from panorama.query_scope import scope_query
from panorama.remote_store import DeadlinePassed, EngineResponse, EngineUnavailable, RemoteStore
from panorama.resources import (
    PageJob,
    ResourceAnswer,
    page_timeout,
    render_resource,
    shared_by_pages,
)
from panorama.results_tsv import XML_RESULTS, csv_from_csv, tsv_from_xml
from panorama.sparql import check_query
from panorama.store import StoreError

__all__ = ["EngineAnswer", "EngineFailed", "EngineQueries"]

log = logging.getLogger("panorama.engine")

_RESULTS_JSON = "application/sparql-results+json"
#: What to ask the engine for, when it is not the format itself (see the module's note).
_ASKED_AS = {
    "application/trig": "text/turtle",
    "application/n-quads": "application/n-triples",
    "text/n3": "text/turtle",
}
#: Media types engines label answers with, for the type asked.
_ALSO_LABELLED = {
    "application/n-triples": {"text/plain"},
    _RESULTS_JSON: {"application/json"},
    "application/ld+json": {"application/json"},
    "application/rdf+xml": {"application/xml"},
}
_TRUE = ox.Store().query("ASK {}")
_FALSE = ox.Store().query("ASK { FILTER(false) }")
_TIMEOUT_WORDS = ("timeout", "timed out", "S1T00", "SR171", "S1TAT")


class EngineFailed(PanoramaError):
    """The engine failed or answered something unusable (502); the message has its words."""

    status = 502
    title = "Bad gateway"


@dataclass
class EngineAnswer:
    """An answer on its way from the engine: ``body`` when it came whole, else iterate."""

    content_type: str
    body: bytes | None
    _first: bytes = b""
    _rest: AsyncIterator[bytes] | None = None
    _close: contextlib.AsyncExitStack | None = None
    _deadline: float = 0.0
    _stats: PoolStats = field(default_factory=PoolStats)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self.body is not None:
            yield self.body
            return
        assert self._rest is not None and self._close is not None
        try:
            yield self._first
            while True:
                # A timeout around each read only: one around the yield would cancel
                # whatever the response is awaiting when it fires.
                try:
                    async with asyncio.timeout_at(self._deadline):
                        chunk = await anext(self._rest)
                except StopAsyncIteration:
                    return
                except TimeoutError:
                    self._stats.timeouts += 1
                    log.warning("query stopped at its deadline while streaming")
                    raise
                yield chunk
        finally:
            # Closing the upstream response ends the engine's request (the client left,
            # the deadline passed, or the answer is complete).
            await self._close.aclose()


class EngineQueries:
    """The query runner for a store on a SPARQL engine (``QueryRunner``'s interface)."""

    size = 0
    threads = 0
    alive = 0

    def __init__(self, store: RemoteStore, *, timeout: float) -> None:
        self.store = store
        self.timeout = timeout
        self.stats = PoolStats()
        self._shared = shared_by_pages(store)

    async def page(self, job: PageJob) -> ResourceAnswer:
        """Render a resource in a thread of the server, with the time limit of a query.

        The client is answered at the limit even if the thread is still at work (in
        Python between two queries); the thread sends no query after it.

        Raises:
            QueryTimeout: the page took longer than a query may.
            StoreError: the engine cannot be reached (``EngineUnavailable``) or failed.
        """
        self.stats.pages += 1
        deadline = time.monotonic() + self.timeout
        try:
            async with asyncio.timeout(self.timeout):
                return await anyio.to_thread.run_sync(
                    self._render, job, deadline, abandon_on_cancel=True
                )
        except (TimeoutError, DeadlinePassed):
            self.stats.timeouts += 1
            raise page_timeout(self.timeout) from None

    def _render(self, job: PageJob, deadline: float) -> ResourceAnswer:
        with self.store.deadline(deadline):
            return render_resource(self.store, self._shared, job)

    async def start(self) -> None:
        pass

    def refresh(self) -> None:
        pass  # the engine always answers from its current state

    def close(self) -> None:
        pass

    def answer_in_place(self, job: QueryJob) -> None:
        """Never: the engine answers every query, lookups too."""
        return None

    async def run(self, job: QueryJob) -> EngineAnswer:
        """Send the query to the engine; return once its first chunk (or its error) is there.

        Raises:
            QuerySyntaxError: the query does not parse.
            BadRequest: it names graphs outside the store, or the engine refuses it.
            NotAcceptable: no format of its kind matches the request.
            QueryTimeout: it ran past the timeout before its first chunk.
            ServiceUnavailable: the engine cannot be reached.
            EngineFailed: the engine failed.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        self.stats.queries += 1
        request = job.request
        check_query(request.query)
        store = self.store
        for graph in (*request.default_graphs, *request.named_graphs):
            if not graph.startswith(store.graph_prefix):
                raise BadRequest(
                    f"The graph <{graph}> is not one of this dataset's: this endpoint serves "
                    f"the graphs whose IRIs start with <{store.graph_prefix}>."
                )
        scoped = scope_query(
            request.query, lambda iri: iri.startswith(store.graph_prefix), store.graph_prefix
        )
        kind = "graph" if scoped.form in ("CONSTRUCT", "DESCRIBE") else "solutions"
        offered = GRAPH_FORMATS if kind == "graph" else SOLUTION_FORMATS
        chosen = negotiate(job.accept, offered, job.format, known=SOLUTION_FORMATS + GRAPH_FORMATS)
        scoped_request = type(request)(
            scoped.text,
            request.default_graphs,
            request.named_graphs,
            request.union_default_graph,
            request.substitutions,
        )
        if store.knows_named_graphs:
            query, params = store.protocol_form(scoped_request)
        else:  # the graph list is read once per version of the store: not on the loop
            query, params = await anyio.to_thread.run_sync(store.protocol_form, scoped_request)
        if store.dialect == "virtuoso":
            left = max(int((deadline - loop.time()) * 1000), 1)
            params = [*params, ("timeout", str(left))]
        if scoped.form == "ASK":
            return await self._ask(query, params, chosen, deadline)
        asked = _ASKED_AS.get(chosen.media_type, chosen.media_type)
        if store.dialect == "virtuoso" and chosen.media_type == "text/tab-separated-values":
            return await self._stream(query, params, XML_RESULTS, chosen, deadline, tsv_from_xml)
        if store.dialect == "virtuoso" and chosen.media_type == "text/csv":
            return await self._stream(query, params, asked, chosen, deadline, csv_from_csv)
        return await self._stream(query, params, asked, chosen, deadline)

    async def _open(
        self,
        query: str,
        params: list[tuple[str, str]],
        accept: str,
        stack: contextlib.AsyncExitStack,
    ) -> EngineResponse:
        try:
            response = await stack.enter_async_context(
                self.store.query_stream(query, accept, params, timeout=self.timeout + 10)
            )
        except EngineUnavailable as error:
            raise ServiceUnavailable(error.message, headers={"Retry-After": "5"}) from None
        except StoreError as error:
            raise EngineFailed(error.message) from None
        if response.status >= 400 or response.headers.get("x-sql-state") == "S1TAT":
            raise await self._failure(response)
        if limit := response.headers.get("x-sparql-maxrows"):
            # Virtuoso's ResultSetMaxRows: the rest of the answer would be missing, silently.
            raise EngineFailed(
                f"The SPARQL engine gives at most {limit} rows, and this answer has more: "
                f"add LIMIT {limit} (and page with OFFSET), or ask the operator to raise "
                "its limit (Virtuoso: ResultSetMaxRows)."
            )
        return response

    async def _stream(
        self,
        query: str,
        params: list[tuple[str, str]],
        asked: str,
        chosen: Format,
        deadline: float,
        rewrite: Callable[[AsyncIterator[bytes]], AsyncIterator[bytes]] | None = None,
    ) -> EngineAnswer:
        stack = contextlib.AsyncExitStack()
        try:
            async with asyncio.timeout_at(deadline):
                response = await self._open(query, params, asked, stack)
                self._check_media_type(response, asked)
                body = response.body if rewrite is None else rewrite(response.body)
                first, ended = await self._first_chunk(body)
        except TimeoutError:
            await stack.aclose()
            raise self._timeout() from None
        except BaseException:
            await stack.aclose()
            raise
        if ended:
            await stack.aclose()
            return EngineAnswer(chosen.content_type, first)
        return EngineAnswer(
            chosen.content_type,
            None,
            _first=first,
            _rest=body,
            _close=stack,
            _deadline=deadline,
            _stats=self.stats,
        )

    async def _ask(
        self, query: str, params: list[tuple[str, str]], chosen: Format, deadline: float
    ) -> EngineAnswer:
        """An ASK, asked as SPARQL JSON (Virtuoso answers a one-row SELECT) and written here."""
        async with contextlib.AsyncExitStack() as stack:
            try:
                async with asyncio.timeout_at(deadline):
                    response = await self._open(query, params, _RESULTS_JSON, stack)
                    body = b"".join([chunk async for chunk in response.body])
            except TimeoutError:
                raise self._timeout() from None
        try:
            results = ox.parse_query_results(body, ox.QueryResultsFormat.JSON)
        except (SyntaxError, ValueError) as error:
            raise EngineFailed(
                f"The SPARQL engine answered an ASK query with {body[:200]!r}"
            ) from error
        if isinstance(results, ox.QueryBoolean):
            answer = bool(results)
        else:  # rows of ?__ASK_RETVAL: one (1) for true, none for false
            answer = any(
                value is not None and value.value not in ("0", "false")
                for row in results
                for value in row
            )
        fmt = ox.QueryResultsFormat.from_media_type(chosen.media_type)
        written = (_TRUE if answer else _FALSE).serialize(format=fmt)
        return EngineAnswer(chosen.content_type, written)

    @staticmethod
    async def _first_chunk(body: AsyncIterator[bytes]) -> tuple[bytes, bool]:
        """Up to ``CHUNK`` bytes of the answer, and whether that was all of it."""
        gathered = bytearray()
        async for chunk in body:
            gathered += chunk
            if len(gathered) >= CHUNK:
                return bytes(gathered), False
        return bytes(gathered), True

    def _check_media_type(self, response: EngineResponse, asked: str) -> None:
        got = (response.media_type or "").split(";")[0].strip().lower()
        if got != asked and got not in _ALSO_LABELLED.get(asked, set()):
            raise EngineFailed(
                f"The SPARQL engine answered with {got or 'no media type'} where {asked} was "
                "asked; it may not offer that format."
            )

    def _timeout(self) -> QueryTimeout:
        self.stats.timeouts += 1
        return QueryTimeout(
            f"The query was stopped after {self.timeout:g} s, the time limit of this "
            "endpoint. Narrow it down (LIMIT, more specific patterns) or run it on your own "
            "copy of the data (see /sparql for the dump)."
        )

    async def _failure(self, response: EngineResponse) -> PanoramaError:
        """The error to answer for an engine's error status (or incomplete answer)."""
        words = bytearray()
        async for chunk in response.body:
            words += chunk
            if len(words) > 2000:
                break
        message = " ".join(words.decode("utf-8", "replace").split())[:500]
        if response.headers.get("x-sql-state") == "S1TAT" or any(
            word.lower() in message.lower() for word in _TIMEOUT_WORDS
        ):
            return self._timeout()
        if response.status == 400:
            return QuerySyntaxError(f"The SPARQL engine refused the query: {message}")
        if response.status in (401, 403):
            return EngineFailed(
                f"The SPARQL engine refused to answer ({response.status}): check the "
                "server's credentials for it."
            )
        if response.status == 503:
            return ServiceUnavailable(
                f"The SPARQL engine is busy: {message}", headers={"Retry-After": "5"}
            )
        return EngineFailed(f"The SPARQL engine failed ({response.status}): {message}")
