"""`stackmine evaluate`: score the stored labels against a hand-labelled gold file, with baselines."""

from __future__ import annotations

from pathlib import Path

import click

from flows.cli.options import db_option, wait_option
from pipeline.evaluate import STEP


@click.command(STEP.name)
@click.option("--gold", "gold_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Gold CSV in the codebook's shape (site,post_id,platforms,ml,stage,stage2,note).")
@click.option("--half", type=click.Choice(["even", "odd"]),
              help="Score only even or odd post ids (a fixed split for held-out checks).")
@db_option
@wait_option
def evaluate_command(gold_path: Path, half: str | None, db_path: Path, wait_seconds: float) -> None:
    """Precision, recall and F1 per platform, for notebook-any and ml; accuracy, macro-F1 and
    per-stage precision/recall/F1 of the primary stage on gold ml=yes questions (and the accuracy
    counting a gold stage2 match); a stage confusion table; the calibration of P(ml) and P(stage)
    (Brier score, reliability by bins). The classifier is printed beside the rules alone and three
    baselines computed in the same run: tags-only, keyword-anywhere and majority stage. The
    classifier's trained layer is never scored on its own training questions: on the bundled gold
    files it was fitted on (data/gold/dev.csv, train.csv) they get out-of-fold labels (refitted in
    the run, about 10 s, from the bundled text; the database is not read), and the questions of
    the held-out split get the shipped classifier's labels, each part's figures printed on its own
    line; from any other file training questions are left out (the header says which), and the
    stored labels are scored: questions are found by (site, post_id), so run `stackmine text` and
    `stackmine classify` for their site first.

    \b
    Example:
      stackmine evaluate --gold data/gold/dev.csv
      stackmine evaluate --gold data/gold/train.csv
    """
    from pipeline.core.db import open_read_only
    from pipeline.evaluate.gold import collect, honest_gold, read_gold
    from pipeline.evaluate.scoring import report

    gold, verdict = honest_gold(read_gold(gold_path, parity=half), gold_path)
    if verdict.refit:
        methods = collect(None, gold, gold_path, verdict)
    else:
        con = open_read_only(db_path, wait_seconds)
        try:
            methods = collect(con, gold, gold_path, verdict)
        finally:
            con.close()
    keys = {(g.site, g.post_id) for g in gold}
    parts = {"held-out split, never trained on": set(verdict.held_out)}
    if verdict.refit:
        parts = {"out-of-fold on its training questions": keys - verdict.held_out, **parts}
    source = f"{gold_path}" + (f" ({half} post ids only)" if half else "")
    click.echo(report(source, gold, methods, verdict.note, parts))


COMMANDS = [evaluate_command]
