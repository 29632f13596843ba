"""Benchmark `stackmine ingest` against the XML parsing floor and a pandas baseline, in one run.

    .venv/bin/python bench/ingest.py            # 500 MB synthetic Posts.xml
    .venv/bin/python bench/ingest.py 2000       # 2 GB

Generates a realistic synthetic Posts.xml (seeded; bodies with HTML entities and &#xA;, both tag
formats, attributes that come and go, rows out of Id order) in a temp folder outside the repo,
then measures, each in its own process so memory is measured per method:
  (a) floor:  lxml iterparse clearing each element, doing nothing else, one core;
  (b) stackmine ingest into a fresh database (the CLI, end to end: start-up, checksum, parse on
      worker threads while DuckDB inserts the parsed chunks, commit), with the tokenizer already
      compiled (see below);
  (c) pandas.read_xml + DuckDB insert (on a slice if the file is large; scaled, and said so).
Prints MB/s, rows/s, peak RSS (PSS summed over the process and all its children, polled from /proc),
wall and CPU seconds, and the ratios (b)/(a) and (b)/(c). Note the machine load: the cores are
shared, and a method that wants both cores suffers most when others use them.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORDS = ("model data train notebook jupyter kernel gpu colab pandas dataframe loss accuracy epoch "
         "batch tensor layer feature pipeline deploy error install import version memory cluster "
         "python numpy sklearn keras torch the a of to in is it for with on why how what").split()
TAGS = ("python machine-learning jupyter-notebook pandas tensorflow keras deep-learning "
        "google-colaboratory scikit-learn numpy pytorch databricks amazon-sagemaker nlp").split()


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def _body(rng: random.Random) -> str:
    parts = [f"&lt;p&gt;{_text(rng, rng.randint(10, 60))} &amp;amp; caf\u00e9 &quot;ok&quot;&lt;/p&gt;"
             for _ in range(rng.randint(1, 4))]
    if rng.random() < 0.5:
        code = "&#xA;".join(f"x = df[&quot;{rng.choice(WORDS)}&quot;].mean()  # &lt;{i}&gt;" for i in range(rng.randint(2, 12)))
        parts.append(f"&lt;pre&gt;&lt;code&gt;{code}&#xA;&lt;/code&gt;&lt;/pre&gt;")
    return "&#xA;&#xA;".join(parts) + "&#xA;"


def _row(rng: random.Random, post_id: int, new_tags: bool) -> str:
    date = f"20{rng.randint(10, 24)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}.{rng.randint(0, 999):03d}"
    question = rng.random() < 0.4
    attrs = [f'Id="{post_id}"', f'PostTypeId="{1 if question else 2}"']
    if not question:
        attrs.append(f'ParentId="{rng.randint(1, post_id)}"')
    elif rng.random() < 0.5:
        attrs.append(f'AcceptedAnswerId="{post_id + 1}"')
    attrs += [f'CreationDate="{date}"', f'Score="{rng.randint(-3, 50)}"']
    if question:
        attrs.append(f'ViewCount="{rng.randint(1, 90000)}"')
    attrs.append(f'Body="{_body(rng)}"')
    attrs.append(f'OwnerUserId="{rng.randint(-1, 99999)}"' if rng.random() < 0.97 else 'OwnerDisplayName="user123"')
    if rng.random() < 0.3:
        attrs += [f'LastEditorUserId="{rng.randint(1, 9999)}"', f'LastEditDate="{date}"']
    attrs.append(f'LastActivityDate="{date}"')
    if question:
        tags = rng.sample(TAGS, rng.randint(1, 5))
        raw = "|" + "|".join(tags) + "|" if new_tags else "".join(f"&lt;{t}&gt;" for t in tags)
        attrs += [f'Title="{_text(rng, rng.randint(4, 14))}?"', f'Tags="{raw}"', f'AnswerCount="{rng.randint(0, 9)}"']
    attrs.append(f'CommentCount="{rng.randint(0, 12)}"')
    if rng.random() < 0.8:
        attrs.append(f'ContentLicense="CC BY-SA {rng.choice(("3.0", "4.0"))}"')
    return "  <row " + " ".join(attrs) + " />\n"


def generate(path: Path, megabytes: int, seed: int = 1) -> int:
    """Write a Posts.xml of about `megabytes` MB; return its row count."""
    rng = random.Random(seed)
    target, written, rows = megabytes * 1_000_000, 0, 0
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write('\ufeff<?xml version="1.0" encoding="utf-8"?>\n<posts>\n')
        while written < target:
            block = []
            for _ in range(2000):
                rows += 1
                # not in Id order, and each Id once (ingest refuses a repeated Id since issue 12; the
                # old `rows + randint(-50, 50)` repeated Ids, so this bench failed): XOR with 63
                # permutes the Ids within each aligned block of 64
                post_id = rows ^ 63 if rows >= 128 else rows
                block.append(_row(rng, post_id, new_tags=rows % 2 == 0))
            text = "".join(block)
            out.write(text)
            written += len(text.encode())
        out.write("</posts>\n")
    return rows


FLOOR = """
import sys
from lxml import etree
rows = 0
for _, el in etree.iterparse(sys.argv[1], events=("end",), tag="row", resolve_entities=False, no_network=True):
    rows += 1
    el.clear(keep_tail=True)
    while el.getprevious() is not None:
        del el.getparent()[0]
print(rows)
"""

PANDAS = """
import sys, duckdb, pandas as pd
cols = ["Id","PostTypeId","AcceptedAnswerId","ParentId","CreationDate","Score","ViewCount","Body",
        "OwnerUserId","OwnerDisplayName","LastEditorUserId","LastEditDate","LastActivityDate","Title",
        "Tags","AnswerCount","CommentCount","ContentLicense"]
df = pd.read_xml(sys.argv[1], parser="lxml", iterparse={"row": cols})
con = duckdb.connect(sys.argv[2])
con.execute("SET enable_progress_bar = false")
con.register("df", df)
con.execute("CREATE TABLE posts AS SELECT * FROM df")
con.close()
print(len(df))
"""


PAGE = os.sysconf("SC_PAGE_SIZE")
POLL_SECONDS = 0.05  # how often the process tree's resident size is read (cheap: /proc/PID/statm)
PSS_EVERY = 1.0  # PSS at least this often ...
PSS_MIN_SECONDS = 0.1  # ... and, while the resident size grows by PSS_GROWTH, at most this often
PSS_GROWTH = 1.02


def _tree(root: int) -> list[int]:
    """`root` and all its descendants, from each thread's /proc children list."""
    tree, frontier = [root], [root]
    while frontier:
        pid = frontier.pop()
        try:
            threads = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in threads:
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as handle:
                    kids = [int(k) for k in handle.read().split()]
            except (OSError, ValueError):
                continue
            tree.extend(kids)
            frontier.extend(kids)
    return tree


def _rss(pids: list[int]) -> int:
    """Resident size of `pids` summed (pages shared between them counted in each)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm") as handle:
                total += int(handle.read().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            continue
    return total


def _pss(pids: list[int]) -> int:
    """Proportional set size of `pids` summed: shared library pages are split between the processes
    mapping them, not counted twice."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as handle:
                total += next(int(l.split()[1]) for l in handle if l.startswith("Pss:")) * 1024
        except (OSError, StopIteration, ValueError):
            continue
    return total


def measure(command: list[str]) -> tuple[float, int, str, float, str]:
    """Run `command`; return (wall seconds, peak PSS of its process tree, stdout, CPU seconds, stderr).

    The peak is polled from /proc. Reading PSS walks each process's page tables (about 9 CPU-ms for
    a stage and its two worker processes) and holds their memory-map lock meanwhile. Read every
    0.05 s (this meter until 4 December), it made a two-worker classify run of 1M questions take
    91.6 s instead of 82.9 s: the poller shares the two cores the workers use. So the cheap resident
    size is polled every 0.05 s, and PSS is read when the resident size has grown by 2% since the
    last reading (at most every 0.1 s) and at least once a second: a flat peak is read about once a
    second, a rising one as it rises.
    """
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    peak, read_at, rss_at_read = 0, -PSS_EVERY, 0
    while process.poll() is None:
        now = time.monotonic()
        tree = _tree(process.pid)
        rss = _rss(tree)
        if now - read_at >= PSS_EVERY or (rss > rss_at_read * PSS_GROWTH and now - read_at >= PSS_MIN_SECONDS):
            peak = max(peak, _pss(tree))
            read_at, rss_at_read = now, rss
        time.sleep(POLL_SECONDS)
    seconds = time.monotonic() - started
    out, err = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"{command[:3]} failed:\n{err[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - usage.ru_utime - usage.ru_stime
    return seconds, peak, out, cpu, err


def slice_file(source: Path, target: Path, megabytes: int) -> None:
    """First rows of `source` up to about `megabytes` MB, as a valid dump file."""
    limit = megabytes * 1_000_000
    with source.open("rb") as inp, target.open("wb") as out:
        for line in inp:
            out.write(line)
            if inp.tell() >= limit:
                break
        out.write(b"</posts>\n")


def _report(name: str, megabytes: float, rows: int, measured: tuple, note: str = "") -> tuple[float, float]:
    """Print one method's line; return (MB per wall second, MB per CPU second)."""
    seconds, peak, _, cpu = measured[:4]
    rate = megabytes / seconds
    print(f"{name:<34} {rate:7.1f} MB/s {rows / seconds:9,.0f} rows/s {peak / 2**20:6.0f} MB peak RSS "
          f"{seconds:6.1f} s wall {cpu:6.1f} s CPU  {note}")
    return rate, megabytes / cpu


PARSED = re.compile(r"Posts\.xml: [\d,]+ rows \([\d.]+ MB\) in ([\d.]+) s")
STAGED = re.compile(r"loaded and committed \d+ site\(s\) in ([\d.]+) s")  # a checkout before #14 item 3
LOADED = re.compile(r"loaded \d+ site\(s\) in ([\d.]+) s, committed in ([\d.]+) s")


def _phases(measured: tuple, megabytes: float) -> None:
    """Where (b)'s wall time went, from its log. Since issue 14 item 3: the file parsed on every
    core while DuckDB inserts it, the rest of the site's load (post tags, flags, `dumps`), the
    commit, and start-up (imports, tokenizer load, checksums) and clean-up. Before it: parsing on
    every core, then DuckDB's insert and commit, then the rest."""
    seconds, err = measured[0], measured[4]
    parse, load, staged = PARSED.search(err), LOADED.search(err), STAGED.search(err)
    if parse and load:
        file_s, load_s, commit_s = float(parse.group(1)), float(load.group(1)), float(load.group(2))
        print(f"    (b) phases: parse + insert, overlapped {file_s:.1f} s ({megabytes / file_s:.0f} MB/s), "
              f"rest of the site's load {load_s - file_s:.1f} s, commit {commit_s:.1f} s, "
              f"start-up, checksum and clean-up {seconds - load_s - commit_s:.1f} s")
    elif parse and staged:
        parse_s, load_s = float(parse.group(1)), float(staged.group(1))
        print(f"    (b) phases: parse {parse_s:.1f} s ({megabytes / parse_s:.0f} MB/s, all cores), "
              f"DuckDB insert + commit {load_s:.1f} s ({megabytes / load_s:.0f} MB/s, one thread), "
              f"start-up, checksum and clean-up {seconds - parse_s - load_s:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="example: .venv/bin/python bench/ingest.py 2000")
    parser.add_argument("megabytes", nargs="?", type=int, default=500, help="size of the synthetic Posts.xml")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()), help="where to write it (outside the repo)")
    parser.add_argument("--pandas-mb", type=int, default=250, help="pandas runs on a slice this big (it needs ~3x RAM)")
    parser.add_argument("--workers", type=int, default=None, help="--workers for stackmine ingest")
    args = parser.parse_args()
    if args.dir:
        Path(args.dir).mkdir(parents=True, exist_ok=True)  # a scratch folder named on the command line
    work = Path(tempfile.mkdtemp(prefix="stackmine-bench-", dir=args.dir))
    site = work / "bench.stackexchange.com"
    site.mkdir()
    posts = site / "Posts.xml"
    started = time.monotonic()
    rows = generate(posts, args.megabytes)
    size = posts.stat().st_size / 1e6
    print(f"generated {posts} ({size:,.0f} MB, {rows:,} rows) in {time.monotonic() - started:.0f} s")
    print(f"machine: {os.cpu_count()} cores; load before: {os.getloadavg()[0]:.2f} (1-min average; cores are shared)")
    python = sys.executable
    floor = _report("(a) floor: lxml iterparse, 1 core", size, rows, measure([python, "-c", FLOOR, str(posts)]))
    warm = subprocess.run([python, "-c", "from pipeline.ingest.fastrows import warm_up; print(warm_up())"],
                          capture_output=True, text=True, check=True, cwd=REPO)
    print(f"tokenizer ready in {float(warm.stdout):.1f} s (compiled once per install by `make install`, "
          "then loaded from numba's cache: (b) is measured with it cached)")
    command = [str(Path(python).parent / "stackmine"), "ingest", str(site), "--db", str(work / "ingest.duckdb")]
    if args.workers:
        command += ["--workers", str(args.workers)]
    measured = measure(command)
    ours = _report("(b) stackmine ingest (end to end)", size, rows, measured)
    _phases(measured, size)
    sample, sample_mb = posts, size
    if args.pandas_mb < size:
        sample = work / "slice" / "Posts.xml"
        sample.parent.mkdir()
        slice_file(posts, sample, args.pandas_mb)
        sample_mb = sample.stat().st_size / 1e6
    measured = measure([python, "-c", PANDAS, str(sample), str(work / "pandas.duckdb")])
    note = f"(on a {sample_mb:,.0f} MB slice; rates scale)" if sample != posts else ""
    pandas = _report("(c) pandas read_xml + DuckDB", sample_mb, int(measured[2].split()[-1]), measured, note)
    print(f"ratios (wall MB/s): (b)/(a) = {ours[0] / floor[0]:.2f}x   (b)/(c) = {ours[0] / pandas[0]:.2f}x   "
          f"load after: {os.getloadavg()[0]:.2f}")
    # Under contention wall time measures the neighbours too; MB per CPU-second does not. On an idle
    # machine (b) can at best spread its CPU over all cores: wall ~= CPU / cores.
    cores = os.cpu_count() or 1
    print(f"ratios (MB per CPU-second): (b)/(a) = {ours[1] / floor[1]:.2f}x   (b)/(c) = {ours[1] / pandas[1]:.2f}x   "
          f"idle-machine bound for (b)/(a) on {cores} cores: {cores * ours[1] / floor[1]:.2f}x")
    for path in sorted(work.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    work.rmdir()


if __name__ == "__main__":
    main()
