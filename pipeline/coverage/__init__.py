"""Coverage: which ML-lifecycle stages topics are about, and how much notebook ML questions
discuss each stage compared with other ML questions (the `stackmine stages` step)."""

from pipeline.core.step import Step

STEP = Step(
    name="stages",
    version="coverage-v2",
    package="pipeline.coverage",
    summary="topic → stage mapping (reviewed overrides, checked against gold labels); stage shares corrected for the classifier's errors, with intervals and verdicts",
    reads=("question_labels", "question_text", "topics", "question_topics"),
    writes=("topic_stages", "stage_coverage"),
    # Reviewed data: topic → stage corrections; the classifier's labels of gold questions it never
    # saw (its errors, which the corrected shares undo; written by scripts/train_classifier.py);
    # the verdict rules.
    rules=("rules/topic_stage_overrides.csv", "rules/gold_predictions.csv", "rules/verdicts.v1.json"),
    command="stackmine stages [--by platform|year] [--format table|csv|json|markdown]",
    entry="pipeline.coverage.table:run",
    per="selection",
    has_tables=True,
)
