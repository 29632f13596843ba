"""The query runner itself: headers, parameters, read-only safety, output formats, CLI.

Runs on the sample database built by the real ingest (`sample_db_path`); the analyses over labels
and topics are checked in test_queries.py on the fully analysed sample.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from pipeline.core import queries
from flows.cli import cli, _register
from pipeline.core.queries import QueryError

_register()


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.sql"
    path.write_text(text, encoding="utf-8")
    return path


def test_header_is_parsed_with_quoted_defaults(tmp_path: Path) -> None:
    path = _write(tmp_path, "q", "-- title: T\n-- question: Q?\n"
                  "-- param: pattern VARCHAR = 'a b|c''d'  the pattern\n-- param: n INTEGER = 3\n"
                  "-- columns: a, b\nSELECT 1 AS a, 2 AS b;\n")
    query = queries.parse_query(path)
    assert (query.name, query.title, query.question, query.columns) == ("q", "T", "Q?", ("a", "b"))
    assert [(p.name, p.type, p.default, p.help) for p in query.params] == [
        ("pattern", "VARCHAR", "a b|c'd", "the pattern"),
        ("n", "INTEGER", "3", ""),
    ]


def test_header_without_columns_names_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "bad", "-- title: T\n-- question: Q?\nSELECT 1;\n")
    with pytest.raises(QueryError, match=r"bad\.sql: header lacks columns"):
        queries.parse_query(path)


def test_unknown_param_type_is_refused_with_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "bad", "-- title: T\n-- question: Q?\n-- param: n INT4 = 3\n-- columns: a\nSELECT 1 AS a;\n")
    with pytest.raises(QueryError, match=r"bad\.sql, line 3"):
        queries.parse_query(path)


def test_unknown_parameter_name_lists_the_declared_ones() -> None:
    query = queries.load_query("platform_questions_per_year")
    with pytest.raises(QueryError, match="it takes: max_year, min_year"):
        queries.parse_param_args(query, ["year=2020"])


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM posts",
        "UPDATE posts SET score = 0",
        "DROP TABLE posts",
        "CREATE TABLE evil AS SELECT 1",
        "COPY posts TO '{out}' (FORMAT csv)",
        "ATTACH '{other}' AS other",
        "SET enable_external_access = true",
    ],
)
def test_a_query_cannot_modify_the_database_or_touch_files(
    sample_db_path: Path, tmp_path: Path, statement: str
) -> None:
    out, other = tmp_path / "leak.csv", tmp_path / "other.duckdb"
    text = f"-- title: T\n-- question: Q?\n-- columns: n\n{statement.format(out=out, other=other)};\nSELECT 1 AS n;\n"
    query = queries.parse_query(_write(tmp_path, "evil", text))
    con = queries.open_read_only(sample_db_path)
    try:
        with pytest.raises(QueryError):
            queries.run_query(con, query)
    finally:
        con.close()
    assert not out.exists() and not other.exists()
    check = duckdb.connect(str(sample_db_path), read_only=True)
    try:
        assert check.execute("SELECT count(*), sum(score) FROM posts").fetchone() == (3210, 5110)  # 1,735 ai + 1,475 SO posts, unchanged
    finally:
        check.close()


def test_dataset_provenance_lists_every_ingested_file(sample_db_path: Path) -> None:
    con = queries.open_read_only(sample_db_path)
    try:
        rows = queries.run_query(con, queries.load_query("dataset_provenance")).to_pylist()
        ai_only = queries.run_query(con, queries.load_query("dataset_provenance"), {"site": "ai.%"}).to_pylist()
    finally:
        con.close()
    assert [(r["site"], r["file"], r["rows"]) for r in rows] == [
        ("ai.stackexchange.com", "Badges", 4708),
        ("ai.stackexchange.com", "Comments", 1700),
        ("ai.stackexchange.com", "PostHistory", 4846),
        ("ai.stackexchange.com", "PostLinks", 122),
        ("ai.stackexchange.com", "Posts", 1735),
        ("ai.stackexchange.com", "Tags", 158),
        ("ai.stackexchange.com", "Users", 4931),
        ("ai.stackexchange.com", "Votes", 7056),
        ("stackoverflow.com", "Posts", 1475),
    ]
    posts = {r["site"]: r["sha256"] for r in rows if r["file"] == "Posts"}
    # the published checksums of the two sample files (data/sample/README.md)
    assert posts == {
        "ai.stackexchange.com": "1a107b2c78e6234f7397b4a4ec739b9fdb064fc5e1b45ba49c6c1c722974f5c4",
        "stackoverflow.com": "c2d352747ba7f740fdcf9db60740ee477bee0e46cbbbaa242ce4cf4b040e9832",
    }
    assert len(ai_only) == 8 and {r["site"] for r in ai_only} == {"ai.stackexchange.com"}


def test_cli_list_shows_every_query_with_its_title() -> None:
    result = CliRunner().invoke(cli, ["query", "--list"])
    assert result.exit_code == 0, result.output
    names = [line.split()[0] for line in result.output.splitlines()]
    assert names == [q.name for q in queries.list_queries()]
    assert len(names) >= 12
    assert "platform_questions_per_year        Notebook questions per platform per year" in result.output


def test_cli_formats_agree(sample_db_path: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["query", "dataset_provenance", "--db", str(sample_db_path), "--param", "site=stackoverflow.com"]
    as_json = runner.invoke(cli, [*base, "--format", "json"])
    as_csv = runner.invoke(cli, [*base, "--format", "csv"])
    out = tmp_path / "prov.parquet"
    as_parquet = runner.invoke(cli, [*base, "--format", "parquet", "--out", str(out)])
    assert as_json.exit_code == as_csv.exit_code == as_parquet.exit_code == 0
    (row,) = json.loads(as_json.stdout)
    assert (row["file"], row["rows"], row["member"]) == ("Posts", 1475, None)
    assert as_csv.stdout.splitlines()[0] == (
        '"site","dump_id","file","source","member","rows","size_bytes","sha256","newest_date","pipeline_version"'
    )
    assert pq.read_table(out).column("sha256").to_pylist() == [row["sha256"]]


def test_cli_parquet_without_out_is_a_usage_error(sample_db_path: Path) -> None:
    result = CliRunner().invoke(cli, ["query", "dataset_provenance", "--db", str(sample_db_path), "--format", "parquet"])
    assert result.exit_code == 2 and "--format parquet needs --out" in result.output


def test_bad_parameter_value_is_a_named_error(sample_db_path: Path) -> None:
    con = queries.open_read_only(sample_db_path)
    try:
        with pytest.raises(QueryError, match="min_year=soon: not a valid INTEGER"):
            queries.run_query(con, queries.load_query("platform_questions_per_year"), {"min_year": "soon"})
    finally:
        con.close()


@pytest.mark.parametrize("name", ["../queries/dataset_provenance", "/tmp/evil", "sub/dataset_provenance", "..", ".hidden"])
def test_a_query_name_is_never_a_path(name: str, tmp_path: Path) -> None:
    (tmp_path / "evil.sql").write_text("-- title: T\n-- question: Q?\n-- columns: n\nSELECT 1 AS n;\n")
    with pytest.raises(QueryError, match="not a path"):
        queries.load_query(name)
    result = CliRunner().invoke(cli, ["query", name.replace("/tmp", str(tmp_path))])
    assert isinstance(result.exception, QueryError) and "not a path" in str(result.exception)
