"""A pipeline step, declared once: what it reads and writes, its version, the rule files it
depends on, and the function that runs it.

Each stage package declares its step in its `__init__.py` (`STEP = Step(...)`); nothing else
restates it. From the declarations `pipeline.steps` derives the run chain, the ledger key of each
step (its version, the bytes of its rule files and the state of the tables it reads), the CLI
verbs' names and summaries, and the README's table of steps.

Why "step": in this project "stage" is the codebook's ML-lifecycle stage (problem formulation,
training, ...), a label of questions. A pipeline step is a unit of work.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

from pipeline.core.sql import SqlFile


def make_key(*parts: object) -> str:
    """SHA-256 over the JSON of `parts`: stable across processes and machines."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class Step:
    """One step of the pipeline.

    `reads`/`writes` name tables (or, in words, files); `rules` are files under the package whose
    content changes the step's output (lexicons, mappings, bot lists), so editing one makes the
    step recompute; `entry` is "module:function" of the function that runs it, imported only
    when the step runs (so declaring a step never loads spaCy or BERTopic); `chain` says whether
    `stackmine run` runs it.
    """

    name: str
    version: str
    package: str
    summary: str
    reads: tuple[str, ...]
    writes: tuple[str, ...]
    command: str
    entry: str = ""
    per: str = "site"
    rules: tuple[str, ...] = ()
    has_tables: bool = False
    chain: bool = True

    def tables(self) -> SqlFile | None:
        """The DDL of the tables this step writes (`<package>/sql/tables.sql`), if it owns any."""
        return SqlFile(self.package, "tables.sql") if self.has_tables else None

    def sql(self) -> SqlFile:
        """The step's named statements, `<package>/sql/<name>.sql`."""
        return SqlFile(self.package, f"{self.package.rsplit('.', 1)[-1]}.sql")

    def rule_file(self, name: str) -> str:
        """Path of one of the package's data files, e.g. rule_file("rules/bots.v1.csv")."""
        return str(resources.files(self.package).joinpath(*name.split("/")))

    def rules_checksum(self) -> str:
        """Checksum of the step's rule files: part of its ledger key."""
        root = resources.files(self.package)
        return make_key([(name, hashlib.sha256(root.joinpath(*name.split("/")).read_bytes()).hexdigest())
                         for name in self.rules])

    def function(self) -> Callable:
        """The function that runs the step (imported now, not when the step was declared)."""
        module, _, name = self.entry.partition(":")
        return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class Scope:
    """What one run of a step covers: a ledger name (a site, a selection's JSON, an output
    folder) and the sites whose rows it reads and writes (empty: every site)."""

    name: str
    sites: tuple[str, ...] = ()

    @classmethod
    def site(cls, site: str) -> Scope:
        return cls(site, (site,))
