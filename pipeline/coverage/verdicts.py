"""Verdicts per (group, stage), by rules kept as data so README and datasheet can print them verbatim.

A verdict is only as good as the rule behind it, so every verdict carries a machine-readable
reason naming the rule and the numbers that decided it (e.g. `recall=0.14<0.20`).
Rules are checked in order; the first that applies decides:

1. undetermined: a group smaller than `min_group`, a stage with fewer than `min_gold_support`
   gold questions (pooled with the other rare stages; see below), or a stage whose estimated
   recall is below `min_recall`;
2. rare: the upper end of the notebook share's interval is below `rare_threshold`, and so is an
   upper bound that needs no matrix inversion (predicted share over recall, `estimates.count_bound`):
   the percentile bound alone can be exactly 0 when the correction explains all of a stage's
   predictions by other stages' errors;
3. more discussed / less discussed: the difference notebook - baseline differs from 0 after the
   multiplicity correction over the stages of the family;
4. on par: none of the above.

A stage pooled for lack of gold questions has no share of its own, but the pooled share bounds
it from above, so it can still be called rare when the pool's upper bound is below the threshold
(and the pool's recall is not below `min_recall`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TypedDict, cast

import numpy as np

from pipeline.core.errors import CoverageError
from pipeline.coverage import STEP

VERDICTS = ("more discussed", "less discussed", "rare", "on par", "undetermined")

class Rules(TypedDict):
    """The thresholds and choices behind every verdict (see the module docstring)."""

    version: str
    interval: str
    interval_level: float
    alpha: float
    multiplicity: str
    family: str
    rare_threshold: float
    min_group: int
    min_gold_support: int
    min_recall: float


def check_rules(rules: Mapping[str, object], base: Mapping[str, object] | None = None) -> Rules:
    """The rules with the shipped ones filling what `rules` leaves out, or a named error saying
    which value is wrong."""
    base = shipped_rules() if base is None else base
    names = set(Rules.__annotations__)
    unknown = sorted(set(rules) - names)
    missing = sorted(names - set(base) - set(rules))
    if unknown or missing:
        raise CoverageError(f"verdict rules: unknown rule names {unknown}, missing {missing}; known: {sorted(names)}")
    merged = cast(Rules, {**base, **rules})
    if merged["multiplicity"] not in ("holm", "bonferroni", "bh", "none"):
        raise CoverageError("multiplicity is one of holm, bonferroni, bh, none")
    if merged["family"] not in ("group", "table"):
        raise CoverageError("family is 'group' (the stages of one group) or 'table' (every row)")
    for name in ("alpha", "rare_threshold", "min_recall", "interval_level"):
        if not 0 < float(merged[name]) < 1:  # type: ignore[literal-required]
            raise CoverageError(f"{name} must be between 0 and 1")
    return merged


RULES_FILE = "rules/verdicts.v1.json"


def load_rules(path: Path) -> Rules:
    """Verdict rules from a JSON file like the shipped one, checked (its "why" notes are for people)."""
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    raw.pop("why", None)
    return check_rules(raw, base=raw)


@functools.cache
def shipped_rules() -> Rules:
    """The verdict rules the coverage step applies: pipeline/coverage/rules/verdicts.v1.json."""
    return load_rules(Path(STEP.rule_file(RULES_FILE)))


def adjust(p_values: Sequence[float] | np.ndarray, alpha: float, method: str) -> tuple[np.ndarray, np.ndarray]:
    """Adjusted p-values and the per-test threshold each raw p was compared with.

    Holm's thresholds are alpha / (m - r + 1) for the r-th smallest p (step-down); Bonferroni's
    alpha / m; Benjamini-Hochberg's alpha r / m (step-up, false discovery rate, not family-wise).
    A test is rejected when its adjusted p-value is below alpha.
    """
    p = np.asarray(p_values, dtype=float)
    m = p.size
    if m == 0:
        return p.copy(), p.copy()
    order = np.argsort(p, kind="stable")
    ranks = np.empty(m, dtype=int)
    ranks[order] = np.arange(1, m + 1)
    if method == "none":
        return p.copy(), np.full(m, alpha)
    if method == "bonferroni":
        return np.minimum(1.0, p * m), np.full(m, alpha / m)
    if method == "holm":
        stepped = np.maximum.accumulate(np.minimum(1.0, (m - np.arange(m)) * p[order]))
        out = np.empty(m)
        out[order] = stepped
        return out, alpha / (m - ranks + 1)
    if method == "bh":
        scaled = p[order] * m / np.arange(1, m + 1)
        stepped = np.minimum(1.0, np.minimum.accumulate(scaled[::-1])[::-1])
        out = np.empty(m)
        out[order] = stepped
        return out, alpha * ranks / m
    raise CoverageError(f"unknown multiplicity correction {method!r}")


def decide(
    *,
    n_notebook: int,
    n_baseline: int,
    gold_support: int,
    recall: float,
    pooled: bool,
    nb_upper: float,
    count_bound: float,
    diff: float,
    p_adjusted: float,
    rules: Rules,
) -> tuple[str, str]:
    """(verdict, reason) of one stage of one group, by the rules in the module docstring.

    For a pooled stage pass the pool's recall and the pool's notebook upper bound. `count_bound`
    is the inversion-free bound of `estimates.count_bound`; rare needs it below the threshold too.
    """
    min_group = rules["min_group"]
    small = min(n_notebook, n_baseline)
    if small < min_group:
        side = "n_notebook" if n_notebook <= n_baseline else "n_baseline"
        return "undetermined", f"group-too-small:{side}={small}<{min_group}"
    min_recall, rare = rules["min_recall"], rules["rare_threshold"]
    if pooled or gold_support < rules["min_gold_support"]:
        if pooled and recall >= min_recall and max(nb_upper, count_bound) < rare:
            return "rare", f"pooled-upper={nb_upper:.4f},count-bound={count_bound:.4f}<{rare}"
        return "undetermined", f"gold-support={gold_support}<{rules['min_gold_support']};pool-recall={recall:.2f}"
    if not recall >= min_recall:
        return "undetermined", f"recall={recall:.2f}<{min_recall:.2f}"
    if max(nb_upper, count_bound) < rare:
        return "rare", f"upper={nb_upper:.4f},count-bound={count_bound:.4f}<{rare}"
    alpha = rules["alpha"]
    method = rules["multiplicity"]
    if p_adjusted < alpha:
        return ("more discussed" if diff > 0 else "less discussed"), f"p_{method}={p_adjusted:.4f}<{alpha}"
    return "on par", f"p_{method}={p_adjusted:.4f}>={alpha}"


def rules_json(rules: Mapping[str, object] | None = None) -> str:
    """The rules as stable JSON (for a datasheet or a stored row)."""
    return json.dumps(check_rules(rules or {}), sort_keys=True, indent=2)


def rules_text(rules: Mapping[str, object] | None = None) -> str:
    """The verdict rules as Markdown, with their numbers, for the README and the datasheet."""
    r = check_rules(rules or {})
    level = r["interval_level"]
    correction = {"holm": "Holm's step-down correction (family-wise error rate)",
                  "bonferroni": "a Bonferroni correction (family-wise error rate)",
                  "bh": "the Benjamini-Hochberg procedure (false discovery rate)",
                  "none": "no multiplicity correction"}[r["multiplicity"]]
    family = "the stages tested in one group" if r["family"] == "group" else "every stage of every group in the table"
    return "\n".join([
        f"Verdict rules `{r['version']}` (corrected shares; checked in this order, the first that applies decides):",
        "",
        f"- **undetermined** when the notebook or the baseline group has fewer than {r['min_group']} ML questions; "
        f"or the stage has fewer than {r['min_gold_support']} gold-labelled questions (its recall is unknown); "
        f"or the classifier's estimated recall for the stage is below {r['min_recall']:.2f}.",
        f"- **rare** when the upper end of the {level:.0%} interval of the corrected notebook share is below "
        f"{r['rare_threshold']:.0%}, and so is the bound that needs no correction (the upper 95% bound of the share "
        "of questions predicted as the stage divided by the lower 95% bound of its recall). A stage pooled for lack of gold questions is rare when the pool's upper end is "
        "below that (each member's share is at most the pool's).",
        f"- **more discussed** / **less discussed** when the corrected difference notebook - baseline differs from 0 "
        f"at level {r['alpha']} after {correction} over {family}; the interval shown beside it is taken at the "
        "adjusted level that decided.",
        "- **on par** otherwise: no difference was detected; the interval says how large one could still be.",
        "",
        "Corrected shares undo the classifier's known errors (its confusion matrix measured out-of-fold on "
        "gold-labelled questions); intervals are percentile bootstraps over both the gold questions and the "
        "group's questions. They assume the classifier errs on the studied questions as it does on the gold "
        "questions, that gold labels are right and that questions are independent.",
        "",
        "A reader may conclude that a stage labelled more or less discussed differs in share between notebook and "
        "other ML questions of these sites and years, and that a rare stage makes up less than the stated share. "
        "A reader may not conclude that an on-par or undetermined stage is equally discussed, nor that a rare "
        "stage is never discussed, nor anything about why the shares differ.",
    ])
