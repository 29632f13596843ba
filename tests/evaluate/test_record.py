"""The recorded classifier quality that datasheets quote is what the evaluator measures now."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import duckdb
import pytest

from tests.support import GOLD_DEV
from pipeline.evaluate import record as evaluation_record
from pipeline.evaluate.record import COLUMNS, DEVELOPMENT, measure

# The held-out rows (scripts/heldout_estimate.sh) come from a frozen older rule snapshot, so only
# the development rows can be recomputed from the current code.
SETS = (DEVELOPMENT,)


@pytest.mark.shared
def test_committed_metrics_are_reproduced_by_the_evaluator(study_db_path: Path) -> None:
    con = duckdb.connect(str(study_db_path), read_only=True)
    try:
        measured = [row for name, half in SETS for row in measure(con, GOLD_DEV, name, half)]
    finally:
        con.close()
    version = measured[0]["classifier_version"]
    recorded = [r for r in evaluation_record.committed([version]) if r["gold_set"] == DEVELOPMENT[0]]
    assert recorded, f"no metrics recorded for {version}: run scripts/record_evaluation.py"
    as_text = lambda rows: list(csv.DictReader(io.StringIO(evaluation_record.to_csv(rows))))  # noqa: E731
    assert as_text([{k: r[k] for k in COLUMNS} for r in recorded]) == as_text(measured)
    labels = {r["label"] for r in measured}
    assert {"notebook-any", "ml", "jupyter", "colab", "stage (accuracy; macro-F1)"} <= labels
