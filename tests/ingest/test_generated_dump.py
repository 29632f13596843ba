"""bench/generate_so.py, the rehearsal's input, writes a dump the chain reads: every file ingests,
ids are unique, references point at existing rows, and the same arguments give the same bytes."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.ingest.load import ingest
from pipeline.steps import connect
from tests.support import REPO

pytestmark = pytest.mark.slow


def _generate(out: Path, questions: int) -> Path:
    subprocess.run([sys.executable, str(REPO / "bench" / "generate_so.py"), str(out), "--questions", str(questions),
                    "--processes", "2"], check=True, capture_output=True, text=True)
    return out / "stackoverflow.com"


def test_a_generated_site_ingests_with_consistent_references(tmp_path: Path) -> None:
    site = _generate(tmp_path / "a", 24_000)
    again = _generate(tmp_path / "b", 24_000)
    for path in sorted(site.iterdir()):
        assert hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256((again / path.name).read_bytes()).digest()
    con = connect(tmp_path / "g.duckdb")
    try:
        ingest(con, [site.parent])
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: S608 (fixed names)
                  for t in ("posts", "users", "comments", "votes", "badges", "post_history", "post_links", "tags")}
        questions = con.execute("SELECT count(*) FROM posts WHERE post_type_id = 1").fetchone()[0]
        orphans = con.execute("SELECT count(*) FROM posts a LEFT JOIN posts q ON a.parent_id = q.id AND a.site = q.site "
                              "WHERE a.parent_id IS NOT NULL AND q.id IS NULL").fetchone()[0]
        unknown_users = con.execute("SELECT count(*) FROM comments c LEFT JOIN users u ON c.user_id = u.id "
                                    "AND c.site = u.site WHERE c.user_id IS NOT NULL AND u.id IS NULL").fetchone()[0]
    finally:
        con.close()
    # Stack Overflow's 2024 proportions scaled to 24,000 of its 24M questions (one in a thousand)
    assert counts == {"posts": 59_800, "users": 22_500, "comments": 90_400, "votes": 238_000, "badges": 51_300,
                      "post_history": 158_000, "post_links": 7_900, "tags": 66}
    assert 23_000 < questions <= 24_000
    assert orphans == 0 and unknown_users == 0
