"""A deterministic generator of synthetic Cluster-Panorama data at any scale.

It writes N-Quads (or N-Triples) line by line, entity by entity, so a 10M-triple file never
sits in memory; the same seed and scale always give the same bytes. About 1,500 clusters
make 1M triples. The data is shaped like the bundled files: types and properties of our
ontology (and the W3C/schema.org terms it maps to), German labels, ``xsd:date`` dates, one
named graph per "source" that describes itself with ``prov:wasDerivedFrom``.

Per cluster: the cluster (kind, innovation fields, topics, seat, regions, programmes,
funder, ~45 member organisations), an approximate figure, 18 projects with a grant
(amount in EUR), label awards (some renewals), 4 events. Organisations (28 per cluster)
are shared between clusters, which is what cross-clustering queries look for. Regions
(district, city, Regierungsbezirk, NRW, Germany) and topics (three levels under the
innovation fields) are linked by ``skos:broader`` for path queries.

Run: ``python -m benchmarks.generate --triples 1m -o data.nq`` (writes ``data.nq.json``,
the manifest the query mix draws its parameters from).
"""

from __future__ import annotations

import argparse
import datetime
import json
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TextIO

from benchmarks import words

__all__ = ["Manifest", "clusters_for", "generate", "parse_size"]

ID = "https://w3id.org/cluster-panorama/id/"
GRAPH = "https://w3id.org/cluster-panorama/graph/data/synthetic/"

# Terms, written out once as N-Triples tokens.
TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
LABEL = "<http://www.w3.org/2000/01/rdf-schema#label>"
XSD = "http://www.w3.org/2001/XMLSchema#"


def _ns(base: str, *names: str) -> dict[str, str]:
    return {name: f"<{base}{name}>" for name in names}


CP = _ns(
    "https://w3id.org/cluster-panorama/def#",
    "Cluster",
    "ClusterManagementOrganisation",
    "Funder",
    "FundingProgramme",
    "LabelAward",
    "Event",
    "Region",
    "Topic",
    "ApproximateFigure",
    "JointMention",
    "clusterKind",
    "innovationField",
    "technology",
    "managedBy",
    "hostedBy",
    "fundedBy",
    "participatesInProgramme",
    "eccpProfile",
    "seat",
    "region",
    "partOfProgramme",
    "implementedBy",
    "level",
    "callIdentifier",
    "awardedLabel",
    "awardedTo",
    "awardedBy",
    "isRenewalOf",
    "withinInitiative",
    "mentionsCluster",
    "mentionsField",
    "passage",
    "statedAs",
)
SKOS = _ns(
    "http://www.w3.org/2004/02/skos/core#",
    "ConceptScheme",
    "inScheme",
    "topConceptOf",
    "hasTopConcept",
    "prefLabel",
    "altLabel",
    "broader",
    "exactMatch",
)
SCHEMA = _ns(
    "https://schema.org/",
    "Project",
    "MonetaryGrant",
    "description",
    "startDate",
    "endDate",
    "location",
    "organizer",
    "about",
    "foundingDate",
    "numberOfEmployees",
    "legalName",
    "member",
    "funding",
    "amount",
    "currency",
    "funder",
    "sourceOrganization",
    "value",
)
DCT = _ns("http://purl.org/dc/terms/", "subject", "date", "title", "identifier")
ORG = _ns("http://www.w3.org/ns/org#", "Organization", "hasMember")
PROV = _ns("http://www.w3.org/ns/prov#", "Entity", "wasDerivedFrom")
HOMEPAGE = "<http://xmlns.com/foaf/0.1/homepage>"
PUBLIC_ORGANISATION = "<http://data.europa.eu/m8g/PublicOrganisation>"

CLUSTERS_PER_MILLION = 1500
PROJECTS_PER_CLUSTER = 18
EVENTS_PER_CLUSTER = 4
ORGANISATIONS_PER_CLUSTER = 28
MEMBERS_PER_CLUSTER = 44
FUNDERS = 30
CLUSTERS_PER_GRAPH = 50
ORGANISATIONS_PER_GRAPH = 2000
FIRST_DAY = datetime.date(2005, 1, 1).toordinal()
LAST_DAY = datetime.date(2026, 12, 31).toordinal()


def iri(kind: str, slug: str) -> str:
    return f"<{ID}{kind}/{slug}>"


def cluster_iri(index: int) -> str:
    return iri("cluster", f"syn-c{index:05d}")


def organisation_iri(index: int) -> str:
    return iri("organisation", f"syn-o{index:06d}")


def de(text: str) -> str:
    if '"' in text or "\\" in text:
        text = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"@de'


def en(text: str) -> str:
    return f'"{text}"@en'


def plain(text: str) -> str:
    return f'"{text}"'


def date(ordinal: int) -> str:
    return f'"{datetime.date.fromordinal(ordinal).isoformat()}"^^<{XSD}date>'


def integer(value: int) -> str:
    return f'"{value}"^^<{XSD}integer>'


def decimal(value: float) -> str:
    return f'"{value:.2f}"^^<{XSD}decimal>'


def slugify(text: str) -> str:
    table = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", " ": "-", ".": ""})
    return text.lower().translate(table)


@dataclass(frozen=True)
class Manifest:
    """What the query mix needs to know about a generated file to draw its parameters."""

    seed: int
    clusters: int
    organisations: int
    projects: int
    events: int
    programmes: int
    topics: list[str]
    cities: list[str]
    bezirke: list[str]
    triples: int = 0
    seconds: float = 0.0

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=1))

    @classmethod
    def load(cls, path: Path) -> Manifest:
        return cls(**json.loads(path.read_text()))


def parse_size(text: str) -> int:
    """``100k`` -> 100_000, ``1m`` -> 1_000_000, ``2.5M`` -> 2_500_000."""
    text = text.strip().lower().replace("_", "")
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("km")) * factor)


def clusters_for(triples: int) -> int:
    return max(10, round(triples * CLUSTERS_PER_MILLION / 1_000_000))


class _Writer:
    """Buffers N-Quads lines and counts them; ``graph`` is the graph of what follows."""

    def __init__(self, out: TextIO, quads: bool) -> None:
        self._out = out
        self._quads = quads
        self._buffer: list[str] = []
        self._end = " .\n"
        self.count = 0

    def start_graph(self, name: str, source: str, title: str) -> None:
        graph = f"<{GRAPH}{name}>"
        self._end = f" {graph} .\n" if self._quads else " .\n"
        self(graph, TYPE, PROV["Entity"])
        self(graph, PROV["wasDerivedFrom"], iri("source", f"syn-{source}"))
        self(graph, DCT["title"], de(title))

    def __call__(self, s: str, p: str, o: str) -> None:
        self._buffer.append(f"{s} {p} {o}{self._end}")
        if len(self._buffer) >= 20_000:
            self.flush()

    def flush(self) -> None:
        self.count += len(self._buffer)
        self._out.write("".join(self._buffer))
        self._buffer.clear()


def _topics(rnd: random.Random) -> Iterator[tuple[str, str, str]]:
    """(slug, German label, broader IRI): 6 topics per field, 4 below each, 3 below those."""
    for field in words.FIELDS:
        for a in range(6):
            slug_a = f"syn-{field}-{a}"
            yield slug_a, f"{rnd.choice(words.THEMES)}", iri("innovation-field", field)
            for b in range(4):
                slug_b = f"{slug_a}-{b}"
                label_b = f"{rnd.choice(words.ADJECTIVES)} {rnd.choice(words.THEMES)}"
                yield slug_b, label_b, iri("topic", slug_a)
                for c in range(3):
                    label_c = f"{label_b} für {rnd.choice(words.APPLICATIONS)}"
                    yield f"{slug_b}-{c}", label_c, iri("topic", slug_b)


def _vocabulary(emit: _Writer, rnd: random.Random) -> tuple[list[str], list[str], int]:
    """Regions, topics, funders and programmes; returns topic slugs, city slugs, programmes."""
    emit.start_graph("vocabulary", "vocabulary", "Synthetische Regionen, Themen und Programme")
    germany, nrw = iri("region", "syn-deutschland"), iri("region", "nrw")
    emit(germany, TYPE, CP["Region"])
    emit(germany, LABEL, de("Deutschland"))
    emit(germany, SKOS["exactMatch"], "<http://data.europa.eu/nuts/code/DE>")
    emit(nrw, SKOS["broader"], germany)
    cities = []
    for bezirk, towns in words.DISTRICTS.items():
        bezirk_iri = iri("region", f"syn-rb-{slugify(bezirk)}")
        emit(bezirk_iri, TYPE, CP["Region"])
        emit(bezirk_iri, LABEL, de(f"Regierungsbezirk {bezirk}"))
        emit(bezirk_iri, SKOS["broader"], nrw)
        for town in towns:
            slug = f"syn-{slugify(town)}"
            cities.append(slug)
            emit(iri("region", slug), TYPE, CP["Region"])
            emit(iri("region", slug), LABEL, de(town))
            emit(iri("region", slug), SKOS["broader"], bezirk_iri)
            for part in ("Mitte", "Nord", "Süd", "Ost", "West"):
                district = iri("region", f"{slug}-{slugify(part)}")
                emit(district, TYPE, CP["Region"])
                emit(district, LABEL, de(f"{town}-{part}"))
                emit(district, SKOS["broader"], iri("region", slug))
    scheme = iri("scheme", "syn-topics")
    emit(scheme, TYPE, SKOS["ConceptScheme"])
    emit(scheme, LABEL, de("Synthetische Themenfelder"))
    topics = []
    for slug, label, broader in _topics(rnd):
        topic = iri("topic", slug)
        topics.append(slug)
        emit(topic, TYPE, CP["Topic"])
        emit(topic, SKOS["inScheme"], scheme)
        emit(topic, SKOS["prefLabel"], de(label))
        emit(topic, LABEL, de(label))
        emit(topic, SKOS["broader"], broader)
    levels = ("land", "bund", "europa", "eu")
    for k in range(FUNDERS):
        funder = iri("organisation", f"syn-funder-{k}")
        emit(funder, TYPE, CP["Funder"])
        emit(funder, TYPE, PUBLIC_ORGANISATION)
        emit(funder, LABEL, de(f"Projektträger {rnd.choice(words.THEMES)} {k}"))
    programmes = 0
    for top, name in enumerate(words.PROGRAMME_NAMES):
        parent = iri("programme", f"syn-prog{top}")
        for generation in range(8):
            programme = (
                parent if generation == 0 else iri("programme", f"syn-prog{top}-{generation}")
            )
            label = name if generation == 0 else f"{name} {2014 + generation}"
            emit(programme, TYPE, CP["FundingProgramme"])
            emit(programme, LABEL, de(f"{label} {rnd.choice(words.THEMES)}.NRW"))
            emit(programme, CP["level"], iri("policy-level", levels[top % 4]))
            emit(programme, CP["implementedBy"], iri("organisation", f"syn-funder-{top}"))
            if generation:
                emit(programme, CP["partOfProgramme"], parent)
                emit(programme, CP["callIdentifier"], plain(f"SYN-{top}-{2014 + generation}"))
            programmes += 1
    return topics, cities, programmes


def _programme(rnd: random.Random) -> str:
    top, generation = rnd.randrange(len(words.PROGRAMME_NAMES)), rnd.randrange(8)
    return iri("programme", f"syn-prog{top}" if generation == 0 else f"syn-prog{top}-{generation}")


def _cluster_block(
    emit: _Writer,
    rnd: random.Random,
    i: int,
    n_clusters: int,
    n_orgs: int,
    topics: list[str],
    cities: list[str],
    award_counter: list[int],
) -> None:
    cluster = cluster_iri(i)
    theme = rnd.choice(words.THEMES)
    town = rnd.choice(cities)
    town_name = town[4:].replace("-", " ").title()
    kind = rnd.choices([k for k, _ in words.KINDS], [w for _, w in words.KINDS])[0]
    prefix = {"network": "Netzwerk", "competence-network": "Kompetenznetzwerk"}.get(kind, "Cluster")
    name = f"{prefix} {theme} {town_name}"
    emit(cluster, TYPE, CP["Cluster"])
    emit(cluster, LABEL, de(name))
    emit(cluster, SKOS["prefLabel"], de(name))
    if rnd.random() < 0.5:
        emit(cluster, LABEL, en(f"{theme} cluster {town_name}"))
    emit(cluster, SKOS["altLabel"], de(f"{slugify(theme)[:6].upper()}.{i}"))
    emit(
        cluster,
        SCHEMA["description"],
        de(
            f"{name} vernetzt Unternehmen, Hochschulen und Forschungseinrichtungen für "
            f"{rnd.choice(words.ADJECTIVES).lower()} {theme} und "
            f"{rnd.choice(words.THEMES)} für {rnd.choice(words.APPLICATIONS)}."
        ),
    )
    emit(cluster, HOMEPAGE, f"<https://www.{slugify(theme)}-{i}.nrw/>")
    emit(cluster, CP["clusterKind"], iri("cluster-kind", kind))
    for field in rnd.sample(words.FIELDS, rnd.choice((1, 1, 2, 2, 3))):
        emit(cluster, CP["innovationField"], iri("innovation-field", field))
    if rnd.random() < 0.3:
        emit(cluster, CP["technology"], iri("technology", rnd.choice(("ki", "cybersicherheit"))))
    for topic in rnd.sample(topics, 2):
        emit(cluster, DCT["subject"], iri("topic", topic))
    manager = organisation_iri(i)
    emit(cluster, CP["managedBy"], manager)
    if rnd.random() < 0.3:
        emit(cluster, CP["hostedBy"], organisation_iri(rnd.randrange(n_orgs)))
    emit(cluster, CP["seat"], iri("region", town))
    emit(cluster, CP["region"], iri("region", town))
    if rnd.random() < 0.5:
        emit(cluster, CP["region"], iri("region", "nrw"))
    for _ in range(2):
        emit(cluster, CP["participatesInProgramme"], _programme(rnd))
    funder = iri("organisation", f"syn-funder-{rnd.randrange(FUNDERS)}")
    emit(cluster, CP["fundedBy"], funder)
    emit(cluster, SCHEMA["foundingDate"], date(rnd.randrange(FIRST_DAY, LAST_DAY - 3000)))
    if rnd.random() < 0.5:
        emit(cluster, CP["eccpProfile"], f"<https://reporting.clustercollaboration.eu/syn-{i}>")
    # Half the members come from the cluster's own neighbourhood of organisations, half from
    # anywhere: organisations in several clusters are what cross-clustering looks for.
    local = i * ORGANISATIONS_PER_CLUSTER
    members = {manager}
    while len(members) < MEMBERS_PER_CLUSTER:
        if rnd.random() < 0.5:
            members.add(organisation_iri((local + rnd.randrange(60)) % n_orgs))
        else:
            members.add(organisation_iri(rnd.randrange(n_orgs)))
    member_list = sorted(members)
    for member in member_list:
        emit(cluster, ORG["hasMember"], member)

    figure = iri("figure", f"syn-f{i}")
    count = rnd.randrange(15, 400)
    emit(figure, TYPE, CP["ApproximateFigure"])
    emit(figure, LABEL, de(f"Mitglieder von {name}: rund {count}"))
    emit(figure, SCHEMA["value"], integer(count))
    emit(figure, CP["statedAs"], de(f"rund {count}"))
    emit(figure, SCHEMA["about"], cluster)

    for j in range(PROJECTS_PER_CLUSTER):
        n = i * PROJECTS_PER_CLUSTER + j
        project, grant = iri("project", f"syn-p{n}"), iri("grant", f"syn-g{n}")
        title = (
            f"{rnd.choice(words.ADJECTIVES)} {rnd.choice(words.THEMES)} "
            f"für {rnd.choice(words.APPLICATIONS)}"
        )
        start = rnd.randrange(FIRST_DAY, LAST_DAY - 1500)
        emit(project, TYPE, SCHEMA["Project"])
        emit(project, LABEL, de(title))
        emit(
            project,
            SCHEMA["description"],
            de(
                f"Verbundprojekt im {name}: {title}, mit Partnern aus {rnd.choice(words.BRANCHES)} "
                f"und {rnd.choice(words.BRANCHES)}."
            ),
        )
        emit(project, SCHEMA["startDate"], date(start))
        emit(project, SCHEMA["endDate"], date(start + rnd.randrange(365, 1460)))
        emit(project, SCHEMA["sourceOrganization"], cluster)
        emit(project, CP["participatesInProgramme"], _programme(rnd))
        emit(project, DCT["subject"], iri("topic", rnd.choice(topics)))
        for member in rnd.sample(member_list, rnd.randrange(2, 6)):
            emit(project, SCHEMA["member"], member)
        emit(project, SCHEMA["funding"], grant)
        emit(grant, TYPE, SCHEMA["MonetaryGrant"])
        emit(grant, SCHEMA["amount"], decimal(rnd.lognormvariate(12.5, 1.0)))
        emit(grant, SCHEMA["currency"], plain("EUR"))
        emit(grant, SCHEMA["funder"], funder)

    previous = None
    for _ in range(rnd.choices((0, 1, 2), (50, 35, 15))[0]):
        n = award_counter[0]
        award_counter[0] += 1
        award = iri("label-award", f"syn-a{n}")
        level = rnd.choice(("bronze", "bronze", "silver", "gold"))
        year = rnd.randrange(2012, 2026)
        emit(award, TYPE, CP["LabelAward"])
        emit(award, LABEL, de(f"{level.title()}-Label für {name} ({year})"))
        emit(award, CP["awardedLabel"], iri("cluster-label", level))
        emit(award, CP["awardedTo"], cluster)
        emit(award, CP["awardedBy"], iri("organisation", "eucles"))
        emit(award, DCT["date"], date(datetime.date(year, rnd.randrange(1, 13), 1).toordinal()))
        if previous:
            emit(award, CP["isRenewalOf"], previous)
        previous = award

    for k in range(EVENTS_PER_CLUSTER):
        event = iri("event", f"syn-e{i * EVENTS_PER_CLUSTER + k}")
        day = rnd.randrange(FIRST_DAY, LAST_DAY)
        what = rnd.choice(words.EVENT_KINDS)
        emit(event, TYPE, CP["Event"])
        emit(event, LABEL, de(f"{what} {theme} {datetime.date.fromordinal(day).year}"))
        emit(event, SCHEMA["startDate"], date(day))
        emit(event, SCHEMA["endDate"], date(day + rnd.randrange(2)))
        emit(event, SCHEMA["location"], iri("region", rnd.choice(cities)))
        emit(event, SCHEMA["organizer"], cluster)
        emit(
            event,
            SCHEMA["about"],
            iri(
                "focus-theme",
                rnd.choice(
                    ("wtt", "cross-clustering", "federal-and-eu-funding", "cluster-labeling")
                ),
            ),
        )
        if rnd.random() < 0.5:
            emit(event, CP["withinInitiative"], iri("initiative", "cluster-dialog-nrw"))

    if rnd.random() < 0.05:
        mention = iri("joint-mention", f"syn-m{i}")
        emit(mention, TYPE, CP["JointMention"])
        emit(mention, CP["passage"], de(f"{name} und weitere Cluster arbeiten an {theme}."))
        for other in {i, rnd.randrange(n_clusters), rnd.randrange(n_clusters)}:
            emit(mention, CP["mentionsCluster"], cluster_iri(other))
        for field in rnd.sample(words.FIELDS, 2):
            emit(mention, CP["mentionsField"], iri("innovation-field", field))


def _organisation(
    emit: _Writer,
    rnd: random.Random,
    n: int,
    n_clusters: int,
    topics: list[str],
    cities: list[str],
) -> None:
    org = organisation_iri(n)
    town = rnd.choice(cities)
    town_name = town[4:].replace("-", " ").title()
    style = rnd.randrange(4)
    if style == 0:
        name = f"{rnd.choice(words.SURNAMES)} {rnd.choice(words.BRANCHES)}"
    elif style == 1:
        name = f"{town_name}er {rnd.choice(words.BRANCHES)}"
    elif style == 2:
        name = f"{rnd.choice(words.SURNAMES)} & {rnd.choice(words.SURNAMES)}"
    else:
        name = f"Institut für {rnd.choice(words.THEMES)} {town_name}"
    form = "e. V." if style == 3 else rnd.choice(words.LEGAL_FORMS)
    emit(org, TYPE, ORG["Organization"])
    if n < n_clusters:
        emit(org, TYPE, CP["ClusterManagementOrganisation"])
    emit(org, LABEL, de(f"{name} {form}"))
    emit(org, SCHEMA["legalName"], de(f"{name} {form}"))
    if rnd.random() < 0.3:
        emit(org, SKOS["altLabel"], de("".join(w[0] for w in name.split() if w[0].isalpha())))
    emit(org, HOMEPAGE, f"<https://www.{slugify(name).replace('&', 'und')}-{n}.de/>")
    emit(
        org,
        CP["seat"],
        iri("region", f"{town}-{rnd.choice(('mitte', 'nord', 'sued', 'ost', 'west'))}"),
    )
    emit(org, SCHEMA["foundingDate"], date(rnd.randrange(FIRST_DAY - 20000, LAST_DAY - 400)))
    emit(org, SCHEMA["numberOfEmployees"], integer(int(rnd.paretovariate(1.2) * 8)))
    emit(org, DCT["subject"], iri("topic", rnd.choice(topics)))
    emit(
        org,
        SCHEMA["description"],
        de(f"{rnd.choice(words.BRANCHES)} in {town_name}, Schwerpunkt {rnd.choice(words.THEMES)}."),
    )


def generate(out: TextIO, triples: int, *, seed: int = 7, quads: bool = True) -> Manifest:
    """Write about ``triples`` triples to ``out``; return what the query mix needs to know."""
    started = time.perf_counter()
    rnd = random.Random(seed)
    emit = _Writer(out, quads)
    n_clusters = clusters_for(triples)
    n_orgs = n_clusters * ORGANISATIONS_PER_CLUSTER
    topics, cities, programmes = _vocabulary(emit, rnd)
    award_counter = [0]
    for i in range(n_clusters):
        if i % CLUSTERS_PER_GRAPH == 0:
            part = i // CLUSTERS_PER_GRAPH
            emit.start_graph(
                f"clusters-{part}", f"clusters-{part}", f"Synthetische Cluster, Teil {part}"
            )
        _cluster_block(emit, rnd, i, n_clusters, n_orgs, topics, cities, award_counter)
    for n in range(n_orgs):
        if n % ORGANISATIONS_PER_GRAPH == 0:
            part = n // ORGANISATIONS_PER_GRAPH
            emit.start_graph(
                f"organisations-{part}",
                f"organisations-{part}",
                f"Synthetische Organisationen, Teil {part}",
            )
        _organisation(emit, rnd, n, n_clusters, topics, cities)
    emit.flush()
    return Manifest(
        seed=seed,
        clusters=n_clusters,
        organisations=n_orgs,
        projects=n_clusters * PROJECTS_PER_CLUSTER,
        events=n_clusters * EVENTS_PER_CLUSTER,
        programmes=programmes,
        topics=topics,
        cities=cities,
        bezirke=[f"syn-rb-{slugify(b)}" for b in words.DISTRICTS],
        triples=emit.count,
        seconds=round(time.perf_counter() - started, 2),
    )


def generate_file(path: Path, triples: int, *, seed: int = 7) -> Manifest:
    """Write ``path`` (``.nq`` or ``.nt``) and its manifest ``path.json``; reuse them if there."""
    manifest_path = path.with_name(path.name + ".json")
    if path.is_file() and manifest_path.is_file():
        manifest = Manifest.load(manifest_path)
        if manifest.seed == seed and manifest.clusters == clusters_for(triples):
            return manifest
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    with partial.open("w", encoding="utf-8", buffering=1 << 20) as out:
        manifest = generate(out, triples, seed=seed, quads=path.suffix == ".nq")
    partial.replace(path)
    manifest.save(manifest_path)
    return manifest


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--triples", default="1m", help="target size: 100k, 1m, 10m…")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("-o", "--output", type=Path, help="file (.nq or .nt); - for stdout")
    args = parser.parse_args(argv)
    triples = parse_size(args.triples)
    if args.output is None or str(args.output) == "-":
        manifest = generate(sys.stdout, triples, seed=args.seed)
    else:
        manifest = generate_file(args.output, triples, seed=args.seed)
    print(
        f"{manifest.triples:,} triples, {manifest.clusters:,} clusters in {manifest.seconds:.1f} s",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
