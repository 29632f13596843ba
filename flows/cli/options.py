"""Options every command shares, so --db means the same thing everywhere."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.core.paths import DEFAULT_DB

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
    help="If another process holds the database's lock, wait up to this many seconds for it.",
)

site_option = click.option("--site", help="Only this site (default: every site in the database).")


def _tables(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...] | None:
    """`--tables Posts,Users --tables Tags` as a checked tuple of names (None: every file)."""
    from pipeline.ingest.load import TableChoiceError, dump_files

    try:
        return tuple(sorted(chosen)) if (chosen := dump_files(value)) else None
    except TableChoiceError as error:
        raise click.BadParameter(str(error), ctx, param) from None


tables_option = click.option(
    "--tables", "tables", multiple=True, metavar="FILE,...", callback=_tables,
    help="Load only these dump files, comma-separated or repeated: Posts (required), Users, Comments, "
         "Tags, PostLinks, PostHistory, Votes, Badges (default: all). The site's snapshot is then "
         "these files only; its other tables are left empty.")

stage_workers_option = click.option(
    "--workers", type=click.IntRange(min=1),
    help="Worker processes; 1 works in this process alone, N > 1 starts N while this one reads and "
         "writes (default: one per core for a site of 20,000 questions or more, else this process "
         "alone). The rows are the same whatever the number.")


def site_scopes(con, site: str | None) -> list:
    """The ledger scopes of a per-site verb: the site asked for, else every ingested site."""
    from pipeline.core.step import Scope
    from pipeline.steps import all_sites

    return [Scope.site(name) for name in ([site] if site else all_sites(con))]
