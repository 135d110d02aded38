"""Contributions: validated, attributed, reversible, durable; every refusal leaves no trace."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from rdflib import Graph, URIRef

from panorama import backends
from panorama.ledger import ContributionLedger, Ledger

from support import REPO, Backend, LiveServer, engine_environ

BASE = "https://w3id.org/cluster-panorama/"
ITS_OWL = BASE + "id/cluster/its-owl"
PROV = "http://www.w3.org/ns/prov#"
PANORAMA = str(Path(sys.executable).parent / "panorama")
COMMENT = "http://www.w3.org/2000/01/rdf-schema#comment"


def profile(*comments: str) -> bytes:
    """A conforming contribution: comments on it's OWL."""
    lines = [f'<{ITS_OWL}> <{COMMENT}> "{text}"@de .' for text in comments]
    return ("\n".join(lines) + "\n").encode()


NOT_CONFORMING = f"""@prefix cp: <{BASE}def#> .
<{BASE}id/cluster/new-one> a cp:Cluster ;
    cp:innovationField <{BASE}id/innovation-field/nonsense> .
""".encode()


def sparql(url: str, query: str) -> list[dict[str, str]]:
    response = httpx.get(f"{url}/sparql", params={"query": query}, timeout=30)
    assert response.status_code == 200, response.text
    return [
        {name: value["value"] for name, value in row.items()}
        for row in response.json()["results"]["bindings"]
    ]


def graph_of(contributor: str) -> str:
    return f"{BASE}graph/contributions/{contributor}"


def graph_comments(url: str, contributor: str = "its-owl") -> set[str]:
    graph = graph_of(contributor)
    rows = sparql(url, f"SELECT ?c WHERE {{ GRAPH <{graph}> {{ <{ITS_OWL}> <{COMMENT}> ?c }} }}")
    return {row["c"] for row in rows}


def total_triples(url: str) -> int:
    rows = sparql(url, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
    return int(rows[0]["n"])


def post(url: str, body: bytes, token: str | None, **options: object) -> httpx.Response:
    headers = {"Content-Type": "text/turtle", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    headers.update(options.pop("headers", {}))  # type: ignore[arg-type]
    return httpx.post(f"{url}/contributions", content=body, headers=headers, timeout=60, **options)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, backend: Backend) -> Iterator[LiveServer]:
    """One server per backend for the module's HTTP tests.

    Sharing is safe because each test writes only the graph of a contributor of its own
    (``contributor``), and counts what it changed against what it saw first.
    """
    store = tmp_path_factory.mktemp("contributions") / "store"
    with backend.serve(REPO, store, query_workers=1) as live:
        yield live


@pytest.fixture(scope="module")
def ledger(server: LiveServer) -> Iterator[ContributionLedger]:
    """The server's ledger, opened beside it as ``panorama token …`` opens it."""
    if server.engine is None:
        assert server.settings.store is not None
        yield Ledger(server.settings.store / "ledger.sqlite3")
        return
    # On an engine: a connection of its own, whose writes the server learns by revision.
    store = backends.open_store(server.settings, environ=engine_environ(server.engine))
    try:
        yield backends.open_ledger(store)
    finally:
        store.close()


_CONTRIBUTORS = itertools.count(1)


@pytest.fixture
def contributor() -> str:
    """A contributor name no other test of the shared server has used."""
    return f"test-{next(_CONTRIBUTORS)}"


# Accepting ----------------------------------------------------------------------------------


def test_a_conforming_contribution_becomes_the_contributors_graph(
    server: LiveServer, ledger: ContributionLedger, contributor: str
) -> None:
    token = ledger.create_contributor(contributor)
    body = profile("Technologie-Netzwerk OWL")
    response = post(server.url, body, token, params={"message": "profile"})
    assert response.status_code == 201, response.text
    answer = response.json()
    assert response.headers["location"] == f"/contributions/{answer['id']}"
    assert answer["graph"] == graph_of(contributor) and answer["triples"] == 1
    assert graph_comments(server.url, contributor) == {"Technologie-Netzwerk OWL"}

    # PROV-O: agent, time, checksum, size.
    iri = answer["iri"]
    prov = Graph().parse(
        data=httpx.get(
            f"{server.url}/contributions/{answer['id']}", headers={"Accept": "text/turtle"}
        ).text,
        format="turtle",
    )
    assert (
        URIRef(iri),
        URIRef(PROV + "wasAttributedTo"),
        URIRef(BASE + f"id/contributor/{contributor}"),
    ) in prov
    assert prov.value(URIRef(iri), URIRef(PROV + "generatedAtTime")) is not None
    checksum = prov.value(URIRef(iri), URIRef("http://spdx.org/rdf/terms#checksum"))
    value = prov.value(checksum, URIRef("http://spdx.org/rdf/terms#checksumValue"))
    assert str(value) == hashlib.sha256(body).hexdigest()
    assert int(prov.value(URIRef(iri), URIRef("http://www.w3.org/ns/dcat#byteSize"))) == len(body)

    # The entity page cites the contribution next to the brief.
    page = httpx.get(f"{server.url}/id/cluster/its-owl", params={"lang": "de"}).text
    assert "Technologie-Netzwerk OWL" in page
    assert re.search(rf"Beitrag von {contributor} \(\d{{4}}-\d\d-\d\d\)", page)
    assert "Abschnitt 2" in page


def test_versions_stay_retrievable_and_a_rollback_restores_one(
    server: LiveServer, ledger: ContributionLedger, contributor: str
) -> None:
    token = ledger.create_contributor(contributor)
    first = post(server.url, profile("erste Fassung"), token).json()
    second = post(server.url, profile("zweite Fassung"), token).json()
    assert second["replaces"] == first["id"]
    assert graph_comments(server.url, contributor) == {"zweite Fassung"}
    old = httpx.get(f"{server.url}/contributions/{first['id']}/content")
    assert old.text.strip() == profile("erste Fassung").decode().strip()
    listed = httpx.get(f"{server.url}/contributions", headers={"Accept": "application/json"}).json()
    # Newest first: these two lead the list, ahead of earlier tests' versions.
    assert [c["id"] for c in listed["contributions"][:2]] == [second["id"], first["id"]]
    assert [c["id"] for c in listed["contributions"] if c["contributor"] == contributor] == [
        second["id"],
        first["id"],
    ]

    restored = httpx.post(
        f"{server.url}/contributions/{first['id']}/rollback",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert restored.status_code == 201, restored.text
    assert restored.json()["restores"] == first["id"]
    assert restored.json()["replaces"] == second["id"]
    assert graph_comments(server.url, contributor) == {"erste Fassung"}


def test_two_contributions_at_once_are_serialised_and_neither_is_lost(
    server: LiveServer, ledger: ContributionLedger, contributor: str
) -> None:
    token = ledger.create_contributor(contributor)
    answers: list[httpx.Response] = []

    def send(text: str) -> None:
        answers.append(post(server.url, profile(*(f"{text} {i}" for i in range(2000))), token))

    threads = [threading.Thread(target=send, args=(name,)) for name in ("A", "B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [201, 201]
    first, second = sorted((a.json() for a in answers), key=lambda a: a["created"])
    assert second["replaces"] == first["id"]  # the chain saw both
    comments = graph_comments(server.url, contributor)
    assert len(comments) == 2000
    assert len({c.split()[0] for c in comments}) == 1  # one whole version, never a mix
    assert {v.id for v in ledger.versions(contributor)} == {first["id"], second["id"]}


def test_the_web_form_contributes_with_the_token_in_a_field(
    server: LiveServer, ledger: ContributionLedger, contributor: str
) -> None:
    token = ledger.create_contributor(contributor)
    form = httpx.get(f"{server.url}/contributions/new")
    assert form.status_code == 200 and 'name="token"' in form.text
    response = httpx.post(
        f"{server.url}/contributions",
        data={"token": token, "syntax": "text/turtle", "data": profile("per Formular").decode()},
    )
    assert response.status_code == 201
    assert "Angenommen" in response.text or "Accepted" in response.text
    assert graph_comments(server.url, contributor) == {"per Formular"}


# Refusing: each a clear 4xx, and the store unchanged -----------------------------------------


@pytest.mark.parametrize(
    "case, status, fragment",
    [
        ("no-token", 401, "Bearer"),
        ("wrong-token", 401, "not valid"),
        ("others-graph", 403, "may write only its own graph"),
        ("bundled-graph", 403, "may write only its own graph"),
        ("malformed", 400, "line 2"),
        ("not-conforming", 422, "violation"),
        ("too-large", 413, "limit"),
        ("wrong-type", 415, "text/turtle"),
        ("triple-term", 400, "triple terms"),
        ("control-character", 400, "U+0007, which XML cannot carry"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    server: LiveServer,
    ledger: ContributionLedger,
    contributor: str,
    case: str,
    status: int,
    fragment: str,
) -> None:
    token = ledger.create_contributor(contributor)
    other = f"{contributor}-other"
    ledger.create_contributor(other)
    assert post(server.url, profile("vorher"), token).status_code == 201
    before = total_triples(server.url)
    versions_before = len(ledger.versions())
    body, secret, options = profile("nachher"), token, {}
    if case == "no-token":
        secret = None
    elif case == "wrong-token":
        secret = "not-a-token"
    elif case == "others-graph":
        options = {"params": {"graph": graph_of(other)}}
    elif case == "bundled-graph":
        options = {"params": {"graph": BASE + "graph/data/brief/section-2"}}
    elif case == "malformed":
        body = profile("gut") + b"<https://example.org/a> <https://example.org/b> .\n"
    elif case == "not-conforming":
        body = NOT_CONFORMING
    elif case == "too-large":
        body = b"#" * (5 * 1024 * 1024 + 10)
    elif case == "triple-term":
        body = f"<{ITS_OWL}> <urn:x:p> <<( <urn:a> <urn:b> <urn:c> )>> .".encode()
    elif case == "control-character":
        body = profile("gut").replace(b'"gut"', b'"gut\\u0007"')
    elif case == "wrong-type":
        options = {"headers": {"Content-Type": "application/rdf+xml"}}
    response = post(server.url, body, secret, **options)
    assert response.status_code == status, response.text[:300]
    assert fragment in response.text
    if status == 422:
        report = response.json()["report"]
        assert report["conforms"] is False and report["violations"] >= 1
        assert any(r["lines"] for r in report["results"])  # findings point at lines
    assert total_triples(server.url) == before
    assert graph_comments(server.url, contributor) == {"vorher"}
    assert graph_comments(server.url, other) == set()
    assert len(ledger.versions()) == versions_before
    assert len(ledger.versions(contributor)) == 1


def test_a_revoked_token_stops_working_at_once(
    server: LiveServer, ledger: ContributionLedger, contributor: str
) -> None:
    token = ledger.create_contributor(contributor)
    assert post(server.url, profile("a"), token).status_code == 201
    ledger.revoke(contributor)
    assert post(server.url, profile("b"), token).status_code == 401


def test_reads_stay_public_and_sparql_update_is_still_refused(
    server: LiveServer, ledger: ContributionLedger, contributor: str
) -> None:
    token = ledger.create_contributor(contributor)
    version = post(server.url, profile("a"), token).json()["id"]
    for path in ("/contributions", f"/contributions/{version}", f"/contributions/{version}/report"):
        assert httpx.get(server.url + path).status_code == 200
    update = httpx.post(
        f"{server.url}/sparql",
        content=f"DROP GRAPH <{graph_of(contributor)}>",
        headers={"Content-Type": "application/sparql-update", "Authorization": f"Bearer {token}"},
    )
    assert update.status_code == 403
    assert graph_comments(server.url, contributor) == {"a"}


# Nothing lost: real server processes --------------------------------------------------------


class Served:
    """``panorama serve`` as a child process over a store directory."""

    def __init__(self, store: Path) -> None:
        self.process = subprocess.Popen(
            [PANORAMA, "serve", "--store", str(store), "--port", "0", "--query-workers", "1"],
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PANORAMA_BUNDLE": str(REPO)},
        )
        assert self.process.stderr is not None
        self.url = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not self.url:
            line = self.process.stderr.readline()
            if not line:
                break
            found = re.search(r"Serving (http://\S+)/ ", line)
            self.url = found.group(1) if found else ""
        assert self.url, "panorama serve did not start"
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        # Keep reading what it prints, so it never blocks on a full pipe.
        threading.Thread(target=self.process.stderr.read, daemon=True).start()

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)


@pytest.mark.embedded_only(
    "SIGKILL of `panorama serve` over a store directory and its SQLite ledger"
)
def test_a_201_survives_sigkill_right_after_the_answer(tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    token = Ledger(store / "ledger.sqlite3").create_contributor("its-owl")
    served = Served(store)
    response = post(served.url, profile("dauerhaft"), token)
    served.kill()  # at once, no shutdown
    assert response.status_code == 201
    again = Served(store)
    try:
        assert graph_comments(again.url) == {"dauerhaft"}
        listed = httpx.get(f"{again.url}/contributions", headers={"Accept": "application/json"})
        assert [c["id"] for c in listed.json()["contributions"]] == [response.json()["id"]]
    finally:
        again.kill()


@pytest.mark.embedded_only(
    "SIGKILL during ingest into the embedded store, restarted on its directory"
)
def test_a_crash_during_ingest_leaves_the_old_version_never_a_mix(tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    token = Ledger(store / "ledger.sqlite3").create_contributor("its-owl")
    served = Served(store)
    assert post(served.url, profile("alt"), token).status_code == 201
    big = profile(*(f"neu {i}" for i in range(40_000)))
    outcomes = set()
    for delay in (0.05, 0.3, 0.8, 1.5):
        sender = threading.Thread(target=_send_quietly, args=(served.url, big, token))
        sender.start()
        time.sleep(delay)
        served.kill()
        sender.join()
        served = Served(store)
        comments = graph_comments(served.url)
        assert comments == {"alt"} or len(comments) == 40_000, len(comments)
        outcomes.add("old" if comments == {"alt"} else "new")
        if comments != {"alt"}:
            assert post(served.url, profile("alt"), token).status_code == 201
    served.kill()
    assert "old" in outcomes  # at least one kill really landed during ingest


def _send_quietly(url: str, body: bytes, token: str) -> None:
    # The server is killed under this request: its connection error is expected.
    with contextlib.suppress(httpx.HTTPError):
        post(url, body, token)


@pytest.mark.embedded_only("`panorama backup`/`restore` copy a store directory and its ledger")
def test_backup_and_restore_round_trip(tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    token = Ledger(store / "ledger.sqlite3").create_contributor("its-owl")
    served = Served(store)
    try:
        version = post(served.url, profile("gesichert"), token).json()["id"]
        triples = total_triples(served.url)
        saved = subprocess.run(
            [PANORAMA, "backup", str(tmp_path / "backup"), "--store", str(store)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert saved.returncode == 0, saved.stderr
    finally:
        served.kill()
    restored = subprocess.run(
        [PANORAMA, "restore", str(tmp_path / "backup"), "--store", str(tmp_path / "copy")],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PANORAMA_BUNDLE": str(REPO)},
    )
    assert restored.returncode == 0, restored.stderr
    copy = Served(tmp_path / "copy")
    try:
        assert total_triples(copy.url) == triples
        assert graph_comments(copy.url) == {"gesichert"}
        content = httpx.get(f"{copy.url}/contributions/{version}/content")
        assert content.status_code == 200 and "gesichert" in content.text
        # The token came along, so the contributor can go on.
        assert post(copy.url, profile("weiter"), token).status_code == 201
    finally:
        copy.kill()


@pytest.mark.embedded_only("`panorama token --store` on the SQLite ledger beside a running server")
def test_token_commands_work_while_the_server_runs(tmp_path: Path) -> None:
    store = tmp_path / "store"
    served = Served(store)
    try:
        created = subprocess.run(
            [PANORAMA, "token", "create", "clib", "--store", str(store)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert created.returncode == 0, created.stderr
        token = created.stdout.strip()
        # A new token works at once, for its own graph.
        assert post(served.url, profile("von CLIB"), token).status_code == 201
        listed = subprocess.run(
            [PANORAMA, "token", "list", "--store", str(store)], capture_output=True, text=True
        )
        assert listed.stdout.startswith("clib\t") and "active" in listed.stdout
        assert token not in listed.stdout
        revoked = subprocess.run(
            [PANORAMA, "token", "revoke", "clib", "--store", str(store)],
            capture_output=True,
            text=True,
        )
        assert revoked.returncode == 0
        assert post(served.url, profile("x"), token).status_code == 401
    finally:
        served.kill()


@pytest.mark.embedded_only("`contributions rollback --store` on a stopped server's store directory")
def test_contribute_command_and_offline_rollback(tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    token = Ledger(store / "ledger.sqlite3").create_contributor("its-owl")
    first_file, second_file = tmp_path / "a.ttl", tmp_path / "b.nt"
    first_file.write_bytes(profile("eins"))
    second_file.write_bytes(profile("zwei"))
    served = Served(store)
    try:
        sent = subprocess.run(
            [PANORAMA, "contribute", str(first_file), "--url", served.url, "--token", token],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert sent.returncode == 0, sent.stderr
        first = re.search(r'"id":"([^"]+)"', sent.stdout.replace(" ", "")).group(1)  # type: ignore[union-attr]
        assert (
            subprocess.run(
                [PANORAMA, "contribute", str(second_file), "--url", served.url, "--token", token],
                capture_output=True,
                timeout=60,
            ).returncode
            == 0
        )
        bad = tmp_path / "bad.ttl"
        bad.write_bytes(NOT_CONFORMING)
        refused = subprocess.run(
            [PANORAMA, "contribute", str(bad), "--url", served.url, "--token", token],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert refused.returncode == 1
    finally:
        served.kill()
    rolled = subprocess.run(
        [PANORAMA, "contributions", "rollback", first, "--store", str(store)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PANORAMA_BUNDLE": str(REPO)},
    )
    assert rolled.returncode == 0, rolled.stderr
    served = Served(store)
    try:
        assert graph_comments(served.url) == {"eins"}
    finally:
        served.kill()
