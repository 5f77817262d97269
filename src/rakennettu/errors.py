"""The exceptions rakennettu raises.

Every error derives from :class:`RakennettuError` and also from the builtin that best
describes it, so ``except ValueError`` keeps working for callers who do not know this
package. Messages say what is wrong, where (file, key, line, field) and how to fix it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "CRSError",
    "ConfigError",
    "EmptyDataError",
    "NetworkError",
    "OutputError",
    "RakennettuError",
    "SourceError",
    "did_you_mean",
    "suggest",
]


class RakennettuError(Exception):
    """Root of every error raised by rakennettu on purpose."""


class ConfigError(RakennettuError, ValueError):
    """A workflow file is invalid: a typo, a wrong type, an unknown key or value."""


class CRSError(RakennettuError, ValueError):
    """A coordinate reference system is missing, unknown, geographic or inconsistent."""


class EmptyDataError(RakennettuError, ValueError):
    """A source or an area holds nothing to work with (no streets, no buildings)."""


class NetworkError(RakennettuError, ValueError):
    """A street network is malformed: missing or negative lengths, unknown end nodes."""


class SourceError(RakennettuError, OSError):
    """An input file is missing, unreadable, corrupt, or lacks a required field."""


class OutputError(RakennettuError, OSError):
    """An output cannot be written: a read-only folder, no permission, a full disk."""


def suggest(word: object, choices: Iterable[object]) -> str | None:
    """The choice closest to a mistyped word, if one is close enough.

    Examples
    --------
    >>> suggest("radi", ["radii", "keep"])
    'radii'
    """
    match = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return match[0] if match else None


def did_you_mean(
    word: object, choices: Iterable[object], *, fmt: str = "; did you mean {!r}?"
) -> str:
    """A suggestion to append to an error message, or "" when nothing is close.

    Examples
    --------
    >>> "unknown key" + did_you_mean("radi", ["radii", "keep"])
    "unknown key; did you mean 'radii'?"
    >>> did_you_mean("kerrosluk", ["kerrosluku"], fmt=" (did you mean {!r}?)")
    " (did you mean 'kerrosluku'?)"
    """
    match = suggest(word, choices)
    return fmt.format(match) if match else ""
