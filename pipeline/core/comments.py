"""The database documents itself: `COMMENT ON` every table and column, taken from the DDL files.

The convention (every `pipeline/*/sql/tables.sql` follows it; tests/core/test_comments.py checks
that no table or column lacks a comment):

    CREATE TABLE IF NOT EXISTS posts (   -- one row per post of a dump: questions, answers, wiki
        site   VARCHAR NOT NULL,         -- the Stack Exchange site, e.g. ai.stackexchange.com
        score  INTEGER,                  -- up votes minus down votes
                                         -- (a comment-only line whose `--` lines up continues it)

The trailing comment of the `CREATE TABLE` line describes the table; the trailing comment of a
column's line describes the column. DuckDB keeps them (`duckdb_tables()`, `duckdb_columns()`), so
a researcher in the DuckDB shell or a notebook reads what a column means without this repository;
`docs/schema.md` is generated from them (`scripts/schema_page.py`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb

from pipeline.core.sql import SqlFile

SQL = SqlFile("pipeline.core", "comments.sql")
_CREATE = re.compile(r"^CREATE TABLE (?:IF NOT EXISTS )?([a-z_][a-z0-9_]*) *\(")
# Column names are lower case; constraint lines (PRIMARY KEY, UNIQUE, CHECK) start upper case.
_COLUMN = re.compile(r"^\s+([a-z_][a-z0-9_]*)\s+[A-Z]")


@dataclass
class TableDoc:
    """A table's comment and its columns' comments, in DDL order ("" where a comment is missing)."""

    name: str
    comment: str = ""
    columns: dict[str, str] = field(default_factory=dict)


def _split(line: str) -> tuple[str, str, int]:
    """(code, comment, column of `--`) of one DDL line; no DDL line holds `--` inside a string."""
    at = line.find("--")
    if at < 0:
        return line, "", -1
    return line[:at], line[at + 2:].strip(), at


def parse(ddl: str) -> list[TableDoc]:
    """The tables of a DDL script with their trailing-comment documentation."""
    tables: list[TableDoc] = []
    current: TableDoc | None = None
    last: tuple[str | None, int] | None = None  # what a continuation line extends: (column or None, `--` column)
    for line in ddl.splitlines():
        code, comment, at = _split(line)
        if current is None:
            found = _CREATE.match(code)
            if found:
                current = TableDoc(found.group(1), comment)
                tables.append(current)
                last = (None, at)
            continue
        if code.strip().startswith(")"):
            current, last = None, None
        elif not code.strip() and comment and last and at == last[1]:
            column = last[0]
            if column is None:
                current.comment = f"{current.comment} {comment}".strip()
            else:
                current.columns[column] = f"{current.columns[column]} {comment}".strip()
        elif found := _COLUMN.match(code):
            current.columns[found.group(1)] = comment
            last = (found.group(1), at)
        else:
            last = None
    return tables


def documented(schema: Sequence[SqlFile]) -> list[TableDoc]:
    """The documentation of every table of `schema` (DDL files, in order)."""
    return [table for ddl in schema for table in parse(ddl.text())]


def _literal(text: str) -> str:
    # COMMENT ON takes no bound parameters. The text comes only from the package's DDL files,
    # never from a user; doubling quotes is how SQL writes a quote inside a literal.
    return "'" + text.replace("'", "''") + "'"


def apply_comments(con: duckdb.DuckDBPyConnection, schema: Sequence[SqlFile]) -> int:
    """Set the comment of every table and column of `schema` that differs from its DDL's; returns
    how many were set. Rerunnable: an up-to-date database is left untouched (one catalog query);
    a column the DDL lists but an older database lacks is left alone."""
    current = {(t, c): comment or "" for t, c, comment in con.execute(SQL("current_comments")).fetchall()}
    changes = []
    for table in documented(schema):
        wanted = [(None, table.comment), *table.columns.items()]
        for column, text in wanted:
            if (table.name, column or "") in current and current[table.name, column or ""] != text:
                section = "comment_table" if column is None else "comment_column"
                ids = {"table": table.name} | ({"column": column} if column else {})
                changes.append(SQL(section, **ids).replace("{text}", _literal(text)))
    if changes:
        con.begin()
        for statement in changes:
            con.execute(statement)
        con.commit()
    return len(changes)


def schema_markdown(con: duckdb.DuckDBPyConnection, tables: Sequence[str]) -> str:
    """`docs/schema.md`: each table's comment and its columns (type, nullable, comment), as DuckDB
    reports them, so the page shows what the database itself says."""
    out = ["# The stackmine database", "",
           "Generated by `scripts/schema_page.py` from the comments DuckDB stores with every table and",
           "column (`SELECT * FROM duckdb_columns()` shows them); the comments come from the trailing",
           "`-- comment` of each line in `pipeline/*/sql/tables.sql`. Do not edit by hand.", ""]
    out += [f"- [{name}](#{name})" for name in tables] + [""]
    for name in tables:
        comment = con.execute(SQL("table_comment"), {"table": name}).fetchone()[0]
        out += [f"## {name}", "", comment or "", "", "| column | type | null | description |", "|---|---|---|---|"]
        for column, kind, nullable, text in con.execute(SQL("column_comments"), {"table": name}).fetchall():
            cell = (text or "").replace("|", "\\|").replace("<", "&lt;")
            out.append(f"| `{column}` | {kind.replace('|', chr(92) + '|')} | {'yes' if nullable else 'no'} | {cell} |")
        out.append("")
    return "\n".join(out)
