"""Helpers for the ingest tests: independent row counts and a fingerprint of the dump tables.

Counts here never use stackmine's parser: a regex over the raw bytes for XML, Python's csv module
for SEDE exports, so a test compares two independent readings of the same file.
"""

from __future__ import annotations

import csv
import functools
import re
from pathlib import Path

import duckdb
import py7zr
from py7zr.io import BytesIOFactory

from pipeline.ingest.load import DUMP_TABLES

ROW = re.compile(rb"<row\b")


def count_rows(data: bytes) -> int:
    """Number of `<row` elements in raw dump bytes."""
    return len(ROW.findall(data))


DATE = re.compile(rb'="(\d{4}-\d\d-\d\d)T\d\d:\d\d:\d\d')


def newest_day(datas: list[bytes]) -> str:
    """Latest YYYY-MM-DD of any timestamp attribute in raw dump bytes (what dump_id is dated by)."""
    return max(max(DATE.findall(data), default=b"") for data in datas).decode()


def count_csv_rows(path: Path) -> int:
    """Data rows of a CSV export (quoted newlines handled by the csv module)."""
    with path.open(newline="", encoding="utf-8") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


@functools.cache
def archive_members(path: Path) -> dict[str, bytes]:
    """Every member of a .7z archive, in memory (test-sized archives only)."""
    factory = BytesIOFactory(limit=1 << 30)
    with py7zr.SevenZipFile(path) as archive:
        archive.extractall(factory=factory)
    return {Path(name).name: product.read() for name, product in factory.products.items()}


def fingerprint(path: Path) -> dict[str, tuple[int, int]]:
    """(rows, hash of all rows) per dump table: equal fingerprints mean row-for-row equal tables."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {t: tuple(con.execute(f"SELECT count(*), coalesce(bit_xor(hash(t)), 0) FROM {t} AS t").fetchone())
                for t in DUMP_TABLES}
    finally:
        con.close()


def table_counts(con: duckdb.DuckDBPyConnection, site: str) -> dict[str, int]:
    """Rows of `site` per dump table."""
    return {t: con.execute(f"SELECT count(*) FROM {t} WHERE site = ?", [site]).fetchone()[0]
            for t in DUMP_TABLES}
