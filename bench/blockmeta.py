"""How much memory DuckDB keeps per GB of table it has written or read, outside its buffer cap.

    .venv/bin/python bench/blockmeta.py                          # 1M and 3M rows (1.4 and 4.1 GB files)
    .venv/bin/python bench/blockmeta.py --rows 1000000 6000000   # 1.4 and 8.3 GB

Why: ingest, text and classify stream in bounded batches, yet a long run's memory still rose with
the table (README, the rehearsal): DuckDB keeps metadata for every block it has written or read
until the connection closes, whatever `memory_limit` says. This measures that apart from stackmine:
  (a) a new file through stackmine's writing connection (`pipeline.core.db.connect`: row groups of
      65,536 rows), DuckDB capped at 96 MB and 1 thread as ingest runs it; one INSERT streams
      `--rows` rows of a 20-column table (word text of 200-3,400 characters, seeded) from Arrow
      batches, then commits;
  (b) a new process opens the file read-only and scans the text column, then closes it;
and, for comparison in the same run, the storage that would not grow (README, issue 14's notes):
  (c) the same rows written by pyarrow to Parquet files of 500,000 rows (zstd), no DuckDB;
  (d) a new process scans their text column with an in-memory DuckDB (read_parquet), same caps.
Each prints glibc's malloc'ed bytes in use (mallinfo2: DuckDB's metadata lives there, its buffers in
its own allocator) and the anonymous RSS before, after and (b) after closing; then the growth per GB
of file, and between the smallest and largest --rows the growth per added GB (what a larger table
costs; a read's first query also allocates a few MB whatever the size). Linux with glibc only. The
files go to a temp folder outside the repo and are deleted.
"""

from __future__ import annotations

import argparse
import ctypes
import itertools
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BATCH = 8_192
PART_ROWS = 500_000  # rows per Parquet file in (c)


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]


def memory() -> dict[str, float]:
    """malloc'ed MB in use (all of glibc's arenas), anonymous RSS and pyarrow's pool in use, in MB, now."""
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = _MallInfo2
    status = Path("/proc/self/status").read_text()
    anon = int(status.split("RssAnon:")[1].split()[0]) / 1024
    arrow = sys.modules.get("pyarrow")  # pyarrow allocates its buffers from its own pool
    return {"malloc_mb": libc.mallinfo2().uordblks / 2**20, "anon_mb": anon,
            "arrow_mb": arrow.total_allocated_bytes() / 2**20 if arrow else 0.0}


def bodies() -> list[str]:
    """The texts the table's rows take in turn: word text of 200-3,400 characters, seeded. Made
    before the first memory reading and kept until the last, so they count in neither."""
    import numpy as np

    rng = np.random.default_rng(1)
    words = ["".join(chr(97 + c) for c in rng.integers(0, 26, rng.integers(2, 10))) for _ in range(5_000)]
    return [" ".join(words[j] for j in rng.integers(0, 5_000, n // 6)) for n in rng.integers(200, 3_400, 4 * BATCH)]


def table_batches(rows: int, texts: list[str]):
    """`rows` rows of the 20-column table in Arrow batches of BATCH rows: the same rows for every
    way of storing them."""
    import numpy as np
    import pyarrow as pa

    for k, first in enumerate(range(0, rows, BATCH)):
        ids = np.arange(first, min(first + BATCH, rows))
        n = len(ids)
        yield from pa.table({
            "site": ["stackoverflow.com"] * n, "id": ids, "title": [f"title {i}" for i in ids],
            "body": texts[(k % 4) * BATCH:(k % 4) * BATCH + n],
            **{f"i{j}": ids * j for j in range(8)},
            **{f"s{j}": [f"value {j} {i % 1000}" for i in ids] for j in range(8)}}).to_batches()


def write(path: Path, rows: int) -> dict:
    """(a): stream `rows` rows into a new table of `path` in one statement, commit."""
    import pyarrow as pa

    from pipeline.core.db import connect, settings

    con = connect(path)
    columns = ["site VARCHAR", "id BIGINT", "title VARCHAR", "body VARCHAR"]
    columns += [f"i{j} BIGINT" for j in range(8)] + [f"s{j} VARCHAR" for j in range(8)]
    con.execute(f"CREATE TABLE t ({', '.join(columns)})")
    texts = bodies()
    batches = table_batches(rows, texts)
    first = next(batches)
    before = memory()
    with settings(con, {"memory_limit": "96MB", "threads": "1"}):
        stream = pa.RecordBatchReader.from_batches(first.schema, itertools.chain([first], batches))  # noqa: F841
        con.begin()
        con.execute("INSERT INTO t SELECT * FROM stream")
        con.commit()
    after = memory()
    con.close()
    return {"before": before, "after": after, "closed": memory()}


def write_parts(folder: Path, rows: int) -> dict:
    """(c): the same rows written by pyarrow to Parquet files of PART_ROWS rows each (zstd, row
    groups of 65,536 rows), no DuckDB."""
    import pyarrow.parquet as pq

    texts = bodies()
    batches = table_batches(rows, texts)
    first = next(batches)
    before = memory()
    writer, part, in_part = None, 0, 0
    for batch in itertools.chain([first], batches):
        if writer is None:
            writer = pq.ParquetWriter(folder / f"part-{part:04d}.parquet", batch.schema, compression="zstd")
        writer.write_batch(batch, row_group_size=65_536)
        in_part += batch.num_rows
        if in_part >= PART_ROWS:
            writer.close()
            writer, part, in_part = None, part + 1, 0
    if writer is not None:
        writer.close()
    after = memory()  # every part is closed by now: nothing more to close
    return {"before": before, "after": after, "closed": after}


def read_parts(folder: Path) -> dict:
    """(d): an in-memory DuckDB (96 MB, 1 thread) scans the text column of every part, then closes."""
    import duckdb

    before = memory()
    con = duckdb.connect()
    con.execute("SET memory_limit = '96MB'")
    con.execute("SET threads = 1")
    con.execute("SELECT sum(length(body)) FROM read_parquet(?)", [str(folder / "*.parquet")]).fetchall()
    after = memory()
    con.close()
    return {"before": before, "after": after, "closed": memory()}


def read(path: Path) -> dict:
    """(b): a read-only connection scans the text column of `path`, then closes."""
    import duckdb

    before = memory()
    con = duckdb.connect(str(path), read_only=True)
    con.execute("SET memory_limit = '96MB'")
    con.execute("SET threads = 1")
    con.execute("SELECT sum(length(body)) FROM t").fetchall()
    after = memory()
    con.close()
    return {"before": before, "after": after, "closed": memory()}


STEPS = {"write": "(a) DuckDB table: write + commit", "read": "(b) DuckDB table: read the text column",
         "write_parts": "(c) Parquet parts: pyarrow writes", "read_parts": "(d) Parquet parts: DuckDB reads the text"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog="example: .venv/bin/python bench/blockmeta.py --rows 1000000 6000000")
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 3_000_000], help="table sizes")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()), help="where the files go (deleted after)")
    parser.add_argument("--child", choices=list(STEPS), help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run = {"write": lambda: write(args.db, args.rows[0]), "read": lambda: read(args.db),
               "write_parts": lambda: write_parts(args.db, args.rows[0]), "read_parts": lambda: read_parts(args.db)}
        print(json.dumps(run[args.child]()))
        return
    grown: dict[str, list[tuple[float, float]]] = {step: [] for step in STEPS}
    for rows in args.rows:
        with tempfile.TemporaryDirectory(prefix="stackmine-bench-blockmeta-", dir=args.dir) as folder:
            db, parts = Path(folder) / "blockmeta.duckdb", Path(folder) / "parts"
            parts.mkdir()
            results = {}
            for step in STEPS:
                target = parts if step.endswith("parts") else db
                out = subprocess.run([sys.executable, __file__, "--child", step, "--db", str(target), "--rows", str(rows)],
                                     capture_output=True, text=True, check=True, cwd=REPO).stdout
                results[step] = json.loads(out.strip().splitlines()[-1])
            sizes = {"file": db.stat().st_size / 1e9, "parts": sum(p.stat().st_size for p in parts.iterdir()) / 1e9}
            count = len(list(parts.iterdir()))
        print(f"{rows:,} rows: a {sizes['file']:.2f} GB DuckDB file; {sizes['parts']:.2f} GB of Parquet in "
              f"{count} part{'' if count == 1 else 's'}; DuckDB capped at 96 MB, 1 thread", flush=True)
        for step, label in STEPS.items():
            r, gb = results[step], sizes["parts" if step.endswith("parts") else "file"]
            mb = r["after"]["malloc_mb"] - r["before"]["malloc_mb"]
            grown[step].append((gb, mb))
            print(f"  {label:<40} malloc'ed in use {r['before']['malloc_mb']:6.1f} -> {r['after']['malloc_mb']:6.1f} MB "
                  f"(+{mb:.1f}: {mb / gb:.1f} MB per GB), after closing {r['closed']['malloc_mb']:6.1f} MB; "
                  f"anonymous RSS {r['before']['anon_mb']:.0f} -> {r['after']['anon_mb']:.0f} -> "
                  f"{r['closed']['anon_mb']:.0f} MB; pyarrow's pool {r['after']['arrow_mb']:.0f} MB", flush=True)
    if len(args.rows) > 1:
        for step, label in STEPS.items():
            (gb0, mb0), (gb1, mb1) = grown[step][0], grown[step][-1]
            print(f"{label}: {(mb1 - mb0) / (gb1 - gb0):.1f} MB more per added GB stored ({gb0:.2f} -> {gb1:.2f} GB)")

if __name__ == "__main__":
    main()
