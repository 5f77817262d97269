"""Points on the network (:func:`attach_points`) and what they reach (:func:`accessibility`)."""

from __future__ import annotations

import logging
import math
from collections.abc import Hashable, Iterable, Sequence
from typing import Any, NamedTuple

import geopandas as gpd
import numba
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pyproj import CRS

from rakennettu import interrupt
from rakennettu._timing import progress_bar
from rakennettu.errors import CRSError, NetworkError
from rakennettu.network._util import (
    _ACCESS_MEASURES,
    _TOTAL,
    B8,
    F64,
    I64,
    _check_betas,
    _check_radii,
    _ordered_columns,
)
from rakennettu.network.graph import StreetNetwork, _per_call
from rakennettu.network.kernels import Seeds, _access_kernel

logger = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------
# points and accessibility
# ---------------------------------------------------------------------------------------

_ATTACH_COLUMNS = ["edge_u", "edge_v", "edge_key", "dist_u", "dist_v", "snap_distance", "attached"]


def _as_geoseries(points: Any, what: str) -> gpd.GeoSeries:
    if isinstance(points, gpd.GeoDataFrame):
        return points.geometry
    if isinstance(points, gpd.GeoSeries):
        return points
    raise TypeError(f"{what} must be a GeoDataFrame or GeoSeries, got {type(points).__name__}")


def _check_same_crs(net: StreetNetwork, crs: Any, what: str) -> None:
    if crs is None:
        raise CRSError(f"{what} have no CRS; set it (gdf.set_crs(...)) to the network's CRS")
    if CRS.from_user_input(crs) != net.crs:
        raise CRSError(
            f"{what} are in {CRS.from_user_input(crs).name} but the network is in "
            f"{net.crs.name}; reproject them with .to_crs(net.crs)"
        )


def _nullable(edges: pd.MultiIndex, level: int, take: I64, ok: B8, index: pd.Index) -> pd.Series:
    """Level ``level`` of the edges at ``take`` where ``ok``, missing elsewhere.

    Nullable Int64 for integer ids. Taken through the level's codes: the level's values
    of every edge (``get_level_values``) would be made again for each call.
    """
    values = edges.levels[level]
    arr = values.take(edges.codes[level][np.where(ok, take, 0)]) if len(edges) else values
    if pd.api.types.is_integer_dtype(values.dtype):
        ints = pd.array(np.asarray(arr), dtype="Int64")
        if not ok.all():
            ints[~ok] = pd.NA
        return pd.Series(ints, index=index)
    s = pd.Series(np.asarray(arr), index=index)
    if not ok.all():
        s = s.astype(object)
        s[~ok] = None
    return s


def _nearest_among(
    net: StreetNetwork, geoms: npt.NDArray[Any], pairs: tuple[I64, I64], max_distance: float
) -> tuple[I64, I64, F64]:
    """The nearest edge of each geometry among its candidate ``pairs``, as the tree's.

    ``pairs`` are (geometry, edge) positions holding every edge within ``max_distance``
    of each geometry (an STRtree ``dwithin`` query). The distances are shapely's (the
    tree's own measure, in vectorised calls); a geometry at equal distance from several
    edges is handed to the tree's ``query_nearest``, so that the same edge is chosen.
    Returns the positions of the geometries that have one, their edges and distances.
    """
    g, e = pairs
    d = shapely.distance(geoms[g], net._edges.geometry.to_numpy()[e])
    least = np.full(len(geoms), np.inf)
    np.minimum.at(least, g, d)
    best = d == least[g]
    count = np.bincount(g[best], minlength=len(geoms))
    edge = np.full(len(geoms), -1, dtype=np.int64)
    edge[g[best]] = e[best]
    tied = np.flatnonzero(count > 1)
    if tied.size:
        (t_in, t_tree), _ = net._tree.query_nearest(
            geoms[tied], max_distance=max_distance, return_distance=True, all_matches=False
        )
        edge[tied[t_in]] = t_tree
    idx = np.flatnonzero(count > 0)
    return idx, edge[idx], least[idx]


def _snap_to_edges(
    net: StreetNetwork,
    geoms: npt.NDArray[Any],
    max_distance: float,
    *,
    pairs: tuple[I64, I64] | None = None,
) -> tuple[I64, F64, F64, F64]:
    """Nearest edge within ``max_distance`` of each geometry (-1 if none).

    Returns the edge position, the snapping distance, the distance along the edge from its
    ``u`` end scaled to the edge's ``length`` (metres), and the same measured along the
    geometry. With ``pairs``, the nearest is found among them (:func:`_nearest_among`).
    """
    k = len(geoms)
    epos = np.full(k, -1, dtype=np.int64)
    snap = np.full(k, np.nan)
    along = np.full(k, np.nan)
    along_geom = np.full(k, np.nan)
    valid = np.flatnonzero(~(shapely.is_missing(geoms) | shapely.is_empty(geoms)))
    if valid.size == 0 or net.n_edges == 0:
        return epos, snap, along, along_geom
    if pairs is not None:
        idx, i_tree, dist = _nearest_among(net, geoms, pairs, max_distance)
    else:
        (i_in, i_tree), dist = net._tree.query_nearest(
            geoms[valid], max_distance=max_distance, return_distance=True, all_matches=False
        )
        idx = valid[i_in]
    epos[idx] = i_tree
    snap[idx] = dist
    lines = net._edges.geometry.to_numpy()[i_tree]
    glen = shapely.length(lines)
    t = shapely.line_locate_point(lines, geoms[idx])
    rev = net._edge_rev[i_tree]
    t_u = np.where(rev, glen - t, t)
    frac = np.where(glen > 0, t_u / np.where(glen > 0, glen, 1.0), 0.0)
    along[idx] = np.clip(frac, 0.0, 1.0) * net._edges["length"].to_numpy()[i_tree]
    along_geom[idx] = t_u
    return epos, snap, along, along_geom


def attach_points(
    net: StreetNetwork, points: gpd.GeoDataFrame | gpd.GeoSeries, *, max_distance: float
) -> pd.DataFrame:
    """Snap points to the nearest position on the nearest street segment.

    Parameters
    ----------
    net
        The street network.
    points
        Point geometries in the network's CRS (use ``representative_point()`` for
        polygons).
    max_distance
        Points farther than this many metres from every segment are not attached; they are
        counted and logged, and ignored by :func:`accessibility`.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``points``: ``edge_u``, ``edge_v``, ``edge_key`` (the segment),
        ``dist_u`` and ``dist_v`` (metres along the segment to each end, scaled to its
        ``length``), ``snap_distance`` (metres from the point to the segment) and
        ``attached`` (bool). Unattached rows hold missing values.

    Raises
    ------
    CRSError
        If the points have no CRS or another CRS than the network.

    Examples
    --------
    >>> from shapely import Point
    >>> net = grid  # a 3x3 grid of 100 m blocks, nodes 0-8 by rows (conftest.py)
    >>> pts = gpd.GeoSeries([Point(30, 5), Point(500, 500)], crs="EPSG:3067")
    >>> a = attach_points(net, pts, max_distance=50)
    >>> a[["edge_u", "edge_v", "dist_u", "dist_v", "snap_distance", "attached"]]
       edge_u  edge_v  dist_u  dist_v  snap_distance  attached
    0       0       1    30.0    70.0            5.0      True
    1    <NA>    <NA>     NaN     NaN            NaN     False
    """
    geoms_s = _as_geoseries(points, "points")
    _check_same_crs(net, geoms_s.crs, "points")
    if not (max_distance >= 0):
        raise ValueError(f"max_distance must be a distance in metres >= 0, got {max_distance!r}")
    geoms = geoms_s.to_numpy()
    kinds = shapely.get_type_id(geoms)
    bad = (kinds != 0) & ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if bad.any():
        raise TypeError(
            f"{int(bad.sum())} geometries are not Points; pass e.g. "
            "gdf.representative_point() for polygons"
        )
    epos, snap, along, _ = _snap_to_edges(net, geoms, float(max_distance))
    return _attachments(net, geoms_s.index, epos, snap, along, max_distance)


def attach_points_among(
    net: StreetNetwork, points: gpd.GeoSeries, pairs: tuple[I64, I64], *, max_distance: float
) -> pd.DataFrame:
    """:func:`attach_points`, each point's edge sought among candidate pairs only.

    For many points close to the streets (a raster along them) whose nearby edges are
    known already: ``pairs`` are (point, edge) positions, every edge within
    ``max_distance`` of each point (``net._tree.query(points, predicate="dwithin",
    distance=max_distance)``); a point in no pair is not attached. The result equals
    :func:`attach_points`'s.
    """
    geoms = points.to_numpy()
    epos, snap, along, _ = _snap_to_edges(net, geoms, float(max_distance), pairs=pairs)
    return _attachments(net, points.index, epos, snap, along, max_distance)


def _attachments(
    net: StreetNetwork, index: pd.Index, epos: I64, snap: F64, along: F64, max_distance: float
) -> pd.DataFrame:
    """The frame of :func:`attach_points` from the snapped edges (-1: not attached)."""
    ok = epos >= 0
    lengths = net._edges["length"].to_numpy()
    ei = net._edges.index
    index = index.copy()
    out = pd.DataFrame(
        {
            "edge_u": _nullable(ei, 0, epos, ok, index),
            "edge_v": _nullable(ei, 1, epos, ok, index),
            "edge_key": _nullable(ei, 2, epos, ok, index),
            "dist_u": along,
            "dist_v": np.where(ok, lengths[np.maximum(epos, 0)] - along, np.nan),
            "snap_distance": snap,
            "attached": ok,
        },
        index=index,
    )
    n_off = int((~ok).sum())
    if n_off:
        logger.info(
            "%d of %d points are farther than %g m from the network and were not attached",
            n_off,
            len(ok),
            max_distance,
        )
    return out


def _attachment_points(
    net: StreetNetwork, features: gpd.GeoSeries, max_distance: float
) -> gpd.GeoSeries:
    """Each feature's point nearest the network (points: themselves)."""
    geoms = np.asarray(features.to_numpy(), dtype=object).copy()
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    other = ~missing & (shapely.get_type_id(geoms) != 0)
    if other.any():
        idx = np.flatnonzero(other)
        fallback = shapely.point_on_surface(geoms[idx])
        if net.n_edges:
            lines = net._edges.geometry.to_numpy()
            (i_in, i_tree), _ = net._tree.query_nearest(
                geoms[idx], max_distance=max_distance, return_distance=True, all_matches=False
            )
            nearest = shapely.get_point(shapely.shortest_line(geoms[idx[i_in]], lines[i_tree]), 0)
            fallback[i_in] = nearest
        geoms[idx] = fallback
    return gpd.GeoSeries(geoms, index=features.index, crs=features.crs)


def attach(
    net: StreetNetwork, features: gpd.GeoDataFrame | gpd.GeoSeries, *, max_distance: float
) -> pd.DataFrame:
    """Attach points, lines and polygons to the network: the one way features join it.

    A point snaps to the nearest position on the nearest street segment
    (:func:`attach_points`). A polygon or line attaches at its own point nearest to the
    nearest segment (on the boundary facing the street, or on the street where they
    overlap), not at its centroid: a park is entered from its edge. A polygon farther than
    ``max_distance`` from every street is left unattached.

    Parameters
    ----------
    net
        The street network.
    features
        Any geometries, in the network's CRS.
    max_distance
        Features farther than this (metres) from every segment are not attached.

    Returns
    -------
    pandas.DataFrame
        As :func:`attach_points`, indexed like ``features``.

    Raises
    ------
    CRSError
        If the features have no CRS or another CRS than the network.

    Examples
    --------
    A block whose south corner lies 5 m north of the street 0-1-2, far from its centroid:

    >>> from shapely import Polygon
    >>> block = gpd.GeoSeries([Polygon([(150, 5), (190, 45), (150, 85), (110, 45)])], crs=3067)
    >>> net = street(0, 100, 200)  # nodes 0, 1, 2 along the x axis at these x (m)
    >>> attach(net, block, max_distance=50)[["edge_u", "edge_v", "dist_u", "snap_distance"]]
       edge_u  edge_v  dist_u  snap_distance
    0       1       2    50.0            5.0
    """
    geoms = _as_geoseries(features, "features")
    _check_same_crs(net, geoms.crs, "features")
    points = _attachment_points(net, geoms, float(max_distance))
    return attach_points(net, points, max_distance=max_distance)


class _Points(NamedTuple):
    """Attached points resolved against one network (attached rows only)."""

    ids: pd.Index
    edge: I64  # edge position in net.edges
    pu: I64  # internal node at the u end
    pv: I64
    ou: F64  # walk to the u end (metres), snap included when asked
    ov: F64
    weight: F64
    category: pd.Series  # labels (NaN = none)
    #: :func:`_groups` of these points when known already (a baseline's points joined
    #: with new ones), else None: found from ``category``
    groups: list[tuple[Hashable, I64]] | None = None


def _resolve_spec(spec: Any, attached: pd.DataFrame, what: str) -> pd.Series | None:
    if spec is None:
        return None
    if isinstance(spec, str):
        if spec not in attached.columns:
            raise KeyError(
                f"{what} {spec!r} is not a column of the attached points; add it or pass a "
                "Series indexed like the points"
            )
        return attached[spec]
    if isinstance(spec, pd.Series):
        missing = attached.index.difference(spec.index)
        if len(missing):
            raise KeyError(
                f"{what} has no value for {len(missing)} points (e.g. {list(missing[:3])})"
            )
        return spec.reindex(attached.index)
    arr = np.asarray(spec)
    if arr.shape != (len(attached),):
        raise ValueError(f"{what} must have one value per point ({len(attached)})")
    return pd.Series(arr, index=attached.index)


def _resolve_points(
    net: StreetNetwork,
    attached: pd.DataFrame,
    categories: Any,
    weights: Any,
    include_snap: bool,
) -> _Points:
    missing_cols = [c for c in _ATTACH_COLUMNS if c not in attached.columns]
    if missing_cols:
        raise KeyError(
            f"attached points lack columns {missing_cols}; make them with attach_points(net, ...)"
        )
    cat_all = _resolve_spec(categories, attached, "categories")
    w_all = _resolve_spec(weights, attached, "weights")
    ok = attached["attached"].to_numpy(dtype=bool)
    att = attached[ok]
    if len(att):
        lv = net._edges.index.levels
        # astype, not to_numpy(dtype=...): node ids may be strings (pandas' str dtype)
        keys = pd.MultiIndex.from_arrays(
            [
                att["edge_u"].astype(lv[0].dtype),
                att["edge_v"].astype(lv[1].dtype),
                att["edge_key"].astype(lv[2].dtype),
            ]
        )
        edge = net._edges.index.get_indexer(keys).astype(np.int64)
    else:
        edge = np.zeros(0, dtype=np.int64)
    if (edge < 0).any():
        raise NetworkError(
            f"{int((edge < 0).sum())} points are attached to segments that are not in this "
            "network (were they attached to another one?); re-attach them with "
            "attach_points(net, points, max_distance=...)"
        )
    du = att["dist_u"].to_numpy(dtype=np.float64)
    dv = att["dist_v"].to_numpy(dtype=np.float64)
    if include_snap:
        sd = att["snap_distance"].to_numpy(dtype=np.float64)
        du = du + sd
        dv = dv + sd
    weight = np.ones(len(att)) if w_all is None else w_all[ok].to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(weight)):
        raise ValueError("weights must be finite numbers")
    category = pd.Series(np.nan, index=att.index, dtype=object) if cat_all is None else cat_all[ok]
    return _Points(
        att.index,
        edge,
        np.asarray(net._edge_iu[edge], dtype=np.int64),
        np.asarray(net._edge_iv[edge], dtype=np.int64),
        du,
        dv,
        weight,
        category,
    )


class _AccessRun(NamedTuple):
    counts: F64  # (n, nr), internal order
    weighted: F64
    decayed: F64
    nearest: F64  # (n,), inf beyond the cutoff


def _run_access(
    net: StreetNetwork,
    pts: _Points,
    sel: I64,
    radii: F64,
    betas: F64,
    cutoff: float,
    mask: B8,
) -> _AccessRun:
    n, nr = net.n_nodes, radii.size
    if sel.size == 0:
        return _AccessRun(
            np.zeros((n, nr)), np.zeros((n, nr)), np.zeros((n, nr)), np.full(n, np.inf)
        )
    # search points in network order, for memory locality
    sel = sel[np.argsort(pts.pu[sel], kind="stable")]
    cnt, wsum, dec = np.zeros(n * nr), np.zeros(n * nr), np.zeros(n * nr)
    near = np.full(n, np.inf)
    for piece in interrupt.chunks(sel.size, _per_call(net, cutoff, nr)):  # Ctrl-C: per piece
        part = sel[piece]
        seeds = Seeds(
            np.ascontiguousarray(pts.pu[part]),
            np.ascontiguousarray(pts.pv[part]),
            np.ascontiguousarray(pts.ou[part]),
            np.ascontiguousarray(pts.ov[part]),
            np.ascontiguousarray(pts.weight[part]),
        )
        with interrupt.shielded():
            c, w, d, m = _access_kernel(
                net._graph, seeds, radii, betas, float(cutoff), mask, numba.get_num_threads()
            )
        cnt, wsum, dec, near = cnt + c, wsum + w, dec + d, np.minimum(near, m)
    return _AccessRun(
        np.cumsum(cnt.reshape(n, nr), axis=1),
        np.cumsum(wsum.reshape(n, nr), axis=1),
        dec.reshape(n, nr),
        near,
    )


def _groups(pts: _Points) -> list[tuple[Hashable, I64]]:
    """(category, point positions) per category, in sorted order; uncategorised last."""
    if pts.groups is not None:
        return pts.groups
    cat = pts.category
    isna = cat.isna().to_numpy()
    out: list[tuple[Hashable, I64]] = []
    if (~isna).any():
        codes, uniques = pd.factorize(cat[~isna], sort=True)
        where = np.flatnonzero(~isna)
        for j, label in enumerate(uniques):
            out.append((label, where[codes == j]))
    if isna.any():
        out.append((None, np.flatnonzero(isna)))
    return out


def _check_access_args(
    radii: float | Iterable[float], beta: Any, max_nearest: float | None
) -> tuple[F64, list[float | int], F64, float, float | int]:
    rad, labels = _check_radii(radii)
    betas = _check_betas(beta, rad)
    if max_nearest is None:
        near_m = float(rad[-1])
    elif not (max_nearest > 0 and math.isfinite(max_nearest)):
        raise ValueError(f"max_nearest must be a positive distance in metres, got {max_nearest!r}")
    else:
        near_m = float(max_nearest)
    cutoff = max(float(rad[-1]), near_m)
    near_label: float | int = int(near_m) if near_m.is_integer() else near_m
    return rad, labels, betas, cutoff, near_label


def _access_columns(
    cats: list[Hashable], labels: list[float | int], near_label: float | int
) -> list[tuple[Hashable, str, float | int]]:
    cols: list[tuple[Hashable, str, float | int]] = []
    for c in cats:
        for m in _ACCESS_MEASURES:
            cols.extend((c, m, r) for r in labels)
        cols.append((c, "nearest", near_label))
    return cols


def _access_values(
    net: StreetNetwork,
    pts: _Points,
    radii: F64,
    betas: F64,
    cutoff: float,
    mask: B8,
    sel: I64 | None = None,
    progress: bool = False,
) -> tuple[dict[Hashable, _AccessRun], B8]:
    """Per-category runs (internal order) and a mask of nodes reached by any point.

    With ``sel``, categories none of whose points are selected get no run.
    """
    groups = _groups(pts)
    chosen = None if sel is None else np.zeros(len(pts.ids), dtype=bool)
    if chosen is not None:
        chosen[sel] = True
    runs: dict[Hashable, _AccessRun] = {}
    reached = np.zeros(net.n_nodes, dtype=bool)
    it: Iterable[tuple[Hashable, I64]] = groups
    if progress:
        it = progress_bar(groups, desc="accessibility", unit="category", show=True)
    for label, where in it:
        use = where if chosen is None else where[chosen[where]]
        if use.size == 0 and chosen is not None:
            continue  # none of the category's points chosen: its run would be all zeros
        run = _run_access(net, pts, use, radii, betas, cutoff, mask)
        runs[label] = run
        reached |= np.isfinite(run.nearest)
    return runs, reached


def _access_frame_data(
    runs: dict[Hashable, _AccessRun],
    categories_given: bool,
    labels: list[float | int],
    near_label: float | int,
    n: int,
    nr: int,
) -> dict[tuple[Hashable, str, float | int], F64]:
    """Column arrays (internal node order) for the categories and the total."""
    data: dict[tuple[Hashable, str, float | int], F64] = {}
    total = _AccessRun(np.zeros((n, nr)), np.zeros((n, nr)), np.zeros((n, nr)), np.full(n, np.inf))
    for label, run in runs.items():
        total = _AccessRun(
            total.counts + run.counts,
            total.weighted + run.weighted,
            total.decayed + run.decayed,
            np.minimum(total.nearest, run.nearest),
        )
        if categories_given and label is not None:
            _put_run(data, label, run, labels, near_label)
    _put_run(data, _TOTAL, total, labels, near_label)
    return data


def _put_run(
    data: dict[tuple[Hashable, str, float | int], F64],
    label: Hashable,
    run: _AccessRun,
    labels: list[float | int],
    near_label: float | int,
) -> None:
    for j, r in enumerate(labels):
        data[(label, "count", r)] = run.counts[:, j]
        data[(label, "weighted", r)] = run.weighted[:, j]
        data[(label, "decayed", r)] = run.decayed[:, j]
    data[(label, "nearest", near_label)] = np.where(np.isfinite(run.nearest), run.nearest, np.nan)


def _access_frame(
    index: pd.Index,
    data: dict[tuple[Hashable, str, float | int], F64],
    cats: list[Hashable],
    labels: list[float | int],
    near_label: float | int,
) -> pd.DataFrame:
    cols = _access_columns(cats, labels, near_label)
    frame = pd.DataFrame(
        {c: (np.rint(data[c]).astype(np.int64) if c[1] == "count" else data[c]) for c in cols},
        index=index.copy(),
    )
    frame.columns = _ordered_columns(cols, ["category", "measure", "radius_m"])
    return frame


def _category_labels(pts: _Points) -> list[Hashable]:
    labels = [label for label, _ in _groups(pts) if label is not None]
    if _TOTAL in labels:
        raise ValueError(f"a category may not be called {_TOTAL!r}; that name is the total")
    return labels


def accessibility(
    net: StreetNetwork,
    attached: pd.DataFrame,
    *,
    radii: float | Iterable[float],
    categories: str | pd.Series | Sequence[Hashable] | None = None,
    weights: str | pd.Series | Sequence[float] | None = None,
    beta: float | Sequence[float] | None = None,
    include_snap: bool = True,
    max_nearest: float | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Reach of every node to a weighted point set, per category and radius.

    Each attached point is searched from outward (seeded at both ends of its segment at
    their distances along it), so the cost grows with points x reach. The walk from a
    node to a point is the network distance to one end of the point's segment plus the
    distance along it, plus the snapping distance when ``include_snap`` (the default: the
    last metres off the street are walked too).

    Parameters
    ----------
    net
        The street network.
    attached
        Points attached with :func:`attach_points`; unattached rows are ignored.
    radii
        Network radii in metres.
    categories
        A column of ``attached``, or values per point (a Series indexed like the points).
        Points without a category count only in the total.
    weights
        A column of ``attached`` or values per point; 1 for every point by default.
    beta
        Decay rate per metre: one value, one per radius, or None for ``4 / R``.
    include_snap
        Add the snapping distance to the walk.
    max_nearest
        Report ``nearest`` up to this many metres (default: the largest radius).
    progress
        Show a progress bar over the categories.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``net.node_ids``; columns a MultiIndex ``(category, measure,
        radius_m)`` for each category (sorted) and ``"total"``: ``count`` (points within
        R), ``weighted`` (sum of their weights), ``decayed`` (sum of
        ``weight * exp(-beta * d)``), and ``nearest`` (metres to the nearest point; NaN
        beyond ``max_nearest``, labelled with that radius).

    Examples
    --------
    Two shops on a 3x3 grid of 100 m blocks, one 30 m along the segment 0-1:

    >>> from shapely import Point
    >>> net = grid  # a 3x3 grid of 100 m blocks, nodes 0-8 by rows (conftest.py)
    >>> shops = gpd.GeoSeries([Point(30, 0), Point(200, 200)], crs="EPSG:3067")
    >>> a = attach_points(net, shops, max_distance=10)
    >>> acc = accessibility(net, a, radii=[100, 400])
    >>> acc.loc[[0, 1, 4], ("total", "count")]
    radius_m  100  400
    node_id
    0           1    2
    1           1    2
    4           0    2
    >>> acc.loc[[0, 1, 4], ("total", "nearest", 400)].tolist()
    [30.0, 70.0, 170.0]
    """
    rad, labels, betas, cutoff, near_label = _check_access_args(radii, beta, max_nearest)
    pts = _resolve_points(net, attached, categories, weights, include_snap)
    cats: list[Hashable] = [_TOTAL]
    if categories is not None:
        cats = [*_category_labels(pts), _TOTAL]
    mask = np.ones(net.n_nodes, dtype=bool)
    runs, _ = _access_values(net, pts, rad, betas, cutoff, mask, progress=progress)
    data = _access_frame_data(
        runs, categories is not None, labels, near_label, net.n_nodes, rad.size
    )
    rank = net._rank
    data = {k: v[rank] for k, v in data.items()}
    return _access_frame(net.node_ids, data, cats, labels, near_label)
