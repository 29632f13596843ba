"""Named errors: every failure a user can cause says what, where and what to do."""

from __future__ import annotations


class StackmineError(Exception):
    """Base of every error stackmine raises on purpose; the CLI prints it without a traceback."""


class DumpError(StackmineError):
    """A dump file cannot be read: malformed, truncated, not a dump, bad encoding, unsafe XML.

    Carries the file and line so the message can say exactly where to look.
    """

    def __init__(self, path: str, line: int | None, problem: str, hint: str = "") -> None:
        self.path = path
        self.line = line
        self.problem = problem
        self.hint = hint
        where = f"{path}, line {line}" if line else path
        text = f"{where}: {problem}"
        if hint:
            text += f"\n  What to do: {hint}"
        text += "\n  The database was not changed."
        super().__init__(text)

    def __reduce__(self):
        # Rebuilt from its parts when it crosses a process (a Dask worker, Prefect's result store);
        # the default would call __init__ with the message alone and fail.
        return (type(self), (self.path, self.line, self.problem, self.hint))


class DatabaseBusy(StackmineError):
    """Another process holds the database file's lock (a writer, or any connection when we write)."""


class DatabaseMissing(StackmineError, FileNotFoundError):
    """A command that only reads was pointed at a database file that does not exist."""


class ChecksumMismatch(StackmineError):
    """A downloaded or given file does not match its published SHA-256."""


class DownloadError(StackmineError):
    """A download stopped half-way or the server was busy: transient; a retry resumes from the partial file."""


class MirrorError(StackmineError):
    """The mirror cannot be reached (host not found, connection refused) or has no such file: not
    transient, so it is never retried."""


class BadArchive(StackmineError):
    """A downloaded or present file is not a 7z archive that opens (an error page, a cut-off file)."""


class ChecksumListError(StackmineError, ValueError):
    """The `--sha256` list is missing, unreadable or not in sha256sum's format."""


class CoverageError(StackmineError, ValueError):
    """Inputs the coverage statistics cannot use (unknown labels, shapes that do not match, an empty
    gold set, too few bootstrap replicates for the corrected level); the message says which."""
