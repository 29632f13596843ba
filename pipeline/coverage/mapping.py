"""Topics → lifecycle stages: which stages a topic is about, from its members' labels and its terms.

Each topic gets stages scored by 0.7 × the share of its ML members with the stage (a secondary
stage counts 0.5) + 0.3 × the share of its top terms in the classifier's stage lexicon; reviewers
can correct the mapping in a CSV (pipeline/coverage/overrides.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import yaml

from pipeline.classify import STEP as CLASSIFY
from pipeline.core.codebook import STAGES
from pipeline.core.errors import StackmineError
from pipeline.core.sql import SqlFile
from pipeline.coverage.overrides import Override

SQL = SqlFile("pipeline.coverage", "coverage.sql")
MAPPING_VERSION = "topic-stages-v1"
MEMBER_WEIGHT, TERM_WEIGHT = 0.7, 0.3  # members' labels are direct evidence; terms are a hint
SECONDARY_MIN = 0.2  # further stages of a topic need this score (rank 1 is always kept)
MAX_STAGES = 3
# The classifier's stage lexicon: topic terms are read with the same words.
LEXICON = next(name for name in CLASSIFY.rules if name.startswith("rules/stages."))


@dataclass(frozen=True)
class TopicStage:
    """One row of `topic_stages`."""

    topic_id: int
    rank: int
    stage: str
    score: float
    source: str
    evidence: dict


def stage_terms() -> dict[str, dict[str, int]]:
    """One-word terms of the classifier's stage lexicon (strong 2, weak 1), to read topic terms with."""
    raw = yaml.safe_load(Path(CLASSIFY.rule_file(LEXICON)).read_text(encoding="utf-8"))
    terms: dict[str, dict[str, int]] = {}
    for stage, entry in raw["stages"].items():
        found: dict[str, int] = {}
        for strength, weight in (("weak", 1), ("strong", 2)):
            for phrase in (entry.get(strength) or {}).get("phrases", []):
                if " " not in phrase and phrase.isalnum():
                    found[phrase.lower()] = weight
        terms[stage] = found
    return terms


def map_topic(members: dict[str, float], terms: list[tuple[str, float]], lexicon: dict[str, dict[str, int]]) -> list[TopicStage]:
    """Stages of one topic: 0.7 × member share + 0.3 × term share, best first (ties: codebook order).

    `members` maps stage → weighted member count (primary 1, secondary 0.5).
    """
    total_members = sum(members.values())
    term_scores = {s: sum(w * lexicon.get(s, {}).get(t, 0) for t, w in terms) for s in STAGES}
    total_terms = sum(term_scores.values())
    scored = []
    for stage in STAGES:
        member_share = members.get(stage, 0.0) / total_members if total_members else 0.0
        term_share = term_scores[stage] / total_terms if total_terms else 0.0
        matched = [t for t, _ in terms if t in lexicon.get(stage, {})]
        score = MEMBER_WEIGHT * member_share + TERM_WEIGHT * term_share
        evidence = {"member_share": round(member_share, 4), "members": round(members.get(stage, 0.0), 1),
                    "members_total": round(total_members, 1), "term_share": round(term_share, 4), "terms": matched}
        scored.append((round(score, 6), stage, evidence))
    scored.sort(key=lambda item: (-item[0], STAGES.index(item[1])))
    kept = [scored[0]] + [item for item in scored[1:MAX_STAGES] if item[0] >= SECONDARY_MIN]
    return [TopicStage(-1, rank, stage, score, "members+terms", ev) for rank, (score, stage, ev) in enumerate(kept, 1)]


def map_topics(con: duckdb.DuckDBPyConnection, topic_model_id: str, overrides: list[Override]) -> list[TopicStage]:
    """Every topic's stages (outliers excluded), with reviewed overrides applied."""
    lexicon = stage_terms()
    member_rows = con.execute(SQL("topic_members"), [topic_model_id]).fetchall()
    members: dict[int, dict[str, float]] = {}
    for topic_id, stage, stage2 in member_rows:
        counts = members.setdefault(topic_id, {})
        counts[stage] = counts.get(stage, 0.0) + 1.0
        if stage2:
            counts[stage2] = counts.get(stage2, 0.0) + 0.5
    topics = con.execute(SQL("topic_terms"), [topic_model_id]).fetchall()
    by_topic = {o.topic_id: o for o in overrides if o.topic_model_id == topic_model_id}
    unknown = sorted(set(by_topic) - {t for t, _, _ in topics})
    if unknown:
        first = by_topic[unknown[0]]
        raise StackmineError(
            f"{first.path}, line {first.line}: topic {unknown[0]} is not a topic of model {topic_model_id}. "
            "Check the topic ids: `stackmine topics` lists them. The database was not changed."
        )
    rows: list[TopicStage] = []
    for topic_id, terms, weights in topics:
        mapped = [replace(r, topic_id=topic_id) for r in map_topic(members.get(topic_id, {}), list(zip(terms, weights)), lexicon)]
        rows.extend(by_topic[topic_id].apply(mapped) if topic_id in by_topic else mapped)
    return rows
