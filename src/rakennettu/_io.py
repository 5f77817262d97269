"""Small I/O helpers: atomic writes and file hashes."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_path", "default_cache_dir", "file_hash"]


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
