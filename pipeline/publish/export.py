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

Nothing holds the whole selection: rows stream from DuckDB in batches straight into the Parquet and
CSV files, the datasheet's counts are added up batch by batch (`datasheet.Tally`), and the coding
sample is drawn from the strata's sizes and a pass over the keys (`coding_sample.plan`, `pick`).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field, replace
from itertools import chain
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.publish import attribution, coding_sample, columns, datasheet, replication

from pipeline.core import tabular
from pipeline.evaluate import human_codes
from pipeline.ingest import loaded
from pipeline.evaluate.sheet import CodedSheet
from pipeline.core.db import capped, registered
from pipeline.core.sql import SqlFile
from pipeline.core.paths import DEFAULT_EXPORTS
from pipeline.core.errors import StackmineError
from pipeline.core.selection import Selection, applied, selection_relation
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
DATASHEET_FILE = "DATASHEET.md"
SUMS_FILE = "SHA256SUMS"
# Questions read at a time: what an export holds of its rows (with one row group), and what DuckDB
# joins in one statement.
BATCH_ROWS = 20_000
# The coding sample's rows are read by key in groups spanning at most this many post ids. Its keys
# are spread over the whole site: read as one group, the statement's range covered every post and
# ran out of DuckDB's 256 MB cap at 998k questions (`bench/export.py --sizes 480`, about one export
# in three). A dense batch of the export itself spans about as many ids (20,000 questions and their
# answers).
SAMPLE_SPAN = 50_000
# Rows per Parquet row group: fixed, so the file's bytes do not depend on BATCH_ROWS. At most one
# group is held before it is written; the sample's 2,079 questions fit in one, as before.
ROW_GROUP_ROWS = 65_536
# What the coding sample's draw reads of every selected question (pipeline.core.selection columns).
KEY_COLUMNS = "l.site, l.post_id, l.platforms, l.stage"


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


def export(con: duckdb.DuckDBPyConnection, options: ExportOptions, root: Path = DEFAULT_ROOT,
           batch_rows: int = BATCH_ROWS, row_group_rows: int = ROW_GROUP_ROWS,
           sample_span: int = SAMPLE_SPAN) -> ExportResult:
    """Write the export `options.name` under `root`, replacing an earlier one of that name whole.

    The rows stream from DuckDB `batch_rows` at a time: each batch is pseudonymised (if asked),
    counted for the datasheet, appended to the Parquet file (row groups of `row_group_rows`) and
    the CSV file, and let go, so memory does not grow with the selection and the files' bytes do
    not depend on `batch_rows`. The coding sample takes a second pass over the rows' keys only,
    then reads its rows in groups spanning at most `sample_span` post ids. Files are written into
    a fresh temporary folder next to the target and moved into place only when all are complete,
    so an interrupted export never leaves a half-written dataset behind.
    """
    _check_name(options.name)
    topic_model = resolve_topic_model(con, options.selection, options.topic_model)
    # One salt for the whole export: every batch must give an author the same pseudonym.
    salt = (options.salt or attribution.new_salt()) if options.pseudonymise else None
    tally = datasheet.Tally()
    sizes: Counter = Counter()
    with capped(con), closing(stream_rows(con, options.selection, topic_model, batch_rows)) as batches:
        first = next(batches, None)
        if first is None:
            raise ExportError(
                f"the selection {options.selection.describe()} matches no labelled question; "
                "run `stackmine classify` first or widen the selection"
            )
        with staged(Path(root), options.name) as staging:
            parquet: tabular.ParquetStream | None = None
            text = tabular.CsvStream(staging / f"{QUESTIONS}.csv")
            for batch in chain([first], batches):
                if salt is not None:
                    batch = attribution.pseudonymise(batch, salt)
                if parquet is None:
                    parquet = tabular.ParquetStream(staging / f"{QUESTIONS}.parquet", columns.described(batch.schema),
                                                    row_group_rows)
                parquet.write(batch)
                text.write(batch)
                tally.add(batch)
                if options.sample:
                    sizes.update(coding_sample.strata_sizes(batch))
            parquet.close()
            text.close()
            warn_without_users(con, set(tally.sites))
            sample_rows = 0
            if options.sample:
                table, picked = draw_sample(con, options, topic_model, sizes, salt, batch_rows, sample_span)
                sample_rows = len(picked.rows)
                (staging / SAMPLE_FILE).write_bytes(
                    tabular.csv_bytes(coding_sample.blind(table, picked, sample_bodies(con, table, picked))))
                if options.sample_with_labels:
                    (staging / LABELLED_SAMPLE_FILE).write_bytes(tabular.csv_bytes(coding_sample.labelled(table, picked)))
            (staging / COVERAGE_FILE).write_bytes(tabular.csv_bytes(replication.coverage_rows(con, options.selection)))
            (staging / CODEBOOK_FILE).write_bytes(replication.codebook_bytes())
            sums = {path.name: tabular.file_sha256(path) for path in sorted(staging.iterdir())}
            facts = datasheet.gather(con, tally, options, sums, sample_rows)
            (staging / DATASHEET_FILE).write_text(datasheet.render(facts), encoding="utf-8", newline="")
            every = dict(sorted({**sums, DATASHEET_FILE: tabular.file_sha256(staging / DATASHEET_FILE)}.items()))
            (staging / SUMS_FILE).write_bytes("".join(f"{digest}  {name}\n" for name, digest in every.items()).encode())
    directory = Path(root) / options.name
    log.info("exported %d questions to %s", tally.rows, directory)
    return ExportResult(directory, tally.rows, sample_rows, sums)


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


def stream_rows(con: duckdb.DuckDBPyConnection, selection: Selection, topic_model: str | None = None,
                batch_rows: int = BATCH_ROWS, columns: Sequence[str] = ()) -> Iterator[pa.Table]:
    """The export rows for `selection`, ordered by (site, post_id), with topics of `topic_model`,
    `batch_rows` questions at a time (fewer where a batch spans two sites); only `columns` of them
    if given (`rows_of`).

    The selection's keys stream from DuckDB in order (a sort of two columns) on a cursor of their
    own, and each batch of keys is joined to the rest by one statement on `con` that reads only
    that batch's range of post ids (`rows_of`). One statement over the whole selection would sort
    every wide row and build hash tables over all of `posts` and `users`: memory that grows with
    the selection and the site.
    """
    keys = con.cursor()
    try:
        with applied(selection):
            for batch in selection_relation(keys, selection).to_arrow_reader(batch_rows):
                if batch.num_rows:
                    yield rows_of(con, pa.Table.from_batches([batch]), topic_model, columns)
    finally:
        keys.close()


def select_rows(con: duckdb.DuckDBPyConnection, selection: Selection, topic_model: str | None = None) -> pa.Table:
    """The export rows for `selection` as one table (for tests and small selections: an export
    streams them, `stream_rows`)."""
    batches = list(stream_rows(con, selection, topic_model))
    return pa.concat_tables(batches) if batches else rows_of(con, _keys([]), topic_model)


def rows_of(con: duckdb.DuckDBPyConnection, keys: pa.Table, topic_model: str | None,
            columns: Sequence[str] = (), span: int | None = None) -> pa.Table:
    """The export rows of the questions `keys` (site, post_id; already selected, in that order),
    one statement per run of keys (`narrow_groups`: per site, and spanning at most `span` post ids
    if given), each reading only the range of post ids its keys span.

    `columns`: only those, in that order (all if empty). DuckDB then reads only what they need: a
    caller that counts rows (`report.summary`) leaves titles, tags and evidence, most of the bytes
    and of the time, unread."""
    extra = {} if human_codes.table_exists(con) else {"human_codes": human_codes.rows(EMPTY_SHEET)}
    parts = []
    with registered(con, license_rules=attribution.license_rules(), **extra):
        for part in narrow_groups(keys, span) or [keys]:
            ids = part["post_id"]
            site = part["site"][0].as_py() if len(part) else ""
            params = {"site": site, "first": pc.min(ids).as_py(), "last": pc.max(ids).as_py(), "model": topic_model}
            with registered(con, export_selected=part):
                rows = con.sql(SQL("questions"), params=params)
                parts.append((rows.select(*columns) if columns else rows).to_arrow_table())
    return pa.concat_tables(parts)


def _keys(pairs: list[tuple[str, int]]) -> pa.Table:
    return pa.table({"site": pa.array([site for site, _ in pairs], pa.string()),
                     "post_id": pa.array([post_id for _, post_id in pairs], pa.int64())})


def narrow_groups(keys: pa.Table, span: int | None) -> list[pa.Table]:
    """`keys` (site, post_id; in that order) cut into runs of one site, each spanning at most
    `span` post ids if given, in order: what one statement of `rows_of` reads is then bounded by
    the span, not by how far apart the keys lie."""
    groups: list[pa.Table] = []
    start = 0
    sites, ids = keys["site"].to_pylist(), keys["post_id"].to_pylist()
    for end in range(1, len(ids) + 1):
        if (end == len(ids) or sites[end] != sites[start]
                or (span is not None and ids[end] - ids[start] > span)):
            groups.append(keys.slice(start, end - start))
            start = end
    return groups


def draw_sample(con: duckdb.DuckDBPyConnection, options: ExportOptions, topic_model: str | None,
                sizes: dict[tuple[str, str], int], salt: str | None,
                batch_rows: int = BATCH_ROWS, span: int = SAMPLE_SPAN) -> tuple[pa.Table, coding_sample.Draw]:
    """The coding sample: its rows (pseudonymised with `salt` if given) and the draw over them.

    `sizes` are the strata's sizes, counted while the export streamed; the drawn rows are found in
    a pass over every row's key and stratum only (`coding_sample.pick`), then their export rows
    are read by key, in groups spanning at most `span` post ids (`narrow_groups`). The same seed
    draws the same questions as a draw over the whole table.
    """
    wanted = coding_sample.plan(sizes, options.sample or 0, options.seed)
    with applied(options.selection):
        reader = selection_relation(con, options.selection, KEY_COLUMNS).to_arrow_reader(batch_rows)
        picked = coding_sample.pick(reader, wanted)
    keys = _keys([(site, post_id) for site, post_id, _ in picked])
    table = rows_of(con, keys, topic_model, span=span)
    if table.select(["site", "post_id"]).to_pylist() != keys.to_pylist():
        raise ExportError("the coding sample's rows changed while the export read them; export again")
    if salt is not None:
        table = attribution.pseudonymise(table, salt)
    return table, coding_sample.Draw(list(range(len(picked))), [stratum for _, _, stratum in picked])


def sample_bodies(con: duckdb.DuckDBPyConnection, table: pa.Table,
                  picked: coding_sample.Draw) -> dict[tuple[str, int], str | None]:
    """(site, post_id) → HTML body of each drawn question, for the blind sheet."""
    keys = table.take(pa.array(picked.rows, pa.int64())).select(["site", "post_id"])
    with registered(con, sample_keys=keys):
        return {(site, post_id): body for site, post_id, body in con.execute(SQL("bodies")).fetchall()}


def _check_name(name: str) -> None:
    if not name or name.startswith(".") or any(c in name for c in "/\\\0") or name != name.strip():
        raise ExportError(f"export name {name!r}: use a plain folder name such as `notebook-ml-2022`")


@contextmanager
def staged(root: Path, name: str) -> Iterator[Path]:
    """A fresh temporary folder in `root` to write the export `name` into; moved into place as
    `root/name` (replacing an earlier one whole) when the block ends, removed if it fails."""
    root.mkdir(parents=True, exist_ok=True)
    target = root / name
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=root))
    try:
        yield staging
        if target.exists():
            shutil.rmtree(target)
        staging.chmod(0o755)  # mkdtemp makes it private; an export is meant to be shared
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
