"""`stackmine stages`: which lifecycle stages notebook ML questions discuss more, less or rarely than
other ML questions, corrected for the classifier's errors."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pandas as pd

from flows.cli.options import db_option, wait_option
from flows.cli.selection_options import selection_from, selection_options
from pipeline.coverage import STEP

# Every number a reader needs to check a verdict, for csv / json / markdown.
SHOWN = ("stage", "n_notebook", "total_notebook", "raw_share_notebook", "share_notebook", "share_notebook_low",
         "share_notebook_high", "n_baseline", "total_baseline", "raw_share_baseline", "share_baseline",
         "share_baseline_low", "share_baseline_high", "diff", "diff_low", "diff_high", "p_adjusted", "verdict",
         "reason", "recall", "gold_support", "n_topics", "topic_share")


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
@click.option("--review-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the topics whose mapping disagrees with their members' gold labels here, as rows of "
                   "the overrides CSV for a reviewer to complete.")
@wait_option
def stages_command(db_path: Path, sites, platforms, year_from, year_to, notebook, ml, where, fmt: str, by: str,
                   show_site: str, topic_model_id: str | None, overrides: Path | None, review_file: Path | None,
                   wait_seconds: float) -> None:
    """Map topics to lifecycle stages and compute stage coverage: for each of the 15 codebook
    stages, the share of notebook ML questions against non-notebook ML questions (the baseline),
    raw (the classifier's counts) and corrected for the classifier's errors measured on gold
    questions it never saw, with 95% intervals that carry both the classifier's and the sample's
    uncertainty, and a verdict: more discussed / less discussed (after Holm's correction over the
    stages of a group), rare, on par, or undetermined (too few questions, or a stage the
    classifier cannot see well enough). Stores topic_stages and stage_coverage (the selection's
    rows: all sites, each site, by platform, by year) and prints one view. Topics whose mapping
    disagrees with their members' gold labels are listed for review.

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
        table = read_coverage(con, selection, show_site, by)
    finally:
        con.close()
    click.echo(f"stage coverage: {run.n_notebook:,} notebook ML vs {run.n_baseline:,} other ML questions "
               f"(selection {run.selection_id}); topic model {run.topic_model_id or 'none'}", err=True)
    for row in run.flagged:
        check = row.evidence["gold_check"]
        click.echo(f"  topic {row.topic_id} ({row.stage}) needs review: {check['gold_agreement']:.0%} of its "
                   f"{check['gold_questions']} gold-labelled members agree", err=True)
    if review_file and run.flagged:
        from pipeline.coverage.table import write_review

        click.echo(f"  wrote {write_review(review_file, run.flagged, run.topic_model_id)} topic(s) to review to "
                   f"{review_file}", err=True)
    click.echo(render(table, fmt, by))


def _interval(low, high) -> str:
    return "" if pd.isna(low) or pd.isna(high) else f"[{low:.2f}, {high:.2f}]"


def render(table, fmt: str, by: str) -> str:
    """The coverage rows as text in `fmt`; one block per group when `by` is not 'all'.

    The terminal table shows raw and corrected shares side by side, each corrected share with
    its 95% interval; csv, json and markdown carry every number behind a verdict.
    """
    group = ["grp"] if by != "all" else []
    if fmt in ("csv", "json", "markdown"):
        view = table[group + list(SHOWN)].rename(columns={"grp": by})
        if fmt == "csv":
            return view.to_csv(index=False).rstrip("\n")
        if fmt == "json":
            return json.dumps(json.loads(view.to_json(orient="records")), indent=1)
        text = view.astype(object).map(lambda v: "" if pd.isna(v) else f"{v:.3f}" if isinstance(v, float) else v)
        head = "| " + " | ".join(text.columns) + " |\n|" + "---|" * len(text.columns)
        return head + "\n" + "\n".join("| " + " | ".join(str(v) for v in row) + " |" for row in text.itertuples(index=False))
    shown = pd.DataFrame({
        **({by: table["grp"]} if group else {}),
        "stage": table["stage"],
        "n_nb": table["n_notebook"],
        "raw_nb": table["raw_share_notebook"].map(lambda v: "" if pd.isna(v) else f"{v:.3f}"),
        "corrected_nb [95%]": [("pooled" if pd.isna(s) else f"{s:.3f}") + " " + _interval(lo, hi) for s, lo, hi in
                               zip(table["share_notebook"], table["share_notebook_low"], table["share_notebook_high"])],
        "raw_base": table["raw_share_baseline"].map(lambda v: "" if pd.isna(v) else f"{v:.3f}"),
        "corrected_base": table["share_baseline"].map(lambda v: "pooled" if pd.isna(v) else f"{v:.3f}"),
        "diff [95%]": ["" if pd.isna(d) else f"{d:+.3f} {_interval(lo, hi)}" for d, lo, hi in
                       zip(table["diff"], table["diff_low"], table["diff_high"])],
        "verdict": table["verdict"],
        "reason": table["reason"],
    })
    return shown.to_string(index=False)


COMMANDS = [stages_command]
