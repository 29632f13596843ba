"""Acquisition against a real HTTP server on 127.0.0.1 serving real dump archives.

Served in archive.org layout `BASE/<site>.7z`: the bundled sample's ai.stackexchange.com.7z
(1,441,997 bytes, SHA-256 in data/sample/README.md) and, when ../shared/data is here, the original
2014-09 archive of meta.avp.stackexchange.com (319,924 bytes, SHA-256 in ../shared/data/README.md).
"""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest

from tests.support import SAMPLE, SHARED_DATA
from pipeline.acquire.fetch import acquire, load_checksums, parse_checksums
from pipeline.core.errors import ChecksumMismatch, DownloadError, MirrorError
from tests.support.rangeserver import RangeServer

AVP = "meta.avp.stackexchange.com"
AVP_SHA = "7cb099e808ac5266c530b392e3ce3e94240522f9647e7b5fc0eac0300c1fe551"
AVP_SIZE = 319_924
AI = "ai.stackexchange.com"
AI_SHA = "b694d5561b04fcf2ef71aa64a5bc5cc61af2d9de72f6759900d8dc37d65cd959"
AI_SIZE = 1_441_997


@pytest.fixture()
def mirror(tmp_path: Path):
    """A folder laid out like archive.org, served over HTTP for the length of one test."""
    root = tmp_path / "mirror"
    root.mkdir()
    shutil.copyfile(SAMPLE / f"{AI}.7z", root / f"{AI}.7z")
    if SHARED_DATA.is_dir():
        shutil.copyfile(SHARED_DATA / "dumps" / "2014-09" / f"{AVP}.7z", root / f"{AVP}.7z")
    (root / "sha256sums.txt").write_text(f"{AVP_SHA}  {AVP}.7z\n{AI_SHA}  {AI}.7z\n")
    server = RangeServer(root).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.shared
def test_full_download_is_verified_read_only_and_skipped_next_time(mirror: RangeServer, tmp_path: Path) -> None:
    sums = load_checksums(f"{mirror.url}/sha256sums.txt")
    got = acquire([AVP, AI], mirror.url, tmp_path / "raw", "2014-09", sums)
    assert [(f.status, f.sha256, f.size_bytes) for f in got] == [
        ("downloaded", AVP_SHA, AVP_SIZE),
        ("downloaded", AI_SHA, AI_SIZE),
    ]
    assert got[0].path == tmp_path / "raw" / "2014-09" / f"{AVP}.7z"
    assert [stat.S_IMODE(f.path.stat().st_mode) for f in got] == [0o444, 0o444]
    assert sorted(p.name for p in got[0].path.parent.iterdir()) == [f"{AI}.7z", f"{AVP}.7z"]
    again = acquire([AVP, AI], mirror.url, tmp_path / "raw", "2014-09", sums)
    assert [f.status for f in again] == ["present", "present"]
    assert [r for r in mirror.requests if r[0].endswith(".7z")] == [(f"{AVP}.7z", None), (f"{AI}.7z", None)]


def test_dropped_connection_resumes_with_range(mirror: RangeServer, tmp_path: Path) -> None:
    mirror.drop_once.add(f"{AI}.7z")
    with pytest.raises(DownloadError, match="connection dropped after 720998 of 1441997 bytes"):
        acquire([AI], mirror.url, tmp_path / "raw", "2017-03", {f"{AI}.7z": AI_SHA})
    part = tmp_path / "raw" / "2017-03" / f"{AI}.7z.part"
    assert part.stat().st_size == AI_SIZE // 2
    [got] = acquire([AI], mirror.url, tmp_path / "raw", "2017-03", {f"{AI}.7z": AI_SHA})
    assert (got.status, got.sha256, got.size_bytes) == ("resumed", AI_SHA, AI_SIZE)
    assert mirror.requests == [(f"{AI}.7z", None), (f"{AI}.7z", f"bytes={AI_SIZE // 2}-")]
    assert not part.exists()


def test_checksum_mismatch_is_refused_and_nothing_kept(mirror: RangeServer, tmp_path: Path) -> None:
    wrong = "0" * 64
    with pytest.raises(ChecksumMismatch, match=f"published list says {wrong}"):
        acquire([AI], mirror.url, tmp_path / "raw", "2017-03", {f"{AI}.7z": wrong})
    assert list((tmp_path / "raw" / "2017-03").iterdir()) == []


def test_local_folder_mirror_and_missing_site(mirror: RangeServer, tmp_path: Path) -> None:
    [got] = acquire([AI], str(mirror.root), tmp_path / "raw", "2017-03", {f"{AI}.7z": AI_SHA})
    assert (got.status, got.sha256) == ("copied", AI_SHA)
    with pytest.raises(MirrorError, match="HTTP 404"):
        acquire(["nosuch.stackexchange.com"], mirror.url, tmp_path / "raw", "2014-09")


def test_checksum_list_format_errors_name_the_line() -> None:
    assert parse_checksums(f"# sums\n{AVP_SHA} *dir/{AVP}.7z\n") == {f"{AVP}.7z": AVP_SHA}
    with pytest.raises(ValueError, match="line 2"):
        parse_checksums(f"{AVP_SHA}  a.7z\nnot a checksum line\n", origin="sums.txt")
