"""Parse dump files on every core while DuckDB inserts them: one reader thread, a pool, one writer.

A feed thread reads the run's files in order, site after site (plain files, archive members, Data
Explorer CSV exports), meters and hashes their bytes and cuts them into row-line chunks for the
parser pool; the pool's futures go into a bounded queue in file order. The caller, the only thread
that touches DuckDB, takes each file's rows from the queue as one Arrow record-batch stream
(`Feed.site_files`), so DuckDB inserts a file's first chunks while the pool parses its later ones,
and the feed has moved on to the next file, or the next site, while DuckDB finishes one. At most
`queued` chunks wait or are being parsed, so memory stays flat whatever the input size; nothing is
staged on disk. Rows are checked where the file and line are known: a repeated Id in file order
(`SeenIds`, on the caller's side), a missing required attribute in the pool. A Data Explorer export
is read whole before its rows are handed over (an export holds at most 50,000 rows; its reader may
start again with larger blocks, see `read_csv_export`).
"""

from __future__ import annotations

import csv
import hashlib
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from pipeline.core.errors import DumpError
from pipeline.ingest.columns import (BadValue, MissingValue, TableSpec, arrow_schema, check_required, newest_date,
                                     to_table)
from pipeline.ingest.dumpfiles import KIND_7Z, KIND_CSV, DumpFile, archive_members, open_plain
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
    """What one dump file became: its checksum, rows and newest date (complete once its rows were
    read to the end)."""

    dump_file: DumpFile
    size_bytes: int = 0
    sha256: str = ""
    rows: int = 0
    newest: datetime | None = None
    parse_seconds: float = 0.0
    repeats: int = 0  # rows of a Data Explorer export dropped as identical to a row read before

    def add(self, table: pa.Table) -> None:
        self.rows += table.num_rows
        newest = newest_date(table)
        if newest is not None and (self.newest is None or newest > self.newest):
            self.newest = newest


def parse_chunk(chunk: Chunk, spec: TableSpec) -> pa.Table:
    """Pool thread: one chunk's typed rows (RowsError travels back through the future)."""
    table = chunk_table(chunk, spec)
    try:
        check_required(spec, table)
    except MissingValue as exc:
        raise RowsError(chunk.first_line + exc.index, str(exc), "re-download or re-extract the dump file: "
                        "rows of an unmodified dump have it") from None
    return table


class InlinePool(Executor):
    """Runs work in the calling thread: for small inputs, where handing chunks over costs more."""

    def submit(self, fn, /, *args, **kwargs) -> Future:  # type: ignore[override]
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - delivered where the result is read, like a thread's
            future.set_exception(exc)
        return future


def make_pool(workers: int) -> Executor:
    """Parser pool: threads, since the tokenizer and Arrow compute run without the GIL."""
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


class _Cancelled(Exception):
    """Raised inside the feed thread when the caller has stopped reading."""


def _done(table: pa.Table) -> Future:
    future: Future = Future()
    future.set_result(table)
    return future


class Feed:
    """The files of a run, parsed ahead of the caller on a pool; see the module docstring.

    `sites` maps each site to its files, in the order the caller loads them; `source_sha256` holds
    the checksums of source files computed before (a plain file is not hashed again while read; an
    archive member is; a plain XML file missing there is hashed while read and added to it before
    its stream ends); `seen` the Data Explorer rows of each site read so far (its exports form one
    snapshot). Use as a context manager: leaving it stops the feed thread, whatever happened.
    """

    def __init__(self, sites: dict[str, list[DumpFile]], specs: dict[str, TableSpec], pool: Executor, queued: int,
                 source_sha256: dict[Path, str], on_progress: Callable[[int], object],
                 seen: dict[str, SedeRows] | None = None) -> None:
        self.sites, self.specs, self.pool, self.hashes = sites, specs, pool, source_sha256
        self.on_progress = on_progress
        self.seen = seen if seen is not None else {}
        self.items: queue.Queue = queue.Queue(maxsize=max(queued, 1))
        self.cancelled = threading.Event()
        self.thread = threading.Thread(target=self._run, name="stackmine-feed", daemon=True)

    def __enter__(self) -> Feed:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cancelled.set()
        while self.thread.is_alive():
            try:  # unblock a feed waiting for room, and cancel what it queued
                kind, value = self.items.get(timeout=0.05)
                if kind == "chunk":
                    value[1].cancel()
            except queue.Empty:
                pass
        self.thread.join()

    # -- the feed thread ------------------------------------------------------------------------
    def _put(self, kind: str, value: object) -> None:
        while True:
            if self.cancelled.is_set():
                raise _Cancelled()
            try:
                self.items.put((kind, value), timeout=0.1)
                return
            except queue.Full:
                continue

    def _run(self) -> None:
        try:
            for site, files in self.sites.items():
                for source, group in _by_source(files):
                    self._source(source, group)
                self._put("site", site)
        except _Cancelled:
            return
        except BaseException as exc:  # noqa: BLE001 - handed to the caller, which raises it
            try:
                self._put("error", exc)
            except _Cancelled:
                pass

    def _source(self, source: Path, group: list[DumpFile]) -> None:
        """The files of one source; an archive is decompressed once, member after member."""
        if group[0].kind == KIND_7Z:
            wanted = {f.member.rsplit("/", 1)[-1]: f for f in group if f.member}
            with archive_members(source) as members:
                for name, reader in members:
                    if name in wanted:
                        self._xml(wanted[name], reader, None)
            return
        for dump_file in group:
            with open_plain(dump_file.source) as handle:
                if dump_file.kind == KIND_CSV:
                    self._csv(dump_file, handle)
                else:
                    self._xml(dump_file, handle, self.hashes.get(source))

    def _xml(self, dump_file: DumpFile, stream: BinaryIO, known_sha256: str | None) -> None:
        result, started = FileResult(dump_file), time.monotonic()
        meter = _Meter(self.on_progress, known_sha256)
        self._put("file", result)
        spec = self.specs[dump_file.file]
        try:
            for chunk in chunks(stream, dump_file.file, meter):
                self._put("chunk", (chunk.first_line, self.pool.submit(parse_chunk, chunk, spec)))
        except RowsError as exc:
            raise DumpError(dump_file.label, exc.line, exc.problem, exc.hint) from None
        result.size_bytes, result.sha256 = meter.size, meter.sha256()
        if dump_file.kind != KIND_7Z:  # a plain file not hashed before: its bytes are the source's
            self.hashes.setdefault(dump_file.source, result.sha256)
        self._put("end", started)

    def _csv(self, dump_file: DumpFile, handle: BinaryIO) -> None:
        started = time.monotonic()
        result, tables = read_csv_export(handle, dump_file, self.specs["Posts"], self.on_progress,
                                         self.hashes[dump_file.source],
                                         self.seen.setdefault(dump_file.site, SedeRows()))
        self._put("file", result)
        for table in tables:
            self._put("chunk", (None, _done(table)))
        self._put("end", started)

    # -- the caller ----------------------------------------------------------------------------
    def site_files(self, site: str) -> Iterator[tuple[FileResult, pa.RecordBatchReader]]:
        """The files of `site` (the next site of the feed), each as its result (complete once its
        stream is read to the end) and its rows as one Arrow stream. Read each stream to its end
        before asking for the next file. A parse error surfaces as DumpError from the stream."""
        while True:
            kind, value = self._get()
            if kind == "site":
                if value != site:
                    raise RuntimeError(f"feed out of step: {value} ended, expected {site}")
                return
            if kind != "file":
                raise RuntimeError(f"feed out of step: expected a file, got {kind}")
            result: FileResult = value
            schema = arrow_schema(self.specs[result.dump_file.file])
            yield result, pa.RecordBatchReader.from_batches(schema, self._batches(result, schema))

    def _batches(self, result: FileResult, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
        seen = SeenIds()
        label = result.dump_file.label
        while True:
            kind, value = self._get()
            if kind == "end":
                result.parse_seconds = time.monotonic() - value
                return
            first_line, future = value
            try:
                table = future.result()
            except RowsError as exc:
                raise DumpError(label, exc.line, exc.problem, exc.hint) from None
            if first_line is not None:  # a dump file (an export's repeats were settled while read)
                ids = table.column("id").to_numpy()
                repeat = seen.first_repeat(ids)
                if repeat is not None:
                    raise DumpError(label, first_line + repeat, f"Id {ids[repeat]} is repeated (an earlier row "
                                    "of the file has the same Id)", REPEATED_ID_HINT)
            result.add(table)
            yield from (table if table.schema.equals(schema) else table.cast(schema)).to_batches()

    def _get(self) -> tuple[str, object]:
        kind, value = self.items.get()
        if kind == "error":
            raise value
        return kind, value


def _by_source(files: list[DumpFile]) -> Iterator[tuple[Path, list[DumpFile]]]:
    """Files grouped by the source they come from, in order: an archive is decompressed once."""
    groups: dict[Path, list[DumpFile]] = {}
    for dump_file in files:
        groups.setdefault(dump_file.source, []).append(dump_file)
    yield from groups.items()


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


def read_csv_export(handle: BinaryIO, dump_file: DumpFile, spec: TableSpec, on_progress: Callable[[int], object],
                    known_sha256: str | None = None, seen: SedeRows | None = None) -> tuple[FileResult, list[pa.Table]]:
    """Read a Data Explorer CSV export of the Posts table (headers are the dump's attribute names):
    its result (checksum, size, repeats; rows and dates are counted as the tables are inserted)
    and its typed rows, every one checked before the first is handed over.

    `seen` holds the rows of the site's other exports read so far (several exports of one site
    form one snapshot): a row given again with the same values is kept once, one with other
    values is refused with both places.
    """
    seen = seen if seen is not None else SedeRows()
    header = _csv_header(handle, dump_file)
    try:
        return _read_csv(handle, dump_file, spec, on_progress, known_sha256, header, seen, CSV_BLOCK_BYTES)
    except _RowTooLong:
        # Nothing of this file is in `seen` yet when a row overflows the first block; a row that
        # overflows a later block leaves the file's earlier rows there: start them afresh.
        seen.forget(dump_file.label)
        handle.seek(0)
        try:
            return _read_csv(handle, dump_file, spec, on_progress, known_sha256, header, seen,
                             CSV_LARGE_BLOCK_BYTES)
        except _RowTooLong as exc:
            raise DumpError(dump_file.label, None, f"after data row {exc.row}: a row longer than "
                            f"{MAX_ROW_BYTES >> 20} MiB (the limit of a row)",
                            "export the Posts columns unchanged from the Data Explorer") from None


class _RowTooLong(Exception):
    def __init__(self, row: int) -> None:
        self.row = row


def _read_csv(handle: BinaryIO, dump_file: DumpFile, spec: TableSpec, on_progress: Callable[[int], object],
              known_sha256: str | None, header: list[str], seen: SedeRows,
              block_bytes: int) -> tuple[FileResult, list[pa.Table]]:
    result, meter = FileResult(dump_file), _Meter(on_progress, known_sha256)
    read = pacsv.ReadOptions(block_size=block_bytes)
    parse = pacsv.ParseOptions(newlines_in_values=True)
    convert = pacsv.ConvertOptions(column_types={name: pa.string() for name in header},
                                   strings_can_be_null=True, quoted_strings_can_be_null=True)
    wanted = set(spec.attributes)
    row = 0
    tables = []
    try:
        reader = pacsv.open_csv(_MeteredFile(handle, meter), read, parse, convert)
        for batch in reader:
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
            if kept.num_rows:
                tables.append(kept)
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
    return result, tables


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
