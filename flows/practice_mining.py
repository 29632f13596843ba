"""The main job: from dump sources to labelled, topic-modelled, stage-mapped research outputs.

Reads: dump sources (default: the bundled data/sample), everything the steps read.
Writes: everything they write, into one database file. The steps and their order are
`pipeline.steps.CHAIN` (each declared in its package: what it reads and writes, its version):
ingest → text → classify → topics → stages → export → report; export and report write
data/exports/practice-mining/ and data/report/ next to the database.

The run opens the database once and keeps that connection (and so its write lock) until the end:
a second run on the same file fails at once with `DatabaseBusy` (or queues behind it with
`wait_seconds`) instead of interleaving writes, and every step works on the same connection.
Each step is skipped when its inputs are unchanged (pipeline/core/ledger.py), so a second run over
the same dumps only checksums the sources and checks the ledger.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
from prefect import flow, get_run_logger

from flows.ingest import ingest_into
from flows.tasks import step_task
from pipeline.core.db import DEFAULT_DB
from pipeline.core.selection import Selection
from pipeline.core.step import Scope, Step
from pipeline.ingest.loaded import require
from pipeline.steps import CHAIN, all_sites, connect

EXPORT_NAME = "practice-mining"
PROGRESS = {"text", "classify", "topics"}  # steps long enough to show progress bars (on stderr)


@flow(name="practice-mining")
def practice_mining(
    sources: list[str] | None = None,
    db: str = str(DEFAULT_DB),
    force: bool = False,
    wait_seconds: float = 0.0,
    dask_address: str | None = None,
    dask_workers: int = 0,
    progress: bool = False,
    tables: list[str] | None = None,
) -> dict:
    """Run the whole chain on `sources` (default: data/sample) into `db`, ingesting only the dump
    files `tables` (Posts, Users, ...; default: all); returns each step's report."""
    con = connect(db, wait_seconds=wait_seconds)
    try:
        waiting = [s for s in sources or () if _empty_folder(Path(s))]
        present = [s for s in sources or () if s not in waiting]
        report: dict = {"ingest": [{"site": s, "status": "no dumps yet"} for s in waiting]}
        if present or not sources:
            report["ingest"] += ingest_into(con, present or None, force, dask_address, dask_workers, progress,
                                            staging_root=Path(db).parent, tables=tables)
        if not all_sites(con):
            get_run_logger().info("no dumps in %s yet: nothing to do until they arrive", ", ".join(waiting))
            return report
        run_chain(con, Path(db).resolve().parent, force, progress, report)
        get_run_logger().info("practice-mining finished: %s", ", ".join(report))
        return report
    finally:
        con.close()


def _empty_folder(path: Path) -> bool:
    """A watched folder (`stackmine serve ... data/raw`) that no dump has reached yet: a run over it
    waits instead of failing, and runs the chain on what the database already holds."""
    return path.is_dir() and not any(p.is_file() for p in path.rglob("*"))


def run_chain(con: duckdb.DuckDBPyConnection, base: Path, force: bool, progress: bool, report: dict) -> None:
    """The steps after ingest, in order; steps run per site go site by site (text, classify of
    one site, then the next), so a site's labels are ready as soon as its text is."""
    after = [step for step in CHAIN if step.per != "sources"]
    per_site = [step for step in after if step.per == "site"]
    without_posts = require(con, "Posts", None, "text")  # warned, and passed over
    report["sites"] = [_run(con, step, Scope.site(site), force, progress, base)
                       for site in all_sites(con) if site not in without_posts for step in per_site]
    for step in after:
        if step.per != "site":
            report[step.name] = _run(con, step, _scope(step, base), force, progress, base)


def _scope(step: Step, base: Path) -> Scope:
    """The study's scope of a chain step: its default selection, or its output folder."""
    if step.per == "selection":
        return Scope(Selection().describe())
    folder = base / "exports" / EXPORT_NAME if step.name == "export" else base / "report"
    return Scope(str(folder))


def _run(con: duckdb.DuckDBPyConnection, step: Step, scope: Scope, force: bool, progress: bool, base: Path) -> dict:
    """One step through the generic task, with the options the chain gives it."""
    options: dict = {"progress": progress} if step.name in PROGRESS else {}
    extra: tuple = ()
    if step.per == "selection":
        options["selection"] = Selection()
        extra = (scope.name,)
    if step.name == "topics":
        options["refit"] = force
    if step.name == "export":
        from pipeline.publish.export import ExportOptions

        options["options"] = ExportOptions(EXPORT_NAME)
    result = step_task(con, step, scope, force, extra, **options)
    if step.name == "topics" and result["result"] is not None:
        result["scope"] = result["result"].topic_model_id
    result.pop("result", None)
    return result
