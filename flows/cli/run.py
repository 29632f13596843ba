"""`stackmine run`: the whole chain (flows/practice_mining.py) as one Prefect flow run."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import click

from flows.cli.options import db_option, tables_option, wait_option


def prefect_defaults() -> None:
    """Quiet, offline Prefect defaults, set before Prefect is imported (the user's env wins)."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # The temporary server takes 7-18 s to start on two cores, longer when they are busy; Prefect's
    # default gives up after 20 s and the run fails with a traceback (seen under a test suite's load).
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per Prefect API call otherwise


def dask_options(command):
    """--dask-address / --dask-workers, shared by run and serve."""
    command = click.option("--dask-workers", type=int, default=0, show_default=True,
                           help="Parse sources on a local Dask cluster of N worker processes.")(command)
    return click.option("--dask-address", metavar="HOST:PORT",
                        help="Parse sources on an existing Dask scheduler, e.g. tcp://10.0.0.5:8786.")(command)


@click.command("run")
@click.argument("sources", nargs=-1, type=click.Path(exists=True, path_type=Path))
@db_option
@wait_option
@click.option("--force", is_flag=True, help="Recompute every stage even if its inputs are unchanged.")
@dask_options
@tables_option
def run_command(sources: tuple[Path, ...], db_path: Path, wait_seconds: float, force: bool,
                dask_address: str | None, dask_workers: int, tables: tuple[str, ...] | None) -> None:
    """Run the whole chain (ingest → text → classify → ...) on SOURCES as the Prefect flow
    `practice-mining`; with no SOURCES, on the bundled sample in data/sample.

    Stages whose inputs (file checksums, upstream results, versions) are unchanged since the last
    run are skipped, so a second run on the same dumps takes seconds. The run is recorded in
    Prefect's run history (~/.prefect, or the server in PREFECT_API_URL). With --tables only those
    dump files are ingested (as `stackmine ingest --tables`); a later run whose --tables changes
    which of a site's files load ingests that site again.

    \b
    Example:
      stackmine run
      stackmine run data/raw/2024-04-01 --db data/so.duckdb --dask-workers 4
      stackmine run data/raw/2024-04-01 --tables Posts,Tags,Users
    """
    prefect_defaults()
    from flows.practice_mining import practice_mining
    from pipeline.coverage.table import read_coverage
    from pipeline.steps import connect

    started = time.perf_counter()
    # Hold the write lock from before the flow until the coverage table is read: the flow's own
    # connection shares it (same process), and a queued run cannot slip in between.
    guard = connect(db_path, wait_seconds=wait_seconds)
    try:
        report = practice_mining(sources=[str(s) for s in sources] or None, db=str(db_path), force=force,
                                 wait_seconds=wait_seconds, dask_address=dask_address, dask_workers=dask_workers,
                                 progress=True, tables=list(tables) if tables else None)
        coverage = read_coverage(guard).to_dict("records")
    finally:
        guard.close()
    for step, results in report.items():
        for item in results if isinstance(results, list) else [results]:
            scope = str(item.get("site") or item.get("scope", ""))
            scope = "(the study selection)" if scope.startswith("{") else _relative(scope)
            click.echo(f"{item.get('stage', step):<9} {scope[-60:]:<60} {item.get('status', '')}")
    click.echo(f"practice-mining finished in {time.perf_counter() - started:.1f} s → {db_path}")
    _print_coverage(coverage)


def _relative(scope: str) -> str:
    """An output folder as the user would write it (data/report), not its absolute path cut short."""
    path = Path(scope)
    if path.is_absolute() and path.is_relative_to(Path.cwd()):
        return str(path.relative_to(Path.cwd()))
    return scope


def _print_coverage(rows: list[dict]) -> None:
    """End with the result the run exists for: which lifecycle stages notebook ML questions skip."""
    import pandas as pd

    from flows.cli.stages import render

    if not rows:
        click.echo("no stage coverage yet (no notebook ML questions in the selection)")
        return
    click.echo("\nstage coverage, notebook ML questions vs other ML questions (all sites; see `stackmine stages`):")
    click.echo(render(pd.DataFrame(rows), "table", "all"))


COMMANDS = [run_command]
