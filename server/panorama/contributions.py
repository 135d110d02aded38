"""Contributions: a contributor's Turtle becomes its graph, validated, attributed, reversible.

Each contributor writes one named graph, ``{base}graph/contributions/{name}``; a new
contribution replaces it whole. Every accepted version is described with PROV-O in the
contribution log graph (``{base}graph/contribution-log``): who, when, checksum, size,
the version it replaced; the document itself and its validation report stay in the ledger,
so every earlier version can be read and restored.

Order of a write, so that a crash never shows a half-accepted contribution:
1. the version is kept in the ledger, marked unapplied;
2. one store transaction replaces the graph and writes its PROV description (and, for a
   ledger kept in the engine, the version itself: then steps 1 and 3 write nothing);
3. the ledger marks the version applied; only then does the client hear 201.
At start-up, ``reconcile`` settles versions a crash left between 1 and 3.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from urllib.parse import quote

from panorama.errors import BadRequest, Forbidden
from panorama.ledger import ContributionLedger, Contributor, Version
from panorama.store import Record, Store, sparql_literal

__all__ = ["ACCEPTED_TYPES", "Contributions", "contribution_iri", "contributor_graph"]

#: Media types a contribution can be sent as, and the parser's name for each.
ACCEPTED_TYPES = {"text/turtle": "ttl", "application/n-triples": "nt"}

_PROV = "http://www.w3.org/ns/prov#"
_RDFS = "http://www.w3.org/2000/01/rdf-schema#"
_SPDX = "http://spdx.org/rdf/terms#"
_XSD = "http://www.w3.org/2001/XMLSchema#"
_DCAT = "http://www.w3.org/ns/dcat#"


def contributor_graph(base_iri: str, name: str) -> str:
    return f"{base_iri}graph/contributions/{name}"


def contribution_iri(base_iri: str, version_id: str) -> str:
    return f"{base_iri}id/contribution/{version_id}"


@dataclass(frozen=True)
class Accepted:
    version: Version
    iri: str
    graph: str


class Contributions:
    """The contribution workflow over one store and its ledger."""

    def __init__(self, store: Store, ledger: ContributionLedger) -> None:
        self.store = store
        self.ledger = ledger
        self.log_graph = f"{store.base_iri}graph/contribution-log"
        # One write at a time: the store's transaction is atomic, but "replace my graph
        # and say what it replaced" must read and write without another write between.
        self._write = threading.Lock()

    def graph_of(self, contributor: Contributor) -> str:
        return contributor_graph(self.store.base_iri, contributor.name)

    def check_target(self, contributor: Contributor, graph: str | None) -> str:
        """The graph a contributor may write: its own, and only that.

        Raises:
            Forbidden: ``graph`` names another contributor's graph, the bundled data or
                the contribution log.
        """
        own = self.graph_of(contributor)
        if graph is not None and graph != own:
            raise Forbidden(
                f"{contributor.name!r} may write only its own graph <{own}>, not <{graph}>."
            )
        return own

    def accept(
        self,
        contributor: Contributor,
        data: bytes,
        media_type: str,
        *,
        triples: int,
        report: str,
        message: str | None = None,
        restores: str | None = None,
    ) -> Accepted:
        """Make ``data`` (already validated) the contributor's graph, durably.

        Blocking: call it from a worker thread in the server.
        """
        graph = self.graph_of(contributor)
        with self._write:
            replaced = self.ledger.latest(contributor.name)
            version = self.ledger.record(
                contributor=contributor.name,
                content=data,
                media_type=media_type,
                triples=triples,
                report=report,
                message=message,
                replaces=replaced.id if replaced else None,
                restores=restores,
            )
            try:
                self.store.replace_graph(
                    graph,
                    data,
                    ACCEPTED_TYPES[media_type],
                    records=[
                        self._log_record(contributor, version, graph),
                        *self.ledger.statements(version),
                    ],
                )
            except BaseException:
                self.ledger.discard(version.id)
                raise
            self.ledger.mark_applied(version.id)
        return Accepted(version, contribution_iri(self.store.base_iri, version.id), graph)

    def _log_record(self, contributor: Contributor, version: Version, graph: str) -> Record:
        base = self.store.base_iri
        iri = contribution_iri(base, version.id)
        agent = f"{base}id/contributor/{contributor.name}"
        day = version.created[:10]
        lines = [
            f"<{iri}> a <{_PROV}Entity> ;",
            f"  <{_RDFS}label> {sparql_literal(f'Beitrag von {contributor.name} ({day})', 'de')},"
            f" {sparql_literal(f'Contribution by {contributor.name} ({day})', 'en')} ;",
            f"  <{_PROV}wasAttributedTo> <{agent}> ;",
            f'  <{_PROV}generatedAtTime> "{version.created}"^^<{_XSD}dateTime> ;',
            f'  <{_DCAT}byteSize> "{version.size}"^^<{_XSD}nonNegativeInteger> ;',
            f"  <http://rdfs.org/ns/void#triples> {version.triples} ;",
            f"  <{_RDFS}seeAlso> <{base}contributions/{quote(version.id)}/report> ;",
            f"  <{_SPDX}checksum> [ a <{_SPDX}Checksum> ;"
            f" <{_SPDX}algorithm> <{_SPDX}checksumAlgorithm_sha256> ;"
            f" <{_SPDX}checksumValue> {sparql_literal(version.sha256)} ] ;",
        ]
        if version.replaces:
            lines.append(f"  <{_PROV}wasRevisionOf> <{contribution_iri(base, version.replaces)}> ;")
        if version.restores:
            lines.append(
                f"  <{_PROV}wasDerivedFrom> <{contribution_iri(base, version.restores)}> ;"
            )
        if version.message:
            lines.append(
                f"  <http://purl.org/dc/terms/description> {sparql_literal(version.message)} ;"
            )
        lines[-1] = lines[-1].rstrip(" ;") + " ."
        lines += [
            f"<{agent}> a <{_PROV}Agent>, <http://xmlns.com/foaf/0.1/Agent> ;"
            f" <{_RDFS}label> {sparql_literal(contributor.name)} .",
            # The graph now holds this version: pages cite it as the source of its statements.
            f"<{graph}> <{_PROV}wasDerivedFrom> <{iri}> ; <{_PROV}wasAttributedTo> <{agent}> ;"
            f' <http://purl.org/dc/terms/modified> "{version.created}"^^<{_XSD}dateTime> .',
        ]
        return Record(self.log_graph, add="\n".join(lines), remove=f"<{graph}> ?p ?o")

    def restorable(self, version_id: str) -> tuple[Version, bytes]:
        """The version to restore and its document.

        Raises:
            BadRequest: there is no such accepted contribution.
        """
        version = self.ledger.version(version_id)
        if version is None:
            raise BadRequest(f"There is no contribution {version_id!r}.")
        content, _ = self.ledger.content(version_id)
        return version, content

    def reconcile(self) -> list[str]:
        """Make the ledger agree with the store, which is the truth about what was accepted.

        A version a crash left unapplied is kept if the store has it; a version the store
        does not have (an unfinished write, or a backup of the store taken before the
        ledger's) is dropped.

        Returns:
            the ids that were dropped.
        """
        if self.ledger.written_with_store:
            return []
        dropped = []
        candidates = [*self.ledger.unapplied(), *(v.id for v in self.ledger.versions())]
        for version_id in candidates:
            iri = contribution_iri(self.store.base_iri, version_id)
            if self.store.contains(iri, self.log_graph):
                self.ledger.mark_applied(version_id)
            else:
                self.ledger.discard(version_id)
                dropped.append(version_id)
        return dropped
