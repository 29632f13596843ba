"""`stackmine report` on the sample database built by the real pipeline.

A pure-Python check parses the HTML and decodes every embedded PNG; a second check (skipped when
Chromium is absent) opens the page in headless Chromium and asks the browser how many plots it
decoded, through scripts/check_report.py.
"""

from __future__ import annotations

import base64
import importlib.util
import struct
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from flows.cli import _register, cli
from tests.support import REPO

_register()

PLOTS = ["stage-coverage", "platforms-over-time", "topics", "topics-over-time"]
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
    assert result.output.strip() == (
        f"wrote {out / 'index.html'} with 4 plots: stage-coverage, platforms-over-time, topics, topics-over-time"
    )
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


def test_report_is_deterministic(study_db_path: Path, report_dir: Path, tmp_path: Path) -> None:
    again = CliRunner().invoke(cli, ["report", "--db", str(study_db_path), "--out", str(tmp_path)])
    assert again.exit_code == 0, again.output
    for name in ["index.html", *(f"{slug}.png" for slug in PLOTS)]:
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
    assert _png_size(shot.read_bytes()) == (1280, 4000)
    # the check can fail: a page with one corrupted image reports it
    broken = tmp_path / "broken.html"
    html = (report_dir / "index.html").read_text(encoding="utf-8")
    broken.write_text(html.replace("data:image/png;base64,iVBOR", "data:image/png;base64,AAAAA", 1), encoding="utf-8")
    assert checker.problems(checker.dump_dom(browser, broken)) == ["3 of 4 plots rendered"]
