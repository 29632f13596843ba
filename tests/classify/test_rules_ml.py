"""ml.v2.yaml: texts that are ML workflow questions, and texts that are not (codebook §2)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # the classifier loads spaCy: imported by the fixture, not at collection
    from pipeline.classify.classifier import Classifier


@pytest.fixture(scope="module")
def clf() -> Classifier:
    """The rules alone: this file tests ml.v2.yaml. The shipped classifier's trained layer on
    the same texts is tests/classify/test_layer.py::test_layer_on_the_ml_rule_examples."""
    from pipeline.classify.classifier import Classifier

    return Classifier(learned=False)


MUST = [
    {"title": "Why is my neural network not learning?"},
    {"code": "from sklearn.ensemble import RandomForestClassifier\nclf = RandomForestClassifier()\nclf.fit(X, y)"},
    {"prose": "I split my data with train_test_split and my accuracy on the test set is 0.5.",
     "code": "X_train, X_test, y_train, y_test = train_test_split(X, y)"},
    {"title": "Fine-tuning BERT for text classification gives constant predictions"},
    {"code": "model = keras.Sequential()\nmodel.compile(optimizer='adam', loss='mse')"},
    {"prose": "R glm predicts probabilities on the test data", "code": "fit <- glm(y ~ x, data = train)"},
    {"tags": ("scikit-learn",), "prose": "Which model should I use for this?"},
]

MUST_NOT = [
    {"title": "How to merge two pandas dataframes on a date column"},
    {"title": "Seaborn barplot error bars are too wide", "tags": ("seaborn", "matplotlib")},
    {"prose": "Convert epoch timestamps to datetime in pandas."},
    {"code": "skills = ['Machine Learning', 'Keras', 'SQL']\ndf['skills'].apply(lambda s: s in skills)"},
    # a single tag is not enough: askers add it to plain data questions
    {"tags": ("machine-learning",), "prose": "How do I drop duplicate rows?"},
    {"tags": ("feature-engineering",), "prose": "Create a new column from three columns."},
]


@pytest.mark.parametrize("fields", MUST)
def test_must_be_ml(clf: Classifier, fields: dict) -> None:
    labels = clf.label(fields.get("title", ""), fields.get("prose", ""), [], fields.get("code", ""),
                       list(fields.get("tags", ())))
    assert labels.ml is True
    assert labels.stage != "none"


@pytest.mark.parametrize("fields", MUST_NOT)
def test_must_not_be_ml(clf: Classifier, fields: dict) -> None:
    labels = clf.label(fields.get("title", ""), fields.get("prose", ""), [], fields.get("code", ""),
                       list(fields.get("tags", ())))
    assert (labels.ml, labels.stage, labels.stage2) == (False, "none", None)
