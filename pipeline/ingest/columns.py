"""Turn the string attributes of dump rows into typed Arrow tables shaped like the dump tables.

The DDL in `pipeline/ingest/sql/tables.sql` is the single source of truth: the columns a dump file
fills, their Arrow types and the XML attribute (or SEDE CSV header) each comes from are derived
from `DESCRIBE <table>`, so a column added to the DDL is parsed without touching this module.
Runs on the parser worker threads; imports nothing heavy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc

# Dump file stem -> table it fills.
FILE_TABLES: dict[str, str] = {
    "Posts": "posts",
    "Users": "users",
    "Comments": "comments",
    "Tags": "tags",
    "PostLinks": "post_links",
    "PostHistory": "post_history",
    "Votes": "votes",
    "Badges": "badges",
}

# Columns not read from a row attribute: provenance, flags set by rules, derived lists.
NOT_FROM_ROWS = frozenset({"site", "dump_key", "tags", "is_watermark", "is_bot"})

# Where the attribute name is not the column name in CamelCase.
ATTRIBUTE_NAMES = {"revision_guid": "RevisionGUID", "tags_raw": "Tags"}

ARROW_TYPES: dict[str, pa.DataType] = {
    "BIGINT": pa.int64(),
    "INTEGER": pa.int32(),
    "SMALLINT": pa.int16(),
    "VARCHAR": pa.string(),
    "TIMESTAMP": pa.timestamp("ms"),
    "BOOLEAN": pa.bool_(),
    "DOUBLE": pa.float64(),
}

# Counts that dumps before ~2014 omit when they are zero: (column, only for this PostTypeId or None).
# A question without AnswerCount has 0 answers; an answer has no answer count at all (NULL).
ZERO_WHEN_OMITTED: dict[str, tuple[tuple[str, int | None], ...]] = {
    "posts": (("comment_count", None), ("answer_count", 1), ("view_count", 1)),
}


@dataclass(frozen=True)
class Column:
    """One table column filled from one row attribute."""

    name: str
    attribute: str
    sql_type: str
    required: bool = False  # NOT NULL in the DDL: a row without the attribute is refused while parsing


@dataclass(frozen=True)
class TableSpec:
    """What a dump file's rows become: the table and its attribute-backed columns."""

    table: str
    columns: tuple[Column, ...]

    @property
    def attributes(self) -> tuple[str, ...]:
        return tuple(c.attribute for c in self.columns)


def arrow_schema(spec: TableSpec) -> pa.Schema:
    """The schema of every table `to_table` makes for `spec` (known before any row is parsed)."""
    fields = [pa.field(c.name, ARROW_TYPES[c.sql_type]) for c in spec.columns]
    if spec.table == "posts":
        fields.append(pa.field("tags", pa.list_(pa.string())))
    return pa.schema(fields)


class BadValue(ValueError):
    """A value that does not fit its column; `index` is the row's position in the batch."""

    def __init__(self, index: int, attribute: str, value: str, sql_type: str) -> None:
        super().__init__(f"attribute {attribute}={value!r} is not a valid {sql_type}")
        self.index = index


class MissingValue(BadValue):
    """A row without an attribute its table requires (NOT NULL in the DDL: Id, PostTypeId, ...).

    Checked while parsing, so the user gets the file and line, not DuckDB's constraint error at load.
    """

    def __init__(self, index: int, attribute: str, file: str) -> None:
        ValueError.__init__(self, f"row has no {attribute} attribute (every {file} row needs one)")
        self.index = index


def camel(name: str) -> str:
    """`post_type_id` -> `PostTypeId`, the dumps' attribute spelling."""
    return ATTRIBUTE_NAMES.get(name) or "".join(part.capitalize() for part in name.split("_"))


def table_spec(table: str, described: Sequence[tuple]) -> TableSpec:
    """Build the spec of `table` from its (column, type[, null]) rows as DuckDB describes them
    (`null` is DESCRIBE's "YES"/"NO": "NO" makes the attribute required)."""
    columns = tuple(
        Column(name, camel(name), sql_type, len(rest) > 0 and rest[0] == "NO")
        for name, sql_type, *rest in described
        if name not in NOT_FROM_ROWS
    )
    unknown = [c.sql_type for c in columns if c.sql_type not in ARROW_TYPES]
    if unknown:
        raise ValueError(f"{table}: no Arrow type for {unknown}; extend ARROW_TYPES")
    return TableSpec(table, columns)


def to_table(spec: TableSpec, strings: Mapping[str, pa.Array]) -> pa.Table:
    """Typed table from string arrays keyed by attribute (missing attribute -> all NULL).

    Raises BadValue naming the first row whose value does not parse, so the caller can point
    at the exact line of the dump.
    """
    length = len(next(iter(strings.values()))) if strings else 0
    arrays: dict[str, pa.Array] = {}
    for col in spec.columns:
        raw = strings.get(col.attribute)
        target = ARROW_TYPES[col.sql_type]
        if raw is None:
            arrays[col.name] = pa.nulls(length, target)
            continue
        arrays[col.name] = _cast(raw, col, target)
    _fill_omitted_zeros(spec.table, arrays)
    if spec.table == "posts":
        arrays["tags"] = parse_tags(arrays["tags_raw"])
    return pa.table(arrays)


def _cast(raw: pa.Array, col: Column, target: pa.DataType) -> pa.Array:
    if target == pa.string():
        return raw
    try:
        return raw.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        for index, value in enumerate(raw.to_pylist()):
            try:
                pa.array([value], pa.string()).cast(target)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                raise BadValue(index, col.attribute, value, col.sql_type) from None
        raise


def check_required(spec: TableSpec, table: pa.Table) -> None:
    """Raise MissingValue for the first row of `table` (from `to_table`) lacking a required
    attribute: a row without Id, PostTypeId, CreationDate, ... (an empty `<row />`) would
    otherwise reach the database and fail there as a constraint error, with no file or line."""
    first: tuple[int, str] | None = None
    for col in spec.columns:
        values = table.column(col.name)
        if col.required and values.null_count:
            index = pc.index(pc.is_null(values), True).as_py()
            if first is None or index < first[0]:
                first = (index, col.attribute)
    if first is not None:
        file = next((f for f, t in FILE_TABLES.items() if t == spec.table), spec.table)
        raise MissingValue(first[0], first[1], file)


def _fill_omitted_zeros(table: str, arrays: dict[str, pa.Array]) -> None:
    for name, only_type in ZERO_WHEN_OMITTED.get(table, ()):
        values = arrays[name]
        zero = pa.scalar(0, values.type)
        if only_type is None:
            arrays[name] = pc.fill_null(values, zero)
        else:
            applies = pc.equal(arrays["post_type_id"], only_type)
            missing = pc.and_(pc.is_null(values), pc.fill_null(applies, False))
            arrays[name] = pc.if_else(missing, zero, values)


def parse_tags(raw: pa.Array) -> pa.Array:
    """Tags from both dump formats, in order: `<a><b>` (before 2024) and `|a|b|` (2024 on)."""
    trimmed = pc.utf8_trim(raw, "<>|")
    joined = pc.replace_substring(trimmed, "><", "|")
    lists = pc.split_pattern(joined, "|")
    empty = pc.equal(trimmed, "")
    return pc.if_else(pc.fill_null(empty, False), pa.scalar([], pa.list_(pa.string())), lists)


def newest_date(table: pa.Table) -> datetime | None:
    """Latest timestamp in any date column: how recent this file's data is."""
    newest = None
    for field in table.schema:
        if pa.types.is_timestamp(field.type):
            value = pc.max(table.column(field.name)).as_py()
            if value is not None and (newest is None or value > newest):
                newest = value
    return newest
