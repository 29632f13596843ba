"""bench/classify.py --writer: its stand-ins for text's and classify's work hand back the stage's
own saved rows for exactly the batch's questions, in the batch's order, even when the batch's ids
are not consecutive and cross the saved file's record batches; otherwise the writer's pace would be
measured on other rows than a real run writes. Not timed."""

from __future__ import annotations

import importlib.util

import pyarrow as pa
import pytest

from tests.support import REPO


def _bench_classify():
    spec = importlib.util.spec_from_file_location("bench_classify", REPO / "bench" / "classify.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _saved(path, table: pa.Table, per_batch: int):
    """An Arrow IPC file as save_results writes it, in record batches of `per_batch` rows."""
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as out:
        for part in table.to_batches(max_chunksize=per_batch):
            out.write_batch(part)
    return path


def _posts_batch(ids: list[int]) -> pa.RecordBatch:
    """A batch as the stage hands its workers: the post id is the third column."""
    return pa.record_batch({"site": ["s"] * len(ids), "dump_key": [1] * len(ids), "id": ids,
                            "body": ["" for _ in ids]})


def test_canned_results_are_the_batchs_own_rows_in_its_order(tmp_path, monkeypatch) -> None:
    bench = _bench_classify()
    saved = list(range(1, 26))  # in post id order, as save_results writes them
    table = pa.table({"site": ["s"] * 25, "post_id": saved, "text": [f"text of {i}" for i in saved]})
    monkeypatch.setenv(bench.RESULTS_ENV, str(_saved(tmp_path / "question_text.arrow", table, per_batch=10)))
    ids = [9, 10, 11, 12, 3, 21, 25, 1]  # across all three saved batches, not consecutive
    rows = bench.canned(_posts_batch(ids))
    assert rows.column("post_id").to_pylist() == ids
    assert rows.column("text").to_pylist() == [f"text of {i}" for i in ids]
    assert rows.schema.names == ["site", "post_id", "text"]
    again = bench.canned(_posts_batch([25, 24]))  # the file is opened once per process, then reused
    assert again.column("text").to_pylist() == ["text of 25", "text of 24"]


def test_canned_results_refuse_posts_the_file_does_not_hold_in_id_order(tmp_path, monkeypatch) -> None:
    bench = _bench_classify()
    table = pa.table({"site": ["s"] * 3, "post_id": [1, 3, 2], "text": ["a", "c", "b"]})
    monkeypatch.setenv(bench.RESULTS_ENV, str(_saved(tmp_path / "shuffled.arrow", table, per_batch=3)))
    with pytest.raises(SystemExit, match="do not hold posts 2..3"):
        bench.canned(_posts_batch([2, 3]))
