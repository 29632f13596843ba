"""Fetch dump archives from a mirror into `data/raw/<dump-date>/`, resumably and verified.

Raw archives are the root of every derived table, so they are written once and never edited:
a download goes to `<site>.7z.part`, must have the length the server announced, start with the
7z signature and open as a 7z archive (py7zr lists it), must match the published SHA-256 when a
list is given, and only then is renamed into place and made read-only. A file that fails any of
these is deleted: an HTML error page or a truncated archive never becomes raw data.

A dropped connection leaves the `.part` file beside `<site>.7z.part.json`, which records the
server's validator (ETag, else Last-Modified). The next attempt asks for the rest with `Range`
plus `If-Range: <validator>`, so the server sends the rest only if the file is unchanged and the
whole file otherwise; a `.part` without a validator (another file's, an old version's) is
started over, never spliced. A full Stack Overflow Posts archive is about 20 GB.

Mirrors use the archive.org layout `BASE/<site>.7z`; BASE is an http(s) URL or a local folder.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import re
import shutil
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import Request, urlopen

from tqdm import tqdm

from pipeline.core.files import sha256_file
from pipeline.core.sitenames import SITE
from pipeline.core.errors import BadArchive, ChecksumListError, ChecksumMismatch, DownloadError, MirrorError

log = logging.getLogger(__name__)

CHUNK = 1 << 20
SIGNATURE = b"7z\xbc\xaf\x27\x1c"  # the first six bytes of every 7z archive
DUMP_DATE = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")


@dataclass(frozen=True)
class Fetched:
    """One archive in data/raw, and how it got there (downloaded, resumed, copied, present)."""

    site: str
    path: Path
    sha256: str
    size_bytes: int
    status: str


def raw_dir(raw_root: Path, dump_date: str) -> Path:
    """`raw_root/<dump-date>`, refusing dates that are not YYYY-MM or YYYY-MM-DD."""
    if not DUMP_DATE.match(dump_date):
        raise ValueError(f"dump date {dump_date!r}: expected YYYY-MM or YYYY-MM-DD, e.g. 2024-04-01")
    return Path(raw_root) / dump_date


def parse_checksums(text: str, origin: str = "checksum list") -> dict[str, str]:
    """`sha256sum` output (`HEX  name` per line) → {file name: hex}; names are reduced to their last part."""
    sums: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(maxsplit=1)
        if len(parts) != 2 or not re.fullmatch(r"[0-9a-fA-F]{64}", parts[0]):
            raise ChecksumListError(f"{origin}, line {number}: expected 'SHA256  NAME' (sha256sum's format), "
                                    f"got {line[:80]!r}")
        sums[Path(parts[1].lstrip("*")).name] = parts[0].lower()
    return sums


CHECKSUM_HELP = ("--sha256 takes the dump's published checksum list (a file or URL in sha256sum's format, "
                 "`HEX  NAME.7z` per line), or one you write yourself with `sha256sum *.7z > SHA256SUMS` "
                 "over archives you trust; leave --sha256 out to skip the check")


def load_checksums(ref: str | Path) -> dict[str, str]:
    """Read a published SHA-256 list from a local file or an http(s) URL; `ChecksumListError` if
    it cannot be read, so a wrong `--sha256` stops a run before anything is downloaded."""
    ref = str(ref)
    try:
        if ref.startswith(("http://", "https://")):
            with urlopen(ref, timeout=60) as resp:
                text = resp.read().decode("utf-8")
        else:
            text = Path(ref).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ChecksumListError(f"{ref}: no such checksum list. {CHECKSUM_HELP}.") from None
    except (URLError, OSError, UnicodeDecodeError) as exc:
        raise ChecksumListError(f"{ref}: cannot read the checksum list ({exc}). {CHECKSUM_HELP}.") from None
    return parse_checksums(text, origin=ref)



def probe_mirror(base: str) -> None:
    """Raise `MirrorError` at once if an http(s) mirror's host does not resolve or refuses connections.

    A few milliseconds instead of a flow run's start-up (and, before, three retries over a minute)
    to learn that the machine is offline or the URL mistyped. A local folder must exist.
    """
    if not base.startswith(("http://", "https://")):
        if not Path(base).is_dir():
            raise MirrorError(f"{base}: no such folder. --mirror is an http(s) URL or a local folder of <site>.7z files.")
        return
    parts = urlsplit(base)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname or "", port), timeout=15).close()
    except (socket.gaierror, ConnectionRefusedError) as reason:
        what = "host not found" if isinstance(reason, socket.gaierror) else "connection refused"
        raise MirrorError(f"{base}: cannot reach the mirror ({what}: {reason}). Nothing was downloaded. "
                          "What to do: check the --mirror URL and the network (offline, give a local "
                          "folder of archives as --mirror).") from None
    except OSError:
        pass  # slow or flaky: the download itself retries what may pass


def acquire(
    sites: list[str],
    base: str,
    raw_root: Path,
    dump_date: str,
    checksums: dict[str, str] | None = None,
    progress: bool = False,
) -> list[Fetched]:
    """Fetch `BASE/<site>.7z` for each site into `raw_root/<dump_date>/`, skipping what is there.

    Stops at the first failure: `DownloadError` (transient: run again to resume), `MirrorError`
    (the mirror cannot be reached or has no such file: retrying will not help) or `BadArchive` /
    `ChecksumMismatch` (the bad bytes are discarded, nothing is placed in raw_root).
    """
    dest = raw_dir(raw_root, dump_date)
    dest.mkdir(parents=True, exist_ok=True)
    return [fetch_site(site, base, dest, (checksums or {}).get(f"{site}.7z"), progress) for site in sites]


def fetch_site(site: str, base: str, dest: Path, expected: str | None = None, progress: bool = False) -> Fetched:
    """Fetch one site's archive into `dest`; see `acquire`."""
    if not SITE.match(site):
        raise ValueError(f"site {site!r}: expected a host name such as ai.stackexchange.com")
    name = f"{site}.7z"
    final = dest / name
    if final.exists():
        return _present(site, final, expected)
    part = dest / f"{name}.part"
    source = f"{base.rstrip('/')}/{name}"
    if base.startswith(("http://", "https://")):
        status = _download(source, part, progress)
    else:
        _copy(Path(base) / name, part)
        status = "copied"
    _discard_unless(part, source, check_archive)
    digest = sha256_file(part)
    if expected and digest != expected.lower():
        _discard(part)
        raise ChecksumMismatch(
            f"{source}: SHA-256 is {digest}, but the published list says {expected}. "
            "The download was discarded; nothing was placed in data/raw or ingested. "
            "What to do: check that the mirror and the checksum list belong to the same dump date."
        )
    os.replace(part, final)
    _validator_file(part).unlink(missing_ok=True)
    final.chmod(0o444)
    log.info("%s: %s (%d bytes, sha256 %s)", final, status, final.stat().st_size, digest[:12])
    return Fetched(site, final, digest, final.stat().st_size, status)


def check_archive(path: Path) -> None:
    """Raise `BadArchive` unless `path` starts with the 7z signature and py7zr can list it.

    Listing reads the archive's header (at its end), not the data: a cut-off file fails here in
    milliseconds whatever its size; the SHA-256, when given, vouches for the rest.
    """
    import py7zr  # only when acquiring

    with path.open("rb") as handle:
        head = handle.read(64)
    if not head.startswith(SIGNATURE):
        shown = head[:40].decode("utf-8", "replace").replace("\n", " ")
        raise BadArchive(f"not a 7z archive: it starts with {shown!r} (an error page or another file type)")
    try:
        with py7zr.SevenZipFile(path) as archive:
            archive.list()
    except Exception as exc:  # py7zr raises several types for a damaged file; all mean the same here
        raise BadArchive(f"a 7z archive that does not open ({type(exc).__name__}: {exc}): truncated or damaged")


def _discard_unless(part: Path, source: str, check) -> None:
    try:
        check(part)
    except BadArchive as exc:
        _discard(part)
        raise BadArchive(f"{source}: {exc}. The download was deleted; nothing was placed in data/raw or ingested. "
                         "What to do: check the mirror URL and the site name (open the URL in a browser), "
                         "then run again.") from None


def _discard(part: Path) -> None:
    part.unlink(missing_ok=True)
    _validator_file(part).unlink(missing_ok=True)


def _present(site: str, final: Path, expected: str | None) -> Fetched:
    """An archive already in raw is never rewritten; it is still checked (and against a published sum)."""
    try:
        check_archive(final)
    except BadArchive as exc:
        raise BadArchive(f"{final}: already present, but {exc}. It was left untouched. "
                         "What to do: delete it and fetch again.") from None
    digest = sha256_file(final)
    if expected and digest != expected.lower():
        raise ChecksumMismatch(
            f"{final}: already present, but its SHA-256 {digest} differs from the published {expected}. "
            "It was left untouched. What to do: move it aside and fetch again, or check the checksum list."
        )
    log.info("%s: already present, skipped", final)
    return Fetched(site, final, digest, final.stat().st_size, "present")


def _copy(source: Path, part: Path) -> None:
    if not source.is_file():
        raise MirrorError(f"{source}: no such archive in the local mirror. Check the site name and the folder.")
    shutil.copyfile(source, part)


def _validator_file(part: Path) -> Path:
    return part.with_name(part.name + ".json")


def _saved_validator(part: Path, url: str) -> str | None:
    """The ETag (else Last-Modified) recorded when `part` was started from `url`, if any."""
    try:
        saved = json.loads(_validator_file(part).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return saved.get("validator") if saved.get("url") == url else None


def _download(url: str, part: Path, progress: bool) -> str:
    """Download `url` into `part`; resume with Range + If-Range only when `part` has a validator."""
    have = part.stat().st_size if part.exists() else 0
    validator = _saved_validator(part, url) if have else None
    if have and validator is None:
        _discard(part)  # bytes of unknown origin: start over rather than splice them
        have = 0
    headers = {"Range": f"bytes={have}-", "If-Range": validator} if have else {}
    try:
        resp = urlopen(Request(url, headers=headers), timeout=60)
    except HTTPError as exc:
        if exc.code == 416 and have:
            return "resumed"  # the part is already complete; the checks decide
        if exc.code in (408, 429) or exc.code >= 500:
            raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason} (the server is busy). Run again to retry.") from None
        raise MirrorError(f"{url}: HTTP {exc.code} {exc.reason}. Nothing was downloaded. What to do: check the "
                          "--mirror URL and the site name (archive.org layout: BASE/<site>.7z).") from None
    except (URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, (socket.gaierror, ConnectionRefusedError)):
            what = "host not found" if isinstance(reason, socket.gaierror) else "connection refused"
            raise MirrorError(f"{url}: cannot reach the mirror ({what}: {reason}). Nothing was downloaded. "
                              "What to do: check the --mirror URL and the network (offline, give a local "
                              "folder of archives as --mirror).") from None
        raise DownloadError(f"{url}: cannot connect ({reason}). Run again to retry.") from exc
    with resp:
        resumed = have > 0 and resp.status == 206
        if not resumed:
            have = 0  # changed on the server (If-Range failed) or Range ignored: start over
        total = _total_length(resp, have)
        if not resumed:
            new = resp.headers.get("ETag") or resp.headers.get("Last-Modified")
            _validator_file(part).write_text(json.dumps({"url": url, "validator": new}), encoding="utf-8")
        _stream(resp, part, "ab" if resumed else "wb", have, total, url, progress)
    size = part.stat().st_size
    if total is not None and size != total:
        raise DownloadError(
            f"{url}: connection dropped after {size} of {total} bytes. Run again to resume from there."
        )
    return "resumed" if resumed else "downloaded"


def _total_length(resp, have: int) -> int | None:
    """The whole file's length as the server states it (Content-Range's total, else Content-Length)."""
    found = re.match(r"bytes \d+-\d+/(\d+)", resp.headers.get("Content-Range") or "")
    if found:
        return int(found.group(1))
    length = resp.headers.get("Content-Length")
    return have + int(length) if length is not None else None


def _stream(resp, part: Path, mode: str, have: int, total: int | None, url: str, progress: bool) -> None:
    """Copy the response body into `part`, keeping every byte received even when the link drops."""
    with part.open(mode) as out, tqdm(
        total=total, initial=have, unit="B", unit_scale=True, desc=part.name, disable=not progress
    ) as bar:
        try:
            while chunk := resp.read(CHUNK):
                out.write(chunk)
                bar.update(len(chunk))
        except http.client.IncompleteRead as exc:
            out.write(exc.partial)
            raise DownloadError(
                f"{url}: connection dropped after {have + bar.n + len(exc.partial)} bytes. "
                "Run again to resume where it stopped."
            ) from exc
        except (OSError, http.client.HTTPException) as exc:
            raise DownloadError(f"{url}: connection lost ({exc}). Run again to resume where it stopped.") from exc
