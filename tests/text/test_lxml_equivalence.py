"""parse_body (plain lxml elements + XPath) splits every sample post exactly as lxml.html does.

The reference below is the original implementation on lxml.html.fragment_fromstring and
text_content(); parse_body was rewritten for speed and must not change a single character.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import lxml.html
from lxml import etree

from pipeline.text.extract import _BLOCKS, parse_body


def _reference(html: str | None) -> tuple[str, str, list[str], list[str]]:
    if not html or not html.strip():
        return "", "", [], []
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        return "", "", [], []
    inside_pre = lambda el: any(p.tag == "pre" for p in el.iterancestors())  # noqa: E731
    blocks = [pre.text_content().strip("\n").rstrip() for pre in root.iter("pre")]
    inline = [c.text_content() for c in root.iter("code") if not inside_pre(c)]
    links = [a.get("href") for a in root.iter("a") if a.get("href")]
    for el in list(root.iter("pre", "code")):
        if el.getparent() is not None and (el.tag == "pre" or not inside_pre(el)):
            el.tail = " " + (el.tail or "")
            el.drop_tree()
    for el in root.iter(*_BLOCKS):
        el.tail = "\n" + (el.tail or "")
    lines = (" ".join(line.split()) for line in root.text_content().splitlines())
    prose = "\n".join(line for line in lines if line)
    return prose, "\n\n".join(b for b in blocks if b), [c for c in inline if c.strip()], links


def test_same_parts_as_lxml_html(sample_db_path: Path) -> None:
    con = duckdb.connect(str(sample_db_path), read_only=True)
    try:
        bodies = [row[0] for row in con.execute("SELECT body FROM posts ORDER BY site, id").fetchall()]
    finally:
        con.close()
    assert len(bodies) == 3_210  # every post (questions, answers, wiki) of both sample sites
    for body in bodies:
        got = parse_body(body)
        assert (got.prose, got.code, got.inline_code, got.links) == _reference(body)


def test_odd_fragments_as_lxml_html() -> None:
    """Leading blank text, code in code, pre in code, comments, entities, a whole document."""
    for html in [" \n <p>a<code>x<code>y</code></code>b</p>", "<code><pre>p</pre></code>tail", "t<!-- c --><pre>q</pre>",
                 "<p>&amp;&nbsp;x</p>\r\n<li>a</li><li>b</li>", "<html><body><p>whole</p></body></html>",
                 "<a href=''>e</a><a href='u'>f</a>", "lead <b>bold</b><pre><code>c</code></pre>end"]:
        got = parse_body(html)
        assert (got.prose, got.code, got.inline_code, got.links) == _reference(html)
