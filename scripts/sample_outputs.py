"""Record (or print) the digest of every table the chain writes up to classify, on the bundled sample.

Usage: .venv/bin/python scripts/sample_outputs.py [--write]

tests/core/test_sample_outputs.py rebuilds the sample database and compares each table's digest
with tests/data/sample_outputs.txt, so a refactor that changes any stored value fails loudly.
After an intentional change (a new parser or classifier version), rerun with --write and review
the diff. Timing and path columns (ingested_at, parse_seconds, source) are left out: they are not
outputs. Topic and coverage tables are left out too: they depend on floating-point clustering, so
they are compared run against run in the tests instead of against a file.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MANIFEST = REPO / "tests" / "data" / "sample_outputs.txt"
TABLES = ("dumps", "posts", "post_tags", "users", "comments", "tags", "post_links", "post_history", "votes", "badges",
          "question_text", "question_labels")
NOT_OUTPUTS = {"ingested_at", "parse_seconds", "source"}


def digests(con) -> list[str]:
    """`table rows digest` lines: SHA-256 of every row, cast to text, in sorted order."""
    lines = []
    for table in TABLES:
        columns = [c for (c,) in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
            [table]).fetchall() if c not in NOT_OUTPUTS]
        cast = ", ".join(f'"{c}"::VARCHAR' for c in columns)
        rows = con.execute(f'SELECT {cast} FROM "{table}" ORDER BY ALL').fetchall()
        lines.append(f"{table} {len(rows)} {hashlib.sha256(repr(rows).encode()).hexdigest()[:16]}")
    return lines


def build(db: Path):
    """The sample through ingest, text and classify, as `stackmine run` does it."""
    from pipeline.classify.classifier import classify
    from pipeline.ingest.load import ingest
    from pipeline.steps import connect
    from pipeline.text.extract import extract

    con = connect(db)
    ingest(con, [REPO / "data" / "sample"])
    extract(con)
    classify(con)
    return con


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"write {MANIFEST.relative_to(REPO)}")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        con = build(Path(tmp) / "sample.duckdb")
        text = "\n".join(digests(con)) + "\n"
        con.close()
    if args.write:
        MANIFEST.write_text(text, encoding="utf-8")
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
