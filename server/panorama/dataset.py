"""The DCAT-AP 3.0.1 record of the dataset: catalog, dataset, distributions, SPARQL service.

European portals (data.europa.eu and the national ones feeding it) harvest DCAT-AP; the
record conforms to the official DCAT-AP 3.0.1 SHACL shapes *with* their range shapes, which
require every linked thing to carry its class (a licence is a ``dct:LicenseDocument``, a
theme a ``skos:Concept`` with a label…), so the record types and labels each of them.

Catalog and dataset have persistent IRIs in the namespace (``DatasetIris``); the URLs to
download or query (dumps, endpoint, landing page) are those of the server answering, so a
staging server's record points at the staging server.
"""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, SKOS, XSD

from panorama import __version__
from panorama.config import Settings
from panorama.dumps import DUMP_FORMATS, current_dump
from panorama.store import QueryRequest, Store

__all__ = ["DatasetIris", "dataset_description", "dataset_iris", "server_urls"]

SPDX = Namespace("http://spdx.org/rdf/terms#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
DCAT_VERSION = URIRef("http://www.w3.org/ns/dcat#version")  # DCAT 3; rdflib knows DCAT 2
VOID = Namespace("http://rdfs.org/ns/void#")
IANA = Namespace("https://www.iana.org/assignments/media-types/")
EU = "http://publications.europa.eu/resource/authority/"
FILE_TYPE = Namespace(EU + "file-type/")
LANGUAGE = Namespace(EU + "language/")
DATA_THEME = Namespace(EU + "data-theme/")
FREQUENCY = Namespace(EU + "frequency/")
ACCESS_RIGHT = Namespace(EU + "access-right/")

#: The licence the ontology declares (ontology/cluster-panorama.ttl); used where it does not.
DEFAULT_LICENCE = "https://creativecommons.org/licenses/by/4.0/"
NRW = URIRef("http://data.europa.eu/nuts/code/DEA")  # NUTS 1: Nordrhein-Westfalen
# Labels as the EU data-theme vocabulary gives them; the range shapes want each theme
# to be a skos:Concept with a prefLabel inside the record itself.
THEMES = {
    "ECON": "Economy and finance",
    "TECH": "Science and technology",
    "REGI": "Regions and cities",
}
KEYWORDS = {
    "de": ("Cluster", "Netzwerke", "Innovationsstrategie", "Nordrhein-Westfalen", "Förderung"),
    "en": ("clusters", "networks", "innovation strategy", "North Rhine-Westphalia", "funding"),
}
TITLE = {"de": "Cluster-Panorama NRW", "en": "Cluster-Panorama NRW"}
DESCRIPTION = {
    "de": "Offener Wissensgraph der Cluster-Landschaft Nordrhein-Westfalens nach dem "
    "Kurzbericht »Cluster-Panorama NRW« (NRW.innovativ, 2022): Cluster und Netzwerke, die "
    "sieben Innovationsfelder der Regionalen Innovationsstrategie 2021-2027, EU- und "
    "Bundesprogramme, europäische Cluster-Label und Veranstaltungen, jede Aussage mit "
    "ihrer Quelle (ein benannter Graph je Quelle).",
    "en": "Open knowledge graph of the cluster landscape of North Rhine-Westphalia, built "
    'from the brief "Cluster-Panorama NRW" (NRW.innovativ, 2022): clusters and networks, '
    "the seven innovation fields of the Regional Innovation Strategy 2021-2027, EU and "
    "federal programmes, European cluster labels and events, every statement with its "
    "source (one named graph per source).",
}

_ONTOLOGY_FACTS = """
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX foaf: <http://xmlns.com/foaf/0.1/>
SELECT ?ontology ?agent ?licence ?issued ?name WHERE {
  OPTIONAL { ?ontology dcterms:license ?licence }
  OPTIONAL { ?ontology dcterms:issued ?issued }
  OPTIONAL { ?agent foaf:name ?name }
} LIMIT 1"""


@dataclass(frozen=True)
class DatasetIris:
    """The persistent IRIs the record describes, all in the namespace.

    Dereferencing any of them should answer with ``dataset_description``.
    """

    catalog: str
    dataset: str
    service: str
    publisher: str

    def distribution(self, name: str) -> str:
        return f"{self.dataset}#{name}"

    @property
    def documents(self) -> tuple[str, ...]:
        """The IRIs (without fragment) whose description is the record."""
        return (self.catalog, self.dataset, self.service)


def dataset_iris(base_iri: str) -> DatasetIris:
    return DatasetIris(
        catalog=f"{base_iri}id/catalog",
        dataset=f"{base_iri}id/dataset/cluster-panorama",
        service=f"{base_iri}id/service/sparql",
        # Declared in the ontology as its creator and publisher.
        publisher=f"{base_iri}id/agent/cluster-panorama",
    )


@dataclass(frozen=True)
class ServerUrls:
    """Where the server answering this request serves things."""

    root: str

    @property
    def sparql(self) -> str:
        return f"{self.root}sparql"

    @property
    def void(self) -> str:
        return f"{self.root}.well-known/void"

    @property
    def catalog(self) -> str:
        return f"{self.root}catalog"

    def dump(self, file_name: str) -> str:
        return f"{self.root}dumps/{file_name}"


def server_urls(base_url: str) -> ServerUrls:
    """The server's URLs below ``base_url`` (``str(request.base_url)``, slash or not)."""
    return ServerUrls(base_url.rstrip("/") + "/")


def _ontology_facts(store: Store, settings: Settings, publisher: str) -> dict[str, object]:
    request = QueryRequest(
        _ONTOLOGY_FACTS,
        substitutions=(("ontology", f"{settings.base_iri}def"), ("agent", publisher)),
    )
    rows = store.select(request)
    return dict(rows[0]) if rows else {}


def dataset_description(settings: Settings, store: Store, base_url: str) -> Graph:
    """Build the DCAT-AP record: catalog, dataset, its distributions, the SPARQL service.

    Makes the dumps first if the store changed since they were made (their size and
    checksum are in the record), which reads the whole store: call it from a worker
    thread (a plain ``def`` route), not from the event loop.

    Args:
        settings: the namespace (``base_iri``) and the contact page.
        store: the store whose published graphs the dataset is.
        base_url: the root URL of the answering server, e.g. ``str(request.base_url)``.
    """
    iris = dataset_iris(settings.base_iri)
    urls = server_urls(base_url)
    facts = _ontology_facts(store, settings, iris.publisher)
    licence = URIRef(str(facts.get("licence", DEFAULT_LICENCE)))
    modified = Literal(store.last_modified(), datatype=XSD.dateTime)

    graph = Graph()
    for prefix, namespace in (
        ("dcat", DCAT),
        ("dcterms", DCTERMS),
        ("foaf", FOAF),
        ("vcard", VCARD),
        ("spdx", SPDX),
        ("skos", SKOS),
        ("void", VOID),
    ):
        graph.bind(prefix, namespace)
    add = graph.add
    catalog, dataset, service = URIRef(iris.catalog), URIRef(iris.dataset), URIRef(iris.service)
    publisher, landing_page = URIRef(iris.publisher), URIRef(urls.root)

    def typed(node: URIRef, *classes: URIRef) -> URIRef:
        for cls in classes:
            add((node, RDF.type, cls))
        return node

    def texts(node: URIRef, predicate: URIRef, values: dict[str, str]) -> None:
        for language, text in values.items():
            add((node, predicate, Literal(text, lang=language)))

    # Things the record links to, each with the class the range shapes ask for.
    typed(licence, DCTERMS.LicenseDocument)
    typed(publisher, FOAF.Agent)
    add((publisher, FOAF.name, Literal(str(facts.get("name", "Cluster-Panorama")))))
    typed(NRW, DCTERMS.Location)
    typed(landing_page, FOAF.Document)
    languages = [typed(LANGUAGE[code], DCTERMS.LinguisticSystem) for code in ("DEU", "ENG")]
    themes = typed(URIRef(EU + "data-theme"), SKOS.ConceptScheme)
    add((themes, DCTERMS.title, Literal("Data theme", lang="en")))
    contact = BNode()
    add((contact, RDF.type, VCARD.Kind))
    add((contact, VCARD.fn, Literal("Cluster-Panorama project", lang="en")))
    add((contact, VCARD.hasURL, URIRef(settings.contact_url or settings.base_iri)))

    def common(node: URIRef) -> None:
        """What catalog, dataset and service share: licence, publisher, place, languages."""
        add((node, DCTERMS.license, licence))
        add((node, DCTERMS.publisher, publisher))
        add((node, DCTERMS.modified, modified))

    # The catalog -----------------------------------------------------------------------
    typed(catalog, DCAT.Catalog)
    texts(
        catalog,
        DCTERMS.title,
        {"de": "Katalog Cluster-Panorama NRW", "en": "Cluster-Panorama NRW catalogue"},
    )
    texts(
        catalog,
        DCTERMS.description,
        {
            "de": "Der Datensatz Cluster-Panorama NRW und sein SPARQL-Endpunkt.",
            "en": "The Cluster-Panorama NRW dataset and its SPARQL endpoint.",
        },
    )
    common(catalog)
    add((catalog, FOAF.homepage, landing_page))
    add((catalog, DCTERMS.spatial, NRW))
    add((catalog, DCAT.themeTaxonomy, themes))
    add((catalog, DCAT.dataset, dataset))
    add((catalog, DCAT.service, service))
    for language in languages:
        add((catalog, DCTERMS.language, language))

    # The dataset -----------------------------------------------------------------------
    typed(dataset, DCAT.Dataset, VOID.Dataset)
    texts(dataset, DCTERMS.title, TITLE)
    texts(dataset, DCTERMS.description, DESCRIPTION)
    common(dataset)
    if "issued" in facts:
        issued = facts["issued"]
        add((dataset, DCTERMS.issued, issued))  # type: ignore[arg-type]
        add((catalog, DCTERMS.issued, issued))  # type: ignore[arg-type]
    add((dataset, DCTERMS.creator, publisher))
    add((dataset, DCAT.contactPoint, contact))
    add((dataset, DCAT.landingPage, landing_page))
    add((dataset, DCTERMS.spatial, NRW))
    add((dataset, DCAT_VERSION, Literal(__version__)))
    add((dataset, DCTERMS.accessRights, typed(ACCESS_RIGHT.PUBLIC, DCTERMS.RightsStatement)))
    add((dataset, DCTERMS.accrualPeriodicity, typed(FREQUENCY.IRREG, DCTERMS.Frequency)))
    ontology = typed(URIRef(f"{settings.base_iri}def"), DCTERMS.Standard)
    add((dataset, DCTERMS.conformsTo, ontology))
    add((dataset, VOID.sparqlEndpoint, URIRef(urls.sparql)))
    add((dataset, RDFS.seeAlso, URIRef(urls.void)))
    for language in languages:
        add((dataset, DCTERMS.language, language))
    for code, label in THEMES.items():
        theme = typed(DATA_THEME[code], SKOS.Concept)
        add((theme, SKOS.prefLabel, Literal(label, lang="en")))
        add((theme, SKOS.inScheme, themes))
        add((dataset, DCAT.theme, theme))
    for language, words in KEYWORDS.items():
        for word in words:
            add((dataset, DCAT.keyword, Literal(word, lang=language)))

    # Distributions: the dumps ------------------------------------------------------------
    for fmt in DUMP_FORMATS.values():
        dump = current_dump(store, fmt.file_name, in_memory=settings.in_memory)
        url = URIRef(urls.dump(fmt.file_name))
        node = typed(URIRef(iris.distribution(fmt.file_name.split(".")[1])), DCAT.Distribution)
        add((dataset, DCAT.distribution, node))
        add((dataset, VOID.dataDump, url))
        add((node, DCTERMS.title, Literal(fmt.title, lang="en")))
        add((node, DCAT.accessURL, typed(url, RDFS.Resource)))
        add((node, DCAT.downloadURL, url))
        add((node, DCAT.mediaType, typed(IANA[fmt.media_type], DCTERMS.MediaType)))
        add((node, DCAT.compressFormat, typed(IANA[fmt.compress_format], DCTERMS.MediaType)))
        add((node, DCTERMS["format"], typed(FILE_TYPE[fmt.file_type], DCTERMS.MediaTypeOrExtent)))
        add((node, DCAT.byteSize, Literal(dump.byte_size, datatype=XSD.nonNegativeInteger)))
        checksum = BNode()
        add((node, SPDX.checksum, checksum))
        add((checksum, RDF.type, SPDX.Checksum))
        add(
            (checksum, SPDX.algorithm, typed(SPDX.checksumAlgorithm_sha256, SPDX.ChecksumAlgorithm))
        )
        add((checksum, SPDX.checksumValue, Literal(dump.sha256, datatype=XSD.hexBinary)))
        add((node, DCTERMS.license, licence))
        add((node, DCTERMS.modified, modified))

    # Distribution and data service: the SPARQL endpoint -----------------------------------
    endpoint = typed(URIRef(urls.sparql), RDFS.Resource)
    sparql = typed(URIRef(iris.distribution("sparql")), DCAT.Distribution)
    add((dataset, DCAT.distribution, sparql))
    add((sparql, DCTERMS.title, Literal("SPARQL 1.1 endpoint", lang="en")))
    add((sparql, DCAT.accessURL, endpoint))
    add((sparql, DCAT.accessService, service))
    add((sparql, DCTERMS.license, licence))

    typed(service, DCAT.DataService)
    add((service, DCTERMS.title, Literal("Cluster-Panorama NRW SPARQL endpoint", lang="en")))
    add(
        (
            service,
            DCTERMS.description,
            Literal(
                "Read-only SPARQL 1.1 endpoint over all published graphs; the service "
                "description is served at the endpoint URL itself (GET without a query).",
                lang="en",
            ),
        )
    )
    common(service)
    add((service, DCAT.endpointURL, endpoint))
    add((service, DCAT.endpointDescription, endpoint))
    add((service, DCAT.servesDataset, dataset))
    add((service, DCAT.contactPoint, contact))
    add((service, DCAT.landingPage, landing_page))
    protocol = typed(URIRef("https://www.w3.org/TR/sparql11-protocol/"), DCTERMS.Standard)
    add((service, DCTERMS.conformsTo, protocol))
    return graph
