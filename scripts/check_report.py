#!/usr/bin/env python3
"""Open a stackmine report in headless Chromium and check that every plot and interactive view rendered.

Usage: scripts/check_report.py [data/report/index.html] [--screenshot shot.png]
(standard library only: any python3 runs it)

Chromium loads the page offline (no network flags), runs its load handler, and dumps the DOM: the
page's script sets `data-plots-rendered` on <body> to the number of figure images the browser
actually decoded, which must equal `data-plots` (the number of figures) and be at least four, and
`data-views-rendered` to the number of interactive topic views plotly.js drew (an SVG with at least
one trace), which must equal `data-views` and name every view in VIEWS. Plotly draws after the load
event, so Chromium is given virtual time to finish before the DOM is dumped.
Exit status 0 when everything rendered, 1 otherwise, 2 when Chromium is not installed.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--virtual-time-budget=15000"]
PLOTS = ("stage-coverage", "platforms-over-time", "topics", "topics-over-time")
VIEWS = ("topic-barchart", "topic-distance-map", "topic-hierarchy", "topics-over-time-interactive",
         "topics-per-platform")
WINDOW = "1280,7000"  # tall enough for the whole report of the sample in one screenshot


def chromium() -> str | None:
    """Path of a Chromium binary, or None."""
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)


def dump_dom(browser: str, page: Path, screenshot: Path | None = None) -> str:
    """The DOM after load (and a full-page screenshot when asked)."""
    with tempfile.TemporaryDirectory() as profile:
        base = [browser, *FLAGS, f"--user-data-dir={profile}"]
        if screenshot:
            subprocess.run([*base, f"--screenshot={screenshot}", f"--window-size={WINDOW}", page.resolve().as_uri()],
                           check=True, capture_output=True, timeout=120)
        done = subprocess.run([*base, "--dump-dom", page.resolve().as_uri()], check=True, capture_output=True,
                              text=True, timeout=120)
    return done.stdout


def problems(dom: str) -> list[str]:
    """What is wrong with a rendered report's DOM (empty list: all plots rendered)."""
    found = []
    expected = re.search(r'data-plots="(\d+)"', dom)
    rendered = re.search(r'data-plots-rendered="(\d+)"', dom)
    if not expected or not rendered:
        return ["the page's load handler did not run (no data-plots-rendered on <body>)"]
    if int(rendered.group(1)) != int(expected.group(1)) or int(expected.group(1)) < len(PLOTS):
        found.append(f"{rendered.group(1)} of {expected.group(1)} plots rendered")
    for slug in PLOTS:
        if not re.search(rf'<figure class="plot" id="plot-{slug}"[^>]*>\s*<h2>[^<]*</h2>\s*<img src="data:image/png;base64,', dom):
            found.append(f"plot {slug} missing")
    views = re.search(r'data-views="(\d+)"', dom)
    drawn = re.search(r'data-views-rendered="(\d+)"', dom)
    names = re.search(r'data-views-drawn="([^"]*)"', dom)
    if not views or not drawn or not names:
        return [*found, "the interactive views were not drawn (no data-views-rendered on <body>)"]
    if int(drawn.group(1)) != int(views.group(1)):
        found.append(f"{drawn.group(1)} of {views.group(1)} interactive views drawn")
    found += [f"interactive view {slug} not drawn" for slug in VIEWS if slug not in names.group(1).split()]
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", nargs="?", type=Path, default=Path("data/report/index.html"))
    parser.add_argument("--screenshot", type=Path)
    args = parser.parse_args()
    browser = chromium()
    if browser is None:
        print("chromium not installed (apt-get install chromium)", file=sys.stderr)
        return 2
    found = problems(dump_dom(browser, args.page, args.screenshot))
    for problem in found:
        print(f"FAIL: {problem}", file=sys.stderr)
    if not found:
        print(f"ok: all {len(PLOTS)} plots and {len(VIEWS)} interactive views rendered in {args.page}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
