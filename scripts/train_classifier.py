#!/usr/bin/env python3
"""Fit the trained layer of the classifier: write pipeline/classify/models/classifier-lr.v2.json and
pipeline/coverage/rules/gold_predictions.csv.

Usage: .venv/bin/python scripts/train_classifier.py [--seeds 3] [--oof-out FILE]

Reads the bundled gold labels (data/gold/dev.csv and train.csv), leaves out the held-out split
(data/gold/heldout-ids.v1.csv, never used for fitting or choosing), parses every question the way
`stackmine text` does (pipeline/evaluate/corpus.py: the bundled SEDE exports and ai.stackexchange
dump), finds its rule hits and words as `stackmine classify` does, and fits both heads
(pipeline/classify/fit.py). The ml calibration and threshold and the stage temperature are chosen
on out-of-fold predictions (5 fixed folds, seed 0). Before writing, it prints out-of-fold figures
over --seeds fold seeds: ml F1, stage accuracy (the stage head alone and end to end) and macro-F1 on
gold ml=yes questions, calibration. The rule hits it reads come from rules written while looking at
dev.csv, so figures on dev questions lean optimistic; the per-pool lines show it.

It also writes the classifier's predictions of the gold questions it did not see
(pipeline/evaluate/predictions.py): out-of-fold (seed 0, the final design) for training questions,
the written model's for the held-out split, with each question's sampling stratum and weight;
the coverage step measures the classifier's errors from them. Deterministic: fixed folds, solver,
C, grids and rounding, so a rebuild gives both files byte for byte (tests/classify/test_layer.py).
"""

from __future__ import annotations

import argparse
import csv
import json
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "pipeline" / "classify" / "models" / "classifier-lr.v2.json"
PREDICTIONS = REPO / "pipeline" / "coverage" / "rules" / "gold_predictions.csv"


def figures(examples: list, oof, threshold: float, temperature: float) -> dict[str, float]:
    """Out-of-fold ml and stage figures of one fold seed."""
    from pipeline.evaluate.scoring import prf

    gold = np.array([e.ml for e in examples])
    p_ml = np.array(oof.p_ml)
    said = p_ml >= threshold
    ml = prf([(bool(g), bool(s)) for g, s in zip(gold, said)])
    probs = oof.p_stage(temperature)
    yes = [i for i, e in enumerate(examples) if e.ml]
    top = [oof.stages[int(np.argmax(probs[i]))] for i in yes]
    truth = [examples[i].stage for i in yes]
    end_to_end = [t if said[i] else "none" for i, t in zip(yes, top)]
    return {"ml_f1": ml.f1, "ml_p": ml.precision, "ml_r": ml.recall,
            "ml_brier": float(np.mean((p_ml - gold) ** 2)),
            "stage_acc": float(np.mean([a == b for a, b in zip(top, truth)])),
            "stage_or_2": float(np.mean([t in (examples[i].stage, examples[i].stage2) for i, t in zip(yes, top)])),
            "stage_macro_f1": macro_f1(truth, top),
            "stage_acc_end_to_end": float(np.mean([a == b for a, b in zip(end_to_end, truth)])),
            "stage_brier": float(np.mean([sum((p - (s == examples[i].stage)) ** 2 for p, s in zip(probs[i], oof.stages))
                                          for i in yes]))}


def macro_f1(truth: list[str], predicted: list[str]) -> float:
    """Macro-F1 over the stages in the gold or the predictions (as pipeline/evaluate/scoring.py averages)."""
    from pipeline.evaluate.scoring import prf

    labels = sorted(set(truth) | set(predicted))
    return float(np.mean([prf([(a == s, b == s) for a, b in zip(truth, predicted)]).f1 for s in labels]))


def write_oof(path: Path, examples: list, oof, threshold: float, temperature: float) -> None:
    """Out-of-fold probabilities, one row per training question (for confusion matrices, estimators)."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["site", "post_id", "pool", "gold_ml", "gold_stage", "gold_stage2", "p_ml", "ml", "stage",
                         *[f"p_{s}" for s in oof.stages]])
        for e, p, probs in zip(examples, oof.p_ml, oof.p_stage(temperature).tolist()):
            writer.writerow([e.site, e.post_id, e.pool, int(e.ml), e.stage, e.stage2, p, int(p >= threshold),
                             oof.stages[int(np.argmax(probs))], *probs])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--predictions", type=Path, default=PREDICTIONS)
    parser.add_argument("--seeds", type=int, default=3, help="fold seeds for the printed figures")
    parser.add_argument("--oof-out", type=Path, help="write seed-0 out-of-fold probabilities to this CSV")
    args = parser.parse_args()
    from pipeline.classify.classifier import LAYER_VERSION, Classifier
    from pipeline.classify.fit import (OutOfFold, calibrated_p_ml, choose_calibration, choose_temperature,
                                       choose_threshold, fit, out_of_fold)
    from pipeline.classify.model import LayerModel
    from pipeline.core.files import sha256_file
    from pipeline.evaluate.corpus import GOLD_FILES, SPLIT, design, design_summary, load_gold_corpus
    from pipeline.evaluate.honesty import predictions_from
    from pipeline.evaluate.predictions import gold_prediction_rows, write_gold_predictions
    from pipeline.evaluate.split import read_split, training_examples

    rules_only = Classifier(learned=False)
    corpus = load_gold_corpus()
    examples = training_examples(corpus, rules_only.scanner)
    print(f"{len(examples)} training questions (held-out split left out), ml=yes {sum(e.ml for e in examples)}; "
          f"pools {dict(Counter(e.pool for e in examples))}")
    runs = [out_of_fold(examples, seed) for seed in range(args.seeds)]
    calibration = choose_calibration(examples, runs[0])
    runs = [replace(run, p_ml=calibrated_p_ml(run, calibration)) for run in runs]
    threshold = choose_threshold(examples, runs[0].p_ml)
    temperature = choose_temperature(examples, runs[0])
    print(f"chosen out-of-fold (seed 0): ml calibration {calibration}, threshold {threshold}, "
          f"stage temperature {temperature}")
    table = [figures(examples, run, threshold, temperature) for run in runs]
    for name in table[0]:
        values = [row[name] for row in table]
        print(f"  {name:<22} {np.mean(values):.3f} ± {np.std(values):.3f}  (out-of-fold, {args.seeds} fold seeds)")
    for pool in sorted({e.pool for e in examples}):
        chosen = [i for i, e in enumerate(examples) if e.pool == pool]
        part = OutOfFold([runs[0].p_ml[i] for i in chosen], [runs[0].ml_scores[i] for i in chosen], runs[0].stages,
                         runs[0].scores[chosen])
        sub = figures([examples[i] for i in chosen], part, threshold, temperature)
        print(f"  pool {pool:<7} n={len(chosen):<5} ml F1 {sub['ml_f1']:.3f}  stage accuracy {sub['stage_acc']:.3f}")
    if args.oof_out:
        write_oof(args.oof_out, examples, runs[0], threshold, temperature)
    spec = fit(examples, LAYER_VERSION, {"gold_files": {n: sha256_file(SPLIT.parent / n) for n in GOLD_FILES},
                                         "heldout_split": {SPLIT.name: sha256_file(SPLIT)},
                                         "script": "scripts/train_classifier.py"}, threshold, temperature,
               calibration)
    args.out.write_text(json.dumps(spec, separators=(",", ":"), sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB, {len(spec['features'])} features)")

    model = LayerModel(spec)
    shipped = Classifier(rules=rules_only.rules, model=model)
    held = [q for q in corpus if q.key in read_split(SPLIT)]
    held_labels = dict(zip((q.key for q in held), shipped.label_many([q.question for q in held])))
    strata = design(corpus)
    rows = gold_prediction_rows(corpus, strata, predictions_from(examples, runs[0], model), held_labels,
                                shipped.version)
    write_gold_predictions(args.predictions, rows)
    print(f"wrote {args.predictions} ({len(rows)} gold questions: {design_summary(strata)}; "
          f"{sum(r[10] == 'held-out' for r in rows)} held-out, the rest out-of-fold; {shipped.version})")


if __name__ == "__main__":
    main()
