"""Names for terms in the reader's language, and the reader's language itself.

A page shows every IRI by a label: the reader's language first, then German (the source's
language), then English, then any; without a label, a prefixed name (``org:hasMember``),
which is still more readable than an IRI.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.term import Node
from starlette.requests import Request

from panorama.linked_data import LABEL_PROPERTIES
from panorama.negotiation import parse_accept
from panorama.store import Term, TermTriple

__all__ = [
    "LANGUAGES",
    "PREFIXES",
    "choose_language",
    "label_of",
    "prefixed_name",
    "request_language",
]

LANGUAGES = ("de", "en")

#: Prefixes for showing and serializing IRIs; the project's own come first.
PREFIXES: dict[str, str] = {
    "cp": "https://w3id.org/cluster-panorama/def#",
    "org": "http://www.w3.org/ns/org#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "schema": "https://schema.org/",
    "dcterms": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dcat": "http://www.w3.org/ns/dcat#",
    "void": "http://rdfs.org/ns/void#",
    "eurio": "http://data.europa.eu/s66#",
    "frapo": "http://purl.org/cerif/frapo/",
    "rov": "http://www.w3.org/ns/regorg#",
    "locn": "http://www.w3.org/ns/locn#",
    "cv": "http://data.europa.eu/m8g/",
    "sh": "http://www.w3.org/ns/shacl#",
    "spdx": "http://spdx.org/rdf/terms#",
    "vann": "http://purl.org/vocab/vann/",
}

_LABEL_PROPERTIES = tuple(URIRef(p) for p in LABEL_PROPERTIES)
_LABEL_RANK = {ox.NamedNode(prop): rank for rank, prop in enumerate(LABEL_PROPERTIES)}

#: Names for the common terms of other vocabularies, which the store holds no labels for.
COMMON_LABELS: dict[str, dict[str, str]] = {
    "http://www.w3.org/2000/01/rdf-schema#label": {"de": "Name", "en": "name"},
    "http://www.w3.org/2000/01/rdf-schema#comment": {"de": "Beschreibung", "en": "description"},
    "http://www.w3.org/2000/01/rdf-schema#seeAlso": {"de": "siehe auch", "en": "see also"},
    "http://www.w3.org/2004/02/skos/core#prefLabel": {"de": "Name", "en": "name"},
    "http://www.w3.org/2004/02/skos/core#altLabel": {"de": "anderer Name", "en": "other name"},
    "http://www.w3.org/2004/02/skos/core#definition": {"de": "Definition", "en": "definition"},
    "http://www.w3.org/2004/02/skos/core#inScheme": {"de": "in Schema", "en": "in scheme"},
    "http://www.w3.org/2004/02/skos/core#broader": {"de": "Oberbegriff", "en": "broader"},
    "http://www.w3.org/2004/02/skos/core#topConceptOf": {
        "de": "Hauptbegriff von",
        "en": "top concept of",
    },
    "http://xmlns.com/foaf/0.1/homepage": {"de": "Website", "en": "website"},
    "http://xmlns.com/foaf/0.1/page": {"de": "Seite", "en": "page"},
    "http://purl.org/dc/terms/title": {"de": "Titel", "en": "title"},
    "http://purl.org/dc/terms/description": {"de": "Beschreibung", "en": "description"},
    "http://purl.org/dc/terms/source": {"de": "Quelle", "en": "source"},
    "http://purl.org/dc/terms/date": {"de": "Datum", "en": "date"},
    "http://purl.org/dc/terms/isPartOf": {"de": "Teil von", "en": "part of"},
    "http://www.w3.org/ns/prov#wasDerivedFrom": {"de": "abgeleitet aus", "en": "derived from"},
    "http://www.w3.org/ns/prov#wasAttributedTo": {"de": "zugeschrieben", "en": "attributed to"},
    "https://schema.org/startDate": {"de": "Beginn", "en": "start date"},
    "https://schema.org/endDate": {"de": "Ende", "en": "end date"},
    "https://schema.org/location": {"de": "Ort", "en": "location"},
    "https://schema.org/organizer": {"de": "Veranstalter", "en": "organiser"},
    "https://schema.org/performer": {"de": "Mitwirkende", "en": "performer"},
    "https://schema.org/url": {"de": "Adresse", "en": "address"},
    "https://schema.org/name": {"de": "Name", "en": "name"},
    "https://schema.org/value": {"de": "Wert", "en": "value"},
    "https://schema.org/about": {"de": "über", "en": "about"},
    "http://www.w3.org/ns/org#hasMember": {"de": "Mitglied", "en": "member"},
    "http://www.w3.org/ns/org#memberOf": {"de": "Mitglied von", "en": "member of"},
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#type": {"de": "Typ", "en": "type"},
}


def choose_language(
    lang_param: str | None, accept_language: str | None, *, default: str = "de"
) -> str:
    """The reader's language: ``?lang=`` if it is one we have, else ``Accept-Language``."""
    if lang_param in LANGUAGES:
        return lang_param  # type: ignore[return-value]
    if accept_language:
        for language_range, quality in parse_accept(accept_language):
            primary = language_range.split("-")[0]
            if quality > 0 and primary in LANGUAGES:
                return primary
    return default


def request_language(request: Request, *, default: str = "de") -> str:
    """The language of the answer to ``request``: ``?lang=``, else ``Accept-Language``."""
    return choose_language(
        request.query_params.get("lang"), request.headers.get("accept-language"), default=default
    )


def prefixed_name(iri: str) -> str:
    """``http://www.w3.org/ns/org#hasMember`` → ``org:hasMember``; else the IRI itself."""
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{prefix}:{iri[len(namespace) :]}"
    return iri


def _rank(text: str, language: str | None, rank_property: int, lang: str) -> tuple[int, int, str]:
    """How good a label is for ``lang`` (lower is better): language, then property."""
    order = (lang, *(other for other in ("de", "en") if other != lang), None, "")
    rank_language = order.index(language) if language in order else len(order)
    return (rank_language, rank_property, text)


def fallback_label(iri: str, lang: str) -> str:
    """The name of a term the graph has no label for: a common name, or its prefixed name."""
    common = COMMON_LABELS.get(iri)
    if common is not None:
        return common.get(lang, common["en"])
    return prefixed_name(iri)


def label_of(graph: Graph, term: Node, lang: str) -> str:
    """The best label ``graph`` has for ``term`` in ``lang``, or a readable fallback."""
    best: tuple[int, int, str] | None = None
    for rank_property, prop in enumerate(_LABEL_PROPERTIES):
        for value in graph.objects(term, prop):  # type: ignore[arg-type]
            if isinstance(value, Literal):
                candidate = _rank(str(value), value.language, rank_property, lang)
                if best is None or candidate < best:
                    best = candidate
    return best[2] if best is not None else fallback_label(str(term), lang)


def best_labels(triples: Iterable[TermTriple], lang: str) -> dict[Term, str]:
    """``label_of`` for every labelled term of ``triples`` (Oxigraph's terms) at once.

    A page names a hundred terms; one pass over its triples costs less than looking each
    term up.
    """
    best: dict[Term, tuple[int, int, str]] = {}
    for term, prop, value in triples:
        rank_property = _LABEL_RANK.get(prop)  # type: ignore[call-overload]
        if rank_property is not None and isinstance(value, ox.Literal):
            candidate = _rank(value.value, value.language, rank_property, lang)
            if term not in best or candidate < best[term]:
                best[term] = candidate
    return {term: ranked[2] for term, ranked in best.items()}
