"""Named SPARQL queries: the ``.rq`` files of ``queries/`` with their bilingual headers.

A query file starts with ``#+ key@lang: value`` lines::

    #+ title@de: Cluster eines Innovationsfelds
    #+ title@en: Clusters of one innovation field
    #+ description@en: The clusters and networks of a chosen innovation field.
    #+ param: field
    #+ example@field: <https://w3id.org/cluster-panorama/id/innovation-field/materials-production>

A parameter is a variable of the query that callers bind to an IRI; it is substituted as
an RDF term (SEP-0007), never pasted into the text, and the query must select it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from panorama.store import QueryRequest

__all__ = ["NamedQuery", "load_named_queries"]

_HEADER = re.compile(r"^#\+\s*([\w-]+)(?:@([\w-]+))?:\s*(.*)$")


@dataclass(frozen=True)
class NamedQuery:
    name: str
    text: str
    titles: dict[str, str]
    descriptions: dict[str, str]
    params: tuple[str, ...] = ()
    examples: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_file(cls, path: Path) -> NamedQuery:
        text = path.read_text(encoding="utf-8")
        titles: dict[str, str] = {}
        descriptions: dict[str, str] = {}
        params: list[str] = []
        examples: dict[str, str] = {}
        for line in text.splitlines():
            match = _HEADER.match(line)
            if not match:
                break
            key, qualifier, value = match.groups()
            if key == "title" and qualifier:
                titles[qualifier] = value
            elif key == "description" and qualifier:
                descriptions[qualifier] = value
            elif key == "param":
                params.extend(value.split())
            elif key == "example" and qualifier:
                examples[qualifier] = value.strip().strip("<>")
        return cls(path.stem, text, titles, descriptions, tuple(params), examples)

    def title(self, lang: str) -> str:
        return self.titles.get(lang) or self.titles.get("en") or self.name

    def description(self, lang: str) -> str:
        return self.descriptions.get(lang) or self.descriptions.get("en", "")

    def summary(self) -> dict[str, object]:
        """The query as ``GET /queries`` lists it."""
        return {
            "name": self.name,
            "title": self.titles,
            "description": self.descriptions,
            "parameters": {param: self.examples.get(param) for param in self.params},
            "url": f"/queries/{self.name}",
        }

    def request(self, **bindings: str) -> QueryRequest:
        """The query over the union of all graphs, its parameters bound (or their examples).

        Raises:
            KeyError: a parameter has neither a binding nor an example.
        """
        substitutions = tuple(
            (param, bindings.get(param) or self.examples[param]) for param in self.params
        )
        return QueryRequest(self.text, substitutions=substitutions)


def load_named_queries(folder: Path) -> dict[str, NamedQuery]:
    """Every ``.rq`` file of ``folder``, by name, in name order."""
    return {path.stem: NamedQuery.from_file(path) for path in sorted(folder.glob("*.rq"))}
