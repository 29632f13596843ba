"""Benchmark `stackmine export` and the report's datasheet summary at several selection sizes.

    .venv/bin/python bench/export.py                          # 5 / 50 / 150 copies: 10k / 104k / 312k questions
    .venv/bin/python bench/export.py --sizes 50               # one size
    .venv/bin/python bench/export.py --code ../main           # another checkout's export (the "before" figures)
    .venv/bin/python bench/export.py --db /tmp/x.duckdb       # keep (or reuse) the built database

Input: the bundled sample run through the real ingest, text and classify once, then its posts,
question_text and question_labels rows copied max(--sizes) times with new post ids (copy k adds
k × 100,000,000) into a DuckDB file under /tmp (never the repository). Each size is a selection
of the first N copies (`--where "l.post_id < N × 100000000"`), so the database is the same for
every size and only the selection grows. Each method runs in its own subprocess so its peak RSS
(ru_maxrss) is its own:
  (a) baseline: `COPY (SELECT labels ⨝ text ⨝ posts ORDER BY site, post_id) TO x.parquet` of the
      selection — the floor: DuckDB writing the same rows with no attribution, CSV, datasheet or
      checksums;
  (b) stackmine export, attributed, with a 200-question coding sample;
  (c) stackmine export --pseudonymise (salted hashes computed in Python per row);
  (d) the report's datasheet summary of the selection (`report.summary`).
Prints questions/s (wall clock) and peak RSS per size, and the load. Flat memory: (b)–(d) peak
at about the same RSS at every size. Cores are shared.
"""

from __future__ import annotations

import argparse
import json
import os
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
SAMPLE_QUESTIONS = 2_079  # labelled questions of data/sample: the questions of one copy

BASELINE_SQL = """COPY (SELECT l.*, t.title, t.tags, p.score, p.view_count, p.owner_user_id
      FROM question_labels l JOIN question_text t USING (site, post_id)
      JOIN posts p ON p.site = l.site AND p.id = l.post_id WHERE l.post_id < {below}
      ORDER BY l.site, l.post_id) TO '{out}' (FORMAT parquet)"""
METHODS = ("baseline", "attributed", "pseudonymised", "report")


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


def run_one(method: str, db: str, out: str, copies: int) -> dict:
    """Child process: one method on the selection of the first `copies` copies, timed, with its peak RSS."""
    import duckdb

    from pipeline.core.selection import Selection
    from pipeline.publish.export import ExportOptions, export

    below = copies * OFFSET
    selection = Selection(notebook=None, ml=None, where=f"l.post_id < {below}")
    con = duckdb.connect(db, read_only=True)
    started = time.perf_counter()
    if method == "baseline":
        con.execute(BASELINE_SQL.format(below=below, out=Path(out) / "baseline.parquet"))
    elif method == "report":
        from pipeline.publish.report import summary

        summary(con, selection)
    else:
        export(con, ExportOptions(method, selection, pseudonymise=method == "pseudonymised", salt="bench",
                                  sample=200, seed=1), Path(out))
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def child(args: list[str], code: Path) -> str:
    """Run this file with `args` in a fresh interpreter that imports stackmine from `code`."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    return subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True,
                          env=env).stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog="example: .venv/bin/python bench/export.py --sizes 5 50 150 480")
    parser.add_argument("--sizes", type=int, nargs="+", default=[5, 50, 150],
                        help="selection sizes, in copies of the sample's 2,079 questions")
    parser.add_argument("--code", type=Path, default=REPO, help="the stackmine checkout to measure")
    parser.add_argument("--db", type=Path, help="the built database: reused if it exists, kept afterwards")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--child", nargs=4, metavar=("METHOD", "DB", "OUT", "COPIES"), help=argparse.SUPPRESS)
    parser.add_argument("--build", metavar="DB", help=argparse.SUPPRESS)
    parser.add_argument("--copies", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        method, db, out, copies = args.child
        print(json.dumps(run_one(method, db, out, int(copies))))
        return
    if args.build:
        print(build(Path(args.build), args.copies))
        return
    work = Path(tempfile.mkdtemp(prefix="stackmine-bench-export-"))
    db = args.db or work / "bench.duckdb"
    try:
        if not db.exists():
            # built in a child too: Linux keeps ru_maxrss across fork+exec, so a parent that had loaded
            # spaCy would pass its peak to every measured child
            n = int(child(["--build", str(db), "--copies", str(max(args.sizes))], REPO))
            print(f"built {n:,} questions ({max(args.sizes)} copies of the sample) in {db}")
        print(f"code: {args.code.resolve()}; load before: {os.getloadavg()[0]:.2f}")
        for copies in args.sizes:
            n = copies * SAMPLE_QUESTIONS
            for method in args.methods:
                r = json.loads(child(["--child", method, str(db), str(work), str(copies)], args.code.resolve()))
                print(f"{n:>9,} questions  {method:<14} {n / r['seconds']:>9,.0f} questions/s  {r['seconds']:7.2f} s  "
                      f"peak RSS {r['rss_mb']:6.0f} MB  (load {os.getloadavg()[0]:.2f})", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
