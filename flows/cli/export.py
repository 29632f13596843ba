"""`stackmine export`: write a study dataset with its datasheet (see pipeline/publish/export.py)."""

from __future__ import annotations

from pathlib import Path

import click

from flows.cli.options import db_option, wait_option
from flows.cli.selection_options import selection_from, selection_options
from pipeline.core.db import STREAM_SETTINGS, open_read_only
from pipeline.core.paths import DEFAULT_EXPORTS
from pipeline.publish import EXPORT


@click.command(EXPORT.name)
@click.argument("name")
@selection_options
@click.option("--pseudonymise", is_flag=True,
              help="Replace author ids with salted pseudonyms and leave author names and profile links empty "
                   "in every file (the coding sample too); the post link stays, for CC BY-SA attribution. This "
                   "keeps names out of the files; it does not anonymise: post_id / post_url lead back to the "
                   "author through the site or the public dump, and a pseudonym links one author's questions.")
@click.option("--salt", help="Salt for --pseudonymise (default: random; never written to the export).")
@click.option("--sample", type=click.IntRange(min=1),
              help="Also draw a stratified sample of N questions as a blind coding sheet (coding_sample.csv): "
                   "title, tags and body as plain text, empty columns for two coders, no machine labels.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed of the coding sample.")
@click.option("--sample-with-labels", is_flag=True,
              help="With --sample, also write the same questions with the classifier's labels and strata "
                   "(coding_sample_with_labels.csv), for checking; never give it to coders.")
@click.option("--topic-model", help="topic_model_id whose topics to attach (default: the one fitted on this selection, else the newest).")
@click.option("--out", "root", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_EXPORTS,
              show_default=True, help="Folder that receives the export folder NAME.")
@db_option
@wait_option
def export_command(name: str, sites: tuple[str, ...], platforms: tuple[str, ...], year_from: int | None,
                   year_to: int | None, notebook: str, ml: str, where: str | None, pseudonymise: bool,
                   salt: str | None, sample: int | None, seed: int, sample_with_labels: bool, topic_model: str | None,
                   root: Path, db_path: Path, wait_seconds: float) -> None:
    """Export the selected questions as data/exports/NAME/: a replication package (Parquet, CSV,
    DATASHEET.md, stage_coverage.csv, codebook.md, SHA256SUMS, the blind coding sheet).

    Questions are chosen by the same options as `stackmine topics` (default: notebook questions
    about ML). Rows carry labels, evidence, topics, stages, CC BY-SA attribution (post URL,
    license, author name and profile) and, where a coded sheet was loaded (`stackmine agreement
    FILE --load`), the human codes. DATASHEET.md states the software versions, the topic model's
    parameters, the dumps' checksums, the classifier's measured quality and agreement, and the
    selection's stage coverage with its verdict rules. The database is opened read-only with file
    access off; rerunning the same export on the same database writes byte-identical files.

    \b
    Example:
      stackmine export notebook-ml --sample 40 --seed 7
      stackmine export all-2022 --notebook any --ml any --year-from 2022 --pseudonymise
    """
    if salt and not pseudonymise:
        raise click.UsageError("--salt only makes sense with --pseudonymise")
    if sample_with_labels and not sample:
        raise click.UsageError("--sample-with-labels needs --sample N")
    selection = selection_from(sites, platforms, year_from, year_to, notebook, ml, where)
    from pipeline.publish import export as export_stage  # pulls the datasheet/plot stack: only when exporting

    options = export_stage.ExportOptions(name, selection, pseudonymise, salt, sample, seed, topic_model,
                                         sample_with_labels)
    # capped like a stage that streams (the export reads its rows in batches): set before the lock
    con = open_read_only(db_path, wait_seconds, STREAM_SETTINGS)
    try:
        result = export_stage.export(con, options, root)
    finally:
        con.close()
    click.echo(f"exported {result.rows} questions to {result.directory}")
    for filename, digest in result.files.items():
        click.echo(f"  {digest[:12]}  {filename}")
    if result.sample_rows:
        click.echo(f"coding sample: {result.sample_rows} questions (seed {seed})")


COMMANDS = [export_command]
