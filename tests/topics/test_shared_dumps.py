"""`stackmine topics` then `stackmine stages` on the team's real dumps, with the network cut off.

The SEDE export (Stack Overflow 2022, data-science tag) and both ai.stackexchange.com snapshots
(2016-12, then 2017-03 replacing it) go through the real ingest → text → classify → topics →
stages chain. This module also holds the suite's ONE slow topics test: the UMAP + HDBSCAN path
(numba compiles UMAP once, about 40 s), fitted twice to show it is deterministic.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from flows.cli import cli
from flows.cli import all_commands
from pipeline.steps import connect
from pipeline.coverage.table import STAGES
from tests.support import SHARED_DATA

pytestmark = pytest.mark.shared

for _command in all_commands():
    cli.add_command(_command)

SOURCES = (
    SHARED_DATA / "sede" / "stackoverflow.com" / "data-science-questions-2022.csv",
    SHARED_DATA / "dumps" / "2016-12" / "ai.stackexchange.com",
    SHARED_DATA / "dumps" / "2017-03" / "ai.stackexchange.com",
)


def _refuse(*args, **kwargs):
    raise AssertionError("network access attempted")


@pytest.fixture(scope="module")
def offline():
    """No socket may connect while these tests run; the hub is told to stay offline too."""
    patch = pytest.MonkeyPatch()
    patch.setattr(socket.socket, "connect", _refuse)
    patch.setattr(socket, "create_connection", _refuse)
    patch.setenv("HF_HUB_OFFLINE", "1")
    yield
    patch.undo()


@pytest.fixture(scope="module")
def real_db(tmp_path_factory: pytest.TempPathFactory, offline: None) -> Path:
    """Real dumps ingested, parsed and classified by the CLI, as a user would."""
    path = tmp_path_factory.mktemp("real_topics") / "real.duckdb"
    runner = CliRunner()
    for source in SOURCES:
        result = runner.invoke(cli, ["ingest", "--db", str(path), str(source)])
        assert result.exit_code == 0, result.output
    for step in ("text", "classify"):
        result = runner.invoke(cli, [step, "--db", str(path)])
        assert result.exit_code == 0, result.output
    return path


@pytest.mark.slow
def test_topics_then_stages_offline(real_db: Path) -> None:
    runner = CliRunner()
    topics = runner.invoke(cli, ["topics", "--db", str(real_db)])
    assert topics.exit_code == 0, topics.output
    table = runner.invoke(cli, ["stages", "--db", str(real_db)])
    assert table.exit_code == 0, table.output
    con = connect(real_db, read_only=True)
    try:
        notebook_ml = con.execute("SELECT count(*) FROM question_labels WHERE notebook AND ml").fetchall()[0][0]
        baseline = con.execute("SELECT count(*) FROM question_labels WHERE NOT notebook AND ml").fetchall()[0][0]
        n_docs, n_topics = con.execute("SELECT n_docs, n_topics FROM topic_models").fetchall()[0]
        dumps = con.execute("SELECT DISTINCT dump_id FROM question_topics").fetchall()
        verdicts = dict(con.execute(
            "SELECT stage, verdict FROM stage_coverage WHERE site = '*' AND scope = 'all'").fetchall())
        unsupported = {stage for (stage,) in con.execute(
            "SELECT stage FROM stage_coverage WHERE site = '*' AND scope = 'all' AND gold_support < 20").fetchall()}
    finally:
        con.close()
    assert n_docs == notebook_ml > 0
    assert n_topics == round((notebook_ml / 2) ** 0.5)
    assert f"{notebook_ml} questions, {n_topics} topics (fitted)" in topics.output
    assert len(dumps) >= 1
    stages = [line.split()[0] for line in table.stdout.splitlines()[1:]]
    assert stages == list(STAGES)  # all 15, including stages no question is about
    n_notebook = sum(int(line.split()[1]) for line in table.stdout.splitlines()[1:])
    assert n_notebook == notebook_ml and baseline > 0
    # every stage gets one of the rules' verdicts; none is "skipped" on a zero count, and a stage with
    # fewer than 20 gold questions (fairness-bias has none) cannot be judged
    assert sorted(verdicts) == sorted(STAGES)
    assert set(verdicts.values()) <= {"more discussed", "less discussed", "rare", "on par", "undetermined"}
    assert "fairness-bias" in unsupported and all(verdicts[s] == "undetermined" for s in unsupported)


@pytest.mark.slow
def test_umap_hdbscan_path_is_deterministic(real_db: Path) -> None:
    """The one slow test: every question of every site, UMAP + HDBSCAN, fitted twice."""
    runner = CliRunner()
    args = ["topics", "--db", str(real_db), "--notebook", "any", "--ml", "any", "--reducer", "umap", "--clusterer", "hdbscan"]
    first = runner.invoke(cli, args)
    assert first.exit_code == 0, first.output
    con = connect(real_db, read_only=True)
    try:
        model_id, n_docs, params = con.execute(
            "SELECT topic_model_id, n_docs, parameters->>'reducer' FROM topic_models WHERE n_docs > 1000").fetchall()[0]
        rows = con.execute("SELECT * FROM question_topics WHERE topic_model_id = ? ORDER BY ALL", [model_id]).fetchall()
        total = con.execute("SELECT count(*) FROM question_labels").fetchall()[0][0]
    finally:
        con.close()
    second = runner.invoke(cli, args + ["--force"])
    assert second.exit_code == 0, second.output
    con = connect(real_db, read_only=True)
    try:
        again = con.execute("SELECT * FROM question_topics WHERE topic_model_id = ? ORDER BY ALL", [model_id]).fetchall()
    finally:
        con.close()
    assert (n_docs, params) == (total, "umap")
    assert again == rows
