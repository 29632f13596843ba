"""The trained ml layer: its shipped file, its fast path against its feature definition, when it
applies, how it combines with the rules, and (shared) that the script rebuilds the file exactly."""

from __future__ import annotations

import csv
import importlib.util
import json
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest

from pipeline.text.extract import parse_body, title_text
from tests.support import GOLD_DEV, REPO

if TYPE_CHECKING:  # pipeline.classify loads spaCy: each test imports what it uses, not the collection
    from pipeline.classify.classifier import Classifier

SEDE = REPO / "data" / "sample" / "stackoverflow.com" / "data-science-questions-2022.csv"


def _sibling(name: str):
    """Another test module of this folder, loaded by path (test modules are not importable by name)."""
    spec = importlib.util.spec_from_file_location(f"_stackmine_{name}", Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def questions() -> list[tuple]:
    """The first 400 questions of the bundled SEDE export, parsed as `stackmine text` does."""
    csv.field_size_limit(1 << 30)
    with open(SEDE, newline="", encoding="utf-8-sig") as handle:
        rows = [r for r in csv.DictReader(handle) if r["PostTypeId"] == "1"][:400]
    out = []
    for r in rows:
        body = parse_body(r["Body"])
        tags = [t for t in r["Tags"].strip("<>|").replace("><", "|").split("|") if t]
        out.append((title_text(r["Title"]), body.prose, list(body.inline_code), body.code, tags))
    return out


@pytest.fixture(scope="module")
def rules_only() -> Classifier:
    from pipeline.classify.classifier import Classifier

    return Classifier(learned=False)


def test_model_file_is_small_and_says_what_trained_it() -> None:
    from pipeline.classify.classifier import LEARNED_VERSION
    from pipeline.classify.learned import MODEL_FILE, LearnedModel
    from pipeline.classify.learned_fit import C, MIN_DF, SOLVER

    resource = resources.files("pipeline.classify") / "models" / MODEL_FILE
    assert len(resource.read_bytes()) < 1_000_000
    model = LearnedModel.load()
    assert model.version == LEARNED_VERSION == "learned-lr-v1"
    training = model.training
    assert (training["n"], training["n_ml"], len(model.training_ids())) == (300, 104, 300)
    assert (training["C"], training["min_df"], training["solver"]) == (C, MIN_DF, SOLVER)
    assert training["gold_file"] == "dev.csv" and len(training["gold_sha256"]) == 64
    kinds = {name.split(":")[0] if ":" in name.split("|")[0] else name.split("|")[0] for name in model.features}
    assert kinds == {"t", "w", "tag", "ml", "stages", "shape", "term"}
    assert len(model.weights) == len(model.features) == 1140


def test_fast_path_equals_the_feature_definition(questions: list[tuple], rules_only: Classifier) -> None:
    """predict_questions (set lookups, cached hit columns) gives what the named features give."""
    from pipeline.classify.learned import LearnedModel, question_features

    model = LearnedModel.load()
    present: list[set[str]] = []
    found = rules_only.scanner.scan_many(questions, present)
    words = [rules_only.scanner.layer_words(*q[:3]) for q in questions]
    assert [seen for _title, seen in words] == present  # what classify takes from the scan
    fast = model.predict_questions(found, words, [q[4] for q in questions], [True] * len(questions))
    slow = model.predict_features([question_features(hits, title, present, q[4])
                                   for hits, (title, present), q in zip(found, words, questions)])
    assert fast == slow
    assert sum(p.ml for p in fast) == 119  # of 400 (pinned: a change of features or file shows here)
    reversed_hits = model.predict_questions([h[::-1] for h in found], [(t[::-1], set(sorted(p))) for t, p in words],
                                            [q[4][::-1] for q in questions], [True] * len(questions))
    assert reversed_hits == fast  # no dependence on the order hits and words arrive in


def test_layer_applies_only_where_the_rules_found_an_ml_term_and_are_not_sure(questions: list[tuple],
                                                                             rules_only: Classifier) -> None:
    from pipeline.classify.classifier import Classifier
    from pipeline.classify.decide import CONFIDENT_ML_SCORE, layer_applies
    from pipeline.classify.learned import applies_to

    shipped = Classifier()
    found = rules_only.scanner.scan_many(questions)
    with_layer, alone = shipped.label_many(questions), rules_only.label_many(questions)
    assert sum(applies_to(h) for h in found) == 159  # an ML term found
    gated = [layer_applies(labels) for labels in alone]  # ... and the rules not already sure
    assert sum(gated) == 64
    for hits, yes, mine, theirs in zip(found, gated, with_layer, alone):
        if not yes:
            assert mine == theirs  # same labels, same evidence: the layer did not run
            assert not theirs.evidence["ml"] or theirs.ml_score >= CONFIDENT_ML_SCORE
        else:
            assert mine.evidence["model"]["rules_ml"] == theirs.ml
            assert mine.ml == (mine.evidence["model"]["p_ml"] >= 0.5)
            assert mine.platforms == theirs.platforms
    assert sum(m.ml != t.ml for m, t in zip(with_layer, alone)) == 10


def test_layer_decides_ml_and_rules_decide_the_stage(rules_only: Classifier) -> None:
    """Rules say no (weak tags only); a layer yes brings the rules' stage, a no leaves none."""
    from pipeline.classify.decide import decide, with_model
    from pipeline.classify.learned import Prediction

    question = ("Studio does not load", "The notebook spins forever after the update.", [], "",
                ["machine-learning", "amazon-sagemaker"])
    hits = rules_only.scanner.scan(*question)
    labels = decide(hits, rules_only.rules)
    assert (labels.ml, labels.stage) == (False, "none")
    yes = with_model(labels, Prediction(True, 0.9), hits, rules_only.rules)
    assert (yes.ml, yes.stage, yes.platforms) == (True, "deployment", ["sagemaker"])
    assert "tags:amazon-sagemaker" in yes.evidence["stage"]["deployment"]
    assert yes.evidence["model"] == {"p_ml": 0.9, "rules_ml": False}
    no = with_model(labels, Prediction(False, 0.2), hits, rules_only.rules)
    assert (no.ml, no.stage, no.stage2, no.evidence["stage"]) == (False, "none", None, {})
    assert with_model(labels, None, hits, rules_only.rules) == labels


@pytest.mark.shared
def test_shipped_model_is_rebuilt_exactly(study_db_path: Path) -> None:
    """scripts/train_classifier.py's fit, on dev.csv, gives the committed file's content."""
    from pipeline.classify.classifier import LEARNED_VERSION, Classifier
    from pipeline.classify.learned import MODEL_FILE, gold_sha256
    from pipeline.classify.learned_fit import fit
    from pipeline.evaluate.gold import read_gold
    from pipeline.evaluate.honesty import gold_examples

    con = duckdb.connect(str(study_db_path), read_only=True)
    try:
        examples = gold_examples(con, read_gold(GOLD_DEV), Classifier(learned=False).scanner)
    finally:
        con.close()
    spec = fit(examples, LEARNED_VERSION, {"gold_file": "dev.csv", "gold_sha256": gold_sha256(GOLD_DEV),
                                           "script": "scripts/train_classifier.py"})
    shipped = json.loads((resources.files("pipeline.classify") / "models" / MODEL_FILE).read_text(encoding="utf-8"))
    assert spec == shipped


def test_layer_on_the_ml_rule_examples() -> None:
    """The ml rule file's must/must-not texts, labelled by the shipped classifier: all as the rules
    say except the bare title "Why is my neural network not learning?" (no body, one ML term: the
    layer, fitted on whole questions, gives it p=0.48, just under 0.5). Pinned, not endorsed."""
    from pipeline.classify.classifier import Classifier

    rules_ml = _sibling("test_rules_ml")
    MUST, MUST_NOT = rules_ml.MUST, rules_ml.MUST_NOT

    shipped = Classifier()
    label = lambda f: shipped.label(f.get("title", ""), f.get("prose", ""), [], f.get("code", ""),  # noqa: E731
                                    list(f.get("tags", ())))
    missed = [f for f in MUST if not label(f).ml]
    assert missed == [{"title": "Why is my neural network not learning?"}]
    assert label(missed[0]).evidence["model"] == {"p_ml": 0.482, "rules_ml": True}
    assert not any(label(f).ml for f in MUST_NOT)
