"""Saving fitted topics into DuckDB: the write half of pipeline/topics/fit.py.

Kept apart from fitting so that fitting stays a pure function of documents and embeddings,
and so the one-transaction replace rule lives in one place.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

import duckdb
import pandas as pd

from pipeline.core.db import registered, transaction
from pipeline.core.selection import Selection
from pipeline.core.sql import SqlFile

SQL = SqlFile("pipeline.topics", "topics.sql")


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
    rows = con.execute(SQL("find_model"), [topic_model_id]).fetchall()
    return {"n_topics": rows[0][0], "coherence": rows[0][1], "diversity": rows[0][2]} if rows else None


def latest_model(con: duckdb.DuckDBPyConnection, selection: Selection) -> str | None:
    """The newest topic model fitted on exactly this selection, if any."""
    row = con.execute(SQL("latest_model"), [selection.describe()]).fetchall()
    return row[0][0] if row else None


def list_topics(con: duckdb.DuckDBPyConnection, topic_model_id: str) -> list[tuple[int, int, str]]:
    """(topic_id, size, label) of every topic of a model, in id order."""
    return con.execute(SQL("list_topics"), [topic_model_id]).fetchall()


def _same_scope_ids(con: duckdb.DuckDBPyConnection, record: ModelRecord) -> list[str]:
    """Models of the same selection and parameters: the ones this fit replaces."""
    rows = con.execute(SQL("same_scope_models"),
                       [record.selection.describe(), json.dumps(asdict(record.params), sort_keys=True)]).fetchall()
    return [r[0] for r in rows] + [record.topic_model_id]


def delete_model(con: duckdb.DuckDBPyConnection, topic_model_id: str) -> None:
    """Remove a topic model's rows from every topics table."""
    for statement in SQL.statements("delete_model"):
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
        with registered(con, new_topics=topic_rows, new_question_topics=questions):
            con.execute(SQL("insert_topics"))
            con.execute(SQL("insert_question_topics"))
        con.execute(SQL("over_time"), [record.params.period, record.topic_model_id])


def _insert_model_row(con: duckdb.DuckDBPyConnection, record: ModelRecord, frame: pd.DataFrame, fitted) -> None:
    n_outliers = int((fitted.topics == -1).sum())
    con.execute(
        SQL("insert_model"),
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
