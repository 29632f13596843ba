"""Text extraction on real posts: exact prose, code, inline code and links.

The posts come from the bundled sample (data/sample, ingested by the real ingest): two Stack
Overflow questions from the SEDE export and one 2017 AI Stack Exchange question, chosen because
they have every part (code block with a magic, inline code, entity-escaped code, image links).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb

from pipeline.steps import connect
from pipeline.text.extract import TEXT_VERSION, extract, parse_body

SO = "stackoverflow.com"
AI = "ai.stackexchange.com"


def _text(path: Path, site: str, post_id: int) -> tuple:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(
            "SELECT title, prose, code, inline_code, links, tags, creation_date, text_version "
            "FROM question_text WHERE site = ? AND post_id = ?", [site, post_id]).fetchone()
    finally:
        con.close()


def test_magic_in_code_block_links_kept_apart(study_db_path: Path) -> None:
    title, prose, code, inline, links, tags, created, version = _text(study_db_path, SO, 72490941)
    assert title == "draw objects on the center of scatter plots"
    assert prose == (
        "i got this bunch of code :\nthis code gives this plot:\n"
        "I would like to set objects over the point clouds like this:\n"
        "is this possible? Does anyone got a proper solution for that?\nI would be grateful for any help!"
    )
    assert code.startswith("import matplotlib.pyplot as plt\nfrom matplotlib.animation import FuncAnimation\n")
    assert "\n%matplotlib inline\n" in code and code.endswith("plt.draw()")
    assert inline == []
    assert links == ["https://i.stack.imgur.com/DCpBv.png", "https://i.stack.imgur.com/bxH7k.png"]
    assert tags == ["python", "matplotlib", "data-science-experience"]
    assert created == datetime(2022, 6, 3, 14, 15, 21)
    assert version == TEXT_VERSION


def test_inline_code_out_of_prose_entities_decoded_in_code(study_db_path: Path) -> None:
    _title, prose, code, inline, links, _tags, _created, _v = _text(study_db_path, SO, 73466418)
    assert inline == ["reg()", "forage.pred"]
    assert prose.startswith("I have generated some predicted values using a custom linear regression function, , and")
    assert "reg()" not in prose and "forage.pred" not in prose
    assert "#   <dbl>   <dbl> <chr>" in code  # &lt;dbl&gt; decoded
    assert "lm.forage <- lm(i ~ year + pp_grow," in code
    assert links == []


def test_old_dump_html(study_db_path: Path) -> None:
    title, prose, code, inline, links, _tags, _created, _v = _text(study_db_path, AI, 2342)
    assert title == "How to solve A* search with 2 goal states?"
    # the dump row holds `&lt;code&gt;R-&amp;gt; B-&amp;gt;`: XML-escaped HTML whose text is "R-> B->"
    assert inline == ["f(n)=1+9", "f(n)=9+2", "R-> B-> D-> G2"]
    assert links == ["https://i.stack.imgur.com/zX6wZ.png"]
    assert len(prose) == 400 and code == "h(B->G2) = 9, h(D->G2)=10, h(A->G1)=2, h(C->G1)=1"


def test_every_question_once_and_rerun_identical(sample_db_copy: Path) -> None:
    con = connect(sample_db_copy)
    try:
        assert extract(con) == 2079
        first = con.execute("SELECT * FROM question_text ORDER BY site, post_id").fetchall()
        per_site = dict(con.execute("SELECT site, count(*) FROM question_text GROUP BY site").fetchall())
        assert per_site == {AI: 604, SO: 1475}
        assert extract(con, site=AI) == 604
        assert con.execute("SELECT * FROM question_text ORDER BY site, post_id").fetchall() == first
    finally:
        con.close()


def test_parse_body_edge_cases() -> None:
    assert parse_body(None).prose == ""
    assert parse_body("   ").code == ""
    parsed = parse_body("<ul><li>one</li><li>two &amp; three</li></ul><pre><code>x = 1\n</code></pre><p>a <code>b</code> c</p>")
    assert parsed.prose == "one\ntwo & three\na c"
    assert parsed.code == "x = 1"
    assert parsed.inline_code == ["b"]
