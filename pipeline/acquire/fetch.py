"""Fetch dump archives from a mirror into `data/raw/<dump-date>/`, resumably and verified.

Raw archives are the root of every derived table, so they are written once and never edited:
a download goes to `<site>.7z.part`, is checked against the published SHA-256 when a list is
given, and only then is renamed into place and made read-only. A dropped connection leaves the
`.part` file, and the next attempt asks the server for the rest (HTTP Range) instead of
starting again: a full Stack Overflow Posts archive is about 20 GB.

Mirrors use the archive.org layout `BASE/<site>.7z`; BASE is an http(s) URL or a local folder.
"""

from __future__ import annotations

import http.client
import logging
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

from tqdm import tqdm

from pipeline.core.files import sha256_file
from pipeline.core.errors import ChecksumMismatch, DownloadError

log = logging.getLogger(__name__)

CHUNK = 1 << 20
DUMP_DATE = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")
SITE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]*$")


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
            raise ValueError(f"{origin}, line {number}: expected 'SHA256  NAME', got {line[:80]!r}")
        sums[Path(parts[1].lstrip("*")).name] = parts[0].lower()
    return sums


def load_checksums(ref: str | Path) -> dict[str, str]:
    """Read a published SHA-256 list from a local file or an http(s) URL."""
    ref = str(ref)
    if ref.startswith(("http://", "https://")):
        try:
            with urlopen(ref, timeout=60) as resp:
                text = resp.read().decode("utf-8")
        except (URLError, OSError) as exc:
            raise DownloadError(f"{ref}: cannot read the checksum list ({exc}). Check the URL and retry.") from exc
    else:
        text = Path(ref).read_text(encoding="utf-8")
    return parse_checksums(text, origin=ref)



def acquire(
    sites: list[str],
    base: str,
    raw_root: Path,
    dump_date: str,
    checksums: dict[str, str] | None = None,
    progress: bool = False,
) -> list[Fetched]:
    """Fetch `BASE/<site>.7z` for each site into `raw_root/<dump_date>/`, skipping what is there.

    Stops at the first failure: `DownloadError` (transient: run again to resume) or
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
    digest = sha256_file(part)
    if expected and digest != expected.lower():
        part.unlink()
        raise ChecksumMismatch(
            f"{source}: SHA-256 is {digest}, but the published list says {expected}. "
            "The download was discarded; nothing was placed in data/raw or ingested. "
            "What to do: check that the mirror and the checksum list belong to the same dump date."
        )
    os.replace(part, final)
    final.chmod(0o444)
    log.info("%s: %s (%d bytes, sha256 %s)", final, status, final.stat().st_size, digest[:12])
    return Fetched(site, final, digest, final.stat().st_size, status)


def _present(site: str, final: Path, expected: str | None) -> Fetched:
    """An archive already in raw is never rewritten; with a published sum it is still checked."""
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
        raise DownloadError(f"{source}: no such archive in the local mirror. Check the site name and the folder.")
    shutil.copyfile(source, part)


def _download(url: str, part: Path, progress: bool) -> str:
    """Download `url` into `part`, continuing from its current size with an HTTP Range request."""
    have = part.stat().st_size if part.exists() else 0
    request = Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        resp = urlopen(request, timeout=60)
    except HTTPError as exc:
        if exc.code == 416 and have:
            return "resumed"  # the part is already complete; the checksum decides
        raise DownloadError(f"{url}: HTTP {exc.code} {exc.reason}. Check the mirror URL and site name.") from exc
    except (URLError, OSError) as exc:
        raise DownloadError(f"{url}: cannot connect ({exc}). Run again to retry.") from exc
    with resp:
        resumed = have > 0 and resp.status == 206
        if not resumed:
            have = 0  # the server ignored Range: start over rather than append a second copy
        length = resp.headers.get("Content-Length")
        total = have + int(length) if length is not None else None
        _stream(resp, part, "ab" if resumed else "wb", have, total, url, progress)
    size = part.stat().st_size
    if total is not None and size != total:
        raise DownloadError(
            f"{url}: connection dropped after {size} of {total} bytes. Run again to resume from there."
        )
    return "resumed" if resumed else "downloaded"


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
