"""`stackmine ingest`: load dumps into the database and print what was loaded."""

from __future__ import annotations

from pathlib import Path

import click

from flows.cli.options import db_option, tables_option, wait_option
from pipeline.ingest import STEP
from pipeline.ingest.load import IngestReport


@click.command(STEP.name)
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@db_option
@click.option("--force", is_flag=True, help="Reload sites even if the same dump is already loaded.")
@click.option("--site", help="Site of the XML files and SEDE CSV exports given (default: their folder's name; "
                             "a .7z is named by its file).")
@click.option("--add", is_flag=True, help="Add the SEDE CSV exports given to the site's loaded exports (one "
                                         "snapshot; a post in both must be the same) instead of replacing them.")
@click.option("--workers", type=click.IntRange(min=1), help="Parser threads (default: all cores).")
@click.option("--staging-dir", type=click.Path(exists=True, file_okay=False, writable=True, path_type=Path),
              help="Where DuckDB spills what does not fit its memory cap while loading (default: beside "
                   "the database); nothing else is staged.")
@tables_option
@wait_option
def ingest_command(sources: tuple[Path, ...], db_path: Path, force: bool, site: str | None, add: bool,
                   workers: int | None, staging_dir: Path | None, tables: tuple[str, ...] | None,
                   wait_seconds: float) -> None:
    """Load Stack Exchange dumps from SOURCES into the database, one site snapshot at a time.

    A SOURCE is a site folder of XML files, a .7z dump archive (site.7z or site-Posts.7z, streamed,
    never extracted), a folder of many of these, or a Data Explorer CSV export of Posts; several
    exports of one site given together form one snapshot (a post in two exports is loaded once).
    Rows are inserted while later ones parse, and the whole run is one transaction (a bad file
    anywhere changes nothing); loading the same dump again does nothing unless --force. A snapshot that is
    empty or has under half the loaded posts never replaces a site without --force.

    \b
    Example:
      stackmine ingest data/sample
      stackmine ingest data/raw/2024-04/ --db data/stackmine.duckdb --workers 2 --staging-dir /scratch
      stackmine ingest so-2022-part1.csv so-2022-part2.csv --site stackoverflow.com
      stackmine ingest so-2022-part3.csv --site stackoverflow.com --add
      stackmine ingest data/raw/2024-04/ --tables Posts,Tags,Users
    """
    from pipeline.steps import connect, ingest_sources

    con = connect(db_path, wait_seconds=wait_seconds)
    try:
        report = ingest_sources(con, list(sources), force=force, progress=True, workers=workers, site=site,
                                staging_dir=staging_dir, add=add, tables=tables)
    finally:
        con.close()
    click.echo(summary(report))


def summary(report: IngestReport) -> str:
    """The table printed after a run: rows per site and table, and the throughput."""
    tables = [t for t in STEP.writes if t != "dumps"]
    width = max([len(s.site) for s in report.sites] + [4])
    widths = {t: max(len(t), 7) for t in tables}
    lines = [f"{'site':<{width}}  {'status':<10}  " + "  ".join(f"{t:>{widths[t]}}" for t in tables)]
    for site in report.sites:
        counts = "  ".join(f"{site.rows[t]:>{widths[t]},}" if site.rows else f"{'-':>{widths[t]}}"
                           for t in tables)
        lines.append(f"{site.site:<{width}}  {site.status:<10}  {counts}")
        lines.append(f"{'':<{width}}  dump_id {site.dump_id}")
    lines.append(f"{report.bytes_parsed / 1e6:,.1f} MB parsed in {report.seconds:.1f} s "
                 f"({report.mb_per_second:.1f} MB/s)")
    return "\n".join(lines)


COMMANDS = [ingest_command]
