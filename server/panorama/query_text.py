"""Reading a SPARQL query's text before the engine sees it.

The engine would act on some queries in ways a public endpoint must not allow (``SERVICE``
makes pyoxigraph open an HTTP connection), and it ignores ``FROM`` when asked for a union
default graph. A full parse in Python would cost milliseconds per request; the keywords
that matter can be found reliably on the token level, once comments, strings and IRIs are
out of the way and ``\\u`` escapes are applied the way the SPARQL grammar applies them
(section 19.2: before parsing, anywhere in the query).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["UPDATE_KEYWORDS", "QueryText"]

UPDATE_KEYWORDS = frozenset(
    {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "ADD", "MOVE", "COPY", "WITH"}
)
_QUERY_FORMS = frozenset({"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"})

_CODEPOINT_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
# A character of a bare word, or an escape a prefixed name may hold (PN_LOCAL_ESC: "\#"
# is part of the name, not the start of a comment).
_WORD_UNIT = r"""(?:[^\s{}()\[\];,.'"<>\#=!|&+*/^?$\\]|\\[_~.\-!$&'()*+,;=/?\#@%])"""
_TOKEN = re.compile(
    r"""
      (?P<comment>\#[^\n\r]*)
    | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''
               |\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
               |'(?:[^'\\\n\r]|\\.)*'
               |"(?:[^"\\\n\r]|\\.)*")
    | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    | (?P<word>[?$@_]?{unit}+(?:\.{unit}+)*)
    """.replace("{unit}", _WORD_UNIT),
    re.VERBOSE | re.DOTALL,
)


def _unescape_codepoints(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        return chr(int(match.group(1) or match.group(2), 16))

    return _CODEPOINT_ESCAPE.sub(replace, text)


@dataclass(frozen=True)
class QueryText:
    """The keywords of a query, i.e. its bare words outside comments, strings and IRIs."""

    keywords: tuple[str, ...]

    @classmethod
    def read(cls, query: str) -> QueryText:
        words = [
            match.group("word").upper()
            for match in _TOKEN.finditer(_unescape_codepoints(query))
            if match.lastgroup == "word"
        ]
        # Prefixed names, variables, blank nodes and language tags are never keywords.
        return cls(tuple(w for w in words if ":" not in w and w[0] not in "?$@_"))

    @property
    def form(self) -> str | None:
        """SELECT, ASK, CONSTRUCT, DESCRIBE, an update keyword, or None if unrecognised."""
        for word in self.keywords:
            if word in _QUERY_FORMS or word in UPDATE_KEYWORDS:
                return word
        return None

    @property
    def is_update(self) -> bool:
        return self.form in UPDATE_KEYWORDS

    @property
    def uses_service(self) -> bool:
        return "SERVICE" in self.keywords

    @property
    def has_dataset_clause(self) -> bool:
        """True when the query picks its own dataset with ``FROM`` or ``FROM NAMED``."""
        return "FROM" in self.keywords
