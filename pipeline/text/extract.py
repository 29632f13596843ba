"""Question HTML → title, prose, code, inline code, links: kept apart, parsed once.

The strongest notebook signals (`<ipython-input-…>`, `/content/drive`, `In [3]:`) live in code
blocks and tracebacks, while prose is what people wrote in words; mixing them would let a pasted
traceback look like a sentence and a sentence look like code. So `question_text` keeps the parts
in separate columns, and later stages (classify, topics) never parse HTML again.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import duckdb
import pyarrow as pa
from lxml import etree

from pipeline.core.db import replace_scope
from pipeline.core.step import Scope
from pipeline.core.workers import map_batches, worker_count
from pipeline.ingest.loaded import require
from pipeline.text import STEP

log = logging.getLogger(__name__)

SQL = STEP.sql()
TEXT_VERSION = STEP.version
# Questions per batch: what is held in Python at a time (and per worker). 20,000 held about 300 MB of parsed text
# and lxml memory; 2,000 costs no measurable speed.
BATCH_ROWS = 2_000

# Elements after which a line break belongs in the prose, so "<li>a</li><li>b</li>" is not "ab".
_BLOCKS = frozenset(
    "p div li ul ol blockquote h1 h2 h3 h4 h5 h6 br hr table tr td th dt dd img".split()
)


@dataclass(frozen=True)
class ParsedBody:
    """The parts of one post body; `code` holds <pre> blocks joined by blank lines."""

    prose: str
    code: str
    inline_code: list[str]
    links: list[str]


EMPTY = ParsedBody("", "", [], [])


_PARSER = etree.HTMLParser()  # the options lxml.html uses, without its Python element-class lookup
_STRING = etree.XPath("string()", smart_strings=False)  # what lxml.html's text_content() runs
_PRE = etree.XPath(".//pre")
_INLINE = etree.XPath(".//code[not(ancestor::pre)]")
_HREFS = etree.XPath(".//a/@href", smart_strings=False)
_TOP_CODE = etree.XPath(".//*[self::pre or self::code][not(ancestor::pre or ancestor::code)]")
_FULL_HTML = re.compile(r"^\s*<(?:html|!doctype)", re.I).match


def parse_body(html: str | None) -> ParsedBody:
    """Split a post body into prose, code, inline code and link targets.

    Entities are decoded by the HTML parser; prose whitespace is collapsed to single spaces
    within a line and one newline between blocks. Code keeps its own line structure because
    tracebacks and `In [3]:` prompts are line-oriented. The body is parsed the way lxml.html's
    `fragment_fromstring(html, create_parent="div")` does, with plain lxml elements: lxml.html
    calls back into Python for every element it hands out, a quarter of the parsing time.
    """
    if not html or not html.strip():
        return EMPTY
    root = _fragment(html)
    if root is None:
        return EMPTY
    code_blocks = [_STRING(pre).strip("\n").rstrip() for pre in _PRE(root)]
    inline = [_STRING(c) for c in _INLINE(root)]
    links = [href for href in _HREFS(root) if href]
    for el in _TOP_CODE(root):  # code blocks and inline code leave the prose; their tails stay
        _drop_keep_tail(el)
    for el in root.iter(*_BLOCKS):
        el.tail = "\n" + (el.tail or "")
    prose = _normalise(_STRING(root))
    code = "\n\n".join(block for block in code_blocks if block)
    return ParsedBody(prose, code, [c for c in inline if c.strip()], links)


def _fragment(html: str) -> etree._Element | None:
    """The <body> holding the fragment (None when it does not parse), as lxml.html builds it:
    wrapped in <html><body> unless it starts like a whole document, leading blank text dropped."""
    try:
        doc = etree.fromstring(html if _FULL_HTML(html) else f"<html><body>{html}</body></html>", _PARSER)
    except (etree.ParserError, ValueError):
        return None
    bodies = [] if doc is None else [el for el in doc if el.tag == "body"]
    if len(bodies) != 1:
        return None
    root = bodies[0]
    if root.text is not None and not root.text.strip():
        root.text = None
    return root


def _drop_keep_tail(el: etree._Element) -> None:
    """Remove an element but keep the text after it, with a space so words do not fuse
    (lxml.html's drop_tree, for plain elements)."""
    tail = " " + (el.tail or "")
    parent, previous = el.getparent(), el.getprevious()
    if previous is None:
        parent.text = (parent.text or "") + tail
    else:
        previous.tail = (previous.tail or "") + tail
    el.tail = None
    parent.remove(el)


def _normalise(text: str) -> str:
    """Each line's whitespace runs become one space; blank lines go."""
    return "\n".join([" ".join(words) for words in map(str.split, text.splitlines()) if words])


def title_text(title: str | None) -> str:
    """Titles are plain text in dumps, but whitespace varies; collapse it."""
    return " ".join((title or "").split())


_SCHEMA = pa.schema(
    [
        ("site", pa.string()),
        ("dump_id", pa.string()),
        ("post_id", pa.int64()),
        ("creation_date", pa.timestamp("us")),
        ("title", pa.string()),
        ("prose", pa.string()),
        ("code", pa.string()),
        ("inline_code", pa.list_(pa.string())),
        ("links", pa.list_(pa.string())),
        ("tags", pa.list_(pa.string())),
        ("text_version", pa.string()),
    ]
)


def _rows_to_batch(rows: list[tuple]) -> pa.RecordBatch:
    """Parse a batch of posts rows (site, dump_id, id, creation_date, title, body, tags).

    Built column by column (one comprehension each) rather than row by row with eleven appends.
    """
    parsed = [parse_body(row[5]) for row in rows]
    cols = {
        "site": [row[0] for row in rows],
        "dump_id": [row[1] for row in rows],
        "post_id": [row[2] for row in rows],
        "creation_date": [row[3] for row in rows],
        "title": [title_text(row[4]) for row in rows],
        "prose": [p.prose for p in parsed],
        "code": [p.code for p in parsed],
        "inline_code": [p.inline_code for p in parsed],
        "links": [p.links for p in parsed],
        "tags": [list(row[6] or []) for row in rows],
        "text_version": [TEXT_VERSION] * len(rows),
    }
    return pa.RecordBatch.from_pydict(cols, schema=_SCHEMA)


def text_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """question_text rows of a batch of posts rows (the `questions` statement's columns); runs in
    the stage's worker processes (pipeline/core/workers.py) or in this one."""
    return _rows_to_batch(list(zip(*(column.to_pylist() for column in batch.columns))))


def extract(con: duckdb.DuckDBPyConnection, site: str | None = None, progress: bool = False,
            workers: int | None = None) -> int:
    """Rebuild `question_text` for one site (or all) from `posts`; returns questions written.

    Reads questions (post_type_id 1, not dump watermarks) and replaces the scope's rows in one
    transaction, so a failed run leaves the previous text in place and a rerun gives the same table.
    `workers` cores parse the HTML (default: every core for a large scope, this process alone for
    a small one; pipeline/core/workers.py); the rows are the same, in the same order, whatever
    their number. A site whose snapshot has no Posts (`ingest --tables`, a folder without
    Posts.xml) is named: NotLoaded for `site`, a warning among all sites.
    """
    require(con, "Posts", site, "text")
    total = con.execute(SQL("count"), [site, site]).fetchall()[0][0]
    reader = con.cursor()
    try:
        # Not ordered (see text.sql): the scan's order is the table's, whatever the workers.
        batches = reader.sql(SQL("questions"), params=[site, site]).to_arrow_reader(BATCH_ROWS)
        parsed = map_batches(text_batch, batches, worker_count(workers, total))
        written = replace_scope(con, "question_text", (SQL("delete"), [site, site]), parsed,
                                total, "text", progress)
    finally:
        reader.close()
    log.info("question_text: %d questions (%s)", written, site or "all sites")
    return written


def run(con: duckdb.DuckDBPyConnection, scope: Scope, progress: bool = False, workers: int | None = None) -> int:
    """The text step for one site (or every site, for an empty scope)."""
    return extract(con, site=scope.sites[0] if scope.sites else None, progress=progress, workers=workers)
