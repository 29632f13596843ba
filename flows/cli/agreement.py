"""`stackmine agreement`: how well two coders agree with each other and with the classifier on a coded
blind sheet (pipeline/evaluate/agreement.py); `--load` keeps their codes in `human_codes`."""

from __future__ import annotations

import math
from pathlib import Path

import click

from flows.cli.options import db_option, wait_option


@click.command("agreement")
@click.argument("sheet_path", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--load", is_flag=True,
              help="Also store the codes in the database (table human_codes), replacing the rows of a sheet of "
                   "the same name, in one transaction: exports then carry them beside the machine's labels and "
                   "their DATASHEET reports the classifier's agreement with them. Without it the database is "
                   "only read.")
@click.option("--sheet", "sheet_name", help="Name the sheet is stored under (default: the file's name).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "markdown"]), default="table", show_default=True,
              help="How to print the agreement table.")
@db_option
@wait_option
def agreement_command(sheet_path: Path, load: bool, sheet_name: str | None, fmt: str, db_path: Path,
                      wait_seconds: float) -> None:
    """Cohen's kappa and Krippendorff's alpha (nominal) between the two coders of a coded blind sheet
    (the coding_sample.csv of `stackmine export NAME --sample N`, its coder1_* and coder2_* columns
    filled in), and between each coder and the classifier, whose stored labels are found by
    (site, post_id). Per label family: notebook-any, ml, stage (none when not ML) and stage among
    the questions both raters call ML, each with the number of questions behind it (n) and the raw
    share of agreement. A malformed sheet is refused with its file, line and what to fix.

    \b
    Example:
      stackmine export notebook-ml --sample 40 --seed 7        # give coding_sample.csv to two coders
      stackmine agreement coded.csv
      stackmine agreement coded.csv --load                      # then export again: codes beside labels
    """
    from pipeline.evaluate.agreement import sheet_agreement
    from pipeline.evaluate.human_codes import load as load_codes
    from pipeline.evaluate.human_codes import machine_labels
    from pipeline.evaluate.sheet import read_sheet

    sheet = read_sheet(sheet_path, sheet_name)
    if load:
        from pipeline.steps import connect

        con = connect(db_path, wait_seconds=wait_seconds)
    else:
        from pipeline.core.db import open_read_only

        con = open_read_only(db_path, wait_seconds)
    try:
        machine = machine_labels(con, sheet)
        loaded = load_codes(con, sheet) if load else None
    finally:
        con.close()
    both = sum(len(q.codes) == 2 for q in sheet.questions)
    click.echo(f"{sheet.name}: {len(sheet.questions)} questions; coded by coder 1: {sheet.coded_by(1)}, "
               f"coder 2: {sheet.coded_by(2)}, both: {both}; with the classifier's labels: {len(machine)}")
    table = sheet_agreement(sheet, machine)
    click.echo(render(table, fmt), nl=False)
    if loaded:
        click.echo(f"loaded {loaded.rows} codes of {loaded.questions} questions into human_codes as sheet "
                   f"{loaded.sheet!r} (its earlier rows replaced)")


def render(table, fmt: str) -> str:
    """The agreement table as aligned text, CSV or Markdown (numbers to three decimals, '-' for undefined)."""
    def num(value: float) -> str:
        return "-" if value is None or math.isnan(value) else f"{value:.3f}"

    rows = [(r.family, f"{r.rater_a} ~ {r.rater_b}", str(r.n), num(r.agreement), num(r.kappa), num(r.alpha))
            for r in table.itertuples()]
    head = ("family", "raters", "n", "agreement", "kappa", "alpha")
    if fmt == "csv":
        return "".join(",".join(f'"{c}"' if "," in c else c for c in row) + "\n" for row in [head, *rows])
    if fmt == "markdown":
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows]) + "\n"
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]
    return "".join("  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip()
                   + "\n" for row in [head, *rows])


COMMANDS = [agreement_command]
