"""Simulated gold sets and groups with a known truth, to check that intervals cover it.

The truth is a confusion matrix like the product's (rows measured on gold questions, thin rows
shrunk toward a generic row so that a stage seen twice does not get an all-or-nothing row) and
a known distribution of true classes per group.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def smoothed_truth(counts: np.ndarray, diagonal: Sequence[int | None], strength: float = 20.0,
                   generic_recall: float = 0.3) -> np.ndarray:
    """A plausible true P(pred | true) from gold counts (K, J): each row is its counts plus
    `strength` pseudo-questions of a generic row (recall `generic_recall` on the row's own
    predicted class `diagonal[k]`, the rest spread like all observed errors)."""
    counts = np.asarray(counts, dtype=float)
    k, j = counts.shape
    errors = counts.copy()
    for row, col in enumerate(diagonal):
        if col is not None:
            errors[row, col] = 0.0
    spread = errors.sum(axis=0) + 1.0
    out = np.empty_like(counts)
    for row, col in enumerate(diagonal):
        generic = spread.copy()
        if col is not None:
            generic[col] = 0.0
        generic = (1 - generic_recall) * generic / generic.sum()
        if col is not None:
            generic[col] = generic_recall
        out[row] = (counts[row] + strength * generic) / (counts[row].sum() + strength)
    return out


def draw_gold(truth: np.ndarray, support: Sequence[int], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(true, pred) codes of a gold set with `support[k]` questions of true class k."""
    true = np.repeat(np.arange(truth.shape[0]), support)
    cum = np.cumsum(truth[true], axis=1)
    pred = np.minimum((rng.random(true.size)[:, None] > cum).sum(axis=1), truth.shape[1] - 1)
    return true, pred


def draw_group(truth: np.ndarray, shares: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """(J,) predicted counts of a group of `size` questions whose true classes have `shares`."""
    true_counts = rng.multinomial(size, shares)
    out = np.zeros(truth.shape[1])
    for k, n in enumerate(true_counts):
        if n:
            out += rng.multinomial(n, truth[k])
    return out
