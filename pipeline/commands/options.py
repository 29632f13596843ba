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
