"""docs/codebook.md: every label has an example from the bundled sample, and every example's labels are
exactly what the gold files say of that question.

Each example links its post and ends with a `gold: ...` span; the span is compared with the row of
data/gold/dev.csv or train.csv, and the post must be a question of data/sample (the session's real
ingest of it). Every export copies the page, and its datasheet links it (tests/publish/test_replication.py).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import duckdb

from pipeline.core.codebook import PLATFORMS, STAGES
from tests.support import REPO

CODEBOOK = REPO / "docs" / "codebook.md"
EXAMPLE = re.compile(r"\(https://(?P<site>[a-z.]+)/q/(?P<id>\d+)\)\s+`gold: (?P<labels>[^`]*)`")
# Stages no question of the sample has as its primary stage: their examples have it as stage2.
SECONDARY_ONLY = {"fairness-bias", "monitoring"}


def _sections() -> dict[str, str]:
    """`### name` sections of the page: {name: text up to the next heading}."""
    parts = re.split(r"^#{2,3} (.+)$", CODEBOOK.read_text(encoding="utf-8"), flags=re.MULTILINE)
    return {name.strip(): body for name, body in zip(parts[1::2], parts[2::2])}


def _labels(span: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in span.split())


def _examples(text: str) -> list[tuple[str, int, dict[str, str]]]:
    return [(m["site"], int(m["id"]), _labels(m["labels"])) for m in EXAMPLE.finditer(text)]


def _gold() -> dict[tuple[str, int], dict[str, str]]:
    rows = {}
    for name in ("dev.csv", "train.csv"):
        with open(REPO / "data" / "gold" / name, newline="", encoding="utf-8") as handle:
            for r in csv.DictReader(handle):
                rows[(r["site"], int(r["post_id"]))] = r
    return rows


def test_every_example_carries_its_exact_gold_labels_and_is_a_question_of_the_sample(sample_db_path: Path) -> None:
    examples = _examples(CODEBOOK.read_text(encoding="utf-8"))
    assert len(examples) == 35 and len({(s, i) for s, i, _ in examples}) == 34
    gold = _gold()
    for site, post_id, shown in examples:
        row = gold[(site, post_id)]
        expected = {"platforms": ";".join(sorted(p for p in row["platforms"].split(";") if p)),
                    "ml": row["ml"], "stage": row["stage"]}
        if row["stage2"]:
            expected["stage2"] = row["stage2"]
        assert shown == expected, (site, post_id)
    con = duckdb.connect(str(sample_db_path), read_only=True)
    try:
        found = set(con.execute("SELECT site, id FROM posts WHERE post_type_id = 1").fetchall())
    finally:
        con.close()
    assert {(s, i) for s, i, _ in examples} <= found


def test_every_label_has_an_example_that_has_it() -> None:
    sections = _sections()
    for platform in PLATFORMS:
        assert any(platform in e["platforms"].split(";") for _, _, e in _examples(sections[platform])), platform
    assert all(e["platforms"] == "" for _, _, e in _examples(sections["No platform, although one is mentioned"]))
    assert {e["ml"] for _, _, e in _examples(sections["yes"])} == {"yes"}
    assert {e["ml"] for _, _, e in _examples(sections["no"])} == {"no"}
    for stage in STAGES:
        examples = [e for _, _, e in _examples(sections[stage])]
        primary = [e for e in examples if e["stage"] == stage]
        secondary = [e for e in examples if e.get("stage2") == stage]
        if stage in SECONDARY_ONLY:
            assert not primary and secondary and "as the secondary stage" in " ".join(sections[stage].split()), stage
        else:
            assert primary and len(primary) == len(examples), stage


def test_judgement_calls_and_the_gold_sets_are_written_up_and_linked() -> None:
    sections = _sections()
    calls = sections["4. Judgement calls"]
    for words in ("Spyder", "`deployment`", "`model-evaluation`", "`ml` = no", "`feature-engineering`"):
        assert words in calls
    gold = sections["5. How the gold sets were made"]
    assert "careful reading by language-model" in gold and "one question at a time" in gold
    assert "`data/gold/README.md`" in gold
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "[docs/codebook.md](docs/codebook.md)" in readme
