"""SPARQL TSV and CSV written as they stream, for engines that get them wrong.

Virtuoso 7.2 answers ``text/tab-separated-values`` with a CSV-like table (``"label"`` where
the standard has ``?label``, terms without their Turtle form). Its XML results are right,
so the ``/sparql`` proxy asks for those and writes TSV here, chunk by chunk: the XML is
read with a pull parser and each ``<result>`` is dropped once written, so nothing but the
current chunk is held.

Its ``text/csv`` quotes every IRI and string (the header too), ends lines with LF where
the standard has CRLF, and writes blank nodes as ``nodeID://b1``. Its values are right,
and CSV comes from it many times faster than XML (a million rows: 2 s against 35 s), so
``csv_from_csv`` rewrites it as the embedded store (Oxigraph) writes CSV: a field quoted
only when it holds a quote, a comma or a line break, blank nodes as ``_:b1``. A string
that itself starts with ``nodeID://`` is taken for a blank node: CSV cannot tell them apart.
Strings the query computes from its own constants come in Latin-1, not UTF-8 (``'ß'`` is
the byte ``DF``; characters outside Latin-1 are already ``?``): bytes that are not UTF-8
are read as Latin-1.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import AsyncIterator
from xml.etree.ElementTree import Element, XMLPullParser

from panorama.chunks import CHUNK

__all__ = ["XML_RESULTS", "csv_from_csv", "tsv_from_xml"]

XML_RESULTS = "application/sparql-results+xml"
_NS = "{http://www.w3.org/2005/sparql-results#}"


def _string(value: str) -> str:
    escaped = (
        value.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )
    return f'"{escaped}"'


def _term(binding: Element) -> str:
    """A binding's term in the Turtle form TSV uses (SPARQL 1.1 TSV, section 4)."""
    node = next(iter(binding), None)
    if node is None:
        return ""
    kind, value = node.tag.removeprefix(_NS), node.text or ""
    if kind == "uri":
        return f"<{value}>"
    if kind == "bnode":
        return f"_:{value.removeprefix('nodeID://')}"
    lang = node.get("{http://www.w3.org/XML/1998/namespace}lang")
    if lang:
        return f"{_string(value)}@{lang}"
    datatype = node.get("datatype")
    if datatype and datatype != "http://www.w3.org/2001/XMLSchema#string":
        return f"{_string(value)}^^<{datatype}>"
    return _string(value)


async def tsv_from_xml(xml: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The TSV of the SPARQL XML results ``xml``, in chunks of about 64 KiB.

    Raises:
        xml.etree.ElementTree.ParseError: the engine's XML is not well-formed.
    """
    parser = XMLPullParser(events=("start", "end"))
    names: list[str] = []
    out: list[str] = []
    size = 0
    results: Element | None = None
    async for chunk in xml:
        parser.feed(chunk)
        for event, element in parser.read_events():
            tag = element.tag.removeprefix(_NS)
            if event == "start":
                results = element if tag == "results" else results
                continue
            if tag == "variable":
                names.append(element.get("name", ""))
            elif tag == "head":
                out.append("\t".join(f"?{name}" for name in names) + "\n")
            elif tag == "result":
                bound = {b.get("name"): _term(b) for b in element.findall(f"{_NS}binding")}
                line = "\t".join(bound.get(name, "") for name in names) + "\n"
                out.append(line)
                size += len(line)
                if results is not None:
                    results.clear()  # the results written so far
        if size >= CHUNK:
            yield "".join(out).encode()
            out, size = [], 0
    parser.close()
    if out:
        yield "".join(out).encode()


def _csv_field(value: str) -> str:
    if value.startswith("nodeID://"):
        value = "_:" + value.removeprefix("nodeID://")
    if any(character in value for character in '",\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _complete_rows(pending: bytes) -> int:
    """Where the last whole row of ``pending`` ends (after its LF), or 0.

    A line break inside a quoted field is not a row's end: before a row's end, the number
    of quotes is even (a quote inside a field is written twice).
    """
    end = len(pending)
    while (end := pending.rfind(b"\n", 0, end)) >= 0:
        if pending.count(b'"', 0, end) % 2 == 0:
            return end + 1
    return 0


def _latin1(error: UnicodeError) -> tuple[str, int]:
    assert isinstance(error, UnicodeDecodeError)
    return error.object[error.start : error.end].decode("latin-1"), error.end


codecs.register_error("panorama-latin-1", _latin1)


def _standard_rows(block: bytes) -> str:
    text = block.decode("utf-8", errors="panorama-latin-1")
    rows = csv.reader(io.StringIO(text, newline=""))
    return "".join(",".join(_csv_field(v) for v in row) + "\r\n" for row in rows)


async def csv_from_csv(engine_csv: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The engine's CSV (RFC 4180 with any quoting and line end) as SPARQL 1.1 CSV.

    Raises:
        csv.Error: the engine's CSV is not well-formed.
    """
    pending = b""
    async for chunk in engine_csv:
        pending += chunk
        if len(pending) < CHUNK:
            continue
        if cut := _complete_rows(pending):
            yield _standard_rows(pending[:cut]).encode()
            pending = pending[cut:]
    if pending:
        yield _standard_rows(pending).encode()
