"""Many independent simulations, scheduled by Dask (DESIGN.md §4).

One function maps a pure function over a list of inputs: on this machine
with Dask's local threaded scheduler (numpy and scipy.fft release the GIL,
and litho's kernel caches are thread-safe, so threads share the kernels
instead of rebuilding them per process), or on a Dask cluster when a
scheduler address is given. No home-made pools or queues.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from .errors import LithoInputError


def map_tasks(fn: Callable[[Any], Any], items: Sequence[Any], *, scheduler: str | None = None,
              workers: int | None = None) -> list:
    """``[fn(item) for item in items]``, computed by Dask.

    Parameters
    ----------
    fn : callable
        A pure function of one argument.
    items : sequence
    scheduler : str, optional
        None or "threads": Dask's local threaded scheduler; "sync": one by
        one in this thread (debugging); "tcp://host:port": a running Dask
        distributed scheduler (needs the ``distributed`` package).
    workers : int, optional
        Threads of the local scheduler (default: one per core).
    """
    import dask

    # fn is tokenised once (it may carry a whole recipe), each task then only by its item
    task = dask.delayed(fn, pure=True)
    tasks = [task(item) for item in items]
    if scheduler in (None, "threads", "sync"):
        kwargs = {"scheduler": scheduler or "threads"}
        if workers and kwargs["scheduler"] == "threads":
            kwargs["num_workers"] = workers
        return list(dask.compute(*tasks, **kwargs))
    with _client(scheduler) as client:
        futures = client.compute(tasks)
        _wait_with_workers(client, futures, scheduler)
        try:
            return list(client.gather(futures))
        except Exception as err:  # noqa: BLE001 - a task lost with its workers, reported in one line
            from distributed import KilledWorker

            if isinstance(err, KilledWorker):
                raise LithoInputError(f"--scheduler {scheduler}: the Dask workers running the tasks died "
                                      f"({err}); start workers and run again") from None
            raise


# Tasks handed to the scheduler at once by iter_tasks, per worker thread (results are consumed between batches).
BATCH_PER_WORKER = 4


def iter_tasks(fn: Callable[[Any], Any], items: Sequence[Any], *, scheduler: str | None = None,
               workers: int | None = None):
    """Yield ``(n, fn(items[n]))`` in order, computed by Dask in batches.

    Like :func:`map_tasks`, but only one batch of results is held at a time,
    so a caller that writes each result out keeps memory bounded by the batch
    (``BATCH_PER_WORKER`` tasks per worker), not by the number of tasks.
    """
    import os

    size = max(1, BATCH_PER_WORKER * (workers or os.cpu_count() or 1))
    if scheduler not in (None, "threads", "sync"):
        size = max(size, 4 * BATCH_PER_WORKER)
    for start in range(0, len(items), size):
        chunk = items[start:start + size]
        for n, result in enumerate(map_tasks(fn, chunk, scheduler=scheduler, workers=workers), start):
            yield n, result


# A cluster left without any worker for this long is a failed run (its tasks would wait forever).
NO_WORKER_S = 15.0
POLL_S = 1.0


def _wait_with_workers(client, futures, scheduler: str) -> None:
    """Wait for ``futures``; refuse in one line once the cluster has had no worker for ``NO_WORKER_S``.

    A worker that dies while others live only costs time: the scheduler
    reruns its tasks elsewhere (the tasks are pure, so the result is the same).
    """
    import time

    idle_since = None
    while not all(f.done() for f in futures):
        time.sleep(POLL_S)
        if client.scheduler_info().get("workers"):
            idle_since = None
            continue
        idle_since = idle_since or time.monotonic()
        if time.monotonic() - idle_since > NO_WORKER_S:
            raise LithoInputError(f"--scheduler {scheduler}: every Dask worker died or left before the tasks "
                                  f"finished (none for {NO_WORKER_S:g} s); start workers and run again")


def check_scheduler(scheduler: str | None) -> None:
    """Refuse (one line, within ``CONNECT_TIMEOUT_S``) a scheduler address that is malformed or does not answer."""
    if scheduler in (None, "threads", "sync"):
        return
    with _client(scheduler) as client:
        if not client.scheduler_info().get("workers"):
            raise LithoInputError(f"--scheduler {scheduler}: the Dask scheduler has no workers")


# Seconds to wait for a Dask scheduler to answer.
CONNECT_TIMEOUT_S = 5


def _client(scheduler: str):
    if not scheduler.startswith(("tcp://", "tls://", "inproc://", "ucx://")):
        raise LithoInputError(f"--scheduler {scheduler!r}: give threads, sync or a Dask scheduler address "
                              "such as tcp://host:8786")
    try:
        from distributed import Client
    except ImportError:
        raise LithoInputError(f"--scheduler {scheduler}: the 'distributed' package is not installed "
                              "(pip install 'dask[distributed]')") from None
    try:
        return Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s", set_as_default=False)
    except (OSError, TimeoutError) as err:
        raise LithoInputError(f"--scheduler {scheduler}: cannot reach the Dask scheduler within "
                              f"{CONNECT_TIMEOUT_S} s ({type(err).__name__})") from None
