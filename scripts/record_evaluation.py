"""Record the classifier's measured quality for datasheets: pipeline/evaluations/classifier_metrics.csv.

Usage (on a machine with ../shared, after `stackmine ingest data/sample`, `text`, `classify`):
    .venv/bin/python scripts/record_evaluation.py --db data/stackmine.duckdb

Scores the stored labels on all 300 dev questions. The rules were tuned on those questions, so
these are development figures (optimistic), and the gold_set text says so. `--heldout` instead
records the odd half as scored by the rule snapshot frozen before the odd half was seen (run by
scripts/heldout_estimate.sh, which builds that snapshot). Rows of other classifier versions, and
rows of the other kind, are kept, so the file is a history of measured versions.
"""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path

from pipeline.steps import connect
from pipeline.evaluate.record import COLUMNS, DEVELOPMENT, HELDOUT, METRICS_FILE, measure, to_csv

REPO = Path(__file__).resolve().parent.parent
TARGET = REPO / "pipeline" / "evaluate" / "records" / METRICS_FILE
GOLD = REPO.parent / "shared" / "gold" / "dev.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=Path("data/stackmine.duckdb"))
    parser.add_argument("--gold", type=Path, default=GOLD)
    parser.add_argument("--heldout", action="store_true", help="record the frozen snapshot's odd-half rows")
    parser.add_argument("--target", type=Path, default=TARGET)
    args = parser.parse_args()
    name, half = HELDOUT if args.heldout else DEVELOPMENT
    con = connect(args.db, read_only=True)
    try:
        rows = measure(con, args.gold, name, half)
    finally:
        con.close()
    version = rows[0]["classifier_version"]
    kept = []
    if args.target.is_file():
        old = csv.DictReader(io.StringIO(args.target.read_text()))
        kept = [r for r in old if r["classifier_version"] != version or r["gold_set"] != name]
    args.target.write_text(to_csv([{k: r[k] for k in COLUMNS} for r in kept] + rows))
    print(f"recorded {len(rows)} rows for {version} ({name}) in {args.target}")


if __name__ == "__main__":
    main()
