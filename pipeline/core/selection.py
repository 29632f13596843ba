"""Which questions a study looks at: one filter shared by topics, stages and export.

A selection turns into a parameterised WHERE clause over `question_labels` (alias `l`) joined to
`question_text` (alias `t`), so every stage that takes a selection picks exactly the same rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

import duckdb

from pipeline.core import sqlguard
from pipeline.core.sql import SqlFile

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

SQL = SqlFile("pipeline.core", "selection.sql")
# How DuckDB's data errors (duckdb.DataError) begin when they reach Python as an Arrow OSError.
_DATA_ERRORS = ("Conversion Error", "Out of Range Error", "Invalid Input Error", "Type Mismatch Error")


@dataclass(frozen=True)
class Selection:
    """Filters on labelled questions; `None` means "do not filter on this".

    The default (notebook questions that are ML) is the population the study is about.
    `where` is an extra condition for the rare filter the fields cannot express, over the same
    aliases (`t`, `l`): checked when the Selection is made (`pipeline.core.sqlguard`; a refused
    one raises `WhereRefused`) and run as SQL rendered from the checked tree, never as typed.
    """

    sites: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    notebook: bool | None = True
    ml: bool | None = True
    year_from: int | None = None
    year_to: int | None = None
    where: str | None = None
    extra: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if self.where:
            sqlguard.condition(self.where)

    def sql(self) -> tuple[str, list]:
        """Return (`WHERE ...` text, parameters) for DuckDB's `?` placeholders."""
        clauses: list[str] = [SQL("everything")]
        params: list = []
        filters = (("sites", list(self.sites) if self.sites else None), ("platforms", list(self.platforms) or None),
                   ("notebook", self.notebook), ("ml", self.ml), ("year_from", self.year_from), ("year_to", self.year_to))
        for name, value in filters:
            if value is not None:
                clauses.append(SQL(name))
                params.append(value)
        if self.where:
            checked = sqlguard.condition(self.where)
            clauses.append(checked.sql)
            params.extend(checked.params)
        return "WHERE " + " AND ".join(clauses), params

    def describe(self) -> str:
        """Stable JSON of the filter, stored with models and exports for provenance."""
        data = {k: v for k, v in asdict(self).items() if k != "extra"}
        data["sites"] = list(self.sites)
        data["platforms"] = list(self.platforms)
        return json.dumps(data, sort_keys=True)


def selected_questions_sql(selection: Selection, columns: str = "l.site, l.post_id") -> tuple[str, list]:
    """A complete SELECT of `columns` (a column list from code) for the questions in `selection`,
    ordered for reproducibility."""
    where, params = selection.sql()
    return SQL("select").format(columns=columns, where=where), params


def selection_counts(con: duckdb.DuckDBPyConnection, selection: Selection, columns: str) -> pd.DataFrame:
    """How many questions of `selection` have each combination of `columns` (from code), column `n`:
    what a statistic over groups needs, without holding a row per question."""
    where, params = selection.sql()
    with applied(selection):
        return con.execute(SQL("counts").format(columns=columns, where=where), params).fetch_df()


def selection_rows(con: duckdb.DuckDBPyConnection, selection: Selection, columns: str = "l.site, l.post_id",
                   arrow: bool = False) -> pd.DataFrame | pa.Table:
    """The `columns` of the questions in `selection`, as a pandas frame (or an Arrow table)."""
    sql, params = selected_questions_sql(selection, columns)
    with applied(selection):
        # con.sql for Arrow: execute's Arrow output copies every row once more
        return con.sql(sql, params=params).to_arrow_table() if arrow else con.execute(sql, params).fetch_df()


def selection_relation(con: duckdb.DuckDBPyConnection, selection: Selection,
                       columns: str = "l.site, l.post_id") -> duckdb.DuckDBPyRelation:
    """The questions of `selection` as a DuckDB relation, not yet run: registered as a table
    (`core.db.registered`) it is evaluated inside the query that reads it, so a statement can
    join a selection of millions of questions without Python holding one row of it. Run it
    within `applied(selection)`."""
    sql, params = selected_questions_sql(selection, columns)
    return con.sql(sql, params=params)


@contextmanager
def applied(selection: Selection) -> Iterator[None]:
    """Where DuckDB runs `selection`'s condition on the data.

    A `--where` that passed the check can still fail on the data (a text column compared with a
    number: DuckDB casts every title to a number). That is the user's condition, so it becomes
    `WhereRefused` naming it, not a traceback.
    """
    try:
        yield
    except (duckdb.DataError, OSError) as exc:
        # OSError: DuckDB's data error raised through an Arrow record batch reader, by its text
        data_error = isinstance(exc, duckdb.DataError) or str(exc).startswith(_DATA_ERRORS)
        if not selection.where or not data_error:
            raise
        raise sqlguard.WhereRefused(selection.where, f"DuckDB cannot apply it to the data "
                                                     f"({str(exc).splitlines()[0]})") from None


def selection_batches(con: duckdb.DuckDBPyConnection, selection: Selection, columns: str,
                      batch_rows: int) -> Iterator[pa.RecordBatch]:
    """The `columns` of the questions in `selection`, in `selected_questions_sql`'s order, as Arrow
    batches of at most `batch_rows` rows read from a cursor of its own.

    Why a cursor: the caller may write on `con` (a transaction) while this is being read; a second
    statement on the same connection would end the stream. Why batches: memory is bounded by the
    batch, not by the selection. A `--where` that fails on the data becomes `WhereRefused`, as in
    `selection_rows` (DuckDB may only fail once the batch that trips it is read).
    """
    reader = con.cursor()
    try:
        with applied(selection):
            yield from selection_relation(reader, selection, columns).to_arrow_reader(batch_rows)
    finally:
        reader.close()
