"""A stage's per-batch work on every core: worker processes, results back in order, one writer.

text and classify turn a batch of rows into a batch of rows, with nothing shared between batches,
so one site (Stack Overflow is one site) can use every core. The database stays with the calling
process, because DuckDB lets one process write a file: it reads the scope in batches (consecutive
slices of the scope as the table stores them), hands each to a worker process as an Arrow record
batch, and inserts what comes back in the order it was read. The table is therefore the serial
path's, row for row (tests/classify/test_workers.py). Memory stays flat: at most
`IN_FLIGHT_PER_WORKER` batches per worker are out at a time.

Batches cross between processes as Arrow IPC files in the run's temporary folder (TMPDIR), read
back through a memory map, and only their paths go through the pool's pipe. Sent through the pipe,
a batch was pickled, written, read and unpickled, copied at each step on the same cores that parse;
written to a file it is copied once and read in place (the saving is in README, Performance).

A worker process exits by itself when the process that started it dies (kill -9 included: a
watchdog thread sees it reparented), and removes the run's temporary folder on its way out, so a
killed stage leaves no process and no batch files behind; the database keeps the old rows, since
nothing was committed.

Processes, not threads: HTML parsing and the spaCy matcher hold the GIL. Spawned, not forked: the
parent runs DuckDB's threads, and a fork copies their locks in whatever state they are in.
With N workers the caller starts N worker processes and only reads, hands out and writes: it
needs a fraction of a core, and when it also took batches of its own the workers waited for it
while it parsed (README, Performance: the speed-up on 2 cores, before and after). Workers load
nothing from the network: they import the same installed packages and receive what they need (a
classifier) from the caller.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import shutil
import signal
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pyarrow as pa

from pipeline.core.errors import StackmineError

# Batches handed to each worker process and not yet written. The writer stops for about a second
# each time DuckDB writes a finished row group of the transaction (measured with 122,880-row groups
# of question_text; 65,536 since pipeline/core/db.py attaches files so); with 2 batches per worker
# the workers ran dry then and a core idled (README, Performance).
# 12 batches of 2,000 questions are about 70 MB per worker (text: bodies in, parsed parts out), in
# the temporary folder while they wait.
IN_FLIGHT_PER_WORKER = 12
# How often a worker process checks that the process that started it is still alive.
WATCH_SECONDS = 0.5
# Below this many rows a scope is done in-process: starting a worker (a fresh interpreter that
# imports lxml or spaCy, about 1-2 CPU-seconds) costs more than the rows it would take.
PARALLEL_MIN_ROWS = 20_000

Work = Callable[[pa.RecordBatch], pa.RecordBatch]


class WorkerDied(StackmineError):
    """A worker process ended without a result (killed by a signal, e.g. the out-of-memory killer)."""


class HandOffFailed(StackmineError):
    """A batch could not be written to the temporary folder the worker processes share (full disk)."""


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the platform tells it, which a
    container or `taskset` may set below the machine's count), at least 1."""
    if hasattr(os, "sched_getaffinity"):
        return max(len(os.sched_getaffinity(0)), 1)
    return os.cpu_count() or 1


def worker_count(requested: int | None, rows: int) -> int:
    """Cores for a scope of `rows`: `requested` as given, or (None) every available core for a
    large scope and this process alone for a small one."""
    if requested is not None:
        return max(requested, 1)
    return available_cores() if rows >= PARALLEL_MIN_ROWS else 1


def map_batches(work: Work, batches: Iterable[pa.RecordBatch], workers: int,
                initializer: Callable[..., object] | None = None, initargs: tuple = ()) -> Iterator[pa.RecordBatch]:
    """`work(batch)` for each batch, in input order: in this process when `workers` is 1, else in
    `workers` worker processes while this one reads and writes.

    `work` and `initializer` must be module-level functions (they are sent to the workers by
    name); `initializer(*initargs)` runs once in each process that works (this one, when it works
    alone), before any work. An exception in a worker is raised here, at its batch.
    """
    if workers <= 1:
        if initializer is not None:
            initializer(*initargs)
        yield from map(work, batches)
        return
    context = multiprocessing.get_context("spawn")
    # The initializer and its arguments (a classifier: rules and model, megabytes) reach the
    # workers through a file, not through spawn's start-up pipe. Python 3.11 writes a process's
    # start-up data into a pipe whose read end the parent keeps open until the write is done: a
    # worker killed while it starts (the OOM killer, kill -9) left the stage blocked in that write
    # for ever once the data exceeded the pipe's buffer (64 KB). Small start-up data never blocks.
    with tempfile.TemporaryDirectory(prefix="stackmine-workers-") as folder:
        setup = Path(folder) / "setup.pickle"
        setup.write_bytes(pickle.dumps((initializer, initargs), protocol=pickle.HIGHEST_PROTOCOL))
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_start,
                                 initargs=(os.getpid(), str(setup))) as pool:
            _start_all_at_once(pool)
            pending: deque[Future] = deque()  # in input order
            try:
                for number, batch in enumerate(batches):
                    pending.append(pool.submit(_work_on_file, work, _handed(batch, Path(folder) / f"{number}.arrow")))
                    while pending and (pending[0].done() or len(pending) > IN_FLIGHT_PER_WORKER * workers):
                        yield _taken(pending.popleft().result())
                while pending:
                    yield _taken(pending.popleft().result())
            except BrokenProcessPool as error:
                message = _died(pool)
                _kill_all(pool)
                raise WorkerDied(message) from error
            finally:
                for future in pending:
                    future.cancel()


def _died(pool: ProcessPoolExecutor) -> str:
    """What to tell the user when a worker process died: which, of what, and what to do. The
    exit codes come from the pool's process table (CPython keeps it after the pool breaks)."""
    codes = [(pid, process.exitcode) for pid, process in dict(getattr(pool, "_processes", None) or {}).items()
             if process.exitcode not in (None, 0)]
    if codes:
        pid, code = codes[0]
        how = f"died from signal {-code} ({signal.Signals(-code).name})" if code < 0 else f"exited with code {code}"
        who = f"a worker process (pid {pid}) {how}"
    else:
        who = "a worker process died"
    return (f"{who} while the stage ran; nothing was written, the table keeps its previous rows.\n"
            "  What to do: run the step again; if the machine ran out of memory (signal 9 from the "
            "out-of-memory killer, see `dmesg`), give it fewer --workers")


def _start_all_at_once(pool: ProcessPoolExecutor) -> None:
    """Have the pool start all its processes at the first submit, before its manager thread runs.

    Python 3.11's pool starts spawned processes one per submit, beside the thread that watches
    them. A process that dies while a later one starts (killed while starting: the OOM killer)
    then races the pool's clean-up: the later process escapes its terminate and the pool waits
    for it for ever, or the submit fails on a closed queue (tests/classify/test_workers.py, 1 in 3
    runs with two worker processes). Started together, as the pool does for forked processes,
    every process is there before the manager thread looks. The attribute is the pool's own
    switch between the two ways; without it (another Python) nothing changes."""
    if hasattr(pool, "_safe_to_dynamically_spawn_children"):
        pool._safe_to_dynamically_spawn_children = False


def _kill_all(pool: ProcessPoolExecutor) -> None:
    """Kill the pool's processes that are still alive, so that leaving a broken pool cannot wait
    for one that waits for work."""
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        if process.exitcode is None:
            process.kill()


def _handed(batch: pa.RecordBatch, path: Path) -> str:
    """Write `batch` to `path` for another process to read with `_taken`; the path, as a string."""
    try:
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, batch.schema) as writer:
            writer.write_batch(batch)
    except OSError as exc:
        raise HandOffFailed(f"could not write a batch for the worker processes to {path.parent} ({exc}).\n"
                            "  What to do: free space there, or point TMPDIR at a folder with room (about "
                            "100 MB per worker), or run with --workers 1; nothing was written") from None
    return str(path)


def _taken(path: str) -> pa.RecordBatch:
    """The batch `_handed` wrote to `path`, read through a memory map (no copy), the file removed:
    the map lives as long as the batch's buffers do."""
    source = pa.memory_map(path, "r")
    os.unlink(path)
    return pa.ipc.open_stream(source).read_next_batch()


def _work_on_file(work: Work, path: str) -> str:
    """In a worker process: `work` on the batch at `path`; where its result was written."""
    done = work(_taken(path))
    return _handed(done, Path(f"{path}.done"))


def _start(parent: int, setup: str) -> None:
    """A worker process's first act: watch the parent, then the stage's own initializer (read
    from the `setup` file `map_batches` wrote, in the run's temporary folder)."""
    threading.Thread(target=_watch, args=(parent, Path(setup).parent), name="stackmine-parent-watch",
                     daemon=True).start()
    initializer, initargs = pickle.loads(Path(setup).read_bytes())
    if initializer is not None:
        initializer(*initargs)


def _watch(parent: int, folder: Path) -> None:
    """Exit this worker as soon as `parent` is no longer its parent (it died and the worker was
    reparented), removing the run's temporary `folder`, which the dead parent cannot. Without this,
    a worker of a killed stage waits on its task queue for ever: it holds that queue's write end
    itself, so the queue never reports the parent gone."""
    while os.getppid() == parent:
        time.sleep(WATCH_SECONDS)
    for _ in range(3):  # a file another worker writes meanwhile can make one pass fail
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            break
        time.sleep(0.05)
    os._exit(1)
