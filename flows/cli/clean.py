"""`stackmine clean`: remove the staging folders that killed ingest runs left behind."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from flows.cli.options import db_option


@click.command("clean")
@db_option
@click.option("--staging-dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Also look here (the --staging-dir given to ingest).")
@click.option("--dry-run", is_flag=True, help="Only list what would be removed.")
def clean_command(db_path: Path, staging_dir: Path | None, dry_run: bool) -> None:
    """Remove the staging folders of ingest runs that did not finish (killed, out of memory).

    `run` with Dask keeps its per-site staging databases in a `stackmine-ingest-*` folder (and
    ingest before issue 14 its parsed rows) and removes it when it ends; a killed run cannot. Every ingest removes such folders where it stages, and this
    command does it on demand: in the system temp folder, beside the --db file (where `run` with
    Dask stages) and in --staging-dir. A folder is removed only when the process that made it has
    ended; a live run's folder is never touched. The database is not opened.

    \b
    Example:
      stackmine clean
      stackmine clean --staging-dir /scratch --dry-run
    """
    from pipeline.ingest.staging import remove_stale, stale_folders

    places = dict.fromkeys(p.resolve() for p in (Path(tempfile.gettempdir()), db_path.parent, staging_dir)
                           if p is not None and p.is_dir())
    found = [stale for place in places for stale in (stale_folders(place) if dry_run else remove_stale(place, quiet=True))]
    verb = "would remove" if dry_run else "removed"
    for stale in found:
        click.echo(f"{verb} {stale.path} ({stale.bytes / 1e6:,.1f} MB): {stale.why}")
    total = sum(stale.bytes for stale in found)
    click.echo(f"{verb} {len(found)} stale staging folder(s), {total / 1e6:,.1f} MB, in "
               + ", ".join(str(p) for p in places))


COMMANDS = [clean_command]
