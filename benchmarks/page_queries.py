"""The SPARQL our pages cost, as plain query strings another engine can be sent.

Our server builds an entity page, the home page and the VoID description from several
queries that it runs in-process. To compare it with an engine that only speaks SPARQL,
the benchmark sends that engine the same queries over HTTP. The texts below mirror
``panorama.linked_data.describe``, ``panorama.entity_page`` (``_statement_sources``,
``_schema_types``), ``panorama.home_page.build_home_page`` with ``Store.graph_sizes``, and
``panorama.void`` (its three counts); they are copied, not imported, so the benchmark does
not break when the server's private helpers move. When those modules change their queries,
change these too.

Left out because our server computes them once per store version and keeps them: the
property names every entity page shares (``entity_page.property_names``).
"""

from __future__ import annotations

from collections.abc import Callable

from panorama.linked_data import LABEL_PROPERTIES

__all__ = ["VOID_QUERIES", "entity_page_queries", "home_page_queries", "is_construct"]

_CP = "https://w3id.org/cluster-panorama/def#"
_SUBCLASS = "<http://www.w3.org/2000/01/rdf-schema#subClassOf>"
_LABELS = " ".join(f"<{p}>" for p in LABEL_PROPERTIES)

VOID_QUERIES: tuple[str, ...] = (
    """SELECT ?p (COUNT(*) AS ?n) WHERE { { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } } }
GROUP BY ?p""",
    """SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?class FILTER(isIRI(?class)) }
GROUP BY ?class""",
    "SELECT (COUNT(DISTINCT ?s) AS ?subjects) (COUNT(DISTINCT ?o) AS ?objects) WHERE { ?s ?p ?o }",
)


def is_construct(query: str) -> bool:
    """Whether ``query`` (one of this module's) returns triples rather than solutions."""
    return query.lstrip().startswith("CONSTRUCT")


def entity_page_queries(iri: str, types: list[str], lang: str = "de") -> list[str]:
    """The queries of the HTML page of ``iri`` (an ``id/`` IRI, so without fragments).

    Args:
        iri: the resource.
        types: its ``rdf:type`` values (the page looks up their schema.org mappings).
        lang: the reader's language; ``de`` when the request has no ``Accept-Language``.
    """
    subject = f"<{iri}>"
    queries = [
        f"""CONSTRUCT {{ ?s ?p ?o . ?o ?p1 ?o1 . ?o1 ?p2 ?o2 }} WHERE {{
  VALUES ?s {{ {subject} }} ?s ?p ?o
  OPTIONAL {{ ?o ?p1 ?o1 FILTER(isBlank(?o))
    OPTIONAL {{ ?o1 ?p2 ?o2 FILTER(isBlank(?o1)) }} }} }}""",
        f"""CONSTRUCT {{ ?in ?p ?s }} WHERE {{
  VALUES ?s {{ {subject} }} ?in ?p ?s FILTER(isIRI(?in)) }}""",
        f"""CONSTRUCT {{ ?n a ?type . ?n ?label ?name }} WHERE {{
  VALUES ?s {{ {subject} }} {{ ?s ?p ?n }} UNION {{ ?n ?p ?s }}
  FILTER(isIRI(?n) && ?n NOT IN ({subject}))
  {{ ?n a ?type }} UNION {{ VALUES ?label {{ {_LABELS} }} ?n ?label ?name }} }}""",
        f"""SELECT DISTINCT ?p ?o ?src ?label WHERE {{
  GRAPH ?g {{ {subject} ?p ?o }} ?g <http://www.w3.org/ns/prov#wasDerivedFrom> ?src
  OPTIONAL {{ ?src <http://www.w3.org/2000/01/rdf-schema#label> ?label
              FILTER(LANGMATCHES(LANG(?label), "{lang}")) }} }}""",
    ]
    if types:
        # The page binds the types with VALUES; Virtuoso refuses a transitive path whose
        # start comes from VALUES ("transitive start not given"), so each type starts its
        # own path here: the same solutions, and a query every engine runs.
        paths = " UNION ".join(
            f"{{ <{t}> (<http://www.w3.org/2000/01/rdf-schema#subClassOf>"
            f"|<http://www.w3.org/2002/07/owl#equivalentClass>)* ?schema }}"
            for t in types
        )
        queries.append(
            f"""SELECT DISTINCT ?schema WHERE {{ {paths}
  FILTER(STRSTARTS(STR(?schema), "https://schema.org/")) }}"""
        )
    return queries


def _count(class_iri: str) -> str:
    return f"SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ ?x a/{_SUBCLASS}* <{class_iri}> }}"


def home_page_queries(select: Callable[[str], list[dict[str, str]]]) -> list[str]:
    """The queries of the home page, in the order the page runs them.

    The label query names every field, cluster, kind and seat the earlier queries found,
    so this runs those through ``select`` (a query → rows of variable → value function,
    against any engine holding the data) to write it exactly as the page does.
    """
    pairs = {
        "assigned": f"SELECT DISTINCT ?a ?b WHERE {{ ?b <{_CP}innovationField> ?a }}",
        "joint": f"""SELECT DISTINCT ?a ?b WHERE {{ ?m a <{_CP}JointMention> ;
  <{_CP}mentionsField> ?a ; <{_CP}mentionsCluster> ?b }}""",
        "kinds": f"SELECT DISTINCT ?a ?b WHERE {{ ?b <{_CP}clusterKind> ?a }}",
        "seats": f"SELECT DISTINCT ?a ?b WHERE {{ ?b a <{_CP}Cluster> ; <{_CP}seat> ?a }}",
    }
    fields = f"""SELECT DISTINCT ?f WHERE {{ ?f a/{_SUBCLASS}* <{_CP}InnovationField> }}
ORDER BY ?f"""
    cross_sectional = f"SELECT ?f WHERE {{ ?f a <{_CP}CrossSectionalInnovationField> }}"
    clusters = f"SELECT ?c WHERE {{ ?c a <{_CP}Cluster> }}"
    named = {row["f"] for row in select(fields)} | {row["c"] for row in select(clusters)}
    for key in ("kinds", "seats"):
        named |= {value for row in select(pairs[key]) for value in (row["a"], row["b"])}
    values = " ".join(f"<{iri}>" for iri in sorted(named))
    labels = f"""CONSTRUCT {{ ?x ?p ?l }} WHERE {{ VALUES ?x {{ {values} }}
  VALUES ?p {{ <http://www.w3.org/2004/02/skos/core#prefLabel>
               <http://www.w3.org/2000/01/rdf-schema#label> }} ?x ?p ?l }}"""
    return [
        *pairs.values(),
        fields,
        cross_sectional,
        clusters,
        labels,
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
        _count(f"{_CP}Programme"),
        _count(f"{_CP}Event"),
        _count("http://www.w3.org/ns/org#Organization"),
    ]
