"""The contribution ledger kept in the SPARQL engine, shared by every server on it.

Stateless servers on one engine must agree on tokens and versions, so the ledger lives
where the data lives: in a private graph of the engine (``RemoteStore.private_graph``),
outside the store's graph prefix. It is therefore in no dump, count or union default
graph, and the ``/sparql`` proxy refuses queries that name it (``query_scope``): token
hashes and submitted documents stay private.

A version is written by the very request that replaces the contributor's graph
(``statements`` gives ``Contributions`` the records to add), so the ledger and the graph
change together or not at all; there is no "unapplied" state to settle after a crash.
Documents and reports are kept as text in parts of 256 KiB: Virtuoso 7.2 parses one long
literal in time that grows with the square of its length (1 MB: 1.4 s, 5 MB: 33 s;
twenty parts of 256 KB: 2 s).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from rdflib.term import Node

from panorama.errors import BadRequest
from panorama.ledger import (
    Contributor,
    LedgerError,
    Version,
    check_name,
    new_token,
    new_version,
    token_hash,
)
from panorama.remote_store import RemoteStore
from panorama.store import QueryRequest, Record, sparql_literal

__all__ = ["EngineLedger"]

_L = "urn:x-panorama:ledger#"
_PART = 256 * 1024
_VERSION_FIELDS = (
    "id",
    "contributor",
    "created",
    "sha256",
    "size",
    "triples",
    "mediaType",
    "message",
    "replaces",
    "restores",
)
_OPTIONAL = ("message", "replaces", "restores")
_VERSION_PATTERN = " ".join(
    f"OPTIONAL {{ ?v <{_L}{name}> ?{name} }}" if name in _OPTIONAL else f"?v <{_L}{name}> ?{name} ."
    for name in _VERSION_FIELDS
)


class EngineLedger:
    """Tokens and contribution versions in a private graph of the store's engine."""

    written_with_store = True

    def __init__(self, store: RemoteStore) -> None:
        self.store = store
        self.graph = store.private_graph("ledger")
        # Versions recorded and not yet written: their documents, until the write.
        self._pending: dict[str, tuple[bytes, str]] = {}

    # Reading and writing ---------------------------------------------------------------------

    def _rows(self, where: str, select: str = "*", tail: str = "") -> list[dict[str, Node]]:
        return self.store.select(
            QueryRequest(
                f"SELECT {select} WHERE {{ GRAPH <{self.graph}> {{ {where} }} }} {tail}",
                union_default_graph=False,
            )
        )

    @staticmethod
    def _subject(kind: str, key: str) -> str:
        return f"<urn:x-panorama:ledger:{kind}:{key}>"

    # Contributors ----------------------------------------------------------------------------

    def create_contributor(self, name: str) -> str:
        """Register ``name`` and return its new token (shown once, stored only as a hash).

        Raises:
            BadRequest: the name is not a lowercase slug, or is taken.
        """
        check_name(name)
        token = new_token()
        subject = self._subject("contributor", name)
        self.store.update(
            [
                f"""INSERT {{ GRAPH <{self.graph}> {{
                      {subject} a <{_L}Contributor> ; <{_L}name> {sparql_literal(name)} ;
                        <{_L}tokenSha256> {sparql_literal(token_hash(token))} ;
                        <{_L}created> {sparql_literal(_now())} }} }}
                    WHERE {{ FILTER NOT EXISTS {{ GRAPH <{self.graph}> {{
                      ?taken <{_L}name> {sparql_literal(name)} }} }} }}"""
            ]
        )
        rows = self._rows(f"{subject} <{_L}tokenSha256> ?hash")
        if [str(row["hash"]) for row in rows] != [token_hash(token)]:
            raise BadRequest(
                f"There is a contributor {name!r} already; revoke it first or pick another name."
            )
        return token

    def revoke(self, name: str) -> None:
        subject = self._subject("contributor", name)
        if not self._active(f"{subject} <{_L}name> ?name"):
            raise BadRequest(f"There is no active contributor {name!r}.")
        graph, now = self.graph, sparql_literal(_now())
        self.store.update(
            [
                f"""INSERT {{ GRAPH <{graph}> {{ {subject} <{_L}revoked> {now} }} }}
                    WHERE {{ GRAPH <{graph}> {{ {subject} <{_L}name> ?name }}
                      FILTER NOT EXISTS {{ GRAPH <{graph}> {{ {subject} <{_L}revoked> ?r }} }} }}"""
            ]
        )

    def _active(self, pattern: str) -> list[Contributor]:
        rows = self._rows(
            f"""?c a <{_L}Contributor> ; <{_L}name> ?name ; <{_L}created> ?created .
                {pattern} FILTER NOT EXISTS {{ ?c <{_L}revoked> ?revoked }}"""
        )
        return [Contributor(str(row["name"]), str(row["created"]), None) for row in rows]

    def contributors(self) -> list[Contributor]:
        rows = self._rows(
            f"""?c a <{_L}Contributor> ; <{_L}name> ?name ; <{_L}created> ?created .
                OPTIONAL {{ ?c <{_L}revoked> ?revoked }}""",
            tail="ORDER BY ?name",
        )
        return [
            Contributor(
                str(row["name"]),
                str(row["created"]),
                str(row["revoked"]) if "revoked" in row else None,
            )
            for row in rows
        ]

    def contributor_for(self, token: str) -> Contributor | None:
        """The active contributor holding ``token``, or None."""
        found = self._active(f"?c <{_L}tokenSha256> {sparql_literal(token_hash(token))} .")
        return found[0] if found else None

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
        """A new version; it is written by the store's transaction (``statements``)."""
        version = new_version(
            contributor=contributor,
            content=content,
            media_type=media_type,
            triples=triples,
            message=message,
            replaces=replaces,
            restores=restores,
        )
        self._pending[version.id] = (content, report)
        return version

    def statements(self, version: Version) -> Sequence[Record]:
        """The version, its document and its report, for the request that applies it."""
        content, report = self._pending[version.id]
        subject = self._subject("version", version.id)
        values = {
            "id": version.id,
            "contributor": version.contributor,
            "created": version.created,
            "sha256": version.sha256,
            "size": version.size,
            "triples": version.triples,
            "mediaType": version.media_type,
            "message": version.message,
            "replaces": version.replaces,
            "restores": version.restores,
        }
        lines = [f"{subject} a <{_L}Version> ."]
        for name, value in values.items():
            if value is None:
                continue
            literal = str(value) if isinstance(value, int) else sparql_literal(value)
            lines.append(f"{subject} <{_L}{name}> {literal} .")
        for kind, text in (("content", content.decode("utf-8")), ("report", report)):
            for index, start in enumerate(range(0, max(len(text), 1), _PART)):
                part = self._subject(f"{kind}-part", f"{version.id}:{index}")
                lines.append(
                    f"{subject} <{_L}{kind}Part> {part} . {part} <{_L}index> {index} ; "
                    f"<{_L}text> {sparql_literal(text[start : start + _PART])} ."
                )
        return [Record(self.graph, add="\n".join(lines))]

    def mark_applied(self, version_id: str) -> None:
        self._pending.pop(version_id, None)

    def discard(self, version_id: str) -> None:
        """Forget a version (not written yet: nothing to remove from the engine)."""
        self._pending.pop(version_id, None)

    def versions(self, contributor: str | None = None) -> list[Version]:
        """Versions, newest first."""
        pattern = _VERSION_PATTERN
        if contributor is not None:
            pattern += f" FILTER(?contributor = {sparql_literal(contributor)})"
        newest_first = "ORDER BY DESC(?created) DESC(?id)"
        rows = self._rows(f"?v a <{_L}Version> . {pattern}", tail=newest_first)
        return [_version(row) for row in rows]

    def version(self, version_id: str) -> Version | None:
        rows = self._rows(
            f"?v a <{_L}Version> ; <{_L}id> {sparql_literal(version_id)} . {_VERSION_PATTERN}"
        )
        return _version(rows[0]) if rows else None

    def content(self, version_id: str) -> tuple[bytes, str]:
        """The submitted document and its validation report."""
        subject = self._subject("version", version_id)
        rows = self._rows(f"{subject} ?kind ?part . ?part <{_L}index> ?index ; <{_L}text> ?text .")
        if not rows:
            raise BadRequest(f"There is no contribution {version_id!r}.")
        parts: dict[str, list[tuple[int, str]]] = {"content": [], "report": []}
        for row in rows:
            kind = str(row["kind"]).removeprefix(_L).removesuffix("Part")
            if kind in parts:
                parts[kind].append((int(str(row["index"])), str(row["text"])))
        content, report = ("".join(t for _, t in sorted(parts[k])) for k in ("content", "report"))
        return content.encode("utf-8"), report

    def latest(self, contributor: str) -> Version | None:
        versions = self.versions(contributor)
        return versions[0] if versions else None

    def unapplied(self) -> list[str]:
        return []  # written with the graph, or not at all


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")


def _version(row: dict[str, Node]) -> Version:
    try:
        return Version(
            id=str(row["id"]),
            contributor=str(row["contributor"]),
            created=str(row["created"]),
            sha256=str(row["sha256"]),
            size=int(str(row["size"])),
            triples=int(str(row["triples"])),
            media_type=str(row["mediaType"]),
            message=str(row["message"]) if "message" in row else None,
            replaces=str(row["replaces"]) if "replaces" in row else None,
            restores=str(row["restores"]) if "restores" in row else None,
            applied=True,
        )
    except (KeyError, ValueError) as error:
        raise LedgerError(f"A version in the engine's ledger is incomplete: {error}") from error
