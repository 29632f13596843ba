"""A stratified random sample of exported questions for human coding: a blind sheet by default.

Strata are platform × stage so rare cells (say, Databricks questions about deployment) are not
drowned by the common ones: each non-empty stratum gets at least one question when the sample is
large enough, the rest is shared in proportion to stratum size (largest remainder). The draw is
seeded and runs over rows in (site, post_id) order, so the same seed gives the same sample.

The strata come from the machine's labels, so the blind sheet (`blind`) must not show them: it
has no label columns, no stratum columns, and its rows are in (site, post_id) order, not grouped
by stratum. A coder reads what the gold annotators read (the body as plain text cut at
BODY_CHARS characters, data/gold/README.md) and fills two coders' empty columns; `stackmine
agreement` reads the sheet back. `labelled` is the old sheet with the machine's labels beside
empty code columns, for checking the classifier by eye.
"""

from __future__ import annotations

import html
import math
import random
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow as pa

# What a coder sees of each question: how to find it, what the asker wrote, and the CC BY-SA
# attribution the body's reuse needs. Nothing the classifier decided.
BLIND_COLUMNS = ("site", "post_id", "post_url", "title", "body", "body_cut", "tags",
                 "license", "author_display_name", "author_profile_url")
BODY_CHARS = 3000
CODERS = (1, 2)
CODE_FIELDS = ("platforms", "ml", "stage", "stage2", "note")
# coder1_platforms, coder1_ml, ..., coder2_note: empty, for the two coders.
BLIND_CODE_COLUMNS = tuple(f"coder{c}_{f}" for c in CODERS for f in CODE_FIELDS)

# The labelled sheet (--sample-with-labels): empty code columns, names mirroring the codebook's labels.
CODE_COLUMNS = ("code_platforms", "code_ml", "code_stage", "code_stage2", "coder", "memo")
SAMPLE_COLUMNS = (
    "site", "post_id", "post_url", "title", "platforms", "ml", "stage", "stage2",
    "license", "author_display_name", "author_profile_url",
)

# What a draw reads of every row: the key and the stratum.
KEY_COLUMNS = ("site", "post_id", "platforms", "stage")

_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Draw:
    """The drawn rows of an export table (indices, in (site, post_id) order) and each one's stratum."""

    rows: list[int]
    strata: list[tuple[str, str]]


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


def strata_sizes(keys: pa.Table) -> Counter:
    """How many rows of `keys` (columns platforms and stage, at least) fall in each stratum: added
    up batch by batch, the sizes `plan` needs."""
    return Counter(stratum_of(p, s) for p, s in zip(keys["platforms"].to_pylist(), keys["stage"].to_pylist()))


def plan(sizes: dict[tuple[str, str], int], total: int, seed: int) -> dict[tuple[str, str], set[int]]:
    """Which rows to draw, as positions within each stratum (its rows counted in (site, post_id) order).

    The draw needs only the strata's sizes: `random.sample` picks positions from the length of
    what it samples, so sampling `range(size)` draws the same positions, from the same seeded
    stream, as sampling the stratum's rows themselves; the rows behind them are found by `pick`
    in a second pass. No step holds a row per question.
    """
    counts = allocate(dict(sizes), total)
    rng = random.Random(seed)
    return {key: set(rng.sample(range(sizes[key]), counts.get(key, 0))) for key in sorted(sizes) if sizes[key]}


def pick(batches: Iterable[pa.Table | pa.RecordBatch], wanted: dict[tuple[str, str], set[int]]) -> list[tuple[str, int, tuple[str, str]]]:
    """(site, post_id, stratum) of the planned rows, in (site, post_id) order: `batches` are every
    row of the export, in that order, with columns site, post_id, platforms and stage."""
    seen: Counter = Counter()
    picked = []
    for batch in batches:
        for site, post_id, platforms, stage in zip(*(batch[c].to_pylist() for c in KEY_COLUMNS)):
            key = stratum_of(platforms, stage)
            if seen[key] in wanted.get(key, ()):
                picked.append((site, post_id, key))
            seen[key] += 1
    return picked


def draw(table: pa.Table, total: int, seed: int) -> Draw:
    """Draw `total` rows of a whole export table stratified by platform × stage (what an export
    does in two passes over its stream: `strata_sizes`, `plan`, `pick`).

    Rows come back in (site, post_id) order, whatever their stratum, so their order says nothing
    about the labels.
    """
    keys = table.select(list(KEY_COLUMNS))
    sites, ids = keys["site"].to_pylist(), keys["post_id"].to_pylist()
    order = sorted(range(keys.num_rows), key=lambda i: (sites[i], ids[i]))
    keys = keys.take(pa.array(order, pa.int64()))
    picked = pick([keys], plan(strata_sizes(keys), total, seed))
    at = {(sites[i], ids[i]): i for i in order}
    return Draw([at[(site, post_id)] for site, post_id, _ in picked], [key for _, _, key in picked])


def plain_body(body_html: str | None) -> tuple[str, bool]:
    """The body as the gold annotators read it: tags removed, entities decoded, cut at BODY_CHARS
    characters; and whether it was cut."""
    text = html.unescape(_TAG.sub("", body_html or ""))
    return text[:BODY_CHARS], len(text) > BODY_CHARS


def blind(table: pa.Table, picked: Draw, bodies: dict[tuple[str, int], str | None]) -> pa.Table:
    """The blind coding sheet: BLIND_COLUMNS of the drawn rows, then the coders' empty columns.

    `bodies` maps (site, post_id) to the question's HTML body (posts.body).
    """
    rows = table.take(pa.array(picked.rows, pa.int64()))
    keys = zip(rows.column("site").to_pylist(), rows.column("post_id").to_pylist())
    texts = [plain_body(bodies.get(key)) for key in keys]
    out = pa.table({
        "site": rows.column("site"),
        "post_id": rows.column("post_id"),
        "post_url": rows.column("post_url"),
        "title": rows.column("title"),
        "body": pa.array([t for t, _ in texts], pa.string()),
        "body_cut": pa.array(["yes" if cut else "no" for _, cut in texts], pa.string()),
        "tags": rows.column("tags"),
        **{name: rows.column(name) for name in BLIND_COLUMNS[7:]},
    })
    for name in BLIND_CODE_COLUMNS:
        out = out.append_column(name, pa.array([""] * out.num_rows, pa.string()))
    return out


def labelled(table: pa.Table, picked: Draw) -> pa.Table:
    """The labelled sheet: each drawn question's stratum and the classifier's labels beside empty
    code columns (for checking the classifier; never give it to coders)."""
    sample = table.take(pa.array(picked.rows, pa.int64())).select(list(SAMPLE_COLUMNS))
    sample = sample.add_column(0, "stratum_stage", pa.array([k[1] for k in picked.strata], pa.string()))
    sample = sample.add_column(0, "stratum_platform", pa.array([k[0] for k in picked.strata], pa.string()))
    for name in CODE_COLUMNS:
        sample = sample.append_column(name, pa.array([""] * len(picked.rows), pa.string()))
    return sample
