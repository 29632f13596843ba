"""What a paper citing an export needs to replicate it, gathered for the datasheet.

The software that made it (stackmine's version and, from a git checkout, its commit; the versions
of the libraries that shape the numbers; the SHA-256 of every file of the shipped embedding model),
the topic models' parameters, the stored stage coverage of the selection, the codebook, and dump
sources shown relative to the folder that was ingested: nothing here may carry an absolute local
path, and nothing depends on the clock, so an export made twice is the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import platform
import shlex
import subprocess
from importlib import metadata
from pathlib import Path

import duckdb
import pyarrow as pa

from pipeline import __version__
from pipeline.core.codebook import STAGES
from pipeline.core.errors import StackmineError
from pipeline.core.selection import Selection
from pipeline.core.sql import SqlFile
from pipeline.coverage.table import selection_id
from pipeline.topics.embeddings import MODEL_NAME, model_dir

SQL = SqlFile("pipeline.publish", "publish.sql")
REPOSITORY = Path(__file__).resolve().parents[2]
CODEBOOK = REPOSITORY / "docs" / "codebook.md"
# The libraries whose versions change what an export holds (parsing, labels, topics, statistics).
LIBRARIES = ("duckdb", "bertopic", "spacy", "scikit-learn", "model2vec", "numpy", "pandas", "pyarrow", "scipy")


class MissingCodebook(StackmineError):
    """docs/codebook.md, which every export copies, is not where the repository keeps it."""


def codebook_bytes(path: Path = CODEBOOK) -> bytes:
    """The codebook the labels follow, copied into every export."""
    try:
        return path.read_bytes()
    except OSError:
        raise MissingCodebook(f"{path.name}: the codebook (docs/codebook.md of the stackmine repository) is "
                              "missing; an export copies it. Run stackmine from its repository checkout.") from None


def checkout(root: Path = REPOSITORY) -> dict | None:
    """{"commit": HEAD, "modified": tracked files differ from it} when stackmine runs from a git
    checkout with git installed; None otherwise (an installed package says only its version)."""
    if not (root / ".git").exists():
        return None
    try:
        head = _git(root, "rev-parse", "HEAD")
        # --no-optional-locks: reading must not take the index lock other git commands wait for
        status = _git(root, "--no-optional-locks", "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": head.strip(), "modified": bool(status.strip())}


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True,
                          timeout=30).stdout


def software() -> list[tuple[str, str]]:
    """(name, version) of Python and of LIBRARIES as installed (read from their metadata, not imported)."""
    found = [("Python", platform.python_version())]
    for name in LIBRARIES:
        try:
            found.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            found.append((name, "not installed"))
    return found


def stackmine_version() -> str:
    """stackmine's version (pipeline.__version__)."""
    return __version__


def embedding_files() -> list[tuple[str, str]]:
    """(file, SHA-256) of every file of the shipped embedding model, pipeline/topics/models/MODEL_NAME/."""
    folder = model_dir()
    return sorted((f.name, hashlib.sha256(f.read_bytes()).hexdigest()) for f in folder.iterdir() if f.is_file())


def embedding_folder() -> str:
    """Where the embedding model lives in the repository (a relative path)."""
    return f"pipeline/topics/models/{MODEL_NAME}/"


def topic_models(con: duckdb.DuckDBPyConnection, ids: list[str]) -> list[dict]:
    """Stored parameters, versions and quality of the given topic models (not when or how fast they
    were fitted: that would change the datasheet with every refit of the same model)."""
    if not ids:
        return []
    cursor = con.execute(SQL("topic_model_facts"), [ids])
    names = [d[0] for d in cursor.description]
    out = []
    for row in cursor.fetchall():
        facts = dict(zip(names, row))
        for key in ("selection", "parameters", "versions"):
            facts[key] = json.loads(facts[key])
        out.append(facts)
    return out


def coverage_rows(con: duckdb.DuckDBPyConnection, selection: Selection) -> pa.Table:
    """Every stored stage_coverage row of `selection` (all sites, scopes and groups), in codebook
    stage order: stage_coverage.csv of the export (no rows when `stackmine stages` never ran for it)."""
    return con.sql(SQL("stage_coverage"), params=[selection_id(selection), list(STAGES)]).to_arrow_table()


def selection_args(selection: Selection) -> str:
    """The command-line options that select the same questions (for `stackmine topics/stages/export`)."""
    def tri(value: bool | None) -> str:
        return {True: "yes", False: "no", None: "any"}[value]

    args = [f"--site {s}" for s in selection.sites] + [f"--platform {p}" for p in selection.platforms]
    if selection.notebook is not True:
        args.append(f"--notebook {tri(selection.notebook)}")
    if selection.ml is not True:
        args.append(f"--ml {tri(selection.ml)}")
    if selection.year_from is not None:
        args.append(f"--year-from {selection.year_from}")
    if selection.year_to is not None:
        args.append(f"--year-to {selection.year_to}")
    if selection.where:
        args.append("--where " + shlex.quote(selection.where))
    return " ".join(args)
