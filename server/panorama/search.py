"""Search over the labels of the graph's resources, forgiving of case and umlauts.

"köln", "Koeln" and "koln" all find Köln: every label is indexed in two spellings, with
umlauts written out (ö → oe) and with their dots dropped (ö → o).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from panorama.linked_data import LABEL_PROPERTIES
from panorama.store import QueryRequest, Store

__all__ = ["Hit", "SearchIndex", "fold"]

_APOSTROPHES = re.compile("['\u2019`\u00b4]")  # apostrophe, right quote, backtick, acute
_PUNCTUATION = re.compile(r"[^\w\s]+")
_WRITTEN_OUT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
# The properties that name things, as everywhere, and other names a resource goes by.
_LABEL_PROPERTIES = " ".join(
    f"<{p}>"
    for p in (
        *LABEL_PROPERTIES,
        "http://www.w3.org/2004/02/skos/core#altLabel",
        "https://schema.org/alternateName",
    )
)


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold(text: str) -> tuple[str, str]:
    """The two searchable spellings of ``text``: umlauts written out, and marks dropped.

    Apostrophes vanish ("it's" is "its") and other punctuation separates words.
    """
    lowered = _PUNCTUATION.sub(" ", _APOSTROPHES.sub("", text.casefold()))
    return _strip_marks(lowered.translate(_WRITTEN_OUT)), _strip_marks(lowered)


@dataclass(frozen=True)
class Hit:
    iri: str
    label: str
    lang: str | None


class SearchIndex:
    """Every label of every resource under ``{base}id/``, folded for matching."""

    def __init__(self, store: Store) -> None:
        rows = store.select(
            QueryRequest(
                f"""SELECT DISTINCT ?s ?label WHERE {{
                      VALUES ?p {{ {_LABEL_PROPERTIES} }} ?s ?p ?label
                      FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{store.base_iri}id/")) }}"""
            )
        )
        self._entries = [
            (
                " ".join(fold(str(row["label"]))),
                Hit(str(row["s"]), str(row["label"]), getattr(row["label"], "language", None)),
            )
            for row in rows
        ]

    def search(self, text: str, *, lang: str, limit: int = 50) -> list[Hit]:
        """Resources whose label holds every word of ``text``; one hit per resource.

        A label in the reader's language is preferred; labels that start with the first
        word rank first, then shorter labels.
        """
        alternatives = [fold(word) for word in text.split()]
        if not alternatives:
            return []
        best: dict[str, tuple[tuple[int, int, int], Hit]] = {}
        for folded, hit in self._entries:
            if all(any(a in folded for a in pair) for pair in alternatives):
                starts = 0 if any(folded.startswith(a) for a in alternatives[0]) else 1
                rank = (starts, 0 if hit.lang == lang else 1, len(hit.label))
                if hit.iri not in best or rank < best[hit.iri][0]:
                    best[hit.iri] = (rank, hit)
        ranked = sorted(best.values(), key=lambda item: (item[0], item[1].label))
        return [hit for _, hit in ranked[:limit]]
