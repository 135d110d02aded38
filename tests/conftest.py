"""Fixtures: settings over small test bundles, and real uvicorn servers on free ports.

Every server fixture runs on each backend (``support.BACKENDS``): the embedded store, and
the native Oxigraph server and Virtuoso through ``--engine``. A test that depends on
``backend`` (through ``server``, ``example_server``, ``make_server`` or ``serve``) runs
once per backend; ``@pytest.mark.embedded_only("reason")`` keeps a test (or a module,
with ``pytestmark``) to the embedded store when it is about that store by nature.
The engines start once per session (``engines.EngineShelf``), and each server gets one
with none of another server's graphs.
``--backends embedded`` (any comma-separated subset) runs fewer, while working on a test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from engines import EngineShelf, start_oxigraph, start_virtuoso

from support import (
    BACKENDS,
    EXAMPLE_TTL,
    EXTRA_TTL,
    REPO,
    Backend,
    LiveServer,
    write_bundle,
)

#: How the session's engines are started. Virtuoso's row limit is above every answer of
#: the shared tests (a million rows); its cut at a lower limit is tested in
#: test_engine_serving.py and test_remote_store.py, on engines of their own. The native
#: Oxigraph server goes on with a query its client left until its own timeout: 8 s keeps
#: the queries the tests abandon from taking a core for long.
SHELF_STARTERS = {
    "oxigraph": lambda folder: start_oxigraph(folder, query_timeout=8),
    "virtuoso": lambda folder: start_virtuoso(folder, max_rows=2_000_000),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backends",
        default=",".join(BACKENDS),
        help=f"comma-separated backends the server tests run on (default: all of {BACKENDS})",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "embedded_only(reason): the test is about the embedded store; it runs on that "
        "backend only, for the reason given",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" not in metafunc.fixturenames:
        return
    chosen = [
        name for name in metafunc.config.getoption("--backends").split(",") if name in BACKENDS
    ]
    marker = metafunc.definition.get_closest_marker("embedded_only")
    if marker is not None:
        if not (marker.args and str(marker.args[0]).strip()):
            raise pytest.UsageError(f"{metafunc.definition.nodeid}: embedded_only needs a reason")
        chosen = [name for name in chosen if name == "embedded"]
    metafunc.parametrize("backend", chosen, indirect=True, scope="module")


@pytest.fixture(scope="session")
def engine_shelf(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineShelf]:
    shelf = EngineShelf(tmp_path_factory.mktemp("engines"), SHELF_STARTERS)
    yield shelf
    shelf.stop()


@pytest.fixture(scope="module")
def backend(request: pytest.FixtureRequest, engine_shelf: EngineShelf) -> Backend:
    """The backend this module's servers run on (parametrised by ``pytest_generate_tests``)."""
    return Backend(request.param, engine_shelf)


@pytest.fixture
def example_bundle(tmp_path: Path) -> Path:
    return write_bundle(
        tmp_path / "bundle", {"data/example.ttl": EXAMPLE_TTL, "data/extra.ttl": EXTRA_TTL}
    )


@pytest.fixture
def make_server(tmp_path: Path, backend: Backend) -> Iterator[Callable[..., LiveServer]]:
    """Start servers over a store in ``tmp_path`` (or on an engine); all stop after the test."""
    started: list = []

    def start(bundle: Path, **overrides: object) -> LiveServer:
        options: dict[str, object] = {"query_workers": 2}
        options.update(overrides)
        store = Path(options.pop("store", tmp_path / "store"))  # type: ignore[arg-type]
        serving = backend.serve(bundle, store, **options)
        started.append(serving)
        return serving.__enter__()

    yield start
    for serving in reversed(started):
        serving.__exit__(None, None, None)


@pytest.fixture(scope="module")
def example_server(
    tmp_path_factory: pytest.TempPathFactory, backend: Backend
) -> Iterator[LiveServer]:
    """One read-only server over the example bundle for a whole module.

    Sharing is safe: nothing reachable over HTTP here can change the store.
    """
    root = tmp_path_factory.mktemp("example")
    bundle = write_bundle(
        root / "bundle", {"data/example.ttl": EXAMPLE_TTL, "data/extra.ttl": EXTRA_TTL}
    )
    with backend.serve(bundle, root / "store", query_workers=2, query_timeout=20) as server:
        yield server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, backend: Backend) -> Iterator[LiveServer]:
    """A server over the repository's own bundle, for one module's read-only tests."""
    store = tmp_path_factory.mktemp("repo") / "store"
    with backend.serve(REPO, store, query_workers=2) as live:
        yield live
