"""A bad download never becomes raw data, a resume never splices two files, and a mirror that
cannot answer is said so at once (issue 12.3, 13.1).

Against the real HTTP server of tests/support/rangeserver.py serving the sample's real archive
(ai.stackexchange.com.7z, 1,441,997 bytes), cut copies of it, an HTML error page in its place,
and a second real archive (tests/data/meta.mathoverflow.net/Posts.xml packed with py7zr) standing
for the file changing on the server.
"""

from __future__ import annotations

import hashlib
import shutil
import socket
import subprocess
import time
from pathlib import Path

import py7zr
import pytest

from pipeline.acquire.fetch import acquire, check_archive, load_checksums, probe_mirror
from pipeline.core.errors import BadArchive, ChecksumListError, DownloadError, MirrorError
from tests.support import SAMPLE, TEST_DATA
from tests.support.procs import free_port, stackmine_cmd
from tests.support.rangeserver import RangeServer

AI = "ai.stackexchange.com"
NAME = f"{AI}.7z"
AI_SHA = "b694d5561b04fcf2ef71aa64a5bc5cc61af2d9de72f6759900d8dc37d65cd959"
AI_SIZE = 1_441_997
ERROR_PAGE = b"<!DOCTYPE html>\n<html><head><title>503 Service Unavailable</title></head><body>try later</body></html>\n"


@pytest.fixture()
def mirror(tmp_path: Path):
    root = tmp_path / "mirror"
    root.mkdir()
    shutil.copyfile(SAMPLE / NAME, root / NAME)
    server = RangeServer(root).start()
    try:
        yield server
    finally:
        server.stop()


def other_archive(tmp_path: Path) -> bytes:
    """A second real 7z archive: tests/data's meta.mathoverflow.net Posts.xml, packed."""
    path = tmp_path / "other.7z"
    with py7zr.SevenZipFile(path, "w") as archive:
        archive.write(TEST_DATA / "meta.mathoverflow.net" / "Posts.xml", "Posts.xml")
    return path.read_bytes()


def raw_files(tmp_path: Path) -> list[str]:
    folder = tmp_path / "raw" / "2017-03"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize("served,problem", [
    (ERROR_PAGE, "not a 7z archive: it starts with '<!DOCTYPE html> <html><head><title>503 S'"),
    ((SAMPLE / NAME).read_bytes()[:1_000_000], "a 7z archive that does not open"),
], ids=["html-error-page", "truncated-archive"])
def test_a_file_that_is_not_a_whole_archive_is_deleted_not_kept(mirror: RangeServer, tmp_path: Path,
                                                                served: bytes, problem: str) -> None:
    (mirror.root / NAME).write_bytes(served)
    with pytest.raises(BadArchive, match="The download was deleted; nothing was placed in data/raw") as bad:
        acquire([AI], mirror.url, tmp_path / "raw", "2017-03")
    assert problem in str(bad.value)
    assert raw_files(tmp_path) == []
    # the next run does not skip it as present: it downloads again, and the real archive is kept
    shutil.copyfile(SAMPLE / NAME, mirror.root / NAME)
    [got] = acquire([AI], mirror.url, tmp_path / "raw", "2017-03")
    assert (got.status, got.sha256) == ("downloaded", AI_SHA)


def test_a_stale_part_of_another_file_is_started_over_not_spliced(mirror: RangeServer, tmp_path: Path) -> None:
    dest = tmp_path / "raw" / "2017-03"
    dest.mkdir(parents=True)
    (dest / f"{NAME}.part").write_bytes(other_archive(tmp_path)[:500])  # left by something else, no validator
    [got] = acquire([AI], mirror.url, tmp_path / "raw", "2017-03")
    assert (got.status, got.sha256, got.size_bytes) == ("downloaded", AI_SHA, AI_SIZE)
    assert mirror.requests == [(NAME, None)]
    assert raw_files(tmp_path) == [NAME]


def test_a_file_changed_on_the_server_is_fetched_whole_through_if_range(mirror: RangeServer, tmp_path: Path) -> None:
    mirror.drop_once.add(NAME)
    with pytest.raises(DownloadError, match="connection dropped after 720998 of 1441997 bytes"):
        acquire([AI], mirror.url, tmp_path / "raw", "2017-03")
    old_etag = '"' + AI_SHA[:16] + '"'
    new = other_archive(tmp_path)
    (mirror.root / NAME).write_bytes(new)  # the mirror now serves another file under the same name
    [got] = acquire([AI], mirror.url, tmp_path / "raw", "2017-03")
    assert mirror.requests == [(NAME, None), (NAME, f"bytes={AI_SIZE // 2}-")]
    assert mirror.if_ranges == [None, old_etag]
    assert (got.status, got.sha256) == ("downloaded", hashlib.sha256(new).hexdigest())
    assert raw_files(tmp_path) == [NAME]


def test_without_a_validator_a_dropped_download_starts_over(mirror: RangeServer, tmp_path: Path) -> None:
    mirror.validators = False
    mirror.drop_once.add(NAME)
    with pytest.raises(DownloadError, match="connection dropped"):
        acquire([AI], mirror.url, tmp_path / "raw", "2017-03")
    [got] = acquire([AI], mirror.url, tmp_path / "raw", "2017-03")
    assert (got.status, got.sha256) == ("downloaded", AI_SHA)
    assert mirror.requests == [(NAME, None), (NAME, None)]


def test_an_archive_present_in_raw_is_checked_too(tmp_path: Path) -> None:
    dest = tmp_path / "raw" / "2017-03"
    dest.mkdir(parents=True)
    (dest / NAME).write_bytes(ERROR_PAGE)  # kept by an earlier version of acquire
    with pytest.raises(BadArchive, match="already present, but not a 7z archive.*delete it and fetch again"):
        acquire([AI], str(tmp_path / "nowhere"), tmp_path / "raw", "2017-03")
    check_archive(SAMPLE / NAME)  # the real one passes


def test_connection_refused_is_one_clear_error_at_once(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    with pytest.raises(MirrorError, match=r"cannot reach the mirror \(connection refused.*Nothing was downloaded"):
        acquire([AI], url, tmp_path / "raw", "2017-03")
    assert time.monotonic() - started < 5
    assert raw_files(tmp_path) == []


def test_a_host_that_does_not_resolve_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def offline(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")  # what an offline resolver says

    monkeypatch.setattr(socket, "getaddrinfo", offline)
    with pytest.raises(MirrorError, match=r"cannot reach the mirror \(host not found"):
        acquire([AI], "https://archive.org/download/stackexchange", tmp_path / "raw", "2017-03")
    with pytest.raises(MirrorError, match=r"^https://archive.org/download/stackexchange: cannot reach the mirror "
                                          r"\(host not found: \[Errno -2\] Name or service not known\)"):
        probe_mirror("https://archive.org/download/stackexchange")  # what the CLI asks before Prefect starts


def test_probe_accepts_a_mirror_that_answers_and_refuses_a_missing_folder(mirror: RangeServer, tmp_path: Path) -> None:
    probe_mirror(mirror.url)
    probe_mirror(str(mirror.root))
    with pytest.raises(MirrorError, match="no such folder"):
        probe_mirror(str(tmp_path / "nowhere"))
    assert mirror.requests == []  # a TCP connection only, no download


def test_a_missing_checksum_list_is_a_named_error_saying_where_it_comes_from(tmp_path: Path) -> None:
    with pytest.raises(ChecksumListError, match="SHA256SUMS: no such checksum list. --sha256 takes the dump's "
                                                "published checksum list"):
        load_checksums(tmp_path / "SHA256SUMS")
    with pytest.raises(ChecksumListError, match="cannot read the checksum list"):
        load_checksums(tmp_path)  # a folder
    (tmp_path / "page.html").write_bytes(ERROR_PAGE)
    with pytest.raises(ChecksumListError, match=r"page.html, line 1: expected 'SHA256  NAME' \(sha256sum's format\)"):
        load_checksums(tmp_path / "page.html")


@pytest.mark.slow
def test_acquire_cli_with_a_missing_sha256_stops_before_anything_starts(tmp_path: Path) -> None:
    started = time.monotonic()
    done = subprocess.run(stackmine_cmd("acquire", AI, "--mirror", "https://archive.org/download/stackexchange",
                                        "--dump-date", "2024-04-01", "--sha256", "SHA256SUMS", "--ingest",
                                        "--raw", str(tmp_path / "raw"), "--db", str(tmp_path / "x.duckdb")),
                          capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "error: SHA256SUMS: no such checksum list. --sha256 takes the dump's published checksum list (a file or "
        "URL in sha256sum's format, `HEX  NAME.7z` per line), or one you write yourself with "
        "`sha256sum *.7z > SHA256SUMS` over archives you trust; leave --sha256 out to skip the check."]
    assert time.monotonic() - started < 20  # no Prefect start-up
    assert not (tmp_path / "raw").exists() and not (tmp_path / "x.duckdb").exists()
