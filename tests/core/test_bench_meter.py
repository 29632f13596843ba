"""The benchmarks' meter (bench/ingest.py `measure`, used by every bench that runs a process):
the peak memory of a process tree includes its grandchildren (a stage's worker processes), and
polling it must not slow the measured process down, so PSS is read about once a second while the
tree's size is flat (bench/ingest.py, `measure`). Not timed: the test checks what is measured."""

from __future__ import annotations

import importlib.util
import sys

from tests.support import REPO

ALLOCATE = ("import subprocess, sys; subprocess.run([sys.executable, '-c', "
            "\"import time; block = b'x' * (200 * 2**20); time.sleep(2.5)\"], check=True)")


def _bench_ingest():
    spec = importlib.util.spec_from_file_location("bench_ingest", REPO / "bench" / "ingest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_measure_finds_a_grandchilds_memory_and_reads_pss_about_once_a_second(monkeypatch) -> None:
    bench = _bench_ingest()
    reads, polls = [], []
    pss, rss = bench._pss, bench._rss
    monkeypatch.setattr(bench, "_pss", lambda pids: reads.append(len(pids)) or pss(pids))
    monkeypatch.setattr(bench, "_rss", lambda pids: polls.append(len(pids)) or rss(pids))
    seconds, peak, out, cpu, err = bench.measure([sys.executable, "-c", ALLOCATE])
    assert seconds >= 2.5 and err == "" and out == ""
    assert 200 * 2**20 <= peak < 300 * 2**20  # the grandchild's 200 MB block, plus two small interpreters
    assert max(reads) == 2  # the child and its child were both read
    # PSS read at the start, a few times while the interpreters start and the block is written, then
    # once a second (5 or 6 of about 54 polls, measured with a test suite beside it); at every poll, as before, 54
    assert len(reads) >= 3 and 3 * len(reads) <= len(polls)
