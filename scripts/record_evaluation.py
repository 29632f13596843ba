"""Record the classifier's measured quality for datasheets: pipeline/evaluations/classifier_metrics.csv.

Usage (on a machine with ../shared, after `stackmine ingest data/sample`, `text`, `classify`):
    .venv/bin/python scripts/record_evaluation.py --db data/stackmine.duckdb

Scores the stored labels on the dev gold set twice: the odd post ids (held out: the rules were
developed on the even half) and all 300. Rows of other classifier versions are kept, rows of the
current version replaced, so the file is a history of measured versions.
"""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path

from pipeline.db import connect
from pipeline.evaluation_record import COLUMNS, METRICS_FILE, measure, to_csv

REPO = Path(__file__).resolve().parent.parent
TARGET = REPO / "pipeline" / "evaluations" / METRICS_FILE
GOLD = REPO.parent / "shared" / "gold" / "dev.csv"
SETS = (
    ("dev.csv odd post ids (held out from rule development)", "odd"),
    ("dev.csv all 300 (even half used in rule development)", None),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=Path("data/stackmine.duckdb"))
    parser.add_argument("--gold", type=Path, default=GOLD)
    args = parser.parse_args()
    con = connect(args.db, read_only=True)
    try:
        rows = [row for name, half in SETS for row in measure(con, args.gold, name, half)]
    finally:
        con.close()
    version = rows[0]["classifier_version"]
    kept = []
    if TARGET.is_file():
        kept = [r for r in csv.DictReader(io.StringIO(TARGET.read_text())) if r["classifier_version"] != version]
    TARGET.write_text(to_csv([{k: r[k] for k in COLUMNS} for r in kept] + rows))
    print(f"recorded {len(rows)} rows for {version} in {TARGET}")


if __name__ == "__main__":
    main()
