"""Ranking candidate sites by their leverage, with explanations and robustness.

The score of a site is the synergy (weighted geometric mean, as for the vitality index)
of its three dimension gains, each the mean of its raw gains normalised across the sites
(percentile ranks), optionally blended with the vitality of its surroundings:

    score = (1 - c) × synergy(gain_morph, gain_soc, gain_cult) + c × context

Every site carries a breakdown (each dimension's normalised gain and its strongest raw
gain, in words) and a rank interval: the dimension weights are drawn around the
configured ones from a Dirichlet distribution (``draws`` times, concentration ``kappa``)
and the 5th and 95th percentiles of the site's rank are reported, with a stability figure
for the top ten. A sensitivity table shows the top ten when each dimension is left out.

What the data cannot say is left out rather than guessed (docs/completeness.md): a gain
that is the same at every site leaves its dimension's mean; a dimension with no usable gain,
or one left out of the vitality index for want of data (``dropped``), is left out of the
site scores, and the breakdown says it was not scored rather than calling it strong or
weak. Where an assumption is unknown rather than measured (which buildings of unknown use
are homes), the gains under the other assumptions can be passed as ``alternatives``: each
weight draw of the rank intervals then also draws one of the assumptions, with equal
chance.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rakennettu.i18n import N_, Said
from rakennettu.naming import DIMENSIONS
from rakennettu.synthesis.leverage import GAINS
from rakennettu.synthesis.scores import SYNERGY_FLOOR, Adapted, adapt, normalise, synergy
from rakennettu.wording import PHRASES, say

__all__ = [
    "Ranking",
    "dimension_gains",
    "explain",
    "rank_candidates",
    "rank_intervals",
    "ranks",
    "sensitivity",
    "usable_gains",
]

log = logging.getLogger(__name__)


def dimension_gains(
    gains: pd.DataFrame, spec: Mapping[str, Collection[str]] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Normalise the raw gains across sites and average them per dimension.

    Parameters
    ----------
    gains
        Raw gains, one row per site.
    spec
        Dimension -> the gains averaged into it (default :data:`GAINS`); a dimension
        absent here is NaN.

    Returns
    -------
    (DataFrame, DataFrame)
        The normalised gains (percentile ranks, 0-1), and ``gain_morph``, ``gain_soc``,
        ``gain_cult``.

    Examples
    --------
    >>> g = pd.DataFrame({c: [0.0, 1.0] for d in GAINS.values() for c in d})
    >>> dimension_gains(g)[1].values.tolist()
    [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]
    """
    norm = pd.DataFrame(
        {c: normalise(gains[c]) for d in GAINS.values() for c in d if c in gains},
        index=gains.index,
    )
    use = GAINS if spec is None else spec
    dims = pd.DataFrame(
        {
            f"gain_{d}": norm[[c for c in use.get(d, ()) if c in norm]].mean(axis=1)
            if use.get(d)
            else pd.Series(np.nan, index=gains.index)
            for d in DIMENSIONS
        },
        index=gains.index,
    )
    return norm, dims


def usable_gains(
    gains: pd.DataFrame, weights: Mapping[str, float], dropped: Collection[str] = ()
) -> Adapted:
    """The gains and dimensions that tell the sites apart (see :func:`~.scores.adapt`).

    ``dropped``: dimensions left out of the vitality index for want of data, left out of
    the site scores too.

    Examples
    --------
    >>> g = pd.DataFrame({c: [0.0, 1.0] for d in GAINS.values() for c in d})
    >>> g["cult_landmark_context"] = 0.0
    >>> a = usable_gains(g, {"morph": 1, "soc": 1, "cult": 1}, dropped={"morph"})
    >>> a.dropped_indicators, sorted(a.dropped_dimensions), a.weights["morph"]
    ({'cult_landmark_context': 'constant'}, ['morph'], 0.0)
    """
    spec: dict[str, dict[str, float]] = {
        str(d): {c: 1.0 for c in GAINS[d] if c in gains} for d in DIMENSIONS
    }
    a = adapt(gains, spec, weights, what="sites", label="sites")
    gone = set(a.dropped_dimensions) | {d for d in dropped if weights.get(d, 0) > 0}
    texts = [t for t in a.warnings if "left out of the synergy" in t]
    for d in sorted(set(dropped) - set(a.dropped_dimensions)):
        if weights.get(d, 0) > 0:
            texts.append(
                Said(
                    N_(
                        "sites: the {dim} dimension is left out of the site scores, as out of "
                        "the vitality index (no usable data)"
                    ),
                    dim=Said(PHRASES[f"dim_{d}"]),
                )
            )
    return Adapted(
        spec={d: c for d, c in a.spec.items() if d not in gone},
        weights={d: 0.0 if d in gone else float(w) for d, w in weights.items()},
        dropped_indicators=a.dropped_indicators,
        dropped_dimensions=frozenset(gone),
        warnings=tuple(texts),
    )


def _score(dims: pd.DataFrame, weights: Mapping[str, float], context: pd.Series | None,
           context_weight: float) -> pd.Series:  # fmt: skip
    if not any(w > 0 for w in weights.values()):
        # no dimension tells the sites apart: all equal, at the middle
        s = pd.Series(0.5, index=dims.index)
    else:
        s = synergy(dims.rename(columns=lambda c: c.replace("gain_", "score_")), weights)
    if context is not None and context_weight > 0:
        s = (1 - context_weight) * s + context_weight * context.fillna(0.0)
    return s


def ranks(score: pd.Series) -> pd.Series:
    """Rank 1 = best; ties share the better rank, in the index order.

    Examples
    --------
    >>> ranks(pd.Series([0.2, 0.9, 0.2], index=["a", "b", "c"])).tolist()
    [2, 1, 2]
    """
    return score.rank(ascending=False, method="min").astype(int)


def rank_intervals(
    dims: pd.DataFrame,
    weights: Mapping[str, float],
    *,
    context: pd.Series | None = None,
    context_weight: float = 0.0,
    draws: int = 1000,
    kappa: float = 30.0,
    seed: int = 0,
    top: int = 10,
    alternatives: Sequence[pd.DataFrame] = (),
) -> tuple[pd.DataFrame, float]:
    """Rank intervals under dimension weights drawn around the configured ones.

    Weights are drawn from Dirichlet(kappa × w / Σw) over the dimensions with a weight
    above 0 (a larger ``kappa`` keeps the draws closer to ``w``). With ``alternatives``
    (the dimension gains under other assumptions, on the same index), each draw also
    takes ``dims`` or one of the alternatives, each with equal chance.

    Returns
    -------
    (DataFrame, float)
        ``rank_median``, ``rank_p05``, ``rank_p95`` per site; and the stability of the top
        ``top``: the mean share of the configured top that stays in the top in a draw.
    """
    used = [d for d in DIMENSIONS if weights.get(d, 0) > 0]
    w = np.array([weights[d] for d in used], dtype=float)
    base = ranks(_score(dims, weights, context, context_weight))
    if draws == 0:
        fixed = base.to_numpy()
        frame = pd.DataFrame(
            {"rank_median": fixed, "rank_p05": fixed, "rank_p95": fixed}, index=dims.index
        )
        return frame, 1.0
    rng = np.random.default_rng(seed)
    samples = rng.dirichlet(kappa * w / w.sum(), size=draws)
    frames = [dims, *(a.loc[dims.index] for a in alternatives)]
    pick = rng.integers(0, len(frames), size=draws) if alternatives else np.zeros(draws, int)
    drawn = _drawn_ranks(frames, used, samples, pick, context, context_weight, top, base)
    if drawn is None:  # not plain numbers: pandas' way, which says what is wrong
        drawn = _drawn_ranks_pandas(frames, used, samples, pick, context, context_weight, top, base)
    all_ranks, stay = drawn
    q = np.percentile(all_ranks, [5, 50, 95], axis=0, method="nearest")
    frame = pd.DataFrame(
        {"rank_median": q[1], "rank_p05": q[0], "rank_p95": q[2]}, index=dims.index
    ).astype(int)
    return frame, float(stay.mean())


def _drawn_ranks(
    frames: Sequence[pd.DataFrame],
    used: Sequence[str],
    samples: np.ndarray,
    pick: np.ndarray,
    context: pd.Series | None,
    context_weight: float,
    top: int,
    base: pd.Series,
) -> tuple[np.ndarray, np.ndarray] | None:
    """The ranks of every draw, and the share of the top that stays in its top.

    :func:`_score`, :func:`synergy` and :func:`ranks` in plain numpy: the same operations
    in the same order (so the same numbers), without a pandas object per draw.

    None when the sites' index has repeats, the context is on another index, or a score
    is NaN: :func:`_drawn_ranks_pandas` then does it (and fails as it fails).
    """
    index = frames[0].index
    if not index.is_unique or (context is not None and not context.index.equals(index)):
        return None
    n = len(index)
    logs = [
        {d: np.log(np.clip(f[f"gain_{d}"].to_numpy(dtype=float), SYNERGY_FLOOR, 1.0)) for d in used}
        for f in frames
    ]
    near = None
    if context is not None and context_weight > 0:
        near = context_weight * context.fillna(0.0).to_numpy(dtype=float)
    top_pos = set(np.argsort(base.to_numpy(), kind="stable")[:top].tolist())
    all_ranks = np.empty((len(samples), n), dtype=int)
    stay = np.empty(len(samples))
    for i, sample in enumerate(samples):
        weights = [(d, float(v)) for d, v in zip(used, sample, strict=True) if v > 0]
        if weights:
            total = np.zeros(n)
            for d, v in weights:
                total = total + v * logs[pick[i]][d]
            score = np.exp(total / sum(v for _, v in weights))
        else:
            score = np.full(n, 0.5)
        if near is not None:
            score = (1 - context_weight) * score + near
        if np.isnan(score).any():
            return None
        # rank 1 = best, ties share the better rank: 1 + the number of higher scores
        r = n + 1 - np.searchsorted(np.sort(score), score, side="right")
        all_ranks[i] = r
        drawn_top = np.argsort(r, kind="stable")[:top].tolist()
        stay[i] = len(top_pos.intersection(drawn_top)) / max(len(top_pos), 1)
    return all_ranks, stay


def _drawn_ranks_pandas(
    frames: Sequence[pd.DataFrame],
    used: Sequence[str],
    samples: np.ndarray,
    pick: np.ndarray,
    context: pd.Series | None,
    context_weight: float,
    top: int,
    base: pd.Series,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_drawn_ranks` through :func:`_score` and :func:`ranks`, one draw at a time."""
    top_ids = set(base.sort_values(kind="stable").index[:top])
    all_ranks = np.empty((len(samples), len(frames[0])), dtype=int)
    stay = np.empty(len(samples))
    for i, sample in enumerate(samples):
        drawn = dict(zip(used, sample, strict=True))
        r = ranks(_score(frames[pick[i]], drawn, context, context_weight))
        all_ranks[i] = r.to_numpy()
        drawn_top = set(r.sort_values(kind="stable").index[:top])
        stay[i] = len(top_ids & drawn_top) / max(len(top_ids), 1)
    return all_ranks, stay


def sensitivity(
    dims: pd.DataFrame,
    weights: Mapping[str, float],
    *,
    context: pd.Series | None = None,
    context_weight: float = 0.0,
    top: int = 10,
) -> pd.DataFrame:
    """The top sites' ranks when each dimension is left out in turn.

    Returns
    -------
    pandas.DataFrame
        One row per site of the top ``top`` (in order), columns ``rank`` and
        ``rank_without_<dimension>``; the last row, ``kept_in_top``, counts how many of
        the top stay in the top without that dimension.
    """
    base = ranks(_score(dims, weights, context, context_weight))
    order = base.sort_values(kind="stable").index[:top]
    out = pd.DataFrame({"rank": base.loc[order]})
    kept = {"rank": len(order)}
    for d in DIMENSIONS:
        if weights.get(d, 0) <= 0:
            continue
        w = {**weights, d: 0.0}
        if not any(v > 0 for v in w.values()):
            continue
        r = ranks(_score(dims, w, context, context_weight))
        out[f"rank_without_{d}"] = r.loc[order]
        kept[f"rank_without_{d}"] = int((r.loc[order] <= top).sum())
    out.loc["kept_in_top"] = pd.Series(kept)
    return out.astype(int)


def _level(v: float) -> str:
    return say("level_strong" if v >= 2 / 3 else "level_moderate" if v >= 1 / 3 else "level_weak")


def _num(g: pd.Series, key: str, default: float) -> float:
    v = g.get(key, default)
    try:
        v = float(v)
    except (TypeError, ValueError):
        return default
    return default if math.isnan(v) else v


def _n_links(g: pd.Series) -> int:
    if "n_links" in g and not pd.isna(g["n_links"]):
        return int(g["n_links"])
    links = g.get("links", [])
    return len(links) if isinstance(links, list | tuple) else 0


def _phrase(col: str, g: pd.Series, above: bool) -> str | None:
    """One raw gain in words, or None when it says nothing (zero, or true of most sites).

    Every figure is a column of the site's gains (:data:`GAINS` or :data:`FIGURES`), in
    the unit and of the population (residents, jobs) the column counts. ``above``: the
    site's gain is above the median of the sites (percentile rank > 0.5); sentences
    without a figure of their own are said only then.
    """
    v = _num(g, col, 0.0)
    r, near = int(_num(g, "radius", 800)), int(_num(g, "near", 400))
    if v <= 0:
        return None
    if col == "soc_access_gain" and {"soc_residents_reached", "soc_jobs_reached"} <= set(g.index):
        res, jobs = _num(g, "soc_residents_reached", 0), _num(g, "soc_jobs_reached", 0)
        return say("why_access", residents=res, jobs=jobs, radius=r)
    if col == "soc_variety_gain" and above:
        return say("why_variety", radius=r)
    if col == "soc_residents_gain_daily":
        return say("why_daily", value=v, near=near)
    if col == "soc_people_added":
        return say("why_added", value=v)
    if col == "cult_third_place_gain" and "cult_residents_reached" in g:
        return say("why_third_place", residents=_num(g, "cult_residents_reached", 0), radius=r)
    if col == "cult_residents_gain_third_place":
        return say("why_third_place_near", value=v, near=near)
    if col == "cult_landmark_context" and above:
        return say("why_landmarks", value=v)
    if col == "morph_through_movement":
        return say("why_through", value=v)
    if col == "morph_far_gap" and v > 0.05:
        return say("why_far", value=v)
    if col == "morph_coverage_gap" and v > 0.05:
        return say("why_coverage", value=v * 100)
    return None


def _links_phrase(g: pd.Series) -> str | None:
    n = _n_links(g)
    if n <= 0 or _num(g, "morph_closeness_gain", 0.0) <= 0:
        return None
    return say("why_links_one") if n == 1 else say("why_links_many", n=n)


def explain(
    gains: pd.Series, norm: pd.Series, dims: pd.Series, *, dropped: Collection[str] = ()
) -> str:
    """A planner's reading of one site's gains: each dimension, strongest first.

    For each dimension, the raw gains that rank highest among the sites are put in words;
    each figure quoted is a column of the site's gains (same unit, same population).
    A dimension in ``dropped`` (left out for want of data) is named as not scored, last,
    and never called strong or weak.

    Examples
    --------
    >>> g = pd.Series({"soc_residents_gain_daily": 1240.0, "soc_access_gain": 0.0,
    ...                "cult_residents_gain_third_place": 0.0, "links": []})
    >>> n = pd.Series({"soc_residents_gain_daily": 1.0, "soc_access_gain": 0.2})
    >>> d = pd.Series({"gain_soc": 0.9, "gain_cult": 0.2, "gain_morph": 0.1})
    >>> print(explain(g, n, d))
    strong social (0.90): 1,240 residents gain a daily service within 400 m; weak
    cultural (0.20): adds little to the third places and heritage residents already reach;
    weak morphological (0.10): no new links, and as built-up as its surroundings
    """
    scored = [d for d in DIMENSIONS if d not in dropped]
    order = sorted(scored, key=lambda d: -float(np.nan_to_num(dims.get(f"gain_{d}", 0))))
    parts = []
    for d in order:
        v = float(np.nan_to_num(dims.get(f"gain_{d}", 0)))
        cols = sorted(GAINS[d], key=lambda c: -float(np.nan_to_num(norm.get(c, 0.0))))
        said = []
        for c in cols:
            above = float(np.nan_to_num(norm.get(c, 0.0))) > 0.5
            p = _links_phrase(gains) if c == "morph_closeness_gain" else _phrase(c, gains, above)
            if p:
                said.append(p)
        text = ", ".join(said[:2]) or say(f"nothing_{d}")
        parts.append(f"{_level(v)} {say(f'dim_{d}')} ({v:.2f}): {text}")
    parts += [say("not_scored", dim=say(f"dim_{d}")) for d in DIMENSIONS if d in dropped]
    return "; ".join(parts)


@dataclass(frozen=True, eq=False)
class Ranking:
    """The ranked candidates and the robustness figures."""

    table: pd.DataFrame
    stability: float
    sensitivity: pd.DataFrame
    dropped_dimensions: frozenset[str] = frozenset()
    dropped_gains: dict[str, str] = field(default_factory=dict)
    scenarios: int = 1


def rank_candidates(
    gains: pd.DataFrame,
    weights: Mapping[str, float],
    *,
    context: pd.Series | None = None,
    context_weight: float = 0.0,
    draws: int = 1000,
    kappa: float = 30.0,
    seed: int = 0,
    top: int = 10,
    dropped: Collection[str] = (),
    alternatives: Sequence[pd.DataFrame] = (),
) -> Ranking:
    """Score, rank and explain candidate sites from their raw gains.

    Parameters
    ----------
    gains
        One row per site: the raw gains of :data:`rakennettu.synthesis.leverage.GAINS`
        (and ``links``).
    weights
        Dimension weights.
    context
        The vitality (synergy, 0-1) around each site, to blend in.
    context_weight
        Its share in the score (0-1).
    draws, kappa, seed
        The weight draws of :func:`rank_intervals`.
    top
        How many sites the stability and sensitivity figures follow.
    dropped
        Dimensions left out of the vitality index for want of data: left out of the
        site scores too, and not explained as strong or weak.
    alternatives
        The raw gains under other assumptions (same sites): the rank intervals draw
        between them and ``gains`` (:func:`rank_intervals`).

    Returns
    -------
    Ranking
        ``table``: on the sites' index, ``rank``, ``score``, ``gain_morph``, ``gain_soc``,
        ``gain_cult``, the interval, and ``why`` (the breakdown in words).
    """
    usable = usable_gains(gains, weights, dropped)
    for text in usable.warnings:
        log.warning("%s", text)
    if usable.dropped_indicators:
        log.info("sites: gains equal at every site, left out: %s", usable.dropped_indicators)
    w = usable.weights
    norm, dims = dimension_gains(gains, usable.spec)
    score = _score(dims, w, context, context_weight)
    table = pd.DataFrame({"rank": ranks(score), "score": score}).join(dims)
    alt = [dimension_gains(a.loc[gains.index], usable.spec)[1] for a in alternatives]
    intervals, stability = rank_intervals(
        dims, w, context=context, context_weight=context_weight, draws=draws,
        kappa=kappa, seed=seed, top=top, alternatives=alt,
    )  # fmt: skip
    table = table.join(intervals)
    gone = usable.dropped_dimensions
    table["why"] = [
        explain(gains.loc[i], norm.loc[i], dims.loc[i], dropped=gone) for i in table.index
    ]
    sens = sensitivity(dims, w, context=context, context_weight=context_weight, top=top)
    return Ranking(table=table.sort_values(["rank", "score"], ascending=[True, False]),
                   stability=stability, sensitivity=sens, dropped_dimensions=gone,
                   dropped_gains=dict(usable.dropped_indicators),
                   scenarios=1 + len(alt))  # fmt: skip
