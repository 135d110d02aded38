"""Which store a server runs on, and the parts that depend on it.

The embedded Oxigraph store (``--store DIR``, ``--memory``) or a SPARQL engine
(``--engine URL``): both answer the same interface, and everything above them is the same,
except for three parts, chosen here:

| Part | Embedded store | Engine |
|---|---|---|
| ``/sparql`` queries | worker processes (``QueryPool``), or threads | proxied (``EngineQueries``) |
| contribution ledger | SQLite beside the store (``Ledger``) | a private graph (``EngineLedger``) |
| other servers' writes | none (one process holds the store) | ``RevisionWatch`` per request |
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from panorama.config import Settings
from panorama.engine_ledger import EngineLedger
from panorama.engine_queries import EngineQueries
from panorama.executor import QueryPool
from panorama.freshness import RevisionWatch
from panorama.in_thread import ThreadedQueries
from panorama.ledger import ContributionLedger, Ledger
from panorama.remote_store import RemoteStore
from panorama.store import Store

__all__ = ["AnyStore", "open_ledger", "open_store", "query_runner", "revision_watch"]

#: A store of either kind; they share ``Store``'s interface.
AnyStore = Store | RemoteStore


def open_store(settings: Settings, environ: Mapping[str, str] = os.environ) -> AnyStore:
    """Open the store the settings name: the engine if one is given, else a directory.

    Raises:
        StoreError: it cannot be opened; for an engine, it cannot be reached or refuses
            to write (the message names the URL and says what to do).
    """
    if settings.engine is None:
        return Store.from_settings(settings)
    return RemoteStore.connect(
        settings.engine,
        base_iri=settings.base_iri,
        update_url=settings.engine_update,
        store_url=settings.engine_store,
        environ=environ,
        # Reads the server makes for itself; /sparql enforces query_timeout on its own.
        timeout=max(60.0, settings.query_timeout),
    )


def query_runner(
    settings: Settings, store: AnyStore
) -> QueryPool | ThreadedQueries | EngineQueries:
    """What runs ``/sparql`` queries over ``store`` (call ``start`` on it, then ``close``)."""
    if isinstance(store, RemoteStore):
        return EngineQueries(store, timeout=settings.query_timeout)
    if settings.query_workers:
        return QueryPool(
            store.path,
            base_iri=settings.base_iri,
            size=settings.query_workers,
            threads=settings.query_threads,
            timeout=settings.query_timeout,
            store=store,
        )
    return ThreadedQueries(store)  # no timeouts: for trusted use, and to measure the workers


def open_ledger(store: AnyStore) -> ContributionLedger:
    """The contribution ledger of ``store``: in its engine, or in SQLite beside it.

    Raises:
        LedgerError: the SQLite file cannot be opened.
    """
    if isinstance(store, RemoteStore):
        return EngineLedger(store)
    return Ledger(store.path / "ledger.sqlite3")


def revision_watch(settings: Settings, store: AnyStore) -> RevisionWatch | None:
    """The check for other servers' writes, for a store that can have them."""
    if isinstance(store, RemoteStore):
        return RevisionWatch(store, interval=settings.engine_refresh)
    return None
