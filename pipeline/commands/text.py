"""`stackmine text`: parse question HTML into title, prose, code, inline code and links."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.commands.options import db_option, site_option, wait_option
from pipeline.db import connect
from pipeline.text import TEXT_VERSION, extract


@click.command("text")
@db_option
@site_option
@wait_option
def text_command(db_path: Path, site: str | None, wait_seconds: float) -> None:
    """Rebuild question_text from posts: prose without code, <pre> code blocks (tracebacks), inline
    code and links kept apart, so later stages never parse HTML again. Replaces the site's rows
    in one transaction.

    \b
    Example:
      stackmine text
      stackmine text --site stackoverflow.com --db data/so.duckdb
    """
    con = connect(db_path, wait_seconds=wait_seconds)
    try:
        n = extract(con, site=site, progress=True)
    finally:
        con.close()
    click.echo(f"question_text: {n:,} questions ({site or 'all sites'}, {TEXT_VERSION})")


COMMANDS = [text_command]
