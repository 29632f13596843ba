"""A held-out split of the gold questions, made once and kept as a list of ids
(data/gold/heldout-ids.v1.csv), and the training set it leaves.

Why: every design choice of the trained layer (features, C, class weights, thresholds, which rules
stay) is made by cross-validation on the rest; the held-out questions are scored once, at the end,
so their figures are not tuned to them. The split is a pure function of the gold labels and a
seed: within each stratum (gold file or source pool × primary stage) the questions are ordered by
a SHA-256 of seed and id — not by a library's random generator, whose stream may change between
versions — and the first `fraction` of each stratum (rounded) is held out. Strata of one or two
questions (the rarest stages) stay whole in the training part. scripts/split_gold.py --check
recomputes it from the bundled gold files.
"""

from __future__ import annotations

import csv
import hashlib
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from pipeline.classify.fit import Example, featurize
from pipeline.classify.lexicon import Scanner
from pipeline.evaluate.corpus import SPLIT, GoldQuestion

SEED = 20261215
FRACTION = 0.2
COLUMNS = ("site", "post_id", "pool", "stage")


def stratum(question: GoldQuestion) -> tuple[str, str]:
    """The stratum of one question: dev.csv's notebook-enriched sample is a pool of its own."""
    return ("dev" if question.file == "dev.csv" else question.pool, question.stage)


def _order(seed: int, site: str, post_id: int) -> str:
    return hashlib.sha256(f"{seed}:{site}:{post_id}".encode()).hexdigest()


def held_out(questions: Iterable[tuple[str, int, tuple[str, str]]], seed: int = SEED,
             fraction: float = FRACTION) -> list[tuple[str, int]]:
    """(site, post_id) of the held-out questions, sorted, from (site, post_id, stratum) triples."""
    strata: dict[tuple[str, str], list[tuple[str, int]]] = defaultdict(list)
    for site, post_id, where in questions:
        strata[where].append((site, post_id))
    chosen: list[tuple[str, int]] = []
    for members in strata.values():
        take = int(len(members) * fraction + 0.5) if len(members) > 2 else 0
        chosen.extend(sorted(members, key=lambda key: _order(seed, *key))[:take])
    return sorted(chosen)


def write_split(path: Path, rows: list[tuple[str, int, str, str]]) -> None:
    """Write (site, post_id, pool, stage) rows of the held-out questions, sorted."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(sorted(rows))


def read_split(path: Path = SPLIT) -> set[tuple[str, int]]:
    """(site, post_id) of the held-out questions listed in `path`."""
    with open(path, newline="", encoding="utf-8") as handle:
        return {(row["site"], int(row["post_id"])) for row in csv.DictReader(handle)}


def training_examples(corpus: list[GoldQuestion], scanner: Scanner, split: Path = SPLIT) -> list[Example]:
    """The training set: every gold question not in the held-out split, with its features; pool
    "dev" for dev.csv's stratified sample."""
    held = read_split(split)
    kept = [q for q in corpus if q.key not in held]
    features = featurize(scanner, [q.question for q in kept])
    return [Example(q.site, q.post_id, stratum(q)[0], f, q.ml, q.stage, q.stage2) for q, f in zip(kept, features)]
