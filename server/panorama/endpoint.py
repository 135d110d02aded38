"""``/sparql`` as the application answers it, and the shortcut that takes it there first.

The endpoint is an ordinary route (``app.py``), but its queries are the bulk of the traffic
and many cost the engine a fifth of a millisecond. The framework's middleware stack (error
telemetry, body limits, CORS, gzip, exception handling, routing) costs about as much again
on every request, so ``SparqlShortcut`` sits outside it and answers GET and POST at
``/sparql`` itself, doing what those layers would do for this one route: the CORS headers,
gzip (and ``Vary``) as GZipMiddleware does, and the same error pages. A lookup (a GET of
one triple pattern or a DESCRIBE, ``query_text.is_lookup``) is answered with less still:
computed in place and sent as it is, which took a tenth off its latency. Without the
shortcut the answers are the same, only slower (``tests/test_sparql_variants.py`` compares
them).
"""

from __future__ import annotations

import zlib

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from panorama.errors import PanoramaError
from panorama.executor import WholeAnswer
from panorama.responses import error_response
from panorama.service_description import DatasetSummary, service_description_response
from panorama.sparql import answer_query, lookup_job, read_protocol_request

__all__ = ["CORS_EXPOSED", "GZIP_MINIMUM", "SparqlShortcut", "answer"]

#: Response headers a script on another origin may read (the app's CORS settings use it too).
CORS_EXPOSED = ("Content-Type", "Link", "Vary", "ETag", "Last-Modified")
_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": ", ".join(CORS_EXPOSED),
}
_CORS_RAW = [(name.lower().encode(), value.encode()) for name, value in _CORS.items()]
#: Answers from this size on are compressed for clients that accept gzip (here and in app).
GZIP_MINIMUM = 1024


async def answer(request: Request) -> Response:
    """SPARQL 1.1 Protocol query operation; without a query, the service description."""
    state = request.app.state
    protocol = await read_protocol_request(request, state.settings.max_query_bytes)
    if protocol.query is None:
        # In a thread: on an engine, counting the graphs is a request to it.
        sizes = await run_in_threadpool(state.store.graph_sizes)
        return service_description_response(
            request,
            DatasetSummary(sizes),
            timeout=state.settings.query_timeout,
            format_param=protocol.formats,
        )
    accept = request.headers.get("accept")
    return await answer_query(
        state.pool, protocol, accept, state.sparql_cache, state.sparql_flights
    )


class SparqlShortcut:
    """Middleware: GET and POST at ``/sparql`` skip the rest of the stack."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._compressed = GZipMiddleware(self._respond, minimum_size=GZIP_MINIMUM)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != "/sparql"
            or scope["method"] not in ("GET", "POST")
        ):
            await self.app(scope, receive, send)
            return

        # The first of a repeated header, as Starlette's Headers.get takes it.
        headers = dict(reversed(scope["headers"]))
        cross_origin = b"origin" in headers
        if scope["method"] == "GET" and (answer := _answered_in_place(scope, headers)):
            await _send_whole(send, answer, headers, cross_origin=cross_origin)
            return

        async def send_with_cors(message: Message) -> None:
            # What CORSMiddleware adds to a simple (not preflight) request's answer.
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if cross_origin:
                    headers.update(_CORS)
                headers["Vary"] = ", ".join([*headers.getlist("Vary"), "Origin"])
            await send(message)

        await self._compressed(scope, receive, send_with_cors)

    async def _respond(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            response = await answer(request)
        except PanoramaError as error:
            response = await error_response(request, error)
        await response(scope, receive, send)


def _answered_in_place(scope: Scope, headers: dict[bytes, bytes]) -> WholeAnswer | None:
    """A lookup's answer computed here and now, or None to answer the request the usual way.

    Lookups are the commonest request and among the cheapest for the engine, so the usual
    way's objects and layers (Request, protocol parsing, answer cache, Response, gzip and
    CORS wrappers) would cost them as much again. Errors take the usual way, to be reported
    as every error is; a lookup over one chunk takes it too, and a worker streams it.
    """
    state = scope["app"].state
    accept = headers.get(b"accept")
    job = lookup_job(
        scope["query_string"],
        accept.decode("latin-1") if accept is not None else None,
        state.settings.max_query_bytes,
    )
    if job is None:
        return None
    try:
        return state.pool.answer_in_place(job)
    except PanoramaError:
        return None


async def _send_whole(
    send: Send, answer: WholeAnswer, headers: dict[bytes, bytes], *, cross_origin: bool
) -> None:
    """Send ``answer`` with the headers (and gzip) the usual way would give it."""
    body = answer.body
    response_headers = [(b"content-type", answer.content_type.encode("latin-1"))]
    vary = b"Accept"
    if len(body) >= GZIP_MINIMUM:
        vary += b", Accept-Encoding"
        if b"gzip" in headers.get(b"accept-encoding", b""):
            # As GZipMiddleware compresses a whole body, so both ways send the same bytes.
            compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
            body = compressor.compress(body) + compressor.flush()
            response_headers.append((b"content-encoding", b"gzip"))
    response_headers.append((b"vary", vary + b", Origin"))
    if cross_origin:
        response_headers += _CORS_RAW
    response_headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": 200, "headers": response_headers})
    await send({"type": "http.response.body", "body": body})
