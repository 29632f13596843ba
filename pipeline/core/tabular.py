"""Arrow tables to bytes: Parquet, CSV, JSON and a text table, identical bytes for identical input.

Exports and `stackmine query` share these so a CSV from either looks the same (lists joined with
';' as in the codebook, timestamps as ISO text) and reruns can be compared by checksum. An export
too large to hold writes the same two formats batch by batch (`ParquetStream`, `CsvStream`): its
bytes depend on the rows only, not on how they were cut into batches.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq


def parquet_bytes(table: pa.Table) -> bytes:
    """Parquet with zstd; pyarrow writes no timestamps into the file, so equal tables give equal bytes."""
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def csv_bytes(table: pa.Table) -> bytes:
    """CSV with a header; list and struct columns become text (lists joined with ';')."""
    sink = io.BytesIO()
    pcsv.write_csv(flatten(table), sink)
    return sink.getvalue()


class ParquetStream:
    """A Parquet file written a row group at a time: `write` batches, then `close`.

    Rows are gathered into row groups of exactly `row_group_rows` (the last one shorter) and each
    group is made contiguous before it is written, so the bytes are those `parquet_bytes` gives
    for the same rows cut into groups of that size, whatever batches they arrived in (pyarrow's
    page and dictionary decisions follow the chunks it is handed). Memory: one row group.
    """

    def __init__(self, path: Path, schema: pa.Schema, row_group_rows: int) -> None:
        self.schema = schema
        self.row_group_rows = row_group_rows
        self._writer = pq.ParquetWriter(path, schema, compression="zstd")
        self._pending: list[pa.Table] = []
        self._rows = 0

    def write(self, table: pa.Table) -> None:
        """Add rows (in order); full row groups are written as they fill."""
        table = table.cast(self.schema)
        while table.num_rows:
            take = min(self.row_group_rows - self._rows, table.num_rows)
            self._pending.append(table.slice(0, take))
            self._rows += take
            table = table.slice(take)
            if self._rows == self.row_group_rows:
                self._flush()

    def close(self) -> None:
        """Write the last, shorter row group and the footer."""
        if self._rows:
            self._flush()
        self._writer.close()

    def _flush(self) -> None:
        group = pa.concat_tables(self._pending).combine_chunks()
        self._writer.write_table(group, row_group_size=self.row_group_rows)
        self._pending, self._rows = [], 0


class CsvStream:
    """A CSV file written batch by batch: one header, then the rows as `csv_bytes` writes them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: pcsv.CSVWriter | None = None

    def write(self, table: pa.Table) -> None:
        """Add rows (in order), flattened as `csv_bytes` flattens them."""
        flat = flatten(table)
        if self._writer is None:
            self._writer = pcsv.CSVWriter(self.path, flat.schema)
        self._writer.write_table(flat)

    def close(self) -> None:
        """Finish the file (nothing written yet: just the header cannot be known, so it is an error)."""
        if self._writer is None:
            raise ValueError(f"{self.path.name}: no rows were written")
        self._writer.close()


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file, read a MiB at a time (an export's files may not fit in memory)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def json_bytes(table: pa.Table) -> bytes:
    """A JSON array of row objects; timestamps and other non-JSON values as their text."""
    return (json.dumps(table.to_pylist(), default=str, ensure_ascii=False, indent=1) + "\n").encode()


def text_bytes(table: pa.Table) -> bytes:
    """An aligned plain-text table for the terminal, with the row count."""
    frame = table.to_pandas()
    text = frame.to_string(index=False, max_colwidth=60) if len(frame) else "(no rows)"
    return (text + f"\n({table.num_rows} rows)\n").encode()


def flatten(table: pa.Table) -> pa.Table:
    """Replace columns CSV cannot hold: lists → 'a;b', structs/maps → their text."""
    columns = []
    for column in table.columns:
        kind = column.type
        if (pa.types.is_list(kind) or pa.types.is_large_list(kind)) and pa.types.is_string(kind.value_type):
            column = pc.binary_join(column, ";")
        elif pa.types.is_list(kind) or pa.types.is_large_list(kind):
            values = [None if v is None else ";".join(map(str, v)) for v in column.to_pylist()]
            column = pa.array(values, pa.string())
        elif pa.types.is_struct(kind) or pa.types.is_map(kind):
            values = [None if v is None else json.dumps(v, default=str, sort_keys=True) for v in column.to_pylist()]
            column = pa.array(values, pa.string())
        columns.append(column)
    return pa.table(columns, names=table.column_names)
