"""Ingest through the ledger: the same dump is not loaded twice, but editing the rules ingest applies
(the bot list, the watermark list) makes the next run (`stackmine run`, `stackmine ingest`) load it
again and re-flag its rows. Rule files are package data, so the test edits a copy of the package's
rules and points the step at it."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline import ingest
from pipeline.steps import connect, ingest_sources
from tests.support import SAMPLE

AI, SO = "ai.stackexchange.com", "stackoverflow.com"
# A real user of the ai.stackexchange.com 2017-03 sample, not a bot in the shipped list.
USER = 10


@pytest.fixture
def editable_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of pipeline/ingest's rules and SQL as a package of its own; ingest's step points at it."""
    package = tmp_path / "pkg" / "edited_ingest_rules"
    source = Path(ingest.__file__).parent
    for folder in ("rules", "sql"):
        shutil.copytree(source / folder, package / folder)
    (package / "__init__.py").write_text("")
    shutil.copy(package / "sql" / "ingest.sql", package / "sql" / "edited_ingest_rules.sql")  # Step.sql(): <package>.sql
    monkeypatch.syspath_prepend(str(tmp_path / "pkg"))
    edited = replace(ingest.STEP, package="edited_ingest_rules")
    monkeypatch.setattr("pipeline.ingest.STEP", edited)
    monkeypatch.setattr("pipeline.ingest.load.STEP", edited)
    return package / "rules"


def statuses(report) -> list[tuple[str, str]]:
    return [(s.site, s.status) for s in report.sites]


def test_editing_the_bot_list_reingests_and_reflags(editable_rules: Path, tmp_path: Path) -> None:
    con = connect(tmp_path / "db.duckdb")
    try:
        assert statuses(ingest_sources(con, [SAMPLE])) == [(AI, "loaded"), (SO, "loaded")]
        assert statuses(ingest_sources(con, [SAMPLE])) == [(AI, "unchanged"), (SO, "unchanged")]
        bots = con.execute("SELECT id FROM users WHERE is_bot ORDER BY ALL").fetchall()
        assert bots == [(-1,)]
        with (editable_rules / "bots.v1.csv").open("a", encoding="utf-8") as rules:
            rules.write(f'{AI},{USER},someone,"a test edit",this test\n')
        assert statuses(ingest_sources(con, [SAMPLE])) == [(AI, "loaded"), (SO, "loaded")]
        assert con.execute("SELECT id FROM users WHERE is_bot ORDER BY ALL").fetchall() == [(-1,), (USER,)]
        assert statuses(ingest_sources(con, [SAMPLE])) == [(AI, "unchanged"), (SO, "unchanged")]
    finally:
        con.close()


def test_force_reloads_and_a_deleted_site_is_loaded_again(tmp_path: Path) -> None:
    con = connect(tmp_path / "db.duckdb")
    try:
        ingest_sources(con, [SAMPLE])
        assert statuses(ingest_sources(con, [SAMPLE], force=True)) == [(AI, "loaded"), (SO, "loaded")]
        con.execute("DELETE FROM dumps WHERE site = ?", [SO])  # someone changed the site by hand
        assert statuses(ingest_sources(con, [SAMPLE])) == [(AI, "unchanged"), (SO, "loaded")]
    finally:
        con.close()
