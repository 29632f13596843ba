"""`stackmine acquire`: download dump archives into data/raw/<dump-date>/ (flows/acquire.py)."""

from __future__ import annotations

from pathlib import Path

import click

from flows.cli.options import db_option
from flows.cli.run import prefect_defaults
from pipeline.acquire import STEP


@click.command(STEP.name)
@click.argument("sites", nargs=-1, required=True)
@click.option("--mirror", "base", required=True, metavar="URL|DIR",
              help="Mirror in archive.org layout: BASE/<site>.7z (http(s) URL or local folder).")
@click.option("--dump-date", required=True, metavar="YYYY-MM[-DD]", help="Dump date: the folder under --raw.")
@click.option("--sha256", "checksums", metavar="FILE|URL", help="Published SHA-256 list (sha256sum format).")
@click.option("--raw", "raw_root", type=click.Path(file_okay=False, path_type=Path), default=Path("data/raw"),
              show_default=True, help="Root of the immutable raw archives.")
@click.option("--ingest", is_flag=True, help="Ingest the archives into --db after downloading them.")
@db_option
def acquire_command(sites: tuple[str, ...], base: str, dump_date: str, checksums: str | None,
                    raw_root: Path, ingest: bool, db_path: Path) -> None:
    """Download SITES' archives from a mirror with resume and SHA-256 checks; skip those present.

    Archives land read-only in RAW/DUMP-DATE/<site>.7z. An interrupted download resumes (HTTP
    Range) on the automatic retry or the next call; a checksum mismatch discards the download.

    \b
    Example:
      stackmine acquire ai.stackexchange.com datascience.stackexchange.com \\
        --mirror https://archive.org/download/stackexchange --dump-date 2024-04-01 --ingest
    """
    prefect_defaults()
    from flows.acquire import acquire_flow

    fetched = acquire_flow(sites=list(sites), base=base, dump_date=dump_date, raw_root=str(raw_root),
                           checksums=checksums, ingest=ingest, db=str(db_path), progress=True)
    for item in fetched:
        click.echo(f"{item['status']:<10} {item['path']}  sha256 {item['sha256'][:16]}…")


COMMANDS = [acquire_command]
