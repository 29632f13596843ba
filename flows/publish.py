"""Publish flow: the study export and the HTML report, the last steps of the main job.

Reads: every table the export and report read (labels, topics, stages, dumps) — nothing else.
Writes: files only, never the database: `data/exports/<name>/` (pipeline/export.py) and
`data/report/` (pipeline/report.py). Both are deterministic, so rerunning them on an unchanged
database rewrites the same bytes; they are cheap, so they are not cached.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger

from pipeline import report
from pipeline.db import connect
from pipeline.export import ExportOptions, export
from pipeline.selection import Selection

STUDY_EXPORT = "notebook-ml"
SAMPLE_SIZE = 40
SAMPLE_SEED = 20261122


@flow(name="publish")
def publish_flow(
    db: str,
    force: bool = False,
    exports_root: str = "data/exports",
    report_dir: str = "data/report",
) -> list[dict]:
    """Export the study selection (notebook ML questions) with a coding sample, then the report.

    `force` is accepted for the chain's (db, force) signature; both steps always run.
    """
    logger = get_run_logger()
    con = connect(db)
    try:
        options = ExportOptions(STUDY_EXPORT, Selection(), sample=SAMPLE_SIZE, seed=SAMPLE_SEED)
        exported = export(con, options, Path(exports_root))
        written = report.build(con, Path(report_dir))
    finally:
        con.close()
    logger.info("exported %d questions to %s; report at %s", exported.rows, exported.directory, written.index)
    return [
        {"stage": "export", "scope": str(exported.directory), "status": f"{exported.rows} questions"},
        {"stage": "report", "scope": str(written.index), "status": f"{len(written.figures)} plots"},
    ]
