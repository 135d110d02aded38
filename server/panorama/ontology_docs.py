"""The ontology's documentation, generated from the ontology itself with pyLODE.

Served at the ontology IRI (``/def``) for browsers. pyLODE names its sections by label;
links to a term (``def#Cluster``) need an anchor named like the term, so one is added.
"""

from __future__ import annotations

import logging
import re

from rdflib import Graph

from panorama.store import QueryRequest, Store

__all__ = ["ontology_graph", "ontology_html"]


def ontology_graph(store: Store) -> Graph:
    """The triples of every bundled ontology file, as one graph, in a fixed order.

    pyLODE names a term by whichever of its labels it meets first; added in order, the
    page is the same whatever order the engine gives the triples in.
    """
    prefix = f"{store.base_iri}graph/ontology/"
    triples = store.triples(
        QueryRequest(
            f"""CONSTRUCT {{ ?s ?p ?o }} WHERE {{
                  GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), "{prefix}")) }}"""
        )
    )
    graph = Graph()
    for triple in sorted(triples, key=lambda t: tuple(term.n3() for term in t)):
        graph.add(triple)
    return graph


def ontology_html(store: Store) -> str:
    """The pyLODE page of the ontology, with an anchor for every term's local name."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    from pylode import OntPub

    # Importing pyLODE configures the root logger for DEBUG output; quiet it, then undo it.
    root.setLevel(logging.WARNING)
    try:
        html = OntPub(ontology=ontology_graph(store)).make_html()
    finally:
        root.setLevel(level)
        root.handlers[:] = handlers
    namespace = re.escape(f"{store.base_iri}def#")
    section = re.compile(
        r'(<div class="[^"]*entity" id="(?P<id>[^"]+)">)(?P<body>.{0,800}?)'
        rf"<code>{namespace}(?P<local>[A-Za-z_][\w-]*)</code>",
        re.DOTALL,
    )

    def add_anchor(match: re.Match[str]) -> str:
        if match["local"] == match["id"]:
            return match.group(0)
        opening = match.group(1)
        return opening + f'<a id="{match["local"]}"></a>' + match.group(0)[len(opening) :]

    return section.sub(add_anchor, html)
