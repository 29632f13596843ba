"""Confusion rows from gold pairs: weights, strata, pooling, and named errors."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.coverage.confusion import estimate_confusion, make_gold, pool_true_classes, stratum_weights, weighted_rows
from pipeline.core.errors import CoverageError

T = ("a", "b", "c")


def test_rows_are_conditional_frequencies_with_support():
    gold = make_gold(["a", "a", "a", "a", "b", "b"], ["a", "a", "a", "b", "b", "a"], true_classes=T, pred_classes=T)
    conf = estimate_confusion(gold)
    np.testing.assert_allclose(conf.matrix[0], [0.75, 0.25, 0.0])
    np.testing.assert_allclose(conf.matrix[1], [0.5, 0.5, 0.0])
    np.testing.assert_allclose(conf.matrix[2], [1 / 3] * 3)  # no gold question: uniform, and support says so
    assert conf.support.tolist() == [4, 2, 0]
    assert conf.recall() == {"a": 0.75, "b": 0.5, "c": pytest.approx(1 / 3)}


def test_stratum_weights_make_an_oversampled_stratum_count_for_its_population():
    # notebook questions: 2 sampled of 20 in the population; others: 2 sampled of 180
    strata = ["nb", "nb", "rest", "rest"]
    weights = stratum_weights(strata, {"nb": 20, "rest": 180})
    np.testing.assert_allclose(weights, [10, 10, 90, 90])
    gold = make_gold(["a"] * 4, ["a", "a", "b", "b"], true_classes=T, pred_classes=T, weights=weights, strata=strata)
    np.testing.assert_allclose(estimate_confusion(gold).matrix[0], [0.1, 0.9, 0.0])


def test_prior_spreads_pseudo_questions_over_the_row():
    gold = make_gold(["a"], ["a"], true_classes=T, pred_classes=T)
    np.testing.assert_allclose(weighted_rows(gold, np.ones(1), prior=1.0)[0], [(1 + 1 / 3) / 2, 1 / 6, 1 / 6])


def test_probability_gold_averages_probability_vectors():
    probs = np.array([[0.8, 0.2, 0.0], [0.6, 0.2, 0.2], [0.1, 0.9, 0.0]])
    gold = make_gold(["a", "a", "b"], probs=probs, true_classes=T, pred_classes=T)
    np.testing.assert_allclose(estimate_confusion(gold).matrix[:2], [[0.7, 0.2, 0.1], [0.1, 0.9, 0.0]])


def test_pooling_merges_thin_classes_but_keeps_the_outside_class():
    labels = ["a"] * 30 + ["b"] * 3 + ["c"] * 2 + ["x"] * 5
    gold = make_gold(labels, labels, true_classes=("a", "b", "c", "x"), pred_classes=("a", "b", "c", "x"))
    pooled, mapping = pool_true_classes(gold, 20, "pool", keep=("x",))
    assert pooled.true_classes == ("a", "x", "pool")
    assert mapping == {"a": "a", "b": "pool", "c": "pool", "x": "x"}
    assert pooled.support().tolist() == [30, 5, 5]


def test_unknown_labels_and_bad_weights_are_named_errors():
    with pytest.raises(CoverageError, match="not in the class list"):
        make_gold(["a", "z"], ["a", "a"], true_classes=T, pred_classes=T)
    with pytest.raises(CoverageError, match="positive"):
        make_gold(["a"], ["a"], true_classes=T, pred_classes=T, weights=[0.0])
    with pytest.raises(CoverageError, match="empty"):
        make_gold([], [], true_classes=T, pred_classes=T)
