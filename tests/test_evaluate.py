"""Evaluation: metric arithmetic, gold-file checks, and the real score on the dev gold set."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from conftest import GOLD_DEV
from pipeline.baselines import Guess
from pipeline.evaluate import GoldFileError, GoldRow, collect, read_gold
from pipeline.scoring import binary_scores, prf, stage_scores


def test_prf_arithmetic() -> None:
    s = prf([(True, True), (True, False), (False, True), (False, False), (True, True)])
    assert (s.tp, s.fp, s.fn) == (2, 1, 1)
    assert s.precision == pytest.approx(2 / 3) and s.recall == pytest.approx(2 / 3) and s.f1 == pytest.approx(2 / 3)


def test_stage_scores_only_on_gold_ml_yes() -> None:
    gold = [GoldRow("s", 1, frozenset(), True, "model-training"), GoldRow("s", 2, frozenset(), True, "deployment"),
            GoldRow("s", 3, frozenset(), False, "none")]
    guesses = [Guess([], True, "model-training"), Guess([], True, "model-training"), Guess([], True, "deployment")]
    accuracy, macro_f1, n = stage_scores(gold, guesses)
    assert (accuracy, n) == (0.5, 2)
    assert macro_f1 == pytest.approx((2 / 3 + 0) / 2)
    assert binary_scores(gold, guesses)["ml"].precision == pytest.approx(2 / 3)


def test_bad_gold_label_names_line(tmp_path: Path) -> None:
    bad = tmp_path / "gold.csv"
    bad.write_text("site,post_id,platforms,ml,stage,stage2,note\n"
                   "stackoverflow.com,1,jupyter,yes,model-training,,ok\n"
                   "stackoverflow.com,2,notebook,maybe,training,,bad\n", encoding="utf-8")
    with pytest.raises(GoldFileError, match=r"gold.csv, line 3: unknown platform 'notebook'; ml must be yes or no"):
        read_gold(bad)


def test_unlabelled_questions_say_what_to_run(sample_db_path: Path, tmp_path: Path) -> None:
    gold = tmp_path / "gold.csv"
    gold.write_text("site,post_id,platforms,ml,stage,stage2,note\nstackoverflow.com,72490941,jupyter,no,none,,\n",
                    encoding="utf-8")
    con = duckdb.connect(str(sample_db_path), read_only=True)
    try:
        with pytest.raises(GoldFileError, match=r"not in question_text .*run `stackmine text`"):
            collect(con, read_gold(gold), gold)
    finally:
        con.close()


@pytest.mark.shared
def test_dev_gold_floors(study_db_path: Path) -> None:
    """The real evaluation on ../shared/gold/dev.csv: CI fails if the classifier regresses."""
    from pipeline.scoring import binary_scores as scores

    gold = read_gold(GOLD_DEV)
    con = duckdb.connect(str(study_db_path), read_only=True)
    try:
        methods = collect(con, gold, GOLD_DEV)
    finally:
        con.close()
    assert len(gold) == 300 and [m.name for m in methods] == ["rules", "tags-only", "keyword", "majority"]
    rules = scores(gold, methods[0].guesses)
    tags_only = scores(gold, methods[1].guesses)
    assert rules["notebook-any"].f1 >= 0.9
    assert rules["ml"].f1 >= 0.9
    assert rules["notebook-any"].f1 > tags_only["notebook-any"].f1
    accuracy, _macro, n = stage_scores(gold, methods[0].guesses)
    assert n == 104 and accuracy >= 0.55
