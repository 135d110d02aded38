"""The ``panorama`` command: serve the graph, load, query and dump the store."""

from __future__ import annotations

import contextlib
import errno
import logging
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, NoReturn

import click
from pydantic import ValidationError

from panorama import __version__, bundle
from panorama.config import Settings, default_store_dir
from panorama.contributions import Contributions
from panorama.errors import PanoramaError
from panorama.ledger import ContributionLedger, Contributor, Ledger
from panorama.negotiation import GRAPH_FORMATS, SOLUTION_FORMATS, negotiate
from panorama.progress import ProgressReader
from panorama.sparql import check_query
from panorama.store import QueryRequest, Store

__all__ = ["main"]


def _settings(**given: Any) -> Settings:
    """Settings from the options given (None = not given) over environment and defaults."""
    try:
        return Settings(**{name: value for name, value in given.items() if value is not None})
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}"
            for e in error.errors()
        )
        raise click.UsageError(problems) from error


def _store_options(command: Callable[..., Any]) -> Callable[..., Any]:
    command = click.option(
        "--store",
        "store_dir",
        type=click.Path(file_okay=False, path_type=Path),
        help=f"Store directory [default: {default_store_dir()}; env PANORAMA_STORE].",
    )(command)
    return command


def _engine_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--engine URL`` (and its update and store URLs): the data is on a SPARQL engine."""
    for name, text in (
        ("--engine-store", "The engine's Graph Store Protocol URL [default: the query URL]."),
        ("--engine-update", "The engine's SPARQL Update URL [default: the query URL]."),
        (
            "--engine",
            "Query URL of a SPARQL 1.1 engine that holds the data instead of a store "
            "directory (docs/engines.md; credentials: PANORAMA_ENGINE_USER, "
            "PANORAMA_ENGINE_PASSWORD) [env PANORAMA_ENGINE].",
        ),
    ):
        command = click.option(name, default=None, help=text)(command)
    return command


def _engine_given(engine: str | None, engine_update: str | None, engine_store: str | None) -> dict:
    return {"engine": engine, "engine_update": engine_update, "engine_store": engine_store}


def _one_place(store_dir: Path | None, engine: Mapping[str, str | None]) -> None:
    """Refuse --store with --engine: a command that writes must not guess which is meant."""
    if store_dir is not None and engine.get("engine"):
        raise click.UsageError("Give either --engine or --store, not both.")


def _fail(error: PanoramaError) -> NoReturn:
    raise click.ClickException(error.message)


def _open_any(settings: Settings) -> Any:
    """The engine the settings name (checked for writing), or the on-disk store; exit 1."""
    if settings.engine is None:
        return _open_store(settings)
    from panorama.backends import open_store

    try:
        return open_store(settings)
    except PanoramaError as error:
        _fail(error)


def _open_store(settings: Settings) -> Store:
    """The on-disk store for writing, or a clear message (in use, unreadable) and exit 1."""
    assert settings.store is not None
    try:
        return Store.open(settings.store, base_iri=settings.base_iri)
    except PanoramaError as error:
        _fail(error)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="panorama")
def main() -> None:
    """Cluster-Panorama: the linked-data knowledge graph of the NRW cluster landscape."""


@main.command()
@click.option("--host", default=None, help="Interface to listen on [default: 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port [default: 8000; 0 picks a free one].")
@_store_options
@click.option("--memory", is_flag=True, help="Keep the store in memory; nothing is persisted.")
@click.option("--query-timeout", type=float, default=None, help="Seconds a query may run [30].")
@click.option(
    "--query-workers",
    type=int,
    default=None,
    help="Query worker processes [4]; 0 runs queries in the server's threads, without timeouts.",
)
@click.option(
    "--query-threads", type=int, default=None, help="Queries each worker runs at once [32]."
)
@click.option("--base-iri", default=None, help="Namespace of the graph's IRIs.")
@_engine_options
@click.option(
    "--engine-refresh",
    type=float,
    default=None,
    help="Seconds a check for other servers' writes on the engine is trusted [0: every "
    "request waits for a fresh one, about 1.5 ms].",
)
@click.option(
    "--access-log/--no-access-log",
    default=False,
    help="Log every request [off: about 0.1 ms a request; a reverse proxy usually logs].",
)
def serve(
    host: str | None,
    port: int | None,
    store_dir: Path | None,
    memory: bool,
    query_timeout: float | None,
    query_workers: int | None,
    query_threads: int | None,
    base_iri: str | None,
    engine: str | None,
    engine_update: str | None,
    engine_store: str | None,
    engine_refresh: float | None,
    access_log: bool,
) -> None:
    """Serve the SPARQL endpoint and the graph over HTTP.

    The bundled ontology, data and shapes are loaded first; unchanged files are skipped.
    With --engine the data is kept on that SPARQL engine, and several servers can share it.
    """
    import uvicorn

    from panorama.app import create_app
    from panorama.backends import open_store

    if memory and store_dir is not None:
        raise click.UsageError("Give either --store or --memory, not both.")
    if engine and (memory or store_dir is not None):
        raise click.UsageError("Give either --engine or --store/--memory, not both.")
    given: dict[str, Any] = {
        "host": host,
        "port": port,
        "store": store_dir,
        "query_timeout": query_timeout,
        "query_workers": query_workers,
        "query_threads": query_threads,
        "base_iri": base_iri,
        **_engine_given(engine, engine_update, engine_store),
        "engine_refresh": engine_refresh,
    }
    settings = _settings(**given)
    if memory:
        settings = settings.model_copy(update={"store": None})
    listener = _bind(settings.host, settings.port)
    try:
        store = open_store(settings)
    except PanoramaError as error:
        listener.close()
        _fail(error)
    try:
        if settings.engine is not None:
            where = f"the SPARQL engine at {settings.engine} ({store.dialect})"
        else:
            where = "memory" if settings.store is None else str(settings.store)
        click.echo(f"Store: {where}", err=True)

        def report(bundled: bundle.BundledFile, status: str) -> None:
            click.echo(f"  {status:9} {bundled.relative}", err=True)

        click.echo(f"Bundle: {bundle.sync(store, settings.bundle, on_file=report)}", err=True)
        host_name, bound_port = listener.getsockname()[:2]
        click.echo(f"Serving http://{host_name}:{bound_port}/ (SPARQL at /sparql)", err=True)
        config = uvicorn.Config(
            create_app(settings, store=store),
            log_level="info",
            access_log=access_log,
            timeout_graceful_shutdown=5,
        )
        # uvicorn re-raises the SIGTERM it handled once it has shut down; as SystemExit it
        # unwinds through `finally` below, so a --memory store is deleted too.
        signal.signal(signal.SIGTERM, _exit_quietly)
        try:
            uvicorn.Server(config).run(sockets=[listener])
        except KeyboardInterrupt:
            # uvicorn shuts down gracefully, then re-raises the Ctrl-C it caught.
            click.echo("Stopped.", err=True)
    except PanoramaError as error:
        _fail(error)
    finally:
        store.close()
        listener.close()


def _exit_quietly(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _bind(host: str, port: int) -> socket.socket:
    """Bind the listening socket before anything else, to report a busy port plainly."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        listener.close()
        if error.errno == errno.EADDRINUSE:
            raise click.ClickException(
                f"Port {port} on {host} is already in use. Stop the program using it, or "
                "choose another with --port."
            ) from error
        raise click.ClickException(f"Cannot listen on {host}:{port}: {error.strerror}") from error
    listener.listen(2048)
    listener.set_inheritable(True)
    return listener


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--graph", help="Named graph for the triples [default: the default graph].")
@click.option("--format", "format_hint", help="Format, when the file suffix does not say it.")
@click.option("--base-iri", default=None, help="Base IRI for relative IRIs in the files.")
@_store_options
@_engine_options
def load(
    files: tuple[Path, ...],
    graph: str | None,
    format_hint: str | None,
    base_iri: str | None,
    store_dir: Path | None,
    engine: str | None,
    engine_update: str | None,
    engine_store: str | None,
) -> None:
    """Bulk-load large RDF files (N-Triples, N-Quads, Turtle, TriG, RDF/XML, JSON-LD)."""
    settings = _settings(store=store_dir, **_engine_given(engine, engine_update, engine_store))
    for path in files:
        if not path.is_file():
            raise click.ClickException(f"Cannot read {path}: no such file.")
    assert settings.store is not None or settings.engine is not None
    store = _open_any(settings)
    try:
        before, started = len(store), time.perf_counter()
        for path in files:
            size = path.stat().st_size
            with (
                path.open("rb") as raw,
                click.progressbar(length=size, label=path.name, file=sys.stderr) as bar,
            ):
                try:
                    store.load(
                        ProgressReader(raw, bar.update),  # type: ignore[arg-type]
                        format_hint or path.suffix,
                        graph=graph,
                        base_iri=base_iri,
                    )
                except PanoramaError as error:
                    raise click.ClickException(f"{path}: {error.message}") from error
        elapsed = time.perf_counter() - started
        added = len(store) - before
        click.echo(
            f"Loaded {added:,} triples in {elapsed:.1f} s ({added / max(elapsed, 1e-9):,.0f} "
            f"triples/s) into {settings.engine or settings.store}.",
            err=True,
        )
    finally:
        store.close()


@main.command()
@click.argument("query")
@click.option("--format", "format_name", help="Result format: json, xml, csv, tsv, turtle, …")
@_store_options
@_engine_options
def query(
    query: str,
    format_name: str | None,
    store_dir: Path | None,
    engine: str | None,
    engine_update: str | None,
    engine_store: str | None,
) -> None:
    """Run a SPARQL query against the store (QUERY, @FILE, or - for standard input).

    Works while a server is running on the same store: it reads a snapshot.
    """
    if query == "-":
        query = sys.stdin.read()
    elif query.startswith("@"):
        try:
            query = Path(query[1:]).read_text(encoding="utf-8")
        except OSError as error:
            raise click.ClickException(f"Cannot read {query[1:]}: {error.strerror}") from error
    settings = _settings(store=store_dir, **_engine_given(engine, engine_update, engine_store))
    try:
        text = check_query(query)
        store = _read_store(settings)
        evaluation = store.evaluate(
            QueryRequest(query, union_default_graph=not text.has_dataset_clause)
        )
        offered = GRAPH_FORMATS if evaluation.kind == "graph" else SOLUTION_FORMATS
        default = "turtle" if evaluation.kind == "graph" else "csv"
        chosen = negotiate(
            None, offered, format_name or default, known=SOLUTION_FORMATS + GRAPH_FORMATS
        )
        evaluation.serialize(sys.stdout.buffer, chosen.media_type)
        sys.stdout.buffer.flush()
    except PanoramaError as error:
        _fail(error)


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--graph", help="Dump only this named graph (needed for Turtle, N-Triples…).")
@click.option("--format", "format_hint", help="Format, when the file suffix does not say it.")
@_store_options
@_engine_options
def dump(
    file: Path,
    graph: str | None,
    format_hint: str | None,
    store_dir: Path | None,
    engine: str | None,
    engine_update: str | None,
    engine_store: str | None,
) -> None:
    """Write the store to FILE (- for standard output); N-Quads or TriG keep the graphs."""
    settings = _settings(store=store_dir, **_engine_given(engine, engine_update, engine_store))
    if file == Path("-") and not format_hint:
        raise click.UsageError("Writing to standard output needs --format (e.g. nq).")
    try:
        store = _read_store(settings)
        if file == Path("-"):
            store.dump(sys.stdout.buffer, format_hint or "nq", graph)
            return
        with file.open("wb") as output:
            store.dump(output, format_hint or file.suffix, graph)
        click.echo(f"Wrote {file} ({file.stat().st_size:,} bytes).", err=True)
    except PanoramaError as error:
        if file != Path("-"):
            file.unlink(missing_ok=True)
        _fail(error)
    except OSError as error:
        raise click.ClickException(f"Cannot write {file}: {error.strerror}") from error


def _read_store(settings: Settings) -> Any:
    """A snapshot of the on-disk store, or the engine (read only: not checked for writing).

    Raises:
        StoreError: it cannot be opened or reached.
    """
    if settings.engine is None:
        assert settings.store is not None
        return Store.open_read_only(settings.store, base_iri=settings.base_iri)
    import os

    from panorama.remote_store import ENV_PASSWORD, ENV_USER, RemoteStore

    store = RemoteStore(
        settings.engine,
        base_iri=settings.base_iri,
        update_url=settings.engine_update,
        store_url=settings.engine_store,
        user=os.environ.get(ENV_USER) or None,
        password=os.environ.get(ENV_PASSWORD, ""),
    )
    store.check()
    return store


# --- validate (panorama.validation) ---
@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "turtle", "json"]),
    default="text",
    help="Report as text, as a SHACL report in Turtle, or as JSON [text].",
)
@click.option("--lang", type=click.Choice(["de", "en"]), default="en", help="Messages [en].")
@click.option("--syntax", help="Input format if the suffix does not say: turtle, ntriples, jsonld.")
@_engine_options
def validate(
    files: tuple[Path, ...],
    output: str,
    lang: str,
    syntax: str | None,
    engine: str | None,
    engine_update: str | None,
    engine_store: str | None,
) -> None:
    """Validate contribution FILES (together) against the project's SHACL shapes.

    Links are checked against the bundled ontology and data, or with --engine against
    the ontology and data the engine holds: what the servers on it check contributions with.

    Exit code 0: the data conforms (warnings allowed); 1: it does not; 2: a file cannot be
    read or parsed, or the engine cannot be asked.
    """
    import json

    from panorama.validation import validate_files
    from panorama.validation_report import report_graph, report_json, report_text

    settings = _settings(**_engine_given(engine, engine_update, engine_store))
    if settings.engine is not None:
        click.echo(f"Reference data: the SPARQL engine at {settings.engine}.", err=True)
    try:
        report = validate_files(
            files,
            root=settings.bundle,
            base_iri=settings.base_iri,
            syntax=syntax,
            reference_store=None if settings.engine is None else lambda: _read_store(settings),
        )
    except PanoramaError as error:
        # Not 1: that says "does not conform", and nothing was checked.
        click.echo(f"Error: {error.message}", err=True)
        sys.exit(2)
    if output == "json":
        click.echo(json.dumps(report_json(report, lang), ensure_ascii=False, indent=2))
    elif output == "turtle":
        click.echo(report_graph(report, lang).serialize(format="turtle"))
    else:
        click.echo(report_text(report, lang), nl=False)
    sys.exit(0 if report.conforms else 1)


# --- end validate ---


# Contributors and contributions -------------------------------------------------------------


def _ledger(store_dir: Path | None, engine: dict | None = None) -> ContributionLedger:
    settings = _settings(store=store_dir, **(engine or {}))
    if settings.engine is not None:
        from panorama.engine_ledger import EngineLedger

        return EngineLedger(_open_any(settings))
    assert settings.store is not None
    settings.store.mkdir(parents=True, exist_ok=True)
    try:
        return Ledger(settings.store / "ledger.sqlite3")
    except PanoramaError as error:
        _fail(error)
        raise


@main.group()
def token() -> None:
    """Create, list and revoke contributors' API tokens (works while the server runs)."""


@token.command("create")
@click.argument("name")
@_store_options
@_engine_options
def token_create(name: str, store_dir: Path | None, **engine: str | None) -> None:
    """Create contributor NAME and print its token, once: only a hash is kept."""
    try:
        secret = _ledger(store_dir, engine).create_contributor(name)
    except PanoramaError as error:
        _fail(error)
    click.echo(secret)
    click.echo(
        f"Token for {name!r}: give it to the contributor now; it cannot be shown again.",
        err=True,
    )


@token.command("list")
@_store_options
@_engine_options
def token_list(store_dir: Path | None, **engine: str | None) -> None:
    """List contributors: name, created, revoked."""
    try:
        contributors = _ledger(store_dir, engine).contributors()
    except PanoramaError as error:
        _fail(error)
    for contributor in contributors:
        state = f"revoked {contributor.revoked}" if contributor.revoked else "active"
        click.echo(f"{contributor.name}\t{contributor.created}\t{state}")


@token.command("revoke")
@click.argument("name")
@_store_options
@_engine_options
def token_revoke(name: str, store_dir: Path | None, **engine: str | None) -> None:
    """Revoke NAME's token; it stops working at once."""
    try:
        _ledger(store_dir, engine).revoke(name)
    except PanoramaError as error:
        _fail(error)
    click.echo(f"Revoked {name!r}.", err=True)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--url", required=True, help="The server, e.g. http://127.0.0.1:8000.")
@click.option("--token", "secret", envvar="PANORAMA_TOKEN", required=True, help="Your token.")
@click.option("--message", help="A note kept with the contribution.")
def contribute(file: Path, url: str, secret: str, message: str | None) -> None:
    """Send FILE (Turtle or N-Triples) as your graph's new version.

    Exit code 0: accepted; 1: refused (the report says why); 2: it could not be sent.
    """
    import httpx

    media_type = "application/n-triples" if file.suffix == ".nt" else "text/turtle"
    try:
        response = httpx.post(
            url.rstrip("/") + "/contributions",
            content=file.read_bytes(),
            params={"message": message} if message else None,
            headers={
                "Content-Type": media_type,
                "Authorization": f"Bearer {secret}",
                "Accept": "application/json",
            },
            timeout=120,
        )
    except httpx.HTTPError as error:
        click.echo(f"Error: cannot reach {url}: {error}", err=True)
        sys.exit(2)
    click.echo(response.text)
    if response.status_code == 201:
        click.echo(f"Accepted: {response.headers.get('location')}", err=True)
        return
    click.echo(f"Refused ({response.status_code}).", err=True)
    sys.exit(1 if response.status_code == 422 else 2)


@main.group()
def contributions() -> None:
    """List and roll back contributions."""


@contributions.command("list")
@_store_options
@_engine_options
def contributions_list(store_dir: Path | None, **engine: str | None) -> None:
    """Every accepted version, newest first: id, contributor, time, triples, message."""
    try:
        versions = _ledger(store_dir, engine).versions()
    except PanoramaError as error:
        _fail(error)
    for version in versions:
        click.echo(
            f"{version.id}\t{version.contributor}\t{version.created}\t{version.triples}"
            f"\t{version.message or ''}"
        )


@contributions.command("rollback")
@click.argument("version_id")
@_store_options
@_engine_options
def contributions_rollback(version_id: str, store_dir: Path | None, **engine: str | None) -> None:
    """Make version VERSION_ID its contributor's graph again (validated again first).

    On a store directory, run it with the server stopped; with a server running, its
    contributor can POST /contributions/VERSION_ID/rollback instead. On an engine
    (--engine) the servers may go on running: they see the new version at once.
    """
    import json

    from panorama.backends import open_ledger
    from panorama.validation import (
        Submission,
        SubmissionPart,
        load_shapes,
        reference_data,
        validate,
    )
    from panorama.validation_report import report_json, report_text

    _one_place(store_dir, engine)
    settings = _settings(store=store_dir, **engine)
    store = _open_any(settings)
    try:
        desk = Contributions(store, open_ledger(store))
        version, content = desk.restorable(version_id)
        fmt = "turtle" if version.media_type == "text/turtle" else "ntriples"
        # Checked with the reference data of the store itself (on an engine: the engine's),
        # as the server checks a rollback its contributor asks for.
        report = validate(
            Submission((SubmissionPart(content, fmt, version_id),)),
            load_shapes(settings.bundle, settings.base_iri),
            reference_data(store),
            base_iri=settings.base_iri,
        )
        if not report.conforms:
            click.echo(report_text(report, "en"), err=True, nl=False)
            raise click.ClickException(
                f"{version_id} no longer conforms to the shapes ({report.count('Violation')} "
                "violation(s), above); nothing was changed. Restore another version, or send "
                "a corrected one as a new contribution."
            )
        contributor = Contributor(version.contributor, version.created, None)
        accepted = desk.accept(
            contributor,
            content,
            version.media_type,
            triples=report.triples,
            report=json.dumps(report_json(report, "en")),
            message=f"Restores {version_id}",
            restores=version_id,
        )
        click.echo(
            f"Restored {version_id} as {accepted.version.id} in <{accepted.graph}>.", err=True
        )
    except PanoramaError as error:
        _fail(error)
    finally:
        store.close()


@main.command()
@click.argument("target", type=click.Path(file_okay=False, path_type=Path))
@_store_options
@_engine_options
def backup(target: Path, store_dir: Path | None, **engine: str | None) -> None:
    """Copy the store and its ledger into TARGET, a new directory (works while serving).

    With --engine: every graph the servers keep on that engine, their contribution ledger
    included, into one N-Quads file (for `panorama restore --engine`).
    """
    _one_place(store_dir, engine)
    settings = _settings(store=store_dir, **engine)
    if target.exists():
        raise click.ClickException(f"{target} exists; give a new directory.")
    if settings.engine is not None:
        _backup_engine(settings, target)
        return
    assert settings.store is not None
    try:
        # The store first: a ledger copied later may know more, never less (restore drops
        # what the store lacks).
        store = Store.open_read_only(settings.store, base_iri=settings.base_iri)
        store.backup(target)
        Ledger(settings.store / "ledger.sqlite3").backup(target / "ledger.sqlite3")
    except PanoramaError as error:
        _fail(error)
    click.echo(f"Backed up {settings.store} to {target}.", err=True)


def _backup_engine(settings: Settings, target: Path) -> None:
    from panorama.engine_backup import backup_engine

    try:
        store = _read_store(settings)
    except PanoramaError as error:
        _fail(error)
    try:
        made = backup_engine(store, target, _progress_bar)
    except PanoramaError as error:
        _fail(error)
    finally:
        store.close()
    click.echo(
        f"Backed up {made.graphs} graphs and the contribution ledger ({made.quads:,} quads) "
        f"of the SPARQL engine at {settings.engine} to {target}. Restore it with `panorama "
        f"restore {target} --engine URL` into an engine without Cluster-Panorama data.",
        err=True,
    )


@contextlib.contextmanager
def _progress_bar(label: str, total: int) -> Iterator[Callable[[int], None]]:
    """A ``progress.Progress`` on the terminal."""
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        yield bar.update


@main.command()
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
@_store_options
@_engine_options
def restore(source: Path, store_dir: Path | None, **engine: str | None) -> None:
    """Make the backup SOURCE the store (the store directory must not hold a store yet).

    With --engine: load a backup made by `panorama backup --engine` into that engine, which
    must hold no Cluster-Panorama data yet.
    """
    import shutil

    _one_place(store_dir, engine)
    settings = _settings(store=store_dir, **engine)
    if settings.engine is not None:
        _restore_engine(source, settings)
        return
    assert settings.store is not None
    if (settings.store / "oxigraph").exists():
        raise click.ClickException(
            f"{settings.store} holds a store already; restore into a new directory (--store) "
            "or move the old one away first."
        )
    if not (source / "oxigraph" / "CURRENT").is_file():
        from panorama.engine_backup import is_engine_backup

        if is_engine_backup(source):
            raise click.ClickException(
                f"{source} is the backup of a SPARQL engine: restore it into one with --engine URL."
            )
        raise click.ClickException(f"{source} is not a backup made by `panorama backup`.")
    settings.store.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source / "oxigraph", settings.store / "oxigraph")
    if (source / "ledger.sqlite3").is_file():
        shutil.copy2(source / "ledger.sqlite3", settings.store / "ledger.sqlite3")
    store = Store.open(settings.store, base_iri=settings.base_iri)
    try:
        dropped = Contributions(store, Ledger(settings.store / "ledger.sqlite3")).reconcile()
    finally:
        store.close()
    note = f"; dropped {len(dropped)} version(s) the store did not hold" if dropped else ""
    click.echo(f"Restored {source} into {settings.store}{note}.", err=True)


def _restore_engine(source: Path, settings: Settings) -> None:
    from panorama.engine_backup import backup_size, restore_engine

    try:
        backup_size(source, settings.base_iri)  # before connecting: is it a backup at all?
    except PanoramaError as error:
        _fail(error)
    store = _open_any(settings)
    try:
        quads = restore_engine(store, source, _progress_bar)
    except PanoramaError as error:
        _fail(error)
    finally:
        store.close()
    click.echo(
        f"Restored {source} ({quads:,} quads) into the SPARQL engine at {settings.engine}. "
        f"Start servers on it with `panorama serve --engine {settings.engine}` (and "
        "--engine-update, --engine-store).",
        err=True,
    )


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    main()
