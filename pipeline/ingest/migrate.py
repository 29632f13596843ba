"""Give a database made before rows carried dump_key (ingest-2 and earlier) the dump_key contract.

There, every row of the dump tables carried the dated dump_id of its snapshot, which is known only
once every file of the snapshot was read; now rows carry dump_key, fixed before parsing, and
`dumps` maps (site, dump_key) to the dump_id (see sql/tables.sql). An old database held one
snapshot per site, so each row gets key 1 and keeps its dump_id through `dumps`. One transaction:
a failed or killed migration leaves the old tables as they were. `pipeline.steps.connect` runs it.
"""

from __future__ import annotations

import logging

import duckdb

from pipeline.core.db import ensure_schema, transaction
from pipeline.ingest import STEP

log = logging.getLogger(__name__)

SQL = STEP.sql()


def migrate_dump_keys(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Migrate the dump tables that predate dump_key; returns them (none: a no-op).

    The data tables get dump_key 1 and lose dump_id in place (DuckDB adds and drops a column
    without copying the table, which matters at Stack Overflow's size). `dumps` declares a key,
    and DuckDB alters no table with one, so it is rebuilt from the DDL with its rows (it holds a
    row per dump file)."""
    tables = [name for (name,) in con.execute(SQL("dump_key_migration"), {"tables": list(STEP.writes)}).fetchall()]
    if not tables:
        return []
    with transaction(con):
        for table in tables:
            if table == "dumps":
                con.execute(SQL("rename_dumps_unkeyed"))
                con.execute(STEP.tables().text())  # creates just `dumps`: the others exist
                con.execute(SQL("copy_dumps_unkeyed"))
                con.execute(SQL("drop_dumps_unkeyed"))
                continue
            for statement in SQL.statements("add_dump_key", table=table):
                con.execute(statement)
            con.execute(SQL("drop_dump_id", table=table))
    ensure_schema(con, [STEP.tables()])  # the comments of the new columns and of the rebuilt table
    log.info("dump tables migrated to dump_key (each site's snapshot is key 1): %s", ", ".join(tables))
    return tables
