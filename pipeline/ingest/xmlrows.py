"""Read a dump XML stream safely, in line-aligned chunks that worker threads parse in parallel.

Every `<row .../>` of a Stack Exchange dump sits on its own line, so a file can be cut at line
boundaries and each piece parsed as `<rows>piece</rows>` on any core. The prolog (declaration and
root tag) is checked here once: a DTD is refused outright, which is what makes entity attacks
(billion laughs, external entities) impossible: with no DTD no entity can be declared, and the
parser runs with DTD loading and network access off in any case (it resolves only XML's five
predefined entities, which it must: see _parser).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import pyarrow as pa
from lxml import etree

from pipeline.ingest.columns import BadValue, TableSpec, newest_date, to_table
from pipeline.ingest.fastrows import fast_strings

BLOCK_BYTES = 2 << 20  # chunk size handed to a worker thread: amortises per-chunk work, small for RAM
# The longest row (one line) accepted. The longest rows of real dumps are posts and revisions of
# about 30,000 characters (Stack Exchange caps a body there; 29,097 bytes in ../shared/data):
# 16 MiB is hundreds of times that, small enough that a row is parsed and loaded within ingest's
# memory cap (the DuckDB buffer of load.LOAD_SETTINGS), and it keeps memory flat: without it a
# file with no line breaks would be read whole into memory before anything could be said.
MAX_ROW_BYTES = 16 << 20
ROOTS = {
    "posts": "Posts", "users": "Users", "comments": "Comments", "tags": "Tags",
    "postlinks": "PostLinks", "posthistory": "PostHistory", "votes": "Votes", "badges": "Badges",
}
_PROLOG = re.compile(rb"\s*(<\?xml(?P<decl>[^>]*)\?>)?\s*<(?P<root>[A-Za-z]+)\s*(?P<empty>/?)>")
_ENCODING = re.compile(rb"""encoding\s*=\s*["']([^"']+)["']""")
_BOMS = {b"\xff\xfe": "UTF-16 (little-endian)", b"\xfe\xff": "UTF-16 (big-endian)"}


class RowsError(Exception):
    """A problem at a line of the stream; the caller adds the file name (a DumpError)."""

    def __init__(self, line: int | None, problem: str, hint: str) -> None:
        super().__init__(problem)
        self.line, self.problem, self.hint = line, problem, hint


@dataclass(frozen=True)
class Chunk:
    """Whole row lines of a dump file; `first_line` is the file line number of the first."""

    first_line: int
    data: bytes


def read_prolog(head: bytes, expected_file: str) -> tuple[int, int, bool]:
    """Check the start of a dump; return (offset of the first row line, its line number, empty).

    Refuses, with the reason, anything that is not a UTF-8 Stack Exchange dump of the expected
    file: another format, another encoding, a DTD (entity declarations), a different root.
    """
    fix = "use the unmodified UTF-8 XML file from the Stack Exchange dump (re-download it)"
    for bom, name in _BOMS.items():
        if head.startswith(bom):
            raise RowsError(1, f"file is encoded as {name}; dumps are UTF-8", fix)
    start = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    if head[start:start + 256].lstrip()[:1] != b"<":
        raise RowsError(1, f"not a Stack Exchange XML dump (starts with {head[start:start + 16]!r})", fix)
    if b"\x00" in head[:4096]:
        raise RowsError(1, "file contains NUL bytes: not UTF-8 text (UTF-16/32 or binary)", fix)
    if re.search(rb"<!(DOCTYPE|ENTITY)", head[start:start + 65536]):
        raise RowsError(_line_of(head, head.find(b"<!")), "refused: the XML declares a DTD/entities "
                        "(an entity-expansion or external-entity attack, or not a dump)", fix)
    found = _PROLOG.match(head, start)
    if not found:
        raise RowsError(1, f"not a Stack Exchange XML dump (starts with {head[start:start + 16]!r})", fix)
    encoding = _ENCODING.search(found.group("decl") or b"")
    if encoding and encoding.group(1).lower() not in (b"utf-8", b"utf8"):
        raise RowsError(1, f"declares encoding {encoding.group(1).decode('ascii', 'replace')}; "
                        "dumps are UTF-8", fix)
    root = found.group("root").decode("ascii")
    if ROOTS.get(root.lower()) != expected_file:
        raise RowsError(_line_of(head, found.start("root")), f"root element <{root}> is not the "
                        f"<{expected_file.lower()}> of a {expected_file}.xml dump file", fix)
    line_end = head.find(b"\n", found.end())
    body = len(head) if line_end < 0 else line_end + 1
    return body, _line_of(head, body), bool(found.group("empty"))


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, max(offset, 0)) + 1


def chunks(stream: BinaryIO, expected_file: str, on_bytes=lambda data: None) -> Iterator[Chunk]:
    """Yield whole-line chunks of rows of `stream`; check the prolog first and the end last.

    `on_bytes` sees every byte read (for checksums and progress). Raises RowsError for a bad
    prolog and for a file that stops before its closing root tag (truncated download).
    """
    head = _read(stream, BLOCK_BYTES, on_bytes)
    if not head:
        raise RowsError(None, "empty file: not a dump", "re-download the dump file")
    offset, line, empty = read_prolog(head, expected_file)
    closing = f"</{expected_file.lower()}>".encode()
    pending = head[offset:]
    while True:
        block = _read(stream, BLOCK_BYTES, on_bytes)
        if not block:
            break
        pending += block
        cut = _row_boundary(pending)
        if cut > 0:
            _check_row_lengths(pending, cut, line)
            yield Chunk(line, pending[:cut])
            line += pending.count(b"\n", 0, cut)
            pending = pending[cut:]
        elif len(pending) > MAX_ROW_BYTES:
            raise too_long(line)
    _check_row_lengths(pending, len(pending), line)
    yield from _last_chunk(pending, line, closing, empty)


def _check_row_lengths(data: bytes, end: int, line: int) -> None:
    """Refuse a line of data[:end] (starting at file line `line`) longer than MAX_ROW_BYTES; only
    a piece that long can hold one, so ordinary chunks cost one comparison."""
    if end <= MAX_ROW_BYTES:
        return
    start = 0
    while start < end:
        stop = data.find(b"\n", start, end)
        stop = end if stop < 0 else stop
        if stop - start > MAX_ROW_BYTES:
            raise too_long(line)
        start, line = stop + 1, line + 1


def too_long(line: int) -> RowsError:
    """The refusal of a row longer than MAX_ROW_BYTES (`line` is where it starts)."""
    return RowsError(line, f"a row longer than {MAX_ROW_BYTES >> 20} MiB (the limit of a row; the "
                     "longest rows of real dumps are about 30 KB)",
                     "this is not an unmodified dump file: re-download or re-extract it")


def _read(stream: BinaryIO, size: int, on_bytes) -> bytes:
    data = stream.read(size)
    if data:
        on_bytes(data)
    return data


def _row_boundary(data: bytes) -> int:
    """Offset just after the last newline followed by `<row`: never inside a row, and never past
    the closing root tag, which must stay for the end-of-file check."""
    end = len(data)
    while True:
        cut = data.rfind(b"\n", 0, end)
        if cut < 0:
            return 0
        if data[cut + 1:cut + 64].lstrip().startswith(b"<row"):
            return cut + 1
        end = cut


def _last_chunk(pending: bytes, line: int, closing: bytes, empty: bool) -> Iterator[Chunk]:
    body = pending.rstrip()
    if empty:
        if body:
            raise RowsError(line, "content after the self-closed root element", "re-download the dump file")
        return
    if not body.endswith(closing):
        last = line + body.count(b"\n")
        raise RowsError(last, f"file ends before its closing {closing.decode()} (truncated: the "
                        "last row is cut off or missing)", "re-download or re-extract the dump file")
    rows = body[: -len(closing)]
    if rows.strip():
        yield Chunk(line, rows if rows.endswith(b"\n") else rows + b"\n")


class _Rows:
    """lxml parser target: collects each row's attribute dict without building a tree."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.rows: list[dict[str, str]] = []
        self.bad_tag: tuple[int, str] | None = None
        self.depth = 0

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        self.depth += 1
        if self.depth == 2 and tag == "row":
            self.rows.append(attrib)
        elif self.depth > 1 and self.bad_tag is None:
            self.bad_tag = (len(self.rows), tag)

    def end(self, tag: str) -> None:
        self.depth -= 1

    def close(self) -> list[dict[str, str]]:
        return self.rows


_PER_THREAD = threading.local()


def _parser() -> tuple[etree.XMLParser, _Rows]:
    # One parser per thread, reused: lxml leaks memory for every parser created and dropped, which over thousands of chunks breaks the flat-memory promise. Per thread, not per
    # process, because a parser is not thread-safe and flows may ingest sites on threads.
    if not hasattr(_PER_THREAD, "parser"):
        target = _Rows()
        # resolve_entities=True: with it off, libxml2's SAX mode hands `&amp;` over as the text
        # "&#38;" (every & in a title or body came out as &#38;). Safe: a DTD is refused by
        # read_prolog and cannot occur inside a chunk, so only XML's predefined entities exist.
        _PER_THREAD.parser = (etree.XMLParser(target=target, resolve_entities=True, no_network=True,
                                              load_dtd=False, huge_tree=False), target)
    return _PER_THREAD.parser


def parse_rows(chunk: Chunk) -> list[dict[str, str]]:
    """Attribute dicts of the rows of `chunk`; RowsError with the file line on any XML problem."""
    parser, target = _parser()
    target.reset()
    try:
        rows = etree.fromstring(b"<rows>\n" + chunk.data + b"</rows>", parser)
    except etree.XMLSyntaxError as exc:
        line = chunk.first_line + max(exc.lineno - 2, 0) if exc.lineno else None
        raise RowsError(line, _problem(exc), _fix_for(exc.msg)) from None
    if target.bad_tag is not None:
        index, tag = target.bad_tag
        raise RowsError(chunk.first_line + index, f"unexpected element <{tag}> (dump rows are <row .../>)",
                        "check that this is an unmodified Stack Exchange dump file")
    return rows


def _problem(exc: etree.XMLSyntaxError) -> str:
    # lxml appends the line within the chunk, which means nothing to the user: keep the column.
    message = re.sub(r", line \d+, column \d+$", "", exc.msg or "")
    where = f" (column {exc.position[1]})" if exc.position and exc.position[1] else ""
    if "encoding" in message.lower() or "UTF-8" in message:
        return f"bytes that are not valid UTF-8{where}: the file is in another encoding (e.g. Latin-1)"
    return f"malformed XML{where}: {message}"


def _fix_for(message: str) -> str:
    if "Entity" in message:
        return "dumps use only XML's five predefined entities; this file was altered or is not a dump"
    if "UTF-8" in message or "encoding" in message.lower():
        return "convert the file to UTF-8, or re-download the dump"
    return "re-download or re-extract the dump file; if it persists, report the line"


def lxml_strings(chunk: Chunk, spec: TableSpec) -> dict[str, pa.Array]:
    """String column per attribute of `spec` for the rows of `chunk`, through lxml (exact, slower)."""
    rows = parse_rows(chunk)
    count = len(rows)
    columns: dict[str, list[str | None]] = {a: [None] * count for a in spec.attributes}
    for index, attrib in enumerate(rows):
        for name, value in attrib.items():
            column = columns.get(name)
            if column is not None:
                column[index] = value
    seen = set().union(*(attrib.keys() for attrib in rows)) if rows else set()
    # An attribute no row has (common: each era lacks some) needs no per-value conversion.
    return {name: pa.array(values, pa.string()) if name in seen else pa.nulls(count, pa.string())
            for name, values in columns.items()}


def chunk_table(chunk: Chunk, spec: TableSpec) -> pa.Table:
    """Typed table of a chunk's rows: the compiled tokenizer when it can, lxml when it cannot."""
    strings = fast_strings(chunk.data, spec)
    if strings is None:
        strings = lxml_strings(chunk, spec)
    try:
        return to_table(spec, strings)
    except BadValue as exc:
        raise RowsError(chunk.first_line + exc.index, str(exc), "fix or re-download the dump file") from None
