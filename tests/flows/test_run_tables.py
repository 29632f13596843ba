"""`stackmine run --tables`: the main job ingests only the named dump files, on the local path and
on Dask, the rest of the chain runs on them, and the ledger skips a rerun with the same files but
not one with other files. On the bundled sample: ai.stackexchange.com.7z holds all eight dump
files, stackoverflow.com is a Data Explorer export (Posts alone, so --tables leaves nothing of it out)."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from flows.cli import _register, cli
from tests.support import SAMPLE

# flows.ingest and flows.practice_mining (Prefect) are imported where they run: collecting stays fast.
_register()

AI, SO = "ai.stackexchange.com", "stackoverflow.com"
EVERY_FILE = ["Badges", "Comments", "PostHistory", "PostLinks", "Posts", "Tags", "Users", "Votes"]
# Rows per dump table of the sample's two sites after `--tables Posts,Tags` (Posts and Tags of the
# archive as a full ingest loads them, tests/flows/test_ingest_flow.py); every other table empty.
POSTS_TAGS = {"posts": {AI: 1735, SO: 1475}, "post_tags": {AI: 1365, SO: 6104}, "tags": {AI: 158},
              "users": {}, "comments": {}, "post_links": {}, "post_history": {}, "votes": {}, "badges": {}}

# Every test here needs the session's Prefect test server (about 20 s to start): `make test-fast` leaves them out.
pytestmark = pytest.mark.slow


def loaded(db: Path) -> tuple[dict[str, list[str]], dict[str, dict[str, int]]]:
    """(dump files per site in `dumps`, rows per site of every other dump table)."""
    from pipeline.ingest.load import DUMP_TABLES

    con = duckdb.connect(str(db), read_only=True)
    try:
        files = {site: sorted(names) for site, names in
                 con.execute("SELECT site, list(file) FROM dumps GROUP BY site").fetchall()}
        rows = {t: dict(con.execute(f"SELECT site, count(*) FROM {t} GROUP BY site ORDER BY site").fetchall())
                for t in DUMP_TABLES if t != "dumps"}
        return files, rows
    finally:
        con.close()


def statuses(results: list[dict]) -> list[tuple[str, str]]:
    return [(r.get("stage", r.get("site")), r["status"]) for r in results]


def test_run_with_tables_ingests_those_files_and_runs_the_chain_then_skips(tmp_path: Path) -> None:
    from flows.practice_mining import practice_mining

    db = tmp_path / "stackmine.duckdb"
    first = practice_mining(db=str(db), tables=["Posts", "tags"])
    assert statuses(first["ingest"]) == [(AI, "ingested"), (SO, "ingested")]
    assert loaded(db) == ({AI: ["Posts", "Tags"], SO: ["Posts"]}, POSTS_TAGS)
    # text and classify per site, then the study steps: all ran on the posts alone
    assert statuses(first["sites"]) == [("text", "done"), ("classify", "done")] * 2
    assert [(step, first[step]["status"]) for step in ("topics", "stages", "export", "report")] == [
        ("topics", "done"), ("stages", "done"), ("export", "done"), ("report", "done")]
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM question_text").fetchone()[0] == 2079  # as a full run (test_practice_mining)
    finally:
        con.close()
    # the same files again, through the CLI: every step skipped (without --tables reaching the
    # flow, the archive's other six files would load)
    result = CliRunner().invoke(cli, ["run", "--db", str(db), "--tables", "Posts,Tags"])
    assert result.exit_code == 0, result.output
    steps = result.output.split("practice-mining finished", 1)[0].splitlines()
    assert [line.split()[0] for line in steps] == [
        "ingest", "ingest", "text", "classify", "text", "classify", "topics", "stages", "export", "report"]
    assert {line.split()[-1] for line in steps} == {"skipped"}
    assert loaded(db) == ({AI: ["Posts", "Tags"], SO: ["Posts"]}, POSTS_TAGS)


def test_dask_parses_only_the_named_files_and_keys_the_ledger_on_them(tmp_path: Path) -> None:
    """One Dask worker process; the same outcome as the local path, and each rerun decided by the
    files named: the same again is skipped, every file is loaded, and Posts,Tags after every file
    is loaded again (its Posts are as new as the loaded ones: not kept as "newer")."""
    from flows.ingest import ingest_flow

    local, db = tmp_path / "local.duckdb", tmp_path / "dask.duckdb"
    assert statuses(ingest_flow(sources=[str(SAMPLE)], db=str(local), tables=["Posts", "Tags"])) == [
        (AI, "ingested"), (SO, "ingested")]
    results = ingest_flow(sources=[str(SAMPLE)], db=str(db), dask_workers=1, tables=["Posts", "Tags"])
    assert statuses(results) == [(AI, "ingested"), (SO, "ingested")]
    assert os.getpid() not in {r["pid"] for r in results}  # parsed in a Dask worker process
    assert {r["site"]: sorted(n for n in r["rows"] if r["rows"][n]) for r in results} == {
        AI: ["dumps", "post_tags", "posts", "tags"], SO: ["dumps", "post_tags", "posts"]}  # nothing else parsed
    assert loaded(db) == loaded(local) == ({AI: ["Posts", "Tags"], SO: ["Posts"]}, POSTS_TAGS)

    def dask(tables: list[str] | None) -> list[tuple[str, str]]:
        return statuses(ingest_flow(sources=[str(SAMPLE)], db=str(db), dask_workers=1, tables=tables))

    assert dask(["Tags,Posts"]) == [(AI, "skipped"), (SO, "skipped")]
    assert dask(None) == [(AI, "ingested"), (SO, "skipped")]  # the export is Posts alone either way
    assert loaded(db)[0] == {AI: EVERY_FILE, SO: ["Posts"]}
    assert dask(["Posts", "Tags"]) == [(AI, "ingested"), (SO, "skipped")]
    assert loaded(db) == ({AI: ["Posts", "Tags"], SO: ["Posts"]}, POSTS_TAGS)
