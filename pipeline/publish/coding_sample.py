"""A stratified random sample of exported questions for human (qualitative) coding.

Strata are platform × stage so rare cells (say, Databricks questions about deployment) are not
drowned by the common ones: each non-empty stratum gets at least one question when the sample is
large enough, the rest is shared in proportion to stratum size (largest remainder). The draw is
seeded and runs over rows in (site, post_id) order, so the same seed gives the same sample.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict

import pyarrow as pa

# Empty columns the coders fill in; names mirror the codebook's label names.
CODE_COLUMNS = ("code_platforms", "code_ml", "code_stage", "code_stage2", "coder", "memo")

# What a coder needs to find and read the post, and what the classifier said (to compare with).
SAMPLE_COLUMNS = (
    "site", "post_id", "post_url", "title", "platforms", "ml", "stage", "stage2",
    "license", "author_display_name", "author_profile_url",
)


def stratum_of(platforms: list[str] | None, stage: str) -> tuple[str, str]:
    """(platform, stage) of one question: the first of its sorted platforms, or 'none'.

    A question on two platforms falls in one stratum only, so it cannot be drawn twice.
    """
    return (sorted(platforms)[0] if platforms else "none", stage)


def allocate(sizes: dict[tuple[str, str], int], total: int) -> dict[tuple[str, str], int]:
    """How many to draw per stratum: ≥1 each when total allows, rest proportional (largest remainder)."""
    population = sum(sizes.values())
    if total >= population:
        return dict(sizes)
    keys = sorted(k for k, n in sizes.items() if n > 0)
    if total < len(keys):
        # Too few draws for one per stratum: give them to the largest strata.
        ranked = sorted(keys, key=lambda k: (-sizes[k], k))[:total]
        return {k: int(k in ranked) for k in keys}
    counts = {k: 1 for k in keys}
    remaining = total - len(keys)
    spare = {k: sizes[k] - 1 for k in keys}
    spare_total = sum(spare.values())
    quotas = {k: remaining * spare[k] / spare_total for k in keys}
    for k in keys:
        counts[k] += math.floor(quotas[k])
    leftover = total - sum(counts.values())
    by_remainder = sorted(keys, key=lambda k: (-(quotas[k] - math.floor(quotas[k])), k))
    for k in by_remainder[:leftover]:
        counts[k] += 1
    return counts


def draw(table: pa.Table, total: int, seed: int) -> pa.Table:
    """Sample `total` rows of an export table stratified by platform × stage, plus code columns.

    Only the four key columns are read row by row; the chosen rows are taken from the table.
    """
    keys = table.select(["site", "post_id", "platforms", "stage"]).to_pylist()
    order = sorted(range(len(keys)), key=lambda i: (keys[i]["site"], keys[i]["post_id"]))
    strata: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i in order:
        strata[stratum_of(keys[i]["platforms"], keys[i]["stage"])].append(i)
    counts = allocate({k: len(v) for k, v in strata.items()}, total)
    rng = random.Random(seed)
    picked: list[int] = []
    labels: list[tuple[str, str]] = []
    for key in sorted(strata):
        drawn = set(rng.sample(strata[key], counts.get(key, 0)))
        chosen = [i for i in strata[key] if i in drawn]  # back in (site, post_id) order
        picked.extend(chosen)
        labels.extend([key] * len(chosen))
    sample = table.take(pa.array(picked, pa.int64())).select(list(SAMPLE_COLUMNS))
    sample = sample.add_column(0, "stratum_stage", pa.array([k[1] for k in labels], pa.string()))
    sample = sample.add_column(0, "stratum_platform", pa.array([k[0] for k in labels], pa.string()))
    for name in CODE_COLUMNS:
        sample = sample.append_column(name, pa.array([""] * len(picked), pa.string()))
    return sample
