"""question_text → question_labels: platforms, ml, stage, evidence, with the classifier version.

The rules are data (`pipeline/classify/rules/*.v1.yaml`), the matching is `lexicon.py`, the
decisions are `decide.py`; this module only moves rows: it reads parsed questions for a
scope, labels them, and replaces that scope's labels in one transaction.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import duckdb
import pyarrow as pa

from pipeline.classify import STEP
from pipeline.core.db import replace_scope
from pipeline.core.step import Scope
from pipeline.classify.decide import Labels, decide, layer_applies, with_model
from pipeline.core.gcpause import cyclic_gc_paused
from pipeline.classify.learned import LearnedModel
from pipeline.classify.lexicon import Rules, Scanner, load_rules, tokens

log = logging.getLogger(__name__)

SQL = STEP.sql()
# The step's version names the engine (bump it when lexicon.py/decide.py change how rules are
# applied); the rule files' names carry their own versions (rules/<family>.<version>.yaml).
ENGINE_VERSION = STEP.version
RULE_VERSIONS = {name.split("/")[-1].split(".")[0]: name.split(".")[-2] for name in STEP.rules if name.endswith(".yaml")}
# The trained layer over the rules (pipeline/classify/learned.py); written into its model file.
LEARNED_VERSION = "learned-lr-v1"
# What `question_labels.classifier_version` says for the default rules.
CLASSIFIER_VERSION = ENGINE_VERSION + "".join(f"+{f}-{v}" for f, v in RULE_VERSIONS.items()) + f"+{LEARNED_VERSION}"
BATCH_ROWS = 20_000
# json.dumps(..., sort_keys=True) builds a new encoder per call; one encoder, the same text.
_evidence_json = json.JSONEncoder(sort_keys=True).encode


class Classifier:
    """Rules loaded and compiled once, and the trained layer that decides ml from the rules' hits
    and the question's words; call `label` per question. `learned=False` gives the rules' own decisions (the
    "rules" column of `stackmine evaluate`); `model` replaces the shipped trained layer."""

    def __init__(self, rules: Rules | None = None, learned: bool = True, model: LearnedModel | None = None) -> None:
        self.rules = rules or load_rules(RULE_VERSIONS)
        self.scanner = Scanner(self.rules)
        self.model = model or (LearnedModel.load() if learned else None)
        self.version = f"{ENGINE_VERSION}+{self.rules.version}" + (f"+{self.model.version}" if self.model else "")

    def label(self, title: str, prose: str, inline_code: list[str], code: str, tags: list[str]) -> Labels:
        """Labels of one parsed question."""
        return self.label_many([(title, prose, inline_code, code, tags)])[0]

    def label_many(self, questions: list[tuple]) -> list[Labels]:
        """Labels of many parsed questions (title, prose, inline_code, code, tags), the same as
        `label` gives each: batching lets the scanner share one spaCy Doc among many questions."""
        clean = [(title or "", prose or "", inline if inline.__class__ is list else list(inline or []), code or "",
                  tags if tags.__class__ is list else list(tags or [])) for title, prose, inline, code, tags in questions]
        with cyclic_gc_paused():
            if self.model is None:
                return [decide(hits, self.rules) for hits in self.scanner.scan_many(clean)]
            present: list[set[str]] = []
            found = self.scanner.scan_many(clean, present)
            by_rules = [decide(hits, self.rules) for hits in found]
            applies = [layer_applies(labels) for labels in by_rules]
            # The layer's words, for the few questions it decides (a minority): the
            # title's tokens found again, the lexicon words as the scan found them.
            words = [(tokens(question[0]), seen) if yes else None
                     for question, seen, yes in zip(clean, present, applies)]
            predictions = self.model.predict_questions(found, words, [question[4] for question in clean], applies)
            return [with_model(labels, prediction, hits, self.rules)
                    for labels, prediction, hits in zip(by_rules, predictions, found)]


_SCHEMA = pa.schema(
    [
        ("site", pa.string()),
        ("dump_id", pa.string()),
        ("post_id", pa.int64()),
        ("platforms", pa.list_(pa.string())),
        ("notebook", pa.bool_()),
        ("ml", pa.bool_()),
        ("stage", pa.string()),
        ("stage2", pa.string()),
        ("evidence", pa.string()),
        ("classifier_version", pa.string()),
    ]
)


def _label_batch(classifier: Classifier, rows: list[tuple]) -> pa.RecordBatch:
    """Label rows (site, dump_id, post_id, title, prose, code, inline_code, tags), column by column."""
    labels = classifier.label_many([(title, prose, inline, code, tags)
                                    for _s, _d, _p, title, prose, code, inline, tags in rows])
    cols = {
        "site": [row[0] for row in rows],
        "dump_id": [row[1] for row in rows],
        "post_id": [row[2] for row in rows],
        "platforms": [one.platforms for one in labels],
        "notebook": [bool(one.platforms) for one in labels],
        "ml": [one.ml for one in labels],
        "stage": [one.stage for one in labels],
        "stage2": [one.stage2 for one in labels],
        "evidence": [_evidence_json(one.evidence) for one in labels],
        "classifier_version": [classifier.version] * len(rows),
    }
    return pa.RecordBatch.from_pydict(cols, schema=_SCHEMA)


def _input_rows(con: duckdb.DuckDBPyConnection, site: str | None) -> Iterator[list[tuple]]:
    """Stream the scope's rows in batches (Arrow record batches: memory stays flat on big sites)."""
    reader = con.sql(SQL("questions"), params=[site, site]).to_arrow_reader(BATCH_ROWS)
    for batch in reader:
        yield list(zip(*(column.to_pylist() for column in batch.columns)))


def classify(
    con: duckdb.DuckDBPyConnection,
    site: str | None = None,
    progress: bool = False,
    classifier: Classifier | None = None,
) -> int:
    """Relabel every parsed question of `site` (or all sites); returns questions labelled.

    Reads only `question_text`; replaces the scope's `question_labels` rows in one transaction,
    so an interrupted run leaves the previous labels and a rerun gives the same table.
    """
    classifier = classifier or Classifier()
    total = con.execute(SQL("count"), [site, site]).fetchall()[0][0]
    reader = con.cursor()
    batches = (pa.Table.from_batches([_label_batch(classifier, rows)]) for rows in _input_rows(reader, site))
    written = replace_scope(con, "question_labels", (SQL("delete"), [site, site]), batches,
                            total, "classify", progress)
    reader.close()
    log.info("question_labels: %d questions (%s), %s", written, site or "all sites", classifier.version)
    return written


def summary(con: duckdb.DuckDBPyConnection, site: str | None = None) -> list[tuple]:
    """Per site: questions, notebook, ml, notebook and ml (printed after `stackmine classify`)."""
    return con.execute(SQL("summary"), [site, site]).fetchall()


def run(con: duckdb.DuckDBPyConnection, scope: Scope, progress: bool = False) -> int:
    """The classify step for one site (or every site, for an empty scope)."""
    return classify(con, site=scope.sites[0] if scope.sites else None, progress=progress)
