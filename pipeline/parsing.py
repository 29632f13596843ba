"""Parse dump files into typed Arrow tables on every core, handing them on in file order.

The caller's `sink` receives each table as soon as it and every table before it are ready (ingest
inserts them into the open load transaction), so parsing on the worker threads overlaps with the
database's inserting, nothing is staged on disk, and memory stays flat: at most `in_flight` chunks
exist at a time. A bad row raises DumpError; the caller rolls its transaction back.
"""

from __future__ import annotations

import hashlib
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

import pyarrow as pa
import pyarrow.csv as pacsv

from pipeline.columns import BadValue, TableSpec, newest_date, to_table
from pipeline.dumpfiles import DumpFile
from pipeline.errors import DumpError
from pipeline.xmlrows import RowsError, chunk_table, chunks

Sink = Callable[[pa.Table], object]

SEDE_REQUIRED = ("Id", "PostTypeId", "CreationDate")
CSV_BLOCK_BYTES = 4 << 20


@dataclass
class FileResult:
    """What one dump file became: its checksum, rows and newest date."""

    dump_file: DumpFile
    size_bytes: int = 0
    sha256: str = ""
    rows: int = 0
    newest: datetime | None = None
    parse_seconds: float = 0.0

    def add(self, table: pa.Table, sink: Sink) -> None:
        """Account for one parsed table and hand it to `sink`."""
        if table.num_rows == 0:
            return
        self.rows += table.num_rows
        newest = newest_date(table)
        if newest is not None and (self.newest is None or newest > self.newest):
            self.newest = newest
        sink(table)


class InlinePool(Executor):
    """Runs work in this process: for small inputs, where starting workers costs more than it saves."""

    def submit(self, fn, /, *args, **kwargs) -> Future:  # type: ignore[override]
        future: Future = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def make_pool(workers: int) -> Executor:
    """Parser pool: threads, since the tokenizer, Arrow and Parquet all run without the GIL."""
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


def parse_xml(stream: BinaryIO, dump_file: DumpFile, spec: TableSpec, pool: Executor, sink: Sink,
              on_progress: Callable[[int], object], in_flight: int, known_sha256: str | None = None) -> FileResult:
    """Parse one XML dump stream, keeping at most `in_flight` chunks queued; tables go to `sink`."""
    result, meter, started = FileResult(dump_file), _Meter(on_progress, known_sha256), time.monotonic()
    pending: deque[Future] = deque()
    try:
        for chunk in chunks(stream, dump_file.file, meter):
            pending.append(pool.submit(chunk_table, chunk, spec))
            while len(pending) > in_flight:
                result.add(pending.popleft().result(), sink)
        while pending:
            result.add(pending.popleft().result(), sink)
    except RowsError as exc:
        raise DumpError(dump_file.label, exc.line, exc.problem, exc.hint) from None
    finally:
        for future in pending:
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


def parse_csv(handle: BinaryIO, dump_file: DumpFile, spec: TableSpec, sink: Sink,
              on_progress: Callable[[int], object], known_sha256: str | None = None) -> FileResult:
    """Load a Data Explorer CSV export of the Posts table (headers are the dump's attribute names)."""
    result, meter, started = FileResult(dump_file), _Meter(on_progress, known_sha256), time.monotonic()
    header = _csv_header(handle, dump_file)
    read = pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES)
    parse = pacsv.ParseOptions(newlines_in_values=True)
    convert = pacsv.ConvertOptions(column_types={name: pa.string() for name in header},
                                   strings_can_be_null=True, quoted_strings_can_be_null=True)
    wanted = set(spec.attributes)
    row = 0
    try:
        reader = pacsv.open_csv(_MeteredFile(handle, meter), read, parse, convert)
        for batch in reader:
            strings = {n: batch.column(n) for n in batch.schema.names if n in wanted}
            table = to_table(spec, strings)
            result.add(table, sink)
            row += table.num_rows
    except BadValue as exc:
        raise DumpError(dump_file.label, None, f"data row {row + exc.index + 1}: {exc}",
                        "export the Posts columns unchanged from the Data Explorer") from None
    except pa.ArrowInvalid as exc:
        raise DumpError(dump_file.label, None, f"not a readable CSV export after data row {row} ({exc})",
                        "export the Posts columns unchanged from the Data Explorer") from None
    result.size_bytes, result.sha256 = meter.size, meter.sha256()
    result.parse_seconds = time.monotonic() - started
    return result


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
