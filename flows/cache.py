"""The flows' cache: skip a stage whose inputs and version have not changed since it last ran.

Keys live in the database's `stage_runs` table (pipeline/sql/stage_runs.sql), next to the outputs
they vouch for, rather than in Prefect's result store: a result cache in ~/.prefect would say
"done" for a fresh database file, or for one a manual `stackmine ingest` has since changed.

A stage is current when (1) the key of its inputs — SHA-256 of the raw source bytes for ingest;
the site's `dumps` checksums for text/classify; upstream keys for later stages — combined with its
version constants equals the recorded key, and (2) its output in the database still has the
fingerprint recorded when it ran. Bumping any version constant (PIPELINE_VERSION, TEXT_VERSION,
the classifier version, the checksum of pipeline/rules/) changes the keys of that stage and of
everything downstream, so they recompute; nothing needs to be deleted by hand.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

import duckdb

from pipeline.dumpfiles import sha256_file
from pipeline.db import read_sql


@dataclass(frozen=True)
class Step:
    """What one stage run is keyed on: which stage, for which scope and sites, from which inputs."""

    stage: str
    scope: str
    sites: tuple[str, ...]
    input_key: str
    version: str


def make_key(*parts: object) -> str:
    """SHA-256 over the JSON of `parts`: stable across processes and machines."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def source_checksum(path: Path) -> str:
    """SHA-256 of a source's bytes: the file itself, or each file of a folder with its name."""
    path = Path(path)
    if path.is_file():
        return sha256_file(path)
    files = sorted(p for p in path.rglob("*") if p.is_file())
    return make_key([(str(p.relative_to(path)), sha256_file(p)) for p in files])


def rules_checksum() -> str:
    """Checksum of every versioned rule file (lexicons, mappings): editing one invalidates labels."""
    root = resources.files("pipeline") / "rules"
    files = sorted((p.name, p.read_bytes()) for p in root.iterdir() if p.is_file()) if root.is_dir() else []
    return make_key([(name, hashlib.sha256(data).hexdigest()) for name, data in files])


def ensure_ledger(con: duckdb.DuckDBPyConnection) -> None:
    """Create `stage_runs` if missing (rerunnable)."""
    con.execute(read_sql("stage_runs.sql"))


def fingerprint(con: duckdb.DuckDBPyConnection, stage: str, sites: tuple[str, ...]) -> str:
    """Key of a stage's current output for `sites` (see pipeline/sql/stage_runs_queries.sql)."""
    sql = _queries().get(stage)
    if sql is None:
        return ""
    return make_key(con.execute(sql, [list(sites)]).fetchall())


def is_current(con: duckdb.DuckDBPyConnection, step: Step) -> bool:
    """True when the ledger holds this step's input key and the output is still as recorded."""
    row = con.execute(_queries()["ledger_get"], [step.stage, step.scope]).fetchone()
    if row is None or row[0] != step.input_key:
        return False
    sites = tuple(row[2].split(",")) if row[2] else step.sites
    return row[1] == fingerprint(con, step.stage, sites)


def record(con: duckdb.DuckDBPyConnection, step: Step, rows: int | None, seconds: float) -> None:
    """Write (replace) the ledger row for `step`, fingerprinting its output as it is now."""
    con.execute(
        _queries()["ledger_put"],
        [
            step.stage, step.scope, ",".join(step.sites), step.input_key,
            fingerprint(con, step.stage, step.sites), step.version, rows, seconds,
            datetime.now(timezone.utc).replace(tzinfo=None),
        ],
    )


def recorded_key(con: duckdb.DuckDBPyConnection, stage: str, scope: str) -> str | None:
    """The input key last recorded for (stage, scope), for chaining downstream keys."""
    row = con.execute(_queries()["ledger_get"], [stage, scope]).fetchone()
    return row[0] if row else None


def sites(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every site with an ingested snapshot."""
    return [row[0] for row in con.execute(_queries()["sites"]).fetchall()]


def query(name: str) -> str:
    """A named statement of pipeline/sql/stage_runs_queries.sql."""
    return _queries()[name]


@functools.cache
def _queries() -> dict[str, str]:
    """Named sections of pipeline/sql/stage_runs_queries.sql."""
    text = read_sql("stage_runs_queries.sql")
    sections = re.split(r"^-- name: *(\w+) *$", text, flags=re.MULTILINE)
    return {name: body.strip() for name, body in zip(sections[1::2], sections[2::2])}
