"""Topics flow: fit (or find) the BERTopic model of a selection of labelled questions.

Reads: `question_labels`, `question_text` (the selection's questions), the bundled embedding
model in pipeline/models/, cached embeddings.
Writes: `topic_models`, `topics`, `question_topics`, `topics_over_time` for the selection's
model, replacing the selection's previous model in one transaction (pipeline.topics).

Cache: pipeline.topics keys each model by the selection, the fit parameters, the hash of the
documents' content and the classifier/embedder versions (`topic_model_id`); when the labelled
questions and versions are unchanged it finds the stored model and skips the fit. So the flow
adds no second cache of its own here.
"""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from pipeline.db import connect
from pipeline.selection import Selection


def selection_from(sites: list[str] | None) -> Selection:
    """The study's default population (notebook questions about ML), optionally for some sites."""
    return Selection(sites=tuple(sites or ()))


@task(cache_policy=NO_CACHE, task_run_name="topics")
def fit_topics_task(con, selection: Selection, force: bool, progress: bool = False) -> dict:
    """pipeline.topics.run_topics with the default parameters (seeded, offline embeddings)."""
    from pipeline.topics import TopicParams, run_topics

    run = run_topics(con, selection, TopicParams(), force=force, progress=progress)
    status = "skipped" if run.skipped else "done"
    get_run_logger().info("topics %s: %s, %d questions, %d topics", run.topic_model_id, status, run.n_docs, run.n_topics)
    return {"stage": "topics", "scope": run.topic_model_id, "status": status, "rows": run.n_docs,
            "topics": run.n_topics}


@flow(name="topics")
def topics_flow(db: str = "data/stackmine.duckdb", sites: list[str] | None = None, force: bool = False,
                wait_seconds: float = 0.0, progress: bool = False) -> dict:
    """Topic model of the notebook-and-ML questions of `sites` (default: all)."""
    con = connect(db, wait_seconds=wait_seconds)
    try:
        return fit_topics_task(con, selection_from(sites), force, progress)
    finally:
        con.close()
