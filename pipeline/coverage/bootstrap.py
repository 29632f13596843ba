"""Bootstrap replicates that carry both sources of uncertainty into the corrected shares.

Each replicate b re-draws (1) the gold set, giving a confusion matrix C_b, and (2) the group's
questions, giving a predicted distribution q_b; the corrected shares are then solved for (q_b, C_b).
Percentiles of the replicates are the interval. Both groups of a comparison (notebook and
baseline) use the same C_b in replicate b: they are labelled by the same classifier, so its error
is shared, and the difference notebook - baseline must not count it twice.

Assumptions (the intervals mean nothing without them):
- prior-probability shift: P(predicted | true) is the same in the gold sample (after its design
  weights) and in every group; only the mix of true classes differs;
- gold labels are correct (disagreement between coders is not modelled);
- questions are independent draws, within the gold set and within each group;
- groups are defined by labels taken as given (a question's platform is not re-estimated).

Re-draws are Bayesian bootstraps by default (Rubin 1981): every question gets a Gamma(1)
weight instead of a whole-number count. With whole-number re-draws a gold row with one example
would be the same in every replicate and a predicted class a group never showed would never
appear, which makes intervals too narrow exactly where the data are thinnest; a small prior
(`gold_prior` pseudo-questions per confusion row, `group_prior` per predicted class of a group)
lets a replicate visit what the sample merely did not show. Strata of the gold set keep their
sampled weight in every replicate, as the design fixed them.
"""

from __future__ import annotations

from dataclasses import dataclass
import zlib

import numpy as np

from pipeline.coverage.confusion import Gold, weighted_rows
from pipeline.core.errors import CoverageError
from pipeline.coverage.quantify import solve_ls, solve_ml

SCHEMES = ("bayesian", "multinomial")


@dataclass(frozen=True)
class BootstrapConfig:
    """How replicates are drawn. Defaults are what the coverage simulations validated (README, "Stage coverage")."""

    replicates: int = 2000
    seed: int = 20261203
    gold_scheme: str = "bayesian"
    group_scheme: str = "bayesian"
    gold_prior: float = 1.0
    group_prior: float = 0.5
    method: str = "ml"

    def __post_init__(self) -> None:
        if self.gold_scheme not in SCHEMES or self.group_scheme not in SCHEMES:
            raise CoverageError(f"resampling schemes are {SCHEMES}")
        if self.method not in ("ml", "ls"):
            raise CoverageError("method is 'ml' (maximum likelihood) or 'ls' (least squares)")
        if self.replicates < 100:
            raise CoverageError("fewer than 100 replicates cannot give a 95% percentile interval")


def rng_for(config: BootstrapConfig, key: str) -> np.random.Generator:
    """A generator that depends only on the seed and a name, so a group's replicates are the same
    whatever other groups are in the table and in whatever order they are computed."""
    return np.random.default_rng([config.seed, zlib.crc32(key.encode("utf-8"))])


def gold_weights(gold: Gold, config: BootstrapConfig) -> np.ndarray:
    """(B, n) re-draw weights of the gold questions, each stratum keeping its sampled total."""
    rng = rng_for(config, "gold")
    b, n = config.replicates, gold.n
    if config.gold_scheme == "bayesian":
        raw = rng.standard_exponential((b, n))
    else:
        raw = np.zeros((b, n))
        for h in np.unique(gold.stratum):
            members = np.flatnonzero(gold.stratum == h)
            picks = rng.integers(0, members.size, size=(b, members.size))
            np.add.at(raw, (np.arange(b)[:, None], members[picks]), 1.0)
    strata = np.zeros((n, int(gold.stratum.max()) + 1))
    strata[np.arange(n), gold.stratum] = 1.0
    scale = strata.sum(axis=0) / (raw @ strata)  # (B, H): sampled size over re-drawn total
    return raw * scale[:, gold.stratum]


def confusion_replicates(gold: Gold, config: BootstrapConfig) -> np.ndarray:
    """(B, K, J) confusion matrices, one per gold re-draw (computed once per table)."""
    return weighted_rows(gold, gold_weights(gold, config), config.gold_prior)


def group_replicates(counts: np.ndarray, config: BootstrapConfig, key: str) -> np.ndarray:
    """(B, J) predicted-class shares of a group re-drawn from its counts per predicted class."""
    counts = np.asarray(counts, dtype=float)
    if counts.ndim != 1 or np.any(counts < 0):
        raise CoverageError("group counts must be one non-negative number per predicted class")
    rng = rng_for(config, key)
    if config.group_scheme == "bayesian":
        # Dirichlet(counts + prior) is the Bayesian bootstrap of the questions with `prior`
        # pseudo-questions in each predicted class
        draws = rng.gamma(counts + config.group_prior, size=(config.replicates, counts.size))
    else:
        total = int(round(counts.sum()))
        draws = rng.multinomial(total, counts / counts.sum(), size=config.replicates).astype(float)
        draws += config.group_prior
    return draws / draws.sum(axis=1, keepdims=True)


def group_replicates_probs(probs: np.ndarray, config: BootstrapConfig, key: str) -> np.ndarray:
    """(B, J) mean probability vectors of a group re-drawn question by question (for PACC)."""
    probs = np.asarray(probs, dtype=float)
    rng = rng_for(config, key)
    n = probs.shape[0]
    if config.group_scheme == "bayesian":
        w = rng.standard_exponential((config.replicates, n))
    else:
        w = np.zeros((config.replicates, n))
        np.add.at(w, (np.arange(config.replicates)[:, None], rng.integers(0, n, (config.replicates, n))), 1.0)
    prior = config.group_prior / probs.shape[1]
    out = w @ probs + prior
    return out / out.sum(axis=1, keepdims=True)


def solve(q: np.ndarray, c: np.ndarray, config: BootstrapConfig, init: np.ndarray | None = None) -> np.ndarray:
    """Corrected shares for a batch, by the configured method."""
    if config.method == "ml":
        return solve_ml(q, c, init=init, tol=1e-9)
    return solve_ls(q, c, tol=1e-9)


def percentile_interval(reps: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Equal-tailed percentile interval over axis 0 (replicates) at `level`."""
    alpha = 1.0 - level
    lo, hi = np.quantile(reps, [alpha / 2, 1 - alpha / 2], axis=0)
    return lo, hi


def two_sided_p(diff_reps: np.ndarray) -> np.ndarray:
    """Bootstrap p-value of 'the difference is 0', per column: twice the smaller tail, with the
    +1 of Davison & Hinkley so it is never 0. It is dual to the percentile interval: the interval
    at level 1 - a excludes 0 exactly when p < a (up to the +1 and ties)."""
    b = diff_reps.shape[0]
    below = (np.sum(diff_reps <= 0, axis=0) + 1) / (b + 1)
    above = (np.sum(diff_reps >= 0, axis=0) + 1) / (b + 1)
    p = np.minimum(1.0, 2 * np.minimum(below, above))
    return np.where(np.isnan(diff_reps).any(axis=0), np.nan, p)  # an empty group has no test
