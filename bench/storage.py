"""What writing the database in an older DuckDB storage format costs: ingest into a file created
with DuckDB 2.0's own format vs one created with `storage_compatibility_version` (what
pipeline/core/db.py uses, so the DuckDB shell on the registry, 1.5.x, opens it).

    .venv/bin/python bench/storage.py 200          # 200 MB synthetic Posts.xml, 3 rounds

Generates the synthetic Posts.xml of bench/ingest.py once (outside the repo), then alternates the
two formats round by round (A B, B A, A B: the machine's load falls on both alike), each a real
`ingest` into a fresh file in this process. Prints the median wall and CPU seconds (CPU per MB
does not depend on the neighbours' load) and the file's size after a checkpoint. The load average
is printed before and after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import generate  # noqa: E402  (the same synthetic dump as bench/ingest.py)

from pipeline.core.db import STORAGE  # noqa: E402
from pipeline.ingest.load import ingest  # noqa: E402
from pipeline.steps import ensure_tables  # noqa: E402

FORMATS = {"2.0 default": {}, f"compat {STORAGE['storage_compatibility_version']}": STORAGE}


def one(site: Path, db: Path, config: dict) -> tuple[float, float, int]:
    """(wall s, CPU s, bytes on disk) of one ingest into a fresh file created with `config`."""
    db.unlink(missing_ok=True)
    cpu, wall = time.process_time(), time.perf_counter()
    con = duckdb.connect(str(db), config=config)
    ensure_tables(con)
    ingest(con, [site])
    con.execute("CHECKPOINT")
    con.close()
    return time.perf_counter() - wall, time.process_time() - cpu, db.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog="example: .venv/bin/python bench/storage.py 200")
    parser.add_argument("megabytes", nargs="?", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stackmine-storage-") as work:
        site = Path(work) / "bench.stackexchange.com"
        site.mkdir()
        rows = generate(site / "Posts.xml", args.megabytes)
        size = (site / "Posts.xml").stat().st_size / 1e6
        print(f"{size:,.0f} MB, {rows:,} rows; {os.cpu_count()} cores; load before {os.getloadavg()[0]:.2f}")
        results: dict[str, list] = {name: [] for name in FORMATS}
        names = list(FORMATS)
        for round_ in range(args.rounds):
            for name in names if round_ % 2 == 0 else names[::-1]:
                results[name].append(one(site, Path(work) / "db.duckdb", FORMATS[name]))
        for name, runs in results.items():
            wall = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            print(f"{name:<16} wall {wall:5.1f} s ({size / wall:5.1f} MB/s)  CPU {cpu:5.1f} s "
                  f"({size / cpu:5.1f} MB per CPU-s)  file {runs[-1][2] / 1e6:7.1f} MB  (median of {len(runs)})")
        print(f"load after {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
