"""The trained layer (v2): its shipped file, that featurisation and prediction are deterministic
(order, batch, hash seed), that the fast path equals the feature definition, how it combines with
the rules, and that scripts/train_classifier.py rebuilds the model file and the gold predictions
byte for byte from the bundled gold files."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from pipeline.text.extract import parse_body, title_text
from tests.support import REPO, SAMPLE

if TYPE_CHECKING:  # pipeline.classify.classifier loads spaCy: each test imports what it uses, not the collection
    from pipeline.classify.classifier import Classifier
    from pipeline.classify.model import LayerModel

SEDE = SAMPLE / "stackoverflow.com" / "data-science-questions-2022.csv"
PREDICTIONS = REPO / "pipeline" / "coverage" / "rules" / "gold_predictions.csv"


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


@pytest.fixture(scope="module")
def model() -> LayerModel:
    from pipeline.classify.model import LayerModel

    return LayerModel.load()


def _scan(classifier: Classifier, questions: list[tuple]) -> tuple[list, list, list, list]:
    present: list = []
    titles: list = []
    found = classifier.scanner.scan_many(questions, present, titles)
    return found, titles, present, [q[4] for q in questions]


def test_model_file_is_small_and_says_what_trained_it(model: LayerModel) -> None:
    from pipeline.classify import STEP
    from pipeline.classify.classifier import LAYER_VERSION
    from pipeline.classify.fit import MIN_DF, ML_C, SOLVER, STAGE_C
    from pipeline.classify.model import MODEL_FILE
    from pipeline.core.codebook import STAGES
    from pipeline.core.files import sha256_file
    from pipeline.evaluate.corpus import GOLD_FILES, SPLIT

    assert f"models/{MODEL_FILE}" in STEP.rules  # the step's ledger key and classifier_version follow the file
    resource = resources.files("pipeline.classify") / "models" / MODEL_FILE
    assert len(resource.read_bytes()) < 1_000_000
    assert model.version == LAYER_VERSION == "learned-lr-v2"
    training = model.training
    assert (training["ml_C"], training["stage_C"], training["min_df"], training["solver"]) == (ML_C, STAGE_C, MIN_DF,
                                                                                               SOLVER)
    # the bundled gold files and split are the very ones it was trained from
    assert training["gold_files"] == {name: sha256_file(SPLIT.parent / name) for name in GOLD_FILES}
    assert training["heldout_split"] == {SPLIT.name: sha256_file(SPLIT)}
    assert (training["n"], training["n_ml"]) == (1687, 837)
    assert model.stages == STAGES  # stored in the codebook's order
    assert 0.2 <= model.threshold <= 0.7 and 0.5 <= model.temperature <= 3.0


def test_no_held_out_question_trained_the_model(model: LayerModel) -> None:
    from pipeline.evaluate.split import read_split

    held = read_split()
    assert len(held) == 418
    assert not held & model.training_ids()
    assert len(model.training_ids()) == 2105 - 418


def test_fast_path_equals_the_feature_definition(questions: list[tuple], rules_only: Classifier,
                                                 model: LayerModel) -> None:
    """predict (set lookups, cached hit rows, one segmented sum) gives what the named features give."""
    from pipeline.classify.features import gate, question_features

    found, titles, present, tags = _scan(rules_only, questions)
    fast = model.predict(found, titles, present, tags)
    words = [rules_only.scanner.layer_words(*q[:3]) for q in questions]
    assert [(title, seen) for title, seen in words] == list(zip(titles, present))  # what classify takes from the scan
    slow = model.predict_features([question_features(hits, title, seen, q[4])
                                   for hits, (title, seen), q in zip(found, words, questions)])
    assert fast == slow
    assert sum(gate(hits) for hits in found) == 159  # pinned: the rules' ML terms on the sample
    assert sum(p.ml for p in fast) == 128  # pinned: a change of features or model file shows here


def test_predictions_do_not_depend_on_order_or_batch(questions: list[tuple], rules_only: Classifier) -> None:
    """Reversed hits, words and tags, and questions labelled one at a time: the same predictions
    (integer coefficients: every sum is exact whatever the order)."""
    from pipeline.classify.model import LayerModel

    found, titles, present, tags = _scan(rules_only, questions)
    first = LayerModel.load().predict(found, titles, present, tags)
    again = LayerModel.load()
    reversed_order = again.predict([h[::-1] for h in found], [t[::-1] for t in titles],
                                   [set(sorted(p, reverse=True)) for p in present], [t[::-1] for t in tags])
    one_by_one = [again.predict([h], [t], [p], [g])[0] for h, t, p, g in zip(found, titles, present, tags)]
    assert reversed_order == first == one_by_one


@pytest.mark.slow
def test_features_and_labels_are_the_same_under_any_hash_seed() -> None:
    """Set iteration order changes with PYTHONHASHSEED: features and stored labels must not."""
    script = (
        "import json\n"
        "from pipeline.classify.classifier import Classifier\n"
        "from pipeline.classify.features import question_features\n"
        "q = ('Loss is nan when training my CNN', 'I train the model on my dataset and the loss becomes nan.',"
        " ['model.fit'], 'import torch\\nloss.backward()\\nfrom sklearn.model_selection import train_test_split',"
        " ['pytorch', 'deep-learning', 'jupyter-notebook'])\n"
        "c = Classifier()\n"
        "hits = c.scanner.scan(*q)\n"
        "title, words = c.scanner.layer_words(*q[:3])\n"
        "f = question_features(hits, title, words, q[4])\n"
        "l = c.label(*q)\n"
        "print(json.dumps([f, l.ml, l.stage, l.stage2, l.p_ml, l.p_stage], sort_keys=True))\n"
    )
    outputs = {subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=REPO,
                              env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("0", "1", "12345")}
    assert len(outputs) == 1
    features, ml, stage, _stage2, p_ml, p_stage = json.loads(outputs.pop())
    assert ml and stage == "model-training" and p_ml > 0.9 and abs(sum(p_stage) - 1) < 1e-3
    assert features["tag:pytorch"] == 1.0 and features["ml|ml|strong|code"] >= 1.0


def test_layer_decides_ml_and_the_stage_and_keeps_the_rules_evidence(rules_only: Classifier,
                                                                       model: LayerModel) -> None:
    from pipeline.classify.decide import decide, with_layer
    from pipeline.classify.model import LayerPrediction
    from pipeline.core.codebook import STAGES

    question = ("Studio does not load", "The notebook spins forever after the update.", [], "",
                ["machine-learning", "amazon-sagemaker"])
    hits = rules_only.scanner.scan(*question)
    labels = decide(hits, rules_only.rules, rule_stage=False)
    assert (labels.ml, labels.stage, labels.platforms) == (False, "none", ["sagemaker"])
    p_stage = tuple(0.9 if s == "environment" else 0.1 / 14 for s in STAGES)
    yes = with_layer(labels, LayerPrediction(True, 0.8, "environment", None, p_stage, (14, 0, 1)), STAGES, hits)
    assert (yes.ml, yes.stage, yes.platforms, yes.p_ml, yes.p_stage) == (True, "environment", ["sagemaker"], 0.8,
                                                                          p_stage)
    assert yes.evidence["model"] == {"p_ml": 0.8, "rules_ml": False}
    assert list(yes.evidence["stage"]["p"]) == ["environment", "problem-formulation", "data-collection"]
    no = with_layer(labels, LayerPrediction(False, 0.2, "none", None, None), STAGES, hits)
    assert (no.ml, no.stage, no.stage2, no.evidence["stage"], no.p_stage) == (False, "none", None, {}, None)
    plain = decide([], rules_only.rules, rule_stage=False)
    assert with_layer(plain, model.ungated, STAGES, []) is plain  # no ML term: not asked, rules' labels kept


def test_questions_without_an_ml_term_get_the_files_rate(model: LayerModel, rules_only: Classifier) -> None:
    from pipeline.classify.features import gate

    question = ("How to merge two dataframes", "pandas merge on a key column", [], "df.merge(df2)", ["pandas"])
    found, titles, present, tags = _scan(rules_only, [question])
    assert not gate(found[0])
    assert model.predict(found, titles, present, tags) == [model.ungated]
    assert model.ungated.p_ml < 0.1 and not model.ungated.ml


def test_layer_on_the_ml_rule_examples() -> None:
    """The ml rule file's must/must-not texts, labelled by the shipped classifier. Every must-be-ML
    text is ML; three must-not texts the rules call not ML are called ML by the layer: each is a
    bare sentence with one ML sign (the word "epoch", the machine-learning or feature-engineering
    tag) and nothing else, where whole training questions carried words that weigh against.
    Pinned, not endorsed: the kind of false positive the hidden set's report describes."""
    from pipeline.classify.classifier import Classifier

    rules_ml = _sibling("test_rules_ml")
    shipped = Classifier()
    label = lambda f: shipped.label(f.get("title", ""), f.get("prose", ""), [], f.get("code", ""),  # noqa: E731
                                    list(f.get("tags", ())))
    assert all(label(f).ml for f in rules_ml.MUST)
    overturned = [(f.get("prose"), label(f).evidence["model"]) for f in rules_ml.MUST_NOT if label(f).ml]
    assert overturned == [
        ("Convert epoch timestamps to datetime in pandas.", {"p_ml": 0.6342, "rules_ml": False}),
        ("How do I drop duplicate rows?", {"p_ml": 0.8692, "rules_ml": False}),
        ("Create a new column from three columns.", {"p_ml": 0.9148, "rules_ml": False}),
    ]


@pytest.mark.slow
def test_training_script_rebuilds_the_model_and_the_gold_predictions_exactly(tmp_path: Path) -> None:
    """scripts/train_classifier.py, from the bundled gold files alone (no ../shared), writes the
    committed model file and gold_predictions.csv byte for byte."""
    from pipeline.classify.model import MODEL_FILE

    model, predictions = tmp_path / MODEL_FILE, tmp_path / "gold_predictions.csv"
    done = subprocess.run([sys.executable, "scripts/train_classifier.py", "--seeds", "1", "--out", str(model),
                           "--predictions", str(predictions)], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    shipped = resources.files("pipeline.classify") / "models" / MODEL_FILE
    assert model.read_bytes() == shipped.read_bytes()
    assert predictions.read_bytes() == PREDICTIONS.read_bytes()


def test_gold_predictions_describe_the_shipped_classifier() -> None:
    """The file the coverage step reads: every gold question of the random design once (not the
    probe), sorted, with the stratum weights of data/gold/README.md and the stored version string."""
    from pipeline.classify.classifier import CLASSIFIER_VERSION
    from pipeline.core.codebook import STAGES
    from pipeline.evaluate.predictions import COLUMNS
    from pipeline.evaluate.split import read_split

    with open(PREDICTIONS, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames) == COLUMNS
        rows = list(reader)
    keys = [(r["site"], int(r["post_id"])) for r in rows]
    assert keys == sorted(set(keys)) and len(rows) == 300 + 1175 + 560
    assert {r["classifier_version"] for r in rows} == {CLASSIFIER_VERSION}
    strata = {(r["stratum"], r["weight"]) for r in rows}
    assert strata == {("ds2022", "1.0"), ("nlcv-mention", "1.0"), ("nlcv-random", str(round(2320 / 383, 6)))}
    assert sum(r["stratum"] == "nlcv-mention" for r in rows) == 177
    held = read_split()
    assert all((r["prediction"] == "held-out") == ((r["site"], int(r["post_id"])) in held) for r in rows)
    for r in rows:
        assert r["gold_ml"] in ("yes", "no") and r["pred_ml"] in ("yes", "no")
        assert (r["gold_stage"] in STAGES) == (r["gold_ml"] == "yes") and (r["pred_stage"] in STAGES) == (
            r["pred_ml"] == "yes")
        assert r["gold_stage2"] in STAGES + ("",)
