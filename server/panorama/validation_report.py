"""A validation report in the forms people and programs read: a SHACL ``sh:ValidationReport``
graph (Turtle, JSON-LD), a simple JSON document, plain text for the terminal, and the
data for the HTML page, each in German or English.

The JSON document (``report_json``) is documented in ``docs/contributors.md``::

    {"conforms": false, "language": "en", "triples": 42,
     "violations": 1, "warnings": 2, "infos": 0,
     "results": [{"severity": "Violation", "focusNode": "https://…", "path": "https://…",
                  "property": "cluster kind", "value": null, "message": "…",
                  "constraint": "MinCountConstraintComponent", "shape": "https://…",
                  "lines": [{"source": "submission", "line": 12}]}]}
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from rdflib import RDF, BNode, Graph, Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Node

from panorama.shacl_checks import SH
from panorama.validation import Finding, Report

__all__ = ["LANGUAGES", "UI", "report_context", "report_graph", "report_json", "report_text"]

LANGUAGES = ("en", "de")
_SEVERITY_IRI = {"Violation": SH.Violation, "Warning": SH.Warning, "Info": SH.Info}

#: The words of the report around the shapes' own messages.
UI: dict[str, dict[str, str]] = {
    "en": {
        "title": "Validate a contribution",
        "conforms": "The data conforms to the shapes.",
        "fails": "The data does not conform to the shapes.",
        "Violation": "Violation",
        "Warning": "Warning",
        "Info": "Info",
        "node": "Node",
        "property": "property",
        "value": "value",
        "line": "line",
        "lines": "lines",
        "summary": "{triples} triples checked: {violations} violation(s), {warnings} warning(s).",
        "paste": "Paste Turtle, N-Triples or JSON-LD",
        "upload": "…or upload a file",
        "syntax": "Format",
        "language": "Language of the messages",
        "submit": "Validate",
        "no_findings": "Nothing to report.",
    },
    "de": {
        "title": "Beitrag prüfen",
        "conforms": "Die Daten entsprechen den Shapes.",
        "fails": "Die Daten entsprechen den Shapes nicht.",
        "Violation": "Verstoß",
        "Warning": "Warnung",
        "Info": "Hinweis",
        "node": "Knoten",
        "property": "Eigenschaft",
        "value": "Wert",
        "line": "Zeile",
        "lines": "Zeilen",
        "summary": "{triples} Tripel geprüft: {violations} Verstoß/Verstöße, "
        "{warnings} Warnung(en).",
        "paste": "Turtle, N-Triples oder JSON-LD einfügen",
        "upload": "…oder eine Datei hochladen",
        "syntax": "Format",
        "language": "Sprache der Meldungen",
        "submit": "Prüfen",
        "no_findings": "Nichts zu melden.",
    },
}


def _term(node: Node | None) -> str | None:
    if node is None:
        return None
    if isinstance(node, BNode):
        return f"_:{node}"
    if isinstance(node, Literal):
        return node.n3()
    return str(node)


def _lines_text(finding: Finding, lang: str, several_sources: bool) -> str:
    if not finding.lines:
        return ""
    word = UI[lang]["line" if len(finding.lines) == 1 else "lines"]
    if several_sources:
        return ", ".join(f"{line.source}:{line.line}" for line in finding.lines)
    return f"{word} " + ", ".join(str(line.line) for line in finding.lines)


def report_graph(report: Report, lang: str) -> Graph:
    """The report as a SHACL validation report graph (messages in ``lang``)."""
    graph = Graph()
    graph.bind("sh", SH)
    graph.bind("cp", "https://w3id.org/cluster-panorama/def#")
    root = BNode()
    graph.add((root, RDF.type, SH.ValidationReport))
    graph.add((root, SH.conforms, Literal(report.conforms)))
    for finding in report.findings:
        result = BNode()
        graph.add((root, SH.result, result))
        graph.add((result, RDF.type, SH.ValidationResult))
        graph.add((result, SH.focusNode, finding.focus))
        graph.add((result, SH.resultSeverity, _SEVERITY_IRI[finding.severity]))
        graph.add((result, SH.sourceConstraintComponent, finding.component))
        graph.add((result, SH.sourceShape, finding.shape))
        if finding.path is not None:
            graph.add((result, SH.resultPath, finding.path))
        if finding.value is not None:
            graph.add((result, SH.value, finding.value))
        message = finding.message(lang)
        if message:
            graph.add((result, SH.resultMessage, Literal(message, lang=lang)))
        for line in finding.lines:
            # Where the node is written: not SHACL, but harmless to SHACL readers.
            graph.add(
                (
                    result,
                    URIRef("https://w3id.org/cluster-panorama/def#sourceLine"),
                    Literal(line.line, datatype=XSD.integer),
                )
            )
    return graph


def report_json(report: Report, lang: str) -> dict[str, Any]:
    """The report as the simple JSON document described in the module docstring."""
    return {
        "conforms": report.conforms,
        "language": lang,
        "triples": report.triples,
        "violations": report.count("Violation"),
        "warnings": report.count("Warning"),
        "infos": report.count("Info"),
        "results": [
            {
                "severity": finding.severity,
                "focusNode": _term(finding.focus),
                "path": _term(finding.path),
                "property": finding.name(lang) or None,
                "value": _term(finding.value),
                "message": finding.message(lang),
                "constraint": str(finding.component).rsplit("#", 1)[-1],
                "shape": _term(finding.shape),
                "lines": [{"source": ln.source, "line": ln.line} for ln in finding.lines],
            }
            for finding in report.findings
        ],
    }


def report_text(report: Report, lang: str) -> str:
    """The report for a terminal: one block per finding, most useful facts first."""
    ui = UI[lang]
    several = len(report.sources) > 1
    out = []
    for finding in report.findings:
        where = _lines_text(finding, lang, several)
        head = f"{ui[finding.severity].upper()}" + (f" ({where})" if where else "")
        out.append(f"{head}: <{_term(finding.focus)}>")
        if finding.path is not None:
            out.append(f"  {ui['property']}: {finding.name(lang)} <{finding.path}>")
        if finding.value is not None:
            out.append(f"  {ui['value']}: {_term(finding.value)}")
        out.append(f"  {finding.message(lang)}")
    out.append(ui["conforms"] if report.conforms else ui["fails"])
    out.append(
        ui["summary"].format(
            triples=report.triples,
            violations=report.count("Violation"),
            warnings=report.count("Warning"),
        )
    )
    return "\n".join(out) + "\n"


def report_context(report: Report, lang: str, text: str | None) -> dict[str, Any]:
    """Plain data for ``validate.html``: findings grouped by focus node, with source lines.

    Args:
        text: the submitted text, to quote the lines each node is written on.
    """
    source_lines = text.splitlines() if text else []
    groups: OrderedDict[str, dict[str, Any]] = OrderedDict()
    for finding in report.findings:
        key = _term(finding.focus) or ""
        group = groups.setdefault(key, {"node": key, "findings": [], "lines": {}})
        for line in finding.lines:
            if 1 <= line.line <= len(source_lines):
                group["lines"][line.line] = source_lines[line.line - 1]
        group["findings"].append(
            {
                "severity": finding.severity,
                "severity_label": UI[lang][finding.severity],
                "property": finding.name(lang),
                "path": _term(finding.path),
                "value": _term(finding.value),
                "message": finding.message(lang),
                "lines": [line.line for line in finding.lines],
            }
        )
    for group in groups.values():
        group["lines"] = sorted(group["lines"].items())
    return {
        "conforms": report.conforms,
        "summary": UI[lang]["summary"].format(
            triples=report.triples,
            violations=report.count("Violation"),
            warnings=report.count("Warning"),
        ),
        "groups": list(groups.values()),
    }
