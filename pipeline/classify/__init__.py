"""Classify: question_text → question_labels (platforms, ml, lifecycle stage, evidence)."""

from pipeline.core.step import Step

STEP = Step(
    name="classify",
    version="classify-1",
    package="pipeline.classify",
    summary="spaCy PhraseMatcher + versioned lexicons + a trained ml and stage layer; evidence and probabilities kept",
    reads=("question_text",),
    writes=("question_labels",),
    # The rule files and the trained layer: their names carry their versions, which become part
    # of `question_labels.classifier_version`; their bytes key the ledger.
    rules=("rules/platforms.v2.yaml", "rules/ml.v2.yaml", "rules/stages.v2.yaml", "models/classifier-lr.v2.json"),
    command="stackmine classify [--site S] [--workers N]",
    entry="pipeline.classify.classifier:run",
    has_tables=True,
)
