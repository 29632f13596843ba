"""text and classify on every core (issue 14): the same tables, row for row and in stored order,
as the serial path. The calling process reads the scope in batches, worker processes parse or
label them, and the caller inserts the results in the order it read them
(pipeline/core/workers.py). These tests force workers on the bundled sample, which is below the
size at which they start by default, with small batches so that many go out."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pyarrow as pa
import pytest

from pipeline.core.workers import PARALLEL_MIN_ROWS, available_cores, map_batches, worker_count
from tests.support import REPO, batchwork

TABLES = ("question_text", "question_labels")


@pytest.fixture(autouse=True)
def _tests_importable_in_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Worker processes are spawned with this process's sys.path; the test helpers they run
    (tests.support.batchwork, broken_classifier) are found from the repository root, which pytest's
    importlib mode does not put there."""
    monkeypatch.syspath_prepend(str(REPO))


def test_workers_give_the_serial_tables_row_for_row(sample_db_copy: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.classify import classifier as classify_module
    from pipeline.steps import connect
    from pipeline.text import extract as text_module

    serial_path = tmp_path / "serial.duckdb"
    shutil.copyfile(sample_db_copy, serial_path)
    tables = {}
    for path, workers in ((serial_path, 1), (sample_db_copy, 3)):
        if workers > 1:
            monkeypatch.setattr(text_module, "BATCH_ROWS", 100)
            monkeypatch.setattr(classify_module, "BATCH_ROWS", 100)
        con = connect(path)
        try:
            assert text_module.extract(con, workers=workers) == 2079
            assert classify_module.classify(con, workers=workers) == 2079
            # stored order, not sorted: the rows must come back in the order they were read
            tables[workers] = [con.execute(f"SELECT * FROM {table}").fetchall() for table in TABLES]
        finally:
            con.close()
    assert tables[3] == tables[1]
    assert sum(row[4] for row in tables[1][1]) == 172  # notebook questions, as in the sample's pinned labels


def test_default_worker_count() -> None:
    assert worker_count(None, PARALLEL_MIN_ROWS - 1) == 1
    assert worker_count(None, PARALLEL_MIN_ROWS) == available_cores() <= (os.cpu_count() or 1)
    assert worker_count(3, 10) == 3
    assert worker_count(0, 10**9) == 1


def test_map_batches_keeps_order_uses_every_worker_and_raises_the_workers_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the batch files go
    batches = [pa.record_batch({"x": [k, k + 100]}) for k in range(9)]
    assert [b.column(0).to_pylist() for b in map_batches(batchwork.double, iter(batches), 2)] == \
        [[2 * k, 2 * k + 200] for k in range(9)]
    many = [pa.record_batch({"x": [k]}) for k in range(60)]
    done = list(map_batches(batchwork.tag_pid, iter(many), 2))
    assert [b.column(0).to_pylist() for b in done] == [[k] for k in range(60)]
    pids = {b.column(1)[0].as_py() for b in done}
    assert os.getpid() not in pids and len(pids) == 2  # two worker processes worked, the caller only wrote
    assert list(tmp_path.iterdir()) == []  # the run's folder and its batch files are gone
    with pytest.raises(ValueError, match="three"):
        list(map_batches(batchwork.refuse_three, iter(batches), 2))
    assert list(tmp_path.iterdir()) == []
    texts = [pa.record_batch({"x": ["é" * k, None, ""]}) for k in range(5)]  # strings and nulls, as text's
    assert [b.to_pydict() for b in map_batches(batchwork.identity, iter(texts), 2)] == [b.to_pydict() for b in texts]


def test_a_full_disk_is_a_named_error() -> None:
    """Batches reach the workers as files in the temporary folder: when it has no room, the stage
    stops with what to do instead of an OSError. Linux's /dev/full refuses every write with
    ENOSPC, as a full disk does."""
    from pipeline.core.workers import HandOffFailed, _handed

    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    with pytest.raises(HandOffFailed, match="(?s)No space left on device.*TMPDIR.*--workers 1"):
        _handed(pa.record_batch({"x": ["a" * 100_000]}), Path("/dev/full"))


def test_failure_in_a_worker_leaves_the_previous_labels(sample_db_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.classify import classifier as classify_module
    from pipeline.steps import connect
    from pipeline.text.extract import extract

    con = connect(sample_db_copy)
    try:
        extract(con, workers=1)
        classify_module.classify(con, workers=1)
        before = con.execute("SELECT * FROM question_labels").fetchall()
        monkeypatch.setattr(classify_module, "BATCH_ROWS", 100)
        with pytest.raises(RuntimeError, match="broken classifier"):
            classify_module.classify(con, workers=2, classifier=batchwork.broken_classifier())
        assert con.execute("SELECT * FROM question_labels").fetchall() == before
    finally:
        con.close()


def test_worker_processes_exit_when_the_stage_is_killed(tmp_path: Path) -> None:
    """kill -9 of the process running a stage on 2 cores leaves no worker process behind, and no
    batch files: the workers remove the run's temporary folder as they exit."""
    import signal
    import time

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    stage = _stage_process(tmp_path, 10**6,
                           "    for done in map_batches(batchwork.tag_pid, batches, 2):\n"
                           "        print(done.column(1)[0].as_py(), flush=True)\n", scratch)
    pids: set[int] = set()
    deadline = time.monotonic() + 60
    while len(pids) < 2 and time.monotonic() < deadline:  # until the worker process has done a batch
        pids.add(int(stage.stdout.readline()))
    worker = (pids - {stage.pid}).pop()
    os.kill(stage.pid, signal.SIGKILL)
    stage.wait()
    for _ in range(100):
        if not _alive(worker):
            break
        time.sleep(0.1)
    assert not _alive(worker)
    for _ in range(100):  # the other worker may still be on its way out
        if not list(scratch.iterdir()):
            break
        time.sleep(0.1)
    assert list(scratch.iterdir()) == []


def test_a_worker_killed_while_starting_fails_the_stage_instead_of_hanging(tmp_path: Path) -> None:
    """A worker process killed by the OS (the OOM killer, an operator) fails the stage with a named
    error, whenever it dies. Killed while it starts, it used to hang the stage for ever: Python
    3.11's spawn writes the process's start-up data (then including the classifier) into a pipe
    whose read end the parent itself keeps open until the write ends, so once the child is dead
    a write larger than the pipe's buffer never returns. The start-up data is now small."""
    import signal
    import time

    stage = _stage_process(tmp_path, 500,
                           "    try:\n"
                           "        for done in map_batches(batchwork.slow_double, batches, 2, batchwork.remember,\n"
                           "                                (b'x' * 8_000_000,)):\n"
                           "            pass\n"
                           "    except WorkerDied as error:\n"
                           "        print(error, flush=True)\n"
                           "        sys.exit(3)\n")
    try:
        worker = None
        deadline = time.monotonic() + 60
        while worker is None and time.monotonic() < deadline and stage.poll() is None:
            worker = next(iter(_spawned_children(stage.pid)), None)
            time.sleep(0.002)
        assert worker is not None, "the stage started no worker process"
        os.kill(worker, signal.SIGKILL)
        out, _ = stage.communicate(timeout=90)
    finally:
        if stage.poll() is None:
            stage.kill()
            stage.wait()
    assert stage.returncode == 3
    assert "worker process" in out and "signal 9" in out and "nothing was written" in out


def _stage_process(tmp_path: Path, batches: int, body: str, scratch: Path | None = None) -> "subprocess.Popen[str]":
    """A Python process running `body` over `batches` one-row record batches (as `batches`), the
    way a stage runs map_batches: its own main module, so spawned workers import it cleanly; with
    `scratch` as its TMPDIR."""
    import subprocess
    import sys

    script = tmp_path / "stage.py"
    script.write_text(
        "import sys\n"
        "import pyarrow as pa\n"
        "from pipeline.core.workers import WorkerDied, map_batches\n"
        "from tests.support import batchwork\n"
        "if __name__ == '__main__':\n"
        f"    batches = (pa.record_batch({{'x': [k]}}) for k in range({batches}))\n" + body, encoding="utf-8")
    return subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path),
                                 **({"TMPDIR": str(scratch)} if scratch else {})})


def _spawned_children(pid: int) -> list[int]:
    """Worker processes (multiprocessing's spawn_main, not its resource tracker) started by `pid`."""
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                command = Path(f"/proc/{child}/cmdline").read_bytes()
            except FileNotFoundError:
                continue
            if b"spawn_main" in command:
                children.append(int(child))
    return children


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie, dead but not yet reaped by init, counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
