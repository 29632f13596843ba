"""Stages flow: map the selection's topics to ML-lifecycle stages and compute stage coverage.

Reads: `question_labels`, `question_text`, the selection's newest topic model (`topic_models`,
`topics`, `question_topics`), pipeline/rules/ (stage lexicon, reviewed overrides).
Writes: `topic_stages` and `stage_coverage` for the selection's sites, in one transaction
(pipeline.stages.run_stages).

Key: the topic_model_id (itself a hash of the documents and versions), the ledger keys of every
site's classify run, MAPPING_VERSION + COVERAGE_VERSION and the checksum of pipeline/rules/.
"""

from __future__ import annotations

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows import cache
from flows.classify import run_step
from flows.topics import selection_from
from pipeline.db import connect
from pipeline.selection import Selection


@task(cache_policy=NO_CACHE, task_run_name="stages")
def stages_task(con, selection: Selection, force: bool) -> dict:
    """pipeline.stages.run_stages unless its topic model, labels, versions and rules are unchanged."""
    from pipeline.stages import COVERAGE_VERSION, MAPPING_VERSION, latest_topic_model, run_stages

    sites = tuple(selection.sites) or tuple(cache.sites(con))
    model = latest_topic_model(con, selection)
    labels = [cache.recorded_key(con, "classify", site) for site in sites]
    version = f"{MAPPING_VERSION}+{COVERAGE_VERSION}"
    key = cache.make_key(model, labels, version, cache.rules_checksum())
    step = cache.Step("stages", selection.describe(), sites, key, version)
    return run_step(con, step, force, lambda: run_stages(con, selection, model).coverage_rows)


@flow(name="stages")
def stages_flow(db: str = "data/stackmine.duckdb", sites: list[str] | None = None, force: bool = False,
                wait_seconds: float = 0.0) -> dict:
    """Topic→stage mapping and coverage for the notebook-and-ML questions of `sites` (default: all)."""
    con = connect(db, wait_seconds=wait_seconds)
    try:
        cache.ensure_ledger(con)
        return stages_task(con, selection_from(sites), force)
    finally:
        con.close()
