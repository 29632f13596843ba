"""`stackmine serve`: run practice-mining on a schedule against a Prefect server."""

from __future__ import annotations

import os
from pathlib import Path

import click

from flows.cli.options import db_option, tables_option
from flows.cli.run import dask_options, prefect_defaults
from pipeline.core.errors import StackmineError


@click.command("serve")
@click.argument("sources", nargs=-1, type=click.Path(path_type=Path))
@db_option
@click.option("--cron", help='Cron schedule (server time zone UTC), e.g. "0 3 * * 1" = Mondays 03:00.')
@click.option("--interval", type=float, help="Run every this many seconds instead of a cron schedule.")
@click.option("--name", default="weekly", show_default=True, help="Deployment name shown in the Prefect UI.")
@click.option("--wait", "wait_seconds", type=float, default=600.0, show_default=True,
              help="How long a scheduled run waits for the database if another run holds it.")
@dask_options
@tables_option
def serve_command(sources: tuple[Path, ...], db_path: Path, cron: str | None, interval: float | None, name: str,
                  wait_seconds: float, dask_address: str | None, dask_workers: int,
                  tables: tuple[str, ...] | None) -> None:
    """Serve the practice-mining flow on a schedule until interrupted (Ctrl-C).

    Needs a running Prefect server: start one with `prefect server start` and point this shell at
    it with `prefect config set PREFECT_API_URL=http://127.0.0.1:4200/api`. Runs appear in the UI
    at http://127.0.0.1:4200 under Deployments → practice-mining/NAME. SOURCES default to
    data/sample; point them at data/raw/ to pick up new dumps that `stackmine acquire` fetched.
    A SOURCES folder that does not exist yet is created: runs wait, doing nothing, until dumps
    arrive in it.

    \b
    Example:
      stackmine serve --cron "0 3 * * 1" data/raw --db data/stackmine.duckdb
    """
    if bool(cron) == bool(interval):
        raise click.UsageError("give exactly one of --cron or --interval")
    prefect_defaults()
    from prefect.settings import PREFECT_API_URL

    if not (os.environ.get("PREFECT_API_URL") or PREFECT_API_URL.value()):
        raise StackmineError(
            "schedules need a Prefect server: run `prefect server start`, then "
            "`prefect config set PREFECT_API_URL=http://127.0.0.1:4200/api`, and start serve again."
        )
    for source in sources:
        _watch(source)
    from prefect.deployments.runner import EntrypointType

    from flows.practice_mining import practice_mining

    parameters = {"sources": [str(s.resolve()) for s in sources] or None, "db": str(db_path.resolve()),
                  "wait_seconds": wait_seconds, "dask_address": dask_address, "dask_workers": dask_workers,
                  "tables": list(tables) if tables else None}
    practice_mining.serve(name=name, cron=cron, interval=interval, parameters=parameters, global_limit=1,
                          entrypoint_type=EntrypointType.MODULE_PATH)


def _watch(source: Path) -> None:
    """A folder to watch may not exist yet (data/raw on a fresh clone): create it, empty. A missing
    path that looks like a file (has a suffix) is a typo, not a folder to wait on."""
    if source.exists():
        return
    if source.suffix:
        raise click.BadParameter(f"{source} does not exist", param_hint="SOURCES")
    source.mkdir(parents=True)
    click.echo(f"created {source}/ (empty): each run ingests the dumps that arrive there, "
               "e.g. from `stackmine acquire`", err=True)


COMMANDS = [serve_command]
