"""`stackmine text`: parse question HTML into title, prose, code, inline code and links."""

from __future__ import annotations

from pathlib import Path

import click

from flows.cli.options import db_option, site_option, site_scopes, stage_workers_option, wait_option
from pipeline.text import STEP


@click.command(STEP.name)
@db_option
@site_option
@stage_workers_option
@wait_option
def text_command(db_path: Path, site: str | None, workers: int | None, wait_seconds: float) -> None:
    """Rebuild question_text from posts: prose without code, <pre> code blocks (tracebacks), inline
    code and links kept apart, so later stages never parse HTML again. Replaces each site's rows
    in one transaction.

    \b
    Example:
      stackmine text
      stackmine text --site stackoverflow.com --db data/so.duckdb --workers 8
    """
    from pipeline.ingest.loaded import require
    from pipeline.steps import connect, run_step
    from pipeline.text.extract import run

    con = connect(db_path, wait_seconds=wait_seconds)
    try:
        without_posts = [] if site else require(con, "Posts", None, "text")
        n = sum(run_step(con, STEP, scope, lambda s=scope: run(con, s, progress=True, workers=workers), force=True).rows
                for scope in site_scopes(con, site)
                # every site: one whose snapshot has no Posts is named (a warning) and passed over;
                # a site asked for by name is refused (pipeline.text.extract)
                if site or scope.sites[0] not in without_posts)
    finally:
        con.close()
    click.echo(f"question_text: {n:,} questions ({site or 'all sites'}, {STEP.version})")


COMMANDS = [text_command]
