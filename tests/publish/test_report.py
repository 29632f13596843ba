"""`stackmine report` on the sample database built by the real pipeline.

A pure-Python check parses the HTML, decodes every embedded PNG and reads the print copies (SVG and
PDF, 7 in wide) and the interactive views' plotly specs; a second check (skipped when Chromium is
absent) opens the page in headless Chromium and asks the browser how many plots it decoded and how
many interactive views plotly.js drew, through scripts/check_report.py.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import re
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from flows.cli import _register, cli
from tests.support import REPO

_register()

PLOTS = ["stage-coverage", "platforms-over-time", "topics", "topics-over-time"]
VIEWS = ["topic-barchart", "topic-distance-map", "topic-hierarchy", "topics-over-time-interactive", "topics-per-platform"]
FILES = [f"{slug}.{fmt}" for slug in PLOTS for fmt in ("png", "svg", "pdf")]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class _Page(HTMLParser):
    """Collects figures (id → img src), table rows per section, and whether scripts load anything."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: dict[str, str] = {}
        self.section_rows: dict[str, int] = {}
        self.external: list[str] = []
        self._figure: str | None = None
        self._section: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "figure" and "plot" in (a.get("class") or ""):
            self._figure = a["id"]
        elif tag == "img" and self._figure:
            self.figures[self._figure] = a["src"] or ""
        elif tag == "section":
            self._section = a.get("id")
        elif tag == "tr" and self._section:
            self.section_rows[self._section] = self.section_rows.get(self._section, 0) + 1
        for key in ("src", "href"):
            value = a.get(key) or ""
            if value.startswith(("http:", "https:", "//")) or (tag in ("script", "link") and value):
                self.external.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag == "figure":
            self._figure = None
        elif tag == "section":
            self._section = None


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="session")
def report_dir(study_db_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    result = CliRunner().invoke(cli, ["report", "--db", str(study_db_path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"wrote {out / 'index.html'} with 4 plots: stage-coverage, platforms-over-time, topics, topics-over-time",
        f"  5 interactive views: {', '.join(VIEWS)}",
        f"  each plot also as .png, .svg and .pdf in {out}",
    ]
    return out


def test_every_plot_is_embedded_as_a_decodable_png(report_dir: Path) -> None:
    page = _Page()
    page.feed((report_dir / "index.html").read_text(encoding="utf-8"))
    assert list(page.figures) == [f"plot-{slug}" for slug in PLOTS]
    for slug in PLOTS:
        src = page.figures[f"plot-{slug}"]
        assert src.startswith("data:image/png;base64,")
        data = base64.b64decode(src.split(",", 1)[1])
        width, height = _png_size(data)
        assert width >= 600 and height >= 200, slug
        assert data == (report_dir / f"{slug}.png").read_bytes()  # the paper copy is the same image
    assert page.external == []  # self-contained: nothing to fetch


@pytest.mark.parametrize("slug", PLOTS)
def test_every_plot_is_also_a_print_size_svg_and_pdf(report_dir: Path, slug: str) -> None:
    pdf = (report_dir / f"{slug}.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-")
    media_box = re.search(rb"/MediaBox \[ *0 0 ([\d.]+) ([\d.]+) *\]", pdf)
    assert float(media_box.group(1)) == 504  # 7 in: a two-column figure
    assert b"/FontFile2" in pdf and b"/Subtype /Type3" not in pdf  # TrueType fonts, no Type 3
    svg = ET.parse(report_dir / f"{slug}.svg").getroot()
    assert svg.tag.endswith("svg") and svg.get("width") == "504pt"
    html = (report_dir / "index.html").read_text(encoding="utf-8")
    caption = html.split(f'id="plot-{slug}"', 1)[1].split("</figcaption>", 1)[0]
    assert re.search(r"Query: \w+\.", caption), "the query that produced it is named under it"
    assert f'href="{slug}.pdf"' in caption and f'href="{slug}.svg"' in caption


def test_topic_views_are_interactive_offline_and_carry_their_data(report_dir: Path, study_db_path: Path) -> None:
    html = (report_dir / "index.html").read_text(encoding="utf-8")
    assert 'data-views="5"' in html
    assert "plotly.js v" in html and "<script src" not in html  # plotly.js inside the page
    specs = {slug: json.loads(spec) for slug, spec in
             re.findall(r'<script type="application/json" id="spec-([\w-]+)">(.*?)</script>', html, re.S)}
    assert list(specs) == VIEWS
    con = duckdb.connect(str(study_db_path), read_only=True)
    n_topics = con.execute("SELECT n_topics FROM topic_models").fetchone()[0]
    con.close()
    assert len(specs["topic-barchart"]["data"]) == n_topics  # one bar chart per topic
    assert len(specs["topic-distance-map"]["data"][0]["x"]) == n_topics  # one bubble per topic
    assert len(specs["topic-hierarchy"]["layout"]["yaxis"]["ticktext"]) == n_topics
    assert len(specs["topics-over-time-interactive"]["data"]) == n_topics
    assert {t["orientation"] for t in specs["topics-per-platform"]["data"]} == {"h"}
    for slug, spec in specs.items():
        assert spec["data"] and spec["layout"]["title"], slug
        caption = html.split(f'id="view-{slug}"', 1)[1].split("</figcaption>", 1)[0]
        assert re.search(r"Query: \w+\.", caption), slug


def test_report_tables_match_the_database(report_dir: Path, study_db_path: Path) -> None:
    page = _Page()
    html = (report_dir / "index.html").read_text(encoding="utf-8")
    page.feed(html)
    con = duckdb.connect(str(study_db_path), read_only=True)
    stages = con.execute("SELECT count(*) FROM stage_coverage WHERE site = '*' AND scope = 'all'").fetchone()[0]
    study = con.execute("SELECT count(*) FROM question_labels WHERE notebook AND ml").fetchone()[0]
    dump_files = con.execute("SELECT count(*) FROM dumps").fetchone()[0]
    con.close()
    assert stages == 15
    assert page.section_rows["coverage-table"] == 1 + stages
    assert f"<tr><th class=\"l\">questions</th><td class=\"l\">{study} (" in html
    # summary table 7 rows, sources table header + one row per dump file, metrics table if stored
    assert page.section_rows["datasheet"] >= 7 + 1 + dump_files


@pytest.mark.slow  # a second full report (PNG, SVG and PDF of every figure): seconds
def test_report_is_deterministic(study_db_path: Path, report_dir: Path, tmp_path: Path) -> None:
    again = CliRunner().invoke(cli, ["report", "--db", str(study_db_path), "--out", str(tmp_path)])
    assert again.exit_code == 0, again.output
    for name in ["index.html", *FILES]:
        assert (tmp_path / name).read_bytes() == (report_dir / name).read_bytes(), name


def _checker():
    spec = importlib.util.spec_from_file_location("check_report", REPO / "scripts" / "check_report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_plots_render_in_headless_chromium(report_dir: Path, tmp_path: Path) -> None:
    checker = _checker()
    browser = checker.chromium()
    if browser is None:
        pytest.skip("chromium not installed (apt-get install chromium)")
    shot = tmp_path / "shot.png"
    assert checker.problems(checker.dump_dom(browser, report_dir / "index.html", shot)) == []
    assert _png_size(shot.read_bytes()) == (1280, 7000)
    # the check can fail: a page with one corrupted image and one broken view reports both
    broken = tmp_path / "broken.html"
    html = (report_dir / "index.html").read_text(encoding="utf-8")
    html = html.replace("data:image/png;base64,iVBOR", "data:image/png;base64,AAAAA", 1)
    html = html.replace('<script type="application/json" id="spec-topic-hierarchy">{',
                        '<script type="application/json" id="spec-topic-hierarchy">{[', 1)
    broken.write_text(html, encoding="utf-8")
    assert checker.problems(checker.dump_dom(browser, broken)) == [
        "3 of 4 plots rendered", "4 of 5 interactive views drawn", "interactive view topic-hierarchy not drawn"]


def test_summary_counts_from_its_columns_what_whole_rows_give(study_db_path: Path, tmp_path: Path) -> None:
    """The summary reads only `datasheet.TALLY_COLUMNS` of each row; its facts are those of whole
    export rows counted at once, human codes included (the coded sheet loaded), in batches of 7."""
    from pipeline.core.selection import Selection
    from pipeline.publish import datasheet
    from pipeline.publish.export import ExportOptions, resolve_topic_model, select_rows, stream_rows
    from pipeline.publish.report import summary
    from tests.support.coded_sheet import SHEET, coded_copy

    db = coded_copy(study_db_path, tmp_path / "coded.duckdb")
    assert CliRunner().invoke(cli, ["agreement", str(SHEET), "--db", str(db), "--load"]).exit_code == 0
    everything = Selection(notebook=None, ml=None)
    con = duckdb.connect(str(db), read_only=True)
    try:
        model = resolve_topic_model(con, everything, None)
        facts = summary(con, everything)
        whole = datasheet.gather(con, select_rows(con, everything, model), ExportOptions("report", everything), {}, 0)
        narrow = datasheet.Tally()
        for batch in stream_rows(con, everything, model, 7, columns=datasheet.TALLY_COLUMNS):
            assert batch.column_names == list(datasheet.TALLY_COLUMNS)
            narrow.add(batch)
        counted = datasheet.gather(con, narrow, ExportOptions("report", everything), {}, 0)
    finally:
        con.close()
    assert facts == whole == counted
    assert (facts.rows, len(narrow.coded)) == (2079, 12)


@pytest.mark.slow
def test_a_first_report_on_a_new_machine_logs_nothing_from_matplotlib(tmp_path: Path) -> None:
    """On a machine's first report, pyplot's import builds matplotlib's font cache and logged that at
    INFO: a line before the report's own output (on a new CI machine it came before a locked
    database's error line too). Here with a font cache folder that is empty, as on a new machine."""
    cache = tmp_path / "mpl"
    code = "import logging; logging.basicConfig(level=logging.INFO); import pipeline.publish.plots"
    done = subprocess.run([sys.executable, "-c", code], env={**os.environ, "MPLCONFIGDIR": str(cache)}, cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert any(path.name.startswith("fontlist-") for path in cache.iterdir())  # the cache was built, now
    assert done.stderr == ""
