"""Shared fixtures: paths to real data, and skipping tests whose data is not on this machine.

Core tests use real files committed in the repository (data/sample, tests/data). Tests marked
`shared` use the larger real dumps in ../shared/data, which users do not have: they skip cleanly.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "data" / "sample"
TEST_DATA = REPO / "tests" / "data"
SHARED = Path(os.environ.get("STACKMINE_SHARED", REPO.parent / "shared"))
SHARED_DATA = SHARED / "data"
GOLD_DEV = SHARED / "gold" / "dev.csv"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip `@pytest.mark.shared` tests, with the reason, when ../shared/data is absent."""
    if SHARED_DATA.is_dir():
        return
    skip = pytest.mark.skip(reason=f"needs {SHARED_DATA} (the team's real dumps), absent here")
    for item in items:
        if "shared" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data; tests using it must also be marked `shared`."""
    return SHARED_DATA
