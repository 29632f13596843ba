"""The ingest flow: per-site parse tasks into staging databases, merged one site per transaction.

Its result must be exactly what `pipeline.ingest.ingest` writes directly (the session's
`sample_db_path`), and an unchanged source must not be parsed again.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

from tests.support import SAMPLE

# flows.ingest (Prefect) and pipeline.ingest are imported in the tests: collecting stays fast.

AI, SO = "ai.stackexchange.com", "stackoverflow.com"

# Every test here needs the session's Prefect test server (about 20 s to start): `make test-fast` leaves them out.
pytestmark = pytest.mark.slow


def table_counts(db: Path) -> dict[tuple[str, str], int]:
    """Rows per (table, site) in every dump table."""
    from pipeline.ingest.load import DUMP_TABLES

    con = duckdb.connect(str(db), read_only=True)
    try:
        return {(t, site): n for t in DUMP_TABLES
                for site, n in con.execute(f"SELECT site, count(*) FROM {t} GROUP BY site").fetchall()}
    finally:
        con.close()


def statuses(results: list[dict]) -> list[tuple[str, str]]:
    return [(r["site"], r["status"]) for r in results]


def test_flow_writes_what_ingest_writes_and_skips_unchanged(sample_db_path: Path, tmp_path: Path) -> None:
    from flows.ingest import ingest_flow

    db = tmp_path / "flow.duckdb"
    assert statuses(ingest_flow(sources=[str(SAMPLE)], db=str(db))) == [(AI, "ingested"), (SO, "ingested")]
    counts = table_counts(db)
    assert counts == table_counts(sample_db_path)
    assert (counts[("dumps", AI)], counts[("posts", AI)], counts[("posts", SO)]) == (8, 1735, 1475)
    assert statuses(ingest_flow(sources=[str(SAMPLE)], db=str(db))) == [(AI, "skipped"), (SO, "skipped")]
    assert table_counts(db) == counts


def test_changed_output_or_pipeline_version_recomputes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.ingest import ingest_flow
    from pipeline import ingest as ingest_step

    db = tmp_path / "flow.duckdb"
    ingest_flow(sources=[str(SAMPLE)], db=str(db))
    con = duckdb.connect(str(db))
    con.execute("DELETE FROM dumps WHERE site = ?", [SO])  # e.g. someone replaced the site by hand
    con.close()
    assert statuses(ingest_flow(sources=[str(SAMPLE)], db=str(db))) == [(AI, "skipped"), (SO, "ingested")]
    # a new parser release: the step's declared version changes
    monkeypatch.setattr("pipeline.ingest.STEP", replace(ingest_step.STEP, version="ingest-next"))
    assert statuses(ingest_flow(sources=[str(SAMPLE)], db=str(db))) == [(AI, "ingested"), (SO, "ingested")]


def test_sites_parse_on_a_local_dask_cluster_with_two_workers(sample_db_path: Path, tmp_path: Path) -> None:
    from flows.ingest import ingest_flow

    db = tmp_path / "dask.duckdb"
    results = ingest_flow(sources=[str(SAMPLE)], db=str(db), dask_workers=2)
    assert statuses(results) == [(AI, "ingested"), (SO, "ingested")]
    assert os.getpid() not in {r["pid"] for r in results}  # parsed in Dask worker processes
    assert table_counts(db) == table_counts(sample_db_path)


@pytest.mark.shared
def test_an_older_snapshot_does_not_replace_a_newer_one(tmp_path: Path) -> None:
    from flows.ingest import ingest_flow
    from tests.support import SHARED_DATA

    db = tmp_path / "flow.duckdb"
    newer, older = SHARED_DATA / "dumps" / "2017-03" / AI, SHARED_DATA / "dumps" / "2016-12" / AI
    assert statuses(ingest_flow(sources=[str(newer)], db=str(db))) == [(AI, "ingested")]
    assert statuses(ingest_flow(sources=[str(older)], db=str(db))) == [(AI, "kept-newer")]
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT DISTINCT dump_id FROM dumps").fetchall() == [("ai.stackexchange.com@2017-03-13-c27b753e",)]
    con.close()
