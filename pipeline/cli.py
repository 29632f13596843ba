"""The `stackmine` command: one thin verb per stage, each a few lines over `pipeline/`.

Every command takes --db (default data/stackmine.duckdb) and ends its --help with an example.
Commands live in `pipeline/commands/<stage>.py` and are registered below.
"""

from __future__ import annotations

import logging
import sys

import click

from pipeline import __version__
from pipeline.errors import StackmineError


class StageOrderGroup(click.Group):
    """Lists commands in pipeline order (ingest → … → report), the order a user runs them."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)


@click.group(cls=StageOrderGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="stackmine")
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
def cli(verbose: bool) -> None:
    """Mine Stack Exchange dumps: which ML-lifecycle stages do notebook users ask about?

    \b
    Example:
      stackmine ingest data/sample
      stackmine --help
    """
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )


def _register() -> None:
    # Imported here, not at module top, so `stackmine --help` stays fast and a stage's heavy
    # dependencies (BERTopic, Prefect) load only for the commands that need them.
    from pipeline.commands import all_commands

    for command in all_commands():
        cli.add_command(command)


def main() -> None:
    """Entry point: run the CLI, printing stackmine's own errors without a traceback."""
    _register()
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except StackmineError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
