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
    reads = []
    pss = bench._pss
    monkeypatch.setattr(bench, "_pss", lambda pids: reads.append(len(pids)) or pss(pids))
    seconds, peak, out, cpu, err = bench.measure([sys.executable, "-c", ALLOCATE])
    assert seconds >= 2.5 and err == "" and out == ""
    assert 200 * 2**20 <= peak < 300 * 2**20  # the grandchild's 200 MB block, plus two small interpreters
    assert max(reads) == 2  # the child and its child were both read
    # a read at the start, one or two while the block is written, then one a second (5 here): read
    # every poll, as before, it would be about 40
    assert 3 <= len(reads) <= 4 + seconds / bench.PSS_EVERY
