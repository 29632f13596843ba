"""Checksums of files on disk, shared by acquire (verify downloads) and ingest (the no-op check)."""

from __future__ import annotations

import hashlib
from pathlib import Path


def sha256_file(path: Path) -> str:
    """SHA-256 of a file on disk, read in blocks so memory stays flat whatever its size."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
