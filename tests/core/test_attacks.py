"""The attack suite (issue 12, "done when"): hostile inputs through the real `stackmine` command
against a database holding two real sites, each refused with one clear line, leaving every table's
row count and content hash as they were and no file written.

The database is the sample (ai.stackexchange.com 2017 and stackoverflow.com 2023) after every
analysis step (`study_db_path`). Each case runs in a fresh empty working folder, which must still be
empty afterwards (a `COPY ... TO 'out.csv'` would land there).

To add a case, append an `Attack` to ATTACKS: the arguments (`{db}`, `{tmp}`, `{mirror}` and
`{in}` are filled in), the text the first line of stderr must contain (log lines, which ingest
prints while it reads, come before it), and optionally a process that holds the database
(`hold="rw"`: a writer; `"ro"`: a read-only connection such as a notebook), a mirror folder whose
`<site>.7z` has the given bytes (`mirror=...`) or input files made under `{in}` (`files=...`: path
and a function returning the bytes, each a real file of tests/data changed in one place).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from tests.support import SAMPLE, TEST_DATA
from tests.support.procs import stackmine_cmd

pytestmark = pytest.mark.slow  # ~15 real CLI processes, one of them starting Prefect

HTML_PAGE = b"<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body>no such item</body></html>\n"
CUT = TEST_DATA / "datascience.meta.stackexchange.com" / "Posts.xml"
PART1 = TEST_DATA / "sede" / "stackoverflow.com" / "part1.csv"
PART2 = TEST_DATA / "sede" / "stackoverflow.com" / "part2.csv"
LOG_LINE = re.compile(r"^\d\d:\d\d:\d\d (DEBUG|INFO|WARNING) ")


def _cut_lines() -> list[bytes]:
    return CUT.read_bytes().splitlines(keepends=True)


def _empty_posts() -> bytes:
    lines = _cut_lines()
    return lines[0] + lines[1] + lines[-1]  # the real prolog, <posts>, </posts>


def _self_closed_posts() -> bytes:
    return _cut_lines()[0] + b"<posts />\r\n"


def _header_only() -> bytes:
    return PART1.read_bytes().split(b"\n", 1)[0] + b"\n"


def _repeated_id() -> bytes:
    lines = _cut_lines()
    return b"".join(lines[:9] + [lines[4]] + lines[9:])  # row 5 (Id 17) again as line 10


def _without_post_type() -> bytes:
    lines = _cut_lines()
    lines[6] = re.sub(rb' PostTypeId="\d+"', b"", lines[6])
    return b"".join(lines)


def _empty_row() -> bytes:
    lines = _cut_lines()
    lines[3] = b"  <row />\r\n"
    return b"".join(lines)


def _row_over_the_limit() -> bytes:
    lines = _cut_lines()
    found = re.search(rb'Body="([^"]*)"', lines[4])
    body = found.group(1) * ((17 << 20) // len(found.group(1)) + 1)
    lines[4] = lines[4][: found.start(1)] + body[: body.rfind(b";", 0, 17 << 20) + 1] + lines[4][found.end(1):]
    return b"".join(lines)


def _disagreeing_part2() -> bytes:
    before = b'"72310137","1","72310256","","2022-05-19 19:29:21","","1",'
    return PART2.read_bytes().replace(before, before[:-4] + b'"2",')


@dataclass(frozen=True)
class Attack:
    """One hostile input and what the user must see instead of its effect."""

    name: str
    argv: tuple[str, ...]
    says: str
    hold: str | None = None
    mirror: bytes | None = None
    files: tuple[tuple[str, Callable[[], bytes]], ...] = ()


ATTACKS = [
    Attack("where-drop-table", ("topics", "--db", "{db}", "--where", "1=1) ; DROP TABLE posts; --"),
           "refused: it contains `;` (a second statement)"),
    Attack("where-copy-to-file", ("stages", "--db", "{db}", "--where",
                                  "1=1); COPY (SELECT * FROM read_text('/etc/passwd')) TO 'out.csv'; --"),
           "refused: it contains `;` (a second statement)"),
    Attack("where-read-any-file", ("export", "leak", "--db", "{db}", "--out", "{tmp}/exports", "--where",
                                   "length(read_text('/etc/passwd')::VARCHAR) > 0"),
           "refused: the function read_text() is not allowed"),
    Attack("where-subquery-other-table", ("export", "leak", "--db", "{db}", "--out", "{tmp}/exports", "--where",
                                          "l.post_id IN (SELECT id FROM posts WHERE owner_user_id = 1)"),
           "refused: a sub-select (SELECT ...) is not allowed"),
    Attack("where-variable", ("stages", "--db", "{db}", "--where", "getvariable('x') IS NULL"),
           "refused: the function getvariable() is not allowed"),
    Attack("where-settings", ("topics", "--db", "{db}", "--where", "current_setting('threads') > 0"),
           "refused: the function current_setting() is not allowed"),
    Attack("where-escape-the-and", ("export", "leak", "--db", "{db}", "--out", "{tmp}/exports", "--where",
                                    "l.ml) OR (TRUE"),
           "refused: DuckDB cannot parse it"),
    Attack("where-fails-on-the-data", ("export", "x", "--db", "{db}", "--out", "{tmp}/exports", "--where", "t.title = 1"),
           "refused: DuckDB cannot apply it to the data"),
    Attack("query-dotdot", ("query", "../queries/dataset_provenance", "--db", "{db}"), "not a path"),
    Attack("query-absolute", ("query", "/etc/passwd", "--db", "{db}"), "not a path"),
    Attack("acquire-html-page", ("acquire", "ai.stackexchange.com", "--mirror", "{mirror}", "--dump-date", "2017-03",
                                 "--raw", "{tmp}/raw", "--ingest", "--db", "{db}"),
           "not a 7z archive", mirror=HTML_PAGE),
    Attack("read-while-written", ("query", "dataset_provenance", "--db", "{db}"), "is locked by another process",
           hold="rw"),
    Attack("export-while-written", ("export", "x", "--db", "{db}", "--out", "{tmp}/exports"),
           "is locked by another process", hold="rw"),
    Attack("write-while-a-notebook-reads", ("text", "--db", "{db}"),
           "keeps writers out", hold="ro"),
    # issue 12 item 1: an empty snapshot used to delete the loaded site (exit 0, "loaded 0")
    Attack("empty-posts-over-a-site", ("ingest", "{in}/ai.stackexchange.com", "--db", "{db}"),
           "refused: this snapshot of ai.stackexchange.com holds 0 posts (0 rows in all), the database 1,735",
           files=(("ai.stackexchange.com/Posts.xml", _empty_posts),)),
    Attack("self-closed-posts-over-a-site", ("ingest", "{in}/ai.stackexchange.com", "--db", "{db}"),
           "Kept ai.stackexchange.com@2017-03-13-c27b753e",
           files=(("ai.stackexchange.com/Posts.xml", _self_closed_posts),)),
    Attack("header-only-export-over-a-site", ("ingest", "{in}/stackoverflow.com/export.csv", "--db", "{db}"),
           "refused: this snapshot of stackoverflow.com holds 0 posts (0 rows in all), the database 1,475",
           files=(("stackoverflow.com/export.csv", _header_only),)),
    # issue 12 items 4 and 5: rows that failed only in the database, or later in `text`
    Attack("repeated-id", ("ingest", "{in}/datascience.meta.stackexchange.com", "--db", "{db}"),
           "Posts.xml, line 10: Id 17 is repeated",
           files=(("datascience.meta.stackexchange.com/Posts.xml", _repeated_id),)),
    Attack("row-without-post-type", ("ingest", "{in}/datascience.meta.stackexchange.com", "--db", "{db}"),
           "Posts.xml, line 7: row has no PostTypeId attribute",
           files=(("datascience.meta.stackexchange.com/Posts.xml", _without_post_type),)),
    Attack("empty-row", ("ingest", "{in}/datascience.meta.stackexchange.com", "--db", "{db}"),
           "Posts.xml, line 4: row has no Id attribute",
           files=(("datascience.meta.stackexchange.com/Posts.xml", _empty_row),)),
    Attack("row-over-the-limit", ("ingest", "{in}/datascience.meta.stackexchange.com", "--db", "{db}"),
           "Posts.xml, line 5: a row longer than 16 MiB",
           files=(("datascience.meta.stackexchange.com/Posts.xml", _row_over_the_limit),)),
    # issue 12 item 7: a site name that is a path
    Attack("site-name-is-a-path", ("ingest", str(PART1), "--site", "../../x", "--db", "{db}"),
           "--site '../../x': not a site name"),
    # issue 13 item 6: exports of one site that disagree on a post; --add onto a dump
    Attack("exports-disagree", ("ingest", str(PART1), "{in}/stackoverflow.com/part2.csv", "--db", "{db}"),
           "part2.csv, line 120: Id 72310137 (data row 10) is also in",
           files=(("stackoverflow.com/part2.csv", _disagreeing_part2),)),
    Attack("add-a-dump", ("ingest", str(SAMPLE / "ai.stackexchange.com.7z"), "--add", "--db", "{db}"),
           "--add adds Data Explorer exports (.csv) to a site"),
    Attack("add-an-export-to-a-dump", ("ingest", str(PART1), "--site", "ai.stackexchange.com", "--add", "--db", "{db}"),
           "--add: ai.stackexchange.com holds a dump (ai.stackexchange.com@2017-03-13-c27b753e)"),
]

HOLD = ("import duckdb, sys, time; c = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == 'ro'); "
        "print('ready', flush=True); time.sleep(120)")


def fingerprint(db: Path) -> dict[str, tuple[int, int]]:
    """(rows, hash of all rows) for every table of the database."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [row[0] for row in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]  # noqa
        return {t: tuple(con.execute(f'SELECT count(*), coalesce(bit_xor(hash(t)), 0) FROM "{t}" AS t').fetchone())  # noqa
                for t in tables}
    finally:
        con.close()


@pytest.fixture(scope="module")
def target(study_db_path: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A private copy of the study database and its fingerprint before any attack."""
    db = tmp_path_factory.mktemp("attacked") / "two-sites.duckdb"
    shutil.copyfile(study_db_path, db)
    before = fingerprint(db)
    assert before["posts"][0] == 3210 and before["question_labels"][0] == 2079  # both sites, fully labelled
    return db, before


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.name)
def test_a_hostile_input_is_refused_and_changes_nothing(attack: Attack, target: tuple[Path, dict], tmp_path: Path) -> None:
    db, before = target
    work = tmp_path / "cwd"
    work.mkdir()
    mirror = tmp_path / "mirror"
    if attack.mirror is not None:
        mirror.mkdir()
        (mirror / "ai.stackexchange.com.7z").write_bytes(attack.mirror)
    given = tmp_path / "in"
    for name, make in attack.files:
        (given / name).parent.mkdir(parents=True, exist_ok=True)
        (given / name).write_bytes(make())
    argv = [a.replace("{in}", str(given)).format(db=db, tmp=tmp_path, mirror=mirror) for a in attack.argv]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(tmp_path / "prefect-home"), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    holder = None
    if attack.hold:
        holder = subprocess.Popen([sys.executable, "-c", HOLD, str(db), attack.hold], stdout=subprocess.PIPE, text=True)
        assert holder.stdout.readline().strip() == "ready"
    try:
        done = subprocess.run(stackmine_cmd(*argv), cwd=work, env=env, capture_output=True, text=True, timeout=300)
    finally:
        if holder:
            holder.kill()
            holder.wait()
    lines = [line for line in done.stderr.splitlines() if not LOG_LINE.match(line)]
    assert done.returncode == 2, done.stderr
    assert lines and lines[0].startswith("error: ") and attack.says in lines[0], done.stderr
    assert "Traceback" not in done.stderr
    assert fingerprint(db) == before
    assert list(work.iterdir()) == []
    assert not (tmp_path / "exports").exists() and not (tmp_path / "raw" / "2017-03" / "ai.stackexchange.com.7z").exists()
