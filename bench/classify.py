"""Benchmark text extraction + classification against a keyword-anywhere baseline, in one run.

    .venv/bin/python bench/classify.py                      # 100k questions, bundled SEDE sample; end to end at 10k, 100k, 1M
    .venv/bin/python bench/classify.py --sizes 10000 100000 --workers 1 2   # just the end-to-end part (--questions 0 skips (a)-(c))
    .venv/bin/python bench/classify.py --questions 200000 --csv ../shared/data/sede/stackoverflow.com/data-science-questions-2022.csv

Questions: the 1,475 real Stack Overflow questions of the SEDE export (data/sample), repeated
until --questions are reached. Each method runs in its own subprocess, one core, so its peak RSS
(ru_maxrss) is its own:
  (a) baseline: keyword-anywhere (pipeline/baselines.py) on title + raw body HTML — a substring
      test per keyword, no parsing: the cheapest thing that produces the same labels;
  (b) stackmine: pipeline.text.parse_body + Classifier.label_many per 1,000 questions (lxml, spaCy
      PhraseMatcher, anchored code patterns, decisions with evidence) — what `stackmine text` and
      `stackmine classify` do per row, without the database;
  (c) stackmine end to end: `extract` + `classify` into a fresh DuckDB file under /tmp (reading
      posts, writing question_text and question_labels), on the same questions with new ids.
Then end to end at each of --sizes questions and with each of --workers (1: the calling process
alone; N: N worker processes while it reads and writes; pipeline/core/workers.py): a posts table
of that many questions (the same texts, new ids) is written to a DuckDB file under /tmp by a
separate process, 100k at a time, then `extract` (text) and `classify` run on it, each in a
process of its own measured from outside (bench/ingest.py measure): wall and CPU seconds (worker
processes included), peak memory of the stage's process tree (PSS summed, polled from /proc),
questions/s, the speed-up of N workers over the first --workers value in the same run, the CPU
seconds of the stage's own process (reading, handing out, inserting, DuckDB's threads) and of its
worker processes (parsing or labelling), and the load average before and after. Peak memory must
not depend on the size. `--code DIR` runs this part with another checkout's `pipeline`
(before/after). Before it, when a --workers value N is above 1, the machine's ceiling for that
speed-up: (b), with this checkout's code even under --code, on --ceiling questions in one process
alone, then in N processes at once (`ceiling`). `--writer` then runs each stage once more with the
most workers, its worker processes handing back the stage's own results saved from the run before
(read through a memory map: no parsing, no labelling), so the stage's process reads, hands out and
inserts the same rows and nothing else works: the one writer's pace, which more cores cannot pass,
and from it and the per-core rate at the most workers what 8 and 32 cores could give at most.
`--against DIR` also runs (b) and (c) with the code of another checkout (DIR/pipeline, e.g. the previous
classifier: `git archive OLD pipeline bench | tar -x -C DIR`), alternating with this one for
`--rounds` rounds, so both see the same load; the ratio of their CPU figures is what a change
costs. Prints questions/s (wall clock, and per CPU-second of the process: on shared cores the wall figure
drops with other people's load, the CPU figure is the per-core speed), the one-off start-up (imports,
rule compilation; for (a) and (b) timed apart from the questions, for (c) inside `classify`), peak
RSS, and the ratios
(b)/(a), (c)/(a). CPU time is the whole process's (time.process_time: DuckDB's worker threads included). Repetition means spaCy's vocabulary
is warm after the first copy, as it is on a large real dump. The cores are shared: note the load.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import hashlib
import inspect
import itertools
import json
import os
import resource
import subprocess
import sys
import shutil
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import measure  # noqa: E402  (bench/ingest.py: wall, CPU and peak PSS of a process tree)

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CSV = REPO / "data" / "sample" / "stackoverflow.com" / "data-science-questions-2022.csv"
BATCH = 1_000  # questions parsed, then labelled together (Classifier.label_many), as `classify` does


def load_questions(path: Path, n: int, offset: int = 0) -> list[tuple[str, str, list[str]]]:
    """(title, body, tags) of the CSV's questions, repeated to n (from repetition index `offset`)."""
    csv.field_size_limit(1 << 30)
    with open(path, newline="", encoding="utf-8-sig") as handle:
        base = [(r["Title"], r["Body"], [t for t in r["Tags"].strip("<>|").replace("><", "|").split("|") if t])
                for r in csv.DictReader(handle) if r["PostTypeId"] == "1"]
    return [base[i % len(base)] for i in range(offset, offset + n)]


def setup_baseline() -> object:
    from pipeline.evaluate.baselines import KeywordAnywhere, load_baselines

    return KeywordAnywhere(load_baselines(), "model-training")


def run_baseline(keyword, questions: list) -> int:
    return sum(bool(keyword.guess(title, body).platforms) for title, body, _tags in questions)


def setup_stackmine() -> object:
    from pipeline.classify.classifier import Classifier

    return Classifier()


def run_stackmine(classifier, questions: list) -> int:
    from pipeline.text.extract import parse_body, title_text

    notebook = 0
    for first in range(0, len(questions), BATCH):
        parsed = [(title_text(title), parse_body(body), tags) for title, body, tags in questions[first:first + BATCH]]
        labels = classifier.label_many([(title, p.prose, p.inline_code, p.code, tags) for title, p, tags in parsed])
        notebook += sum(bool(one.platforms) for one in labels)
    return notebook


def run_end_to_end(questions: list) -> int:
    import pyarrow as pa

    from pipeline.classify.classifier import classify
    from pipeline.steps import connect
    from pipeline.text.extract import extract

    with tempfile.TemporaryDirectory(prefix="stackmine-bench-") as tmp:
        con = connect(Path(tmp) / "bench.duckdb")
        column, value = snapshot_column(con, len(questions))
        posts = pa.table({
            "site": ["bench.stackoverflow.com"] * len(questions), column: [value] * len(questions),
            "id": list(range(1, len(questions) + 1)), "post_type_id": [1] * len(questions),
            "creation_date": [None] * len(questions), "title": [q[0] for q in questions],
            "body": [q[1] for q in questions], "tags": [q[2] for q in questions]})
        con.register("bench_posts", posts)
        con.execute(f"INSERT INTO posts (site, {column}, id, post_type_id, creation_date, title, body, tags) "
                    f"SELECT site, {column}, id, post_type_id, coalesce(creation_date, TIMESTAMP '2022-01-01'), "
                    "title, body, tags FROM bench_posts")
        con.unregister("bench_posts")
        started, cpu_started = time.perf_counter(), time.process_time()
        # one core, as (a) and (b); a checkout from before `workers` existed has only that path
        one = {"workers": 1} if "workers" in inspect.signature(extract).parameters else {}
        extract(con, **one)
        classify(con, **one)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        notebook = con.execute("SELECT count(*) FROM question_labels WHERE notebook").fetchone()[0]
        con.close()
    return notebook, seconds, cpu


def snapshot_column(con, n: int) -> tuple[str, object]:
    """How the bench's posts name their snapshot: dump_key 1, with the `dumps` row that dates it
    (ingest-3 on), or, for a --code checkout from before dump_key, the dump_id in every row."""
    columns = {name for (name,) in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE table_name = 'posts'").fetchall()}
    if "dump_key" not in columns:
        return "dump_id", "bench"
    con.execute("INSERT INTO dumps (site, dump_id, dump_key, file, source, size_bytes, sha256, source_sha256, rows, "
                "parse_seconds, pipeline_version, ingested_at) VALUES ('bench.stackoverflow.com', "
                "'bench.stackoverflow.com@2022-01-01-bench', 1, 'Posts', 'bench', 0, '', '', ?, 0, 'bench', "
                "TIMESTAMP '2022-01-01')", [n])
    return "dump_key", 1


def build_posts(db: Path, csv_path: Path, n: int, unique: bool = False) -> None:
    """A database whose posts are `n` questions (the CSV's, repeated, new ids), written 100k at a time.

    `unique` ends each body with a paragraph of 32 hex digits drawn from its id, so no two bodies are
    equal: repeated bodies compress to almost nothing (by dictionary, in DuckDB and in Parquet),
    which makes reading them cheaper than reading a real site's."""
    import pyarrow as pa

    from pipeline.core.db import registered
    from pipeline.steps import connect

    con = connect(db)
    column, value = snapshot_column(con, n)
    step = 100_000
    for first in range(0, n, step):
        part = load_questions(csv_path, min(step, n - first), offset=first)
        m = len(part)
        posts = pa.table({
            "site": ["bench.stackoverflow.com"] * m, column: [value] * m,
            "id": list(range(first + 1, first + m + 1)), "post_type_id": [1] * m,
            "title": [q[0] for q in part], "tags": [q[2] for q in part],
            "body": [q[1] + (f"<p>{hashlib.blake2b(str(first + k + 1).encode(), digest_size=16).hexdigest()}</p>"
                             if unique else "") for k, q in enumerate(part)]})
        with registered(con, bench_posts=posts):
            con.execute(f"INSERT INTO posts (site, {column}, id, post_type_id, creation_date, title, body, tags) "
                        f"SELECT site, {column}, id, post_type_id, TIMESTAMP '2022-01-01', title, body, tags FROM bench_posts")
    con.execute("CHECKPOINT")
    con.close()


def run_stage(stage: str, db: Path, workers: int, writer_only: bool = False) -> None:
    """One stage on `db` in this process (what the parent measures); prints rows and notebook count.

    `writer_only`: the stage's worker processes return results made in advance (`canned`) instead
    of parsing or labelling, so what is left is the one writer's share (reading, handing out,
    inserting): its wall time is about the fastest the stage can go on any number of cores (on more
    cores than here its DuckDB threads and the pool's threads would not share them with the worker
    processes, so somewhat faster)."""
    import pipeline.classify.classifier as labelling
    import pipeline.text.extract as text
    from pipeline.steps import connect

    function = text.extract if stage == "text" else labelling.classify
    # --code may point at a checkout from before `workers` existed: its path is the serial one.
    options = {"workers": workers} if "workers" in inspect.signature(function).parameters else {}
    if workers > 1 and not options:
        raise SystemExit(f"{function.__module__} has no workers option")
    if writer_only:
        if workers < 2:
            raise SystemExit("--writer measures the stage with worker processes: give --workers 2 or more")
        module, name = (text, "text_batch") if stage == "text" else (labelling, "label_batch")
        if not hasattr(module, name):
            raise SystemExit(f"{module.__name__} has no {name}: --writer needs this checkout's stages")
        setattr(module, name, canned)  # the stage looks its work function up when it runs
    con = connect(db)
    writer_started = time.thread_time()
    n = function(con, **options)
    writer_thread = time.thread_time() - writer_started
    notebook = con.execute("SELECT count(*) FROM question_labels WHERE notebook").fetchone()[0]
    con.close()
    # The stage's own process (reads, hands out, inserts; DuckDB's threads) apart from its worker
    # processes (parse or label): where the CPU the parallel path adds over the serial one goes.
    # Of the stage's process, its main thread: the part no added core can share.
    own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    print(json.dumps({"n": n, "notebook": notebook, "caller_cpu": own.ru_utime + own.ru_stime,
                      "writer_thread_cpu": writer_thread, "workers_cpu": children.ru_utime + children.ru_stime}))


# --writer: where the stage's real results were saved (an Arrow IPC file, rows in post id order);
# read by the stand-ins in the worker processes, which inherit the environment.
RESULTS_ENV = "STACKMINE_BENCH_RESULTS"
_RESULTS: dict[str, object] = {}


def _results_for(batch):
    """The saved results of this batch's questions: their rows of the file RESULTS_ENV names,
    memory-mapped (only the batch's rows are copied), checked against the batch's post ids (its
    third column)."""
    import pyarrow as pa

    saved = _RESULTS.get("batches")
    if saved is None:
        saved = _RESULTS["batches"] = pa.ipc.open_file(pa.memory_map(os.environ[RESULTS_ENV])).read_all().to_batches()
        _RESULTS["starts"] = list(itertools.accumulate((part.num_rows for part in saved[:-1]), initial=0))
    starts = _RESULTS["starts"]
    ids = batch.column(2).to_pylist()
    # The bench's question ids are 1..n, so id i is the saved row i - 1; a batch holds its ids in the
    # scan's order, not always consecutive. Taken from each saved batch, not from the table, whose
    # take would first join its chunks (a copy of the whole file in every worker).
    pieces = []
    for k, run in itertools.groupby((i - 1 for i in ids), key=lambda row: bisect.bisect_right(starts, row) - 1):
        pieces.append(saved[k].take([row - starts[k] for row in run]))
    rows = pa.Table.from_batches(pieces).combine_chunks()
    if rows.column("post_id").to_pylist() != ids:
        raise SystemExit(f"--writer: the saved results do not hold posts {ids[0]}..{ids[-1]} at rows id - 1 "
                         f"of {os.environ[RESULTS_ENV]}")
    return rows.to_batches()[0]


def canned(batch):
    """Stand-in for text's or classify's work in a worker process (--writer): the stage's own rows
    for this batch, saved from the run before (the file RESULTS_ENV names)."""
    return _results_for(batch)


def save_results(db: Path, folder: Path) -> dict[str, Path]:
    """question_text and question_labels of `db` as Arrow IPC files in post id order, for --writer."""
    import duckdb
    import pyarrow as pa

    files = {}
    with duckdb.connect(str(db), read_only=True) as con:
        for stage, table in (("text", "question_text"), ("classify", "question_labels")):
            files[stage] = folder / f"{table}.arrow"
            reader = con.sql(f"SELECT * FROM {table} ORDER BY post_id").to_arrow_reader(100_000)
            with pa.OSFile(str(files[stage]), "wb") as sink, pa.ipc.new_file(sink, reader.schema) as out:
                for part in reader:
                    out.write_batch(part)
    return files


def end_to_end(csv_path: Path, sizes: list[int], workers: list[int], code: Path | None, writer: bool = False) -> None:
    """Text, then classify, at each size and worker count; one line each, the speed-up vs the
    first worker count. `writer`: then each stage again with the most workers and its work done in
    advance (`run_stage`'s `writer_only`), and what that leaves for more cores than this machine has."""
    # `env` execs python with another checkout first on the path; the measured tree is the same.
    prefix = ["env", f"PYTHONPATH={code}"] if code else []
    print(f"end to end into DuckDB ({'pipeline from ' + str(code) if code else 'this checkout'}), "
          f"{os.cpu_count()} cores; peak = PSS of the stage's process tree")
    with tempfile.TemporaryDirectory(prefix="stackmine-bench-classify-") as tmp:
        for n in sizes:
            posts = Path(tmp) / f"posts-{n}.duckdb"
            measure([*prefix, sys.executable, __file__, "--build", str(posts), "--questions", str(n),
                     "--csv", str(csv_path)])
            first: dict[str, float] = {}
            rates: dict[tuple[str, int], float] = {}
            db = Path(tmp) / "run.duckdb"
            for count in workers:
                shutil.copyfile(posts, db)
                for stage in ("text", "classify"):
                    seconds, result, load = _stage(prefix, stage, db, count)
                    rate = rates[(stage, count)] = result["n"] / seconds
                    first.setdefault(stage, rate)
                    ratio = f"  {rate / first[stage]:.2f}x workers={workers[0]}" if count != workers[0] else ""
                    print(f"  {n:>9,} questions  {stage:<8} workers={count}  {rate:>7,.0f} q/s wall  "
                          f"{result['n'] / result['cpu']:>7,.0f} per CPU-second  {seconds:7.1f} s  "
                          f"peak {result['peak'] / 2**20:5.0f} MB{ratio}{_split(result)}  {load}", flush=True)
            if writer and max(workers) > 1:
                _writer(prefix, n, db, posts, Path(tmp), max(workers), rates)
            db.unlink()
            posts.unlink()


def _stage(prefix: list[str], stage: str, db: Path, count: int, results: Path | None = None) -> tuple[float, dict, str]:
    """One stage in a process of its own, measured from outside: wall seconds, its figures, the load."""
    load = os.getloadavg()[0]
    env = ["env", f"{RESULTS_ENV}={results}"] if results else []
    seconds, peak, out, cpu, _ = measure([*env, *prefix, sys.executable, __file__, "--stage", stage, "--db", str(db),
                                          "--workers", str(count), *(["--writer"] if results else [])])
    result = {**json.loads(out.strip().splitlines()[-1]), "peak": peak, "cpu": cpu}
    return seconds, result, f"(load {load:.1f} -> {os.getloadavg()[0]:.1f})"


def _split(result: dict) -> str:
    return (f"  CPU-s caller {result['caller_cpu']:.1f} (main thread {result['writer_thread_cpu']:.1f})"
            f" + workers {result['workers_cpu']:.1f}")


# Core counts the writer's pace is projected to (issue 14 asks for 8 and 32).
PROJECTED_CORES = (8, 32)


def _writer(prefix: list[str], n: int, db: Path, posts: Path, tmp: Path, count: int,
            rates: dict[tuple[str, int], float]) -> None:
    """Each stage with `count` worker processes that hand back the stage's own results, saved from
    the run before (`canned`): the writer reads, hands out and inserts the same
    rows as in a real run, and nothing else works. Its pace bounds the stage on any number of cores;
    below it, a stage on N cores goes at most N times its pace per core at `count` workers."""
    files = save_results(db, tmp)
    shutil.copyfile(posts, db)
    for stage in ("text", "classify"):
        seconds, result, load = _stage(prefix, stage, db, count, files[stage])
        pace = result["n"] / seconds
        per_core = rates[(stage, count)] / count
        projected = ", ".join(f"{cores} cores at most {min(cores * per_core, pace):,.0f} q/s"
                              f" ({'the writer' if cores * per_core > pace else 'the cores'})"
                              for cores in PROJECTED_CORES)
        # Its peak counts the saved file's pages each worker has mapped: not a figure of the stage.
        print(f"  {n:>9,} questions  {stage:<8} writer alone, workers={count} handing back saved results: "
              f"{pace:>7,.0f} q/s wall  {seconds:7.1f} s  peak {result['peak'] / 2**20:5.0f} MB with the saved "
              f"file mapped{_split(result)}  "
              f"{load}\n      -> {projected} (per core as at workers={count}: {per_core:,.0f} q/s)", flush=True)
    for path in files.values():
        path.unlink()


def child(method: str, csv_path: Path, n: int) -> None:
    """Run one method in this process and print a JSON line with its figures."""
    questions = load_questions(csv_path, n)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started, cpu_started = time.perf_counter(), time.process_time()
    startup = 0.0
    if method == "end-to-end":
        notebook, seconds, cpu = run_end_to_end(questions)
    else:
        # Imports and rule compilation happen once per process: timed apart from the questions.
        state = (setup_baseline if method == "baseline" else setup_stackmine)()
        startup = time.process_time() - cpu_started
        started, cpu_started = time.perf_counter(), time.process_time()
        notebook = (run_baseline if method == "baseline" else run_stackmine)(state, questions)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"method": method, "n": n, "seconds": seconds, "qps": n / seconds, "cpu_qps": n / cpu,
                      "startup_cpu": startup,
                      "notebook": notebook, "peak_rss_mb": peak / 1024, "input_rss_mb": rss_before / 1024}))


def run_child(method: str, args: argparse.Namespace, code: Path = REPO) -> dict:
    """One method in a fresh process, importing `pipeline` from `code` (a checkout), as a dict."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    out = subprocess.run([sys.executable, __file__, "--child", method, "--questions", str(args.questions),
                          "--csv", str(args.csv)], capture_output=True, text=True, check=True, cwd=code, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def ceiling(csv_path: Path, n: int, processes: int) -> None:
    """What `processes` cores give this machine for the stages' own work when nothing is shared:
    (b) on `n` questions in one process alone, then in each of `processes` processes started
    together (the same `n` each: no database, no hand-off, no worker pool). Cores that share
    caches, memory bandwidth and clock run busy processes slower than one alone; the parallel
    paths of `text` and `classify` cannot beat `processes` x (alone / slowest together), and their
    own overhead (reading, handing out, inserting) comes on top."""
    def start() -> subprocess.Popen:
        return subprocess.Popen([sys.executable, __file__, "--child", "stackmine", "--questions", str(n),
                                 "--csv", str(csv_path)], stdout=subprocess.PIPE, text=True, cwd=REPO)

    def seconds(process: subprocess.Popen) -> float:
        out, _ = process.communicate()
        if process.returncode != 0:
            raise SystemExit("a child process of the ceiling failed")
        return json.loads(out.strip().splitlines()[-1])["seconds"]

    load = os.getloadavg()[0]
    alone = seconds(start())
    together = max(seconds(process) for process in [start() for _ in range(processes)])
    print(f"ceiling: (b) on {n:,} questions: one process alone {alone:.1f} s; {processes} at once, the slowest "
          f"{together:.1f} s: at most {processes * alone / together:.2f}x on {processes} cores for this work "
          f"(start-up excluded; load {load:.1f} -> {os.getloadavg()[0]:.1f})", flush=True)


def compare(args: argparse.Namespace) -> None:
    """(b) and (c) of this checkout and of `args.against`, alternating, `args.rounds` times."""
    import statistics

    figures: dict[tuple[str, str], list[float]] = {}
    for round_ in range(1, args.rounds + 1):
        for method in ("stackmine", "end-to-end"):
            for name, code in (("this", REPO), ("against", args.against)):
                r = run_child(method, args, code)
                figures.setdefault((method, name), []).append(r["cpu_qps"])
                print(f"  round {round_} {method:<11} {name:<8} {r['cpu_qps']:>8,.0f} per CPU-second  "
                      f"peak RSS {r['peak_rss_mb']:>5.0f} MB  notebook={r['notebook']:,}  "
                      f"load {os.getloadavg()[0]:.1f}")
    for method in ("stackmine", "end-to-end"):
        this, other = figures[(method, "this")], figures[(method, "against")]
        ratios = [a / b for a, b in zip(this, other)]
        print(f"{method}: this {statistics.median(this):,.0f}, against {statistics.median(other):,.0f} per CPU-second "
              f"(medians); paired ratio this/against median {statistics.median(ratios):.3f} "
              f"(range {min(ratios):.3f}-{max(ratios):.3f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog="example: .venv/bin/python bench/classify.py --questions 0 --sizes 1000000 --workers 1 2")
    parser.add_argument("--questions", type=int, default=100_000, help="questions for (a)-(c); 0 skips them")
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000, 1_000_000],
                        help="questions end to end (none: skip that part)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, os.cpu_count() or 1],
                        help="cores end to end; the first is the baseline of the speed-up")
    parser.add_argument("--code", type=Path, help="run the end-to-end part with this checkout's pipeline")
    parser.add_argument("--build", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--unique-bodies", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--stage", choices=["text", "classify"], help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--writer", action="store_true",
                        help="after each size, each stage again with the most --workers and the work done in "
                             "advance: the one writer's pace, and what it leaves for 8 and 32 cores")
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--child", choices=["baseline", "stackmine", "end-to-end"])
    parser.add_argument("--ceiling", type=int, default=50_000,
                        help="questions per process for the machine's ceiling, printed before the end-to-end "
                             "part when a --workers value is above 1 (0 skips it)")
    parser.add_argument("--against", type=Path, help="another checkout's root: compare its classifier with this one")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds with --against")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.csv, args.questions)
        return
    if args.build:
        build_posts(args.build, args.csv, args.questions, args.unique_bodies)
        return
    if args.stage:
        run_stage(args.stage, args.db, args.workers[0], args.writer)
        return
    if args.against:
        print(f"{args.questions:,} questions from {args.csv.name} (repeated); this checkout against {args.against}, "
              f"alternating; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        compare(args)
        return
    if args.questions:
        one_core(args)
    if args.sizes and args.ceiling and max(args.workers) > 1:
        ceiling(args.csv, args.ceiling, max(args.workers))
    if args.sizes:
        end_to_end(args.csv, args.sizes, args.workers, args.code, args.writer)


def one_core(args: argparse.Namespace) -> None:
    """(a), (b) and (c), each in its own process, one core."""
    print(f"{args.questions:,} questions from {args.csv.name} (repeated); load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores; one process per method, one core each")
    results = {}
    for method in ("baseline", "stackmine", "end-to-end"):
        results[method] = r = run_child(method, args)
        print(f"  {method:<11} {r['qps']:>8,.0f} questions/s wall, {r['cpu_qps']:>8,.0f} per CPU-second"
              f"  {r['seconds']:>6.1f} s  (+{r['startup_cpu']:.1f} s start-up CPU)  peak RSS {r['peak_rss_mb']:>5.0f} MB"
              f"  notebook={r['notebook']:,}")
    base, base_cpu = results["baseline"]["qps"], results["baseline"]["cpu_qps"]
    for method in ("stackmine", "end-to-end"):
        print(f"ratio {method}/baseline: {results[method]['qps'] / base:.3f} wall, "
              f"{results[method]['cpu_qps'] / base_cpu:.3f} CPU")


if __name__ == "__main__":
    main()
