"""Publish: the study dataset (export, with its datasheet) and the HTML report."""

from pipeline.core.step import Step

_READS = ("question_labels", "question_text", "posts", "users", "dumps", "topic_models", "topics",
          "question_topics", "topics_over_time", "topic_stages", "stage_coverage", "human_codes")

EXPORT = Step(
    name="export",
    # export-3: written batch by batch, Parquet row groups of 65,536 rows (pyarrow's 1,048,576
    # before): an export of more rows has other bytes (the same table); smaller ones are unchanged
    version="export-3",
    package="pipeline.publish",
    summary="Parquet + CSV with CC BY-SA attribution and human codes, DATASHEET.md (a replication package), blind coding sheet",
    reads=_READS,
    writes=("`data/exports/<name>/`",),
    # The codebook is copied into every export: editing it makes the export current no longer.
    rules=("rules/licenses.v1.csv", "templates/DATASHEET.md.j2", "templates/export_columns.csv", "../../docs/codebook.md"),
    command="stackmine export NAME [selection] [--pseudonymise] [--sample N --seed S [--sample-with-labels]]",
    entry="pipeline.publish.export:run",
    per="folder",
)

REPORT = Step(
    name="report",
    version="report-2",
    package="pipeline.publish",
    summary="one self-contained HTML page from the named queries (interactive topic views), each plot as PNG, SVG, PDF",
    reads=_READS,
    writes=("`data/report/index.html` + each plot as PNG, SVG and PDF",),
    rules=("templates/report.html.j2",),
    command="stackmine report [--out DIR]",
    entry="pipeline.publish.report:run",
    per="folder",
)
