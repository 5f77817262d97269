"""Ctrl-C and SIGTERM: stop a run promptly, and never half-way through compiled code.

Python runs a signal handler between bytecodes, or whenever C code asks
(``PyErr_CheckSignals``). numba's dispatcher asks while it converts a kernel's results:
a ``KeyboardInterrupt`` raised there leaves an exception set under a returned value and
Python reports ``SystemError: CPUDispatcher(...) returned a result with an exception
set`` (or the interrupt is lost). So while :func:`handling` is active, SIGINT and SIGTERM
only *record* the signal inside a :func:`shielded` block (a kernel call, the swap of an
output folder), and raise :class:`KeyboardInterrupt` when the block ends; elsewhere they
raise it at once. Long kernels run in chunks (:func:`chunks`), so the block ends soon.
The signal stays recorded (:func:`requested`) until :func:`handling` ends, so a run
that swallowed the exception somewhere still cannot put its outputs in place.
"""

from __future__ import annotations

import contextlib
import itertools
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

__all__ = ["COMMITTED", "check", "chunks", "handling", "requested", "shielded"]

COMMITTED = "interrupted as the outputs were put in place: they are this run's, complete"
"""The message of an interrupt that came while an output folder was being swapped."""

_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_state: dict[str, Any] = {"signal": None, "depth": 0, "active": 0}


def _handler(signum: int, frame: FrameType | None) -> None:
    _state["signal"] = signum
    if _state["depth"] == 0:
        raise KeyboardInterrupt(signal.Signals(signum).name)


def requested() -> int | None:
    """The signal received while :func:`handling` was active, or None."""
    return _state["signal"]


def check() -> None:
    """Raise :class:`KeyboardInterrupt` if a signal was received (and is still active)."""
    sig = _state["signal"]
    if sig is not None:
        raise KeyboardInterrupt(signal.Signals(sig).name)


@contextlib.contextmanager
def handling() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into :class:`KeyboardInterrupt`, held back in shielded code.

    Only the main thread can set signal handlers: elsewhere (a Dask worker's thread) this
    does nothing. Nested uses share one state; the outermost restores the handlers.

    Examples
    --------
    >>> with handling():
    ...     requested() is None
    True
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    outer = _state["active"] == 0
    previous = {s: signal.getsignal(s) for s in _SIGNALS} if outer else {}
    if outer:
        _state["signal"] = None
        for s in _SIGNALS:
            signal.signal(s, _handler)
    _state["active"] += 1
    try:
        yield
    finally:
        _state["active"] -= 1
        if outer:
            for s, h in previous.items():
                signal.signal(s, h)
            _state["signal"] = None


@contextlib.contextmanager
def shielded() -> Iterator[None]:
    """A block that a signal does not cut: it is recorded, and raised when the block ends.

    Outside :func:`handling` it is handled for the block alone (a kernel called from a
    notebook). In another thread than the main one (a pool's worker) a signal cannot cut
    the block, as Python handles signals in the main thread only; the block leaves the
    main thread's state alone and raises a recorded signal when it ends.

    Examples
    --------
    >>> with shielded():
    ...     pass
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        check()
        return
    with handling():
        _state["depth"] += 1
        try:
            yield
        finally:
            _state["depth"] -= 1
        if _state["depth"] == 0:
            check()


def chunks(n: int, size: int) -> list[slice]:
    """Slices cutting ``range(n)`` into pieces of at most ``size``.

    Run a long compiled loop piece by piece, each in :func:`shielded`: Python gets
    control back between two pieces, so Ctrl-C stops the loop within one piece.

    Examples
    --------
    >>> chunks(10, 4)
    [slice(0, 4, None), slice(4, 8, None), slice(8, 10, None)]
    """
    cuts = [*range(0, n, max(1, int(size))), n]
    return [slice(a, b) for a, b in itertools.pairwise(cuts)] if n else []
