"""Saving fitted topics into DuckDB: the write half of pipeline/topics/fit.py.

Kept apart from fitting so that fitting stays a pure function of documents and embeddings,
and so the one-transaction replace rule lives in one place.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)

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
    parameters: dict  # what the model is identified and stored by (TopicParams.recorded)
    versions: dict
    content_hash: str
    n_docs: int  # questions in the selection (the fitted ones and the assigned ones)
    sites: list[str]  # sites of those questions


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
    """Models of the same selection and parameters, fit_sample aside: the ones this fit replaces.

    Why fit_sample aside: it is recorded only when it bound (TopicParams.recorded), so a selection
    that grows past the cap, or a cap changed, would otherwise leave its previous model behind as a
    second model of the same selection and parameters.
    """
    def key(parameters: dict) -> dict:
        return {k: v for k, v in parameters.items() if k != "fit_sample"}

    rows = con.execute(SQL("same_scope_models"), [record.selection.describe()]).fetchall()
    return [tid for tid, parameters in rows if key(json.loads(parameters)) == key(record.parameters)] + [record.topic_model_id]


def delete_model(con: duckdb.DuckDBPyConnection, topic_model_id: str) -> None:
    """Remove a topic model's rows from every topics table."""
    for statement in SQL.statements("delete_model"):
        con.execute(statement, [topic_model_id])


def write(con: duckdb.DuckDBPyConnection, record: ModelRecord, frame: pd.DataFrame, fitted,
          assigned: Iterable[pa.Table] = ()) -> None:
    """Replace the selection's topic model, all or nothing: `fitted` on the documents of `frame`
    (site, dump_id, post_id, in the fit's order), plus the `assigned` question_topics batches of
    the selection's other questions (a capped fit; pipeline/topics/fit.py), each inserted as it comes.

    Batches go in with `from_arrow(...).insert_into`, not a registered view, which DuckDB keeps
    alive with its data until COMMIT (pipeline/core/db.py replace_scope). Topic sizes, outliers and
    topics_over_time are then counted from the stored rows, so nothing needs them all in Python.
    """
    questions = pa.table(
        {
            "topic_model_id": [record.topic_model_id] * len(frame),
            "site": pa.array(frame["site"].tolist(), pa.string()),
            "dump_id": pa.array(frame["dump_id"].tolist(), pa.string()),
            "post_id": pa.array(frame["post_id"].tolist(), pa.int64()),
            "topic_id": pa.array(fitted.topics.astype("int32")),
            "probability": pa.array(fitted.probabilities.astype(float).round(6)),
        }
    )
    topic_rows = pd.DataFrame(
        [
            (record.topic_model_id, t, fitted.labels[t], [w for w, _ in terms], [round(s, 6) for _, s in terms])
            for t, terms in sorted(fitted.terms.items())
        ],
        columns=["topic_model_id", "topic_id", "label", "terms", "weights"],
    )
    n_outliers = int((fitted.topics == -1).sum())
    with transaction(con):
        for old in _same_scope_ids(con, record):
            delete_model(con, old)
        con.from_arrow(questions).insert_into("question_topics")
        for batch in assigned:
            con.from_arrow(batch).insert_into("question_topics")
            n_outliers += int(pa.compute.sum(pa.compute.equal(batch.column("topic_id"), -1)).as_py() or 0)
        with registered(con, new_topics=topic_rows):
            con.execute(SQL("insert_topics"), [record.topic_model_id])
        _insert_model_row(con, record, fitted, n_outliers)
        con.execute(SQL("over_time"), [record.params.period, record.topic_model_id])


def _insert_model_row(con: duckdb.DuckDBPyConnection, record: ModelRecord, fitted, n_outliers: int) -> None:
    con.execute(
        SQL("insert_model"),
        [
            record.topic_model_id,
            record.selection.describe(),
            json.dumps(record.parameters, sort_keys=True),
            json.dumps(record.versions, sort_keys=True),
            record.content_hash,
            record.sites,
            record.n_docs,
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
