"""The suite itself: collecting it stays fast (`pytest --collect-only` in about a second or two)."""

from __future__ import annotations


def test_collecting_imports_no_slow_library(imported_at_collection: list[str]) -> None:
    """spaCy, scikit-learn, BERTopic, Prefect, matplotlib... load in the tests and fixtures that use
    them (import inside the function), never at a test module's top, where every run would pay them."""
    assert imported_at_collection == []
