"""A small trained layer over the rules: logistic regression that decides `ml`.

Why: the rules alone generalise worse than they score on the questions they were written on
(frozen rules: ml F1 0.94 on the half they were tuned on, 0.88 on the unseen half). A linear model
that weighs the same rule hits, plus the words of title and prose and the tags, learns how much
each signal is worth from labelled questions instead of from hand-set weights; measured on the
unseen half with the frozen rules it raised ml F1 from 0.881 to 0.926 (scripts/heldout_learned.sh).
The same kind of model for the primary stage did not beat the rules there (accuracy 0.529 vs 0.536,
macro-F1 0.39 vs 0.52: 104 examples for 11 stages), so the stage stays the rules' decision.

The model is data, not code: `pipeline/models/classifier-lr.v1.json` holds the feature names, the
coefficients and the ids of the questions it was trained on, written by scripts/train_classifier.py
(fixed folds and solver: rebuilt the same from the same gold file). Applying it needs numpy and
scipy only; fitting (sklearn) happens in that script and, for honest scores on training
questions, inside `stackmine evaluate` (pipeline/evaluate_learned.py).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from pipeline.errors import StackmineError
from pipeline.lexicon import Hit

MODEL_FILE = "classifier-lr.v1.json"
# The rule families whose hits are features (platform hits say where, not what the asker does).
FAMILIES = ("ml", "stages", "shape")
STRENGTH_WEIGHT = {"strong": 2.0, "weak": 1.0}
SIGNIFICANT = 6  # digits kept of each coefficient: the same file on any machine's BLAS


def hit_features(hits: list[Hit]) -> dict[str, float]:
    """Counts of rule hits per family/label/strength(/place), a strength-weighted sum per label,
    and one indicator per matched term: what the rules saw, without the rules' hand-set weights."""
    out: dict[str, float] = {}
    for family, label, strength, place, term in hits:
        if family not in FAMILIES:
            continue
        for name, value in _hit_parts(family, label, strength, place, term):
            out[name] = 1.0 if name.startswith("term|") else out.get(name, 0.0) + value
    return out


def _hit_parts(family: str, label: str, strength: str, place: str, term: str) -> list[tuple[str, float]]:
    return [(f"{family}|{label}|{strength}|{place}", 1.0), (f"{family}|{label}|{strength}", 1.0),
            (f"{family}|{label}", STRENGTH_WEIGHT.get(strength, 1.0)), (f"term|{family}|{label}|{term.lower()}", 1.0)]


def word_features(title_tokens: list[str], prose_tokens: list[str], tags: list[str]) -> dict[str, float]:
    """Presence of each word of the title (t:), of the prose (p:) and of each tag (tag:)."""
    out = {f"t:{w}": 1.0 for w in title_tokens}
    out.update({f"p:{w}": 1.0 for w in prose_tokens})
    out.update({f"tag:{t.lower()}": 1.0 for t in tags})
    return out


def question_features(hits: list[Hit], title_tokens: list[str], prose_tokens: list[str],
                      tags: list[str]) -> dict[str, float]:
    """All features of one question (the definition `LearnedModel.predict_questions` computes fast)."""
    out = word_features(title_tokens, prose_tokens, tags)
    out.update(hit_features(hits))
    return out


def applies_to(features_or_hits: dict[str, float] | list[Hit]) -> bool:
    """Whether the layer decides a question: only when the rules found at least one ML term.

    Without any ML term the answer is no, as the rules say; 173 of the 300 dev questions have
    none (3 of them gold ml=yes), 61% of the SEDE sample: skipping them keeps classify's speed.
    """
    if isinstance(features_or_hits, dict):
        return "ml|ml" in features_or_hits
    return any(hit.family == "ml" for hit in features_or_hits)


def round_significant(values: np.ndarray) -> np.ndarray:
    """Coefficients rounded to SIGNIFICANT digits, as the model file stores them."""
    return np.array([float(f"{v:.{SIGNIFICANT}g}") for v in np.asarray(values, dtype=float).ravel()]).reshape(
        np.shape(values))


@dataclass(frozen=True)
class Prediction:
    """The layer's ml label for one question and the probability behind it (for evidence)."""

    ml: bool
    p_ml: float


class LearnedModel:
    """The trained coefficients; `predict_questions` labels a batch of questions at once."""

    def __init__(self, spec: dict) -> None:
        self.spec = spec
        self.version: str = spec["version"]
        self.features: list[str] = spec["features"]
        self.training: dict = spec["training"]
        self.weights = np.asarray(spec["ml"]["coef"], dtype=np.float64)
        self.bias = float(spec["ml"]["intercept"])
        index = {name: i for i, name in enumerate(self.features)}
        self.index = index
        self.title_vocab = {n[2:]: i for n, i in index.items() if n.startswith("t:")}
        self.prose_vocab = {n[2:]: i for n, i in index.items() if n.startswith("p:")}
        self.tag_vocab = {n[4:]: i for n, i in index.items() if n.startswith("tag:")}
        self.title_words = frozenset(self.title_vocab)
        self.prose_words = frozenset(self.prose_vocab)
        self._hit_cache: dict[Hit, tuple[tuple[int, ...], tuple[int, ...], tuple[float, ...]]] = {}

    @classmethod
    def load(cls, path: Path | None = None) -> "LearnedModel":
        """The shipped model (pipeline/models/classifier-lr.v1.json) or the file at `path`."""
        resource = path or resources.files("pipeline") / "models" / MODEL_FILE
        try:
            return cls(json.loads(resource.read_text(encoding="utf-8")))
        except FileNotFoundError as err:
            raise StackmineError(f"{resource}: trained classifier layer missing. Reinstall stackmine or rebuild "
                                 "it with scripts/train_classifier.py.") from err

    def training_ids(self) -> set[tuple[str, int]]:
        """(site, post_id) of every question the coefficients were fitted on."""
        return {(site, int(post_id)) for site, post_id in self.training["ids"]}

    def predict_questions(self, found: list[list[Hit]], words: list[tuple[list[str], list[str]]],
                          tags: list[list[str]], applies: list[bool]) -> list[Prediction | None]:
        """Labels of a batch of questions from their rule hits, (title, prose) tokens and tags;
        None for the questions where `applies` is false (see `applies_to`).

        The same features as `question_features`, restricted to the model's: indicator columns
        (words, tags, matched terms) once each, count columns once per distinct hit. Per question
        only set lookups and list appends; the arithmetic is one sparse product per batch.
        """
        cols: list[int] = []
        vals: list[float] = []
        indptr = [0]
        title_words, prose_words, tag_vocab, cache = self.title_words, self.prose_words, self.tag_vocab, self._hit_cache
        title_col, prose_col = self.title_vocab.__getitem__, self.prose_vocab.__getitem__
        chosen = [i for i, yes in enumerate(applies) if yes]
        for i in chosen:
            hits, (title, prose), tag_list = found[i], words[i], tags[i]
            cols.extend(map(title_col, title_words.intersection(title)))
            cols.extend(map(prose_col, prose_words.intersection(prose)))
            cols.extend(tag_vocab[t] for t in map(str.lower, tag_list) if t in tag_vocab)
            vals.extend([1.0] * (len(cols) - len(vals)))
            terms: set[int] = set()  # a term found in title and prose is one indicator
            for hit in hits:
                parts = cache.get(hit)
                if parts is None:
                    parts = self._hit_columns(hit)
                terms.update(parts[0])
                cols.extend(parts[1])
                vals.extend(parts[2])
            cols.extend(terms)
            vals.extend([1.0] * (len(cols) - len(vals)))
            indptr.append(len(cols))
        out: list[Prediction | None] = [None] * len(found)
        for i, prediction in zip(chosen, self.predict_csr(cols, vals, indptr)):
            out[i] = prediction
        return out

    def _hit_columns(self, hit: Hit) -> tuple[tuple[int, ...], tuple[int, ...], tuple[float, ...]]:
        """A hit's indicator columns, and its count columns with the amount each adds."""
        ones: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        if hit.family in FAMILIES:
            for name, value in _hit_parts(*hit):
                col = self.index.get(name)
                if col is None:
                    continue
                if name.startswith("term|"):
                    ones.append(col)
                else:
                    cols.append(col)
                    vals.append(value)
        if len(self._hit_cache) > 200_000:  # code hits carry matched text: bound the cache
            self._hit_cache.clear()
        parts = (tuple(ones), tuple(cols), tuple(vals))
        self._hit_cache[hit] = parts
        return parts

    def predict_entries(self, rows: list[int], cols: list[int], vals: list[float], n: int) -> list[Prediction]:
        """Labels of `n` questions given as (row, column, value) entries, rows in ascending order."""
        indptr = np.concatenate([[0], np.cumsum(np.bincount(np.asarray(rows, dtype=np.int64), minlength=n))])
        return self.predict_csr(cols, vals, indptr.tolist())

    def predict_csr(self, cols: list[int], vals: list[float], indptr: list[int]) -> list[Prediction]:
        """Labels of the questions whose entries are cols/vals[indptr[i]:indptr[i + 1]]; a column
        repeated in a row adds up. Repeats are summed and columns sorted before the product: the
        repeated values are small whole numbers (exact in any order), and the product then adds
        in column order, so the probabilities in the evidence do not depend on set iteration order
        (which changes with Python's string hashing from process to process)."""
        from scipy.sparse import csr_matrix

        matrix = csr_matrix((np.asarray(vals, dtype=np.float64), np.asarray(cols, dtype=np.int64),
                             np.asarray(indptr, dtype=np.int64)), shape=(len(indptr) - 1, len(self.features)))
        matrix.sum_duplicates()
        scores = np.asarray(matrix @ self.weights).ravel() + self.bias
        p_ml = 1.0 / (1.0 + np.exp(-scores))
        return [Prediction(p >= 0.5, round(p, 3)) for p in p_ml.tolist()]


def gold_sha256(path: Path) -> str:
    """Content hash of a gold file: says whether a gold file is the one the model was trained on."""
    return hashlib.sha256(path.read_bytes()).hexdigest()
