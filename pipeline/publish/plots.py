"""The report's figures, drawn with matplotlib as PNG, SVG and PDF (for the HTML report and papers).

matplotlib, not plotly, for these: its files need no browser to render (plotly's image export
downloads one), the PNG embeds in HTML as base64 so the report opens offline, and none of the three
carries a timestamp, so the same data gives the same bytes. Figures are drawn at print size: 7 in
(178 mm) wide, a two-column figure in ACM, IEEE and Springer layouts, with 8 pt text, so the PDF and
SVG go into a paper unscaled. Each figure function takes the rows of one named query and returns a
matplotlib figure; `@printable` draws it in the print style and renders the three formats.
(The interactive topic views are plotly: pipeline/publish/topicviews.py.)
"""

from __future__ import annotations

import functools
import io
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")  # no display here or in CI; must precede pyplot's import
# PDF font subsetting logs every glyph table at INFO through fontTools: hundreds of lines per report.
logging.getLogger("fontTools").setLevel(logging.WARNING)
# pyplot's import builds matplotlib's font cache on a machine's first report and says so at INFO: a
# line before the report's own output (and before a locked database's one error line).
logging.getLogger("matplotlib.font_manager").setLevel(logging.WARNING)

import matplotlib.pyplot as plt  # noqa: E402


DPI = 200  # of the PNG; SVG and PDF are vector
PRINT_WIDTH = 7.0  # inches
STYLE = {"font.size": 8, "axes.titlesize": 9, "figure.titlesize": 9, "axes.labelsize": 8, "legend.fontsize": 7,
         "xtick.labelsize": 7, "ytick.labelsize": 7,
         "pdf.fonttype": 42,  # TrueType in the PDF: publishers reject Type 3 fonts
         "svg.hashsalt": "stackmine",  # fixed element ids: the same figure gives the same SVG
         "figure.constrained_layout.use": True}  # labels fit inside the figure: files are exactly 7 in wide
FORMATS = ("png", "svg", "pdf")
METADATA = {"png": {"Software": None}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}
VERDICT_COLOURS = {"more discussed": "#2b8a3e", "less discussed": "#e67700", "rare": "#c92a2a",
                   "on par": "#1c7ed6", "undetermined": "#adb5bd"}


@dataclass(frozen=True)
class Images:
    """One figure in the three formats."""

    png: bytes
    svg: bytes
    pdf: bytes


def _render(fig) -> Images:
    out = {}
    for fmt in FORMATS:
        sink = io.BytesIO()
        fig.savefig(sink, format=fmt, dpi=DPI, metadata=METADATA[fmt])
        out[fmt] = sink.getvalue()
    plt.close(fig)
    return Images(**out)


def printable(draw: Callable[..., object]) -> Callable[..., Images]:
    """Draw with `draw` (which returns a matplotlib figure) in the print style; return its Images."""
    @functools.wraps(draw)
    def drawn(*args, **kwargs) -> Images:
        with plt.rc_context(STYLE):
            return _render(draw(*args, **kwargs))
    return drawn


def _empty(title: str, message: str):
    """A figure that says why it is empty, so a missing stage shows up instead of vanishing."""
    fig, ax = plt.subplots(figsize=(PRINT_WIDTH, 1.4))
    ax.set_title(title)
    ax.text(0.5, 0.5, message, ha="center", va="center")
    ax.set_axis_off()
    return fig


@printable
def stage_coverage(rows: list[dict]) -> bytes:
    """Left: each stage's share of notebook and of baseline ML questions, raw (the classifier's
    counts, hollow marks) and corrected for its errors (filled, with the 95% bootstrap interval).
    Right: the corrected difference with its interval, coloured by verdict.

    Read from the rows of query stage_coverage_vs_baseline; a stage pooled with the other rare
    stages has no corrected share of its own and shows the pool's upper bound only."""
    title = "Stage coverage: notebook vs non-notebook ML questions, corrected for classifier error"
    if not rows:
        return _empty(title, "stage_coverage is empty: run `stackmine stages` first")
    rows = sorted(rows, key=lambda r: (_num(r["raw_share_notebook"]), r["stage"]))
    fig, (left, right) = plt.subplots(1, 2, figsize=(PRINT_WIDTH, 0.26 * len(rows) + 1.4), sharey=True)
    _share_panel(left, rows)
    _diff_panel(right, rows)
    fig.suptitle(title)
    return fig


def _num(value) -> float:
    return 0.0 if value is None or value != value else float(value)


def _share_panel(ax, rows: list[dict]) -> None:
    y = list(range(len(rows)))
    for offset, key, colour in ((-0.18, "notebook", "#1c7ed6"), (0.18, "baseline", "#868e96")):
        ys = [v + offset for v in y]
        ax.plot([_num(r[f"raw_share_{key}"]) for r in rows], ys, "o", mfc="none", color=colour, markersize=4)
        for v, r in zip(ys, rows):
            share, low, high = r[f"share_{key}"], _num(r[f"share_{key}_low"]), _num(r[f"share_{key}_high"])
            if share is None or share != share:
                ax.plot([low, high], [v, v], color=colour, linewidth=1, linestyle=":")
            else:
                ax.errorbar([share], [v], xerr=[[share - low], [high - share]], fmt="o", color=colour, capsize=2,
                            markersize=4)
        ax.plot([], [], "o", color=colour, label=f"{key} (n={rows[0][f'total_{key}']}): corrected, 95%")
        ax.plot([], [], "o", mfc="none", color=colour, label=f"{key}: raw (classifier's count)")
    ax.set_yticks(y, [r["stage"] for r in rows])
    ax.set_xlabel("share of ML questions")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=2)


def _diff_panel(ax, rows: list[dict]) -> None:
    for v, r in enumerate(rows):
        diff, low, high = r["diff"], r["diff_low"], r["diff_high"]
        if diff is None or diff != diff:
            continue
        ax.errorbar([diff], [v], xerr=[[diff - _num(low)], [_num(high) - diff]], fmt="o",
                    color=VERDICT_COLOURS.get(r["verdict"], "#495057"), capsize=3, markersize=4)
    ax.axvline(0, color="#adb5bd", linewidth=1)
    ax.set_xlabel("notebook − baseline, corrected (95% interval)")
    for verdict, colour in VERDICT_COLOURS.items():
        ax.plot([], [], "o", color=colour, label=verdict)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=3)


@printable
def platforms_over_time(rows: list[dict]) -> bytes:
    """Notebook questions per platform per year (all sites together)."""
    title = "Notebook questions per platform per year"
    if not rows:
        return _empty(title, "no notebook questions labelled: run `stackmine classify` first")
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in rows:
        counts[r["platform"]][str(r["year"])] += r["questions"]
    fig, ax = plt.subplots(figsize=(PRINT_WIDTH, 3.2))
    _series(ax, counts, sorted({str(r["year"]) for r in rows}))
    ax.set_title(title)
    return fig


def _series(ax, counts: dict[str, dict[str, int]], periods: list[str]) -> None:
    """One series per key, largest first: lines over three periods or more, grouped bars otherwise
    (a line through one or two points says nothing)."""
    names = sorted(counts, key=lambda n: (-sum(counts[n].values()), n))
    if len(periods) >= 3:
        for name in names:
            ax.plot(range(len(periods)), [counts[name].get(p, 0) for p in periods], marker="o", label=name[:40])
    else:
        width = 0.8 / len(names)
        for i, name in enumerate(names):
            xs = [j + (i - (len(names) - 1) / 2) * width for j in range(len(periods))]
            bars = ax.bar(xs, [counts[name].get(p, 0) for p in periods], width=width, label=name[:40])
            ax.bar_label(bars, fontsize=6)
    ax.set_xticks(range(len(periods)), periods, rotation=45 if len(periods) > 12 else 0)
    ax.set_ylabel("questions")
    ax.legend(ncol=2 if len(names) > 4 else 1)


@printable
def topic_sizes(rows: list[dict], top: int = 15) -> bytes:
    """Horizontal bars: questions per topic (largest `top`, outliers left out), labelled by terms."""
    title = "Questions per topic"
    rows = [r for r in rows if r["topic_id"] >= 0][:top]
    if not rows:
        return _empty(title, "no topic model fitted: run `stackmine topics` first")
    rows = rows[::-1]
    labels = [f"{r['topic_id']}: {', '.join((r['top_terms'] or [])[:4])}" for r in rows]
    colours = ["#1c7ed6" if r["main_stage"] != "environment" else "#e67700" for r in rows]
    fig, ax = plt.subplots(figsize=(PRINT_WIDTH, 0.26 * len(rows) + 1.1))
    ax.barh(labels, [r["questions"] for r in rows], color=colours)
    for i, r in enumerate(rows):
        ax.text(r["questions"], i, f"  {r['main_stage'] or ''}", va="center", fontsize=7, color="#495057")
    ax.set_xlabel("questions (label: main lifecycle stage; orange = environment)")
    ax.set_title(f"{title} (model {rows[0]['topic_model_id']})")
    return fig


@printable
def topics_over_time(rows: list[dict], top: int = 8) -> bytes:
    """Questions per period for the `top` largest topics."""
    title = "Topics over time"
    if not rows:
        return _empty(title, "no topics over time: run `stackmine topics` first")
    totals: dict[str, int] = defaultdict(int)
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for r in rows:
        totals[r["label"]] += r["questions"]
        counts[r["label"]][r["period"]] = r["questions"]
    largest = sorted(totals, key=lambda t: (-totals[t], t))[:top]
    fig, ax = plt.subplots(figsize=(PRINT_WIDTH, 3.2))
    _series(ax, {t: counts[t] for t in largest}, sorted({r["period"] for r in rows}))
    ax.set_title(f"{title} (largest {min(top, len(totals))} topics)")
    return fig
