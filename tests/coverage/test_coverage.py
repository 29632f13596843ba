"""Stage coverage and topic→stage mapping on the bundled sample (real questions, real labels)."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from flows.cli import cli
from flows.cli import all_commands
from pipeline.coverage.stats import StageCount, coverage, newcombe, wilson
from pipeline.steps import connect
from pipeline.core.errors import StackmineError
from pipeline.core.selection import Selection
from pipeline.coverage.overrides import OverrideFileError
from pipeline.coverage.table import STAGES, run_stages

for _command in all_commands():
    cli.add_command(_command)


@pytest.fixture
def staged_db(study_db_path: Path, tmp_path: Path) -> Path:
    """A private copy of the sample with the default topic model fitted (conftest's study_db_path)."""
    path = tmp_path / "staged.duckdb"
    shutil.copyfile(study_db_path, path)
    return path


def test_stage_list_is_the_codebook() -> None:
    from pipeline.evaluate.gold import STAGES as EVALUATED

    assert STAGES == EVALUATED and len(STAGES) == 15


def test_wilson_and_newcombe_known_values() -> None:
    # Newcombe (1998), Table II example: 56/70 vs 48/80 → difference 0.2000, method 10: 0.0524 to 0.3339
    diff, low, high = newcombe(56, 70, 48, 80)
    assert (round(diff, 4), round(low, 4), round(high, 4)) == (0.2, 0.0524, 0.3339)
    # Wilson for 0/10 (Newcombe 1998 Table I, 0/10: 0 to 0.2775)
    assert tuple(round(v, 4) for v in wilson(0, 10)) == (0.0, 0.2775)
    assert wilson(0, 379)[0] == 0.0 and wilson(379, 379)[1] == 1.0  # exact at the edges, not a rounding hair off


def test_verdicts() -> None:
    assert coverage(StageCount("monitoring", 0, 61, 0, 647)).verdict == "skipped"
    assert coverage(StageCount("problem-formulation", 3, 61, 126, 647)).verdict == "under-discussed"
    assert coverage(StageCount("environment", 7, 61, 19, 647)).verdict == "discussed"
    empty = coverage(StageCount("deployment", 2, 2, 0, 0))
    assert (empty.share_baseline, empty.diff, empty.verdict) == (None, None, "discussed")


def test_coverage_exact_on_sample(staged_db: Path) -> None:
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
        total_base = sum(base.values())
        rows = con.execute(
            "SELECT stage, n_notebook, total_notebook, share_notebook, n_baseline, total_baseline, diff, ci_low, ci_high, "
            "verdict, n_topics, topic_questions FROM stage_coverage WHERE site = '*' AND scope = 'all'").fetchall()
        groups = con.execute("SELECT DISTINCT site, scope, grp FROM stage_coverage ORDER BY ALL").fetchall()
        per_group = con.execute("SELECT count(*) FROM stage_coverage GROUP BY site, scope, grp").fetchall()
    finally:
        con.close()
    assert (run.n_notebook, run.n_baseline) == (64, total_base)
    assert sorted(r[0] for r in rows) == sorted(STAGES)  # all 15, zeros included
    assert {n for (n,) in per_group} == {15}
    by_stage = {r[0]: r for r in rows}
    for stage in STAGES:
        _, n_nb, t_nb, share, n_base, t_base, diff, low, high, verdict, _, _ = by_stage[stage]
        assert (n_nb, t_nb, n_base, t_base) == (expected.get(stage, 0), 64, base.get(stage, 0), total_base)
        assert share == n_nb / 64
        assert (diff, low, high) == newcombe(n_nb, 64, n_base, total_base)
    training = by_stage["model-training"]
    assert training[1:3] == (expected["model-training"], 64)
    assert by_stage["monitoring"][9] == "skipped"
    assert sum(r[11] for r in rows) == 64  # k-means leaves no outliers: every question is in a mapped topic
    assert ("*", "platform", "jupyter") in groups and ("stackoverflow.com", "year", "2022") in groups
    assert ("ai.stackexchange.com", "all", "all") in groups


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
    assert "64 questions, 6 topics (unchanged, skipped)" in topics.output
    table = runner.invoke(cli, ["stages", "--db", str(staged_db)])
    assert table.exit_code == 0, table.output
    lines = [line.split()[0] for line in table.stdout.splitlines()[1:]]
    assert lines == list(STAGES)
    verdicts = {line.split()[8] for line in table.stdout.splitlines()[1:]}
    assert "skipped" in verdicts and verdicts <= {"discussed", "under-discussed", "skipped"}
    as_json = json.loads(runner.invoke(cli, ["stages", "--db", str(staged_db), "--format", "json"]).stdout)
    assert [r["stage"] for r in as_json] == list(STAGES)
    assert sum(r["n_notebook"] for r in as_json) == 64
    csv_out = runner.invoke(cli, ["stages", "--db", str(staged_db), "--by", "platform", "--format", "csv"]).stdout
    header, *body = csv_out.splitlines()
    assert header.startswith("platform,stage,n_notebook")
    assert len(body) % 15 == 0 and {line.split(",")[0] for line in body} >= {"jupyter", "colab"}
    markdown = runner.invoke(cli, ["stages", "--db", str(staged_db), "--by", "year", "--format", "markdown"]).stdout
    assert markdown.startswith("| year | stage |") and "| 2022 | environment |" in markdown
    shares = [r["share_notebook"] for r in as_json]
    assert math.isclose(sum(shares), 1.0)
