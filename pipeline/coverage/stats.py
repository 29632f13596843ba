"""Intervals of raw proportions: the classifier's counts taken as true, sampling error only.

The corrected shares and the verdicts are pipeline/coverage/estimates.py and verdicts.py; these
intervals stand beside them as the raw view (what the counts alone would say).

Newcombe's hybrid score interval for a difference of two independent proportions (Newcombe
1998, method 10), built from the two Wilson score intervals; it behaves at 0 and small n, where
the normal (Wald) approximation collapses to a zero-width interval.
"""

from __future__ import annotations

import math

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
