"""Parse dump files into Arrow IPC parts in a staging folder, on every core, before touching the DB.

Parsing everything first means a bad file is found before the database is opened for writing (so
a failed run changes nothing), the write transaction stays short, and each row can carry the
dump_id, which depends on checksums and dates known only once every file was read. Parts are
uncompressed Arrow IPC files: writing one is little more than a memory copy, and DuckDB reads them
back through Arrow without converting anything. Memory stays flat: at most `in_flight` chunks exist
at a time.
"""

from __future__ import annotations

import hashlib
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.ipc as ipc

from pipeline.ingest.columns import BadValue, TableSpec, newest_date, to_table
from pipeline.ingest.dumpfiles import DumpFile
from pipeline.core.errors import DumpError
from pipeline.ingest.xmlrows import Chunk, RowsError, chunk_table, chunks

SEDE_REQUIRED = ("Id", "PostTypeId", "CreationDate")
CSV_BLOCK_BYTES = 4 << 20


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


def stage_chunk(chunk: Chunk, spec: TableSpec, path: Path) -> tuple[int, datetime | None, str | None]:
    """Worker thread: parse one chunk and stage it (RowsError travels back through the future)."""
    return write_part(chunk_table(chunk, spec), path)


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
    pending: deque[Future] = deque()
    try:
        for index, chunk in enumerate(chunks(stream, dump_file.file, meter)):
            pending.append(pool.submit(stage_chunk, chunk, spec, _part_path(out_dir, dump_file, index)))
            while len(pending) > in_flight:
                result.add(*pending.popleft().result())
        while pending:
            result.add(*pending.popleft().result())
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


def stage_csv(handle: BinaryIO, dump_file: DumpFile, spec: TableSpec, out_dir: Path,
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
        for index, batch in enumerate(reader):
            strings = {n: batch.column(n) for n in batch.schema.names if n in wanted}
            table = to_table(spec, strings)
            result.add(*write_part(table, _part_path(out_dir, dump_file, index)))
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
