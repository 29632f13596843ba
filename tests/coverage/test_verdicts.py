"""Verdict rules: multiplicity corrections against hand-computed values, and every rule's edge."""

from __future__ import annotations

import json

import numpy as np
import pytest
# scipy.stats is slow to import: the one test comparing against it imports it.

from pipeline.core.errors import CoverageError
from pipeline.coverage.verdicts import adjust, check_rules, decide, rules_json, rules_text, shipped_rules
from tests.support import REPO

P = [0.01, 0.04, 0.03, 0.005]


def test_holm_by_hand():
    adjusted, threshold = adjust(P, 0.05, "holm")
    # sorted 0.005, 0.01, 0.03, 0.04 -> x4, x3, x2, x1 = 0.02, 0.03, 0.06, 0.04 -> running max
    np.testing.assert_allclose(adjusted, [0.03, 0.06, 0.06, 0.02])
    np.testing.assert_allclose(threshold, [0.05 / 3, 0.05 / 1, 0.05 / 2, 0.05 / 4])


def test_bh_by_hand_and_as_scipy_computes_it():
    from scipy.stats import false_discovery_control

    adjusted, threshold = adjust(P, 0.05, "bh")
    np.testing.assert_allclose(adjusted, [0.02, 0.04, 0.04, 0.02])
    np.testing.assert_allclose(adjusted, false_discovery_control(P, method="bh"))
    np.testing.assert_allclose(threshold, [0.05 * 2 / 4, 0.05 * 4 / 4, 0.05 * 3 / 4, 0.05 * 1 / 4])


BASE = dict(n_notebook=500, n_baseline=800, gold_support=70, recall=0.5, pooled=False, nb_upper=0.2, count_bound=0.5, diff=0.05,
            p_adjusted=0.01, rules=shipped_rules())


@pytest.mark.parametrize("change, verdict, reason", [
    ({}, "more discussed", "p_holm=0.0100<0.05"),
    ({"diff": -0.05}, "less discussed", "p_holm=0.0100<0.05"),
    ({"p_adjusted": 0.2}, "on par", "p_holm=0.2000>=0.05"),
    ({"n_notebook": 1}, "undetermined", "group-too-small:n_notebook=1<50"),
    ({"n_baseline": 0}, "undetermined", "group-too-small:n_baseline=0<50"),
    ({"gold_support": 2}, "undetermined", "gold-support=2<20;pool-recall=0.50"),
    ({"recall": 0.14}, "undetermined", "recall=0.14<0.20"),
    ({"nb_upper": 0.004, "count_bound": 0.008, "diff": -0.05}, "rare", "upper=0.0040,count-bound=0.0080<0.01"),
    ({"nb_upper": 0.0, "count_bound": 0.3, "diff": -0.05}, "less discussed", "p_holm=0.0100<0.05"),
    ({"pooled": True, "gold_support": 2, "nb_upper": 0.004, "count_bound": 0.009}, "rare",
     "pooled-upper=0.0040,count-bound=0.0090<0.01"),
    ({"pooled": True, "gold_support": 2, "nb_upper": 0.004, "count_bound": 0.009, "recall": 0.1}, "undetermined",
     "gold-support=2<20;pool-recall=0.10"),
    ({"recall": float("nan")}, "undetermined", "recall=nan<0.20"),
])
def test_rules_in_order(change, verdict, reason):
    assert decide(**{**BASE, **change}) == (verdict, reason)


def test_zero_counts_are_never_skipped_on_their_own():
    # a stage nobody asked about in a small group: the bound is wide, so it is not rare either
    v, why = decide(**{**BASE, "n_notebook": 64, "nb_upper": 0.06, "diff": -0.01, "p_adjusted": 1.0})
    assert v == "on par" and "skipped" not in why


def test_rules_are_data_with_a_version_and_their_text_quotes_the_numbers():
    assert json.loads(rules_json())["version"] == "coverage-verdicts-v1"
    text = rules_text({"rare_threshold": 0.02, "multiplicity": "bh"})
    assert "below 2%" in text and "Benjamini-Hochberg" in text and "fewer than 50" in text
    with pytest.raises(CoverageError, match="multiplicity"):
        check_rules({"multiplicity": "sidak"})
    with pytest.raises(CoverageError, match="unknown rule names"):
        check_rules({"rare_treshold": 0.02})


def test_the_shipped_rules_are_the_reviewed_file() -> None:
    rules = shipped_rules()
    assert (rules["version"], rules["min_group"], rules["min_gold_support"], rules["min_recall"], rules["rare_threshold"],
            rules["multiplicity"], rules["alpha"]) == ("coverage-verdicts-v1", 50, 20, 0.2, 0.01, "holm", 0.05)


def test_the_readme_states_the_shipped_rules_verbatim() -> None:
    """README's "Stage coverage" prints rules_text() of the shipped rules, as every datasheet does."""
    assert rules_text() in (REPO / "README.md").read_text(encoding="utf-8")
