"""`stackmine stages`: which lifecycle stages notebook ML questions discuss, under-discuss or skip."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pandas as pd

from flows.cli.options import db_option, wait_option
from flows.cli.selection_options import selection_from, selection_options
from pipeline.coverage import STEP

SHOWN = ("stage", "n_notebook", "share_notebook", "n_baseline", "share_baseline", "diff", "ci_low", "ci_high", "verdict",
         "n_topics", "topic_share")


@click.command(STEP.name)
@db_option
@selection_options
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json", "markdown"]), default="table",
              show_default=True, help="How to print the coverage table.")
@click.option("--by", type=click.Choice(["all", "platform", "year"]), default="all", show_default=True,
              help="One table for all questions, or one per platform / per year.")
@click.option("--show-site", default="*", show_default=True, help="Print this site's rows ('*' = all sites together).")
@click.option("--topic-model", "topic_model_id", help="Topic model for the topic view (default: newest of the selection).")
@click.option("--overrides", type=click.Path(dir_okay=False, path_type=Path),
              help="Reviewed topic→stage CSV (default: pipeline/coverage/rules/topic_stage_overrides.csv).")
@wait_option
def stages_command(db_path: Path, sites, platforms, year_from, year_to, notebook, ml, where, fmt: str, by: str,
                   show_site: str, topic_model_id: str | None, overrides: Path | None, wait_seconds: float) -> None:
    """Map topics to lifecycle stages and compute stage coverage: for each of the 15 codebook
    stages, the share of notebook ML questions against non-notebook ML questions (the baseline),
    the difference with a 95% Newcombe interval, and a verdict (skipped: no notebook question;
    under-discussed: interval entirely below 0; else discussed). Stores topic_stages and
    stage_coverage (all sites, each site, by platform, by year) and prints one view.

    \b
    Example:
      stackmine topics && stackmine stages
      stackmine stages --by platform --format markdown
    """
    from pipeline.core.step import Scope
    from pipeline.coverage.table import read_coverage, run_stages
    from pipeline.steps import connect, run_step

    selection = selection_from(sites, platforms, year_from, year_to, notebook, ml, where)
    scope = Scope(selection.describe(), selection.sites)
    con = connect(db_path, wait_seconds=wait_seconds)
    try:
        run = run_step(con, STEP, scope, lambda: run_stages(con, selection, topic_model_id, overrides), force=True,
                       extra=(scope.name,) if topic_model_id is None and overrides is None
                       else (scope.name, topic_model_id, str(overrides))).result
        table = read_coverage(con, show_site, by)
    finally:
        con.close()
    click.echo(f"stage coverage: {run.n_notebook:,} notebook ML vs {run.n_baseline:,} other ML questions; "
               f"topic model {run.topic_model_id or 'none'}", err=True)
    click.echo(render(table, fmt, by))


def render(table, fmt: str, by: str) -> str:
    """The coverage rows as text in `fmt`; one block per group when `by` is not 'all'."""
    columns = (["grp"] if by != "all" else []) + list(SHOWN)
    view = table[columns].rename(columns={"grp": by})
    if fmt == "csv":
        return view.to_csv(index=False).rstrip("\n")
    if fmt == "json":
        return json.dumps(json.loads(view.to_json(orient="records")), indent=1)
    rounded = view.astype(object).copy()
    for column in ("share_notebook", "share_baseline", "diff", "ci_low", "ci_high", "topic_share", "n_topics"):
        spec = "+.3f" if column in ("diff", "ci_low", "ci_high") else ".0f" if column == "n_topics" else ".3f"
        rounded[column] = rounded[column].map(lambda v, s=spec: "" if pd.isna(v) else format(float(v), s))
    if fmt == "markdown":
        head = "| " + " | ".join(rounded.columns) + " |\n|" + "---|" * len(rounded.columns)
        return head + "\n" + "\n".join("| " + " | ".join(str(v) for v in row) + " |" for row in rounded.itertuples(index=False))
    return rounded.to_string(index=False)


COMMANDS = [stages_command]
