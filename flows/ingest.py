"""Ingest flow: parse dump sources, write them into the database one site at a time.

Reads: dump sources (.7z archives, XML folders, SEDE CSV folders, folders of those); `stage_runs`.
Writes: the dump tables (pipeline/ingest/sql/tables.sql) for the sites found; a `stage_runs` row
per site.

DuckDB lets one process write a database file, so the split is honest about it:
  - on one machine (no Dask), `pipeline.steps.ingest_sources` ingests straight into the main
    database: `pipeline.ingest` already parses a site's files on every core (2 MB chunks on
    worker threads), so running sites side by side would only oversubscribe the cores;
  - on Dask (`dask_address` / `dask_workers`), one parse task per site runs on a worker process
    or machine (`pipeline.ingest.merge.parse_to_staging`, into a private staging database on a
    folder every worker can reach); this process, which alone holds the main database, merges
    each staged site in one transaction as soon as it is ready. Parsing scales with workers; the
    merge stays serial.

A site whose ledger key (source bytes, parser version, watermark and bot rules, the dump files
`tables` left out) is unchanged, and whose rows are still in `dumps` as recorded, is skipped without
being parsed. With `tables` (`stackmine run --tables`) only those dump files are parsed, on either
path, and the site's snapshot is those files alone (`pipeline.ingest.load.only_files`).
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.runners import task_runner
from pipeline import ingest as ingest_step
from pipeline.core import ledger
from pipeline.core.paths import SAMPLE
from pipeline.core.step import Scope
from pipeline.ingest.load import by_site, dump_files, only_files, source_hashes
from pipeline.ingest.merge import Staged, merge_staged, parse_to_staging
from pipeline.ingest.staging import staging_folder
from pipeline.steps import connect, ingest_keys, ingest_sources


@task(cache_policy=NO_CACHE, task_run_name="parse {site}")
def parse_site(site: str, paths: list[str], staging_dir: str, workers: int | None,
               tables: list[str] | None = None) -> Staged:
    """One site into a fresh staging database; runs on any worker (no main-database access)."""
    return parse_to_staging(site, paths, staging_dir, workers, tables)


@flow(name="ingest")
def ingest_flow(sources: list[str] | None = None, db: str = "data/stackmine.duckdb", force: bool = False,
                wait_seconds: float = 0.0, dask_address: str | None = None, dask_workers: int = 0,
                progress: bool = False, tables: list[str] | None = None) -> list[dict]:
    """Ingest `sources` (default: the bundled sample) into `db`, only the dump files `tables`
    (default: all); see the module docstring."""
    con = connect(db, wait_seconds=wait_seconds)
    try:
        return ingest_into(con, sources, force, dask_address, dask_workers, progress, staging_root=Path(db).parent,
                           tables=tables)
    finally:
        con.close()


def ingest_into(con: duckdb.DuckDBPyConnection, sources: list[str] | None, force: bool = False,
                dask_address: str | None = None, dask_workers: int = 0, progress: bool = False,
                staging_root: Path = Path("."), tables: list[str] | None = None) -> list[dict]:
    """Ingest `sources` through `con` (the run's one connection), only the dump files `tables`
    (`pipeline.ingest.load.dump_files`; default: all); one result per site."""
    paths = [Path(s).resolve() for s in (sources or [SAMPLE])]
    if dask_address or dask_workers:
        return _on_dask(con, paths, force, task_runner(dask_address, dask_workers), staging_root, tables)
    report = _here(con, paths, force, progress, tables)
    logger = get_run_logger()
    results = []
    for done in report.sites:
        status = {"loaded": "ingested", "unchanged": "skipped"}.get(done.status, done.status)
        if status == "skipped":
            logger.info("%s: sources unchanged since the last ingest, skipped", done.site)
        else:
            logger.info("%s: %s, %.1f MB parsed", done.site, status, done.bytes_parsed / 1e6)
        results.append({"site": done.site, "status": status, "rows": done.rows, "mb": done.bytes_parsed / 1e6})
    return results


@task(cache_policy=NO_CACHE, task_run_name="ingest")
def _here(con: duckdb.DuckDBPyConnection, paths: list[Path], force: bool, progress: bool,
          tables: list[str] | None):
    """Without Dask: straight into the main database, no staging copy."""
    return ingest_sources(con, paths, force=force, progress=progress, tables=tables)


def _on_dask(con: duckdb.DuckDBPyConnection, paths: list[Path], force: bool, runner, staging_root: Path,
             tables: list[str] | None) -> list[dict]:
    """Every site that needs it parsed on the Dask workers at once; merged here one by one, in order."""
    logger = get_run_logger()
    wanted = dump_files(tables)
    # the same key as `ingest_sources` gives: a run with other --tables is another snapshot, not skipped
    sites, left_out = only_files(by_site(paths), wanted)
    hashes = source_hashes([f for files in sites.values() for f in files])
    keys = ingest_keys(con, sites, hashes, left_out=left_out)
    todo = {name for name in sites if force or not ledger.is_current(con, ingest_step.STEP, Scope.site(name), keys[name])}
    results = []
    # Owned by this process (pipeline.ingest.staging): if the run is killed, the next ingest or
    # `stackmine clean` removes it.
    with staging_folder(staging_root.resolve()) as staging_path:
        staging = str(staging_path)
        with runner as workers:
            futures = {name: workers.submit(parse_site, parameters={
                "site": name, "paths": [str(s) for s in dict.fromkeys(f.source for f in files)],
                "staging_dir": staging, "workers": 1, "tables": sorted(wanted) if wanted else None})
                for name, files in sites.items() if name in todo}
            for name in sites:
                if name not in todo:
                    logger.info("%s: sources unchanged since the last ingest, skipped", name)
                    results.append({"site": name, "status": "skipped"})
                    continue
                started = time.perf_counter()
                staged: Staged = futures[name].result()
                status = merge_staged(con, staged.path, name, force)
                if status == "ingested":
                    ledger.record(con, ingest_step.STEP, Scope.site(name), keys[name], sum(staged.rows.values()),
                                  staged.seconds + time.perf_counter() - started)
                logger.info("%s: %s, %.1f MB parsed in %.1f s (pid %s)", name, status, staged.mb, staged.seconds, staged.pid)
                results.append({"site": name, "status": status, "rows": staged.rows, "pid": staged.pid,
                                "seconds": staged.seconds, "mb": staged.mb})
    return results
