"""platforms.v1.yaml: texts that must label a platform, and texts that must not (codebook §1)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # the classifier loads spaCy: imported by the fixture, not at collection
    from pipeline.classify.classifier import Classifier


@pytest.fixture(scope="module")
def clf() -> Classifier:
    from pipeline.classify.classifier import Classifier

    return Classifier()


def _platforms(clf: Classifier, title: str = "", prose: str = "", code: str = "", tags: tuple[str, ...] = (),
               inline: tuple[str, ...] = ()) -> list[str]:
    return clf.label(title, prose, list(inline), code, list(tags)).platforms


MUST = [
    ({"tags": ("python", "jupyter-notebook")}, ["jupyter"]),
    ({"code": "----> 3 df.plot()\n<ipython-input-4-6d2f9a0b1c3e> in <module>"}, ["jupyter"]),
    ({"code": "Input In [71], in <cell line: 1>()"}, ["jupyter"]),
    ({"code": "Cell In[5], line 2\n      1 import numpy as np"}, ["jupyter"]),
    ({"code": "In [3]: df.head()\nOut[3]:"}, ["jupyter"]),
    ({"code": "%matplotlib inline\nimport matplotlib.pyplot as plt"}, ["jupyter"]),
    ({"prose": "My kernel died when I load the file."}, ["jupyter"]),
    ({"title": "Plot does not show in JupyterLab"}, ["jupyter"]),
    ({"code": "from google.colab import drive\ndrive.mount('/content/drive')"}, ["colab"]),
    ({"prose": "I train it on Google Colab with a GPU runtime."}, ["colab"]),
    # a kernel sign goes to the hosted platform found, not to jupyter as well
    ({"code": "<ipython-input-3-1a2b3c> in <module>\n/usr/local/lib/python3.7/dist-packages/pandas/core/frame.py"}, ["colab"]),
    ({"code": "df = pd.read_csv('/kaggle/input/titanic/train.csv')"}, ["kaggle"]),
    ({"tags": ("kaggle",), "prose": "How do I list the files of my dataset?"}, ["kaggle"]),
    ({"code": "dbutils.fs.ls('/mnt/raw')"}, ["databricks"]),
    ({"tags": ("amazon-sagemaker",)}, ["sagemaker"]),
    ({"prose": "I run a Jupyter notebook in VS Code and the cell output is cut."}, ["jupyter", "vscode"]),
    ({"prose": "In our Zeppelin notebook the paragraph fails."}, ["other"]),
    ({"tags": ("jupyter-notebook", "pycharm")}, ["jupyter", "other"]),
]

MUST_NOT = [
    {"prose": "I downloaded the Titanic data from Kaggle and read it with pandas."},
    {"prose": "This dataset comes from a Kaggle competition."},
    {"tags": ("visual-studio-code",), "prose": "VS Code does not find my interpreter."},
    {"prose": "Each cell of the dataframe holds a list."},
    {"code": "Traceback (most recent call last):\n  File \"main.py\", line 3, in <module>\nKeyError: 'a'"},
    {"tags": ("python", "pandas"), "prose": "How to merge two data frames on a key column?"},
    {"tags": ("data-science-experience",), "prose": "Weighted average per group."},
]


@pytest.mark.parametrize(("fields", "expected"), MUST)
def test_must_label(clf: Classifier, fields: dict, expected: list[str]) -> None:
    assert _platforms(clf, **fields) == expected


@pytest.mark.parametrize("fields", MUST_NOT)
def test_must_not_label(clf: Classifier, fields: dict) -> None:
    assert _platforms(clf, **fields) == []


def test_evidence_names_the_signal(clf: Classifier) -> None:
    labels = clf.label("", "", [], "<ipython-input-12-abc> in <module>", ["jupyter-notebook"])
    assert labels.evidence["platforms"] == {"jupyter": ["code:<ipython-input-12", "tags:jupyter-notebook"]}
