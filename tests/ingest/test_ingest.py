"""Ingest of the bundled sample and the real cuts in tests/data: exact counts and values."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import duckdb
import py7zr
import pytest
from click.testing import CliRunner
from tests.support import SAMPLE, TEST_DATA
from tests.support.ingest_helpers import archive_members, count_csv_rows, count_rows, table_counts

from flows.cli import all_commands
from flows.cli.ingest import ingest_command
from pipeline.steps import connect
from pipeline.ingest.load import ingest

ARCHIVE = SAMPLE / "ai.stackexchange.com.7z"
SEDE = SAMPLE / "stackoverflow.com" / "data-science-questions-2022.csv"
MEMBER_TABLES = {"Posts.xml": "posts", "Users.xml": "users", "Comments.xml": "comments",
                 "Tags.xml": "tags", "PostLinks.xml": "post_links", "PostHistory.xml": "post_history",
                 "Votes.xml": "votes", "Badges.xml": "badges"}


def test_sample_archive_rows_match_independent_count(sample_con) -> None:
    """Every member of the sample .7z: rows in the table == `<row` elements in the raw bytes."""
    members = archive_members(ARCHIVE)
    assert sorted(members) == sorted(MEMBER_TABLES)
    counts = table_counts(sample_con, "ai.stackexchange.com")
    for member, table in MEMBER_TABLES.items():
        assert counts[table] == count_rows(members[member]), member
    assert counts["posts"] == 1735 and counts["users"] == 4931 and counts["votes"] == 7056


def test_sample_sede_rows_match_independent_count(sample_con) -> None:
    assert count_csv_rows(SEDE) == 1475
    assert table_counts(sample_con, "stackoverflow.com")["posts"] == 1475
    assert table_counts(sample_con, "stackoverflow.com")["users"] == 0


def test_dumps_table_records_each_file(sample_con) -> None:
    rows = sample_con.execute(
        "SELECT file, member, size_bytes, sha256, rows, newest_date::VARCHAR, dump_id FROM dumps "
        "WHERE site = 'ai.stackexchange.com' ORDER BY file").fetchall()
    assert [r[0] for r in rows] == ["Badges", "Comments", "PostHistory", "PostLinks", "Posts", "Tags",
                                    "Users", "Votes"]
    posts = rows[4]
    assert posts[1:5] == ("Posts.xml", 2541980,
                          "1a107b2c78e6234f7397b4a4ec739b9fdb064fc5e1b45ba49c6c1c722974f5c4", 1735)
    assert posts[5] == "2017-03-13 16:32:33.657"
    # dump_id = site@newest day-first 8 hex of sha256 over the sorted "File:sha256" lines
    lines = sorted(f"{Path(n).stem}:{hashlib.sha256(d).hexdigest()}" for n, d in archive_members(ARCHIVE).items())
    digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()[:8]
    assert {r[6] for r in rows} == {f"ai.stackexchange.com@2017-03-13-{digest}"} == {
        "ai.stackexchange.com@2017-03-13-c27b753e"}
    assert {r[3] for r in rows} == {hashlib.sha256(d).hexdigest() for d in archive_members(ARCHIVE).values()}
    sede = sample_con.execute("SELECT dump_id, rows, source_sha256 FROM dumps WHERE site = 'stackoverflow.com'").fetchall()
    assert sede == [("stackoverflow.com@2023-11-15-1e6b60a9", 1475,
                     "c2d352747ba7f740fdcf9db60740ee477bee0e46cbbbaa242ce4cf4b040e9832")]


def test_every_row_carries_site_and_a_dump_key_that_dumps_dates(sample_con) -> None:
    """Rows carry their snapshot's dump_key; `dumps` maps (site, dump_key) to the dated dump_id."""
    for table in [*MEMBER_TABLES.values(), "post_tags"]:
        bad = sample_con.execute(f"SELECT count(*) FROM {table} AS t LEFT JOIN (SELECT DISTINCT site, dump_key, "
                                 "dump_id FROM dumps) AS d USING (site, dump_key) "
                                 "WHERE t.site IS NULL OR d.dump_id IS NULL OR d.dump_id NOT LIKE t.site || '@%'").fetchone()
        assert bad == (0,), table
    assert sample_con.execute("SELECT site, count(DISTINCT dump_key), count(DISTINCT dump_id) FROM dumps "
                              "GROUP BY site ORDER BY site").fetchall() == [
        ("ai.stackexchange.com", 1, 1), ("stackoverflow.com", 1, 1)]


def test_old_tag_format_and_post_tags(sample_con) -> None:
    row = sample_con.execute("SELECT tags_raw, tags, title FROM posts WHERE site = 'ai.stackexchange.com' AND id = 1").fetchone()
    assert row == ("<neural-networks><definitions>", ["neural-networks", "definitions"], 'What is "backprop"?')
    tags = sample_con.execute("SELECT tag, position FROM post_tags WHERE site = 'ai.stackexchange.com' "
                              "AND post_id = 1 ORDER BY position").fetchall()
    assert tags == [("neural-networks", 1), ("definitions", 2)]
    # post_tags holds exactly one row per tag of every post
    total = sample_con.execute("SELECT sum(len(tags)) FROM posts WHERE site = 'ai.stackexchange.com'").fetchone()[0]
    assert total == 1365 == table_counts(sample_con, "ai.stackexchange.com")["post_tags"]


def test_sede_values(sample_con) -> None:
    row = sample_con.execute(
        "SELECT post_type_id, creation_date::VARCHAR, score, view_count, tags, accepted_answer_id, deletion_date "
        "FROM posts WHERE site = 'stackoverflow.com' AND id = 71911980").fetchone()
    assert row == (1, "2022-04-18 12:44:51", 0, 368, ["python", "data-science", "knn"], None, None)


def test_community_user_is_flagged_as_bot(sample_con) -> None:
    bots = sample_con.execute("SELECT site, id, display_name FROM users WHERE is_bot").fetchall()
    assert bots == [("ai.stackexchange.com", -1, "Community")]
    # a human whose name contains "bot" is not a bot: the rule matches ids, never names
    named = sample_con.execute("SELECT count(*) FROM users WHERE display_name ILIKE '%bot%' AND NOT is_bot").fetchone()[0]
    assert named > 0


def test_old_users_age_kept(sample_con) -> None:
    row = sample_con.execute("SELECT count(age) FROM users WHERE site = 'ai.stackexchange.com'").fetchone()
    assert row == (1501,)


def test_oldest_schema_omitted_zero_counts_become_zero(tmp_path: Path) -> None:
    """2013 dumps omit AnswerCount/CommentCount when zero: a question without them has 0, not NULL."""
    raw = (TEST_DATA / "meta.mathoverflow.net" / "Posts.xml").read_bytes()
    line = next(l for l in raw.splitlines() if b'Id="28"' in l)
    assert b"AnswerCount" not in line and b"FavoriteCount" not in line
    con = connect(tmp_path / "db.duckdb")
    ingest(con, [TEST_DATA / "meta.mathoverflow.net"])
    row = con.execute("SELECT answer_count, comment_count, view_count, favorite_count, content_license, tags "
                      "FROM posts WHERE id = 28").fetchone()
    assert row == (0, 5, 83, None, None, ["bug", "status-completed"])
    # answers have no answer count at all: NULL, not 0
    assert con.execute("SELECT count(answer_count) FROM posts WHERE post_type_id = 2").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM posts").fetchone() == (count_rows(raw),)


def test_new_tag_format_and_unordered_rows(tmp_path: Path) -> None:
    raw = (TEST_DATA / "datascience.meta.stackexchange.com" / "Posts.xml").read_bytes()
    con = connect(tmp_path / "db.duckdb")
    ingest(con, [TEST_DATA / "datascience.meta.stackexchange.com" / "Posts.xml"])
    assert con.execute("SELECT count(*) FROM posts").fetchone() == (count_rows(raw),) == (30,)
    row = con.execute("SELECT tags_raw, tags, content_license FROM posts WHERE id = 6").fetchone()
    assert row == ("|feature-request|status-completed|", ["feature-request", "status-completed"], "CC BY-SA 3.0")
    assert con.execute("SELECT tag, position FROM post_tags WHERE post_id = 6 ORDER BY position").fetchall() == [
        ("feature-request", 1), ("status-completed", 2)]


def test_reingest_same_dump_is_noop_unless_force(sample_db_copy: Path) -> None:
    con = connect(sample_db_copy)
    before = con.execute("SELECT file, ingested_at FROM dumps ORDER BY site, file").fetchall()
    report = ingest(con, [SAMPLE])
    assert [(s.site, s.status) for s in report.sites] == [("ai.stackexchange.com", "unchanged"),
                                                         ("stackoverflow.com", "unchanged")]
    assert con.execute("SELECT file, ingested_at FROM dumps ORDER BY site, file").fetchall() == before
    report = ingest(con, [SEDE], force=True)
    assert [(s.site, s.status, s.rows["posts"]) for s in report.sites] == [("stackoverflow.com", "loaded", 1475)]
    assert table_counts(con, "ai.stackexchange.com")["posts"] == 1735


def test_same_dump_from_folder_or_archive_has_same_dump_id(tmp_path: Path, sample_db_path: Path) -> None:
    """dump_id depends on content: the extracted folder and the .7z are the same snapshot."""
    folder = tmp_path / "ai.stackexchange.com"
    folder.mkdir()
    for name, data in archive_members(ARCHIVE).items():
        (folder / name).write_bytes(data)
    con = connect(tmp_path / "db.duckdb")
    report = ingest(con, [folder])
    assert report.sites[0].dump_id == "ai.stackexchange.com@2017-03-13-c27b753e"


def test_split_archive_form(tmp_path: Path) -> None:
    """`site-Posts.7z` (how stackoverflow.com is published) feeds only that site's posts."""
    source = TEST_DATA / "datascience.meta.stackexchange.com" / "Posts.xml"
    archive = tmp_path / "datascience.meta.stackexchange.com-Posts.7z"
    with py7zr.SevenZipFile(archive, "w") as out:
        out.write(source, "Posts.xml")
    con = connect(tmp_path / "db.duckdb")
    report = ingest(con, [archive])
    assert [(s.site, s.rows["posts"]) for s in report.sites] == [("datascience.meta.stackexchange.com", 30)]
    assert con.execute("SELECT member FROM dumps").fetchall() == [("Posts.xml",)]


def test_folder_of_sites(tmp_path: Path) -> None:
    root = tmp_path / "dumps"
    shutil.copytree(TEST_DATA / "meta.mathoverflow.net", root / "meta.mathoverflow.net")
    shutil.copy(ARCHIVE, root / "ai.stackexchange.com.7z")
    (root / "README.txt").write_text("not a dump; skipped\n")
    con = connect(tmp_path / "db.duckdb")
    report = ingest(con, [root], workers=2)
    assert sorted((s.site, s.rows["posts"]) for s in report.sites) == [
        ("ai.stackexchange.com", 1735), ("meta.mathoverflow.net", 40)]


def test_watermark_rule(tmp_path: Path) -> None:
    """Rows shaped like the 2025 watermarks (rules/watermarks.v1.csv) are flagged; look-alikes are not.

    No 2025 dump is in the repository, so the test appends rows to a real 2024 cut: one per rule,
    plus the same Id with a human owner and a real Community-owned post (Id 1124, owner -1).
    """
    raw = (TEST_DATA / "datascience.meta.stackexchange.com" / "Posts.xml").read_bytes()
    extra = b"".join(
        b'  <row Id="%d" PostTypeId="1" CreationDate="2025-06-30T00:00:00.000" Score="0" Body="x" '
        b'OwnerUserId="%d" Title="t" Tags="|a|" />\r\n' % (post_id, owner)
        for post_id, owner in ((1000000001, -1), (1000000010, -1), (1000000011, -1)))
    site = tmp_path / "datascience.meta.stackexchange.com"
    site.mkdir()
    (site / "Posts.xml").write_bytes(raw.replace(b"</posts>", extra + b"</posts>"))
    con = connect(tmp_path / "db.duckdb")
    ingest(con, [site])
    flagged = con.execute("SELECT id FROM posts WHERE is_watermark ORDER BY id").fetchall()
    assert flagged == [(1000000001,), (1000000010,)]
    assert con.execute("SELECT owner_user_id, is_watermark FROM posts WHERE id = 1124").fetchone() == (-1, False)


def test_cli_ingest_prints_summary(tmp_path: Path) -> None:
    db = tmp_path / "cli.duckdb"
    result = CliRunner().invoke(ingest_command, [str(TEST_DATA / "meta.mathoverflow.net"), "--db", str(db)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[1].split()[:4] == ["meta.mathoverflow.net", "loaded", "40", "43"]  # 43 = `&lt;` in Tags
    assert "dump_id meta.mathoverflow.net@2013-07-07-" in lines[2]
    assert re.search(r"MB parsed in [\d.]+ s \([\d.]+ MB/s\)", lines[-1])
    again = CliRunner().invoke(ingest_command, [str(TEST_DATA / "meta.mathoverflow.net"), "--db", str(db)])
    assert again.stdout.splitlines()[1].split()[:2] == ["meta.mathoverflow.net", "unchanged"]


def test_cli_staging_dir_holds_the_parts_only_while_parsing(tmp_path: Path) -> None:
    staging = tmp_path / "scratch"
    staging.mkdir()
    result = CliRunner().invoke(ingest_command, [str(ARCHIVE), "--db", str(tmp_path / "s.duckdb"),
                                                 "--staging-dir", str(staging)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1].split()[:3] == ["ai.stackexchange.com", "loaded", "1,735"]
    assert list(staging.iterdir()) == []  # the run's temporary folder in it is gone
    missing = CliRunner().invoke(ingest_command, [str(ARCHIVE), "--db", str(tmp_path / "m.duckdb"),
                                                  "--staging-dir", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_ingest_help_ends_with_example() -> None:
    command = next(c for c in all_commands() if c.name == "ingest")
    # The printed help: once flows.cli._register() ran, the Example block is the epilog, not command.help.
    output = CliRunner().invoke(command, ["--help"]).output
    assert "Example:" in output and "stackmine ingest data/sample" in output
    assert "--db" in CliRunner().invoke(ingest_command, ["--help"]).output
