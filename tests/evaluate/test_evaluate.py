"""Evaluation: metric arithmetic, gold-file checks, and the real score on the dev gold set."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipeline.evaluate.scoring import binary_scores, prf, stage_scores
from tests.support import GOLD_DEV

# pipeline.evaluate.gold and .baselines load spaCy: imported in the tests that use them.


def test_prf_arithmetic() -> None:
    s = prf([(True, True), (True, False), (False, True), (False, False), (True, True)])
    assert (s.tp, s.fp, s.fn) == (2, 1, 1)
    assert s.precision == pytest.approx(2 / 3) and s.recall == pytest.approx(2 / 3) and s.f1 == pytest.approx(2 / 3)


def test_stage_scores_only_on_gold_ml_yes() -> None:
    from pipeline.evaluate.baselines import Guess
    from pipeline.evaluate.gold import GoldRow

    gold = [GoldRow("s", 1, frozenset(), True, "model-training"), GoldRow("s", 2, frozenset(), True, "deployment"),
            GoldRow("s", 3, frozenset(), False, "none")]
    guesses = [Guess([], True, "model-training"), Guess([], True, "model-training"), Guess([], True, "deployment")]
    accuracy, macro_f1, n = stage_scores(gold, guesses)
    assert (accuracy, n) == (0.5, 2)
    assert macro_f1 == pytest.approx((2 / 3 + 0) / 2)
    assert binary_scores(gold, guesses)["ml"].precision == pytest.approx(2 / 3)


def test_bad_gold_label_names_line(tmp_path: Path) -> None:
    from pipeline.evaluate.gold import GoldFileError, read_gold

    bad = tmp_path / "gold.csv"
    bad.write_text("site,post_id,platforms,ml,stage,stage2,note\n"
                   "stackoverflow.com,1,jupyter,yes,model-training,,ok\n"
                   "stackoverflow.com,2,notebook,maybe,training,,bad\n", encoding="utf-8")
    with pytest.raises(GoldFileError, match=r"gold.csv, line 3: unknown platform 'notebook'; ml must be yes or no"):
        read_gold(bad)


def test_unlabelled_questions_say_what_to_run(sample_db_path: Path, tmp_path: Path) -> None:
    from pipeline.evaluate.gold import GoldFileError, collect, read_gold

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
    from pipeline.evaluate.gold import collect, read_gold
    from pipeline.evaluate.scoring import binary_scores as scores

    gold = read_gold(GOLD_DEV)
    con = duckdb.connect(str(study_db_path), read_only=True)
    try:
        methods = collect(con, gold, GOLD_DEV)
    finally:
        con.close()
    assert len(gold) == 300 and [m.name for m in methods] == ["classifier", "rules", "tags-only", "keyword", "majority"]
    # The classifier as shipped; its trained ml layer scored out-of-fold (it was fitted on dev.csv).
    shipped = scores(gold, methods[0].guesses)
    tags_only = scores(gold, methods[2].guesses)
    assert shipped["notebook-any"].f1 >= 0.9
    assert shipped["ml"].f1 >= 0.9
    assert shipped["notebook-any"].f1 > tags_only["notebook-any"].f1
    assert shipped["ml"].f1 > tags_only["ml"].f1
    accuracy, _macro, n = stage_scores(gold, methods[0].guesses)
    assert n == 104 and accuracy >= 0.55
    # The rules alone, on the questions they were written on (development figures).
    rules = scores(gold, methods[1].guesses)
    assert rules["notebook-any"].f1 >= 0.9 and rules["ml"].f1 >= 0.9
    assert stage_scores(gold, methods[1].guesses)[0] >= 0.55


@pytest.mark.shared
def test_training_questions_are_scored_out_of_fold(study_db_path: Path, tmp_path: Path) -> None:
    """dev.csv trained the ml layer: evaluate refits without each fold instead of scoring stored labels;
    a different file naming dev questions leaves them out."""
    from pipeline.evaluate.gold import collect, honest_gold, read_gold

    gold, note = honest_gold(read_gold(GOLD_DEV), GOLD_DEV)
    assert len(gold) == 300 and "out-of-fold" in note and "300 training questions" in note
    con = duckdb.connect(str(study_db_path), read_only=True)
    try:
        stored = con.execute("SELECT count(*) FILTER (WHERE ml) FROM question_labels l JOIN (SELECT unnest(?) AS "
                             "post_id) USING (post_id) WHERE site = 'stackoverflow.com'",
                             [[g.post_id for g in gold]]).fetchall()[0][0]
        shipped = collect(con, gold, GOLD_DEV)[0]
    finally:
        con.close()
    # stored labels come from the model fitted on these very questions; out-of-fold ones differ
    assert sum(x.ml for x in shipped.guesses) != stored
    copy = tmp_path / "dev_copy.csv"
    copy.write_text(GOLD_DEV.read_text(encoding="utf-8").replace("dask dataframe", "dask frame"), encoding="utf-8")
    kept, note = honest_gold(read_gold(copy), copy)
    assert kept == [] and note == "300 of these questions trained the learned-lr-v1 layer: left out of every score below"
