"""Where the per-site/per-file tasks run: threads in this process, or a Dask cluster.

Flow parameters carry only plain values (an address, a worker count) so a scheduled deployment
can pass them too; the task runner object is built here, at the edge.
"""

from __future__ import annotations

from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner


def task_runner(dask_address: str | None = None, dask_workers: int = 0, threads: int = 2) -> TaskRunner:
    """A `DaskTaskRunner` on an existing scheduler (`dask_address`) or on a LocalCluster of
    `dask_workers` single-threaded processes; otherwise a thread pool in this process.

    Processes, not threads, on Dask: parsing XML holds the GIL, so only separate processes (or
    machines) parse in parallel. prefect-dask is imported only when asked for.
    """
    if dask_address or dask_workers > 0:
        from prefect_dask import DaskTaskRunner

        if dask_address:
            return DaskTaskRunner(address=dask_address)
        return DaskTaskRunner(
            cluster_class="distributed.LocalCluster",
            cluster_kwargs={"n_workers": dask_workers, "threads_per_worker": 1, "processes": True,
                            "dashboard_address": None},
        )
    return ThreadPoolTaskRunner(max_workers=threads)
