"""Ingest flow: parse many dump sources in parallel, write them into the database one at a time.

Reads: dump sources (.7z archives, XML folders, SEDE CSV folders, folders of those); `stage_runs`.
Writes: the dump tables of pipeline/sql/dump_tables.sql (`dumps`, `posts`, ...) for the sites
found, one transaction per site; a `stage_runs` row per site.

DuckDB lets one process write a database file, so the split is honest about it:
  - on one machine (no Dask), sites are ingested one after another straight into the main
    database: `pipeline.ingest.ingest` already parses a site's files on every core (2 MB chunks
    on worker threads), so running sites side by side would only oversubscribe the cores;
  - on Dask (`dask_address` / `dask_workers`), one `parse_site` task per site runs on a worker
    process or machine, calling `pipeline.ingest.ingest` into a private staging database (on a
    folder every worker can reach); the flow process, which alone holds the main database,
    merges each staged database in one transaction (delete the site's rows, insert the staged
    ones) as soon as it is ready. Parsing scales with workers; the merge stays serial.

A site whose source bytes (SHA-256) and PIPELINE_VERSION match the ledger, and whose rows are
still in `dumps` as recorded, is skipped without being parsed.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows import cache
from flows.runners import task_runner
from pipeline import PIPELINE_VERSION
from pipeline.db import connect, read_sql, transaction
from pipeline.dumpfiles import discover
from pipeline.ingest import DUMP_TABLES, ingest

log = logging.getLogger(__name__)

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample"


def site_units(sources: list[Path]) -> dict[str, list[str]]:
    """Group the dump files under `sources` by site: {site: [its source paths]}, one task each.

    A site's files must be loaded together (ingest replaces a site's whole snapshot), so the unit
    of parallel work is a site, and a folder of many sites (data/sample, data/raw/<date>) splits.
    """
    units: dict[str, list[str]] = {}
    for dump_file in discover(sources):
        paths = units.setdefault(dump_file.site, [])
        if str(dump_file.source) not in paths:
            paths.append(str(dump_file.source))
    return units


@task(cache_policy=NO_CACHE, task_run_name="checksum {site}")
def checksum_site(site: str, paths: list[str]) -> str:
    """Key of a site's raw bytes (SHA-256 of each source file) and of the parser's version."""
    return cache.make_key(sorted(cache.source_checksum(Path(p)) for p in paths), PIPELINE_VERSION)


@task(cache_policy=NO_CACHE, task_run_name="parse {site}")
def parse_site(site: str, paths: list[str], staging_dir: str, workers: int | None) -> dict:
    """Ingest one site into a fresh staging database; runs on any worker (no main-DB access)."""
    started = time.perf_counter()
    fd, staged = tempfile.mkstemp(suffix=".duckdb", dir=staging_dir)
    os.close(fd)
    os.unlink(staged)  # DuckDB wants to create the file itself
    con = connect(staged)
    try:
        report = ingest(con, [Path(p) for p in paths], force=True, workers=workers, staging_dir=Path(staging_dir))
    finally:
        con.close()
    loaded = {s.site: s.rows for s in report.sites}
    return {"site": site, "staged": staged, "rows": loaded.get(site, {}), "pid": os.getpid(),
            "seconds": time.perf_counter() - started, "mb": report.bytes_parsed / 1e6}


def merge_staged(con, staged: str, site: str, force: bool = False) -> str:
    """Replace `site` in every dump table with the staged rows, in one transaction.

    Returns "ingested", or "kept-newer" when the database holds a newer snapshot of the site
    (unless `force`), mirroring `pipeline.ingest.ingest`.
    """
    con.execute("ATTACH ? AS staged (READ_ONLY)", [staged])
    try:
        newer = None if force else con.execute(cache.query("newer_loaded"), [site]).fetchone()
        if newer:
            get_run_logger().warning("%s: the database holds a newer dump (%s); kept it (use --force to replace)",
                                     site, newer[0])
            return "kept-newer"
        with transaction(con):
            for table in DUMP_TABLES:
                for statement in _merge_statements(table):
                    con.execute(statement, [[site]] if "?" in statement else [])
    finally:
        con.execute("DETACH staged")
    return "ingested"


def _merge_statements(table: str) -> list[str]:
    body = "\n".join(line for line in read_sql("merge_staged.sql").splitlines() if not line.startswith("--"))
    return [s.strip().format(table=table) for s in body.split(";") if s.strip()]


@task(cache_policy=NO_CACHE, task_run_name="ingest {site}")
def ingest_site_here(con, site: str, paths: list[str], force: bool, progress: bool = False) -> dict:
    """Without Dask: `pipeline.ingest.ingest` straight into the main database, no staging copy
    (its own thread pool already spreads a site's files over every core of this machine)."""
    started = time.perf_counter()
    report = ingest(con, [Path(p) for p in paths], force=force, progress=progress)
    [done] = [r for r in report.sites if r.site == site]
    status = {"loaded": "ingested"}.get(done.status, done.status)
    return {"site": site, "rows": done.rows, "pid": os.getpid(), "seconds": time.perf_counter() - started,
            "mb": done.bytes_parsed / 1e6, "status": status}


@flow(name="ingest")
def ingest_flow(sources: list[str] | None = None, db: str = "data/stackmine.duckdb", force: bool = False,
                wait_seconds: float = 0.0, dask_address: str | None = None, dask_workers: int = 0,
                progress: bool = False) -> list[dict]:
    """Ingest `sources` (default: the bundled sample) into `db`; see the module docstring."""
    units = site_units([Path(s).resolve() for s in (sources or [SAMPLE])])
    on_dask = bool(dask_address or dask_workers)
    runner = task_runner(dask_address, dask_workers)
    return _ingest_sites.with_options(task_runner=runner)(units, db, force, wait_seconds, on_dask, progress)


@flow(name="ingest-sites")
def _ingest_sites(units: dict[str, list[str]], db: str, force: bool, wait_seconds: float, on_dask: bool,
                  progress: bool = False) -> list[dict]:
    logger = get_run_logger()
    con = connect(db, wait_seconds=wait_seconds)
    try:
        cache.ensure_ledger(con)
        keys = {site: checksum_site.submit(site, paths) for site, paths in units.items()}
        steps = [cache.Step("ingest", site, (site,), keys[site].result(), PIPELINE_VERSION) for site in units]
        todo = {st.scope for st in steps if force or not cache.is_current(con, st)}
        work = _on_workers(con, units, todo, db, force) if on_dask else _here(con, units, todo, force, progress)
        results = []
        for st in steps:
            if st.scope not in todo:
                logger.info("%s: sources unchanged since the last ingest, skipped", st.scope)
                results.append({"site": st.scope, "status": "skipped"})
                continue
            done = next(work)
            if done["status"] in ("ingested", "unchanged"):
                cache.record(con, st, sum(done["rows"].values()), done["seconds"])
            logger.info("%s: %s, %.1f MB parsed in %.1f s (pid %s)", st.scope, done["status"], done["mb"],
                        done["seconds"], done["pid"])
            results.append(done)
        return results
    finally:
        con.close()


def _here(con, units: dict[str, list[str]], todo: set[str], force: bool, progress: bool) -> Iterator[dict]:
    """Sites one after another in this process, in the order given."""
    for site, paths in units.items():
        if site in todo:
            yield ingest_site_here(con, site, paths, force, progress)


def _on_workers(con, units: dict[str, list[str]], todo: set[str], db: str, force: bool) -> Iterator[dict]:
    """All sites at once on the task runner's workers; merged here one by one, in the order given."""
    staging = tempfile.mkdtemp(prefix="staging-", dir=Path(db).resolve().parent)
    try:
        futures = {s: parse_site.submit(s, p, staging, 1) for s, p in units.items() if s in todo}
        for site, future in futures.items():
            parsed = future.result()
            yield {**parsed, "status": merge_staged(con, parsed["staged"], site, force)}
    finally:
        shutil.rmtree(staging, ignore_errors=True)
