"""The ad-hoc SQL library: named analyses in `queries/NAME.sql`, run on a read-only connection.

Each file answers one question and starts with a header that both people and this module read:

    -- title: Notebook questions per platform per year
    -- question: How many notebook questions does each platform get per year?
    -- param: min_year INTEGER = 2008  first year counted
    -- columns: site, platform, year, questions

Parameters are DuckDB session variables read with `COALESCE(getvariable('min_year'), 2008)`, so a
file runs unchanged in the DuckDB CLI (variables unset: the defaults apply) and here, where
`--param min_year=2015` becomes `SET VARIABLE min_year = CAST('2015' AS INTEGER)` first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from pipeline.core import db, tabular
from pipeline.core.errors import StackmineError
from pipeline.core.sql import SqlFile

# queries/ sits beside pipeline/ in the repository (SQL for people, not package data).
QUERY_DIR = Path(__file__).resolve().parents[2] / "queries"

SQL = SqlFile("pipeline.core", "queries.sql")

# Types a parameter may declare; anything else in a header is a typo we want to hear about.
PARAM_TYPES = ("INTEGER", "BIGINT", "DOUBLE", "VARCHAR", "BOOLEAN", "DATE", "TIMESTAMP")

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*$")
_HEADER = re.compile(r"^--\s*(title|question|param|columns):\s*(.*?)\s*$")
# A default is a bare word/number or a single-quoted SQL string (which may contain spaces).
_PARAM = re.compile(r"^(\w+)\s+([A-Z]+)\s*=\s*('(?:[^']|'')*'|\S+)\s*(.*)$")


class QueryError(StackmineError):
    """A query file or its parameters are wrong; says which file and what to change."""


@dataclass(frozen=True)
class Param:
    """One declared parameter: its SQL type, the default the SQL falls back to, and its meaning."""

    name: str
    type: str
    default: str
    help: str


@dataclass(frozen=True)
class Query:
    """A parsed query file: header fields plus the SQL text as written (run verbatim)."""

    name: str
    path: Path
    title: str
    question: str
    params: tuple[Param, ...]
    columns: tuple[str, ...]
    sql: str


def parse_query(path: Path) -> Query:
    """Read `path` and its header; a missing title/question/columns is an error, not a guess."""
    text = path.read_text(encoding="utf-8")
    fields: dict[str, str] = {}
    params: list[Param] = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _HEADER.match(line)
        if not match:
            continue
        key, value = match.groups()
        if key == "param":
            params.append(_parse_param(path, number, value))
        else:
            fields[key] = value
    missing = [k for k in ("title", "question", "columns") if k not in fields]
    if missing:
        raise QueryError(f"{path}: header lacks {', '.join(missing)}; add lines like `-- title: ...` at the top")
    columns = tuple(c.strip() for c in fields["columns"].split(",") if c.strip())
    return Query(path.stem, path, fields["title"], fields["question"], tuple(params), columns, text)


def _parse_param(path: Path, line: int, value: str) -> Param:
    match = _PARAM.match(value)
    if not match or match.group(2) not in PARAM_TYPES:
        raise QueryError(
            f"{path}, line {line}: cannot read parameter `{value}`; "
            f"write `-- param: NAME TYPE = DEFAULT  meaning` with TYPE one of {', '.join(PARAM_TYPES)}"
        )
    name, type_, default, help_ = match.groups()
    if default.startswith("'"):
        default = default[1:-1].replace("''", "'")
    return Param(name, type_, default, help_.strip())


def list_queries(query_dir: Path = QUERY_DIR) -> list[Query]:
    """Every query in `query_dir`, sorted by name."""
    return [parse_query(p) for p in sorted(query_dir.glob("*.sql"))]


def load_query(name: str, query_dir: Path = QUERY_DIR) -> Query:
    """The query called `name` (file stem); unknown names list what exists.

    A name is a file stem, never a path: `../x` or `/tmp/x` would read SQL from outside queries/.
    """
    if not _NAME.match(name):
        raise QueryError(f"query name {name!r}: give the name of a file in queries/ (letters, digits, _ and -), "
                         "not a path; `stackmine query --list` shows them")
    path = query_dir / f"{name}.sql"
    if not path.is_file():
        known = ", ".join(q.name for q in list_queries(query_dir))
        raise QueryError(f"no query named {name!r} in {query_dir}; known: {known}")
    return parse_query(path)


def parse_param_args(query: Query, pairs: tuple[str, ...] | list[str]) -> dict[str, str]:
    """Turn `k=v` strings into a dict, refusing names the query does not declare."""
    declared = {p.name for p in query.params}
    values: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise QueryError(f"--param {pair!r}: write it as NAME=VALUE")
        if key not in declared:
            raise QueryError(
                f"query {query.name} has no parameter {key!r}; it takes: {', '.join(sorted(declared)) or 'none'}"
            )
        values[key] = value
    return values


def open_read_only(db_path: Path, wait_seconds: float = 0.0,
                   values: dict[str, str] | None = None) -> duckdb.DuckDBPyConnection:
    """A connection that cannot change anything (`pipeline.core.db.open_read_only`): read-only
    database, no file access, locked configuration (after the DuckDB settings `values`); waits up
    to `wait_seconds` for a writer."""
    return db.open_read_only(db_path, wait_seconds, values)


def run_query(con: duckdb.DuckDBPyConnection, query: Query, params: dict[str, str] | None = None) -> pa.Table:
    """Set the given parameters as session variables, run the file's SQL verbatim, return Arrow."""
    types = {p.name: p.type for p in query.params}
    for name, value in (params or {}).items():
        try:
            con.execute(SQL("set_variable", name=name, type=types[name]), [value])
        except duckdb.ConversionException as exc:
            raise QueryError(f"--param {name}={value}: not a valid {types[name]}") from exc
    try:
        # con.sql, not execute: execute's Arrow output copies every row once more.
        relation = con.sql(query.sql)
    except duckdb.Error as exc:
        raise QueryError(f"{query.path}: {exc}") from exc
    try:
        if relation is None:
            raise QueryError(f"{query.path}: the last statement returns no rows; a query file must end in a SELECT")
        return relation.to_arrow_table()
    except duckdb.Error as exc:
        raise QueryError(f"{query.path}: {exc}") from exc
    finally:
        for name in params or {}:
            con.execute(SQL("reset_variable", name=name))


FORMATS = ("table", "csv", "json", "parquet")

_RENDERERS = {
    "table": tabular.text_bytes,
    "csv": tabular.csv_bytes,
    "json": tabular.json_bytes,
    "parquet": tabular.parquet_bytes,
}


def render(table: pa.Table, fmt: str) -> bytes:
    """Bytes of `table` in `fmt` (one of FORMATS); the same table always gives the same bytes."""
    if fmt not in _RENDERERS:
        raise QueryError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    return _RENDERERS[fmt](table)
