"""The acquire flow over a real HTTP server: Prefect retries resume a dropped download, and a
checksum mismatch stops the flow before anything is ingested."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from pipeline.core.errors import ChecksumMismatch, MirrorError
from tests.support import SAMPLE
from tests.support.rangeserver import RangeServer

# flows.acquire (Prefect) is imported where it runs: collecting stays fast.

AI = "ai.stackexchange.com"
AI_SHA = "b694d5561b04fcf2ef71aa64a5bc5cc61af2d9de72f6759900d8dc37d65cd959"
AI_SIZE = 1_441_997

# Every test here needs the session's Prefect test server (about 20 s to start): `make test-fast` leaves them out.
pytestmark = pytest.mark.slow


@pytest.fixture()
def mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from flows.acquire import download_site

    root = tmp_path / "mirror"
    root.mkdir()
    shutil.copyfile(SAMPLE / f"{AI}.7z", root / f"{AI}.7z")
    (root / "SHA256SUMS").write_text(f"{AI_SHA}  {AI}.7z\n")
    (root / "WRONGSUMS").write_text(f"{'f' * 64}  {AI}.7z\n")
    # the same retries, without the production back-off of 2/10/60 s between attempts
    monkeypatch.setattr("flows.acquire.download_site", download_site.with_options(retry_delay_seconds=0))
    server = RangeServer(root).start()
    try:
        yield server
    finally:
        server.stop()


def test_dropped_download_is_retried_resumed_and_ingested(mirror: RangeServer, tmp_path: Path) -> None:
    from flows.acquire import acquire_flow

    mirror.drop_once.add(f"{AI}.7z")
    db = tmp_path / "acq.duckdb"
    [got] = acquire_flow(sites=[AI], base=mirror.url, dump_date="2017-03", raw_root=str(tmp_path / "raw"),
                         checksums=f"{mirror.url}/SHA256SUMS", ingest=True, db=str(db))
    assert (got["status"], got["sha256"]) == ("resumed", AI_SHA)
    assert [r for r in mirror.requests if r[0].endswith(".7z")] == [(f"{AI}.7z", None), (f"{AI}.7z", f"bytes={AI_SIZE // 2}-")]
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*), count(DISTINCT site) FROM dumps").fetchone() == (8, 1)
    con.close()


def test_checksum_mismatch_fails_without_retry_and_ingests_nothing(mirror: RangeServer, tmp_path: Path) -> None:
    from flows.acquire import acquire_flow

    db = tmp_path / "acq.duckdb"
    with pytest.raises(ChecksumMismatch, match="nothing was placed in data/raw or ingested"):
        acquire_flow(sites=[AI], base=mirror.url, dump_date="2017-03", raw_root=str(tmp_path / "raw"),
                     checksums=f"{mirror.url}/WRONGSUMS", ingest=True, db=str(db))
    assert [r[0] for r in mirror.requests] == ["WRONGSUMS", f"{AI}.7z"]  # not retried
    assert list((tmp_path / "raw" / "2017-03").iterdir()) == []
    assert not db.exists()


def test_a_mirror_without_the_file_fails_at_once_without_retries(mirror: RangeServer, tmp_path: Path) -> None:
    from flows.acquire import acquire_flow

    with pytest.raises(MirrorError, match="HTTP 404 Not Found. Nothing was downloaded"):
        acquire_flow(sites=["nosuch.stackexchange.com"], base=mirror.url, dump_date="2017-03",
                     raw_root=str(tmp_path / "raw"), ingest=True, db=str(tmp_path / "acq.duckdb"))
    assert mirror.requests == [("nosuch.stackexchange.com.7z", None)]  # one attempt, not four
    assert not (tmp_path / "acq.duckdb").exists()
