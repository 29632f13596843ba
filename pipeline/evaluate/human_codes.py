"""Coded sheets in the database: the classifier's labels of a sheet's questions, and `human_codes`.

`machine_labels` finds the stored labels of a sheet's questions by (site, post_id), so
`stackmine agreement` can compare each coder with the classifier. `load` writes a checked sheet
into `human_codes` (pipeline/evaluate/sql/tables.sql) in one transaction: the sheet's earlier rows
are replaced; a sheet with questions the database does not hold, or that another sheet already
codes, is refused by name before anything is written. Exports then carry the codes beside the
machine's labels (pipeline/publish/export.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa

from pipeline.core.codebook import NO_STAGE
from pipeline.core.db import registered, transaction
from pipeline.core.errors import StackmineError
from pipeline.core.sql import SqlFile
from pipeline.evaluate.sheet import Code, CodedSheet

SQL = SqlFile("pipeline.evaluate", "human_codes.sql")
SHOWN = 5  # questions named in an error before "and N more"


class SheetRefused(StackmineError):
    """A coded sheet that is well formed but cannot be loaded into this database (its questions are
    not there, or another sheet codes them); the message names the questions."""


@dataclass(frozen=True)
class Loaded:
    """What a load wrote: the sheet's name, its questions and its rows (one per question and coder)."""

    sheet: str
    questions: int
    rows: int


def machine_labels(con: duckdb.DuckDBPyConnection, sheet: CodedSheet) -> dict[tuple[str, int], Code]:
    """The classifier's labels of the sheet's questions, as codes; a question without labels is absent."""
    keys = pa.table({"site": [q.site for q in sheet.questions], "post_id": [q.post_id for q in sheet.questions]},
                    schema=pa.schema([("site", pa.string()), ("post_id", pa.int64())]))
    with registered(con, sheet_keys=keys):
        rows = con.execute(SQL("machine_labels")).fetchall()
    return {(site, post_id): Code(tuple(sorted(platforms or [])), bool(ml), stage if ml else NO_STAGE,
                                  stage2 or None, None)
            for site, post_id, platforms, ml, stage, stage2 in rows}


def missing(con: duckdb.DuckDBPyConnection, sheet: CodedSheet) -> list[tuple[str, int, int]]:
    """(site, post_id, line) of the sheet's questions that have no stored labels in this database."""
    found = machine_labels(con, sheet)
    return [(q.site, q.post_id, q.line) for q in sheet.questions if (q.site, q.post_id) not in found]


def rows(sheet: CodedSheet) -> pa.Table:
    """The sheet's codes as rows of human_codes."""
    records = [{"sheet": sheet.name, "sheet_sha256": sheet.sha256, "line": q.line, "site": q.site,
                "post_id": q.post_id, "coder": coder, "platforms": list(code.platforms), "ml": code.ml,
                "stage": code.stage, "stage2": code.stage2, "note": code.note}
               for q in sheet.questions for coder, code in sorted(q.codes.items())]
    schema = pa.schema([("sheet", pa.string()), ("sheet_sha256", pa.string()), ("line", pa.int32()),
                        ("site", pa.string()), ("post_id", pa.int64()), ("coder", pa.int16()),
                        ("platforms", pa.list_(pa.string())), ("ml", pa.bool_()), ("stage", pa.string()),
                        ("stage2", pa.string()), ("note", pa.string())])
    return pa.Table.from_pylist(records, schema=schema)


def load(con: duckdb.DuckDBPyConnection, sheet: CodedSheet) -> Loaded:
    """Replace the rows of `sheet.name` in human_codes with the sheet's codes, in one transaction.

    Refused, with nothing written, when a question of the sheet has no stored labels here (another
    database, or `stackmine classify` not run for its site) or is coded by another sheet.
    """
    absent = missing(con, sheet)
    if absent:
        raise SheetRefused(
            f"{sheet.name}: {_named([f'{s} {p} (line {line})' for s, p, line in absent])} "
            f"{'is' if len(absent) == 1 else 'are'} not in this database (no stored labels). "
            "What to fix: load the sheet into the database its export was made from (--db), or run "
            "`stackmine classify` for the site first. Nothing was loaded.")
    new = rows(sheet)
    with registered(con, new_codes=new):
        clashes = con.execute(SQL("coded_elsewhere"), [sheet.name]).fetchall()
        if clashes:
            raise SheetRefused(
                f"{sheet.name}: {_named([f'{s} {p} (in sheet {other})' for s, p, other in clashes])} "
                f"{'is' if len(clashes) == 1 else 'are'} already coded in another sheet; a question has one set "
                "of human codes. What to fix: remove those rows from this sheet, or load this sheet under the "
                "other sheet's name (--sheet) to replace it. Nothing was loaded.")
        with transaction(con):
            con.execute(SQL("delete_sheet"), [sheet.name])
            con.execute(SQL("insert_codes"))
    return Loaded(sheet.name, len({(q.site, q.post_id) for q in sheet.questions if q.codes}), new.num_rows)


def table_exists(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether `con` has human_codes (a database made before it existed and opened read-only lacks it)."""
    return bool(con.execute(SQL("has_table")).fetchall()[0][0])


def _named(items: list[str]) -> str:
    shown = ", ".join(items[:SHOWN])
    return shown + (f" and {len(items) - SHOWN} more" if len(items) > SHOWN else "")
