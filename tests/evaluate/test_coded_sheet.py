"""`stackmine agreement FILE` on a coded blind sheet of real questions, whose kappas were computed by hand.

tests/data/evaluate/coded_sheet.csv is the blind sheet `stackmine export --sample` writes (12 real
questions of data/sample/stackoverflow.com, bodies as plain text cut at 3,000 characters), filled in
by hand for two coders: coder 1 left 74938099 blank, coder 2 left 71283626 blank. The database is the
session's study database (the real pipeline on data/sample) with the classifier's labels of those 12
questions set by hand (CLASSIFIER below), so every pair's figures are known. Questions 1-12 in sheet
order of the hand calculation below: 71119326, 70744256, 74906232, 72341470, 73290699, 73569197,
72626523, 73107184, 74966513, 73638367, 74938099, 71283626.

| # | coder 1 | coder 2 | classifier |
|---|---|---|---|
| 1 | jupyter, environment | jupyter, environment | jupyter, environment |
| 2 | colab, model-training | colab, model-training | colab, model-training |
| 3 | kaggle, feature-engineering | kaggle, model-training | -, feature-engineering |
| 4 | jupyter, feature-engineering | jupyter, data-preparation | jupyter, feature-engineering |
| 5 | -, model-training | -, model-training | -, model-evaluation |
| 6 | -, model-evaluation | -, model-evaluation | -, model-evaluation |
| 7 | -, interpretability | -, interpretability | -, not ML |
| 8 | -, not ML | -, not ML | -, not ML |
| 9 | colab, not ML | colab, data-collection | colab, not ML |
| 10 | -, not ML | -, not ML | -, model-training |
| 11 | (blank) | -, problem-formulation | -, problem-formulation |
| 12 | jupyter, data-preparation | (blank) | jupyter, data-preparation |

By hand, kappa = (po - pe) / (1 - pe); alpha = 1 - (n - 1) * D / sum_{c != k} n_c n_k, with n the
pairable values (2 per unit) and D the off-diagonal coincidences (2 per disagreeing unit):
- coder 1 ~ coder 2 (units 1-10): notebook identical: 1, 1. ml 9/10 agree, yes 7/8 of 10:
  pe = .7*.8 + .3*.2 = .62, kappa .28/.38 = .736842; 15 yes 5 no: alpha 1 - 19*2/150 = .746667.
  stage 7/10, pe = .15 (env .01, training .06, evaluation .01, interpretability .01, none .06):
  kappa .55/.85 = .647059; n_c 2,5,2,1,2,2,5,1: alpha 1 - 19*6/332 = .656627. Both ML (1-7): 5/7,
  pe 9/49, kappa 26/40 = .65; n_c 2,5,2,1,2,2: alpha 1 - 13*4/154 = .662338.
- coder 1 ~ classifier (1-10, 12): notebook 10/11, pe 60/121, kappa 50/61 = .819672, alpha 1 - 21*2/242
  = .826446. ml 9/11, pe 73/121, kappa 26/48 = .541667, alpha 1 - 21*4/192 = .5625. stage 8/11, pe
  21/121, kappa 67/100, alpha 1 - 21*6/398 = .683417. Both ML (1-6, 12): 6/7, pe 10/49, kappa 32/39 =
  .820513, alpha 1 - 13*2/154 = .831169.
- coder 2 ~ classifier (1-11): notebook 10/11, pe 62/121, kappa 48/59 = .813559, alpha 1 - 21*2/234 =
  .820513. ml 8/11, pe 78/121, kappa 10/43 = .232558, alpha 1 - 21*6/170 = .258824. stage 5/11, pe
  16/121, kappa 39/105 = .371429, alpha 1 - 21*12/410 = .385366. Both ML (1-6, 11): 4/7, pe 7/49,
  kappa 21/42 = .5, alpha 1 - 13*6/158 = .506329.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from flows.cli import _register, cli
from pipeline.evaluate.sheet import CodingSheetError, read_sheet
from tests.support.coded_sheet import SHEET, SITE, coded_copy

_register()

EXPECTED = """\
coded_sheet.csv: 12 questions; coded by coder 1: 11, coder 2: 11, both: 10; with the classifier's labels: 12
family           raters                 n  agreement  kappa  alpha
notebook-any     coder 1 ~ coder 2     10      1.000  1.000  1.000
notebook-any     coder 1 ~ classifier  11      0.909  0.820  0.826
notebook-any     coder 2 ~ classifier  11      0.909  0.814  0.821
ml               coder 1 ~ coder 2     10      0.900  0.737  0.747
ml               coder 1 ~ classifier  11      0.818  0.542  0.562
ml               coder 2 ~ classifier  11      0.727  0.233  0.259
stage            coder 1 ~ coder 2     10      0.700  0.647  0.657
stage            coder 1 ~ classifier  11      0.727  0.670  0.683
stage            coder 2 ~ classifier  11      0.455  0.371  0.385
stage | both ml  coder 1 ~ coder 2      7      0.714  0.650  0.662
stage | both ml  coder 1 ~ classifier   7      0.857  0.821  0.831
stage | both ml  coder 2 ~ classifier   7      0.571  0.500  0.506
"""
# (family, rater_a, rater_b): (n, kappa, alpha) as computed by hand in the module docstring
BY_HAND = {
    ("ml", "coder 1", "coder 2"): (10, 0.736842, 0.746667),
    ("stage", "coder 1", "coder 2"): (10, 0.647059, 0.656627),
    ("stage | both ml", "coder 1", "coder 2"): (7, 0.65, 0.662338),
    ("notebook-any", "coder 1", "classifier"): (11, 50 / 61, 0.826446),
    ("ml", "coder 1", "classifier"): (11, 26 / 48, 0.5625),
    ("stage", "coder 1", "classifier"): (11, 0.67, 0.683417),
    ("stage | both ml", "coder 1", "classifier"): (7, 32 / 39, 0.831169),
    ("notebook-any", "coder 2", "classifier"): (11, 48 / 59, 0.820513),
    ("ml", "coder 2", "classifier"): (11, 10 / 43, 0.258824),
    ("stage", "coder 2", "classifier"): (11, 39 / 105, 0.385366),
    ("stage | both ml", "coder 2", "classifier"): (7, 0.5, 0.506329),
}


@pytest.fixture
def coded_db(study_db_path: Path, tmp_path: Path) -> Path:
    """A copy of the study database whose classifier labels of the sheet's 12 questions are CLASSIFIER."""
    return coded_copy(study_db_path, tmp_path / "coded.duckdb")


def _run(*args: str):
    return CliRunner().invoke(cli, ["agreement", *args], catch_exceptions=False)


def _codes(db: Path) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT sheet, post_id, coder, platforms, ml, stage, stage2, note, line FROM human_codes "
                           "ORDER BY sheet, post_id, coder").fetchall()
    finally:
        con.close()


def test_agreement_prints_the_hand_computed_table_and_leaves_the_database_alone(coded_db: Path) -> None:
    before = coded_db.read_bytes()
    result = _run(str(SHEET), "--db", str(coded_db))
    assert result.exit_code == 0, result.output
    assert result.output == EXPECTED
    assert coded_db.read_bytes() == before


def test_each_pair_matches_the_hand_calculation(coded_db: Path) -> None:
    from pipeline.evaluate.agreement import sheet_agreement
    from pipeline.evaluate.human_codes import machine_labels
    from pipeline.steps import connect

    con = connect(coded_db, read_only=True)
    sheet = read_sheet(SHEET)
    table = sheet_agreement(sheet, machine_labels(con, sheet)).set_index(["family", "rater_a", "rater_b"])
    con.close()
    for key, (n, kappa, alpha) in BY_HAND.items():
        assert table.loc[key, "n"] == n, key
        assert table.loc[key, "kappa"] == pytest.approx(kappa, abs=1e-6), key
        assert table.loc[key, "alpha"] == pytest.approx(alpha, abs=1e-6), key


def test_the_sheet_is_read_as_coded(tmp_path: Path) -> None:
    sheet = read_sheet(SHEET)
    assert (sheet.name, len(sheet.questions), sheet.coded_by(1), sheet.coded_by(2)) == ("coded_sheet.csv", 12, 11, 11)
    by_id = {q.post_id: q for q in sheet.questions}
    assert 2 not in by_id[71283626].codes and 1 not in by_id[74938099].codes
    one = by_id[70744256].codes[1]
    assert (one.platforms, one.ml, one.stage, one.stage2) == (("colab",), True, "model-training", "environment")
    assert by_id[73290699].codes[2].platforms == ()  # "none" is no platform
    assert by_id[74966513].codes[1].stage == "none"  # ml = no with stage written as none
    # rows span lines (bodies hold newlines): each question's line is where its row starts
    lines = SHEET.read_text(encoding="utf-8").splitlines()
    assert all(lines[q.line - 1].startswith(f'"{SITE}",{q.post_id},') for q in sheet.questions)


def test_load_writes_every_code_replaces_the_sheet_on_reload_and_refuses_clashes(coded_db: Path, tmp_path: Path) -> None:
    result = _run(str(SHEET), "--db", str(coded_db), "--load")
    assert result.exit_code == 0, result.output
    assert result.output.endswith("loaded 22 codes of 12 questions into human_codes as sheet 'coded_sheet.csv' "
                                  "(its earlier rows replaced)\n")
    rows = _codes(coded_db)
    assert len(rows) == 22 and {r[0] for r in rows} == {"coded_sheet.csv"}
    assert rows[0][1:8] == (70744256, 1, ["colab"], True, "model-training", "environment", None)
    assert [r for r in rows if r[1] == 72341470 and r[2] == 2][0][3:8] == (
        ["jupyter"], True, "data-preparation", "feature-engineering", "scaling before the split")
    # a changed code, loaded again under the same name: the sheet's rows are replaced, not added
    changed = tmp_path / "coded_sheet.csv"
    changed.write_text(SHEET.read_text(encoding="utf-8").replace(
        '"environment","","colab","yes","model-training"', '"environment","","colab","yes","deployment"'),
        encoding="utf-8")
    assert _run(str(changed), "--db", str(coded_db), "--load").exit_code == 0
    again = _codes(coded_db)
    assert len(again) == 22 and [r for r in again if r[1] == 70744256 and r[2] == 2][0][5] == "deployment"
    # the same questions under another sheet's name: refused by name, nothing written
    result = CliRunner().invoke(cli, ["agreement", str(SHEET), "--db", str(coded_db), "--load", "--sheet", "pilot.csv"])
    assert result.exit_code != 0
    assert "pilot.csv: stackoverflow.com 70744256 (in sheet coded_sheet.csv)" in str(result.exception)
    assert "and 7 more are already coded in another sheet" in str(result.exception)
    assert _codes(coded_db) == again


def test_a_sheet_with_questions_the_database_lacks_is_refused_by_name(coded_db: Path, tmp_path: Path) -> None:
    from pipeline.evaluate.human_codes import SheetRefused, load
    from pipeline.steps import connect

    text = SHEET.read_text(encoding="utf-8").replace(f'"{SITE}",73107184,', f'"{SITE}",1,', 1)
    stray = tmp_path / "stray.csv"
    stray.write_text(text, encoding="utf-8")
    line = read_sheet(stray).questions[[q.post_id for q in read_sheet(stray).questions].index(1)].line
    con = connect(coded_db)
    try:
        with pytest.raises(SheetRefused, match=rf"^stray.csv: stackoverflow.com 1 \(line {line}\) is not in this "
                                               r"database \(no stored labels\)\. What to fix: load the sheet into"):
            load(con, read_sheet(stray))
    finally:
        con.close()
    assert _codes(coded_db) == []


def _broken(tmp_path: Path, old: str, new: str, count: int = 1) -> Path:
    text = SHEET.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "broken.csv"
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return path


def _line_of(post_id: int) -> int:
    return {q.post_id: q.line for q in read_sheet(SHEET).questions}[post_id]


@pytest.mark.parametrize(("old", "new", "post_id", "message"), [
    ('"colab","yes","model-training","environment"', '"colab","maybe","model-training","environment"', 70744256,
     "coder1_ml is 'maybe'\n  What to fix: write yes or no"),
    ('"jupyter","yes","environment","","ipykernel traceback"', '"jupyter","yes","training","","ipykernel traceback"',
     71119326, "coder1_stage is 'training', not a codebook stage\n  What to fix: use one of: problem-formulation,"),
    ('"kaggle","yes","feature-engineering"', '"kaggel","yes","feature-engineering"', 74906232,
     "coder1_platforms has 'kaggel'\n  What to fix: use the codebook's platforms, ';'-separated: jupyter, colab,"),
    ('"","no","","","loading data only"', '"","no","data-collection","","loading data only"', 73107184,
     "coder1_stage is 'data-collection' but coder1_ml is no\n  What to fix: a question outside ML has no stage"),
    ('"","yes","interpretability","",""', '"","yes","","",""', 72626523,
     "coder1_stage is empty but ml is yes\n  What to fix: give the primary stage, one of: problem-formulation,"),
    ('"","yes","model-training","feature-engineering"', '"","yes","model-training","model-training"', 73290699,
     "coder1_stage2 repeats the primary stage 'model-training'"),
    ('"","","","","","","yes","problem-formulation"', '"","","problem-formulation","","","","yes","problem-formulation"',
     74938099, "coder1_ml is empty but coder1_stage is filled\n  What to fix: write yes or no in coder1_ml, or empty"),
    (f'"{SITE}",72626523,', f'"{SITE}",72626523x,', 72626523, "post_id '72626523x' is not a number"),
])
def test_a_malformed_row_is_refused_with_file_line_and_what_to_fix(tmp_path: Path, old, new, post_id, message) -> None:
    path = _broken(tmp_path, old, new)
    with pytest.raises(CodingSheetError) as caught:
        read_sheet(path)
    assert str(caught.value).startswith(f"{path}, line {_line_of(post_id)}: {message}")
    assert str(caught.value).endswith("Nothing was loaded.")


def test_a_malformed_file_is_refused_with_what_to_fix(tmp_path: Path) -> None:
    text = SHEET.read_text(encoding="utf-8")
    header, first = text.split("\n", 1)[0], _line_of(70744256)
    cases = {
        "duplicate.csv": (text + text.split("\n", 1)[1].split(f'"{SITE}",71119326,')[0],
                          f"line {text.count(chr(10)) + 1}: codes stackoverflow.com 70744256 again (already on line {first})"),
        "no_coder2.csv": (text.replace(',"coder2_note"', "", 1),
                          "line 1: lacks the columns coder2_note\n  What to fix: code the blind coding_sample.csv"),
        "semicolons.csv": (header.replace(",", ";") + "\n", "save it as comma-separated CSV (this file separates cells with ';')"),
        "labelled.csv": ("stratum_platform,stratum_stage,site,post_id,platforms,ml,stage,code_ml,coder\n",
                         "this is the labelled sheet (coding_sample_with_labels.csv)"),
        "empty.csv": ("", "line 1: is empty"),
        "uncoded.csv": (header + "\n" + ",".join([f'"{SITE}"', "1"] + [""] * 18) + "\n", "no question is coded"),
    }
    for name, (content, message) in cases.items():
        path = tmp_path / name
        path.write_text(content, encoding="utf-8")
        with pytest.raises(CodingSheetError) as caught:
            read_sheet(path)
        assert message in str(caught.value), name
        assert str(caught.value).startswith(str(path)), name
    latin = tmp_path / "latin1.csv"
    latin.write_bytes(header.encode() + "\n".encode() + "café".encode("latin-1"))
    with pytest.raises(CodingSheetError, match="line 2: is not UTF-8 text\n  What to fix: save the sheet as CSV UTF-8"):
        read_sheet(latin)
    result = CliRunner().invoke(cli, ["agreement", str(tmp_path / "empty.csv")])
    assert result.exit_code != 0 and isinstance(result.exception, CodingSheetError)
