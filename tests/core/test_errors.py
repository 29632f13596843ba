"""Named errors survive crossing a process (a Dask worker, Prefect's result store) unchanged, so
`stackmine run --dask-workers N` prints the same line as a run in one process."""

from __future__ import annotations

import pickle

from pipeline.core.errors import DumpError, StackmineError
from pipeline.core.sqlguard import WhereRefused


def test_named_errors_pickle_to_the_same_class_and_message() -> None:
    errors = [DumpError("site/Posts.xml", 1049, "file ends before its closing </posts>", "re-download it"),
              WhereRefused("1=1) ; DROP TABLE posts; --", "it contains `;` (a second statement)"),
              StackmineError("plain")]
    for error in errors:
        back = pickle.loads(pickle.dumps(error))
        assert (type(back), str(back)) == (type(error), str(error))
