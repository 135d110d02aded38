"""Reading a request body without ever holding more than the limit allows."""

from __future__ import annotations

from starlette.requests import Request

from panorama.errors import PayloadTooLarge

__all__ = ["read_bounded_body"]


async def read_bounded_body(request: Request, limit: int, too_large: str) -> bytes:
    """The body, or PayloadTooLarge (413) with ``too_large`` once it passes ``limit`` bytes.

    A declared Content-Length over the limit is refused before anything is read; a chunked
    body is refused as soon as it grows past the limit.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(too_large)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(too_large)
    return bytes(body)
