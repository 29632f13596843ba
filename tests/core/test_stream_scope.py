"""replace_scope streams a scope in bounded batches: nothing it has written is held until the
commit, and DuckDB runs under a buffer cap meanwhile (issue 14: a stage's peak memory must not
grow with the number of questions; bench/classify.py measures it at 10k, 100k and 1M questions).

What grew before: replace_scope registered each Arrow batch as a view inside its transaction, and
DuckDB kept every registered batch alive until COMMIT; and DuckDB ran with no buffer cap.
"""

from __future__ import annotations

import gc
import weakref
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from pipeline.core.db import STREAM_SETTINGS, replace_scope, setting, settings
from pipeline.steps import connect
from pipeline.text import STEP as TEXT


def _value(name: str, k: int) -> object:
    if name in ("inline_code", "links", "tags"):
        return []
    if name == "post_id":
        return k
    if name == "creation_date":
        return datetime(2020, 1, 1)
    return f"{name}{k}"


def _duckdb_size(value: str) -> str:
    """How DuckDB prints a memory_limit it was given as e.g. '256MB'."""
    con = duckdb.connect()
    try:
        with settings(con, {"memory_limit": value}):
            return setting(con, "memory_limit")
    finally:
        con.close()


def test_replace_scope_holds_no_batch_it_has_written(tmp_path: Path) -> None:
    """Each batch is released once the next is asked for, inside the one transaction, and DuckDB
    runs under the stream cap meanwhile (then under the previous setting again)."""
    con = connect(tmp_path / "t.duckdb")
    refs: list[weakref.ref] = []
    alive_when_next_was_asked: list[int] = []
    caps: list[str] = []
    template = con.sql("SELECT * FROM question_text LIMIT 0").to_arrow_table()

    def batches():
        for k in range(5):
            gc.collect()
            alive_when_next_was_asked.append(sum(ref() is not None for ref in refs))
            caps.append(setting(con.cursor(), "memory_limit"))
            rows = pa.table({name: [_value(name, k)] for name in template.column_names}, schema=template.schema)
            refs.append(weakref.ref(rows))
            yield rows

    before = setting(con, "memory_limit")
    try:
        written = replace_scope(con, "question_text", (TEXT.sql()("delete"), [None, None]), batches(), 5, "test")
        assert written == 5
        # only the batch just written is still referenced (by the loop's own variables); with
        # registered views every earlier batch was too: [0, 1, 2, 3, 4]
        assert alive_when_next_was_asked == [0, 1, 1, 1, 1]
        assert con.execute("SELECT list(post_id ORDER BY post_id) FROM question_text").fetchone()[0] == [0, 1, 2, 3, 4]
        assert set(caps) == {_duckdb_size(STREAM_SETTINGS["memory_limit"])}
        assert setting(con, "memory_limit") == before
    finally:
        con.close()


def test_settings_restores_the_defaults_exactly() -> None:
    """A default comes back as it was, not as its rounded print ('18.8 GiB')."""
    con = duckdb.connect()
    try:
        default, threads = setting(con, "memory_limit"), setting(con, "threads")
        with settings(con, {"memory_limit": "100MB", "threads": "1"}):
            assert setting(con, "threads") == 1
        assert setting(con, "memory_limit") == default and setting(con, "threads") == threads
    finally:
        con.close()
