"""The one way stackmine reads SQL: `.sql` files beside the code that runs them.

A stage keeps its statements in `pipeline/<stage>/sql/*.sql`. A file is either one script (table
definitions) or a list of named sections, each starting with a line `-- name: NAME`:

    SQL = SqlFile("pipeline.ingest", "ingest.sql")
    con.execute(SQL("delete_site", table="posts"), {"site": site})

Values always travel as bound parameters. Identifiers cannot be bound in SQL, so a section may
hold `{name}` placeholders that are filled only with identifiers from code (a fixed tuple of table
names): `SqlFile` refuses anything that is not a plain lower-case identifier, so text a user typed
can never reach SQL this way.
"""

from __future__ import annotations

import functools
import re
from importlib import resources

_SECTION = re.compile(r"^-- name: *(\w+) *$", re.MULTILINE)
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@functools.cache
def sql_text(package: str, file: str) -> str:
    """Text of `<package>/sql/<file>` (package data: works from a wheel as from a checkout)."""
    return (resources.files(package) / "sql" / file).read_text(encoding="utf-8")


@functools.cache
def sections(package: str, file: str) -> dict[str, str]:
    """The named sections of a file: {name: statement text without the trailing blank lines}."""
    parts = _SECTION.split(sql_text(package, file))
    return {name: body.strip() for name, body in zip(parts[1::2], parts[2::2])}


def statements(text: str) -> list[str]:
    """Split a script into its statements (at `;`), dropping comment-only lines.

    For the few files that run several statements in a row (deleting a model from every topics
    table); none of them holds a `;` inside a string literal.
    """
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    return [s.strip() for s in body.split(";") if s.strip()]


def literal(text: str) -> str:
    """`text` as an SQL string literal, for the few statements that take no bound parameters
    (COMMENT ON, a view's DDL). Only for text from code or the package's files, never from a
    user: doubling quotes is how SQL writes a quote inside a literal."""
    return "'" + text.replace("'", "''") + "'"


class SqlFile:
    """One `.sql` file of a stage package; call it with a section name to get that statement."""

    def __init__(self, package: str, file: str) -> None:
        self.package = package
        self.file = file

    def text(self) -> str:
        """The whole file (table definitions run as one script)."""
        return sql_text(self.package, self.file)

    def __call__(self, section: str, /, **identifiers: str) -> str:
        """Statement `section`, with `{placeholder}` identifiers filled in (from code only)."""
        try:
            text = sections(self.package, self.file)[section]
        except KeyError:
            raise KeyError(f"{self.package}/sql/{self.file} has no section '-- name: {section}'") from None
        for key, value in identifiers.items():
            if not _IDENTIFIER.match(value):
                raise ValueError(f"not an identifier: {value!r}")
            text = text.replace("{" + key + "}", value)
        return text

    def statements(self, section: str | None = None, /, **identifiers: str) -> list[str]:
        """The statements of `section` (or of the whole file), in order."""
        return statements(self(section, **identifiers) if section else self.text())
