"""A compiled tokenizer for the dump's one-row-per-line XML: the fast path of `xmlrows`.

Why: lxml parses a dump quickly, but handing every attribute to Python as a str and then to
Arrow costs about twice the parse again (README, "How ingest reads a dump"). Dump rows are regular (`  <row Name="value" ... />`, one per
line, only XML's predefined entities and character references), so a small numba kernel can read
them straight into Arrow buffers without creating a Python object per value.

Exactness over speed: the kernel accepts only a strict subset of XML for which its output is the
same as lxml's (same decoded strings, same missing attributes; a raw tab in a value reads as a
space, as XML's attribute normalisation says) and gives up on anything else: another layout, an
unknown or repeated attribute, a raw newline inside a value (normalised too, CR LF to one space),
a control character, `<` in a value, an entity other than the five predefined ones, a character
reference outside XML's Char range, bytes that are not valid UTF-8. Giving up is not an error: the
caller parses that chunk with lxml, which either reads it (same result, slower) or reports the
problem with its file line. The ingest tests compare both paths on every real dump era.
"""

from __future__ import annotations

import functools
import mmap
import threading
import time

import numpy as np
import pyarrow as pa
from numba import njit

from pipeline.ingest.columns import TableSpec

_SPACE, _TAB, _LF, _CR = 32, 9, 10, 13
_QUOTE, _AMP, _LT, _GT, _SLASH, _EQ, _HASH, _SEMI = 34, 38, 60, 62, 47, 61, 35, 59


@njit(nogil=True, cache=True, inline="always")
def _byte(data, k):
    """data[k], or -1 past the end: every look-ahead goes through this (numba has no bounds checks)."""
    return np.int32(data[k]) if k < data.shape[0] else np.int32(-1)


@njit(nogil=True, cache=True)
def _xml_char(cp):
    """XML 1.0 Char production (what a character reference may denote)."""
    return (cp == 0x9 or cp == 0xA or cp == 0xD or 0x20 <= cp <= 0xD7FF or 0xE000 <= cp <= 0xFFFD
            or 0x10000 <= cp <= 0x10FFFF)


@njit(nogil=True, cache=True)
def _put_utf8(out, o, cp):
    """Write code point `cp` as UTF-8 at out[o]; return the new offset."""
    if cp < 0x80:
        out[o] = cp
        return o + 1
    if cp < 0x800:
        out[o] = 0xC0 | (cp >> 6)
        out[o + 1] = 0x80 | (cp & 0x3F)
        return o + 2
    if cp < 0x10000:
        out[o] = 0xE0 | (cp >> 12)
        out[o + 1] = 0x80 | ((cp >> 6) & 0x3F)
        out[o + 2] = 0x80 | (cp & 0x3F)
        return o + 3
    out[o] = 0xF0 | (cp >> 18)
    out[o + 1] = 0x80 | ((cp >> 12) & 0x3F)
    out[o + 2] = 0x80 | ((cp >> 6) & 0x3F)
    out[o + 3] = 0x80 | (cp & 0x3F)
    return o + 4


@njit(nogil=True, cache=True)
def _char_ref(data, i):
    """Code point of the character reference starting at data[i] == '&', '#'; (-1, i) if not one."""
    k, base, cp, digits = i + 2, 10, 0, 0
    if _byte(data, k) == 120:  # 'x'
        base, k = 16, k + 1
    while digits <= 7:
        b = _byte(data, k)
        if 48 <= b <= 57:
            v = b - 48
        elif base == 16 and 97 <= b <= 102:
            v = b - 87
        elif base == 16 and 65 <= b <= 70:
            v = b - 55
        elif b == _SEMI and digits > 0:
            return (cp, k + 1) if _xml_char(cp) else (-1, i)
        else:
            return -1, i
        cp, digits, k = cp * base + v, digits + 1, k + 1
    return -1, i


@njit(nogil=True, cache=True)
def _entity(data, i):
    """(code point, next offset) of the reference at data[i] == '&'; (-1, i) to give up."""
    b1 = _byte(data, i + 1)
    if b1 == _HASH:
        return _char_ref(data, i)
    b2, b3, b4, b5 = _byte(data, i + 2), _byte(data, i + 3), _byte(data, i + 4), _byte(data, i + 5)
    if b2 == 116 and b3 == _SEMI:  # lt; gt;
        if b1 == 108:
            return 60, i + 4
        if b1 == 103:
            return 62, i + 4
    if b1 == 97 and b2 == 109 and b3 == 112 and b4 == _SEMI:  # amp;
        return 38, i + 5
    if b5 == _SEMI and b1 == 113 and b2 == 117 and b3 == 111 and b4 == 116:  # quot;
        return 34, i + 6
    if b5 == _SEMI and b1 == 97 and b2 == 112 and b3 == 111 and b4 == 115:  # apos;
        return 39, i + 6
    return -1, i


@njit(nogil=True, cache=True)
def _utf8_length(data, i):
    """Length of the valid UTF-8 sequence of an XML Char at data[i] (>= 0x80), or 0 to give up."""
    b0 = _byte(data, i)
    if b0 < 0xC2 or b0 > 0xF4:
        return 0
    need = 1 if b0 < 0xE0 else (2 if b0 < 0xF0 else 3)
    cp = b0 & (0x1F if need == 1 else (0x0F if need == 2 else 0x07))
    for k in range(1, need + 1):
        b = _byte(data, i + k)
        if b < 0x80 or b > 0xBF:
            return 0
        cp = (cp << 6) | (b & 0x3F)
    if need == 2 and (cp < 0x800 or not _xml_char(cp)):
        return 0
    if need == 3 and (cp < 0x10000 or cp > 0x10FFFF):
        return 0
    return need + 1


@njit(nogil=True, cache=True)
def _name_column(data, start, stop, names, name_starts, hint):
    """Column of the attribute name data[start:stop], searching from `hint` (dumps keep an order); -1 if unknown."""
    columns = name_starts.shape[0] - 1
    length = stop - start
    for step in range(columns):
        c = (hint + step) % columns
        s = name_starts[c]
        if name_starts[c + 1] - s != length:
            continue
        same = True
        for k in range(length):
            if names[s + k] != data[start + k]:
                same = False
                break
        if same:
            return c
    return -1


# Bytes copied as they are inside a value: printable ASCII except `"`, `&` and `<`.
_PLAIN = np.array([32 <= b < 128 and b not in (_QUOTE, _AMP, _LT) for b in range(256)], np.bool_)


@njit(nogil=True, cache=True)
def _value(data, i, out, o):
    """Copy the attribute value from data[i] (just after the opening quote) to out[o], decoded.

    Returns (offset after the closing quote, new out offset), or (-1, o) to give up. The plain-byte
    loop needs no bounds check: `scan` only runs on data ending in a newline, which is not plain.
    """
    while True:
        b = data[i]
        if _PLAIN[b]:
            out[o] = b
            i, o = i + 1, o + 1
            continue
        if b == _QUOTE:
            return i + 1, o
        if b == _AMP:
            cp, i = _entity(data, i)
            if cp < 0:
                return -1, o
            o = _put_utf8(out, o, cp)
        elif b >= 0x80:
            length = _utf8_length(data, i)
            if length == 0:
                return -1, o
            for k in range(length):
                out[o + k] = data[i + k]
            i, o = i + length, o + length
        elif b == _TAB:  # XML normalises whitespace in attribute values: a raw tab reads as a space
            out[o] = _SPACE
            i, o = i + 1, o + 1
        else:  # raw newline (normalised, and CR LF is one space: left to lxml), other controls, '<'
            return -1, o


@njit(nogil=True, cache=True)
def _row(data, i, row, names, name_starts, out, fill, present):
    """Read the attributes of the row whose `<row` starts at data[i] into the column buffers.

    Returns the offset after the row's line, or -1 to give up.
    """
    i += 4
    hint = 0
    while True:
        b = _byte(data, i)
        if b != _SPACE and b != _SLASH:
            return -1  # attributes must be separated by whitespace
        while b == _SPACE:
            i += 1
            b = _byte(data, i)
        if b == _SLASH:
            break
        start = i
        while (65 <= b <= 90) or (97 <= b <= 122) or (48 <= b <= 57):
            i += 1
            b = _byte(data, i)
        if i == start or b != _EQ or _byte(data, i + 1) != _QUOTE:
            return -1
        column = _name_column(data, start, i, names, name_starts, hint)
        if column < 0 or present[column, row]:
            return -1  # unknown (not in the schema) or repeated attribute
        i, fill[column] = _value(data, i + 2, out[column], fill[column])
        if i < 0:
            return -1
        present[column, row] = 1
        hint = column + 1
    if _byte(data, i + 1) != _GT:
        return -1
    i += 2
    b = _byte(data, i)
    while b == _SPACE or b == _TAB or b == _CR:
        i += 1
        b = _byte(data, i)
    if b != _LF:
        return -1  # more on the line than one row: leave it to lxml
    return i + 1


@njit(nogil=True, cache=True)
def scan(data, names, name_starts, out, fill, offsets, present):
    """Tokenise whole row lines into one buffer per column: returns (ok, rows).

    Column c's decoded values are out[c, offsets[c, r]:offsets[c, r + 1]] for row r, and
    present[c, r] says whether row r has the attribute at all (absent: NULL, not "").
    """
    n = data.shape[0]
    i, row = 0, 0
    fill[:] = 0
    offsets[:, 0] = 0
    if n == 0 or data[n - 1] != _LF:
        return False, row
    while i < n:
        b = data[i]
        if b == _SPACE or b == _TAB or b == _CR or b == _LF:
            i += 1
            continue
        if not (b == _LT and _byte(data, i + 1) == 114 and _byte(data, i + 2) == 111
                and _byte(data, i + 3) == 119):
            return False, row  # not `<row`: a comment, another element, garbage
        if row + 1 >= offsets.shape[1]:
            return False, row
        present[:, row] = 0
        i = _row(data, i, row, names, name_starts, out, fill, present)
        if i < 0:
            return False, row
        offsets[:, row + 1] = fill
        row += 1
    return True, row


@functools.cache  # once per table, not once per chunk
def _name_table(spec: TableSpec) -> tuple[np.ndarray, np.ndarray]:
    encoded = [name.encode("ascii") for name in spec.attributes]
    starts = np.zeros(len(encoded) + 1, np.int64)
    starts[1:] = np.cumsum([len(name) for name in encoded])
    return np.frombuffer(b"".join(encoded), np.uint8), starts


class _Scratch(threading.local):
    """Per-thread work buffers, reused from chunk to chunk: allocating fresh pages for every
    chunk cost more in page faults (system time) than the tokenizer itself. The value buffer has
    room for the whole chunk in every column, but only the pages a column fills are ever touched."""

    def __init__(self) -> None:
        self.shape = (0, 0, 0)
        self.out = np.empty((0, 0), np.uint8)
        self.offsets = np.empty((0, 0), np.int32)
        self.present = np.empty((0, 0), np.uint8)

    def take(self, size: int, rows: int, columns: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self.shape[0] < size or self.shape[1] < rows or self.shape[2] != columns:
            size, rows = max(size, self.shape[0]), max(rows, self.shape[1])
            self.shape = (size, rows, columns)
            self.out = _lazy((columns, size + 8), np.uint8)  # decoding never lengthens a value
            self.offsets = _lazy((columns, rows + 1), np.int32)
            self.present = _lazy((columns, rows), np.uint8)
        return self.out, self.offsets, self.present


def _lazy(shape: tuple[int, int], dtype: type) -> np.ndarray:
    """An array whose untouched pages cost no memory. Not np.empty: NumPy asks the kernel for huge
    pages on large arrays, and one touched byte per column then makes a whole huge page resident
    (peak RSS grows with the number of columns); an anonymous mmap is backed lazily by plain pages."""
    size = max(shape[0] * shape[1] * np.dtype(dtype).itemsize, 1)
    return np.frombuffer(mmap.mmap(-1, size), dtype, count=shape[0] * shape[1]).reshape(shape)


_SCRATCH = _Scratch()


def fast_strings(data: bytes, spec: TableSpec) -> dict[str, pa.Array] | None:
    """String column per attribute of `spec` for the rows in `data` (whole lines), or None to
    say "use lxml for this chunk" (see the module docstring for when)."""
    names, name_starts = _name_table(spec)
    columns = len(spec.attributes)
    # A row line takes at least 7 bytes (`<row/>` and a newline): a bound on rows without counting.
    out, offsets, present = _SCRATCH.take(len(data), len(data) // 7 + 1, columns)
    fill = np.zeros(columns, np.int64)
    ok, rows = scan(np.frombuffer(data, np.uint8), names, name_starts, out, fill, offsets, present)
    if not ok:
        return None
    return {name: _column(rows, out[c, : fill[c]], offsets[c, : rows + 1], present[c, :rows])
            for c, name in enumerate(spec.attributes)}


def _column(rows: int, values: np.ndarray, offsets: np.ndarray, present: np.ndarray) -> pa.Array:
    """Arrow strings from one column's scratch buffers, copied (the scratch is reused)."""
    count = int(present.sum())
    if count == 0:
        return pa.nulls(rows, pa.string())
    validity = None if count == rows else pa.py_buffer(np.packbits(present, bitorder="little"))
    return pa.StringArray.from_buffers(rows, pa.py_buffer(offsets.copy()), pa.py_buffer(values.copy()),
                                       validity, rows - count)


def warm_up() -> float:
    """Compile the kernel into numba's cache (or load it from there); returns the seconds it took.

    Compiling takes a few seconds once per install; `make install` calls this so that the first
    ingest does not pay for it (and so that a benchmark measures parsing, not compiling).
    """
    started = time.monotonic()
    spec = TableSpec("warm_up", ())
    fast_strings(b'  <row Id="1" Body="&lt;&#xA;\xc3\xa9" />\n', spec)
    return time.monotonic() - started
