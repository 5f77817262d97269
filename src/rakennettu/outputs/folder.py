"""The output folder as one unit: built beside the target, swapped in whole, one run at a time.

A run never writes into its output folder ``out/<town>``. It takes the folder's lock
(``out/.<town>.lock``, :func:`fcntl.flock`; the file is removed as the run ends),
writes every file into a staging folder beside it
(``out/.<town>.staging-<pid>-<random>``, same file system) and, only when every file is
complete, swaps the two: on Linux with ``renameat2(RENAME_EXCHANGE)``, one atomic step;
elsewhere (or on a file system without it) by renaming the old folder aside
(``out/.<town>.old-<pid>-<random>``) and the staging folder into place. The old folder
is deleted after the swap. Until the swap the previous outputs are complete and
untouched; after it the new ones are; never a mix.

An interrupted or killed run leaves at most its staging folder (or an ``.old-`` folder,
if it died between the two renames). The next run into the same folder holds the lock,
so any such leftover is from a dead run: it removes the staging folders, puts an
``.old-`` folder back if the target is missing, and removes the ``.part`` files of
versions before 0.4 that wrote in place.

A folder that holds another town's run (by its ``run.json``), or files that are not a
run's outputs, is refused (:class:`~rakennettu.errors.OutputFolderError`): the swap
replaces the whole folder. A second run into a folder whose lock is held fails at once
(:class:`~rakennettu.errors.FolderBusyError`) unless it waits (``wait=True``).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import logging
import os
import secrets
import shutil
from pathlib import Path
from types import TracebackType

from rakennettu import interrupt
from rakennettu.errors import FolderBusyError, OutputFolderError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

__all__ = ["OUTPUT_NAMES", "OutputFolder"]

log = logging.getLogger(__name__)

OUTPUT_NAMES = frozenset(
    {
        "vitality.gpkg",
        "candidates.csv",
        "run.json",
        "map.html",
        "map_files",
        "report.html",
        "surfaces",
    }
    | {"batch.json"}
)
"""What a run (or a batch) leaves in an output folder; anything else there is foreign."""

_AT_FDCWD, _RENAME_EXCHANGE = -100, 2


class OutputFolder:
    """A run's output folder, written as a whole: ``with OutputFolder(target) as f``.

    Write into ``f.path`` (the staging folder), then call :meth:`commit`. Leaving the
    block without a commit (an error, Ctrl-C) deletes the staging folder and leaves the
    target as it was.

    Parameters
    ----------
    target
        The output folder, e.g. ``out/kotka-karhula``.
    town
        The town of this run: a target whose ``run.json`` names another town is refused.
    wait
        Wait for another run's lock instead of failing at once.
    seed
        Start the staging folder as a copy of the target (hard links where possible), to
        replace some of its files (rebuilding the pages).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "town"
    >>> with OutputFolder(target, town="town") as f:
    ...     _ = (f.path / "run.json").write_text('{"town": {"name": "town"}}')
    ...     f.commit()
    >>> sorted(p.name for p in target.iterdir())
    ['run.json']
    """

    def __init__(
        self, target: str | Path, *, town: str | None = None, wait: bool = False, seed: bool = False
    ) -> None:
        self.target = Path(os.path.abspath(Path(target).expanduser()))
        self.town = town
        self.wait = wait
        self.seed = seed
        self.committed = False
        self._fd: int | None = None
        self._lock_path = self.target
        self._staging: Path | None = None

    @property
    def path(self) -> Path:
        """The staging folder to write into."""
        if self._staging is None:
            raise RuntimeError("OutputFolder is used outside its with block")
        return self._staging

    def final(self, path: Path) -> Path:
        """Where a file written under :attr:`path` will be after the commit."""
        return self.target / Path(path).relative_to(self.path)

    def __enter__(self) -> OutputFolder:
        parent, name = self.target.parent, self.target.name
        if self.target.exists() and not self.target.is_dir():
            raise OutputFolderError(f"{self.target}: is a file; an output folder is a folder")
        parent.mkdir(parents=True, exist_ok=True)
        self._lock(parent / f".{name}.lock")
        try:
            _recover(self.target)
            _check_target(self.target, self.town, foreign=not self.seed)
            self._staging = parent / f".{name}.staging-{os.getpid()}-{secrets.token_hex(4)}"
            if self.seed and self.target.is_dir():
                shutil.copytree(self.target, self._staging, copy_function=_link_or_copy)
            else:
                self._staging.mkdir()
        except BaseException:
            self._release()
            raise
        return self

    def commit(self) -> None:
        """Put the staging folder in place of the target, in one step.

        Raises
        ------
        KeyboardInterrupt
            A signal came during the run (even one swallowed on the way): the target is
            left as it was. A signal during the swap itself is held until the swap is
            done, then raised with ``interrupt.COMMITTED`` as its message.
        """
        try:
            with interrupt.shielded():
                interrupt.check()
                _swap(self.path, self.target)
                self.committed = True
                self._staging = None
        except KeyboardInterrupt:
            if self.committed:
                raise KeyboardInterrupt(interrupt.COMMITTED) from None
            raise
        log.debug("outputs in place: %s", self.target)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._staging is not None:
                shutil.rmtree(self._staging, ignore_errors=True)
                self._staging = None
        finally:
            self._release()

    def _lock(self, lock: Path) -> None:
        """Hold ``lock`` (flock); the file goes when released, so retry if it went meanwhile."""
        if fcntl is None:  # pragma: no cover - not POSIX
            return
        while True:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if self.wait else fcntl.LOCK_NB))
            except BlockingIOError:
                holder = os.read(fd, 64).decode(errors="replace").strip() or "?"
                os.close(fd)
                raise FolderBusyError(
                    f"{self.target}: another run (pid {holder}) is writing this output "
                    "folder; wait for it to end, pass --wait to queue behind it, or choose "
                    "another --out"
                ) from None
            except BaseException:
                os.close(fd)
                raise
            if _same_file(fd, lock):
                break
            os.close(fd)  # the holder removed it as it ended: lock the new one
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd, self._lock_path = fd, lock

    def _release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._lock_path)  # while held: a waiter then sees it is gone
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None


def _same_file(fd: int, path: Path) -> bool:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (mine.st_dev, mine.st_ino)


def _link_or_copy(src: str, dst: str) -> str:
    """Hard-link a file (nothing rewrites a file in place: writers rename); else copy."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
    return dst


def _recover(target: Path) -> None:
    """Clean up after dead runs; the caller holds the lock, so any leftover is stale."""
    parent, name = target.parent, target.name
    for stale in parent.glob(f".{name}.staging-*"):
        log.info("removing %s, left by an interrupted run", stale)
        shutil.rmtree(stale, ignore_errors=True)
    olds = sorted(parent.glob(f".{name}.old-*"), key=lambda p: p.stat().st_mtime)
    if olds and not target.exists():
        log.warning("%s was missing after an interrupted swap: restored from %s", target, olds[-1])
        os.rename(olds.pop(), target)
    for old in olds:
        shutil.rmtree(old, ignore_errors=True)
    if target.is_dir():
        for part in [*target.glob(".*.part*"), *target.glob("*/.*.part*")]:
            log.info("removing %s, left by an interrupted run", part)
            part.unlink(missing_ok=True)


def _check_target(target: Path, town: str | None, *, foreign: bool = True) -> None:
    """Refuse a folder holding another town's run or files that are not outputs."""
    if not target.is_dir():
        return
    record = target / "run.json"
    if town is not None and record.is_file():
        try:
            other = json.loads(record.read_text(encoding="utf-8"))["town"]["name"]
        except (ValueError, KeyError, TypeError, OSError):
            other = None  # a broken record: the folder is a broken run, replace it
        if other is not None and other != town:
            raise OutputFolderError(
                f"{target} holds the outputs of the town {other!r} (see its run.json), "
                f"not {town!r}; choose another folder (--out DIR writes DIR/{town}) or "
                "delete that one"
            )
    if not foreign:
        return
    names = sorted(
        p.name
        for p in target.iterdir()
        if p.name not in OUTPUT_NAMES and not p.name.startswith("vitality.gpkg-")
    )
    if names:
        more = f" and {len(names) - 5} more" if len(names) > 5 else ""
        shown = ", ".join(names[:5]) + more
        raise OutputFolderError(
            f"{target} holds files that are not a run's outputs ({shown}); a run replaces "
            "its whole output folder, so move them out or choose another folder"
        )


def _swap(staging: Path, target: Path) -> None:
    """Replace ``target`` by ``staging``; afterwards no trace of the old folder stays."""
    if not target.exists():
        os.rename(staging, target)
        return
    if _exchange(staging, target):
        shutil.rmtree(staging, ignore_errors=True)  # now the old folder
        return
    old = target.parent / f".{target.name}.old-{os.getpid()}-{secrets.token_hex(4)}"
    os.rename(target, old)
    os.rename(staging, target)  # a crash between the two: the next run restores `old`
    shutil.rmtree(old, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically with Linux's renameat2; False where it is unavailable."""
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EPERM):
        return False  # not supported here (kernel, file system): two renames instead
    raise OSError(code, os.strerror(code), str(b))
