"""The one Prefect task every chain step runs in: `pipeline.steps.run_step` with a log line.

A step's declaration (`pipeline/<stage>/__init__.py`) says what it reads and writes and which
function runs it; `pipeline.steps` keys it in the ledger. This task only adds what Prefect is
for: a named task run in the run history, and logs.
"""

from __future__ import annotations

from pathlib import Path

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from pipeline.core.step import Scope, Step
from pipeline.steps import run_step


@task(cache_policy=NO_CACHE, task_run_name="{step.name} {scope.name}")
def step_task(con, step: Step, scope: Scope, force: bool = False, extra: tuple = (), **options) -> dict:
    """Run `step` for `scope` unless the ledger says its inputs are unchanged since it last ran."""
    output_exists = Path(scope.name).exists() if step.per == "folder" else True
    outcome = run_step(con, step, scope, lambda: step.function()(con, scope, **options), force=force, extra=extra,
                       output_exists=output_exists)
    logger = get_run_logger()
    if outcome.status == "skipped":
        logger.info("%s %s: inputs unchanged, skipped", step.name, scope.name)
    else:
        logger.info("%s %s: done in %.1f s", step.name, scope.name, outcome.seconds)
    return {**outcome.as_dict(), "result": outcome.result}
