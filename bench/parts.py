#!/usr/bin/env python3
"""Text and classify on Parquet parts (a storage design not built) against the shipped stages, in one run.

    .venv/bin/python bench/parts.py                            # 200,000 questions, 1 and 2 workers
    .venv/bin/python bench/parts.py --questions 1000000 --stages text
    .venv/bin/python bench/parts.py --ingest 500              # ingest's parser writing parts, 500 MB Posts.xml
    .venv/bin/python bench/parts.py --queries                 # then queries/*.sql on tables and on parts

Why: issue 14 asks text + classify to run >= 1.8x faster on 2 cores than on one, with memory flat
in the table's size. The shipped stages reach 1.5-1.7x: one process reads the scope from the
DuckDB file, hands batches to worker processes and inserts what comes back, because DuckDB lets one
process write a file; and DuckDB keeps metadata for every block a connection writes or reads
(bench/blockmeta.py). This measures the way out both point to, where a stage's rows live in Parquet
files ("parts") and no process is the one writer:
  (a) shipped: `extract` (pipeline/text), then `classify`, on a posts table of --questions
      questions (the bundled SEDE sample repeated, as bench/classify.py builds it; with
      --unique-bodies each body ends in 32 hex digits of its own, so that the table and the parts
      do not shrink by repetition), each --workers value, in DuckDB;
  (b) parts: the same posts written once to --parts Parquet files by id range (what ingest would
      write instead of the posts table; not timed), then each worker process turns whole parts
      into question_text parts with the shipped parser (`text_batch`), and those into
      question_labels parts with the shipped classifier (`label_batch`, each worker loading the
      classifier itself), 2,000 questions at a time, zstd, row groups of 65,536; one worker runs
      in the measured process itself.
Each run is a process of its own measured from outside (bench/ingest.py `measure`): wall and CPU
seconds (worker processes included), questions/s and peak memory of the process tree (PSS). The
rows of (b) are then compared with (a)'s tables, all columns (EXCEPT ALL both ways).
Not in (b): what would keep a run all-or-nothing (new parts in a new folder, switched in by one
DuckDB transaction), the ledger, and reading posts from a DuckDB table rather than from parts.
`--queries` then times (c): the queries/*.sql that read those two tables, on (a)'s tables in the
sandbox `stackmine query` opens, on views over (b)'s parts, and on (b)'s parts registered as Arrow
datasets in that sandbox (results compared); then `stackmine export`'s function from the tables and
from the registered parts (files compared); and shows what DuckDB's `allowed_directories` lets a
sandboxed query do to the parts.

`--ingest MB` measures the posts' side instead, on bench/ingest.py's synthetic Posts.xml of MB MB,
each in a process of its own: the lxml floor (one core), `stackmine ingest` end to end, and
ingest's own reader and parser (row-line chunks, sha256 of the bytes, the compiled tokenizer)
writing Posts parts instead of inserting: with one writer in the calling thread while a pool of
one thread per core parses, and with one lane per core (chunk k parsed and written by lane k mod
N into its own part, so each part's rows are in file order). Rows and the sum of their Ids are
compared with the posts table `stackmine ingest` wrote. Not in it: ingest's checks across rows
(a repeated Id, a shrinking snapshot), the `dumps` row, the switch that makes the load atomic.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from classify import DEFAULT_CSV  # noqa: E402  (bench/classify.py)
from ingest import measure  # noqa: E402  (bench/ingest.py)

CLASSIFY_BENCH = Path(__file__).resolve().parent / "classify.py"
def write_posts_parts(db: Path, folder: Path, parts: int) -> int:
    """The rows the shipped text stage reads from `db` (its `questions` statement, every site), as
    `parts` Parquet files of consecutive id ranges, each in id order."""
    import duckdb

    from pipeline.text.extract import SQL

    con = duckdb.connect(str(db), read_only=True)
    questions = con.sql(SQL("questions"), params=[None, None])
    first, last = questions.aggregate("min(id), max(id)").fetchall()[0]
    step = -(-(last - first + 1) // parts)
    for k in range(parts):
        low, high = first + k * step, first + (k + 1) * step
        questions.filter(f"id >= {low} AND id < {high}").order("id").write_parquet(  # integers computed here
            str(folder / f"part-{k:04d}.parquet"), compression="zstd", row_group_size=65_536)
    con.close()
    return parts


def convert_part(stage: str, source: str, target: str) -> int:
    """One part of `source` through `stage`'s shipped per-batch work (text: `text_batch`; classify:
    `label_batch`, with the classifier `load_classifier` set in this process), 2,000 rows at a
    time, into the part `target`; returns rows written."""
    import pyarrow.parquet as pq

    if stage == "text":
        from pipeline.text.extract import BATCH_ROWS, _SCHEMA as schema, text_batch as work
        columns = None
    else:
        from pipeline.classify.classifier import BATCH_ROWS, _SCHEMA as schema, label_batch as work
        columns = LABEL_INPUT
    written = 0
    with pq.ParquetWriter(target, schema, compression="zstd") as writer:
        for batch in pq.ParquetFile(source).iter_batches(batch_size=BATCH_ROWS, columns=columns):
            writer.write_batch(work(batch), row_group_size=65_536)
            written += batch.num_rows
    return written


def load_classifier() -> None:
    """A worker's first act for classify: the shipped classifier, loaded from the package's files."""
    from pipeline.classify.classifier import Classifier, use_classifier

    use_classifier(Classifier())


# The shipped classify `questions` statement's columns (pipeline/classify/sql/classify.sql), in its order.
LABEL_INPUT = ["site", "dump_id", "post_id", "title", "prose", "code", "inline_code", "tags"]
START = {"text": None, "classify": load_classifier}
TABLES = {"text": "question_text", "classify": "question_labels"}


def run_parts(source: Path, target: Path, workers: int, stage: str) -> int:
    """(b): every part of `source` into a part of `target` by `stage`, on `workers` processes."""
    start = START[stage]
    parts = sorted(source.glob("*.parquet"))
    stages, targets = [stage] * len(parts), [str(target / p.name) for p in parts]
    if workers <= 1:
        if start:
            start()
        return sum(map(convert_part, stages, map(str, parts), targets))
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=start) as pool:
        return sum(pool.map(convert_part, stages, map(str, parts), targets))


def ingest_parts(source: Path, target: Path, lanes: int) -> int:
    """Posts.xml `source` into Posts parts in `target`: `lanes` 0 for one writer (this thread)
    beside a parsing pool of one thread per core, else `lanes` lanes that each parse and write."""
    import hashlib
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    import pyarrow.parquet as pq

    from pipeline.ingest.load import table_specs
    from pipeline.ingest.xmlrows import chunk_table, chunks
    from pipeline.steps import connect

    con = connect(target / "schema.duckdb")  # the posts table's columns, from the shipped DDL
    spec = table_specs(con)["Posts"]
    con.close()
    (target / "schema.duckdb").unlink()
    digest = hashlib.sha256()  # not kept: ingest checksums every file it reads, so the work is counted here too
    pools = [ThreadPoolExecutor(1) for _ in range(lanes)] if lanes else [ThreadPoolExecutor(os.cpu_count() or 1)]
    writers: list = [None] * max(lanes, 1)
    rows = [0] * max(lanes, 1)

    def write(table, lane: int) -> None:
        if writers[lane] is None:
            writers[lane] = pq.ParquetWriter(target / f"part-{lane:04d}.parquet", table.schema, compression="zstd")
        writers[lane].write_table(table, row_group_size=65_536)
        rows[lane] += table.num_rows

    def parse_and_write(chunk, lane: int) -> None:
        write(chunk_table(chunk, spec), lane)

    pending: deque = deque()  # (future, None) for a lane's parse-and-write, (future, 0) for a parse

    def finish_oldest() -> None:
        future, lane = pending.popleft()
        result = future.result()  # a lane's error is raised here too
        if lane is not None:
            write(result, lane)

    with source.open("rb") as stream:
        for k, chunk in enumerate(chunks(stream, "Posts", digest.update)):
            if lanes:
                pending.append((pools[k % lanes].submit(parse_and_write, chunk, k % lanes), None))
            else:
                pending.append((pools[0].submit(chunk_table, chunk, spec), 0))
            while pending and (len(pending) > 3 * len(writers) * 2 or pending[0][0].done()):
                finish_oldest()
    while pending:
        finish_oldest()
    for writer in writers:
        writer.close()
    for pool in pools:
        pool.shutdown()
    return sum(rows)


def ingest_bench(megabytes: int, folder: Path) -> None:
    """`--ingest`: the floor, `stackmine ingest`, and ingest's parser writing parts, on one file."""
    import duckdb
    from ingest import FLOOR, _report, generate  # bench/ingest.py

    python = sys.executable
    site = folder / "bench.stackexchange.com"
    site.mkdir()
    posts = site / "Posts.xml"
    rows = generate(posts, megabytes)
    size = posts.stat().st_size / 1e6
    print(f"Posts.xml of {size:,.0f} MB, {rows:,} rows; {os.cpu_count()} cores; load {os.getloadavg()[0]:.2f}")
    floor = _report("floor: lxml iterparse, 1 core", size, rows, measure([python, "-c", FLOOR, str(posts)]))[0]
    db = folder / "ingest.duckdb"
    shipped = _report("stackmine ingest", size, rows,
                      measure([str(Path(python).parent / "stackmine"), "ingest", str(site), "--db", str(db)]))[0]
    con = duckdb.connect(str(db), read_only=True)
    expected = con.execute("SELECT count(*), sum(id) FROM posts").fetchall()[0]
    con.close()
    for lanes, name in ((0, "parts, one writer"), (os.cpu_count() or 1, f"parts, {os.cpu_count()} lanes")):
        target = folder / f"parts-{lanes}"
        target.mkdir()
        rate = _report(name, size, rows, measure([python, __file__, "--ingest-parts", str(posts), str(target), str(lanes)]))[0]
        got = duckdb.connect().execute("SELECT count(*), sum(id) FROM read_parquet(?)",
                                       [str(target / "*.parquet")]).fetchall()[0]
        print(f"  {rate / floor:.2f}x floor ({shipped / floor:.2f}x for stackmine ingest); rows and sum of Ids "
              f"{'as' if got == expected else 'NOT as'} in the posts table ({got[0]:,})")
    print(f"load after {os.getloadavg()[0]:.2f}")


def differing_rows(db: Path, table: str, folder: Path) -> tuple[int, int, int]:
    """(rows of `table`, rows only there, rows only in the parts of `folder`)."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    parts = str(folder / "*.parquet")
    # `table` is one of TABLES' names, from this file.
    total = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    only_table = con.execute(f"SELECT count(*) FROM (SELECT * FROM {table} EXCEPT ALL "
                             "SELECT * FROM read_parquet(?))", [parts]).fetchall()[0][0]
    only_parts = con.execute(f"SELECT count(*) FROM (SELECT * FROM read_parquet(?) EXCEPT ALL "
                             f"SELECT * FROM {table})", [parts]).fetchall()[0][0]
    con.close()
    return total, only_table, only_parts


def best_of(repeats: int, work: Callable[[], object]) -> tuple[float, object]:
    """The fewest seconds `work()` took in `repeats` runs, and what its last run returned."""
    seconds, result = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        result = work()
        seconds = min(seconds, time.perf_counter() - started)
    return seconds, result


def query_bench(db: Path, folders: dict[str, tuple[Path, Path]], tmp: Path, repeats: int = 2) -> None:
    """(c): the queries/*.sql that read question_text or question_labels, three ways over the same
    rows: (a)'s tables, in the sandbox `stackmine query` opens (pipeline.core.queries.open_read_only:
    read-only, file access off, configuration locked); views over (b)'s parts in the database file,
    as a notebook or the DuckDB shell would read them (no sandbox: it would refuse the files); and in
    the sandbox with (b)'s parts registered as Arrow datasets under the tables' names. Best of
    `repeats` runs of each; results compared, rows sorted. Then an export both ways (`export_bench`),
    and what `allowed_directories`, the other way to let a sandbox read parts, lets a query do to
    them."""
    import duckdb
    import pyarrow.dataset as ds

    from pipeline.core.queries import list_queries, open_read_only, run_query
    from pipeline.core.sql import literal  # paths this bench made: a view's DDL takes no bound list

    views = tmp / "views.duckdb"
    shutil.copyfile(db, views)
    con = duckdb.connect(str(views))
    for stage, table in TABLES.items():  # names from this file
        files = ", ".join(literal(str(p)) for p in sorted(folders[stage][1].glob("*.parquet")))
        con.execute(f"DROP TABLE {table}")
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet([{files}])")
    con.close()

    class Registering:
        """A sandboxed connection whose cursors see the parts too: DuckDB keeps what `register`
        makes per cursor, and the export reads its keys on a cursor of its own."""

        def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
            self.con = con
            for stage, table in TABLES.items():
                con.register(table, ds.dataset(str(folders[stage][1]), format="parquet"))

        def cursor(self) -> Registering:
            return Registering(self.con.cursor())

        def __getattr__(self, name: str) -> object:
            return getattr(self.con, name)

    def datasets(values: dict[str, str] | None = None) -> Registering:
        return Registering(open_read_only(views, values=values))

    ways = {"tables, sandbox": lambda: open_read_only(db),
            "views over parts": lambda: duckdb.connect(str(views), read_only=True),
            "parts as datasets, sandbox": datasets}
    queries = [q for q in list_queries() if any(table in q.sql for table in TABLES.values())]
    totals = dict.fromkeys(ways, 0.0)
    print(f"  (c) {len(queries)} queries/*.sql reading {' or '.join(TABLES.values())}, best of {repeats}:")
    for query in queries:
        seconds, results = {}, {}
        for way, opener in ways.items():
            con = opener()
            seconds[way], result = best_of(repeats, lambda: run_query(con, query))
            results[way] = sorted(map(repr, result.to_pylist()))
            con.close()
            totals[way] += seconds[way]
        same = "same rows" if len(set(map(repr, results.values()))) == 1 else "ROWS DIFFER"
        print(f"    {query.name:<34} " + "  ".join(f"{seconds[w]:6.2f}" for w in ways) + f" s  {same}", flush=True)
    print(f"    {'all':<34} " + "  ".join(f"{totals[w]:6.2f}" for w in ways) + " s  (" + "; ".join(ways) + ")")
    export_bench(db, datasets, tmp, repeats)
    allowed_directories_probe(views, sorted(folders["classify"][1].glob("*.parquet"))[0])


def allowed_directories_probe(views: Path, victim: Path) -> None:
    """What a query in a sandbox given `allowed_directories` (the parts' folder) can do to the part
    `victim` of question_labels: overwrite it with no rows (the bench's last act on its parts)."""
    import duckdb

    from pipeline.core.sql import literal

    probe = duckdb.connect(str(views), read_only=True)
    before = probe.execute("SELECT count(*) FROM question_labels").fetchall()[0][0]
    for statement in (f"SET allowed_directories = [{literal(str(victim.parent) + os.sep)}]",
                      "SET enable_external_access = false", "SET lock_configuration = true"):
        probe.execute(statement)
    try:
        probe.execute(f"COPY (SELECT * FROM question_labels LIMIT 0) TO {literal(str(victim))} (FORMAT parquet)")
        after = probe.execute("SELECT count(*) FROM question_labels").fetchall()[0][0]
        print(f"  sandbox with allowed_directories = the parts' folder: a query's COPY ... TO overwrote a part; "
              f"question_labels went from {before:,} to {after:,} rows")
    except duckdb.Error as error:
        print(f"  sandbox with allowed_directories = the parts' folder: COPY ... TO a part refused ({error})")
    probe.close()


def export_bench(db: Path, datasets: Callable[[dict[str, str]], object], tmp: Path, repeats: int = 2) -> None:
    """`stackmine export`'s function with its defaults (the sandbox, capped as the command opens
    it), from (a)'s tables and from (b)'s parts registered as datasets: seconds and whether the
    files are the same bytes (their SHA-256, as the export prints them)."""
    import duckdb

    from pipeline.core.db import STREAM_SETTINGS
    from pipeline.core.queries import open_read_only
    from pipeline.publish.export import ExportOptions, export

    openers = {"tables, sandbox": lambda: open_read_only(db, values=STREAM_SETTINGS),
               "parts as datasets, sandbox": lambda: datasets(STREAM_SETTINGS)}
    files = {}
    for way, opener in openers.items():
        con, started = opener(), time.perf_counter()
        try:  # best of `repeats`: the first export of the process also imports the datasheet's plotting
            seconds, result = best_of(repeats, lambda: export(con, ExportOptions("bench"),
                                                              tmp / way.replace(" ", "-").replace(",", "")))
        except duckdb.Error as error:  # what a user of that way would meet: printed, the bench goes on
            print(f"    export, {way}: failed after {time.perf_counter() - started:.2f} s: "
                  f"{type(error).__name__}: {str(error).splitlines()[0]}", flush=True)
            continue
        finally:
            con.close()
        files[way] = result.files
        print(f"    export, {way}: {seconds:.2f} s (best of {repeats}), {result.rows:,} questions, "
              f"{len(result.files)} files", flush=True)
    if len(files) == len(openers):
        same = "the same bytes" if len(set(map(repr, files.values()))) == 1 else "DIFFERENT bytes"
        print(f"    the two exports' files: {same}")


def line(name: str, workers: int, n: int, measured: tuple, load: float) -> float:
    """Print one run; return its wall seconds."""
    seconds, peak, _, cpu, _ = measured
    rate = n / seconds
    print(f"  {name:<20} workers={workers}  {rate:>7,.0f} q/s wall  {n / cpu:>7,.0f} per CPU-second  {seconds:6.1f} s  "
          f"{cpu:6.1f} CPU-s  peak {peak / 2**20:5.0f} MB  (load {load:.1f} -> {os.getloadavg()[0]:.1f})", flush=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="example: .venv/bin/python bench/parts.py --questions 1000000 --parts 16")
    parser.add_argument("--questions", type=int, default=200_000, help="questions in the posts table")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts to run")
    parser.add_argument("--parts", type=int, default=8, help="Parquet files the posts are written to")
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV, help="questions to repeat (SEDE export)")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()), help="scratch folder (deleted after)")
    parser.add_argument("--stages", nargs="+", choices=list(START), default=list(START), help="stages to run, in order")
    parser.add_argument("--unique-bodies", action="store_true",
                        help="end each body with 32 hex digits from its id, so that no two are equal and the posts "
                             "(table and parts) do not compress by repetition")
    parser.add_argument("--queries", action="store_true",
                        help="then time queries/*.sql and an export on (a)'s tables and on (b)'s parts (needs both stages)")
    parser.add_argument("--ingest", type=int, metavar="MB", help="measure ingest writing parts instead, on MB MB of Posts.xml")
    parser.add_argument("--run-parts", nargs=4, metavar=("SOURCE", "TARGET", "WORKERS", "STAGE"), help=argparse.SUPPRESS)
    parser.add_argument("--ingest-parts", nargs=3, metavar=("SOURCE", "TARGET", "LANES"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ingest_parts:
        source, target, lanes = args.ingest_parts
        print(ingest_parts(Path(source), Path(target), int(lanes)))
        return
    if args.ingest:
        with tempfile.TemporaryDirectory(prefix="stackmine-bench-parts-", dir=args.dir) as tmp:
            ingest_bench(args.ingest, Path(tmp))
        return
    if args.run_parts:
        source, target, workers, stage = args.run_parts
        print(run_parts(Path(source), Path(target), int(workers), stage))
        return
    if args.stages[0] != "text":
        parser.error("--stages must start with text (classify reads what text wrote)")
    if args.queries and args.stages != list(START):
        parser.error("--queries needs both stages (the queries read question_text and question_labels)")
    python = sys.executable
    print(f"{' + '.join(args.stages)} on {args.questions:,} questions, {os.cpu_count()} cores; "
          "peak = PSS of the process tree")
    with tempfile.TemporaryDirectory(prefix="stackmine-bench-parts-", dir=args.dir) as tmp:
        posts, run = Path(tmp) / "posts.duckdb", Path(tmp) / "run.duckdb"
        measure([python, str(CLASSIFY_BENCH), "--build", str(posts), "--questions", str(args.questions),
                 "--csv", str(args.csv), *(["--unique-bodies"] if args.unique_bodies else [])])
        source = Path(tmp) / "posts-parts"
        source.mkdir()
        started = time.monotonic()
        write_posts_parts(posts, source, args.parts)
        megabytes = sum(p.stat().st_size for p in source.iterdir()) / 1e6
        print(f"  posts written to {args.parts} parts ({megabytes:,.0f} MB) in {time.monotonic() - started:.1f} s "
              "(not timed below)")
        folders = {"text": (source, Path(tmp) / "text-parts"), "classify": (Path(tmp) / "text-parts", Path(tmp) / "label-parts")}
        seconds: dict[tuple[str, str, int], float] = {}
        for stage in args.stages:
            for workers in args.workers:
                if stage == "text":
                    shutil.copyfile(posts, run)
                load = os.getloadavg()[0]
                measured = measure([python, str(CLASSIFY_BENCH), "--stage", stage, "--db", str(run),
                                    "--workers", str(workers)])
                seconds["(a)", stage, workers] = line(f"(a) shipped {stage}", workers, args.questions, measured, load)
        for stage in args.stages:
            inp, out = folders[stage]
            for workers in args.workers:
                shutil.rmtree(out, ignore_errors=True)
                out.mkdir()
                load = os.getloadavg()[0]
                measured = measure([python, __file__, "--run-parts", str(inp), str(out), str(workers), stage])
                seconds["(b)", stage, workers] = line(f"(b) parts {stage}", workers,
                                                      int(measured[2].strip().splitlines()[-1]), measured, load)
        one = args.workers[0]
        for workers in args.workers[1:]:
            for stages in [[stage] for stage in args.stages] + ([args.stages] if len(args.stages) > 1 else []):
                a1, a2, b1, b2 = (sum(seconds[way, stage, count] for stage in stages)
                                  for way, count in (("(a)", one), ("(a)", workers), ("(b)", one), ("(b)", workers)))
                print(f"  {' + '.join(stages)}: workers={workers} against workers={one}: (a) {a1 / a2:.2f}x, "
                      f"(b) {b1 / b2:.2f}x; (b) workers={workers} against (a) workers={one}: {a1 / b2:.2f}x")
        for stage in args.stages:
            total, only_table, only_parts = differing_rows(run, TABLES[stage], folders[stage][1])
            same = "identical" if only_table == only_parts == 0 else "DIFFERENT"
            print(f"  rows of (b) against (a)'s {TABLES[stage]} ({total:,} rows): {same} "
                  f"({only_table:,} only in (a), {only_parts:,} only in (b))")
        if args.queries:
            query_bench(run, folders, Path(tmp))


if __name__ == "__main__":
    main()
