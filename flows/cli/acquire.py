"""`stackmine acquire`: download dump archives into data/raw/<dump-date>/ (flows/acquire.py)."""

from __future__ import annotations

from pathlib import Path

import click

from flows.cli.options import db_option
from flows.cli.run import prefect_defaults
from pipeline.acquire import STEP
from pipeline.acquire.fetch import load_checksums, probe_mirror


@click.command(STEP.name)
@click.argument("sites", nargs=-1, required=True)
@click.option("--mirror", "base", required=True, metavar="URL|DIR",
              help="Mirror in archive.org layout: BASE/<site>.7z (http(s) URL or local folder).")
@click.option("--dump-date", required=True, metavar="YYYY-MM[-DD]", help="Dump date: the folder under --raw.")
@click.option("--sha256", "checksums", metavar="FILE|URL",
              help="SHA-256 list to check the archives against: the dump's published checksum list (file or URL, "
                   "sha256sum format: `HEX  NAME.7z` per line), or one you write with `sha256sum *.7z > SHA256SUMS`. "
                   "Checked before anything starts.")
@click.option("--raw", "raw_root", type=click.Path(file_okay=False, path_type=Path), default=Path("data/raw"),
              show_default=True, help="Root of the immutable raw archives.")
@click.option("--ingest", is_flag=True, help="Ingest the archives into --db after downloading them.")
@db_option
def acquire_command(sites: tuple[str, ...], base: str, dump_date: str, checksums: str | None,
                    raw_root: Path, ingest: bool, db_path: Path) -> None:
    """Download SITES' archives from a mirror with resume and SHA-256 checks; skip those present.

    Archives land read-only in RAW/DUMP-DATE/<site>.7z, only after they start with the 7z
    signature, open as 7z archives, have the length the server announced and (with --sha256) match
    the list; anything else is deleted. An interrupted download resumes (HTTP Range with If-Range,
    so a file changed on the server is fetched again whole) on the automatic retry or the next
    call. A mirror that cannot be reached (host not found, connection refused) or lacks the file
    stops at once, without retries.

    \b
    Example:
      stackmine acquire ai.stackexchange.com datascience.stackexchange.com \\
        --mirror https://archive.org/download/stackexchange --dump-date 2024-04-01 --ingest
    """
    if checksums:  # a missing list or an unreachable mirror stops here, before Prefect starts
        load_checksums(checksums)
    probe_mirror(base)
    prefect_defaults()
    from flows.acquire import acquire_flow

    fetched = acquire_flow(sites=list(sites), base=base, dump_date=dump_date, raw_root=str(raw_root),
                           checksums=checksums, ingest=ingest, db=str(db_path), progress=True)
    for item in fetched:
        click.echo(f"{item['status']:<10} {item['path']}  sha256 {item['sha256'][:16]}…")


COMMANDS = [acquire_command]
