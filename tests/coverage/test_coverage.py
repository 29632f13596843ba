"""The stages step on the bundled sample (real questions, real labels): raw counts exact, corrected
shares and verdicts as the estimator gives them, rows kept per selection, the topic mapping checked
against gold labels."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from flows.cli import cli
from flows.cli import all_commands
from pipeline.core.codebook import STAGES
from pipeline.core.errors import CoverageError, StackmineError
from pipeline.core.selection import Selection
from pipeline.coverage.overrides import OverrideFileError
from pipeline.coverage.stats import newcombe, wilson
from pipeline.coverage.table import GOLD_PREDICTIONS, STEP, read_coverage, run_stages, selection_id, write_review
from pipeline.steps import connect

for _command in all_commands():
    cli.add_command(_command)


@pytest.fixture
def staged_db(study_db_path: Path, tmp_path: Path) -> Path:
    """A private copy of the sample with the default topic model fitted (conftest's study_db_path)."""
    path = tmp_path / "staged.duckdb"
    shutil.copyfile(study_db_path, path)
    return path


def test_wilson_and_newcombe_known_values() -> None:
    # Newcombe (1998), Table II example: 56/70 vs 48/80 → difference 0.2000, method 10: 0.0524 to 0.3339
    diff, low, high = newcombe(56, 70, 48, 80)
    assert (round(diff, 4), round(low, 4), round(high, 4)) == (0.2, 0.0524, 0.3339)
    # Wilson for 0/10 (Newcombe 1998 Table I, 0/10: 0 to 0.2775)
    assert tuple(round(v, 4) for v in wilson(0, 10)) == (0.0, 0.2775)
    assert wilson(0, 379)[0] == 0.0 and wilson(379, 379)[1] == 1.0  # exact at the edges, not a rounding hair off


def test_raw_counts_are_exact_and_the_corrected_table_is_complete(staged_db: Path) -> None:
    con = connect(staged_db)
    try:
        run = run_stages(con, Selection())
        # independent counts straight from question_labels
        expected = dict(con.execute(
            "SELECT stage, count(*) FILTER (WHERE notebook) FROM question_labels WHERE ml GROUP BY stage").fetchall())
        # pooled baseline: sites with notebook ML questions only (the sample: stackoverflow.com, not ai.stackexchange)
        base = dict(con.execute(
            "SELECT stage, count(*) FILTER (WHERE NOT notebook) FROM question_labels WHERE ml AND site IN "
            "(SELECT site FROM question_labels WHERE notebook AND ml) GROUP BY stage").fetchall())
        total_nb, total_base = sum(expected.values()), sum(base.values())
        rows = {r["stage"]: r for r in read_coverage(con).to_dict("records")}
        groups = con.execute("SELECT DISTINCT site, scope, grp FROM stage_coverage ORDER BY ALL").fetchall()
        per_group = con.execute("SELECT count(*) FROM stage_coverage GROUP BY site, scope, grp").fetchall()
        databricks = con.execute("SELECT DISTINCT verdict, reason FROM stage_coverage "
                                 "WHERE site = '*' AND scope = 'platform' AND grp = 'databricks'").fetchall()
    finally:
        con.close()
    assert (run.n_notebook, run.n_baseline, run.selection_id) == (total_nb, total_base, selection_id(Selection()))
    assert list(rows) == list(STAGES) and {n for (n,) in per_group} == {15}
    for stage, r in rows.items():
        assert (r["n_notebook"], r["total_notebook"]) == (expected.get(stage, 0), total_nb)
        assert (r["n_baseline"], r["total_baseline"]) == (base.get(stage, 0), total_base)
        assert r["raw_share_notebook"] == r["n_notebook"] / total_nb
        assert (r["raw_diff"], r["raw_diff_low"], r["raw_diff_high"]) == newcombe(r["n_notebook"], total_nb,
                                                                                  r["n_baseline"], total_base)
        assert r["verdict"] in {"more discussed", "less discussed", "rare", "on par", "undetermined"} and r["reason"]
        assert 0.0 <= r["share_notebook_low"] <= r["share_notebook_high"] <= 1.0
    # corrected shares: a distribution over the stages estimated alone and the pool of rare ones
    alone = [r["share_notebook"] for r in rows.values() if r["estimated_as"] == r["stage"]]
    pooled = {r["share_notebook_high"] for r in rows.values() if r["estimated_as"] == "pooled-rare"}
    assert sum(alone) <= 1.0 + 1e-9 and len(pooled) == 1
    # nothing is "skipped" on a zero count: fairness-bias at 0 notebook questions has too few gold questions
    assert (rows["fairness-bias"]["n_notebook"], rows["fairness-bias"]["verdict"]) == (0, "undetermined")
    assert rows["fairness-bias"]["reason"].startswith("gold-support=")
    # a platform group of one question cannot decide anything
    assert [v for v, _ in databricks] == ["undetermined"] and all(why.startswith("group-too-small") for _, why in databricks)
    assert sum(r["topic_questions"] for r in rows.values()) == total_nb  # k-means: every question in a mapped topic
    assert ("*", "platform", "jupyter") in groups and ("stackoverflow.com", "year", "2022") in groups
    assert ("ai.stackexchange.com", "all", "all") in groups


def test_a_selection_keeps_its_own_rows(staged_db: Path) -> None:
    """`stages --platform colab` used to replace the study's pooled rows; now each selection has its own."""
    con = connect(staged_db)
    try:
        run_stages(con, Selection())
        study = read_coverage(con)
        colab = Selection(platforms=("colab",))
        run_stages(con, colab)
        pd.testing.assert_frame_equal(read_coverage(con), study)
        colab_rows = read_coverage(con, colab)
        keys = con.execute("SELECT DISTINCT selection_id FROM stage_coverage ORDER BY 1").fetchall()
    finally:
        con.close()
    assert sorted(k for (k,) in keys) == sorted([selection_id(Selection()), selection_id(colab)])
    assert colab_rows["total_notebook"].iloc[0] < study["total_notebook"].iloc[0]
    assert set(colab_rows["total_baseline"]) == set(study["total_baseline"])  # the baseline has no platform


def test_labels_of_another_classifier_are_refused(staged_db: Path, tmp_path: Path) -> None:
    gold = tmp_path / "gold.csv"
    text = Path(STEP.rule_file(GOLD_PREDICTIONS)).read_text(encoding="utf-8")
    version = text.splitlines()[1].rsplit(",", 1)[1]
    gold.write_text(text.replace(version, "classify-0+something-else"), encoding="utf-8")
    con = connect(staged_db)
    try:
        before = con.execute("SELECT * FROM stage_coverage ORDER BY ALL").fetchall()
        with pytest.raises(CoverageError, match="were measured for classify-0"):
            run_stages(con, Selection(), gold=gold)
        assert con.execute("SELECT * FROM stage_coverage ORDER BY ALL").fetchall() == before
    finally:
        con.close()


def test_a_topic_whose_members_gold_labels_disagree_is_flagged(staged_db: Path, tmp_path: Path) -> None:
    con = connect(staged_db)
    try:
        model = con.execute("SELECT topic_model_id FROM topic_models").fetchall()[0][0]
        members = {pid for (pid,) in con.execute(
            "SELECT post_id FROM question_topics WHERE topic_id = 1 AND topic_model_id = ?", [model]).fetchall()}
        main = con.execute("SELECT stage FROM topic_stages WHERE topic_id = 1 AND rank = 1").fetchall()[0][0]
        gold = tmp_path / "gold.csv"
        lines = Path(STEP.rule_file(GOLD_PREDICTIONS)).read_text(encoding="utf-8").splitlines()
        header = lines[0].split(",")
        edited = [lines[0]]
        for line in lines[1:]:  # the topic's gold-labelled members now say: deployment
            cells = line.split(",")
            if int(cells[header.index("post_id")]) in members and cells[header.index("gold_ml")] == "yes":
                cells[header.index("gold_stage")], cells[header.index("gold_stage2")] = "deployment", ""
            edited.append(",".join(cells))
        gold.write_text("\n".join(edited) + "\n", encoding="utf-8")
        shipped = {r.topic_id: r.evidence["gold_check"] for r in run_stages(con, Selection()).flagged}
        run = run_stages(con, Selection(), gold=gold)
    finally:
        con.close()
    # On the sample, the shipped labels already flag topics 0 and 5 (their members' gold stages
    # mostly differ from the mapped one); the edit flags topic 1 beside them and changes nothing else.
    assert sorted(shipped) == [0, 5] and all(c["needs_review"] for c in shipped.values())
    assert main != "deployment" and [r.topic_id for r in run.flagged] == [0, 1, 5]
    assert {r.topic_id: r.evidence["gold_check"] for r in run.flagged if r.topic_id != 1} == shipped
    topic1 = [r for r in run.flagged if r.topic_id == 1]
    check = topic1[0].evidence["gold_check"]
    assert check["gold_agreement"] == 0.0 and check["gold_questions"] >= 3 and check["needs_review"]
    review = tmp_path / "review.csv"
    assert write_review(review, topic1, model) == 1
    lines = review.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "topic_model_id,topic_id,stage,stage2,reviewer,note"
    assert lines[1].startswith(f'{model},1,deployment,,,"flagged: mapped to {main}, but 0% of its')


def test_rerun_is_identical(staged_db: Path) -> None:
    con = connect(staged_db)
    try:
        run_stages(con, Selection())
        first = con.execute("SELECT * FROM stage_coverage ORDER BY ALL").fetchall()
        mapping = con.execute("SELECT * FROM topic_stages ORDER BY ALL").fetchall()
        run_stages(con, Selection())
        assert con.execute("SELECT * FROM stage_coverage ORDER BY ALL").fetchall() == first
        assert con.execute("SELECT * FROM topic_stages ORDER BY ALL").fetchall() == mapping
    finally:
        con.close()


def test_override_csv_applied_and_bad_rows_named(staged_db: Path, tmp_path: Path) -> None:
    con = connect(staged_db)
    try:
        model = con.execute("SELECT topic_model_id FROM topic_models").fetchall()[0][0]
        good = tmp_path / "overrides.csv"
        good.write_text("topic_model_id,topic_id,stage,stage2,reviewer,note\n"
                        f"{model},3,environment,deployment,rev1,install and import questions\n"
                        "0000000000000000,1,monitoring,,rev1,another model: ignored\n")
        run_stages(con, Selection(), overrides=good)
        rows = con.execute("SELECT rank, stage, score, source, evidence FROM topic_stages "
                           "WHERE topic_id = 3 ORDER BY rank").fetchall()
        untouched = con.execute("SELECT DISTINCT source FROM topic_stages WHERE topic_id <> 3").fetchall()
        before = con.execute("SELECT * FROM topic_stages ORDER BY ALL").fetchall()
        bad = tmp_path / "bad.csv"
        bad.write_text("topic_model_id,topic_id,stage,stage2,reviewer,note\n"
                       f"{model},3,environment,,rev1,ok\n{model},4,notebooks,,rev1,not a stage\n")
        with pytest.raises(OverrideFileError, match=r"bad.csv, line 3: stage 'notebooks' is not a codebook stage"):
            run_stages(con, Selection(), overrides=bad)
        assert con.execute("SELECT * FROM topic_stages ORDER BY ALL").fetchall() == before
        missing = tmp_path / "missing.csv"
        missing.write_text(f"topic_model_id,topic_id,stage,stage2,reviewer,note\n{model},99,environment,,rev1,no such topic\n")
        with pytest.raises(StackmineError, match=rf"missing.csv, line 2: topic 99 is not a topic of model {model}"):
            run_stages(con, Selection(), overrides=missing)
        assert con.execute("SELECT * FROM topic_stages ORDER BY ALL").fetchall() == before
    finally:
        con.close()
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [(1, "environment", 1.0, "override"), (2, "deployment", 0.5, "override")]
    evidence = json.loads(rows[0][4])
    assert evidence["override"]["reviewer"] == "rev1" and evidence["override"]["line"] == 2
    assert evidence["computed"]  # what the review replaced stays visible
    assert untouched == [("members+terms",)]


def test_cli_topics_then_stages_prints_all_stages(staged_db: Path) -> None:
    runner = CliRunner()
    topics = runner.invoke(cli, ["topics", "--db", str(staged_db)])
    assert topics.exit_code == 0, topics.output
    assert "questions, 6 topics (unchanged, skipped)" in topics.output
    table = runner.invoke(cli, ["stages", "--db", str(staged_db)])
    assert table.exit_code == 0, table.output
    header, *body = table.stdout.splitlines()
    assert header.split() == ["stage", "n_nb", "raw_nb", "corrected_nb", "[95%]", "raw_base", "corrected_base",
                              "diff", "[95%]", "verdict", "reason"]
    assert [line.split()[0] for line in body] == list(STAGES)
    as_json = json.loads(runner.invoke(cli, ["stages", "--db", str(staged_db), "--format", "json"]).stdout)
    assert [r["stage"] for r in as_json] == list(STAGES)
    total = as_json[0]["total_notebook"]
    assert sum(r["n_notebook"] for r in as_json) == total
    assert math.isclose(sum(r["raw_share_notebook"] for r in as_json), 1.0)
    assert {r["verdict"] for r in as_json} <= {"more discussed", "less discussed", "rare", "on par", "undetermined"}
    csv_out = runner.invoke(cli, ["stages", "--db", str(staged_db), "--by", "platform", "--format", "csv"]).stdout
    header, *body = csv_out.splitlines()
    assert header.startswith("platform,stage,n_notebook,total_notebook,raw_share_notebook,share_notebook")
    assert len(body) % 15 == 0 and {line.split(",")[0] for line in body} >= {"jupyter", "colab"}
    markdown = runner.invoke(cli, ["stages", "--db", str(staged_db), "--by", "year", "--format", "markdown"]).stdout
    assert markdown.startswith("| year | stage |") and "| 2022 | environment |" in markdown


def test_shares_do_not_depend_on_blas_threads(staged_db: Path) -> None:
    """Stored shares are the same to the last bit with one BLAS thread or several (a threaded
    matrix product changed the last digits, and so the bytes of an export's stage_coverage.csv)."""
    from threadpoolctl import threadpool_limits

    con = connect(staged_db)
    try:
        stored = []
        for threads in (2, 1):
            with threadpool_limits(limits=threads):
                run_stages(con, Selection())
            stored.append(con.execute("SELECT * FROM stage_coverage ORDER BY ALL").fetchall())
    finally:
        con.close()
    assert stored[0] == stored[1]
