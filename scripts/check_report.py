"""Open a stackmine report in headless Chromium and check that every plot rendered.

Usage: .venv/bin/python scripts/check_report.py [data/report/index.html] [--screenshot shot.png]

Chromium loads the page offline (no network flags), runs its load handler, and dumps the DOM: the
page's script sets `data-plots-rendered` on <body> to the number of figure images the browser
actually decoded, which must equal `data-plots` (the number of figures) and be at least four.
Exit status 0 when all plots rendered, 1 otherwise, 2 when Chromium is not installed.
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
         "--disable-component-update", "--disable-sync", "--no-first-run"]
PLOTS = ("stage-coverage", "platforms-over-time", "topics", "topics-over-time")


def chromium() -> str | None:
    """Path of a Chromium binary, or None."""
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)


def dump_dom(browser: str, page: Path, screenshot: Path | None = None) -> str:
    """The DOM after load (and a full-page screenshot when asked)."""
    with tempfile.TemporaryDirectory() as profile:
        base = [browser, *FLAGS, f"--user-data-dir={profile}"]
        if screenshot:
            subprocess.run([*base, f"--screenshot={screenshot}", "--window-size=1280,4000", page.resolve().as_uri()],
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
        print(f"ok: all {len(PLOTS)} plots rendered in {args.page}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
