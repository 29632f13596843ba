"""The stages step: which lifecycle stages notebook ML questions discuss more, less or rarely than
other ML questions, corrected for what the classifier gets wrong.

Reads `question_labels`, `question_text`, `topics`, `question_topics` and two reviewed files of
this package: `rules/gold_predictions.csv` (the classifier's labels of gold-labelled questions it
never saw, which measure its errors) and `rules/verdicts.v1.json` (the verdict rules). Writes
`topic_stages` and the selection's rows of `stage_coverage` in one transaction; other selections'
rows stay (a table is keyed by `selection_id`).

Question level: every question of a group counts under its predicted class (its primary stage,
or `none` when the classifier says it is not ML). The corrected shares undo the classifier's
known errors (pipeline/coverage/estimates.py), including questions its ML filter lost; the raw
shares (the classifier's counts among its ML questions) stand beside them with their Newcombe
interval, which takes the labels as true. Notebook questions are compared with the non-notebook
questions of the same sites and years; site '*' pools the sites that have notebook ML questions.

Topic level (a second view): each topic gets stages from its members' labels and its terms
(pipeline/coverage/mapping.py), checked against the gold labels of its members where there are
any; a topic whose mapping disagrees with them is flagged for review.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from pipeline.core.codebook import NO_STAGE, STAGES
from pipeline.core.db import registered, transaction
from pipeline.core.errors import CoverageError, StackmineError
from pipeline.core.selection import Selection, selection_counts
from pipeline.core.step import Scope
from pipeline.coverage import STEP
from pipeline.coverage.mapping import MAPPING_VERSION, TopicStage, map_topics
from pipeline.coverage.overrides import read_overrides
from pipeline.coverage.stats import newcombe
from pipeline.topics.store import latest_model

log = logging.getLogger(__name__)

SQL = STEP.sql()
COVERAGE_VERSION = STEP.version
NOT_ML = "not-ml"
# True classes (the gold's) and predicted classes (the classifier's): a question outside ML is
# modelled too, so the correction also undoes the ML filter's stage-dependent losses.
TRUE_CLASSES = STAGES + (NOT_ML,)
PRED_CLASSES = STAGES + (NO_STAGE,)
OVERRIDES, GOLD_PREDICTIONS = "rules/topic_stage_overrides.csv", "rules/gold_predictions.csv"
# A topic's mapping is flagged when fewer than half of its gold-labelled members (at least this
# many) have its main stage as their primary or second stage.
REVIEW_MIN_GOLD, REVIEW_AGREEMENT = 3, 0.5
GROUP_COLUMNS = ("l.site, year(t.creation_date) AS year, l.notebook, l.platforms, "
                 "CASE WHEN l.ml THEN l.stage ELSE 'none' END AS pred, l.classifier_version")


def selection_id(selection: Selection) -> str:
    """The key of a selection's rows: 16 hex of the SHA-256 of its JSON."""
    return hashlib.sha256(selection.describe().encode()).hexdigest()[:16]


def gold_predictions(path: Path | None = None) -> pd.DataFrame:
    """The classifier's labels of gold questions it was not trained on, with the gold labels,
    sampling strata and design weights (written by scripts/train_classifier.py)."""
    frame = pd.read_csv(path or STEP.rule_file(GOLD_PREDICTIONS), dtype={"post_id": "int64"}, keep_default_na=False)
    frame["true"] = frame["gold_stage"].where(frame["gold_ml"] == "yes", NOT_ML)
    frame["pred"] = frame["pred_stage"].where(frame["pred_ml"] == "yes", NO_STAGE)
    return frame


def error_model(classifier_versions: list[str], path: Path | None = None):
    """The classifier's confusion model for the estimator, from its predictions on gold questions.

    The labels being corrected must come from the classifier whose errors were measured: another
    version errs differently, and correcting its counts with these errors would be wrong.
    """
    from pipeline.coverage.confusion import make_gold
    from pipeline.coverage.estimates import prepare
    from pipeline.coverage.verdicts import shipped_rules

    pairs = gold_predictions(path)
    measured = sorted(set(pairs["classifier_version"]))
    if sorted(set(classifier_versions)) != measured:
        raise CoverageError(
            f"the labels were made by {', '.join(sorted(set(classifier_versions)))}, but the classifier's errors "
            f"were measured for {', '.join(measured)} ({STEP.package.replace('.', '/')}/{GOLD_PREDICTIONS}). "
            "Run `stackmine classify` to relabel with the shipped classifier. The database was not changed.")
    gold = make_gold(pairs["true"].tolist(), pairs["pred"].tolist(), true_classes=TRUE_CLASSES,
                     pred_classes=PRED_CLASSES, weights=pairs["weight"].tolist(), strata=pairs["stratum"].tolist())
    return prepare(gold, outside=(NOT_ML, NO_STAGE), rules=shipped_rules())


def question_counts(con: duckdb.DuckDBPyConnection, selection: Selection) -> pd.DataFrame:
    """Questions of the selection's sites, years and filter, notebook or not, ML or not, counted
    by (site, year, notebook, platforms, predicted class)."""
    if selection.notebook is False:
        raise StackmineError("stages compares notebook questions with the rest; drop --notebook no")
    if selection.ml is False:
        raise StackmineError("stages is about ML questions' lifecycle stages; drop --ml no")
    everything = replace(selection, notebook=None, ml=None, platforms=())
    frame = selection_counts(con, everything, GROUP_COLUMNS)
    if selection.platforms:  # a platform filter narrows the notebook side only; the baseline has no platform
        keep = frame["platforms"].map(lambda p: bool(set(p) & set(selection.platforms)))
        frame = frame[~frame["notebook"] | keep]
    return frame.reset_index(drop=True)


def pooled(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of the sites that have at least one notebook ML question.

    A site where notebooks never come up (ai.stackexchange.com in 2017) would otherwise fill the
    pooled baseline with its own mix of stages (there: conceptual problem-formulation questions)
    and make a site difference look like a notebook difference.
    """
    with_notebook_ml = frame[frame["notebook"] & (frame["pred"] != NO_STAGE)]["site"]
    return frame[frame["site"].isin(set(with_notebook_ml))]


def groups(frame: pd.DataFrame) -> list[tuple[str, str, str, pd.DataFrame, pd.DataFrame]]:
    """(site, scope, group, notebook rows, baseline rows) of every group the table reports."""
    out = []
    for site in ["*"] + sorted(frame["site"].unique()):
        rows = pooled(frame) if site == "*" else frame[frame["site"] == site]
        nb, base = rows[rows["notebook"]], rows[~rows["notebook"]]
        out.append((site, "all", "all", nb, base))
        for platform in sorted({p for ps in nb["platforms"] for p in ps}):
            out.append((site, "platform", platform, nb[nb["platforms"].map(lambda ps, p=platform: p in ps)], base))
        for year in sorted(rows["year"].unique()):
            out.append((site, "year", str(year), nb[nb["year"] == year], base[base["year"] == year]))
    return out


def comparisons(frame: pd.DataFrame) -> list:
    """The estimator's comparisons: each group's counts per predicted class, notebook vs baseline."""
    from pipeline.coverage.estimates import Comparison, Group

    def counted(key: str, rows: pd.DataFrame) -> Group:
        counts = rows.groupby("pred")["n"].sum().reindex(PRED_CLASSES, fill_value=0)
        return Group(key, counts=counts.to_numpy(dtype=float))

    return [Comparison(site, scope, grp, counted(f"{site}/{scope}/{grp}/notebook", nb),
                       counted(f"{site}/{scope}/{grp}/baseline", base))
            for site, scope, grp, nb, base in groups(frame)]


def with_raw_intervals(table: pd.DataFrame) -> pd.DataFrame:
    """Raw shares' difference and its 95% Newcombe interval: sampling error only, labels taken as true."""
    raw = [newcombe(r.n_notebook, r.total_notebook, r.n_baseline, r.total_baseline)
           if r.total_notebook and r.total_baseline else (None, None, None) for r in table.itertuples()]
    return table.assign(raw_diff=[d for d, _, _ in raw], raw_diff_low=[lo for _, lo, _ in raw],
                        raw_diff_high=[hi for _, _, hi in raw])


def topic_view(con: duckdb.DuckDBPyConnection, topic_model_id: str, rows: list[TopicStage]) -> pd.DataFrame:
    """Per (site, stage): topics whose main stage it is, and the notebook ML questions in them."""
    main = pd.DataFrame([(r.topic_id, r.stage) for r in rows if r.rank == 1], columns=["topic_id", "stage"])
    assigned = con.execute(SQL("assigned_notebook_ml"), [topic_model_id]).fetch_df().merge(main, on="topic_id")
    records = []
    for site in ["*"] + sorted(assigned["site"].unique()):
        part = assigned if site == "*" else assigned[assigned["site"] == site]
        for stage in STAGES:
            mine = part[part["stage"] == stage]
            records.append({"site": site, "stage": stage, "n_topics": int((main["stage"] == stage).sum()),
                            "topic_questions": len(mine), "topic_share": len(mine) / len(part) if len(part) else None})
    return pd.DataFrame.from_records(records)


def gold_check(con: duckdb.DuckDBPyConnection, topic_model_id: str, rows: list[TopicStage],
               gold: pd.DataFrame) -> list[TopicStage]:
    """The mapping checked against the gold labels of each topic's members: how many members have
    a gold label, the share of those whose primary or second gold stage is the topic's main
    stage, and whether the topic needs review (REVIEW_MIN_GOLD or more of them, agreement below
    REVIEW_AGREEMENT). Kept in each main-stage row's evidence."""
    members = con.execute(SQL("topic_member_ids"), [topic_model_id]).fetch_df()
    labelled = members.merge(gold[["site", "post_id", "gold_ml", "gold_stage", "gold_stage2"]], on=["site", "post_id"])
    out = []
    for row in rows:
        if row.rank != 1:
            out.append(row)
            continue
        mine = labelled[labelled["topic_id"] == row.topic_id]
        agree = ((mine["gold_stage"] == row.stage) | (mine["gold_stage2"] == row.stage)).sum()
        share = float(agree / len(mine)) if len(mine) else None
        review = bool(len(mine) >= REVIEW_MIN_GOLD and share < REVIEW_AGREEMENT)
        stages = mine.loc[mine["gold_ml"] == "yes", "gold_stage"].value_counts()
        check = {"gold_questions": len(mine), "gold_agreement": None if share is None else round(share, 4),
                 "gold_stages": {s: int(n) for s, n in stages.items()}, "needs_review": review}
        out.append(replace(row, evidence={**row.evidence, "gold_check": check}))
    return out


@dataclass(frozen=True)
class StagesRun:
    """Outcome of `run_stages`, for the CLI."""

    selection_id: str
    topic_model_id: str | None
    n_notebook: int  # ML questions, of the pooled ('*') comparison
    n_baseline: int
    coverage_rows: int
    topic_rows: int
    flagged: list[TopicStage]


def run_stages(con: duckdb.DuckDBPyConnection, selection: Selection, topic_model_id: str | None = None,
               overrides: Path | None = None, gold: Path | None = None) -> StagesRun:
    """Map topics to stages and compute corrected coverage; replace both outputs of the selection at once."""
    from pipeline.coverage.estimates import coverage_table

    frame = question_counts(con, selection)
    versions = sorted(frame["classifier_version"].unique())
    # One BLAS thread: a multi-threaded matrix product sums in an order that depends on the
    # threads, which changed the last digits of stored shares from run to run (and so the bytes
    # of an export's stage_coverage.csv). The matrices are 16 x 16; threads buy nothing here.
    with threadpool_limits(limits=1):
        table = with_raw_intervals(coverage_table(error_model(versions, gold), comparisons(frame), PRED_CLASSES))
    topic_model_id = topic_model_id or latest_model(con, selection)
    rows: list[TopicStage] = []
    if topic_model_id:
        reviewed = read_overrides(overrides or Path(STEP.rule_file(OVERRIDES)), STAGES)
        rows = gold_check(con, topic_model_id, map_topics(con, topic_model_id, reviewed), gold_predictions(gold))
        view = topic_view(con, topic_model_id, rows).assign(scope="all", grp="all")
        table = table.merge(view, on=["site", "scope", "grp", "stage"], how="left")
        table["topic_model_id"] = table["n_topics"].map(lambda v: None if pd.isna(v) else topic_model_id)
    else:
        log.warning("no topic model for this selection: run `stackmine topics` first for the topic view")
        table = table.assign(topic_model_id=None, n_topics=None, topic_questions=None, topic_share=None)
    key = selection_id(selection)
    table = table.assign(selection_id=key, selection=selection.describe(),
                         classifier_version="+".join(versions) or "none", coverage_version=COVERAGE_VERSION)
    _write(con, key, topic_model_id, rows, table)
    first = table[(table["site"] == "*") & (table["scope"] == "all")]
    n_nb, n_base = (int(first["total_notebook"].iloc[0]), int(first["total_baseline"].iloc[0])) if len(first) else (0, 0)
    flagged = [r for r in rows if r.rank == 1 and r.evidence.get("gold_check", {}).get("needs_review")]
    return StagesRun(key, topic_model_id, n_nb, n_base, len(table), len(rows), flagged)


def _write(con: duckdb.DuckDBPyConnection, key: str, model_id: str | None, rows: list[TopicStage],
           table: pd.DataFrame) -> None:
    topic_rows = pd.DataFrame(
        [(model_id, r.topic_id, r.rank, r.stage, r.score, r.source, json.dumps(r.evidence, sort_keys=True), MAPPING_VERSION)
         for r in rows],
        columns=["topic_model_id", "topic_id", "rank", "stage", "score", "source", "evidence", "mapping_version"],
    )
    columns = [c for (c,) in con.execute(SQL("coverage_columns")).fetchall()]
    coverage_rows = table[columns].replace({np.nan: None})
    with transaction(con):
        con.execute(SQL("delete_orphan_topic_stages"))
        if model_id:
            con.execute(SQL("delete_topic_stages"), [model_id])
        con.execute(SQL("delete_coverage"), [key])
        with registered(con, new_topic_stages=topic_rows, new_coverage=coverage_rows):
            con.execute(SQL("insert_topic_stages"))
            con.execute(SQL("insert_coverage"))


def read_coverage(con: duckdb.DuckDBPyConnection, selection: Selection | None = None, site: str = "*",
                  scope: str = "all") -> pd.DataFrame:
    """Stored coverage rows of a selection (default: the study's), one site (or '*') and scope,
    in codebook stage order."""
    frame = con.execute(SQL("read_coverage"), [selection_id(selection or Selection()), site, scope]).fetch_df()
    frame["order"] = frame["stage"].map(STAGES.index)
    return frame.sort_values(["grp", "order"], kind="stable").drop(columns="order").reset_index(drop=True)


def write_review(path: Path, flagged: list[TopicStage], model_id: str) -> int:
    """The flagged topics as rows in the overrides file's format, for a reviewer to complete (the
    reviewer column left empty, the suggested stage the most common gold stage of its members)."""
    from pipeline.coverage.overrides import COLUMNS

    with Path(path).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        for row in flagged:
            check = row.evidence["gold_check"]
            suggested = max(check["gold_stages"], key=check["gold_stages"].get) if check["gold_stages"] else row.stage
            note = (f"flagged: mapped to {row.stage}, but {check['gold_agreement']:.0%} of its "
                    f"{check['gold_questions']} gold-labelled members agree; their stages {check['gold_stages']}")
            writer.writerow([model_id, row.topic_id, suggested, "", "", note])
    return len(flagged)


def run(con: duckdb.DuckDBPyConnection, scope: Scope, selection: Selection, topic_model_id: str | None = None,
        overrides: Path | None = None) -> StagesRun:
    """The stages step for a selection."""
    return run_stages(con, selection, topic_model_id, overrides)
