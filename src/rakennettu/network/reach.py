"""What lies within reach of every node: :func:`catchment` and :func:`nearest`.

Both take features attached with :func:`rakennettu.network.attach` (or
:func:`~rakennettu.network.attach_points`) and measure the walk as
:func:`~rakennettu.network.accessibility` does: network distance to one end of the
feature's segment, plus the distance along it, plus (by default) the snapping distance.

* :func:`catchment` searches from every node outward (one bounded search per node) and
  sums values of the items within each radius, optionally with the median of a value: use
  it for per-node aggregates other than counts and weighted sums (e.g. the median
  construction year of the buildings within 800 m). :func:`catchments` shares one search
  per node between several groups of items.
* :func:`nearest` runs one multi-source search per category, bounded by ``max_distance``:
  the distance to the nearest item, NaN beyond the limit ("beyond reach").
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import NamedTuple

import numba
import numpy as np
import pandas as pd

from rakennettu.network._util import _TOTAL, F64, I64, _ordered_columns
from rakennettu.network.graph import StreetNetwork
from rakennettu.network.kernels import Items, _catchment_kernel

__all__ = ["CatchmentItems", "catchment", "catchments", "nearest"]


class CatchmentItems(NamedTuple):
    """Attached features with values to sum within each radius of every node.

    Attributes
    ----------
    attached
        As :func:`rakennettu.network.attach_points` makes; unattached rows are left out.
    values
        ``(n_items, n_channels)``: what each item adds to each channel.
    median_of
        One value per item to take the median of (NaN: not counted), or None.
    include_snap
        Add the snapping distance to the walk.
    """

    attached: pd.DataFrame
    values: F64
    median_of: F64 | None = None
    include_snap: bool = True


def _ends(net: StreetNetwork, att: pd.DataFrame, include_snap: bool) -> tuple[I64, I64, F64, F64]:
    """Internal end nodes of attached rows and the walk (metres) to each end."""
    pu = net.node_ids.get_indexer(pd.Index(att["edge_u"].to_numpy(), tupleize_cols=False))
    pv = net.node_ids.get_indexer(pd.Index(att["edge_v"].to_numpy(), tupleize_cols=False))
    if (pu < 0).any() or (pv < 0).any():
        raise ValueError(
            "some features are attached to nodes that are not in this network; re-attach "
            "them with rakennettu.network.attach(net, features, max_distance=...)"
        )
    snap = att["snap_distance"].to_numpy(dtype=np.float64) if include_snap else 0.0
    ou = att["dist_u"].to_numpy(dtype=np.float64) + snap
    ov = att["dist_v"].to_numpy(dtype=np.float64) + snap
    return net._rank[pu], net._rank[pv], ou, ov


def _pack(net: StreetNetwork, groups: Sequence[CatchmentItems]) -> tuple[Items, list[int]]:
    """The groups' items as one CSR by internal node, and each group's channel count."""
    nodes, items, offs, vals, vptr, ch0, medv = [], [], [], [], [], [], []
    first_item = first_ch = first_val = 0
    channels: list[int] = []
    for g in groups:
        k = len(g.attached)
        v = np.asarray(g.values, dtype=np.float64)
        if v.ndim != 2 or v.shape[0] != k:
            raise ValueError("item values must be (n_items, n_channels)")
        nch = int(v.shape[1])
        channels.append(nch)
        ok = g.attached["attached"].to_numpy(dtype=bool)
        where = np.flatnonzero(ok) + first_item
        iu, iv, ou, ov = _ends(net, g.attached[ok], g.include_snap)
        nodes += [iu, iv]
        items += [where, where]
        offs += [ou, ov]
        vals.append(v.ravel())
        vptr.append(first_val + nch * np.arange(k, dtype=np.int64))
        ch0.append(np.full(k, first_ch, dtype=np.int64))
        med = np.full(k, np.nan) if g.median_of is None else g.median_of
        medv.append(np.asarray(med, dtype=np.float64))
        first_item, first_ch, first_val = first_item + k, first_ch + nch, first_val + nch * k

    def cat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)

    node = cat(nodes, np.int64)
    srt = np.argsort(node, kind="stable")
    item_ptr = np.zeros(net.n_nodes + 1, dtype=np.int64)
    np.cumsum(np.bincount(node, minlength=net.n_nodes), out=item_ptr[1:])
    packed = Items(
        item_ptr,
        np.ascontiguousarray(cat(items, np.int64)[srt]),
        np.ascontiguousarray(cat(offs, np.float64)[srt]),
        np.ascontiguousarray(cat(vals, np.float64)),
        np.append(cat(vptr, np.int64), first_val),
        cat(ch0, np.int64),
        cat(medv, np.float64),
    )
    return packed, channels


def catchments(
    net: StreetNetwork, groups: Sequence[CatchmentItems], radii: Sequence[float]
) -> list[tuple[F64, F64]]:
    """Sum each group's values (and the median of its ``median_of``) within each radius.

    All groups share one bounded search per node. An item counts at the nearer of its
    segment's ends (plus its walk along the segment); a node counts it for every radius
    ``R >= d`` (inclusive).

    Parameters
    ----------
    net
        The street network.
    groups
        The items; at most one group may have a ``median_of``.
    radii
        Network radii in metres, ascending.

    Returns
    -------
    list of (numpy.ndarray, numpy.ndarray)
        Per group, ``(n_nodes, n_radii, n_channels)`` sums and ``(n_nodes, n_radii)``
        medians (NaN where no item, or no ``median_of``), rows in the order of
        ``net.node_ids``.
    """
    if sum(g.median_of is not None for g in groups) > 1:
        raise ValueError("only one group of items may ask for a median")
    rad = np.asarray(radii, dtype=np.float64)
    if rad.size == 0 or np.any(np.diff(rad) <= 0) or not np.all(rad > 0):
        raise ValueError(f"radii must be positive and ascending, got {list(radii)!r}")
    packed, channels = _pack(net, groups)
    nblocks = max(1, min(net.n_nodes, 4 * numba.get_num_threads()))
    nch = max(sum(channels), 1)
    sums, med = _catchment_kernel(net._graph, packed, nch, rad, nblocks)
    sums, med = sums[net._rank], med[net._rank]
    out = []
    c = 0
    for g, k in zip(groups, channels, strict=True):
        out.append((sums[:, :, c : c + k], med if g.median_of is not None else med * np.nan))
        c += k
    return out


def catchment(
    net: StreetNetwork,
    attached: pd.DataFrame,
    values: pd.DataFrame | pd.Series | None = None,
    *,
    radii: Sequence[float],
    median_of: pd.Series | None = None,
    include_snap: bool = True,
) -> pd.DataFrame:
    """Sums of the items within each radius of every node (searching from the nodes).

    Parameters
    ----------
    net
        The street network.
    attached
        Items attached with :func:`rakennettu.network.attach`; unattached rows are left
        out.
    values
        Numbers per item (a Series, or a DataFrame of several), indexed like ``attached``;
        None counts the items.
    radii
        Network radii in metres.
    median_of
        A value per item (indexed like ``attached``; NaN: skip): also report its median
        over the items within each radius.
    include_snap
        Add the snapping distance to the walk.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``net.node_ids``; columns ``(value, radius_m)`` for each column of
        ``values`` (``"count"`` when None), and ``("median", radius_m)`` with
        ``median_of``.

    Examples
    --------
    Two buildings of 1950 and 2000 (100 and 300 m² of floor) along a street of two 100 m
    segments:

    >>> from shapely import Point
    >>> from rakennettu.network import attach
    >>> b = gpd.GeoDataFrame({"year": [1950.0, 2000.0], "area": [100.0, 300.0]},
    ...                      geometry=[Point(30, 0), Point(160, 0)], crs=3067)
    >>> net = street(0, 100, 200)  # nodes 0, 1, 2 along the x axis at these x (m)
    >>> att = attach(net, b, max_distance=10)
    >>> c = catchment(net, att, b["area"], radii=[100, 200], median_of=b["year"])
    >>> c.loc[[0, 1]]
    value      area       median
    radius_m    100    200     100     200
    node_id
    0         100.0  400.0  1950.0  1975.0
    1         400.0  400.0  1975.0  1975.0
    """
    if values is None:
        frame = pd.DataFrame({"count": np.ones(len(attached))}, index=attached.index)
    else:
        frame = values.to_frame() if isinstance(values, pd.Series) else values
        frame = frame.reindex(attached.index)
    rad = sorted({float(r) for r in radii})
    med = None if median_of is None else median_of.reindex(attached.index).to_numpy(float)
    items = CatchmentItems(attached, frame.to_numpy(dtype=np.float64), med, include_snap)
    ((sums, medians),) = catchments(net, [items], rad)
    labels = [int(r) if r.is_integer() else r for r in rad]
    data: dict[tuple[Hashable, float | int], F64] = {}
    for j, name in enumerate(frame.columns):
        for k, r in enumerate(labels):
            data[(name, r)] = sums[:, k, j]
    if median_of is not None:
        for k, r in enumerate(labels):
            data[("median", r)] = medians[:, k]
    out = pd.DataFrame(data, index=net.node_ids.copy())
    out.columns = _ordered_columns(list(data), ["value", "radius_m"])
    return out


def nearest(
    net: StreetNetwork,
    attached: pd.DataFrame,
    *,
    max_distance: float,
    categories: pd.Series | None = None,
    include_snap: bool = True,
) -> pd.DataFrame:
    """Network distance from every node to the nearest attached item of each category.

    One multi-source search per category (seeded at both ends of each item's segment at its
    walk along it), bounded by ``max_distance``.

    Parameters
    ----------
    net
        The street network.
    attached
        Items attached with :func:`rakennettu.network.attach`; unattached rows are
        ignored.
    max_distance
        Search this far (metres); farther nodes get NaN ("beyond reach").
    categories
        A category per item (indexed like ``attached``); None: one column ``"total"``.
        Items without a category are ignored.
    include_snap
        Add the snapping distance to the walk.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``net.node_ids``, one column per category (sorted), metres; NaN where
        no item of the category lies within ``max_distance``.

    Examples
    --------
    A shop 30 m along the street 0-1 of the 3x3 grid of 100 m blocks:

    >>> from shapely import Point
    >>> from rakennettu.network import attach
    >>> a = attach(grid, gpd.GeoSeries([Point(30, 0)], crs=3067), max_distance=10)
    >>> nearest(grid, a, max_distance=300)["total"].loc[[0, 1, 5, 8]].tolist()
    [30.0, 70.0, 270.0, nan]
    """
    if not (max_distance > 0 and np.isfinite(max_distance)):
        raise ValueError(
            f"max_distance must be a positive distance in metres, got {max_distance!r}"
        )
    ok = attached["attached"].to_numpy(dtype=bool)
    att = attached[ok]
    iu, iv, ou, ov = _ends(net, att, include_snap)
    if categories is None:
        labels = pd.Series(_TOTAL, index=att.index, dtype=object)
    else:
        labels = categories.reindex(att.index)
    columns: dict[Hashable, F64] = {}
    codes, uniques = pd.factorize(labels, sort=True)
    for j, label in enumerate(uniques):
        sel = codes == j
        seeds = np.concatenate([iu[sel], iv[sel]])
        offsets = np.concatenate([ou[sel], ov[sel]])
        reached, dist = net._within(seeds, offsets, float(max_distance))
        internal = np.full(net.n_nodes, np.nan)
        internal[reached] = dist
        columns[label] = internal[net._rank]
    return pd.DataFrame(columns, index=net.node_ids.copy())
