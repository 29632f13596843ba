"""CLI commands, one module per stage; each module lists its click commands in `COMMANDS`.

Modules are found by name so adding a stage never means editing a shared registry.
"""

from __future__ import annotations

import importlib
import pkgutil

import click

# Stages in pipeline order; modules not named here follow alphabetically.
ORDER = ("ingest", "text", "classify", "evaluate", "topics", "stages", "query", "export", "report", "acquire", "run", "serve")


def all_commands() -> list[click.Command]:
    """Every command of the CLI, in the order `stackmine --help` should list them."""
    names = [m.name for m in pkgutil.iter_modules(__path__) if m.name != "options"]
    names.sort(key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n))
    commands: list[click.Command] = []
    for name in names:
        module = importlib.import_module(f"{__name__}.{name}")
        commands.extend(getattr(module, "COMMANDS", []))
    return commands
