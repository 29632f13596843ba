"""The coverage statistics' simulated world: the product's stage list, a true confusion matrix like
the product's (from its labels on train.csv) and realistic notebook / baseline shares."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.core.codebook import STAGES
from tests.support import TEST_DATA
from tests.support.simulate import smoothed_truth


@pytest.fixture(scope="session")
def world() -> dict:
    """15 ML stages: a true confusion matrix built from the product's labels on train.csv (rows
    with few gold questions shrunk toward a generic row; tests/data/coverage/README.md), the real
    gold support per stage (939 ML questions) and baseline / notebook true shares."""
    counts = pd.read_csv(TEST_DATA / "coverage" / "train_confusion_counts.csv", index_col=0)
    counts = counts.drop(index="not-ml", columns="none")
    assert tuple(counts.index) == STAGES and tuple(counts.columns) == STAGES
    truth = smoothed_truth(counts.to_numpy(), list(range(15)))
    support = counts.sum(axis=1).to_numpy().astype(int)
    base = support / support.sum()
    tilt = np.ones(15)
    for stage, factor in {"environment": 2.5, "data-preparation": 1.3, "feature-engineering": 0.5,
                          "model-evaluation": 0.6, "deployment": 1.5}.items():
        tilt[STAGES.index(stage)] = factor
    nb = base * tilt / (base * tilt).sum()
    return {"truth": truth, "support": support, "base": base, "nb": nb}
