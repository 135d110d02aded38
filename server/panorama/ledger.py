"""The ledger: contributors' tokens and every version of every contribution.

``ContributionLedger`` is what the contribution workflow needs of a ledger; two kinds
satisfy it. ``Ledger`` (here) keeps it in SQLite beside the embedded store
(``{store}/ledger.sqlite3``), because the CLI must create and revoke tokens while a server
holds the store's lock, and SQLite lets several processes share a file safely.
``engine_ledger.EngineLedger`` keeps it in a private graph of a SPARQL engine, so that
several servers on one engine share it. Only a SHA-256 hash of each token is kept.

In SQLite, a contribution's version is written before the graph changes and marked
*applied* once the store's transaction has committed; a version left unapplied by a crash
is never shown as accepted. In the engine, the version is written by the same request that
replaces the graph (``statements``), so there is nothing to settle.
"""

from __future__ import annotations

import datetime
import hashlib
import re
import secrets
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from panorama.errors import BadRequest, PanoramaError
from panorama.store import Record

__all__ = [
    "ContributionLedger",
    "Contributor",
    "Ledger",
    "LedgerError",
    "Version",
    "check_name",
    "new_token",
    "new_version",
    "token_hash",
]

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS contributors (
    name TEXT PRIMARY KEY,
    token_sha256 TEXT NOT NULL UNIQUE,
    created TEXT NOT NULL,
    revoked TEXT
);
CREATE TABLE IF NOT EXISTS versions (
    id TEXT PRIMARY KEY,
    contributor TEXT NOT NULL REFERENCES contributors(name),
    created TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    triples INTEGER NOT NULL,
    media_type TEXT NOT NULL,
    message TEXT,
    replaces TEXT,
    restores TEXT,
    content BLOB NOT NULL,
    report TEXT NOT NULL,
    applied INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS versions_by_contributor ON versions (contributor, created);
"""


class LedgerError(PanoramaError):
    """The ledger cannot be read or written; the message says what to do."""


@dataclass(frozen=True)
class Contributor:
    name: str
    created: str
    revoked: str | None

    @property
    def active(self) -> bool:
        return self.revoked is None


@dataclass(frozen=True)
class Version:
    id: str
    contributor: str
    created: str
    sha256: str
    size: int
    triples: int
    media_type: str
    message: str | None
    replaces: str | None
    restores: str | None
    applied: bool


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")


def token_hash(token: str) -> str:
    """What a ledger keeps of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


_hash = token_hash


def check_name(name: str) -> None:
    """Raises BadRequest unless ``name`` can name a contributor (a lowercase slug)."""
    if not _NAME.match(name):
        raise BadRequest(
            f"{name!r} is not a contributor name: use 2 to 63 lowercase letters, digits "
            "and hyphens, such as 'its-owl'."
        )


def new_token() -> str:
    return secrets.token_urlsafe(32)


def new_version(
    *,
    contributor: str,
    content: bytes,
    media_type: str,
    triples: int,
    message: str | None,
    replaces: str | None,
    restores: str | None,
) -> Version:
    """A new version, not yet applied: its id sorts by creation time."""
    created = _now()
    version_id = created[:19].replace(":", "").replace("-", "") + "-" + secrets.token_hex(4)
    return Version(
        id=version_id,
        contributor=contributor,
        created=created,
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        triples=triples,
        media_type=media_type,
        message=message,
        replaces=replaces,
        restores=restores,
        applied=False,
    )


class ContributionLedger(Protocol):
    """What the contribution workflow (``contributions.py``) needs of a ledger."""

    #: Whether a version is written by the store's own transaction (``statements``), so
    #: the ledger and the store cannot disagree and ``reconcile`` has nothing to do.
    written_with_store: bool

    def create_contributor(self, name: str) -> str: ...

    def revoke(self, name: str) -> None: ...

    def contributors(self) -> list[Contributor]: ...

    def contributor_for(self, token: str) -> Contributor | None: ...

    def record(
        self,
        *,
        contributor: str,
        content: bytes,
        media_type: str,
        triples: int,
        report: str,
        message: str | None,
        replaces: str | None,
        restores: str | None = None,
    ) -> Version: ...

    def statements(self, version: Version) -> Sequence[Record]:
        """What the store must write about ``version`` in the transaction that applies it."""
        ...

    def mark_applied(self, version_id: str) -> None: ...

    def discard(self, version_id: str) -> None: ...

    def versions(self, contributor: str | None = None) -> list[Version]: ...

    def version(self, version_id: str) -> Version | None: ...

    def content(self, version_id: str) -> tuple[bytes, str]: ...

    def latest(self, contributor: str) -> Version | None: ...

    def unapplied(self) -> list[str]: ...


class Ledger:
    """Tokens and contribution versions of one embedded store, in SQLite."""

    written_with_store = False

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            with self._connect() as connection:
                connection.executescript(_SCHEMA)
        except sqlite3.Error as error:
            raise LedgerError(f"Cannot open the ledger {path}: {error}") from error

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        connection = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            # A 201 promises durability: commit to disk before answering.
            connection.execute("PRAGMA synchronous=FULL")
            connection.execute("PRAGMA foreign_keys=ON")
            yield connection
        finally:
            connection.close()

    # Contributors ----------------------------------------------------------------------------

    def create_contributor(self, name: str) -> str:
        """Register ``name`` and return its new token (shown once, stored only as a hash).

        Raises:
            BadRequest: the name is not a lowercase slug, or is taken.
        """
        check_name(name)
        token = new_token()
        with self._connect() as connection:
            try:
                connection.execute(
                    "INSERT INTO contributors (name, token_sha256, created) VALUES (?, ?, ?)",
                    (name, _hash(token), _now()),
                )
            except sqlite3.IntegrityError as error:
                raise BadRequest(
                    f"There is a contributor {name!r} already; revoke it first or pick "
                    "another name."
                ) from error
        return token

    def revoke(self, name: str) -> None:
        with self._connect() as connection:
            changed = connection.execute(
                "UPDATE contributors SET revoked = ? WHERE name = ? AND revoked IS NULL",
                (_now(), name),
            ).rowcount
        if not changed:
            raise BadRequest(f"There is no active contributor {name!r}.")

    def contributors(self) -> list[Contributor]:
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT name, created, revoked FROM contributors ORDER BY name"
            ).fetchall()
        return [Contributor(*row) for row in rows]

    def contributor_for(self, token: str) -> Contributor | None:
        """The active contributor holding ``token``, or None."""
        with self._connect() as connection:
            row = connection.execute(
                "SELECT name, created, revoked FROM contributors "
                "WHERE token_sha256 = ? AND revoked IS NULL",
                (_hash(token),),
            ).fetchone()
        return Contributor(*row) if row else None

    # Versions --------------------------------------------------------------------------------

    def record(
        self,
        *,
        contributor: str,
        content: bytes,
        media_type: str,
        triples: int,
        report: str,
        message: str | None,
        replaces: str | None,
        restores: str | None = None,
    ) -> Version:
        """Keep a new version, not yet applied."""
        version = new_version(
            contributor=contributor,
            content=content,
            media_type=media_type,
            triples=triples,
            message=message,
            replaces=replaces,
            restores=restores,
        )
        with self._connect() as connection:
            connection.execute(
                "INSERT INTO versions (id, contributor, created, sha256, size, triples, "
                "media_type, message, replaces, restores, content, report) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    version.id,
                    contributor,
                    version.created,
                    version.sha256,
                    version.size,
                    triples,
                    media_type,
                    message,
                    replaces,
                    restores,
                    content,
                    report,
                ),
            )
        return version

    def statements(self, version: Version) -> Sequence[Record]:
        """Nothing: SQLite is not the store, so the version is marked applied afterwards."""
        return ()

    def mark_applied(self, version_id: str) -> None:
        with self._connect() as connection:
            connection.execute("UPDATE versions SET applied = 1 WHERE id = ?", (version_id,))

    def discard(self, version_id: str) -> None:
        """Forget a version the store does not hold (its write failed, or a restore lost it)."""
        with self._connect() as connection:
            connection.execute("DELETE FROM versions WHERE id = ?", (version_id,))

    def versions(self, contributor: str | None = None) -> list[Version]:
        """Applied versions, newest first."""
        query = (
            "SELECT id, contributor, created, sha256, size, triples, media_type, message, "
            "replaces, restores, applied FROM versions WHERE applied = 1"
        )
        parameters: tuple[str, ...] = ()
        if contributor is not None:
            query += " AND contributor = ?"
            parameters = (contributor,)
        with self._connect() as connection:
            rows = connection.execute(query + " ORDER BY created DESC, id DESC", parameters)
            return [Version(*row[:-1], applied=bool(row[-1])) for row in rows.fetchall()]

    def version(self, version_id: str) -> Version | None:
        with self._connect() as connection:
            row = connection.execute(
                "SELECT id, contributor, created, sha256, size, triples, media_type, message, "
                "replaces, restores, applied FROM versions WHERE id = ? AND applied = 1",
                (version_id,),
            ).fetchone()
        return Version(*row[:-1], applied=bool(row[-1])) if row else None

    def content(self, version_id: str) -> tuple[bytes, str]:
        """The submitted document and its validation report."""
        with self._connect() as connection:
            row = connection.execute(
                "SELECT content, report FROM versions WHERE id = ? AND applied = 1", (version_id,)
            ).fetchone()
        if row is None:
            raise BadRequest(f"There is no contribution {version_id!r}.")
        return bytes(row[0]), str(row[1])

    def latest(self, contributor: str) -> Version | None:
        versions = self.versions(contributor)
        return versions[0] if versions else None

    def unapplied(self) -> list[str]:
        with self._connect() as connection:
            return [r[0] for r in connection.execute("SELECT id FROM versions WHERE applied = 0")]

    def backup(self, target: Path) -> None:
        """Copy the ledger consistently, even while a server writes to it."""
        with self._connect() as source, sqlite3.connect(target) as copy:
            source.backup(copy)
