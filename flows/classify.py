"""Classify flow: question text, then labels, for each site whose inputs changed.

Reads: `dumps`, `posts` (via pipeline.text), `question_text` (via pipeline.classify), the rule
files in pipeline/rules/, the `stage_runs` ledger.
Writes: `question_text` and `question_labels` for each site (each stage replaces its rows for the
site in its own transaction); a `stage_runs` row per (stage, site).

Keys: text = the site's `dumps` checksums + TEXT_VERSION; classify = the text key + the
classifier version + the checksum of pipeline/rules/. An unchanged dump is not re-extracted or
re-classified; a new lexicon version or a new dump recomputes exactly the sites it touches.
"""

from __future__ import annotations

import time

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows import cache
from pipeline.db import connect


def site_input_key(con, site: str) -> str:
    """Checksums of the site's ingested files (and the pipeline version that parsed them)."""
    return cache.fingerprint(con, "site_inputs", (site,))


@task(cache_policy=NO_CACHE, task_run_name="text {site}")
def text_site(con, site: str, force: bool = False, progress: bool = False) -> dict:
    """pipeline.text.extract for one site, unless its dumps and TEXT_VERSION are unchanged."""
    from pipeline.text import TEXT_VERSION, extract

    step = cache.Step("text", site, (site,), cache.make_key(site_input_key(con, site), TEXT_VERSION), TEXT_VERSION)
    return run_step(con, step, force, lambda: extract(con, site=site, progress=progress))


@task(cache_policy=NO_CACHE, task_run_name="classify {site}")
def classify_site(con, site: str, force: bool = False, progress: bool = False) -> dict:
    """pipeline.classify.classify for one site, unless its text, rules and classifier are unchanged."""
    from pipeline.classify import CLASSIFIER_VERSION, classify

    text_key = cache.recorded_key(con, "text", site)
    key = cache.make_key(text_key, CLASSIFIER_VERSION, cache.rules_checksum())
    step = cache.Step("classify", site, (site,), key, CLASSIFIER_VERSION)
    return run_step(con, step, force, lambda: classify(con, site=site, progress=progress))


def run_step(con, step: cache.Step, force: bool, work) -> dict:
    """Run `work()` unless the ledger says `step` is current; record it afterwards."""
    logger = get_run_logger()
    if not force and cache.is_current(con, step):
        logger.info("%s %s: inputs unchanged, skipped", step.stage, step.scope)
        return {"stage": step.stage, "scope": step.scope, "status": "skipped"}
    started = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - started
    rows = result if isinstance(result, int) else None
    cache.record(con, step, rows, seconds)
    logger.info("%s %s: done in %.1f s", step.stage, step.scope, seconds)
    return {"stage": step.stage, "scope": step.scope, "status": "done", "rows": rows, "seconds": seconds}


@flow(name="classify")
def classify_flow(db: str = "data/stackmine.duckdb", sites: list[str] | None = None, force: bool = False,
                  wait_seconds: float = 0.0, progress: bool = False) -> list[dict]:
    """Text extraction and classification for `sites` (default: every ingested site)."""
    con = connect(db, wait_seconds=wait_seconds)
    try:
        cache.ensure_ledger(con)
        results = []
        for site in sites or cache.sites(con):
            results.append(text_site(con, site, force, progress))
            results.append(classify_site(con, site, force, progress))
        return results
    finally:
        con.close()
