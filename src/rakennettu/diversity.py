"""Hill numbers: the one definition of diversity (land-use mix, age mix, variety).

With shares ``p_i = a_i / Σ a`` over the categories present (``a_i > 0``), the Hill number
of order ``q`` is ``D_q = (Σ p_i^q) ^ (1 / (1 - q))`` for ``q ≠ 1`` and
``D_1 = exp(-Σ p_i ln p_i)`` (its limit). ``D_0`` counts the categories present, ``D_1``
is the exponential of Shannon's entropy and ``D_2 = 1 / Σ p_i²`` the inverse Simpson
index: "effective numbers" of categories, 1 for one category and ``k`` for an even split
over ``k``, falling as ``q`` grows (Hill 1973; Jost 2006).

Edge cases, the same for every caller:

* categories with ``a_i = 0`` are absent (they add nothing, for any ``q``);
* where nothing is present (every ``a_i = 0``) the result is ``empty``: 0 for a mix of
  things that may be missing (no activity within reach: zero categories), NaN where the
  diversity is undefined (no building: no mix of ages to speak of);
* abundances must be finite and ``>= 0``; ``q`` finite and ``>= 0``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["hill_numbers"]


def _check_order(q: float) -> None:
    if not (isinstance(q, int | float | np.integer | np.floating) and q >= 0 and math.isfinite(q)):
        raise ValueError(f"q must be a finite order >= 0, got {q!r}")


def _hill_rows(arr: np.ndarray, q: float, empty: float) -> np.ndarray:
    """Hill numbers of the rows of a 2-D array of abundances."""
    total = arr.sum(axis=1)
    some = total > 0
    p = np.divide(arr, total[:, None], out=np.zeros_like(arr), where=some[:, None])
    present = p > 0
    if q == 0:
        out = present.sum(axis=1).astype(np.float64)
    elif q == 1:
        logs = np.log(p, out=np.zeros_like(p), where=present)
        out = np.exp(-(p * logs).sum(axis=1))
    else:
        powers = np.power(p, q, out=np.zeros_like(p), where=present)
        s = powers.sum(axis=1)
        out = np.power(s, 1.0 / (1.0 - q), out=np.zeros_like(s), where=some)
    return np.where(some, out, empty)


def hill_numbers(abundances: Any, q: float, *, empty: float = 0.0) -> Any:
    """Hill numbers (effective numbers of categories) of abundances.

    Parameters
    ----------
    abundances
        Non-negative abundances (counts or weighted sums): one community as a 1-D array
        or Series, or one community per row of a 2-D array or DataFrame.
    q
        The order, ``q >= 0``.
    empty
        The value where nothing is present: 0 (the default) or NaN.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        A float for one community; otherwise one value per row (a Series on the
        DataFrame's index).

    Raises
    ------
    ValueError
        If ``q`` is negative or not finite, or an abundance negative or not finite.

    Examples
    --------
    >>> hill_numbers([5, 5, 5, 5], 1)
    4.0
    >>> hill_numbers([[8, 2], [3, 0], [0, 0]], 2)
    array([1.47058824, 1.        , 0.        ])
    >>> hill_numbers([[3, 3, 0], [0, 0, 0]], 1, empty=np.nan)
    array([ 2., nan])
    """
    _check_order(q)
    index = abundances.index if isinstance(abundances, pd.DataFrame) else None
    arr = np.asarray(abundances, dtype=np.float64)
    single = arr.ndim == 1
    if single:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise ValueError(f"abundances must be 1-D or 2-D, got {arr.ndim} dimensions")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError("abundances must be finite and >= 0")
    out = _hill_rows(arr, q, float(empty))
    if single:
        return float(out[0])
    if index is not None:
        return pd.Series(out, index=index, name=f"hill_q{q:g}")
    return out
