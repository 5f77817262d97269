"""Independent jobs shared between this process and spawned workers holding one context.

Each worker is a new Python process (loky, joblib's process pool: started clean, never
forked, as a fork after the compiled kernels' OpenMP threads have run aborts; and
without running a script's ``__main__`` again). It reads the context once, pickled in
a temporary file, builds its state from it (``setup``) and then runs chunks of jobs.
This process takes part: it takes chunks from the end of the queue while the workers
take them from the front, so it works while the workers are still starting. The first
chunk is always a worker's (a pool that cannot start is an error, never hidden).
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any, TypeVar

from rakennettu import interrupt

__all__ = ["map_shared"]

C = TypeVar("C")
S = TypeVar("S")
T = TypeVar("T")
R = TypeVar("R")

#: A worker's state, built once from the context (one per process: loky runs a worker's
#: jobs in turn on its main thread).
_WORKER: dict[str, Any] = {}


def _start(setup: Callable[[Any], Any], path: str) -> None:
    """A worker's initializer: the state from the pickled context; Ctrl-C left to the parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops the pool on Ctrl-C
    with open(path, "rb") as f:
        _WORKER["state"] = setup(pickle.load(f))


def _run(work: Callable[[Any, Any], Any], items: Sequence[Any]) -> list[Any]:
    """A chunk of jobs on a worker's state."""
    state = _WORKER["state"]
    return [work(state, item) for item in items]


def map_shared(
    work: Callable[[S, T], R],
    items: Sequence[T],
    *,
    setup: Callable[[C], S],
    context: C,
    state: S,
    processes: int,
    chunk: int = 1,
    done: Callable[[int], Any] | None = None,
) -> list[R]:
    """``[work(state, item) for item in items]`` on this process and ``processes - 1`` workers.

    Parameters
    ----------
    work
        The job, a module-level function (workers import it by name).
    items
        The jobs' inputs (picklable).
    setup
        A module-level function making a worker's state from the context, once per worker.
    context
        Sent to each worker once, pickled.
    state
        This process's state (``setup(context)`` made already).
    processes
        Processes in all, this one included (at least 2).
    chunk
        Jobs sent to a worker at a time.
    done
        Called with the number of jobs just finished (a progress bar's ``update``).

    Returns
    -------
    list
        The results in the items' order. The first error (of a job here or on a worker)
        is raised at once, and the workers are stopped.
    """
    from joblib.externals.loky import ProcessPoolExecutor

    if processes < 2:
        raise ValueError(f"processes must be at least 2, got {processes}")
    step = max(1, int(chunk))
    parts = [list(items[i : i + step]) for i in range(0, len(items), step)]
    results: list[list[R] | None] = [None] * len(parts)
    # the context goes through a file: sent with the process, it would hold this one in
    # the pipe's write until the worker has imported the package (seconds)
    fd, path = tempfile.mkstemp(prefix="rakennettu-", suffix=".pickle")
    try:
        with os.fdopen(fd, "wb") as f:
            pickle.dump(context, f, protocol=pickle.HIGHEST_PROTOCOL)
        others = set(multiprocessing.active_children())
        pool = ProcessPoolExecutor(
            max_workers=processes - 1,
            initializer=_start,
            initargs=(setup, path),
            env={"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
        )
        try:
            _share(pool, work, parts, results, state, done)
        except BaseException:
            pool.shutdown(wait=False, kill_workers=True)
            _stop(set(multiprocessing.active_children()) - others)
            raise
        pool.shutdown(wait=True)
    finally:
        os.unlink(path)  # every worker has read it (or is gone)
    return [r for part in results if part is not None for r in part]


def _stop(workers: set[Any]) -> None:
    """Kill this pool's workers and wait for them.

    loky's ``shutdown(kill_workers=True)`` after Ctrl-C left a worker waiting for its
    next job, and the interpreter waits at exit for its children.
    """
    for p in workers:
        p.terminate()
    for p in workers:
        p.join(timeout=10)


def _share(
    pool: Any,
    work: Callable[[Any, Any], Any],
    parts: list[list[Any]],
    results: list[Any],
    state: Any,
    done: Callable[[int], Any] | None,
) -> None:
    """Chunks to the pool from the front, here from the end; results in place."""
    futures: list[Future[list[Any]]] = [pool.submit(_run, work, part) for part in parts]
    counted: set[int] = set()
    for i in range(len(parts) - 1, 0, -1):  # from the end, until a worker holds one
        if not futures[i].cancel():
            break
        interrupt.check()
        results[i] = [work(state, item) for item in parts[i]]
        _count(futures, parts, results, counted, done, i)
    for i, f in enumerate(futures):
        if results[i] is None:
            results[i] = f.result()
            _count(futures, parts, results, counted, done, i)


def _count(
    futures: list[Future[Any]],
    parts: list[list[Any]],
    results: list[Any],
    counted: set[int],
    done: Callable[[int], Any] | None,
    here: int,
) -> None:
    """Report chunks finished here or on a worker; raise a worker's error at once."""
    n = 0
    for i, f in enumerate(futures):
        if i in counted:
            continue
        if i == here or (not f.cancelled() and f.done()):
            if i != here:
                f.result()  # a worker's error
            counted.add(i)
            n += len(parts[i])
    if done is not None and n:
        done(n)
