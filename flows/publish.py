"""Publish flows: the study dataset (export) and the HTML report, rebuilt only when inputs changed.

export — reads: question_labels, question_text, posts, users, dumps, topic and stage tables;
         writes: `<exports>/<name>/` (Parquet, CSV, DATASHEET.md, coding sample) via pipeline.export.
report — reads: the same tables through queries/; writes `<report>/index.html` and PNGs via
         pipeline.report.
Both write files, not tables, so the ledger key is built from what they read: the ledger keys of
every ingest/text/classify run plus a content hash of the topic and stage tables, and
pipeline.__version__. The step is skipped when the key is unchanged and its output still exists.
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows import cache
from pipeline import __version__
from pipeline.db import connect

DERIVED_TABLES = ("topic_models", "topics", "question_topics", "topics_over_time", "topic_stages", "stage_coverage")


def upstream_key(con: duckdb.DuckDBPyConnection) -> str:
    """Key of everything export and report read (see the module docstring)."""
    present = {row[0] for row in con.execute("SHOW TABLES").fetchall()}
    tables = [(t, con.execute(cache.query("table_fingerprint").format(table=t)).fetchone())
              for t in DERIVED_TABLES if t in present]
    return cache.make_key(con.execute(cache.query("upstream_keys")).fetchall(), tables, __version__)


def _publish(con, stage: str, scope: Path, force: bool, work) -> dict:
    step = cache.Step(stage, str(scope.resolve()), ("*",), upstream_key(con), __version__)
    if not force and scope.exists() and cache.is_current(con, step):
        get_run_logger().info("%s %s: inputs unchanged, skipped", stage, scope)
        return {"stage": stage, "scope": str(scope), "status": "skipped"}
    started = time.perf_counter()
    rows = work()
    cache.record(con, step, rows, time.perf_counter() - started)
    get_run_logger().info("%s written to %s", stage, scope)
    return {"stage": stage, "scope": str(scope), "status": "done", "rows": rows}


@task(cache_policy=NO_CACHE, task_run_name="export {name}")
def export_task(con, name: str, root: Path, force: bool) -> dict:
    """pipeline.export.export of the study's default selection as `root/name`."""
    from pipeline.export import ExportOptions, export

    return _publish(con, "export", root / name, force, lambda: export(con, ExportOptions(name), root).rows)


@task(cache_policy=NO_CACHE, task_run_name="report")
def report_task(con, out: Path, force: bool) -> dict:
    """pipeline.report.build into `out`."""
    from pipeline.report import build

    return _publish(con, "report", out, force, lambda: len(build(con, out).figures))


@flow(name="publish")
def publish_flow(db: str = "data/stackmine.duckdb", name: str = "practice-mining", exports: str | None = None,
                 report: str | None = None, force: bool = False, wait_seconds: float = 0.0) -> list[dict]:
    """Export and report; outputs default to data/exports and data/report next to the database."""
    base = Path(db).resolve().parent
    con = connect(db, wait_seconds=wait_seconds)
    try:
        cache.ensure_ledger(con)
        return [export_task(con, name, Path(exports) if exports else base / "exports", force),
                report_task(con, Path(report) if report else base / "report", force)]
    finally:
        con.close()
