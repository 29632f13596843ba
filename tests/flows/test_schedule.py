"""`stackmine serve` against a real `prefect server start`: a scheduled run of practice-mining
completes. Starts a server on a free loopback port with its own PREFECT_HOME, serves the flow on
an interval, waits (bounded) for a completed scheduled run, and stops both process groups."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import duckdb
import httpx
import pytest

from tests.support import SAMPLE
from tests.support.procs import free_port, kill_group, stackmine_cmd


def wait_until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def healthy(api: str) -> bool:
    try:
        return httpx.get(f"{api}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def scheduled_runs(api: str) -> list[dict]:
    """Flow runs created by a deployment's schedule (not by hand), newest first."""
    body = {"flow_runs": {"deployment_id": {"is_null_": False}}, "sort": "EXPECTED_START_TIME_DESC"}
    return httpx.post(f"{api}/flow_runs/filter", json=body, timeout=10).json()


@pytest.mark.slow
def test_served_flow_watches_a_folder_that_does_not_exist_yet(tmp_path: Path, prefect_env: dict) -> None:
    """The README's `stackmine serve --cron ... data/raw` on a fresh clone: data/raw is created, a
    scheduled run over it waits (completes, changes nothing), and the run after dumps arrive there
    ingests them and runs the chain."""
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {**prefect_env, "PREFECT_API_URL": api, "PREFECT_UI_ENABLED": "false",
           "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "2"}
    db, raw = tmp_path / "scheduled.duckdb", tmp_path / "data" / "raw"
    prefect = str(Path(sys.executable).with_name("prefect"))
    logs = (tmp_path / "server.log").open("w"), (tmp_path / "serve.log").open("w")
    server = subprocess.Popen([prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, start_new_session=True, stdout=logs[0], stderr=subprocess.STDOUT)
    serve = None
    try:
        wait_until(lambda: healthy(api), 120, "the Prefect server")
        serve = subprocess.Popen(stackmine_cmd("serve", str(raw), "--db", str(db), "--interval", "20",
                                               "--name", "test-schedule"),
                                 env=env, start_new_session=True, stdout=logs[1], stderr=subprocess.STDOUT)
        wait_until(lambda: [r for r in scheduled_runs(api) if r["state_type"] == "COMPLETED"], 240,
                   f"a completed scheduled run over the empty folder (serve log: {tmp_path / 'serve.log'})")
        assert raw.is_dir()
        con = duckdb.connect(str(db), read_only=True)
        assert con.execute("SELECT count(*) FROM dumps").fetchone()[0] == 0
        con.close()
        shutil.copytree(SAMPLE, raw, dirs_exist_ok=True)  # what `stackmine acquire` would leave there
        arrived = time.time()

        def ingested() -> bool:
            later = [r for r in scheduled_runs(api) if r["state_type"] == "COMPLETED"
                     and datetime.fromisoformat(r["start_time"]).timestamp() > arrived]
            return bool(later)

        wait_until(ingested, 240, f"a completed scheduled run after the dumps arrived (serve log: {tmp_path / 'serve.log'})")
    finally:
        if serve is not None:
            kill_group(serve)
        kill_group(server)
        for log in logs:
            log.close()
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM dumps").fetchone()[0] == 9
    assert con.execute("SELECT count(*) FROM question_labels").fetchone()[0] == 2079
    con.close()
