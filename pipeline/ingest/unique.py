"""One row per Id: repeated Ids are found while parsing, where the file and line are still known.

Why here and not as a key in DuckDB: the dump tables declare no keys (an index costs bulk-load
throughput), so a repeated Id used to load silently and only broke later, as a primary-key
traceback in `stackmine text`. A dump never repeats an Id within a file, so any repeat there is
refused (`SeenIds`). Data Explorer exports are different: a researcher exports a site in chunks
(the Data Explorer caps a result at 50,000 rows), and chunks may overlap; a row given again with
the same values is the same post and is kept once, one given again with other values is refused
(`SedeRows`).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa


class SeenIds:
    """The Ids of one dump file so far: a bitmap for the dense non-negative Ids of real dumps (one
    bit per Id: 10 MB for Stack Overflow's ~80 million post Ids), a set for the rest (negative
    Ids such as the Community user's -1, or Ids far beyond the rows seen, which would otherwise
    make a hostile file allocate a huge bitmap)."""

    def __init__(self) -> None:
        self.bits = np.zeros(1 << 16, dtype=np.uint8)
        self.other: set[int] = set()
        self.rows = 0

    def first_repeat(self, ids: np.ndarray) -> int | None:
        """Add `ids` (the next rows, in file order); return the index of the first of them whose Id
        was seen before (earlier in `ids` or in an earlier call), or None."""
        if len(ids) == 0:
            return None
        self.rows += len(ids)
        repeats: list[int] = []
        order = np.argsort(ids, kind="stable")  # equal Ids stay in file order: the later is the repeat
        ordered = ids[order]
        same = ordered[1:] == ordered[:-1]
        if same.any():
            repeats.append(int(order[1:][same].min()))
        dense = (ids >= 0) & (ids < 64 * self.rows + (1 << 24))
        known = ids[dense]
        if len(known):
            self._cover(int(known.max()))
            hit = (self.bits[known >> 3] >> (known & 7).astype(np.uint8)) & 1
            if hit.any():
                repeats.append(int(np.flatnonzero(dense)[hit.astype(bool)].min()))
            np.bitwise_or.at(self.bits, known >> 3, np.left_shift(1, known & 7).astype(np.uint8))
        for index in np.flatnonzero(~dense):
            value = int(ids[index])
            if value in self.other:
                repeats.append(int(index))
            self.other.add(value)
        return min(repeats) if repeats else None

    def _cover(self, largest: int) -> None:
        needed = (largest >> 3) + 1
        if needed > self.bits.size:
            grown = np.zeros(max(needed, 2 * self.bits.size), dtype=np.uint8)
            grown[: self.bits.size] = self.bits
            self.bits = grown


class SedeRows:
    """Every row of one site's Data Explorer exports so far, as Id -> (digest of its values, the
    file it came from, its data row there): what decides whether a repeated Id is the same row
    (dropped) or a conflicting one (refused)."""

    def __init__(self) -> None:
        self.rows: dict[int, tuple[int, str, int | None]] = {}

    def forget(self, label: str) -> None:
        """Drop the rows that came from `label` (its file is being read again)."""
        self.rows = {key: value for key, value in self.rows.items() if value[1] != label}

    def add(self, table: pa.Table, label: str, first_row: int | None) -> tuple[pa.Table, tuple | None]:
        """The rows of `table` not seen before, and the first conflict as (index in `table`, Id,
        the earlier file, its data row or None), or None. `first_row` is the data row of
        `table[0]` (None: rows already in the database, which have no row number)."""
        ids = table.column("id").to_pylist()
        digests = row_digests(table)
        keep = []
        for index, (post_id, digest) in enumerate(zip(ids, digests)):
            earlier = self.rows.get(post_id)
            if earlier is None:
                self.rows[post_id] = (digest, label, None if first_row is None else first_row + index)
                keep.append(True)
            elif earlier[0] == digest:
                keep.append(False)
            else:
                return table, (index, post_id, earlier[1], earlier[2])
        if all(keep):
            return table, None
        return table.filter(pa.array(keep)), None


def row_digests(table: pa.Table) -> list[int]:
    """A digest of each row's values (the columns read from the file; the derived `tags` list is
    left out): equal rows give equal digests within this process."""
    columns = [table.column(name).to_pylist() for name in table.column_names if name != "tags"]
    return [hash(values) for values in zip(*columns)]
