"""What each export column means, written into the Parquet files themselves.

One line per column in `pipeline/publish/templates/export_columns.csv`; `describe` puts it in the
Parquet schema as the field's `description` metadata, so a reader of `questions.parquet` (pyarrow,
DuckDB's `parquet_schema`, pandas) finds the meaning without the datasheet.
"""

from __future__ import annotations

import csv
import functools
import io
from importlib import resources

import pyarrow as pa

COLUMNS_FILE = "export_columns.csv"


@functools.cache
def descriptions() -> dict[str, str]:
    """{column: description} from the columns file."""
    text = (resources.files("pipeline.publish") / "templates" / COLUMNS_FILE).read_text(encoding="utf-8")
    return {row["column"]: row["description"] for row in csv.DictReader(io.StringIO(text))}


def describe(table: pa.Table) -> pa.Table:
    """`table` with each field's `description` metadata set; a column without one is an error."""
    return table.cast(described(table.schema))


def described(schema: pa.Schema) -> pa.Schema:
    """`schema` with each field's `description` metadata set (what `describe` casts to, for a
    file written batch by batch); a column without one is an error."""
    known = descriptions()
    missing = [name for name in schema.names if name not in known]
    if missing:
        raise KeyError(f"no description in templates/{COLUMNS_FILE} for: {', '.join(missing)}")
    fields = [field.with_metadata({"description": known[field.name]}) for field in schema]
    return pa.schema(fields, metadata=schema.metadata)
