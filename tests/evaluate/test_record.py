"""The recorded classifier quality that datasheets quote is what the evaluator measures now."""

from __future__ import annotations

import csv
import io

import pytest

from tests.support import subset


@pytest.mark.slow
def test_committed_metrics_are_reproduced(bundled_labels: tuple) -> None:
    """classifier_metrics.csv holds what the evaluator measures now for the shipped version."""
    from pipeline.classify.classifier import CLASSIFIER_VERSION
    from pipeline.evaluate import record

    gold, guesses, _rules, held = bundled_labels
    measured = []
    for name, keep in ((record.OUT_OF_FOLD, lambda key: key not in held), (record.HELD_OUT, lambda key: key in held)):
        measured += record.set_rows(CLASSIFIER_VERSION, name, *subset(gold, guesses, keep))
    recorded = record.committed([CLASSIFIER_VERSION])
    assert recorded, f"no metrics recorded for {CLASSIFIER_VERSION}: run scripts/record_evaluation.py"
    as_text = lambda rows: list(csv.DictReader(io.StringIO(record.to_csv(rows))))  # noqa: E731
    assert as_text([{k: r[k] for k in record.COLUMNS} for r in recorded]) == as_text(measured)
    labels = {r["label"] for r in measured}
    assert {"notebook-any", "ml", "jupyter", record.STAGE_LABEL, record.STAGE2_LABEL, "stage: model-training"} <= labels
