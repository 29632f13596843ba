"""Evaluate: score stored labels against a hand-labelled gold file, beside baselines."""

from pipeline.core.step import Step

STEP = Step(
    name="evaluate",
    version="evaluate-1",
    package="pipeline.evaluate",
    summary="gold CSV → P/R/F1 beside tags-only, keyword, majority baselines",
    reads=("question_text", "question_labels", "a gold CSV"),
    writes=("(prints a table)",),
    rules=("rules/baselines.v1.yaml",),
    command="stackmine evaluate --gold FILE [--half even|odd]",
    per="sources",
    chain=False,
)
