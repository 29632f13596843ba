"""Coverage: which ML-lifecycle stages topics are about, and how much notebook ML questions
discuss each stage compared with other ML questions (the `stackmine stages` step)."""

from pipeline.core.step import Step

STEP = Step(
    name="stages",
    version="coverage-v1",
    package="pipeline.coverage",
    summary="topic → stage mapping (reviewed overrides), coverage vs baseline with Newcombe CIs",
    reads=("question_labels", "question_text", "topics", "question_topics"),
    writes=("topic_stages", "stage_coverage"),
    rules=("rules/topic_stage_overrides.csv",),
    command="stackmine stages [--by platform|year] [--format table|csv|json|markdown]",
    entry="pipeline.coverage.table:run",
    per="selection",
    has_tables=True,
)
