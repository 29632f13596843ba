"""The report's figures, drawn with matplotlib into PNG bytes (for the HTML report and for papers).

matplotlib, not plotly: its PNGs need no browser to render (plotly's image export downloads one),
embed in HTML as base64 so the report opens offline, and carry no timestamp, so the same data
gives the same bytes. Each function takes the rows of one named query and returns a PNG.
"""

from __future__ import annotations

import io
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")  # no display here or in CI; must precede pyplot's import

import matplotlib.pyplot as plt  # noqa: E402

from pipeline.coverage import stats as coverage  # noqa: E402

DPI = 110
VERDICT_COLOURS = {"discussed": "#2b8a3e", "under-discussed": "#e67700", "skipped": "#c92a2a"}


def wilson(k: int, n: int) -> tuple[float, float]:
    """The coverage stage's 95% Wilson interval (one implementation), empty groups drawn as (0, 0)."""
    return coverage.wilson(k, n) if n else (0.0, 0.0)


def _png(fig) -> bytes:
    sink = io.BytesIO()
    fig.savefig(sink, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return sink.getvalue()


def _empty(title: str, message: str) -> bytes:
    """A figure that says why it is empty, so a missing stage shows up instead of vanishing."""
    fig, ax = plt.subplots(figsize=(8, 2))
    ax.set_title(title)
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=11)
    ax.set_axis_off()
    return _png(fig)


def stage_coverage(rows: list[dict]) -> bytes:
    """Left: share of notebook vs baseline ML questions per stage, Wilson 95% error bars.
    Right: the difference with the stored Newcombe 95% interval, coloured by verdict."""
    title = "Stage coverage: notebook vs non-notebook ML questions"
    if not rows:
        return _empty(title, "stage_coverage is empty: run `stackmine stages` first")
    rows = sorted(rows, key=lambda r: (r["share_notebook"] or 0.0, r["stage"]))
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 0.42 * len(rows) + 1.6), sharey=True)
    _share_panel(left, rows)
    _diff_panel(right, rows)
    fig.suptitle(title)
    return _png(fig)


def _share_panel(ax, rows: list[dict]) -> None:
    y = list(range(len(rows)))
    for offset, key, colour in ((-0.2, "notebook", "#1c7ed6"), (0.2, "baseline", "#868e96")):
        shares = [r[f"n_{key}"] / r[f"total_{key}"] if r[f"total_{key}"] else 0.0 for r in rows]
        bounds = [wilson(r[f"n_{key}"], r[f"total_{key}"]) for r in rows]
        err = [[s - lo for s, (lo, _) in zip(shares, bounds)], [hi - s for s, (_, hi) in zip(shares, bounds)]]
        ax.barh([v + offset for v in y], shares, height=0.4, color=colour, xerr=err, capsize=2,
                label=f"{key} (n={rows[0][f'total_{key}']})")
    ax.set_yticks(y, [r["stage"] for r in rows])
    ax.set_xlabel("share of ML questions (95% Wilson interval)")
    ax.legend(loc="lower right")


def _diff_panel(ax, rows: list[dict]) -> None:
    for v, r in enumerate(rows):
        diff = r["diff"] or 0.0
        low, high = r["ci_low"], r["ci_high"]
        xerr = None if low is None or high is None else [[diff - low], [high - diff]]
        ax.errorbar([diff], [v], xerr=xerr, fmt="o", color=VERDICT_COLOURS.get(r["verdict"], "#495057"), capsize=3)
    ax.axvline(0, color="#adb5bd", linewidth=1)
    ax.set_xlabel("notebook − baseline (95% Newcombe interval)")
    for verdict, colour in VERDICT_COLOURS.items():
        ax.plot([], [], "o", color=colour, label=verdict)
    ax.legend(loc="best")


def platforms_over_time(rows: list[dict]) -> bytes:
    """Notebook questions per platform per year (all sites together)."""
    title = "Notebook questions per platform per year"
    if not rows:
        return _empty(title, "no notebook questions labelled: run `stackmine classify` first")
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in rows:
        counts[r["platform"]][str(r["year"])] += r["questions"]
    fig, ax = plt.subplots(figsize=(10, 4.5))
    _series(ax, counts, sorted({str(r["year"]) for r in rows}))
    ax.set_title(title)
    return _png(fig)


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
            ax.bar_label(bars, fontsize=8)
    ax.set_xticks(range(len(periods)), periods, rotation=45 if len(periods) > 12 else 0)
    ax.set_ylabel("questions")
    ax.legend(ncol=2 if len(names) > 4 else 1, fontsize=8)


def topic_sizes(rows: list[dict], top: int = 15) -> bytes:
    """Horizontal bars: questions per topic (largest `top`, outliers left out), labelled by terms."""
    title = "Questions per topic"
    rows = [r for r in rows if r["topic_id"] >= 0][:top]
    if not rows:
        return _empty(title, "no topic model fitted: run `stackmine topics` first")
    rows = rows[::-1]
    labels = [f"{r['topic_id']}: {', '.join((r['top_terms'] or [])[:4])}" for r in rows]
    colours = ["#1c7ed6" if r["main_stage"] != "environment" else "#e67700" for r in rows]
    fig, ax = plt.subplots(figsize=(10, 0.38 * len(rows) + 1.4))
    ax.barh(labels, [r["questions"] for r in rows], color=colours)
    for i, r in enumerate(rows):
        ax.text(r["questions"], i, f"  {r['main_stage'] or ''}", va="center", fontsize=8, color="#495057")
    ax.set_xlabel("questions (label: main lifecycle stage; orange = environment)")
    ax.set_title(f"{title} (model {rows[0]['topic_model_id']})")
    return _png(fig)


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
    fig, ax = plt.subplots(figsize=(10, 4.5))
    _series(ax, {t: counts[t] for t in largest}, sorted({r["period"] for r in rows}))
    ax.set_title(f"{title} (largest {min(top, len(totals))} topics)")
    return _png(fig)
