"""Fit the trained ml layer of the classifier and write pipeline/classify/models/classifier-lr.v1.json.

Usage (needs ../shared, the gold set): .venv/bin/python scripts/train_classifier.py [--gold ../shared/gold/dev.csv]

Builds a temporary database from data/sample (ingest → text; the dev questions are in the bundled
SEDE export), finds every rule hit and word of each gold question exactly as `stackmine classify`
does, and fits a logistic regression for ml (pipeline/learned_fit.py). Deterministic: fixed solver,
C and feature cut-off, coefficients rounded to 6 significant digits, so a rebuild gives the same
file. Before writing, it prints out-of-fold scores (5-fold, 5 seeds) of the classifier with the
layer beside the rules alone on the same questions — the rules were written on these questions,
so their column is optimistic; the layer's column is out-of-fold for the layer (not for the
rule hits it reads). The honest estimate of both is scripts/heldout_learned.sh.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
GOLD = REPO.parent / "shared" / "gold" / "dev.csv"
OUT = REPO / "pipeline" / "classify" / "models" / "classifier-lr.v1.json"


def scores(examples, labels) -> tuple[float, float]:
    """ml F1, and primary-stage accuracy on gold ml=yes questions."""
    from pipeline.evaluate.scoring import prf

    s = prf([(e.ml, one.ml) for e, one in zip(examples, labels)])
    hits = [one.stage == e.stage for e, one in zip(examples, labels) if e.ml]
    return s.f1, sum(hits) / len(hits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=GOLD)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    from pipeline.classify.classifier import LEARNED_VERSION, Classifier
    from pipeline.steps import connect
    from pipeline.classify.decide import decide, with_model
    from pipeline.evaluate.gold import read_gold
    from pipeline.evaluate.honesty import gold_examples, gold_questions
    from pipeline.ingest.load import ingest
    from pipeline.classify.learned import gold_sha256
    from pipeline.classify.learned_fit import fit, out_of_fold, stage_counts
    from pipeline.text.extract import extract

    gold = read_gold(args.gold)
    rules_only = Classifier(learned=False)
    with tempfile.TemporaryDirectory(prefix="stackmine-train-") as tmp:
        con = connect(Path(tmp) / "train.duckdb")
        try:
            ingest(con, [REPO / "data" / "sample"])
            extract(con)
            examples = gold_examples(con, gold, rules_only.scanner)
            hits = rules_only.scanner.scan_many(gold_questions(con, gold))
        finally:
            con.close()
    print(f"{len(examples)} questions, ml=yes {sum(e.ml for e in examples)}; stages {dict(stage_counts(examples))}")
    by_rules = [decide(h, rules_only.rules) for h in hits]
    rule_ml, rule_stage = scores(examples, by_rules)
    measured = []
    for seed in range(5):
        predicted = out_of_fold(examples, seed)
        measured.append(scores(examples, [with_model(r, p, h, rules_only.rules)
                                          for r, p, h in zip(by_rules, predicted, hits)]))
    (ml_f1, stage_acc), (ml_sd, stage_sd) = np.mean(measured, axis=0), np.std(measured, axis=0)
    print(f"rules alone (written on these questions: optimistic):   ml F1 {rule_ml:.3f}, stage accuracy {rule_stage:.3f}")
    print(f"with the layer, out-of-fold (5-fold x 5 seeds):          ml F1 {ml_f1:.3f} ± {ml_sd:.3f}, "
          f"stage accuracy {stage_acc:.3f} ± {stage_sd:.3f}")
    spec = fit(examples, LEARNED_VERSION, {"gold_file": args.gold.name, "gold_sha256": gold_sha256(args.gold),
                                           "script": "scripts/train_classifier.py"})
    args.out.write_text(json.dumps(spec, separators=(",", ":"), sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB, {len(spec['features'])} features)")


if __name__ == "__main__":
    main()
