"""SPARQL XML results turned into SPARQL TSV as they stream, for engines whose TSV is wrong.

Virtuoso 7.2 answers ``text/tab-separated-values`` with a CSV-like table (``"label"`` where
the standard has ``?label``, terms without their Turtle form). Its XML results are right,
so the ``/sparql`` proxy asks for those and writes TSV here, chunk by chunk: the XML is
read with a pull parser and each ``<result>`` is dropped once written, so nothing but the
current chunk is held.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from xml.etree.ElementTree import Element, XMLPullParser

from panorama.chunks import CHUNK

__all__ = ["XML_RESULTS", "tsv_from_xml"]

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
