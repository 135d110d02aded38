"""``/sparql`` as the application answers it, and the shortcut that takes it there first.

The endpoint is an ordinary route (``app.py``), but its queries are the bulk of the traffic
and many cost the engine a fifth of a millisecond. The framework's middleware stack (error
telemetry, body limits, CORS, gzip, exception handling, routing) costs about as much again
on every request, so ``SparqlShortcut`` sits outside it and answers GET and POST at
``/sparql`` itself, doing what those layers would do for this one route: the CORS headers,
gzip (and ``Vary``) as GZipMiddleware does, and the same error pages. Without the shortcut
the answers are the same, only slower (``tests/test_sparql_shortcut.py`` compares them).
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from panorama.errors import PanoramaError
from panorama.responses import error_response
from panorama.service_description import DatasetSummary, service_description_response
from panorama.sparql import answer_query, read_protocol_request

__all__ = ["CORS_EXPOSED", "SparqlShortcut", "answer"]

#: Response headers a script on another origin may read (the app's CORS settings use it too).
CORS_EXPOSED = ("Content-Type", "Link", "Vary", "ETag", "Last-Modified")
_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": ", ".join(CORS_EXPOSED),
}


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
    return await answer_query(state.pool, protocol, accept, state.sparql_cache)


class SparqlShortcut:
    """Middleware: GET and POST at ``/sparql`` skip the rest of the stack."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._compressed = GZipMiddleware(self._respond, minimum_size=1024)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != "/sparql"
            or scope["method"] not in ("GET", "POST")
        ):
            await self.app(scope, receive, send)
            return

        cross_origin = any(name == b"origin" for name, _ in scope["headers"])

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
