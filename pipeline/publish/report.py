"""`stackmine report`: one self-contained HTML page of the study's results, plus its figures.

The numbers come from the named queries in `queries/` (the same SQL a researcher can run with
`stackmine query`), so the report never computes a figure the library cannot reproduce. Images
are embedded as base64 PNG and the interactive topic views carry plotly.js inside the page:
`index.html` opens offline and attaches to an e-mail. Every figure is also written beside it as
PNG, SVG and PDF at print size for papers. The database is only read.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import duckdb
import jinja2

from pipeline import __version__

from pipeline.publish import datasheet, plots, topicviews

from pipeline.core import queries
from pipeline.core.db import capped
from pipeline.core.paths import DEFAULT_REPORT
from pipeline.publish.export import ExportOptions, resolve_topic_model, stream_rows
from pipeline.core.selection import Selection
from pipeline.core.step import Scope
from pipeline.coverage.table import REVIEW_AGREEMENT, REVIEW_MIN_GOLD, selection_id
from pipeline.coverage.verdicts import rules_text

log = logging.getLogger(__name__)

DEFAULT_OUT = DEFAULT_REPORT
TEMPLATE = "report.html.j2"


@dataclass(frozen=True)
class Figure:
    """One plot: `slug` names its PNG file and its element id in the page."""

    slug: str
    title: str
    caption: str
    images: plots.Images

    @property
    def png(self) -> bytes:
        return self.images.png

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


@dataclass(frozen=True)
class ReportResult:
    """Where the report went and which figures it holds."""

    index: Path
    figures: list[str]
    views: list[str]


def rows(con: duckdb.DuckDBPyConnection, name: str, **params: str) -> list[dict]:
    """Rows of the named query in `queries/`, as dicts."""
    query = queries.load_query(name)
    return queries.run_query(con, query, params).to_pylist()


def figures(con: duckdb.DuckDBPyConnection, coverage: list[dict]) -> list[Figure]:
    """The report's four figures, each from one named query."""
    return [
        Figure("stage-coverage", "Stage coverage: notebook vs baseline",
               "Share of ML questions whose primary stage is each lifecycle stage, notebook questions vs "
               "non-notebook (baseline) ones: raw (the classifier's counts, hollow) and corrected for its "
               "errors (filled, 95% bootstrap interval over gold and group questions); right: the corrected "
               "difference with its 95% interval, coloured by verdict. Query: stage_coverage_vs_baseline.",
               plots.stage_coverage(coverage)),
        Figure("platforms-over-time", "Platforms over time",
               "Notebook questions per platform and year, all sites together (a question on two platforms "
               "counts for both). Query: platform_questions_per_year.",
               plots.platforms_over_time(rows(con, "platform_questions_per_year"))),
        Figure("topics", "Topics",
               "Questions per topic of the newest topic model (outliers left out), labelled with top terms "
               "and the topic's main lifecycle stage. Query: questions_per_topic.",
               plots.topic_sizes(rows(con, "questions_per_topic"))),
        Figure("topics-over-time", "Topics over time",
               "Questions per period of the largest topics. Query: topic_trends.",
               plots.topics_over_time(rows(con, "topic_trends"))),
    ]


def views(con: duckdb.DuckDBPyConnection) -> list[topicviews.View]:
    """The interactive topic views (BERTopic's five), from named queries on the stored topic tables."""
    return topicviews.views(rows(con, "topic_terms"), rows(con, "topic_trends"), rows(con, "topics_per_platform"))


def summary(con: duckdb.DuckDBPyConnection, selection: Selection) -> datasheet.Facts | None:
    """The datasheet facts of the study selection (what `stackmine export` would write), or None.

    Counted as the export counts them, batch by batch over the streamed rows, so the report holds
    no more of the selection than one batch; of each row only the columns the counts read
    (`datasheet.TALLY_COLUMNS`), which takes half the time of whole rows.
    """
    tally = datasheet.Tally()
    with capped(con):
        topic_model = resolve_topic_model(con, selection, None)
        for batch in stream_rows(con, selection, topic_model, columns=datasheet.TALLY_COLUMNS):
            tally.add(batch)
    if tally.rows == 0:
        return None
    return datasheet.gather(con, tally, ExportOptions("report", selection), {}, 0)


def build(con: duckdb.DuckDBPyConnection, out: Path = DEFAULT_OUT, selection: Selection | None = None) -> ReportResult:
    """Write `out/index.html` and each figure as PNG, SVG and PDF; returns the page's path and the
    slugs of its figures and interactive views."""
    selection = selection or Selection()
    coverage = rows(con, "stage_coverage_vs_baseline", selection_id=selection_id(selection))
    figs = figures(con, coverage)
    topic_views = views(con)
    html = render(figs, coverage, summary(con, selection), selection, topic_views, rows(con, "topic_stage_check"))
    out.mkdir(parents=True, exist_ok=True)
    for fig in figs:
        for fmt in plots.FORMATS:
            (out / f"{fig.slug}.{fmt}").write_bytes(getattr(fig.images, fmt))
    index = out / "index.html"
    index.write_text(html, encoding="utf-8")
    log.info("report with %d figures and %d views written to %s", len(figs), len(topic_views), index)
    return ReportResult(index, [f.slug for f in figs], [v.slug for v in topic_views])


def run(con: duckdb.DuckDBPyConnection, scope: Scope) -> int:
    """The report step: the report into the folder `scope.name`; returns the number of figures."""
    return len(build(con, Path(scope.name)).figures)


def render(figs: list[Figure], coverage: list[dict], facts: datasheet.Facts | None, selection: Selection,
           topic_views: list[topicviews.View] = (), topic_check: list[dict] = ()) -> str:
    """The HTML page (autoescaped: titles from posts are user content)."""
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(lambda name: (resources.files("pipeline.publish") / "templates" / name).read_text("utf-8")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    metric_sets, metric_rows = datasheet.metric_table(facts.metrics if facts else [])
    return env.get_template(TEMPLATE).render(
        figures=figs, coverage=coverage, facts=facts, selection=selection.describe(), version=__version__,
        metric_sets=metric_sets, metric_rows=metric_rows, views=list(topic_views),
        selection_id=selection_id(selection), rules_html=markdown_html(rules_text()), topic_check=list(topic_check),
        review_min=REVIEW_MIN_GOLD, review_agreement=REVIEW_AGREEMENT,
        plotly_js=topicviews.plotly_js() if topic_views else "",
    )


def markdown_html(text: str) -> str:
    """The verdict rules' Markdown (paragraphs, `- ` bullets, **bold**, `code`) as HTML; the text
    comes from the package (pipeline/coverage/verdicts.py), and is escaped all the same."""
    import html
    import re

    def inline(line: str) -> str:
        line = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", html.escape(line))
        return re.sub(r"`(.+?)`", r"<code>\1</code>", line)

    out, items = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("- "):
            items.append(f"<li>{inline(line[2:])}</li>")
            continue
        if items:
            out.append("<ul>" + "".join(items) + "</ul>")
            items = []
        if line.strip():
            out.append(f"<p>{inline(line)}</p>")
    return "\n".join(out)
