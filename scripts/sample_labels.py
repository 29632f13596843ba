"""Write tests/data/sample_labels.csv: the labels of every bundled sample question, as a fingerprint.

Usage: .venv/bin/python scripts/sample_labels.py [--out tests/data/sample_labels.csv]

Builds a temporary database from data/sample with the real stages (ingest → text → classify) and
writes one row per question: site, post_id, platforms (|-joined), ml, stage, stage2 and the first
12 hex digits of the SHA-256 of its evidence JSON. tests/classify/test_sample_labels.py compares a fresh
classification against this file, so a speed-up cannot silently change a label or its evidence.
Regenerate it only for an intentional rule or decision change (and bump the rule/engine version);
the diff of the CSV then shows exactly which questions changed.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import tempfile
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parent.parent
CSV_PATH = REPO / "tests" / "data" / "sample_labels.csv"
COLUMNS = ("site", "post_id", "platforms", "ml", "stage", "stage2", "evidence_sha256")


def fingerprint(con: duckdb.DuckDBPyConnection) -> list[tuple[str, ...]]:
    """One row of text per labelled question, ordered by site and post id."""
    rows = con.execute("SELECT site, post_id, platforms, ml, stage, stage2, evidence FROM question_labels "
                       "ORDER BY site, post_id").fetchall()
    return [(site, str(post_id), "|".join(platforms), "yes" if ml else "no", stage, stage2 or "",
             hashlib.sha256(evidence.encode("utf-8")).hexdigest()[:12])
            for site, post_id, platforms, ml, stage, stage2, evidence in rows]


def build(out: Path) -> int:
    """Classify data/sample in a temporary database and write the fingerprint to `out`."""
    from pipeline.classify.classifier import classify
    from pipeline.steps import connect
    from pipeline.ingest.load import ingest
    from pipeline.text.extract import extract

    with tempfile.TemporaryDirectory(prefix="stackmine-labels-") as tmp:
        con = connect(Path(tmp) / "sample.duckdb")
        try:
            ingest(con, [REPO / "data" / "sample"])
            extract(con)
            classify(con)
            rows = fingerprint(con)
        finally:
            con.close()
    with open(out, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=CSV_PATH)
    args = parser.parse_args()
    print(f"{build(args.out):,} questions written to {args.out}")


if __name__ == "__main__":
    main()
