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
    """Precision, recall and F1 per platform, for notebook-any and ml; accuracy and macro-F1 of the
    primary stage on gold ml=yes questions; a stage confusion table. The classifier (stored labels)
    is printed beside the rules alone and three baselines computed in the same run: tags-only,
    keyword-anywhere and majority stage. The classifier's trained layer is never scored on its own
    training questions: on its training file they get out-of-fold labels (refitted in the run);
    from any other file they are left out (the header says which). Questions are found by
    (site, post_id); run `stackmine text` and `stackmine classify` for their site first.

    \b
    Example:
      stackmine evaluate --gold ../shared/gold/dev.csv
      stackmine evaluate --gold ../shared/gold/dev.csv --half odd
    """
    from pipeline.evaluate.gold import collect, honest_gold, read_gold
    from pipeline.core.db import open_read_only
    from pipeline.evaluate.scoring import report

    gold, note = honest_gold(read_gold(gold_path, parity=half), gold_path)
    con = open_read_only(db_path, wait_seconds)
    try:
        methods = collect(con, gold, gold_path)
    finally:
        con.close()
    source = f"{gold_path}" + (f" ({half} post ids only)" if half else "")
    click.echo(report(source, gold, methods, note))


COMMANDS = [evaluate_command]
