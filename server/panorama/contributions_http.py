"""HTTP for contributions: who is asking, what they sent, and what they are told.

Writes need a Bearer token (``panorama token create``); reads are public. Every refusal is
a 4xx that leaves the store as it was: 401 without a valid token, 403 for a graph that is
not the contributor's, 400 for data that does not parse, 413 when too large, 415 for a
format other than Turtle or N-Triples, 422 with the SHACL report when it does not conform.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from panorama.contributions import (
    ACCEPTED_TYPES,
    Accepted,
    Contributions,
    contribution_iri,
    contributor_graph,
)
from panorama.errors import (
    BadRequest,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
    UnprocessableEntity,
    UnsupportedMediaType,
)
from panorama.labels import request_language
from panorama.ledger import Contributor, Version
from panorama.linked_data import RESOURCE_FORMATS, describe
from panorama.negotiation import HTML, JSON, TURTLE, negotiate
from panorama.request_body import read_bounded_body
from panorama.templating import render
from panorama.validation import Report, Submission, SubmissionPart
from panorama.validation_http import ValidationService
from panorama.validation_report import report_context, report_graph, report_json

__all__ = ["ContributionDesk", "summary"]

_FORM = "application/x-www-form-urlencoded"


class _Rejected(UnprocessableEntity):
    """A contribution that does not conform; it carries its report."""

    title = "Unprocessable contribution"

    def __init__(self, report: Report, lang: str) -> None:
        super().__init__(
            f"The contribution does not conform to the shapes: {report.count('Violation')} "
            "violation(s). Nothing was changed."
        )
        self.report = report
        self.lang = lang


@dataclass
class _Sent:
    data: bytes
    media_type: str
    token: str | None
    message: str | None
    from_form: bool


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def _body(request: Request, limit: int) -> bytes:
    return await read_bounded_body(
        request, limit, f"The contribution is over the limit of {limit} bytes."
    )


class ContributionDesk:
    """Everything the contribution routes share: the workflow, validation, locks."""

    def __init__(
        self,
        contributions: Contributions,
        validation: ValidationService,
        *,
        max_bytes: int,
    ) -> None:
        self.contributions = contributions
        self.validation = validation
        self.max_bytes = max_bytes
        self._locks: dict[str, asyncio.Lock] = {}

    async def authenticate(self, token: str | None) -> Contributor:
        """Raises Unauthorized (401) unless ``token`` belongs to an active contributor."""
        if not token:
            raise Unauthorized(
                "Send your token as 'Authorization: Bearer <token>' (from `panorama token "
                "create NAME`).",
                headers={"WWW-Authenticate": 'Bearer realm="cluster-panorama"'},
            )
        # In a thread: the ledger is a file, or a request to the engine.
        contributor = await run_in_threadpool(self.contributions.ledger.contributor_for, token)
        if contributor is None:
            raise Unauthorized(
                "This token is not valid (unknown or revoked). Ask the operator for a new one.",
                headers={
                    "WWW-Authenticate": 'Bearer realm="cluster-panorama", error="invalid_token"'
                },
            )
        return contributor

    async def _read(self, request: Request) -> _Sent:
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type == _FORM:
            form = parse_qs((await _body(request, 2 * self.max_bytes)).decode("utf-8", "replace"))
            data = (form.get("data") or [""])[0].encode("utf-8")
            syntax = (form.get("syntax") or ["text/turtle"])[0]
            if len(data) > self.max_bytes:
                raise PayloadTooLarge(
                    f"The contribution is over the limit of {self.max_bytes} bytes."
                )
            if syntax not in ACCEPTED_TYPES:
                raise UnsupportedMediaType(f"Choose Turtle or N-Triples, not {syntax!r}.")
            return _Sent(
                data,
                syntax,
                (form.get("token") or [None])[0],
                (form.get("message") or [None])[0],
                from_form=True,
            )
        if media_type not in ACCEPTED_TYPES:
            raise UnsupportedMediaType(
                "Send a contribution as text/turtle or application/n-triples, not "
                f"{media_type or 'a body without Content-Type'}."
            )
        return _Sent(
            await _body(request, self.max_bytes),
            media_type,
            _bearer(request),
            request.query_params.get("message"),
            from_form=False,
        )

    async def _validate_and_accept(
        self,
        request: Request,
        contributor: Contributor,
        data: bytes,
        media_type: str,
        message: str | None,
        restores: str | None = None,
    ) -> Accepted:
        fmt = "turtle" if media_type == "text/turtle" else "ntriples"
        async with self._locks.setdefault(contributor.name, asyncio.Lock()):
            report = await self.validation.validate(
                Submission((SubmissionPart(data, fmt, "contribution"),))
            )
            lang = request_language(request)
            if not report.conforms:
                raise _Rejected(report, lang)
            report_text = json.dumps(report_json(report, lang), ensure_ascii=False)
            accepted = await run_in_threadpool(
                self.contributions.accept,
                contributor,
                data,
                media_type,
                triples=report.triples,
                report=report_text,
                message=message,
                restores=restores,
            )
        return accepted

    async def submit(self, request: Request) -> Response:
        """POST /contributions."""
        sent = await self._read(request)
        contributor = await self.authenticate(sent.token)
        self.contributions.check_target(contributor, request.query_params.get("graph"))
        if not sent.data.strip():
            raise BadRequest("The contribution is empty.")
        try:
            accepted = await self._validate_and_accept(
                request, contributor, sent.data, sent.media_type, sent.message
            )
        except _Rejected as rejected:
            return self._rejection(request, rejected, sent.from_form)
        return self._created(request, accepted, sent.from_form)

    async def rollback(self, request: Request, version_id: str) -> Response:
        """POST /contributions/{id}/rollback: the contributor restores an earlier version."""
        contributor = await self.authenticate(_bearer(request))
        version, content = await run_in_threadpool(self.contributions.restorable, version_id)
        self.contributions.check_target(
            contributor, self.contributions.graph_of(Contributor(version.contributor, "", None))
        )
        try:
            accepted = await self._validate_and_accept(
                request,
                contributor,
                content,
                version.media_type,
                f"Restores {version_id}",
                restores=version_id,
            )
        except _Rejected as rejected:
            return self._rejection(request, rejected, from_form=False)
        return self._created(request, accepted, from_form=False)

    def _created(self, request: Request, accepted: Accepted, from_form: bool) -> Response:
        body = summary(accepted.version, accepted.iri, accepted.graph)
        location = f"/contributions/{accepted.version.id}"
        if from_form:
            lang = request_language(request)
            context = {"lang": lang, "accepted": body, "location": location}
            return render(
                request, "contribute.html", context, status_code=201, headers={"Location": location}
            )
        return JSONResponse(body, status_code=201, headers={"Location": location})

    def _rejection(self, request: Request, rejected: _Rejected, from_form: bool) -> Response:
        report, lang = rejected.report, rejected.lang
        offered = (JSON, TURTLE, HTML)
        chosen = (
            HTML
            if from_form
            else negotiate(
                request.headers.get("accept"), offered, request.query_params.getlist("format")
            )
        )
        if chosen is HTML:
            context = {
                "lang": lang,
                "rejected": rejected.message,
                "report": report_context(report, lang, None),
            }
            return render(request, "contribute.html", context, status_code=422)
        if chosen is TURTLE:
            body = report_graph(report, lang).serialize(format="turtle", encoding="utf-8")
            return Response(body, status_code=422, media_type=TURTLE.content_type)
        return JSONResponse(
            {"error": rejected.message, "report": report_json(report, lang)}, status_code=422
        )


def summary(version: Version, iri: str, graph: str) -> dict[str, object]:
    """A contribution as the JSON answers show it."""
    return {
        "id": version.id,
        "iri": iri,
        "graph": graph,
        "contributor": version.contributor,
        "created": version.created,
        "triples": version.triples,
        "bytes": version.size,
        "sha256": version.sha256,
        "message": version.message,
        "replaces": version.replaces,
        "restores": version.restores,
        "content": f"/contributions/{version.id}/content",
        "report": f"/contributions/{version.id}/report",
    }


def list_response(request: Request, desk: ContributionDesk) -> Response:
    """GET /contributions: every accepted version, newest first (HTML or JSON)."""
    contributions = desk.contributions
    base = contributions.store.base_iri
    rows = [
        summary(v, contribution_iri(base, v.id), contributor_graph(base, v.contributor))
        for v in contributions.ledger.versions()
    ]
    fmt = negotiate(
        request.headers.get("accept"), (HTML, JSON), request.query_params.getlist("format")
    )
    if fmt is JSON:
        return JSONResponse({"contributions": rows})
    return render(request, "contributions.html", {"lang": request_language(request), "rows": rows})


def one_response(request: Request, desk: ContributionDesk, version_id: str) -> Response:
    """GET /contributions/{id}: one version (HTML, JSON, or its PROV description in RDF)."""
    contributions = desk.contributions
    version = contributions.ledger.version(version_id)
    if version is None:
        raise NotFound(f"There is no contribution {version_id!r}.")
    base = contributions.store.base_iri
    iri = contribution_iri(base, version.id)
    fmt = negotiate(
        request.headers.get("accept"),
        (HTML, JSON, *RESOURCE_FORMATS[1:]),
        request.query_params.getlist("format"),
    )
    if fmt is JSON:
        return JSONResponse(summary(version, iri, contributor_graph(base, version.contributor)))
    if fmt is not HTML:
        description = describe(contributions.store, iri, with_fragments=False)
        return Response(description.serialize(fmt), media_type=fmt.content_type)
    content, _ = contributions.ledger.content(version.id)
    context = {
        "lang": request_language(request),
        "row": summary(version, iri, contributor_graph(base, version.contributor)),
        "content": content.decode("utf-8", "replace")[:200_000],
        "history": [v for v in contributions.ledger.versions(version.contributor)],
    }
    return render(request, "contribution.html", context)


def content_response(desk: ContributionDesk, version_id: str) -> Response:
    """GET /contributions/{id}/content: the document as it was submitted."""
    version = desk.contributions.ledger.version(version_id)
    if version is None:
        raise NotFound(f"There is no contribution {version_id!r}.")
    content, _ = desk.contributions.ledger.content(version_id)
    return Response(content, media_type=f"{version.media_type}; charset=utf-8")


def report_response(desk: ContributionDesk, version_id: str) -> Response:
    """GET /contributions/{id}/report: its validation report (JSON), warnings included."""
    if desk.contributions.ledger.version(version_id) is None:
        raise NotFound(f"There is no contribution {version_id!r}.")
    _, report = desk.contributions.ledger.content(version_id)
    return Response(report, media_type="application/json")


def form_page(request: Request) -> Response:
    """GET /contributions/new: a form for people without a command line."""
    return render(request, "contribute.html", {"lang": request_language(request)})
