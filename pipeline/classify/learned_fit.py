"""Fitting the trained ml layer (pipeline/classify/learned.py), and its out-of-fold predictions.

Used by scripts/train_classifier.py to build the shipped model file, and by `stackmine evaluate`
to score questions the shipped model was trained on honestly: each such question is predicted by
a model refitted without its fold (logistic regression on 300 rows takes well under a second).
Everything is fixed (folds' seed, solver, C, feature cut-off), so the same gold file gives the same
coefficients and the same out-of-fold labels.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from pipeline.classify.learned import LearnedModel, Prediction, applies_to, question_features, round_significant
from pipeline.classify.lexicon import Scanner

C = 1.0  # scikit-learn's default regularisation; not tuned on the gold set
MIN_DF = 2  # a feature must occur in two training questions: smaller file, no one-question words
FOLDS = 5
SEED = 0
SOLVER = "newton-cg"
COMMON_STAGES = ("model-training", "model-evaluation", "data-preparation", "feature-engineering")


@dataclass(frozen=True)
class Example:
    """One labelled training question: its features and gold ml/stage."""

    site: str
    post_id: int
    features: dict[str, float]
    ml: bool
    stage: str


def featurize(scanner: Scanner, questions: list[tuple]) -> list[dict[str, float]]:
    """Features of parsed questions (title, prose, inline_code, code, tags), as classify sees them."""
    found = scanner.scan_many(questions)
    words = [scanner.layer_words(*q[:3]) for q in questions]
    return [question_features(hits, title, present, list(q[4]))
            for hits, (title, present), q in zip(found, words, questions)]


def fit(examples: list[Example], version: str, training: dict) -> dict:
    """The model file's content: feature names, rounded coefficients, and `training` (provenance)."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = DictVectorizer(sort=True)
    matrix = vectorizer.fit_transform([e.features for e in examples]).tocsc()
    keep = np.flatnonzero(np.diff(matrix.indptr) >= MIN_DF)  # columns present in >= MIN_DF questions
    matrix = matrix[:, keep].tocsr()
    names = [vectorizer.feature_names_[i] for i in keep]
    ml = np.array([e.ml for e in examples])
    # newton-cg: the same objective as the default lbfgs, converged in a few steps (fast refits
    # for evaluate's out-of-fold labels).
    ml_model = LogisticRegression(C=C, solver=SOLVER, max_iter=1_000).fit(matrix, ml)
    return {
        "version": version,
        "features": names,
        "ml": {"coef": round_significant(ml_model.coef_[0]).tolist(),
               "intercept": float(round_significant(ml_model.intercept_)[0])},
        "training": {**training, "n": len(examples), "n_ml": int(ml.sum()), "C": C, "min_df": MIN_DF, "solver": SOLVER,
                     "ids": [[e.site, e.post_id] for e in examples]},
    }


def folds(examples: list[Example], seed: int = SEED) -> list[np.ndarray]:
    """Test indices of FOLDS stratified folds (by stage, rare stages pooled; ml=no as 'none')."""
    from sklearn.model_selection import StratifiedKFold

    strata = [e.stage if e.stage in COMMON_STAGES or e.stage == "none" else "rare" for e in examples]
    splitter = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=seed)
    return [test for _train, test in splitter.split(np.zeros(len(examples)), strata)]


def out_of_fold(examples: list[Example], seed: int = SEED) -> list[Prediction | None]:
    """Each example predicted by a model fitted on the other folds only (None where the layer
    does not apply: no ML term, so ml=no as the rules say)."""
    predictions: list[Prediction | None] = [None] * len(examples)  # None: the layer does not apply
    for test in folds(examples, seed):
        held = set(test.tolist())
        train = [e for i, e in enumerate(examples) if i not in held]
        model = LearnedModel(fit(train, "out-of-fold", {}))
        test = np.array([i for i in test if applies_to(examples[i].features)], dtype=np.int64)
        for i, prediction in zip(test, model.predict_features([examples[i].features for i in test])):
            predictions[i] = prediction
    return predictions


def stage_counts(examples: list[Example]) -> Counter:
    """Gold stages of the ml=yes examples (printed by the training script)."""
    return Counter(e.stage for e in examples if e.ml)
