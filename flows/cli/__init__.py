"""The `stackmine` command: one thin verb per pipeline step, each a few lines over `pipeline/`.

The top layer: it may import the Prefect flows (`run`, `serve`, `acquire`) and the library, and
nothing imports it. Every command takes --db (default data/stackmine.duckdb) and ends its --help
with an example. A step's verb lives in `flows/cli/<step name>.py`; the verbs are listed in the
order of `pipeline.steps.STEPS`, then the commands that are not steps.
"""

from __future__ import annotations

import gc
import importlib
import inspect
import logging
import sys
import traceback
from pathlib import Path

import click

from pipeline import __version__
from pipeline.core.errors import DumpError, StackmineError


# Commands that are not pipeline steps, after the steps' verbs.
OTHER_COMMANDS = ("agreement", "query", "run", "serve", "clean")


def verb_names() -> list[str]:
    """Module names of the commands, in the order `stackmine --help` lists them."""
    from pipeline.steps import STEPS

    return [step.name for step in STEPS] + list(OTHER_COMMANDS)


def all_commands() -> list[click.Command]:
    """Every command of the CLI, in pipeline order."""
    return [command for name in verb_names()
            for command in importlib.import_module(f"{__name__}.{name}").COMMANDS]


class StageOrderGroup(click.Group):
    """Lists commands in pipeline order (acquire → … → report), the order a user runs them, and
    imports a command's module only when it is asked for: `stackmine ingest` does not load pandas,
    Prefect or the coverage code (~0.3 s and ~50 MB less per run); `--help` still imports them all."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return verb_names()

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in verb_names():
            for command in importlib.import_module(f"{__name__}.{cmd_name}").COMMANDS:
                self.add_command(example_last(command))
        return self.commands.get(cmd_name)


@click.group(cls=StageOrderGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="stackmine")
@click.option("-v", "--verbose", is_flag=True,
              help="Log debug messages, Prefect's log lines, and the traceback behind an error.")
def cli(verbose: bool) -> None:
    """Mine Stack Exchange dumps: which ML-lifecycle stages do notebook users ask about?

    Run the whole chain with `run`, or one step at a time in the order listed below; `query` reads
    the result. Every command's --help ends with its own example.

    \b
    Example:
      stackmine run                                  # the whole chain on the bundled sample
      stackmine ingest data/sample && stackmine text && stackmine classify
      stackmine stages --by platform --format markdown
      stackmine query --list
    """
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    VERBOSE[0] = verbose
    # `serve` runs for days: its terminal is where scheduled runs show their progress
    if not verbose and click.get_current_context().invoked_subcommand != "serve":
        for handler in logging.getLogger().handlers:
            handler.addFilter(PrefectQuiet())


# Whether -v was given: main() reads it after the command has ended (its click context is gone).
VERBOSE = [False]


class PrefectQuiet(logging.Filter):
    """Without -v, Prefect's records stay out of the terminal except its warnings.

    Its INFO lines (server start, run names, states) are chatter here, and its ERROR records repeat
    a failure with a traceback per task and per flow: ~330 lines in which the one useful line was
    lost. main() prints that line itself. Prefect's API handler is not ours, so its run history
    and UI keep every record.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.name.startswith("prefect") or logging.WARNING <= record.levelno < logging.ERROR


def example_last(command: click.Command) -> click.Command:
    """Move the `Example:` block of a command's docstring to its epilog, which click prints after
    the options, so every --help ends with its example while the docstring stays the one place
    it is written."""
    text = inspect.cleandoc(command.help or "")
    head, marker, example = text.partition("\b\nExample")
    if marker:
        command.help, command.epilog = head.rstrip(), marker + example
    return command


example_last(cli)


def _register() -> None:
    """Every command registered at once (what a caller that walks `cli.commands` needs); the entry
    point instead lets the group import the one command it runs."""
    for command in all_commands():
        if command.name not in cli.commands:
            cli.add_command(example_last(command))


def main() -> None:
    """Entry point: run the CLI, printing stackmine's own errors without a traceback."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except StackmineError as exc:
        click.echo(f"error: {_as_given(exc)}", err=True)
        if VERBOSE[0]:
            traceback.print_exception(exc)
        _release(exc)
        sys.exit(2)


def _as_given(exc: StackmineError) -> StackmineError:
    """A dump error names its file relative to the working folder when it is inside it, as the user
    gave it (the run resolves sources to absolute paths for its workers)."""
    if isinstance(exc, DumpError) and Path(exc.path).is_absolute():
        try:
            return DumpError(str(Path(exc.path).relative_to(Path.cwd())), exc.line, exc.problem, exc.hint)
        except ValueError:
            pass
    return exc


def _release(exc: BaseException) -> None:
    """Drop the frames an error holds (and with them the DuckDB connections of the failed run), so
    they are closed now rather than reported as leaked objects when the interpreter exits."""
    while exc is not None:
        traceback.clear_frames(exc.__traceback__)
        exc.__traceback__ = None
        exc = exc.__cause__ or exc.__context__
    gc.collect()


if __name__ == "__main__":
    main()
