"""`stackmine ingest --tables`: only the named dump files are parsed and loaded, `dumps` lists just
them, a later ingest of every table is not skipped, and the stages after ingest say when a table
they need was not loaded. All on the real sample archive (data/sample/ai.stackexchange.com.7z)."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from flows.cli import _register, cli
from pipeline.ingest.load import DUMP_TABLES, TableChoiceError, dump_files
from pipeline.ingest.loaded import NotLoaded, without
from pipeline.steps import connect, ingest_sources
from tests.support import SAMPLE
from tests.support.ingest_helpers import archive_members, count_rows

_register()
ARCHIVE = SAMPLE / "ai.stackexchange.com.7z"
SITE = "ai.stackexchange.com"


def site_tables(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int]]:
    """(rows, hash of all rows but their dump_key) of the site in each dump table but `dumps` (which
    holds load times); dump_key numbers the snapshot, which differs with each load."""
    return {t: con.execute(f"SELECT count(*), coalesce(bit_xor(hash(t)), 0) FROM "
                           f"(SELECT * EXCLUDE (dump_key) FROM {t} WHERE site = ?) AS t", [SITE]).fetchone()
            for t in DUMP_TABLES if t != "dumps"}


def loaded_files(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [row[0] for row in con.execute("SELECT file FROM dumps WHERE site = ? ORDER BY file", [SITE]).fetchall()]


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, int]]:
    """The site's tables after an ingest of every file."""
    con = connect(tmp_path_factory.mktemp("full") / "db.duckdb")
    try:
        [done] = ingest_sources(con, [ARCHIVE]).sites
        assert done.status == "loaded"
        return site_tables(con)
    finally:
        con.close()


def test_only_the_named_files_are_loaded_and_a_full_ingest_loads_the_rest(
        tmp_path: Path, full: dict[str, tuple[int, int]]) -> None:
    members = archive_members(ARCHIVE)
    con = connect(tmp_path / "db.duckdb")
    try:
        [done] = ingest_sources(con, [ARCHIVE], tables=["Posts", "users"]).sites
        assert done.status == "loaded"
        tables = site_tables(con)
        # posts and users (and post_tags, derived from posts) row for row as a full ingest loads them
        assert {t: tables[t] for t in ("posts", "post_tags", "users")} == {t: full[t] for t in ("posts", "post_tags", "users")}
        assert tables["posts"][0] == count_rows(members["Posts.xml"])
        assert tables["users"][0] == count_rows(members["Users.xml"])
        assert {t: n for t, (n, _) in tables.items() if t not in ("posts", "post_tags", "users")} == {
            "comments": 0, "tags": 0, "post_links": 0, "post_history": 0, "votes": 0, "badges": 0}
        assert loaded_files(con) == ["Posts", "Users"]
        assert without(con, "Users") == {} and without(con, "Tags") == {SITE: ["Posts", "Users"]}
        # the same selection again: unchanged; every table: loaded, not skipped as unchanged
        assert [s.status for s in ingest_sources(con, [ARCHIVE], tables=["Posts,Users"]).sites] == ["unchanged"]
        assert [s.status for s in ingest_sources(con, [ARCHIVE]).sites] == ["loaded"]
        assert site_tables(con) == full
        assert loaded_files(con) == ["Badges", "Comments", "PostHistory", "PostLinks", "Posts", "Tags", "Users", "Votes"]
        assert [s.status for s in ingest_sources(con, [ARCHIVE]).sites] == ["unchanged"]
    finally:
        con.close()


def test_an_older_snapshot_check_compares_only_files_both_hold(tmp_path: Path) -> None:
    """Users.xml of the sample is dated after Posts.xml: a snapshot of Posts alone is not older
    than one of Posts and Users from the same dump (and is loaded, not kept-newer)."""
    con = connect(tmp_path / "db.duckdb")
    try:
        ingest_sources(con, [ARCHIVE], tables=["Posts", "Users"])
        [(posts_newest,), (users_newest,)] = con.execute("SELECT newest_date FROM dumps ORDER BY file").fetchall()
        assert users_newest > posts_newest  # what makes the case
        assert [s.status for s in ingest_sources(con, [ARCHIVE], tables=["Posts"]).sites] == ["loaded"]
        assert loaded_files(con) == ["Posts"]
        assert con.execute("SELECT count(*) FROM users").fetchone()[0] == 0
    finally:
        con.close()


def test_table_names_are_checked() -> None:
    assert dump_files(None) is None and dump_files([]) is None
    assert dump_files(["posts", "post_links", "PostHistory"]) == {"Posts", "PostLinks", "PostHistory"}
    assert dump_files(["Posts,users", " Tags "]) == {"Posts", "Users", "Tags"}
    assert dump_files(["Posts", "Users", "Comments", "Tags", "PostLinks", "PostHistory", "Votes", "Badges"]) is None
    with pytest.raises(TableChoiceError, match="not a dump file: Answers"):
        dump_files(["Posts", "Answers"])
    with pytest.raises(TableChoiceError, match="Posts is required"):
        dump_files(["Users"])


def test_a_bad_table_name_is_a_usage_error_naming_the_valid_ones(tmp_path: Path) -> None:
    db = tmp_path / "db.duckdb"
    result = CliRunner().invoke(cli, ["ingest", str(ARCHIVE), "--db", str(db), "--tables", "Posts,Answers"])
    assert result.exit_code == 2
    assert ("Invalid value for '--tables': not a dump file: Answers (choose from Posts, Users, Comments, Tags, "
            "PostLinks, PostHistory, Votes, Badges)") in result.output
    result = CliRunner().invoke(cli, ["ingest", str(ARCHIVE), "--db", str(db), "--tables", "Users", "--tables", "Tags"])
    assert result.exit_code == 2 and "Posts is required" in result.output
    assert not db.exists()
    result = CliRunner().invoke(cli, ["ingest", str(ARCHIVE), "--db", str(db), "--tables", "Posts", "--tables", "Tags"])
    assert result.exit_code == 0, result.output
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert loaded_files(con) == ["Posts", "Tags"]
    finally:
        con.close()


@pytest.mark.parametrize("command", [["run"], ["serve", "--interval", "60"]])
def test_run_and_serve_check_tables_as_ingest_does(command: list[str], tmp_path: Path) -> None:
    """The same option (flows/cli/options.py): refused before Prefect starts or the database opens."""
    db = tmp_path / "db.duckdb"
    result = CliRunner().invoke(cli, [*command, str(ARCHIVE), "--db", str(db), "--tables", "Posts,Answers"])
    assert result.exit_code == 2
    assert ("Invalid value for '--tables': not a dump file: Answers (choose from Posts, Users, Comments, Tags, "
            "PostLinks, PostHistory, Votes, Badges)") in result.output
    result = CliRunner().invoke(cli, [*command, str(ARCHIVE), "--db", str(db), "--tables", "Users", "--tables", "Tags"])
    assert result.exit_code == 2 and "Invalid value for '--tables': Posts is required" in result.output
    assert not db.exists()


def test_text_refuses_a_named_site_without_posts(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A site folder holding Users.xml alone: `text --site` refuses it by name; `text` for every site
    warns and goes on with the others."""
    folder = tmp_path / SITE
    folder.mkdir()
    (folder / "Users.xml").write_bytes(archive_members(ARCHIVE)["Users.xml"])
    shutil.copytree(SAMPLE / "stackoverflow.com", tmp_path / "stackoverflow.com")
    db = tmp_path / "db.duckdb"
    con = connect(db)
    try:
        ingest_sources(con, [folder, tmp_path / "stackoverflow.com"])
        assert without(con, "Posts") == {SITE: ["Users"]}
    finally:
        con.close()
    result = CliRunner().invoke(cli, ["text", "--site", SITE, "--db", str(db)])
    assert isinstance(result.exception, NotLoaded)  # printed as `error: ...` by flows.cli.main, exit 2
    assert str(result.exception) == (f"{SITE}: text needs Posts, which was not loaded (its snapshot holds "
                                     "Users); ingest the site again with Posts in --tables, or without --tables")
    with caplog.at_level(logging.WARNING, logger="pipeline.ingest.loaded"):
        result = CliRunner().invoke(cli, ["text", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert [r.getMessage() for r in caplog.records] == [
        f"{SITE}: text needs Posts, which was not loaded (its snapshot holds Users); ingest the site again "
        "with Posts in --tables, or without --tables"]
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT DISTINCT site FROM question_text").fetchall() == [("stackoverflow.com",)]
        with pytest.raises(NotLoaded):
            from pipeline.text.extract import extract
            extract(con, site=SITE)
    finally:
        con.close()


def test_export_warns_for_a_site_without_users(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from pipeline.classify.classifier import classify
    from pipeline.core.selection import Selection
    from pipeline.publish.export import ExportOptions, export
    from pipeline.text.extract import extract

    con = connect(tmp_path / "db.duckdb")
    try:
        ingest_sources(con, [ARCHIVE], tables=["Posts", "Tags"])
        extract(con, workers=1)
        classify(con, workers=1)
        with caplog.at_level(logging.WARNING, logger="pipeline.publish.export"):
            result = export(con, ExportOptions("all", Selection(notebook=None, ml=None)), tmp_path / "exports")
        authors = con.execute("SELECT count(*) FROM posts WHERE post_type_id = 1 AND owner_display_name IS NOT NULL").fetchone()[0]
    finally:
        con.close()
    assert result.rows > 0
    assert [r.getMessage() for r in caplog.records] == [
        f"{SITE}: Users was not loaded (its snapshot holds Posts, Tags): author names come from "
        "posts.owner_display_name only, which dumps fill only for deleted users"]
    assert authors < result.rows  # why it matters: most questions then have no author name
