"""Anchored code patterns find exactly what the plain regexes of the rule files find."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from pipeline.classify.codepatterns import expand, interior_word, leading_word, literal_anchor, literal_first


def test_anchor_derivation() -> None:
    assert expand(r"\b(?:lm|glm)\(\w") == [r"\blm\(\w", r"\bglm\(\w"]
    assert expand(r"(?m)^\s*/content/|x/content/") == [r"(?m)^\s*/content/", r"(?m)x/content/"]
    assert literal_anchor(r"<ipython-input-\d+") == "<ipython-input-"
    assert literal_anchor(r"\bpip3? i") == "pip"  # the optional 3 is not part of it
    assert literal_anchor(r"a|b") == ""  # a top-level alternative: no anchor, always run
    assert interior_word("<ipython-input-") == "ipython"
    assert leading_word(r"\bStandardScaler\(") == "StandardScaler"
    assert leading_word(r"\bmodel\w*\.fit\(") == ""  # model_1.fit( has no whole word "model"
    assert leading_word(r"\bKFold") == ""  # KFolds: the end is not a word boundary


@pytest.mark.slow
def test_same_hits_as_plain_regexes(study_db_path: Path) -> None:
    """Over all 2,079 sample questions: every match of every rule regex, and nothing else."""
    from pipeline.classify.classifier import Classifier  # loads spaCy: not at collection

    clf = Classifier()
    plain = [(re.compile(p), key) for key, spec in clf.rules.terms.items() for p in spec.get("code", [])]
    con = duckdb.connect(str(study_db_path), read_only=True)
    try:
        rows = con.execute("SELECT title, prose, code, inline_code, tags FROM question_text").fetchall()
    finally:
        con.close()
    checked = 0
    for title, prose, code, inline, tags in rows:
        text = code + "\n" + "\n".join(inline)
        expected = {(k.family, k.label, m.group(0).strip()[:60]) for rx, k in plain for m in rx.finditer(text)}
        hits = clf.scanner.scan(title, prose, inline, code, tags)
        got = {(h.family, h.label, h.term) for h in hits if h.place == "code"}
        assert got == expected
        checked += len(expected)
    assert checked > 1000  # distinct (label, match) pairs compared


def test_literal_first_rewrite() -> None:
    """A leading \\b moves behind the literal as a lookbehind; other shapes stay as they are."""
    assert literal_first(r"\bimport (?:a|b)\b") == r"import (?<!\wimport )(?:a|b)\b"
    assert literal_first(r"\bpip3? install") == r"pip(?<!\wpip)3? install"  # the optional 3 stays behind
    assert literal_first(r"\bmodel\.fit\(") == r"model\.fit\((?<!\wmodel\.fit\()"
    for unchanged in (r"(?m)^\s*In \[", r"(?i)\bfoo", r"\b\.x", r"\b(?:a|b)", r"\bx*y"):
        assert literal_first(unchanged) == unchanged
    text = "import a, reimport b, _import a\nimport b"
    assert [m.span() for m in re.finditer(literal_first(r"\bimport (?:a|b)\b"), text)] == [(0, 8), (32, 40)]
