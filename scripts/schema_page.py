#!/usr/bin/env python3
"""Write docs/schema.md: every table and column of the stackmine database with its comment.

Usage: .venv/bin/python scripts/schema_page.py [--out docs/schema.md]

The comments are the trailing `-- comment` of each line in pipeline/*/sql/tables.sql, stored in the
database by the schema step (pipeline/core/comments.py) and read back here from DuckDB itself.
Run it after changing a tables.sql; tests/core/test_comments.py fails until the page is in step.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pipeline.steps import schema_page

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "schema.md")
    out = parser.parse_args().out
    out.write_text(schema_page() + "\n", encoding="utf-8")
    print(f"wrote {out}")
