"""A run's staging folder, and the cleanup of folders left behind.

`stackmine run` with Dask keeps its per-site staging databases in one (flows/ingest.py); ingest
before issue 14 kept its parsed rows in one (now it inserts rows as they parse and stages nothing;
DuckDB spills to --staging-dir itself). A run removes its own folder when it ends, but a
killed run (kill -9, out of memory, a power cut) cannot: its `stackmine-ingest-*` folder stays,
up to the size of what it spilled or staged (tens of GB at Stack Overflow scale), and nothing
would ever remove it. So each folder records its owner
(the process id and that process's start time, which tells a live owner from a later process
that got the same id), and every ingest, and `stackmine clean`, removes the folders whose owner
is gone. A live run's folder is never touched: not another ingest's, not one started a moment ago.
The owner file also names the host and the boot: a folder made on another host sharing the
folder (another container, another machine on a network disk), whose processes this one cannot
see, is judged only by how long nothing in it changed; one made before the last reboot is stale.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

PREFIX = "stackmine-ingest-"
OWNER = "owner.json"
# A folder without an owner file was made by a version before this one, or its owner was killed
# between creating it and writing the file (microseconds). Such a folder is removed only when
# nothing in it changed for this long: a live run of an older version writes parts all the time
# while parsing, and no load transaction of a real dump takes a day.
UNOWNED_AFTER_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Stale:
    """A staging folder whose owner is gone, and its size."""

    path: Path
    bytes: int
    why: str


def process_start(pid: int) -> str | None:
    """When process `pid` started (clock ticks since boot, from /proc), or None if there is no
    such process. Compared with the value recorded at creation, it tells the owner from a later
    process that was given the same id."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None if not _alive(pid) else "unknown"
    return stat.rsplit(")", 1)[1].split()[19]


def boot_id() -> str | None:
    """This boot of the machine (Linux), to tell folders made before a reboot."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None


def owner_record() -> dict:
    """What a staging folder records of the process that made it."""
    return {"pid": os.getpid(), "start": process_start(os.getpid()), "host": socket.gethostname(),
            "boot": boot_id()}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def staging_folder(parent: Path | None = None) -> Iterator[Path]:
    """A new staging folder under `parent` (default: the system temp folder), owned by this
    process, removed when the block ends; stale folders of dead runs there are removed first."""
    remove_stale(parent)
    with tempfile.TemporaryDirectory(prefix=PREFIX, dir=parent) as tmp:
        (Path(tmp) / OWNER).write_text(json.dumps(owner_record()))
        yield Path(tmp)


def stale_folders(parent: Path | None = None) -> list[Stale]:
    """The staging folders under `parent` (default: the system temp folder) whose owner is gone."""
    root = Path(parent) if parent else Path(tempfile.gettempdir())
    found = []
    for folder in sorted(root.glob(PREFIX + "*")):
        if not folder.is_dir() or folder.is_symlink():
            continue
        why = _why_stale(folder)
        if why:
            found.append(Stale(folder, _size(folder), why))
    return found


def _why_stale(folder: Path) -> str | None:
    try:
        owner = json.loads((folder / OWNER).read_text())
        pid, start = int(owner["pid"]), owner["start"]
    except FileNotFoundError:
        return _idle(folder, "no owner recorded")
    except (OSError, ValueError, KeyError, TypeError):
        return None  # unreadable: leave it to its owner, whoever that is
    if owner.get("host", socket.gethostname()) != socket.gethostname():
        return _idle(folder, f"made on host {owner['host']}")
    if owner.get("boot") and boot_id() and owner["boot"] != boot_id():
        return f"its run (PID {pid}) was before the machine restarted"
    now = process_start(pid)
    if now is None:
        return f"its run (PID {pid}) has ended"
    if start is not None and now not in (start, "unknown"):
        return f"its run (PID {pid}) has ended (the PID now belongs to another process)"
    return None


def _idle(folder: Path, who: str) -> str | None:
    """Stale when nothing in `folder` changed for UNOWNED_AFTER_SECONDS (its owner cannot be asked)."""
    idle = time.time() - _newest_change(folder)
    if idle > UNOWNED_AFTER_SECONDS:
        return f"{who} and unchanged for {idle / 3600:.0f} h"
    return None


def _newest_change(folder: Path) -> float:
    newest = folder.stat().st_mtime
    for path in folder.rglob("*"):
        try:
            newest = max(newest, path.stat().st_mtime)
        except FileNotFoundError:
            pass
    return newest


def _size(folder: Path) -> int:
    total = 0
    for path in folder.rglob("*"):
        try:
            if path.is_file():
                total += path.stat().st_size
        except FileNotFoundError:
            pass
    return total


def remove_stale(parent: Path | None = None, quiet: bool = False) -> list[Stale]:
    """Remove the staging folders of dead runs under `parent`; returns what was removed (logged
    as a warning, unless `quiet`: `stackmine clean` prints the list itself)."""
    removed = []
    for stale in stale_folders(parent):
        shutil.rmtree(stale.path, ignore_errors=True)
        if not quiet:
            log.warning("removed %s (%.1f MB), left by an ingest that did not finish: %s", stale.path,
                        stale.bytes / 1e6, stale.why)
        removed.append(stale)
    return removed
