"""How fast can DuckDB take the parsed rows? The load step of ingest, alone, under several settings.

    .venv/bin/python bench/load.py            # 500 MB synthetic Posts.xml
    .venv/bin/python bench/load.py 200

Why: ingest inserts the parsed rows into DuckDB as one Arrow stream per file, in one transaction,
with one DuckDB thread and a 96 MB cap (pipeline/ingest/load.py LOAD_SETTINGS), while the parser
threads share the cores (issue 14 item 3). DuckDB's single-threaded insert is the longest stage of
that pipeline. This benchmark parses a synthetic Posts.xml once with the real parser into Arrow
parts on disk (ingest itself stages nothing), then inserts the same rows into a fresh database in a
child process per setting, and prints MB of XML per second of the insert and commit (not the
child's start-up), its CPU seconds and peak RSS, and the ratio to ingest's own setting (the
baseline, first line).
A Parquet copy of the parts is written too, so DuckDB's own parallel reader can be compared.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import REPO, generate, measure  # noqa: E402  (bench/ingest.py: generator and meter)

STAGE = """
import sys, duckdb, pyarrow.ipc as ipc, pyarrow.parquet as pq
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from pipeline.steps import ensure_tables
from pipeline.ingest.load import table_specs
from pipeline.ingest.parsing import parse_chunk
from pipeline.ingest.xmlrows import chunks
con = duckdb.connect(); ensure_tables(con)
spec = table_specs(con)["Posts"]
with ThreadPoolExecutor(2) as pool, open(Path(sys.argv[1]) / "Posts.xml", "rb") as handle:
    for index, table in enumerate(pool.map(lambda chunk: parse_chunk(chunk, spec), chunks(handle, "Posts"))):
        part = f"{sys.argv[2]}/{index:06d}.arrow"
        with ipc.new_file(part, table.schema) as writer:
            writer.write_table(table)
        pq.write_table(table, part.replace('.arrow', '.parquet'), compression='none')
"""

LOAD = """
import glob, sys, time, duckdb, pyarrow as pa, pyarrow.ipc as ipc
from pipeline.steps import ensure_tables
def staged_parts(paths):
    with ipc.open_file(paths[0]) as first:
        schema = first.schema
    def batches():
        for path in paths:
            with pa.OSFile(path) as source, ipc.open_file(source) as reader:
                for index in range(reader.num_record_batches):
                    yield reader.get_batch(index)
    return pa.RecordBatchReader.from_batches(schema, batches())
source, threads, memory, parts_dir, db = sys.argv[1:6]
con = duckdb.connect(db); ensure_tables(con)
con.execute(f"SET memory_limit = '{memory}'"); con.execute(f"SET threads = {threads}")
started = time.perf_counter()
con.execute("BEGIN")
if source == "arrow-stream":
    parts = staged_parts(sorted(glob.glob(parts_dir + '/*.arrow')))
    con.execute("INSERT INTO posts BY NAME SELECT 's' AS site, 1 AS dump_key, * FROM parts")
else:
    con.execute("INSERT INTO posts BY NAME SELECT 's' AS site, 1 AS dump_key, * FROM read_parquet($p)",
                {"p": sorted(glob.glob(parts_dir + '/*.parquet'))})
con.execute("COMMIT")
print(time.perf_counter() - started)
con.close()
"""

SETTINGS = [  # (source, DuckDB threads, memory cap); the first is what ingest does
    ("arrow-stream", 1, "96MB"),
    ("arrow-stream", 2, "96MB"),
    ("arrow-stream", 2, "192MB"),
    ("parquet", 2, "96MB"),
    ("parquet", 2, "192MB"),
    ("parquet", 2, "512MB"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="example: .venv/bin/python bench/load.py 200")
    parser.add_argument("megabytes", nargs="?", type=int, default=500, help="size of the synthetic Posts.xml")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()), help="work folder (outside the repo)")
    args = parser.parse_args()
    if args.dir:
        Path(args.dir).mkdir(parents=True, exist_ok=True)  # a scratch folder named on the command line
    with tempfile.TemporaryDirectory(prefix="stackmine-bench-load-", dir=args.dir) as tmp:
        work = Path(tmp)
        site = work / "bench.stackexchange.com"
        site.mkdir()
        rows = generate(site / "Posts.xml", args.megabytes)
        size = (site / "Posts.xml").stat().st_size / 1e6
        parts = work / "parts"
        parts.mkdir()
        subprocess.run([sys.executable, "-c", STAGE, str(site), str(parts)], check=True, cwd=REPO)
        print(f"staged {size:,.0f} MB of XML ({rows:,} rows) as Arrow parts (and a Parquet copy) in {parts}")
        baseline = None
        for source, threads, memory in SETTINGS:
            db = work / f"{source}-{threads}-{memory}.duckdb"
            seconds, peak, out, cpu, _ = measure([sys.executable, "-c", LOAD, source, str(threads), memory,
                                                  str(parts), str(db)])
            insert = float(out.split()[-1])
            rate = size / insert
            baseline = baseline or rate
            print(f"{source:<13} threads={threads} cap={memory:<6} {rate:6.0f} MB/s of XML  insert + commit "
                  f"{insert:5.2f} s ({seconds:5.2f} s wall, {cpu:5.2f} s CPU for the process)  "
                  f"{peak / 2**20:5.0f} MB peak RSS  {rate / baseline:4.2f}x ingest's setting")
            db.unlink()
            time.sleep(0.5)


if __name__ == "__main__":
    main()
