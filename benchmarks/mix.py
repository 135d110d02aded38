"""The query mix that researchers and pages produce, parameterised per request.

Every kind draws its IRIs, words, dates and offsets from a seeded ``random.Random`` and the
manifest of the generated data, so consecutive requests differ (no result cache can answer
them trivially) while a run with the same seed asks exactly the same questions.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable
from dataclasses import dataclass

from benchmarks import words
from benchmarks.generate import ID, Manifest, cluster_iri, organisation_iri

__all__ = ["KINDS", "QueryInstance", "QueryKind", "draw", "draw_mix"]

PREFIXES = """PREFIX cp: <https://w3id.org/cluster-panorama/def#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX schema: <https://schema.org/>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
"""

JSON = "application/sparql-results+json"
NTRIPLES = "application/n-triples"


@dataclass(frozen=True)
class QueryInstance:
    kind: str
    query: str
    accept: str


@dataclass(frozen=True)
class QueryKind:
    name: str
    weight: int
    accept: str
    build: Callable[[random.Random, Manifest], str]
    description: str


def _entity(rnd: random.Random, m: Manifest) -> str:
    pick = rnd.randrange(4)
    if pick == 0:
        return cluster_iri(rnd.randrange(m.clusters))
    if pick == 1:
        return organisation_iri(rnd.randrange(m.organisations))
    if pick == 2:
        return f"<{ID}project/syn-p{rnd.randrange(m.projects)}>"
    return f"<{ID}event/syn-e{rnd.randrange(m.events)}>"


def _cluster(rnd: random.Random, m: Manifest) -> str:
    return cluster_iri(rnd.randrange(m.clusters))


def _day(rnd: random.Random) -> datetime.date:
    return datetime.date(2005, 1, 1) + datetime.timedelta(days=rnd.randrange(8000))


def lookup(rnd: random.Random, m: Manifest) -> str:
    return f"SELECT ?p ?o WHERE {{ {_entity(rnd, m)} ?p ?o }}"


def describe(rnd: random.Random, m: Manifest) -> str:
    return f"DESCRIBE {_entity(rnd, m)}"


def entity_page(rnd: random.Random, m: Manifest) -> str:
    c = _cluster(rnd, m)
    return (
        PREFIXES
        + f"""SELECT ?direction ?p ?o ?oLabel WHERE {{
  {{ {c} ?p ?o . BIND("out" AS ?direction) }}
  UNION {{ ?o ?p {c} . BIND("in" AS ?direction) }}
  OPTIONAL {{ ?o rdfs:label ?oLabel . FILTER(LANG(?oLabel) = "de") }}
}} LIMIT 500"""
    )


def field_counts(rnd: random.Random, m: Manifest) -> str:
    year = rnd.randrange(2005, 2022)
    return (
        PREFIXES
        + f"""SELECT ?field (SAMPLE(?name) AS ?fieldLabel) (COUNT(DISTINCT ?cluster) AS ?clusters)
WHERE {{
  ?cluster a cp:Cluster ; cp:innovationField ?field ; schema:foundingDate ?founded .
  FILTER(?founded >= "{year}-01-01"^^xsd:date)
  ?field skos:prefLabel ?name . FILTER(LANG(?name) = "de")
}} GROUP BY ?field ORDER BY DESC(?clusters) ?field"""
    )


def cross_clustering(rnd: random.Random, m: Manifest) -> str:
    c = _cluster(rnd, m)
    return (
        PREFIXES
        + f"""SELECT ?other ?otherLabel (COUNT(DISTINCT ?member) AS ?shared) WHERE {{
  {c} org:hasMember ?member . ?other org:hasMember ?member .
  FILTER(?other != {c})
  ?other rdfs:label ?otherLabel . FILTER(LANG(?otherLabel) = "de")
}} GROUP BY ?other ?otherLabel ORDER BY DESC(?shared) ?other LIMIT 20"""
    )


def text_search(rnd: random.Random, m: Manifest) -> str:
    word = rnd.choice(words.SEARCH_WORDS)
    return (
        PREFIXES
        + f"""SELECT ?s ?label WHERE {{
  ?s rdfs:label ?label . FILTER(CONTAINS(LCASE(STR(?label)), "{word}"))
}} LIMIT 100"""
    )


def regex_search(rnd: random.Random, m: Manifest) -> str:
    name = rnd.choice(words.SURNAMES)[:4]
    return (
        PREFIXES
        + f"""SELECT ?org ?label WHERE {{
  ?org a org:Organization ; rdfs:label ?label . FILTER(REGEX(?label, "^{name}", "i"))
}} ORDER BY ?label ?org LIMIT 50"""
    )


def project_listing(rnd: random.Random, m: Manifest) -> str:
    top = rnd.randrange(len(words.PROGRAMME_NAMES))
    generation = rnd.randrange(1, 8)
    offset = rnd.choice((0, 0, 0, 20, 40, 100))
    return (
        PREFIXES
        + f"""SELECT ?project ?label ?amount WHERE {{
  ?project cp:participatesInProgramme <{ID}programme/syn-prog{top}-{generation}> ;
           rdfs:label ?label ; schema:funding/schema:amount ?amount .
}} ORDER BY DESC(?amount) ?project LIMIT 20 OFFSET {offset}"""
    )


def cluster_listing(rnd: random.Random, m: Manifest) -> str:
    kind = rnd.choice([k for k, _ in words.KINDS])
    offset = rnd.choice((0, 0, 50, 100))
    return (
        PREFIXES
        + f"""SELECT ?cluster ?label ?founded WHERE {{
  ?cluster a cp:Cluster ; cp:clusterKind <{ID}cluster-kind/{kind}> ;
           rdfs:label ?label ; schema:foundingDate ?founded . FILTER(LANG(?label) = "de")
}} ORDER BY ?label ?cluster LIMIT 50 OFFSET {offset}"""
    )


def region_path(rnd: random.Random, m: Manifest) -> str:
    bezirk = rnd.choice(m.bezirke)
    field = rnd.choice(words.FIELDS)
    return (
        PREFIXES
        + f"""SELECT ?cluster ?label WHERE {{
  ?cluster a cp:Cluster ; cp:seat/skos:broader* <{ID}region/{bezirk}> ;
           cp:innovationField <{ID}innovation-field/{field}> ;
           rdfs:label ?label . FILTER(LANG(?label) = "de")
}} ORDER BY ?label ?cluster LIMIT 100"""
    )


def _topic_depth(slug: str) -> int:
    """1 for a topic right below an innovation field, 2 below that, 3 at the bottom."""
    depth = 0
    for part in reversed(slug.split("-")):
        if not part.isdigit():
            break
        depth += 1
    return depth


def topic_path(rnd: random.Random, m: Manifest) -> str:
    top = rnd.choice([t for t in m.topics if _topic_depth(t) <= 2])
    return (
        PREFIXES
        + f"""SELECT (COUNT(DISTINCT ?org) AS ?organisations) WHERE {{
  ?org a org:Organization ; dcterms:subject/skos:broader* <{ID}topic/{top}> .
}}"""
    )


def construct_subgraph(rnd: random.Random, m: Manifest) -> str:
    c = _cluster(rnd, m)
    return (
        PREFIXES
        + f"""CONSTRUCT {{
  {c} ?p ?o . ?member rdfs:label ?memberLabel ; cp:seat ?seat .
  ?project rdfs:label ?projectLabel ; schema:funding ?grant . ?grant schema:amount ?amount .
}} WHERE {{
  {{ {c} ?p ?o }}
  UNION {{ {c} org:hasMember ?member . ?member rdfs:label ?memberLabel ; cp:seat ?seat }}
  UNION {{ ?project schema:sourceOrganization {c} ; rdfs:label ?projectLabel ;
            schema:funding ?grant . ?grant schema:amount ?amount }}
}}"""
    )


def events_window(rnd: random.Random, m: Manifest) -> str:
    start = _day(rnd)
    end = start + datetime.timedelta(days=60)
    return (
        PREFIXES
        + f"""SELECT ?event ?label ?start ?placeLabel WHERE {{
  ?event a cp:Event ; rdfs:label ?label ; schema:startDate ?start ;
         schema:location/rdfs:label ?placeLabel .
  FILTER(?start >= "{start}"^^xsd:date && ?start < "{end}"^^xsd:date)
}} ORDER BY ?start ?event LIMIT 100"""
    )


def label_awards(rnd: random.Random, m: Manifest) -> str:
    level = rnd.choice(("bronze", "silver", "gold"))
    year = rnd.randrange(2012, 2024)
    return (
        PREFIXES
        + f"""SELECT ?award ?cluster ?clusterLabel ?date ?renewalOf WHERE {{
  ?award a cp:LabelAward ; cp:awardedLabel <{ID}cluster-label/{level}> ;
         cp:awardedTo ?cluster ; dcterms:date ?date .
  FILTER(?date >= "{year}-01-01"^^xsd:date)
  ?cluster rdfs:label ?clusterLabel . FILTER(LANG(?clusterLabel) = "de")
  OPTIONAL {{ ?award cp:isRenewalOf ?renewalOf }}
}} ORDER BY ?date ?award LIMIT 200"""
    )


def large_select(rnd: random.Random, m: Manifest) -> str:
    offset = rnd.randrange(0, max(1, min(m.triples - 100_000, 200_000)))
    return f"SELECT ?s ?p ?o WHERE {{ ?s ?p ?o }} LIMIT 100000 OFFSET {offset}"


KINDS: dict[str, QueryKind] = {
    kind.name: kind
    for kind in (
        QueryKind("lookup", 20, JSON, lookup, "all triples of a random IRI"),
        QueryKind("describe", 8, NTRIPLES, describe, "DESCRIBE a random IRI"),
        QueryKind(
            "entity-page",
            14,
            JSON,
            entity_page,
            "a cluster page: links both ways with German labels",
        ),
        QueryKind(
            "field-counts",
            4,
            JSON,
            field_counts,
            "clusters per innovation field, founded since a year",
        ),
        QueryKind(
            "cross-clustering", 6, JSON, cross_clustering, "clusters sharing members with a cluster"
        ),
        QueryKind("text-search", 6, JSON, text_search, "CONTAINS(LCASE(label), word)"),
        QueryKind("regex", 3, JSON, regex_search, "REGEX ^name on organisation labels"),
        QueryKind(
            "project-listing",
            7,
            JSON,
            project_listing,
            "projects of a programme ORDER BY budget LIMIT/OFFSET",
        ),
        QueryKind(
            "cluster-listing",
            5,
            JSON,
            cluster_listing,
            "clusters of a kind ORDER BY label LIMIT/OFFSET",
        ),
        QueryKind(
            "region-path",
            5,
            JSON,
            region_path,
            "clusters seated in a Regierungsbezirk (cp:seat/skos:broader*)",
        ),
        QueryKind(
            "topic-path",
            4,
            JSON,
            topic_path,
            "organisations under a topic (dcterms:subject/skos:broader*)",
        ),
        QueryKind(
            "construct",
            5,
            NTRIPLES,
            construct_subgraph,
            "CONSTRUCT a cluster with members and projects",
        ),
        QueryKind(
            "events-window",
            4,
            JSON,
            events_window,
            "events in a 60-day xsd:date window ORDER BY date",
        ),
        QueryKind("label-awards", 3, JSON, label_awards, "awards of a label since a year"),
        QueryKind("select-100k", 1, JSON, large_select, "100,000-row SELECT with OFFSET"),
    )
}


def draw(kind: str, rnd: random.Random, manifest: Manifest) -> QueryInstance:
    spec = KINDS[kind]
    return QueryInstance(kind, spec.build(rnd, manifest), spec.accept)


def draw_mix(count: int, rnd: random.Random, manifest: Manifest) -> list[QueryInstance]:
    """``count`` queries drawn by the kinds' weights."""
    names = list(KINDS)
    weights = [KINDS[n].weight for n in names]
    return [draw(rnd.choices(names, weights)[0], rnd, manifest) for _ in range(count)]
