"""``/validate`` over HTTP: read a submission within the limits, validate it in a worker,
answer in the format and language asked for.

A submission is the request body (``Content-Type`` text/turtle, application/n-triples or
application/ld+json) or a form from the ``/validate`` page (a paste box ``data``, a file
``file``, a ``syntax`` choice). The body is counted while it arrives, so an oversized one
is refused (413) without being held whole. The answer is negotiated from one table,
``REPORT_FORMATS`` (``format=`` beats ``Accept``); the language comes from ``lang=`` or
``Accept-Language``, English by default.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from panorama import labels
from panorama.config import Settings
from panorama.errors import BadRequest
from panorama.negotiation import HTML, JSON, JSON_LD, TURTLE, Format, negotiate
from panorama.request_body import read_bounded_body
from panorama.store import Store
from panorama.templating import render
from panorama.validation import (
    ReferenceCache,
    Report,
    Submission,
    SubmissionPart,
    submission_format,
)
from panorama.validation_pool import ValidationPool
from panorama.validation_report import (
    UI,
    report_context,
    report_graph,
    report_json,
)

__all__ = [
    "REPORT_FORMATS",
    "SubmittedData",
    "ValidationService",
    "answer",
    "choose_language",
    "page",
    "read_submission",
]

#: The forms of a report; on a tie (or ``*/*``) the first wins.
REPORT_FORMATS: tuple[Format, ...] = (JSON, TURTLE, JSON_LD, HTML)
_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


class ValidationService:
    """The validation workers and the reference graph of one running server."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.references = ReferenceCache()
        self.pool: ValidationPool | None = None
        self.store: Store | None = None

    def start(self, store: Store) -> None:
        """Start the validation workers over ``store`` (the reference data's source)."""
        self.store = store
        self.pool = ValidationPool(
            self.settings.bundle,
            base_iri=self.settings.base_iri,
            size=self.settings.validation_workers,
            timeout=self.settings.validation_timeout,
            queue=self.settings.validation_queue,
        )
        self.pool.start()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()

    async def validate(self, submission: Submission) -> Report:
        assert self.pool is not None and self.store is not None, "the app has not started"
        # In a thread: on an engine, reading the catalog (and the reference, when it
        # changed) is a request to it.
        reference = await run_in_threadpool(self.references.get, self.store)
        return await self.pool.validate(
            submission, reference, max_triples=self.settings.validation_max_triples
        )


@dataclass(frozen=True)
class SubmittedData:
    submission: Submission
    lang: str
    text: str | None  # the submitted text, for quoting lines on the page
    output: str | None  # the ``format`` parameter


def choose_language(lang: str | None, accept_language: str | None) -> str:
    """``lang`` if it is one we have, else the first of ``Accept-Language`` we have, else en."""
    return labels.choose_language(
        (lang or "").strip().lower()[:2] or None, accept_language, default="en"
    )


async def read_submission(request: Request, max_bytes: int) -> SubmittedData:
    """Read the submission from the body or the page's form, refusing it past ``max_bytes``.

    Raises:
        PayloadTooLarge: the body is larger than ``max_bytes``.
        UnsupportedMediaType: the body is RDF/XML or another format not accepted here.
        BadRequest: the form holds no data.
    """
    body = await read_bounded_body(
        request,
        max_bytes,
        f"The submission is larger than {max_bytes:,} bytes, the limit here; split it, or "
        "validate it locally with `panorama validate FILE`.",
    )
    content_type = request.headers.get("content-type", "text/turtle")
    lang_param = request.query_params.get("lang")
    output = request.query_params.get("format")
    if content_type.split(";")[0].strip().lower() not in _FORM_TYPES:
        part = SubmissionPart(body, submission_format(content_type))
        text = body.decode("utf-8", "replace")
        language = choose_language(lang_param, request.headers.get("accept-language"))
        return SubmittedData(Submission((part,)), language, text, output)

    async def replay() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    form = await Request(request.scope, replay).form(
        max_files=1, max_fields=10, max_part_size=max_bytes
    )
    syntax = str(form.get("syntax") or "turtle")
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read()
        suffix = PurePath(upload.filename).suffix
        syntax = suffix if suffix in (".ttl", ".nt", ".jsonld") else syntax
        source = PurePath(upload.filename).name
    else:
        data = str(form.get("data") or "").encode("utf-8")
        source = "submission"
    if not data.strip():
        raise BadRequest("There is nothing to validate: paste data or choose a file.")
    language = choose_language(
        str(form.get("lang") or lang_param or ""), request.headers.get("accept-language")
    )
    part = SubmissionPart(data, submission_format(syntax), source)
    return SubmittedData(Submission((part,)), language, data.decode("utf-8", "replace"), output)


async def answer(
    request: Request, service: ValidationService, submitted: SubmittedData
) -> Response:
    """Validate and answer with the report as asked (JSON, Turtle, JSON-LD or the page)."""
    chosen = negotiate(request.headers.get("accept"), REPORT_FORMATS, submitted.output)
    report = await service.validate(submitted.submission)
    lang = submitted.lang
    headers = {"Content-Language": lang, "Vary": "Accept, Accept-Language"}
    if chosen is HTML:
        context = {
            "lang": lang,
            "ui": UI[lang],
            "report": report_context(report, lang, submitted.text),
            "submitted": submitted.text if len(submitted.text or "") <= 200_000 else "",
        }
        return render(request, "validate.html", context, headers=headers)
    if chosen is JSON:
        body = json.dumps(report_json(report, lang), ensure_ascii=False, indent=2).encode()
    else:
        rdf_format = "turtle" if chosen is TURTLE else "json-ld"
        body = report_graph(report, lang).serialize(format=rdf_format, encoding="utf-8")
    return Response(body, media_type=chosen.content_type, headers=headers)


def page(request: Request) -> Response:
    """The page with a paste box and a file upload; it posts to itself, no script needed."""
    lang = choose_language(request.query_params.get("lang"), request.headers.get("accept-language"))
    context = {"lang": lang, "ui": UI[lang], "report": None, "submitted": ""}
    return render(request, "validate.html", context, headers={"Content-Language": lang})
