"""Options that choose a Selection, shared by `stackmine topics` and `stackmine stages`.

No COMMANDS here: the command discovery imports this module and finds nothing to register.
"""

from __future__ import annotations

from collections.abc import Callable

import click

from pipeline.core.selection import Selection

_TRI = click.Choice(["yes", "no", "any"])

# The columns and functions --where may use (pipeline/core/sqlguard.py; tests/cli/test_where.py keeps
# this text in step with the allow-list there).
WHERE_HELP = (
    "Extra condition, e.g. \"l.stage2 IS NULL AND year(t.creation_date) >= 2020\". One true/false "
    "expression over question_labels l (site, dump_id, post_id, platforms, notebook, ml, stage, stage2, "
    "evidence, classifier_version, p_ml, p_stage) and question_text t (site, dump_id, post_id, creation_date, title, prose, "
    "code, inline_code, links, tags, text_version): constants, comparisons, AND/OR/NOT, IS NULL, IN (...), "
    "BETWEEN, LIKE/ILIKE/GLOB, + - * / ||, casts, ['lists'], and array_contains, array_length, contains, ends_with, "
    "json_exists, json_extract_string, len, length, list_contains, list_has, list_has_all, list_has_any, "
    "list_value, lower, month, prefix, quarter, regexp_full_match, regexp_matches, starts_with, strlen, suffix, trim, "
    "upper, year. Anything else (sub-selects, other functions, `;`) is refused."
)


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
        click.option("--where", help=WHERE_HELP),
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
