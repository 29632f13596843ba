"""Ingest as a pipeline (issue 14 item 3): rows carry a key fixed before parsing, DuckDB inserts a
file's chunks while later ones parse, the next site is read while one is finished, and a database
made before dump_key is migrated with its rows and dump ids.

What must still hold is tested where it always was: exact rows (test_ingest.py), bad input and
kill -9 leaving the database as it was (test_bad_input.py; here also with two sites), snapshots
(test_snapshots.py).
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest
from tests.ingest.test_bad_input import _big_site
from tests.support import SAMPLE, TEST_DATA
from tests.support.ingest_helpers import archive_members, fingerprint, table_counts

from pipeline.core.gilswitch import SWITCH_SECONDS
from pipeline.ingest import STEP, load, parsing, xmlrows
from pipeline.ingest.load import DUMP_TABLES, ingest
from pipeline.ingest.parsing import Feed
from pipeline.steps import connect, ingest_sources
from pipeline.text.extract import extract

SEDE = SAMPLE / "stackoverflow.com" / "data-science-questions-2022.csv"
AI = "ai.stackexchange.com"


def test_a_reload_gets_the_next_key_and_leaves_one_snapshot(sample_db_copy: Path) -> None:
    con = connect(sample_db_copy)
    try:
        report = ingest(con, [SEDE], force=True)
        assert [(s.site, s.status, s.dump_id) for s in report.sites] == [
            ("stackoverflow.com", "loaded", "stackoverflow.com@2023-11-15-1e6b60a9")]
        assert con.execute("SELECT DISTINCT site, dump_key, dump_id FROM dumps ORDER BY site").fetchall() == [
            (AI, 1, "ai.stackexchange.com@2017-03-13-c27b753e"),
            ("stackoverflow.com", 2, "stackoverflow.com@2023-11-15-1e6b60a9")]
        for table, rows in (("posts", 1475), ("post_tags", 6104)):
            assert con.execute(f"SELECT dump_key, count(*) FROM {table} WHERE site = 'stackoverflow.com' "
                               "GROUP BY ALL").fetchall() == [(2, rows)], table
        assert table_counts(con, AI)["posts"] == 1735
    finally:
        con.close()


def _posts_folder(tmp_path: Path) -> Path:
    folder = tmp_path / AI
    folder.mkdir()
    (folder / "Posts.xml").write_bytes(archive_members(SAMPLE / "ai.stackexchange.com.7z")["Posts.xml"])
    return folder


def test_the_key_is_fixed_before_parsing_and_chunks_go_in_while_later_ones_parse(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The site's key is chosen before its first chunk is parsed, and DuckDB's insert takes a
    file's chunks while later ones are still unparsed: when the last chunk of Posts.xml is parsed,
    DuckDB has already taken all but the few the bounded queue holds."""
    monkeypatch.setattr(xmlrows, "BLOCK_BYTES", 4096)  # the sample's 2.5 MB Posts.xml in ~600 chunks
    events: list[tuple[str, int]] = []
    inserted = [0]  # batches DuckDB has taken from the stream so far
    parse, next_key, batches = parsing.parse_chunk, load.next_dump_key, Feed._batches

    def parsing_chunk(chunk, spec):
        events.append(("parse", inserted[0]))
        return parse(chunk, spec)

    def choosing_key(con, site):
        key = next_key(con, site)
        events.append(("key", key))
        return key

    def counted(self, result, schema):
        for batch in batches(self, result, schema):
            yield batch
            inserted[0] += 1

    monkeypatch.setattr(parsing, "parse_chunk", parsing_chunk)
    monkeypatch.setattr(load, "next_dump_key", choosing_key)
    monkeypatch.setattr(Feed, "_batches", counted)
    con = connect(tmp_path / "db.duckdb")
    try:
        report = ingest(con, [_posts_folder(tmp_path)])
        assert [(s.status, s.rows["posts"]) for s in report.sites] == [("loaded", 1735)]
        assert con.execute("SELECT DISTINCT dump_key FROM posts").fetchall() == [(1,)]
    finally:
        con.close()
    assert events[0] == ("key", 1) and [kind for kind, _ in events[1:]] == ["parse"] * (len(events) - 1)
    parsed = [taken for kind, taken in events if kind == "parse"]
    assert len(parsed) > 200 and inserted[0] >= len(parsed)
    # chunk k is parsed once DuckDB took chunk k - queued - 3 or so (the queue of 4, the file's
    # marker, the chunk in DuckDB's hands): never a whole file ahead
    assert max(k - taken for k, taken in enumerate(parsed)) <= load.QUEUED_PER_WORKER + 3
    assert parsed[-1] >= len(parsed) - load.QUEUED_PER_WORKER - 3


def test_the_next_site_is_read_while_one_is_finished(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Site 2's file is opened before site 1's snapshot is dated, its old one deleted and its post
    tags derived: loading site k overlaps reading site k+1."""
    second_opened = threading.Event()
    xml, newer = Feed._xml, load.newer_loaded_than
    waited: dict[str, bool] = {}

    def watched(self, dump_file, stream, known):
        if dump_file.site == "meta.mathoverflow.net":
            second_opened.set()
        return xml(self, dump_file, stream, known)

    def finishing(con, site, results):
        if site == "datascience.meta.stackexchange.com":
            waited[site] = second_opened.wait(timeout=60)
        return newer(con, site, results)

    monkeypatch.setattr(Feed, "_xml", watched)
    monkeypatch.setattr(load, "newer_loaded_than", finishing)
    con = connect(tmp_path / "db.duckdb")
    try:
        report = ingest(con, [TEST_DATA / "datascience.meta.stackexchange.com", TEST_DATA / "meta.mathoverflow.net"])
    finally:
        con.close()
    assert waited == {"datascience.meta.stackexchange.com": True}
    assert [(s.site, s.status) for s in report.sites] == [
        ("datascience.meta.stackexchange.com", "loaded"), ("meta.mathoverflow.net", "loaded")]


def test_the_gil_is_handed_over_quickly_while_loading_and_restored_after(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """DuckDB's client re-takes the GIL many times per statement: while the feed and parser
    threads run beside it the switch interval is short (pipeline/core/gilswitch.py), then as it was."""
    seen: list[float] = []
    newer = load.newer_loaded_than

    def recording(con, site, results):
        seen.append(sys.getswitchinterval())
        return newer(con, site, results)

    monkeypatch.setattr(load, "newer_loaded_than", recording)
    before = sys.getswitchinterval()
    con = connect(tmp_path / "db.duckdb")
    try:
        ingest(con, [TEST_DATA / "meta.mathoverflow.net"])
    finally:
        con.close()
    assert seen == [SWITCH_SECONDS] and sys.getswitchinterval() == before != SWITCH_SECONDS


def test_a_new_sites_plain_files_are_hashed_while_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A plain XML file of a site the database does not hold is not read twice before parsing: its
    SHA-256 is taken while it is read, and is the same as the file's; the ledger records the site
    with it, so the same run again is skipped."""
    hashed: list[Path] = []
    sha256_file = load.sha256_file
    monkeypatch.setattr(load, "sha256_file", lambda path: hashed.append(Path(path)) or sha256_file(path))
    site = TEST_DATA / "meta.mathoverflow.net"
    con = connect(tmp_path / "db.duckdb")
    try:
        assert [s.status for s in ingest_sources(con, [site]).sites] == ["loaded"]
        assert hashed == []
        assert con.execute("SELECT source_sha256, sha256 FROM dumps").fetchall() == [
            (hashlib.sha256((site / "Posts.xml").read_bytes()).hexdigest(),) * 2]
        assert [s.status for s in ingest_sources(con, [site]).sites] == ["unchanged"]
        assert hashed == [site / "Posts.xml"]  # a loaded site's files are hashed first (same dump?)
    finally:
        con.close()


def _old_ddl() -> str:
    """The dump tables as ingest-2 made them: rows carry dump_id, `dumps` has no dump_key."""
    ddl = STEP.tables().text()
    ddl = re.sub(r"\n    dump_key         INTEGER NOT NULL, .*\n(\s+--.*\n)", "\n", ddl, count=1)
    ddl = re.sub(r"dump_key(\s+)INTEGER NOT NULL,", r"dump_id\1VARCHAR NOT NULL,", ddl)
    assert "dump_key" not in ddl.split("--")[0] and ddl.count("dump_id ") >= 10
    return ddl


def _old_database(path: Path, tmp_path: Path) -> dict[str, list[tuple]]:
    """A database in ingest-2's layout holding two real sites (tests/data), and its rows per
    table, dump_id included, as a migration must keep them."""
    new = tmp_path / "new.duckdb"
    con = connect(new)
    try:
        ingest(con, [TEST_DATA / "datascience.meta.stackexchange.com", TEST_DATA / "meta.mathoverflow.net"])
    finally:
        con.close()
    old = duckdb.connect(str(path))
    try:
        old.execute(_old_ddl())
        old.execute("ATTACH ? AS new (READ_ONLY)", [str(new)])
        old.execute("INSERT INTO dumps BY NAME SELECT * EXCLUDE (dump_key) REPLACE ('ingest-2' AS pipeline_version) "
                    "FROM new.dumps")
        for table in DUMP_TABLES[1:]:
            old.execute(f"INSERT INTO {table} BY NAME SELECT t.* EXCLUDE (dump_key), d.dump_id FROM new.{table} AS t "
                        "JOIN (SELECT DISTINCT site, dump_key, dump_id FROM new.dumps) AS d USING (site, dump_key)")
        old.execute("DETACH new")
        rows = {table: old.execute(f"SELECT * EXCLUDE (dump_id), dump_id FROM {table} ORDER BY ALL").fetchall()
                for table in DUMP_TABLES[1:]}
        rows["dumps"] = old.execute("SELECT * FROM dumps ORDER BY ALL").fetchall()
        assert rows["posts"] and rows["post_tags"] and rows["dumps"]
    finally:
        old.close()
    return rows


def test_an_old_database_is_migrated_with_its_rows_and_dump_ids(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    before = _old_database(db, tmp_path)
    con = connect(db)  # migrates
    try:
        for table in DUMP_TABLES[1:]:
            columns = [c for (c,) in con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = ?",
                                                 [table]).fetchall()]
            assert "dump_id" not in columns and "dump_key" in columns, table
            # every row kept; its dump_id now read through dumps; each site's snapshot is key 1
            assert con.execute(f"SELECT t.* EXCLUDE (dump_key), d.dump_id FROM {table} AS t "
                               "JOIN (SELECT DISTINCT site, dump_key, dump_id FROM dumps) AS d USING (site, dump_key) "
                               "ORDER BY ALL").fetchall() == before[table], table
            assert con.execute(f"SELECT DISTINCT dump_key FROM {table}").fetchall() in ([(1,)], []), table
        assert con.execute("SELECT * EXCLUDE (dump_key) FROM dumps ORDER BY ALL").fetchall() == before["dumps"]
        assert con.execute("SELECT DISTINCT dump_key FROM dumps").fetchall() == [(1,)]
        assert con.execute("SELECT constraint_column_names FROM duckdb_constraints() WHERE table_name = 'dumps' "
                           "AND constraint_type = 'PRIMARY KEY'").fetchall() == [(["site", "file", "source_sha256"],)]
        # text reads the dump_id through dumps: the old one
        extract(con)
        assert con.execute("SELECT DISTINCT site, dump_id FROM question_text ORDER BY site").fetchall() == \
            sorted({(row[0], row[1]) for row in before["dumps"]})
        # the next load of a site is its snapshot 2, and replaces snapshot 1
        report = ingest(con, [TEST_DATA / "meta.mathoverflow.net"])
        assert [s.status for s in report.sites] == ["loaded"]  # ingest-2 -> ingest-3: loaded again
        assert con.execute("SELECT DISTINCT site, dump_key FROM posts ORDER BY site").fetchall() == [
            ("datascience.meta.stackexchange.com", 1), ("meta.mathoverflow.net", 2)]
    finally:
        con.close()
    con = connect(db)  # nothing left to migrate
    con.close()


@pytest.mark.slow  # a real `stackmine ingest` killed with SIGKILL
def test_kill_9_while_loading_the_second_site_keeps_both_as_they_were(sample_db_copy: Path, tmp_path: Path) -> None:
    """Rows are inserted as they parse and a run is one transaction: killed while the second site
    loads, after the first site's new snapshot went in (uncommitted), the database holds neither
    new site: the old snapshot of the second, nothing of the first."""
    source = _big_site(tmp_path, copies=60)
    before = fingerprint(sample_db_copy)
    process = subprocess.Popen(
        [sys.executable, "-c", "from flows.cli import main; main()", "ingest",
         str(TEST_DATA / "meta.mathoverflow.net"), str(source), "--db", str(sample_db_copy), "--workers", "2", "--force"],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    seen = []
    for raw in process.stderr:
        seen.append(raw.decode(errors="replace"))
        if f"{AI}: loading" in seen[-1]:
            time.sleep(0.3)  # meta.mathoverflow.net is in (uncommitted), ai.stackexchange.com partly in
            os.kill(process.pid, signal.SIGKILL)
            break
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, "".join(seen)
    assert any("meta.mathoverflow.net: loaded" in line for line in seen), "".join(seen)
    assert fingerprint(sample_db_copy) == before
    con = connect(sample_db_copy)
    try:
        assert con.execute("SELECT count(*) FROM posts WHERE site = 'meta.mathoverflow.net'").fetchall() == [(0,)]
        assert con.execute("SELECT count(*), min(dump_key), max(dump_key) FROM posts WHERE site = ?",
                           [AI]).fetchall() == [(1735, 1, 1)]
    finally:
        con.close()
