"""Error answers a person can read: plain text for programs, a page for browsers."""

from __future__ import annotations

import datetime
import hashlib
import logging
from email.utils import format_datetime, parsedate_to_datetime

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from panorama.errors import NotAcceptable, PanoramaError
from panorama.negotiation import HTML, Format, negotiate
from panorama.templating import render

__all__ = ["cached_response", "error_response", "http_error_response"]

log = logging.getLogger("panorama")

_PLAIN = Format(("text",), "text/plain")


def _wants_html(request: Request) -> bool:
    try:
        return negotiate(request.headers.get("accept"), (_PLAIN, HTML)) is HTML
    except NotAcceptable:
        return False


def _respond(
    request: Request, status: int, title: str, message: str, headers: dict[str, str]
) -> Response:
    if _wants_html(request):
        context = {"status": status, "title": title, "message": message}
        return render(request, "error.html", context, status_code=status, headers=headers)
    return PlainTextResponse(f"{message}\n", status_code=status, headers=headers)


async def error_response(request: Request, error: Exception) -> Response:
    """The handler for every ``PanoramaError``; the server's own failures are logged."""
    assert isinstance(error, PanoramaError)
    if error.status >= 500:
        log.warning("%s %s: %d %s", request.method, request.url.path, error.status, error.message)
    return _respond(request, error.status, error.title, error.message, error.headers)


async def http_error_response(request: Request, error: Exception) -> Response:
    """The handler for the router's own errors (404, 405), in the same style."""
    assert isinstance(error, HTTPException)
    message = {
        404: f"There is nothing at {request.url.path}.",
        405: f"{request.method} is not allowed at {request.url.path}.",
    }.get(error.status_code, str(error.detail))
    title = str(error.detail) if error.status_code in (404, 405) else "Error"
    return _respond(request, error.status_code, title, message, dict(error.headers or {}))


def _not_modified_since(request: Request, last_modified: datetime.datetime) -> bool:
    since = request.headers.get("if-modified-since")
    if not since:
        return False
    try:
        return last_modified.replace(microsecond=0) <= parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False


def cached_response(
    request: Request,
    body: bytes,
    *,
    status_code: int = 200,
    content_type: str,
    headers: dict[str, str] | None = None,
    last_modified: datetime.datetime | None = None,
    max_age: int = 300,
) -> Response:
    """A response with an ETag (and Last-Modified), answering 304 to a fresh revalidation.

    The ETag is a hash of the body, so it changes exactly when the answer does.
    """
    etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    all_headers = {"ETag": etag, "Cache-Control": f"public, max-age={max_age}", **(headers or {})}
    if last_modified is not None:
        all_headers["Last-Modified"] = format_datetime(last_modified, usegmt=True)
    if status_code == 200:
        if_none_match = request.headers.get("if-none-match")
        if if_none_match is not None:
            fresh = etag in {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
            fresh = fresh or if_none_match.strip() == "*"
        else:
            fresh = last_modified is not None and _not_modified_since(request, last_modified)
        if fresh:
            return Response(status_code=304, headers=all_headers)
    return Response(
        body, status_code=status_code, headers={"Content-Type": content_type, **all_headers}
    )
