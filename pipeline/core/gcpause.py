"""Pause Python's cycle collector around allocation-heavy work that makes no reference cycles.

Labelling a batch (classify) and parsing chunks (ingest) allocate many short-lived objects while
large batches are alive, so the collector keeps re-scanning them and finds nothing (a sizeable
share of classify's CPU when it runs). Reference counting still frees
everything; cycles other code made meanwhile are collected once the collector is back on.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """The collector off for the block, then back to how it was."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
