"""A classifier that fails on one question of the sample (tests/classify/test_workers.py); a
module of its own, importable by the worker processes that unpickle it (imports spaCy)."""

from __future__ import annotations

from pipeline.classify.classifier import Classifier


class BrokenClassifier(Classifier):
    def label_many(self, questions: list[tuple]) -> list:
        if any(title.startswith("draw objects on the center of scatter plots") for title, *_ in questions):
            raise RuntimeError("broken classifier")
        return super().label_many(questions)
