"""Precision, recall, F1, accuracy, macro-F1 and the confusion table — and how they are printed.

Pure functions over gold rows and guesses, so tests can check them on hand-made numbers and the
CLI only prints what `report` returns.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from pipeline.core.codebook import PLATFORMS


@dataclass(frozen=True)
class PRF:
    """Counts and scores of one binary label."""

    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def prf(pairs: list[tuple[bool, bool]]) -> PRF:
    """(gold, predicted) pairs → counts."""
    return PRF(
        tp=sum(g and p for g, p in pairs),
        fp=sum(p and not g for g, p in pairs),
        fn=sum(g and not p for g, p in pairs),
    )


def binary_scores(gold: list, guesses: list) -> dict[str, PRF]:
    """Per-platform, notebook-any and ml scores."""
    out = {p: prf([(p in g.platforms, p in set(x.platforms)) for g, x in zip(gold, guesses)]) for p in PLATFORMS}
    out["notebook-any"] = prf([(bool(g.platforms), bool(x.platforms)) for g, x in zip(gold, guesses)])
    out["ml"] = prf([(g.ml, x.ml) for g, x in zip(gold, guesses)])
    return out


def stage_scores(gold: list, guesses: list) -> tuple[float, float, int]:
    """Accuracy and macro-F1 of the primary stage on gold ml=yes questions, and their number.

    Macro-F1 averages over the stages that occur in the gold or the predictions of those questions.
    """
    pairs = [(g.stage, x.stage) for g, x in zip(gold, guesses) if g.ml]
    if not pairs:
        return 0.0, 0.0, 0
    accuracy = sum(a == b for a, b in pairs) / len(pairs)
    labels = sorted({a for a, _ in pairs} | {b for _, b in pairs})
    f1s = [prf([(a == s, b == s) for a, b in pairs]).f1 for s in labels]
    return accuracy, sum(f1s) / len(f1s), len(pairs)


def confusion(gold: list, guesses: list) -> str:
    """Gold stage (rows) × predicted stage (columns) on gold ml=yes questions, as text."""
    pairs = [(g.stage, x.stage) for g, x in zip(gold, guesses) if g.ml]
    counts = Counter(pairs)
    rows = sorted({a for a, _ in pairs})
    cols = sorted({b for _, b in pairs})
    short = {c: _abbrev(c) for c in cols}
    corner = "gold \\ predicted"
    lines = [f"{corner:<26}" + "".join(f"{short[c]:>6}" for c in cols)]
    for r in rows:
        lines.append(f"{r:<26}" + "".join(f"{counts.get((r, c), 0) or '.':>6}" for c in cols))
    legend = "  ".join(f"{short[c]}={c}" for c in cols)
    return "\n".join(lines + [f"columns: {legend}"])


def _abbrev(stage: str) -> str:
    return "".join(part[:2] for part in stage.split("-"))[:5]


# Printed under a table on the development set, because a score read without that fact is how
# optimism gets published. Other gold files (an independent test set) get no such note.
DEVELOPMENT_SET = "dev.csv"
CAVEAT = ("note: the rules were developed on dev.csv, so every score that depends on them is optimistic (the "
          "rules column most; platforms of the classifier are the rules'); held-out estimates are in "
          "pipeline/evaluate/records/classifier_metrics.csv (scripts/heldout_estimate.sh, scripts/heldout_learned.sh)")


def report(source: str, gold: list, methods: list, note: str = "") -> str:
    """The evaluation table: every method side by side, then the first method's stage confusion table.

    `note` (how the trained layer's training questions were treated) is printed under the header.
    """
    names = [m.name for m in methods]
    n_ml = sum(g.ml for g in gold)
    head = f"{'label':<20}{'metric':<8}" + "".join(f"{n:>11}" for n in names)
    lines = [f"scores on {source}: n={len(gold)} questions (ml=yes: {n_ml})"] + ([f"note: {note}"] if note else [])
    lines += ["", head, "-" * len(head)]
    binaries = [binary_scores(gold, m.guesses) for m in methods]
    support = binary_scores(gold, methods[0].guesses)
    for label in ("notebook-any", *PLATFORMS, "ml"):
        s = support[label]
        if label in PLATFORMS and s.tp + s.fn == 0 and s.fp == 0:
            continue
        for metric in ("P", "R", "F1"):
            cells = []
            for m, b in zip(methods, binaries):
                value = {"P": b[label].precision, "R": b[label].recall, "F1": b[label].f1}[metric]
                cells.append(f"{'-':>11}" if m.name == "majority" else f"{value:>11.3f}")
            tag = f"{label} ({s.tp + s.fn})" if metric == "P" else ""
            lines.append(f"{tag:<20}{metric:<8}" + "".join(cells))
    stage = [stage_scores(gold, m.guesses) for m in methods]
    lines.append(f"{'stage':<20}{'acc':<8}" + "".join(f"{a:>11.3f}" for a, _, _ in stage))
    lines.append(f"{'(gold ml=yes)':<20}{'macroF1':<8}" + "".join(f"{f:>11.3f}" for _, f, _ in stage))
    lines += ["", f"primary stage, {names[0]} (gold ml=yes questions):", confusion(gold, methods[0].guesses)]
    if str(source).endswith(DEVELOPMENT_SET):
        lines += ["", CAVEAT]
    return "\n".join(lines)
