"""Prefect state for the flow tests: one temporary API and database for the whole session.

`prefect_test_harness` starts a throw-away Prefect server (SQLite in a temp folder) once, so flow
runs in these tests never touch ~/.prefect; subprocess tests get their own temp PREFECT_HOME.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


@pytest.fixture(scope="session", autouse=True)
def prefect_harness():
    """One temporary Prefect API for every flow test in this folder (cold start ~10 s, paid once)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture()
def prefect_env(tmp_path: Path) -> dict[str, str]:
    """Environment for a subprocess that runs Prefect: own PREFECT_HOME, no analytics, no server URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(tmp_path / "prefect-home"), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    return env
