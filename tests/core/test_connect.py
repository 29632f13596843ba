"""How `connect` opens a database for writing (pipeline/core/db.py): the file attached with row
groups of 65,536 rows, as the default catalog of the connection and of its cursors, and one
attachment per file in a process (a second `connect` is a cursor of the first)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipeline.core.db import connect


def _row_groups(con: duckdb.DuckDBPyConnection, table: str) -> list[int]:
    rows = con.execute(f"SELECT row_group_id, max(\"count\") FROM pragma_storage_info('{table}') "
                       "WHERE column_id = 0 GROUP BY row_group_id ORDER BY row_group_id").fetchall()
    return [count for _, count in rows]


def test_a_written_table_has_row_groups_of_65536_rows(tmp_path: Path) -> None:
    path = tmp_path / "t.duckdb"
    con = connect(path)
    con.execute("CREATE TABLE t AS SELECT range AS x FROM range(150000)")
    con.execute("CHECKPOINT")
    assert _row_groups(con, "t") == [65536, 65536, 18928]
    con.close()
    # The size is not kept in the file: another DuckDB opens it as any file and reads every row.
    other = duckdb.connect(str(path), read_only=True)
    assert other.execute("SELECT count(*), sum(x) FROM t").fetchall() == [(150000, sum(range(150000)))]
    other.close()


def test_the_file_is_the_default_catalog_of_the_connection_and_its_cursors(tmp_path: Path) -> None:
    con = connect(tmp_path / "t.duckdb")
    con.execute("CREATE TABLE t (x INTEGER)")
    cursor = con.cursor()
    cursor.execute("INSERT INTO t VALUES (1)")
    assert con.execute("SELECT current_database(), x FROM t").fetchall() == [("stackmine", 1)]
    assert [row[0] for row in con.execute("SELECT database_name FROM duckdb_databases() "
                                          "WHERE NOT internal ORDER BY 1").fetchall()] == ["stackmine"]
    con.close()


def test_a_second_connect_in_the_process_shares_the_first_and_closes_alone(tmp_path: Path) -> None:
    path = tmp_path / "t.duckdb"
    first = connect(path)
    first.execute("CREATE TABLE t (x INTEGER)")
    second = connect(path)
    second.execute("INSERT INTO t VALUES (2)")
    second.close()
    assert first.execute("SELECT x FROM t").fetchall() == [(2,)]
    first.close()
    # Closed, the file is free again: a new connect attaches it afresh.
    again = connect(path)
    assert again.execute("SELECT x FROM t").fetchall() == [(2,)]
    again.close()
    reader = duckdb.connect(str(path), read_only=True)
    assert reader.execute("SELECT x FROM t").fetchall() == [(2,)]
    reader.close()


def test_a_new_file_is_written_for_duckdb_1_5_and_an_existing_file_keeps_its_version(tmp_path: Path) -> None:
    newer = tmp_path / "newer.duckdb"
    duckdb.connect(str(newer)).close()  # DuckDB's own, newest storage version
    versions = {}
    for path in (newer, tmp_path / "new.duckdb"):
        con = connect(path)
        versions[path.name] = con.execute("SELECT tags['storage_version'] FROM duckdb_databases() "
                                          "WHERE database_name = 'stackmine'").fetchall()[0][0]
        con.close()
    assert versions["new.duckdb"] == "v1.5.0+"
    assert versions["newer.duckdb"] not in ("v1.5.0+", None)
