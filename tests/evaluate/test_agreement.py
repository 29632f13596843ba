"""Agreement on a hand-made coding sheet whose kappa and alpha were computed by hand.

tests/data/agreement_sheet.csv: coders ann and bob, 10 questions both coded (post ids 1-10);
ann alone coded 11, bob left 12 blank (missing, not 'no'). The classifier's labels equal ann's.

By hand (ann vs bob, n = 10):
- ml: 8 of 10 agree; each says yes 5 times, so chance 0.5; kappa = (0.8 - 0.5) / 0.5 = 0.6.
  Alpha: 10 yes and 10 no among 20 values, D_e = 2*10*10/(20*19) = 0.5263, D_o = 4/20 = 0.2,
  alpha = 1 - 0.2/0.5263 = 0.62.
- notebook-any: 9 of 10 agree; ann 4 yes, bob 5 yes: chance 0.4*0.5 + 0.6*0.5 = 0.5; kappa 0.8.
  Alpha: 9 yes / 11 no, D_e = 2*9*11/380 = 0.5211, D_o = 0.1, alpha = 0.80808.
- stage (none for ml = no): 7 of 10 agree; chance (2*2 + 1*1 + 1*1 + 5*5)/100 = 0.31;
  kappa = 0.39/0.69 = 0.565217. Alpha: counts 4, 2, 2, 1, 1, 10 of 20, sum n(n-1) = 106,
  D_e = 1 - 106/380 = 0.72105, D_o = 6/20 = 0.3, alpha = 0.583942.
- stage | both ml (questions 1-4): 3 of 4 agree; chance (2*1 + 1*1 + 1*1)/16 = 0.25; kappa 2/3.
  Alpha: counts 3, 1, 2, 2 of 8, D_e = 1 - 10/56, D_o = 2/8, alpha = 0.695652.
"""

from __future__ import annotations

import pandas as pd
import pytest

from tests.support import TEST_DATA
import numpy as np

# pipeline.evaluate.agreement loads scikit-learn: imported in the tests that use it, not at collection.
from pipeline.core.errors import CoverageError

EXPECTED = {
    "ml": (10, 0.6, 0.62),
    "notebook-any": (10, 0.8, 0.808081),
    "stage": (10, 0.565217, 0.583942),
    "stage | both ml": (4, 2 / 3, 0.695652),
}


def _sheet() -> pd.DataFrame:
    return pd.read_csv(TEST_DATA / "coverage" / "agreement_sheet.csv", dtype=str, keep_default_na=False)


@pytest.mark.parametrize("family", sorted(EXPECTED))
def test_two_coders_match_the_hand_computed_values(family):
    from pipeline.evaluate.agreement import agreement_table

    table = agreement_table(_sheet()).set_index(["family", "rater_a", "rater_b"])
    row = table.loc[(family, "ann", "bob")]
    n, kappa, alpha = EXPECTED[family]
    assert row["n"] == n
    assert row["kappa"] == pytest.approx(kappa, abs=1e-6)
    assert row["alpha"] == pytest.approx(alpha, abs=1e-6)


def test_each_coder_against_the_classifier():
    from pipeline.evaluate.agreement import agreement_table

    table = agreement_table(_sheet()).set_index(["family", "rater_a", "rater_b"])
    for family, (n, kappa, alpha) in EXPECTED.items():
        ann = table.loc[(family, "ann", "classifier")]
        assert ann["kappa"] == pytest.approx(1.0) and ann["alpha"] == pytest.approx(1.0)
        assert table.loc[(family, "bob", "classifier"), "kappa"] == pytest.approx(kappa, abs=1e-6)
    assert table.loc[("ml", "ann", "classifier"), "n"] == 11  # question 11: ann and the classifier


def test_one_shared_category_has_no_kappa_but_perfect_raw_agreement():
    from pipeline.evaluate.agreement import pair_agreement

    result = pair_agreement(["yes", "yes", None], ["yes", "yes", "no"])
    assert result["n"] == 2 and result["agreement"] == 1.0
    assert result["kappa"] != result["kappa"] and result["alpha"] != result["alpha"]  # nan: chance agreement is 1


def test_sheet_errors_are_named():
    from pipeline.evaluate.agreement import agreement_table

    sheet = _sheet()
    with pytest.raises(CoverageError, match="two coders"):
        agreement_table(sheet[sheet["coder"] == "ann"])
    with pytest.raises(CoverageError, match="lacks columns"):
        agreement_table(sheet.drop(columns="code_ml"))
