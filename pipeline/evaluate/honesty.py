"""Honest scores for a classifier with a trained layer: never score a question it was trained on.

The shipped layer (pipeline/classify/models/classifier-lr.v1.json) was fitted on a gold file whose SHA-256
and question ids it stores. When `stackmine evaluate` is given that same file, the stored labels
of those questions (from the model that saw them) are replaced by out-of-fold ml labels: five fixed
folds, each predicted by a model refitted on the other four (pipeline/classify/learned_fit.py). When a
different gold file shares questions with the training set, those questions are left out of every
method's scores. Either way the printed header says which it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from pipeline.core.db import registered
from pipeline.core.sql import SqlFile
from pipeline.classify.learned import LearnedModel, Prediction, gold_sha256
from pipeline.classify.learned_fit import Example, featurize, out_of_fold
from pipeline.classify.lexicon import Scanner


SQL = SqlFile("pipeline.evaluate", "evaluate.sql")

@dataclass(frozen=True)
class Honesty:
    """What the evaluation does about the training set: which gold questions get out-of-fold
    labels (`refit`), which are left out (`dropped`), and the sentence printed about it."""

    refit: bool
    dropped: frozenset[tuple[str, int]]
    note: str


def honesty(gold: list, gold_path: Path, model: LearnedModel | None) -> Honesty:
    """Decide how the gold set meets the model's training set."""
    if model is None:
        return Honesty(False, frozenset(), "")
    trained = model.training_ids()
    overlap = frozenset((g.site, g.post_id) for g in gold) & trained
    if not overlap:
        return Honesty(False, frozenset(), f"none of these questions trained the {model.version} layer")
    if gold_sha256(gold_path) == model.training.get("gold_sha256"):
        return Honesty(True, frozenset(), (
            f"the {model.version} layer was trained on this file: its ml labels (and so which questions get "
            f"a stage) for these {len(overlap)} questions are out-of-fold ({model.training['n']} training questions, 5 fixed folds, refitted in this run), "
            "not the stored ones"))
    return Honesty(False, overlap, (
        f"{len(overlap)} of these questions trained the {model.version} layer: left out of every score below"))


def gold_examples(con: duckdb.DuckDBPyConnection, gold: list, scanner: Scanner) -> list[Example]:
    """Features and gold ml/stage of gold questions, read from question_text by (site, post_id)."""
    return [Example(g.site, g.post_id, features, g.ml, g.stage if g.ml else "none")
            for g, features in zip(gold, featurize(scanner, gold_questions(con, gold)))]


def gold_text_rows(con: duckdb.DuckDBPyConnection, gold: list) -> dict[tuple[str, int], tuple]:
    """The `gold_text` row (sql/evaluate.sql) of every gold question, by (site, post_id)."""
    keys = pa.table({"site": [g.site for g in gold], "post_id": [g.post_id for g in gold]})
    with registered(con, gold_keys=keys):
        return {(r[0], r[1]): r for r in con.execute(SQL("gold_text")).fetchall()}


def gold_questions(con: duckdb.DuckDBPyConnection, gold: list) -> list[tuple]:
    """Parsed text (title, prose, inline_code, code, tags) of gold questions, in gold order."""
    found = gold_text_rows(con, gold)
    missing = [g for g in gold if found[(g.site, g.post_id)][2] is None]
    if missing:
        from pipeline.evaluate.gold import GoldFileError

        raise GoldFileError(f"{len(missing)} gold questions are not in question_text (e.g. {missing[0].site} "
                            f"{missing[0].post_id}). Ingest their dump and run `stackmine text`.")
    questions = []
    for g in gold:
        _site, _pid, title, prose, code, inline, tags = found[(g.site, g.post_id)][:7]
        questions.append((title or "", prose or "", list(inline or []), code or "", list(tags or [])))
    return questions


def out_of_fold_labels(con: duckdb.DuckDBPyConnection, gold: list,
                       scanner: Scanner) -> dict[tuple[str, int], Prediction | None]:
    """Out-of-fold predictions of every gold question (the gold file is the training file)."""
    examples = gold_examples(con, gold, scanner)
    return {(e.site, e.post_id): p for e, p in zip(examples, out_of_fold(examples))}
