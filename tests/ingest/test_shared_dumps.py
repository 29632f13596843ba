"""Every real dump in ../shared/data loads with exact row counts; snapshots replace atomically."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support import SHARED_DATA
from tests.support.ingest_helpers import archive_members, count_csv_rows, count_rows, newest_day, table_counts

from pipeline.ingest.columns import FILE_TABLES
from pipeline.steps import connect
from pipeline.ingest.load import ingest

pytestmark = [pytest.mark.shared, pytest.mark.slow]  # every real dump ingested, its rows counted independently

DUMPS = SHARED_DATA / "dumps"
# folder -> (site, newest timestamp in any of its files: the date in dump_id). The 2024-01 dump's
# newest is an edit of 2024-03-21 (LastEditDate), later than its newest CreationDate.
FOLDERS = {
    "2013-09/meta.mathoverflow.net": ("meta.mathoverflow.net", "2013-09-05"),
    "2016-12/ai.stackexchange.com": ("ai.stackexchange.com", "2016-12-11"),
    "2017-03/ai.stackexchange.com": ("ai.stackexchange.com", "2017-03-13"),
    "2023-09/bicycles.meta.stackexchange.com": ("bicycles.meta.stackexchange.com", "2023-09-03"),
    "2024-01/datascience.meta.stackexchange.com": ("datascience.meta.stackexchange.com", "2024-03-21"),
}


def _expected_counts(files: dict[str, bytes]) -> dict[str, int]:
    return {FILE_TABLES[Path(name).stem]: count_rows(data) for name, data in files.items()}


@pytest.mark.parametrize("folder", sorted(FOLDERS))
def test_dump_folder_rows_match_raw_count(folder: str, tmp_path: Path) -> None:
    site, date = FOLDERS[folder]
    files = {p.name: p.read_bytes() for p in (DUMPS / folder).glob("*.xml")}
    con = connect(tmp_path / "db.duckdb")
    report = ingest(con, [DUMPS / folder])
    assert [s.site for s in report.sites] == [site]
    assert date == newest_day(list(files.values()))
    assert report.sites[0].dump_id.startswith(f"{site}@{date}-")
    counts = table_counts(con, site)
    for table, expected in _expected_counts(files).items():
        assert counts[table] == expected, table
    assert counts["dumps"] == len(files)


def test_2014_archive_rows_match_raw_count(tmp_path: Path) -> None:
    archive = DUMPS / "2014-09" / "meta.avp.stackexchange.com.7z"
    con = connect(tmp_path / "db.duckdb")
    report = ingest(con, [archive])
    # newest timestamp: a user's LastAccessDate, after the newest post (2014-09-02)
    assert newest_day(list(archive_members(archive).values())) == "2014-09-11"
    assert report.sites[0].dump_id.startswith("meta.avp.stackexchange.com@2014-09-11-")
    counts = table_counts(con, "meta.avp.stackexchange.com")
    expected = _expected_counts(archive_members(archive))
    assert len(expected) == 8
    for table, rows in expected.items():
        assert counts[table] == rows, table
    source = con.execute("SELECT DISTINCT source_sha256 FROM dumps").fetchall()
    assert source == [("7cb099e808ac5266c530b392e3ce3e94240522f9647e7b5fc0eac0300c1fe551",)]


def test_sede_csv_rows_match_raw_count(tmp_path: Path) -> None:
    csv_path = SHARED_DATA / "sede" / "stackoverflow.com" / "data-science-questions-2022.csv"
    con = connect(tmp_path / "db.duckdb")
    ingest(con, [csv_path])
    assert table_counts(con, "stackoverflow.com")["posts"] == count_csv_rows(csv_path) == 1475
    other = ingest(con, [csv_path], site="datascience-export", force=True)
    assert [s.site for s in other.sites] == ["datascience-export"]
    assert table_counts(con, "datascience-export")["posts"] == 1475


def test_every_dump_together_in_one_run(tmp_path: Path) -> None:
    """A folder of many sites and eras (minus the older ai snapshot) in one call, on 2 workers."""
    sources = [DUMPS / f for f in FOLDERS if not f.startswith("2016-12")]
    sources.append(DUMPS / "2014-09")
    con = connect(tmp_path / "db.duckdb")
    report = ingest(con, sources, workers=2)
    assert sorted(s.site for s in report.sites) == [
        "ai.stackexchange.com", "bicycles.meta.stackexchange.com", "datascience.meta.stackexchange.com",
        "meta.avp.stackexchange.com", "meta.mathoverflow.net"]
    total = sum(count_rows(p.read_bytes()) for f in FOLDERS if not f.startswith("2016-12")
                for p in (DUMPS / f).glob("*.xml"))
    total += sum(count_rows(d) for d in archive_members(DUMPS / "2014-09" / "meta.avp.stackexchange.com.7z").values())
    loaded = sum(n for s in report.sites for t, n in s.rows.items() if t not in ("dumps", "post_tags"))
    assert loaded == total


def test_schema_eras_values(tmp_path: Path) -> None:
    """Attributes that vanished load as NULL; ones that exist only in some eras are kept."""
    con = connect(tmp_path / "db.duckdb")
    ingest(con, [DUMPS / "2023-09" / "bicycles.meta.stackexchange.com", DUMPS / "2017-03" / "ai.stackexchange.com"])
    bikes = "bicycles.meta.stackexchange.com"
    # 2023: Users lost ProfileImageUrl and Age, Votes lost UserId/BountyAmount
    row = con.execute("SELECT count(*), count(profile_image_url), count(age) FROM users WHERE site = ?", [bikes]).fetchone()
    assert row == (2551, 0, 0)
    assert con.execute("SELECT count(user_id), count(bounty_amount) FROM votes WHERE site = ?", [bikes]).fetchone() == (0, 0)
    ai = con.execute("SELECT count(profile_image_url), count(age) FROM users WHERE site = 'ai.stackexchange.com'").fetchone()
    assert ai == (4672, 1501)
    # Tags.IsRequired / IsModeratorOnly exist only in the 2023 dump
    assert con.execute("SELECT tag_name, count, is_required FROM tags WHERE site = ? AND id = 1", [bikes]).fetchone() == (
        "bug", 13, True)
    assert con.execute("SELECT count(is_required) FROM tags WHERE site = 'ai.stackexchange.com'").fetchone() == (0,)
    # mixed ContentLicense in 2023 comments
    licenses = con.execute("SELECT content_license, count(*) FROM comments WHERE site = ? GROUP BY 1 ORDER BY 1", [bikes]).fetchall()
    assert sum(n for _, n in licenses) == 2448 and {lic for lic, _ in licenses} >= {"CC BY-SA 2.5", "CC BY-SA 3.0"}


def test_newer_snapshot_replaces_older_atomically(tmp_path: Path) -> None:
    """2016-12 then 2017-03 of ai.stackexchange.com: the site holds exactly the newer snapshot."""
    old, new = DUMPS / "2016-12" / "ai.stackexchange.com", DUMPS / "2017-03" / "ai.stackexchange.com"
    con = connect(tmp_path / "db.duckdb")
    ingest(con, [DUMPS / "2013-09" / "meta.mathoverflow.net"])
    first = ingest(con, [old]).sites[0]
    assert first.rows["posts"] == count_rows((old / "Posts.xml").read_bytes()) == 1279
    second = ingest(con, [new]).sites[0]
    assert second.status == "loaded" and second.dump_id != first.dump_id
    site = "ai.stackexchange.com"
    for table, expected in _expected_counts({p.name: p.read_bytes() for p in new.glob("*.xml")}).items():
        assert table_counts(con, site)[table] == expected, table
    # rows carry the snapshot's key (the site's second); dumps dates it
    assert con.execute("SELECT DISTINCT dump_key, dump_id FROM dumps WHERE site = ?", [site]).fetchall() == [
        (2, second.dump_id)]
    for table in ("dumps", "posts", "post_tags", "users", "comments", "tags", "post_links", "post_history",
                  "votes", "badges"):
        keys = con.execute(f"SELECT DISTINCT dump_key FROM {table} WHERE site = ?", [site]).fetchall()
        assert keys == [(2,)], table
    # another site is untouched
    assert table_counts(con, "meta.mathoverflow.net")["posts"] == 672
    # the same dump again: no-op; the older one again: kept the newer (parsed and inserted as
    # snapshot 3, then deleted again: the database is as it was)
    assert ingest(con, [new]).sites[0].status == "unchanged"
    def rows() -> list[tuple]:
        return [con.execute(f"SELECT count(*), coalesce(bit_xor(hash(t)), 0) FROM {t} AS t").fetchone()
                for t in ("posts", "post_tags", "users", "comments", "tags", "post_links", "post_history", "votes",
                          "badges")]
    before = rows()
    assert ingest(con, [old]).sites[0].status == "kept-newer"
    assert rows() == before
    assert table_counts(con, site)["posts"] == 1735
    forced = ingest(con, [old], force=True).sites[0]
    assert forced.dump_id == first.dump_id and table_counts(con, site)["posts"] == 1279
