"""The coverage table: raw and corrected stage shares of notebook and baseline groups, their
difference with intervals, multiplicity-adjusted p-values and verdicts. This is what the product
calls (`prepare` once per table, then `coverage_table`).

The gold set's confusion matrix is re-drawn once per table and shared by every group, so a
difference inside a comparison, and every comparison of the table, sees the same classifier error
in a given replicate. Each group's replicates depend only on the seed and the group's key, so
adding a group to a table does not change the numbers of the others.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from pipeline.coverage.bootstrap import (BootstrapConfig, confusion_replicates, group_replicates,
                                      group_replicates_probs, percentile_interval, solve, two_sided_p)
from pipeline.coverage.confusion import Gold, estimate_confusion, pool_true_classes
from pipeline.core.errors import CoverageError
from pipeline.coverage.verdicts import Rules, adjust, check_rules, decide

POOL = "pooled-rare"


@dataclass(frozen=True)
class Group:
    """One group's predicted labels: counts per predicted class (J,), or probability vectors (N, J)."""

    key: str
    counts: np.ndarray | None = None
    probs: np.ndarray | None = None

    @classmethod
    def from_labels(cls, key: str, labels: Sequence[str], pred_classes: Sequence[str]) -> Group:
        """Count predicted labels (strings) of a group's questions."""
        index = {c: i for i, c in enumerate(pred_classes)}
        unknown = sorted({x for x in labels if x not in index})
        if unknown:
            raise CoverageError(f"group {key}: predicted labels {unknown[:5]} are not predicted classes")
        counts = np.bincount([index[x] for x in labels], minlength=len(pred_classes)).astype(float)
        return cls(key, counts=counts)

    def predicted(self) -> np.ndarray:
        """(J,) predicted counts (probability vectors summed)."""
        return self.counts if self.counts is not None else np.asarray(self.probs).sum(axis=0)


@dataclass(frozen=True)
class Comparison:
    """A notebook group against its baseline, under the product's (site, scope, grp) key."""

    site: str
    scope: str
    grp: str
    notebook: Group
    baseline: Group


@dataclass
class Model:
    """Everything a table needs from the gold set, computed once: the pooled classes, the point
    confusion matrix, its bootstrap replicates, and each stage's gold support and recall."""

    stages: tuple[str, ...]
    estimated: tuple[str, ...]
    mapping: dict[str, str]
    outside: tuple[str, str] | None
    point: np.ndarray
    replicates: np.ndarray
    support: dict[str, int]
    recall: dict[str, float]
    recall_support: dict[str, int]
    rules: Rules
    config: BootstrapConfig
    cache: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


def _recalls(gold: Gold, pooled: Gold, mapping: dict[str, str]) -> dict[str, float]:
    """P(pred = stage | true = stage); for a pooled stage, P(pred in the pool | true in the pool)."""
    full = estimate_confusion(gold).matrix
    pooled_rows = estimate_confusion(pooled).matrix
    members = [c for c, m in mapping.items() if m == POOL]
    pool_cols = [gold.pred_classes.index(c) for c in members if c in gold.pred_classes]
    out = {}
    for k, stage in enumerate(gold.true_classes):
        if mapping[stage] == POOL:
            out[stage] = float(pooled_rows[pooled.true_classes.index(POOL), pool_cols].sum())
        elif stage in gold.pred_classes:
            out[stage] = float(full[k, gold.pred_classes.index(stage)])
        else:
            out[stage] = float("nan")
    return out


def prepare(gold: Gold, *, outside: tuple[str, str] | None = None, rules: Mapping[str, object] | None = None,
            config: BootstrapConfig | None = None) -> Model:
    """Pool rare true classes, estimate the confusion matrix and draw its replicates.

    `outside` = (true class, predicted class) of questions outside the studied population, e.g.
    ("not-ml", "none"): they are modelled, so the classifier's ML filter is corrected too, and
    left out of every share. Stages are the remaining true classes, in the gold's order.
    """
    rules = check_rules(rules or {})
    config = config or BootstrapConfig()
    keep = (outside[0],) if outside else ()
    pooled, mapping = pool_true_classes(gold, rules["min_gold_support"], POOL, keep)
    stages = tuple(c for c in gold.true_classes if not outside or c != outside[0])
    support = dict(zip(gold.true_classes, (int(x) for x in gold.support())))
    pool_support = sum(n for c, n in support.items() if mapping[c] == POOL)
    recall_support = {c: pool_support if mapping[c] == POOL else n for c, n in support.items()}
    return Model(stages, pooled.true_classes, mapping, outside, estimate_confusion(pooled).matrix,
                 confusion_replicates(pooled, config), support, _recalls(gold, pooled, mapping), recall_support,
                 rules, config)


def count_bound(predicted: float, total: float, recall: float, support: int) -> float:
    """An upper bound on a stage's share that needs no matrix inversion: a question of the stage
    is predicted as the stage with probability `recall`, so share <= P(predicted as the stage) /
    recall. Upper Wilson bound of the first over lower Wilson bound of the second (95% each, so
    the bound holds with probability >= 95%). The corrected percentile bound can sit at exactly
    0 when the correction explains a stage's predictions by other stages' errors; this one cannot,
    so a stage is called rare only when both are small."""
    if total <= 0 or support <= 0 or not recall > 0:
        return float("inf")
    upper = binomtest(int(round(predicted)), int(round(total))).proportion_ci(0.95, "wilson").high
    lower = binomtest(int(round(recall * support)), int(support)).proportion_ci(0.95, "wilson").low
    return float(min(1.0, upper / lower)) if lower > 0 else float("inf")


def _within(model: Model, shares: np.ndarray) -> np.ndarray:
    """Shares of the estimated classes among studied questions (the outside class left out)."""
    if not model.outside:
        return shares
    k = model.estimated.index(model.outside[0])
    inside = np.delete(shares, k, axis=-1)
    return inside / np.maximum(inside.sum(axis=-1, keepdims=True), 1e-300)


def estimate(model: Model, group: Group) -> tuple[np.ndarray, np.ndarray]:
    """(point, replicates) of a group's corrected shares over the estimated classes, cached by key."""
    if group.key in model.cache:
        return model.cache[group.key]
    predicted = group.predicted()
    if predicted.sum() <= 0:
        k = len(model.estimated) - (1 if model.outside else 0)
        result = (np.full(k, np.nan), np.full((model.config.replicates, k), np.nan))
    else:
        point = solve(predicted, model.point, BootstrapConfig(method=model.config.method))
        if group.probs is not None:
            q = group_replicates_probs(group.probs, model.config, group.key)
        else:
            q = group_replicates(predicted, model.config, group.key)
        reps = solve(q, model.replicates, model.config, init=point if model.config.method == "ml" else None)
        result = (_within(model, point), _within(model, reps))
    model.cache[group.key] = result
    return result


def _raw(model: Model, group: Group, stage: str, pred_classes: Sequence[str]) -> tuple[float, float]:
    counts = group.predicted()
    inside = counts.sum() - (counts[list(pred_classes).index(model.outside[1])] if model.outside else 0.0)
    n = counts[list(pred_classes).index(stage)] if stage in pred_classes else 0.0
    return float(n), float(inside)


def _rows(model: Model, comp: Comparison, pred_classes: Sequence[str]) -> list[dict[str, object]]:
    """One record per stage, before multiplicity and verdicts."""
    level = model.rules["interval_level"]
    nb_point, nb_reps = estimate(model, comp.notebook)
    base_point, base_reps = estimate(model, comp.baseline)
    inside = [c for c in model.estimated if not model.outside or c != model.outside[0]]
    nb_lo, nb_hi = percentile_interval(nb_reps, level)
    base_lo, base_hi = percentile_interval(base_reps, level)
    diff_reps = nb_reps - base_reps
    d_lo, d_hi = percentile_interval(diff_reps, level)
    p = two_sided_p(diff_reps)
    out = []
    for stage in model.stages:
        k = inside.index(model.mapping[stage])
        pooled = model.mapping[stage] == POOL
        nb_n, nb_total = _raw(model, comp.notebook, stage, pred_classes)
        members = [c for c, e in model.mapping.items() if e == model.mapping[stage]]
        nb_predicted = sum(_raw(model, comp.notebook, c, pred_classes)[0] for c in members)
        base_n, base_total = _raw(model, comp.baseline, stage, pred_classes)
        share = (lambda x: np.nan) if pooled else (lambda x: float(x))
        out.append({
            "site": comp.site, "scope": comp.scope, "grp": comp.grp, "stage": stage,
            "n_notebook": int(nb_n), "total_notebook": int(nb_total),
            "raw_share_notebook": nb_n / nb_total if nb_total else np.nan,
            "n_baseline": int(base_n), "total_baseline": int(base_total),
            "raw_share_baseline": base_n / base_total if base_total else np.nan,
            "share_notebook": share(nb_point[k]), "share_notebook_low": 0.0 if pooled else float(nb_lo[k]),
            "share_notebook_high": float(nb_hi[k]),
            # share of replicates exactly at 0: near 1, the percentile interval is a boundary
            # artefact of an unidentified share, not evidence that the share is 0
            "notebook_at_zero": float(np.mean(nb_reps[:, k] <= 1e-12)),
            "share_baseline": share(base_point[k]), "share_baseline_low": 0.0 if pooled else float(base_lo[k]),
            "share_baseline_high": float(base_hi[k]),
            "baseline_at_zero": float(np.mean(base_reps[:, k] <= 1e-12)),
            "diff": share(nb_point[k] - base_point[k]), "diff_low": share(d_lo[k]), "diff_high": share(d_hi[k]),
            "p_value": share(p[k]), "estimated_as": model.mapping[stage],
            "gold_support": model.support[stage], "recall": model.recall[stage], "_k": k,
            "count_bound": count_bound(nb_predicted, nb_total, model.recall[stage], model.recall_support[stage]),
        })
    return out


def _eligible(row: pd.Series, rules: Rules) -> bool:
    """Whether a row's difference is tested (rule 1 of the verdicts does not already decide it)."""
    return bool(min(row["total_notebook"], row["total_baseline"]) >= rules["min_group"]
                and row["estimated_as"] != POOL and row["gold_support"] >= rules["min_gold_support"]
                and row["recall"] >= rules["min_recall"])


def coverage_table(model: Model, comparisons: Sequence[Comparison], pred_classes: Sequence[str]) -> pd.DataFrame:
    """All rows (every comparison x every stage), with adjusted p-values, levels and verdicts."""
    rules = model.rules
    rows = [r for comp in comparisons for r in _rows(model, comp, pred_classes)]
    frame = pd.DataFrame.from_records(rows)
    frame["p_adjusted"] = np.nan
    frame["adjusted_level"] = np.nan
    families = ["site", "scope", "grp"] if rules["family"] == "group" else []
    eligible = frame.apply(lambda r: _eligible(r, rules), axis=1) & frame["p_value"].notna()
    for _, part in (frame[eligible].groupby(families) if families else [(None, frame[eligible])]):
        _check_resolution(model, len(part))
        p_adj, threshold = adjust(part["p_value"].to_numpy(), rules["alpha"], rules["multiplicity"])
        frame.loc[part.index, "p_adjusted"] = p_adj
        frame.loc[part.index, "adjusted_level"] = 1.0 - threshold
    _adjusted_intervals(model, frame, comparisons)
    decided = [decide(n_notebook=r.total_notebook, n_baseline=r.total_baseline, gold_support=r.gold_support,
                      recall=r.recall, pooled=r.estimated_as == POOL, nb_upper=r.share_notebook_high, count_bound=r.count_bound, diff=r.diff,
                      p_adjusted=r.p_adjusted, rules=rules) for r in frame.itertuples()]
    frame["verdict"] = [v for v, _ in decided]
    frame["reason"] = [why for _, why in decided]
    frame["rules_version"] = rules["version"]
    frame["method"] = f"{model.config.method}; B={model.config.replicates}; seed={model.config.seed}"
    return frame[list(COLUMNS)]


def _check_resolution(model: Model, tests: int) -> None:
    """Refuse a table whose bootstrap cannot reach the corrected level at all.

    The smallest bootstrap p-value is 2 / (B + 1); with m tests Holm or Bonferroni need it below
    alpha / m, or no stage could ever be called more or less discussed, whatever the data.
    """
    alpha = model.rules["alpha"]
    if model.rules["multiplicity"] in ("holm", "bonferroni") and 2 / (model.config.replicates + 1) * tests >= alpha:
        need = int(np.ceil(2 * tests / alpha))
        raise CoverageError(
            f"{model.config.replicates} replicates cannot reach level {alpha}/{tests}: use at least {need} "
            "(2,000 or more for stable p-values near that level)")


def _adjusted_intervals(model: Model, frame: pd.DataFrame, comparisons: Sequence[Comparison]) -> None:
    """The difference interval at each tested row's adjusted level (the one its verdict used)."""
    frame["diff_low_adj"] = np.nan
    frame["diff_high_adj"] = np.nan
    by_key = {(c.site, c.scope, c.grp): c for c in comparisons}
    for idx in frame.index[frame["adjusted_level"].notna()]:
        comp = by_key[(frame.at[idx, "site"], frame.at[idx, "scope"], frame.at[idx, "grp"])]
        k = int(frame.at[idx, "_k"])
        diff = estimate(model, comp.notebook)[1][:, k] - estimate(model, comp.baseline)[1][:, k]
        lo, hi = percentile_interval(diff[:, None], float(frame.at[idx, "adjusted_level"]))
        frame.at[idx, "diff_low_adj"], frame.at[idx, "diff_high_adj"] = float(lo[0]), float(hi[0])


COLUMNS = (
    "site", "scope", "grp", "stage", "n_notebook", "total_notebook", "raw_share_notebook", "n_baseline",
    "total_baseline", "raw_share_baseline", "share_notebook", "share_notebook_low", "share_notebook_high",
    "notebook_at_zero",
    "share_baseline", "share_baseline_low", "share_baseline_high", "baseline_at_zero", "count_bound", "diff", "diff_low", "diff_high", "p_value",
    "p_adjusted", "adjusted_level", "diff_low_adj", "diff_high_adj", "estimated_as", "gold_support", "recall",
    "verdict", "reason", "rules_version", "method",
)
