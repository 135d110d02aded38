"""The named queries in queries/: each has its header, and each answers its question
against the real knowledge graph with the answer the brief and its sources give.

The store is built as the server builds it: every bundled file in its own named graph
(names from ``panorama.bundle.bundled_files``), queried with the union default graph and
with parameters substituted as RDF terms (SEP-0007), never pasted into the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from panorama import bundle
from panorama.config import DEFAULT_BASE_IRI
from panorama.named_queries import NamedQuery, load_named_queries
from panorama.store import Store

REPO = Path(__file__).resolve().parents[1]
QUERIES = sorted((REPO / "queries").glob("*.rq"))
ID = f"{DEFAULT_BASE_IRI}id/"


@pytest.fixture(scope="module")
def store() -> Iterator[Store]:
    loaded = Store.in_memory(base_iri=DEFAULT_BASE_IRI)
    bundle.sync(loaded, REPO)
    yield loaded
    loaded.close()


NAMED = load_named_queries(REPO / "queries")


def run(store: Store, name: str, **params: str) -> list[dict[str, str]]:
    """Run ``queries/{name}.rq``; parameters default to the query's ``example@`` IRIs."""
    rows = store.select(NAMED[name].request(**params))
    return [{column: str(value) for column, value in row.items()} for row in rows]


def header(path: Path) -> NamedQuery:
    return NAMED[path.stem]


def ids(rows: list[dict[str, str]], column: str) -> list[str]:
    return [row[column].removeprefix(ID) for row in rows]


# Headers --------------------------------------------------------------------------------


def test_there_are_at_least_fifteen_named_queries() -> None:
    assert len(QUERIES) >= 15


@pytest.mark.parametrize("path", QUERIES, ids=lambda p: p.stem)
def test_query_has_titles_and_descriptions_in_german_and_english(path: Path) -> None:
    query = header(path)
    for lang in ("de", "en"):
        assert query.titles.get(lang, "").strip(), f"{path.name} lacks title@{lang}"
        assert query.descriptions.get(lang, "").strip(), f"{path.name} lacks description@{lang}"


@pytest.mark.parametrize("path", QUERIES, ids=lambda p: p.stem)
def test_every_parameter_has_an_example_and_is_projected(path: Path) -> None:
    query = header(path)
    text = query.text
    for param in query.params:
        assert re.fullmatch(r"https://\S+", query.examples.get(param, "")), param
        select_clause = text[text.index("SELECT") : text.index("WHERE")]
        assert f"?{param}" in select_clause, f"?{param} must be projected for substitution"


@pytest.mark.parametrize("path", QUERIES, ids=lambda p: p.stem)
def test_query_runs_and_answers(store: Store, path: Path) -> None:
    assert run(store, path.stem)


def test_query_names_are_the_files_the_docs_list() -> None:
    guide = (REPO / "docs" / "researchers.md").read_text(encoding="utf-8")
    undocumented = [p.name for p in QUERIES if f"`{p.name}`" not in guide]
    assert undocumented == []


# Answers --------------------------------------------------------------------------------

FIELD_1 = ["chemie-nrw", "its-owl", "kunststoffland-nrw", "nmwp-nrw", "produktion-nrw", "spin-nrw"]
JOINT_GROUP = {
    "aerospace-nrw",
    "automotiveland-nrw",
    "bio-nrw",
    "clib",
    "energieforschung-nrw",
    "innocam-nrw",
    "logistik-nrw",
    "nrw-energy4climate",
    "umweltwirtschaft-nrw",
}
ALL_CLUSTERS = 23


def test_clusters_by_innovation_field_separates_assigned_from_joint(store: Store) -> None:
    rows = run(store, "clusters-by-innovation-field")
    by_field: dict[str, dict[str, set[str]]] = {}
    for row in rows:
        link = "assigned" if "assigned" in row["link"] else "joint"
        field = row["field"].removeprefix(f"{ID}innovation-field/")
        cluster = row["cluster"].removeprefix(f"{ID}cluster/")
        by_field.setdefault(field, {}).setdefault(link, set()).add(cluster)
    assert by_field["materials-production"] == {"assigned": set(FIELD_1)}
    assert by_field["medicine-health-life-science"] == {
        "assigned": {"medizin-nrw", "bio-nrw"},
        "joint": {"clib"},
    }
    for field in ("environment-circular-economy", "mobility-logistics", "energy-construction"):
        assert by_field[field] == {"joint": JOINT_GROUP}
    assert by_field["key-technologies-ict"] == {"assigned": {"ki-nrw", "qt-nrw", "5g-nrw"}}
    assert by_field["culture-media-creative-services"] == {
        "assigned": {"creative-nrw", "mediennetzwerk-nrw"}
    }
    assert len(rows) == 6 + 3 + 9 * 3 + 3 + 2


def test_innovation_field_counts(store: Store) -> None:
    rows = run(store, "innovation-field-cluster-counts")
    counts = {
        row["field"].removeprefix(f"{ID}innovation-field/"): (
            int(row["assignedClusters"]),
            int(row["jointlyNamedClusters"]),
        )
        for row in rows
    }
    assert counts == {
        "materials-production": (6, 0),
        "key-technologies-ict": (3, 0),
        "medicine-health-life-science": (2, 1),
        "culture-media-creative-services": (2, 0),
        "environment-circular-economy": (0, 9),
        "mobility-logistics": (0, 9),
        "energy-construction": (0, 9),
    }
    assert ids(rows, "field")[0] == "innovation-field/materials-production"


@pytest.mark.parametrize(
    "field, expected",
    [
        pytest.param("materials-production", set(FIELD_1), id="materials-production"),
        pytest.param("key-technologies-ict", {"ki-nrw", "qt-nrw", "5g-nrw"}, id="key-technologies"),
        pytest.param("mobility-logistics", JOINT_GROUP, id="joint-mention-only"),
    ],
)
def test_clusters_in_field(store: Store, field: str, expected: set[str]) -> None:
    rows = run(store, "clusters-in-field", field=f"{ID}innovation-field/{field}")
    assert {c.removeprefix("cluster/") for c in ids(rows, "cluster")} == expected


def test_clusters_in_field_reports_every_kind_of_its_owl(store: Store) -> None:
    rows = run(store, "clusters-in-field")
    its_owl = next(row for row in rows if row["cluster"].endswith("/its-owl"))
    assert set(its_owl["kinds"].split(", ")) == {"Cluster", "Netzwerk", "Spitzencluster"}


def test_clusters_overview_lists_every_cluster_once(store: Store) -> None:
    rows = run(store, "clusters-overview")
    assert len(rows) == ALL_CLUSTERS
    its_owl = next(row for row in rows if row["cluster"].endswith("/its-owl"))
    assert its_owl["seat"] == "Paderborn"
    assert its_owl["website"] == "https://its-owl.de"
    innocam = next(row for row in rows if row["cluster"].endswith("/innocam-nrw"))
    assert "seat" not in innocam and "website" not in innocam


def test_clusters_by_kind(store: Store) -> None:
    rows = run(store, "clusters-by-kind")
    counts = {row["kind"].removeprefix(f"{ID}cluster-kind/"): int(row["clusters"]) for row in rows}
    assert counts == {
        "network": 8,
        "cluster-or-network": 7,
        "cluster": 4,
        "spitzencluster": 2,
        "zukunftscluster": 2,
        "competence-platform": 1,
        "coordination-office": 1,
        "competence-center": 1,
        "competence-network": 0,
        "landescluster": 0,
    }


def test_cross_clustering_partners_of_bio_nrw(store: Store) -> None:
    rows = run(store, "cross-clustering-partners")
    partners = {c.removeprefix("cluster/") for c in ids(rows, "partner")}
    assert partners == (JOINT_GROUP - {"bio-nrw"}) | {"medizin-nrw"}
    shared_with_medizin = {
        (row["sharedVia"].split(" / ")[1], row["shared"].removeprefix(ID))
        for row in rows
        if row["partner"].endswith("/medizin-nrw")
    }
    assert ("innovation field", "innovation-field/medicine-health-life-science") in (
        shared_with_medizin
    )
    assert ("topic", "topic/red-biotechnology") in shared_with_medizin


def test_cross_clustering_partners_of_neurosys_share_programme_and_funder(
    store: Store,
) -> None:
    rows = run(store, "cross-clustering-partners", cluster=f"{ID}cluster/neurosys")
    assert {(row["partner"].removeprefix(ID), row["shared"].removeprefix(ID)) for row in rows} == {
        ("cluster/wasserstoff", "programme/clusters4future"),
        ("cluster/wasserstoff", "organisation/bmbf"),
    }


def test_cross_clustering_pairs(store: Store) -> None:
    rows = run(store, "cross-clustering-pairs")
    # 15 pairs in field 1, 3 in the key technologies, 1 each in fields 5 and 6, NeuroSys-Wasserstoff
    assert len(rows) == 15 + 3 + 1 + 1 + 1
    top = rows[0]
    assert (top["a"], top["b"], top["sharedCount"]) == (
        f"{ID}cluster/neurosys",
        f"{ID}cluster/wasserstoff",
        "2",
    )


def test_clusters_without_european_label_are_all_but_its_owl(store: Store) -> None:
    rows = run(store, "clusters-without-european-label")
    assert len(rows) == ALL_CLUSTERS - 1
    assert f"{ID}cluster/its-owl" not in {row["cluster"] for row in rows}


def test_no_cluster_is_known_to_take_part_in_an_eu_programme(store: Store) -> None:
    rows = run(store, "clusters-without-eu-programme")
    assert len(rows) == ALL_CLUSTERS
    others = {
        row["cluster"].removeprefix(f"{ID}cluster/"): row.get("otherProgrammes", "") for row in rows
    }
    assert others["neurosys"] == others["wasserstoff"] == "Clusters4Future"
    assert others["its-owl"] == ""


def test_a_cluster_in_a_sub_programme_of_an_eu_programme_is_left_out() -> None:
    # The brief knows no such participation; a contribution could add one.
    extended = Store.in_memory(base_iri=DEFAULT_BASE_IRI)
    try:
        bundle.sync(extended, REPO)
        cp = "https://w3id.org/cluster-panorama/def#"
        extended.replace_graph(
            f"{DEFAULT_BASE_IRI}graph/test-participation",
            f"""<{ID}programme/test-sub> <{cp}partOfProgramme> <{ID}programme/test-eu> .
            <{ID}programme/test-eu> <{cp}level> <{ID}policy-level/eu> .
            <{ID}cluster/its-owl> <{cp}participatesInProgramme> <{ID}programme/test-sub> .
            """.encode(),
            "nt",
        )
        rows = run(extended, "clusters-without-eu-programme")
    finally:
        extended.close()
    assert len(rows) == ALL_CLUSTERS - 1
    assert f"{ID}cluster/its-owl" not in {row["cluster"] for row in rows}


def test_events_timeline_is_in_date_order_with_undated_events_last(store: Store) -> None:
    rows = run(store, "events-timeline")
    assert [(row["event"].removeprefix(f"{ID}event/"), row.get("date")) for row in rows] == [
        ("2022-05-03-wtt-exchange", "2022-05-03"),
        ("2022-05-09-cluster-labeling-information", "2022-05-09"),
        ("2022-05-09-eccp-go-cluster-information", "2022-05-09"),
        ("european-cluster-conference-2022", "2022-09-26"),
        ("cluster-dialog-nrw-kick-off", None),
        ("cluster-dialog-nrw-strategy-meeting", None),
    ]
    conference = rows[3]
    assert (conference["endDate"], conference["place"]) == ("2022-09-27", "Prag")


def test_cross_cutting_clusters_are_those_of_the_cross_sectional_field(store: Store) -> None:
    rows = run(store, "cross-cutting-clusters")
    assert sorted(ids(rows, "cluster")) == ["cluster/5g-nrw", "cluster/ki-nrw", "cluster/qt-nrw"]
    assert set(ids(rows, "via")) == {"innovation-field/key-technologies-ict"}


def test_cross_cutting_technologies_belong_to_cross_clustering(store: Store) -> None:
    rows = run(store, "cross-cutting-technologies")
    assert {(row["label"], row["focusThemes"]) for row in rows} == {
        ("KI", "Cross-Clustering und Cross-Innovation"),
        ("Cybersicherheit", "Cross-Clustering und Cross-Innovation"),
    }


def test_statement_provenance_of_its_owl(store: Store) -> None:
    rows = run(store, "statement-provenance")
    homepage = {
        row["source"].removeprefix(f"{ID}source/")
        for row in rows
        if row["predicate"] == "http://xmlns.com/foaf/0.1/homepage"
    }
    assert homepage == {
        "uni-paderborn-news-46051",
        "its-owl-news-gold-label",
        "wikipedia-de-its-owl",
    }
    kinds = {
        (
            row["object"].removeprefix(f"{ID}cluster-kind/"),
            row["source"].removeprefix(f"{ID}source/"),
        )
        for row in rows
        if row["predicate"].endswith("#clusterKind")
    }
    assert kinds == {
        ("network", "brief-section-2"),
        ("spitzencluster", "brief-section-2"),
        ("cluster", "brief-section-1-4"),
    }


def test_statement_provenance_of_a_figure_points_to_the_brief(store: Store) -> None:
    rows = run(store, "statement-provenance", subject=f"{ID}figure/nrw-landescluster")
    assert {
        (row["graph"].rsplit("/graph/", 1)[1], row["source"].removeprefix(f"{ID}source/"))
        for row in rows
    } == {
        ("data/brief/section-2", "brief-section-2"),
        ("data/translations", "brief"),  # the English label is the project's translation
        ("data/translations", "research-notes"),
    }
    assert "rund 14" in {row["object"] for row in rows}


def test_sources_and_graphs_cover_every_data_file(store: Store) -> None:
    rows = run(store, "sources-and-graphs")
    graphs = {row["graph"] for row in rows}
    data_files = list((REPO / "data").rglob("*.ttl"))
    assert len(graphs) == len(data_files)
    translations = [row for row in rows if row["graph"].endswith("/data/translations")]
    assert {row.get("attributedTo") for row in translations} == {f"{ID}agent/cluster-panorama"}


def test_figures_keep_the_approximate_ones_apart(store: Store) -> None:
    rows = run(store, "figures")
    assert {(row["statedAs"], row["approximate"]) for row in rows} == {
        ("rd. 25", "true"),
        ("rund 14", "true"),
        ("rd. 23", "true"),
        ("13 partnerships", "false"),
        ("69 cluster organisations", "false"),
    }


def test_label_awards(store: Store) -> None:
    rows = run(store, "label-awards")
    assert [(row["year"], row.get("renewalOf", "").removeprefix(ID)) for row in rows] == [
        ("2014", ""),
        ("2016", "label-award/its-owl-esca-gold-2014"),
    ]
    assert {row["validFor"] for row in rows} == {"P2Y"}


def test_cluster_labels(store: Store) -> None:
    rows = run(store, "cluster-labels")
    assert {(row["name"], int(row["knownAwards"])) for row in rows} == {
        ("Bronze label", 0),
        ("Gold label", 2),
        ("Silver label", 0),
    }
    assert all(set(row["issuers"].split(", ")) == {"ESCA", "EUCLES"} for row in rows)


def test_programmes_with_their_level(store: Store) -> None:
    rows = run(store, "programmes")
    levels = {row["programme"].removeprefix(f"{ID}programme/"): row.get("level") for row in rows}
    assert {k for k, v in levels.items() if v == "EU"} == {
        "horizon-2020",
        "innosup-1",
        "cosme",
        "escp",
    }
    assert {k for k, v in levels.items() if v == "Bund"} == {"clusters4future", "go-cluster"}
    assert len(rows) == 12
    c4f = next(row for row in rows if row["programme"].endswith("/clusters4future"))
    assert (c4f["implementedBy"], c4f["knownClusters"]) == (f"{ID}organisation/bmbf", "2")


def test_focus_themes(store: Store) -> None:
    rows = run(store, "focus-themes")
    assert [(row["section"], int(row["events"])) for row in rows] == [
        ("1.1", 1),
        ("1.2", 0),
        ("1.3", 2),
        ("1.4", 2),
        ("1.5", 1),
    ]


def test_actors(store: Store) -> None:
    rows = run(store, "actors")
    roles = {
        (row["actor"].removeprefix(ID), row["role"].split(" / ")[1], row["target"].removeprefix(ID))
        for row in rows
    }
    assert ("organisation/bmbf", "funds", "cluster/neurosys") in roles
    assert ("organisation/nrw-innovativ", "runs", "initiative/cluster-dialog-nrw") in roles
    assert ("organisation/mwike", "commissions", "organisation/nrw-innovativ") in roles
    assert (
        "organisation/european-commission",
        "organises",
        "event/european-cluster-conference-2022",
    ) in roles
    assert ("programme/go-cluster", "is member of", "organisation/eucles") in roles
    assert len(roles) == len(rows) == 30


def test_joint_mentions(store: Store) -> None:
    rows = run(store, "joint-mentions")
    assert {
        row["mention"].removeprefix(f"{ID}joint-mention/"): (
            int(row["clusters"]),
            int(row["fields"]),
            int(row["topics"]),
        )
        for row in rows
    } == {
        "section-2-environment-mobility-energy": (9, 3, 0),
        "section-2-medicine-bio-topics": (2, 1, 4),
        "section-2-clib-similar-topics": (1, 1, 4),
    }


def test_project_translations_are_told_apart_from_source_labels(store: Store) -> None:
    rows = run(store, "project-translations")
    ki = {
        (row["translation"], row.get("original"))
        for row in rows
        if row["resource"] == f"{ID}technology/ki"
    }
    assert ki == {("AI (artificial intelligence)", "KI")}
    translated = {row["resource"] for row in rows}
    assert f"{ID}innovation-field/environment-circular-economy" not in translated  # JRC gives it
    assert f"{ID}innovation-field/mobility-logistics" in translated


def test_cluster_seats_name_their_source(store: Store) -> None:
    rows = run(store, "cluster-seats")
    seats = {
        (row["cluster"].removeprefix(f"{ID}cluster/"), row["source"].removeprefix(f"{ID}source/"))
        for row in rows
        if row["relation"].endswith("#seat")
    }
    assert ("spin-nrw", "wirtschaft-nrw-press-release-spin") in seats
    assert ("logistik-nrw", "pressebox-logistikcluster-nrw") in seats
    assert {cluster for cluster, _ in seats} == {
        "spin-nrw",
        "its-owl",
        "nmwp-nrw",
        "kunststoffland-nrw",
        "clib",
        "logistik-nrw",
        "nrw-energy4climate",
        "mediennetzwerk-nrw",
        "ki-nrw",
        "qt-nrw",
    }
