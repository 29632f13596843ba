"""Hits → labels: the combination rules of each family, written once and documented in the YAML.

Every decision returns the hits behind it, so `question_labels.evidence` shows exactly why a
question got its labels (e.g. "tags:jupyter-notebook", "code:<ipython-input-3", "title:epochs").
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from pipeline.classify.learned import Prediction
from pipeline.core.codebook import PLATFORMS  # noqa: F401 - the order platforms are listed in
from pipeline.classify.lexicon import Hit, Rules



@dataclass(frozen=True)
class Labels:
    """One question's labels in codebook terms, with the evidence behind each."""

    platforms: list[str]
    ml: bool
    stage: str
    stage2: str | None
    evidence: dict
    ml_score: float = 0.0  # the rules' ml score (not stored): how sure the rules are


# A rules' ml score this high (two strong ML terms, e.g. an sklearn import and "cross validation")
# is left to the rules: on dev.csv all 73 such questions are ml=yes and the trained layer agreed
# on every one out-of-fold, so asking it costs time and changes nothing.
CONFIDENT_ML_SCORE = 4


def evidence_term(hit: Hit) -> str:
    """How a hit is shown to a researcher: place, colon, term."""
    return f"{hit.place}:{hit.term}"


def decide(hits: list[Hit], rules: Rules) -> Labels:
    """Labels of one question from all its hits."""
    families: dict[str, list[Hit]] = {"platforms": [], "ml": [], "stages": [], "shape": []}
    for hit in hits:  # one pass instead of a filter per family (this runs thousands of times a second)
        found = families.get(hit.family)
        if found is not None:
            found.append(hit)
    platforms, plat_evidence = decide_platforms(families["platforms"], rules)
    ml, ml_evidence, ml_score = decide_ml(families["ml"], rules)
    if ml:
        stage, stage2, stage_evidence = decide_stage(families["stages"], rules, families["shape"])
    else:
        stage, stage2, stage_evidence = "none", None, {}
    evidence = {"platforms": plat_evidence, "ml": ml_evidence, "stage": stage_evidence}
    return Labels(platforms, ml, stage, stage2, evidence, ml_score)


def decide_platforms(hits: list[Hit], rules: Rules) -> tuple[list[str], dict[str, list[str]]]:
    """Strong evidence labels a platform; weak only when no other platform is strong; kernel
    evidence goes to the hosted platforms found, else to jupyter; an IDE needs a notebook in view.
    """
    if not hits:
        return [], {}  # most questions: nothing chosen, no kernel evidence, so no IDE either
    hosted = set(rules.raw["platforms"]["hosted"])
    by: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for hit in hits:
        by[hit.strength][hit.label].append(evidence_term(hit))
    strong = set(by["strong"])
    chosen = set(strong)
    for label in by["weak"]:
        if not (strong - {label}):
            chosen.add(label)
    kernel = by["kernel"]["kernel"]
    evidence: dict[str, list[str]] = {p: list(by["strong"].get(p, [])) + list(by["weak"].get(p, [])) for p in chosen}
    if kernel:
        targets = (chosen & hosted) or {"jupyter"}
        for target in targets:
            evidence.setdefault(target, []).extend(kernel)
        chosen |= targets
    if kernel or "jupyter" in chosen:
        for label, terms in by["ide"].items():
            chosen.add(label)
            evidence.setdefault(label, []).extend(terms)
    labels = sorted(chosen)  # the table contract: codebook labels, sorted
    return labels, {p: sorted(set(evidence[p])) for p in labels}


def decide_ml(hits: list[Hit], rules: Rules) -> tuple[bool, list[str], float]:
    """Sum of weights of distinct terms (strong 2, weak 1; tags 1.5 / 0.5) against the threshold."""
    spec = rules.raw["ml"]
    weights = {"strong": 2, "weak": 1}
    seen: dict[str, int] = {}
    for hit in hits:
        term = hit.term.lower()
        weight = weights[hit.strength]
        if hit.place == "tags":
            weight = spec["weak_tag_weight"] if hit.strength == "weak" else spec["strong_tag_weight"]
        seen[term] = max(seen.get(term, 0), weight)
    score = sum(seen.values())
    return score >= spec["threshold"], sorted({evidence_term(h) for h in hits}), score


def decide_stage(hits: list[Hit], rules: Rules, shape: list[Hit] = ()) -> tuple[str, str | None, dict]:
    """Highest weighted score wins; the runner-up is secondary when close enough.

    `shape` hits (e.g. "no code") add to the stages the rule file names for them.
    """
    spec = rules.raw["stages"]
    factors = spec["factors"]
    weights = {"strong": 2, "weak": 1}
    best: dict[tuple[str, str], float] = {}
    terms: dict[str, list[str]] = defaultdict(list)
    hits = [h for h in hits if h.place not in spec["ignore_places"]]
    for label, bonus in spec["shape"].items():
        hits += [h._replace(label=label) for h in shape if h.label == bonus["when"]]
    for hit in hits:
        value = weights[hit.strength] * factors[hit.place]
        key = (hit.label, hit.term.lower())
        best[key] = max(best.get(key, 0.0), value)
        terms[hit.label].append(evidence_term(hit))
    scores: dict[str, float] = defaultdict(float)
    for (label, _term), value in best.items():
        scores[label] += value
    if not scores:
        return spec["default"], None, {"default": [spec["default"]]}
    order = {stage: i for i, stage in enumerate(spec["order"])}
    ranked = sorted(scores, key=lambda s: (-scores[s], order[s]))
    primary = ranked[0]
    stage2 = None
    if len(ranked) > 1:
        runner = ranked[1]
        if scores[runner] >= spec["secondary_ratio"] * scores[primary] and scores[runner] >= spec["secondary_min"]:
            stage2 = runner
    evidence = {s: sorted(set(terms[s])) for s in ranked[:3]}
    evidence["scores"] = {s: round(scores[s], 2) for s in ranked[:3]}
    return primary, stage2, evidence


def with_model(labels: Labels, prediction: Prediction | None, hits: list[Hit], rules: Rules) -> Labels:
    """The trained layer decides ml; platforms and the stage stay the rules'. The evidence keeps
    every rule hit, the rules' own ml decision and the layer's probability. Where the layer does
    not apply (`layer_applies`: no ML term, or the rules are sure) the rules' labels stand."""
    if prediction is None or not layer_applies(labels):
        return labels
    evidence = dict(labels.evidence)
    evidence["model"] = {"p_ml": prediction.p_ml, "rules_ml": labels.ml}
    if not prediction.ml:
        evidence["stage"] = {}
        return Labels(labels.platforms, False, "none", None, evidence, labels.ml_score)
    if labels.ml:
        return Labels(labels.platforms, True, labels.stage, labels.stage2, evidence, labels.ml_score)
    shape = [h for h in hits if h.family == "shape"]  # the rules skipped the stage: decide it now
    stage, stage2, evidence["stage"] = decide_stage([h for h in hits if h.family == "stages"], rules, shape)
    return Labels(labels.platforms, True, stage, stage2, evidence, labels.ml_score)


def layer_applies(labels: Labels) -> bool:
    """Whether the trained layer decides ml: the rules found an ML term but are not sure (no term:
    no, as the rules say; score >= CONFIDENT_ML_SCORE: yes, as the rules say)."""
    return bool(labels.evidence["ml"]) and labels.ml_score < CONFIDENT_ML_SCORE
