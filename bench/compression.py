#!/usr/bin/env python3
"""What DuckDB's compression costs ingest, against the XML parsing floor, in one run.

    .venv/bin/python bench/compression.py            # bench/ingest.py's 500 MB synthetic Posts.xml
    .venv/bin/python bench/compression.py 2000       # 2 GB
    .venv/bin/python bench/compression.py --xml ../shared/data/dumps/2017-03/ai.stackexchange.com/Posts.xml

Why: issue 14 asks `stackmine ingest` to reach the single-core lxml floor end to end on 2 cores.
On 2 cores the whole run may then spend at most twice the floor's wall time in CPU, and only if
nothing in it is serial. This measures where ingest's CPU goes that the floor does not spend: the
posts rows `stackmine ingest` loaded are read back once into an Arrow file (not timed), then each
child process inserts them into a fresh DuckDB file the way ingest does (one streamed INSERT in
one transaction, one DuckDB thread, ingest's memory cap, row groups of 65,536 rows, the storage
version of `pipeline.core.db`), once with DuckDB's automatic compression (what ingest does) and
once with `force_compression = 'uncompressed'`, and the file sizes are compared. Each child is
measured from outside (bench/ingest.py `measure`: wall, CPU, peak PSS). Prints MB/s of the XML,
rows/s, CPU seconds (an insert's: the INSERT and COMMIT alone, timed inside the child, whose rows
are counted against the posts table), peak PSS (an insert's includes the memory-mapped Arrow file
it reads), the database file's size, and the budget arithmetic: the wall time ingest would take if
everything but its serial part (start-up, commit, exit: outside the load its log times) kept every
core busy. With --xml the same on a dump file of your own (a real one shows what compression saves
on real text; the synthetic file repeats a small vocabulary and compresses far better). Note the
machine load.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import FLOOR, LOADED, generate, measure  # noqa: E402  (bench/ingest.py)

REPO = Path(__file__).resolve().parent.parent
MODES = ("auto", "uncompressed")


def insert_child(arrow_file: Path, database: Path, mode: str) -> None:
    """Insert the rows of `arrow_file` into a new `posts` table of `database` as ingest does."""
    import pyarrow as pa

    from pipeline.core.db import connect, settings
    from pipeline.ingest.load import LOAD_SETTINGS

    con = connect(database)  # as ingest's: storage version, row groups of 65,536 rows
    forced = {} if mode == "auto" else {"force_compression": mode}
    with settings(con, {**LOAD_SETTINGS, **forced}), pa.memory_map(str(arrow_file)) as source:
        reader = pa.ipc.open_file(source)
        empty = reader.schema.empty_table()  # the table's columns, without reading the stream below
        con.execute("CREATE TABLE posts AS SELECT * FROM empty")
        rows = pa.RecordBatchReader.from_batches(reader.schema, (reader.get_batch(i) for i in range(reader.num_record_batches)))
        wall, cpu = time.monotonic(), time.process_time()
        con.execute("BEGIN")
        con.execute("INSERT INTO posts SELECT * FROM rows")
        con.execute("COMMIT")
        seconds, cpu = time.monotonic() - wall, time.process_time() - cpu  # the insert alone, without start-up
    count = con.execute("SELECT count(*) FROM posts").fetchall()[0][0]
    con.close()
    print(seconds, cpu, count)


def export_posts(database: Path, arrow_file: Path) -> int:
    """The posts table of `database` as an Arrow IPC file; returns its row count."""
    import duckdb
    import pyarrow as pa

    con = duckdb.connect(str(database), read_only=True, config={"threads": 1})  # one thread: the file's order
    reader = con.sql("SELECT * FROM posts").to_arrow_reader(65_536)
    rows = 0
    with pa.OSFile(str(arrow_file), "wb") as sink, pa.ipc.new_file(sink, reader.schema) as writer:
        for batch in reader:
            writer.write_batch(batch)
            rows += batch.num_rows
    con.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="example: .venv/bin/python bench/compression.py 500")
    parser.add_argument("megabytes", nargs="?", type=int, default=500, help="size of the synthetic Posts.xml")
    parser.add_argument("--xml", type=Path, help="measure on this Posts.xml instead of a synthetic one")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()), help="scratch folder (deleted after)")
    parser.add_argument("--child", nargs=3, metavar=("ARROW", "DB", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        insert_child(Path(args.child[0]), Path(args.child[1]), args.child[2])
        return
    args.dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="stackmine-bench-compression-", dir=args.dir))
    try:
        run(args, work)
    finally:
        shutil.rmtree(work)


def run(args: argparse.Namespace, work: Path) -> None:
    site = work / "bench.stackexchange.com"
    site.mkdir()
    posts = site / "Posts.xml"
    if args.xml:
        shutil.copyfile(args.xml, posts)
        print(f"{args.xml}: {posts.stat().st_size / 1e6:,.1f} MB")
    else:
        started = time.monotonic()
        count = generate(posts, args.megabytes)
        print(f"generated a synthetic Posts.xml ({posts.stat().st_size / 1e6:,.0f} MB, {count:,} rows; "
              f"bench/ingest.py's generator) in {time.monotonic() - started:.0f} s")
    size = posts.stat().st_size / 1e6
    python = sys.executable
    print(f"machine: {os.cpu_count()} cores; load before: {os.getloadavg()[0]:.2f} (1-min average; cores are shared)")
    floor = measure([python, "-c", FLOOR, str(posts)])
    ingest_db = work / "ingest.duckdb"
    ingest = measure([str(Path(python).parent / "stackmine"), "ingest", str(site), "--db", str(ingest_db)])
    arrow_file = work / "posts.arrow"
    rows = export_posts(ingest_db, arrow_file)
    lines = [("floor: lxml iterparse, 1 core", floor, None), ("stackmine ingest, end to end", ingest, ingest_db)]
    insert_cpu = {}
    for mode in MODES:
        database = work / f"insert-{mode}.duckdb"
        measured = measure([python, str(Path(__file__).resolve()), "--child", str(arrow_file), str(database), mode])
        seconds, cpu, count = (float(v) for v in measured[2].split())  # the insert's own (the process's include imports)
        if int(count) != rows:
            raise SystemExit(f"insert, {mode}: {int(count):,} rows inserted, {rows:,} expected")
        insert_cpu[mode] = cpu
        lines.append((f"DuckDB insert + commit, {mode}", (seconds, measured[1], "", cpu, ""), database))
    for name, (seconds, peak, _, cpu, _), database in lines:
        stored = f"{database.stat().st_size / 1e6:7,.0f} MB file" if database else " " * 15
        print(f"  {name:<38} {size / seconds:7.1f} MB/s {rows / seconds:9,.0f} rows/s {seconds:5.1f} s wall "
              f"{cpu:5.1f} s CPU {peak / 2**20:5.0f} MB peak  {stored}")
    cores = os.cpu_count() or 1
    compression_cpu = insert_cpu["auto"] - insert_cpu["uncompressed"]
    ratio = (work / "insert-uncompressed.duckdb").stat().st_size / (work / "insert-auto.duckdb").stat().st_size
    print(f"compression: {compression_cpu:.2f} CPU-s of the insert's {insert_cpu['auto']:.2f} "
          f"({compression_cpu / insert_cpu['auto']:.0%}); without it the file is {ratio:.1f}x as large")
    loaded = LOADED.search(ingest[4])
    serial = ingest[0] - float(loaded.group(1)) if loaded else 0.0
    print(f"budget: at the floor on {cores} cores ingest may spend at most {cores} x {floor[0]:.1f} = "
          f"{cores * floor[0]:.1f} CPU-s; it spent {ingest[3]:.1f} ({ingest[3] - compression_cpu:.1f} without "
          f"compression), {serial:.1f} s of its wall outside the overlapped load (start-up, commit, exit)")
    for name, cpu in (("as shipped", ingest[3]), ("without compression", ingest[3] - compression_cpu)):
        best = serial + max(cpu - serial, 0.0) / cores
        print(f"  {name:<20} best wall if all but that part kept every core busy: {best:.1f} s = "
              f"{floor[0] / best:.2f}x the floor")
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
