"""What a person sees when a command fails: one `error:` line (file, line, what to do) and nothing
else, the traceback only with -v, also when the error is raised inside a Prefect flow or task
(issue 12.5, 13.1). Real processes: the installed `stackmine`, a cut-off copy of the sample's Posts.xml.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.support import SAMPLE
from tests.support.ingest_helpers import archive_members
from tests.support.procs import free_port, stackmine_cmd

pytestmark = pytest.mark.slow  # real CLI processes; `run` starts a temporary Prefect server

TRUNCATED = [
    "line 1049: file ends before its closing </posts> (truncated: the last row is cut off or missing)",
    "  What to do: re-download or re-extract the dump file",
    "  The database was not changed.",
]


@pytest.fixture()
def prefect_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a CLI process with its own PREFECT_HOME and no server URL (as tests/flows)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(tmp_path / "prefect-home"), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    return env


@pytest.fixture()
def broken(tmp_path: Path) -> Path:
    """The sample's ai.stackexchange.com Posts.xml cut after 1,500,000 bytes, as in the README."""
    site = tmp_path / "broken" / "ai.stackexchange.com"
    site.mkdir(parents=True)
    (site / "Posts.xml").write_bytes(archive_members(SAMPLE / "ai.stackexchange.com.7z")["Posts.xml"][:1_500_000])
    return site


def test_run_on_a_bad_dump_prints_the_error_and_nothing_else(broken: Path, tmp_path: Path, prefect_env: dict) -> None:
    done = subprocess.run(stackmine_cmd("run", str(broken), "--db", str(tmp_path / "b.duckdb")), env=prefect_env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"error: {broken / 'Posts.xml'}, {TRUNCATED[0]}", *TRUNCATED[1:]]
    assert done.stdout == ""


def test_run_with_v_prints_the_error_first_then_the_detail(broken: Path, tmp_path: Path, prefect_env: dict) -> None:
    done = subprocess.run(stackmine_cmd("-v", "run", str(broken), "--db", str(tmp_path / "b.duckdb")), env=prefect_env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    after = done.stderr.split(f"error: {broken / 'Posts.xml'}, {TRUNCATED[0]}\n", 1)[1]
    assert after.startswith("\n".join(TRUNCATED[1:]) + "\nTraceback (most recent call last):")
    assert "prefect.task_runs" in done.stderr  # Prefect's own log lines are back with -v


def test_acquire_from_a_mirror_that_is_not_there_is_one_line_at_once(tmp_path: Path, prefect_env: dict) -> None:
    mirror = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    done = subprocess.run(stackmine_cmd("acquire", "ai.stackexchange.com", "--mirror", mirror, "--dump-date", "2024-04-01",
                                        "--raw", str(tmp_path / "raw"), "--ingest", "--db", str(tmp_path / "a.duckdb")),
                          env=prefect_env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"error: {mirror}: cannot reach the mirror (connection refused: [Errno 111] Connection refused). Nothing was "
        "downloaded. What to do: check the --mirror URL and the network (offline, give a local folder of archives "
        "as --mirror)."]
    assert time.monotonic() - started < 15  # no retries, no Prefect start-up
    assert not (tmp_path / "raw").exists() and not (tmp_path / "a.duckdb").exists()
