"""Merge a site parsed elsewhere into the main database.

DuckDB lets one process write a database file. When sites are parsed on Dask workers (processes
or machines), each worker runs `ingest` into a private staging database; the one process that
holds the main database then moves each staged site in with `merge_staged`, in one transaction,
with the same rule as `load.ingest`: an older snapshot never replaces a newer one unless forced.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipeline.core.db import connect, transaction
from pipeline.core.sql import SqlFile
from pipeline.ingest import STEP
from pipeline.ingest.load import DUMP_TABLES, ingest, newer_loaded, next_dump_key, refuse_shrinking, rekey_dumps

SQL = SqlFile("pipeline.ingest", "merge.sql")


@dataclass(frozen=True)
class Staged:
    """One site parsed into a staging database, ready to merge."""

    site: str
    path: str
    rows: dict[str, int]
    seconds: float
    mb: float
    pid: int


def parse_to_staging(site: str, paths: list[str], staging_dir: str, workers: int | None = None,
                     tables: list[str] | None = None) -> Staged:
    """Ingest one site's sources into a fresh staging database in `staging_dir` (no main database);
    only the dump files `tables` (`load.dump_files`; default: all) are parsed."""
    started = time.perf_counter()
    fd, staged = tempfile.mkstemp(suffix=".duckdb", dir=staging_dir)
    os.close(fd)
    os.unlink(staged)  # DuckDB wants to create the file itself
    con = connect(staged, schema=[STEP.tables()])
    try:
        report = ingest(con, [Path(p) for p in paths], force=True, workers=workers, staging_dir=Path(staging_dir),
                        tables=tables)
    finally:
        con.close()
    loaded = {s.site: s.rows for s in report.sites}
    return Staged(site, staged, loaded.get(site, {}), time.perf_counter() - started, report.bytes_parsed / 1e6,
                  os.getpid())


def merge_staged(con: duckdb.DuckDBPyConnection, staged: str, site: str, force: bool = False) -> str:
    """Replace `site` in every dump table with the staged rows, in one transaction; they take the
    site's next dump_key in the main database.

    Returns "ingested", or "kept-newer" when the database holds a newer snapshot of the site
    (unless `force`). Raises DumpError, changing nothing, when the staged snapshot is empty or
    has under half the loaded posts (unless `force`; `load.refuse_shrinking`).
    """
    con.execute(SQL("attach"), [staged])
    try:
        [(newest, common)] = con.execute(SQL("newest"), [site]).fetchall()
        if not force and newer_loaded(con, site, newest, common):
            return "kept-newer"
        if not force:
            [(posts, rows, where)] = con.execute(SQL("staged_rows")).fetchall()
            refuse_shrinking(con, site, posts or 0, rows or 0, where or site)
        with transaction(con):
            rekey_dumps(con)
            key = next_dump_key(con, site)
            for table in DUMP_TABLES:
                delete, insert = SQL.statements("replace", table=table)
                con.execute(delete, [[site]])
                con.execute(insert, [key])
    finally:
        con.execute(SQL("detach"))
    return "ingested"
