"""Hits → labels: the combination rules of each family, written once and documented in the YAML.

Every decision returns the hits behind it, so `question_labels.evidence` shows exactly why a
question got its labels (e.g. "tags:jupyter-notebook", "code:<ipython-input-3", "title:epochs").
"""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

from pipeline.classify.lexicon import Hit, Rules
from pipeline.classify.model import LayerPrediction
from pipeline.core.codebook import PLATFORMS  # noqa: F401 - the order platforms are listed in
from pipeline.core.codebook import STAGES  # the order of `Labels.p_stage` and `question_labels.p_stage`


class Labels(NamedTuple):
    """One question's labels in codebook terms, with the evidence behind each. A NamedTuple: one is
    made per question, and a frozen dataclass's __init__ costs about a microsecond more."""

    platforms: list[str]
    ml: bool
    stage: str
    stage2: str | None
    evidence: dict
    ml_score: float = 0.0  # the rules' ml score (not stored): how sure the rules are
    p_ml: float | None = None  # the trained layer's P(ml) (None: rules alone, or a question it was not asked about)
    # the layer's probability of each codebook stage (STAGES order) for questions it calls ML
    p_stage: tuple[float, ...] | None = None


def evidence_term(hit: Hit) -> str:
    """How a hit is shown to a researcher: place, colon, term."""
    return f"{hit.place}:{hit.term}"


def decide(hits: list[Hit], rules: Rules, rule_stage: bool = True) -> Labels:
    """Labels of one question from all its hits; `rule_stage=False` leaves the stage ("none") to
    the trained layer (`with_layer`) and saves the rules' stage scoring."""
    families: dict[str, list[Hit]] = {"platforms": [], "ml": [], "stages": [], "shape": []}
    for hit in hits:  # one pass instead of a filter per family (this runs thousands of times a second)
        found = families.get(hit.family)
        if found is not None:
            found.append(hit)
    platforms, plat_evidence = decide_platforms(families["platforms"], rules)
    ml, ml_evidence, ml_score = decide_ml(families["ml"], rules)
    if ml and rule_stage:
        stage, stage2, stage_evidence = decide_stage(families["stages"], rules, families["shape"])
    else:
        stage, stage2, stage_evidence = "none", None, {}
    evidence = {"platforms": plat_evidence, "ml": ml_evidence, "stage": stage_evidence}
    return Labels(platforms, ml, stage, stage2, evidence, ml_score)


def decide_platforms(hits: list[Hit], rules: Rules) -> tuple[list[str], dict[str, list[str]]]:
    """Strong evidence labels a platform; weak only when no other platform is strong; kernel
    evidence goes to the hosted platforms found, else to jupyter; an IDE needs a notebook in view;
    with link evidence (a shared notebook) title and prose mentions do not count.
    """
    if not hits:
        return [], {}  # most questions: nothing chosen, no kernel evidence, so no IDE either
    if any(hit.strength == "link" for hit in hits):
        # a shared notebook: mentions no longer count, tags and in-platform signs still do
        hits = [hit for hit in hits if hit.strength != "link" and not (
            hit.place in ("title", "prose", "inline") and hit.term in rules.platform_phrases)]
        if not hits:
            return [], {}
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


def with_layer(labels: Labels, prediction: LayerPrediction, stages: tuple[str, ...], hits: list[Hit]) -> Labels:
    """The trained layer decides ml and the stage; platforms stay the rules'. The evidence keeps the
    rules' hits and their own ml answer beside the layer's probabilities, and for an ML question the
    stage terms found and the layer's most probable stages."""
    if not labels.evidence["ml"]:  # not asked (no ML term): the rules' labels as they are (p_ml None)
        return labels
    evidence = dict(labels.evidence)
    evidence["model"] = {"p_ml": prediction.p_ml, "rules_ml": labels.ml}
    if not prediction.ml:
        evidence["stage"] = {}
        return Labels(labels.platforms, False, "none", None, evidence, labels.ml_score, prediction.p_ml)
    p_stage = prediction.p_stage
    evidence["stage"] = {"p": {stages[k]: p_stage[k] for k in prediction.ranked},
                         "terms": sorted({evidence_term(h) for h in hits if h.family == "stages"})}
    if stages != STAGES:  # a model trained without some stage: the codebook's order, 0 for those
        p_stage = tuple(dict(zip(stages, p_stage)).get(stage, 0.0) for stage in STAGES)
    return Labels(labels.platforms, True, prediction.stage, prediction.stage2, evidence, labels.ml_score,
                  prediction.p_ml, p_stage)
