"""DATASHEET.md for an export, after Gebru et al., "Datasheets for Datasets" (CACM 64(12), 2021).

The facts (sources, checksums, counts, classifier quality) are read from the database and the
export itself at export time, never typed by hand, so the datasheet cannot drift from the data.
The prose around them lives in `pipeline/publish/templates/DATASHEET.md.j2`. Nothing time-dependent is
written: the same export of the same database gives the same datasheet.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

import duckdb
import jinja2
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.publish import attribution

from pipeline.evaluate import record as evaluation_record
from pipeline.core.sql import SqlFile

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


def gather(
    con: duckdb.DuckDBPyConnection, table: pa.Table, options: ExportOptions, files: dict[str, str], sample_rows: int
) -> Facts:
    """Collect the datasheet's facts for an export table (already pseudonymised or not).

    Counted with Arrow compute, not row by row: an export of a large site has millions of rows.
    """
    sites = sorted(_counts(table["site"]).items())
    years = pc.year(table["creation_date"])
    versions = sorted(v for v in pc.unique(table["classifier_version"]).to_pylist() if v)
    empty = pc.sum(pc.equal(pc.list_value_length(table["platforms"]), 0)).as_py() or 0
    platforms = _counts(pc.list_flatten(table["platforms"]))
    if empty:
        platforms["none"] = empty
    licenses = table.group_by(["license", "license_source"]).aggregate([("post_id", "count")])
    return Facts(
        name=options.name,
        variant="pseudonymised" if options.pseudonymise else "attributed",
        selection=options.selection.describe(),
        rows=table.num_rows,
        sites=sites,
        years=(pc.min(years).as_py(), pc.max(years).as_py()) if table.num_rows else None,
        platforms=_ranked(platforms),
        stages=_ranked(_counts(table["stage"])),
        licenses=sorted(((r["license"], r["license_source"]), r["post_id_count"]) for r in licenses.to_pylist()),
        dumps=dump_provenance(con, [s for s, _ in sites]),
        classifier_versions=versions,
        metrics=classifier_metrics(versions),
        topic_models=sorted(v for v in pc.unique(table["topic_model_id"]).to_pylist() if v),
        files=files,
        sample_rows=sample_rows,
        sample_seed=options.seed if options.sample else None,
        license_rules=f"pipeline/rules/{attribution.LICENSE_RULES}",
        unnamed_authors=table.num_rows - (pc.sum(pc.greater(pc.utf8_length(table["author_display_name"]), 0)).as_py() or 0),
    )


def _counts(values) -> dict[str, int]:
    return {r["values"]: r["counts"] for r in pc.value_counts(values).to_pylist()}


def _ranked(counts: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def dump_provenance(con: duckdb.DuckDBPyConnection, sites: list[str]) -> list[dict]:
    """One row per dump file of the given sites: dump id, source, SHA-256, rows, pipeline version."""
    if not sites:
        return []
    cursor = con.execute(SQL("dumps"), [sites])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


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
