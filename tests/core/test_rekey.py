"""A derived table whose declared key changed in a new version is rekeyed on connect, rows kept
(pipeline/steps.py rekey_changed). question_text and question_labels lost their PRIMARY KEY for
issue 14 (an ART index held in memory and rebuilt on every replace): databases made before keep
their rows, their comments and the ledger's record that the rows are current."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipeline.steps import connect, declared_keys
from pipeline.text import STEP as TEXT

KEYED = "SELECT table_name FROM duckdb_constraints() WHERE constraint_type = 'PRIMARY KEY' AND table_name = ?"


def _add_key(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Make `table` as the DDL before issue 14 did: the same columns, PRIMARY KEY (site, post_id)."""
    con.execute(f"ALTER TABLE {table} RENAME TO {table}_new")
    columns = ", ".join(f"{name} {kind} NOT NULL" if name in ("site", "post_id") else f"{name} {kind}"
                        for name, kind in con.execute("SELECT column_name, data_type FROM duckdb_columns() "
                                                      "WHERE table_name = ? ORDER BY column_index", [f"{table}_new"]).fetchall())
    con.execute(f"CREATE TABLE {table} ({columns}, PRIMARY KEY (site, post_id))")
    con.execute(f"DROP TABLE {table}_new")


def test_keyed_text_and_labels_lose_the_key_and_keep_rows_comments_and_ledger(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    con = connect(path)
    for table in ("question_text", "question_labels"):
        _add_key(con, table)
    con.execute("INSERT INTO question_text VALUES ('s', 's@d', 7, TIMESTAMP '2020-01-01', 't', 'p', 'c', ['i'], [], ['x'], 'v')")
    con.execute("INSERT INTO question_labels VALUES ('s', 's@d', 7, ['colab'], true, true, 'deployment', NULL, '{}', 'c', 0.9, NULL)")
    con.execute("INSERT INTO stage_runs VALUES ('text', 's', 's', 'k', 'o', 'v', 1, 0.1, TIMESTAMP '2020-01-01')")
    assert con.execute(KEYED, ["question_text"]).fetchall() == [("question_text",)]
    con.close()
    for _ in range(2):  # the second connect finds nothing to do
        con = connect(path)
        try:
            assert con.execute(KEYED, ["question_text"]).fetchall() == []
            assert con.execute(KEYED, ["question_labels"]).fetchall() == []
            assert con.execute("SELECT post_id, inline_code FROM question_text").fetchall() == [(7, ["i"])]
            assert con.execute("SELECT post_id, platforms, p_ml FROM question_labels").fetchall() == [(7, ["colab"], 0.9)]
            assert con.execute("SELECT count(*) FROM stage_runs WHERE stage = 'text'").fetchone() == (1,)
            assert con.execute("SELECT comment FROM duckdb_tables() WHERE table_name = 'question_text'").fetchone()[0] \
                .startswith("one row per question")
            assert [t for (t,) in con.execute("SHOW TABLES").fetchall() if t.endswith("_rekeyed")] == []
        finally:
            con.close()


def test_rows_that_break_a_key_the_ddl_adds_make_the_step_run_again(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    con = connect(path)
    con.execute("CREATE TABLE loose AS SELECT * FROM topic_models")  # no constraints
    con.execute("DROP TABLE topic_models")
    con.execute("ALTER TABLE loose RENAME TO topic_models")
    con.execute("INSERT INTO topic_models (topic_model_id) VALUES ('a'), ('a')")
    con.execute("INSERT INTO stage_runs VALUES ('topics', 's', 's', 'k', 'o', 'v', 1, 0.1, TIMESTAMP '2020-01-01')")
    con.close()
    con = connect(path)
    try:
        assert con.execute(KEYED, ["topic_models"]).fetchall() == [("topic_models",)]
        assert con.execute("SELECT count(*) FROM topic_models").fetchone() == (0,)
        assert con.execute("SELECT count(*) FROM stage_runs WHERE stage = 'topics'").fetchone() == (0,)
    finally:
        con.close()


def test_text_declares_no_key() -> None:
    assert "question_text" not in declared_keys(TEXT.tables())
