"""Generate a Stack Overflow-shaped dump folder for the rehearsal (issue 14): all eight files, in
Stack Overflow's row proportions, from real rows, fast. The output is never committed.

    .venv/bin/python bench/generate_so.py /scratch/so-rehearsal --questions 2000000   # about 12 GB
    .venv/bin/python bench/generate_so.py /tmp/so-small --questions 20000             # about 120 MB

Rows per file are Stack Overflow's (2024 dump, rounded; `SO_ROWS`) scaled by --questions / 24M.
Each row is a real row used as a template: questions are the 1,475 real Stack Overflow questions
of the bundled SEDE export (so text and classify see real bodies, code and tags), everything
else is the real rows of the bundled ai.stackexchange.com dump. Only the numbers that tie rows
together change: ids count up; ParentId, PostId, RelatedPostId, UserId, OwnerUserId point at
existing posts and users, so joins behave. Templates are split once into a format string, so a
row costs one str.format (about 1 µs): one process per file, the two largest split in parts;
about 150-300 MB/s on 2 cores, disk-bound beyond. Seeded: the same arguments give the same bytes.
"""

from __future__ import annotations

import argparse
import csv
import html
import os
import re
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import py7zr
from py7zr.io import BytesIOFactory

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "data" / "sample"
SO_QUESTIONS = 24_000_000
# Stack Overflow's rows per dump file, 2024 (rounded; the proportions are what matter).
SO_ROWS = {"Posts": 59_800_000, "Users": 22_500_000, "Comments": 90_400_000, "Votes": 238_000_000,
           "Badges": 51_300_000, "PostHistory": 158_000_000, "PostLinks": 7_900_000, "Tags": 65_600}
QUESTION_SHARE = SO_QUESTIONS / SO_ROWS["Posts"]
# Attributes that point at other rows, and the id space each points into.
REFERENCES = {"ParentId": "Posts", "PostId": "Posts", "RelatedPostId": "Posts", "AcceptedAnswerId": "Posts",
              "UserId": "Users", "OwnerUserId": "Users", "LastEditorUserId": "Users",
              "ExcerptPostId": "Posts", "WikiPostId": "Posts"}
NUMBER = re.compile(r'(?<= )(Id|ParentId|PostId|RelatedPostId|AcceptedAnswerId|UserId|OwnerUserId|'
                    r'LastEditorUserId|ExcerptPostId|WikiPostId)="-?\d+"')
PART_ROWS = 5_000_000  # rows per generator task: the two largest files are split in parts


def _ai_rows() -> dict[str, list[str]]:
    factory = BytesIOFactory(limit=1 << 30)
    with py7zr.SevenZipFile(SAMPLE / "ai.stackexchange.com.7z") as archive:
        archive.extractall(factory=factory)
    rows = {}
    for name, product in factory.products.items():
        lines = product.read().decode("utf-8-sig").splitlines()
        rows[Path(name).stem] = [line for line in lines if line.lstrip().startswith("<row ")]
    return rows


def _so_questions() -> list[str]:
    """The SEDE export's questions as dump rows (attribute-escaped, tags in the `<a><b>` form)."""
    csv.field_size_limit(1 << 30)
    rows = []
    with open(SAMPLE / "stackoverflow.com" / "data-science-questions-2022.csv", newline="", encoding="utf-8-sig") as f:
        for r in csv.DictReader(f):
            attrs = {"Id": r["Id"], "PostTypeId": "1", "CreationDate": r["CreationDate"].replace(" ", "T") + ".000",
                     "Score": r["Score"], "ViewCount": r["ViewCount"], "Body": r["Body"],
                     "OwnerUserId": r["OwnerUserId"] or "1", "LastActivityDate": r["LastActivityDate"].replace(" ", "T") + ".000",
                     "Title": r["Title"], "Tags": r["Tags"], "AnswerCount": r["AnswerCount"] or "0",
                     "CommentCount": r["CommentCount"] or "0", "ContentLicense": r["ContentLicense"]}
            text = " ".join(f'{k}="{_escape(v)}"' for k, v in attrs.items() if v)
            rows.append(f"  <row {text} />")
    return rows


def _escape(value: str) -> str:
    return html.escape(value, quote=True).replace("&#x27;", "'").replace("\r", "&#xD;").replace("\n", "&#xA;")


def _template(row: str) -> tuple[str, list[str]]:
    """(format string, the attribute behind each placeholder) of a row: numbers that tie rows
    together become placeholders, every other brace is escaped."""
    names: list[str] = []

    def hole(match: re.Match) -> str:
        names.append(match.group(1))
        return f'{match.group(1)}="\x00{len(names) - 1}\x01"'

    marked = NUMBER.sub(hole, row).replace("{", "{{").replace("}", "}}")
    return marked.replace("\x00", "{").replace("\x01", "}"), names


def _write_part(args: tuple) -> tuple[str, int, int]:
    """One task: rows [first, stop) of one file into `path` (appending after the header)."""
    path, file, templates, first, stop, counts = args
    compiled = [_template(t) for t in templates]
    root = file.lower()
    started, size = time.monotonic(), 0
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        if first == 0:
            out.write(f'\ufeff<?xml version="1.0" encoding="utf-8"?>\n<{root}>\n')
        block: list[str] = []
        for i in range(first, stop):
            fmt, names = compiled[i % len(compiled)]
            block.append(fmt.format(*(_reference(name, i, counts) for name in names)))
            if len(block) == 10_000:
                text = "\n".join(block) + "\n"
                size += out.write(text)
                block = []
        if block:
            size += out.write("\n".join(block) + "\n")
        if stop == counts[file]:
            out.write(f"</{root}>\n")
    return path, stop - first, size


def _reference(name: str, i: int, counts: dict[str, int]) -> int:
    """Id of row i for `Id`; otherwise an existing id of the file it points into (seeded by i)."""
    if name == "Id":
        return i + 1
    space = counts[REFERENCES[name]]
    if name == "ParentId":  # an answer's question: one of the earlier rows
        return max(1, (i * 2654435761) % max(i, 1))
    return (i * 2654435761 + len(name)) % space + 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="example: .venv/bin/python bench/generate_so.py /tmp/so-small --questions 20000")
    parser.add_argument("out", type=Path, help="folder to create (a site folder named stackoverflow.com goes in it)")
    parser.add_argument("--questions", type=int, default=2_000_000)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    scale = args.questions / SO_QUESTIONS
    counts = {file: max(1, round(rows * scale)) for file, rows in SO_ROWS.items()}
    ai, so = _ai_rows(), _so_questions()
    answers = [row for row in ai["Posts"] if 'PostTypeId="2"' in row]
    # Posts: questions and answers interleaved in Stack Overflow's proportion (2 in 5 are questions).
    per_five = round(5 * QUESTION_SHARE)
    posts = [so[k % len(so)] if k % 5 < per_five else answers[k % len(answers)] for k in range(5 * len(so))]
    templates = {**ai, "Posts": posts}
    site = args.out / "stackoverflow.com"
    site.mkdir(parents=True, exist_ok=False)
    tasks = []
    for file, rows in counts.items():
        for first in range(0, rows, PART_ROWS):
            tasks.append((str(site / f"{file}.xml.part{first // PART_ROWS:04d}"), file, templates[file],
                          first, min(first + PART_ROWS, rows), counts))
    started = time.monotonic()
    with ProcessPoolExecutor(args.processes) as pool:
        list(pool.map(_write_part, tasks))
    for file in counts:  # parts are concatenated in order (a rename when there is one)
        parts = sorted(site.glob(f"{file}.xml.part*"))
        target = site / f"{file}.xml"
        parts[0].rename(target)
        with open(target, "ab") as out:
            for part in parts[1:]:
                with open(part, "rb") as source:
                    while block := source.read(16 << 20):
                        out.write(block)
                part.unlink()
    total = sum((site / f"{file}.xml").stat().st_size for file in counts)
    seconds = time.monotonic() - started
    print(f"{site}: {sum(counts.values()):,} rows, {total / 1e9:.2f} GB in {seconds:.0f} s "
          f"({total / 1e6 / seconds:.0f} MB/s); questions about {round(counts['Posts'] * QUESTION_SHARE):,}")
    for file, rows in counts.items():
        print(f"  {file:<12} {rows:>12,} rows  {(site / f'{file}.xml').stat().st_size / 1e6:>10,.0f} MB")


if __name__ == "__main__":
    main()
