"""Every export is a replication package: real exports of the sample's study database, checked file by file.

The study database is built from data/sample by the real pipeline, with the sample ingested by its
absolute path (as `stackmine run` does); no local path may reach any file of an export, nor
`dumps.source` (ingest keeps the path from the site's folder down).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import subprocess
from importlib import metadata
from pathlib import Path

import duckdb
import pytest

from pipeline.core.paths import dump_source
from pipeline.core.selection import Selection
from pipeline.coverage.table import selection_id
from pipeline.coverage.verdicts import rules_text
from pipeline.publish.export import ExportOptions, export
from pipeline.steps import connect
from tests.support import REPO, SAMPLE
from tests.support.coded_sheet import SHEET, WHERE, coded_copy

EVERYTHING = Selection(notebook=None, ml=None)


def _export(db: Path, root: Path, options: ExportOptions) -> Path:
    con = connect(db, read_only=True)
    try:
        return export(con, options, root).directory
    finally:
        con.close()


def _rows(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


@pytest.fixture(scope="module")
def package(study_db_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The export of every sample question (both sites, so both dumps), with a blind coding sample."""
    return _export(study_db_path, tmp_path_factory.mktemp("package"), ExportOptions("everything", EVERYTHING,
                                                                                     sample=30, seed=2))


def test_sha256sums_covers_every_file_the_datasheet_included(package: Path) -> None:
    files = sorted(p.name for p in package.iterdir())
    assert files == ["DATASHEET.md", "SHA256SUMS", "codebook.md", "coding_sample.csv", "questions.csv",
                     "questions.parquet", "stage_coverage.csv"]
    listed = [line.split("  ") for line in (package / "SHA256SUMS").read_text().splitlines()]
    assert [name for _, name in listed] == [f for f in files if f != "SHA256SUMS"]
    for digest, name in listed:
        assert hashlib.sha256((package / name).read_bytes()).hexdigest() == digest
    assert (package / "codebook.md").read_bytes() == (REPO / "docs" / "codebook.md").read_bytes()
    assert "- **Codebook.** `codebook.md` in this folder" in (package / "DATASHEET.md").read_text(encoding="utf-8")


def test_no_file_holds_a_local_path(package: Path, study_db_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    con = duckdb.connect(str(study_db_path), read_only=True)
    sources = [s for (s,) in con.execute("SELECT DISTINCT source FROM dumps ORDER BY source").fetchall()]
    con.close()
    # ingested by their absolute paths; kept from the site's folder down (the archive: its name)
    assert sources == ["ai.stackexchange.com.7z", "stackoverflow.com/data-science-questions-2022.csv"]
    local = [str(REPO), str(SAMPLE), str(study_db_path.parent), str(package), str(tmp_path_factory.getbasetemp())]
    for path in package.iterdir():
        data = path.read_bytes()
        assert not [p for p in local if p.encode() in data], path.name
    sheet = (package / "DATASHEET.md").read_text(encoding="utf-8")
    assert "| ai.stackexchange.com.7z :: Posts.xml |" in sheet
    assert "| stackoverflow.com/data-science-questions-2022.csv |" in sheet


@pytest.mark.parametrize(("site", "source", "shown"), [
    ("ai.stackexchange.com", "/home/me/data/raw/2024-04-01/ai.stackexchange.com.7z", "ai.stackexchange.com.7z"),
    ("stackoverflow.com", "/x/sede/stackoverflow.com/questions.csv", "stackoverflow.com/questions.csv"),
    ("ai.stackexchange.com", "dumps/ai.stackexchange.com/Posts.xml", "ai.stackexchange.com/Posts.xml"),
    ("stackoverflow.com", "stackoverflow.com-Posts.7z", "stackoverflow.com-Posts.7z"),
    ("ai.stackexchange.com", "C:\\Users\\me\\ai.stackexchange.com\\Posts.xml", "ai.stackexchange.com/Posts.xml"),
])
def test_sources_are_shown_relative_to_the_folder_ingested(site: str, source: str, shown: str) -> None:
    assert dump_source(site, source) == shown == dump_source(site, shown)


def test_datasheet_states_the_software_and_the_embedding_model(package: Path) -> None:
    sheet = (package / "DATASHEET.md").read_text(encoding="utf-8")
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    assert f"- **Software.** stackmine 0.1.0, git commit `{head}`" in sheet
    for name in ("duckdb", "bertopic", "spacy", "scikit-learn", "model2vec"):
        assert f" {name} {metadata.version(name)}," in sheet, name
    model = REPO / "pipeline" / "topics" / "models" / "minilm-l6-static-256"
    for name in ("model.safetensors", "tokenizer.json", "config.json", "modules.json"):
        assert f"  - `{name}` `{hashlib.sha256((model / name).read_bytes()).hexdigest()}`\n" in sheet
    assert "`pipeline/topics/models/minilm-l6-static-256/`" in sheet


def test_datasheet_states_the_topic_model_and_selection(package: Path, study_db_path: Path) -> None:
    sheet = (package / "DATASHEET.md").read_text(encoding="utf-8")
    con = duckdb.connect(str(study_db_path), read_only=True)
    model, parameters, n_docs = con.execute("SELECT topic_model_id, parameters, n_docs FROM topic_models").fetchone()
    con.close()
    parameters = json.loads(parameters)
    shown = ", ".join(f"{k} = {'none' if v is None else v}" for k, v in sorted(parameters.items()))
    assert f"  Model `{model}`: fitted on {n_docs} questions of the selection" in sheet
    assert f"  Parameters: {shown}.\n" in sheet
    assert f"- **Selection.** `{EVERYTHING.describe()}`; as command-line options: `--notebook any --ml any`." in sheet
    assert "then `stackmine export everything --notebook any --ml any --sample 30 --seed 2`." in sheet


def test_datasheet_states_quality_and_agreement_with_their_sets(package: Path) -> None:
    sheet = (package / "DATASHEET.md").read_text(encoding="utf-8")
    assert ("The gold labels were made by careful\n  reading by language-model annotators, one question at a time, "
            "against the codebook") in sheet
    assert "| stage: environment |" in sheet and "  - **set 1**: out-of-fold:" in sheet
    assert ("| second pass over 80 random questions of train.csv's first part, labelled again independently by an "
            "annotator of the same kind | stage \\| both ml | 0.95 | 24 |") in sheet
    assert "| notebook-any | 0.93 | 60 |" in sheet and "| ml | 0.97 | 60 |" in sheet
    assert "None of the exported questions carries human codes." in sheet


def test_the_coverage_of_the_selection_is_in_the_package(tmp_path: Path, study_db_path: Path) -> None:
    """The study selection's stored rows, as CSV and as the datasheet's table, with the verdict rules."""
    folder = _export(study_db_path, tmp_path, ExportOptions("study"))
    con = duckdb.connect(str(study_db_path), read_only=True)
    stored = con.execute("SELECT site, scope, grp, stage, verdict, n_notebook, total_notebook FROM stage_coverage "
                         "WHERE selection_id = ?", [selection_id(Selection())]).fetchall()
    con.close()
    rows = _rows(folder / "stage_coverage.csv")
    assert len(rows) == len(stored) > 15
    assert sorted((r["site"], r["scope"], r["grp"], r["stage"], r["verdict"]) for r in rows) == sorted(s[:5] for s in stored)
    assert {r["selection_id"] for r in rows} == {selection_id(Selection())}
    sheet = (folder / "DATASHEET.md").read_text(encoding="utf-8")
    pooled = [s for s in stored if s[:3] == ("*", "all", "all")]
    assert len(pooled) == 15
    for _site, _scope, _grp, stage, verdict, n, total in pooled:
        line = next(line for line in sheet.splitlines() if line.startswith(f"| {stage} | {n} / {total} | "))
        assert line.endswith(f" | {verdict} |")
    assert rules_text() in sheet
    assert "A reader may not conclude that an on-par or undetermined stage is equally discussed" in sheet


def test_an_export_of_a_selection_without_coverage_says_so(package: Path) -> None:
    assert _rows(package / "stage_coverage.csv") == []
    assert (package / "stage_coverage.csv").read_text().startswith('"selection_id","selection","site",')
    assert "`stackmine stages` has not been run for this selection" in (package / "DATASHEET.md").read_text()


def test_loaded_human_codes_ride_beside_the_labels_and_the_datasheet_reports_agreement(
        study_db_path: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from flows.cli import _register, cli

    _register()
    db = coded_copy(study_db_path, tmp_path / "coded.duckdb")
    assert CliRunner().invoke(cli, ["agreement", str(SHEET), "--db", str(db), "--load"]).exit_code == 0
    folder = _export(db, tmp_path / "out", ExportOptions("coded", Selection(notebook=None, ml=None, where=WHERE)))
    rows = {int(r["post_id"]): r for r in _rows(folder / "questions.csv")}
    assert len(rows) == 12
    keep = ("ml", "stage", "human_sheet", "coder1_platforms", "coder1_ml", "coder1_stage", "coder1_stage2",
            "coder2_ml", "coder2_stage", "consensus_platforms", "consensus_ml", "consensus_stage")
    assert {k: rows[72341470][k] for k in keep} == {
        "ml": "true", "stage": "feature-engineering", "human_sheet": "coded_sheet.csv", "coder1_platforms": "jupyter",
        "coder1_ml": "true", "coder1_stage": "feature-engineering", "coder1_stage2": "", "coder2_ml": "true",
        "coder2_stage": "data-preparation", "consensus_platforms": "jupyter", "consensus_ml": "true",
        "consensus_stage": ""}
    assert (rows[74966513]["coder1_ml"], rows[74966513]["coder2_ml"], rows[74966513]["consensus_ml"]) == (
        "false", "true", "")
    assert (rows[74938099]["coder1_ml"], rows[74938099]["consensus_stage"]) == ("", "")  # coder 1 left it
    sheet = (folder / "DATASHEET.md").read_text(encoding="utf-8")
    assert ("12 exported questions carry human codes from `coded_sheet.csv`\n"
            "  (coder 1 coded 11, coder 2 11, both 10)") in sheet
    for line in ("| notebook-any | coder 1 ~ coder 2 | 10 | 1.000 | 1.000 | 1.000 |",
                 "| ml | coder 1 ~ classifier | 11 | 0.818 | 0.542 | 0.562 |",
                 "| stage | coder 2 ~ classifier | 11 | 0.455 | 0.371 | 0.385 |",
                 "| stage \\| both ml | coder 1 ~ classifier | 7 | 0.857 | 0.821 | 0.831 |"):
        assert f"\n{line}\n" in sheet, line
    assert "after `stackmine agreement FILE --load` of `coded_sheet.csv`." in sheet
