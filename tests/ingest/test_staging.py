"""Staging left by killed runs is removed, never a live run's (issue 12 item 6).

The folders here are made the way `staging_folder` makes them (an owner.json naming the process
and its start time); the slow test kills a real `stackmine ingest` while it loads (since issue 14
item 3 it stages nothing of its own).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.ingest.test_bad_input import _big_site
from tests.support import TEST_DATA

from flows.cli.clean import clean_command
from pipeline.ingest.load import ingest
from pipeline.ingest.staging import OWNER, PREFIX, UNOWNED_AFTER_SECONDS, owner_record, process_start, staging_folder
from pipeline.steps import connect

CUT_SITE = TEST_DATA / "datascience.meta.stackexchange.com"


def _ended_process() -> tuple[int, str]:
    """(pid, start time) of a process that has ended."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    start = process_start(proc.pid)
    proc.kill()
    proc.wait()
    return proc.pid, start


def _folders(root: Path) -> dict[str, Path]:
    """One staging folder per case, with a part file of 1,000 bytes in each."""
    dead_pid, dead_start = _ended_process()
    me = owner_record()
    owners = {
        "dead": {**me, "pid": dead_pid, "start": dead_start},
        "live": me,
        "reused-pid": {**me, "start": "1"},  # this PID, but not the process that made it
        "before-reboot": {**me, "boot": "00000000-0000-0000-0000-000000000000"},
        "other-host": {**me, "pid": dead_pid, "host": "another-container"},  # its PIDs are not ours to ask
    }
    folders = {}
    for case in ("dead", "live", "reused-pid", "before-reboot", "other-host", "unowned-fresh", "unowned-old"):
        folder = root / f"{PREFIX}{case}"
        (folder / "file-1").mkdir(parents=True)
        (folder / "file-1" / "Posts.000000.arrow").write_bytes(b"\0" * 1000)
        if case in owners:
            (folder / OWNER).write_text(json.dumps(owners[case]))
        folders[case] = folder
    old = time.time() - UNOWNED_AFTER_SECONDS - 3600
    for path in [folders["unowned-old"], *folders["unowned-old"].rglob("*")]:
        os.utime(path, (old, old))
    return folders


def test_the_next_ingest_removes_staging_of_ended_runs_only(tmp_path: Path) -> None:
    stage = tmp_path / "stage"
    folders = _folders(stage)
    con = connect(tmp_path / "db.duckdb")
    try:
        ingest(con, [CUT_SITE], staging_dir=stage)
    finally:
        con.close()
    assert sorted(p.name for p in stage.iterdir()) == [f"{PREFIX}live", f"{PREFIX}other-host", f"{PREFIX}unowned-fresh"]
    assert (folders["live"] / "file-1" / "Posts.000000.arrow").exists()


def test_a_run_records_itself_as_owner(tmp_path: Path) -> None:
    with staging_folder(tmp_path) as folder:
        assert folder.name.startswith(PREFIX)
        assert json.loads((folder / OWNER).read_text()) == owner_record()
        assert owner_record()["pid"] == os.getpid() and owner_record()["start"] == process_start(os.getpid())
    assert not folder.exists()


def test_clean_lists_and_removes(tmp_path: Path) -> None:
    stage = tmp_path / "stage"
    _folders(stage)
    args = ["--db", str(tmp_path / "none.duckdb"), "--staging-dir", str(stage)]
    listed = CliRunner().invoke(clean_command, [*args, "--dry-run"])
    assert listed.exit_code == 0, listed.output
    assert len([line for line in listed.output.splitlines() if line.startswith("would remove " + str(stage))]) == 4
    assert f"would remove {stage / (PREFIX + 'dead')} (0.0 MB): its run (PID " in listed.output
    assert f"would remove {stage / (PREFIX + 'unowned-old')} (0.0 MB): no owner recorded and unchanged for 25 h" in listed.output
    assert f"would remove {stage / (PREFIX + 'before-reboot')} (0.0 MB): its run (PID {os.getpid()}) was before the machine restarted" in listed.output
    assert len(list(stage.iterdir())) == 7
    done = CliRunner().invoke(clean_command, args)
    assert done.exit_code == 0, done.output
    assert "removed 4 stale staging folder(s)" in done.output.splitlines()[-1]
    assert sorted(p.name for p in stage.iterdir()) == [f"{PREFIX}live", f"{PREFIX}other-host", f"{PREFIX}unowned-fresh"]
    assert not (tmp_path / "none.duckdb").exists()  # clean never opens the database


@pytest.mark.slow  # a real `stackmine ingest` killed with SIGKILL while it loads 150 MB
def test_a_killed_ingest_leaves_no_staged_rows_and_the_next_cleans_up(sample_db_copy: Path, tmp_path: Path) -> None:
    """Since issue 14 item 3 rows are inserted as they parse: a run killed mid-load has staged no
    parsed rows (no `stackmine-ingest-*` folder of its own, whatever --staging-dir, which is only
    DuckDB's spill folder). The next ingest still removes the folders of dead runs (an older
    version's, or `run` with Dask's) and leaves the database as the killed run found it."""
    source = _big_site(tmp_path, copies=60)
    stage = tmp_path / "stage"
    stage.mkdir()
    folders = _folders(stage)
    process = subprocess.Popen([sys.executable, "-m", "flows.cli", "ingest", str(source), "--db", str(sample_db_copy),
                                "--workers", "2", "--force", "--staging-dir", str(stage)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    for raw in process.stderr:
        if b"ai.stackexchange.com: loading" in raw:
            time.sleep(0.3)  # inside the load transaction, rows going in
            break
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=60)
    # nothing of its own (the run itself removed the dead runs' folders when it started)
    assert {p.name for p in stage.glob(PREFIX + "*")} <= {folder.name for folder in folders.values()}
    con = connect(sample_db_copy)
    try:
        assert con.execute("SELECT count(*) FROM posts WHERE site = 'ai.stackexchange.com'").fetchone() == (1735,)
        ingest(con, [CUT_SITE], staging_dir=stage)
    finally:
        con.close()
    assert sorted(p.name for p in stage.glob(PREFIX + "*")) == [f"{PREFIX}live", f"{PREFIX}other-host",
                                                                f"{PREFIX}unowned-fresh"]
