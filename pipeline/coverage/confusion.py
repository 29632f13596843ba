"""The classifier's misclassification model, P(predicted class | true class), from gold pairs.

Rows are estimated from out-of-fold (true, predicted) pairs of hand-labelled questions: scoring a
classifier on the questions it was fitted or tuned on would make it look better than it is, and
every correction downstream would then under-correct.

True and predicted classes are separate label sets on purpose. The product's stage classifier
predicts 15 stages plus `none` (the question was judged not ML), and a group is drawn from
questions it labelled; modelling a true class `not-ml` and a predicted class `none` lets the
correction undo both stage errors and the ML filter's stage-dependent losses. Square 15 x 15
matrices are the special case.

Sample weights make the gold set stand for the population it was drawn from: dev.csv, for one,
over-samples notebook questions, so P(pred | true) measured without stratum weights would describe
notebook questions more than the rest whenever the classifier behaves differently on them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.core.errors import CoverageError


@dataclass(frozen=True)
class Gold:
    """Gold pairs as integer codes, ready for repeated re-weighting by the bootstrap.

    Exactly one of `pred` (hard labels) and `probs` (one probability vector per question over
    `pred_classes`) is set. `weight` is the design weight of each question (1 when the gold set
    is a simple random sample); `stratum` numbers the sampling strata, which the bootstrap keeps
    at their sampled sizes.
    """

    true: np.ndarray
    pred: np.ndarray | None
    probs: np.ndarray | None
    weight: np.ndarray
    stratum: np.ndarray
    true_classes: tuple[str, ...]
    pred_classes: tuple[str, ...]

    @property
    def n(self) -> int:
        """Number of gold questions."""
        return int(self.true.shape[0])

    def soft(self) -> np.ndarray:
        """(n, J) prediction of each question: its probability vector, or one-hot of its label."""
        if self.probs is not None:
            return self.probs
        out = np.zeros((self.n, len(self.pred_classes)))
        out[np.arange(self.n), self.pred] = 1.0
        return out

    def support(self) -> np.ndarray:
        """(K,) number of gold questions of each true class (unweighted: what the estimate rests on)."""
        return np.bincount(self.true, minlength=len(self.true_classes))


def _codes(labels: Sequence[str], classes: Sequence[str], what: str) -> np.ndarray:
    index = {c: i for i, c in enumerate(classes)}
    unknown = sorted({str(x) for x in labels if x not in index})
    if unknown:
        raise CoverageError(f"{what}: labels {unknown[:5]} are not in the class list {list(classes)}")
    return np.fromiter((index[x] for x in labels), dtype=np.int64, count=len(labels))


def make_gold(
    true_labels: Sequence[str],
    pred_labels: Sequence[str] | None = None,
    *,
    true_classes: Sequence[str],
    pred_classes: Sequence[str],
    probs: np.ndarray | None = None,
    weights: Sequence[float] | None = None,
    strata: Sequence[object] | None = None,
) -> Gold:
    """Check and encode gold pairs (labels given as strings, in any order of questions)."""
    if (pred_labels is None) == (probs is None):
        raise CoverageError("give predicted labels or predicted probabilities, not both or neither")
    true = _codes(list(true_labels), true_classes, "gold true labels")
    n = true.shape[0]
    if n == 0:
        raise CoverageError("the gold set is empty: a confusion matrix needs labelled questions")
    pred = _codes(list(pred_labels), pred_classes, "gold predicted labels") if pred_labels is not None else None
    if probs is not None:
        probs = np.asarray(probs, dtype=float)
        if probs.shape != (n, len(pred_classes)) or np.any(probs < 0):
            raise CoverageError(f"probs must be a non-negative ({n}, {len(pred_classes)}) array")
        probs = probs / probs.sum(axis=1, keepdims=True)
    if pred is not None and pred.shape[0] != n:
        raise CoverageError(f"{n} true labels but {pred.shape[0]} predicted labels")
    weight = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    if weight.shape != (n,) or np.any(weight <= 0):
        raise CoverageError("weights must be one positive number per gold question")
    if strata is None:
        stratum = np.zeros(n, dtype=np.int64)
    else:
        if len(strata) != n:
            raise CoverageError(f"{n} gold questions but {len(strata)} strata")
        _, stratum = np.unique(np.asarray([str(s) for s in strata]), return_inverse=True)
    return Gold(true, pred, probs, weight, stratum.astype(np.int64), tuple(true_classes), tuple(pred_classes))


def stratum_weights(strata: Sequence[object], population_sizes: dict[object, float]) -> np.ndarray:
    """Design weight N_h / n_h of each question of a stratified sample (population size over sample size)."""
    labels = list(strata)
    counts: dict[object, int] = {}
    for s in labels:
        counts[s] = counts.get(s, 0) + 1
    missing = sorted(str(s) for s in counts if s not in population_sizes)
    if missing:
        raise CoverageError(f"no population size for strata {missing}")
    return np.array([population_sizes[s] / counts[s] for s in labels], dtype=float)


@dataclass(frozen=True)
class Confusion:
    """Row-stochastic P(predicted j | true k), with what each row rests on.

    `support` counts gold questions per true class; a row with no support is uniform (nothing is
    known about how that class is predicted) and must not be trusted by any verdict.
    """

    matrix: np.ndarray
    support: np.ndarray
    true_classes: tuple[str, ...]
    pred_classes: tuple[str, ...]

    def recall(self) -> dict[str, float]:
        """P(predicted = k | true = k) for every true class that is also a predicted class."""
        return {c: float(self.matrix[k, self.pred_classes.index(c)])
                for k, c in enumerate(self.true_classes) if c in self.pred_classes}


def weighted_rows(gold: Gold, obs_weight: np.ndarray, prior: float = 0.0) -> np.ndarray:
    """(..., K, J) confusion rows under observation weights (..., n), e.g. bootstrap replicates.

    `prior` adds that many pseudo-questions per row spread evenly over the J predicted classes:
    a row then never has an impossible (zero) cell that a small gold sample merely did not show,
    and a row with no gold question at all is uniform instead of undefined.
    """
    k, j = len(gold.true_classes), len(gold.pred_classes)
    w = np.asarray(obs_weight, dtype=float) * gold.weight
    # each question's prediction placed in its true class's block of a (K * J) row: all
    # replicates' joint counts are then one matrix product (far faster than einsum or bincount)
    cells = np.zeros((gold.n, k, j))
    cells[np.arange(gold.n), gold.true] = gold.soft()
    joint = (w @ cells.reshape(gold.n, k * j)).reshape(w.shape[:-1] + (k, j))
    totals = joint.sum(axis=-1, keepdims=True)
    denominator = totals + prior
    empty = denominator == 0
    rows = (joint + prior / j) / np.where(empty, 1.0, denominator)
    return np.where(empty, 1.0 / j, rows)


def estimate_confusion(gold: Gold, prior: float = 0.0) -> Confusion:
    """The point estimate of P(pred | true): weighted row frequencies (no smoothing by default,
    so a perfect classifier gives exactly the identity and the correction leaves shares unchanged)."""
    matrix = weighted_rows(gold, np.ones(gold.n), prior)
    return Confusion(matrix, gold.support(), gold.true_classes, gold.pred_classes)


def pool_true_classes(gold: Gold, min_support: int, pooled_name: str, keep: Sequence[str] = ()) -> tuple[Gold, dict[str, str]]:
    """Merge true classes with fewer than `min_support` gold questions into one class.

    A row estimated from two or three questions is noise, and a wrong row leaks into every other
    class's correction. The pooled row is estimated from all their questions together; its share
    bounds each member's share from above, which is still enough to call a member rare. Classes in
    `keep` (e.g. `not-ml`) are never pooled. Returns the re-coded gold and class -> estimated class.
    """
    support = gold.support()
    small = [c for i, c in enumerate(gold.true_classes) if support[i] < min_support and c not in keep]
    if len(small) == 0:
        return gold, {c: c for c in gold.true_classes}
    kept = [c for c in gold.true_classes if c not in small]
    new_classes = tuple(kept + [pooled_name])
    mapping = {c: (pooled_name if c in small else c) for c in gold.true_classes}
    recode = np.array([new_classes.index(mapping[c]) for c in gold.true_classes], dtype=np.int64)
    pooled = Gold(recode[gold.true], gold.pred, gold.probs, gold.weight, gold.stratum, new_classes, gold.pred_classes)
    return pooled, mapping
