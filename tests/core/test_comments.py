"""The database documents itself: every table and column carries the comment of its DDL line, and
docs/schema.md is the page generated from them."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipeline.core.comments import apply_comments, documented, parse
from pipeline.core.db import LEDGER_TABLES
from pipeline.steps import connect, schema, schema_page
from tests.support import REPO

TABLES = [t.name for t in documented([LEDGER_TABLES, *schema()])]


def test_every_table_and_column_has_a_comment(tmp_path: Path) -> None:
    con = connect(tmp_path / "db.duckdb")
    tables = dict(con.execute("SELECT table_name, comment FROM duckdb_tables()").fetchall())
    columns = con.execute("SELECT table_name, column_name, comment FROM duckdb_columns() "
                          "WHERE database_name = current_database()").fetchall()
    assert sorted(tables) == sorted(TABLES)
    assert [name for name, comment in tables.items() if not comment] == []
    assert [f"{t}.{c}" for t, c, comment in columns if not comment] == []
    assert len(columns) > 200


def test_the_ddl_parser_sees_every_column_duckdb_creates() -> None:
    con = duckdb.connect()
    for table in documented([LEDGER_TABLES, *schema()]):
        ddl = next(d for d in [LEDGER_TABLES, *schema()] if table in parse(d.text()))
        con.execute(ddl.text())
        created = [r[0] for r in con.execute(f"DESCRIBE {table.name}").fetchall()]  # noqa: S608 (test)
        assert list(table.columns) == created, table.name


def test_comments_follow_the_convention() -> None:
    ddl = "\n".join([
        "CREATE TABLE IF NOT EXISTS t (  -- a table",
        "                                -- on two lines",
        "    a  INTEGER NOT NULL,   -- the a's value",
        "                           -- continued",
        "    b  VARCHAR,            -- it's b",
        "    PRIMARY KEY (a)",
        "    -- a note on the key, not a continuation (its `--` does not line up)",
        ");"])
    [table] = parse(ddl)
    assert table.comment == "a table on two lines"
    assert table.columns == {"a": "the a's value continued", "b": "it's b"}


def test_applying_is_rerunnable_and_fills_an_older_database(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    for ddl in [LEDGER_TABLES, *schema()]:
        con.execute(ddl.text())  # a database made before tables had comments
    assert con.execute("SELECT count(comment) FROM duckdb_columns() WHERE database_name = current_database()").fetchone() == (0,)
    con.close()
    con = connect(path)
    assert con.execute("SELECT comment FROM duckdb_columns() WHERE table_name = 'posts' AND column_name = 'tags_raw'"
                       ).fetchone() == ("'<a><b>' (before 2024) or '|a|b|' (2024 on)",)
    assert apply_comments(con, [LEDGER_TABLES, *schema()]) == 0


def test_the_schema_page_is_in_step() -> None:
    page = (REPO / "docs" / "schema.md").read_text(encoding="utf-8")
    assert page == schema_page() + "\n", "run .venv/bin/python scripts/schema_page.py"
