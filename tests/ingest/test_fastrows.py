"""The compiled tokenizer (pipeline/fastrows.py) against lxml: same strings, or it steps aside.

Two promises are tested. On every real dump file (committed cuts, the bundled sample and, with
../shared, all six eras), every chunk takes the fast path and yields exactly lxml's strings. On
crafted rows, each case is either read identically by both, or the fast path gives up (None) and
lxml decides: it reads the row, or it raises the error the user sees.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipeline.ingest.columns import TableSpec
from pipeline.steps import ensure_tables
from pipeline.ingest.dumpfiles import KIND_7Z, KIND_CSV, archive_members, discover, open_plain
from pipeline.ingest.fastrows import fast_strings
from pipeline.ingest.load import table_specs
from pipeline.ingest.xmlrows import Chunk, RowsError, chunk_table, chunks, lxml_strings
from tests.support import SAMPLE, SHARED_DATA, TEST_DATA


@pytest.fixture(scope="module")
def specs() -> dict[str, TableSpec]:
    con = duckdb.connect()
    ensure_tables(con)
    return table_specs(con)


def _file_chunks(source: Path) -> Iterator[tuple[str, str, Chunk]]:
    """(label, dump file, chunk) for every XML dump file under `source`."""
    for dump_file in discover([source]):
        if dump_file.kind == KIND_CSV:
            continue
        if dump_file.kind == KIND_7Z:
            with archive_members(dump_file.source) as members:
                for name, reader in members:
                    if name == dump_file.member.rsplit("/", 1)[-1]:
                        yield from ((dump_file.label, dump_file.file, c) for c in chunks(reader, dump_file.file))
        else:
            with open_plain(dump_file.source) as handle:
                yield from ((dump_file.label, dump_file.file, c) for c in chunks(handle, dump_file.file))


def _assert_all_fast_and_equal(source: Path, specs: dict[str, TableSpec]) -> int:
    seen = rows = 0
    for label, file, chunk in _file_chunks(source):
        rows += chunk.data.count(b"<row ")  # counted independently of both parsers
        fast = fast_strings(chunk.data, specs[file])
        assert fast is not None, f"{label}: chunk at line {chunk.first_line} left the fast path"
        slow = lxml_strings(chunk, specs[file])
        for attribute, values in slow.items():
            assert fast[attribute].equals(values), f"{label}: {attribute} differs (chunk at line {chunk.first_line})"
        seen += len(next(iter(slow.values())))
    assert seen == rows
    return seen


def test_bundled_sample_and_cuts_take_the_fast_path_with_lxmls_strings(specs: dict[str, TableSpec]) -> None:
    rows = _assert_all_fast_and_equal(SAMPLE / "ai.stackexchange.com.7z", specs)
    rows += _assert_all_fast_and_equal(TEST_DATA / "datascience.meta.stackexchange.com", specs)
    rows += _assert_all_fast_and_equal(TEST_DATA / "meta.mathoverflow.net", specs)
    assert rows == 25_326  # every row of the sample's eight files and of both cuts


@pytest.mark.shared
@pytest.mark.parametrize("era", ["2013-09", "2014-09", "2016-12", "2017-03", "2023-09", "2024-01"])
def test_every_real_dump_era_takes_the_fast_path_with_lxmls_strings(era: str, specs: dict[str, TableSpec]) -> None:
    assert _assert_all_fast_and_equal(SHARED_DATA / "dumps" / era, specs) > 0


def _posts(*rows: bytes) -> Chunk:
    return Chunk(7, b"".join(rows))


# Rows both paths must read, to the same strings.
SAME = {
    "predefined entities": b'  <row Id="1" Body="&lt;p&gt;a &amp;amp; b &quot;c&quot; &apos;d&apos;&lt;/p&gt;" />\n',
    "character references": b'  <row Id="2" Body="&#65;&#x42;&#x1F600;&#xA;&#xD;&#9;&#38;" />\n',
    "raw UTF-8 and a raw tab": "  <row Id=\"3\" Title=\"caf\u00e9 \U0001f600 \u00a0 x\ty\" />\n".encode(),
    "raw > in a value": b'  <row Id="4" Body="a > b" />\n',
    "no space before />, CR LF line end": b'  <row Id="5" Title="t"/>\r\n',
    "blank lines, many spaces, any order": b'\n  <row   Title="t"  Id="6"   />  \n\n',
    "missing attributes": b'  <row Id="7" />\n  <row Id="8" Score="3" />\n',
}

# Rows the fast path leaves to lxml, which reads them.
LXML_READS = {
    "newline inside a value": b'  <row Id="1" Body="a\nb" />\n',
    "single quotes": b"  <row Id='1' />\n",
    "spaces around =": b'  <row Id = "1" />\n',
    "an attribute not in the schema": b'  <row Id="1" Shiny="yes" />\n',
    "two rows on a line": b'  <row Id="1" /><row Id="2" />\n',
    "a comment line": b'  <!-- note -->\n  <row Id="1" />\n',
}

# Rows that are not well-formed XML (or not XML characters): lxml raises, with the line.
LXML_REFUSES = {
    "repeated attribute": b'  <row Id="1" Id="2" />\n',
    "< in a value": b'  <row Id="1" Body="a < b" />\n',
    "undeclared entity": b'  <row Id="1" Body="&nbsp;" />\n',
    "reference to NUL": b'  <row Id="1" Body="&#0;" />\n',
    "reference to a surrogate": b'  <row Id="1" Body="&#xD800;" />\n',
    "reference past U+10FFFF": b'  <row Id="1" Body="&#x110000;" />\n',
    "reference to U+FFFE": b'  <row Id="1" Body="&#xFFFE;" />\n',
    "raw control character": b'  <row Id="1" Body="a\x01b" />\n',
    "byte that is not UTF-8": b'  <row Id="1" Body="caf\xe9" />\n',
    "overlong UTF-8": b'  <row Id="1" Body="\xc0\xaf" />\n',
    "UTF-8 surrogate": b'  <row Id="1" Body="\xed\xa0\x80" />\n',
    "raw U+FFFF": b'  <row Id="1" Body="\xef\xbf\xbf" />\n',
    "no space between attributes": b'  <row Id="1"Score="2" />\n',
}


@pytest.mark.parametrize("case", SAME)
def test_fast_path_reads_what_lxml_reads(case: str, specs: dict[str, TableSpec]) -> None:
    chunk = _posts(SAME[case])
    fast = fast_strings(chunk.data, specs["Posts"])
    assert fast is not None
    slow = lxml_strings(chunk, specs["Posts"])
    assert {a: v.to_pylist() for a, v in fast.items()} == {a: v.to_pylist() for a, v in slow.items()}


def test_decoded_values_are_exact(specs: dict[str, TableSpec]) -> None:
    """Not only equal to lxml: equal to what the references mean."""
    fast = fast_strings(SAME["character references"] + SAME["raw UTF-8 and a raw tab"], specs["Posts"])
    assert fast["Body"].to_pylist() == ["AB\U0001f600\n\r\t&", None]
    assert fast["Title"].to_pylist() == [None, "caf\u00e9 \U0001f600 \u00a0 x y"]


@pytest.mark.parametrize("case", LXML_READS)
def test_fast_path_steps_aside_and_lxml_reads(case: str, specs: dict[str, TableSpec]) -> None:
    chunk = _posts(LXML_READS[case])
    assert fast_strings(chunk.data, specs["Posts"]) is None
    table = chunk_table(chunk, specs["Posts"])  # the path ingest takes: falls back to lxml
    assert table.column("id").to_pylist()[0] == 1


def test_newline_in_a_value_is_normalised_to_a_space_by_the_fallback(specs: dict[str, TableSpec]) -> None:
    table = chunk_table(_posts(LXML_READS["newline inside a value"]), specs["Posts"])
    assert table.column("body").to_pylist() == ["a b"]


@pytest.mark.parametrize("case", LXML_REFUSES)
def test_fast_path_steps_aside_and_lxml_refuses_with_the_line(case: str, specs: dict[str, TableSpec]) -> None:
    chunk = _posts(b'  <row Id="9" />\n', LXML_REFUSES[case])
    assert fast_strings(chunk.data, specs["Posts"]) is None
    with pytest.raises(RowsError) as caught:
        chunk_table(chunk, specs["Posts"])
    assert caught.value.line == 8  # the chunk starts at line 7; the bad row is its second line


def test_unterminated_value_is_refused_where_lxml_notices_it(specs: dict[str, TableSpec]) -> None:
    chunk = _posts(b'  <row Id="9" />\n', b'  <row Id="1" Body="abc />\n')
    assert fast_strings(chunk.data, specs["Posts"]) is None
    with pytest.raises(RowsError) as caught:
        chunk_table(chunk, specs["Posts"])
    assert caught.value.line == 9  # the value runs on to the end of the chunk


def test_chunk_without_final_newline_is_left_to_lxml(specs: dict[str, TableSpec]) -> None:
    assert fast_strings(b'  <row Id="1" />', specs["Posts"]) is None


# Pieces spliced into real rows: XML's special characters, bytes that are not UTF-8 or not XML
# characters, half and whole references, attribute and element starts.
SPLICES = [b"<", b"&", b'"', b"'", b"\x00", b"\t", b"\n", b"\r", b";", b"#", b"x", b"\xc3", b"\xa9", b"\xff",
           b"\xed\xa0\x80", b">", b"/", b"=", b" ", b"&#", b"&#x", b"&amp;", b"&lt;", b"A", b"1",
           b"\xef\xbf\xbe", b"&#65", b"&#x1F600;", b"&#xD800;", b'Id="2" ', b"<row "]


def test_mutated_real_rows_read_like_lxml_or_go_to_lxml(specs: dict[str, TableSpec]) -> None:
    """Seeded fuzzing: 3,000 chunks of three real rows, one of them damaged by 1-3 random splices,
    deletions or overwrites. Whenever the fast path returns columns, lxml must read the chunk too,
    to the same strings; it must never accept what lxml refuses. (140,000 cases were run by hand.)"""
    rng = random.Random(20261122)
    lines = [line + b"\n" for line in (TEST_DATA / "meta.mathoverflow.net" / "Posts.xml").read_bytes().split(b"\n")
             if b"<row" in line]
    accepted = 0
    for _ in range(3000):
        rows = rng.sample(lines, 3)
        row = bytearray(rows[1])
        for _ in range(rng.randint(1, 3)):
            at, piece, how = rng.randrange(len(row)), rng.choice(SPLICES), rng.random()
            if how < 0.5:
                row[at:at] = piece
            elif how < 0.8:
                row[at:at + len(piece)] = piece
            else:
                del row[at:at + rng.randint(1, 4)]
        chunk = Chunk(1, rows[0] + bytes(row) + rows[2])
        fast = fast_strings(chunk.data, specs["Posts"])
        if fast is None:
            continue
        accepted += 1
        slow = lxml_strings(chunk, specs["Posts"])  # raises RowsError if lxml refuses: a failure here
        assert {a: v.to_pylist() for a, v in fast.items()} == {a: v.to_pylist() for a, v in slow.items()}
    assert accepted == 530  # damaged chunks that were still well-formed rows (the rest went to lxml)

