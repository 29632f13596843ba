"""Hand the GIL over quickly while DuckDB runs beside other Python threads of this process.

DuckDB's Python client takes the GIL back many times while a statement runs. Beside a busy Python
thread each of those waits can last Python's switch interval (5 ms by default), and DuckDB crawls:
measured for issue 14, a query of 0.8 s alone took 4.3-6.7 s beside one busy Python thread,
1.1-1.7 s beside a busy process (the cores alone), 1.4 s beside the thread with a 0.5 ms interval.
Ingest runs its feed and parser threads beside DuckDB's insert.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

SWITCH_SECONDS = 0.0005


@contextmanager
def quick_gil_handoff(seconds: float = SWITCH_SECONDS) -> Iterator[None]:
    """Python's thread switch interval at `seconds` for the block, then as it was."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(seconds)
    try:
        yield
    finally:
        sys.setswitchinterval(before)
