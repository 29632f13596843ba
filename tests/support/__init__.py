"""What the tests share besides fixtures: paths to real data, and helper modules.

Every test folder is a package (`tests.<folder>`, so modules of the same name in two folders do
not clash, and no test folder is put on sys.path where it could shadow a library: `tests/coverage`
would hide coverage.py from numba). pytest imports the `tests` package first, for tests/conftest.py,
so any test module can write:

    from tests.support import SAMPLE, TEST_DATA
    from tests.support.ingest_helpers import count_rows
    from tests.support.rangeserver import RangeServer
    from tests.support.procs import kill_group

Core tests use real files committed in the repository (data/sample, data/gold, tests/data). Tests
marked `shared` use the larger real dumps in ../shared (STACKMINE_SHARED overrides it),
which users do not have: tests/conftest.py skips them cleanly when SHARED_DATA is absent.
Fixtures live in tests/conftest.py (and tests/flows/conftest.py for Prefect), not here.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data" / "sample"
TEST_DATA = REPO / "tests" / "data"
SHARED = Path(os.environ.get("STACKMINE_SHARED", REPO.parent / "shared"))
SHARED_DATA = SHARED / "data"
# The gold labels ship in the repository (data/gold, unchanged copies of ../shared/gold's files).
GOLD_DEV = REPO / "data" / "gold" / "dev.csv"
GOLD_TRAIN = REPO / "data" / "gold" / "train.csv"

# Libraries that take a second or more to import. Test modules reach them (through pipeline and
# flows) only inside the tests and fixtures that use them, so collecting the suite stays fast;
# tests/test_collection.py checks that collecting imported none of them.
SLOW_IMPORTS = ("spacy", "sklearn", "bertopic", "umap", "hdbscan", "prefect", "dask", "matplotlib")


def subset(gold: list, guesses: list, keep) -> tuple[list, list]:
    """The gold rows whose (site, post_id) `keep` accepts, and the guesses beside them."""
    chosen = [i for i, g in enumerate(gold) if keep((g.site, g.post_id))]
    return [gold[i] for i in chosen], [guesses[i] for i in chosen]
