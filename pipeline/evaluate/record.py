"""Measured classifier quality, recorded per classifier version so datasheets can quote it.

`stackmine evaluate` prints scores; a published dataset needs them written down next to the
classifier version that produced its labels. `measure` scores the stored labels against a gold
file with the evaluator's own functions (pipeline/evaluate/gold.py, pipeline/evaluate/scoring.py) and
`scripts/record_evaluation.py` saves the rows in `pipeline/evaluate/records/classifier_metrics.csv`,
which is committed: the gold sets live outside the repository, so users cannot recompute them,
but a test on the team's machines (marked `shared`) does and compares.
"""

from __future__ import annotations

import csv
import io
from importlib import resources
from pathlib import Path

import duckdb


METRICS_FILE = "classifier_metrics.csv"
COLUMNS = ("classifier_version", "gold_set", "label", "precision", "recall", "f1", "support")

# The two kinds of recorded rows, (gold_set text, half). The rules were tuned on all of dev.csv, so
# its scores are development figures; the held-out estimate scores the rule snapshot frozen before
# the odd half was seen (scripts/heldout_estimate.sh). Datasheets quote both, with these names.
DEVELOPMENT = ("dev.csv, all 300 (the rules were tuned on these: development figures, optimistic; the trained "
               "ml layer is out-of-fold, 5 fixed folds)", None)
HELDOUT = (
    "held-out estimate: dev.csv odd post ids, scored by the rules frozen at b62cdfd before any odd "
    "question was seen (the current rules were later tuned on all 300)",
    "odd",
)

# The classifier with its trained layer, estimated the same way: frozen rules' hits, layer fitted
# on the even half and 4/5 of the odd half, odd questions predicted out-of-fold (scripts/heldout_learned.sh).
HELDOUT_LEARNED = (
    "held-out estimate: dev.csv odd post ids, rules frozen at b62cdfd + the trained layer fitted on the even "
    "half and 4/5 of the odd half, each odd question predicted out-of-fold (5 folds, seed 0; scripts/heldout_learned.sh)"
)


def measure(con: duckdb.DuckDBPyConnection, gold_path: Path, gold_set: str, half: str | None = None) -> list[dict]:
    """Rows of COLUMNS for the stored labels on `gold_path` (optionally its even/odd half).

    Binary labels get precision, recall and F1 with their gold support; the primary stage gets
    accuracy (in `precision`, named in `label`) and macro-F1 over gold ml=yes questions.
    """
    from pipeline.classify.classifier import Classifier  # spaCy: only when measuring, not to read the records
    from pipeline.evaluate.gold import collect, honest_gold, read_gold
    from pipeline.evaluate.scoring import binary_scores, stage_scores

    gold, _note = honest_gold(read_gold(gold_path, parity=half), gold_path)
    rules = collect(con, gold, gold_path)[0]  # the classifier as shipped (out-of-fold on its training questions)
    version = Classifier().version  # collect() refused labels of any other version
    rows = []
    for label, s in binary_scores(gold, rules.guesses).items():
        if s.tp + s.fn == 0 and s.fp == 0:
            continue
        rows.append(_row(version, gold_set, label, s.precision, s.recall, s.f1, s.tp + s.fn))
    accuracy, macro_f1, n = stage_scores(gold, rules.guesses)
    rows.append(_row(version, gold_set, "stage (accuracy; macro-F1)", accuracy, None, macro_f1, n))
    return rows


def _row(version, gold_set, label, precision, recall, f1, support) -> dict:
    rounded = [None if v is None else round(v, 4) for v in (precision, recall, f1)]
    return dict(zip(COLUMNS, (version, gold_set, label, *rounded, support)))


def to_csv(rows: list[dict]) -> str:
    """CSV text of metric rows, in COLUMNS order."""
    sink = io.StringIO()
    writer = csv.DictWriter(sink, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return sink.getvalue()


def committed(versions: list[str]) -> list[dict]:
    """Recorded metric rows of the given classifier versions (empty when none was recorded)."""
    resource = resources.files("pipeline.evaluate") / "records" / METRICS_FILE
    if not resource.is_file():
        return []
    rows = list(csv.DictReader(io.StringIO(resource.read_text(encoding="utf-8"))))
    out = []
    for r in rows:
        if r["classifier_version"] in versions:
            for key in ("precision", "recall", "f1"):
                r[key] = float(r[key]) if r[key] else None
            r["support"] = int(r["support"])
            out.append(r)
    return out
