"""Which dump files a site's loaded snapshot holds, so that a stage that needs one can say so.

`stackmine ingest --tables` loads only some dump files, and some sources have only some (a Data
Explorer export is Posts alone). `dumps` has a row per file loaded; a stage asks here before it
reads a table that may be empty for that reason.
"""

from __future__ import annotations

import logging

import duckdb

from pipeline.core.errors import StackmineError
from pipeline.ingest import STEP

log = logging.getLogger(__name__)

SQL = STEP.sql()


class NotLoaded(StackmineError):
    """A stage needs a dump file that the site's loaded snapshot does not hold."""


def without(con: duckdb.DuckDBPyConnection, file: str, site: str | None = None) -> dict[str, list[str]]:
    """Sites (`site`, or every loaded one) whose snapshot lacks dump file `file` (Posts, Users, ...),
    each with the files its snapshot holds."""
    rows = con.execute(SQL("sites_without_file"), {"file": file, "site": site}).fetchall()
    return {name: files for name, files in rows}


def require(con: duckdb.DuckDBPyConnection, file: str, site: str | None, stage: str) -> list[str]:
    """Name the sites in scope whose snapshot lacks `file`: NotLoaded for a named `site`, a warning
    per site among all sites (the others go on). Returns those sites."""
    missing = without(con, file, site)
    for name, files in missing.items():
        message = (f"{name}: {stage} needs {file}, which was not loaded (its snapshot holds "
                   f"{', '.join(files)}); ingest the site again with {file} in --tables, or without --tables")
        if site is not None:
            raise NotLoaded(message)
        log.warning(message)
    return sorted(missing)
