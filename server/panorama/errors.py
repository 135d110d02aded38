"""Errors a client can act on, each carrying its HTTP status.

    PanoramaError (500)
    ├── BadRequest (400)
    │   ├── QuerySyntaxError (400)
    │   └── RdfSyntaxError (400)
    ├── Unauthorized (401)
    ├── Forbidden (403)
    ├── NotFound (404)
    ├── NotAcceptable (406)
    ├── PayloadTooLarge (413)
    ├── UnsupportedMediaType (415)
    ├── UnprocessableEntity (422)
    └── ServiceUnavailable (503)
        └── QueryTimeout (503)

``app.py`` registers one handler for ``PanoramaError``; the CLI prints the message and
exits non-zero. Messages are written for a person: they say what was wrong and what to do.
"""

from __future__ import annotations

__all__ = [
    "BadRequest",
    "Forbidden",
    "NotAcceptable",
    "NotFound",
    "PanoramaError",
    "PayloadTooLarge",
    "QuerySyntaxError",
    "QueryTimeout",
    "RdfSyntaxError",
    "ServiceUnavailable",
    "Unauthorized",
    "UnprocessableEntity",
    "UnsupportedMediaType",
]


class PanoramaError(Exception):
    status = 500
    title = "Internal error"

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}


class BadRequest(PanoramaError):
    status = 400
    title = "Bad request"


class QuerySyntaxError(BadRequest):
    title = "SPARQL syntax error"


class RdfSyntaxError(BadRequest):
    title = "RDF syntax error"


class Unauthorized(PanoramaError):
    status = 401
    title = "Unauthorized"


class Forbidden(PanoramaError):
    status = 403
    title = "Forbidden"


class NotFound(PanoramaError):
    status = 404
    title = "Not found"


class NotAcceptable(PanoramaError):
    status = 406
    title = "Not acceptable"


class PayloadTooLarge(PanoramaError):
    status = 413
    title = "Payload too large"


class UnsupportedMediaType(PanoramaError):
    status = 415
    title = "Unsupported media type"


class UnprocessableEntity(PanoramaError):
    status = 422
    title = "Unprocessable entity"


class ServiceUnavailable(PanoramaError):
    status = 503
    title = "Service unavailable"


class QueryTimeout(ServiceUnavailable):
    title = "Query timeout"
