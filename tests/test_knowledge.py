"""The knowledge files: ontology/ and data/ parse strictly, the ontology is complete and
mapped to W3C/EU vocabularies, every data graph says where it comes from, and the data
holds what the brief and the cited public pages state, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

REPO = Path(__file__).resolve().parents[1]
BASE = "https://w3id.org/cluster-panorama/"
CP = f"{BASE}def#"
ID = f"{BASE}id/"
GRAPH = f"{BASE}graph/"
SOURCES_GRAPH = f"{GRAPH}data/sources"
TRANSLATIONS_GRAPH = f"{GRAPH}data/translations"
PROJECT = f"{ID}agent/cluster-panorama"

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
PROV = "http://www.w3.org/ns/prov#"
DCTERMS = "http://purl.org/dc/terms/"
FOAF = "http://xmlns.com/foaf/0.1/"
SCHEMA = "https://schema.org/"

PREFIXES = f"""
PREFIX cp: <{CP}> PREFIX rdf: <{RDF}> PREFIX rdfs: <{RDFS}> PREFIX owl: <{OWL}>
PREFIX prov: <{PROV}> PREFIX dcterms: <{DCTERMS}> PREFIX foaf: <{FOAF}>
PREFIX schema: <{SCHEMA}> PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""

KNOWLEDGE_FILES = sorted([*(REPO / "ontology").rglob("*.ttl"), *(REPO / "data").rglob("*.ttl")])
DATA_FILES = sorted((REPO / "data").rglob("*.ttl"))


def relative(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def graph_of(path: Path) -> str:
    return GRAPH + relative(path).rsplit(".", 1)[0]


@pytest.fixture(scope="module")
def store() -> ox.Store:
    """Every knowledge file in its own named graph, as the server loads them."""
    loaded = ox.Store()
    for path in KNOWLEDGE_FILES:
        loaded.load(
            path=str(path),
            format=ox.RdfFormat.TURTLE,
            base_iri=graph_of(path),
            to_graph=ox.NamedNode(graph_of(path)),
        )
    return loaded


def select(store: ox.Store, query: str) -> list[dict[str, str]]:
    solutions = store.query(PREFIXES + query, use_default_graph_as_union=True)
    names = [variable.value for variable in solutions.variables]
    return [{name: row[name].value for name in names if row[name] is not None} for row in solutions]


def values(store: ox.Store, query: str, name: str) -> set[str]:
    return {row[name] for row in select(store, query) if name in row}


# Parsing --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", KNOWLEDGE_FILES, ids=relative)
def test_file_parses_strictly_with_oxigraph(path: Path) -> None:
    quads = list(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=graph_of(path)))
    assert quads


@pytest.mark.parametrize("path", KNOWLEDGE_FILES, ids=relative)
def test_file_parses_with_rdflib(path: Path) -> None:
    graph = rdflib.Graph().parse(path, format="turtle", publicID=graph_of(path))
    assert len(graph) > 0


@pytest.mark.parametrize("path", KNOWLEDGE_FILES, ids=relative)
def test_file_declares_no_base_and_no_host_dependent_iri(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"^\s*(@base|BASE)\b", text, re.MULTILINE)
    assert "localhost" not in text and "127.0.0.1" not in text


def test_every_instance_iri_is_a_readable_slug(store: ox.Store) -> None:
    iris = values(
        store,
        f"""SELECT DISTINCT ?iri WHERE {{
              {{ ?iri ?p ?o }} UNION {{ ?s ?p ?iri }}
              FILTER(isIRI(?iri) && STRSTARTS(STR(?iri), "{ID}")) }}""",
        "iri",
    )
    bad = sorted(i for i in iris if not re.fullmatch(rf"{re.escape(ID)}[a-z0-9-]+/[a-z0-9-]+", i))
    assert len(iris) > 100
    assert bad == []


# Ontology -------------------------------------------------------------------------------


def ontology_terms(store: ox.Store) -> set[str]:
    return values(
        store,
        f"""SELECT ?term WHERE {{ GRAPH <{GRAPH}ontology/cluster-panorama> {{
              ?term a ?type VALUES ?type {{ owl:Class owl:ObjectProperty owl:DatatypeProperty }} }}
              FILTER(STRSTARTS(STR(?term), "{CP}")) }}""",
        "term",
    )


def test_ontology_header_has_version_licence_creator_and_publisher(store: ox.Store) -> None:
    rows = select(
        store,
        f"""SELECT ?version ?info ?licence ?creator ?publisher WHERE {{
              <{BASE}def> a owl:Ontology ; owl:versionIRI ?version ; owl:versionInfo ?info ;
                dcterms:license ?licence ; dcterms:creator ?creator ;
                dcterms:publisher ?publisher }}""",
    )
    assert rows == [
        {
            "version": f"{BASE}def/0.1.0",
            "info": "0.1.0",
            "licence": "https://creativecommons.org/licenses/by/4.0/",
            "creator": PROJECT,
            "publisher": PROJECT,
        }
    ]


def test_ontology_defines_the_terms_the_issue_asks_for(store: ox.Store) -> None:
    expected = {
        "Cluster",
        "ClusterKind",
        "ClusterManagementOrganisation",
        "InnovationField",
        "CrossSectionalInnovationField",
        "Technology",
        "FocusTheme",
        "Programme",
        "FundingProgramme",
        "Funder",
        "ClusterLabel",
        "LabelAward",
        "Event",
        "Initiative",
        "Region",
        "Figure",
        "ApproximateFigure",
        "clusterKind",
        "innovationField",
        "technology",
        "labelIssuer",
        "validityPeriod",
        "awardedLabel",
        "awardedTo",
        "awardedBy",
        "level",
    }
    assert {CP + name for name in expected} <= ontology_terms(store)


@pytest.mark.parametrize("predicate", [f"{RDFS}label", f"{RDFS}comment"], ids=["label", "comment"])
def test_every_ontology_term_is_described_in_german_and_english(
    store: ox.Store, predicate: str
) -> None:
    missing = []
    for term in sorted(ontology_terms(store)):
        languages = values(
            store,
            f"SELECT ?lang WHERE {{ <{term}> <{predicate}> ?v BIND(LANG(?v) AS ?lang) }}",
            "lang",
        )
        if not {"de", "en"} <= languages:
            missing.append((term, sorted(languages)))
    assert missing == []


def test_every_ontology_term_maps_to_an_external_vocabulary(store: ox.Store) -> None:
    unmapped = sorted(
        values(
            store,
            f"""SELECT ?term WHERE {{
                  GRAPH <{GRAPH}ontology/cluster-panorama> {{
                    ?term a ?type
                    VALUES ?type {{ owl:Class owl:ObjectProperty owl:DatatypeProperty }} }}
                  FILTER(STRSTARTS(STR(?term), "{CP}"))
                  FILTER NOT EXISTS {{
                    ?term ?mapping ?external
                    VALUES ?mapping {{ rdfs:subClassOf rdfs:subPropertyOf owl:equivalentClass
                                      owl:equivalentProperty }}
                    FILTER(!STRSTARTS(STR(?external), "{CP}")) }} }}""",
            "term",
        )
    )
    assert unmapped == []


def test_data_uses_only_terms_the_ontology_defines(store: ox.Store) -> None:
    used = values(
        store,
        f"""SELECT DISTINCT ?term WHERE {{
              GRAPH ?g {{ {{ ?s ?term ?o }} UNION {{ ?s a ?term }} }}
              FILTER(STRSTARTS(STR(?g), "{GRAPH}data/") && STRSTARTS(STR(?term), "{CP}")) }}""",
        "term",
    )
    assert used - ontology_terms(store) == set()


# Provenance -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", DATA_FILES, ids=relative)
def test_every_data_graph_is_derived_from_a_described_source(store: ox.Store, path: Path) -> None:
    rows = select(
        store,
        f"""SELECT ?source ?label ?title WHERE {{
              GRAPH <{graph_of(path)}> {{ <{graph_of(path)}> a prov:Entity ;
                prov:wasDerivedFrom ?source ; dcterms:title ?title FILTER(LANG(?title) = "en") }}
              OPTIONAL {{ GRAPH <{SOURCES_GRAPH}> {{ ?source rdfs:label ?label }} }} }}""",
    )
    assert rows, f"{relative(path)} does not describe its own graph"
    assert all("label" in row for row in rows), f"undescribed source in {rows}"


def test_every_public_page_source_has_an_address(store: ox.Store) -> None:
    without = values(
        store,
        f"""SELECT ?source WHERE {{ GRAPH <{SOURCES_GRAPH}> {{ ?source a schema:WebPage }}
              FILTER NOT EXISTS {{ ?source schema:url ?url }} }}""",
        "source",
    )
    assert without == set()


def test_every_brief_section_is_part_of_the_brief(store: ox.Store) -> None:
    sections = values(
        store,
        f"""SELECT ?section WHERE {{ ?section dcterms:isPartOf+ <{ID}source/brief> }}""",
        "section",
    )
    assert {f"{ID}source/brief-section-{n}" for n in ("1", "1-3", "2", "2-figure-2")} <= sections


def test_translations_are_attributed_to_the_project(store: ox.Store) -> None:
    rows = select(
        store,
        f"""SELECT ?agent WHERE {{ <{TRANSLATIONS_GRAPH}> prov:wasAttributedTo ?agent }}""",
    )
    assert rows == [{"agent": PROJECT}]


def test_english_labels_of_brief_graphs_are_not_invented(store: ox.Store) -> None:
    """The brief is German: an English label in one of its graphs would be a translation."""
    english = select(
        store,
        f"""SELECT ?s ?label WHERE {{ GRAPH ?g {{ ?s rdfs:label|skos:prefLabel ?label }}
              FILTER(STRSTARTS(STR(?g), "{GRAPH}data/brief/") && LANG(?label) = "en") }}""",
    )
    assert english == []


# The clusters of the brief ---------------------------------------------------------------

MATERIALS = "materials-production"
MEDICINE = "medicine-health-life-science"
CREATIVE = "culture-media-creative-services"
KEY_TECH = "key-technologies-ict"
JOINT = {"environment-circular-economy", "mobility-logistics", "energy-construction"}

# slug: (kinds, individually assigned fields, fields named jointly)
CLUSTERS = {
    "chemie-nrw": ({"network"}, {MATERIALS}, set()),
    "spin-nrw": ({"network", "spitzencluster"}, {MATERIALS}, set()),
    "its-owl": ({"network", "spitzencluster", "cluster"}, {MATERIALS}, set()),
    "nmwp-nrw": ({"network"}, {MATERIALS}, set()),
    "kunststoffland-nrw": ({"network"}, {MATERIALS}, set()),
    "produktion-nrw": ({"network"}, {MATERIALS}, set()),
    "umweltwirtschaft-nrw": ({"cluster-or-network"}, set(), JOINT),
    "clib": ({"cluster"}, set(), JOINT | {MEDICINE}),
    "bio-nrw": ({"cluster"}, {MEDICINE}, JOINT | {MEDICINE}),
    "logistik-nrw": ({"cluster-or-network"}, set(), JOINT),
    "automotiveland-nrw": ({"cluster-or-network"}, set(), JOINT),
    "aerospace-nrw": ({"cluster-or-network"}, set(), JOINT),
    "innocam-nrw": ({"cluster-or-network"}, set(), JOINT),
    "energieforschung-nrw": ({"cluster-or-network"}, set(), JOINT),
    "nrw-energy4climate": ({"cluster-or-network"}, set(), JOINT),
    "medizin-nrw": ({"cluster"}, {MEDICINE}, {MEDICINE}),
    "creative-nrw": ({"network"}, {CREATIVE}, set()),
    "mediennetzwerk-nrw": ({"network"}, {CREATIVE}, set()),
    "ki-nrw": ({"competence-platform"}, {KEY_TECH}, set()),
    "qt-nrw": ({"coordination-office"}, {KEY_TECH}, set()),
    "5g-nrw": ({"competence-center"}, {KEY_TECH}, set()),
    "neurosys": ({"zukunftscluster"}, set(), set()),
    "wasserstoff": ({"zukunftscluster"}, set(), set()),
}


def test_the_graph_holds_exactly_the_clusters_of_the_brief(store: ox.Store) -> None:
    clusters = values(store, "SELECT ?c WHERE { ?c a cp:Cluster }", "c")
    assert clusters == {f"{ID}cluster/{slug}" for slug in CLUSTERS}


@pytest.mark.parametrize("slug", sorted(CLUSTERS))
def test_cluster_has_the_kinds_and_fields_the_sources_give(store: ox.Store, slug: str) -> None:
    kinds, fields, joint = CLUSTERS[slug]
    cluster = f"<{ID}cluster/{slug}>"
    found_kinds = values(store, f"SELECT ?k WHERE {{ {cluster} cp:clusterKind ?k }}", "k")
    found_fields = values(store, f"SELECT ?f WHERE {{ {cluster} cp:innovationField ?f }}", "f")
    found_joint = values(
        store, f"SELECT ?f WHERE {{ ?m cp:mentionsCluster {cluster} ; cp:mentionsField ?f }}", "f"
    )
    assert found_kinds == {f"{ID}cluster-kind/{k}" for k in kinds}
    assert found_fields == {f"{ID}innovation-field/{f}" for f in fields}
    assert found_joint == {f"{ID}innovation-field/{f}" for f in joint}


def test_there_are_seven_innovation_fields_and_only_one_is_cross_sectional(store: ox.Store) -> None:
    fields = values(store, "SELECT ?f WHERE { ?f a cp:InnovationField }", "f")
    cross = values(store, "SELECT ?f WHERE { ?f a cp:CrossSectionalInnovationField }", "f")
    assert len(fields) == 7
    assert cross == {f"{ID}innovation-field/{KEY_TECH}"}


# Facts from public pages: exactly the research notes, nothing more -------------------------

WEBSITES = {
    "its-owl": "https://its-owl.de",
    "nmwp-nrw": "https://nmwp.nrw.de",
    "kunststoffland-nrw": "https://kunststoffland-nrw.de",
    "produktion-nrw": "https://produktionnrw.org",
    "clib": "https://clib-cluster.de",
    "bio-nrw": "https://bio.nrw.de",
    "logistik-nrw": "https://logistikcluster-nrw.de",
    "automotiveland-nrw": "https://automotiveland.nrw",
    "aerospace-nrw": "https://aerospace.nrw",
    "energieforschung-nrw": "https://energieforschung.nrw",
    "creative-nrw": "https://creative.nrw",
    "ki-nrw": "https://ki.nrw",
    "5g-nrw": "https://5g.nrw",
    "neurosys": "https://neurosys.info",
    "wasserstoff": "https://h2-cluster.de",
}
SEATS = {
    "spin-nrw": "essen",
    "its-owl": "paderborn",
    "nmwp-nrw": "duesseldorf",
    "kunststoffland-nrw": "duesseldorf",
    "clib": "duesseldorf",
    "logistik-nrw": "dortmund",
    "nrw-energy4climate": "duesseldorf",
    "mediennetzwerk-nrw": "duesseldorf",
    "ki-nrw": "sankt-augustin",
    "qt-nrw": "duesseldorf",
}


def test_cluster_websites_are_exactly_those_the_research_found(store: ox.Store) -> None:
    rows = select(store, "SELECT DISTINCT ?c ?url WHERE { ?c a cp:Cluster ; foaf:homepage ?url }")
    assert {(row["c"], row["url"]) for row in rows} == {
        (f"{ID}cluster/{slug}", url) for slug, url in WEBSITES.items()
    }


def test_cluster_seats_are_exactly_those_the_research_found(store: ox.Store) -> None:
    rows = select(store, "SELECT DISTINCT ?c ?seat WHERE { ?c a cp:Cluster ; cp:seat ?seat }")
    assert {(row["c"], row["seat"]) for row in rows} == {
        (f"{ID}cluster/{slug}", f"{ID}region/{place}") for slug, place in SEATS.items()
    }


@pytest.mark.parametrize("predicate", [f"{FOAF}homepage", f"{CP}seat", f"{CP}managedBy"])
def test_websites_seats_and_operators_come_only_from_public_pages(
    store: ox.Store, predicate: str
) -> None:
    graphs = values(
        store,
        f"""SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?c <{predicate}> ?v }}
              ?c a cp:Cluster }}""",
        "g",
    )
    assert graphs
    assert all(g.startswith(f"{GRAPH}data/public/") for g in graphs), graphs


def test_label_awards_are_the_two_gold_labels_of_its_owl(store: ox.Store) -> None:
    rows = select(
        store,
        """SELECT ?cluster ?label ?by ?year WHERE { ?a a cp:LabelAward ; cp:awardedTo ?cluster ;
             cp:awardedLabel ?label ; cp:awardedBy ?by ; dcterms:date ?year }""",
    )
    assert sorted(row["year"] for row in rows) == ["2014", "2016"]
    assert {(row["cluster"], row["label"], row["by"]) for row in rows} == {
        (f"{ID}cluster/its-owl", f"{ID}cluster-label/gold", f"{ID}organisation/esca")
    }


def test_approximate_figures_keep_their_approximate_wording(store: ox.Store) -> None:
    rows = select(
        store,
        "SELECT ?f ?value ?stated WHERE { ?f a cp:ApproximateFigure ; schema:value ?value ; "
        "cp:statedAs ?stated }",
    )
    assert {(row["f"].rsplit("/", 1)[1], row["value"], row["stated"]) for row in rows} == {
        ("cluster-dialog-nrw-participants", "25", "rd. 25"),
        ("nrw-landescluster", "14", "rund 14"),
        ("nrw-cluster-labels-2012-2022", "23", "rd. 23"),
    }


def test_events_have_the_dates_the_sources_give(store: ox.Store) -> None:
    rows = select(store, "SELECT ?e ?d WHERE { ?e a cp:Event ; schema:startDate ?d }")
    assert {(row["e"].rsplit("/", 1)[1], row["d"]) for row in rows} == {
        ("2022-05-03-wtt-exchange", "2022-05-03"),
        ("2022-05-09-eccp-go-cluster-information", "2022-05-09"),
        ("2022-05-09-cluster-labeling-information", "2022-05-09"),
        ("european-cluster-conference-2022", "2022-09"),
        ("european-cluster-conference-2022", "2022-09-26"),
    }


def test_nothing_is_typed_landescluster_because_no_source_names_one(store: ox.Store) -> None:
    assert (
        values(
            store, f"SELECT ?c WHERE {{ ?c cp:clusterKind <{ID}cluster-kind/landescluster> }}", "c"
        )
        == set()
    )
