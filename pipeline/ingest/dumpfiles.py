"""Find the dump files behind the SOURCE arguments of `stackmine ingest`, and stream their bytes.

A source may be a site folder of XML files, a `site.7z` archive, the split `site-Posts.7z` form,
a folder of many of these, a single dump XML file or a Data Explorer (SEDE) CSV export. Archives
are streamed member by member through py7zr into a bounded queue: never extracted to disk, and
memory stays flat whatever the archive size.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import py7zr
import py7zr.exceptions
from py7zr.io import Py7zIO, WriterFactory

from pipeline.ingest.columns import FILE_TABLES
from pipeline.core.errors import DumpError
from pipeline.core.sitenames import is_site_name, looks_like_a_site

log = logging.getLogger(__name__)

KIND_XML, KIND_7Z, KIND_CSV = "xml", "7z", "csv"


@dataclass(frozen=True)
class DumpFile:
    """One dump file to load: which site and table it feeds, and where its bytes are."""

    site: str
    file: str  # Posts, Users, ... (the dump file's stem)
    source: Path  # the XML file, archive or CSV on disk
    member: str | None  # member name inside a .7z archive
    size: int  # uncompressed bytes, for the progress bar
    kind: str

    @property
    def label(self) -> str:
        """How error messages name this file."""
        return f"{self.source}:{self.member}" if self.member else str(self.source)


def discover(sources: list[Path], site: str | None = None) -> list[DumpFile]:
    """Every dump file under `sources`; `site` names the site of XML files and SEDE CSV exports
    (default: their folder's name).

    Several Data Explorer exports of one site may be given together: they form one snapshot.
    Any other file twice for one site (two Posts.xml, a dump and an export) is refused.
    """
    if site is not None and not is_site_name(site):
        raise DumpError(f"--site {site!r}", None, "not a site name (letters, digits, dots and hyphens, "
                        "starting with a letter or digit)", "give the site's host name, e.g. --site "
                        "stackoverflow.com or --site ai.stackexchange.com")
    found: list[DumpFile] = []
    for source in sources:
        if not source.exists():
            raise DumpError(str(source), None, "no such file or folder", "check the path")
        found.extend(_folder(source, site) if source.is_dir() else _file(source, site, explicit=True))
    unique: dict[Path, DumpFile] = {}
    for dump_file in found:  # the same file given twice (a folder and a file in it) is read once
        unique.setdefault(dump_file.source.resolve() / (dump_file.member or ""), dump_file)
    seen: dict[tuple[str, str], DumpFile] = {}
    for dump_file in unique.values():
        key = (dump_file.site, dump_file.file)
        if key in seen and not (dump_file.kind == seen[key].kind == KIND_CSV):
            raise DumpError(dump_file.label, None, f"{dump_file.site} {dump_file.file} is also in "
                            f"{seen[key].label}", "give one snapshot of a site per run (several Data "
                            "Explorer exports of one site may be given together)")
        seen[key] = dump_file
    for name in dict.fromkeys(f.site for f in unique.values()):
        _check_name(name, site)
    return list(unique.values())


def _check_name(name: str, given: str | None) -> None:
    """Warn when a site's name does not look like a Stack Exchange site (see pipeline.core.sitenames)."""
    if looks_like_a_site(name):
        return
    if given is None:
        log.warning("%r does not look like a site name (e.g. ai.stackexchange.com): it comes from the "
                    "folder or file name and is loaded as a site of its own; pass --site NAME to name "
                    "the site", name)
    else:
        log.warning("--site %r does not look like a site name (e.g. ai.stackexchange.com); loaded "
                    "under that name", name)


def _folder(folder: Path, site: str | None) -> list[DumpFile]:
    xml = [p for p in sorted(folder.glob("*.xml")) if p.stem in FILE_TABLES]
    if xml:
        name = site or folder.resolve().name
        return [DumpFile(name, p.stem, p, None, p.stat().st_size, KIND_XML) for p in xml]
    found: list[DumpFile] = []
    for child in sorted(folder.iterdir()):
        if child.is_dir():
            found.extend(_folder(child, site))
        elif child.suffix.lower() in (".7z", ".csv"):
            found.extend(_file(child, site, explicit=False))
        else:
            log.debug("skipping %s: not a dump file", child)
    if not found:
        raise DumpError(str(folder), None, "no dump files here (*.xml named like Posts.xml, *.7z, "
                        "*.csv)", "point at a site folder, a .7z archive or a SEDE CSV export")
    return found


def _file(path: Path, site: str | None, explicit: bool) -> list[DumpFile]:
    suffix = path.suffix.lower()
    if suffix == ".7z":
        return _archive(path)
    if suffix == ".csv":
        return [DumpFile(site or path.resolve().parent.name, "Posts", path, None, path.stat().st_size, KIND_CSV)]
    if suffix == ".xml" and path.stem in FILE_TABLES:
        return [DumpFile(site or path.resolve().parent.name, path.stem, path, None, path.stat().st_size, KIND_XML)]
    raise DumpError(str(path), None, "not a dump source", "give a site folder, a .7z dump archive, "
                    "a dump XML file (Posts.xml, Users.xml, ...) or a SEDE .csv export")


def _archive(path: Path) -> list[DumpFile]:
    """Members of `site.7z` or `site-Posts.7z` that are dump files, in archive order."""
    name = path.name[: -len(".7z")]
    site, _, part = name.rpartition("-")
    if not (site and part in FILE_TABLES):
        site = name
    try:
        with py7zr.SevenZipFile(path) as archive:
            infos = archive.list()
    except (py7zr.exceptions.Bad7zFile, py7zr.exceptions.ArchiveError, OSError, EOFError) as exc:
        raise DumpError(str(path), None, f"not a readable 7z archive ({exc})",
                        "re-download the archive; check its SHA-256") from None
    found = []
    for info in infos:
        stem = PurePosixPath(info.filename).stem
        if not info.is_directory and PurePosixPath(info.filename).suffix == ".xml" and stem in FILE_TABLES:
            found.append(DumpFile(site, stem, path, info.filename, info.uncompressed or 0, KIND_7Z))
    if not found:
        raise DumpError(str(path), None, "archive holds no dump files (Posts.xml, Users.xml, ...)",
                        "give a Stack Exchange dump archive")
    return found


@contextmanager
def open_plain(path: Path) -> Iterator[BinaryIO]:
    """A dump XML file or CSV, unbuffered beyond the reads the parser asks for."""
    with path.open("rb") as handle:
        yield handle


class _Cancelled(Exception):
    """Raised inside the extraction thread to stop py7zr when the reader gave up."""


class _QueueWriter(Py7zIO):
    """py7zr writes a member's bytes here; they go to the reading thread through the queue."""

    def __init__(self, name: str, sink: "_ArchiveStream") -> None:
        self.name, self.sink, self._size = name, sink, 0

    def write(self, s: bytes | bytearray) -> int:
        self._size += len(s)
        self.sink.put(("data", bytes(s)))
        return len(s)

    def close(self) -> None:
        self.sink.put(("end", self.name))

    def read(self, size: int | None = None) -> bytes:
        return b""

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0

    def flush(self) -> None:
        return None

    def size(self) -> int:
        return self._size


class _ArchiveStream(WriterFactory):
    """Runs py7zr extraction in a thread, handing members to the caller one at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.items: queue.Queue = queue.Queue(maxsize=64)  # bounded: py7zr waits for the parser
        self.cancelled = threading.Event()
        self.thread = threading.Thread(target=self._extract, daemon=True)

    def create(self, filename: str) -> Py7zIO:
        name = PurePosixPath(filename).name
        self.put(("start", name))
        return _QueueWriter(name, self)

    def put(self, item: tuple) -> None:
        while True:
            if self.cancelled.is_set():
                raise _Cancelled()
            try:
                self.items.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def _extract(self) -> None:
        error: BaseException | None = None
        try:
            # A file object (not a path) makes py7zr decompress sequentially, in member order.
            with self.path.open("rb") as handle, py7zr.SevenZipFile(handle) as archive:
                archive.extractall(factory=self)
        except _Cancelled:
            return
        except BaseException as exc:  # reported to the reading thread, which raises it
            error = exc
        try:
            self.put(("done", error))
        except _Cancelled:
            pass

    def members(self) -> Iterator[tuple[str, "_MemberReader"]]:
        """(name, reader) for each member in archive order; read each to its end before the next."""
        self.thread.start()
        while True:
            kind, value = self.items.get()
            if kind == "done":
                if value is not None:
                    raise DumpError(str(self.path), None, f"archive is damaged ({value})",
                                    "re-download the archive; check its SHA-256")
                return
            if kind == "start":
                reader = _MemberReader(self.items, self.path)
                yield value, reader
                reader.drain()

    def close(self) -> None:
        self.cancelled.set()
        self.thread.join(timeout=30)


class _MemberReader:
    """File-like `read(n)` over one member's bytes as they arrive from the extraction thread."""

    def __init__(self, items: queue.Queue, path: Path) -> None:
        self.items, self.path, self.buffer, self.done = items, path, bytearray(), False

    def read(self, size: int = -1) -> bytes:
        while not self.done and (size < 0 or len(self.buffer) < size):
            kind, value = self.items.get()
            if kind == "data":
                self.buffer += value
            elif kind == "end":
                self.done = True
            else:  # extraction stopped inside this member
                self.done = True
                raise DumpError(str(self.path), None, f"archive is damaged ({value})",
                                "re-download the archive; check its SHA-256")
        size = len(self.buffer) if size < 0 else min(size, len(self.buffer))
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def drain(self) -> None:
        while not self.done:
            self.read(1 << 20)


@contextmanager
def archive_members(path: Path) -> Iterator[Iterator[tuple[str, _MemberReader]]]:
    """Stream the members of a .7z archive; stops the extraction thread however the caller exits."""
    stream = _ArchiveStream(path)
    try:
        yield stream.members()
    finally:
        stream.close()
