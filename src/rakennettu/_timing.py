"""Timing the stages of a computation: one helper for every layer and the run."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

from tqdm.auto import tqdm

__all__ = ["Stages"]


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
    ) -> None:
        self.what = what
        self.log = logger
        self.level = level
        self.timings: dict[str, float] = {}
        self.bar = tqdm(total=total, desc=what, disable=not progress or total is None)

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        """Time the block as the stage ``name``."""
        started = time.perf_counter()
        yield
        self.timings[name] = time.perf_counter() - started
        self.log.log(self.level, "%s: %s took %.2f s", self.what, name, self.timings[name])
        self.bar.set_postfix_str(name)
        self.bar.update()

    def close(self) -> None:
        """Close the progress bar."""
        self.bar.close()
