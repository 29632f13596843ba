"""Classification of the bundled sample (real ingest → text → classify): labels, evidence, reruns."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from pipeline.steps import connect
from pipeline.text.extract import extract

SO = "stackoverflow.com"


def _labels(path: Path, post_id: int) -> tuple:
    con = duckdb.connect(str(path), read_only=True)
    try:
        row = con.execute("SELECT platforms, notebook, ml, stage, stage2, evidence, classifier_version, dump_id "
                          "FROM question_labels WHERE site = ? AND post_id = ?", [SO, post_id]).fetchone()
    finally:
        con.close()
    return row[:5] + (json.loads(row[5]),) + row[6:]


@pytest.mark.parametrize(("post_id", "platforms", "ml", "stage", "signal"), [
    (72490941, ["jupyter"], False, "none", "code:%matplotlib"),      # %matplotlib inline, 3-D scatter plot
    (71341856, ["colab"], True, "model-training", "code:<ipython-input-10"),  # Keras layer shape, Colab traceback
    (71336374, ["databricks"], True, "interpretability", "tags:databricks"),  # explainer dashboard in Databricks
    (71119326, ["jupyter"], True, "environment", "code:ipykernel_12348"),     # sklearn import error in Jupyter
    # SageMaker Studio will not load: gold ml=yes/environment. The rules say ml=no (only the weak
    # machine-learning/artificial-intelligence tags); the trained layer says yes/environment (a
    # dev.csv question: it trained the layer, so this pins behaviour, it is no evidence of quality).
    (70587853, ["sagemaker"], True, "environment", "tags:amazon-sagemaker"),
])
def test_known_questions(study_db_path: Path, post_id: int, platforms: list[str], ml: bool, stage: str,
                         signal: str) -> None:
    from pipeline.classify.classifier import CLASSIFIER_VERSION  # loads spaCy: not at collection

    got_platforms, notebook, got_ml, got_stage, _stage2, evidence, version, dump_id = _labels(study_db_path, post_id)
    assert (got_platforms, notebook, got_ml, got_stage) == (platforms, bool(platforms), ml, stage)
    assert signal in evidence["platforms"][platforms[0]]
    assert version == CLASSIFIER_VERSION
    assert dump_id.startswith("stackoverflow.com@")


def test_every_question_labelled_once(study_db_path: Path) -> None:
    con = duckdb.connect(str(study_db_path), read_only=True)
    try:
        counts = con.execute(
            "SELECT t.site, count(*), count(l.post_id), count(*) FILTER (WHERE l.ml = (l.stage <> 'none')) "
            "FROM question_text t LEFT JOIN question_labels l USING (site, post_id) GROUP BY t.site ORDER BY 1"
        ).fetchall()
        bad = con.execute("SELECT count(*) FROM question_labels WHERE notebook <> (len(platforms) > 0) "
                          "OR list_sort(platforms) <> platforms").fetchone()[0]
    finally:
        con.close()
    assert counts == [("ai.stackexchange.com", 604, 604, 604), (SO, 1475, 1475, 1475)]
    assert bad == 0


@pytest.mark.slow
def test_rerun_and_site_scope_give_the_same_table(sample_db_copy: Path) -> None:
    from pipeline.classify.classifier import classify

    con = connect(sample_db_copy)
    try:
        extract(con)
        assert classify(con) == 2079
        first = con.execute("SELECT * FROM question_labels ORDER BY site, post_id").fetchall()
        assert classify(con, site=SO) == 1475
        assert con.execute("SELECT * FROM question_labels ORDER BY site, post_id").fetchall() == first
    finally:
        con.close()
