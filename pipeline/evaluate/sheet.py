"""Read a coded blind sheet (`coding_sample.csv` of `stackmine export --sample`, filled in by two coders).

The sheet has one row per question: `site`, `post_id`, what the coders read, and for each coder
`coderN_platforms`, `coderN_ml`, `coderN_stage`, `coderN_stage2`, `coderN_note` (N = 1, 2). A coder
who left `coderN_ml` empty did not code that question (a missing code, never a "no"). Codes follow
the codebook (docs/codebook.md): platforms `;`-separated (empty or `none`: no platform), ml `yes` or
`no`, a primary stage from the 15 when ml is yes (empty or `none` when no), an optional different
secondary stage.

Every problem is a `CodingSheetError` naming the file, the line the row starts on (rows may span
lines: bodies hold newlines), the column and value, and what to write instead. The whole sheet is
checked before anything uses it.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from pipeline.core.codebook import NO_STAGE, PLATFORMS, STAGES
from pipeline.core.errors import StackmineError

CODERS = (1, 2)
FIELDS = ("platforms", "ml", "stage", "stage2", "note")
REQUIRED = ("site", "post_id") + tuple(f"coder{c}_{f}" for c in CODERS for f in FIELDS)
YES, NO = ("yes", "y", "true", "1"), ("no", "n", "false", "0")


class CodingSheetError(StackmineError, ValueError):
    """A coded sheet that cannot be read: the file, the line, what is wrong and what to write instead."""

    def __init__(self, path: str, line: int | None, problem: str, hint: str) -> None:
        self.path, self.line, self.problem, self.hint = path, line, problem, hint
        where = f"{path}, line {line}" if line else path
        super().__init__(f"{where}: {problem}\n  What to fix: {hint}\n  Nothing was loaded.")

    def __reduce__(self):
        return (type(self), (self.path, self.line, self.problem, self.hint))


@dataclass(frozen=True)
class Code:
    """One coder's codes of one question (codebook labels)."""

    platforms: tuple[str, ...]  # sorted; empty = not a notebook question
    ml: bool
    stage: str  # 'none' when ml is False
    stage2: str | None
    note: str | None

    @property
    def notebook(self) -> bool:
        return bool(self.platforms)


@dataclass(frozen=True)
class CodedQuestion:
    """One row of a coded sheet: the question, the line its row starts on, and each coder's codes
    (a coder who did not code it is absent)."""

    site: str
    post_id: int
    line: int
    codes: dict[int, Code]


@dataclass(frozen=True)
class CodedSheet:
    """A checked sheet: where it came from (name and SHA-256 of its bytes) and its rows."""

    name: str
    sha256: str
    questions: list[CodedQuestion]

    def coded_by(self, coder: int) -> int:
        return sum(coder in q.codes for q in self.questions)


def read_sheet(path: Path, name: str | None = None) -> CodedSheet:
    """Read and check the coded sheet at `path` (raises CodingSheetError)."""
    shown = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise CodingSheetError(shown, None, f"cannot be read ({exc.strerror or exc})",
                               "give the path of the coded coding_sample.csv") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CodingSheetError(shown, line, "is not UTF-8 text",
                               "save the sheet as CSV UTF-8 (comma-separated)") from None
    questions = parse(shown, text)
    return CodedSheet(name or Path(path).name, hashlib.sha256(data).hexdigest(), questions)


def parse(path: str, text: str) -> list[CodedQuestion]:
    """The checked rows of a sheet's text; `path` names it in errors."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header:
        raise CodingSheetError(path, 1, "is empty", "code the sheet `stackmine export NAME --sample N` wrote")
    columns = _columns(path, header)
    out: list[CodedQuestion] = []
    seen: dict[tuple[str, int], int] = {}
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise CodingSheetError(path, line, f"is not valid CSV ({exc})",
                                   "check the quotes around this row's cells; save again as CSV") from None
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise CodingSheetError(path, line, f"has {len(row)} cells where the header has {len(header)}",
                                   "keep one cell per column (quote cells that contain commas)")
        question = _question(path, line, dict(zip(columns, row)))
        if question.key() in seen:
            raise CodingSheetError(path, line, f"codes {question.site} {question.post_id} again "
                                               f"(already on line {seen[question.key()]})",
                                   "keep one row per question: merge the two rows")
        seen[question.key()] = line
        out.append(question.done())
    if not any(q.codes for q in out):
        raise CodingSheetError(path, None, "no question is coded",
                               "fill coder1_ml / coder2_ml (yes or no), and the other code columns, for the "
                               "questions each coder read")
    return out


def _columns(path: str, header: list[str]) -> list[str]:
    names = [h.strip().lstrip("\ufeff") for h in header]
    missing = [c for c in REQUIRED if c not in names]
    if not missing:
        return names
    if len(names) == 1 and ";" in names[0]:
        hint = "save it as comma-separated CSV (this file separates cells with ';')"
    elif "coder" in names or "code_ml" in names:
        hint = ("this is the labelled sheet (coding_sample_with_labels.csv); code the blind coding_sample.csv, "
                "which has two coders' columns")
    else:
        hint = "code the blind coding_sample.csv that `stackmine export NAME --sample N` wrote, keeping its header"
    raise CodingSheetError(path, 1, f"lacks the columns {', '.join(missing)}", hint)


@dataclass
class _Row:
    site: str
    post_id: int
    line: int
    codes: dict[int, Code]

    def key(self) -> tuple[str, int]:
        return (self.site, self.post_id)

    def done(self) -> CodedQuestion:
        return CodedQuestion(self.site, self.post_id, self.line, self.codes)


def _question(path: str, line: int, row: dict[str, str]) -> _Row:
    site = row["site"].strip()
    if not site:
        raise CodingSheetError(path, line, "has an empty site", "keep the site the sheet was written with")
    try:
        post_id = int(row["post_id"].strip())
    except ValueError:
        raise CodingSheetError(path, line, f"post_id {row['post_id']!r} is not a number",
                               "keep the post_id the sheet was written with") from None
    codes = {}
    for coder in CODERS:
        code = _code(path, line, coder, {f: row[f"coder{coder}_{f}"].strip() for f in FIELDS})
        if code is not None:
            codes[coder] = code
    return _Row(site, post_id, line, codes)


def _code(path: str, line: int, coder: int, cells: dict[str, str]) -> Code | None:
    """One coder's codes of a row, or None when the coder left it (ml, platforms, stages) empty."""
    col = f"coder{coder}_"

    def fail(field: str, problem: str, hint: str):
        raise CodingSheetError(path, line, f"{col}{field} {problem}", hint)

    if not cells["ml"]:
        filled = [f for f in ("platforms", "stage", "stage2") if cells[f]]
        if filled:
            fail("ml", f"is empty but {col}{filled[0]} is filled", f"write yes or no in {col}ml, or empty the row's "
                 f"{col}* cells if coder {coder} did not code this question")
        return None
    value = cells["ml"].lower()
    if value not in YES + NO:
        fail("ml", f"is {cells['ml']!r}", "write yes or no")
    ml = value in YES
    platforms = tuple(sorted({p.strip().lower() for p in cells["platforms"].replace(",", ";").split(";")}
                             - {"", "none"}))
    unknown = [p for p in platforms if p not in PLATFORMS]
    if unknown:
        fail("platforms", f"has {unknown[0]!r}", f"use the codebook's platforms, ';'-separated: {', '.join(PLATFORMS)} "
             "(empty or none: no notebook platform)")
    stage = cells["stage"].lower()
    stage2 = cells["stage2"].lower()
    if not ml:
        for field, given in (("stage", stage), ("stage2", stage2)):
            if given not in ("", NO_STAGE):
                fail(field, f"is {given!r} but {col}ml is no",
                     f"a question outside ML has no stage: empty {col}{field} (or write none), or make {col}ml yes")
        return Code(platforms, False, NO_STAGE, None, cells["note"] or None)
    if stage in ("", NO_STAGE):
        fail("stage", "is empty but ml is yes", f"give the primary stage, one of: {', '.join(STAGES)}")
    for field, given in (("stage", stage), ("stage2", stage2)):
        if given not in ("", NO_STAGE) and given not in STAGES:
            fail(field, f"is {given!r}, not a codebook stage", f"use one of: {', '.join(STAGES)}")
    if stage2 == stage:
        fail("stage2", f"repeats the primary stage {stage!r}", f"leave {col}stage2 empty or give another stage")
    return Code(platforms, True, stage, stage2 if stage2 not in ("", NO_STAGE) else None, cells["note"] or None)
