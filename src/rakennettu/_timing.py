"""Timing the stages of a computation: one helper for every layer and the run."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from tqdm.auto import tqdm

__all__ = ["Stages", "progress_bar"]


def progress_bar(iterable: Iterable[Any] | None = None, *, show: bool, **kwargs: Any) -> Any:
    """A progress bar on a terminal only: none in a log file or a pipe, none when not ``show``.

    The bar clears itself when done, so a console keeps one line per stage.

    Examples
    --------
    >>> list(progress_bar(range(3), show=False, desc="demo"))
    [0, 1, 2]
    """
    # tqdm's disable=None: off when stderr is not a terminal (no carriage-return spam).
    return tqdm(iterable, disable=None if show else True, leave=False, **kwargs)


class Stages:
    """Time named stages, log each as it ends, and advance a progress bar.

    Parameters
    ----------
    what
        What is computed, for the log lines and the bar (``"social"``).
    logger
        The module's logger.
    total
        The number of stages, for the progress bar.
    progress
        Show the bar.
    level
        The log level of the "took" lines.
    describe
        The "took" line of a stage from its name and seconds (default
        ``"<what>: <name> took <seconds> s"``). Each line's log record carries the
        stage's name as ``record.stage`` and ``what`` as ``record.stage_of``, whatever
        its words (they may be translated).

    Examples
    --------
    >>> stage = Stages("demo", logging.getLogger("demo"))
    >>> with stage("first"):
    ...     pass
    >>> list(stage.timings)
    ['first']
    """

    def __init__(
        self,
        what: str,
        logger: logging.Logger,
        *,
        total: int | None = None,
        progress: bool = False,
        level: int = logging.INFO,
        describe: Callable[[str, float], str] | None = None,
    ) -> None:
        self.what = what
        self.log = logger
        self.level = level
        self.describe = describe
        self.timings: dict[str, float] = {}
        self.bar = progress_bar(total=total, desc=what, show=progress and total is not None)

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        """Time the block as the stage ``name``."""
        started = time.perf_counter()
        yield
        self.timings[name] = time.perf_counter() - started
        tag = {"stage": name, "stage_of": self.what}  # for handlers (benchmarks/stages.py)
        if self.describe is not None:
            self.log.log(self.level, "%s", self.describe(name, self.timings[name]), extra=tag)
        else:
            self.log.log(
                self.level, "%s: %s took %.2f s", self.what, name, self.timings[name], extra=tag
            )
        self.bar.set_postfix_str(name)
        self.bar.update()

    def close(self) -> None:
        """Close the progress bar."""
        self.bar.close()
