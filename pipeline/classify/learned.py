"""A small trained layer over the rules: logistic regression that decides `ml`.

Why: the rules alone generalise worse than they score on the questions they were written on. A
linear model over the same rule hits, plus the title's words, the lexicon's words found anywhere
in the question and the tags, learns how much each signal is worth from labelled questions
instead of from hand-set weights (measured figures: README, "Classifier quality"). The layer only
decides where the rules found an ML term but are not sure (`pipeline.classify.decide.layer_applies`).

The model is data, not code: `pipeline/classify/models/classifier-lr.v1.json` holds the feature names, the
coefficients and the ids of the questions it was trained on, written by scripts/train_classifier.py
(fixed solver, C, cut-off, rounding: rebuilt byte for byte from the same gold file). Applying it is
plain Python (dict lookups, one `math.fsum`); fitting (scikit-learn) happens in that script and,
for honest scores on training questions, inside `stackmine evaluate` (pipeline/evaluate/honesty.py).
"""

from __future__ import annotations

import hashlib
import json
import math
from importlib import resources
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

import numpy as np

from pipeline.core.errors import StackmineError
from pipeline.classify.lexicon import Hit

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


def word_features(title_tokens: Iterable[str], lexicon_words: Iterable[str], tags: list[str]) -> dict[str, float]:
    """Presence of each title word (t:), of each lexicon word found in title, prose or inline code
    (w:, the set the scanner computes anyway, so this costs nothing extra) and of each tag (tag:)."""
    out = {f"t:{w}": 1.0 for w in title_tokens}
    out.update({f"w:{w}": 1.0 for w in lexicon_words})
    out.update({f"tag:{t.lower()}": 1.0 for t in tags})
    return out


def question_features(hits: list[Hit], title_tokens: Iterable[str], lexicon_words: Iterable[str],
                      tags: list[str]) -> dict[str, float]:
    """All features of one question: the definition `LearnedModel.predict_questions` computes fast
    (and `predict_features` directly, for fitting and checking)."""
    out = word_features(title_tokens, lexicon_words, tags)
    out.update(hit_features(hits))
    return out


def applies_to(features_or_hits: dict[str, float] | list[Hit]) -> bool:
    """Whether the layer can decide a question: only when the rules found at least one ML term.

    Without any ML term the answer is no, as the rules say; most questions of a data-science
    site have none, and skipping them keeps classify's speed.
    The whole gate (also: the rules not already sure) is `pipeline.classify.decide.layer_applies`.
    """
    if isinstance(features_or_hits, dict):
        return "ml|ml" in features_or_hits
    return any(hit.family == "ml" for hit in features_or_hits)


def round_significant(values: np.ndarray) -> np.ndarray:
    """Coefficients rounded to SIGNIFICANT digits, as the model file stores them."""
    return np.array([float(f"{v:.{SIGNIFICANT}g}") for v in np.asarray(values, dtype=float).ravel()]).reshape(
        np.shape(values))


class Prediction(NamedTuple):
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
        self.weight_list: list[float] = self.weights.tolist()
        self.title_weight = {n[2:]: self.weight_list[i] for n, i in index.items() if n.startswith("t:")}
        self.word_weight = {n[2:]: self.weight_list[i] for n, i in index.items() if n.startswith("w:")}
        self.tag_weight = {n[4:]: self.weight_list[i] for n, i in index.items() if n.startswith("tag:")}
        self.title_words = frozenset(self.title_weight)
        self.lexicon_words = frozenset(self.word_weight)
        self._hit_cache: dict[Hit, tuple[float, int]] = {}

    @classmethod
    def load(cls, path: Path | None = None) -> "LearnedModel":
        """The shipped model (pipeline/classify/models/classifier-lr.v1.json) or the file at `path`."""
        resource = path or resources.files("pipeline.classify") / "models" / MODEL_FILE
        try:
            return cls(json.loads(resource.read_text(encoding="utf-8")))
        except FileNotFoundError as err:
            raise StackmineError(f"{resource}: trained classifier layer missing. Reinstall stackmine or rebuild "
                                 "it with scripts/train_classifier.py.") from err

    def training_ids(self) -> set[tuple[str, int]]:
        """(site, post_id) of every question the coefficients were fitted on."""
        return {(site, int(post_id)) for site, post_id in self.training["ids"]}

    def predict_questions(self, found: list[list[Hit]], words: list[tuple[list[str], set[str]] | None],
                          tags: list[list[str]], applies: list[bool]) -> list[Prediction | None]:
        """Labels of a batch of questions from their rule hits, (title tokens, lexicon words
        present) as `Scanner.layer_words` gives them (None is fine where the layer does not
        apply) and tags; None for the questions where `applies` is false.

        The model is linear, so a question's score is the sum of the weights of its features:
        each word, tag and matched term once (sets), and each distinct hit's count features, whose
        weights are summed once per hit and cached. Per question only set lookups and one
        `math.fsum` (exact, so the sum does not depend on set iteration order, which changes with
        Python's string hashing from process to process).
        """
        title_words, lexicon_words, cache = self.title_words, self.lexicon_words, self._hit_cache
        title_w, word_w, tag_w, w = (self.title_weight.__getitem__, self.word_weight.__getitem__, self.tag_weight,
                                     self.weight_list.__getitem__)
        out: list[Prediction | None] = [None] * len(found)
        bias, fsum = self.bias, math.fsum
        for i, yes in enumerate(applies):
            if not yes:
                continue
            title, present = words[i]
            parts = list(map(title_w, title_words.intersection(title)))
            parts += map(word_w, lexicon_words.intersection(present))
            parts += {t: tag_w[t] for t in map(str.lower, tags[i]) if t in tag_w}.values()
            terms: set[int] = set()  # a term found in title and prose is one indicator
            for hit in found[i]:
                value, term = cache.get(hit) or self._hit_value(hit)
                parts.append(value)
                if term >= 0:
                    terms.add(term)
            parts += map(w, terms)
            out[i] = _prediction(fsum(parts) + bias)
        return out

    def _hit_value(self, hit: Hit) -> tuple[float, int]:
        """A hit's summed count-feature weights, and its term indicator column (-1: none)."""
        value, term = 0.0, -1
        if hit.family in FAMILIES:
            for name, amount in _hit_parts(*hit):
                col = self.index.get(name)
                if col is None:
                    continue
                if name.startswith("term|"):
                    term = col
                else:
                    value += self.weight_list[col] * amount
        if len(self._hit_cache) > 200_000:  # code hits carry matched text: bound the cache
            self._hit_cache.clear()
        self._hit_cache[hit] = (value, term)
        return value, term

    def predict_features(self, features: list[dict[str, float]]) -> list[Prediction]:
        """Labels from named features (`question_features`): the definition `predict_questions`
        computes fast; used to fit and check (evaluate's out-of-fold labels, held-out estimates)."""
        index, w = self.index, self.weight_list
        return [_prediction(math.fsum(w[index[n]] * v for n, v in one.items() if n in index) + self.bias)
                for one in features]


def _prediction(score: float) -> Prediction:
    p_ml = 1.0 / (1.0 + math.exp(-score)) if score > -500 else 0.0
    return Prediction(p_ml >= 0.5, round(p_ml, 3))


def gold_sha256(path: Path) -> str:
    """Content hash of a gold file: says whether a gold file is the one the model was trained on."""
    return hashlib.sha256(path.read_bytes()).hexdigest()
