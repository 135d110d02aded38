"""Shared test helpers: a small example bundle, a real uvicorn server in a thread, and the
backends a server can run on (the embedded store, or a real engine of ``engines.py``)."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from engines import Engine, EngineShelf
from panorama.app import create_app
from panorama.config import Settings
from panorama.remote_store import ENV_PASSWORD, ENV_USER

REPO = Path(__file__).resolve().parents[1]


def counting_query(n: int) -> str:
    """A query that computes for a while (an n³ cross product: 250 takes a second or two)
    and answers one row."""
    values = " ".join(str(i) for i in range(n))
    return (
        f"SELECT (COUNT(*) AS ?n) {{ VALUES ?a {{ {values} }} VALUES ?b {{ {values} }} "
        f"VALUES ?c {{ {values} }} }}"
    )


# A small graph whose every answer the tests can work out by hand.
EXAMPLE_TTL = """\
@prefix ex: <https://example.org/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:its-owl a ex:Cluster ; rdfs:label "it's OWL"@de ; ex:field ex:production .
ex:clib a ex:Cluster ; rdfs:label "CLIB"@de ; ex:field ex:medicine, ex:production .
ex:production rdfs:label "Innovative Werkstoffe und intelligente Produktion"@de .
"""
EXTRA_TTL = """\
@prefix ex: <https://example.org/> .
ex:ki-nrw a ex:Cluster ; ex:field ex:key-technologies .
"""


def write_bundle(root: Path, files: dict[str, str]) -> Path:
    """Write a bundle folder (ontology/, data/, shapes/) holding ``files``."""
    for folder in ("ontology", "data", "shapes"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


class Listener:
    """A TCP listener on loopback that records every connection made to it.

    The tests that promise "no outbound connection" point a query or a document at it.
    """

    def __init__(self, path: str = "/") -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}{path}"
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            self.connections += 1
            connection.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._socket.close()


class LiveServer:
    """A uvicorn server in a thread on 127.0.0.1 with a port the OS picked.

    ``engine``: the engine its data is on, when it runs on one (``Backend.serve``).
    """

    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        self.engine = engine
        config = uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=0, log_level="warning", lifespan="on"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 60
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)

    @property
    def sparql(self) -> str:
        return f"{self.url}/sparql"

    @property
    def app(self) -> FastAPI:
        """The running FastAPI application, inside uvicorn's middleware wrappers."""
        app = self._server.config.loaded_app
        while not isinstance(app, FastAPI):
            app = app.app
        return app


#: What a server's data can be kept in: the embedded store, or one of the engines.
BACKENDS = ("embedded", "oxigraph", "virtuoso")

#: What an engine changes in the data itself, as a page shows it: (embedded, engine) pairs.
#: Virtuoso 7.2 keeps an ``xsd:duration`` as a number of months (docs/engines.md).
ENGINE_CHANGES: dict[str, tuple[tuple[bytes, bytes], ...]] = {
    "virtuoso": ((b'<span class="literal">P2Y</span>', b'<span class="literal">24</span>'),),
}


def engine_environ(engine: Engine) -> dict[str, str]:
    """The engine's writer as ``PANORAMA_ENGINE_USER``/``_PASSWORD`` give it."""
    if engine.user is None:
        return {}
    return {ENV_USER: engine.user, ENV_PASSWORD: engine.password or ""}


@contextmanager
def engine_credentials(engine: Engine) -> Iterator[None]:
    """The engine's writer in the environment, as in production, while the block runs."""
    saved = {name: os.environ.get(name) for name in (ENV_USER, ENV_PASSWORD)}
    os.environ.update(engine_environ(engine))
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@dataclass(frozen=True)
class Backend:
    """Where the servers of a test keep their data: ``embedded`` or an engine's kind."""

    name: str
    shelf: EngineShelf

    @property
    def embedded(self) -> bool:
        return self.name == "embedded"

    @contextmanager
    def serve(self, bundle: Path, store: Path | None, **options: object) -> Iterator[LiveServer]:
        """A server over ``bundle``: on a store in ``store`` (None: in memory), or on an engine.

        An engine comes from the session's shelf with none of another test's graphs.
        """
        if self.embedded:
            with LiveServer(Settings(bundle=bundle, store=store, **options)) as live:
                yield live
            return
        with self.shelf.lease(self.name) as engine:
            settings = Settings(
                bundle=bundle,
                store=None,
                engine=engine.query_url,
                engine_update=engine.update_url,
                engine_store=engine.store_url,
                **options,
            )
            live = LiveServer(settings, engine)
            with engine_credentials(engine):  # read once, when the server starts
                live.__enter__()
            try:
                yield live
            finally:
                live.__exit__(None, None, None)


GRAPH = "https://w3id.org/cluster-panorama/graph/"
EXAMPLE_GRAPH = GRAPH + "data/example"
EXTRA_GRAPH = GRAPH + "data/extra"
