"""Honest scores for a classifier with a trained layer: never score a question it was trained on.

The shipped layer (pipeline/classify/models/classifier-lr.v2.json) was fitted on data/gold/dev.csv
and train.csv less the held-out split (data/gold/heldout-ids.v1.csv); it stores the gold files'
SHA-256, the split's and the training question ids. When `stackmine evaluate` is given one of
those gold files, its training questions get out-of-fold labels: the whole training set in five
fixed folds, each predicted by both heads refitted on the other four (pipeline/classify/fit.py,
about 10 s with the corpus), at the shipped threshold and temperature; its held-out questions get the shipped
classifier's labels (it never saw them), and the report names both parts. The text is the bundled
gold corpus (pipeline/evaluate/corpus.py), so no database holding all of it is needed. When any
other gold file shares questions with the training set, those questions are left out of every
method's scores. Either way the printed header says which it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from pipeline.classify.lexicon import Scanner
from pipeline.classify.model import LayerModel, LayerPrediction
from pipeline.core.db import registered
from pipeline.core.files import sha256_file
from pipeline.core.sql import SqlFile
from pipeline.evaluate.corpus import SPLIT

SQL = SqlFile("pipeline.evaluate", "evaluate.sql")


@dataclass(frozen=True)
class Honesty:
    """What the evaluation does about the training set: whether the training questions get
    out-of-fold labels (`refit`; the file is one the layer was trained on), which gold questions
    are left out (`dropped`), which are in the held-out split (`held_out`), and the sentence
    printed about it."""

    refit: bool
    dropped: frozenset[tuple[str, int]]
    note: str
    held_out: frozenset[tuple[str, int]] = frozenset()


def honesty(gold: list, gold_path: Path, model: LayerModel | None) -> Honesty:
    """Decide how the gold set meets the model's training set."""
    if model is None:
        return Honesty(False, frozenset(), "")
    from pipeline.evaluate.split import read_split

    keys = frozenset((g.site, g.post_id) for g in gold)
    overlap = keys & model.training_ids()
    split_names = list(model.training.get("heldout_split", {}))
    held = keys & read_split(SPLIT) if SPLIT.name in split_names else frozenset()
    held_note = (f"; {len(held)} are in the held-out split ({SPLIT.name}): labelled by the shipped classifier, "
                 "which never saw them" if held else "")
    if not overlap:
        return Honesty(False, frozenset(), f"none of these questions trained the {model.version} layer{held_note}",
                       held)
    if sha256_file(gold_path) in model.training.get("gold_files", {}).values():
        return Honesty(True, frozenset(), (
            f"the {model.version} layer was trained on {len(overlap)} of these questions: their ml and stage labels "
            f"are out-of-fold ({model.training['n']} training questions, 5 fixed folds, refitted in this run), "
            f"not the stored ones{held_note}"), held)
    return Honesty(False, overlap, (
        f"{len(overlap)} of these questions trained the {model.version} layer: left out of every score "
        f"below{held_note}"), held - overlap)


def gold_text_rows(con: duckdb.DuckDBPyConnection, gold: list) -> dict[tuple[str, int], tuple]:
    """The `gold_text` row (sql/evaluate.sql) of every gold question, by (site, post_id)."""
    keys = pa.table({"site": [g.site for g in gold], "post_id": [g.post_id for g in gold]})
    with registered(con, gold_keys=keys):
        return {(r[0], r[1]): r for r in con.execute(SQL("gold_text")).fetchall()}


def out_of_fold_labels(corpus: list, scanner: Scanner, model: LayerModel) -> dict[tuple[str, int], LayerPrediction]:
    """Out-of-fold predictions of every training question of `model` (seed 0, the folds the
    training script chose the threshold and temperature on), at the shipped threshold, calibration
    and temperature. `corpus`: the gold questions with their text (pipeline/evaluate/corpus.py)."""
    from pipeline.classify.fit import out_of_fold
    from pipeline.evaluate.split import training_examples

    examples = training_examples(corpus, scanner)
    return predictions_from(examples, out_of_fold(examples), model)


def predictions_from(examples: list, oof, model: LayerModel) -> dict[tuple[str, int], LayerPrediction]:
    """Out-of-fold scores (pipeline.classify.fit.OutOfFold) as the shipped model would decide them."""
    from pipeline.classify.fit import calibrated_p_ml
    from pipeline.classify.model import RANKED

    out = {}
    p_ml_all = calibrated_p_ml(oof, (model.slope, model.offset))
    for e, p_ml, row in zip(examples, p_ml_all, oof.p_stage(model.temperature).tolist()):
        if p_ml < model.threshold:
            out[(e.site, e.post_id)] = LayerPrediction(False, p_ml, "none", None, None)
            continue
        ranked = sorted(range(len(row)), key=lambda k: (-row[k], k))[:RANKED]
        stage2 = oof.stages[ranked[1]] if row[ranked[1]] >= model.stage2_min else None
        out[(e.site, e.post_id)] = LayerPrediction(True, p_ml, oof.stages[ranked[0]], stage2, tuple(row),
                                                   tuple(ranked))
    return out
