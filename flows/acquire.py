"""Acquire flow: download site archives from a mirror, then (optionally) ingest them.

Reads: `BASE/<site>.7z` from an http(s) mirror or a local folder; an optional SHA-256 list.
Writes: `data/raw/<dump-date>/<site>.7z` (read-only, never rewritten); with `ingest=True`, what
the ingest flow writes. Downloads run one task per site, in parallel, and retry with back-off
when the failure is transient (a dropped connection resumes from the partial file). A checksum
mismatch, a file that is not a 7z archive, and a mirror that cannot be reached (host not found,
connection refused) or lacks the file are not transient: they fail at once, and nothing is ingested.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.ingest import ingest_flow
from pipeline.acquire.fetch import fetch_site, load_checksums, raw_dir
from pipeline.core.errors import DownloadError


def _transient(task, task_run, state) -> bool:
    """Retry downloads that dropped or met a busy server (`DownloadError`); never a checksum
    mismatch, a bad archive or an unreachable mirror (`MirrorError`), which a retry cannot fix."""
    try:
        state.result()
    except DownloadError:
        return True
    except Exception:
        return False
    return False


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=[2, 10, 60], retry_condition_fn=_transient,
      task_run_name="download {site}")
def download_site(site: str, base: str, dest: str, expected: str | None, progress: bool = False) -> dict:
    """One site's archive into `dest`; each retry resumes where the last attempt stopped."""
    got = fetch_site(site, base, Path(dest), expected, progress)
    return {"site": got.site, "path": str(got.path), "sha256": got.sha256, "status": got.status}


@flow(name="acquire")
def acquire_flow(sites: list[str], base: str, dump_date: str, raw_root: str = "data/raw",
                 checksums: str | None = None, ingest: bool = False, db: str = "data/stackmine.duckdb",
                 progress: bool = False) -> list[dict]:
    """Fetch `sites` from `base` into raw_root/dump_date; ingest them afterwards when asked."""
    sums = load_checksums(checksums) if checksums else {}
    dest = raw_dir(Path(raw_root), dump_date)
    dest.mkdir(parents=True, exist_ok=True)
    futures = [download_site.submit(s, base, str(dest), sums.get(f"{s}.7z"), progress) for s in sites]
    fetched = [f.result() for f in futures]  # raises the first failure: nothing below runs
    if ingest:
        ingest_flow(sources=[f["path"] for f in fetched], db=db, progress=progress)
    return fetched
