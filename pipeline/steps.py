"""The pipeline's steps in order, and what follows from their declarations.

Each stage package declares its step once (`pipeline/<stage>/__init__.py`); this module puts
them in order and derives the rest:
- `connect`: a database with every step's tables (each package's `sql/tables.sql`);
- `upstream` and `input_key`: a step's ledger key is its name, version and rule files plus the
  fingerprint of what the steps it reads from wrote for its scope, so a changed dump, rule file
  or upstream output makes it recompute and everything unchanged is skipped;
- `run_step`: run a step for a scope through the ledger (the CLI verbs and the Prefect flows
  both call it, so they agree on what is fresh);
- `ingest_sources`: the same for ingest, whose inputs are files and whose scope is each site;
- `steps_table`: the README's table of steps; `schema_page`: docs/schema.md.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipeline import acquire, classify, coverage, evaluate, ingest, publish, text, topics
from pipeline.core import ledger
from pipeline.core.comments import documented, schema_markdown
from pipeline.core.db import DEFAULT_DB, LEDGER_TABLES, ensure_schema, transaction
from pipeline.core.db import connect as _connect
from pipeline.core.sql import SqlFile
from pipeline.core.step import Scope, Step, make_key
from pipeline.ingest.migrate import migrate_dump_keys

STEPS: tuple[Step, ...] = (acquire.STEP, ingest.STEP, text.STEP, classify.STEP, evaluate.STEP, topics.STEP,
                           coverage.STEP, publish.EXPORT, publish.REPORT)
CHAIN: tuple[Step, ...] = tuple(step for step in STEPS if step.chain)
BY_NAME: dict[str, Step] = {step.name: step for step in STEPS}
# Steps whose tables hold input rather than derived data: never dropped to be recomputed.
INPUT_STEPS = (ingest.STEP.name, evaluate.STEP.name)
SQL = ingest.STEP.sql()
LEDGER_SQL = SqlFile("pipeline.core", "ledger.sql")


def schema() -> list[SqlFile]:
    """The DDL of every step's tables, in step order (later tables may refer to earlier ones)."""
    return [ddl for ddl in (step.tables() for step in STEPS) if ddl is not None]


def connect(path: str | Path = DEFAULT_DB, read_only: bool = False,
            wait_seconds: float = 0.0) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) a stackmine database with every step's tables; a derived table
    whose columns changed in a new version is rebuilt (`rebuild_changed`), one whose declared key
    changed is rekeyed with its rows (`rekey_changed`); dump tables made before their rows carried
    dump_key are migrated, rows and dump ids kept (`pipeline.ingest.migrate`)."""
    con = _connect(path, read_only=read_only, wait_seconds=wait_seconds, schema=schema())
    if not read_only:
        migrate_dump_keys(con)
        rebuild_changed(con)
        rekey_changed(con)
    return con


def rebuild_changed(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Drop and recreate the tables of every derived step (all but ingest) whose columns differ
    from its DDL, and forget that step's ledger rows, so the next run recomputes them.

    Derived tables hold nothing that cannot be recomputed from the dump tables, so a new version
    that adds or changes columns (stage_coverage keyed by selection, probabilities in
    question_labels) needs no migration script: the step runs again. Tables that hold input are
    never dropped here: the dump tables (ingest migrates its own) and the human codes loaded from
    coded sheets (evaluate), which no step can recompute.
    """
    from pipeline.core.comments import parse

    rebuilt = []
    for step in STEPS:
        ddl = step.tables()
        if ddl is None or step.name in INPUT_STEPS:
            continue
        wanted = {table.name: list(table.columns) for table in parse(ddl.text())}
        stale = [name for name, columns in wanted.items()
                 if [c for (c,) in con.execute(LEDGER_SQL("columns"), [name]).fetchall()] != columns]
        if stale:
            with transaction(con):
                for name in wanted:
                    con.execute(LEDGER_SQL("drop_table", table=name))
                con.execute(LEDGER_SQL("forget_step"), [step.name])
            ensure_schema(con, [ddl])
            rebuilt.extend(stale)
    return rebuilt


@functools.cache
def declared_keys(ddl: SqlFile) -> dict[str, list[str]]:
    """The PRIMARY KEY columns of each table of a DDL file that declares one, as DuckDB reads the
    DDL (created in a throwaway in-memory database, so the text is never parsed here)."""
    scratch = duckdb.connect()
    try:
        scratch.execute(ddl.text())
        return {table: list(columns) for table, columns in scratch.execute(LEDGER_SQL("primary_keys")).fetchall()}
    finally:
        scratch.close()


def rekey_changed(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Give each derived table whose columns are as its DDL says but whose declared PRIMARY KEY is
    not (a key added, dropped or changed in a new version) the DDL's key, keeping its rows and the
    ledger's records: set aside, created again, refilled, dropped, in one transaction. DuckDB
    cannot alter a key in place. question_text and question_labels lost theirs for issue 14: an
    ART index that DuckDB holds in memory and rebuilds on every replace of a scope.

    Rows that break a key the DDL adds make the step's tables be rebuilt instead (emptied, its
    ledger rows forgotten: the step runs again). Returns the tables rekeyed or rebuilt."""
    changed = []
    live = {table: list(columns) for table, columns in con.execute(LEDGER_SQL("primary_keys")).fetchall()}
    for step in STEPS:
        ddl = step.tables()
        if ddl is None or step.name in INPUT_STEPS:
            continue
        wanted = declared_keys(ddl)
        for table in (t.name for t in parse_tables(ddl)):
            if live.get(table) == wanted.get(table) or not con.execute(LEDGER_SQL("columns"), [table]).fetchall():
                continue
            try:
                with transaction(con):
                    con.execute(LEDGER_SQL("set_aside", table=table))
                    con.execute(ddl.text())  # creates just the table set aside: the others exist
                    con.execute(LEDGER_SQL("refill", table=table))
                    con.execute(LEDGER_SQL("drop_table", table=f"{table}_rekeyed"))
            except duckdb.ConstraintException:
                with transaction(con):
                    for name in (t.name for t in parse_tables(ddl)):
                        con.execute(LEDGER_SQL("drop_table", table=name))
                    con.execute(LEDGER_SQL("forget_step"), [step.name])
            ensure_schema(con, [ddl])  # the comments of the new table
            changed.append(table)
    return changed


def parse_tables(ddl: SqlFile) -> list:
    """The tables a DDL file creates, in order (pipeline.core.comments.parse)."""
    from pipeline.core.comments import parse

    return parse(ddl.text())


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create every step's tables on an open connection (an in-memory database, a staging file)."""
    ensure_schema(con, [LEDGER_TABLES, *schema()])


def upstream(step: Step) -> tuple[Step, ...]:
    """The steps before `step` that write a table it reads."""
    before = STEPS[: [s.name for s in STEPS].index(step.name)]
    return tuple(s for s in before if set(s.writes) & set(step.reads))


def all_sites(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every site with an ingested snapshot."""
    return [row[0] for row in con.execute(SQL("sites")).fetchall()]


def input_key(con: duckdb.DuckDBPyConnection, step: Step, scope: Scope, *extra: object) -> str:
    """Ledger key of `step` for `scope`: its identity and rules, the state of its inputs, `extra`."""
    sites = scope.sites or tuple(all_sites(con))
    inputs = [(up.name, ledger.fingerprint(con, up, sites)) for up in upstream(step)]
    return make_key(step.name, step.version, step.rules_checksum(), inputs, extra)


@dataclass(frozen=True)
class Outcome:
    """What happened to one step for one scope."""

    step: str
    scope: str
    status: str  # "done" | "skipped"
    rows: int | None = None
    seconds: float = 0.0
    result: object = None  # what the step's function returned (e.g. the topic run), when it ran

    def as_dict(self) -> dict:
        return {"stage": self.step, "scope": self.scope, "status": self.status, "rows": self.rows,
                "seconds": self.seconds}


def run_step(con: duckdb.DuckDBPyConnection, step: Step, scope: Scope, work: Callable[[], object],
             force: bool = False, extra: tuple = (), output_exists: bool = True) -> Outcome:
    """Run `work()` (the step for `scope`) unless the ledger says it is current; record it.

    `force` runs it anyway (what a single CLI verb does: it was asked for); `extra` adds inputs
    the tables do not show (a selection, fit parameters); `output_exists` False (a deleted export
    folder) runs it too.
    """
    key = input_key(con, step, scope, *extra)
    if not force and output_exists and ledger.is_current(con, step, scope, key):
        return Outcome(step.name, scope.name, "skipped")
    started = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - started
    rows = result if isinstance(result, int) else None
    sites = scope.sites or tuple(all_sites(con))
    ledger.record(con, step, Scope(scope.name, sites), key, rows, seconds)
    return Outcome(step.name, scope.name, "done", rows, seconds, result)


def ingest_keys(con: duckdb.DuckDBPyConnection, sites: dict[str, list], hashes: dict[Path, str],
                add: bool = False, left_out: dict[str, list[str]] | None = None) -> dict[str, str]:
    """Ledger key of each site's ingest: the SHA-256 of its source files, the parser's version
    and the watermark and bot rules that ingest applies (editing them re-flags rows). With `add`
    the files are those of the site's snapshot after adding (its loaded ones and the given ones),
    the same key a later run given all of them computes. The dump files that `ingest --tables` left
    out of a site (`left_out`) are part of its key: the same archive with other tables is another
    snapshot, and a later ingest of every table is not skipped."""
    left_out = left_out or {}
    keys = {}
    for site, files in sites.items():
        checksums = {hashes[f.source] for f in files}
        if add:
            checksums |= {sha for _, sha in con.execute(SQL("loaded_sources"), {"site": site}).fetchall()}
        keys[site] = input_key(con, ingest.STEP, Scope.site(site), sorted(checksums),
                               *((("left out", left_out[site]),) if left_out.get(site) else ()))
    return keys


def ingest_sources(con: duckdb.DuckDBPyConnection, sources: list[Path], force: bool = False,
                   progress: bool = False, workers: int | None = None, site: str | None = None,
                   staging_dir: Path | None = None, add: bool = False, tables: Collection[str] | None = None):
    """`pipeline.ingest.load.ingest` through the ledger: sources are checksummed once; a site whose
    key is current is left unchanged; the others load (even the same dump again, when only
    the rule files changed) and are recorded. Returns the IngestReport."""
    from pipeline.ingest.load import (IngestReport, SiteReport, by_site, dump_files, ingest_sites, only_files,
                                      source_hashes)

    sites, left_out = only_files(by_site(sources, site), dump_files(tables))
    # a site not loaded is loaded whatever its key: its plain XML files are hashed while read
    hashes = source_hashes([f for files in sites.values() for f in files], con)
    hashed = {name: files for name, files in sites.items() if all(f.source in hashes for f in files)}
    keys = ingest_keys(con, hashed, hashes, add, left_out)
    current = {name for name in hashed if not force and ledger.is_current(con, ingest.STEP, Scope.site(name), keys[name])}
    todo = {name: files for name, files in sites.items() if name not in current}
    report = ingest_sites(con, todo, hashes, force, progress, workers, staging_dir, reload=set(todo), add=add) \
        if todo else IngestReport()
    keys |= ingest_keys(con, {name: files for name, files in sites.items() if name not in hashed}, hashes, add,
                        left_out)
    for name in current:
        report.sites.append(SiteReport(name, con.execute(SQL("loaded_dump"), {"site": name}).fetchall()[0][0], "unchanged"))
    report.sites.sort(key=lambda done: list(sites).index(done.site))
    for done in report.sites:
        if done.status in ("loaded", "added"):
            ledger.record(con, ingest.STEP, Scope.site(done.site), keys[done.site], sum(done.rows.values()),
                          report.seconds)
    return report


def steps_table() -> str:
    """The README's table of steps (a test keeps the README in step with the declarations)."""
    def cell(items: tuple[str, ...]) -> str:
        return ", ".join(items).replace("|", "\\|")

    lines = ["| step | package | reads | writes | command |", "|---|---|---|---|---|"]
    for step in STEPS:
        rules = tuple(f"`{r}`" for r in step.rules)
        lines.append(f"| {step.name} | `{step.package.replace('.', '/')}/` | {cell(step.reads + rules)} | "
                     f"{cell(step.writes)} | `{step.command.replace('|', chr(92) + '|')}` |")
    return "\n".join(lines)


def schema_page() -> str:
    """`docs/schema.md`: every table and column with the comment DuckDB stores for it, read back from
    a fresh in-memory database (scripts/schema_page.py writes it; a test keeps it in step)."""
    con = duckdb.connect()
    try:
        ensure_tables(con)
        return schema_markdown(con, [t.name for t in documented([LEDGER_TABLES, *schema()])])
    finally:
        con.close()
