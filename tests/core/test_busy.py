"""A locked database: every command says the file is locked and by which PID, waits with --wait,
and never claims that the holder is stackmine or a writer (issue 12.5, 12.8).

The holder is a real second process: a plain DuckDB connection, read-only (an open notebook) or
read-write, on a copy of the sample database.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.core.db import connect, open_read_only
from pipeline.core.errors import DatabaseBusy
from tests.support.procs import stackmine_cmd

HOLD = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == 'ro'); " \
       "print('ready', flush=True); time.sleep(float(sys.argv[3]))"


def hold(db: Path, mode: str, seconds: float) -> subprocess.Popen:
    """A process that opens `db` (mode 'ro' or 'rw') with plain DuckDB and keeps it for `seconds`."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(db), mode, str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


def test_a_notebook_reading_blocks_a_writer_and_is_named_as_what_it_is(sample_db_copy: Path) -> None:
    reader = hold(sample_db_copy, "ro", 30)
    try:
        with pytest.raises(DatabaseBusy) as busy:
            connect(sample_db_copy)
    finally:
        reader.kill()
        reader.wait()
    text = str(busy.value)
    assert text.startswith(f"{sample_db_copy} is locked by another process (PID {reader.pid}, python")
    assert "even read-only (a notebook, the DuckDB shell)" in text and "--wait SECONDS" in text
    assert "stackmine process" not in text and "being written" not in text


def test_a_reader_waits_for_a_writer_with_wait(sample_db_copy: Path) -> None:
    writer = hold(sample_db_copy, "rw", 2)
    try:
        with pytest.raises(DatabaseBusy, match=rf"is locked by another process \(PID {writer.pid}, python"):
            open_read_only(sample_db_copy)
        started = time.monotonic()
        con = open_read_only(sample_db_copy, wait_seconds=60)
        waited = time.monotonic() - started
        assert con.execute("SELECT count(*) FROM posts").fetchone() == (3210,)
        con.close()
    finally:
        writer.kill()
        writer.wait()
    assert 0.5 < waited < 30


@pytest.mark.slow
@pytest.mark.parametrize("args", [["query", "dataset_provenance"], ["export", "x", "--out", "{tmp}"],
                                  ["report", "--out", "{tmp}"]], ids=lambda a: a[0])
def test_read_only_commands_print_the_busy_line_not_a_duckdb_error(sample_db_copy: Path, tmp_path: Path,
                                                                   args: list[str]) -> None:
    writer = hold(sample_db_copy, "rw", 60)
    fonts = tmp_path / "mpl"  # an empty font cache, as on a new machine: report's matplotlib would build one
    try:
        argv = [a.replace("{tmp}", str(tmp_path / "out")) for a in args]
        done = subprocess.run(stackmine_cmd(*argv, "--db", str(sample_db_copy)), capture_output=True, text=True,
                              timeout=120, env={**os.environ, "MPLCONFIGDIR": str(fonts)})
    finally:
        writer.kill()
        writer.wait()
    assert done.returncode == 2
    assert done.stderr.splitlines()[0] == (
        f"error: {sample_db_copy} is locked by another process (PID {writer.pid}, {Path(sys.executable).resolve().name}). "
        "Wait for it to finish or close it, or pass --wait SECONDS to queue behind it. Nothing was changed.")
    assert "Traceback" not in done.stderr and "IOException" not in done.stderr
    assert not (tmp_path / "out").exists()
    assert not fonts.exists()  # said before anything imported matplotlib


@pytest.mark.slow
def test_query_with_wait_queues_behind_a_writer(sample_db_copy: Path) -> None:
    writer = hold(sample_db_copy, "rw", 3)
    try:
        done = subprocess.run(stackmine_cmd("query", "dataset_provenance", "--db", str(sample_db_copy), "--wait", "60",
                                            "--format", "csv"), capture_output=True, text=True, timeout=120)
    finally:
        writer.kill()
        writer.wait()
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 10  # header + the sample's 9 dump files
