"""The SPARQL 1.1 Service Description of the endpoint, for ``GET /sparql`` without a query.

It says what a client can rely on: the endpoint, the language, every result format, that the
default graph is the union of the named graphs, and which named graphs there are.
"""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, VOID, XSD
from starlette.requests import Request
from starlette.responses import Response

from panorama.negotiation import (
    DOCUMENT_FORMATS,
    GRAPH_FORMATS,
    HTML,
    SOLUTION_FORMATS,
    Format,
    negotiate,
)
from panorama.templating import render

__all__ = ["DatasetSummary", "describe_service", "service_description_response"]

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
ENTAILMENT = Namespace("http://www.w3.org/ns/entailment/")


@dataclass(frozen=True)
class DatasetSummary:
    """Named graphs and their sizes, as the description reports them."""

    graph_sizes: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.graph_sizes.values())


def describe_service(endpoint: str, dataset: DatasetSummary, *, timeout: float) -> Graph:
    """Build the description of the endpoint at ``endpoint`` as an RDF graph."""
    graph = Graph()
    graph.bind("sd", SD)
    graph.bind("void", VOID)
    graph.bind("dcterms", DCTERMS)
    service = URIRef(endpoint)
    graph.add((service, RDF.type, SD.Service))
    graph.add((service, SD.endpoint, service))
    graph.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    graph.add((service, SD.feature, SD.UnionDefaultGraph))
    graph.add((service, SD.defaultEntailmentRegime, ENTAILMENT.Simple))
    graph.add((service, DCTERMS.title, Literal("Cluster-Panorama NRW SPARQL endpoint", lang="en")))
    graph.add(
        (
            service,
            DCTERMS.description,
            Literal(
                "Read-only SPARQL 1.1 endpoint. SERVICE and updates are refused; queries are "
                f"stopped after {timeout:g} s.",
                lang="en",
            ),
        )
    )
    for fmt in (*SOLUTION_FORMATS, *GRAPH_FORMATS):
        if fmt.w3c_iri:
            graph.add((service, SD.resultFormat, URIRef(fmt.w3c_iri)))

    dataset_node, default_graph = BNode(), BNode()
    graph.add((service, SD.defaultDataset, dataset_node))
    graph.add((dataset_node, RDF.type, SD.Dataset))
    graph.add((dataset_node, SD.defaultGraph, default_graph))
    graph.add((default_graph, RDF.type, SD.Graph))
    graph.add((default_graph, VOID.triples, Literal(dataset.total, datatype=XSD.integer)))
    graph.add(
        (default_graph, DCTERMS.description, Literal("The union of all named graphs.", lang="en"))
    )
    for name, size in sorted(dataset.graph_sizes.items()):
        named, content = BNode(), BNode()
        graph.add((dataset_node, SD.namedGraph, named))
        graph.add((named, RDF.type, SD.NamedGraph))
        graph.add((named, SD.name, URIRef(name)))
        graph.add((named, SD.graph, content))
        graph.add((content, RDF.type, SD.Graph))
        graph.add((content, VOID.triples, Literal(size, datatype=XSD.integer)))
    return graph


def service_description_response(
    request: Request,
    dataset: DatasetSummary,
    *,
    timeout: float,
    format_param: tuple[str, ...],
) -> Response:
    """Answer ``GET /sparql`` without a query: HTML for browsers, RDF for everyone else."""
    endpoint = str(request.url_for("sparql"))
    offered: list[Format] = [DOCUMENT_FORMATS[0], HTML, *DOCUMENT_FORMATS[1:]]
    chosen = negotiate(request.headers.get("accept"), offered, format_param, known=SOLUTION_FORMATS)
    headers = {
        "Vary": "Accept",
        "Link": f'<{endpoint}?format=turtle>; rel="alternate"; type="text/turtle"',
    }
    if chosen is HTML:
        return render(
            request,
            "service.html",
            {
                "endpoint": endpoint,
                "timeout": f"{timeout:g}",
                "graphs": sorted(dataset.graph_sizes.items()),
                "total": dataset.total,
                "solution_formats": SOLUTION_FORMATS,
                "graph_formats": GRAPH_FORMATS,
            },
            headers=headers,
        )
    body = describe_service(endpoint, dataset, timeout=timeout).serialize(format=chosen.rdflib_name)
    return Response(body, media_type=chosen.content_type, headers=headers)
