"""Options every command shares, so --db means the same thing everywhere."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.db import DEFAULT_DB

db_option = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_DB,
    show_default=True,
    help="DuckDB database file.",
)

wait_option = click.option(
    "--wait",
    "wait_seconds",
    type=float,
    default=0.0,
    show_default=True,
    help="If another stackmine process holds the database, wait up to this many seconds for it.",
)

site_option = click.option("--site", help="Only this site (default: every site in the database).")
