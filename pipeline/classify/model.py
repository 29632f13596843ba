"""The trained layer over the rules: P(ml) for every question, and the primary stage with a
probability per stage for the questions it calls ML.

Why: a linear model over the rules' hits, the words and the tags learns from labelled questions how
much each signal is worth, instead of the rules' hand-set weights; for the stage, the rules'
highest-score-wins decision confuses which ML words occur with where the asker's problem is. Both
heads are logistic regressions (ml: binary; stage: one-vs-rest over the stages seen in training,
normalised, at a temperature fitted out-of-fold so that the probabilities are calibrated: they feed
a misclassification-corrected coverage estimate). Platforms stay the rules' decision.

The model is data: `pipeline/classify/models/classifier-lr.v2.json` holds the feature names, both
heads' coefficients as integers in millionths (`scale`), the ml head's calibration and threshold,
P(ml) of questions without an ML term (which are not scored), the temperature and the ids of the
training questions, written by scripts/train_classifier.py (pipeline/classify/fit.py; fixed folds,
solver and rounding: rebuilt byte for byte). Integer coefficients make every sum exact in float64,
so a question's scores do not depend on the order its features are met (set order changes with
Python's string hashing) nor on the machine's BLAS, with no sorting and no `math.fsum`.
Applying it is plain Python and numpy over what the scan already found (pipeline/classify/features.py
defines the features): for questions with an ML term a few set intersections and lookups for the ml
score, and for the questions called ML one gather-and-sum of the stage matrix.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import numpy as np

from pipeline.classify.features import ALL_FAMILIES, TERM, gate, gated, hit_parts
from pipeline.classify.lexicon import Hit
from pipeline.core.errors import StackmineError

MODEL_FILE = "classifier-lr.v2.json"
PROBABILITY_DIGITS = 4  # stored probabilities: enough for any estimator
RANKED = 3  # most probable stages a prediction lists (evidence)


class LayerPrediction(NamedTuple):
    """The layer's labels of one question and the probabilities behind them."""

    ml: bool
    p_ml: float
    stage: str  # "none" when ml is false
    stage2: str | None
    p_stage: tuple[float, ...] | None  # per stage of `LayerModel.stages`, for questions called ML
    ranked: tuple[int, ...] = ()  # indices of `LayerModel.stages`, most probable first (the first three)


class _HitEntry(NamedTuple):
    """What one distinct hit adds: the row of `LayerModel._rows` holding its count features' summed
    weights (-1: none), and the column of its term indicator (-1: none), which counts once."""

    row: int
    term: int


class LayerModel:
    """Both heads' coefficients; `predict` labels a batch of scanned questions."""

    def __init__(self, spec: dict) -> None:
        self.spec = spec
        self.version: str = spec["version"]
        self.features: list[str] = spec["features"]
        self.training: dict = spec["training"]
        self.scale = float(spec["scale"])
        self.index = {name: i for i, name in enumerate(self.features)}
        ml, stage = spec["ml"], spec["stage"]
        self.ml_bias = float(ml["intercept"])
        self.threshold = float(ml["threshold"])
        # Platt scaling of the ml score, fitted out-of-fold (pipeline.classify.fit.choose_calibration)
        self.slope, self.offset = (float(v) for v in ml.get("calibration", (1.0, 0.0)))
        self.ungated = LayerPrediction(False, float(ml["ungated_p"]), "none", None, None)
        self.stages: tuple[str, ...] = tuple(stage["classes"])
        self.stage_bias = np.asarray(stage["intercept"], dtype=np.float64)
        self.temperature = float(stage["temperature"])
        self.stage2_min = float(stage["stage2_min"])
        # One row per feature: the stage head's weights, then the ml head's (in units). Rows for
        # distinct hits are appended as they are met (`_hit_entry`).
        self.weights = np.column_stack([np.asarray(stage["coef"], dtype=np.float64).T,
                                        np.asarray(ml["coef"], dtype=np.float64)])
        self._rows = self.weights.copy()
        self._used = len(self.features)
        self.title_col = _columns(self.index, "t:")
        self.word_col = _columns(self.index, "w:")
        self.tag_col = _columns(self.index, "tag:")
        self.title_words = frozenset(self.title_col)
        self.vocabulary = frozenset(self.word_col)
        self._hit_cache: dict[Hit, _HitEntry] = {}

    @classmethod
    def load(cls, path: Path | None = None) -> "LayerModel":
        """The shipped model (pipeline/classify/models/classifier-lr.v2.json) or the file at `path`."""
        resource = path or resources.files("pipeline.classify") / "models" / MODEL_FILE
        try:
            return cls(json.loads(resource.read_text(encoding="utf-8")))
        except FileNotFoundError as err:
            raise StackmineError(f"{resource}: trained classifier layer missing. Reinstall stackmine or rebuild "
                                 "it with scripts/train_classifier.py.") from err

    def training_ids(self) -> set[tuple[str, int]]:
        """(site, post_id) of every question the coefficients were fitted on."""
        return {(site, int(post_id)) for site, post_id in self.training["ids"]}

    def predict(self, found: list[list[Hit]], titles: list[list[str]], present: list[Iterable[str]],
                tags: list[list[str]], asked: list[bool] | None = None) -> list[LayerPrediction]:
        """Labels of a batch of questions from their rule hits, title tokens, lexicon words present
        and tags, as `Scanner.scan_many` reports them. Questions without an ML hit are not scored
        (`pipeline.classify.features.gate`): ml no, at the model file's P(ml) for such questions.

        Per question only the rows of its features are listed (sets: each indicator once; one row
        per distinct hit with its counts' weights summed); both heads' scores of the whole batch are
        then one gather and one segmented sum. `asked`: the gate of each question when the caller
        knows it already (an ML hit: the rules' ml evidence is not empty)."""
        cache, entry_of = self._hit_cache, self._hit_entry
        title_words, vocabulary, tag_col = self.title_words, self.vocabulary, self.tag_col
        title_col, word_col = self.title_col.__getitem__, self.word_col.__getitem__
        chosen: list[int] = []
        rows: list[int] = []
        starts: list[int] = []
        for i, hits in enumerate(found):
            if not (asked[i] if asked is not None else gate(hits)):
                continue
            entries = [cache.get(hit) or entry_of(hit) for hit in hits]
            chosen.append(i)
            starts.append(len(rows))
            # each kind of indicator is unique already (set intersections, a question's tags), but
            # two hits can share a term: those go through a set
            rows += {entry.term for entry in entries if entry.term >= 0}
            rows += map(title_col, title_words.intersection(titles[i]))
            rows += map(word_col, vocabulary.intersection(present[i]))
            rows += [tag_col[t] for t in {t.lower() for t in tags[i]} if t in tag_col]
            rows += [entry.row for entry in entries if entry.row >= 0]
        out = [self.ungated] * len(found)
        if chosen:
            sums = _segment_sums(self._rows[np.asarray(rows, dtype=np.intp)], starts)
            for i, prediction in zip(chosen, self._decide(sums)):
                out[i] = prediction
        return out

    def predict_features(self, features: list[dict[str, float]]) -> list[LayerPrediction]:
        """Labels from named features (pipeline.classify.features.question_features): the definition
        `predict` computes fast; used to fit, to check, and for out-of-fold scores."""
        out = []
        for one in features:
            if not gated(one):
                out.append(self.ungated)
                continue
            out.extend(self._decide(self.units(self.columns_of(one))[None, :]))
        return out

    def columns_of(self, features: dict[str, float]) -> dict[int, float]:
        """Named features as column values (names the model does not know are dropped)."""
        index = self.index
        return {index[n]: v for n, v in features.items() if n in index}

    def units(self, values: dict[int, float]) -> np.ndarray:
        """Both heads' sums of weight x value (stages, then ml) of one question's column values, in
        units: whole numbers, so the same as any other order of summing gives."""
        cols = list(values)
        return np.asarray([values[c] for c in cols], dtype=np.float64) @ self.weights[cols] if cols else \
            np.zeros(self.weights.shape[1])

    def stage_scores(self, units: np.ndarray) -> np.ndarray:
        """Raw one-vs-rest stage scores (questions x `stages`) of `units` rows."""
        return units[:, :-1] / self.scale + self.stage_bias

    def p_ml(self, scores: np.ndarray) -> np.ndarray:
        """Calibrated P(ml) of raw ml scores, rounded as stored."""
        z = np.clip(self.slope * np.asarray(scores, dtype=np.float64) + self.offset, -500, 500)
        return np.round(1.0 / (1.0 + np.exp(-z)), PROBABILITY_DIGITS)

    def _decide(self, units: np.ndarray) -> list[LayerPrediction]:
        """Predictions of questions given their units rows (stages, then ml)."""
        p_ml = self.p_ml(units[:, -1] / self.scale + self.ml_bias).tolist()
        yes = [k for k, p in enumerate(p_ml) if p >= self.threshold]
        out = [LayerPrediction(False, p, "none", None, None) for p in p_ml]
        if yes:
            probs = normalised_ovr(self.stage_scores(units[yes]), self.temperature)
            order = np.argsort(-probs, axis=1, kind="stable")[:, :RANKED].tolist()  # ties: the earlier class
            for k, row, ranked in zip(yes, probs.tolist(), order):
                stage2 = self.stages[ranked[1]] if row[ranked[1]] >= self.stage2_min else None
                out[k] = LayerPrediction(True, p_ml[k], self.stages[ranked[0]], stage2, tuple(row), tuple(ranked))
        return out

    def _hit_entry(self, hit: Hit) -> _HitEntry:
        """A hit's row (its count features' weights summed, appended to `_rows`) and term column."""
        row, term = -1, -1
        if hit.family in ALL_FAMILIES:
            summed = np.zeros(self.weights.shape[1])
            counted = False
            for name, amount in hit_parts(*hit):
                col = self.index.get(name)
                if col is None:
                    continue
                if name.startswith(TERM):
                    term = col
                else:
                    summed += self.weights[col] * amount
                    counted = True
            if counted:
                row = self._append_row(summed)
        entry = self._hit_cache[hit] = _HitEntry(row, term)
        return entry

    def _append_row(self, values: np.ndarray) -> int:
        if len(self._hit_cache) > 200_000:  # code hits carry matched text: bound the cache and the rows
            self._hit_cache.clear()
            self._rows, self._used = self.weights.copy(), len(self.features)
        if self._used == len(self._rows):
            self._rows = np.vstack([self._rows, np.zeros((max(1024, len(self._rows) // 2), self._rows.shape[1]))])
        self._rows[self._used] = values
        self._used += 1
        return self._used - 1


def _segment_sums(rows: np.ndarray, starts: list[int]) -> np.ndarray:
    """Sums of consecutive runs of `rows` beginning at `starts` (every run non-empty)."""
    return np.add.reduceat(rows, np.asarray(starts, dtype=np.intp), axis=0)


def normalised_ovr(scores: np.ndarray, temperature: float) -> np.ndarray:
    """Per-class logistic probabilities of one-vs-rest scores (questions x classes) at
    `temperature`, normalised per question and rounded to PROBABILITY_DIGITS."""
    p = 1.0 / (1.0 + np.exp(-np.clip(np.atleast_2d(scores) / temperature, -500, 500)))
    return np.round(p / p.sum(axis=1, keepdims=True), PROBABILITY_DIGITS)


def _columns(index: dict[str, int], prefix: str) -> dict[str, int]:
    return {name[len(prefix):]: col for name, col in index.items() if name.startswith(prefix)}
