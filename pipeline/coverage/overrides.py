"""Reviewed corrections of the topic → stage mapping, read from a CSV.

Format (pipeline/coverage/rules/topic_stage_overrides.csv, UTF-8, header required):

    topic_model_id,topic_id,stage,stage2,reviewer,note
    3f2a9c0d1e4b5a67,4,environment,,ana,"kernel/install questions; members mislabelled as training"

- topic_model_id, topic_id: the topic as stored in `topics` (`stackmine topics` lists them);
  rows for other models are ignored, so one file can hold reviews of several models.
- stage: the codebook stage the topic is about (replaces the computed mapping); stage2: optional.
- reviewer: who decided (required); note: why (kept in `topic_stages.evidence`).
A model id changes when its input changes, so a review never silently applies to different topics.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from pathlib import Path

from pipeline.core.errors import StackmineError

COLUMNS = ("topic_model_id", "topic_id", "stage", "stage2", "reviewer", "note")


class OverrideFileError(StackmineError):
    """The topic-stage override CSV is malformed; says file, line and what to fix."""


@dataclass(frozen=True)
class Override:
    """One reviewed row."""

    path: str
    line: int
    topic_model_id: str
    topic_id: int
    stage: str
    stage2: str | None
    reviewer: str
    note: str

    def apply(self, computed: list) -> list:
        """The topic's rows after review: the reviewed stages first, the computed ones kept as evidence."""
        was = [{"stage": r.stage, "score": r.score} for r in computed]
        evidence = {"override": {"reviewer": self.reviewer, "note": self.note, "file": self.path, "line": self.line},
                    "computed": was}
        template = computed[0]
        rows = [replace(template, rank=1, stage=self.stage, score=1.0, source="override", evidence=evidence)]
        if self.stage2:
            rows.append(replace(template, rank=2, stage=self.stage2, score=0.5, source="override", evidence=evidence))
        return rows


def read_overrides(path: Path, stages: tuple[str, ...]) -> list[Override]:
    """Parse and check the CSV; a bad row raises OverrideFileError naming its line."""
    path = Path(path)
    if not path.is_file():
        raise OverrideFileError(f"{path}: no such override file. Pass an existing CSV to --overrides.")
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise OverrideFileError(f"{path}, line 1: header must be {','.join(COLUMNS)}, found {reader.fieldnames}")
        return [_row(path, reader.line_num, rec, stages) for rec in reader]


def _row(path: Path, line: int, rec: dict, stages: tuple[str, ...]) -> Override:
    def fail(problem: str) -> OverrideFileError:
        return OverrideFileError(f"{path}, line {line}: {problem}. Fix the row; the database was not changed.")

    if not rec["topic_id"].lstrip("-").isdigit():
        raise fail(f"topic_id {rec['topic_id']!r} is not an integer")
    for column in ("stage", "stage2"):
        value = rec[column].strip()
        if (value or column == "stage") and value not in stages:
            raise fail(f"{column} {value!r} is not a codebook stage (one of: {', '.join(stages)})")
    if not rec["reviewer"].strip():
        raise fail("reviewer is empty; say who reviewed the topic")
    return Override(str(path), line, rec["topic_model_id"].strip(), int(rec["topic_id"]), rec["stage"].strip(),
                    rec["stage2"].strip() or None, rec["reviewer"].strip(), rec["note"].strip())
