"""The ledger of step runs: skip a step whose inputs and version have not changed since it ran.

Keys live in the database's `stage_runs` table (pipeline/core/sql/tables.sql), next to the outputs
they vouch for, rather than in Prefect's result store: a result cache in ~/.prefect would say
"done" for a fresh database file, or for one a manual `stackmine ingest` has since changed. The
CLI verbs record their runs here too, so a single verb and `stackmine run` agree on what is fresh.

A step is current for a scope when (1) the key of its inputs equals the recorded key, and (2) its
output in the database still has the fingerprint recorded when it ran (a step's `fingerprint`
section in its SQL file). How keys are made from the declarations is `pipeline.steps.input_key`.
"""

from __future__ import annotations

from datetime import datetime, timezone

import duckdb

from pipeline.core.sql import SqlFile
from pipeline.core.step import Scope, Step, make_key

SQL = SqlFile("pipeline.core", "ledger.sql")


def fingerprint(con: duckdb.DuckDBPyConnection, step: Step, sites: tuple[str, ...]) -> str:
    """Key of `step`'s current output for `sites` ("" for a step whose output is files)."""
    try:
        sql = step.sql()("fingerprint")
    except (KeyError, FileNotFoundError):
        return ""
    return make_key(con.execute(sql, [list(sites)]).fetchall())


def is_current(con: duckdb.DuckDBPyConnection, step: Step, scope: Scope, key: str) -> bool:
    """True when the ledger holds `key` for (step, scope) and the output is still as recorded."""
    row = next(iter(con.execute(SQL("get"), [step.name, scope.name]).fetchall()), None)
    if row is None or row[0] != key:
        return False
    sites = tuple(row[2].split(",")) if row[2] else scope.sites
    return row[1] == fingerprint(con, step, sites)


def record(con: duckdb.DuckDBPyConnection, step: Step, scope: Scope, key: str, rows: int | None,
           seconds: float) -> None:
    """Write (replace) the ledger row of (step, scope), fingerprinting its output as it is now."""
    con.execute(SQL("put"), [
        step.name, scope.name, ",".join(scope.sites), key, fingerprint(con, step, scope.sites), step.version,
        rows, seconds, datetime.now(timezone.utc).replace(tzinfo=None),
    ])


def forget(con: duckdb.DuckDBPyConnection, step: Step, scope: Scope) -> None:
    """Drop the ledger row of (step, scope): its output is no longer what the row vouched for."""
    con.execute(SQL("forget"), [step.name, scope.name])
