"""The main job end to end on the bundled sample, the cache that makes a rerun cheap, and two
runs on one database at the same time (a real second process)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import duckdb
import pytest

from pipeline.core.codebook import STAGES
from pipeline.core.errors import DatabaseBusy
from tests.support.procs import kill_group, stackmine_cmd

# flows.practice_mining (Prefect) is imported where it runs: collecting stays fast.

AI, SO = "ai.stackexchange.com", "stackoverflow.com"

# Every test here needs the session's Prefect test server (about 20 s to start): `make test-fast` leaves them out.
pytestmark = pytest.mark.slow


# Rows of the tables the chain fills from the sample; topic and stage tables are compared with
# `study_db_path` instead (the same stages called directly, tests/conftest.py), so the flow must
# write exactly what the stages write, whatever their current rules produce.
# stage_runs: one ledger row per step and scope: ingest, text and classify for each of the two
# sites, then topics, stages, export and report.
EXPECTED = {"dumps": 9, "posts": 3210, "question_text": 2079, "question_labels": 2079, "topic_models": 1,
            "stage_runs": 10}
DERIVED = ("topics", "question_topics", "topic_stages", "stage_coverage")


def counts(db: Path, tables=tuple(EXPECTED)) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
    finally:
        con.close()


def assert_complete(db: Path, study_db: Path) -> None:
    """The chain's database holds the sample's rows and what the stages write when called directly."""
    assert counts(db) == EXPECTED
    assert counts(db, DERIVED) == counts(study_db, DERIVED)


def statuses(report: dict) -> list[tuple[str, str]]:
    """(stage, status) of every step of a practice_mining report, in order."""
    items = [i for results in report.values() for i in (results if isinstance(results, list) else [results])]
    return [(i.get("stage", "ingest"), i["status"]) for i in items]


@pytest.fixture(scope="module")
def mined(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, dict]:
    """The sample mined twice into one database: (db, first report, second report)."""
    from flows.practice_mining import practice_mining

    db = tmp_path_factory.mktemp("mined") / "stackmine.duckdb"
    first = practice_mining(db=str(db))
    second = practice_mining(db=str(db))
    return db, first, second


def test_first_run_computes_every_stage(mined: tuple[Path, dict, dict], study_db_path: Path) -> None:
    db, first, _ = mined
    assert [s for s, _ in statuses(first)] == [
        "ingest", "ingest", "text", "classify", "text", "classify", "topics", "stages", "export", "report"]
    assert {st for _, st in statuses(first)} == {"ingested", "done"}
    assert_complete(db, study_db_path)
    assert (db.parent / "exports" / "practice-mining").is_dir() and (db.parent / "report" / "index.html").is_file()


def test_second_run_on_unchanged_input_skips_everything(mined: tuple[Path, dict, dict], study_db_path: Path) -> None:
    db, first, second = mined
    assert [s for s, _ in statuses(second)] == [s for s, _ in statuses(first)]
    assert {st for _, st in statuses(second)} == {"skipped"}
    assert_complete(db, study_db_path)


def wait_for_lock(db: Path, proc: subprocess.Popen, timeout: float = 120) -> None:
    """Block until `proc` holds the database's write lock (read-only opens then fail with a lock error)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists():
            try:
                duckdb.connect(str(db), read_only=True).close()
            except duckdb.IOException as exc:
                if "lock" in str(exc).lower():
                    return
        time.sleep(0.1)
    raise AssertionError(f"run never took the lock (exit code {proc.poll()})")


def test_two_runs_on_one_database_one_fails_clearly_then_one_waits(tmp_path: Path, prefect_env: dict,
                                                                   study_db_path: Path) -> None:
    from flows.practice_mining import practice_mining

    db = tmp_path / "shared.duckdb"
    first = subprocess.Popen(stackmine_cmd("run", "--db", str(db)), env=prefect_env, start_new_session=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_lock(db, first)
        with pytest.raises(DatabaseBusy, match=rf"{db} is locked by another process \(PID {first.pid}, "):
            practice_mining(db=str(db))
        queued = practice_mining(db=str(db), wait_seconds=300)  # waits for the first run, then finds it all done
        out, _ = first.communicate(timeout=300)
    finally:
        kill_group(first)
    assert first.returncode == 0, out
    # the CLI run ends with the study's result: the coverage table, every codebook stage a row
    table = out.split("stage coverage, notebook ML questions vs other ML questions", 1)[1]
    words = [line.split()[0] for line in table.strip().splitlines()[2:] if line.strip()]  # after the column header
    assert words[: len(STAGES)] == list(STAGES)  # stderr log lines may follow (merged streams)
    assert {st for _, st in statuses(queued)} == {"skipped"}
    assert_complete(db, study_db_path)


def test_a_run_over_a_folder_no_dump_has_reached_yet_waits(tmp_path: Path) -> None:
    """What a scheduled run over `data/raw` does before `stackmine acquire` put anything there."""
    from flows.practice_mining import practice_mining

    raw = tmp_path / "raw"
    (raw / "2024-04-01").mkdir(parents=True)  # folders, but no file yet
    report = practice_mining(sources=[str(raw)], db=str(tmp_path / "db.duckdb"))
    assert report == {"ingest": [{"site": str(raw), "status": "no dumps yet"}]}


def test_serve_creates_the_folder_it_watches(tmp_path: Path) -> None:
    from flows.cli.serve import _watch

    _watch(tmp_path / "data" / "raw")
    assert (tmp_path / "data" / "raw").is_dir()
    with pytest.raises(Exception, match="does not exist"):
        _watch(tmp_path / "typo.7z")
