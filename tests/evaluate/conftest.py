"""The classifier's labels of every bundled gold question, computed once per session (about 10 s):
out-of-fold for the training questions, the shipped model's for the held-out split, and the rules
alone beside them."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def bundled_labels() -> tuple[list, list, list, set]:
    """(gold rows of dev.csv + train.csv, the classifier's guesses, the rules' guesses, held-out keys)."""
    from pipeline.classify.classifier import Classifier
    from pipeline.core.paths import GOLD
    from pipeline.evaluate.gold import bundled_labels, read_gold
    from pipeline.evaluate.split import read_split

    classifier = Classifier()
    rules_only = Classifier(rules=classifier.rules, learned=False)
    gold = read_gold(GOLD / "dev.csv") + read_gold(GOLD / "train.csv")
    texts, guesses = bundled_labels(gold, GOLD, classifier, rules_only)
    return gold, guesses, rules_only.label_many(texts), read_split()
