"""Open the stackmine database and make sure it has the shape every stage expects.

Stages never open files themselves: they take the connection this module returns, so tests,
flows and the CLI all decide where the database lives and how long it stays open.
"""

from __future__ import annotations

import re
import time
import weakref
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa
from tqdm import tqdm

from pipeline.core.comments import apply_comments
from pipeline.core.errors import DatabaseBusy, DatabaseMissing
from pipeline.core.paths import DEFAULT_DB
from pipeline.core.sql import SqlFile

SQL = SqlFile("pipeline.core", "db.sql")
# The ledger of step runs (pipeline/core/ledger.py) is core's own table; each stage package
# declares its own tables (pipeline/<stage>/sql/tables.sql), which `pipeline.steps` passes here.
LEDGER_TABLES = SqlFile("pipeline.core", "tables.sql")
# New files are written in a storage format that DuckDB 1.5 reads too: the DuckDB shell on the
# package registry (duckdb-cli, newest 1.5.x) cannot open 2.0's own format (storage version 69),
# and researchers open the file in that shell and in notebooks with whatever duckdb they have.
# Costs nothing measurable (bench/storage.py, README "Performance"). Existing files keep theirs.
STORAGE = {"storage_compatibility_version": "v1.5.0"}
# DuckDB while a stage streams a scope through Python (replace_scope): a buffer cap. Without one,
# DuckDB keeps every block it has read or written cached, up to 80% of RAM, so a stage's RSS grew
# with the site (the posts it reads, the rows it writes); with it, blocks are evicted or spilled.
STREAM_SETTINGS = {"memory_limit": "256MB"}
# A writing connection attaches its file with row groups of 65,536 rows (db.sql, `attach`), not
# DuckDB's default 122,880: a group of posts rows that size does not fit under the caps above while
# it is built, so it spills and is read back (README, Performance: insert and commit CPU before and
# after). DuckDB takes the size only when a file is attached and does not keep it in the file, and
# cannot attach one file twice in a process: so this keeps the writing connection of each file the
# process has open (its first `connect`), and a second `connect` gets a cursor of it.
_WRITERS: weakref.WeakValueDictionary[Path, duckdb.DuckDBPyConnection] = weakref.WeakValueDictionary()


def connect(path: str | Path = DEFAULT_DB, read_only: bool = False, wait_seconds: float = 0.0,
            schema: Sequence[SqlFile] = ()) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the database at `path` and ensure the tables of `schema` exist.

    DuckDB lets one process write a file at a time, and a writer cannot open a file that any
    other process has open, even read-only; a reader cannot open one that a writer holds. We turn
    that lock error into `DatabaseBusy` naming the file and the process DuckDB names, after
    waiting up to `wait_seconds` for it to free up, so two runs never interleave writes and the
    user learns why the second one stopped.
    """
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    elif not path.exists():
        raise DatabaseMissing(f"{path}: no database here yet; run `stackmine ingest` first (or pass --db PATH)")
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            con = duckdb.connect(str(path), read_only=True) if read_only else _writer(path)
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            if time.monotonic() >= deadline:
                raise DatabaseBusy(busy_message(path, exc, read_only)) from exc
            time.sleep(0.5)
    if not read_only:
        ensure_schema(con, [LEDGER_TABLES, *schema])
    return con


def _writer(path: Path) -> duckdb.DuckDBPyConnection:
    """A writing connection to `path` whose new row groups have 65,536 rows.

    The file is attached to an in-memory instance and made the default catalog, so statements name
    tables as before. If this process already has `path` open for writing (`stackmine run` holds it
    while its flow runs), the result is a cursor of that connection: the same attachment and lock,
    its own transactions, closed when the first connection closes. STORAGE applies to a file this
    creates; an existing file keeps its storage version.
    """
    key = path.resolve()
    owner = _WRITERS.get(key)
    if owner is not None:
        try:
            return owner.cursor()
        except duckdb.ConnectionException:  # closed: its file is free again
            pass
    con = duckdb.connect(":memory:", config=STORAGE)
    try:
        con.execute(SQL("attach"), [str(path)])
        for statement in SQL.statements("use"):
            con.execute(statement)
    except BaseException:
        con.close()
        raise
    _WRITERS[key] = con
    return con


def open_read_only(path: str | Path = DEFAULT_DB, wait_seconds: float = 0.0,
                   values: dict[str, str] | None = None) -> duckdb.DuckDBPyConnection:
    """A connection that cannot change anything: read-only, no file access, configuration locked.

    For the commands that only read (query, export, report, evaluate): whatever SQL reaches it,
    it cannot write the database or any file, nor read files outside the database. `values` are
    DuckDB settings made before the lock (export and report stream under STREAM_SETTINGS).
    """
    con = connect(path, read_only=True, wait_seconds=wait_seconds)
    for name, value in (values or {}).items():
        set_setting(con, name, value)
    return sandbox(con)


def busy_message(path: Path, exc: Exception, read_only: bool) -> str:
    """What is known about a lock: the file is locked, by the PID (and program) DuckDB names.

    It does not say "stackmine" or "writer": a notebook's read-only connection blocks writers too.
    """
    found = re.search(r"held in (.*?) \(PID (\d+)\)", str(exc))
    holder = f"PID {found.group(2)}, {Path(found.group(1)).name}" if found else "a process DuckDB did not name"
    why = ("" if read_only else
           " A process that has the file open, even read-only (a notebook, the DuckDB shell), keeps writers out.")
    return (f"{path} is locked by another process ({holder}).{why} Wait for it to finish or close it, "
            "or pass --wait SECONDS to queue behind it. Nothing was changed.")


def sandbox(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Switch file access off for `con` and lock its configuration; returns `con`.

    Read-only alone still lets `COPY ... TO` write files, `read_text` read them and `ATTACH` open
    other databases; locking the configuration keeps a statement from switching access back on.
    Tables registered from Python (`registered`) still work.
    """
    for statement in SQL.statements("sandbox"):
        con.execute(statement)
    return con


def ensure_schema(con: duckdb.DuckDBPyConnection, schema: Sequence[SqlFile]) -> None:
    """Create every table of `schema` (DDL files, in order) that does not exist yet, and set the
    comments of its tables and columns from the DDL (pipeline/core/comments.py); rerunnable,
    changes no data."""
    for ddl in schema:
        con.execute(ddl.text())
    apply_comments(con, schema)


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, **tables: object) -> Iterator[duckdb.DuckDBPyConnection]:
    """Arrow tables or data frames visible to SQL under the given names for the block, then gone:
    how Python data meets a named statement without gluing values into SQL."""
    for name, table in tables.items():
        con.register(name, table)
    try:
        yield con
    finally:
        for name in tables:
            con.unregister(name)


@contextmanager
def settings(con: duckdb.DuckDBPyConnection, values: dict[str, str]) -> Iterator[None]:
    """DuckDB settings `values` (names from code, values bound) for the block, then the previous
    ones. They are global to the database instance: every cursor of `con` sees them too. A default
    comes back exactly; a value set before comes back as DuckDB prints it (to 0.1 MiB)."""
    before = {name: setting(con, name) for name in values}
    for name, value in values.items():
        set_setting(con, name, value)
    try:
        yield
    finally:
        for name, value in before.items():
            # RESET first: a default reads back rounded ('18.8 GiB'), and setting that would change it.
            con.execute(SQL("reset", name=name))
            if setting(con, name) != value:
                set_setting(con, name, value)


@contextmanager
def capped(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """STREAM_SETTINGS for a block that streams a large result through Python (an export), so
    DuckDB's buffers do not grow with it; a locked configuration (`open_read_only`) is left as it
    was opened, which is where the commands that read set them."""
    if str(setting(con, "lock_configuration")).lower() == "true":
        yield
        return
    with settings(con, STREAM_SETTINGS):
        yield


def setting(con: duckdb.DuckDBPyConnection, name: str) -> str:
    """The current value of one DuckDB setting, as DuckDB prints it."""
    return con.execute(SQL("setting"), {"name": name}).fetchall()[0][0]


def set_setting(con: duckdb.DuckDBPyConnection, name: str, value: str) -> None:
    """Set one DuckDB setting (`name` from code, `value` bound) until it is set again."""
    con.execute(SQL("set", name=name), {"value": value})


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All-or-nothing: commit when the block ends, roll back on any exception (or kill -9)."""
    con.begin()
    try:
        yield con
    except BaseException:
        con.rollback()
        raise
    con.commit()


def replace_scope(con: duckdb.DuckDBPyConnection, table: str, delete: tuple[str, list],
                  batches: Iterable[pa.Table | pa.RecordBatch], total: int, desc: str, progress: bool = False) -> int:
    """Replace a stage's rows for one scope: run `delete` (sql, params), append every Arrow batch
    to `table`, all in one transaction; returns rows written.

    This is how a stage keeps "the old state or the new one, never half": an exception (or kill -9)
    anywhere rolls the delete back too. `table` is a name from code, never from user input.
    Memory stays flat whatever the scope's size: DuckDB runs under STREAM_SETTINGS' cap (what the
    transaction writes goes to the database file, not to RAM) and only the batches in flight are
    held in Python.
    """
    written = 0
    with settings(con, STREAM_SETTINGS), transaction(con):
        con.execute(*delete)
        with tqdm(total=total, unit="q", desc=desc, disable=not progress) as bar:
            for batch in batches:
                # Not a registered view + INSERT (`registered`): inside a transaction DuckDB keeps a
                # registered view, and the Arrow batch behind it, until COMMIT even once unregistered,
                # so every batch of the scope stayed in memory (about 1.8 KB per question of text).
                con.from_arrow(batch).insert_into(table)
                written += batch.num_rows
                bar.update(batch.num_rows)
    return written
