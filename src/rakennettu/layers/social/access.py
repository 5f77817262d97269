"""Access over the pedestrian network: activities, the land-use mix, catchments.

Activities within reach of each node, the mix of their categories, and the people a node
serves (catchments).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from rakennettu.diversity import hill_numbers
from rakennettu.layers.social._common import (
    _TOTAL,
    F64,
    _check_network_crs,
    _check_positive,
    _check_radii,
    _measure_part,
    _points_of,
)
from rakennettu.naming import indicator_name, parse_name
from rakennettu.network import StreetNetwork, accessibility, attach_points, nearest

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- activities


def activity_categories(
    activities: pd.DataFrame, *, taxonomy: Any = None, column: str = "category"
) -> list[str]:
    """The activity categories to report: the tag table's, then any others in the data.

    Parameters
    ----------
    activities
        Activities with a ``category`` column.
    taxonomy
        The tag tables (:func:`rakennettu.sources.taxonomy.load_taxonomy`); default the
        bundled ones. Its ``activities`` table gives the categories and their order, so
        every town gets the same columns even where a category has no activity.
    column
        The category column.

    Returns
    -------
    list of str
        The table's category ids in its order, then other categories found in
        ``activities`` (e.g. from a municipal layer), sorted.

    Examples
    --------
    >>> acts = pd.DataFrame({"category": ["retail", "ice_cream_vans", None]})
    >>> activity_categories(acts)[-3:]
    ['retail', 'work', 'ice_cream_vans']
    """
    from rakennettu.sources.taxonomy import load_taxonomy

    tax = taxonomy if taxonomy is not None else load_taxonomy()
    ids = list(tax["activities"].ids)
    extra: list[str] = []
    if column in activities:
        found = activities[column].dropna().unique().tolist()
        extra = sorted({str(c) for c in found} - set(ids))
    for c in [*ids, *extra]:
        _measure_part(c, "activity category")
    return [*ids, *extra]


def activity_access(
    net: StreetNetwork,
    activities: gpd.GeoDataFrame,
    *,
    radii: float | Iterable[float],
    snap_distance: float,
    beta: float | Sequence[float] | None = None,
    categories: Sequence[str] | None = None,
    max_nearest: float | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Reach of every node to the activities: counts, decayed sums and nearest distances.

    Activities are attached to the nearest street (polygons by a point on their surface)
    and searched from outward over the network (:func:`rakennettu.network.accessibility`);
    the walk to an activity runs along the streets and then the snapping distance off
    them. An activity counts in its primary ``category`` (and in the total) with its
    ``weight`` (1 where the column is missing or empty).

    Parameters
    ----------
    net
        The street network.
    activities
        Points or polygons with a ``category`` column and an optional ``weight``, in the
        network's CRS (e.g. ``town.activities``).
    radii
        Network radii in metres (whole numbers).
    snap_distance
        Activities farther than this (metres) from every street are left out.
    beta
        Decay rate per metre: one value, one per radius (ascending), or None for
        ``4 / R``.
    categories
        The categories to report; default :func:`activity_categories` (the tag table's,
        then others in the data). Activities of other categories count in the total only.
    max_nearest
        Search the nearest activity up to this many metres (default the largest radius,
        as the cultural layer's ``cult_nearest_*``); farther is NaN, "beyond reach".
    progress
        Show a progress bar over the categories.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``net.node_ids``: ``soc_count_<category>_<R>m`` and
        ``soc_count_total_<R>m`` (counts within R), ``soc_access_<category>_<R>m`` and
        ``soc_access_total_<R>m`` (``Σ weight · exp(-β d)`` within R) and
        ``soc_nearest_<category>`` (metres, NaN where none lies within ``max_nearest``).

    Raises
    ------
    CRSError
        If the activities are not in the network's projected CRS.

    Examples
    --------
    Two shops and a café on a 3x3 grid of 100 m blocks:

    >>> from shapely import Point
    >>> net = grid  # a 3x3 grid of 100 m blocks, nodes 0-8 by rows (conftest.py)
    >>> acts = gpd.GeoDataFrame(
    ...     {"category": ["retail", "retail", "food_drink"]},
    ...     geometry=[Point(0, 0), Point(100, 0), Point(200, 200)], crs=3067)
    >>> acc = activity_access(net, acts, radii=[100], snap_distance=10,
    ...                       categories=["retail", "food_drink"])
    >>> acc.loc[[0, 4], ["soc_count_retail_100m", "soc_count_total_100m"]]
             soc_count_retail_100m  soc_count_total_100m
    node_id
    0                            2                     2
    4                            1                     1
    >>> round(float(acc.loc[0, "soc_access_retail_100m"]), 4)  # 1 + exp(-4/100 * 100)
    1.0183
    >>> acc.loc[[0, 8], "soc_nearest_food_drink"].tolist()  # NaN beyond 100 m
    [nan, 0.0]
    """
    labels = _check_radii(radii)
    snap = _check_positive(snap_distance, "snap_distance")
    if not isinstance(activities, gpd.GeoDataFrame):
        raise TypeError(f"activities must be a GeoDataFrame, got {type(activities).__name__}")
    _check_network_crs(net, activities.crs, "activities")
    if "category" not in activities:
        raise KeyError(
            "activities have no 'category' column; classify them with "
            "rakennettu.sources.taxonomy.activities(...) or map one for a 'pois' layer"
        )
    cats = list(categories) if categories is not None else activity_categories(activities)
    for c in cats:
        _measure_part(c, "activity category")
    pts, category, weight = _activity_points(activities, cats)
    attached = attach_points(net, pts, max_distance=snap)
    n_off = int((~attached["attached"]).sum())
    if n_off:
        log.info("%d of %d activities lie over %g m from a street: left out", n_off, len(pts), snap)
    acc = accessibility(
        net,
        attached,
        radii=labels,
        categories=category,
        weights=weight,
        beta=beta,
        progress=progress,
    )
    limit = (
        float(max(labels)) if max_nearest is None else _check_positive(max_nearest, "max_nearest")
    )
    near = nearest(net, attached, max_distance=limit, categories=category)
    data = _access_columns(acc, near, cats, labels, net.n_nodes)
    return pd.DataFrame(data, index=net.node_ids.copy())


def _activity_points(
    activities: gpd.GeoDataFrame, cats: list[str]
) -> tuple[gpd.GeoSeries, pd.Series, pd.Series]:
    """Points, category (None outside ``cats``) and weight (1 unless given) by position."""
    # positions as the index: the input's labels may repeat
    pts = _points_of(activities.geometry.reset_index(drop=True))
    category = (
        activities["category"]
        .reset_index(drop=True)
        .map(lambda v: None if pd.isna(v) else str(v))
        .astype(object)
    )
    category = category.where(category.isin(cats), None)
    weight = (
        pd.to_numeric(activities["weight"], errors="coerce").reset_index(drop=True).fillna(1.0)
        if "weight" in activities
        else pd.Series(1.0, index=pts.index)
    )
    return pts, category, weight


def _access_columns(
    acc: pd.DataFrame, near: pd.DataFrame, cats: list[str], labels: list[int], n: int
) -> dict[str, Any]:
    """The ``soc_count_*``, ``soc_access_*`` and ``soc_nearest_*`` columns.

    Every category of ``cats`` gets its columns, present or not (zeros, NaN).
    """
    present = set(acc.columns.get_level_values(0))
    data: dict[str, Any] = {}
    for measure, source in (("count", "count"), ("access", "decayed")):
        for c in [*cats, _TOTAL]:
            for r in labels:
                col = (c, source, r)
                if c in present:
                    values = acc[col].to_numpy()
                else:
                    values = np.zeros(n, dtype=np.int64 if measure == "count" else np.float64)
                data[indicator_name("soc", f"{measure}_{c}", r)] = values
    for c in cats:
        data[indicator_name("soc", f"nearest_{c}")] = (
            near[c].to_numpy() if c in near else np.full(n, np.nan)
        )
    return data


# ------------------------------------------------------------------------------- mix


def _q_label(q: float) -> str:
    return f"q{q:g}".replace(".", "_")


def land_use_mix(
    access: pd.DataFrame,
    *,
    qs: Sequence[float] = (0, 1, 2),
    decayed_qs: Sequence[float] = (1, 2),
) -> pd.DataFrame:
    """Land-use mix per node and radius: Hill numbers of the activity categories.

    Parameters
    ----------
    access
        A table with ``soc_count_<category>_<R>m`` columns (and ``soc_access_...`` for
        the decayed forms), as :func:`activity_access` makes; totals are ignored.
    qs
        Orders of the mix of counts.
    decayed_qs
        Orders of the mix of decayed sums. ``q = 0`` is left out by default: with
        positive weights it equals the mix of counts.

    Returns
    -------
    pandas.DataFrame
        On the index of ``access``: ``soc_mix_q<q>_<R>m`` and
        ``soc_mix_decayed_q<q>_<R>m`` (effective numbers of categories; see
        :func:`hill_numbers`).

    Examples
    --------
    >>> counts = pd.DataFrame({"soc_count_retail_400m": [3, 1, 0],
    ...                        "soc_count_food_drink_400m": [3, 0, 0],
    ...                        "soc_count_total_400m": [6, 1, 0]})
    >>> land_use_mix(counts, qs=(0, 2), decayed_qs=())
       soc_mix_q0_400m  soc_mix_q2_400m
    0              2.0              2.0
    1              1.0              1.0
    2              0.0              0.0
    """
    groups: dict[tuple[str, int], list[str]] = {}
    for col in access.columns:
        try:
            parsed = parse_name(str(col))
        except ValueError:
            continue
        if parsed.dimension != "soc" or parsed.radius is None:
            continue
        for kind in ("count", "access"):
            prefix = f"{kind}_"
            if parsed.measure.startswith(prefix) and parsed.measure != f"{kind}_{_TOTAL}":
                groups.setdefault((kind, parsed.radius), []).append(str(col))
    radii = sorted({r for _, r in groups})
    data: dict[str, F64] = {}
    for kind, orders, infix in (("count", qs, ""), ("access", decayed_qs, "decayed_")):
        for q in orders:
            for r in radii:
                cols = groups.get((kind, r), [])
                values = access[cols].to_numpy(dtype=np.float64)
                data[indicator_name("soc", f"mix_{infix}{_q_label(q)}", r)] = (
                    hill_numbers(values, q) if cols else np.zeros(len(access))
                )
    return pd.DataFrame(data, index=access.index.copy())


def catchment(
    net: StreetNetwork,
    points: gpd.GeoDataFrame | gpd.GeoSeries,
    weights: pd.DataFrame | pd.Series,
    *,
    radii: float | Iterable[float],
    snap_distance: float,
) -> pd.DataFrame:
    """Sum of point weights (residents, jobs) within each radius of every node.

    The points (polygons by a point on their surface) are attached to the nearest
    street within ``snap_distance``; a node's catchment at ``R`` is the total weight of
    the points within network distance ``R`` (along the streets, plus the snapping
    distance), as :func:`rakennettu.network.accessibility` counts them.

    Parameters
    ----------
    net
        The street network.
    points
        Where the people are (e.g. building representative points), in the network's CRS.
    weights
        One column per quantity, or a named Series, indexed like ``points``; each name
        becomes a measure: ``residents`` -> ``soc_residents_<R>m``.
    radii
        Network radii in metres (whole numbers).
    snap_distance
        Points farther than this (metres) from every street are left out (logged).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``net.node_ids``: ``soc_<name>_<R>m`` for each weight and radius.

    Examples
    --------
    Ten residents at the south-west corner of a 3x3 grid of 100 m blocks, five at the
    north-east one:

    >>> from shapely import Point
    >>> net = grid  # a 3x3 grid of 100 m blocks, nodes 0-8 by rows (conftest.py)
    >>> homes = gpd.GeoSeries([Point(0, 0), Point(200, 200)], crs=3067)
    >>> people = pd.Series([10.0, 5.0], name="residents")
    >>> catchment(net, homes, people, radii=[200, 400], snap_distance=10).loc[[0, 4]]
             soc_residents_200m  soc_residents_400m
    node_id
    0                      10.0                15.0
    4                      15.0                15.0
    """
    labels = _check_radii(radii)
    snap = _check_positive(snap_distance, "snap_distance")
    geometry = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
    _check_network_crs(net, geometry.crs, "points")
    frame = weights.to_frame() if isinstance(weights, pd.Series) else weights
    if frame.columns.has_duplicates or any(c is None for c in frame.columns):
        raise ValueError("weights need unique column names (they name the measures)")
    names = [_measure_part(c, "weight") for c in frame.columns]
    if not frame.index.equals(geometry.index):
        raise ValueError("weights must be indexed like the points")
    attached = attach_points(net, _points_of(geometry.reset_index(drop=True)), max_distance=snap)
    return _catchment(net, attached, frame, names, labels, snap)


def _catchment(
    net: StreetNetwork,
    attached: pd.DataFrame,
    frame: pd.DataFrame,
    names: list[str],
    labels: list[int],
    snap: float,
) -> pd.DataFrame:
    """:func:`catchment` on points already attached (in the row order of ``frame``)."""
    ok = attached["attached"].to_numpy(dtype=bool)
    data: dict[str, Any] = {}
    for name, col in zip(names, frame.columns, strict=True):
        w = pd.Series(frame[col].to_numpy(dtype=np.float64), index=attached.index)
        if not np.all(np.isfinite(w)):
            raise ValueError(f"weights {col!r} has missing or infinite values")
        lost = float(w[~ok].sum())
        if lost:
            log.info(
                "catchment: %.0f of %.0f %s lie over %g m from a street and are left out",
                lost,
                float(w.sum()),
                name,
                snap,
            )
        acc = accessibility(net, attached, radii=labels, weights=w)
        for r in labels:
            data[indicator_name("soc", name, r)] = acc[(_TOTAL, "weighted", r)].to_numpy()
    return pd.DataFrame(data, index=net.node_ids.copy())
