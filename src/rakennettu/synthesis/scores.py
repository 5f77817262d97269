"""Scores: normalised indicators, dimension scores and the synergy index.

The method (after the EDGE lab's development plans): a place has vitality where the
morphological, social and cultural dimensions reinforce each other. So:

1. **Normalise** each indicator within the town: its percentile rank among the analysis
   units that have a value (default), or a robust z-score mapped to 0-1 through the
   normal distribution function. A negative weight turns an indicator around ("less is
   better", e.g. the distance to the nearest shop).
2. **Dimension score**: the weighted mean of the dimension's normalised indicators, in
   [0, 1].
3. **Synergy index**: the weighted *geometric* mean of the three dimension scores,
   ``exp(Σ w_d ln s_d / Σ w_d)``. It is high only where all dimensions are high: a cell
   strong in one dimension alone scores less than one moderately strong in all three,
   because ln punishes the weak dimension (the geometric mean never exceeds the
   arithmetic mean, with equality only when the scores are equal). Scores are floored at
   ``floor`` (default 0.01) before the logarithm, so one zero does not erase a place. A
   dimension of weight 0 has no influence at all.

Everything here is plain arithmetic on DataFrames, on the input's index, NaN-aware: a unit
without a value stays NaN, and is never counted as a zero.

The index adapts to what the data can say (:func:`adapt`): an indicator that is all NaN or
takes one value among the scored cells measures nothing there, so it leaves its dimension
(the dimension's other weights are renormalised); a dimension left with no indicator is
left out of the synergy (the geometric mean over the remaining dimensions), and reported.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy.special import ndtr

from rakennettu.i18n import N_, Said
from rakennettu.naming import DIMENSIONS

__all__ = [
    "SYNERGY_FLOOR",
    "Adapted",
    "adapt",
    "dimension_scores",
    "normalise",
    "synergy",
    "vitality",
    "weighted_mean",
]

Method = Literal["percentile", "robust_z"]

log = logging.getLogger(__name__)

_DIM_WORDS = {"morph": N_("morphological"), "soc": N_("social"), "cult": N_("cultural")}
#: The warnings' first word (``label``), and why an indicator is left out, by ``what``.
_LABELS = {"index": N_("index"), "sites": N_("sites")}
_LEFT_OUT = {
    ("constant", "cells"): N_("the same value in every scored cell"),
    ("constant", "sites"): N_("the same value in every scored site"),
    ("all NaN", "cells"): N_("no value in any scored cell"),
    ("all NaN", "sites"): N_("no value in any scored site"),
}


def _word(words: Mapping[str, str], key: str) -> str:
    """A word of ``words`` as a :class:`~rakennettu.i18n.Said` value; else ``key`` as data."""
    return Said(words[key]) if key in words else key


@dataclass(frozen=True)
class Adapted:
    """What the data can say: the indicators and dimensions kept, and those left out.

    Attributes
    ----------
    spec
        Dimension -> {indicator -> weight}: the usable indicators only (dimensions left
        without one are absent).
    weights
        Dimension weights, 0 for a dimension left out.
    dropped_indicators
        Indicator -> why it was left out ("all NaN", "constant").
    dropped_dimensions
        Dimensions with a weight but no usable indicator, left out of the synergy.
    warnings
        One sentence per indicator or dimension left out.
    """

    spec: dict[str, dict[str, float]]
    weights: dict[str, float]
    dropped_indicators: dict[str, str] = field(default_factory=dict)
    dropped_dimensions: frozenset[str] = frozenset()
    warnings: tuple[str, ...] = ()


def _prepared(values: pd.Series, col: str) -> pd.Series:
    x = pd.to_numeric(values, errors="coerce").astype(float)
    if "nearest" in str(col):
        # a nearest distance is NaN where nothing lies within reach: the worst case
        x = x.fillna(np.inf)
    return x


def adapt(
    indicators: pd.DataFrame,
    spec: Mapping[str, Mapping[str, float]],
    weights: Mapping[str, float],
    *,
    what: str = "cells",
    label: str = "index",
) -> Adapted:
    """Leave out the indicators that measure nothing here, and the dimensions left empty.

    An indicator measures nothing among the rows when it is all NaN, or takes a single
    value (every normalised score would be the same, 0.5, and only pull its dimension
    towards the middle). It leaves its dimension; the others keep their weights, so the
    dimension is the weighted mean over them (weights renormalised). A dimension with a
    weight but no indicator left is dropped from the synergy.

    Parameters
    ----------
    indicators
        The raw indicator columns of the scored rows only.
    spec, weights
        As for :func:`vitality`.
    what
        What the rows are, for the warnings ("cells", "sites").
    label
        What the scores are, the warnings' first word ("index", "sites").

    Returns
    -------
    Adapted

    Examples
    --------
    >>> df = pd.DataFrame({"cult_a": [np.nan, np.nan], "cult_b": [2.0, 2.0],
    ...                    "soc_c": [1.0, 3.0]})
    >>> a = adapt(df, {"cult": {"cult_a": 1, "cult_b": 1}, "soc": {"soc_c": 1}},
    ...           {"cult": 1, "soc": 1})
    >>> a.spec, sorted(a.dropped_dimensions), a.weights
    ({'soc': {'soc_c': 1.0}}, ['cult'], {'cult': 0.0, 'soc': 1.0})
    """
    kept: dict[str, dict[str, float]] = {}
    dropped: dict[str, str] = {}
    warnings: list[str] = []
    for dim, cols in spec.items():
        for col, w in cols.items():
            if w == 0:
                continue
            x = _prepared(indicators[col], col) if col in indicators else pd.Series(dtype=float)
            x = x.dropna()
            if x.empty:
                dropped[str(col)] = "all NaN"
            elif x.nunique() == 1:
                dropped[str(col)] = "constant"
            else:
                kept.setdefault(dim, {})[str(col)] = float(w)
                continue
            one = what[:-1] if what.endswith("s") else what
            why = dropped[str(col)]
            value = (
                Said(_LEFT_OUT[why, what])
                if (why, what) in _LEFT_OUT
                else f"the same value in every scored {one}"
                if why == "constant"
                else f"no value in any scored {one}"
            )
            warnings.append(
                Said(
                    N_(
                        "{label}: {col} has {value}: left out of the {dim} score (the weights "
                        "renormalised over its other indicators)"
                    ),
                    label=_word(_LABELS, label),
                    col=str(col),
                    value=value,
                    dim=_word(_DIM_WORDS, dim),
                )
            )
    out_w: dict[str, float] = {}
    gone: set[str] = set()
    for dim, w in weights.items():
        if w > 0 and dim not in kept:
            gone.add(dim)
            warnings.append(
                Said(
                    N_(
                        "{label}: no usable {dim} measure: the {dim} dimension is left out of "
                        "the synergy (the geometric mean of the remaining dimensions)"
                    ),
                    label=_word(_LABELS, label),
                    dim=_word(_DIM_WORDS, dim),
                )
            )
        out_w[dim] = 0.0 if dim in gone else float(w)
    return Adapted(
        spec=kept,
        weights=out_w,
        dropped_indicators=dropped,
        dropped_dimensions=frozenset(gone),
        warnings=tuple(warnings),
    )


def normalise(
    values: pd.Series, *, method: Method = "percentile", reverse: bool = False
) -> pd.Series:
    """Normalise an indicator to [0, 1] within the town.

    Parameters
    ----------
    values
        Raw values; NaN stays NaN.
    method
        ``"percentile"``: the share of the other values that are lower, ties counted half
        (a rank in [0, 1]; the lowest 0, the highest 1). ``"robust_z"``: ``(x - median) /
        (1.4826 MAD)`` passed through the standard normal distribution function, so the
        median maps to 0.5 and outliers saturate near 0 or 1.
    reverse
        Lower raw values are better (1 - score).

    Returns
    -------
    pandas.Series
        On the input's index.

    Examples
    --------
    >>> normalise(pd.Series([10.0, 20.0, 20.0, 40.0, np.nan])).tolist()
    [0.0, 0.5, 0.5, 1.0, nan]
    >>> normalise(pd.Series([1.0, 2.0, 3.0]), reverse=True).tolist()
    [1.0, 0.5, 0.0]
    """
    x = pd.to_numeric(values, errors="coerce").astype(float)
    ok = x.notna()
    out = pd.Series(np.nan, index=x.index, name=values.name)
    n = int(ok.sum())
    if n == 0:
        return out
    v = x[ok]
    if method == "percentile":
        if n == 1:
            s = pd.Series(0.5, index=v.index)
        else:
            s = (v.rank(method="average") - 1) / (n - 1)
    elif method == "robust_z":
        s = pd.Series(ndtr(_robust_z(v.to_numpy())), index=v.index)
    else:
        raise ValueError(f"method must be 'percentile' or 'robust_z', got {method!r}")
    out[ok] = (1.0 - s) if reverse else s
    return out


def _robust_z(v: np.ndarray) -> np.ndarray:
    """``(v - median) / (1.4826 MAD)``, saturated at ±40 without overflow.

    A MAD of zero falls back to the standard deviation (then 1). The quotient is only
    formed where ``|v - median| <= 40 scale``, so a tiny (even subnormal) scale never
    overflows; beyond that the standard normal distribution function is 0 or 1 to double
    precision anyway, so ±40 loses nothing.

    Examples
    --------
    >>> _robust_z(np.array([0.0, 1.0, 5e-324])).tolist()
    [-1.0, 40.0, 0.0]
    """
    med = float(np.median(v))
    dev = v - med
    scale = float(np.median(np.abs(dev))) * 1.4826
    if not scale > 0:
        sd = float(np.std(dev))
        scale = sd if sd > 0 else 1.0
    limit = 40.0 * scale
    fits = np.abs(dev) <= limit
    return np.divide(dev, scale, out=np.sign(dev) * 40.0, where=fits)


def weighted_mean(scores: pd.DataFrame, weights: Mapping[str, float]) -> pd.Series:
    """Weighted mean across columns, skipping NaN (the weights of present values count).

    Examples
    --------
    >>> df = pd.DataFrame({"a": [1.0, np.nan], "b": [0.0, 0.5]})
    >>> weighted_mean(df, {"a": 3, "b": 1}).tolist()
    [0.75, 0.5]
    """
    cols = [c for c, w in weights.items() if w != 0]
    if not cols:
        return pd.Series(np.nan, index=scores.index)
    w = np.array([abs(weights[c]) for c in cols], dtype=float)
    v = scores[cols].to_numpy(dtype=float)
    present = ~np.isnan(v)
    num = np.where(present, v, 0.0) @ w
    den = present.astype(float) @ w
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(den > 0, num / den, np.nan)
    return pd.Series(out, index=scores.index)


def dimension_scores(
    indicators: pd.DataFrame,
    spec: Mapping[str, Mapping[str, float]],
    *,
    method: Method = "percentile",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Normalise chosen indicators and average them into one score per dimension.

    Parameters
    ----------
    indicators
        Raw indicator columns (one row per analysis unit).
    spec
        Dimension -> {indicator column -> weight}; a negative weight means lower is
        better.
    method
        See :func:`normalise`.

    Returns
    -------
    (DataFrame, DataFrame)
        The normalised indicators, and ``score_morph``, ``score_soc``, ``score_cult``
        (only the dimensions in ``spec``).

    Notes
    -----
    Distances to the nearest instance (columns named ``*nearest*``) are NaN where nothing
    lies within reach; they count as the farthest, not as missing.

    Raises
    ------
    KeyError
        An indicator in ``spec`` is not a column of ``indicators``.

    Examples
    --------
    >>> df = pd.DataFrame({"morph_a": [1.0, 2.0, 3.0], "soc_b": [3.0, 2.0, 1.0]})
    >>> norm, dims = dimension_scores(df, {"morph": {"morph_a": 1}, "soc": {"soc_b": -1}})
    >>> dims.round(2).values.tolist()
    [[0.0, 0.0], [0.5, 0.5], [1.0, 1.0]]
    """
    missing = [c for d in spec.values() for c in d if c not in indicators]
    if missing:
        raise KeyError(f"indicators not computed: {missing}")
    norm = pd.DataFrame(index=indicators.index)
    for cols in spec.values():
        for col, w in cols.items():
            norm[col] = normalise(_prepared(indicators[col], col), method=method, reverse=w < 0)
    dims = pd.DataFrame(
        {f"score_{d}": weighted_mean(norm, spec[d]) for d in DIMENSIONS if d in spec},
        index=indicators.index,
    )
    return norm, dims


#: Scores below this are raised to it before the logarithm of :func:`synergy`.
SYNERGY_FLOOR = 0.01


def synergy(
    dims: pd.DataFrame, weights: Mapping[str, float], *, floor: float = SYNERGY_FLOOR
) -> pd.Series:
    """Weighted geometric mean of the dimension scores: high only where all are high.

    Parameters
    ----------
    dims
        ``score_morph``, ``score_soc``, ``score_cult`` in [0, 1].
    weights
        Dimension -> weight (``{"morph": 1, "soc": 1, "cult": 1}``); weight 0 removes a
        dimension's influence.
    floor
        Scores below this are raised to it before the logarithm.

    Returns
    -------
    pandas.Series
        In [floor, 1]; NaN where a weighted dimension is NaN.

    Examples
    --------
    One place strong in one dimension only, one moderately strong in all three:

    >>> dims = pd.DataFrame({"score_morph": [1.0, 0.6], "score_soc": [0.1, 0.6],
    ...                      "score_cult": [0.1, 0.6]})
    >>> synergy(dims, {"morph": 1, "soc": 1, "cult": 1}).round(3).tolist()
    [0.215, 0.6]
    """
    used = {d: float(w) for d, w in weights.items() if w > 0}
    if any(w < 0 for w in weights.values()):
        raise ValueError(f"dimension weights must be >= 0, got {dict(weights)}")
    if not used:
        raise ValueError("at least one dimension needs a weight above 0")
    total = sum(used.values())
    logs = np.zeros(len(dims))
    for d, w in used.items():
        s = dims[f"score_{d}"].to_numpy(dtype=float)
        logs = logs + w * np.log(np.clip(s, floor, 1.0))
    return pd.Series(np.exp(logs / total), index=dims.index, name="synergy")


def vitality(
    cells: pd.DataFrame,
    spec: Mapping[str, Mapping[str, float]],
    weights: Mapping[str, float],
    *,
    method: Method = "percentile",
    usable: pd.Series | None = None,
) -> pd.DataFrame:
    """The vitality index of the analysis cells: dimension scores and their synergy.

    Parameters
    ----------
    cells
        Indicator columns, one row per cell.
    spec
        Dimension -> {indicator -> weight} (see :func:`dimension_scores`).
    weights
        Dimension weights of the synergy.
    method
        See :func:`normalise`.
    usable
        Boolean per cell: only these are normalised and scored (cells without network
        access stay NaN rather than counting as the worst).

    Returns
    -------
    pandas.DataFrame
        ``score_<dimension>`` for each dimension in ``spec`` and ``synergy``, on the
        cells' index. The indicators and dimensions that measure nothing among the usable
        cells are left out (:func:`adapt`; a dropped dimension's score is NaN and the
        synergy is taken over the rest), each with a logged warning.

    Examples
    --------
    >>> cells = pd.DataFrame({"morph_a": [1.0, 2.0, 3.0, np.nan], "soc_b": [1.0, 3.0, 2.0, 9.0]})
    >>> vitality(cells, {"morph": {"morph_a": 1}, "soc": {"soc_b": 1}}, {"morph": 1, "soc": 1},
    ...          usable=pd.Series([True, True, True, False])).round(2)
       score_morph  score_soc  synergy
    0          0.0        0.0     0.01
    1          0.5        1.0     0.71
    2          1.0        0.5     0.71
    3          NaN        NaN      NaN
    """
    rows = cells.index if usable is None else cells.index[usable.to_numpy(dtype=bool)]
    adapted = adapt(cells.loc[rows], spec, weights)
    for text in adapted.warnings:
        log.warning("%s", text)
    _, dims = dimension_scores(cells.loc[rows], adapted.spec, method=method)
    names = [f"score_{d}" for d in DIMENSIONS if d in spec]
    out = pd.DataFrame(np.nan, index=cells.index, columns=names)
    out.loc[rows, list(dims.columns)] = dims.to_numpy()
    present = {d: w for d, w in adapted.weights.items() if d in adapted.spec}
    out["synergy"] = np.nan
    if len(rows) and any(w > 0 for w in present.values()):
        out.loc[rows, "synergy"] = synergy(out.loc[rows], present).to_numpy()
    return out
