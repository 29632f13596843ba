"""Lifecycle stages: which stages topics are about, and which stages notebook ML questions skip.

Reads `question_labels`, `question_text`, `topics`, `question_topics`; writes `topic_stages` and
`stage_coverage` (pipeline/coverage/sql/tables.sql) in one transaction.

Two views, both stored:
- question level (the counts): each ML question counts once, under its classified primary
  stage, so shares over the 15 stages add up to 1. Notebook ML questions are compared with
  non-notebook ML questions of the same sites and years (the baseline); see pipeline/coverage/stats.py.
  Rows per site, and pooled over the sites that have notebook ML questions (site '*').
- topic level (a second view): each topic gets stages from its members' labels and its terms
  (`map_topic`); a stage's topic coverage is the notebook ML questions in topics whose main stage
  it is. Reviewers can correct the mapping in a CSV (`read_overrides`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import pandas as pd

from pipeline.core.codebook import STAGES
from pipeline.core.db import registered, transaction
from pipeline.core.errors import StackmineError
from pipeline.core.selection import Selection, selection_rows
from pipeline.core.step import Scope
from pipeline.coverage import STEP
from pipeline.coverage.mapping import MAPPING_VERSION, TopicStage, map_topics
from pipeline.coverage.overrides import read_overrides
from pipeline.coverage.stats import StageCount, coverage
from pipeline.topics.store import latest_model

log = logging.getLogger(__name__)

SQL = STEP.sql()
COVERAGE_VERSION = STEP.version


def _labelled(con: duckdb.DuckDBPyConnection, selection: Selection) -> pd.DataFrame:
    """ML questions of the selection's sites/years/filter, notebook or not, with their labels."""
    both = replace(selection, notebook=None, ml=True, platforms=())
    frame = selection_rows(
        con, both, "l.site, l.post_id, year(t.creation_date) AS year, l.platforms, l.notebook, l.stage, l.classifier_version"
    )
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
    assigned = con.execute(SQL("assigned_topics"), [topic_model_id]).fetch_df()
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
    topic_model_id = topic_model_id or latest_model(con, selection)
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
    return Path(STEP.rule_file(STEP.rules[0]))


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
        con.execute(SQL("delete_orphan_topic_stages"))
        if model_id:
            con.execute(SQL("delete_topic_stages"), [model_id])
        con.execute(SQL("delete_coverage"), [["*", *sites]])
        with registered(con, new_topic_stages=topic_rows, new_coverage=coverage_rows):
            con.execute(SQL("insert_topic_stages"))
            con.execute(SQL("insert_coverage"))


def read_coverage(con: duckdb.DuckDBPyConnection, site: str = "*", scope: str = "all") -> pd.DataFrame:
    """Stored coverage rows of one site (or '*') and scope, in codebook stage order."""
    frame = con.execute(SQL("read_coverage"), [site, scope]).fetch_df()
    frame["order"] = frame["stage"].map(STAGES.index)
    return frame.sort_values(["grp", "order"], kind="stable").drop(columns="order").reset_index(drop=True)


def run(con: duckdb.DuckDBPyConnection, scope: Scope, selection: Selection, topic_model_id: str | None = None,
        overrides: Path | None = None) -> int:
    """The stages step for a selection: its coverage rows."""
    return run_stages(con, selection, topic_model_id, overrides).coverage_rows
