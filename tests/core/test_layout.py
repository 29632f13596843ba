"""The house's shape: each step declared once, dependencies pointing one way, the README's table of
steps derived from the declarations, and SQL only from `.sql` files."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from pipeline.core.sql import SqlFile
from pipeline.core.step import Step
from pipeline.steps import CHAIN, STEPS, steps_table, upstream
from tests.support import REPO

# The step packages in pipeline order: a package may import core and the packages before it.
PACKAGES = ("core", "acquire", "ingest", "text", "classify", "evaluate", "topics", "coverage", "publish")


def layer(module: str) -> tuple[str, int] | None:
    """(name, rank) of a module of ours; imports may only go to a rank at or below one's own."""
    parts = module.split(".")
    if parts[0] == "flows":
        return ("cli", 100) if parts[1:2] == ["cli"] else ("flows", 90)
    if parts[0] != "pipeline":
        return None
    if len(parts) == 1:
        return ("pipeline", -1)  # the package itself holds only its version
    if parts[1] == "steps":
        return ("steps", 80)
    return (parts[1], PACKAGES.index(parts[1])) if parts[1] in PACKAGES else None


def imports_of(path: Path) -> set[str]:
    """Every absolute import of a module, as dotted names (`from a import b` gives a and a.b)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def modules() -> list[tuple[str, Path]]:
    paths = sorted((REPO / "pipeline").rglob("*.py")) + sorted((REPO / "flows").rglob("*.py"))
    return [(".".join(p.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__"), p) for p in paths]


def test_dependencies_point_one_way() -> None:
    upward = []
    for module, path in modules():
        mine = layer(module)
        assert mine is not None, module
        if mine[0] == "pipeline":
            continue
        for target in imports_of(path):
            other = layer(target)
            if other is None or other[0] == "pipeline":
                continue
            if other[1] > mine[1] or (mine[0] == "core" and other[0] != "core"):
                upward.append(f"{module} imports {target}")
    assert upward == []


def test_the_library_never_imports_the_flows_or_the_cli() -> None:
    assert [m for m, p in modules() if m.startswith("pipeline") and any(t.startswith("flows") for t in imports_of(p))] == []


def test_each_step_is_declared_once_in_its_package() -> None:
    declared = []
    for module, path in modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Step":
                declared.append(module)
    assert declared == ["pipeline.acquire", "pipeline.classify", "pipeline.coverage", "pipeline.evaluate",
                        "pipeline.ingest", "pipeline.publish", "pipeline.publish", "pipeline.text", "pipeline.topics"]
    assert len({s.name for s in STEPS}) == len(STEPS) == 9
    for step in STEPS:
        assert step.package == f"pipeline.{step.package.split('.')[-1]}"


@pytest.mark.parametrize("step", STEPS, ids=lambda s: s.name)
def test_a_step_version_is_written_only_in_its_declaration(step: Step) -> None:
    """`grep` finds the version string in exactly one place: the step's `__init__.py`."""
    hits = [p for _, p in modules() if step.version in p.read_text(encoding="utf-8")]
    assert hits == [REPO / Path(*step.package.split(".")) / "__init__.py"]


def test_the_chain_is_derived_from_the_declarations() -> None:
    assert [s.name for s in CHAIN] == ["ingest", "text", "classify", "topics", "stages", "export", "report"]
    assert [s.name for s in upstream(STEPS[3])] == ["text"]  # classify reads what text writes
    assert [s.name for s in upstream(next(s for s in STEPS if s.name == "stages"))] == ["text", "classify", "topics"]


@pytest.mark.parametrize("step", STEPS, ids=lambda s: s.name)
def test_rule_files_and_entries_exist(step: Step) -> None:
    for name in step.rules:
        assert Path(step.rule_file(name)).is_file(), name
    if step.entry:
        assert callable(step.function())
    if step.has_tables:
        assert "CREATE TABLE" in step.tables().text()


def test_readme_table_of_steps_is_the_generated_one() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- steps table:", 1)[1].split("\n", 1)[1].split("<!-- end of steps table -->", 1)[0]
    assert block.strip() == steps_table()


def test_no_sql_is_written_inline_in_python() -> None:
    statement = re.compile(r"""["'](SELECT|INSERT|DELETE|UPDATE|CREATE|SET|SHOW|DESCRIBE|ATTACH|DETACH|COPY|PRAGMA|BEGIN|COMMIT) """)
    inline = [f"{m}: {line.strip()}" for m, p in modules() for line in p.read_text(encoding="utf-8").splitlines()
              if statement.search(line)]
    assert inline == []


def test_sql_placeholders_take_identifiers_only() -> None:
    sql = SqlFile("pipeline.ingest", "ingest.sql")
    assert sql("delete_site", table="posts") == "DELETE FROM posts WHERE site = $site;"
    for hostile in ("posts; DROP TABLE dumps", "posts --", "'x'", "a b"):
        with pytest.raises(ValueError, match="not an identifier"):
            sql("delete_site", table=hostile)
    with pytest.raises(KeyError, match="has no section"):
        sql("no_such_statement")
