"""The classifier's labels of gold questions it did not see, beside their gold labels and sampling
design: what the coverage step (pipeline/coverage/table.py, `gold_predictions`) measures the
classifier's errors from.

One row per gold question of dev.csv and train.csv except train.csv's keyword-selected probe (its
selection would flatter the classifier). A training question's prediction is out-of-fold (the
final design refitted without its fold: `out-of-fold`); a held-out question's is the shipped
model's (`held-out`). scripts/train_classifier.py writes the file next to the model it fits,
so both always describe the same classifier version.
"""

from __future__ import annotations

import csv
from pathlib import Path

from pipeline.evaluate.corpus import GoldQuestion, Stratum

COLUMNS = ("site", "post_id", "gold_set", "stratum", "weight", "gold_ml", "gold_stage", "gold_stage2", "pred_ml",
           "pred_stage", "prediction", "classifier_version")
OUT_OF_FOLD, HELD_OUT = "out-of-fold", "held-out"


def gold_prediction_rows(corpus: list[GoldQuestion], strata: dict[tuple[str, int], Stratum],
                         out_of_fold: dict[tuple[str, int], object], held_out: dict[tuple[str, int], object],
                         version: str) -> list[tuple]:
    """Rows of COLUMNS, sorted by (site, post_id), for every question with a stratum (the probe has
    none). `out_of_fold` and `held_out` map a question to its predicted labels (anything with `ml`
    and `stage`); each question must be in exactly one of them."""
    rows = []
    for q in corpus:
        stratum = strata.get(q.key)
        if stratum is None:
            continue
        if (q.key in out_of_fold) == (q.key in held_out):
            raise ValueError(f"{q.site} {q.post_id}: needs exactly one prediction, out-of-fold or held-out")
        kind, predicted = (OUT_OF_FOLD, out_of_fold[q.key]) if q.key in out_of_fold else (HELD_OUT, held_out[q.key])
        rows.append((q.site, q.post_id, q.file, stratum.name, str(stratum.weight), _yes(q.ml), q.stage, q.stage2,
                     _yes(predicted.ml), predicted.stage if predicted.ml else "none", kind, version))
    return sorted(rows, key=lambda row: (row[0], row[1]))


def write_gold_predictions(path: Path, rows: list[tuple]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(rows)


def _yes(value: bool) -> str:
    return "yes" if value else "no"
