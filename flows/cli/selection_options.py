"""Options that choose a Selection, shared by `stackmine topics` and `stackmine stages`.

No COMMANDS here: the command discovery imports this module and finds nothing to register.
"""

from __future__ import annotations

from collections.abc import Callable

import click

from pipeline.core.selection import Selection

_TRI = click.Choice(["yes", "no", "any"])


def selection_options(func: Callable) -> Callable:
    """Add --site, --platform, --year-from, --year-to, --notebook, --ml and --where to a command."""
    options = [
        click.option("--site", "sites", multiple=True, help="Only this site (repeatable; default: all)."),
        click.option("--platform", "platforms", multiple=True,
                     help="Only questions on this notebook platform, e.g. jupyter, colab (repeatable)."),
        click.option("--year-from", type=int, help="Only questions asked in this year or later."),
        click.option("--year-to", type=int, help="Only questions asked in this year or earlier."),
        click.option("--notebook", default="yes", show_default=True, type=_TRI, help="Notebook questions only / none / both."),
        click.option("--ml", default="yes", show_default=True, type=_TRI, help="ML questions only / none / both."),
        click.option("--where", help="Extra SQL condition on question_labels l / question_text t, e.g. \"l.stage2 IS NULL\"."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def selection_from(sites: tuple[str, ...], platforms: tuple[str, ...], year_from: int | None, year_to: int | None,
                   notebook: str, ml: str, where: str | None) -> Selection:
    """The Selection the options describe."""
    tri = {"yes": True, "no": False, "any": None}
    return Selection(sites=tuple(sites), platforms=tuple(sorted(platforms)), notebook=tri[notebook], ml=tri[ml],
                     year_from=year_from, year_to=year_to, where=where)
