"""`stackmine classify`: label parsed questions with platforms, ml and lifecycle stage."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.commands.options import db_option, site_option, wait_option
from pipeline.db import connect, read_sql


@click.command("classify")
@db_option
@site_option
@wait_option
def classify_command(db_path: Path, site: str | None, wait_seconds: float) -> None:
    """Label every question in question_text: notebook platforms, ml yes/no, primary and secondary
    lifecycle stage, and the evidence (matched tags, phrases, code signs) behind each label.
    Rules are the versioned files in pipeline/rules/. Replaces the site's labels in one transaction.

    \b
    Example:
      stackmine classify
      stackmine classify --site stackoverflow.com --db data/so.duckdb
    """
    from pipeline.classify import Classifier, classify  # spaCy: only when classifying

    classifier = Classifier()
    con = connect(db_path, wait_seconds=wait_seconds)
    try:
        n = classify(con, site=site, progress=True, classifier=classifier)
        summary = con.execute(read_sql("question_labels_summary.sql"), [site, site]).fetchall()
    finally:
        con.close()
    click.echo(f"question_labels: {n:,} questions ({site or 'all sites'}, {classifier.version})")
    for row_site, total, notebook, ml, both in summary:
        click.echo(f"  {row_site}: {total:,} questions, notebook {notebook:,}, ml {ml:,}, notebook+ml {both:,}")


COMMANDS = [classify_command]
