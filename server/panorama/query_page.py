"""The query page: an editor, the named queries as a menu, results as a linked table.

A query runs exactly as at ``/sparql`` (same worker processes, same timeout, same refusals),
asked for TSV or N-Triples because both can be read a line at a time: the page shows the
first ``MAX_ROWS`` rows and stops the rest, and offers downloads in every format.
"""

from __future__ import annotations

import io
from contextlib import aclosing
from dataclasses import dataclass, field
from urllib.parse import urlencode

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.query import Result
from starlette.requests import Request
from starlette.responses import Response

from panorama.errors import BadRequest, NotAcceptable, PanoramaError
from panorama.executor import QueryJob, QueryRunner
from panorama.labels import request_language
from panorama.named_queries import NamedQuery
from panorama.negotiation import GRAPH_FORMATS, SOLUTION_FORMATS
from panorama.sparql import check_query
from panorama.store import QueryRequest
from panorama.templating import render

__all__ = ["MAX_ROWS", "query_page_response"]

MAX_ROWS = 1000
_EXAMPLE = """PREFIX cp: <https://w3id.org/cluster-panorama/def#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?cluster ?label WHERE {
  ?cluster a cp:Cluster ; rdfs:label ?label .
  FILTER(LANG(?label) = "de")
} ORDER BY ?label"""


@dataclass(frozen=True)
class Cell:
    text: str
    href: str | None = None
    lang: str | None = None
    datatype: str | None = None


@dataclass
class Outcome:
    """What running the query gave: rows, a boolean, or an error."""

    columns: list[str] = field(default_factory=list)
    rows: list[list[Cell | None]] = field(default_factory=list)
    boolean: bool | None = None
    truncated: bool = False
    error: PanoramaError | None = None
    kind: str = "solutions"


def _cell(term: object, base_iri: str) -> Cell | None:
    if term is None:
        return None
    if isinstance(term, URIRef):
        iri = str(term)
        if iri.startswith(base_iri):  # shown by its path, as in the page's own links
            return Cell(iri[len(base_iri) :], href="/" + iri[len(base_iri) :])
        return Cell(iri, href=iri)
    if isinstance(term, Literal):
        datatype = str(term.datatype).rsplit("#", 1)[-1] if term.datatype else None
        return Cell(str(term), lang=term.language, datatype=datatype)
    if isinstance(term, BNode):
        return Cell(f"_:{term}")
    return Cell(str(term))


async def _run(
    pool: QueryRunner,
    query: str,
    named: NamedQuery | None,
    bindings: dict[str, str],
    base_iri: str,
) -> Outcome:
    text = check_query(query)
    if named is not None and query == named.text:
        request = named.request(**bindings)
    else:
        request = QueryRequest(query, union_default_graph=not text.has_dataset_clause)
    stream = await pool.run(QueryJob(request, format=("tsv", "nt")))
    lines: list[bytes] = []
    pending = b""
    truncated = False
    # Closing the stream early stops the query's worker: the rest is never computed.
    async with aclosing(stream.__aiter__()) as chunks:
        async for chunk in chunks:
            pending += chunk
            *complete, pending = pending.split(b"\n")
            lines.extend(complete)
            if len(lines) > MAX_ROWS + 1:
                truncated = True
                break
    if pending and not truncated:
        lines.append(pending)
    body = b"\n".join(lines[: MAX_ROWS + 1]) + b"\n"
    try:
        return _outcome(stream.content_type, body, truncated, base_iri)
    except Exception as error:  # rdflib cannot read it (RDF 1.2 triple terms, say)
        raise NotAcceptable(
            "These results cannot be shown as a table here; download them instead."
        ) from error


def _outcome(content_type: str, body: bytes, truncated: bool, base_iri: str) -> Outcome:
    if content_type.startswith("application/n-triples"):
        graph = Graph().parse(data=body, format="nt")
        rows = [[_cell(s, base_iri), _cell(p, base_iri), _cell(o, base_iri)] for s, p, o in graph]
        rows.sort(key=lambda row: [c.text if c else "" for c in row])
        return Outcome(["subject", "predicate", "object"], rows, truncated=truncated, kind="graph")
    if body.strip() in (b"true", b"false"):
        return Outcome(boolean=body.strip() == b"true", kind="boolean")
    result = Result.parse(io.BytesIO(body), format="tsv")
    columns = [str(v) for v in result.vars or []]
    rows = [[_cell(row[v], base_iri) for v in columns] for row in result]
    return Outcome(columns, rows, truncated=truncated)


async def query_page_response(
    request: Request, pool: QueryRunner, named_queries: dict[str, NamedQuery], base_iri: str
) -> Response:
    """Render the page; run the query in the URL (``query=`` or ``name=``), if any."""
    params = request.query_params
    lang = request_language(request)
    named = named_queries.get(params.get("name", ""))
    bindings = {p: params[p] for p in (named.params if named else ()) if params.get(p)}
    query = params.get("query") or (named.text if named else "")
    outcome: Outcome | None = None
    status = 200
    if query:
        try:
            if len(query.encode()) > 100_000:
                raise BadRequest("The query is longer than 100,000 bytes.")
            outcome = await _run(pool, query, named, bindings, base_iri)
        except PanoramaError as error:
            outcome = Outcome(error=error)
            status = error.status
    downloads = []
    runs_named = named is not None and query == named.text
    if runs_named:  # links that keep the name and the bound parameters
        assert named is not None
        link_params = {**bindings}
        download_base, permalink = (
            f"/queries/{named.name}?",
            "/query?" + urlencode({"name": named.name, **bindings}),
        )
    else:
        link_params = {"query": query}
        download_base, permalink = "/sparql?", "/query?" + urlencode({"query": query})
    if query and outcome is not None and outcome.error is None:
        formats = GRAPH_FORMATS if outcome.kind == "graph" else SOLUTION_FORMATS
        for fmt in formats:
            link = download_base + urlencode({**link_params, "format": fmt.name})
            downloads.append((fmt.name, fmt.media_type, link))
    context = {
        "lang": lang,
        "query": query or _EXAMPLE,
        "named": named,
        "bindings": bindings,
        "named_queries": list(named_queries.values()),
        "outcome": outcome,
        "downloads": downloads,
        "permalink": permalink if query else None,
        "max_rows": MAX_ROWS,
    }
    return render(request, "query.html", context, status_code=status)
