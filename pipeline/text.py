"""Question HTML → title, prose, code, inline code, links: kept apart, parsed once.

The strongest notebook signals (`<ipython-input-…>`, `/content/drive`, `In [3]:`) live in code
blocks and tracebacks, while prose is what people wrote in words; mixing them would let a pasted
traceback look like a sentence and a sentence look like code. So `question_text` keeps the parts
in separate columns, and later stages (classify, topics) never parse HTML again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import duckdb
import lxml.html
import pyarrow as pa
from lxml import etree
from tqdm import tqdm

from pipeline.db import read_sql, transaction

log = logging.getLogger(__name__)

TEXT_VERSION = "text-v1"
BATCH_ROWS = 20_000

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


def parse_body(html: str | None) -> ParsedBody:
    """Split a post body into prose, code, inline code and link targets.

    Entities are decoded by the HTML parser; prose whitespace is collapsed to single spaces
    within a line and one newline between blocks. Code keeps its own line structure because
    tracebacks and `In [3]:` prompts are line-oriented.
    """
    if not html or not html.strip():
        return EMPTY
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        return EMPTY
    code_blocks = [_pre_text(pre) for pre in root.iter("pre")]
    inline = [c.text_content() for c in root.iter("code") if not _inside_pre(c)]
    links = [a.get("href") for a in root.iter("a") if a.get("href")]
    for el in list(root.iter("pre", "code")):
        if el.getparent() is not None and (el.tag == "pre" or not _inside_pre(el)):
            _drop_keep_tail(el)
    for el in root.iter(*_BLOCKS):
        el.tail = "\n" + (el.tail or "")
    prose = _normalise(root.text_content())
    code = "\n\n".join(block for block in code_blocks if block)
    return ParsedBody(prose, code, [c for c in inline if c.strip()], links)


def _pre_text(pre: lxml.html.HtmlElement) -> str:
    return pre.text_content().strip("\n").rstrip()


def _inside_pre(el: lxml.html.HtmlElement) -> bool:
    return any(parent.tag == "pre" for parent in el.iterancestors())


def _drop_keep_tail(el: lxml.html.HtmlElement) -> None:
    """Remove an element but keep the text after it, with a space so words do not fuse."""
    el.tail = " " + (el.tail or "")
    el.drop_tree()


def _normalise(text: str) -> str:
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


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
    """Parse a batch of posts rows (site, dump_id, id, creation_date, title, body, tags)."""
    cols: dict[str, list] = {name: [] for name in _SCHEMA.names}
    for site, dump_id, post_id, created, title, body, tags in rows:
        parsed = parse_body(body)
        cols["site"].append(site)
        cols["dump_id"].append(dump_id)
        cols["post_id"].append(post_id)
        cols["creation_date"].append(created)
        cols["title"].append(title_text(title))
        cols["prose"].append(parsed.prose)
        cols["code"].append(parsed.code)
        cols["inline_code"].append(parsed.inline_code)
        cols["links"].append(parsed.links)
        cols["tags"].append(list(tags or []))
        cols["text_version"].append(TEXT_VERSION)
    return pa.RecordBatch.from_pydict(cols, schema=_SCHEMA)


def _question_rows(con: duckdb.DuckDBPyConnection, site: str | None) -> Iterator[list[tuple]]:
    """Stream the scope's rows in batches (Arrow record batches: memory stays flat on big sites)."""
    reader = con.sql(read_sql("question_posts.sql"), params=[site, site]).to_arrow_reader(BATCH_ROWS)
    for batch in reader:
        yield list(zip(*(column.to_pylist() for column in batch.columns)))


def extract(con: duckdb.DuckDBPyConnection, site: str | None = None, progress: bool = False) -> int:
    """Rebuild `question_text` for one site (or all) from `posts`; returns questions written.

    Reads questions (post_type_id 1, not dump watermarks) and replaces the scope's rows in one
    transaction, so a failed run leaves the previous text in place and a rerun gives the same table.
    """
    total = con.execute(read_sql("question_count.sql"), [site, site]).fetchone()[0]
    reader = con.cursor()
    written = 0
    with transaction(con):
        con.execute(read_sql("question_text_delete.sql"), [site, site])
        with tqdm(total=total, unit="q", desc="text", disable=not progress) as bar:
            for rows in _question_rows(reader, site):
                batch = pa.Table.from_batches([_rows_to_batch(rows)])
                con.register("text_batch", batch)
                con.execute("INSERT INTO question_text SELECT * FROM text_batch")
                con.unregister("text_batch")
                written += len(rows)
                bar.update(len(rows))
    reader.close()
    log.info("question_text: %d questions (%s)", written, site or "all sites")
    return written
