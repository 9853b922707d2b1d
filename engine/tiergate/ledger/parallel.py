"""Work over a large ledger on every core: forked workers that inherit what they judge with; each opens the
ledger by its URL (Store.url), on a connection of its own, and never uses the parent's."""
from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator

#: in a forked worker: what it calls, and with what (handed to it when it starts; the parent never sets it, so
#: several threads of one process may each run their own pool)
_task: tuple[Callable, tuple] | None = None


def cores() -> int:
    """How many processes may work at once: 1 where processes cannot be forked (workers inherit compiled
    policies, which cannot be sent to them)."""
    import multiprocessing

    from tiergate.cpus import usable_cpus

    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return min(usable_cpus(), 8)


def _exit_with_parent(parent: int) -> None:
    """A forked worker's initializer: end the worker when the process that started it is gone (killed with
    SIGKILL, say), where it would otherwise wait for work forever (it holds its own queue's pipe open)."""
    import os
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.25)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _start_worker(parent: int, func: Callable, shared: tuple) -> None:
    """A forked worker's initializer: remember its task (inherited through the fork, never pickled), and end
    with its parent."""
    global _task
    _task = (func, shared)
    _exit_with_parent(parent)


def _pool(workers: int, func: Callable, shared: tuple):
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"), initializer=_start_worker,
                               initargs=(os.getpid(), func, shared))


def _run(job: Any) -> Any:
    func, shared = _task
    return func(job, *shared)


def on_every_core(func: Callable, jobs: Iterable[Any], shared: tuple, workers: int,
                  meanwhile: Callable[[], Any] | None = None) -> list:
    """[func(job, *shared) for job in jobs], the jobs shared out among `workers` forked processes; results
    in the order of the jobs. `shared` is inherited, never pickled; each job and result is. `meanwhile` runs
    here while they work."""
    with _pool(workers, func, shared) as pool:
        futures = [pool.submit(_run, job) for job in jobs]
        if meanwhile is not None:
            meanwhile()
        return [future.result() for future in futures]


def streamed(func: Callable, jobs: Iterable[Any], shared: tuple, workers: int) -> Iterator[Any]:
    """func(job, *shared) for each job, in the order of the jobs, as they are done: `workers` forked processes
    work ahead of the reader by at most two jobs each (what is not read yet is held in memory)."""
    from collections import deque

    pool = _pool(workers, func, shared)
    try:
        pending: deque = deque()
        for job in jobs:
            pending.append(pool.submit(_run, job))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def ranges(items: list, parts: int) -> list[tuple[Any, Any]]:
    """(first, last) of `parts` contiguous runs of `items` of about equal length."""
    size = max(1, -(-len(items) // parts))
    return [(items[i], items[min(i + size, len(items)) - 1]) for i in range(0, len(items), size)]
