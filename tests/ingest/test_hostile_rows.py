"""Rows that used to reach the database and fail there with a traceback (issue 12 items 4 and 5):
repeated Ids, rows without a required attribute, rows beyond the row-size limit, a 10 MB cell in
a Data Explorer export. Each is now refused while parsing with the file and line (or loads), and
the database is left as it was.

Every input is a real file changed in one place, made in tmp_path: the 2024 cut in tests/data,
the sample's Data Explorer export chunks in tests/data/sede.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tests.ingest.test_bad_input import CUT, _lines, _refused, _site_file
from tests.support import TEST_DATA

from pipeline.ingest.load import ingest
from pipeline.ingest.unique import SeenIds
from pipeline.ingest.xmlrows import MAX_ROW_BYTES
from pipeline.steps import connect

PART1 = TEST_DATA / "sede" / "stackoverflow.com" / "part1.csv"


def test_a_repeated_id_is_refused_with_its_line(sample_db_copy: Path, tmp_path: Path) -> None:
    """Row 5 of the cut (Id 17) again as line 10: refused at line 10, not loaded twice (which
    made `stackmine text` fail on its primary key)."""
    lines = _lines(CUT.read_bytes())
    assert b'<row Id="17" ' in lines[4]
    data = b"".join(lines[:9] + [lines[4]] + lines[9:])
    _refused(sample_db_copy, _site_file(tmp_path, data), 10, r"line 10: Id 17 is repeated \(an earlier row of the file")


def test_a_repeated_id_far_apart_is_found(sample_db_copy: Path, tmp_path: Path) -> None:
    """The first row again as the last one, in another chunk of a 3 MB file (the cut's rows
    renumbered 40 times, as the kill -9 test makes a big file)."""
    lines = _lines(CUT.read_bytes())
    rows = b"".join(lines[2:-1])
    body = b"".join(re.sub(rb'<row Id="(\d+)"', lambda m: b'<row Id="%d"' % (int(m.group(1)) + copy * 10**6), rows)
                    for copy in range(400))
    data = lines[0] + lines[1] + body + lines[2] + lines[-1]
    assert len(data) > 2 * (2 << 20)  # several chunks
    line = 2 + 400 * 30 + 1
    _refused(sample_db_copy, _site_file(tmp_path, data), line, rf"line {line}: Id 6 is repeated")


def test_seen_ids_finds_the_first_repeat_in_file_order() -> None:
    seen = SeenIds()
    assert seen.first_repeat(np.array([5, 3, 9, -1], dtype=np.int64)) is None
    assert seen.first_repeat(np.array([10, 11, 11, 3], dtype=np.int64)) == 2  # the later 11, before 3
    seen = SeenIds()
    assert seen.first_repeat(np.array([-1, 2**40], dtype=np.int64)) is None  # not in the bitmap
    assert seen.bits.size < 1 << 20
    assert seen.first_repeat(np.array([7, 2**40], dtype=np.int64)) == 1
    assert seen.first_repeat(np.array([-1], dtype=np.int64)) == 0


@pytest.mark.parametrize(("attribute", "line"), [("Id", 6), ("PostTypeId", 7), ("CreationDate", 8)])
def test_a_row_without_a_required_attribute_is_refused(sample_db_copy: Path, tmp_path: Path,
                                                       attribute: str, line: int) -> None:
    lines = _lines(CUT.read_bytes())
    lines[line - 1], count = re.subn(rb' %s="[^"]*"' % attribute.encode(), b"", lines[line - 1])
    assert count == 1
    _refused(sample_db_copy, _site_file(tmp_path, b"".join(lines)), line,
             rf"line {line}: row has no {attribute} attribute \(every Posts row needs one\)")


def test_an_empty_row_is_refused(sample_db_copy: Path, tmp_path: Path) -> None:
    lines = _lines(CUT.read_bytes())
    lines[3] = b"  <row />\r\n"
    _refused(sample_db_copy, _site_file(tmp_path, b"".join(lines)), 4, r"line 4: row has no Id attribute")


def test_an_export_row_without_a_required_value_is_refused(sample_db_copy: Path, tmp_path: Path) -> None:
    """A data row of part 1 with an empty CreationDate: file line of the row, not a constraint error."""
    data = PART1.read_bytes()
    old = b'"72268164","1","72269601","","2022-05-17 04:19:55"'
    assert data.count(old) == 1
    path = tmp_path / "stackoverflow.com" / "export.csv"
    path.parent.mkdir()
    path.write_bytes(data.replace(old, b'"72268164","1","72269601","",""'))
    line = 1 + data[: data.index(old)].count(b"\n")
    _refused(sample_db_copy, path, line, r"data row \d+: row has no CreationDate attribute")


def _with_long_body(size: int) -> bytes:
    """The cut with row 5's Body made `size` bytes by repeating its own text."""
    lines = _lines(CUT.read_bytes())
    found = re.search(rb'Body="([^"]*)"', lines[4])
    body = found.group(1) * (size // len(found.group(1)) + 1)
    body = body[: body.rfind(b";", 0, size) + 1]  # end on a whole reference
    lines[4] = lines[4][: found.start(1)] + body + lines[4][found.end(1):]
    return b"".join(lines)


def test_a_row_longer_than_the_limit_is_refused(sample_db_copy: Path, tmp_path: Path) -> None:
    _refused(sample_db_copy, _site_file(tmp_path, _with_long_body(MAX_ROW_BYTES + (1 << 20))), 5,
             r"line 5: a row longer than 16 MiB")


def test_a_row_just_under_the_limit_loads(tmp_path: Path) -> None:
    data = _with_long_body(MAX_ROW_BYTES - (64 << 10))
    con = connect(tmp_path / "db.duckdb")
    try:
        ingest(con, [_site_file(tmp_path, data)])
        # 16 MiB of XML, entities (&lt;p&gt; ...) included: about 12 million characters once read
        assert con.execute("SELECT max(length(body)) > 10000000, count(*) FROM posts").fetchone() == (True, 30)
    finally:
        con.close()


def _export_with_cell(tmp_path: Path, size: int) -> tuple[Path, int]:
    """Part 1 with data row 1's Body made `size` characters by repeating its own text."""
    rows = list(csv.reader(io.StringIO(PART1.read_text(encoding="utf-8"), newline="")))
    body = rows[1][8]
    rows[1][8] = (body * (size // len(body) + 1))[:size]
    path = tmp_path / "stackoverflow.com" / "export.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as out:
        csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    return path, len(rows[1][8])


def test_an_export_with_a_10_mb_cell_loads(tmp_path: Path) -> None:
    """pyarrow read it in 4 MB blocks and failed ("try to increase block size"); now the file is
    read again with blocks that hold any row up to the limit."""
    path, length = _export_with_cell(tmp_path, 10 << 20)
    con = connect(tmp_path / "db.duckdb")
    try:
        ingest(con, [path])
        assert con.execute("SELECT count(*), max(length(body)) FROM posts").fetchone() == (30, length)
        assert con.execute("SELECT rows FROM dumps").fetchall() == [(30,)]
    finally:
        con.close()


def test_an_export_row_longer_than_the_limit_is_refused(sample_db_copy: Path, tmp_path: Path) -> None:
    path, _ = _export_with_cell(tmp_path, 20 << 20)
    _refused(sample_db_copy, path, 2, r"line 2: data row 1 is longer than 16 MiB")


@pytest.mark.slow  # writes a 200 MB file and runs a real `stackmine ingest`
def test_memory_stays_flat_on_a_200_mb_line(sample_db_copy: Path, tmp_path: Path) -> None:
    """A single 200 MB line used to be read whole (and copied again and again) before failing:
    now reading stops after the limit, so peak memory is the same as for the 16 MiB row that loads."""
    folder = _site_file(tmp_path, _with_long_body(200 << 20))
    # VmHWM, the peak resident memory of this program (ru_maxrss would count the forking test
    # process's memory too: Linux keeps it across exec)
    probe = ("import re, sys; from flows.cli import main; sys.argv[0] = 'stackmine'\n"
             "try:\n    main()\nfinally:\n"
             "    peak = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)\n"
             "    print('maxrss', peak, file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", probe, "ingest", str(folder), "--db", str(sample_db_copy)],
                          capture_output=True, text=True, timeout=600)
    assert "line 5: a row longer than 16 MiB" in done.stderr
    peak_kb = int(re.search(r"maxrss (\d+)", done.stderr).group(1))
    assert peak_kb < 450_000, peak_kb  # measured 328 MB; the imports alone take about 320 MB
