"""The SPARQL 1.1 Protocol at ``/sparql``: read a request, check the query, stream the answer.

Queries only: updates are refused, and so is anything that would make the server open a
connection (``SERVICE``). Without ``FROM`` or ``default-graph-uri`` a query sees the union
of all graphs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from panorama.cache import VersionedCache
from panorama.errors import (
    BadRequest,
    Forbidden,
    PanoramaError,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from panorama.executor import QueryAnswer, QueryJob, QueryRunner
from panorama.flights import Flights
from panorama.named_queries import NamedQuery
from panorama.query_text import QueryText, is_lookup, query_shape
from panorama.request_body import read_bounded_body
from panorama.store import QueryRequest, is_iri

__all__ = [
    "ProtocolRequest",
    "answer_job",
    "answer_query",
    "lookup_job",
    "named_query_job",
    "read_protocol_request",
]

_FORM = "application/x-www-form-urlencoded"
_QUERY = "application/sparql-query"
_UPDATE = "application/sparql-update"
_UPDATE_REFUSED = (
    "This endpoint answers queries only; SPARQL Update is never accepted here. "
    "Contributions to the graph go through /contributions."
)


@dataclass(frozen=True)
class ProtocolRequest:
    """The parameters of a SPARQL 1.1 Protocol query operation."""

    query: str | None
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    formats: tuple[str, ...] = ()


def _single(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name, [])
    if len(values) > 1:
        raise BadRequest(f"Give the parameter {name!r} once, not {len(values)} times.")
    return values[0] if values else None


def _decode(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadRequest(f"The request body is not UTF-8 (byte {error.start}).") from error


async def read_protocol_request(request: Request, max_query_bytes: int) -> ProtocolRequest:
    """Read the query and its dataset from a GET or POST request.

    Raises:
        Forbidden: an update was sent.
        UnsupportedMediaType: a POST body of a type the protocol does not define for queries.
        PayloadTooLarge: the query is over ``max_query_bytes``.
        BadRequest: a parameter given twice, or a body that is not UTF-8.
    """
    params = parse_qs(_decode(request.scope["query_string"]), keep_blank_values=True)
    if request.method == "POST":
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type == _UPDATE:
            raise Forbidden(_UPDATE_REFUSED)
        if media_type == _FORM:
            # Percent-encoding can triple a query's size on the wire.
            limit = 3 * max_query_bytes + 4096
            body = _decode(
                await read_bounded_body(
                    request, limit, f"The request body is over the limit of {limit} bytes."
                )
            )
            for name, values in parse_qs(body, keep_blank_values=True).items():
                params.setdefault(name, []).extend(values)
        elif media_type == _QUERY:
            too_large = f"The query is over the limit of {max_query_bytes} bytes."
            params["query"] = [
                _decode(await read_bounded_body(request, max_query_bytes, too_large))
            ]
        else:
            raise UnsupportedMediaType(
                f"A SPARQL query is sent as {_QUERY} or {_FORM}, not as "
                f"{media_type or 'a body without Content-Type'}."
            )
    if "update" in params:
        raise Forbidden(_UPDATE_REFUSED)
    query = _single(params, "query")
    if query is not None and len(query.encode()) > max_query_bytes:
        raise PayloadTooLarge(
            f"The query is {len(query.encode())} bytes; this endpoint accepts queries of up "
            f"to {max_query_bytes} bytes."
        )
    return ProtocolRequest(
        query=query,
        default_graphs=tuple(params.get("default-graph-uri", [])),
        named_graphs=tuple(params.get("named-graph-uri", [])),
        formats=tuple(params.get("format", [])),
    )


#: How deep a query's brackets may nest, and how many arithmetic operators and path steps it
#: may hold. The engine parses and evaluates both by recursion: in a thread's 8 MB of stack,
#: 2,000 nested ``[ ]``, 10,000 nested ``( )`` or ``{ }``, or a sum of 8,000 terms (16 KB)
#: ended its worker process (answered 500, the worker replaced); 500 nested ``[ ]`` and a
#: sum of 4,000 did not. Real queries nest a few levels and hold a few operators.
MAX_NESTING = 256
MAX_OPERATORS = 1_000


def check_query(query: str) -> QueryText:
    """Refuse what a public read-only endpoint must not run, before the engine sees it.

    Raises:
        Forbidden: the text is an update.
        BadRequest: the query uses ``SERVICE``, nests deeper than ``MAX_NESTING`` or
            holds more than ``MAX_OPERATORS`` operators.
    """
    text = QueryText.read(query)
    if text.is_update:
        raise Forbidden(_UPDATE_REFUSED)
    if text.uses_service:
        raise BadRequest(
            "SERVICE is not allowed: this endpoint never connects to other endpoints on a "
            "query's behalf. Run the federated query from your own SPARQL client, or query "
            "each endpoint separately."
        )
    # Counting the characters is enough for nearly every query (a backslash may be the start
    # of a \u escape of one of them: SPARQL applies those before it parses).
    if sum(map(query.count, "({[+-*/\\")) > MAX_NESTING:
        shape = query_shape(query)
        if shape.depth > MAX_NESTING:
            raise BadRequest(
                f"The query nests {shape.depth} levels deep (parentheses, braces and square "
                f"brackets); the limit is {MAX_NESTING}. The engine reads and evaluates nesting "
                "by recursion, and a deeper query would exhaust its stack: write it flatter."
            )
        if shape.operators > MAX_OPERATORS:
            raise BadRequest(
                f"The query holds {shape.operators} arithmetic operators and path steps "
                f"(+ - * /); the limit is {MAX_OPERATORS}. The engine reads a chain of them by "
                "recursion, and a longer one would exhaust its stack: compute the value in "
                "parts, or with fewer terms."
            )
    return text


def lookup_job(query_string: bytes, accept: str | None, max_query_bytes: int) -> QueryJob | None:
    """The job for a GET whose only parameter is a lookup query (``is_lookup``), else None.

    A lookup needs none of ``answer_query``'s checks: one triple pattern, or a DESCRIBE of
    named resources, holds no update, no SERVICE and no FROM, so it runs over the union of
    all graphs. Anything else, errors included, is for ``read_protocol_request``.
    """
    try:
        params = parse_qs(query_string.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        return None
    queries = params.get("query", ())
    if len(params) != 1 or len(queries) != 1:
        return None
    query = queries[0]
    if len(query.encode()) > max_query_bytes or not is_lookup(query):
        return None
    return QueryJob(QueryRequest(query=query), accept=accept, lookup=True)


# Functions whose answers change between two runs of the same query.
_VOLATILE = frozenset({"RAND", "NOW", "UUID", "STRUUID", "BNODE"})


async def answer_query(
    pool: QueryRunner,
    protocol: ProtocolRequest,
    accept: str | None,
    cache: VersionedCache,
    flights: Flights | None = None,
) -> Response:
    """Run the query on a worker and stream its answer in the negotiated format."""
    assert protocol.query is not None
    text = check_query(protocol.query)
    request = QueryRequest(
        query=protocol.query,
        default_graphs=protocol.default_graphs,
        named_graphs=protocol.named_graphs,
        union_default_graph=not (text.has_dataset_clause or protocol.default_graphs),
    )
    job = QueryJob(
        request, accept=accept, format=protocol.formats, lookup=is_lookup(protocol.query)
    )
    cacheable = _VOLATILE.isdisjoint(text.keywords)
    return await answer_job(pool, job, cache, cacheable=cacheable, flights=flights)


async def answer_job(
    pool: QueryRunner,
    job: QueryJob,
    cache: VersionedCache,
    *,
    cacheable: bool,
    flights: Flights | None = None,
) -> Response:
    """The answer to a checked query: from the cache, whole, or streamed from a worker.

    Answers are cached until the store changes, so the repeated queries of pages and named
    queries cost one lookup: small ones (those that arrive whole, up to 64 KiB) at once,
    larger ones as they stream past, if they end and stay under the cache's largest entry.
    The cache is keyed on the store's version, which moves only after the query workers
    were told to reopen the store (``Store.on_change``): an answer kept under a version was
    computed from that version or a later one. With ``flights``, a query that arrives while
    the same one is being evaluated waits for its answer (``panorama.flights``).
    """
    key = ("sparql", job)
    version = cache.version
    if cacheable and (hit := cache.peek(key)) is not None:
        return _whole(hit, "hit")
    flight = None
    if cacheable and flights is not None:
        flight = flights.take_off((key, version))
        if flight is None:
            landing = await flights.wait_for((key, version))
            if isinstance(landing, PanoramaError):
                raise landing
            if landing is not None:
                return _whole(landing, "shared")
    try:
        stream = await pool.run(job)
    except PanoramaError as error:
        if flight is not None:
            flight.land(error)
        raise
    except BaseException:  # the client went away (cancelled), or the server failed
        if flight is not None:
            flight.land(None)
        raise
    if flight is not None:
        flight.land(None if stream.body is None else (stream.body, stream.content_type))
    headers = {"Content-Type": stream.content_type, "Vary": "Accept"}
    if stream.body is None:
        if cacheable and cache.max_entry_weight:
            body = _kept_while_streaming(stream, cache, key, version)
            return StreamingResponse(body, headers=headers)
        return StreamingResponse(stream, headers=headers)
    if cacheable:
        cache.put(key, (stream.body, stream.content_type), version=version)
    return Response(stream.body, headers=headers)


def _whole(answer: tuple[bytes, str], how: str) -> Response:
    """An answer kept (``hit``) or shared by a query that ran at the same time."""
    body, content_type = answer
    return Response(body, headers={"Content-Type": content_type, "Vary": "Accept", "X-Cache": how})


async def _kept_while_streaming(
    stream: QueryAnswer, cache: VersionedCache, key: tuple, version: int
) -> AsyncIterator[bytes]:
    """Relay ``stream`` and keep a copy in ``cache`` if it ends whole and small enough."""
    limit = cache.max_entry_weight or 0
    kept: list[bytes] | None = []
    size = 0
    async for chunk in stream:
        yield chunk
        if kept is not None:
            size += len(chunk)
            if size <= limit:
                kept.append(chunk)
            else:
                kept = None
    if kept is not None:  # not reached when the stream failed or the client left
        cache.put(key, (b"".join(kept), stream.content_type), version=version)


def named_query_job(
    named: NamedQuery, params: dict[str, str], accept: str | None, formats: tuple[str, ...]
) -> tuple[QueryJob, bool]:
    """The job for a named query with its parameters (IRIs) bound, and whether to cache it.

    Raises:
        BadRequest: a parameter is not an IRI.
    """
    for name in named.params:
        value = params.get(name)
        if value and not is_iri(value):
            raise BadRequest(f"The parameter {name!r} must be an IRI, not {value!r}.")
    bindings = {name: params[name] for name in named.params if params.get(name)}
    text = check_query(named.text)
    job = QueryJob(named.request(**bindings), accept=accept, format=formats)
    return job, _VOLATILE.isdisjoint(text.keywords)
