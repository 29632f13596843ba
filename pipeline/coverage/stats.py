"""Stage coverage statistics: shares, their difference, a 95% interval, and a verdict.

Pure functions over counts, so the arithmetic is checked exactly in tests.

Interval: Newcombe's hybrid score interval for a difference of two independent proportions
(Newcombe 1998, method 10), built from the two Wilson score intervals; it behaves at 0 and small
n, where the normal (Wald) approximation collapses to a zero-width interval.

Verdict rule (per stage and group):
- skipped: no notebook ML question has this primary stage (n_notebook = 0);
- under-discussed: some do, but the notebook share is significantly lower than the baseline's
  (upper end of the 95% interval of share_notebook - share_baseline below 0);
- discussed: otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Z95 = 1.959963984540054


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of k successes in n trials (n > 0)."""
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    # at k = 0 (k = n) the bound is exactly 0 (1); rounding would leave it a hair off, which
    # gives a negative error bar in plots that draw share - lower
    lower = 0.0 if k == 0 else max(0.0, centre - half)
    upper = 1.0 if k == n else min(1.0, centre + half)
    return lower, upper


def newcombe(k1: int, n1: int, k2: int, n2: int, z: float = Z95) -> tuple[float, float, float]:
    """(difference p1 - p2, lower, upper) by Newcombe's hybrid score method."""
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson(k1, n1, z)
    l2, u2 = wilson(k2, n2, z)
    diff = p1 - p2
    lower = diff - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    upper = diff + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return diff, lower, upper


@dataclass(frozen=True)
class StageCount:
    """One stage's counts in one group: the notebook population against the baseline."""

    stage: str
    n_notebook: int
    total_notebook: int
    n_baseline: int
    total_baseline: int


@dataclass(frozen=True)
class StageCoverage:
    """Shares, difference with its interval, and verdict for one stage in one group."""

    stage: str
    n_notebook: int
    total_notebook: int
    share_notebook: float | None
    n_baseline: int
    total_baseline: int
    share_baseline: float | None
    diff: float | None
    ci_low: float | None
    ci_high: float | None
    verdict: str


def verdict(n_notebook: int, ci_high: float | None) -> str:
    """The rule in the module docstring."""
    if n_notebook == 0:
        return "skipped"
    if ci_high is not None and ci_high < 0:
        return "under-discussed"
    return "discussed"


def coverage(count: StageCount) -> StageCoverage:
    """Shares and the Newcombe interval; None where a population is empty."""
    share_nb = count.n_notebook / count.total_notebook if count.total_notebook else None
    share_base = count.n_baseline / count.total_baseline if count.total_baseline else None
    diff = low = high = None
    if count.total_notebook and count.total_baseline:
        diff, low, high = newcombe(count.n_notebook, count.total_notebook, count.n_baseline, count.total_baseline)
    return StageCoverage(
        count.stage,
        count.n_notebook,
        count.total_notebook,
        share_nb,
        count.n_baseline,
        count.total_baseline,
        share_base,
        diff,
        low,
        high,
        verdict(count.n_notebook, high),
    )
