"""The coverage table on the edge cases the reviewers named, and its determinism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.core.codebook import STAGES
from pipeline.coverage.bootstrap import BootstrapConfig
from pipeline.coverage.confusion import make_gold
from pipeline.core.errors import CoverageError
from tests.support.simulate import draw_gold, draw_group
# pipeline.coverage.estimates loads scipy.stats: imported in the tests that use it, not at collection.

CONFIG = BootstrapConfig(replicates=600, seed=5)


def _gold(world, seed=0, perfect=False, support=None):
    rng = np.random.default_rng(seed)
    support = world["support"] if support is None else support
    true, pred = draw_gold(np.eye(15) if perfect else world["truth"], support, rng)
    return make_gold([STAGES[i] for i in true], [STAGES[i] for i in pred], true_classes=STAGES, pred_classes=STAGES)


def _group(key, counts):
    from pipeline.coverage.estimates import Group

    return Group(key, counts=np.asarray(counts, dtype=float))


def test_columns_and_one_row_per_stage(world):
    from pipeline.coverage.estimates import COLUMNS, Comparison, coverage_table, prepare

    model = prepare(_gold(world), config=CONFIG)
    rng = np.random.default_rng(1)
    comp = Comparison("*", "all", "all", _group("nb", draw_group(world["truth"], world["nb"], 64, rng)),
                      _group("base", draw_group(world["truth"], world["base"], 373, rng)))
    table = coverage_table(model, [comp], STAGES)
    assert tuple(table.columns) == COLUMNS
    assert table["stage"].tolist() == list(STAGES)
    assert set(table["verdict"]) <= {"more discussed", "less discussed", "rare", "on par", "undetermined"}
    assert (table["share_notebook_low"] <= table["share_notebook_high"]).all()


def test_too_few_replicates_for_the_correction_is_a_named_error(world):
    from pipeline.coverage.estimates import Comparison, coverage_table, prepare

    model = prepare(_gold(world), config=BootstrapConfig(replicates=300))
    counts = _group("g", np.round(world["base"] * 400))
    with pytest.raises(CoverageError, match=r"300 replicates cannot reach level 0.05/9: use at least 360"):
        coverage_table(model, [Comparison("*", "all", "all", counts, counts)], STAGES)


def test_a_group_of_one_question_is_undetermined_everywhere_not_skipped(world):
    from pipeline.coverage.estimates import Comparison, coverage_table, prepare

    model = prepare(_gold(world), config=CONFIG)
    one = np.zeros(15)
    one[STAGES.index("environment")] = 1
    comp = Comparison("*", "platform", "databricks", _group("databricks", one),
                      _group("base", np.round(world["base"] * 373)))
    table = coverage_table(model, [comp], STAGES)
    assert (table["verdict"] == "undetermined").all()
    assert table["reason"].str.startswith("group-too-small:n_notebook=1<50").all()
    assert table["share_notebook"].dropna().between(0, 1).all()  # still estimated, just not judged


def test_a_stage_with_zero_counts_and_two_gold_questions_is_undetermined(world):
    from pipeline.coverage.estimates import Comparison, POOL, coverage_table, prepare

    model = prepare(_gold(world), config=CONFIG)
    rng = np.random.default_rng(2)
    nb, base = draw_group(world["truth"], world["nb"], 64, rng), draw_group(world["truth"], world["base"], 373, rng)
    fb = STAGES.index("fairness-bias")
    nb[fb] = base[fb] = 0
    row = coverage_table(model, [Comparison("*", "all", "all", _group("nb", nb), _group("b", base))], STAGES)
    fairness = row.set_index("stage").loc["fairness-bias"]
    assert fairness["verdict"] == "undetermined" and fairness["estimated_as"] == POOL
    assert fairness["reason"].startswith("gold-support=2<20")
    assert np.isnan(fairness["share_notebook"]) and fairness["share_notebook_high"] > 0


def test_perfect_classifier_corrected_equals_raw_exactly(world):
    from pipeline.coverage.estimates import Comparison, coverage_table, prepare

    support = np.maximum(world["support"], 20)  # every row estimated, none pooled
    model = prepare(_gold(world, perfect=True, support=support), config=CONFIG)
    counts = np.array([2, 1, 12, 0, 5, 20, 7, 0, 1, 0, 3, 6, 0, 0, 7], dtype=float)  # the sample's 64
    table = coverage_table(model, [Comparison("*", "all", "all", _group("nb", counts), _group("b", counts * 6))], STAGES)
    np.testing.assert_array_equal(table["share_notebook"].to_numpy(), table["raw_share_notebook"].to_numpy())
    np.testing.assert_array_equal(table["diff"].to_numpy(), np.zeros(15))


def test_a_large_group_with_a_clear_difference_is_more_discussed_and_a_zero_stage_rare(world):
    from pipeline.coverage.estimates import Comparison, coverage_table, prepare

    support = np.maximum(world["support"], 60)
    model = prepare(_gold(world, perfect=True, support=support), config=BootstrapConfig(replicates=1000, seed=5))
    nb = np.array([40, 40, 300, 0, 100, 300, 100, 0, 20, 0, 40, 40, 0, 0, 400], dtype=float)
    base = np.array([80, 40, 150, 2, 200, 400, 200, 2, 20, 2, 40, 40, 2, 2, 100], dtype=float)
    table = coverage_table(model, [Comparison("*", "all", "all", _group("nb", nb), _group("b", base))], STAGES)
    by = table.set_index("stage")
    assert by.at["environment", "verdict"] == "more discussed"
    assert by.at["model-evaluation", "verdict"] == "less discussed"
    assert by.at["fairness-bias", "verdict"] == "rare"  # 0 of 1,380 with a known recall
    tested = table["adjusted_level"].notna()
    assert tested.sum() == 15 and table.loc[tested, "adjusted_level"].max() == pytest.approx(1 - 0.05 / 15)
    env = by.loc["environment"]
    assert env["diff_low_adj"] > 0 and env["diff_low_adj"] < env["diff_low"]  # wider at the adjusted level


def test_same_seed_same_table_in_any_order(world):
    from pipeline.coverage.estimates import Comparison, coverage_table, prepare

    gold = _gold(world, seed=3)
    rng = np.random.default_rng(3)
    groups = [_group(f"g{i}", draw_group(world["truth"], world["nb"], 80, rng)) for i in range(2)]
    base = _group("base", draw_group(world["truth"], world["base"], 373, rng))
    comps = [Comparison("*", "year", str(i), g, base) for i, g in enumerate(groups)]
    first = coverage_table(prepare(gold, config=CONFIG), comps, STAGES)
    again = coverage_table(prepare(gold, config=CONFIG), comps[::-1], STAGES)
    again = again.sort_values(["grp"], kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(first, again)


def test_the_outside_class_corrects_the_ml_filter_and_stays_out_of_the_shares(world):
    from pipeline.coverage.estimates import Comparison, coverage_table, prepare

    true_classes, pred_classes = STAGES + ("not-ml",), STAGES + ("none",)
    labels = [s for s in STAGES for _ in range(25)] + ["not-ml"] * 200
    predicted = [s for s in STAGES for _ in range(20)] + ["none"] * (15 * 5) + ["none"] * 190 + ["model-training"] * 10
    pred_by_true = {s: [s] * 20 + ["none"] * 5 for s in STAGES}
    predicted = [p for s in STAGES for p in pred_by_true[s]] + ["none"] * 190 + ["model-training"] * 10
    gold = make_gold(labels, predicted, true_classes=true_classes, pred_classes=pred_classes)
    model = prepare(gold, outside=("not-ml", "none"), config=CONFIG)
    counts = np.zeros(16)
    counts[:15] = 20
    counts[15] = 100
    table = coverage_table(model, [Comparison("*", "all", "all", _group("nb", counts), _group("b", counts))], pred_classes)
    assert table["total_notebook"].iloc[0] == 300  # predicted ML questions only
    assert table["share_notebook"].sum() == pytest.approx(1.0)


def test_count_bound_is_predicted_share_over_recall_with_wilson_bounds():
    from pipeline.coverage.estimates import count_bound
    from scipy.stats import binomtest
    expected = binomtest(5, 64).proportion_ci(0.95, "wilson").high / binomtest(74, 147).proportion_ci(0.95, "wilson").low
    assert count_bound(5, 64, 74 / 147, 147) == pytest.approx(expected)
    assert count_bound(0, 1380, 1.0, 60) < 0.01  # nothing predicted, perfect recall: rare is possible
    assert count_bound(3, 64, 0.0, 40) == float("inf")  # recall 0: no bound at all


def test_family_table_and_bh_run_and_show_their_levels(world):
    from pipeline.coverage.estimates import Comparison, coverage_table, prepare

    model = prepare(_gold(world), rules={"family": "table", "multiplicity": "bh"}, config=CONFIG)
    rng = np.random.default_rng(8)
    comps = [Comparison("*", "year", str(y), _group(f"nb{y}", draw_group(world["truth"], world["nb"], 200, rng)),
                        _group(f"b{y}", draw_group(world["truth"], world["base"], 400, rng))) for y in (2021, 2022)]
    table = coverage_table(model, comps, STAGES)
    tested = table["adjusted_level"].notna()
    assert tested.sum() == 2 * 9  # one family over both groups: 9 tested stages each
    assert table.loc[tested, "adjusted_level"].min() == pytest.approx(0.95)  # BH's largest threshold is alpha
    assert table["reason"].str.contains("p_bh").any()


def test_probability_vectors_give_the_same_point_estimate_as_counts_when_one_hot(world):
    from pipeline.coverage.estimates import Comparison, Group, coverage_table, prepare

    gold = _gold(world, seed=9)
    probs_gold = np.eye(15)[[STAGES.index(STAGES[i]) for i in gold.pred]]
    gold_p = make_gold([STAGES[i] for i in gold.true], probs=probs_gold, true_classes=STAGES, pred_classes=STAGES)
    labels = [STAGES[i] for i in np.random.default_rng(9).choice(15, size=120, p=world["base"])]
    counts = Group.from_labels("c", labels, STAGES)
    probs = Group("p", probs=np.eye(15)[[STAGES.index(x) for x in labels]])
    base = Group.from_labels("b", labels * 3, STAGES)
    by_counts = coverage_table(prepare(gold, config=CONFIG), [Comparison("*", "all", "all", counts, base)], STAGES)
    by_probs = coverage_table(prepare(gold_p, config=CONFIG), [Comparison("*", "all", "all", probs, base)], STAGES)
    np.testing.assert_allclose(by_probs["share_notebook"], by_counts["share_notebook"], atol=1e-8)
    ok = by_probs["share_notebook"].notna()
    assert (by_probs.loc[ok, "share_notebook_low"] <= by_probs.loc[ok, "share_notebook"] + 1e-9).all()


def test_an_empty_notebook_group_has_no_shares_and_no_test(world):
    from pipeline.coverage.estimates import Comparison, coverage_table, prepare

    model = prepare(_gold(world), config=CONFIG)
    table = coverage_table(model, [Comparison("ai.stackexchange.com", "all", "all", _group("none", np.zeros(15)),
                                              _group("b", np.round(world["base"] * 234)))], STAGES)
    assert table["share_notebook"].isna().all() and table["p_value"].isna().all()
    assert (table["verdict"] == "undetermined").all() and table["total_notebook"].eq(0).all()
