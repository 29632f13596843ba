"""The 95% intervals contain the known truth in at least 90 of 100 seeded simulations.

Realistic setting: 15 stages, a true confusion matrix like the product's (from its labels on
train.csv), a gold set of 939 ML questions with the real stage frequencies (the five rarest pooled,
as the product does), and notebook / baseline groups of 60-400 questions drawn fresh in every
simulation. The replicates are fewer than the product's (200, not 2,000) to keep the suite fast;
REPORT.md has the same check with 200 simulations x 1,000 replicates.
"""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.core.codebook import STAGES
from pipeline.coverage.bootstrap import BootstrapConfig, percentile_interval
from pipeline.coverage.confusion import make_gold
from tests.support.simulate import draw_gold, draw_group
# pipeline.coverage.estimates loads scipy.stats: imported where it is used, not at collection.

SIMS = 100


def _one(world: dict, seed: int) -> dict[str, np.ndarray]:
    from pipeline.coverage.estimates import Group, estimate, prepare

    rng = np.random.default_rng(seed)
    true, pred = draw_gold(world["truth"], world["support"], rng)
    gold = make_gold([STAGES[i] for i in true], [STAGES[i] for i in pred], true_classes=STAGES, pred_classes=STAGES)
    model = prepare(gold, config=BootstrapConfig(replicates=200, seed=seed))
    sizes = (60 + (seed * 37) % 341, 400 - (seed * 53) % 101)
    nb = Group(f"nb{seed}", counts=draw_group(world["truth"], world["nb"], sizes[0], rng))
    base = Group(f"base{seed}", counts=draw_group(world["truth"], world["base"], sizes[1], rng))
    truth = {name: np.array([sum(s for c, s in zip(STAGES, shares) if model.mapping[c] == e) for e in model.estimated])
             for name, shares in (("nb", world["nb"]), ("base", world["base"]))}
    (_, nb_reps), (_, base_reps) = estimate(model, nb), estimate(model, base)
    out = {}
    for name, reps, target in (("nb", nb_reps, truth["nb"]), ("diff", nb_reps - base_reps, truth["nb"] - truth["base"])):
        lo, hi = percentile_interval(reps, 0.95)
        out[name] = (lo <= target) & (target <= hi)
    out["classes"] = model.estimated
    return out


@pytest.mark.slow
def test_corrected_shares_and_differences_cover_the_truth(world):
    from pipeline.coverage.estimates import POOL

    runs = [_one(world, seed) for seed in range(SIMS)]
    classes = runs[0]["classes"]
    assert POOL in classes and len(classes) == 11  # 10 stages with >= 20 gold questions, and the pool
    for name in ("nb", "diff"):
        covered = np.sum([r[name] for r in runs], axis=0)
        assert covered.min() >= 90, dict(zip(classes, covered.tolist()))


@pytest.mark.slow
def test_a_rare_stage_is_covered_and_its_upper_bound_holds():
    """One stage at 0.4% of 400-question groups, known from only 25 gold questions at recall 0.3."""
    from pipeline.coverage.estimates import Group, estimate, prepare

    truth = np.array([[0.70, 0.10, 0.10, 0.05, 0.05],
                      [0.10, 0.60, 0.15, 0.10, 0.05],
                      [0.10, 0.10, 0.65, 0.10, 0.05],
                      [0.05, 0.10, 0.15, 0.65, 0.05],
                      [0.20, 0.20, 0.15, 0.15, 0.30]])
    classes = ("a", "b", "c", "d", "rare")
    shares = np.array([0.40, 0.30, 0.196, 0.10, 0.004])
    covered = upper_ok = 0
    for seed in range(SIMS):
        rng = np.random.default_rng(1000 + seed)
        true, pred = draw_gold(truth, [200, 200, 150, 100, 25], rng)
        gold = make_gold([classes[i] for i in true], [classes[i] for i in pred], true_classes=classes,
                         pred_classes=classes)
        model = prepare(gold, config=BootstrapConfig(replicates=400, seed=seed))
        _, reps = estimate(model, Group(f"g{seed}", counts=draw_group(truth, shares, 400, rng)))
        lo, hi = percentile_interval(reps[:, -1:], 0.95)
        covered += int(lo[0] <= 0.004 <= hi[0])
        upper_ok += int(0.004 <= hi[0])
    assert covered >= 90 and upper_ok >= 95
