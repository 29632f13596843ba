"""stages.v2.yaml: texts whose primary stage is clear, and stages they must not get (codebook §3)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # the classifier loads spaCy: imported by the fixture, not at collection
    from pipeline.classify.classifier import Classifier


@pytest.fixture(scope="module")
def clf() -> Classifier:
    from pipeline.classify.classifier import Classifier

    return Classifier(learned=False)  # the stage rules themselves, not the trained layer


CASES = [
    ("Which machine learning model should I use to predict churn?", "", "", "problem-formulation"),
    ("How to handle missing values before training a random forest", "I want to impute NaN values for my model.",
     "df.fillna(df.mean())", "data-preparation"),
    ("One-hot encoding categorical features for a classifier", "", "pd.get_dummies(df)\nclf.fit(X, y)",
     "feature-engineering"),
    ("Loss becomes NaN after a few epochs", "My Keras model loss is nan while training.",
     "model.fit(X, y, epochs=10)", "model-training"),
    ("Why is my cross-validation accuracy much higher than test accuracy?", "Is the model overfitting?", "",
     "model-evaluation"),
    ("How to get SHAP values for my XGBoost model", "I want to explain individual predictions.", "", "interpretability"),
    ("Fine-tune a pretrained BERT model from Hugging Face", "", "AutoModel.from_pretrained('bert-base-uncased')",
     "pretrained-reuse"),
    ("Deploy a trained scikit-learn model with Flask", "I saved the model with pickle and want to serve it.", "",
     "deployment"),
    ("ModuleNotFoundError: No module named 'tensorflow' in Jupyter", "pip install did not help for my model", "",
     "environment"),
    ("Tool to draw bounding boxes for image annotation", "We label images for an object detection model.", "",
     "data-labelling"),
    ("How to detect data drift of a model in production", "We want monitoring and retraining triggers.", "",
     "monitoring"),
]


@pytest.mark.parametrize(("title", "prose", "code", "stage"), CASES)
def test_primary_stage(clf: Classifier, title: str, prose: str, code: str, stage: str) -> None:
    assert clf.label(title, prose, [], code, ["machine-learning", "python"]).stage == stage


def test_library_name_alone_is_not_a_stage(clf: Classifier) -> None:
    """Codebook: pick the stage of the work, not the library's name."""
    labels = clf.label("Creating an image dataset for a TensorFlow LSTM", "I resize the images into a numpy array.",
                       [], "np.save('dataset', np.array(data))", ["tensorflow", "lstm"])
    assert labels.stage == "data-preparation"


def test_no_stage_term_gets_default_and_evidence_says_so(clf: Classifier) -> None:
    labels = clf.label("sklearn question", "", [], "import sklearn", [])
    assert labels.ml and labels.stage == "model-training"
    assert labels.evidence["stage"] == {"default": ["model-training"]}
