"""text and classify on every core (issue 14): the same tables, row for row and in stored order,
as the serial path. The calling process reads the scope in batches, worker processes (and the
caller, when they are all busy) parse or label them, and the caller inserts the results in the
order it read them (pipeline/core/workers.py). These tests force workers on the bundled sample,
which is below the size at which they start by default, with small batches so that many go out."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pyarrow as pa
import pytest

from pipeline.core.workers import PARALLEL_MIN_ROWS, available_cores, map_batches, worker_count
from tests.support import batchwork

TABLES = ("question_text", "question_labels")


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


def test_map_batches_keeps_order_uses_every_process_and_raises_the_workers_error() -> None:
    batches = [pa.record_batch({"x": [k, k + 100]}) for k in range(9)]
    assert [b.column(0).to_pylist() for b in map_batches(batchwork.double, iter(batches), 2)] == \
        [[2 * k, 2 * k + 200] for k in range(9)]
    many = [pa.record_batch({"x": [k]}) for k in range(60)]
    done = list(map_batches(batchwork.tag_pid, iter(many), 2))
    assert [b.column(0).to_pylist() for b in done] == [[k] for k in range(60)]
    pids = {b.column(1)[0].as_py() for b in done}
    assert os.getpid() in pids and len(pids) == 2  # the caller and one worker process both worked
    with pytest.raises(ValueError, match="three"):
        list(map_batches(batchwork.refuse_three, iter(batches), 2))


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
