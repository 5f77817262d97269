"""Green and blue: parks and water, their entrances, distance to them, green share."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from rakennettu._geo import polygonal
from rakennettu.config import NetworkConfig
from rakennettu.layers.cultural._common import (
    B8,
    I64,
    NEAREST_GREEN,
    NEAREST_WATER,
    _check_crs,
    _radii,
    _street_tree,
    _weights,
)
from rakennettu.layers.cultural.third_places import _share_table
from rakennettu.network import (
    CatchmentItems,
    StreetNetwork,
    accessibility,
    attach_points,
    attach_points_among,
    catchments,
)

if TYPE_CHECKING:
    pass

CATCHMENT_WIDTH = 50.0
"""Buffer (m) around the reached streets that makes a node's catchment area."""
GREEN_CELL = 10.0
"""Cell size (m) of the raster the green share is measured on."""

# ---------------------------------------------------------------------------------------
# green and blue
# ---------------------------------------------------------------------------------------


def _group(features: pd.DataFrame) -> pd.Series:
    """The green/blue group of each feature: ``group``, else ``category``."""
    if "group" in features and "category" in features:
        return features["group"].where(features["group"].notna(), features["category"])
    if "group" in features:
        return features["group"]
    if "category" in features:
        return features["category"]
    raise KeyError("green_blue needs a 'group' (or 'category') column: green, blue, cemetery")


def green_areas(
    green_blue: gpd.GeoDataFrame, *, min_weight: float = 0.5, min_area: float = 1000.0
) -> gpd.GeoDataFrame:
    """The green areas of the green and blue layer, as this layer defines them.

    Polygons of the ``green`` group (not cemeteries, not water) whose recreational
    ``weight`` is at least ``min_weight`` (0.5 leaves out grass verges and scrub, 0.3)
    and whose area is at least ``min_area`` m².

    Examples
    --------
    >>> from shapely import box
    >>> gb = gpd.GeoDataFrame({"group": ["green", "green", "blue"], "weight": [1.0, 0.3, 1.0]},
    ...     geometry=[box(0, 0, 50, 50), box(0, 0, 50, 50), box(0, 0, 50, 50)], crs=3067)
    >>> green_areas(gb).index.tolist()
    [0]
    """
    g = polygonal(green_blue.geometry)
    keep = (
        (_group(green_blue) == "green").to_numpy(dtype=bool)
        & (_weights(green_blue).to_numpy() >= min_weight)
        & (g.area.to_numpy() >= min_area)
    )
    out = green_blue[keep].copy()
    out[out.geometry.name] = g[keep].to_numpy()
    return out


def water_features(green_blue: gpd.GeoDataFrame, *, min_weight: float = 0.5) -> gpd.GeoDataFrame:
    """Water polygons and lines (rivers, streams, coastline) of the blue group.

    Points (a bay's name) are left out; so are features lighter than ``min_weight``
    (storm-water basins, 0.3).

    Examples
    --------
    >>> from shapely import LineString, Point
    >>> gb = gpd.GeoDataFrame({"category": ["blue", "blue"]},
    ...     geometry=[LineString([(0, 0), (9, 0)]), Point(5, 5)], crs=3067)
    >>> water_features(gb).index.tolist()
    [0]
    """
    kind = shapely.get_type_id(green_blue.geometry.to_numpy())
    keep = (
        (_group(green_blue) == "blue").to_numpy(dtype=bool)
        & (_weights(green_blue).to_numpy() >= min_weight)
        & np.isin(kind, [1, 2, 3, 5, 6])
    )
    return green_blue[keep].copy()


def green_blue_entrances(
    net: StreetNetwork,
    features: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    spacing: float = 20.0,
    entrance_distance: float = 20.0,
    snap_distance: float = NetworkConfig().snap_distance,
) -> gpd.GeoDataFrame:
    """Points where the network reaches the edge of each area or line.

    The boundary of each polygon (a line itself) is sampled every ``spacing`` metres
    or closer (its vertices are kept). A feature's *approach* is its smallest distance
    to a street; the samples within ``entrance_distance`` metres of a street beyond
    that approach are entrances (for a park beside a street: the samples within
    ``entrance_distance`` of it; for a river running 30 m from a street: every sample
    along it). The point nearest a street, and the points where streets and paths
    cross the boundary, are entrances too. Features farther than ``snap_distance``
    from every street get none.

    Parameters
    ----------
    net
        The street network.
    features
        Polygons and lines, in the network's CRS.
    spacing
        Largest interval between boundary samples, metres.
    entrance_distance
        How much farther than the approach (m) a sample may be from a street.
    snap_distance
        How far from a street (m) a feature may be.

    Returns
    -------
    geopandas.GeoDataFrame
        Points with ``feature`` (the feature's index label) and ``how``
        (``"crossing"``, ``"nearest"`` or ``"boundary"``, the first that applies), one
        row per distinct point and feature.

    Examples
    --------
    A 200 m square park whose south edge runs 5 m north of a street: its south edge
    every 20 m (11 points) and the first samples up its sides, at 25 m:

    >>> from shapely import box
    >>> net = street(0, 400)  # nodes 0, 1, ... along the x axis at these x (m)
    >>> park = gpd.GeoSeries([box(100, 5, 300, 205)], crs=3067)
    >>> e = green_blue_entrances(net, park)
    >>> e.geometry.y.value_counts().sort_index().to_dict()
    {5.0: 11, 25.0: 2}
    """
    _check_crs(net, features=features)
    crs = features.crs
    geoms = np.asarray(features.geometry.to_numpy(), dtype=object)
    labels = features.index
    kinds = shapely.get_type_id(geoms)
    lines = np.where(np.isin(kinds, [3, 6]), shapely.boundary(geoms), geoms)
    ok = ~(shapely.is_missing(lines) | shapely.is_empty(lines)) & np.isin(
        shapely.get_type_id(lines), [1, 2, 5]
    )
    if not ok.any() or net.n_edges == 0:
        return gpd.GeoDataFrame(
            {"feature": pd.Series([], dtype=labels.dtype), "how": pd.Series([], dtype=object)},
            geometry=gpd.GeoSeries([], crs=crs),
            crs=crs,
        )
    idx = np.flatnonzero(ok)
    tree, streets = _street_tree(net)
    parts: list[tuple[I64, npt.NDArray[Any], str]] = []
    # crossings with streets
    c_at, e_at = tree.query(lines[idx], predicate="intersects")
    if c_at.size:
        inter = shapely.intersection(lines[idx][c_at], streets[e_at])
        xy2, which2 = shapely.get_coordinates(inter, return_index=True)
        parts.append((idx[c_at][which2], shapely.points(xy2), "crossing"))
    # the nearest point of each feature: its approach
    approach = np.full(len(geoms), np.inf)
    (f_in, f_tree), f_d = tree.query_nearest(
        lines[idx], max_distance=snap_distance, return_distance=True, all_matches=False
    )
    approach[idx[f_in]] = f_d
    nearest = shapely.get_point(shapely.shortest_line(lines[idx[f_in]], streets[f_tree]), 0)
    parts.append((idx[f_in], nearest, "nearest"))
    # samples along the boundaries, within entrance_distance beyond the approach
    dense = shapely.segmentize(lines[idx], max_segment_length=spacing)
    xy, which = shapely.get_coordinates(dense, return_index=True)
    samples = shapely.points(xy)
    s_feat = idx[which]
    (s_in, _), s_d = tree.query_nearest(
        samples, max_distance=snap_distance, return_distance=True, all_matches=False
    )
    keep = s_d <= approach[s_feat[s_in]] + entrance_distance
    parts.append((s_feat[s_in[keep]], samples[s_in[keep]], "boundary"))
    feat = np.concatenate([p[0] for p in parts]).astype(np.int64)
    pts = np.concatenate([p[1] for p in parts])
    how = np.concatenate([np.full(len(p[0]), p[2], dtype=object) for p in parts])
    # one row per distinct point of a feature (the first label wins: crossing, nearest)
    key = pd.DataFrame({"f": feat, "x": shapely.get_x(pts), "y": shapely.get_y(pts)})
    first = ~key.duplicated().to_numpy()
    return gpd.GeoDataFrame(
        {"feature": labels.take(feat[first]), "how": how[first]},
        geometry=gpd.GeoSeries(pts[first], crs=crs),
        crs=crs,
    )


def _inside_nodes(net: StreetNetwork, areas: npt.NDArray[Any]) -> B8:
    """Nodes lying in (or on the edge of) any of the polygons."""
    polys = areas[np.isin(shapely.get_type_id(areas), [3, 6])]
    inside = np.zeros(net.n_nodes, dtype=bool)
    if len(polys):
        nodes = shapely.points(net.x, net.y)
        n_at, _ = shapely.STRtree(polys).query(nodes, predicate="intersects")
        inside[n_at] = True
    return inside


def nearest_entrance(
    net: StreetNetwork,
    features: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    max_nearest: float,
    spacing: float = 20.0,
    entrance_distance: float = 20.0,
    snap_distance: float = NetworkConfig().snap_distance,
) -> pd.Series:
    """Network distance (m) from every node to the nearest entrance of any feature.

    Entrances as :func:`green_blue_entrances`; the walk includes the few metres from the
    street to the boundary. A node inside a polygon is at 0. NaN beyond ``max_nearest``.

    Examples
    --------
    A big park (400 m × 400 m) whose south-west corner touches the street at node 1:
    the centroid is 283 m away in a straight line, the park 0 m.

    >>> from shapely import box
    >>> net = street(0, 100)  # nodes 0, 1, ... along the x axis at these x (m)
    >>> park = gpd.GeoSeries([box(100, 0, 500, 400)], crs=3067)
    >>> nearest_entrance(net, park, max_nearest=800).tolist()
    [100.0, 0.0]
    """
    _check_crs(net, features=features)
    entrances = green_blue_entrances(
        net,
        features,
        spacing=spacing,
        entrance_distance=entrance_distance,
        snap_distance=snap_distance,
    )
    near = np.full(net.n_nodes, np.nan)
    if len(entrances):
        att = attach_points(
            net, entrances.geometry, max_distance=max(entrance_distance, snap_distance)
        )
        acc = accessibility(net, att, radii=[max_nearest], max_nearest=max_nearest)
        label = int(max_nearest) if float(max_nearest).is_integer() else max_nearest
        near = np.array(acc[("total", "nearest", label)], dtype=float)
    inside = _inside_nodes(net, np.asarray(features.geometry.to_numpy(), dtype=object))
    near[inside] = 0.0
    return pd.Series(near, index=net.node_ids.copy())


def green_share(
    net: StreetNetwork,
    green: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    radii: float | Iterable[float],
    catchment_width: float = CATCHMENT_WIDTH,
    cell: float = GREEN_CELL,
) -> pd.DataFrame:
    """Share of each node's network catchment that is green.

    The catchment at radius ``R`` is the union of the street segments reached within
    ``R`` of the node (cut at ``R``) buffered by ``catchment_width`` metres, measured
    on a raster of ``cell`` metres: a cell counts when its centre lies within
    ``catchment_width`` of a segment and its nearest position on that segment is within
    ``R`` along the network. A cell is green when its centre lies in a green area.

    Parameters
    ----------
    net
        The street network.
    green
        Green areas (polygons), e.g. from :func:`green_areas`, in the network's CRS.
    radii
        Network radii in metres.
    catchment_width
        Buffer around the reached streets, metres.
    cell
        Raster cell size, metres.

    Returns
    -------
    pandas.DataFrame
        ``cult_green_share_<R>m`` (0-1) per node; NaN where the catchment is empty.

    Examples
    --------
    A 100 m street with a park filling the 50 m strip north of its east half (10 m
    cells): the catchment is the 100 m × 100 m strip around the street with round ends
    (180 cells), 25 cells of it green.

    >>> from shapely import box
    >>> net = street(0, 100)  # nodes 0, 1, ... along the x axis at these x (m)
    >>> park = gpd.GeoSeries([box(50, 0, 100, 50)], crs=3067)
    >>> green_share(net, park, radii=[100]).round(3)["cult_green_share_100m"].tolist()
    [0.139, 0.139]
    """
    _check_crs(net, green=green)
    rad = _radii(radii)
    ((sums, _),) = catchments(net, [_green_items(net, green, catchment_width, cell)], rad)
    return _share_table(net, sums, rad, "green_share")


def _green_items(
    net: StreetNetwork, green: gpd.GeoDataFrame | gpd.GeoSeries, width: float, cell: float
) -> CatchmentItems:
    """Raster cells by the streets (channels: cell, green cell), reached without the snap."""
    cells, att = _catchment_cells(net, width, cell)
    is_green = np.zeros(len(cells), dtype=float)
    polys = polygonal(green.geometry).to_numpy()
    polys = polys[~shapely.is_empty(polys)]
    if len(polys) and len(cells):
        c_at, _ = shapely.STRtree(polys).query(cells, predicate="within")
        is_green[np.unique(c_at)] = 1.0
    values = np.stack([np.ones(len(cells)), is_green], axis=1)
    return CatchmentItems(att, values, include_snap=False)


#: Side of the blocks of raster cells first tested against the streets as a whole.
_BLOCK = 16


def _catchment_cells(
    net: StreetNetwork, width: float, cell: float
) -> tuple[npt.NDArray[Any], pd.DataFrame]:
    """Centres of the raster cells within ``width`` of a street, attached to the network."""
    if not (width > 0 and cell > 0):
        raise ValueError("catchment_width and cell must be positive distances in metres")
    if net.n_edges == 0:
        empty = attach_points(net, gpd.GeoSeries([], crs=net.crs), max_distance=width)
        return np.zeros(0, dtype=object), empty
    minx, miny, maxx, maxy = net.edges.total_bounds
    xs = np.arange(math.floor((minx - width) / cell), math.ceil((maxx + width) / cell)) * cell
    ys = np.arange(math.floor((miny - width) / cell), math.ceil((maxy + width) / cell)) * cell
    xs, ys = xs + cell / 2, ys + cell / 2  # the cells' centres, by columns and rows
    tree, _ = _street_tree(net)
    flat = _cells_near_streets(tree, xs, ys, width + cell)  # a superset, in raster order
    pts = shapely.points(xs[flat % len(xs)], ys[flat // len(xs)])
    near, edge = net._tree.query(pts, predicate="dwithin", distance=width)
    kept = np.unique(near)
    pairs = (np.searchsorted(kept, near), edge)  # positions among the kept centres
    att = attach_points_among(net, gpd.GeoSeries(pts[kept], crs=net.crs), pairs, max_distance=width)
    return pts[kept], att


def _cells_near_streets(
    tree: shapely.STRtree, xs: npt.NDArray[Any], ys: npt.NDArray[Any], distance: float
) -> npt.NDArray[np.int64]:
    """The cells of the raster's blocks that lie within ``distance`` of a street.

    Positions (row x columns + column, ascending) of the cells of every block of
    :data:`_BLOCK` x :data:`_BLOCK` cells within ``distance``. A point's distance to a
    street is never shorter than that of a box holding it, so every cell centre within
    ``distance`` is kept; the blocks spare testing the cells of the open land between
    the streets one by one.
    """
    cols = np.arange(0, len(xs), _BLOCK)
    rows = np.arange(0, len(ys), _BLOCK)
    bc, br = (a.ravel() for a in np.meshgrid(cols, rows))  # each block's first column, row
    last_c = np.minimum(bc + _BLOCK, len(xs)) - 1
    last_r = np.minimum(br + _BLOCK, len(ys)) - 1
    boxes = shapely.box(xs[bc], ys[br], xs[last_c], ys[last_r])
    hit = np.unique(tree.query(boxes, predicate="dwithin", distance=distance)[0])
    parts = []
    for c0, c1, r0, r1 in zip(bc[hit], last_c[hit], br[hit], last_r[hit], strict=True):
        r, c = np.meshgrid(np.arange(r0, r1 + 1), np.arange(c0, c1 + 1), indexing="ij")
        parts.append((r * len(xs) + c).ravel())
    if not parts:
        return np.zeros(0, dtype=np.int64)
    return np.sort(np.concatenate(parts)).astype(np.int64)


def green_blue_access(
    net: StreetNetwork,
    green_blue: gpd.GeoDataFrame,
    *,
    radii: float | Iterable[float],
    snap_distance: float,
    max_nearest: float | None = None,
    entrance_spacing: float = 20.0,
    entrance_distance: float = 20.0,
    min_green_weight: float = 0.5,
    min_green_area: float = 1000.0,
    catchment_width: float = CATCHMENT_WIDTH,
    green_cell: float = GREEN_CELL,
) -> pd.DataFrame:
    """Distance to green areas and water, and the green share of each catchment.

    Parameters
    ----------
    net
        The street network.
    green_blue
        The town's green and blue layer: ``group`` (or ``category``) ``green``/``blue``
        and ``weight``, in the network's CRS.
    radii
        Network radii in metres.
    snap_distance
        How far (m) a feature without entrances may be from a street.
    max_nearest
        Report distances up to this (m); default the largest radius.
    entrance_spacing, entrance_distance
        See :func:`green_blue_entrances`.
    min_green_weight, min_green_area
        See :func:`green_areas` (the weight also selects water).
    catchment_width, green_cell
        See :func:`green_share`.

    Returns
    -------
    pandas.DataFrame
        ``cult_nearest_green`` (m), ``cult_nearest_water`` (m) and
        ``cult_green_share_<R>m`` (0-1) per node.

    Examples
    --------
    >>> from shapely import LineString, box
    >>> net = street(0, 100)  # nodes 0, 1, ... along the x axis at these x (m)
    >>> gb = gpd.GeoDataFrame({"group": ["green", "blue"], "weight": [1.0, 1.0]},
    ...     geometry=[box(50, 0, 100, 50), LineString([(0, -30), (100, -30)])], crs=3067)
    >>> green_blue_access(net, gb, radii=[100], snap_distance=50).round(2)
             cult_nearest_green  cult_nearest_water  cult_green_share_100m
    node_id
    0                      50.0                30.0                   0.14
    1                       0.0                30.0                   0.14
    """
    _check_crs(net, green_blue=green_blue)
    rad = _radii(radii)
    near = float(max_nearest) if max_nearest is not None else float(max(rad))
    green = green_areas(green_blue, min_weight=min_green_weight, min_area=min_green_area)
    water = water_features(green_blue, min_weight=min_green_weight)
    opts = {
        "max_nearest": near,
        "spacing": entrance_spacing,
        "entrance_distance": entrance_distance,
        "snap_distance": snap_distance,
    }
    out = _nearest_green_water(net, green, water, opts)
    share = green_share(net, green, radii=rad, catchment_width=catchment_width, cell=green_cell)
    return out.join(share)


def _nearest_green_water(
    net: StreetNetwork, green: gpd.GeoDataFrame, water: gpd.GeoDataFrame, opts: dict[str, Any]
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            NEAREST_GREEN: nearest_entrance(net, green, **opts).to_numpy(),
            NEAREST_WATER: nearest_entrance(net, water, **opts).to_numpy(),
        },
        index=net.node_ids.copy(),
    )
