"""Batch functions for tests/classify/test_workers.py: worker processes import them by name, so
they live in an importable module, not in a test module."""

from __future__ import annotations

import pyarrow as pa


def double(batch: pa.RecordBatch) -> pa.RecordBatch:
    return pa.record_batch({"x": [2 * v for v in batch.column(0).to_pylist()]})


def identity(batch: pa.RecordBatch) -> pa.RecordBatch:
    return batch


def refuse_three(batch: pa.RecordBatch) -> pa.RecordBatch:
    if 3 in batch.column(0).to_pylist():
        raise ValueError("three")
    return batch


def broken_classifier():
    """A Classifier that fails on one question of the sample, in whichever process labels it."""
    from tests.support.broken_classifier import BrokenClassifier

    return BrokenClassifier()


def tag_pid(batch: pa.RecordBatch) -> pa.RecordBatch:
    """The batch's values beside the id of the process that handled them."""
    import os
    import time

    time.sleep(0.01)  # long enough that the caller finds the workers busy now and then
    values = batch.column(0).to_pylist()
    return pa.record_batch({"x": values, "pid": [os.getpid()] * len(values)})


def remember(payload: bytes) -> None:
    """An initializer with a large argument (a stand-in for a classifier's rules and model)."""
    globals()["_payload"] = payload


def slow_double(batch: pa.RecordBatch) -> pa.RecordBatch:
    import time

    time.sleep(0.02)
    return double(batch)
