"""Which snapshot a site ends up with: an empty or far smaller one never replaces a loaded site
(issue 12 item 1), several Data Explorer exports of one site form one snapshot and a further one
can be added (issue 13 item 6), and site names are checked (issue 12 item 7).

Real files only: the bundled sample, the cut in tests/data/datascience.meta.stackexchange.com and
the two overlapping chunks of the sample's Data Explorer export in tests/data/sede (rows 1-30 and
21-50 of data/sample/stackoverflow.com/data-science-questions-2022.csv; see tests/data/README.md).
"""

from __future__ import annotations

import csv
import io
import logging
import shutil
from pathlib import Path

import duckdb
import pytest
from tests.support import SAMPLE, TEST_DATA
from tests.support.ingest_helpers import fingerprint, table_counts

from pipeline.core.errors import DumpError
from pipeline.ingest import STEP
from pipeline.ingest.load import ingest
from pipeline.steps import connect, ingest_sources

AI = "ai.stackexchange.com"
AI_DUMP = "ai.stackexchange.com@2017-03-13-c27b753e"
SO = "stackoverflow.com"
SO_DUMP = "stackoverflow.com@2023-11-15-1e6b60a9"
CUT = TEST_DATA / "datascience.meta.stackexchange.com" / "Posts.xml"
PART1 = TEST_DATA / "sede" / SO / "part1.csv"
PART2 = TEST_DATA / "sede" / SO / "part2.csv"
# The snapshot parts 1 and 2 form: its date is the newest LastActivityDate of the 50 rows.
PARTS_DUMP = "stackoverflow.com@2022-09-16-b4d35113"


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def _folder(tmp_path: Path, site: str, files: dict[str, bytes]) -> Path:
    folder = tmp_path / "in" / site
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def _refused(db: Path, sources: list[Path], words: list[str], **options) -> DumpError:
    """Ingest `sources`: assert DumpError naming each of `words`, and every dump table unchanged."""
    before = fingerprint(db)
    con = connect(db)
    try:
        with pytest.raises(DumpError) as caught:
            ingest(con, sources, **options)
    finally:
        con.close()
    for word in words:
        assert word in str(caught.value), str(caught.value)
    assert "The database was not changed." in str(caught.value)
    assert fingerprint(db) == before
    return caught.value


def csv_rows(path: Path) -> tuple[bytes, list[bytes]]:
    """The header line and each data row of a CSV export as its exact bytes (bodies span lines)."""
    data = path.read_bytes()
    lines = _lines(data)
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
    bounds, ended = [], 0
    for _ in reader:
        bounds.append((ended, reader.line_num))
        ended = reader.line_num
    rows = [b"".join(lines[a:b]) for a, b in bounds]
    return rows[0], rows[1:]


# --- issue 12 item 1: an empty dump never deletes a loaded site ------------------------------------

def _empty_posts(self_closed: bool) -> bytes:
    """The real prolog and root of the 2024 cut, with no rows: `<posts>\\n</posts>` or `<posts />`."""
    lines = _lines(CUT.read_bytes())
    return lines[0] + (b"<posts />\r\n" if self_closed else lines[1] + lines[-1])


@pytest.mark.parametrize("self_closed", [False, True], ids=["open-close", "self-closed"])
def test_an_empty_posts_file_does_not_replace_a_loaded_site(sample_db_copy: Path, tmp_path: Path,
                                                            self_closed: bool) -> None:
    folder = _folder(tmp_path, AI, {"Posts.xml": _empty_posts(self_closed)})
    error = _refused(sample_db_copy, [folder], [
        f"refused: this snapshot of {AI} holds 0 posts (0 rows in all), the database 1,735 ({AI_DUMP})",
        f"never replaces a site. Kept {AI_DUMP}", "pass --force"])
    assert error.path == str(folder / "Posts.xml")


def test_a_header_only_export_does_not_replace_a_loaded_site(sample_db_copy: Path, tmp_path: Path) -> None:
    header, _ = csv_rows(SAMPLE / SO / "data-science-questions-2022.csv")
    folder = _folder(tmp_path, SO, {"export.csv": header})
    _refused(sample_db_copy, [folder], [f"holds 0 posts (0 rows in all), the database 1,475 ({SO_DUMP})",
                                        f"Kept {SO_DUMP}"])


def test_force_replaces_a_site_with_an_empty_snapshot(sample_db_copy: Path, tmp_path: Path) -> None:
    """--force is the way to say the site really is empty now."""
    folder = _folder(tmp_path, AI, {"Posts.xml": _empty_posts(False)})
    con = connect(sample_db_copy)
    try:
        report = ingest(con, [folder], force=True)
        assert [s.status for s in report.sites] == ["loaded"]
        assert table_counts(con, AI)["posts"] == 0 and table_counts(con, SO)["posts"] == 1475
    finally:
        con.close()


def test_an_empty_new_site_is_refused(sample_db_copy: Path, tmp_path: Path) -> None:
    folder = _folder(tmp_path, "datascience.meta.stackexchange.com", {"Posts.xml": _empty_posts(True)})
    _refused(sample_db_copy, [folder], ["holds no rows: nothing to load for datascience.meta.stackexchange.com"])


def _parts_db(tmp_path: Path) -> Path:
    db = tmp_path / "parts.duckdb"
    con = connect(db)
    try:
        ingest(con, [PART1, PART2])
    finally:
        con.close()
    return db


def _cut_of_parts(tmp_path: Path, keep: int) -> Path:
    """`keep` of the 50 rows of parts 1 and 2, byte for byte, always with the newest one (so the
    cut is as current as the snapshot, and only its size decides)."""
    header, first = csv_rows(PART1)
    _, second = csv_rows(PART2)
    rows = first + second[10:]  # part 2's first 10 rows are part 1's last 10
    newest = max(rows, key=lambda row: next(csv.reader(io.StringIO(row.decode(), newline="")))[14])
    chosen = [newest] + [row for row in rows if row is not newest][: keep - 1]
    path = tmp_path / "cut" / SO / "export.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header + b"".join(chosen))
    return path


def test_under_half_the_loaded_posts_is_refused_half_is_loaded(tmp_path: Path) -> None:
    """The threshold: 24 of 50 posts is refused, 25 (half) replaces the site."""
    db = _parts_db(tmp_path)
    _refused(db, [_cut_of_parts(tmp_path / "a", 24)], ["holds 24 posts (24 rows in all), the database 50",
                                                        f"Kept {PARTS_DUMP}", "pass --add"])
    con = connect(db)
    try:
        report = ingest(con, [_cut_of_parts(tmp_path / "b", 25)])
        assert [s.status for s in report.sites] == ["loaded"] and table_counts(con, SO)["posts"] == 25
    finally:
        con.close()


@pytest.mark.slow  # a real `stackmine ingest` process
def test_cli_says_what_was_kept(sample_db_copy: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    folder = _folder(tmp_path, AI, {"Posts.xml": _empty_posts(True)})
    done = subprocess.run([sys.executable, "-m", "flows.cli", "ingest", str(folder), "--db", str(sample_db_copy)],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    error = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert error == [f"error: {folder / 'Posts.xml'}: refused: this snapshot of {AI} holds 0 posts (0 rows in all), "
                     f"the database 1,735 ({AI_DUMP}); a snapshot with fewer than half the loaded posts never "
                     f"replaces a site. Kept {AI_DUMP}"]


# --- issue 13 item 6: several Data Explorer exports of one site --------------------------------------

def test_two_exports_of_one_site_form_one_snapshot(tmp_path: Path) -> None:
    con = connect(tmp_path / "db.duckdb")
    try:
        report = ingest(con, [PART1, PART2])
        assert [(s.site, s.status, s.dump_id, s.rows["posts"]) for s in report.sites] == [
            (SO, "loaded", PARTS_DUMP, 50)]
        assert con.execute("SELECT count(DISTINCT id), count(*) FROM posts").fetchone() == (50, 50)
        assert con.execute("SELECT file, source, rows, dump_id FROM dumps ORDER BY source").fetchall() == [
            ("Posts", f"{SO}/part1.csv", 30, PARTS_DUMP), ("Posts", f"{SO}/part2.csv", 20, PARTS_DUMP)]
        # the rows part 2 repeats are part 1's, loaded once
        assert con.execute("SELECT min(id), max(id) FROM posts WHERE id IN (72276575, 72310137)").fetchone() == (
            72276575, 72310137)
        again = ingest(con, [PART2, PART1])
        assert [s.status for s in again.sites] == ["unchanged"]
    finally:
        con.close()


def test_exports_of_the_same_name_from_two_folders_and_a_file_given_twice(tmp_path: Path) -> None:
    """dumps.source keeps a path from the site folder down, so two chunks saved as
    stackoverflow.com/export.csv in two folders have the same source: the key is the checksum.
    The same content under two names is read once."""
    first, second, again = (tmp_path / d / SO / "export.csv" for d in ("a", "b", "c"))
    for path, part in ((first, PART1), (second, PART2), (again, PART1)):
        path.parent.mkdir(parents=True)
        shutil.copyfile(part, path)
    con = connect(tmp_path / "db.duckdb")
    try:
        report = ingest(con, [first, second, again])
        assert [(s.status, s.dump_id, s.rows["posts"]) for s in report.sites] == [("loaded", PARTS_DUMP, 50)]
        assert con.execute("SELECT source, rows FROM dumps ORDER BY rows DESC").fetchall() == [
            (f"{SO}/export.csv", 30), (f"{SO}/export.csv", 20)]
    finally:
        con.close()


def _conflicting_part2(tmp_path: Path) -> Path:
    """Part 2 with the Score of post 72310137 (also in part 1) changed from 1 to 2: the same post
    exported at another time."""
    data = PART2.read_bytes()
    before = b'"72310137","1","72310256","","2022-05-19 19:29:21","","1",'
    assert data.count(before) == 1
    path = tmp_path / "later" / SO / "part2.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(data.replace(before, before[:-4] + b'"2",'))
    return path


def test_exports_that_disagree_on_a_post_are_refused(tmp_path: Path) -> None:
    db = tmp_path / "db.duckdb"
    connect(db).close()
    later = _conflicting_part2(tmp_path)
    error = _refused(db, [PART1, later], [f"{later}, line 120: Id 72310137 (data row 10) is also in {PART1} "
                                          "(data row 30) with other values"])
    assert error.line == 120


def test_an_export_is_added_to_the_loaded_ones(tmp_path: Path) -> None:
    db = tmp_path / "db.duckdb"
    con = connect(db)
    try:
        ingest_sources(con, [PART1])
        report = ingest_sources(con, [PART2], add=True)
        assert [(s.status, s.dump_id, s.rows["posts"], s.rows["post_tags"]) for s in report.sites] == [
            ("added", PARTS_DUMP, 50, 211)]
        # the added rows join the loaded snapshot's key, which `dumps` now dates as PARTS_DUMP
        assert con.execute("SELECT DISTINCT dump_key FROM posts UNION SELECT DISTINCT dump_key FROM post_tags").fetchall() == [
            (1,)]
        assert con.execute("SELECT DISTINCT dump_key, dump_id FROM dumps").fetchall() == [(1, PARTS_DUMP)]
        assert con.execute("SELECT source, rows FROM dumps ORDER BY source").fetchall() == [
            (f"{SO}/part1.csv", 30), (f"{SO}/part2.csv", 20)]
        assert [s.status for s in ingest_sources(con, [PART2], add=True).sites] == ["unchanged"]
        assert [s.status for s in ingest_sources(con, [PART1, PART2]).sites] == ["unchanged"]
    finally:
        con.close()
    together = tmp_path / "together.duckdb"
    con = connect(together)
    ingest(con, [PART1, PART2])
    con.close()
    added, both = fingerprint(db), fingerprint(together)
    added.pop("dumps"), both.pop("dumps")  # when and how fast each file was read differ
    assert added == both  # adding = giving both at once, row for row


def test_add_refuses_a_post_that_differs_from_the_loaded_one(tmp_path: Path) -> None:
    db = tmp_path / "db.duckdb"
    con = connect(db)
    ingest(con, [PART1])
    con.close()
    later = _conflicting_part2(tmp_path)
    _refused(db, [later], [f"{later}, line 120: Id 72310137 (data row 10) is also in the loaded snapshot "
                           "stackoverflow.com@2022-09-16-"], add=True, site=SO)


def test_add_takes_only_exports_and_only_onto_exports(sample_db_copy: Path, tmp_path: Path) -> None:
    _refused(sample_db_copy, [SAMPLE / "ai.stackexchange.com.7z"], ["--add adds Data Explorer exports (.csv)"], add=True)
    ai_export = tmp_path / AI / "export.csv"
    ai_export.parent.mkdir()
    shutil.copyfile(PART1, ai_export)
    _refused(sample_db_copy, [ai_export], [f"--add: {AI} holds a dump ({AI_DUMP}), not Data Explorer exports"],
             add=True)


def test_a_dump_and_an_export_of_one_site_are_refused_together(tmp_path: Path) -> None:
    export = tmp_path / "datascience.meta.stackexchange.com" / "export.csv"
    export.parent.mkdir()
    shutil.copyfile(PART1, export)
    db = tmp_path / "db.duckdb"
    connect(db).close()
    _refused(db, [CUT.parent, export], ["datascience.meta.stackexchange.com Posts is also in",
                                        "several Data Explorer exports of one site may be given together"])


def test_a_database_keyed_the_old_way_is_rekeyed_on_load(sample_db_copy: Path) -> None:
    """Databases made before this change key `dumps` by (site, file): the first load that needs
    the new key rebuilds the table, keeping its rows."""
    con = duckdb.connect(str(sample_db_copy))
    old = STEP.tables().text().replace("PRIMARY KEY (site, file, source_sha256)", "PRIMARY KEY (site, file)")
    con.execute("ALTER TABLE dumps RENAME TO d")
    con.execute(old)
    con.execute("INSERT INTO dumps SELECT * FROM d")
    con.execute("DROP TABLE d")
    assert con.execute("SELECT constraint_column_names FROM duckdb_constraints() WHERE table_name = 'dumps' "
                       "AND constraint_type = 'PRIMARY KEY'").fetchall() == [(["site", "file"],)]
    con.close()
    before = fingerprint(sample_db_copy)
    con = connect(sample_db_copy)
    try:
        report = ingest(con, [PART1, PART2], site="datascience.stackexchange.com")
        assert [s.status for s in report.sites] == ["loaded"]
        assert con.execute("SELECT constraint_column_names FROM duckdb_constraints() WHERE table_name = 'dumps' "
                           "AND constraint_type = 'PRIMARY KEY'").fetchall() == [(["site", "file", "source_sha256"],)]
        assert con.execute("SELECT count(*) FROM dumps").fetchone() == (11,)
        assert con.execute("SELECT comment FROM duckdb_tables() WHERE table_name = 'dumps'").fetchone()[0].startswith(
            "one row per dump file")
    finally:
        con.close()
    after = fingerprint(sample_db_copy)
    assert {t: v for t, v in after.items() if t not in ("dumps", "posts", "post_tags")} == {
        t: v for t, v in before.items() if t not in ("dumps", "posts", "post_tags")}
    assert after["posts"][0] == before["posts"][0] + 50


# --- issue 12 item 7: site names --------------------------------------------------------------------

def test_a_site_name_that_is_a_path_is_refused(sample_db_copy: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    _refused(sample_db_copy, [PART1], ["--site '../../x': not a site name"], site="../../x",
             staging_dir=work)
    assert list(work.iterdir()) == [] and not (tmp_path / "x").exists()


def test_a_folder_not_named_like_a_site_is_loaded_with_a_warning(tmp_path: Path, caplog) -> None:
    folder = _folder(tmp_path, "ai-2016-12", {"Posts.xml": CUT.read_bytes()})
    con = connect(tmp_path / "db.duckdb")
    try:
        with caplog.at_level(logging.WARNING, logger="pipeline.ingest.dumpfiles"):
            report = ingest(con, [folder])
        assert [s.site for s in report.sites] == ["ai-2016-12"]
        assert ("'ai-2016-12' does not look like a site name (e.g. ai.stackexchange.com): it comes from the folder "
                "or file name and is loaded as a site of its own; pass --site NAME to name the site") in caplog.text
        caplog.clear()
        named = ingest(con, [folder], site="datascience.meta.stackexchange.com")
        assert [s.site for s in named.sites] == ["datascience.meta.stackexchange.com"] and caplog.text == ""
    finally:
        con.close()


def test_a_site_parsed_elsewhere_is_not_merged_over_a_larger_one(sample_db_copy: Path, tmp_path: Path) -> None:
    """The Dask path (parse on a worker into a staging database, merge here) has the same guard."""
    from pipeline.ingest.merge import merge_staged, parse_to_staging

    folder = _folder(tmp_path, AI, {"Posts.xml": _empty_posts(False)})
    staging = tmp_path / "staging"
    staging.mkdir()
    staged = parse_to_staging(AI, [str(folder)], str(staging), workers=1)
    before = fingerprint(sample_db_copy)
    con = connect(sample_db_copy)
    try:
        with pytest.raises(DumpError, match=rf"holds 0 posts \(0 rows in all\), the database 1,735 \({AI_DUMP}\)"):
            merge_staged(con, staged.path, AI)
    finally:
        con.close()
    assert fingerprint(sample_db_copy) == before
    con = connect(sample_db_copy)
    try:
        assert merge_staged(con, staged.path, AI, force=True) == "ingested"  # --force: the site is empty now
        assert table_counts(con, AI)["posts"] == 0 and table_counts(con, SO)["posts"] == 1475
    finally:
        con.close()
