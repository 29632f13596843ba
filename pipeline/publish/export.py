"""Study-dataset exports: selected questions with labels, evidence, topics and attribution.

`export()` writes `data/exports/<name>/`:

    questions.parquet, questions.csv   one row per selected question (same rows, same order), with
                                       human codes beside the machine's labels where a coded sheet
                                       was loaded (`stackmine agreement FILE --load`)
    coding_sample.csv                  blind sheet for two human coders (with --sample): no labels
    coding_sample_with_labels.csv      the same questions with the machine's labels and strata
                                       (with --sample-with-labels; never give it to coders)
    stage_coverage.csv                 the selection's rows of stage_coverage (`stackmine stages`)
    codebook.md                        the codebook the labels follow (a copy of docs/codebook.md)
    DATASHEET.md                       "Datasheets for Datasets" (Gebru et al.) for this export,
                                       with what a replication needs (versions, parameters, checksums)
    SHA256SUMS                         checksums of every file above

Everything is derived from the database and the arguments only (no clock, no random salt unless
pseudonymising without one), and rows are ordered by (site, post_id), so exporting the same
selection from the same database twice gives byte-identical files. The database is only read.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb
import pyarrow as pa

from pipeline.publish import attribution, coding_sample, columns, datasheet, replication

from pipeline.core import tabular
from pipeline.evaluate import human_codes
from pipeline.ingest import loaded
from pipeline.evaluate.sheet import CodedSheet
from pipeline.core.db import registered
from pipeline.core.sql import SqlFile
from pipeline.core.paths import DEFAULT_EXPORTS
from pipeline.core.errors import StackmineError
from pipeline.core.selection import Selection, selection_rows
from pipeline.core.step import Scope

log = logging.getLogger(__name__)

DEFAULT_ROOT = DEFAULT_EXPORTS
QUESTIONS = "questions"
SQL = SqlFile("pipeline.publish", "publish.sql")
SAMPLE_FILE = "coding_sample.csv"
LABELLED_SAMPLE_FILE = "coding_sample_with_labels.csv"
COVERAGE_FILE = "stage_coverage.csv"
# Stands in for human_codes in a database made before that table existed, opened read-only.
EMPTY_SHEET = CodedSheet("", "", [])
CODEBOOK_FILE = "codebook.md"


class ExportError(StackmineError):
    """An export cannot be made as asked (nothing selected, a bad name, missing stages)."""


@dataclass(frozen=True)
class ExportOptions:
    """What to export and how; `salt` is used only when `pseudonymise` is set, and never written."""

    name: str
    selection: Selection = field(default_factory=Selection)
    pseudonymise: bool = False
    salt: str | None = None
    sample: int | None = None
    seed: int = 0
    topic_model: str | None = None
    sample_with_labels: bool = False


@dataclass(frozen=True)
class ExportResult:
    """Where the export went, how many rows, and the checksum of every file written."""

    directory: Path
    rows: int
    sample_rows: int
    files: dict[str, str]


def export(con: duckdb.DuckDBPyConnection, options: ExportOptions, root: Path = DEFAULT_ROOT) -> ExportResult:
    """Write the export `options.name` under `root`, replacing an earlier one of that name whole.

    Files are written into a fresh temporary folder next to the target and moved into place only
    when all are complete, so an interrupted export never leaves a half-written dataset behind.
    """
    _check_name(options.name)
    topic_model = resolve_topic_model(con, options.selection, options.topic_model)
    table = select_rows(con, options.selection, topic_model)
    if table.num_rows == 0:
        raise ExportError(
            f"the selection {options.selection.describe()} matches no labelled question; "
            "run `stackmine classify` first or widen the selection"
        )
    warn_without_users(con, set(table.column("site").to_pylist()))
    if options.pseudonymise:
        table = attribution.pseudonymise(table, options.salt or attribution.new_salt())
    files: dict[str, bytes] = {
        f"{QUESTIONS}.parquet": tabular.parquet_bytes(columns.describe(table)),
        f"{QUESTIONS}.csv": tabular.csv_bytes(table),
    }
    sample_rows = 0
    if options.sample:
        picked = coding_sample.draw(table, options.sample, options.seed)
        sample_rows = len(picked.rows)
        files[SAMPLE_FILE] = tabular.csv_bytes(coding_sample.blind(table, picked, sample_bodies(con, table, picked)))
        if options.sample_with_labels:
            files[LABELLED_SAMPLE_FILE] = tabular.csv_bytes(coding_sample.labelled(table, picked))
    files[COVERAGE_FILE] = tabular.csv_bytes(replication.coverage_rows(con, options.selection))
    files[CODEBOOK_FILE] = replication.codebook_bytes()
    sums = {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())}
    facts = datasheet.gather(con, table, options, sums, sample_rows)
    files["DATASHEET.md"] = datasheet.render(facts).encode("utf-8")
    every = {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())}
    files["SHA256SUMS"] = "".join(f"{digest}  {name}\n" for name, digest in every.items()).encode()
    directory = _write_all(Path(root), options.name, files)
    log.info("exported %d questions to %s", table.num_rows, directory)
    return ExportResult(directory, table.num_rows, sample_rows, sums)


def warn_without_users(con: duckdb.DuckDBPyConnection, sites: set[str]) -> list[str]:
    """Warn for each exported site whose snapshot has no Users (a Data Explorer export, or `ingest
    --tables` without Users): its author names come from the posts alone. Returns those sites."""
    missing = {site: files for site, files in loaded.without(con, "Users").items() if site in sites}
    for site, files in missing.items():
        log.warning("%s: Users was not loaded (its snapshot holds %s): author names come from "
                    "posts.owner_display_name only, which dumps fill only for deleted users", site, ", ".join(files))
    return sorted(missing)


def run(con: duckdb.DuckDBPyConnection, scope: Scope, options: ExportOptions) -> int:
    """The export step: `options` into the folder `scope.name` (the export's own folder)."""
    folder = Path(scope.name)
    return export(con, replace(options, name=folder.name), folder.parent).rows


def resolve_topic_model(con: duckdb.DuckDBPyConnection, selection: Selection, named: str | None) -> str | None:
    """`named` if it exists; unnamed: the model fitted on this selection, else the newest, else None."""
    row = next(iter(con.execute(SQL("topic_model"), [named, named, selection.describe()]).fetchall()), None)
    if named is not None and row is None:
        raise ExportError(f"no topic model {named!r}; `stackmine query questions_per_topic` shows the newest one")
    return row[0] if row else None


def select_rows(con: duckdb.DuckDBPyConnection, selection: Selection, topic_model: str | None = None) -> pa.Table:
    """The export rows for `selection`, ordered by (site, post_id), with topics of `topic_model`."""
    selected = selection_rows(con, selection, arrow=True)
    extra = {} if human_codes.table_exists(con) else {"human_codes": human_codes.rows(EMPTY_SHEET)}
    with registered(con, export_selected=selected, license_rules=attribution.license_rules(), **extra):
        return con.sql(SQL("questions"), params=[topic_model]).to_arrow_table()


def sample_bodies(con: duckdb.DuckDBPyConnection, table: pa.Table,
                  picked: coding_sample.Draw) -> dict[tuple[str, int], str | None]:
    """(site, post_id) → HTML body of each drawn question, for the blind sheet."""
    keys = table.take(pa.array(picked.rows, pa.int64())).select(["site", "post_id"])
    with registered(con, sample_keys=keys):
        return {(site, post_id): body for site, post_id, body in con.execute(SQL("bodies")).fetchall()}


def _check_name(name: str) -> None:
    if not name or name.startswith(".") or any(c in name for c in "/\\\0") or name != name.strip():
        raise ExportError(f"export name {name!r}: use a plain folder name such as `notebook-ml-2022`")


def _write_all(root: Path, name: str, files: dict[str, bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    target = root / name
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=root))
    try:
        for filename, data in files.items():
            (staging / filename).write_bytes(data)
        if target.exists():
            shutil.rmtree(target)
        staging.chmod(0o755)  # mkdtemp makes it private; an export is meant to be shared
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target
