"""Keeping a client's query to the store's own graphs, before it is sent to an engine.

An engine holds more than the store publishes: the server's private records (the
contribution ledger), other applications' data, Virtuoso's system graphs. The embedded
store keeps those elsewhere; on an engine, the ``/sparql`` proxy must keep a query from
naming them. The protocol's dataset (``default-graph-uri``/``named-graph-uri``, sent for
every query without ``FROM``) limits ``GRAPH ?g`` to the store's graphs; what a query names
itself is checked here:

- ``FROM``, ``FROM NAMED`` and ``GRAPH`` with an IRI outside the store's prefix are refused;
- a query with ``FROM`` but no ``FROM NAMED`` gets ``FROM NAMED <urn:x-panorama:no-graph>``:
  by the standard it has no named graphs, but Virtuoso 7.2 then lets ``GRAPH ?g`` range
  over every graph it holds (and merges the protocol's dataset with ``FROM`` rather than
  replacing it, so the protocol cannot be used to narrow it);
- IRIs of engine extensions that reach past SPARQL (Virtuoso's ``bif:`` and ``sql:``
  functions) are refused anywhere, and so are prefixes the query does not declare
  (engines predeclare theirs: Virtuoso's ``bif:``) and pragmas (Virtuoso's ``DEFINE
  input:default-graph-uri <…>`` would pick any graph).

The check reads tokens, as ``query_text`` does; it does not parse. Oxigraph has no
parse-only call in Python, and its ``query`` on an empty store evaluates more than one
would think (an aggregate over large ``VALUES`` computed for seconds, in the server's own
thread, with no deadline): the engine parses, and its syntax errors are passed on (400).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin

from panorama.errors import BadRequest, QuerySyntaxError

__all__ = ["NO_GRAPH", "ScopedQuery", "scope_query"]

#: A graph no one writes: as the only named graph, it makes ``GRAPH`` match nothing.
NO_GRAPH = "urn:x-panorama:no-graph"
#: Namespaces whose IRIs call engine internals (SQL, HTTP, files) rather than name data.
_REFUSED_NAMESPACES = ("bif:", "sql:", "java:", "clr:", "http://www.openlinksw.com/")

_UNIT = r"""(?:[^\s{}()\[\];,.'"<>\#=!|&+*/^?$\\]|\\[_~.\-!$&'()*+,;=/?\#@%])"""
_TOKEN = re.compile(
    r"""
      (?P<space>\s+|\#[^\n\r]*)
    | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''
               |\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
               |'(?:[^'\\\n\r]|\\.)*'
               |"(?:[^"\\\n\r]|\\.)*")
    | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    | (?P<var>[?$][^\s{}()\[\];,.'"<>\#=!|&+*/^?$\\]+)
    | (?P<word>{unit}+(?:\.{unit}+)*)
    | (?P<other>.)
    """.replace("{unit}", _UNIT),
    re.VERBOSE | re.DOTALL,
)
_CODEPOINT_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_LOCAL_ESCAPE = re.compile(r"\\(.)")
#: Words that start an engine's own pragmas rather than SPARQL.
_PRAGMAS = frozenset({"DEFINE"})


@dataclass(frozen=True)
class ScopedQuery:
    """A query ready for the engine: its text (perhaps with ``FROM NAMED`` added), its form."""

    text: str
    form: str | None


def _unescape(query: str) -> str:
    # SPARQL applies \\u escapes before parsing, anywhere (section 19.2): so does this check.
    return _CODEPOINT_ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), query)


def _tokens(query: str) -> list[tuple[str, str, int, int]]:
    """``(kind, text, start, end)`` of every token but space and comments."""
    found = []
    for match in _TOKEN.finditer(query):
        kind = match.lastgroup or "other"
        if kind != "space":
            found.append((kind, match.group(), match.start(), match.end()))
    return found


class _Resolver:
    """Turns IRI tokens and prefixed names into absolute IRIs, as the prologue declares."""

    def __init__(self) -> None:
        self.base: str | None = None
        self.prefixes: dict[str, str] = {}

    def iri(self, kind: str, text: str) -> str | None:
        """The absolute IRI of a token, or None for a relative IRI without BASE."""
        if kind == "iri":
            value = text[1:-1]
            if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", value):
                return value
            return urljoin(self.base, value) if self.base else None
        prefix, _, local = text.partition(":")
        namespace = self.prefixes.get(prefix)
        if namespace is None:
            return None  # an undeclared prefix: the parser refuses it
        return namespace + _LOCAL_ESCAPE.sub(r"\1", local)


def _is_name(kind: str, text: str) -> bool:
    return kind == "iri" or (kind == "word" and ":" in text and not text.startswith("_:"))


def scope_query(query: str, in_scope: Callable[[str], bool], scope: str) -> ScopedQuery:
    """Check that ``query`` names only graphs in scope; add ``FROM NAMED`` where needed.

    Args:
        in_scope: whether a graph IRI is one of the store's.
        scope: how to name the scope in messages (the store's graph prefix).

    Raises:
        QuerySyntaxError: a prefix is used without being declared.
        BadRequest: the query names a graph outside the scope, a relative graph IRI
            without BASE, an engine-internal function, or holds an engine's pragma.
    """
    unescaped = _unescape(query)
    tokens = _tokens(unescaped)
    resolver = _Resolver()
    depth, form = 0, None
    has_from = has_from_named = False
    last_dataset_end: int | None = None
    for index, (kind, text, _, end) in enumerate(tokens):
        upper = text.upper() if kind == "word" else ""
        following = tokens[index + 1] if index + 1 < len(tokens) else ("end", "", 0, 0)
        if kind == "other" and text == "{":
            depth += 1
        elif kind == "other" and text == "}":
            depth -= 1
        elif upper == "BASE" and following[0] == "iri":
            resolver.base = resolver.iri("iri", following[1]) or resolver.base
        elif upper == "PREFIX" and following[0] == "word" and index + 2 < len(tokens):
            namespace = resolver.iri(tokens[index + 2][0], tokens[index + 2][1])
            resolver.prefixes[following[1].rstrip(":")] = namespace or ""
        elif upper in _PRAGMAS:
            raise BadRequest(
                f"{text} is an engine's own pragma; this endpoint runs standard SPARQL 1.1 only."
            )
        elif upper in ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE") and form is None:
            form = upper
        elif upper in ("FROM", "GRAPH"):
            named = upper == "FROM" and following[0] == "word" and following[1].upper() == "NAMED"
            target = tokens[index + 2] if named and index + 2 < len(tokens) else following
            if upper == "FROM":
                has_from_named |= named
                has_from |= not named
                last_dataset_end = target[3]
            if _is_name(target[0], target[1]):
                _check_graph(resolver.iri(target[0], target[1]), target[1], in_scope, scope)
        if _is_name(kind, text):
            iri = resolver.iri(kind, text)
            if iri is None and kind == "word":
                raise _undeclared_prefix(unescaped, end)
            iri = iri or ""
            if iri.startswith(_REFUSED_NAMESPACES):
                raise BadRequest(
                    f"{text} is an engine's own extension; this endpoint runs standard "
                    "SPARQL 1.1 only."
                )
    if has_from and not has_from_named and last_dataset_end is not None:
        # Spelled out for engines that would otherwise let GRAPH see everything.
        unescaped = (
            f"{unescaped[:last_dataset_end]} FROM NAMED <{NO_GRAPH}>{unescaped[last_dataset_end:]}"
        )
        return ScopedQuery(unescaped, form)
    return ScopedQuery(query, form)


def _undeclared_prefix(query: str, end: int) -> QuerySyntaxError:
    """The error the embedded store gives for a prefixed name that ends at ``end``.

    Its place is Oxigraph's: the line, and the column just after the name.
    """
    line = query.count("\n", 0, end) + 1
    start = query.rfind("\n", 0, end) + 1
    column = end - start + 1
    text = query[start:].split("\n", 1)[0].rstrip("\r")
    return QuerySyntaxError(
        f"SPARQL syntax error at line {line}, column {column}: undeclared prefix; declare it "
        f"with PREFIX (or use the full <IRI>)\n  {text}\n  {' ' * (column - 1)}^"
    )


def _check_graph(
    iri: str | None, written: str, in_scope: Callable[[str], bool], scope: str
) -> None:
    if iri is None:
        raise BadRequest(
            f"The graph {written} is not an absolute IRI: write it in full (or declare BASE)."
        )
    if not in_scope(iri):
        raise BadRequest(
            f"The graph <{iri}> is not one of this dataset's: this endpoint serves the graphs "
            f"whose IRIs start with <{scope}>."
        )
