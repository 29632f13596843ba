"""Benchmark the ingest flow (parse into staging, merge into the main DB) against plain `ingest`.

    .venv/bin/python bench/ingest_flow.py            # 2 sites x 100 MB synthetic Posts.xml
    .venv/bin/python bench/ingest_flow.py 200 --sites 3 --dask-workers 2

Generates N synthetic sites (bench/ingest.py's seeded Posts.xml generator) in a temp folder
outside the repo, then measures, each on a fresh database:
  (a) baseline: `pipeline.ingest.ingest(con, [folder])` — one call, the library alone;
  (b) the ingest flow without Dask: sites one after another straight into the database;
  (c) the flow on a LocalCluster of --dask-workers processes: one parse task per site into a
      staging DB on a worker, then the serial merge into the main DB (skipped with 0);
  (d) the flow again on unchanged input: checksums + ledger only (the "second run").
Prints MB/s, rows/s, where the time went, peak RSS of this process (not of Dask workers), and
ratios (b)/(a), (c)/(a). Prefect's temporary server starts before timing (a warm-up flow).
The cores are shared: the load average is printed with the numbers.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def timed(label: str, megabytes: float, rows: int, work) -> tuple[float, object]:
    started = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - started
    print(f"{label:<44} {megabytes / seconds:8.1f} MB/s {rows / seconds:10,.0f} rows/s {seconds:7.1f} s")
    return seconds, result


def main() -> None:
    from ingest import generate  # bench/ingest.py

    from flows.ingest import ingest_flow
    from pipeline.steps import connect
    from pipeline.ingest.load import ingest

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="example: .venv/bin/python bench/ingest_flow.py 200 --sites 3 --dask-workers 2")
    parser.add_argument("megabytes", nargs="?", type=int, default=100, help="size of each site's Posts.xml")
    parser.add_argument("--sites", type=int, default=2)
    parser.add_argument("--dask-workers", type=int, default=2)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="stackmine-bench-flows-"))
    rows = 0
    for i in range(args.sites):
        folder = work / "sites" / f"bench{i}.stackexchange.com"
        folder.mkdir(parents=True)
        rows += generate(folder / "Posts.xml", args.megabytes, seed=i + 1)
    mb = sum(p.stat().st_size for p in (work / "sites").rglob("*.xml")) / 1e6
    print(f"{args.sites} sites, {mb:,.0f} MB, {rows:,} rows in {work}; {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}")
    ingest_flow(sources=[str(work / "sites")], db=str(work / "warmup.duckdb"))  # Prefect start-up, imports

    def plain() -> None:
        con = connect(work / "a.duckdb")
        try:
            ingest(con, [work / "sites"])
        finally:
            con.close()

    base, _ = timed("(a) ingest(), library call", mb, rows, plain)
    flow_s, results = timed("(b) ingest flow, no Dask", mb, rows,
                            lambda: ingest_flow(sources=[str(work / "sites")], db=str(work / "b.duckdb")))
    per_site = " + ".join(f"{r['seconds']:.1f}" for r in results)
    overhead = flow_s - sum(r["seconds"] for r in results)
    print(f"    sites one after another: {per_site} s in ingest, {overhead:.1f} s flow overhead (checksums, ledger)")
    ratios = f"ratios: (b)/(a) = {base / flow_s:.2f}x"
    if args.dask_workers:
        dask_s, done = timed(f"(c) ingest flow, Dask LocalCluster x{args.dask_workers}", mb, rows,
                             lambda: ingest_flow(sources=[str(work / "sites")], db=str(work / "c.duckdb"),
                                                 dask_workers=args.dask_workers))
        parse = max(r["seconds"] for r in done)
        print(f"    slowest parse task {parse:.1f} s on a worker; the rest ({dask_s - parse:.1f} s) is cluster "
              f"start-up, staging and the serial merge")
        ratios += f"   (c)/(a) = {base / dask_s:.2f}x"
    timed("(d) ingest flow again, unchanged input", mb, rows,
          lambda: ingest_flow(sources=[str(work / "sites")], db=str(work / "b.duckdb")))
    print(ratios + " (speed, higher is faster)")
    print(f"peak RSS of this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB; "
          f"load after {os.getloadavg()[0]:.1f}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
