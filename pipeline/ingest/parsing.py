"""Parse dump files into Arrow IPC parts in a staging folder, on every core, before touching the DB.

Parsing everything first means a bad file is found before the database is opened for writing (so
a failed run changes nothing), the write transaction stays short, and each row can carry the
dump_id, which depends on checksums and dates known only once every file was read. Parts are
uncompressed Arrow IPC files: writing one is little more than a memory copy, and DuckDB reads them
back through Arrow without converting anything. Memory stays flat: at most `in_flight` chunks exist
at a time.
"""

from __future__ import annotations

import csv
import hashlib
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.ipc as ipc

from pipeline.ingest.columns import BadValue, MissingValue, TableSpec, check_required, newest_date, to_table
from pipeline.ingest.dumpfiles import DumpFile
from pipeline.core.errors import DumpError
from pipeline.ingest.unique import SedeRows, SeenIds
from pipeline.ingest.xmlrows import MAX_ROW_BYTES, Chunk, RowsError, chunk_table, chunks

SEDE_REQUIRED = ("Id", "PostTypeId", "CreationDate")
CSV_BLOCK_BYTES = 4 << 20
# pyarrow's CSV reader needs a whole row inside one block. A file with a row longer than the usual
# block is read again with blocks that hold any row up to the row limit (a 10 MB cell loads).
CSV_LARGE_BLOCK_BYTES = MAX_ROW_BYTES + (1 << 20)
REPEATED_ID_HINT = ("a dump never repeats an Id within a file: this file was altered or joined from "
                    "several; re-download or re-extract it")


@dataclass
class FileResult:
    """What one dump file became: its checksum, rows, newest date and staged parts."""

    dump_file: DumpFile
    size_bytes: int = 0
    sha256: str = ""
    rows: int = 0
    newest: datetime | None = None
    parse_seconds: float = 0.0
    parts: list[str] = field(default_factory=list)
    repeats: int = 0  # rows of a Data Explorer export dropped as identical to a row read before

    def add(self, rows: int, newest: datetime | None, part: str | None) -> None:
        self.rows += rows
        if newest is not None and (self.newest is None or newest > self.newest):
            self.newest = newest
        if part:
            self.parts.append(part)


def _part_path(out_dir: Path, dump_file: DumpFile, index: int) -> Path:
    return out_dir / f"{dump_file.site}.{dump_file.file}.{index:06d}.arrow"


def write_part(table: pa.Table, path: Path) -> tuple[int, datetime | None, str | None]:
    """Stage `table` as an Arrow IPC file; (rows, newest date, path), no file for no rows."""
    if table.num_rows == 0:
        return 0, None, None
    with ipc.new_file(path, table.schema) as writer:
        writer.write_table(table)
    return table.num_rows, newest_date(table), str(path)


def staged_parts(paths: list[str]) -> pa.RecordBatchReader:
    """The staged parts of one file as one stream, read a part at a time (a pyarrow dataset
    would read ahead several files at once and hold them all in memory)."""
    with ipc.open_file(paths[0]) as first:
        schema = first.schema

    def batches() -> Iterator[pa.RecordBatch]:
        for path in paths:
            with pa.OSFile(path) as source, ipc.open_file(source) as reader:
                for index in range(reader.num_record_batches):
                    yield reader.get_batch(index)
    return pa.RecordBatchReader.from_batches(schema, batches())


def stage_chunk(chunk: Chunk, spec: TableSpec, path: Path) -> tuple[tuple[int, datetime | None, str | None], np.ndarray]:
    """Worker thread: parse one chunk and stage it (RowsError travels back through the future);
    returns what `write_part` returns and the chunk's Ids, which the caller checks in file order."""
    table = chunk_table(chunk, spec)
    try:
        check_required(spec, table)
    except MissingValue as exc:
        raise RowsError(chunk.first_line + exc.index, str(exc), "re-download or re-extract the dump file: "
                        "rows of an unmodified dump have it") from None
    return write_part(table, path), table.column("id").to_numpy()


class InlinePool(Executor):
    """Runs work in this process: for small inputs, where starting workers costs more than it saves."""

    def submit(self, fn, /, *args, **kwargs) -> Future:  # type: ignore[override]
        future: Future = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def make_pool(workers: int) -> Executor:
    """Parser pool: threads, since the tokenizer, Arrow compute and IPC writes run without the GIL."""
    if workers <= 1:
        return InlinePool()
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="stackmine-parse")


class _Meter:
    """Checksum, byte count and progress of a stream, fed every byte as it is read."""

    def __init__(self, on_progress: Callable[[int], object], known_sha256: str | None) -> None:
        # A plain file was already hashed (for the no-op check): don't hash its bytes twice.
        self.digest = None if known_sha256 else hashlib.sha256()
        self.known, self.size, self.on_progress = known_sha256, 0, on_progress

    def __call__(self, data: bytes) -> None:
        if self.digest is not None:
            self.digest.update(data)
        self.size += len(data)
        self.on_progress(len(data))

    def sha256(self) -> str:
        return self.known or self.digest.hexdigest()


def stage_xml(stream: BinaryIO, dump_file: DumpFile, spec: TableSpec, pool: Executor, out_dir: Path,
              on_progress: Callable[[int], object], in_flight: int, known_sha256: str | None = None) -> FileResult:
    """Parse one XML dump stream into staged parts, keeping at most `in_flight` chunks queued."""
    result, meter, started = FileResult(dump_file), _Meter(on_progress, known_sha256), time.monotonic()
    pending: deque[tuple[int, Future]] = deque()
    seen = SeenIds()

    def collect() -> None:
        first_line, future = pending.popleft()
        staged, ids = future.result()
        repeat = seen.first_repeat(ids)
        if repeat is not None:
            raise RowsError(first_line + repeat, f"Id {ids[repeat]} is repeated (an earlier row of the "
                            "file has the same Id)", REPEATED_ID_HINT)
        result.add(*staged)

    try:
        for index, chunk in enumerate(chunks(stream, dump_file.file, meter)):
            pending.append((chunk.first_line, pool.submit(stage_chunk, chunk, spec,
                                                          _part_path(out_dir, dump_file, index))))
            while len(pending) > in_flight:
                collect()
        while pending:
            collect()
    except RowsError as exc:
        raise DumpError(dump_file.label, exc.line, exc.problem, exc.hint) from None
    finally:
        for _, future in pending:
            future.cancel()
    result.size_bytes, result.sha256 = meter.size, meter.sha256()
    result.parse_seconds = time.monotonic() - started
    return result


class _MeteredFile:
    """File wrapper for pyarrow's CSV reader: every byte it reads goes through the meter."""

    def __init__(self, handle: BinaryIO, meter: _Meter) -> None:
        self.handle, self.meter, self.closed = handle, meter, False

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.meter(data)
        return data

    def readable(self) -> bool:
        return True


def stage_csv(handle: BinaryIO, dump_file: DumpFile, spec: TableSpec, out_dir: Path,
              on_progress: Callable[[int], object], known_sha256: str | None = None,
              seen: SedeRows | None = None) -> FileResult:
    """Load a Data Explorer CSV export of the Posts table (headers are the dump's attribute names).

    `seen` holds the rows of the site's other exports read so far (several exports of one site
    form one snapshot): a row given again with the same values is kept once, one with other
    values is refused with both places.
    """
    seen = seen if seen is not None else SedeRows()
    header = _csv_header(handle, dump_file)
    try:
        return _read_csv(handle, dump_file, spec, out_dir, on_progress, known_sha256, header, seen, CSV_BLOCK_BYTES)
    except _RowTooLong:
        # Nothing of this file is in `seen` yet when a row overflows the first block; a row that
        # overflows a later block leaves the file's earlier rows there: start them afresh.
        seen.forget(dump_file.label)
        handle.seek(0)
        try:
            return _read_csv(handle, dump_file, spec, out_dir, on_progress, known_sha256, header, seen,
                             CSV_LARGE_BLOCK_BYTES)
        except _RowTooLong as exc:
            raise DumpError(dump_file.label, None, f"after data row {exc.row}: a row longer than "
                            f"{MAX_ROW_BYTES >> 20} MiB (the limit of a row)",
                            "export the Posts columns unchanged from the Data Explorer") from None


class _RowTooLong(Exception):
    def __init__(self, row: int) -> None:
        self.row = row


def _read_csv(handle: BinaryIO, dump_file: DumpFile, spec: TableSpec, out_dir: Path,
              on_progress: Callable[[int], object], known_sha256: str | None, header: list[str],
              seen: SedeRows, block_bytes: int) -> FileResult:
    result, meter, started = FileResult(dump_file), _Meter(on_progress, known_sha256), time.monotonic()
    read = pacsv.ReadOptions(block_size=block_bytes)
    parse = pacsv.ParseOptions(newlines_in_values=True)
    convert = pacsv.ConvertOptions(column_types={name: pa.string() for name in header},
                                   strings_can_be_null=True, quoted_strings_can_be_null=True)
    wanted = set(spec.attributes)
    row = 0
    try:
        reader = pacsv.open_csv(_MeteredFile(handle, meter), read, parse, convert)
        for index, batch in enumerate(reader):
            too_long = _row_over_limit(batch)
            if too_long is not None:
                raise DumpError(dump_file.label, csv_row_line(dump_file.source, row + too_long + 1),
                                f"data row {row + too_long + 1} is longer than {MAX_ROW_BYTES >> 20} MiB "
                                "(the limit of a row)", "export the Posts columns unchanged from the Data Explorer")
            strings = {n: batch.column(n) for n in batch.schema.names if n in wanted}
            table = to_table(spec, strings)
            check_required(spec, table)
            kept, conflict = seen.add(table, dump_file.label, row + 1)
            if conflict:
                at, post_id, other, other_row = conflict
                line = csv_row_line(dump_file.source, row + at + 1)
                there = f"{other} (data row {other_row})" if other_row else other
                raise DumpError(dump_file.label, line, f"Id {post_id} (data row {row + at + 1}) is also in "
                                f"{there} with other values",
                                "exports of one site must agree on a post: export the chunks again at one "
                                "time, or ingest the newer export alone (--force)")
            result.add(*write_part(kept, _part_path(out_dir, dump_file, index)))
            result.repeats += table.num_rows - kept.num_rows
            row += table.num_rows
    except BadValue as exc:
        raise DumpError(dump_file.label, csv_row_line(dump_file.source, row + exc.index + 1),
                        f"data row {row + exc.index + 1}: {exc}",
                        "export the Posts columns unchanged from the Data Explorer") from None
    except pa.ArrowInvalid as exc:
        if "straddling" in str(exc):
            raise _RowTooLong(row) from None
        raise DumpError(dump_file.label, None, f"not a readable CSV export after data row {row} ({exc})",
                        "export the Posts columns unchanged from the Data Explorer") from None
    result.size_bytes, result.sha256 = meter.size, meter.sha256()
    result.parse_seconds = time.monotonic() - started
    return result


def _row_over_limit(batch: pa.RecordBatch) -> int | None:
    """Index of the first row of `batch` whose values together exceed MAX_ROW_BYTES (the same
    limit as a dump row's), or None."""
    total = None
    for column in batch.columns:
        lengths = pc.fill_null(pc.binary_length(column), 0).cast(pa.int64())
        total = lengths if total is None else pc.add(total, lengths)
    if total is None:
        return None
    over = pc.index(pc.greater(total, MAX_ROW_BYTES), True).as_py()
    return over if over >= 0 else None


def csv_row_line(path: Path, data_row: int) -> int | None:
    """The line of `path` where data row `data_row` (1-based, after the header) starts, read with
    Python's csv module (bodies span lines); only on the way to an error message."""
    csv.field_size_limit(max(csv.field_size_limit(), 2 * MAX_ROW_BYTES))
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            ended = 0  # the line the previous row ended on
            for index, _ in enumerate(reader):
                if index == data_row:
                    return ended + 1
                ended = reader.line_num
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    return None


def _csv_header(handle: BinaryIO, dump_file: DumpFile) -> list[str]:
    """Column names of the export; refuses files that are not a Posts export."""
    first = handle.readline(1 << 16)
    handle.seek(0)
    try:
        text = first.decode("utf-8-sig").strip()
    except UnicodeDecodeError:
        text = ""
    names = [name.strip().strip('"') for name in text.split(",")] if text else []
    missing = [name for name in SEDE_REQUIRED if name not in names]
    if missing:
        raise DumpError(dump_file.label, 1, f"not a Data Explorer export of Posts: header lacks "
                        f"{', '.join(missing)}", "export `SELECT * FROM Posts ...` as CSV from "
                        "data.stackexchange.com, or pass a dump folder or .7z")
    return names
