"""`--where` is checked by DuckDB's own parser against an allow-list and run as SQL rendered from code.

Hostile conditions from the attack on main (issue 12.2) and their relatives are refused with a
message naming what is not allowed; allowed ones select exactly the rows the same condition
selects when written by hand, on the sample's real labelled questions.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from flows.cli.selection_options import WHERE_HELP
from pipeline.core import sqlguard
from pipeline.core.selection import Selection, selected_questions_sql
from pipeline.core.sqlguard import WhereRefused

HOSTILE = [
    ("1=1) ; DROP TABLE posts; --", "contains `;`"),
    ("1=1); COPY (SELECT * FROM read_text('/etc/passwd')) TO 'out.csv'; --", "contains `;`"),
    ("length(read_text('/etc/passwd')::VARCHAR) > 0", "the function read_text() is not allowed"),
    ("l.ml AND EXISTS (SELECT * FROM read_csv('/etc/passwd'))", "a sub-select (SELECT ...) is not allowed"),
    ("l.post_id IN (SELECT id FROM posts)", "a sub-select (SELECT ...) is not allowed"),
    ("getvariable('top') IS NULL", "the function getvariable() is not allowed"),
    ("current_setting('enable_external_access')", "the function current_setting() is not allowed"),
    ("l.ml ORDER BY 1", "adds clauses after the condition"),
    ("l.ml UNION SELECT 1", "adds clauses after the condition"),
    ("l.ml) OR (TRUE", "DuckDB cannot parse it"),
    ("l.ml /* unterminated", "DuckDB cannot parse it"),
    ("posts.owner_user_id = 1", "the column posts.owner_user_id is not one of the allowed columns"),
    ("main.l.ml", "the column main.l.ml is not one of the allowed columns"),
    ("pg_catalog.lower(t.title) = 'x'", "with a schema, FILTER, DISTINCT, ORDER BY or named arguments"),
    ("count(*) > 0", "the function count_star() is not allowed"),
    ("l.ml = ?", "a ? or $ parameter is not allowed"),
    ("list_filter(t.tags, x -> x = 'a') = []", "the function list_filter() is not allowed"),
    ("t.title::BLOB = 'a'", "a cast to BLOB is not allowed"),
    ("t.title", "it is not a condition: it gives VARCHAR"),
    ("1", "it is not a condition: it gives BIGINT"),
    ("lower(t.title, 1) = 'a'", "DuckDB cannot use it (Binder Error"),
]


@pytest.mark.parametrize("text,problem", HOSTILE, ids=[h[0][:40] for h in HOSTILE])
def test_hostile_conditions_are_refused_naming_what_is_not_allowed(text: str, problem: str) -> None:
    with pytest.raises(WhereRefused) as refused:
        Selection(where=text)
    first = str(refused.value).splitlines()[0]
    assert first.startswith(f"--where {text!r} refused: ") and problem in first
    assert str(refused.value).endswith("Nothing was run.")


ALLOWED = [
    "l.stage2 IS NULL",
    "l.stage IN ('deployment', 'environment') AND year(t.creation_date) >= 2020",
    "t.title ILIKE '%colab%' OR list_contains(t.tags, 'google-colaboratory')",
    "NOT l.ml -- a comment is dropped",
    "t.creation_date BETWEEN DATE '2016-06-01' AND DATE '2022-06-30'",
    "len(t.tags) > 3 AND stage <> 'none'",
    "json_extract_string(l.evidence, '$.ml[0]') LIKE 'tag%'",
    "list_has_any(l.platforms, ['colab', 'kaggle'])",
]


@pytest.mark.parametrize("text", ALLOWED)
def test_allowed_conditions_select_what_the_same_sql_selects(study_db_path: Path, text: str) -> None:
    con = duckdb.connect(str(study_db_path), read_only=True)
    try:
        sql, params = selected_questions_sql(Selection(notebook=None, ml=None, where=text))
        assert "?" in sql or not params
        got = con.execute(sql, params).fetchall()
        by_hand = con.execute("SELECT l.site, l.post_id FROM question_labels AS l JOIN question_text AS t "  # noqa
                              f"USING (site, post_id) WHERE {text}\n ORDER BY l.site, l.post_id").fetchall()
    finally:
        con.close()
    assert got == by_hand
    assert 0 < len(got) < 2079  # every condition above keeps some of the sample's 2,079 questions, not all


def test_the_rendered_sql_holds_no_text_the_user_typed() -> None:
    checked = sqlguard.condition("t.title = 'x'' OR 1=1 --' AND l.ml")
    assert checked.sql == "((t.title = CAST(? AS VARCHAR)) AND l.ml)"
    assert checked.params == ("x' OR 1=1 --",)


def test_the_allow_list_has_the_real_tables_columns_and_types(tmp_path: Path) -> None:
    from pipeline.steps import connect

    con = connect(tmp_path / "empty.duckdb")
    try:
        real = con.execute("SELECT table_name, column_name, data_type FROM duckdb_columns() "  # noqa
                           "WHERE table_name IN ('question_labels', 'question_text') ORDER BY table_name, column_index").fetchall()
    finally:
        con.close()
    guard = sqlguard._scratch()
    try:
        allowed = guard.execute("SELECT table_name, column_name, data_type FROM duckdb_columns() "  # noqa
                                "WHERE database_name = 'memory' ORDER BY table_name, column_index").fetchall()
    finally:
        guard.close()
    assert allowed == real
    assert sqlguard.columns()["l"][:3] == ("site", "dump_id", "post_id")


def test_help_lists_every_allowed_column_and_function() -> None:
    for alias, names in sqlguard.columns().items():
        table = {"l": "question_labels l", "t": "question_text t"}[alias]
        assert f"{table} ({', '.join(names)})" in WHERE_HELP
    assert ", ".join(sorted(sqlguard.FUNCTIONS)) in " ".join(WHERE_HELP.split())


def test_a_condition_that_fails_on_the_data_is_refused_too(study_db_path: Path) -> None:
    from pipeline.core.selection import selection_rows

    con = duckdb.connect(str(study_db_path), read_only=True)
    try:
        with pytest.raises(WhereRefused, match=r"refused: DuckDB cannot apply it to the data \(Conversion Error"):
            selection_rows(con, Selection(where="t.title = 1"), arrow=True)
        rows = selection_rows(con, Selection(notebook=None, where="l.stage = 'deployment'"), arrow=True)
    finally:
        con.close()
    assert rows.column_names == ["site", "post_id"] and rows.num_rows > 0
