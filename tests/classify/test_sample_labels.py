"""Labels and evidence of all 2,079 bundled sample questions equal the committed fingerprint.

tests/data/sample_labels.csv was written by scripts/sample_labels.py; speed work on text.py,
lexicon.py, codepatterns.py, decide.py or classify.py must leave it unchanged. For an intentional
rule change, rerun the script and review the CSV diff (it names each changed question).
"""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import duckdb
from tests.support import REPO, TEST_DATA


def _script():
    spec = importlib.util.spec_from_file_location("sample_labels", REPO / "scripts" / "sample_labels.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sample_labels_match_fingerprint(study_db_path: Path) -> None:
    script = _script()
    with open(TEST_DATA / "sample_labels.csv", newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        assert tuple(next(reader)) == script.COLUMNS
        expected = [tuple(row) for row in reader]
    con = duckdb.connect(str(study_db_path), read_only=True)
    try:
        got = script.fingerprint(con)
    finally:
        con.close()
    assert len(expected) == 2079
    changed = [(e, g) for e, g in zip(expected, got) if e != g]
    assert changed == [], f"{len(changed)} questions changed, first: {changed[:3]}"
    assert got == expected


def test_batched_scan_equals_one_by_one(study_db_path: Path) -> None:
    """scan_many shares one spaCy Doc among many questions; each question's hits are its own."""
    from pipeline.classify.classifier import Classifier

    con = duckdb.connect(str(study_db_path), read_only=True)
    try:
        rows = con.execute("SELECT title, prose, inline_code, code, tags FROM question_text "
                           "ORDER BY site, post_id LIMIT 600").fetchall()
    finally:
        con.close()
    scanner = Classifier().scanner
    batched = scanner.scan_many(rows)
    single = [scanner.scan(*row) for row in rows]
    assert [sorted(hits) for hits in batched] == [sorted(hits) for hits in single]
    assert sum(len(hits) for hits in batched) > 1000
