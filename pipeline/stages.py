"""Lifecycle stages: which stages topics are about, and which stages notebook ML questions skip.

Reads `question_labels`, `question_text`, `topics`, `question_topics`; writes `topic_stages` and
`stage_coverage` (pipeline/sql/stages.sql) in one transaction.

Two views, both stored:
- question level (the counts): each ML question counts once, under its classified primary
  stage, so shares over the 15 stages add up to 1. Notebook ML questions are compared with
  non-notebook ML questions of the same sites and years (the baseline); see pipeline/coverage.py.
  Rows per site, and pooled over the sites that have notebook ML questions (site '*').
- topic level (a second view): each topic gets stages from its members' labels and its terms
  (`map_topic`); a stage's topic coverage is the notebook ML questions in topics whose main stage
  it is. Reviewers can correct the mapping in a CSV (`read_overrides`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

import duckdb
import pandas as pd
import yaml

from pipeline.coverage import StageCount, coverage
from pipeline.db import transaction
from pipeline.errors import StackmineError
from pipeline.selection import Selection, selected_questions_sql
from pipeline.stage_overrides import Override, read_overrides

log = logging.getLogger(__name__)

# Codebook v1 order (../shared/CODEBOOK.md §3); tests check it equals pipeline.evaluate.STAGES.
STAGES = (
    "problem-formulation", "data-collection", "data-preparation", "data-labelling", "feature-engineering",
    "model-training", "model-evaluation", "fairness-bias", "interpretability", "documentation-provenance",
    "pretrained-reuse", "deployment", "monitoring", "privacy-security", "environment",
)
MAPPING_VERSION = "topic-stages-v1"
COVERAGE_VERSION = "coverage-v1"
MEMBER_WEIGHT, TERM_WEIGHT = 0.7, 0.3  # members' labels are direct evidence; terms are a hint
SECONDARY_MIN = 0.2  # further stages of a topic need this score (rank 1 is always kept)
MAX_STAGES = 3
LEXICON = "stages.v1.yaml"


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
    raw = yaml.safe_load((resources.files("pipeline") / "rules" / LEXICON).read_text(encoding="utf-8"))
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
    member_rows = con.execute(
        "SELECT q.topic_id, l.stage, l.stage2 FROM question_topics q JOIN question_labels l USING (site, post_id) "
        "WHERE q.topic_model_id = ? AND l.ml AND q.topic_id >= 0",
        [topic_model_id],
    ).fetchall()
    members: dict[int, dict[str, float]] = {}
    for topic_id, stage, stage2 in member_rows:
        counts = members.setdefault(topic_id, {})
        counts[stage] = counts.get(stage, 0.0) + 1.0
        if stage2:
            counts[stage2] = counts.get(stage2, 0.0) + 0.5
    topics = con.execute(
        "SELECT topic_id, terms, weights FROM topics WHERE topic_model_id = ? AND topic_id >= 0 ORDER BY topic_id",
        [topic_model_id],
    ).fetchall()
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


def latest_topic_model(con: duckdb.DuckDBPyConnection, selection: Selection) -> str | None:
    """The newest topic model fitted on exactly this selection, if any."""
    row = con.execute(
        "SELECT topic_model_id FROM topic_models WHERE selection = ?::JSON ORDER BY created DESC, topic_model_id LIMIT 1",
        [selection.describe()],
    ).fetchall()
    return row[0][0] if row else None


def _labelled(con: duckdb.DuckDBPyConnection, selection: Selection) -> pd.DataFrame:
    """ML questions of the selection's sites/years/filter, notebook or not, with their labels."""
    both = replace(selection, notebook=None, ml=True, platforms=())
    sql, params = selected_questions_sql(
        both, "l.site, l.post_id, year(t.creation_date) AS year, l.platforms, l.notebook, l.stage, l.classifier_version"
    )
    frame = con.execute(sql, params).fetch_df()
    if selection.platforms:  # a platform filter narrows the notebook side only; the baseline has no platform
        keep = frame["platforms"].map(lambda p: bool(set(p) & set(selection.platforms)))
        frame = frame[~frame["notebook"] | keep]
    if selection.notebook is False:
        raise StackmineError("stages compares notebook questions with the rest; drop --notebook no")
    return frame


def _groups(frame: pd.DataFrame) -> list[tuple[str, str, str, pd.DataFrame, pd.DataFrame]]:
    """(site, scope, group, notebook rows, baseline rows) for every group the table reports.

    The pooled rows (site '*') draw on sites that have notebook ML questions only: a site where
    notebooks never come up (ai.stackexchange.com in 2017) would otherwise fill the baseline
    with its own mix of stages (there: conceptual problem-formulation questions) and make a
    site difference look like a notebook difference.
    """
    out = []
    for site in ["*"] + sorted(frame["site"].unique()):
        rows = pooled(frame) if site == "*" else frame[frame["site"] == site]
        nb, base = rows[rows["notebook"]], rows[~rows["notebook"]]
        out.append((site, "all", "all", nb, base))
        platforms = sorted({p for ps in nb["platforms"] for p in ps})
        for platform in platforms:
            out.append((site, "platform", platform, nb[nb["platforms"].map(lambda ps, p=platform: p in ps)], base))
        for year in sorted(rows["year"].unique()):
            out.append((site, "year", str(year), nb[nb["year"] == year], base[base["year"] == year]))
    return out


def pooled(frame: pd.DataFrame) -> pd.DataFrame:
    """Questions of the sites that have at least one notebook ML question."""
    return frame[frame["site"].isin(set(frame.loc[frame["notebook"], "site"]))]


def coverage_table(frame: pd.DataFrame) -> pd.DataFrame:
    """All coverage rows (every group × all 15 stages) from labelled ML questions."""
    records = []
    for site, scope, group, nb, base in _groups(frame):
        nb_counts, base_counts = nb["stage"].value_counts(), base["stage"].value_counts()
        for stage in STAGES:
            count = StageCount(stage, int(nb_counts.get(stage, 0)), len(nb), int(base_counts.get(stage, 0)), len(base))
            records.append({"site": site, "scope": scope, "grp": group, **coverage(count).__dict__})
    return pd.DataFrame.from_records(records)


def topic_view(con: duckdb.DuckDBPyConnection, topic_model_id: str, rows: list[TopicStage], notebook: pd.DataFrame) -> pd.DataFrame:
    """Per (site, stage): topics whose main stage it is, and the notebook ML questions in them."""
    main = pd.DataFrame([(r.topic_id, r.stage) for r in rows if r.rank == 1], columns=["topic_id", "stage"])
    assigned = con.execute(
        "SELECT site, post_id, topic_id FROM question_topics WHERE topic_model_id = ? AND topic_id >= 0", [topic_model_id]
    ).fetch_df()
    assigned = assigned.merge(notebook[["site", "post_id"]], on=["site", "post_id"]).merge(main, on="topic_id")
    records = []
    for site in ["*"] + sorted(notebook["site"].unique()):
        part = assigned if site == "*" else assigned[assigned["site"] == site]
        for stage in STAGES:
            mine = part[part["stage"] == stage]
            records.append({"site": site, "stage": stage, "n_topics": int((main["stage"] == stage).sum()),
                            "topic_questions": len(mine), "topic_share": len(mine) / len(part) if len(part) else None})
    return pd.DataFrame.from_records(records)


@dataclass(frozen=True)
class StagesRun:
    """Outcome of `run_stages`, for the CLI."""

    topic_model_id: str | None
    n_notebook: int
    n_baseline: int  # of the pooled ('*') comparison
    coverage_rows: int
    topic_rows: int


def run_stages(
    con: duckdb.DuckDBPyConnection, selection: Selection, topic_model_id: str | None = None, overrides: Path | None = None
) -> StagesRun:
    """Map topics to stages and compute coverage; replace both outputs for the selection's sites at once."""
    frame = _labelled(con, selection)
    table = coverage_table(frame)
    topic_model_id = topic_model_id or latest_topic_model(con, selection)
    rows: list[TopicStage] = []
    if topic_model_id:
        reviewed = read_overrides(overrides or _default_overrides(), STAGES)
        rows = map_topics(con, topic_model_id, reviewed)
        view = topic_view(con, topic_model_id, rows, frame[frame["notebook"]])
        table = table.merge(view.assign(scope="all", grp="all"), on=["site", "scope", "grp", "stage"], how="left")
        table["topic_model_id"] = table["n_topics"].map(lambda v: None if pd.isna(v) else topic_model_id)
    else:
        log.warning("no topic model for this selection: run `stackmine topics` first for the topic view")
        table = table.assign(topic_model_id=None, n_topics=None, topic_questions=None, topic_share=None)
    table["classifier_version"] = "+".join(sorted(frame["classifier_version"].unique())) or "none"
    table["coverage_version"] = COVERAGE_VERSION
    _write(con, topic_model_id, rows, table, sorted(frame["site"].unique()))
    both = pooled(frame)
    return StagesRun(topic_model_id, int(both["notebook"].sum()), int((~both["notebook"]).sum()), len(table), len(rows))


def _default_overrides() -> Path:
    return Path(str(resources.files("pipeline") / "rules" / "topic_stage_overrides.csv"))


COVERAGE_COLUMNS = (
    "site", "scope", "grp", "stage", "n_notebook", "total_notebook", "share_notebook", "n_baseline", "total_baseline",
    "share_baseline", "diff", "ci_low", "ci_high", "verdict", "topic_model_id", "n_topics", "topic_questions",
    "topic_share", "classifier_version", "coverage_version",
)


def _write(con: duckdb.DuckDBPyConnection, model_id: str | None, rows: list[TopicStage], table: pd.DataFrame, sites: list[str]) -> None:
    topic_rows = pd.DataFrame(
        [(model_id, r.topic_id, r.rank, r.stage, r.score, r.source, json.dumps(r.evidence, sort_keys=True), MAPPING_VERSION)
         for r in rows],
        columns=["topic_model_id", "topic_id", "rank", "stage", "score", "source", "evidence", "mapping_version"],
    )
    coverage_rows = table[list(COVERAGE_COLUMNS)]
    with transaction(con):
        con.execute("DELETE FROM topic_stages WHERE topic_model_id NOT IN (SELECT topic_model_id FROM topic_models)")
        if model_id:
            con.execute("DELETE FROM topic_stages WHERE topic_model_id = ?", [model_id])
        con.execute("DELETE FROM stage_coverage WHERE site IN (SELECT unnest(?::VARCHAR[]))", [["*", *sites]])
        con.register("new_topic_stages", topic_rows)
        con.register("new_coverage", coverage_rows)
        try:
            con.execute("INSERT INTO topic_stages SELECT topic_model_id, topic_id, rank, stage, score, source, evidence::JSON, "
                        "mapping_version FROM new_topic_stages")
            con.execute("INSERT INTO stage_coverage SELECT * FROM new_coverage")
        finally:
            con.unregister("new_topic_stages")
            con.unregister("new_coverage")


def read_coverage(con: duckdb.DuckDBPyConnection, site: str = "*", scope: str = "all") -> pd.DataFrame:
    """Stored coverage rows of one site (or '*') and scope, in codebook stage order."""
    frame = con.execute(
        "SELECT * FROM stage_coverage WHERE site = ? AND scope = ? ORDER BY grp", [site, scope]
    ).fetch_df()
    frame["order"] = frame["stage"].map(STAGES.index)
    return frame.sort_values(["grp", "order"], kind="stable").drop(columns="order").reset_index(drop=True)
