"""A page drawn in a second Python process while this one draws another.

:class:`Aside` starts a Python interpreter (:func:`_main`), which imports what it will
need, and then hands it a function's name and arguments (pickled, through its stdin, from
a thread: this process goes on meanwhile); the process calls the function and sends back
the result, or the error, through a pipe of its own.

A new interpreter rather than :mod:`multiprocessing`: with the ``spawn`` method the child
would import the caller's ``__main__`` again (a user's script without a
``if __name__ == "__main__"`` guard would run again), and ``fork`` is out: the network
kernels' OpenMP runtime aborts in a forked child.

The process ends with the block (SIGTERM) when the block is left by an error or an
interrupt, before an output folder can be discarded: nothing writes into a staging
folder after its run has ended. It ignores SIGINT (Ctrl-C reaches the whole process
group; this process decides) and, on Linux, ends when its parent dies.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pickle
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

__all__ = ["Aside"]

_ROOT = str(Path(__file__).resolve().parents[2])  # the folder holding the package
_CHILD = "import sys; from rakennettu.outputs._aside import _main; _main(*sys.argv[1:])"


class Aside:
    """A second Python process: ``with Aside() as a: a.call(func, *args); ...; a.result()``.

    The process starts at once and imports ``warm`` (module names) while this one goes on;
    :meth:`call` hands it ``func`` (a module-level function, found again by its module and
    name) and ``args`` (which pickle). A new interpreter takes seconds: the tests of
    ``outputs.pages`` run it.
    """

    def __init__(self, *, warm: Sequence[str] = ()) -> None:
        read, self._write = os.pipe()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_ROOT, env.get("PYTHONPATH")) if p)
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-c", _CHILD, str(self._write), str(os.getpid()), *warm],
                stdin=subprocess.PIPE, pass_fds=(self._write,), env=env,
            )  # fmt: skip
        finally:
            os.close(self._write)
        self._result = os.fdopen(read, "rb")
        self._sender: threading.Thread | None = None

    def call(self, func: Callable[..., Any], *args: Any) -> None:
        """Hand ``func(*args)`` to the process (once), from a thread: this one goes on."""
        if self._sender is not None:
            raise RuntimeError("a second process runs one call")
        call = (func.__module__, func.__qualname__, args)
        assert self._proc.stdin is not None
        self._sender = threading.Thread(target=_send, args=(self._proc.stdin, call), daemon=True)
        self._sender.start()

    def __enter__(self) -> Aside:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._proc.poll() is None:
            self._proc.terminate()
        self._proc.wait()
        if self._sender is not None:
            self._sender.join()
        if self._proc.stdin is not None:  # never handed a call, or the process ended first
            with contextlib.suppress(OSError):
                self._proc.stdin.close()
        self._result.close()

    def result(self) -> Any:
        """The function's result, once the process has sent it; its error, raised here."""
        if self._sender is None:
            raise RuntimeError("nothing was handed to the second process (Aside.call)")
        try:
            ok, value = pickle.load(self._result)
        except EOFError:
            code = self._proc.wait()
            raise RuntimeError(
                f"the second process ended without a result (exit code {code})"
            ) from None
        if not ok:
            raise value
        return value


def _send(pipe: IO[bytes], call: Any) -> None:
    with contextlib.suppress(OSError):  # the process has ended (an interrupt)
        try:
            pickle.dump(call, pipe, protocol=pickle.HIGHEST_PROTOCOL)
        finally:
            pipe.close()


def _die_with_parent(parent: int) -> None:
    """End this process when its parent dies (Linux's ``PR_SET_PDEATHSIG``)."""
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # it died before that
        sys.exit(1)


def _main(fd: str, parent: str, *warm: str) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent(int(parent))
    with os.fdopen(int(fd), "wb") as out:
        try:
            for module in warm:  # while the caller prepares the call
                importlib.import_module(module)
            module, name, args = pickle.load(sys.stdin.buffer)
            value = getattr(importlib.import_module(module), name)(*args)
            reply: tuple[bool, Any] = (True, value)
            data = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as e:  # sent to the caller, which raises it
            try:
                data = pickle.dumps((False, e), protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:  # an error that does not pickle
                data = pickle.dumps((False, RuntimeError(f"{type(e).__name__}: {e}")))
        out.write(data)
