"""Score a classifier's labels against a labelled gold file, beside baselines computed in the same run.

A gold file has the codebook's CSV shape (site, post_id, platforms, ml, stage, stage2, note).
For most gold files the evaluator looks each question up in the database by (site, post_id): text
in `question_text` (for the rules and the baselines) and labels in `question_labels` (what
`stackmine classify` stored, so what is scored is exactly what a study would use). A bundled gold
file the trained layer was fitted on (data/gold/dev.csv, train.csv) is scored from the bundled
text instead, with out-of-fold labels for its training questions (pipeline/evaluate/honesty.py).
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipeline.classify.classifier import Classifier
from pipeline.classify.decide import decide, with_layer
from pipeline.core.codebook import PLATFORMS, STAGES
from pipeline.core.errors import StackmineError
from pipeline.evaluate.baselines import Guess, KeywordAnywhere, TagsOnly, load_baselines
from pipeline.evaluate.honesty import Honesty, gold_text_rows, honesty, out_of_fold_labels

GOLD_COLUMNS = ("site", "post_id", "platforms", "ml", "stage", "stage2", "note")


class GoldFileError(StackmineError):
    """A gold file is malformed, or names questions the database cannot score."""


@dataclass(frozen=True)
class GoldRow:
    """One hand-labelled question."""

    site: str
    post_id: int
    platforms: frozenset[str]
    ml: bool
    stage: str
    stage2: str = ""  # the secondary stage, "" when none


@dataclass
class Method:
    """One method's labels for the gold questions, in gold order."""

    name: str
    guesses: list[Guess] = field(default_factory=list)


def read_gold(path: Path, parity: str | None = None) -> list[GoldRow]:
    """Parse and check a gold CSV; `parity` keeps only even or odd post ids (a held-out half)."""
    rows: list[GoldRow] = []
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in GOLD_COLUMNS[:5] if c not in (reader.fieldnames or [])]
        if missing:
            raise GoldFileError(f"{path}, line 1: missing columns {missing}; expected {','.join(GOLD_COLUMNS)}")
        for line, rec in enumerate(reader, start=2):
            rows.append(_gold_row(path, line, rec))
    if parity:
        rows = [r for r in rows if r.post_id % 2 == (0 if parity == "even" else 1)]
    return rows


def _gold_row(path: Path, line: int, rec: dict) -> GoldRow:
    platforms = frozenset(p.strip() for p in (rec["platforms"] or "").split(";") if p.strip())
    problems = [f"unknown platform {p!r}" for p in platforms if p not in PLATFORMS]
    if rec["ml"] not in ("yes", "no"):
        problems.append(f"ml must be yes or no, not {rec['ml']!r}")
    if rec["stage"] not in STAGES + ("none",):
        problems.append(f"unknown stage {rec['stage']!r}")
    if (rec.get("stage2") or "").strip() not in STAGES + ("",):
        problems.append(f"unknown stage2 {rec['stage2']!r}")
    if not (rec["post_id"] or "").strip().isdigit():
        problems.append(f"post_id {rec['post_id']!r} is not a number")
    if problems:
        raise GoldFileError(f"{path}, line {line}: {'; '.join(problems)}. Labels must follow CODEBOOK.md (v1).")
    return GoldRow(rec["site"], int(rec["post_id"]), platforms, rec["ml"] == "yes", rec["stage"],
                   (rec.get("stage2") or "").strip())


def collect(con: duckdb.DuckDBPyConnection | None, gold: list[GoldRow], gold_path: Path,
            verdict: Honesty | None = None) -> list[Method]:
    """Labels of the classifier, of the rules alone and of the baselines (computed now).

    The classifier's labels are the stored ones, or, for a gold file its trained layer was fitted
    on (`verdict.refit`), the bundled text's: out-of-fold for its training questions, the shipped
    classifier's for its held-out ones (the database is not read: `con` may be None). `gold` must
    already exclude questions `honesty` says to drop (see `honest_gold`).
    """
    classifier = Classifier()
    verdict = verdict or honesty(gold, gold_path, classifier.model)
    rules_only = Classifier(rules=classifier.rules, learned=False)
    if verdict.refit:
        texts, labels = bundled_labels(gold, gold_path, classifier, rules_only)
    else:
        texts, labels = _stored(con, gold, gold_path, classifier.version)
    majority = Counter(g.stage for g in gold if g.ml).most_common(1)[0][0] if any(g.ml for g in gold) else "none"
    tags_only = TagsOnly(classifier.rules, majority)
    keyword = KeywordAnywhere(load_baselines(), majority)
    methods = [Method("classifier", labels), Method("rules"), Method("tags-only"), Method("keyword"),
               Method("majority")]
    for by_rules, (title, prose, inline, code, tags) in zip(rules_only.label_many(texts), texts):
        methods[1].guesses.append(Guess(by_rules.platforms, by_rules.ml, by_rules.stage, by_rules.stage2))
        methods[2].guesses.append(tags_only.guess(list(tags)))
        methods[3].guesses.append(keyword.guess(title, "\n".join([prose, " ".join(inline), code])))
        methods[4].guesses.append(Guess([], True, majority))
    return methods


def _stored(con: duckdb.DuckDBPyConnection, gold: list[GoldRow], gold_path: Path,
            version: str) -> tuple[list[tuple], list[Guess]]:
    """Text (title, prose, inline_code, code, tags) and stored labels of the gold questions."""
    found = gold_text_rows(con, gold)
    _check_found(found, gold, gold_path, version)
    texts, labels = [], []
    for g in gold:
        _site, _pid, title, prose, code, inline, tags, platforms, ml, stage, stage2, _v, p_ml, p_stage = \
            found[(g.site, g.post_id)]
        texts.append((title or "", prose or "", list(inline or []), code or "", list(tags or [])))
        labels.append(Guess(list(platforms), bool(ml), stage, stage2, p_ml, tuple(p_stage) if p_stage else None))
    return texts, labels


def bundled_labels(gold: list[GoldRow], gold_path: Path, classifier: Classifier,
                   rules_only: Classifier) -> tuple[list[tuple], list[Guess]]:
    """Text of the gold questions from the bundled gold corpus, and the classifier's labels:
    out-of-fold for its training questions, the shipped classifier's for the others."""
    from pipeline.evaluate.corpus import load_gold_corpus

    corpus = load_gold_corpus()
    by_key = {q.key: q for q in corpus}
    missing = [g for g in gold if (g.site, g.post_id) not in by_key]
    if missing:
        raise GoldFileError(f"{gold_path}: {len(missing)} questions are not in the bundled gold corpus "
                            f"(e.g. {missing[0].site} {missing[0].post_id}).")
    texts = [by_key[(g.site, g.post_id)].question for g in gold]
    oof = out_of_fold_labels(corpus, rules_only.scanner, classifier.model)
    hits = rules_only.scanner.scan_many(texts)
    shipped = classifier.label_many(texts)
    labels = []
    for g, question_hits, mine in zip(gold, hits, shipped):
        prediction = oof.get((g.site, g.post_id))
        if prediction is not None:  # a training question: a model that did not see it decides
            mine = with_layer(decide(question_hits, rules_only.rules, rule_stage=False), prediction,
                              classifier.model.stages, question_hits)
        p_ml = mine.p_ml if mine.p_ml is not None else classifier.unasked_p_ml
        labels.append(Guess(mine.platforms, mine.ml, mine.stage, mine.stage2, p_ml, mine.p_stage))
    return texts, labels


def honest_gold(gold: list[GoldRow], gold_path: Path) -> tuple[list[GoldRow], Honesty]:
    """The gold questions that may be scored, and how training questions are treated (its `note`
    is empty when the classifier has no trained layer)."""
    from pipeline.classify.model import LayerModel

    verdict = honesty(gold, gold_path, LayerModel.load())
    return [g for g in gold if (g.site, g.post_id) not in verdict.dropped], verdict


def _check_found(found: dict, gold: list[GoldRow], gold_path: Path, version: str) -> None:
    """Say exactly what to run when the database lacks text or current labels for the gold set."""
    no_text = [g for g in gold if found[(g.site, g.post_id)][2] is None]
    if no_text:
        example = no_text[0]
        raise GoldFileError(
            f"{gold_path}: {len(no_text)} of {len(gold)} questions are not in question_text "
            f"(e.g. {example.site} {example.post_id}). Ingest their dump and run `stackmine text`."
        )
    stale = [g for g in gold if found[(g.site, g.post_id)][11] != version]
    if stale:
        sites = sorted({g.site for g in stale})
        raise GoldFileError(
            f"{gold_path}: {len(stale)} of {len(gold)} questions have no labels from classifier {version}. "
            f"Run `stackmine classify --site {sites[0]}` first (sites: {', '.join(sites)})."
        )
