"""`stackmine export` on the sample database built by the real pipeline (ingest → ... → stages).

The study database is built once per session (`study_db_path`); exports only read it.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import re
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from pipeline.evaluate import record as evaluation_record
from flows.cli import _register, cli
from pipeline.publish.coding_sample import BLIND_CODE_COLUMNS, BLIND_COLUMNS, CODE_COLUMNS, allocate, stratum_of
from pipeline.steps import connect
from pipeline.publish.export import ExportError, ExportOptions, export
from pipeline.core.selection import Selection
from tests.support import REPO

_register()

EVERYTHING = Selection(notebook=None, ml=None)
GEBRU_HEADINGS = [
    "## Motivation", "## Composition", "## Collection process", "## Preprocessing, cleaning, labeling",
    "## Uses", "## Distribution", "## Maintenance",
]


def _export(db: Path, root: Path, options: ExportOptions):
    con = connect(db, read_only=True)
    try:
        return export(con, options, root)
    finally:
        con.close()


def _hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _csv_rows(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


@pytest.fixture(scope="session")
def study_export(study_db_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default study export (notebook ML questions) with a 20-question coding sample, blind and labelled."""
    root = tmp_path_factory.mktemp("exports")
    return _export(study_db_path, root, ExportOptions("study", sample=20, seed=7, sample_with_labels=True)).directory


def test_export_writes_the_documented_files(study_export: Path, study_db_path: Path) -> None:
    assert sorted(p.name for p in study_export.iterdir()) == [
        "DATASHEET.md", "SHA256SUMS", "codebook.md", "coding_sample.csv", "coding_sample_with_labels.csv",
        "questions.csv", "questions.parquet", "stage_coverage.csv",
    ]
    con = duckdb.connect(str(study_db_path), read_only=True)
    expected = con.execute(
        "SELECT site, post_id FROM question_labels WHERE notebook AND ml ORDER BY site, post_id"
    ).fetchall()
    (model,) = con.execute("SELECT topic_model_id FROM topic_models").fetchone()
    topics = dict(con.execute("SELECT post_id, topic_id FROM question_topics").fetchall())
    main_stage = dict(con.execute("SELECT topic_id, stage FROM topic_stages WHERE rank = 1").fetchall())
    con.close()
    table = pq.read_table(study_export / "questions.parquet")
    assert list(zip(table.column("site").to_pylist(), table.column("post_id").to_pylist())) == expected
    for row in table.to_pylist():  # the topic model was fitted on this selection: every row has its topic
        assert (row["topic_model_id"], row["topic_id"]) == (model, topics[row["post_id"]])
        assert row["topic_stage"] == main_stage.get(row["topic_id"])
    rows = _csv_rows(study_export / "questions.csv")
    assert [(r["site"], int(r["post_id"])) for r in rows] == expected
    assert table.column_names == list(rows[0])
    sums = (study_export / "SHA256SUMS").read_text().splitlines()
    hashes = _hashes(study_export)
    assert sums == [f"{hashes[name]}  {name}" for name in sorted(hashes) if name != "SHA256SUMS"]  # the datasheet too


def test_rerunning_an_export_gives_byte_identical_files(study_db_path: Path, tmp_path: Path) -> None:
    for options in (ExportOptions("again", sample=15, seed=3),
                    ExportOptions("again", EVERYTHING, pseudonymise=True, salt="fixed-salt", sample=30, seed=1)):
        first = _hashes(_export(study_db_path, tmp_path / "a", options).directory)
        second = _hashes(_export(study_db_path, tmp_path / "b", options).directory)
        third = _hashes(_export(study_db_path, tmp_path / "a", options).directory)  # replaces in place
        assert first == second == third
        assert len(first) == 7


def test_attribution_of_known_posts_is_exact(study_db_path: Path, tmp_path: Path) -> None:
    result = _export(study_db_path, tmp_path, ExportOptions("all", EVERYTHING))
    rows = {(r["site"], r["post_id"]): r for r in pq.read_table(result.directory / "questions.parquet").to_pylist()}
    keep = ("post_url", "license", "license_source", "license_url", "author_user_id", "author_display_name",
            "author_profile_url")
    # 2016 post of a 2017 dump without ContentLicense: the license follows from the date
    assert {k: rows[("ai.stackexchange.com", 1)][k] for k in keep} == {
        "post_url": "https://ai.stackexchange.com/q/1",
        "license": "CC BY-SA 3.0",
        "license_source": "post date",
        "license_url": "https://creativecommons.org/licenses/by-sa/3.0/",
        "author_user_id": 8,
        "author_display_name": "kenorb",
        "author_profile_url": "https://ai.stackexchange.com/users/8",
    }
    # SEDE row with ContentLicense and no Users table: id and profile, no display name
    assert {k: rows[("stackoverflow.com", 71911980)][k] for k in keep} == {
        "post_url": "https://stackoverflow.com/q/71911980",
        "license": "CC BY-SA 4.0",
        "license_source": "ContentLicense",
        "license_url": "https://creativecommons.org/licenses/by-sa/4.0/",
        "author_user_id": 6542807,
        "author_display_name": None,
        "author_profile_url": "https://stackoverflow.com/users/6542807",
    }
    assert len(rows) == 2079  # 604 ai + 1,475 SO questions
    assert {r["license"] for r in rows.values()} == {"CC BY-SA 3.0", "CC BY-SA 4.0"}


def test_pseudonymised_export_keeps_no_user_id_name_or_profile_in_any_file(study_db_path: Path, tmp_path: Path) -> None:
    plain = _export(study_db_path, tmp_path / "plain", ExportOptions("all", EVERYTHING, sample=200, seed=1)).directory
    salt = "pepper-6b1d"
    pseudo = _export(study_db_path, tmp_path / "pseudo", ExportOptions("all", EVERYTHING, pseudonymise=True, salt=salt,
                                                                        sample=200, seed=1)).directory
    original = pq.read_table(plain / "questions.parquet").to_pylist()
    ids = {r["author_user_id"] for r in original if r["author_user_id"] is not None}
    names = {r["author_display_name"] for r in original if r["author_display_name"]}
    assert len(ids) > 500 and len(names) > 300
    assert any(r["author_profile_url"] for r in _csv_rows(plain / "coding_sample.csv"))  # what there is to drop
    # a name that also occurs in a title, tag, evidence or the datasheet's prose (a user called
    # "anonymous") would be found there, not as an author
    template = (REPO / "pipeline" / "publish" / "templates" / "DATASHEET.md.j2").read_text(encoding="utf-8")
    bodies = " ".join(r["body"] for r in _csv_rows(plain / "coding_sample.csv"))  # what askers wrote, names too
    other_text = template + (REPO / "docs" / "codebook.md").read_text(encoding="utf-8") + bodies + " ".join(
        f"{r['title']} {' '.join(r['tags'])} {r['evidence']}" for r in original)
    author_only = {n for n in names if len(n) >= 4 and n not in other_text}
    texts = {p.name: p.read_text(encoding="utf-8") for p in pseudo.iterdir() if p.suffix != ".parquet"}
    assert sorted(texts) == ["DATASHEET.md", "SHA256SUMS", "codebook.md", "coding_sample.csv", "questions.csv",
                             "stage_coverage.csv"]
    for name, text in texts.items():
        assert "/users/" not in text, name
        assert salt not in text, name
        assert not [n for n in author_only if n in text], name
    table = pq.read_table(pseudo / "questions.parquet")
    rows = table.to_pylist()
    assert {r["author_profile_url"] for r in rows} == {r["author_display_name"] for r in rows} == {None}
    assert not ids & {r["author_user_id"] for r in rows}
    assert all(r["author_user_id"] is None or r["author_user_id"] <= -2 for r in rows)
    # one type with and without --pseudonymise; the post link stays for attribution
    assert table.schema.field("author_user_id").type == pq.read_table(plain / "questions.parquet").schema.field(
        "author_user_id").type == "int64"
    assert [r["post_url"] for r in rows] == [r["post_url"] for r in original]
    sample = _csv_rows(pseudo / "coding_sample.csv")
    assert len(sample) == 200 and {r["author_display_name"] for r in sample} == {r["author_profile_url"] for r in sample} == {""}
    assert all(r["post_url"].startswith("https://") for r in sample)
    sheet = texts["DATASHEET.md"]
    assert "**Variant: pseudonymised.**" in sheet
    assert "It does *not* make authors anonymous" in sheet and "join `post_id` with the public dump" in sheet


def test_parquet_describes_every_column_and_the_datasheet_says_how_csv_joins_lists(study_export: Path) -> None:
    schema = pq.read_schema(study_export / "questions.parquet")
    described = {f.name: (f.metadata or {}).get(b"description", b"").decode() for f in schema}
    assert all(described.values()) and len(described) == 43
    assert described["platforms"].startswith("Notebook platforms the classifier found")
    assert described["author_user_id"].endswith("empty for deleted users")
    sheet = (study_export / "DATASHEET.md").read_text(encoding="utf-8")
    assert "In the CSV files, list columns (`platforms`, `tags`)\n  are joined with `;` (`colab;jupyter`" in sheet
    csv_platforms = {r["platforms"] for r in _csv_rows(study_export / "questions.csv")}
    assert "colab;jupyter" in csv_platforms or any(";" in p for p in csv_platforms)


def test_coding_sample_is_stratified_by_platform_and_stage(study_export: Path) -> None:
    questions = pq.read_table(study_export / "questions.parquet").to_pylist()
    sample = _csv_rows(study_export / "coding_sample_with_labels.csv")
    sizes: dict[tuple[str, str], int] = {}
    for q in questions:
        key = stratum_of(q["platforms"], q["stage"])
        sizes[key] = sizes.get(key, 0) + 1
    drawn: dict[tuple[str, str], int] = {}
    by_key = {(q["site"], q["post_id"]): q for q in questions}
    for row in sample:
        q = by_key[(row["site"], int(row["post_id"]))]
        assert (row["stratum_platform"], row["stratum_stage"]) == stratum_of(q["platforms"], q["stage"])
        assert all(row[c] == "" for c in CODE_COLUMNS)
        key = (row["stratum_platform"], row["stratum_stage"])
        drawn[key] = drawn.get(key, 0) + 1
    expected = {k: n for k, n in allocate(sizes, 20).items() if n}
    assert drawn == expected and sum(drawn.values()) == 20
    assert len({(r["site"], r["post_id"]) for r in sample}) == 20


def test_the_coding_sheet_is_blind(study_export: Path, study_db_path: Path) -> None:
    """Same questions as the labelled sheet, in (site, post_id) order, with nothing the classifier said."""
    blind = _csv_rows(study_export / "coding_sample.csv")
    labelled = _csv_rows(study_export / "coding_sample_with_labels.csv")
    assert list(blind[0]) == list(BLIND_COLUMNS + BLIND_CODE_COLUMNS)
    keys = [(r["site"], int(r["post_id"])) for r in blind]
    assert keys == sorted(keys) == sorted((r["site"], int(r["post_id"])) for r in labelled)
    assert all(r[c] == "" for r in blind for c in BLIND_CODE_COLUMNS)
    con = duckdb.connect(str(study_db_path), read_only=True)
    raw = dict(((s, i), b) for s, i, b in con.execute("SELECT site, id, body FROM posts").fetchall())
    con.close()
    for row in blind:  # the body as the gold annotators read it: tags out, entities decoded, 3,000 characters
        text = html.unescape(re.sub(r"<[^>]+>", "", raw[(row["site"], int(row["post_id"]))]))
        assert row["body"] == text[:3000] and row["body_cut"] == ("yes" if len(text) > 3000 else "no")
    assert {r["body_cut"] for r in blind} == {"yes", "no"}


def test_coding_sample_depends_on_the_seed_only(study_db_path: Path, tmp_path: Path) -> None:
    def ids(seed: int, root: str) -> list[tuple[str, str]]:
        folder = _export(study_db_path, tmp_path / root, ExportOptions("s", sample=10, seed=seed)).directory
        return [(r["site"], r["post_id"]) for r in _csv_rows(folder / "coding_sample.csv")]

    assert ids(1, "x") == ids(1, "y")
    assert ids(1, "x") != ids(2, "z")


def test_datasheet_has_gebru_headings_and_provenance(study_export: Path, study_db_path: Path) -> None:
    text = (study_export / "DATASHEET.md").read_text(encoding="utf-8")
    positions = [text.index(h) for h in GEBRU_HEADINGS]
    assert positions == sorted(positions)
    rows = len(pq.read_table(study_export / "questions.parquet"))
    assert f"**Instances.** {rows} questions" in text
    assert "**Variant: attributed.**" in text
    # only the sites exported are listed: the SO CSV, not the ai dump (no notebook questions there)
    assert "| stackoverflow.com | stackoverflow.com@2023-11-15-1e6b60a9 | Posts |" in text
    assert "`c2d352747ba7f740fdcf9db60740ee477bee0e46cbbbaa242ce4cf4b040e9832`" in text
    assert "1a107b2c78e6234f7397b4a4ec739b9fdb064fc5e1b45ba49c6c1c722974f5c4" not in text
    con = duckdb.connect(str(study_db_path), read_only=True)
    (version,) = con.execute("SELECT DISTINCT classifier_version FROM question_labels").fetchone()
    con.close()
    assert f"`{version}`" in text
    recorded = evaluation_record.committed([version])
    if recorded:  # the measured quality of this very classifier version, as recorded, each set named
        sets = list(dict.fromkeys(m["gold_set"] for m in recorded))
        for number, gold_set in enumerate(sets, 1):
            assert f"  - **set {number}**: {gold_set}\n" in text
        for m in recorded[:3]:
            assert f"\n| {m['label']} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | {m['support']} |" in text
    else:
        assert "No evaluation of these classifier versions is recorded" in text
    assert "coding_sample.csv`: 20 questions drawn at random (seed\n  7)" in text
    assert "`pipeline/publish/rules/licenses.v1.csv`" in text


def test_empty_selection_is_a_named_error_and_writes_nothing(study_db_path: Path, tmp_path: Path) -> None:
    options = ExportOptions("none", Selection(sites=("no.such.site",)))
    with pytest.raises(ExportError, match="matches no labelled question"):
        _export(study_db_path, tmp_path, options)
    assert not (tmp_path / "none").exists()


def test_cli_export_reports_files(study_db_path: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, [
        "export", "cli", "--db", str(study_db_path), "--out", str(tmp_path), "--platform", "colab",
        "--ml", "any", "--sample", "5", "--seed", "3", "--pseudonymise",
    ])
    assert result.exit_code == 0, result.output
    rows = _csv_rows(tmp_path / "cli" / "questions.csv")
    assert rows and all("colab" in r["platforms"].split(";") for r in rows)
    assert f"exported {len(rows)} questions to {tmp_path / 'cli'}" in result.output
    assert "coding sample: 5 questions (seed 3)" in result.output


@pytest.mark.slow  # about 40 s: batches of 7 rows are 300 statements per export
def test_streamed_export_does_not_depend_on_the_batch_size(study_db_path: Path, tmp_path: Path) -> None:
    """Rows read 7 at a time give the same files as the default batches; with row groups of 50 the
    Parquet file has more groups but the same table, and its bytes again do not follow the batches
    (batches of 13 and of 200 rows: smaller and larger than a group)."""
    con = connect(study_db_path, read_only=True)
    try:
        pseudonymised = ExportOptions("p", EVERYTHING, pseudonymise=True, salt="s", sample=12, seed=2)
        assert (_hashes(export(con, pseudonymised, tmp_path / "p7", batch_rows=7).directory)
                == _hashes(export(con, pseudonymised, tmp_path / "p").directory))
        options = ExportOptions("b", EVERYTHING, sample=40, seed=5, sample_with_labels=True)
        default = _hashes(export(con, options, tmp_path / "default").directory)
        tiny = _hashes(export(con, options, tmp_path / "tiny", batch_rows=7).directory)
        small = export(con, options, tmp_path / "small", batch_rows=13, row_group_rows=50).directory
        large = export(con, options, tmp_path / "large", batch_rows=200, row_group_rows=50).directory
    finally:
        con.close()
    assert tiny == default
    assert _hashes(small) == _hashes(large)
    derived = ("questions.parquet", "DATASHEET.md", "SHA256SUMS")  # the datasheet lists the Parquet's checksum
    assert {k: v for k, v in _hashes(small).items() if k not in derived} == {
        k: v for k, v in default.items() if k not in derived}
    parquet = pq.ParquetFile(small / "questions.parquet")
    assert parquet.metadata.num_row_groups == 42  # 2,079 rows in groups of 50
    assert parquet.read().equals(pq.read_table(tmp_path / "default" / "b" / "questions.parquet"))
    assert parquet.schema_arrow == pq.read_schema(tmp_path / "default" / "b" / "questions.parquet")


def test_streamed_export_writes_what_the_whole_table_gave(study_db_path: Path, tmp_path: Path) -> None:
    """The files and datasheet facts of the streamed export are those of the former way, every row
    in one table (main before streaming): Parquet and CSV of the whole table, the draw over it, the
    facts counted with Arrow compute over it."""
    from pipeline.core import tabular
    from pipeline.publish import attribution, coding_sample, columns, datasheet
    from pipeline.publish.export import resolve_topic_model, sample_bodies, select_rows

    options = ExportOptions("whole", EVERYTHING, pseudonymise=True, salt="s", sample=25, seed=4,
                            sample_with_labels=True)
    con = connect(study_db_path, read_only=True)
    try:
        folder = export(con, options, tmp_path).directory
        table = attribution.pseudonymise(select_rows(con, EVERYTHING, resolve_topic_model(con, EVERYTHING, None)), "s")
        picked = coding_sample.draw(table, 25, 4)
        expected = {
            "questions.parquet": tabular.parquet_bytes(columns.describe(table)),
            "questions.csv": tabular.csv_bytes(table),
            "coding_sample.csv": tabular.csv_bytes(coding_sample.blind(table, picked, sample_bodies(con, table, picked))),
            "coding_sample_with_labels.csv": tabular.csv_bytes(coding_sample.labelled(table, picked)),
        }
        files = {name: hashlib.sha256(data).hexdigest() for name, data in expected.items()}
        streamed = datasheet.Tally()
        for start in range(0, table.num_rows, 100):
            streamed.add(table.slice(start, 100))
        facts = datasheet.gather(con, streamed, options, {}, 25)
        whole = datasheet.gather(con, table, options, {}, 25)
    finally:
        con.close()
    assert {name: _hashes(folder)[name] for name in expected} == files
    assert facts == whole and facts.rows == 2079


def test_narrow_groups_cut_keys_by_site_and_span() -> None:
    """Runs of one site whose post ids lie at most `span` apart from the run's first, in order."""
    import pyarrow as pa

    from pipeline.publish.export import narrow_groups

    keys = pa.table({"site": ["a", "a", "a", "a", "b", "b"], "post_id": [1, 5, 6, 20, 21, 22]})
    groups = narrow_groups(keys, 5)
    assert [g.to_pydict() for g in groups] == [
        {"site": ["a", "a", "a"], "post_id": [1, 5, 6]}, {"site": ["a"], "post_id": [20]},
        {"site": ["b", "b"], "post_id": [21, 22]}]
    assert [len(g) for g in narrow_groups(keys, 0)] == [1] * 6
    assert narrow_groups(keys.slice(0, 0), 5) == []


def test_coding_sample_read_key_by_key_gives_the_same_files(study_db_path: Path, tmp_path: Path) -> None:
    """The sample's rows read one key per statement (span 0) or all in one (a span wider than the
    site) give byte-identical sheets and exports: the span bounds memory, never the result."""
    con = connect(study_db_path, read_only=True)
    try:
        options = ExportOptions("s", EVERYTHING, sample=30, seed=4, sample_with_labels=True)
        apart = _hashes(export(con, options, tmp_path / "apart", sample_span=0).directory)
        whole = _hashes(export(con, options, tmp_path / "whole", sample_span=10**12).directory)
    finally:
        con.close()
    assert apart == whole
    assert {"coding_sample.csv", "coding_sample_with_labels.csv"} <= set(apart)
