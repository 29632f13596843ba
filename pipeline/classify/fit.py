"""Fitting the trained layer (pipeline/classify/model.py), and honest out-of-fold predictions.

Used by scripts/train_classifier.py to build the shipped model file and to print its
cross-validated figures, and wherever a training question must be scored by a model that did not
see it. Everything is fixed — folds (seed, strata), solver, C, feature cut-off, the threshold and
temperature grids, rounding — so the same gold questions give the same file on any machine.

Design choices, each made by cross-validation on the training part of the gold set (the held-out
split, data/gold/heldout-ids.v1.csv, was not used; README, "Classifier quality"):
  - both heads are L2 logistic regressions solved by liblinear (deterministic, seconds to fit);
  - the ml head is fitted on every training question, not only where the rules are unsure, and
    asked only where the rules found an ML term (elsewhere its answer would change no F1 figure);
  - the stage head is one-vs-rest over the gold ml=yes questions, reading no ML-family hits;
  - the ml threshold and the stage temperature are chosen on out-of-fold predictions (the
    threshold nearest 0.5 within noise of the best F1, see `choose_threshold`).
"""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import dataclass

import numpy as np

from pipeline.classify.features import ML_FAMILIES, STAGE_FAMILIES, for_head, gated, question_features
from pipeline.classify.lexicon import Scanner
from pipeline.classify.model import LayerModel, normalised_ovr
from pipeline.core.codebook import STAGES

ML_C = 0.3
STAGE_C = 0.1
MIN_DF = 2  # a feature must occur in two training questions of its head
SOLVER = "liblinear"
FOLDS = 5
SEED = 0
SCALE = 1_000_000  # coefficients are stored as integers in millionths (see pipeline/classify/model.py)
THRESHOLDS = tuple(round(0.20 + 0.05 * i, 2) for i in range(11))  # 0.20 .. 0.70
THRESHOLD_TOLERANCE = 0.005  # about one standard error of ml F1 on the training set
TEMPERATURES = tuple(round(0.5 + 0.05 * i, 2) for i in range(51))  # 0.50 .. 3.00
STAGE2_MIN = 0.25  # a runner-up stage this probable is reported as the secondary stage
RARE = 10  # stages with fewer training questions share one stratum in the folds


@dataclass(frozen=True)
class Example:
    """One labelled training question: where it is from, its features and gold labels."""

    site: str
    post_id: int
    pool: str
    features: dict[str, float]
    ml: bool
    stage: str  # "none" when ml is false
    stage2: str = ""


def featurize(scanner: Scanner, questions: list[tuple]) -> list[dict[str, float]]:
    """Features of parsed questions (title, prose, inline_code, code, tags), by definition."""
    found = scanner.scan_many(questions)
    words = [scanner.layer_words(*q[:3]) for q in questions]
    return [question_features(hits, title, present, q[4]) for hits, (title, present), q in zip(found, words, questions)]


def to_units(values: np.ndarray) -> np.ndarray:
    """Coefficients as whole numbers of 1/SCALE, as the model file stores them (exact sums)."""
    return np.rint(np.asarray(values, dtype=float) * SCALE).astype(np.int64)


def _matrix(rows: list[dict[str, float]]):
    """Sparse matrix of `rows` with the columns present in at least MIN_DF rows, and their names."""
    from sklearn.feature_extraction import DictVectorizer

    vectorizer = DictVectorizer(sort=True)
    matrix = vectorizer.fit_transform(rows).tocsc()
    keep = np.flatnonzero(np.diff(matrix.indptr) >= MIN_DF)
    return matrix[:, keep].tocsr(), [vectorizer.feature_names_[i] for i in keep]


def fit_ml(examples: list[Example]) -> tuple[list[str], np.ndarray, float]:
    """The ml head: names, coefficients, intercept (binary logistic regression, every example)."""
    from sklearn.linear_model import LogisticRegression

    matrix, names = _matrix([for_head(e.features, ML_FAMILIES) for e in examples])
    model = LogisticRegression(C=ML_C, solver=SOLVER, random_state=SEED).fit(matrix, [e.ml for e in examples])
    return names, model.coef_[0], float(model.intercept_[0])


def fit_stage(examples: list[Example]) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """The stage head on the ml=yes examples: names, classes, coefficients (classes x names), intercepts."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    chosen = [e for e in examples if e.ml]
    matrix, names = _matrix([for_head(e.features, STAGE_FAMILIES) for e in chosen])
    model = OneVsRestClassifier(LogisticRegression(C=STAGE_C, solver=SOLVER, random_state=SEED))
    model.fit(matrix, [e.stage for e in chosen])
    # in the codebook's order, so that predictions are stored without reordering
    order = sorted(range(len(model.classes_)), key=lambda k: STAGES.index(model.classes_[k]))
    coef = np.vstack([model.estimators_[k].coef_[0] for k in order])
    intercept = np.array([model.estimators_[k].intercept_[0] for k in order])
    return names, [str(model.classes_[k]) for k in order], coef, intercept


def fit(examples: list[Example], version: str, training: dict, threshold: float = 0.5,
        temperature: float = 1.0, calibration: tuple[float, float] = (1.0, 0.0)) -> dict:
    """The model file's content: both heads on one sorted feature list, and `training` (provenance)."""
    ml_names, ml_coef, ml_bias = fit_ml(examples)
    st_names, classes, st_coef, st_bias = fit_stage(examples)
    names = sorted(set(ml_names) | set(st_names))
    col = {n: i for i, n in enumerate(names)}
    ml_full = np.zeros(len(names))
    ml_full[[col[n] for n in ml_names]] = ml_coef
    st_full = np.zeros((len(classes), len(names)))
    st_full[:, [col[n] for n in st_names]] = st_coef
    return {
        "version": version,
        "features": names,
        "scale": SCALE,
        "ml": {"coef": to_units(ml_full).tolist(), "intercept": round(ml_bias, 6), "threshold": threshold,
               "calibration": list(calibration), "ungated_p": ungated_rate(examples)},
        "stage": {"classes": classes, "coef": to_units(st_full).tolist(),
                  "intercept": [round(float(b), 6) for b in st_bias], "temperature": temperature,
                  "stage2_min": STAGE2_MIN},
        "training": {**training, "n": len(examples), "n_ml": sum(e.ml for e in examples), "ml_C": ML_C,
                     "stage_C": STAGE_C, "min_df": MIN_DF, "solver": SOLVER,
                     "ids": [[e.site, e.post_id] for e in examples]},
    }


def ungated_rate(examples: list[Example]) -> float:
    """The share of ML questions among those the layer is not asked about (no ML term): their P(ml)."""
    outside = [e.ml for e in examples if not gated(e.features)]
    return round(sum(outside) / len(outside), 4) if outside else 0.0


def folds(examples: list[Example], seed: int = SEED) -> list[np.ndarray]:
    """Test indices of FOLDS stratified folds (by pool and stage; rare stages share a stratum)."""
    from sklearn.model_selection import StratifiedKFold

    counts = Counter(e.stage for e in examples)
    strata = [f"{e.pool}|{e.stage if counts[e.stage] >= RARE else 'rare'}" for e in examples]
    splitter = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=seed)
    with warnings.catch_warnings():  # a pool's "rare" stratum may hold fewer questions than folds: expected
        warnings.filterwarnings("ignore", "The least populated class", UserWarning)
        return [test for _train, test in splitter.split(np.zeros(len(examples)), strata)]


@dataclass(frozen=True)
class OutOfFold:
    """Each example's P(ml) and raw stage scores (over `stages`) from a model that did not see it."""

    p_ml: list[float]  # uncalibrated (slope 1, offset 0); the rate of the file for examples without an ML term
    ml_scores: list[float | None]  # raw ml scores; None for examples without an ML term (not scored)
    stages: tuple[str, ...]
    scores: np.ndarray  # examples x stages: one-vs-rest scores, for every example whatever its ml

    def p_stage(self, temperature: float) -> np.ndarray:
        """Stage probabilities (examples x stages) at `temperature`."""
        return normalised_ovr(self.scores, temperature)


def out_of_fold(examples: list[Example], seed: int = SEED) -> OutOfFold:
    """Refit on all folds but one, predict that one, for each fold."""
    p_ml = [0.0] * len(examples)
    ml_scores: list[float | None] = [None] * len(examples)
    scores = np.full((len(examples), len(STAGES)), -50.0)  # a stage absent from a fold's training: never chosen
    for test in folds(examples, seed):
        held = set(test.tolist())
        model = LayerModel(fit([e for i, e in enumerate(examples) if i not in held], "out-of-fold", {}))
        position = [STAGES.index(s) for s in model.stages]
        for i in test:
            p_ml[i] = model.predict_features([examples[i].features])[0].p_ml
            units = model.units(model.columns_of(examples[i].features))
            if gated(examples[i].features):
                ml_scores[i] = float(units[-1] / model.scale + model.ml_bias)
            scores[i, position] = model.stage_scores(units[None, :])[0]
    return OutOfFold(p_ml, ml_scores, STAGES, scores)


def choose_calibration(examples: list[Example], oof: OutOfFold) -> tuple[float, float]:
    """Platt scaling (slope, offset) of the out-of-fold ml scores of the examples the head is asked
    about: the L2 penalty shrinks scores towards the prior, and the gate changes that prior."""
    from sklearn.linear_model import LogisticRegression

    asked = [(s, e.ml) for s, e in zip(oof.ml_scores, examples) if s is not None]
    model = LogisticRegression(C=1e6, solver="lbfgs").fit(np.array([[s] for s, _ in asked]), [y for _, y in asked])
    return round(float(model.coef_[0][0]), 4), round(float(model.intercept_[0]), 4)


def calibrated_p_ml(oof: OutOfFold, calibration: tuple[float, float]) -> list[float]:
    """Out-of-fold P(ml) under `calibration` (the file's rate where not asked, as before)."""
    slope, offset = calibration
    return [round(1.0 / (1.0 + float(np.exp(-(slope * s + offset)))), 4) if s is not None else p
            for s, p in zip(oof.ml_scores, oof.p_ml)]


def choose_threshold(examples: list[Example], p_ml: list[float]) -> float:
    """The threshold of THRESHOLDS nearest 0.5 whose out-of-fold ml F1 is within THRESHOLD_TOLERANCE
    of the best: the probabilities are calibrated, so 0.5 is the natural cut, and out-of-fold F1
    is flat around it (a threshold chosen for a gain smaller than its noise would not transfer)."""
    gold = np.array([e.ml for e in examples])
    p = np.array(p_ml)

    def f1(t: float) -> float:
        tp = int(np.sum(gold & (p >= t)))
        return 2 * tp / (int(gold.sum()) + int(np.sum(p >= t))) if tp else 0.0

    best = max(f1(t) for t in THRESHOLDS)
    return min((t for t in THRESHOLDS if f1(t) >= best - THRESHOLD_TOLERANCE), key=lambda t: (abs(t - 0.5), t))


def choose_temperature(examples: list[Example], oof: OutOfFold) -> float:
    """The temperature of TEMPERATURES with the least out-of-fold log-loss on gold ml=yes questions."""
    rows = np.array([i for i, e in enumerate(examples) if e.ml])
    truth = np.array([oof.stages.index(examples[i].stage) for i in rows])

    def log_loss(t: float) -> float:
        p = oof.p_stage(t)[rows, truth]
        return float(-np.mean(np.log(np.maximum(p, 1e-6))))

    return min(TEMPERATURES, key=lambda t: (round(log_loss(t), 6), abs(t - 1.0)))
