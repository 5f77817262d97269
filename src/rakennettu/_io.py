"""Small I/O helpers: atomic writes and file hashes."""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import math
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rakennettu.errors import OutputError, RakennettuError

__all__ = [
    "atomic_path",
    "default_cache_dir",
    "file_hash",
    "json_plain",
    "output_errors",
    "write_problem",
]

# Why a write fails when the place, not the program, is at fault.
_WRITE_ERRNOS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
}
# The same conditions as GDAL and SQLite report them through pyogrio (not an OSError).
_WRITE_MESSAGES = {
    "no space left on device": "the disk is full",
    "database or disk is full": "the disk is full",
    "disk quota exceeded": "the disk quota is used up",
    "read-only file system": "the file system is read-only",
    "permission denied": "permission denied",
}


@contextlib.contextmanager
def atomic_path(final: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``final``; rename it over ``final`` on success.

    If the block raises, the temporary file is removed and ``final`` is left as it was,
    so an interrupted run never leaves a half-written file in place of a good one.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("done")
    >>> target.read_text()
    'done'
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    suffix = "".join(final.suffixes) or ".tmp"
    fd, name = tempfile.mkstemp(prefix=f".{final.stem}.", suffix=f".part{suffix}", dir=final.parent)
    os.close(fd)
    tmp = Path(name)
    tmp.unlink()  # writers (GDAL, osmium) want to create the file themselves
    try:
        yield tmp
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)


def write_problem(exc: BaseException) -> str | None:
    """Why a write failed, when it failed for want of space or permission; else None.

    Examples
    --------
    >>> write_problem(OSError(errno.ENOSPC, "No space left on device"))
    'the disk is full'
    >>> write_problem(ValueError("no such column")) is None
    True
    """
    if isinstance(exc, OSError) and exc.errno in _WRITE_ERRNOS:
        return _WRITE_ERRNOS[exc.errno]
    text = str(exc).lower()
    return next((why for msg, why in _WRITE_MESSAGES.items() if msg in text), None)


@contextlib.contextmanager
def output_errors(folder: str | Path) -> Iterator[None]:
    """Turn a write that fails for want of space or permission into :class:`OutputError`.

    A full disk, a read-only file system or a folder without write permission is a
    problem of the environment, not a bug: the error names the file (or ``folder``) and
    what to do. Other errors pass unchanged.

    Examples
    --------
    >>> with output_errors("out/town"):
    ...     raise OSError(errno.ENOSPC, "No space left on device", "out/town/run.json")
    Traceback (most recent call last):
    ...
    rakennettu.errors.OutputError: cannot write to out/town (...run.json): the disk is full; ...
    """
    try:
        yield
    except RakennettuError:
        raise
    except Exception as e:
        why = write_problem(e)
        if why is None:
            raise
        raise OutputError(
            f"cannot write to {_where(folder, getattr(e, 'filename', None))}: {why}; free "
            "some space or fix the folder's permissions, or write elsewhere (--out DIR; "
            "RAKENNETTU_CACHE for the cache)"
        ) from e


def _where(folder: str | Path, filename: str | None) -> str:
    """The folder, with the file in it that failed; or the file elsewhere (the cache).

    A file in a hidden sibling named after the folder (``.town.staging-*``, a run's
    staging folder) counts as in the folder.
    """
    if not filename:
        return str(folder)
    out, path = Path(folder).resolve(), Path(filename).resolve()
    beside = [p for p in out.parent.glob(f".{out.name}.*") if path.is_relative_to(p)]
    inside = path.is_relative_to(out) or path == out or bool(beside)
    return f"{folder} ({filename})" if inside else str(filename)


def file_hash(path: str | Path, *, algorithm: str = "sha256") -> str:
    """Hex digest of a file's content."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def default_cache_dir() -> Path:
    """The cache folder: ``$RAKENNETTU_CACHE`` or ``~/.cache/rakennettu``."""
    env = os.environ.get("RAKENNETTU_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "rakennettu"


def json_plain(obj: Any) -> Any:
    """Plain JSON values: numpy scalars to Python, NaN/inf to None, paths to text.

    Examples
    --------
    >>> json_plain({"a": np.float64("nan"), 1: (np.int64(2), Path("x"))})
    {'a': None, '1': [2, 'x']}
    """
    if isinstance(obj, Mapping):
        return {str(k): json_plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        items = sorted(obj, key=str) if isinstance(obj, set | frozenset) else obj
        return [json_plain(v) for v in items]
    if isinstance(obj, np.ndarray):
        return [json_plain(v) for v in obj.tolist()]
    if isinstance(obj, bool | np.bool_):
        return bool(obj)
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        v = float(obj)
        return v if math.isfinite(v) else None
    if obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, dt.datetime | dt.date):
        return obj.isoformat()
    if obj is pd.NA or obj is pd.NaT:
        return None
    return str(obj)
