"""text + classify stream a scope in bounded batches (issue 14): the tables are the same, row for
row and in stored order, whatever the batch size. Not timed: bench/classify.py measures memory."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

TABLES = ("question_text", "question_labels")


def tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """Every row of both tables in stored order (not sorted: the order must match too)."""
    return {table: con.execute(f"SELECT * FROM {table}").fetchall() for table in TABLES}


def test_small_batches_give_identical_tables(sample_db_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.classify import classifier as classify_module
    from pipeline.steps import connect
    from pipeline.text import extract as text_module

    con = connect(sample_db_copy)
    try:
        assert text_module.extract(con) == 2079 and classify_module.classify(con) == 2079
        default = tables(con)
        monkeypatch.setattr(text_module, "BATCH_ROWS", 7)
        monkeypatch.setattr(classify_module, "BATCH_ROWS", 7)
        assert text_module.extract(con) == 2079 and classify_module.classify(con) == 2079
        assert tables(con) == default
        assert len(default["question_labels"]) == 2079
    finally:
        con.close()
