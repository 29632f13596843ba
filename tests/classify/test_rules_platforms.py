"""platforms.v2.yaml: texts that must label a platform, and texts that must not (codebook §1)."""

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
    # v2: VS Code's own notebook signs
    ({"prose": "The kernel picker in VS Code shows Jupyter Server: local and nothing runs."}, ["jupyter", "vscode"]),
    ({"code": "Jupyter Server: local\nPython 3.10.4"}, ["vscode"]),
    ({"code": "c:\\work\\model.ipynb Cell 4 in <cell line: 2>()\n----> 2 model.fit(X, y)"}, ["jupyter", "vscode"]),
    ({"code": "Output exceeds the size limit. Open the full output data in a text editor"}, ["vscode"]),
    # v2: a notebook cell named by its role
    ({"prose": "The training cell runs for an hour and then stops."}, ["jupyter"]),
    ({"prose": "It works in the previous cell but not here."}, ["jupyter"]),
    # v2: Spyder's IPython console (runfile) is `other`, even with an IPython-style traceback
    ({"code": "runfile('C:/Users/me/w2v.py', wdir='C:/Users/me')\n<ipython-input-10-1a2b> in <module>"}, ["other"]),
    ({"code": "File ~\\anaconda3\\lib\\site-packages\\spyder_kernels\\py3compat.py:356 in compat_exec"}, ["other"]),
    # v2: a link with in-platform signs is still that platform
    ({"prose": "Notebook: https://colab.research.google.com/drive/1abc", "code": "from google.colab import drive"},
     ["colab"]),
]

MUST_NOT = [
    {"prose": "I downloaded the Titanic data from Kaggle and read it with pandas."},
    {"prose": "This dataset comes from a Kaggle competition."},
    {"tags": ("visual-studio-code",), "prose": "VS Code does not find my interpreter."},
    {"prose": "Each cell of the dataframe holds a list."},
    {"code": "Traceback (most recent call last):\n  File \"main.py\", line 3, in <module>\nKeyError: 'a'"},
    {"tags": ("python", "pandas"), "prose": "How to merge two data frames on a key column?"},
    {"tags": ("data-science-experience",), "prose": "Weighted average per group."},
    # v2: a shared notebook is not where the asker works (codebook: a link to a rendered notebook)
    {"prose": "I made a public Google Colab notebook so you can run the example: https://colab.research.google.com/drive/1FE4"},
    {"prose": "Here is the link to the notebook: https://www.kaggle.com/someone/lda-and-document-similarity. "
              "In the notebook the similarity is computed for a few documents."},
    {"prose": "The tutorial is at https://github.com/someone/book/blob/master/chapter05/simple-rnn.ipynb"},
    {"prose": "I attach the Google Colab so you can see the data: https://colab.research.google.com/drive/1x"},
    {"prose": "Each cell of the output table should hold the mean; the cell above is the header."},
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
