"""Validating a submission with the published graph: findings, lines, limits, the CLI."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import Graph, Literal, URIRef

from panorama import bundle
from panorama.cli import main
from panorama.config import DEFAULT_BASE_IRI
from panorama.errors import BadRequest, PayloadTooLarge, RdfSyntaxError, UnsupportedMediaType
from panorama.line_map import index_turtle
from panorama.shacl_checks import SH
from panorama.store import Store
from panorama.validation import (
    Reference,
    Report,
    Shapes,
    Submission,
    SubmissionPart,
    load_shapes,
    reference_data,
    submission_format,
    validate,
)
from panorama.validation_report import report_graph, report_json, report_text

from support import REPO

CP = "https://w3id.org/cluster-panorama/def#"
ID = "https://w3id.org/cluster-panorama/id/"
HEAD = """@prefix cp: <https://w3id.org/cluster-panorama/def#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix id: <https://w3id.org/cluster-panorama/id/> .
"""


@pytest.fixture(scope="module")
def shapes() -> Shapes:
    return load_shapes(REPO, DEFAULT_BASE_IRI)


@pytest.fixture(scope="module")
def reference() -> Iterator[Reference]:
    store = Store.in_memory(base_iri=DEFAULT_BASE_IRI)
    bundle.sync(store, REPO)
    yield reference_data(store)
    store.close()


def check(text: str, shapes: Shapes, reference: Reference, **options) -> Report:
    part = SubmissionPart(text.encode(), "turtle")
    return validate(Submission((part,)), shapes, reference, base_iri=DEFAULT_BASE_IRI, **options)


def test_validate_missing_label_reports_focus_node_and_its_line(shapes, reference) -> None:
    report = check(
        HEAD + "\n\nid:cluster\\/demo a cp:Cluster ;\n"
        "    cp:clusterKind id:cluster-kind\\/network .\n",
        shapes,
        reference,
    )
    german = [f for f in report.findings if str(f.shape).endswith("#GermanLabel")]
    assert len(german) == 1
    assert german[0].focus == URIRef(ID + "cluster/demo")
    assert german[0].severity == "Violation"
    assert [line.line for line in german[0].lines] == [6]
    assert not report.conforms


def test_an_innovation_field_must_be_one_the_graph_knows(shapes, reference) -> None:
    text = HEAD + (
        'id:cluster\\/demo a cp:Cluster ; rdfs:label "Demo"@de, "Demo"@en ;\n'
        "  cp:clusterKind id:cluster-kind\\/network ;\n"
        "  cp:innovationField id:innovation-field\\/{field} .\n"
    )
    known = check(text.format(field="mobility-logistics"), shapes, reference)
    unknown = check(text.format(field="space-travel"), shapes, reference)
    assert [f for f in known.findings if f.severity == "Violation"] == []
    [violation] = [f for f in unknown.findings if f.severity == "Violation"]
    assert violation.value == URIRef(ID + "innovation-field/space-travel")
    assert violation.component == SH.ClassConstraintComponent
    assert [line.line for line in violation.lines] == [6]  # the line of cp:innovationField


def test_an_existing_cluster_can_be_extended_without_repeating_it(shapes, reference) -> None:
    # Its type, labels and kind are in the published graph: the submission adds a seat.
    report = check(HEAD + "id:cluster\\/its-owl cp:seat id:region\\/paderborn .", shapes, reference)
    assert report.conforms
    assert report.triples == 1


def test_the_published_data_is_not_reported_only_the_submission(shapes, reference) -> None:
    # The published clusters have warnings of their own; they are not this submission's.
    report = check(
        HEAD + 'id:region\\/bonn a cp:Region ; rdfs:label "Bonn"@de .', shapes, reference
    )
    assert report.findings == ()


def test_a_blank_node_finding_points_at_the_line_where_the_node_opens(shapes, reference) -> None:
    text = HEAD + (
        'id:figure\\/f a cp:Figure ; rdfs:label "Zahl"@de ;\n'
        '  cp:statedAs "rd. 5"@de ; <https://schema.org/value> 5 ;\n'
        "  <https://schema.org/about> [\n"
        "     a cp:Region ] .\n"
    )
    report = check(text, shapes, reference)
    blank = [f for f in report.findings if not isinstance(f.focus, URIRef)]
    assert blank and {f.component for f in blank} == {
        SH.QualifiedMinCountConstraintComponent,
        SH.MinCountConstraintComponent,
    }
    assert {line.line for f in blank for line in f.lines} == {6}


def test_too_many_triples_are_refused_while_parsing(shapes, reference) -> None:
    text = HEAD + "id:x <https://example.org/p> " + ", ".join(str(i) for i in range(50)) + " ."
    with pytest.raises(PayloadTooLarge, match="more than 20 triples"):
        check(text, shapes, reference, max_triples=20)


def test_a_syntax_error_names_line_and_column(shapes, reference) -> None:
    with pytest.raises(RdfSyntaxError, match=r"line 6, column 14"):
        check(HEAD + '\nid:x a cp:Cluster ;\n  rdfs:label "open', shapes, reference)


@pytest.mark.parametrize(
    "written, fmt, code, line, column",
    [
        pytest.param('id:x rdfs:label "a\x01b" .', "turtle", "U+0001", 5, 19, id="itself"),
        pytest.param('id:x rdfs:label "a\\u001Fb" .', "turtle", "U+001F", 5, 19, id="u-escape"),
        pytest.param('id:x rdfs:label "a\\U00000000" .', "turtle", "U+0000", 5, 19, id="U-escape"),
        pytest.param('id:x rdfs:label """a\n\\b""" .', "turtle", "U+0008", 6, 1, id="b-escape"),
        pytest.param('id:x rdfs:label "\\uFFFE" .', "turtle", "U+FFFE", 5, 18, id="non-character"),
        pytest.param(
            '{"@id": "https://example.org/x",\n "https://example.org/p": "a\\f"}',
            "jsonld",
            "U+000C",
            2,
            29,
            id="json-ld-f-escape",
        ),
    ],
)
def test_a_character_xml_cannot_carry_is_refused_at_its_place(
    shapes, reference, written: str, fmt: str, code: str, line: int, column: int
) -> None:
    """RDF allows U+0001 in a literal; XML does not, and the endpoint answers in XML."""
    text = written if fmt == "jsonld" else HEAD + "\n" + written
    part = SubmissionPart(text.encode(), fmt)
    with pytest.raises(BadRequest, match=rf"Line {line}, column {column}: .* {re.escape(code)}, "):
        validate(Submission((part,)), shapes, reference, base_iri=DEFAULT_BASE_IRI)


def test_tabs_line_ends_and_escaped_backslashes_are_text_xml_can_carry(shapes, reference) -> None:
    # Escapes of tab and line ends, a tab itself, escaped backslashes before "b" and "u0001",
    # an escaped "ä", and U+0001 in a comment, not in a literal.
    text = (
        HEAD
        + '\nid:x rdfs:label "a\\tb\\nc\\r\td \\\\b \\\\u0001 \\u00E4" .  # \x01 in a comment\n'
    )
    assert check(text, shapes, reference).triples == 1


@pytest.mark.parametrize(
    "name, expected",
    [
        pytest.param("text/turtle; charset=utf-8", "turtle", id="turtle-media-type"),
        pytest.param(".nt", "ntriples", id="nt-suffix"),
        pytest.param("application/ld+json", "jsonld", id="jsonld"),
    ],
)
def test_submission_formats_by_media_type_or_suffix(name: str, expected: str) -> None:
    assert submission_format(name) == expected


@pytest.mark.parametrize("name", ["application/rdf+xml", ".rdf", "text/n3", "application/trig"])
def test_rdf_xml_and_other_formats_are_not_accepted(name: str) -> None:
    with pytest.raises(UnsupportedMediaType, match="Turtle"):
        submission_format(name)


def test_the_line_map_follows_prefixes_nesting_strings_and_comments() -> None:
    text = (
        "@prefix ex: <http://e/> .\n"
        'ex:a ex:p [ ex:q "x\\"y" ; ex:r """multi\n'
        'line . ex:fake ex:p""" ] ; # ex:b ex:c .\n'
        "   ex:s ( 1 2. ) .\n"
        "_:b ex:p 25.\n"
        "<rel> a ex:C .\n"
        "PREFIX ex2: <http://f/>\n"
        "ex2:c ex:p ex:d.\n"
    )
    index = index_turtle(text, "http://base/doc")
    assert index.lines("<http://e/a>") == [2]
    assert index.lines("<http://e/a>", "http://e/s") == [4]
    assert index.lines("_:b") == [5]
    assert index.lines("<http://base/rel>") == [6]
    assert index.lines("<http://f/c>") == [8]
    assert "<http://e/fake>" not in index.subjects
    assert index.anonymous[("<http://e/a>", "http://e/p")] == ["[2:11]"]


def test_report_forms_carry_the_same_findings(shapes, reference) -> None:
    report = check(HEAD + "id:cluster\\/demo a cp:Cluster .", shapes, reference)
    graph = report_graph(report, "de")
    results = list(graph.subjects(None, SH.ValidationResult))
    assert len(results) == len(report.findings) == len(report_json(report, "en")["results"])
    assert (None, SH.conforms, Literal(False)) in graph
    messages = {str(m) for m in graph.objects(None, SH.resultMessage)}
    assert 'Es fehlt eine deutsche Bezeichnung: rdfs:label "…"@de.' in messages
    assert "VIOLATION (line 4)" in report_text(report, "en")


# The command line ---------------------------------------------------------------------------


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_cli_exit_codes_are_0_1_and_2(tmp_path: Path) -> None:
    runner = CliRunner()
    good = runner.invoke(main, ["validate", str(REPO / "docs/examples/cluster-template.ttl")])
    bad_file = _write(tmp_path, "bad.ttl", HEAD + "id:cluster\\/demo a cp:Cluster .\n")
    bad = runner.invoke(main, ["validate", str(bad_file), "--lang", "de"])
    broken = runner.invoke(main, ["validate", str(_write(tmp_path, "x.ttl", "<a> <b> .\n"))])
    missing = runner.invoke(main, ["validate", str(tmp_path / "nothing.ttl")])
    assert (good.exit_code, bad.exit_code, broken.exit_code, missing.exit_code) == (0, 1, 2, 2)
    assert "VERSTOSS (Zeile 4)" in bad.output
    assert "Cluster-Art" in bad.output
    assert "line 1, column" in broken.output


def test_cli_validates_several_files_together_and_names_each_line(tmp_path: Path) -> None:
    cluster = _write(
        tmp_path,
        "cluster.ttl",
        HEAD + 'id:cluster\\/demo a cp:Cluster ; rdfs:label "Demo"@de, "Demo"@en ;\n'
        "  cp:clusterKind id:cluster-kind\\/network ; cp:managedBy id:organisation\\/demo-gmbh .\n",
    )
    organisation = _write(
        tmp_path,
        "org.ttl",
        HEAD + "\nid:organisation\\/demo-gmbh a cp:ClusterManagementOrganisation .\n",
    )
    result = CliRunner().invoke(
        main, ["validate", str(cluster), str(organisation), "--format", "json"]
    )
    document = json.loads(result.output)
    assert result.exit_code == 1  # the organisation has no label
    focus = {
        r["focusNode"]: r["lines"] for r in document["results"] if r["severity"] == "Violation"
    }
    assert focus == {ID + "organisation/demo-gmbh": [{"source": str(organisation), "line": 5}]}


def test_cli_turtle_report_is_a_shacl_validation_report(tmp_path: Path) -> None:
    path = _write(tmp_path, "bad.ttl", HEAD + "id:cluster\\/demo a cp:Cluster .\n")
    result = CliRunner().invoke(main, ["validate", str(path), "--format", "turtle"])
    graph = Graph().parse(data=result.output, format="turtle")
    assert (None, None, SH.ValidationReport) in graph
    assert len(list(graph.subjects(None, SH.ValidationResult))) >= 3
    assert URIRef(CP + "clusterKind") in set(graph.objects(None, SH.resultPath))
