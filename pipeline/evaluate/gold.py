"""Score stored labels against a hand-labelled gold file, beside baselines computed in the same run.

A gold file has the codebook's CSV shape (site, post_id, platforms, ml, stage, stage2, note).
The evaluator looks each question up in the database by (site, post_id): text in
`question_text` (for the baselines) and labels in `question_labels` (what `stackmine classify`
stored, so what is scored is exactly what a study would use).
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipeline.evaluate.baselines import Guess, KeywordAnywhere, TagsOnly, load_baselines
from pipeline.classify.classifier import Classifier
from pipeline.classify.decide import decide, with_model
from pipeline.core.codebook import PLATFORMS, STAGES
from pipeline.core.errors import StackmineError
from pipeline.evaluate.honesty import gold_text_rows, honesty, out_of_fold_labels
from pipeline.classify.learned import LearnedModel

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
    if not (rec["post_id"] or "").strip().isdigit():
        problems.append(f"post_id {rec['post_id']!r} is not a number")
    if problems:
        raise GoldFileError(f"{path}, line {line}: {'; '.join(problems)}. Labels must follow CODEBOOK.md (v1).")
    return GoldRow(rec["site"], int(rec["post_id"]), platforms, rec["ml"] == "yes", rec["stage"])


def collect(con: duckdb.DuckDBPyConnection, gold: list[GoldRow], gold_path: Path) -> list[Method]:
    """Labels of the classifier (stored; out-of-fold for its own training questions, see
    pipeline/evaluate/honesty.py), of the rules alone and of the baselines (computed now).

    `gold` must already exclude questions `honesty` says to drop (see `honest_gold`).
    """
    found = gold_text_rows(con, gold)
    classifier = Classifier()
    _check_found(found, gold, gold_path, classifier.version)
    rules_only = Classifier(rules=classifier.rules, learned=False)
    oof = {}
    if honesty(gold, gold_path, classifier.model).refit:
        oof = out_of_fold_labels(con, read_gold(gold_path), rules_only.scanner)
    majority = Counter(g.stage for g in gold if g.ml).most_common(1)[0][0] if any(g.ml for g in gold) else "none"
    tags_only = TagsOnly(classifier.rules, majority)
    keyword = KeywordAnywhere(load_baselines(), majority)
    methods = [Method("classifier"), Method("rules"), Method("tags-only"), Method("keyword"), Method("majority")]
    texts = [found[(g.site, g.post_id)] for g in gold]
    hits = rules_only.scanner.scan_many([(t[2], t[3], list(t[5]), t[4], list(t[6])) for t in texts])
    rule_labels = [decide(h, rules_only.rules) for h in hits]
    for g, row, by_rules, question_hits in zip(gold, texts, rule_labels, hits):
        _site, _pid, title, prose, code, inline, tags, platforms, ml, stage, _s2, _v = row
        if (g.site, g.post_id) in oof:  # a training question: its out-of-fold labels, not the stored ones
            held_out = with_model(by_rules, oof[(g.site, g.post_id)], question_hits, rules_only.rules)
            ml, stage = held_out.ml, held_out.stage
        methods[0].guesses.append(Guess(list(platforms), bool(ml), stage))
        methods[1].guesses.append(Guess(by_rules.platforms, by_rules.ml, by_rules.stage))
        methods[2].guesses.append(tags_only.guess(list(tags)))
        methods[3].guesses.append(keyword.guess(title, "\n".join([prose, " ".join(inline), code])))
        methods[4].guesses.append(Guess([], True, majority))
    return methods


def honest_gold(gold: list[GoldRow], gold_path: Path) -> tuple[list[GoldRow], str]:
    """The gold questions that may be scored, and the sentence saying how training questions are
    treated (empty when the classifier has no trained layer)."""
    verdict = honesty(gold, gold_path, LearnedModel.load())
    return [g for g in gold if (g.site, g.post_id) not in verdict.dropped], verdict.note


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
