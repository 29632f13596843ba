#!/usr/bin/env python3
"""Stage-head designs other than the shipped one, by cross-validation on the training split only.

    .venv/bin/python scripts/stage_head_variants.py             # about 10 s
    .venv/bin/python scripts/stage_head_variants.py --boosted   # adds gradient-boosted trees, about 4 min more

The accuracy of the stage head alone (the gold stage of gold-ML training questions; the held-out
split, data/gold/heldout-ids.v1.csv, is left out: none of its questions is scored), over the stage head's own
features (pipeline/classify/features.py) with the shipped folds (pipeline/classify/fit.py
`folds`, over the 837 ML training questions), mean ± SD over fold seeds: the shipped one-vs-rest
logistic regression beside naive Bayes models and, with --boosted, boosted trees on one seed.
The README ("Tried and not shipped") quotes what it printed; nothing here is shipped.
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Callable

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog="example: .venv/bin/python scripts/stage_head_variants.py --seeds 3")
    parser.add_argument("--seeds", type=int, default=3, help="fold seeds (boosted trees: the first only)")
    parser.add_argument("--boosted", action="store_true", help="also gradient-boosted trees (minutes)")
    args = parser.parse_args()
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.naive_bayes import ComplementNB, MultinomialNB

    from pipeline.classify.classifier import Classifier
    from pipeline.classify.features import STAGE_FAMILIES, for_head
    from pipeline.classify.fit import MIN_DF, SEED, SOLVER, STAGE_C, folds
    from pipeline.evaluate.corpus import load_gold_corpus
    from pipeline.evaluate.split import training_examples

    examples = [e for e in training_examples(load_gold_corpus(), Classifier(learned=False).scanner) if e.ml]
    gold = np.array([e.stage for e in examples])
    rows = [for_head(e.features, STAGE_FAMILIES) for e in examples]
    print(f"{len(examples)} gold-ML training questions (held-out split left out); stage head alone, "
          f"5-fold accuracy")

    def matrices(train: list[int], test: list[int]):
        """The fold's training columns present in MIN_DF questions, as the shipped fit keeps them."""
        vectorizer = DictVectorizer(sort=True)
        fitted = vectorizer.fit_transform([rows[i] for i in train]).tocsc()
        keep = np.flatnonzero(np.diff(fitted.indptr) >= MIN_DF)
        return fitted[:, keep].tocsr(), vectorizer.transform([rows[i] for i in test])[:, keep].tocsr()

    def score(name: str, make: Callable[[], object], seeds: int, dense: bool = False) -> None:
        started, accuracies = time.monotonic(), []
        for seed in range(seeds):
            predicted = np.empty(len(examples), dtype=object)
            for test in folds(examples, seed):
                held = set(test.tolist())
                train = [i for i in range(len(examples)) if i not in held]
                x_train, x_test = matrices(train, test.tolist())
                if dense:
                    x_train, x_test = x_train.toarray(), x_test.toarray()
                predicted[test] = make().fit(x_train, gold[train]).predict(x_test)
            accuracies.append(float(np.mean(predicted == gold)))
        print(f"  {name:<52} {np.mean(accuracies):.3f} ± {np.std(accuracies):.3f}  "
              f"({seeds} seed{'s' if seeds > 1 else ''}, {time.monotonic() - started:.0f} s)", flush=True)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        score(f"shipped: one-vs-rest logistic regression, C={STAGE_C}",
              lambda: OneVsRestClassifier(LogisticRegression(C=STAGE_C, solver=SOLVER, random_state=SEED)), args.seeds)
        for alpha in (0.1, 0.3, 1.0):
            score(f"multinomial naive Bayes, alpha={alpha}", lambda a=alpha: MultinomialNB(alpha=a), args.seeds)
            score(f"complement naive Bayes, alpha={alpha}", lambda a=alpha: ComplementNB(alpha=a), args.seeds)
        if args.boosted:
            score("histogram gradient boosting, 200 rounds, 15 leaves",
                  lambda: HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, max_leaf_nodes=15,
                                                         random_state=SEED), 1, dense=True)


if __name__ == "__main__":
    main()
