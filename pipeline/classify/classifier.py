"""question_text → question_labels: platforms, ml, stage, evidence, P(ml) and P(stage), with the
classifier version.

The rules are data (`pipeline/classify/rules/*.v2.yaml`), the matching is `lexicon.py`, the rules'
decisions are `decide.py`, the trained layer that decides ml and the stage over the rules' hits is
`model.py` (its coefficients: `models/classifier-lr.v2.json`); this module only moves rows: it
reads parsed questions for a scope, labels them, and replaces that scope's labels in one
transaction.
"""

from __future__ import annotations

import json
import logging

import duckdb
import pyarrow as pa

from pipeline.classify import STEP
from pipeline.classify.decide import Labels, decide, with_layer
from pipeline.classify.lexicon import Rules, Scanner, load_rules
from pipeline.classify.model import MODEL_FILE, LayerModel
from pipeline.core.db import replace_scope
from pipeline.core.gcpause import cyclic_gc_paused
from pipeline.core.step import Scope
from pipeline.core.workers import map_batches, worker_count

log = logging.getLogger(__name__)

SQL = STEP.sql()
# The step's version names the engine (bump it when lexicon.py/decide.py change how rules are
# applied); the rule files' names carry their own versions (rules/<family>.<version>.yaml).
ENGINE_VERSION = STEP.version
RULE_VERSIONS = {name.split("/")[-1].split(".")[0]: name.split(".")[-2] for name in STEP.rules if name.endswith(".yaml")}
# The trained layer over the rules (model.py): the version written into its model file, named
# after the file's (models/classifier-lr.<v>.json → learned-lr-<v>).
LAYER_VERSION = "learned-lr-" + MODEL_FILE.split(".")[-2]
# What `question_labels.classifier_version` says for the default rules.
CLASSIFIER_VERSION = ENGINE_VERSION + "".join(f"+{f}-{v}" for f, v in RULE_VERSIONS.items()) + f"+{LAYER_VERSION}"
# Questions per batch (held in Python at a time, per worker); see pipeline/text/extract.py BATCH_ROWS.
BATCH_ROWS = 2_000
# json.dumps(..., sort_keys=True) builds a new encoder per call; one encoder, the same text.
_evidence_json = json.JSONEncoder(sort_keys=True).encode


class Classifier:
    """Rules loaded and compiled once, and the trained layer that decides ml and the stage from the
    rules' hits, the question's words and its tags; call `label` per question. `learned=False` gives
    the rules' own decisions (the "rules" column of `stackmine evaluate`); `model` replaces the
    shipped trained layer."""

    def __init__(self, rules: Rules | None = None, learned: bool = True, model: LayerModel | None = None) -> None:
        self.rules = rules or load_rules(RULE_VERSIONS)
        self.scanner = Scanner(self.rules)
        self.model = model or (LayerModel.load() if learned else None)
        self.version = f"{ENGINE_VERSION}+{self.rules.version}" + (f"+{self.model.version}" if self.model else "")
        self.unasked_p_ml = self.model.ungated.p_ml if self.model else None

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
            titles: list[list[str]] = []
            found = self.scanner.scan_many(clean, present, titles)
            by_rules = [decide(hits, self.rules, rule_stage=False) for hits in found]
            # the layer's gate (an ML hit) is the rules' ml evidence being non-empty: known already
            predictions = self.model.predict(found, titles, present, [question[4] for question in clean],
                                             [bool(labels.evidence["ml"]) for labels in by_rules])
            return [with_layer(labels, prediction, self.model.stages, hits)
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
        ("p_ml", pa.float64()),
        ("p_stage", pa.list_(pa.float64())),
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
        # Questions the layer was not asked about (no ML term) get its P(ml) for such questions.
        "p_ml": [one.p_ml if one.p_ml is not None else classifier.unasked_p_ml for one in labels],
        "p_stage": [list(one.p_stage) if one.p_stage is not None else None for one in labels],
    }
    return pa.RecordBatch.from_pydict(cols, schema=_SCHEMA)


# The classifier of this process, set once per process by `use_classifier` (pipeline/core/workers.py
# runs it in each worker): sending it with every batch would pickle the rules and the model each time.
_CLASSIFIER: dict[str, Classifier] = {}


def use_classifier(classifier: Classifier) -> None:
    _CLASSIFIER["classifier"] = classifier


def label_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """question_labels rows of a batch of the `questions` statement's rows, labelled by the
    classifier `use_classifier` set in this process (a worker's, or the caller's own)."""
    return _label_batch(_CLASSIFIER["classifier"], list(zip(*(column.to_pylist() for column in batch.columns))))


def classify(
    con: duckdb.DuckDBPyConnection,
    site: str | None = None,
    progress: bool = False,
    classifier: Classifier | None = None,
    workers: int | None = None,
) -> int:
    """Relabel every parsed question of `site` (or all sites); returns questions labelled.

    Reads only `question_text`; replaces the scope's `question_labels` rows in one transaction,
    so an interrupted run leaves the previous labels and a rerun gives the same table. `workers`
    cores label the questions, each process with a copy of `classifier` (default: every core for a
    large scope, see pipeline/core/workers.py); the rows are the same, in the same order, whatever
    their number.
    """
    classifier = classifier or Classifier()
    total = con.execute(SQL("count"), [site, site]).fetchall()[0][0]
    reader = con.cursor()
    try:
        # Not ordered (see classify.sql): the scan's order is the table's, whatever the workers.
        batches = reader.sql(SQL("questions"), params=[site, site]).to_arrow_reader(BATCH_ROWS)
        labelled = map_batches(label_batch, batches, worker_count(workers, total), use_classifier, (classifier,))
        written = replace_scope(con, "question_labels", (SQL("delete"), [site, site]), labelled,
                                total, "classify", progress)
    finally:
        _CLASSIFIER.clear()
        reader.close()
    log.info("question_labels: %d questions (%s), %s", written, site or "all sites", classifier.version)
    return written


def summary(con: duckdb.DuckDBPyConnection, site: str | None = None) -> list[tuple]:
    """Per site: questions, notebook, ml, notebook and ml (printed after `stackmine classify`)."""
    return con.execute(SQL("summary"), [site, site]).fetchall()


def run(con: duckdb.DuckDBPyConnection, scope: Scope, progress: bool = False, workers: int | None = None) -> int:
    """The classify step for one site (or every site, for an empty scope)."""
    return classify(con, site=scope.sites[0] if scope.sites else None, progress=progress, workers=workers)
