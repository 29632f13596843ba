"""Ingest: load Stack Exchange dumps (XML folders, .7z archives, SEDE CSV) into the dump tables.

    ingest(con, [Path("data/sample")]) -> IngestReport

The whole run is one transaction. Each site's snapshot gets its key before its first row is
parsed (the site's next `dump_key`); its files are parsed on every core and inserted as they parse
(pipeline/ingest/parsing.py: DuckDB inserts a file's first chunks while later ones parse, and the
next site is read while one is finished); then the site's previous snapshot is deleted and `dumps`
records the new one with its dated dump_id. Bad input, an error or a kill -9 anywhere rolls
everything back: the database holds the old snapshots or the new ones, never a mix. Re-ingesting a
dump whose files have the same checksums is a no-op unless `force`.

A snapshot replaces a loaded site only when it is plausibly the site's next one: not older (kept,
with a warning), and not empty or far smaller (refused, see `check_not_shrinking`), because an
empty or cut-off file would otherwise delete the site. Data Explorer exports of one site, given
together, form one snapshot; with `add` they join the site's loaded exports instead.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pyarrow as pa
from tqdm import tqdm

from pipeline.core.db import ensure_schema, registered, set_setting, setting, settings, transaction
from pipeline.core.files import sha256_file
from pipeline.core.paths import dump_source
from pipeline.core.gcpause import cyclic_gc_paused
from pipeline.core.gilswitch import quick_gil_handoff
from pipeline.ingest import STEP
from pipeline.ingest.columns import FILE_TABLES, TableSpec, table_spec
from pipeline.core.errors import DumpError, StackmineError
from pipeline.ingest.dumpfiles import KIND_CSV, KIND_XML, DumpFile, discover
from pipeline.ingest.parsing import Feed, FileResult, make_pool
from pipeline.ingest.staging import remove_stale
from pipeline.ingest.unique import SedeRows

log = logging.getLogger(__name__)

SQL = STEP.sql()
# Every table a site snapshot owns; all are replaced together.
DUMP_TABLES = STEP.writes
POOL_MIN_BYTES = 8 << 20  # below this, handing chunks to threads costs more than it saves
QUEUED_PER_WORKER = 4  # chunks parsed ahead of DuckDB per parser thread (2 MB of XML each)
# DuckDB while loading: a buffer cap (it spills beyond it, see `spill_to`; otherwise it
# caches up to 80% of RAM), which keeps ingest's peak memory flat whatever the input size, and one
# thread, because the parser threads share the cores with it (more DuckDB threads only added CPU
# and memory).
LOAD_SETTINGS = {"memory_limit": "96MB", "threads": "1"}
# A snapshot with fewer posts than this share of the loaded snapshot's never replaces it without
# --force: an empty file (`<posts/>`, a header-only export), a cut-off export or the wrong folder
# would otherwise delete the site. Real snapshots of a site only grow (deleted posts are a few
# percent); a real shrink this large is rare enough to ask for --force.
SHRINK_LIMIT = 0.5


@dataclass
class SiteReport:
    """The outcome for one site: loaded (with rows per table) or unchanged (already loaded)."""

    site: str
    dump_id: str
    status: str  # "loaded" | "added" (exports added, `add`) | "unchanged" (same dump already loaded)
    #              | "kept-newer" (given one is older)
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


class TableChoiceError(StackmineError, ValueError):
    """`--tables` names something that is not a dump file, or leaves out Posts."""


def dump_files(tables: Collection[str] | None) -> frozenset[str] | None:
    """The dump files (Posts, Users, ...) that `tables` names, as file or table names in any case
    (posts, post_links, PostLinks), each item one name or several separated by commas; None (every
    file) for None or empty. Posts is required: every later step reads it. Raises TableChoiceError
    naming the valid names."""
    names = [name.strip() for item in tables or () for name in item.split(",") if name.strip()]
    if not names:
        return None
    by_name = {name.lower(): file for file, table in FILE_TABLES.items() for name in (file, table)}
    unknown = [t for t in names if t.lower() not in by_name]
    if unknown:
        raise TableChoiceError(f"not a dump file: {', '.join(unknown)} (choose from {', '.join(FILE_TABLES)})")
    chosen = frozenset(by_name[t.lower()] for t in names)
    if "Posts" not in chosen:
        raise TableChoiceError(f"Posts is required (every later step reads it); given {', '.join(sorted(chosen))}")
    return None if chosen == frozenset(FILE_TABLES) else chosen


def by_site(sources: list[Path], site: str | None = None,
            files: Collection[str] | None = None) -> dict[str, list[DumpFile]]:
    """The dump files under `sources`, grouped by site (a site's files load together); with
    `files` (from `dump_files`) only those dump files (`only_files`)."""
    found: dict[str, list[DumpFile]] = {}
    for dump_file in discover([Path(s) for s in sources], site):
        found.setdefault(dump_file.site, []).append(dump_file)
    return only_files(found, files)[0]


def only_files(sites: dict[str, list[DumpFile]], files: Collection[str] | None
               ) -> tuple[dict[str, list[DumpFile]], dict[str, list[str]]]:
    """`sites` with only the dump files `files` (None: all), and per site the files left out.
    Those are never parsed: an archive's other members are decompressed past, not read."""
    kept: dict[str, list[DumpFile]] = {}
    left_out: dict[str, list[str]] = {}
    for name, found in sites.items():
        for dump_file in found:
            if files is None or dump_file.file in files:
                kept.setdefault(name, []).append(dump_file)
            else:
                log.info("%s: not loaded (not in --tables)", dump_file.label)
                left_out.setdefault(name, []).append(dump_file.file)
    return kept, {name: sorted(out) for name, out in left_out.items()}


def source_hashes(files: list[DumpFile], con: duckdb.DuckDBPyConnection | None = None) -> dict[Path, str]:
    """SHA-256 of each source file on disk (an archive once, however many members it has).

    With `con`, a plain XML file of a site the database does not hold is left out: nothing is
    decided by its checksum before it loads (it is not the same dump as a loaded one), and it is
    hashed while it is read (`parsing.Feed` adds it here), instead of being read twice, serially,
    before parsing starts (2 s for 2 GB)."""
    loaded: dict[str, bool] = {}

    def needed(dump_file: DumpFile) -> bool:
        if con is None or dump_file.kind != KIND_XML:
            return True
        if dump_file.site not in loaded:
            loaded[dump_file.site] = _loaded_dump(con, dump_file.site) is not None
        return loaded[dump_file.site]

    return {source: sha256_file(source) for source in dict.fromkeys(f.source for f in files if needed(f))}


def ingest(con: duckdb.DuckDBPyConnection, sources: list[Path], force: bool = False,
           progress: bool = False, workers: int | None = None, site: str | None = None,
           staging_dir: Path | None = None, add: bool = False,
           tables: Collection[str] | None = None) -> IngestReport:
    """Load every dump under `sources` into the database behind `con`.

    `site` names the site of XML files and SEDE CSV exports (default: their folder's name);
    `workers` parser threads (default: all cores); `staging_dir` is where DuckDB spills what does
    not fit its memory cap while loading (`spill_to`; default: DuckDB's own place, beside the
    database file); `add` adds
    SEDE exports to the site's loaded exports instead of replacing them; `tables` the dump files to
    load (`dump_files`; default: all): a site's snapshot is then those files only, its other
    tables are left empty, and `dumps` lists just them. Raises DumpError for bad input; the
    database is then as it was.
    """
    sites = by_site(sources, site, dump_files(tables))
    hashes = source_hashes([f for files in sites.values() for f in files], con)
    return ingest_sites(con, sites, hashes, force, progress, workers, staging_dir, add=add)


def ingest_sites(con: duckdb.DuckDBPyConnection, sites: dict[str, list[DumpFile]], hashes: dict[Path, str],
                 force: bool = False, progress: bool = False, workers: int | None = None,
                 staging_dir: Path | None = None, reload: Collection[str] = (), add: bool = False) -> IngestReport:
    """`ingest` for files already found and checksummed (`by_site`, `source_hashes`; a plain XML
    file of a site not loaded may lack its checksum, which is added once it was read).

    A site whose files are loaded with the same checksums is left as it is unless `force`, or
    unless it is in `reload` (the same dump, but its rule files changed since it was loaded).
    With `add`, exports already part of a site's snapshot are left out, and a site none of whose
    given exports is new is unchanged.
    """
    started = time.monotonic()
    report = IngestReport()
    todo, adding = {}, set()
    for name, files in sites.items():
        files = distinct_files(files, hashes)
        loaded = _loaded_dump(con, name)
        if add:
            files = exports_to_add(con, name, files, hashes)
            if not files:
                log.info("%s: every export given is already part of %s", name, loaded)
                report.sites.append(SiteReport(name, loaded, "unchanged"))
                continue
            if loaded:
                adding.add(name)
            todo[name] = files
        elif not force and name not in reload and loaded and _same_files(con, name, files, hashes):
            log.info("%s: unchanged (same checksums as %s); skipping, use --force to reload", name, loaded)
            report.sites.append(SiteReport(name, loaded, "unchanged"))
        else:
            todo[name] = files
    if todo:
        _load(con, todo, report, force, progress, workers, staging_dir, hashes, adding)
    report.seconds = time.monotonic() - started
    return report


def distinct_files(files: list[DumpFile], source_hashes: dict[Path, str]) -> list[DumpFile]:
    """`files` without repeats of the same content: a Data Explorer export saved twice under
    other names is read once (its rows would all be repeats), and `dumps` keeps one row for it."""
    kept: dict[tuple[str, str | None, str], DumpFile] = {}
    for dump_file in files:
        key = (dump_file.file, dump_file.member, source_hashes.get(dump_file.source, str(dump_file.source)))
        if key in kept:
            log.info("%s: the same file as %s; read once", dump_file.label, kept[key].label)
            continue
        kept[key] = dump_file
    return list(kept.values())


def _load(con: duckdb.DuckDBPyConnection, todo: dict[str, list[DumpFile]], report: IngestReport,
          force: bool, progress: bool, workers: int | None, staging_dir: Path | None,
          source_hashes: dict[Path, str], adding: Collection[str] = ()) -> None:
    """Parse and insert every file of `todo`, site after site, in one transaction.

    Sites in `adding` keep their loaded exports and gain the given ones; every other site is
    replaced, unless the database holds a newer snapshot (kept, with a warning: the new rows are
    deleted again) or the new one is empty or far smaller (refused: `check_not_shrinking`, which
    rolls the whole run back).
    """
    specs = table_specs(con)
    seen = {name: loaded_exports(con, name) if name in adding else SedeRows() for name in todo}
    total = sum(f.size for files in todo.values() for f in files)
    workers = workers or os.cpu_count() or 1
    if total < POOL_MIN_BYTES:
        workers = 1
    show = progress and sys.stderr.isatty()
    remove_stale(staging_dir)  # folders that killed runs of earlier versions (or `run` with Dask) left
    spill_to(con, staging_dir)
    with cyclic_gc_paused(), quick_gil_handoff():
        started = time.monotonic()
        with settings(con, LOAD_SETTINGS), transaction(con):
            rekeyed = rekey_dumps(con)
            # each snapshot's key, fixed before the feed parses its first chunk
            keys = {name: loaded_key(con, name) if name in adding else next_dump_key(con, name) for name in todo}
            with make_pool(workers) as pool, \
                    tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc="ingest",
                         disable=not show, file=sys.stderr) as bar, \
                    Feed(todo, specs, pool, QUEUED_PER_WORKER * workers, source_hashes, bar.update, seen) as feed:
                for name in todo:
                    load = add_exports if name in adding else load_site
                    report.sites.append(load(con, name, keys[name], feed, source_hashes, force))
            loaded = time.monotonic()
        if rekeyed:
            ensure_schema(con, [STEP.tables()])  # the rebuilt table's comments
    log.info("loaded %d site(s) in %.1f s, committed in %.1f s", len(todo), loaded - started,
             time.monotonic() - loaded)


def spill_to(con: duckdb.DuckDBPyConnection, staging_dir: Path | None) -> None:
    """Make `staging_dir` (when given) DuckDB's temp_directory, where it spills what does not fit
    its memory cap. Nothing else is staged: rows are inserted as they parse.

    Set for the rest of the connection, not only for the load: DuckDB cannot switch its temp
    directory once it has spilled there, and the folder is the user's (it stays). DuckDB names its
    files there by process and removes them when done."""
    if staging_dir is None:
        return
    folder = str(Path(staging_dir).resolve())
    if setting(con, "temp_directory") == folder:
        return
    try:
        set_setting(con, "temp_directory", folder)
    except duckdb.NotImplementedException:  # this connection spilled elsewhere already
        log.warning("DuckDB keeps spilling where it spilled before on this connection, not in %s", folder)


def check_not_shrinking(con: duckdb.DuckDBPyConnection, site: str, results: list[FileResult],
                        new_key: int | None = None) -> None:
    """Refuse (DumpError) a snapshot that would replace `site` with nothing or with far less (see
    `refuse_shrinking`); `new_key` is its key when its rows are already in beside the loaded ones."""
    where = next((r.dump_file.label for r in results if r.dump_file.file == "Posts"), results[0].dump_file.label)
    refuse_shrinking(con, site, sum(r.rows for r in results if r.dump_file.file == "Posts"),
                     sum(r.rows for r in results), where, new_key)


def refuse_shrinking(con: duckdb.DuckDBPyConnection, site: str, posts: int, rows: int, where: str,
                     new_key: int | None = None) -> None:
    """Refuse (DumpError naming `where`) a snapshot of `site` with `posts` posts and `rows` rows
    in all that would replace the loaded one with nothing or with far less.

    A snapshot without rows, or with fewer posts than SHRINK_LIMIT of the loaded one, is almost
    always a mistake (an empty `<posts/>`, a header-only export, a cut-off export, one chunk of
    several), and loading it deletes the site from every table. The loaded snapshot is kept; the
    message says which, why, and that --force replaces it anyway. A new site with no rows at all
    is refused too: there is nothing to load. With `new_key`, the rows of that snapshot (the new
    one, inserted in this transaction) are not counted as loaded.
    """
    loaded = _loaded_dump(con, site)
    if loaded is None:
        if rows == 0:
            raise DumpError(where, None, f"holds no rows: nothing to load for {site}",
                            "check the file (an empty export or dump file, or the wrong one)")
        return
    loaded_posts = con.execute(SQL("other_posts"), {"site": site, "dump_key": new_key}).fetchall()[0][0]
    if rows == 0 or posts < SHRINK_LIMIT * loaded_posts:
        raise DumpError(where, None, f"refused: this snapshot of {site} holds {posts:,} posts ({rows:,} rows "
                        f"in all), the database {loaded_posts:,} ({loaded}); a snapshot with fewer than half "
                        f"the loaded posts never replaces a site. Kept {loaded}",
                        "check the files (an empty or cut-off file, or the wrong folder); pass --force if the "
                        "site really shrank; to add a Data Explorer export to the loaded ones, pass --add")


def exports_to_add(con: duckdb.DuckDBPyConnection, site: str, files: list[DumpFile],
                   source_hashes: dict[Path, str]) -> list[DumpFile]:
    """The exports of `files` to add to `site` (`add`): those not part of its snapshot yet.

    Only Data Explorer exports can be added, and only to a snapshot made of exports: a dump is a
    whole snapshot, and mixing its rows with an export's would make a snapshot of neither.
    """
    dumps = [f for f in files if f.kind != KIND_CSV]
    if dumps:
        raise DumpError(dumps[0].label, None, "--add adds Data Explorer exports (.csv) to a site; this is "
                        "a dump file, which is a whole snapshot", "ingest dumps without --add (a dump "
                        "replaces the site's snapshot)")
    loaded = con.execute(SQL("loaded_sources"), {"site": site}).fetchall()
    if any(not source.lower().endswith(".csv") for source, _ in loaded):
        raise DumpError(files[0].label, None, f"--add: {site} holds a dump ({_loaded_dump(con, site)}), "
                        "not Data Explorer exports; an export cannot be added to a dump",
                        "give the export a site of its own with --site NAME, or ingest it without --add to "
                        "replace the dump (--force)")
    have = {sha for _, sha in loaded}
    return [f for f in files if source_hashes[f.source] not in have]


def loaded_exports(con: duckdb.DuckDBPyConnection, site: str) -> SedeRows:
    """The posts of `site`'s loaded snapshot as SedeRows, so exports added to it are checked
    against them (the same post again is dropped, a different one refused)."""
    seen, label = SedeRows(), f"the loaded snapshot {_loaded_dump(con, site)}"
    # batch by batch: a site made of many exports holds bodies of hundreds of MB; only a digest
    # per post is kept
    for batch in con.sql(SQL("loaded_posts"), params={"site": site}).to_arrow_reader(50_000):
        seen.add(pa.Table.from_batches([batch]), label, None)
    return seen


def rekey_dumps(con: duckdb.DuckDBPyConnection) -> bool:
    """Give a `dumps` table made before Data Explorer exports could be combined its new key.

    It was keyed by (site, file), which allows one Posts file per site; several exports of one
    site need (site, file, source_sha256) (their `source` may be the same name, `site/export.csv`,
    from two folders; files with equal checksums are read once). DuckDB cannot change a key in
    place, so the table is rebuilt
    from its rows, inside the caller's load transaction (a failed or killed load leaves the old
    table as it was, and a refused run does not touch it).
    """
    [(key,)] = con.execute(SQL("dumps_key")).fetchall() or [(None,)]
    if key is None or key == ["site", "file", "source_sha256"]:
        return False
    con.execute(SQL("rename_dumps"))
    con.execute(STEP.tables().text())
    con.execute(SQL("copy_dumps"))
    con.execute(SQL("drop_old_dumps"))
    log.info("dumps: rebuilt with the key (site, file, source_sha256)")
    return True


def table_specs(con: duckdb.DuckDBPyConnection) -> dict[str, TableSpec]:
    """Spec of each dump file's table, read from the database's own schema (the DDL)."""
    specs = {}
    for file, table in FILE_TABLES.items():
        described = con.execute(SQL("describe", table=table)).fetchall()
        specs[file] = table_spec(table, [(row[0], row[1], row[2]) for row in described])
    return specs


def _loaded_dump(con: duckdb.DuckDBPyConnection, site: str) -> str | None:
    return con.execute(SQL("loaded_dump"), {"site": site}).fetchall()[0][0]


def staged_newest(results: list[FileResult]) -> datetime | None:
    """The newest date of a parsed snapshot (how current it is)."""
    return max((r.newest for r in results if r.newest), default=None)


def newer_loaded(con: duckdb.DuckDBPyConnection, site: str, newest: datetime | None,
                 files: Collection[str] | None = None) -> str | None:
    """dump_id of the loaded snapshot of `site` when it is newer than one whose newest date is
    `newest`: such a snapshot is kept (never downgrade silently) and a warning says so. With
    `files`, the loaded snapshot's date is that of those dump files only."""
    if files is None:
        [(loaded, loaded_newest)] = con.execute(SQL("loaded_dump"), {"site": site}).fetchall()
    else:
        [(loaded, loaded_newest)] = con.execute(SQL("loaded_dump_of"), {"site": site, "files": list(files)}).fetchall()
    if loaded_newest and newest and loaded_newest > newest:
        log.warning("%s: the database holds a newer dump (%s) than this one; kept it, "
                    "use --force to replace it with the older one", site, loaded)
        return loaded
    return None


def newer_loaded_than(con: duckdb.DuckDBPyConnection, site: str, results: list[FileResult]) -> str | None:
    """`newer_loaded` for a staged snapshot, judged on the dump files both it and the loaded one
    hold: with `--tables` two snapshots of one dump may hold different files, whose newest dates
    differ without either being older."""
    held = {row[0] for row in con.execute(SQL("loaded_files"), {"site": site}).fetchall()}
    common = sorted(held & {r.dump_file.file for r in results})
    return newer_loaded(con, site, staged_newest([r for r in results if r.dump_file.file in common]), common)


def _same_files(con: duckdb.DuckDBPyConnection, site: str, files: list[DumpFile],
                source_hashes: dict[Path, str]) -> bool:
    loaded = con.execute(SQL("loaded_files"), {"site": site}).fetchall()
    given = sorted((f.file, source_hashes[f.source], STEP.version) for f in files)
    return sorted(tuple(row) for row in loaded) == given


def dump_id(site: str, results: list[FileResult]) -> str:
    """`site@YYYY-MM-DD-xxxxxxxx`: newest date in the snapshot + hash of its files' checksums."""
    return snapshot_id(site, [(r.dump_file.file, r.sha256, r.newest) for r in results])


def snapshot_id(site: str, files: list[tuple[str, str, datetime | None]]) -> str:
    """`dump_id` from (file, sha256, newest date) of every file of a snapshot."""
    newest = max((date for _, _, date in files if date), default=None)
    lines = "\n".join(sorted(f"{file}:{sha256}" for file, sha256, _ in files))
    digest = hashlib.sha256(lines.encode()).hexdigest()[:8]
    return f"{site}@{newest:%Y-%m-%d}-{digest}" if newest else f"{site}@undated-{digest}"


def next_dump_key(con: duckdb.DuckDBPyConnection, site: str) -> int:
    """The dump_key the next snapshot of `site` gets (see sql/tables.sql)."""
    return con.execute(SQL("next_key"), {"site": site}).fetchall()[0][0]


def loaded_key(con: duckdb.DuckDBPyConnection, site: str) -> int:
    """The dump_key of the loaded snapshot of `site`, which exports added with --add join (a site
    not loaded yet: its first key)."""
    key = con.execute(SQL("loaded_key"), {"site": site}).fetchall()[0][0]
    return key if key is not None else next_dump_key(con, site)


def load_site(con: duckdb.DuckDBPyConnection, site: str, key: int, feed: Feed, source_hashes: dict[Path, str],
              force: bool = False) -> SiteReport:
    """Insert the feed's next site as snapshot `key` (`next_dump_key`), then replace its previous
    snapshot with it (inside the caller's transaction). Keeps the loaded snapshot instead when it
    is newer (the new rows are deleted again), unless `force`; refuses an empty or far smaller one
    (DumpError, which rolls the caller's transaction back), unless `force`."""
    params = {"site": site, "dump_key": key}
    started = time.monotonic()
    results = _insert_files(con, site, key, feed, f"{site}: loading into the database as snapshot {key}")
    newer = None if force else newer_loaded_than(con, site, results)
    if newer:
        for table in DUMP_TABLES:
            con.execute(SQL("delete_snapshot", table=table), params)
        return SiteReport(site, newer, "kept-newer")
    if not force:
        check_not_shrinking(con, site, results, key)
    snapshot = dump_id(site, results)
    for table in DUMP_TABLES:
        con.execute(SQL("delete_other_snapshots", table=table), params)
    rows = _finish(con, site, key, snapshot, results, source_hashes)
    log.info("%s: loaded %s with %d posts in %.1f s", site, snapshot, rows["posts"], time.monotonic() - started)
    return SiteReport(site, snapshot, "loaded", rows, sum(r.size_bytes for r in results))


def add_exports(con: duckdb.DuckDBPyConnection, site: str, key: int, feed: Feed, source_hashes: dict[Path, str],
                force: bool = False) -> SiteReport:
    """Add the feed's next site, Data Explorer exports, to the loaded exports of `site` (inside
    the caller's transaction): their new posts are inserted under the loaded snapshot's key (rows
    already loaded were dropped while reading), and the site's snapshot becomes the loaded files
    plus these, under a new dump_id that `dumps` records for all of them. `key` is the loaded
    snapshot's (`loaded_key`)."""
    started = time.monotonic()
    results = _insert_files(con, site, key, feed, f"{site}: adding export(s) to its snapshot {key}")
    loaded = con.execute(SQL("loaded_file_dates"), {"site": site}).fetchall()
    snapshot = snapshot_id(site, [*[tuple(row) for row in loaded],
                                  *[(r.dump_file.file, r.sha256, r.newest) for r in results]])
    con.execute(SQL("set_dump_id"), {"site": site, "dump_id": snapshot})
    con.execute(SQL("delete_site", table="post_tags"), {"site": site})  # derived again from every post below
    rows = _finish(con, site, key, snapshot, results, source_hashes)
    log.info("%s: added %d export(s), now %s with %d posts, in %.1f s", site, len(results), snapshot,
             rows["posts"], time.monotonic() - started)
    return SiteReport(site, snapshot, "added", rows, sum(r.size_bytes for r in results))


def _insert_files(con: duckdb.DuckDBPyConnection, site: str, key: int, feed: Feed, announce: str) -> list[FileResult]:
    """Insert each file of the feed's next site (`site`) into its table as snapshot `key`, while
    the pool parses its later chunks; their FileResults. `announce` is logged when the site's
    first rows go in (a file refused before any row of the site was read logs only its error)."""
    results = []
    announced = [False]
    for result, rows in feed.site_files(site):
        failure: list[BaseException] = []

        def guarded(rows=rows, failure=failure):
            try:
                for batch in rows:
                    if not announced[0]:
                        log.info("%s", announce)
                        announced[0] = True
                    yield batch
            except BaseException as exc:
                failure.append(exc)
                raise

        stream = pa.RecordBatchReader.from_batches(rows.schema, guarded())  # noqa: F841 (read by name)
        try:
            con.execute(SQL("insert_stream", table=FILE_TABLES[result.dump_file.file]), {"site": site, "dump_key": key})
        except duckdb.Error:
            if failure:  # the stream's own error (a DumpError), not DuckDB's wrapping of it
                raise failure[0] from None
            raise
        if failure:
            raise failure[0]
        log.info("%s: %d rows (%.1f MB) in %.1f s", result.dump_file.label, result.rows, result.size_bytes / 1e6,
                 result.parse_seconds)
        results.append(result)
    return results


def _finish(con: duckdb.DuckDBPyConnection, site: str, key: int, snapshot: str, results: list[FileResult],
            source_hashes: dict[Path, str]) -> dict[str, int]:
    """Derive post_tags and the flags of snapshot `key`, record its files in `dumps`; the site's
    rows per table after it (inside the caller's transaction)."""
    params = {"site": site, "dump_key": key}
    con.execute(SQL("load_post_tags"), params)
    watermarks, bots = STEP.rules
    con.execute(SQL("flag_watermarks"), {**params, "rules": STEP.rule_file(watermarks)})
    con.execute(SQL("flag_bots"), {**params, "rules": STEP.rule_file(bots)})
    with registered(con, files=_dumps_rows(site, snapshot, key, results, source_hashes)):
        con.execute(SQL("record_dump"))
    return {t: con.execute(SQL("table_rows", table=t), {"site": site}).fetchall()[0][0] for t in DUMP_TABLES}


def _dumps_rows(site: str, snapshot: str, key: int, results: list[FileResult],
                source_hashes: dict[Path, str]) -> pa.Table:
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    rows = [{
        "site": site, "dump_id": snapshot, "dump_key": key, "file": r.dump_file.file,
        "source": dump_source(site, r.dump_file.source), "member": r.dump_file.member, "size_bytes": r.size_bytes,
        "sha256": r.sha256, "source_sha256": source_hashes[r.dump_file.source], "rows": r.rows,
        "newest_date": r.newest, "parse_seconds": r.parse_seconds, "pipeline_version": STEP.version,
        "ingested_at": now,
    } for r in results]
    return pa.Table.from_pylist(rows)
