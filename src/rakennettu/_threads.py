"""Two small tools for running parts of a run side by side on threads."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["Background", "Once"]

T = TypeVar("T")


class Background(Generic[T]):
    """Compute ``work()`` on a thread of its own; :meth:`result` waits for it.

    The thread is a daemon: a run that stops (an error, Ctrl-C) does not wait for it.
    An exception raised by ``work`` is raised again by :meth:`result`.

    Examples
    --------
    >>> job = Background(lambda: sum(range(10)))
    >>> job.result()
    45
    >>> Background(lambda: 1 / 0).result()
    Traceback (most recent call last):
    ...
    ZeroDivisionError: division by zero
    """

    def __init__(self, work: Callable[[], T], *, name: str = "rakennettu") -> None:
        self._value: T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(work,), name=name, daemon=True)
        self._thread.start()

    def _run(self, work: Callable[[], T]) -> None:
        try:
            self._value = work()
        except BaseException as e:  # handed to the thread that asks for the result
            self._error = e

    def result(self) -> T:
        """The value of ``work()``, once it is done (or its exception)."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]


class Once(Generic[T]):
    """A value computed on first use, once, whichever thread asks first.

    Examples
    --------
    >>> calls = []
    >>> value = Once(lambda: calls.append(1) or len(calls))
    >>> value(), value(), calls
    (1, 1, [1])
    """

    def __init__(self, compute: Callable[[], T]) -> None:
        self._compute: Callable[[], T] | None = compute
        self._value: T | None = None
        self._lock = threading.Lock()

    def __call__(self) -> T:
        with self._lock:
            if self._compute is not None:
                self._value = self._compute()
                self._compute = None
        return self._value  # type: ignore[return-value]
