"""Every real dump in ../shared/data goes through text + classify without error, every question labelled."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support import SHARED_DATA

from pipeline.steps import connect
from pipeline.ingest.load import ingest
from pipeline.text.extract import extract

pytestmark = [pytest.mark.shared, pytest.mark.slow]  # the whole chain over every real dump

DUMPS = SHARED_DATA / "dumps"
SEDE = SHARED_DATA / "sede" / "stackoverflow.com" / "data-science-questions-2022.csv"


@pytest.mark.parametrize("sources", [
    # every site of every era in one database (the 2016-12 ai snapshot is older than 2017-03: its own run)
    ["2013-09/meta.mathoverflow.net", "2014-09", "2017-03/ai.stackexchange.com",
     "2023-09/bicycles.meta.stackexchange.com", "2024-01/datascience.meta.stackexchange.com", "sede"],
    ["2016-12/ai.stackexchange.com"],
], ids=["all-sites", "ai-2016-12"])
def test_every_dump_classifies(sources: list[str], tmp_path: Path) -> None:
    from pipeline.classify.classifier import classify  # loads spaCy: not at collection

    paths = [SEDE if s == "sede" else DUMPS / s for s in sources]
    con = connect(tmp_path / "db.duckdb")
    try:
        ingest(con, paths, workers=1)
        questions = dict(con.execute("SELECT site, count(*) FROM posts WHERE post_type_id = 1 AND NOT is_watermark "
                                     "GROUP BY site").fetchall())
        assert extract(con) == sum(questions.values())
        assert classify(con) == sum(questions.values())
        labelled = dict(con.execute("SELECT site, count(*) FROM question_labels GROUP BY site").fetchall())
        empty_evidence = con.execute("SELECT count(*) FROM question_labels WHERE evidence IS NULL").fetchone()[0]
    finally:
        con.close()
    assert labelled == questions
    assert empty_evidence == 0
    assert len(questions) == len(sources)
