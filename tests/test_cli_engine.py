"""The command line on a SPARQL engine: rollback, validate, backup and restore with --engine.

Each kind of engine (the native Oxigraph server, Virtuoso) comes from the session's
``EngineShelf``. One engine of each kind holds the repository's bundle and contributors'
versions for the whole module; backups are restored into a second one, emptied of every
graph for each test. The commands run through click's ``CliRunner``: the real entry
point, without starting a Python process for every call.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner, Result

from engines import Engine, EngineShelf, EngineUnavailable
from panorama import bundle
from panorama.cli import main
from panorama.contributions import Contributions
from panorama.engine_ledger import EngineLedger
from panorama.ledger import Contributor
from panorama.remote_store import RemoteStore
from panorama.store import QueryRequest

from support import REPO, engine_environ

BASE = "https://w3id.org/cluster-panorama/"
LEDGER = f"urn:x-panorama:ledger:{BASE}"
REVISION = "urn:x-panorama:revision"
ITS_OWL = BASE + "id/cluster/its-owl"
COMMENT = "http://www.w3.org/2000/01/rdf-schema#comment"
SEAT = BASE + "def#seat"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
#: ``RemoteStore.load`` sends this many triples a request: a backup longer than that is
#: partly written before a damage at its end is read.
LOAD_BATCH = 25_000


@dataclass
class Source:
    """The engine a module's commands run on, and its contributor's versions, oldest first."""

    engine: Engine
    store: RemoteStore
    versions: list[str]


@dataclass
class Backup:
    """A ``panorama backup --engine`` of the source, with what the source held at the time."""

    folder: Path
    result: Result
    quads: set[ox.Quad]
    versions: str  # ``contributions list``


def panorama(engine: Engine | None, *args: str) -> Result:
    """``panorama ARGS``, on ``engine`` (its three URLs, its credentials) when one is given."""
    options = [] if engine is None else engine.cli_options
    environ = {"PANORAMA_BUNDLE": str(REPO), **(engine_environ(engine) if engine else {})}
    result = CliRunner().invoke(main, [*args, *options], env=environ)
    # An exception the command did not turn into a message exits 1 too: never expected.
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def open_store(engine: Engine) -> RemoteStore:
    return RemoteStore.connect(
        engine.query_url,
        base_iri=BASE,
        update_url=engine.update_url,
        store_url=engine.store_url,
        environ=engine_environ(engine),
    )


def profile(*lines: str) -> bytes:
    """A contribution about it's OWL: one statement a line, in N-Triples."""
    return "".join(f"<{ITS_OWL}> {line} .\n" for line in lines).encode()


def comments(store: RemoteStore, contributor: str) -> set[str]:
    graph = f"{BASE}graph/contributions/{contributor}"
    rows = store.select(
        QueryRequest(
            f"SELECT ?c WHERE {{ GRAPH <{graph}> {{ ?s <{COMMENT}> ?c }} }}",
            union_default_graph=False,
        )
    )
    return {str(row["c"]) for row in rows}


def accept(store: RemoteStore, contributor: str, data: bytes) -> str:
    """Accept ``data`` as the contributor's new version, as the server does once it is valid."""
    desk = Contributions(store, EngineLedger(store))
    who = Contributor(contributor, "2026-11-27T00:00:00Z", None)
    return desk.accept(who, data, "application/n-triples", triples=1, report="{}").version.id


def region_graph(store: RemoteStore, name: str) -> str:
    """A data graph in the engine (not in the bundle) that makes ``name`` a region."""
    graph = f"{BASE}graph/data/test-{name}.ttl"
    store.replace_graph(
        graph,
        f'<{BASE}id/region/{name}> a <{BASE}def#Region> ; <{COMMENT}> "{name}" .'.encode(),
        "ttl",
    )
    return graph


def _term(binding: dict[str, str]) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    value = binding["value"]
    if binding["type"] == "uri":
        return ox.NamedNode(value)
    if binding["type"] == "bnode":
        return ox.BlankNode(value.removeprefix("nodeID://"))  # Virtuoso's labels
    if "xml:lang" in binding:
        return ox.Literal(value, language=binding["xml:lang"])
    datatype = binding.get("datatype", XSD_STRING)
    return ox.Literal(value, datatype=ox.NamedNode(datatype))


def held_quads(engine: Engine) -> set[ox.Quad]:
    """Every quad of the Panorama graphs on the engine, the ledger's too, blank nodes canonical.

    Read with one query of our own, not the store's dump that the backup uses, so that a
    graph the backup left out would show. The revision token is left out: writes replace it.
    """
    dataset = ox.Dataset(
        ox.Quad(_term(row["s"]), _term(row["p"]), _term(row["o"]), ox.NamedNode(row["g"]["value"]))
        for row in engine.select("SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }")
        if (row["g"]["value"].startswith(BASE) or row["g"]["value"] == LEDGER)
        and row["p"]["value"] != REVISION
    )
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return set(dataset)


def written_state(source: Source) -> tuple[str, int]:
    """The revision token and the number of quads in all graphs: what any write would move.

    Every write through ``RemoteStore`` replaces the token. Cheaper than ``held_quads``,
    which takes Virtuoso 0.6 s.
    """
    (row,) = source.store.select(
        QueryRequest(
            "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }", union_default_graph=False
        )
    )
    return source.store.revision(), int(str(row["n"]))


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["oxigraph", "virtuoso"])
def kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def source(kind: str, engine_shelf: EngineShelf) -> Iterator[Source]:
    """An engine with the bundle, a token for its-owl, and two versions of its graph."""
    try:
        with engine_shelf.lease(kind) as engine:
            store = open_store(engine)
            try:
                bundle.sync(store, REPO)
                made = panorama(engine, "token", "create", "its-owl")
                assert made.exit_code == 0, made.output
                versions = [
                    accept(store, "its-owl", profile(f'<{COMMENT}> "{text}"@de'))
                    for text in ("eins", "zwei")
                ]
                yield Source(engine, store, versions)
            finally:
                store.close()
    except EngineUnavailable as error:
        pytest.fail(str(error), pytrace=False)  # CI installs both engines


@pytest.fixture
def fresh_engine(kind: str, engine_shelf: EngineShelf) -> Iterator[Engine]:
    """An engine of the source's kind without any Panorama graph (nor any other)."""
    with engine_shelf.lease(kind) as engine:
        yield engine


@pytest.fixture(scope="module")
def backup(source: Source, tmp_path_factory: pytest.TempPathFactory) -> Backup:
    folder = tmp_path_factory.mktemp("backups") / "engine"
    result = panorama(source.engine, "backup", str(folder))
    assert result.exit_code == 0, result.output
    listed = panorama(source.engine, "contributions", "list")
    return Backup(folder, result, held_quads(source.engine), listed.stdout)


# --- contributions rollback --engine ---------------------------------------------------------


def test_rollback_on_an_engine_restores_the_old_triples_and_records_a_version(
    source: Source,
) -> None:
    first = source.versions[0]
    latest = EngineLedger(source.store).latest("its-owl")
    assert latest is not None

    result = panorama(source.engine, "contributions", "rollback", first)

    assert result.exit_code == 0, result.output
    assert f"Restored {first} as " in result.stderr
    assert comments(source.store, "its-owl") == {"eins"}
    newest = panorama(source.engine, "contributions", "list").stdout.splitlines()[0].split("\t")
    assert newest[1:2] + newest[4:] == ["its-owl", f"Restores {first}"]
    version = EngineLedger(source.store).version(newest[0])
    assert version is not None
    assert (version.restores, version.replaces) == (first, latest.id)


def test_rollback_checks_the_version_against_the_engine_reference_data(source: Source) -> None:
    # Bielefeld is a region in the engine only, not in the bundle.
    places = region_graph(source.store, "bielefeld")
    seated = accept(source.store, "clib", profile(f"<{SEAT}> <{BASE}id/region/bielefeld>"))
    accept(source.store, "clib", profile(f'<{COMMENT}> "später"@de'))

    restored = panorama(source.engine, "contributions", "rollback", seated)
    assert restored.exit_code == 0, restored.output

    source.store.drop_graph(places)
    before = panorama(source.engine, "contributions", "list").stdout
    refused = panorama(source.engine, "contributions", "rollback", seated)
    assert refused.exit_code == 1
    assert f"{seated} no longer conforms to the shapes (1 violation(s), above)" in refused.stderr
    assert "nothing was changed" in refused.stderr
    assert panorama(source.engine, "contributions", "list").stdout == before


# --- validate --engine -----------------------------------------------------------------------


def test_validate_on_an_engine_checks_links_against_the_engine_data(
    source: Source, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    region_graph(source.store, "guetersloh")  # in the engine only, not in the bundle
    submission = tmp_path / "seat.nt"
    submission.write_bytes(profile(f"<{SEAT}> <{BASE}id/region/guetersloh>"))

    on_engine = panorama(source.engine, "validate", str(submission))
    with_bundle = panorama(None, "validate", str(submission))

    assert on_engine.exit_code == 0, on_engine.output
    assert f"the SPARQL engine at {source.engine.query_url}" in on_engine.stderr
    # Virtuoso's month counts for xsd:duration are no crash to show (docs/engines.md).
    assert not [r for r in caplog.records if r.name == "rdflib.term"], caplog.text
    assert with_bundle.exit_code == 1
    assert "cp:Region" in with_bundle.stdout


# --- backup --engine and restore --engine ----------------------------------------------------


def test_backup_then_restore_into_a_fresh_engine_gives_the_same_quads_and_ledger(
    backup: Backup, fresh_engine: Engine
) -> None:
    assert sorted(p.name for p in backup.folder.parent.iterdir()) == ["engine"]  # no leftovers
    assert sorted(p.name for p in backup.folder.iterdir()) == ["dataset.nq", "panorama-backup.json"]
    assert "dataset.nq" in backup.result.stderr  # the progress bar's label
    assert f"Restore it with `panorama restore {backup.folder} --engine" in backup.result.stderr

    restored = panorama(fresh_engine, "restore", str(backup.folder))

    assert restored.exit_code == 0, restored.output
    assert "Start servers on it with `panorama serve --engine" in restored.stderr
    assert held_quads(fresh_engine) == backup.quads
    tokens = panorama(fresh_engine, "token", "list").stdout
    assert tokens.startswith("its-owl\t") and "active" in tokens
    assert panorama(fresh_engine, "contributions", "list").stdout == backup.versions


def test_restore_into_an_engine_with_panorama_data_exits_1_and_changes_nothing(
    source: Source, backup: Backup
) -> None:
    before = held_quads(source.engine), source.store.revision()

    refused = panorama(source.engine, "restore", str(backup.folder))

    assert refused.exit_code == 1
    assert "holds Cluster-Panorama data already" in refused.stderr
    assert "nothing was restored" in refused.stderr
    assert (held_quads(source.engine), source.store.revision()) == before


def test_restore_into_an_engine_that_holds_only_a_ledger_is_refused(
    backup: Backup, fresh_engine: Engine
) -> None:
    assert panorama(fresh_engine, "token", "create", "clib").exit_code == 0

    refused = panorama(fresh_engine, "restore", str(backup.folder))

    assert refused.exit_code == 1
    assert "(a contribution ledger)" in refused.stderr
    assert panorama(fresh_engine, "contributions", "list").stdout == ""


@pytest.mark.parametrize(
    "filler, undone",
    [
        pytest.param(0, False, id="damaged-in-the-first-batch"),
        # More than a batch of quads before the damage: one is written before it is read.
        pytest.param(LOAD_BATCH, True, id="damaged-after-a-batch-was-written"),
    ],
)
def test_a_damaged_backup_leaves_the_engine_without_panorama_data(
    backup: Backup, fresh_engine: Engine, tmp_path: Path, filler: int, undone: bool
) -> None:
    damaged = tmp_path / "damaged"
    shutil.copytree(backup.folder, damaged)
    with (damaged / "dataset.nq").open("a") as data:
        for i in range(filler):
            data.write(f'<{BASE}id/filler/{i}> <{COMMENT}> "{i}" <{BASE}graph/filler> .\n')
        data.write("<broken\n")

    failed = panorama(fresh_engine, "restore", str(damaged))

    assert failed.exit_code == 1
    assert "syntax error" in failed.stderr
    assert "Nothing was restored" in failed.stderr
    assert ("what had been loaded was removed again" in failed.stderr) is undone
    assert held_quads(fresh_engine) == set()
    again = panorama(fresh_engine, "restore", str(backup.folder))
    assert again.exit_code == 0, again.output


# --- what the user got wrong -----------------------------------------------------------------


def no_folder(folder: Path) -> None:
    pass


def empty_folder(folder: Path) -> None:
    folder.mkdir()


def store_backup(folder: Path) -> None:
    (folder / "oxigraph").mkdir(parents=True)
    (folder / "oxigraph" / "CURRENT").touch()


def other_base_backup(folder: Path) -> None:
    folder.mkdir()
    (folder / "dataset.nq").touch()
    manifest = {"base_iri": "https://example.org/", "quads": 0}
    (folder / "panorama-backup.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize(
    "make, command, status, words",
    [
        pytest.param(
            no_folder,
            ["contributions", "rollback", "no-such-version"],
            1,
            "There is no contribution 'no-such-version'",
            id="rollback-unknown-version",
        ),
        pytest.param(
            empty_folder,
            ["backup", "{folder}"],
            1,
            "exists; give a new directory",
            id="backup-into-existing-folder",
        ),
        pytest.param(
            empty_folder,
            ["restore", "{folder}"],
            1,
            "is not a backup made by `panorama backup --engine`",
            id="restore-from-not-a-backup",
        ),
        pytest.param(
            store_backup,
            ["restore", "{folder}"],
            1,
            "is the backup of a store directory: restore it with --store DIR",
            id="restore-store-backup-into-engine",
        ),
        pytest.param(
            other_base_backup,
            ["restore", "{folder}"],
            1,
            "set PANORAMA_BASE_IRI=https://example.org/ to restore it",
            id="restore-other-base-iri",
        ),
        pytest.param(
            no_folder,
            ["backup", "{folder}", "--store", "{folder}"],
            2,
            "Give either --engine or --store, not both.",
            id="store-and-engine",
        ),
    ],
)
def test_what_the_user_got_wrong_is_said_and_changes_nothing(
    source: Source,
    tmp_path: Path,
    make: Callable[[Path], None],
    command: list[str],
    status: int,
    words: str,
) -> None:
    folder = tmp_path / "backup"
    make(folder)
    before = written_state(source)

    result = panorama(source.engine, *(part.format(folder=folder) for part in command))

    assert result.exit_code == status, result.output
    assert words in result.stderr
    assert written_state(source) == before


def test_validate_says_when_the_engine_cannot_be_asked(tmp_path: Path) -> None:
    submission = tmp_path / "ok.nt"
    submission.write_bytes(profile(f'<{COMMENT}> "gut"@de'))
    nobody = "http://127.0.0.1:9/query"

    result = panorama(None, "validate", str(submission), "--engine", nobody)

    assert result.exit_code == 2  # not 1: that would say it does not conform
    assert f"Cannot reach the SPARQL engine at {nobody}" in result.stderr
