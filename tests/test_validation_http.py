"""``/validate`` on a real server: formats, languages, the page, and every safety limit."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import httpx
import psutil
import pytest
from rdflib import Graph, Literal

from panorama.shacl_checks import SH

from support import REPO, Backend, Listener, LiveServer

HEAD = """@prefix cp: <https://w3id.org/cluster-panorama/def#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix id: <https://w3id.org/cluster-panorama/id/> .
"""
BAD = (HEAD + "\nid:cluster\\/demo a cp:Cluster .\n").encode()
TEMPLATE = (REPO / "docs" / "examples" / "cluster-template.ttl").read_bytes()
TURTLE = {"Content-Type": "text/turtle"}


@pytest.fixture
def listener() -> Iterator[Listener]:
    listener = Listener("/context.jsonld")
    yield listener
    listener.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, backend: Backend) -> Iterator[LiveServer]:
    with backend.serve(
        REPO,
        tmp_path_factory.mktemp("validation") / "store",
        query_workers=1,
        validation_workers=2,
        validation_max_bytes=100_000,
        validation_max_triples=1_000,
    ) as live:
        yield live


def post(server: LiveServer, body: bytes, headers: dict[str, str] | None = None, **params):
    return httpx.post(
        f"{server.url}/validate",
        content=body,
        headers=headers or TURTLE,
        params=params,
        timeout=30,
    )


# Answers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "accept, format_param, expected",
    [
        pytest.param(None, None, "application/json", id="default-json"),
        pytest.param("text/turtle", None, "text/turtle", id="accept-turtle"),
        pytest.param("application/ld+json", None, "application/ld+json", id="accept-jsonld"),
        pytest.param("text/html,application/xhtml+xml;q=0.9", None, "text/html", id="browser"),
        pytest.param("text/html", "turtle", "text/turtle", id="format-beats-accept"),
    ],
)
def test_the_report_comes_in_the_format_asked_for(server, accept, format_param, expected) -> None:
    headers = dict(TURTLE)
    if accept:
        headers["Accept"] = accept
    params = {"format": format_param} if format_param else {}
    response = post(server, BAD, headers, **params)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == expected


@pytest.mark.parametrize(
    "rdf_format, accept", [("turtle", "text/turtle"), ("json-ld", "application/ld+json")]
)
def test_the_rdf_report_is_a_shacl_validation_report(server, rdf_format, accept) -> None:
    response = post(server, BAD, {**TURTLE, "Accept": accept})
    graph = Graph().parse(data=response.text, format=rdf_format)
    assert (None, SH.conforms, Literal(False)) in graph
    assert len(set(graph.subjects(None, SH.ValidationResult))) >= 3


def test_the_json_report_names_node_property_message_and_line(server) -> None:
    document = post(server, BAD).json()
    assert document["conforms"] is False
    assert document["triples"] == 1
    kind = next(r for r in document["results"] if r["path"].endswith("#clusterKind"))
    assert kind == {
        "severity": "Violation",
        "focusNode": "https://w3id.org/cluster-panorama/id/cluster/demo",
        "path": "https://w3id.org/cluster-panorama/def#clusterKind",
        "property": "cluster kind",
        "value": None,
        "message": kind["message"],
        "constraint": "MinCountConstraintComponent",
        "shape": "https://w3id.org/cluster-panorama/shapes#Cluster-clusterKind",
        "lines": [{"source": "submission", "line": 5}],
    }
    assert kind["message"].startswith("Give at least one cluster kind")


def test_the_template_conforms_over_http_too(server) -> None:
    document = post(server, TEMPLATE).json()
    assert (document["conforms"], document["violations"], document["warnings"]) == (True, 0, 0)


@pytest.mark.parametrize(
    "headers, params, expected",
    [
        pytest.param({"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}, {}, "de", id="header-de"),
        pytest.param({"Accept-Language": "fr, en;q=0.8"}, {}, "en", id="header-fallback"),
        pytest.param({"Accept-Language": "de"}, {"lang": "en"}, "en", id="param-beats-header"),
        pytest.param({}, {}, "en", id="default"),
    ],
)
def test_messages_come_in_the_language_asked_for(server, headers, params, expected) -> None:
    response = post(server, BAD, {**TURTLE, **headers}, **params)
    document = response.json()
    assert response.headers["content-language"] == expected
    kind = next(r for r in document["results"] if r["path"].endswith("#clusterKind"))
    assert kind["message"].startswith("Nenne" if expected == "de" else "Give")


def test_n_triples_are_accepted(server) -> None:
    body = (
        b"<https://w3id.org/cluster-panorama/id/cluster/demo> "
        b"<http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
        b"<https://w3id.org/cluster-panorama/def#Cluster> .\n"
    )
    response = post(server, body, {"Content-Type": "application/n-triples"})
    assert response.status_code == 200
    assert response.json()["results"][0]["lines"] == [{"source": "submission", "line": 1}]


def test_json_ld_with_an_inline_context_is_accepted(server) -> None:
    body = json.dumps(
        {
            "@context": {"cp": "https://w3id.org/cluster-panorama/def#"},
            "@id": "https://w3id.org/cluster-panorama/id/cluster/demo",
            "@type": "cp:Cluster",
        }
    ).encode()
    response = post(server, body, {"Content-Type": "application/ld+json"})
    assert response.status_code == 200
    assert response.json()["conforms"] is False


def test_a_syntax_error_is_a_400_naming_line_and_column(server) -> None:
    response = post(server, HEAD.encode() + b'id:x a cp:Cluster ;\n  rdfs:label "open\n')
    assert response.status_code == 400
    assert "line 5, column 14" in response.text


def test_a_character_xml_cannot_carry_is_a_400_naming_its_place(server) -> None:
    response = post(server, HEAD.encode() + b'id:x a cp:Cluster ;\n  rdfs:label "bell\\u0007" .\n')
    assert response.status_code == 400
    assert "Line 5, column 19" in response.text
    assert "U+0007, which XML cannot carry" in response.text


# The page -----------------------------------------------------------------------------------


def test_the_page_has_a_paste_box_and_an_upload_and_no_scripts(server) -> None:
    response = httpx.get(f"{server.url}/validate", headers={"Accept-Language": "de"})
    assert response.status_code == 200
    html = response.text
    assert 'enctype="multipart/form-data"' in html
    assert '<textarea id="validate-data" name="data"' in html
    assert 'type="file"' in html
    assert "<script" not in html
    assert "Beitrag prüfen" in html


def test_an_uploaded_file_gets_a_report_grouped_by_node_with_its_lines(server) -> None:
    response = httpx.post(
        f"{server.url}/validate",
        params={"format": "html"},
        files={"file": ("demo.ttl", BAD, "text/turtle")},
        data={"lang": "de", "syntax": "turtle"},
        timeout=30,
    )
    assert response.status_code == 200
    html = response.text
    assert html.count('<article class="finding-group">') == 1
    assert "<code>https://w3id.org/cluster-panorama/id/cluster/demo</code>" in html
    assert '<span class="line-number">5</span>  id:cluster\\/demo a cp:Cluster .' in html
    assert "Verstoß" in html
    assert "<script" not in html


def test_pasted_text_is_validated_like_a_body(server) -> None:
    response = httpx.post(
        f"{server.url}/validate",
        data={"data": TEMPLATE.decode(), "syntax": "turtle"},
        headers={"Accept": "application/json"},
        timeout=30,
    )
    assert response.json()["conforms"] is True


# Safety -------------------------------------------------------------------------------------


def test_a_remote_json_ld_context_is_refused_without_a_connection(server, listener) -> None:
    body = json.dumps({"@context": listener.url, "@id": "https://example.org/x"}).encode()
    response = post(server, body, {"Content-Type": "application/ld+json"})
    time.sleep(0.3)
    assert response.status_code == 400
    assert "inline" in response.text
    assert listener.connections == 0


def test_owl_imports_are_not_followed(server, listener) -> None:
    body = (
        f"<https://example.org/o> a <http://www.w3.org/2002/07/owl#Ontology> ;\n"
        f"  <http://www.w3.org/2002/07/owl#imports> <{listener.url}> .\n"
    ).encode()
    response = post(server, body)
    time.sleep(0.3)
    assert response.status_code == 200
    assert listener.connections == 0


def test_rdf_xml_with_an_entity_is_refused_before_parsing(server, tmp_path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET", encoding="utf-8")
    body = (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e SYSTEM "file://{secret}">]>'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="https://example.org/x"><rdf:value>&e;</rdf:value>'
        "</rdf:Description></rdf:RDF>"
    ).encode()
    response = post(server, body, {"Content-Type": "application/rdf+xml"})
    assert response.status_code == 415
    assert "TOP-SECRET" not in response.text


@pytest.mark.parametrize("as_form", [False, True], ids=["body", "form"])
def test_a_file_path_is_data_to_parse_never_a_file_to_read(server, tmp_path, as_form) -> None:
    secret = tmp_path / "secret.ttl"
    secret.write_text(HEAD + 'id:x rdfs:label "TOP-SECRET"@de .', encoding="utf-8")
    if as_form:
        response = httpx.post(f"{server.url}/validate", data={"data": str(secret)}, timeout=30)
    else:
        response = post(server, str(secret).encode())
    assert response.status_code == 400
    assert "syntax error" in response.text
    assert "TOP-SECRET" not in response.text


def test_a_body_over_the_size_limit_is_a_413(server) -> None:
    response = post(server, b"# " + b"x" * 120_000)
    assert response.status_code == 413
    assert "100,000 bytes" in response.text


def test_a_chunked_body_over_the_size_limit_is_a_413_too(server) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"#" + b"x" * 9_999 + b"\n"

    response = httpx.post(f"{server.url}/validate", content=chunks(), headers=TURTLE, timeout=30)
    assert response.status_code == 413


def test_too_many_triples_are_a_413(server) -> None:
    body = HEAD + "id:x <https://example.org/p> " + ", ".join(str(i) for i in range(1_200)) + " ."
    response = post(server, body.encode())
    assert response.status_code == 413
    assert "1,000 triples" in response.text


# Time and concurrency limits ----------------------------------------------------------------


def _big_submission(clusters: int) -> bytes:
    lines = [HEAD]
    for i in range(clusters):
        lines.append(
            f'id:cluster\\/c{i} a cp:Cluster ; rdfs:label "C {i}"@de, "C {i}"@en ;\n'
            f"  cp:clusterKind id:cluster-kind\\/network ; cp:region id:region\\/nrw ;\n"
            f"  cp:innovationField id:innovation-field\\/health-{i % 7} .\n"
        )
    return "".join(lines).encode()


def _exited(pid: int) -> bool:
    """Whether process ``pid`` has ended: gone, or a zombie its parent has not reaped yet.

    Asked in one call: between "does it exist" and "what is its status" the parent may
    reap it (the test failed so once).
    """
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_a_validation_past_its_time_is_stopped_and_others_are_turned_away(make_server) -> None:
    server = make_server(
        REPO,
        validation_workers=1,
        validation_queue=0,
        validation_timeout=1.0,
        validation_max_bytes=30_000_000,
        validation_max_triples=1_000_000,
    )
    app = server.app
    while not hasattr(app, "state"):  # uvicorn wraps the application in middleware
        app = app.app
    pool = app.state.validation.pool
    assert post(server, TEMPLATE).status_code == 200  # the worker is up
    [old_worker] = pool.pids
    slow: dict[str, httpx.Response] = {}
    thread = threading.Thread(
        target=lambda: slow.setdefault("response", post(server, _big_submission(40_000)))
    )
    thread.start()
    # Until the big submission reached the worker (reading it takes a while on a slow
    # machine); from then on the worker stays busy for the second of its time limit.
    deadline = time.monotonic() + 30
    while not pool.busy and time.monotonic() < deadline:
        time.sleep(0.01)
    assert pool.busy == 1
    busy = post(server, TEMPLATE)  # the only worker is busy and nobody may wait
    thread.join(timeout=60)
    assert busy.status_code == 503
    assert busy.headers["retry-after"] == "5"
    assert slow["response"].status_code == 422
    assert "stopped after 1 s" in slow["response"].text
    deadline = time.monotonic() + 5
    while not _exited(old_worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _exited(old_worker)
    assert pool.pids and pool.pids != [old_worker]
    assert post(server, TEMPLATE).json()["conforms"] is True  # the new worker answers
