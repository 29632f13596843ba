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
    """Sample `total` rows of an export table stratified by platform × stage, plus code columns."""
    rows = table.select(list(SAMPLE_COLUMNS)).to_pylist()
    strata: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: (r["site"], r["post_id"])):
        strata[stratum_of(row["platforms"], row["stage"])].append(row)
    counts = allocate({k: len(v) for k, v in strata.items()}, total)
    rng = random.Random(seed)
    picked: list[dict] = []
    for key in sorted(strata):
        chosen = rng.sample(strata[key], counts.get(key, 0))
        for row in sorted(chosen, key=lambda r: (r["site"], r["post_id"])):
            picked.append({"stratum_platform": key[0], "stratum_stage": key[1], **row})
    return _with_code_columns(picked)


def _with_code_columns(picked: list[dict]) -> pa.Table:
    columns = ["stratum_platform", "stratum_stage", *SAMPLE_COLUMNS]
    data: dict[str, list] = {c: [r[c] for r in picked] for c in columns}
    data["platforms"] = [";".join(p or []) for p in data["platforms"]]
    table = pa.table(data)
    for name in CODE_COLUMNS:
        table = table.append_column(name, pa.array([""] * len(picked), pa.string()))
    return table
