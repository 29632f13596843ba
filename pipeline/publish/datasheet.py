"""DATASHEET.md for an export, after Gebru et al., "Datasheets for Datasets" (CACM 64(12), 2021).

The facts (sources, checksums, counts, classifier quality, agreement, stage coverage, software
versions) are read from the database, the export itself and the installed software at export
time, never typed by hand, so the datasheet cannot drift from the data; with them an export is a
replication package (pipeline/publish/replication.py gathers what a replication needs). The prose
around them lives in `pipeline/publish/templates/DATASHEET.md.j2`. Nothing time-dependent is
written and no absolute local path: the same export of the same database gives the same datasheet.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING

import duckdb
import jinja2
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.publish import attribution, replication

from pipeline.coverage.table import selection_id
from pipeline.coverage.verdicts import rules_text
from pipeline.evaluate import record as evaluation_record
from pipeline.core.sql import SqlFile
from pipeline.core.paths import dump_source

if TYPE_CHECKING:
    from pipeline.publish.export import ExportOptions

TEMPLATE = "DATASHEET.md.j2"
SQL = SqlFile("pipeline.publish", "publish.sql")


@dataclass(frozen=True)
class Facts:
    """Everything the datasheet states, gathered once so the report can show the same numbers."""

    name: str
    variant: str
    selection: str
    rows: int
    sites: list[tuple[str, int]]
    years: tuple[int, int] | None
    platforms: list[tuple[str, int]]
    stages: list[tuple[str, int]]
    licenses: list[tuple[str, str, int]]
    dumps: list[dict]
    classifier_versions: list[str]
    metrics: list[dict]
    topic_models: list[str]
    files: dict[str, str]
    sample_rows: int
    sample_seed: int | None
    license_rules: str
    unnamed_authors: int
    sample_with_labels: bool = False
    metric_sets: list[str] = field(default_factory=list)
    metric_rows: list[tuple[str, dict[str, dict]]] = field(default_factory=list)
    gold_agreement: list[dict] = field(default_factory=list)
    human: dict | None = None
    coverage: list[dict] = field(default_factory=list)
    selection_id: str = ""
    rules_text: str = ""
    stackmine: str = ""
    checkout: dict | None = None
    software: list[tuple[str, str]] = field(default_factory=list)
    embedding_folder: str = ""
    embedding_files: list[tuple[str, str]] = field(default_factory=list)
    topic_model_facts: list[dict] = field(default_factory=list)
    selection_args: str = ""


# The columns `human_agreement` reads of the questions that carry human codes.
HUMAN_COLUMNS = ("site", "post_id", "platforms", "ml", "stage", "coder1_platforms", "coder1_ml", "coder1_stage",
                 "coder2_platforms", "coder2_ml", "coder2_stage", "human_sheet")

# Every export column `Tally.add` reads: what a caller that only counts (the report's summary) asks
# of the export statement, which then leaves titles, tags and evidence unread.
TALLY_COLUMNS = tuple(dict.fromkeys(("site", "creation_date", "classifier_version", "platforms", "stage",
                                     "license", "license_source", "post_id", "topic_model_id",
                                     "author_display_name", *HUMAN_COLUMNS)))


@dataclass
class Tally:
    """The counts the datasheet states of an export's rows, added up one batch at a time.

    An export streams its rows (a selection can have millions), so no step may need them all at
    once: each batch adds its counts here (Arrow compute per batch, not row by row) and is let go.
    Only the rows that carry human codes are kept whole, for their agreement figures: there are as
    many as coders coded, hundreds, not a share of the selection.
    """

    rows: int = 0
    sites: Counter = field(default_factory=Counter)
    year_min: int | None = None
    year_max: int | None = None
    versions: set = field(default_factory=set)
    platforms: Counter = field(default_factory=Counter)
    no_platform: int = 0
    stages: Counter = field(default_factory=Counter)
    licenses: Counter = field(default_factory=Counter)
    topic_models: set = field(default_factory=set)
    named_authors: int = 0
    coded: list[dict] = field(default_factory=list)

    @classmethod
    def of(cls, table: pa.Table) -> Tally:
        """The tally of a whole table."""
        tally = cls()
        tally.add(table)
        return tally

    def add(self, table: pa.Table) -> None:
        """Count one batch of export rows (already pseudonymised or not)."""
        if table.num_rows == 0:
            return
        self.rows += table.num_rows
        self.sites.update(_counts(table["site"]))
        years = pc.year(table["creation_date"])
        self.year_min = _extreme(self.year_min, pc.min(years).as_py(), min)
        self.year_max = _extreme(self.year_max, pc.max(years).as_py(), max)
        self.versions.update(v for v in pc.unique(table["classifier_version"]).to_pylist() if v)
        self.no_platform += pc.sum(pc.equal(pc.list_value_length(table["platforms"]), 0)).as_py() or 0
        self.platforms.update(_counts(pc.list_flatten(table["platforms"])))
        self.stages.update(_counts(table["stage"]))
        licenses = table.group_by(["license", "license_source"]).aggregate([("post_id", "count")])
        self.licenses.update({(r["license"], r["license_source"]): r["post_id_count"] for r in licenses.to_pylist()})
        self.topic_models.update(v for v in pc.unique(table["topic_model_id"]).to_pylist() if v)
        self.named_authors += pc.sum(pc.greater(pc.utf8_length(table["author_display_name"]), 0)).as_py() or 0
        coded = table.filter(pc.or_(pc.is_valid(table["coder1_ml"]), pc.is_valid(table["coder2_ml"])))
        self.coded.extend(coded.select(list(HUMAN_COLUMNS)).to_pylist())


def _extreme(known: int | None, new: int | None, pick) -> int | None:
    return new if known is None else known if new is None else pick(known, new)


def gather(
    con: duckdb.DuckDBPyConnection, rows: Tally | pa.Table, options: ExportOptions, files: dict[str, str],
    sample_rows: int,
) -> Facts:
    """Collect the datasheet's facts for an export's rows (already pseudonymised or not): their
    `Tally`, added up while the rows streamed past, or a whole table."""
    tally = rows if isinstance(rows, Tally) else Tally.of(rows)
    sites = sorted(tally.sites.items())
    versions = sorted(tally.versions)
    platforms = dict(tally.platforms)
    if tally.no_platform:
        platforms["none"] = tally.no_platform
    metrics = classifier_metrics(versions)
    sets, metric_rows = metric_table(metrics)
    topic_models = sorted(tally.topic_models)
    return Facts(
        name=options.name,
        variant="pseudonymised" if options.pseudonymise else "attributed",
        selection=options.selection.describe(),
        rows=tally.rows,
        sites=sites,
        years=(tally.year_min, tally.year_max) if tally.rows else None,
        platforms=_ranked(platforms),
        stages=_ranked(dict(tally.stages)),
        licenses=sorted(tally.licenses.items()),
        dumps=dump_provenance(con, [s for s, _ in sites]),
        classifier_versions=versions,
        metrics=metrics,
        topic_models=topic_models,
        files=files,
        sample_rows=sample_rows,
        sample_seed=options.seed if options.sample else None,
        license_rules=f"pipeline/publish/rules/{attribution.LICENSE_RULES}",
        unnamed_authors=tally.rows - tally.named_authors,
        sample_with_labels=bool(options.sample and options.sample_with_labels),
        metric_sets=sets,
        metric_rows=metric_rows,
        gold_agreement=gold_agreement(),
        human=human_agreement_of(tally.coded),
        coverage=replication.coverage_rows(con, options.selection).filter(
            (pc.field("site") == "*") & (pc.field("scope") == "all")).to_pylist(),
        selection_id=selection_id(options.selection),
        rules_text=rules_text(),
        stackmine=replication.stackmine_version(),
        checkout=replication.checkout(),
        software=replication.software(),
        embedding_folder=replication.embedding_folder(),
        embedding_files=replication.embedding_files(),
        topic_model_facts=replication.topic_models(con, topic_models),
        selection_args=replication.selection_args(options.selection),
    )


def metric_table(metrics: list[dict]) -> tuple[list[str], list[tuple[str, dict[str, dict]]]]:
    """The evaluation sets of the recorded metrics (in recorded order) and, per label, each set's row."""
    sets = list(dict.fromkeys(m["gold_set"] for m in metrics))
    rows: dict[str, dict[str, dict]] = {}
    for m in metrics:
        rows.setdefault(m["label"], {})[m["gold_set"]] = m
    return sets, list(rows.items())


def gold_agreement() -> list[dict]:
    """How consistently the gold labels were made: the second passes' kappas, each with its pass."""
    from pipeline.evaluate.agreement import gold_agreement as recorded

    return recorded()


def human_agreement(table: pa.Table) -> dict | None:
    """The coders' agreement with each other and with the classifier on the exported questions that
    carry human codes (None when none do): sheets, counts and the agreement rows per family."""
    return human_agreement_of(Tally.of(table).coded)


def human_agreement_of(rows: list[dict]) -> dict | None:
    """`human_agreement` of the coded rows (HUMAN_COLUMNS of each question with a human code)."""
    if not rows:
        return None
    from pipeline.evaluate.agreement import codes_agreement  # scikit-learn: only when there are codes
    from pipeline.evaluate.sheet import Code

    def codes(prefix: str) -> dict[tuple[str, int], Code]:
        return {(r["site"], r["post_id"]): Code(tuple(r[f"{prefix}platforms"] or ()), r[f"{prefix}ml"],
                                                r[f"{prefix}stage"] if r[f"{prefix}ml"] else "none", None, None)
                for r in rows if r[f"{prefix}ml"] is not None}

    one, two, machine = codes("coder1_"), codes("coder2_"), codes("")
    frame = codes_agreement(one, two, machine)
    return {"sheets": sorted({r["human_sheet"] for r in rows}), "questions": len(rows), "coder1": len(one),
            "coder2": len(two), "both": len(one.keys() & two.keys()),
            "rows": [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
                     for r in frame.to_dict("records")]}


def _counts(values) -> dict[str, int]:
    return {r["values"]: r["counts"] for r in pc.value_counts(values).to_pylist()}


def _ranked(counts: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def dump_provenance(con: duckdb.DuckDBPyConnection, sites: list[str]) -> list[dict]:
    """One row per dump file of the given sites: dump id, source (relative to the folder ingested,
    never an absolute local path), SHA-256 of its bytes and of the file on disk, rows, pipeline version."""
    if not sites:
        return []
    cursor = con.execute(SQL("dumps"), [sites])
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, row)) for row in cursor.fetchall()]
    return [{**r, "source": dump_source(r["site"], r["source"])} for r in rows]


def classifier_metrics(versions: list[str]) -> list[dict]:
    """Measured quality of these classifier versions, as recorded in pipeline/evaluate/records/.

    Empty when the version was never measured; the datasheet then says so plainly rather than
    quoting numbers of another version.
    """
    return evaluation_record.committed(versions)


def render(facts: Facts) -> str:
    """The DATASHEET.md text for `facts`."""
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(_load_template),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    return env.get_template(TEMPLATE).render(f=facts)


def _load_template(name: str) -> str:
    return (resources.files("pipeline.publish") / "templates" / name).read_text(encoding="utf-8")
