"""The home page: what the graph holds, ways to browse it, and two pictures.

The network picture puts the innovation fields on an inner ring and the clusters on an
outer one, ordered by field, with a line for every assignment (dashed where the brief only
names cluster and field together): clusters that share a field are candidates for
cross-clustering. The seat picture groups clusters by the seat the sources name; the data
holds no coordinates, so it is a schematic, not a map.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from rdflib import Graph, URIRef

from panorama.labels import label_of
from panorama.linked_data import resource_url
from panorama.store import QueryRequest, Store

__all__ = ["HomePage", "build_home_page"]

CP = "https://w3id.org/cluster-panorama/def#"
_SUBCLASS = "<http://www.w3.org/2000/01/rdf-schema#subClassOf>"


@dataclass(frozen=True)
class Item:
    text: str
    href: str


@dataclass(frozen=True)
class Group:
    title: Item
    members: tuple[Item, ...]


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    r: float
    item: Item
    kind: str  # "field", "cross-sectional", "cluster" or "seat"
    anchor: str = "middle"
    number: int = 0  # fields are numbered in the picture and named in its legend


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    joint: bool


@dataclass
class HomePage:
    counts: list[tuple[str, int]]
    by_field: list[Group]
    by_kind: list[Group]
    by_seat: list[Group]
    network_dots: list[Dot] = field(default_factory=list)
    network_lines: list[Line] = field(default_factory=list)
    seat_dots: list[Dot] = field(default_factory=list)


def _pairs(store: Store, query: str) -> list[tuple[str, str]]:
    return [(str(row["a"]), str(row["b"])) for row in store.select(QueryRequest(query))]


def _count(store: Store, class_iri: str) -> int:
    rows = store.select(
        QueryRequest(
            f"SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ ?x a/{_SUBCLASS}* <{class_iri}> }}"
        )
    )
    return int(rows[0]["n"])


def _labels(store: Store, iris: set[str]) -> Graph:
    values = " ".join(f"<{iri}>" for iri in sorted(iris))
    return store.construct(
        QueryRequest(
            f"""CONSTRUCT {{ ?x ?p ?l }} WHERE {{ VALUES ?x {{ {values} }}
                  VALUES ?p {{ <http://www.w3.org/2004/02/skos/core#prefLabel>
                               <http://www.w3.org/2000/01/rdf-schema#label> }} ?x ?p ?l }}"""
        )
    )


def _groups(pairs: list[tuple[str, str]], item) -> list[Group]:
    grouped: dict[str, set[str]] = {}
    for group, member in pairs:
        grouped.setdefault(group, set()).add(member)
    groups = [
        Group(item(g), tuple(sorted((item(m) for m in members), key=lambda i: i.text.casefold())))
        for g, members in grouped.items()
    ]
    return sorted(groups, key=lambda g: g.title.text.casefold())


def _ring(
    count: int, radius: float, centre: float, offset: float = 0.0
) -> list[tuple[float, float]]:
    return [
        (
            round(centre + radius * math.cos(2 * math.pi * i / count - math.pi / 2 + offset), 1),
            round(centre + radius * math.sin(2 * math.pi * i / count - math.pi / 2 + offset), 1),
        )
        for i in range(count)
    ]


def build_home_page(store: Store, lang: str) -> HomePage:
    """Gather the home page's figures, groups and picture coordinates."""
    assigned = _pairs(store, f"SELECT DISTINCT ?a ?b WHERE {{ ?b <{CP}innovationField> ?a }}")
    joint = _pairs(
        store,
        f"""SELECT DISTINCT ?a ?b WHERE {{ ?m a <{CP}JointMention> ;
              <{CP}mentionsField> ?a ; <{CP}mentionsCluster> ?b }}""",
    )
    kinds = _pairs(store, f"SELECT DISTINCT ?a ?b WHERE {{ ?b <{CP}clusterKind> ?a }}")
    seats = _pairs(store, f"SELECT DISTINCT ?a ?b WHERE {{ ?b a <{CP}Cluster> ; <{CP}seat> ?a }}")
    fields = [
        str(row["f"])
        for row in store.select(
            QueryRequest(
                f"""SELECT DISTINCT ?f WHERE {{ ?f a/{_SUBCLASS}* <{CP}InnovationField> }}
                    ORDER BY ?f"""
            )
        )
    ]
    cross_sectional = {
        str(row["f"])
        for row in store.select(
            QueryRequest(f"SELECT ?f WHERE {{ ?f a <{CP}CrossSectionalInnovationField> }}")
        )
    }
    clusters = sorted(
        {
            str(row["c"])
            for row in store.select(QueryRequest(f"SELECT ?c WHERE {{ ?c a <{CP}Cluster> }}"))
        }
    )
    everything = set(fields) | set(clusters) | {a for pair in kinds + seats for a in pair}
    labels = _labels(store, everything) if everything else Graph()

    def item(iri: str) -> Item:
        href = resource_url(store.base_iri, iri)
        return Item(label_of(labels, URIRef(iri), lang), href)

    sizes = store.graph_sizes()
    counts = [
        ("clusters", len(clusters)),
        ("innovation_fields", len(fields)),
        ("programmes", _count(store, f"{CP}Programme")),
        ("events", _count(store, f"{CP}Event")),
        ("organisations", _count(store, "http://www.w3.org/ns/org#Organization")),
        ("triples", sum(n for g, n in sizes.items() if g != store.catalog_graph)),
    ]
    page = HomePage(
        counts=counts,
        by_field=_groups(assigned + joint, item),
        by_kind=_groups(kinds, item),
        by_seat=_groups(seats, item),
    )

    # The network: fields inside, clusters outside in the order of their first field.
    centre = 360.0  # the picture is 720 by 720
    field_position = (
        dict(zip(fields, _ring(len(fields), 130, centre), strict=True)) if fields else {}
    )
    first_field: dict[str, int] = {}
    for field_iri, cluster in sorted(assigned + joint):
        if field_iri in field_position:
            index = fields.index(field_iri)
            first_field[cluster] = min(first_field.get(cluster, index), index)
    ordered = sorted(clusters, key=lambda c: (first_field.get(c, len(fields)), item(c).text))
    cluster_position = (
        dict(zip(ordered, _ring(len(ordered), 300, centre, offset=0.05), strict=True))
        if ordered
        else {}
    )
    for pairs, is_joint in ((assigned, False), (joint, True)):
        for field_iri, cluster in pairs:
            if field_iri in field_position and cluster in cluster_position:
                (x1, y1), (x2, y2) = field_position[field_iri], cluster_position[cluster]
                page.network_lines.append(Line(x1, y1, x2, y2, is_joint))
    for number, (iri, (x, y)) in enumerate(field_position.items(), start=1):
        kind = "cross-sectional" if iri in cross_sectional else "field"
        page.network_dots.append(Dot(x, y, 16, item(iri), kind, number=number))
    for iri, (x, y) in cluster_position.items():
        anchor = "start" if x > centre + 1 else "end" if x < centre - 1 else "middle"
        page.network_dots.append(Dot(x, y, 6, item(iri), "cluster", anchor))

    # Seats: one bubble per place, in a row, sized by its number of clusters.
    for index, group in enumerate(page.by_seat):
        radius = 14 + 6 * len(group.members)
        page.seat_dots.append(Dot(80 + index * 150, 90, radius, group.title, "seat"))
    return page
