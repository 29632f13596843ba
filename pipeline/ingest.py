"""Ingest: load Stack Exchange dumps (XML folders, .7z archives, SEDE CSV) into the dump tables.

    ingest(con, [Path("data/sample")]) -> IngestReport

The whole run is one transaction: every file is parsed on all cores (worker threads) and its rows
inserted as they come, under a provisional dump_id; once a site's files are all read, its old
snapshot is deleted and the new rows get their final dump_id. Bad input anywhere, an error or a
kill -9 rolls everything back: the database is the old one or the new one, never half.
Re-ingesting a dump whose files have the same checksums is a no-op unless `force`.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import logging
import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

import duckdb
import pyarrow as pa
from tqdm import tqdm

from pipeline import PIPELINE_VERSION
from pipeline.columns import FILE_TABLES, TableSpec, table_spec
from pipeline.db import read_sql, transaction
from pipeline.dumpfiles import KIND_7Z, KIND_CSV, DumpFile, archive_members, discover, open_plain, sha256_file
from pipeline.parsing import FileResult, Sink, make_pool, parse_csv, parse_xml

log = logging.getLogger(__name__)

# Every table a site snapshot owns; all are replaced together.
DUMP_TABLES = ("dumps", "posts", "post_tags", "users", "comments", "tags", "post_links",
               "post_history", "votes", "badges")
POOL_MIN_BYTES = 8 << 20  # below this, handing chunks to threads costs more than it saves
# DuckDB while loading: a buffer cap (it spills beyond it; otherwise it caches up to 80% of RAM),
# which keeps ingest's peak memory flat whatever the input size, and one thread, because the
# parser threads already keep the cores busy (more DuckDB threads only added CPU and memory).
LOAD_SETTINGS = {"memory_limit": "96MB", "threads": "1"}


@dataclass
class SiteReport:
    """The outcome for one site: loaded (with rows per table) or unchanged (already loaded)."""

    site: str
    dump_id: str
    status: str  # "loaded" | "unchanged" (same dump already loaded) | "kept-newer" (given one is older)
    rows: dict[str, int] = field(default_factory=dict)
    bytes_parsed: int = 0


@dataclass
class IngestReport:
    """What `ingest` did, for the CLI's summary table and for callers that chain stages."""

    sites: list[SiteReport] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def bytes_parsed(self) -> int:
        return sum(s.bytes_parsed for s in self.sites)

    @property
    def mb_per_second(self) -> float:
        return self.bytes_parsed / 1e6 / self.seconds if self.seconds else 0.0


def ingest(con: duckdb.DuckDBPyConnection, sources: list[Path], force: bool = False,
           progress: bool = False, workers: int | None = None, site: str | None = None) -> IngestReport:
    """Load every dump under `sources` into the database behind `con`, in one transaction.

    `site` names the site of SEDE CSV exports (default: the CSV's folder name); `workers` parser
    threads (default: all cores). Raises DumpError for bad input, after rolling back.
    """
    started = time.monotonic()
    report = IngestReport()
    by_site: dict[str, list[DumpFile]] = {}
    for dump_file in discover([Path(s) for s in sources], site):
        by_site.setdefault(dump_file.site, []).append(dump_file)
    source_hashes = {f.source: sha256_file(f.source) for fs in by_site.values() for f in fs}
    todo = {}
    for name, files in by_site.items():
        loaded = _loaded_dump(con, name)
        if not force and loaded and _same_files(con, name, files, source_hashes):
            log.info("%s: unchanged (same checksums as %s); skipping, use --force to reload", name, loaded)
            report.sites.append(SiteReport(name, loaded, "unchanged"))
        else:
            todo[name] = files
    if todo:
        specs = table_specs(con)
        total = sum(f.size for fs in todo.values() for f in fs)
        workers = 1 if total < POOL_MIN_BYTES else workers or os.cpu_count() or 1
        with _gc_paused(), _settings(con, LOAD_SETTINGS), transaction(con), \
                make_pool(workers) as pool, _progress_bar(total, progress) as bar:
            for name, files in todo.items():
                loader = _SiteLoader(con, name, specs, pool, bar.update, 2 * workers, source_hashes)
                report.sites.append(loader.replace(files, force))
    report.seconds = time.monotonic() - started
    return report


def _progress_bar(total: int, progress: bool) -> tqdm:
    show = progress and sys.stderr.isatty()
    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc="ingest",
                disable=not show, file=sys.stderr)


def table_specs(con: duckdb.DuckDBPyConnection) -> dict[str, TableSpec]:
    """Spec of each dump file's table, read from the database's own schema (the DDL)."""
    specs = {}
    for file, table in FILE_TABLES.items():
        described = con.execute(_sql("describe", table)).fetchall()
        specs[file] = table_spec(table, [(row[0], row[1]) for row in described])
    return specs


def _loaded_dump(con: duckdb.DuckDBPyConnection, site: str) -> str | None:
    return con.execute(_sql("loaded_dump"), {"site": site}).fetchone()[0]


def _same_files(con: duckdb.DuckDBPyConnection, site: str, files: list[DumpFile],
                source_hashes: dict[Path, str]) -> bool:
    loaded = con.execute(_sql("loaded_files"), {"site": site}).fetchall()
    given = sorted((f.file, source_hashes[f.source], PIPELINE_VERSION) for f in files)
    return [tuple(row) for row in loaded] == given


def _by_source(files: list[DumpFile]) -> Iterator[tuple[Path, list[DumpFile]]]:
    groups: dict[Path, list[DumpFile]] = {}
    for dump_file in files:
        groups.setdefault(dump_file.source, []).append(dump_file)
    yield from groups.items()


def dump_id(site: str, results: list[FileResult]) -> str:
    """`site@YYYY-MM-DD-xxxxxxxx`: newest date in the snapshot + hash of its files' checksums."""
    newest = max((r.newest for r in results if r.newest), default=None)
    lines = "\n".join(sorted(f"{r.dump_file.file}:{r.sha256}" for r in results))
    digest = hashlib.sha256(lines.encode()).hexdigest()[:8]
    return f"{site}@{newest:%Y-%m-%d}-{digest}" if newest else f"{site}@undated-{digest}"


class _SiteLoader:
    """Replaces one site's snapshot inside the run's open transaction.

    Rows are inserted as they are parsed, under the provisional dump_id `<site>@loading` (the
    real one needs every file's checksum and newest date); then either the old snapshot goes and
    the new rows get their dump_id, or (an older dump than the loaded one) the new rows go.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, site: str, specs: dict[str, TableSpec], pool,
                 on_progress, in_flight: int, source_hashes: dict[Path, str]) -> None:
        self.con, self.site, self.specs, self.pool = con, site, specs, pool
        self.on_progress, self.in_flight, self.source_hashes = on_progress, in_flight, source_hashes
        self.pending = f"{site}@loading"

    def replace(self, files: list[DumpFile], force: bool) -> SiteReport:
        params = {"site": self.site, "pending": self.pending}
        [(loaded, loaded_newest)] = self.con.execute(_sql("loaded_dump"), {"site": self.site}).fetchall()
        log.info("%s: loading into the database", self.site)
        started = time.monotonic()
        results = [result for source, group in _by_source(files) for result in self._parse(source, group)]
        newest = max((r.newest for r in results if r.newest), default=None)
        if not force and loaded_newest and newest and loaded_newest > newest:
            log.warning("%s: the database holds a newer dump (%s) than this one; kept it, "
                        "use --force to replace it with the older one", self.site, loaded)
            for table in FILE_TABLES.values():
                self.con.execute(_sql("delete_pending", table), params)
            return SiteReport(self.site, loaded, "kept-newer")
        snapshot = dump_id(self.site, results)
        rows = self._finish(snapshot, results)
        log.info("%s: loaded %d posts as %s in %.1f s", self.site, rows["posts"], snapshot,
                 time.monotonic() - started)
        return SiteReport(self.site, snapshot, "loaded", rows, sum(r.size_bytes for r in results))

    def _parse(self, source: Path, group: list[DumpFile]) -> Iterator[FileResult]:
        """Parse and insert the files of one source; an archive is decompressed once, member by member."""
        if group[0].kind == KIND_7Z:
            wanted = {f.member.rsplit("/", 1)[-1]: f for f in group if f.member}
            with archive_members(source) as members:
                for name, reader in members:
                    if name in wanted:
                        yield self._logged(parse_xml(reader, wanted[name], self.specs[wanted[name].file],
                                                     self.pool, self._sink(wanted[name]), self.on_progress,
                                                     self.in_flight))
            return
        for dump_file in group:
            with open_plain(dump_file.source) as handle:
                known = self.source_hashes[source]
                if dump_file.kind == KIND_CSV:
                    result = parse_csv(handle, dump_file, self.specs["Posts"], self._sink(dump_file),
                                       self.on_progress, known)
                else:
                    result = parse_xml(handle, dump_file, self.specs[dump_file.file], self.pool,
                                       self._sink(dump_file), self.on_progress, self.in_flight, known)
                yield self._logged(result)

    @staticmethod
    def _logged(result: FileResult) -> FileResult:
        log.info("%s: %d rows (%.1f MB) in %.1f s", result.dump_file.label, result.rows,
                 result.size_bytes / 1e6, result.parse_seconds)
        return result

    def _sink(self, dump_file: DumpFile) -> Sink:
        statement = _sql("insert_chunk", FILE_TABLES[dump_file.file])
        params = {"site": self.site, "dump_id": self.pending}

        def insert(chunk: pa.Table) -> None:
            # DuckDB finds `chunk` in this frame (a replacement scan). Not con.register: with DuckDB
            # 2.0 every registered-then-unregistered table stays in memory (RSS grew by ~2 MB/chunk).
            self.con.execute(statement, params)
        return insert

    def _finish(self, snapshot: str, results: list[FileResult]) -> dict[str, int]:
        """Drop the old snapshot, give the new rows their dump_id, derive and flag; rows per table."""
        con, site = self.con, {"site": self.site}
        for table in DUMP_TABLES:
            con.execute(_sql("delete_old", table), {**site, "pending": self.pending})
        for table in FILE_TABLES.values():
            con.execute(_sql("name_pending", table), {**site, "pending": self.pending, "dump_id": snapshot})
        con.execute(_sql("load_post_tags"), site)
        con.execute(_sql("flag_watermarks"), {"site": self.site, "rules": _rule_file("watermarks.v1.csv")})
        con.execute(_sql("flag_bots"), {"site": self.site, "rules": _rule_file("bots.v1.csv")})
        con.register("files", _dumps_rows(self.site, snapshot, results, self.source_hashes))
        try:
            con.execute(_sql("record_dump"))
        finally:
            con.unregister("files")
        return {t: con.execute(_sql("table_rows", t), {"site": self.site}).fetchone()[0] for t in DUMP_TABLES}


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Python's cycle collector off while loading: every chunk makes thousands of short-lived
    Arrow and NumPy wrappers (no cycles), whose allocations kept triggering collections that found
    nothing, about 4% of ingest's CPU in a profile."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def _settings(con: duckdb.DuckDBPyConnection, settings: dict[str, str]) -> Iterator[None]:
    """DuckDB `settings` for the duration of the block, then the previous values."""
    before = {name: con.execute(_sql("setting"), {"name": name}).fetchall()[0][0] for name in settings}
    for name, value in settings.items():
        con.execute(f"SET {name} = '{value}'")  # names and values from code, not user input
    try:
        yield
    finally:
        for name, value in before.items():
            con.execute(f"SET {name} = '{value}'")


def _dumps_rows(site: str, snapshot: str, results: list[FileResult],
                source_hashes: dict[Path, str]) -> pa.Table:
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    rows = [{
        "site": site, "dump_id": snapshot, "file": r.dump_file.file, "source": str(r.dump_file.source),
        "member": r.dump_file.member, "size_bytes": r.size_bytes, "sha256": r.sha256,
        "source_sha256": source_hashes[r.dump_file.source], "rows": r.rows, "newest_date": r.newest,
        "parse_seconds": r.parse_seconds, "pipeline_version": PIPELINE_VERSION, "ingested_at": now,
    } for r in results]
    return pa.Table.from_pylist(rows)


def _rule_file(name: str) -> str:
    return str(resources.files("pipeline") / "rules" / name)


_BLOCK = re.compile(r"^-- name: (\w+)\n", re.MULTILINE)


@functools.cache
def _statements() -> dict[str, str]:
    parts = _BLOCK.split(read_sql("ingest.sql"))
    return dict(zip(parts[1::2], parts[2::2]))


def _sql(name: str, table: str | None = None) -> str:
    """Named statement of pipeline/sql/ingest.sql, with a table identifier from DUMP_TABLES."""
    text = _statements()[name]
    if "{table}" in text:
        if table not in DUMP_TABLES:
            raise ValueError(f"not a dump table: {table!r}")
        text = text.replace("{table}", table)
    return text
