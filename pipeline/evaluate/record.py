"""Measured classifier quality, recorded per classifier version so datasheets can quote it.

`stackmine evaluate` prints scores; a published dataset needs them written down next to the
classifier version that produced its labels. `measure` scores the classifier on the bundled gold
files (data/gold) with the evaluator's own functions (pipeline/evaluate/gold.py,
pipeline/evaluate/scoring.py) in the two sets that are honest for a trained classifier, and
`scripts/record_evaluation.py` saves the rows in `pipeline/evaluate/records/classifier_metrics.csv`,
which is committed; a test recomputes them and compares. Rows of older versions stay in the file
as the history of what was measured then (under the set names of their time).
"""

from __future__ import annotations

import csv
import io
from importlib import resources

METRICS_FILE = "classifier_metrics.csv"
COLUMNS = ("classifier_version", "gold_set", "label", "precision", "recall", "f1", "support")

# The two sets a version's figures are recorded on. Every design choice was made by cross-validation
# on the training questions; the held-out split was scored at the end (README, "Classifier quality").
OUT_OF_FOLD = ("out-of-fold: the 1,687 training questions of data/gold/dev.csv + train.csv (the held-out split "
               "left out), each labelled by the final design refitted without its fold (5 fixed folds, seed 0); "
               "the rules were written while looking at dev.csv and the v2 platform rules at these questions, so "
               "platform figures lean optimistic")
HELD_OUT = ("held-out split: the 418 questions of data/gold/heldout-ids.v1.csv (20% of dev.csv + train.csv per "
            "pool and stage, set aside before any fitting), labelled by the shipped classifier, which never saw them")
STAGE_LABEL = "stage (accuracy; macro-F1)"
STAGE2_LABEL = "stage or gold stage2 (accuracy)"


def measure() -> list[dict]:
    """Rows of COLUMNS for the shipped classifier on the bundled gold files: OUT_OF_FOLD, then HELD_OUT.

    Binary labels get precision, recall and F1 with their gold support; the primary stage gets
    accuracy (in `precision`, named in `label`) and macro-F1 over gold ml=yes questions, the
    accuracy counting a gold stage2 match, and each stage its precision, recall and F1
    ("stage: <name>", end to end: a question not called ML misses its stage).
    """
    from pipeline.classify.classifier import Classifier  # spaCy: only when measuring, not to read the records
    from pipeline.core.paths import GOLD
    from pipeline.evaluate.corpus import GOLD_FILES
    from pipeline.evaluate.gold import bundled_labels, read_gold
    from pipeline.evaluate.split import read_split

    classifier = Classifier()
    rules_only = Classifier(rules=classifier.rules, learned=False)
    gold = [g for name in GOLD_FILES for g in read_gold(GOLD / name)]
    _texts, guesses = bundled_labels(gold, GOLD, classifier, rules_only)
    held = read_split()
    rows = []
    for name, in_set in ((OUT_OF_FOLD, lambda key: key not in held), (HELD_OUT, lambda key: key in held)):
        chosen = [i for i, g in enumerate(gold) if in_set((g.site, g.post_id))]
        rows += set_rows(classifier.version, name, [gold[i] for i in chosen], [guesses[i] for i in chosen])
    return rows


def set_rows(version: str, gold_set: str, gold: list, guesses: list) -> list[dict]:
    """The recorded rows of one set."""
    from pipeline.evaluate.scoring import binary_scores, per_stage, stage_or_second, stage_scores

    rows = []
    for label, s in binary_scores(gold, guesses).items():
        if s.tp + s.fn == 0 and s.fp == 0:
            continue
        rows.append(_row(version, gold_set, label, s.precision, s.recall, s.f1, s.tp + s.fn))
    accuracy, macro_f1, n = stage_scores(gold, guesses)
    rows.append(_row(version, gold_set, STAGE_LABEL, accuracy, None, macro_f1, n))
    rows.append(_row(version, gold_set, STAGE2_LABEL, stage_or_second(gold, guesses), None, None, n))
    rows += [_row(version, gold_set, f"stage: {stage}", s.precision, s.recall, s.f1, s.tp + s.fn)
             for stage, s in per_stage(gold, guesses)]
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
