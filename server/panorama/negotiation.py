"""Content negotiation: the one table of formats, and the only code that reads ``Accept``.

A client names what it wants with the ``Accept`` header (q-values and wildcards honoured,
RFC 9110 section 12.5.1) or, for browsers and links, with a ``format`` parameter that
overrides the header.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from panorama.errors import BadRequest, NotAcceptable

__all__ = [
    "DOCUMENT_FORMATS",
    "GRAPH_FORMATS",
    "HTML",
    "JSON",
    "JSON_LD",
    "NTRIPLES",
    "RDF_XML",
    "SOLUTION_FORMATS",
    "TURTLE",
    "Format",
    "negotiate",
    "parse_accept",
]


@dataclass(frozen=True)
class Format:
    """A serialization: its short names (for ``format=``) and its media types (for ``Accept``)."""

    names: tuple[str, ...]
    media_type: str
    aliases: tuple[str, ...] = ()
    w3c_name: str | None = None  # its name in http://www.w3.org/ns/formats/
    rdflib_name: str | None = None  # rdflib's serializer, for documents the server builds

    @property
    def w3c_iri(self) -> str | None:
        return f"http://www.w3.org/ns/formats/{self.w3c_name}" if self.w3c_name else None

    @property
    def name(self) -> str:
        return self.names[0]

    @property
    def content_type(self) -> str:
        return f"{self.media_type}; charset=utf-8"

    def matches(self, media_range: str) -> bool:
        if media_range == "*/*":
            return True
        if media_range.endswith("/*"):
            return self.media_type.split("/")[0] == media_range[:-2]
        return media_range == self.media_type or media_range in self.aliases


# Order matters: on a tie (or `*/*`) the first format offered wins.
SOLUTION_FORMATS: tuple[Format, ...] = (
    Format(
        ("json", "srj"),
        "application/sparql-results+json",
        ("application/json",),
        "SPARQL_Results_JSON",
    ),
    Format(("xml", "srx"), "application/sparql-results+xml", (), "SPARQL_Results_XML"),
    Format(("csv",), "text/csv", (), "SPARQL_Results_CSV"),
    Format(("tsv",), "text/tab-separated-values", (), "SPARQL_Results_TSV"),
)

GRAPH_FORMATS: tuple[Format, ...] = (
    Format(("turtle", "ttl"), "text/turtle", ("application/x-turtle",), "Turtle", "turtle"),
    Format(
        ("ntriples", "nt", "n-triples"), "application/n-triples", ("text/plain",), "N-Triples", "nt"
    ),
    Format(
        ("jsonld", "json-ld", "json"),
        "application/ld+json",
        ("application/json",),
        "JSON-LD",
        "json-ld",
    ),
    Format(
        ("rdfxml", "rdf", "xml", "rdf+xml"),
        "application/rdf+xml",
        ("application/xml",),
        "RDF_XML",
        "xml",
    ),
    Format(("trig",), "application/trig", (), "TriG", "trig"),
    Format(("nquads", "nq", "n-quads"), "application/n-quads", (), "N-Quads", "nquads"),
    Format(("n3",), "text/n3", (), "N3", "n3"),
)

HTML = Format(("html",), "text/html", ("application/xhtml+xml",))
JSON = Format(("json",), "application/json")
TURTLE, NTRIPLES, JSON_LD, RDF_XML = GRAPH_FORMATS[:4]

#: The formats of the RDF documents the server builds itself (descriptions, VoID, DCAT),
#: Turtle first: what a client without preferences gets.
DOCUMENT_FORMATS: tuple[Format, ...] = (TURTLE, JSON_LD, RDF_XML, NTRIPLES)


def parse_accept(accept: str | None) -> list[tuple[str, float]]:
    """Parse an ``Accept`` header into (media range, q) pairs, most preferred first.

    Among equal q-values a more specific range wins (``text/turtle`` before ``text/*``
    before ``*/*``), as RFC 9110 asks. An absent or empty header accepts anything.
    """
    if not accept or not accept.strip():
        return [("*/*", 1.0)]
    ranges: list[tuple[str, float, int, int]] = []
    for position, part in enumerate(accept.split(",")):
        media_range, *params = (piece.strip() for piece in part.split(";"))
        if not media_range:
            continue
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    quality = 0.0
        specificity = 0 if media_range == "*/*" else 1 if media_range.endswith("/*") else 2
        ranges.append((media_range.lower(), quality, specificity, position))
    ranges.sort(key=lambda r: (-r[1], -r[2], r[3]))
    return [(media_range, quality) for media_range, quality, _, _ in ranges]


def _by_name(name: str, offered: Sequence[Format]) -> Format | None:
    wanted = name.strip().lower()
    for fmt in offered:
        if wanted in fmt.names or wanted == fmt.media_type or wanted in fmt.aliases:
            return fmt
    return None


def negotiate(
    accept: str | None,
    offered: Sequence[Format],
    format_param: str | Sequence[str] | None = None,
    *,
    known: Sequence[Format] = (),
) -> Format:
    """Choose the format to answer in.

    Args:
        accept: the request's ``Accept`` header.
        offered: the formats this answer can take, the default first.
        format_param: ``format`` parameter values; they beat the header. The first value
            that names an offered format wins: some clients (SPARQLWrapper) send both a short
            name and a list of media types.
        known: the formats of the other kind of answer. A ``format`` naming one of them gets
            406 (cannot be had here) rather than 400 (no such format). An ``Accept`` header
            naming only such formats gets the default of this kind instead: clients send one
            header for every query (rdflib's SPARQLStore asks for SPARQL JSON results even
            for CONSTRUCT), and they read the answer by its Content-Type.

    Raises:
        BadRequest: ``format_param`` names no format at all.
        NotAcceptable: nothing offered matches.
    """
    names = ", ".join(fmt.name for fmt in offered)
    values = [format_param] if isinstance(format_param, str) else list(format_param or ())
    wanted = [name for value in values for name in value.split(",") if name.strip()]
    if wanted:
        for name in wanted:
            chosen = _by_name(name, offered)
            if chosen is not None:
                return chosen
        if not any(_by_name(name, known) for name in wanted):
            raise BadRequest(f"Unknown format {values[0]!r}; this answer can be had as {names}.")
        raise NotAcceptable(f"This answer cannot be given as {values[0]!r}; use one of {names}.")
    ranges = parse_accept(accept)
    refused = {media_range for media_range, quality in ranges if quality == 0.0}
    for media_range, quality in ranges:
        if quality == 0.0:
            break
        for fmt in offered:
            if fmt.matches(media_range) and fmt.media_type not in refused:
                return fmt
    if any(fmt.matches(media_range) for media_range, q in ranges if q > 0 for fmt in known):
        return offered[0]
    raise NotAcceptable(
        f"None of the media types in 'Accept: {accept}' can be served here; "
        f"this answer is available as {', '.join(fmt.media_type for fmt in offered)}."
    )
