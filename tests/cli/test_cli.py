"""The CLI is self-documenting: every command has help ending in an example, takes --db, and is in
the README (sqlite-utils' habit: a command nobody documented is a command nobody can use)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from tests.support import REPO
from flows.cli import _register, cli
from flows.cli import all_commands
from pipeline.steps import STEPS

COMMANDS = {c.name: c for c in all_commands()}
README = (REPO / "README.md").read_text(encoding="utf-8")


def test_every_step_has_a_command_in_pipeline_order() -> None:
    assert list(COMMANDS) == ["acquire", "ingest", "text", "classify", "evaluate", "topics", "stages", "export",
                              "report", "agreement", "query", "run", "serve", "clean"]
    assert list(COMMANDS)[:9] == [step.name for step in STEPS]


@pytest.mark.parametrize("name", list(COMMANDS))
def test_help_ends_with_an_example_and_offers_db(name: str) -> None:
    _register()
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0, result.output
    text = result.output
    assert "--db FILE" in text or "--db PATH" in text
    assert "data/stackmine.duckdb" in text  # the default is shown
    last_block = text.rstrip().split("\n\n")[-1]
    assert last_block.lstrip().startswith("Example:"), f"`stackmine {name} --help` does not end with its example"
    assert f"stackmine {name}" in last_block
    assert text.index("Options:") < text.index("Example:")


def test_top_level_help_ends_with_a_useful_example() -> None:
    _register()
    text = CliRunner().invoke(cli, ["--help"]).output
    example = text.rstrip().split("\n\n")[-1]
    assert example.lstrip().startswith("Example:") and text.index("Commands:") < text.index("Example:")
    assert "stackmine --help" not in example
    assert "stackmine run" in example and "stackmine query" in example


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_option_is_described(name: str) -> None:
    import click

    bare = [p.opts[0] for p in COMMANDS[name].params if isinstance(p, click.Option) and not (p.help or "").strip()]
    assert bare == [], f"`stackmine {name}` options without help text"


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_is_documented_in_the_readme(name: str) -> None:
    assert re.search(rf"stackmine {name}\b", README), f"README never shows `stackmine {name}`"


def test_readme_starts_with_the_two_commands_and_ci_runs_the_test_one() -> None:
    first_block = README.split("```", 2)[1]
    assert "make run" in first_block and "make test" in first_block
    assert "make test" in (REPO / ".ci" / "run").read_text()


@pytest.mark.slow
def test_stackmine_errors_are_one_clear_line_without_traceback(tmp_path) -> None:
    missing = tmp_path / "nothing-here.xml"
    missing.write_text("this is not a dump\n")
    result = subprocess.run([sys.executable, "-m", "flows.cli", "ingest", str(missing), "--db", str(tmp_path / "x.duckdb")],
                            capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ") and str(missing) in result.stderr


def test_a_command_imports_only_its_own_module() -> None:
    """`stackmine ingest` does not pay for the other commands' libraries (pandas via stages,
    Prefect via run): the group imports a command's module when it is invoked; the full list in
    `stackmine --help` still names every command."""
    probe = ("import sys\n"
             "from flows.cli import main\n"
             "sys.argv = ['stackmine', 'ingest', '--help']\n"
             "try:\n    main()\nexcept SystemExit:\n    pass\n"
             "print(sorted(m for m in ('pandas', 'prefect', 'flows.cli.stages', 'flows.cli.run', 'flows.cli.ingest')"
             " if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, check=True).stdout
    assert out.splitlines()[-1] == "['flows.cli.ingest']"
    listing = subprocess.run([sys.executable, "-m", "flows.cli", "--help"], capture_output=True, text=True, cwd=REPO,
                             check=True).stdout
    assert re.findall(r"^  (\w+) ", listing.split("Commands:")[1], flags=re.M) == list(COMMANDS)
