#!/usr/bin/env python3
"""Record the classifier's measured quality for datasheets: pipeline/evaluate/records/classifier_metrics.csv.

Usage: .venv/bin/python scripts/record_evaluation.py

Scores the shipped classifier on the bundled gold files (data/gold; pipeline/evaluate/record.py) in
two sets: out-of-fold on the 1,687 training questions (refitted in the run, about 10 s) and on
the 418 questions of the held-out split. Earlier rows of the current classifier version are
replaced; rows of other versions are kept, so the file is a history of measured versions.
"""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path

from pipeline.evaluate.record import COLUMNS, METRICS_FILE, measure, to_csv

REPO = Path(__file__).resolve().parent.parent
TARGET = REPO / "pipeline" / "evaluate" / "records" / METRICS_FILE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=Path, default=TARGET)
    args = parser.parse_args()
    rows = measure()
    version = rows[0]["classifier_version"]
    kept = []
    if args.target.is_file():
        kept = [r for r in csv.DictReader(io.StringIO(args.target.read_text())) if r["classifier_version"] != version]
    args.target.write_text(to_csv([{k: r[k] for k in COLUMNS} for r in kept] + rows))
    for r in rows:
        if not r["label"].startswith("stage: "):
            print(f"{r['gold_set'].split(':')[0]:<16}{r['label']:<34}{r['precision']!s:>8}{r['recall']!s:>8}{r['f1']!s:>8}"
                  f"{r['support']:>6}")
    print(f"recorded {len(rows)} rows for {version} in {args.target}")


if __name__ == "__main__":
    main()
