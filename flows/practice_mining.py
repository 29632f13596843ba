"""The main job: from dump sources to labelled, topic-modelled, stage-mapped research outputs.

Reads: dump sources (default: the bundled data/sample), everything the stages below read.
Writes: everything they write, into one database file; see each flow's docstring:
  ingest   (flows/ingest.py)   → dumps, posts, post_tags, users, comments, tags, post_links, ...
  classify (flows/classify.py) → question_text, question_labels
  topics   (flows/topics.py)   → topic_models, topics, question_topics, topics_over_time
  stages   (flows/stages.py)   → topic_stages, stage_coverage
  publish  (flows/publish.py)  → data/exports/practice-mining/, data/report/ (next to the database)

The run takes the database's write lock first and keeps it until the end, so a second run on the
same file fails at once with `DatabaseBusy` (or queues behind it with `wait_seconds`) instead of
interleaving writes. Each stage is skipped when its inputs are unchanged (flows/cache.py), so a
second run over the same dumps only checksums the sources and checks the ledger.
"""

from __future__ import annotations

from collections.abc import Callable

from prefect import flow, get_run_logger

from flows.classify import classify_flow
from flows.ingest import ingest_flow
from flows.publish import publish_flow
from flows.stages import stages_flow
from flows.topics import topics_flow
from pipeline.db import DEFAULT_DB, connect

# The chain after ingest, in order: (name, step). Each step is a flow taking (db, force) that
# reads only tables written by the steps before it. Add a stage by appending it here.
CHAIN: list[tuple[str, Callable[..., object]]] = [
    ("classify", classify_flow),  # text + classify, per site
    ("topics", topics_flow),
    ("stages", stages_flow),  # topic → stage mapping, coverage
    ("publish", publish_flow),  # export + report
]
PROGRESS = {"classify", "topics"}  # steps long enough to show progress bars (on stderr)


@flow(name="practice-mining")
def practice_mining(
    sources: list[str] | None = None,
    db: str = str(DEFAULT_DB),
    force: bool = False,
    wait_seconds: float = 0.0,
    dask_address: str | None = None,
    dask_workers: int = 0,
    progress: bool = False,
) -> dict:
    """Run the whole chain on `sources` (default: data/sample) into `db`; returns each step's report."""
    logger = get_run_logger()
    lock = connect(db, wait_seconds=wait_seconds)  # held for the whole run: one writer at a time
    try:
        report: dict = {"ingest": ingest_flow(sources=sources, db=db, force=force, dask_address=dask_address,
                                              dask_workers=dask_workers, progress=progress)}
        for name, step in CHAIN:
            report[name] = step(db=db, force=force, **({"progress": progress} if name in PROGRESS else {}))
        logger.info("practice-mining finished: %s", ", ".join(report))
        return report
    finally:
        lock.close()
