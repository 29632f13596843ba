"""Evaluate: score stored labels against a hand-labelled gold file, beside baselines; keep the codes
people give on coding sheets (`human_codes`) and their agreement with each other and the classifier."""

from pipeline.core.step import Step

STEP = Step(
    name="evaluate",
    version="evaluate-1",
    package="pipeline.evaluate",
    summary="gold CSV → P/R/F1 beside tags-only, keyword, majority baselines; coded sheets → human_codes",
    reads=("question_text", "question_labels", "a gold CSV", "a coded sheet"),
    writes=("(prints a table)", "human_codes"),
    rules=("rules/baselines.v1.yaml",),
    command="stackmine evaluate --gold FILE [--half even|odd]",
    per="sources",
    chain=False,
    has_tables=True,
)
