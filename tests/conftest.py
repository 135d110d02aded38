"""Fixtures: settings over small test bundles, and real uvicorn servers on free ports."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from panorama.config import Settings

from support import EXAMPLE_TTL, EXTRA_TTL, REPO, LiveServer, write_bundle


@pytest.fixture
def example_bundle(tmp_path: Path) -> Path:
    return write_bundle(
        tmp_path / "bundle", {"data/example.ttl": EXAMPLE_TTL, "data/extra.ttl": EXTRA_TTL}
    )


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Start servers over a store in ``tmp_path``; all are stopped after the test."""
    started: list[LiveServer] = []

    def start(bundle: Path, **overrides: object) -> LiveServer:
        options: dict[str, object] = {"store": tmp_path / "store", "query_workers": 2}
        options.update(overrides)
        server = LiveServer(Settings(bundle=bundle, **options)).__enter__()
        started.append(server)
        return server

    yield start
    for server in reversed(started):
        server.__exit__(None, None, None)


@pytest.fixture(scope="module")
def example_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One read-only server over the example bundle for a whole module.

    Sharing is safe: nothing reachable over HTTP here can change the store.
    """
    root = tmp_path_factory.mktemp("example")
    bundle = write_bundle(
        root / "bundle", {"data/example.ttl": EXAMPLE_TTL, "data/extra.ttl": EXTRA_TTL}
    )
    settings = Settings(bundle=bundle, store=root / "store", query_workers=2, query_timeout=20)
    with LiveServer(settings) as server:
        yield server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server over the repository's own bundle, for one module's read-only tests."""
    store = tmp_path_factory.mktemp("repo") / "store"
    with LiveServer(Settings(bundle=REPO, store=store, query_workers=2)) as live:
        yield live
