"""Replicates: determinism, independence from other groups, strata, and the p-value's duality."""

from __future__ import annotations

import numpy as np

from pipeline.coverage.bootstrap import (BootstrapConfig, confusion_replicates, gold_weights, group_replicates,
                                      percentile_interval, two_sided_p)
from pipeline.coverage.confusion import make_gold

T = ("a", "b", "c")


def _gold():
    true = ["a"] * 10 + ["b"] * 6 + ["c"] * 4
    pred = ["a"] * 8 + ["b"] * 2 + ["b"] * 4 + ["c"] * 2 + ["c"] * 3 + ["a"]
    return make_gold(true, pred, true_classes=T, pred_classes=T, strata=["x"] * 5 + ["y"] * 15)


def test_same_seed_same_replicates_and_a_group_does_not_depend_on_the_others():
    config = BootstrapConfig(replicates=200, seed=11)
    np.testing.assert_array_equal(confusion_replicates(_gold(), config), confusion_replicates(_gold(), config))
    first = group_replicates(np.array([3.0, 0.0, 5.0]), config, "site|platform|colab")
    group_replicates(np.array([9.0, 9.0, 9.0]), config, "another group drawn in between")
    np.testing.assert_array_equal(first, group_replicates(np.array([3.0, 0.0, 5.0]), config, "site|platform|colab"))
    other_seed = group_replicates(np.array([3.0, 0.0, 5.0]), BootstrapConfig(replicates=200, seed=12), "site|platform|colab")
    assert not np.array_equal(first, other_seed)


def test_strata_keep_their_sampled_weight_in_every_replicate():
    for scheme in ("bayesian", "multinomial"):
        w = gold_weights(_gold(), BootstrapConfig(replicates=100, gold_scheme=scheme))
        np.testing.assert_allclose(w[:, :5].sum(axis=1), 5.0)
        np.testing.assert_allclose(w[:, 5:].sum(axis=1), 15.0)


def test_a_predicted_class_the_group_never_showed_still_varies():
    reps = group_replicates(np.array([10.0, 0.0, 0.0]), BootstrapConfig(replicates=500), "g")
    assert reps[:, 1].max() > 0.01  # the prior lets a replicate visit an unseen class
    np.testing.assert_allclose(reps.sum(axis=1), 1.0)


def test_p_value_and_percentile_interval_agree_on_excluding_zero():
    rng = np.random.default_rng(0)
    for shift in (0.0, 0.5, 2.0, 3.5):
        d = rng.normal(shift, 1.0, size=(4000, 1))
        p = two_sided_p(d)[0]
        for level in (0.95, 0.99):
            lo, hi = percentile_interval(d, level)
            excludes = lo[0] > 0 or hi[0] < 0
            if abs(p - (1 - level)) > 0.005:  # away from the edge the two decisions are the same
                assert excludes == (p < 1 - level)
