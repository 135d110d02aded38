"""Where in a submitted Turtle (or N-Triples) file each subject's statements are.

No validator reports line numbers, and Oxigraph's parser does not expose positions of the
triples it yields, so this module scans the text itself: a small tokenizer (IRIs,
prefixed names, strings with their escapes and long forms, comments, punctuation) drives
a stack of "subject, predicate" contexts that follows Turtle's grammar closely enough to
know, for each token, which subject and predicate it belongs to. It records

* the line of every statement that starts with a subject (``subjects``),
* the line of every predicate under its subject (``properties``), so a finding about one
  property points at that property's line, and
* for anonymous blank nodes (``[ … ]``) the line where they open, under the subject and
  predicate whose object they are (``anonymous``), with their own properties.

It never decides whether the text is valid: the strict parser has already done that, so
the scanner may be lenient. N-Triples is a subset of Turtle and goes through the same
code. JSON-LD submissions get no line numbers.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import urljoin

__all__ = ["LineIndex", "index_turtle"]

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_UNICODE_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_LOCAL_ESCAPE = re.compile(r"\\([_~.\-!$&'()*+,;=/?#@%])")
_ABSOLUTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def _join(base: str, iri: str) -> str:
    # urljoin would drop the empty fragment of "https://…/def#".
    return iri if _ABSOLUTE.match(iri) else urljoin(base, iri)


@dataclass
class LineIndex:
    """Lines (1-based) by subject key: ``<iri>``, ``_:label`` or ``[line:column]``."""

    subjects: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    properties: dict[tuple[str, str], list[int]] = field(default_factory=lambda: defaultdict(list))
    anonymous: dict[tuple[str, str], list[str]] = field(default_factory=lambda: defaultdict(list))

    def lines(self, subject: str, predicate: str | None = None) -> list[int]:
        """The lines of ``predicate`` under ``subject`` if it has any, else of ``subject``."""
        if predicate is not None and self.properties.get((subject, predicate)):
            return sorted(set(self.properties[(subject, predicate)]))
        return sorted(set(self.subjects.get(subject, [])))


@dataclass(slots=True)
class _Token:
    kind: str  # iri, name, string, punct, lang, datatype-mark
    text: str
    line: int
    column: int


_TOKEN = re.compile(
    r"""(?P<ws>\s+|\#[^\n]*)
    |(?P<iri><[^>\s]*>)
    |(?P<string>"{3}(?:[^"\\]|\\.|"(?!""))*"{3}|'{3}(?:[^'\\]|\\.|'(?!''))*'{3}
        |"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
    |(?P<punct>[.;,\[\]()])
    |(?P<word>(?:[^\s<>"'{}()\[\];,\#^\\]|\\.)+)
    |(?P<other>.)""",
    re.VERBOSE | re.DOTALL,
)
_NUMBER_AND_DOT = re.compile(r"[+-]?[0-9]*\.?[0-9]+([eE][+-]?[0-9]+)?\.")


def _tokens(text: str) -> list[_Token]:
    """Split ``text`` into tokens with their line and column (1-based), by one regex.

    Lines come from the offsets of the newlines (a bisection per token), so whitespace
    and comments are skipped in one match however many lines they span.
    """
    newlines = [match.start() for match in re.finditer("\n", text)]
    tokens: list[_Token] = []

    def add(kind: str, value: str, start: int) -> None:
        line = bisect.bisect_left(newlines, start)
        column = start - (newlines[line - 1] + 1 if line else 0) + 1
        tokens.append(_Token(kind, value, line + 1, column))

    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind == "ws" or kind == "other":
            continue
        value = match.group()
        if kind == "iri":
            add("iri", value[1:-1], match.start())
        elif kind == "string":
            add("string", "", match.start())
        elif kind == "punct":
            add("punct", value, match.start())
        else:
            word, dot = value, False
            if word.endswith(".") and not _NUMBER_AND_DOT.fullmatch(word):
                word, dot = word.rstrip("."), True
            elif word.endswith(".") and len(word) > 1:  # "25." is 25, then the end
                word, dot = word[:-1], True
            if word:
                add("lang" if word.startswith("@") else "name", word, match.start())
            if dot:
                add("punct", ".", match.end() - 1)
    return tokens


class _Scanner:
    def __init__(self, base: str) -> None:
        self.base = base
        self.prefixes: dict[str, str] = {}
        self.index = LineIndex()

    def resolve(self, token: _Token) -> str | None:
        """The subject key or predicate IRI a term token stands for (None for literals)."""
        if token.kind == "iri":
            iri = _UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), token.text)
            return "<" + _join(self.base, iri) + ">"
        if token.kind != "name":
            return None
        if token.text == "a":
            return f"<{RDF_TYPE}>"
        if token.text.startswith("_:"):
            return token.text
        prefix, colon, local = token.text.partition(":")
        if colon and prefix in self.prefixes:
            return "<" + self.prefixes[prefix] + _LOCAL_ESCAPE.sub(r"\1", local) + ">"
        return None  # a number, a boolean, or an undeclared prefix

    def scan(self, tokens: list[_Token]) -> LineIndex:
        # A context: [subject key, predicate IRI or None, state]; state is what comes next.
        stack: list[list] = [[None, None, "subject"]]
        i = 0
        while i < len(tokens):
            token = tokens[i]
            context = stack[-1]
            word = token.text
            if context[2] == "subject" and token.kind in ("name", "lang") and len(stack) == 1:
                keyword = word.lower().lstrip("@")
                if keyword in ("prefix", "base") and (word.startswith("@") or word.isupper()):
                    i = self.directive(tokens, i, keyword)
                    continue
            if token.kind == "punct":
                i += 1
                if word == ".":
                    stack[:] = [[None, None, "subject"]]
                elif word == ";":
                    context[2] = "predicate"
                elif word == ",":
                    context[2] = "object"
                elif word == "[":
                    key = f"[{token.line}:{token.column}]"
                    self.index.subjects[key].append(token.line)
                    if context[2] == "object" and context[0] is not None:
                        self.index.anonymous[(context[0], context[1])].append(key)
                    elif context[2] == "subject":
                        context[0], context[2] = key, "predicate"
                    stack.append([key, None, "predicate"])
                elif word == "]" and len(stack) > 1:
                    stack.pop()
                    if stack[-1][2] not in ("predicate",):
                        stack[-1][2] = "after"
                elif word == "(":
                    stack.append([None, None, "collection"])
                elif word == ")" and len(stack) > 1:
                    stack.pop()
                    if stack[-1][2] == "subject":
                        stack[-1][2] = "predicate"
                    elif stack[-1][2] != "collection":
                        stack[-1][2] = "after"
                continue
            if token.kind == "lang":
                i += 1
                continue
            resolved = self.resolve(token)
            if context[2] == "subject":
                context[0], context[2] = resolved, "predicate"
                if resolved is not None:
                    self.index.subjects[resolved].append(token.line)
            elif context[2] == "predicate":
                context[1] = resolved[1:-1] if resolved is not None else None
                context[2] = "object"
                if context[0] is not None and context[1] is not None:
                    self.index.properties[(context[0], context[1])].append(token.line)
            elif context[2] == "object":
                context[2] = "after"
            i += 1
        return self.index

    def directive(self, tokens: list[_Token], i: int, keyword: str) -> int:
        """Read ``@prefix ns: <iri> .`` / ``PREFIX ns: <iri>`` / ``@base <iri> .``."""
        j = i + 1
        if keyword == "prefix" and j + 1 < len(tokens):
            self.prefixes[tokens[j].text.rstrip(":")] = _join(self.base, tokens[j + 1].text)
            j += 2
        elif keyword == "base" and j < len(tokens):
            self.base = _join(self.base, tokens[j].text)
            j += 1
        if j < len(tokens) and tokens[j].text == ".":
            j += 1
        return j


def index_turtle(text: str, base: str) -> LineIndex:
    """Index the subjects and predicates of Turtle ``text`` by line; ``base`` as in parsing."""
    return _Scanner(base).scan(_tokens(text))
