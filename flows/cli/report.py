"""`stackmine report`: the self-contained HTML report with its PNG figures (pipeline/publish/report.py)."""

from __future__ import annotations

from pathlib import Path

import click

from flows.cli.options import db_option, wait_option
from pipeline.core import queries
from pipeline.core.db import STREAM_SETTINGS
from pipeline.core.paths import DEFAULT_REPORT
from pipeline.publish import REPORT


@click.command(REPORT.name)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_REPORT,
              show_default=True, help="Folder for index.html and the figures (PNG, SVG, PDF).")
@db_option
@wait_option
def report_command(out: Path, db_path: Path, wait_seconds: float) -> None:
    """Write OUT/index.html (plots embedded, opens offline) and each plot as PNG, SVG and PDF.

    Plots: stage coverage (notebook vs baseline, 95% intervals), platforms over time, topics,
    topics over time, at print size (7 in wide); interactive topic views as in BERTopic (word
    scores, distance map, hierarchy, over time, per platform); the coverage table and a datasheet
    summary. Read-only.

    \b
    Example:
      stackmine report --out data/report
    """
    # capped like a stage that streams: the datasheet summary reads every selected row in batches
    con = queries.open_read_only(db_path, wait_seconds, STREAM_SETTINGS)
    try:
        # matplotlib only when reporting, and after the database opened: a locked or missing
        # database is said at once, without first importing it (seconds on a first run)
        from pipeline.publish import report as report_stage

        result = report_stage.build(con, out)
    finally:
        con.close()
    click.echo(f"wrote {result.index} with {len(result.figures)} plots: {', '.join(result.figures)}")
    click.echo(f"  {len(result.views)} interactive views: {', '.join(result.views)}")
    click.echo(f"  each plot also as .png, .svg and .pdf in {out}")


COMMANDS = [report_command]
