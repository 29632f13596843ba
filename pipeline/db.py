"""Open the stackmine database and make sure it has the shape every stage expects.

Stages never open files themselves: they take the connection this module returns, so tests,
flows and the CLI all decide where the database lives and how long it stays open.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import duckdb
import pyarrow as pa
from tqdm import tqdm

from pipeline.errors import DatabaseBusy
from pipeline.paths import DEFAULT_DB  # noqa: F401 - re-exported: where stages look by default

# Order matters: later files may reference tables of earlier ones.
SCHEMA_FILES = ("dump_tables.sql", "text_labels.sql", "topics.sql", "stages.sql")


def connect(path: str | Path = DEFAULT_DB, read_only: bool = False, wait_seconds: float = 0.0) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the database at `path` and ensure its schema.

    DuckDB lets one process write a file at a time; a second writer gets a lock error. We turn
    that into `DatabaseBusy` naming the file, after waiting up to `wait_seconds` for it to free up,
    so two runs never interleave writes and the user learns why the second one stopped.
    """
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    elif not path.exists():
        raise FileNotFoundError(f"{path}: no database here yet; run `stackmine ingest` first")
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            if time.monotonic() >= deadline:
                raise DatabaseBusy(
                    f"{path} is being written by another stackmine process ({_holder(exc)}). "
                    "Wait for it to finish, or pass --wait SECONDS to queue behind it. "
                    "Nothing was changed."
                ) from exc
            time.sleep(0.5)
    if not read_only:
        ensure_schema(con)
    return con


def _holder(exc: Exception) -> str:
    found = re.search(r"PID (\d+)", str(exc))
    return f"PID {found.group(1)}" if found else "unknown process"


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every table that does not exist yet; rerunnable, changes nothing that exists."""
    sql_dir = resources.files("pipeline") / "sql"
    for name in SCHEMA_FILES:
        resource = sql_dir / name
        if resource.is_file():
            con.execute(resource.read_text(encoding="utf-8"))


def read_sql(name: str) -> str:
    """Text of `pipeline/sql/NAME` (SQL lives in files, never glued from strings)."""
    return (resources.files("pipeline") / "sql" / name).read_text(encoding="utf-8")


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All-or-nothing: commit when the block ends, roll back on any exception (or kill -9)."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def replace_scope(con: duckdb.DuckDBPyConnection, table: str, delete: tuple[str, list], batches: Iterable[pa.Table],
                  total: int, desc: str, progress: bool = False) -> int:
    """Replace a stage's rows for one scope: run `delete` (sql, params), append every Arrow batch
    to `table`, all in one transaction; returns rows written.

    This is how a stage keeps "the old state or the new one, never half": an exception (or kill -9)
    anywhere rolls the delete back too. `table` is a name from code, never from user input.
    """
    written = 0
    with transaction(con):
        con.execute(*delete)
        with tqdm(total=total, unit="q", desc=desc, disable=not progress) as bar:
            for batch in batches:
                con.register("replace_scope_batch", batch)
                con.execute(f"INSERT INTO {table} SELECT * FROM replace_scope_batch")
                con.unregister("replace_scope_batch")
                written += batch.num_rows
                bar.update(batch.num_rows)
    return written
