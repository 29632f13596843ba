"""Saving fitted topics into DuckDB: the write half of pipeline/topics.py.

Kept apart from fitting so that fitting stays a pure function of documents and embeddings,
and so the one-transaction replace rule lives in one place.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

import duckdb
import pandas as pd

from pipeline.db import read_sql, transaction
from pipeline.selection import Selection


@dataclass(frozen=True)
class ModelRecord:
    """Identity and provenance of a topic model."""

    topic_model_id: str
    selection: Selection
    params: object  # TopicParams (resolved)
    versions: dict
    content_hash: str


def find_model(con: duckdb.DuckDBPyConnection, topic_model_id: str) -> dict | None:
    """The stored `topic_models` row of this id, or None."""
    rows = con.execute(
        "SELECT n_topics, coherence, diversity FROM topic_models WHERE topic_model_id = ?", [topic_model_id]
    ).fetchall()
    return {"n_topics": rows[0][0], "coherence": rows[0][1], "diversity": rows[0][2]} if rows else None


def _same_scope_ids(con: duckdb.DuckDBPyConnection, record: ModelRecord) -> list[str]:
    """Models of the same selection and parameters: the ones this fit replaces."""
    rows = con.execute(
        "SELECT topic_model_id FROM topic_models WHERE selection = ?::JSON AND parameters = ?::JSON",
        [record.selection.describe(), json.dumps(asdict(record.params), sort_keys=True)],
    ).fetchall()
    return [r[0] for r in rows] + [record.topic_model_id]


def delete_model(con: duckdb.DuckDBPyConnection, topic_model_id: str) -> None:
    """Remove a topic model's rows from every topics table."""
    for statement in read_sql("topics_delete.sql").split(";"):
        if statement.strip():
            con.execute(statement, [topic_model_id])


def write(con: duckdb.DuckDBPyConnection, record: ModelRecord, frame: pd.DataFrame, fitted) -> None:
    """Replace the selection's topic model by `fitted`, all or nothing."""
    questions = pd.DataFrame(
        {
            "topic_model_id": record.topic_model_id,
            "site": frame["site"].to_numpy(),
            "dump_id": frame["dump_id"].to_numpy(),
            "post_id": frame["post_id"].to_numpy(),
            "topic_id": fitted.topics.astype("int32"),
            "probability": fitted.probabilities.astype(float).round(6),
        }
    )
    sizes = questions["topic_id"].value_counts()
    topic_rows = pd.DataFrame(
        [
            (record.topic_model_id, t, fitted.labels[t], int(sizes.get(t, 0)), [w for w, _ in terms], [round(s, 6) for _, s in terms])
            for t, terms in sorted(fitted.terms.items())
        ],
        columns=["topic_model_id", "topic_id", "label", "size", "terms", "weights"],
    )
    with transaction(con):
        for old in _same_scope_ids(con, record):
            delete_model(con, old)
        _insert_model_row(con, record, frame, fitted)
        con.register("new_topics", topic_rows)
        con.register("new_question_topics", questions)
        try:
            con.execute("INSERT INTO topics SELECT * FROM new_topics")
            con.execute("INSERT INTO question_topics SELECT * FROM new_question_topics")
        finally:
            con.unregister("new_topics")
            con.unregister("new_question_topics")
        con.execute(read_sql("topics_over_time.sql"), [record.params.period, record.topic_model_id])


def _insert_model_row(con: duckdb.DuckDBPyConnection, record: ModelRecord, frame: pd.DataFrame, fitted) -> None:
    n_outliers = int((fitted.topics == -1).sum())
    con.execute(
        "INSERT INTO topic_models VALUES (?, ?::JSON, ?::JSON, ?::JSON, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            record.topic_model_id,
            record.selection.describe(),
            json.dumps(asdict(record.params), sort_keys=True),
            json.dumps(record.versions, sort_keys=True),
            record.content_hash,
            sorted(set(frame["site"])),
            len(frame),
            len([t for t in fitted.terms if t != -1]),
            n_outliers,
            _finite(fitted.coherence),
            _finite(fitted.diversity),
            round(fitted.seconds, 3),
            datetime.now(timezone.utc).replace(tzinfo=None),
        ],
    )


def _finite(value: float) -> float | None:
    return None if value is None or value != value else round(float(value), 6)
