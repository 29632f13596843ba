"""Every file in queries/ runs on the sample database built by the real pipeline.

Checks: the header's columns are exactly the result's; defaults written in the header are the ones
the SQL falls back to; results agree with counts computed independently from the tables; and the
files run unchanged in the DuckDB shell.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipeline.core import queries

ALL = queries.list_queries()
REQUIRED = {
    "platform_questions_per_year", "ml_share_per_platform", "stage_coverage_by_platform", "unanswered_by_stage",
    "notebook_cooccurring_tags", "questions_per_topic", "topic_trends", "environment_vs_ml_step_share",
    "pretrained_finetuning_mentions", "responsible_ml_mentions", "most_viewed_per_stage", "dataset_provenance",
    "stage_coverage_vs_baseline",
}


@pytest.fixture(scope="module")
def con(study_db_path: Path):
    connection = queries.open_read_only(study_db_path)
    yield connection
    connection.close()


def _run(con, name: str, **params: str) -> list[dict]:
    return queries.run_query(con, queries.load_query(name), params).to_pylist()


def _fetch(db: Path, sql: str, one: bool = True):
    """Independent answer straight from the tables (not through the query files), to check them against."""
    raw = duckdb.connect(str(db), read_only=True)
    try:
        cursor = raw.execute(sql)
        return cursor.fetchone() if one else cursor.fetchall()
    finally:
        raw.close()


def test_the_library_has_the_required_analyses() -> None:
    assert REQUIRED <= {q.name for q in ALL}
    assert len(ALL) >= 12


@pytest.mark.parametrize("query", ALL, ids=[q.name for q in ALL])
def test_query_returns_its_declared_columns_and_rows(con, query: queries.Query) -> None:
    table = queries.run_query(con, query)
    assert tuple(table.column_names) == query.columns
    assert table.num_rows > 0, f"{query.name} found nothing on the sample"


@pytest.mark.parametrize("query", [q for q in ALL if q.params], ids=[q.name for q in ALL if q.params])
def test_header_defaults_are_what_the_sql_falls_back_to(con, query: queries.Query) -> None:
    for param in query.params:
        assert f"getvariable('{param.name}')" in query.sql, param.name
    explicit = {p.name: p.default for p in query.params}
    assert queries.run_query(con, query, explicit).equals(queries.run_query(con, query))


def test_platform_questions_per_year_counts_each_platform_of_a_question(con, study_db_path: Path) -> None:
    rows = _run(con, "platform_questions_per_year")
    labels = _fetch(study_db_path, "SELECT platforms FROM question_labels WHERE notebook", one=False)
    expected: dict[str, int] = {}
    for (platforms,) in labels:
        for p in platforms:
            expected[p] = expected.get(p, 0) + 1
    assert {r["platform"]: r["questions"] for r in rows} == expected
    assert {(r["site"], r["year"]) for r in rows} == {("stackoverflow.com", 2022)}  # ai has no notebook questions
    assert _run(con, "platform_questions_per_year", max_year="2021") == []


def test_ml_share_and_environment_share_agree_with_labels(con, study_db_path: Path) -> None:
    shares = {r["platform"]: r for r in _run(con, "ml_share_per_platform")}
    env = {r["platform"]: r for r in _run(con, "environment_vs_ml_step_share")}
    none_total, none_ml, none_env = _fetch(
        study_db_path,
        "SELECT count(*), count(*) FILTER (WHERE ml), count(*) FILTER (WHERE ml AND stage = 'environment') "
        "FROM question_labels WHERE NOT notebook",
    )
    assert (shares["none"]["questions"], shares["none"]["ml_questions"]) == (none_total, none_ml)
    assert (env["none"]["ml_questions"], env["none"]["environment"]) == (none_ml, none_env)
    for platform, row in env.items():
        assert row["ml_questions"] == shares[platform]["ml_questions"]
        assert row["environment"] + row["ml_step"] == row["ml_questions"]


def test_stage_coverage_by_platform_shares_sum_to_one(con) -> None:
    rows = _run(con, "stage_coverage_by_platform")
    totals: dict[str, float] = {}
    for r in rows:
        totals[r["platform"]] = totals.get(r["platform"], 0.0) + r["questions"] / r["platform_questions"]
    assert all(abs(total - 1.0) < 1e-9 for total in totals.values())
    assert "none" in totals and "jupyter" in totals


def test_unanswered_and_time_to_accepted_on_the_ai_dump(con, study_db_path: Path) -> None:
    rows = _run(con, "unanswered_by_stage", notebook_only="false")
    ml, unanswered, accepted = _fetch(
        study_db_path,
        "SELECT count(*), count(*) FILTER (WHERE p.answer_count = 0), count(p.accepted_answer_id) "
        "FROM question_labels l JOIN posts p ON p.site = l.site AND p.id = l.post_id WHERE l.ml",
    )
    assert sum(r["questions"] for r in rows) == ml
    assert sum(r["unanswered"] for r in rows) == unanswered
    assert sum(r["accepted"] for r in rows) == accepted > 0  # answers exist only in the ai dump
    assert all(r["median_hours_to_accepted"] is None or r["median_hours_to_accepted"] >= 0 for r in rows)


def test_mentions_count_text_matches_independently_of_labels(con) -> None:
    per_year: dict[int, tuple[int, int]] = {}
    for r in _run(con, "pretrained_finetuning_mentions"):
        q, m = per_year.get(r["year"], (0, 0))
        per_year[r["year"]] = (q + r["questions"], m + r["mentioning"])
    assert {y: q for y, (q, _) in per_year.items()} == {2016: 461, 2017: 143, 2022: 1475}
    nothing = _run(con, "pretrained_finetuning_mentions", pattern="(?i)zzz-no-such-word")
    assert sum(r["mentioning"] for r in nothing) == 0
    themes = _run(con, "responsible_ml_mentions")
    assert {r["theme"] for r in themes} == {"fairness-bias", "documentation-provenance"}
    assert all(len(r["example_post_ids"]) == min(5, r["mentioning"]) for r in themes)


def test_most_viewed_per_stage_is_ranked_by_views(con) -> None:
    rows = _run(con, "most_viewed_per_stage", top="2", notebook_only="false")
    by_stage: dict[str, list[dict]] = {}
    for r in rows:
        by_stage.setdefault(r["stage"], []).append(r)
    for stage, ranked in by_stage.items():
        assert [r["rank"] for r in ranked] == list(range(1, len(ranked) + 1)) and len(ranked) <= 2
        assert [r["view_count"] for r in ranked] == sorted((r["view_count"] for r in ranked), reverse=True)
        assert all(r["url"] == f"https://{r['site']}/q/{r['post_id']}" for r in ranked)


def test_cooccurring_tags_leave_out_the_platform_evidence(con) -> None:
    tags = {r["tag"] for r in _run(con, "notebook_cooccurring_tags", top="1000")}
    assert "python" in tags
    assert not tags & {"jupyter-notebook", "google-colaboratory", "amazon-sagemaker"}


def test_topic_queries_describe_the_newest_model(con, study_db_path: Path) -> None:
    topics = _run(con, "questions_per_topic")
    model, n_docs = _fetch(study_db_path, "SELECT topic_model_id, n_docs FROM topic_models ORDER BY created DESC LIMIT 1")
    assert {r["topic_model_id"] for r in topics} == {model}
    assert sum(r["questions"] for r in topics) == n_docs
    assert all(1 <= len(r["example_titles"]) <= 3 for r in topics if r["questions"])
    trends = _run(con, "topic_trends", topic_model=model)
    assert sum(r["questions"] for r in trends) == sum(r["questions"] for r in topics if r["topic_id"] >= 0)


@pytest.mark.slow
def test_every_query_runs_unchanged_in_the_duckdb_shell(study_db_path: Path) -> None:
    """The shell `make` installs (duckdb-cli, pinned in requirements.lock) opens the database as
    stackmine wrote it (pipeline/core/db.py STORAGE), with no conversion, and runs every query."""
    shell = Path(sys.executable).with_name("duckdb")
    assert shell.is_file(), "the DuckDB shell is pinned in requirements.lock: run `make install`"
    db = study_db_path
    for query in ALL:
        done = subprocess.run([shell, "-readonly", "-csv", str(db), "-c", f".read {query.path}"],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and "Error" not in done.stderr, (query.name, done.stderr)
        header = done.stdout.splitlines()[0]
        assert header.split(",") == list(query.columns), query.name
    top = subprocess.run([shell, "-readonly", "-csv", str(db), "-c", "SET VARIABLE top = 1",
                          "-c", f".read {queries.load_query('most_viewed_per_stage').path}"],
                         capture_output=True, text=True, timeout=60)
    assert {line.split(",")[1] for line in top.stdout.splitlines()[1:]} == {"1"}


@pytest.mark.slow
def test_the_duckdb_shell_shows_the_column_comments(study_db_path: Path) -> None:
    shell = Path(sys.executable).with_name("duckdb")
    done = subprocess.run([str(shell), "-readonly", "-csv", "-noheader", str(study_db_path), "-c",
                           "SELECT comment FROM duckdb_columns() WHERE table_name = 'question_labels' "
                           "AND column_name = 'platforms'"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "codebook labels" in done.stdout
