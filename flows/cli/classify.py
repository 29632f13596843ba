"""`stackmine classify`: label parsed questions with platforms, ml and lifecycle stage."""

from __future__ import annotations

from pathlib import Path

import click

from flows.cli.options import db_option, site_option, site_scopes, stage_workers_option, wait_option
from pipeline.classify import STEP


@click.command(STEP.name)
@db_option
@site_option
@stage_workers_option
@wait_option
def classify_command(db_path: Path, site: str | None, workers: int | None, wait_seconds: float) -> None:
    """Label every question in question_text: notebook platforms, ml yes/no, primary and secondary
    lifecycle stage, and the evidence (matched tags, phrases, code signs) behind each label.
    Rules are the versioned files in pipeline/classify/rules/. Replaces each site's labels in one
    transaction.

    \b
    Example:
      stackmine classify
      stackmine classify --site stackoverflow.com --db data/so.duckdb --workers 8
    """
    from pipeline.classify.classifier import Classifier, classify, summary  # spaCy: only when classifying
    from pipeline.steps import connect, run_step

    classifier = Classifier()
    con = connect(db_path, wait_seconds=wait_seconds)
    try:
        n = sum(run_step(con, STEP, scope, lambda s=scope: classify(con, s.sites[0], progress=True, classifier=classifier,
                                                                  workers=workers),
                         force=True).rows
                for scope in site_scopes(con, site))
        counts = summary(con, site)
    finally:
        con.close()
    click.echo(f"question_labels: {n:,} questions ({site or 'all sites'}, {classifier.version})")
    for row_site, total, notebook, ml, both in counts:
        click.echo(f"  {row_site}: {total:,} questions, notebook {notebook:,}, ml {ml:,}, notebook+ml {both:,}")


COMMANDS = [classify_command]
