"""Bad input: a named DumpError naming file and line, and a database left exactly as it was.

Every corrupt file is made here, in tmp_path, from real files (the bundled sample, tests/data).
Each test ingests into a copy of the sample database and compares a fingerprint of every dump
table (row count + hash of all rows) before and after.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.support import REPO, SAMPLE, TEST_DATA
from tests.support.ingest_helpers import archive_members, fingerprint

from flows.cli.ingest import ingest_command
from pipeline.steps import connect
from pipeline.core.errors import DumpError
from pipeline.ingest.load import ingest

CUT = TEST_DATA / "datascience.meta.stackexchange.com" / "Posts.xml"
SITE = "datascience.meta.stackexchange.com"


def _site_file(tmp_path: Path, data: bytes, name: str = "Posts.xml", site: str = SITE) -> Path:
    folder = tmp_path / "in" / site
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    return folder


def _refused(db: Path, source: Path, line: int | None, words: str) -> DumpError:
    """Ingest `source` into `db`: assert DumpError at `line` mentioning `words`, db unchanged."""
    before = fingerprint(db)
    con = connect(db)
    try:
        with pytest.raises(DumpError) as caught:
            ingest(con, [source])
    finally:
        con.close()
    error = caught.value
    assert error.line == line
    message = str(error)
    assert str(source) in message or str(source) in error.path
    if line is not None:
        assert f", line {line}:" in message
    assert re.search(words, message, re.IGNORECASE), message
    assert "What to do:" in message and "The database was not changed." in message
    assert fingerprint(db) == before
    return error


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def test_truncated_mid_row(sample_db_copy: Path, tmp_path: Path) -> None:
    lines = _lines(CUT.read_bytes())
    cut = b"".join(lines[:21]) + lines[21][: len(lines[21]) // 2]  # file line 22 cut in half
    _refused(sample_db_copy, _site_file(tmp_path, cut), 22, r"truncated")


def test_truncated_at_row_boundary(sample_db_copy: Path, tmp_path: Path) -> None:
    """A download that stopped between rows: every row parses, but </posts> never comes."""
    lines = _lines(CUT.read_bytes())
    _refused(sample_db_copy, _site_file(tmp_path, b"".join(lines[:12])), 12, r"ends before its closing </posts>")


def test_malformed_row(sample_db_copy: Path, tmp_path: Path) -> None:
    lines = _lines(CUT.read_bytes())
    assert b'Title="' in lines[9]
    lines[9] = lines[9].replace(b'Title="', b'Title="a<b ', 1)  # file line 10
    _refused(sample_db_copy, _site_file(tmp_path, b"".join(lines)), 10, r"line 10: malformed XML \(column \d+\): Unescaped '<' not allowed")


def test_unexpected_element(sample_db_copy: Path, tmp_path: Path) -> None:
    lines = _lines(CUT.read_bytes())
    lines[4] = lines[4].replace(b"<row ", b"<post ", 1)  # file line 5
    _refused(sample_db_copy, _site_file(tmp_path, b"".join(lines)), 5, r"unexpected element <post>")


def test_value_of_wrong_type(sample_db_copy: Path, tmp_path: Path) -> None:
    lines = _lines(CUT.read_bytes())
    lines[6] = re.sub(rb'Score="-?\d+"', b'Score="many"', lines[6], count=1)  # file line 7
    _refused(sample_db_copy, _site_file(tmp_path, b"".join(lines)), 7, r"Score='many' is not a valid INTEGER")


def test_png_named_like_a_dump(sample_db_copy: Path, tmp_path: Path) -> None:
    import matplotlib

    png = Path(matplotlib.get_data_path()) / "images" / "hand.png"
    _refused(sample_db_copy, _site_file(tmp_path, png.read_bytes()), 1, r"not a Stack Exchange XML dump")


def test_png_given_as_source(sample_db_copy: Path, tmp_path: Path) -> None:
    import matplotlib

    png = tmp_path / "hand.png"
    png.write_bytes((Path(matplotlib.get_data_path()) / "images" / "hand.png").read_bytes())
    _refused(sample_db_copy, png, None, r"not a dump source")


def test_random_csv(sample_db_copy: Path, tmp_path: Path) -> None:
    """A real CSV that is not a Posts export (the repository's license rules)."""
    other = tmp_path / "licenses.csv"
    other.write_bytes((REPO / "pipeline" / "publish" / "rules" / "licenses.v1.csv").read_bytes())
    _refused(sample_db_copy, other, 1, r"not a Data Explorer export of Posts: header lacks Id")


def test_other_dump_file_under_a_dump_name(sample_db_copy: Path, tmp_path: Path) -> None:
    """Users.xml content saved as Posts.xml: the root element gives it away."""
    users = archive_members(SAMPLE / "ai.stackexchange.com.7z")["Users.xml"]
    _refused(sample_db_copy, _site_file(tmp_path, users), 2, r"root element <users> is not the <posts>")


def test_utf16_with_utf8_declaration(sample_db_copy: Path, tmp_path: Path) -> None:
    text = CUT.read_bytes().decode("utf-8-sig")
    _refused(sample_db_copy, _site_file(tmp_path, text.encode("utf-16")), 1, r"UTF-16")


def test_utf16_without_bom(sample_db_copy: Path, tmp_path: Path) -> None:
    text = CUT.read_bytes().decode("utf-8-sig")
    _refused(sample_db_copy, _site_file(tmp_path, text.encode("utf-16-le")), 1, r"NUL bytes: not UTF-8")


def test_latin1_bytes(sample_db_copy: Path, tmp_path: Path) -> None:
    """A real row whose é was saved as Latin-1 (0xE9), invalid in UTF-8."""
    lines = _lines(archive_members(SAMPLE / "ai.stackexchange.com.7z")["Posts.xml"])
    assert "é".encode() in lines[1357] and b'Id="2545"' in lines[1357]
    lines[1357] = lines[1357].replace("é".encode(), "é".encode("latin-1"))
    source = _site_file(tmp_path, b"".join(lines), site="ai.stackexchange.com")
    _refused(sample_db_copy, source, 1358, r"line 1358: bytes that are not valid UTF-8 \(column \d+\)")


BILLION_LAUGHS = b"""<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE posts [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<posts>
"""


def _with_prolog(prolog: bytes, body_entity: bytes) -> bytes:
    """A real row (Id 6 of the 2024 cut) whose Body is replaced by an entity reference."""
    row = _lines(CUT.read_bytes())[2]
    row = re.sub(rb'Body="[^"]*"', b'Body="' + body_entity + b'"', row)
    return prolog + row + b"</posts>\n"


def test_billion_laughs(sample_db_copy: Path, tmp_path: Path) -> None:
    data = _with_prolog(BILLION_LAUGHS, b"&lol9;")
    _refused(sample_db_copy, _site_file(tmp_path, data), 2, r"refused: the XML declares a DTD")


def test_external_entity_is_not_read(sample_db_copy: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-4242")
    prolog = (b'<?xml version="1.0" encoding="utf-8"?>\n'
              b'<!DOCTYPE posts [<!ENTITY xxe SYSTEM "file://' + str(secret).encode() + b'">]>\n<posts>\n')
    error = _refused(sample_db_copy, _site_file(tmp_path, _with_prolog(prolog, b"&xxe;")), 2, r"refused")
    assert "TOPSECRET" not in str(error)
    con = connect(sample_db_copy, read_only=True)
    assert con.execute("SELECT count(*) FROM posts WHERE body LIKE '%TOPSECRET%'").fetchone() == (0,)
    con.close()


def test_entity_reference_without_dtd(sample_db_copy: Path, tmp_path: Path) -> None:
    """Rows may use only XML's predefined entities; anything else is an error, never expanded."""
    lines = _lines(CUT.read_bytes())
    lines[4] = re.sub(rb'Body="', b'Body="&lol9;', lines[4], count=1)  # file line 5
    _refused(sample_db_copy, _site_file(tmp_path, b"".join(lines)), 5, r"Entity 'lol9' not defined")


def test_bad_file_among_good_ones_changes_nothing(sample_db_copy: Path, tmp_path: Path) -> None:
    """A site folder whose Posts.xml is fine but whose Users.xml is cut: nothing of it is loaded."""
    users = _lines(archive_members(SAMPLE / "ai.stackexchange.com.7z")["Users.xml"])
    folder = _site_file(tmp_path, CUT.read_bytes())
    (folder / "Users.xml").write_bytes(b"".join(users[:100]))
    _refused(sample_db_copy, folder, 100, r"truncated")


def test_bad_site_after_a_good_one_changes_nothing(sample_db_copy: Path, tmp_path: Path) -> None:
    """One run, two sites: the first (a new site) is read and inserted whole before the second
    turns out to be cut. The run is one transaction, so the first site is not loaded either."""
    good = tmp_path / "in" / "a" / "meta.mathoverflow.net"
    good.mkdir(parents=True)
    (good / "Posts.xml").write_bytes((TEST_DATA / "meta.mathoverflow.net" / "Posts.xml").read_bytes())
    bad = _site_file(tmp_path, b"".join(_lines(CUT.read_bytes())[:12]))
    before = fingerprint(sample_db_copy)
    con = connect(sample_db_copy)
    try:
        with pytest.raises(DumpError, match="ends before its closing </posts>") as caught:
            ingest(con, [good, bad])
        assert caught.value.line == 12
        assert con.execute("SELECT count(*) FROM posts WHERE site = 'meta.mathoverflow.net'").fetchone() == (0,)
    finally:
        con.close()
    assert fingerprint(sample_db_copy) == before


@pytest.mark.slow  # a real `stackmine ingest` process
def test_cli_reports_dump_error_without_traceback(sample_db_copy: Path, tmp_path: Path) -> None:
    lines = _lines(CUT.read_bytes())
    source = _site_file(tmp_path, b"".join(lines[:12]))
    result = subprocess.run([sys.executable, "-c", "from flows.cli import main; main()", "ingest",
                             str(source), "--db", str(sample_db_copy)], capture_output=True, text=True)
    assert result.returncode == 2
    assert f"error: {source / 'Posts.xml'}, line 12: file ends before its closing </posts>" in result.stderr
    assert "Traceback" not in result.stderr


def _big_site(tmp_path: Path, copies: int) -> Path:
    """ai.stackexchange.com with a Posts.xml of `copies` renumbered copies of the real rows."""
    lines = _lines(archive_members(SAMPLE / "ai.stackexchange.com.7z")["Posts.xml"])
    rows = b"".join(lines[2:-1])
    folder = tmp_path / "big" / "ai.stackexchange.com"
    folder.mkdir(parents=True)
    with (folder / "Posts.xml").open("wb") as out:
        out.write(b"".join(lines[:2]))
        for copy in range(copies):
            out.write(re.sub(rb'<row Id="(\d+)"', lambda m: b'<row Id="%d"' % (int(m.group(1)) + copy * 10**6), rows))
        out.write(lines[-1])
    return folder


@pytest.mark.slow
def test_kill_9_while_loading_keeps_previous_snapshot(sample_db_copy: Path, tmp_path: Path) -> None:
    """SIGKILL `stackmine ingest` in the middle of its load transaction: the old site is intact."""
    source = _big_site(tmp_path, copies=60)  # about 150 MB, 104k posts: the insert takes ~2 s
    before = fingerprint(sample_db_copy)
    process = subprocess.Popen(
        [sys.executable, "-c", "from flows.cli import main; main()", "ingest", str(source),
         "--db", str(sample_db_copy), "--workers", "2", "--force"],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    seen = []
    for raw in process.stderr:
        seen.append(raw.decode(errors="replace"))
        if "ai.stackexchange.com: loading" in seen[-1]:
            time.sleep(0.1)  # inside the insert transaction
            os.kill(process.pid, signal.SIGKILL)
            break
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, "".join(seen)
    assert fingerprint(sample_db_copy) == before
    con = connect(sample_db_copy)
    assert con.execute("SELECT count(*) FROM posts WHERE site = 'ai.stackexchange.com'").fetchone() == (1735,)
    assert con.execute("SELECT count(*) FROM posts WHERE id > 1000000 AND site = 'ai.stackexchange.com'").fetchone() == (0,)
    con.close()
