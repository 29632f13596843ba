"""Benchmark `stackmine export` against DuckDB's own Parquet COPY of the same join, in one run.

    .venv/bin/python bench/export.py                 # 100 copies of the sample's 2,079 questions
    .venv/bin/python bench/export.py --copies 300

Input: the bundled sample run through the real ingest, text and classify once, then its posts,
question_text and question_labels rows copied --copies times with new post ids into a DuckDB
file under /tmp (never the repository). Each method runs in its own subprocess so its peak RSS
(ru_maxrss) is its own:
  (a) baseline: `COPY (SELECT labels ⨝ text ⨝ posts ORDER BY site, post_id) TO x.parquet` —
      the floor: DuckDB writing the same rows with no attribution, CSV, datasheet or checksums;
  (b) stackmine export, attributed, with a 200-question coding sample;
  (c) stackmine export --pseudonymise (salted hashes computed in Python per row).
Prints questions/s (wall clock), peak RSS and the ratios (b)/(a), (c)/(a). Cores are shared.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "data" / "sample"
OFFSET = 100_000_000  # larger than any post id in the sample, so copies never collide

BASELINE_SQL = """COPY (SELECT l.*, t.title, t.tags, p.score, p.view_count, p.owner_user_id
      FROM question_labels l JOIN question_text t USING (site, post_id)
      JOIN posts p ON p.site = l.site AND p.id = l.post_id ORDER BY l.site, l.post_id) TO '{out}' (FORMAT parquet)"""


def build(db: Path, copies: int) -> int:
    """The scaled database; returns its number of questions."""
    from pipeline.classify.classifier import classify
    from pipeline.steps import connect
    from pipeline.ingest.load import ingest
    from pipeline.text.extract import extract

    con = connect(db)
    ingest(con, [SAMPLE])
    extract(con)
    classify(con)
    for table, key in (("posts", "id"), ("question_text", "post_id"), ("question_labels", "post_id")):
        con.execute(f"CREATE TEMP TABLE base AS SELECT * FROM {table}")
        for k in range(1, copies):
            con.execute(f"INSERT INTO {table} SELECT * REPLACE ({key} + {k * OFFSET} AS {key}) FROM base")
        con.execute("DROP TABLE base")
    n = con.execute("SELECT count(*) FROM question_labels").fetchone()[0]
    con.close()
    return n


def run_one(method: str, db: str, out: str) -> dict:
    """Child process: one method, timed, with its peak RSS."""
    import duckdb

    from pipeline.publish.export import ExportOptions, export
    from pipeline.core.selection import Selection

    everything = Selection(notebook=None, ml=None)
    con = duckdb.connect(db, read_only=True)
    started = time.perf_counter()
    if method == "baseline":
        con.execute(BASELINE_SQL.format(out=Path(out) / "baseline.parquet"))
    else:
        export(con, ExportOptions(method, everything, pseudonymise=method == "pseudonymised", salt="bench",
                                  sample=200, seed=1), Path(out))
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=100)
    parser.add_argument("--child", nargs=3, metavar=("METHOD", "DB", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--build", metavar="DB", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(*args.child)))
        return
    if args.build:
        print(build(Path(args.build), args.copies))
        return
    work = Path(tempfile.mkdtemp(prefix="stackmine-bench-export-"))
    try:
        # built in a child too: Linux keeps ru_maxrss across fork+exec, so a parent that had loaded
        # spaCy would pass its peak to every measured child
        done = subprocess.run([sys.executable, __file__, "--build", str(work / "bench.duckdb"), "--copies",
                               str(args.copies)], check=True, capture_output=True, text=True)
        n = int(done.stdout.strip().splitlines()[-1])
        print(f"{n:,} questions ({args.copies} copies of the sample) in {work / 'bench.duckdb'}")
        results = {}
        for method in ("baseline", "attributed", "pseudonymised"):
            done = subprocess.run([sys.executable, __file__, "--child", method, str(work / "bench.duckdb"), str(work)],
                                  check=True, capture_output=True, text=True)
            results[method] = json.loads(done.stdout.strip().splitlines()[-1])
            r = results[method]
            print(f"{method:<14} {n / r['seconds']:>10,.0f} questions/s  {r['seconds']:6.2f} s  peak RSS {r['rss_mb']:6.0f} MB")
        for method in ("attributed", "pseudonymised"):
            ratio = results["baseline"]["seconds"] / results[method]["seconds"]
            print(f"{method} / baseline speed: {ratio:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
