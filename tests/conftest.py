"""Shared fixtures (the sample and study databases), and skipping tests whose data is not on this machine.

Core tests use real files committed in the repository (data/sample, tests/data). Tests marked
`shared` use the larger real dumps in ../shared/data, which users do not have: they skip cleanly.
The paths themselves are in tests/support (`from tests.support import SAMPLE`), never imported from here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.support import SAMPLE, SHARED_DATA, SLOW_IMPORTS

_IMPORTED_AT_COLLECTION = pytest.StashKey[list[str]]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip `@pytest.mark.shared` tests, with the reason, when ../shared/data is absent."""
    if SHARED_DATA.is_dir():
        return
    skip = pytest.mark.skip(reason=f"needs {SHARED_DATA} (the team's real dumps), absent here")
    for item in items:
        if "shared" in item.keywords:
            item.add_marker(skip)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Note which slow libraries were imported by the time collecting ended (see `SLOW_IMPORTS`)."""
    session.config.stash[_IMPORTED_AT_COLLECTION] = sorted(name for name in SLOW_IMPORTS if name in sys.modules)


@pytest.fixture(scope="session")
def imported_at_collection(pytestconfig: pytest.Config) -> list[str]:
    """The slow libraries (tests.support.SLOW_IMPORTS) already imported when collection finished."""
    return pytestconfig.stash.get(_IMPORTED_AT_COLLECTION, [])


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data; tests using it must also be marked `shared`."""
    return SHARED_DATA


@pytest.fixture(scope="session")
def sample_db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DuckDB file holding data/sample, built once per session by the real `ingest`; closed.

    Read it (read_only=True) or take `sample_db_copy` to change it; never write to this one.
    """
    from pipeline.steps import connect
    from pipeline.ingest.load import ingest

    path = tmp_path_factory.mktemp("sample_db") / "sample.duckdb"
    con = connect(path)
    try:
        ingest(con, [SAMPLE])
    finally:
        con.close()
    return path


@pytest.fixture
def sample_db_copy(sample_db_path: Path, tmp_path: Path) -> Path:
    """A private, writable copy of the sample database for one test."""
    import shutil

    copy = tmp_path / "sample.duckdb"
    shutil.copyfile(sample_db_path, copy)
    return copy


@pytest.fixture(scope="session")
def study_db_path(sample_db_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample database after every real analysis stage (text, classify, topics, stages) on the
    study's default selection (notebook ML questions); closed, read it only.

    Export, report and query tests share it so the stages run once per session (about 10 s).
    """
    import shutil

    from pipeline.classify.classifier import classify
    from pipeline.steps import connect
    from pipeline.core.selection import Selection
    from pipeline.coverage.table import run_stages
    from pipeline.text.extract import extract
    from pipeline.topics.fit import TopicParams, run_topics

    path = tmp_path_factory.mktemp("study_db") / "study.duckdb"
    shutil.copyfile(sample_db_path, path)
    con = connect(path)
    try:
        extract(con)
        classify(con)
        run_topics(con, Selection(), TopicParams())
        run_stages(con, Selection())
    finally:
        con.close()
    return path


@pytest.fixture
def sample_con(sample_db_path: Path):
    """A read-only connection to the session's sample database (closed after the test)."""
    import duckdb

    con = duckdb.connect(str(sample_db_path), read_only=True)
    yield con
    con.close()
