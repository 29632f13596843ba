"""Arrow tables to bytes: Parquet, CSV, JSON and a text table, identical bytes for identical input.

Exports and `stackmine query` share these so a CSV from either looks the same (lists joined with
';' as in the codebook, timestamps as ISO text) and reruns can be compared by checksum.
"""

from __future__ import annotations

import io
import json

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
