"""Townscape: landmarks' exposure to passers-by and their visibility (viewsheds)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from rakennettu._geo import polygonal
from rakennettu.config import CulturalConfig
from rakennettu.layers.cultural._common import (
    B8,
    EXPOSURE,
    F64,
    LANDMARKS_VISIBLE,
    LANDMARKS_VISIBLE_WEIGHT,
    VISIBLE_AREA,
    VISIBLE_NODES,
    _check_crs,
    _node_frame,
    _numeric,
    _street_tree,
    _weights,
)
from rakennettu.layers.form import DEFAULT_FLOORS, STOREY_HEIGHT
from rakennettu.layers.viewshed import building_heights, surface_model, viewsheds
from rakennettu.network import (
    StreetNetwork,
    edge_betweenness,
)

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)


LANDMARK_HEIGHTS: Mapping[str, float] = {
    "religious": 20.0,
    "tower": 20.0,
    "heritage": 10.0,
    "attraction": 8.0,
    "memorial": 3.0,
    "art": 2.5,
}
"""Default height of a landmark's top above the ground (m), by landmark category.

Used when a landmark has no ``height`` of its own; a landmark standing in or being a
building is at least as tall as that building. Church towers and named towers 20 m,
historic buildings 10 m, museums and attractions 8 m, monuments and memorials 3 m,
public art 2.5 m.
"""
DEFAULT_LANDMARK_HEIGHT = 3.0
"""Height of a landmark's top (m) when its category is not in :data:`LANDMARK_HEIGHTS`."""

VISIBILITY_METHODS = ("viewshed", "exposure")

# ---------------------------------------------------------------------------------------
# townscape
# ---------------------------------------------------------------------------------------


def _betweenness_series(
    net: StreetNetwork, edge_bc: pd.Series | pd.DataFrame | None, radius: float
) -> pd.Series:
    if edge_bc is None:
        edge_bc = edge_betweenness(net, [radius])
    if isinstance(edge_bc, pd.DataFrame):
        cols = [c for c in edge_bc.columns if isinstance(c, tuple) and c[0] == "betweenness"]
        if not cols:
            raise KeyError(
                "edge_betweenness has no ('betweenness', R) column; pass "
                "rakennettu.network.edge_betweenness(net, radii) or a Series per edge"
            )
        edge_bc = edge_bc[max(cols, key=lambda c: float(c[1]))]
    missing = net.edges.index.difference(edge_bc.index)
    if len(missing):
        raise KeyError(
            f"edge_betweenness lacks {len(missing)} segments of the network (e.g. "
            f"{list(missing[:2])}); compute it on this network"
        )
    return edge_bc.reindex(net.edges.index).astype(float)


def landmark_exposure(
    net: StreetNetwork,
    landmarks: gpd.GeoDataFrame | gpd.GeoSeries,
    edge_betweenness: pd.Series | pd.DataFrame | None = None,
    *,
    distance: float = 50.0,
    betweenness_radius: float = 800.0,
) -> pd.Series:
    """How many walks pass each landmark: betweenness of the streets within ``distance``.

    Parameters
    ----------
    net
        The street network.
    landmarks
        Landmarks, in the network's CRS.
    edge_betweenness
        Betweenness per segment: a Series indexed like ``net.edges``, or the frame of
        :func:`rakennettu.network.edge_betweenness` (its largest radius is used). None
        computes it at ``betweenness_radius``.
    distance
        Segments within this distance (m) of the landmark's geometry count.
    betweenness_radius
        Radius (m) for the betweenness when it is computed here.

    Returns
    -------
    pandas.Series
        ``cult_landmark_exposure`` (node pairs), on the landmarks' index; 0 when no
        segment is near.

    Examples
    --------
    A statue beside the middle segment of a 3-segment street: its 4 nodes make 6 pairs,
    and 4 of them pass the middle segment, 3 each the outer ones:

    >>> from shapely import Point
    >>> net = street(0, 100, 200, 300)  # nodes 0, 1, ... along the x axis at these x (m)
    >>> statue = gpd.GeoSeries([Point(150, 10), Point(90, 10)], crs=3067)
    >>> landmark_exposure(net, statue, distance=20, betweenness_radius=1000).tolist()
    [4.0, 7.0]
    """
    _check_crs(net, landmarks=landmarks)
    bc = _betweenness_series(net, edge_betweenness, betweenness_radius).to_numpy()
    tree, _ = _street_tree(net)
    geoms = landmarks.geometry.to_numpy()
    out = np.zeros(len(geoms))
    if len(geoms) and net.n_edges:
        l_at, e_at = tree.query(geoms, predicate="dwithin", distance=distance)
        np.add.at(out, l_at, bc[e_at])
    return pd.Series(out, index=landmarks.index, name=EXPOSURE)


@dataclass(frozen=True)
class LandmarkVisibility:
    """Townscape results (see :func:`landmark_visibility`).

    Attributes
    ----------
    landmarks
        On the landmarks' index: ``cult_landmark_visible_area`` (m²),
        ``cult_landmark_visible_nodes`` (count), ``cult_landmark_exposure`` (node pairs;
        NaN unless computed), ``target_height`` (m) and ``visibility_method``.
    nodes
        ``cult_landmarks_visible`` (count) and ``cult_landmarks_visible_weight`` per node;
        NaN where visibility fell back to exposure.
    method
        ``"viewshed"`` or ``"exposure"``: the method for the town (``"none"`` without
        landmarks).
    note
        Why that method, in words.
    height_known_share
        Share of the footprint area near the landmarks with a known height or floors.
    """

    landmarks: pd.DataFrame
    nodes: pd.DataFrame
    method: str
    note: str
    height_known_share: float


def _origins(landmarks: gpd.GeoDataFrame | gpd.GeoSeries) -> npt.NDArray[Any]:
    geoms = np.asarray(landmarks.geometry.to_numpy(), dtype=object)
    pts = geoms.copy()
    other = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) & (
        shapely.get_type_id(geoms) != 0
    )
    pts[other] = shapely.point_on_surface(geoms[other])
    return pts


def landmark_visibility(
    net: StreetNetwork,
    landmarks: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    *,
    radius: float = CulturalConfig().viewshed_radius,
    cell: float = CulturalConfig().viewshed_cell,
    observer_height: float = CulturalConfig().observer_height,
    storey_height: float = STOREY_HEIGHT,
    default_floors: float = DEFAULT_FLOORS,
    heights: pd.DataFrame | None = None,
    dem: Any = None,
    edge_betweenness: pd.Series | pd.DataFrame | None = None,
    betweenness_radius: float = 800.0,
    exposure_distance: float = 50.0,
    min_height_share: float = 0.5,
    method: Literal["auto", "viewshed", "exposure"] = "auto",
) -> LandmarkVisibility:
    """A landmark's visual reach: its viewshed, or its network exposure as a fallback.

    **Viewshed.** A raster of ``cell`` metres is built from the terrain (``dem``, else
    flat) plus the building heights (:func:`rakennettu.layers.viewshed.surface_model`:
    ``height``, else floors × ``storey_height``, else ``default_floors`` ×
    ``storey_height``). Each landmark is a point at its position (polygons: a point
    inside, :func:`shapely.point_on_surface`) whose top is ``target_height`` above the
    terrain: the landmark's ``height`` column when known, else the largest of the
    height of the building it stands in and the default of its category
    (:data:`LANDMARK_HEIGHTS`, else :data:`DEFAULT_LANDMARK_HEIGHT`). Its own building
    does not hide it. A pedestrian's eyes are ``observer_height`` above the terrain.
    The sweep (:func:`rakennettu.layers.viewshed.viewsheds`) gives the open ground
    (cells without a building) within ``radius`` that sees the top, and the street
    nodes within ``radius`` that do.

    **Exposure.** Without a DEM and with known heights or floors for less than
    ``min_height_share`` of the footprint area within ``radius`` of the landmarks,
    sight lines would rest on guessed heights; each landmark then gets its exposure
    (:func:`landmark_exposure`), the per-node counts are NaN, and the method and a note
    say so. ``method`` forces either. Landmarks off the raster (or on unknown terrain)
    fall back to exposure one by one.

    Parameters
    ----------
    net
        The street network (its nodes are the observers).
    landmarks
        Landmarks with ``weight``, ``category`` and optionally ``height`` (m).
    buildings
        Footprints with ``height`` and ``floors``.
    radius
        How far a landmark's visibility is computed, metres.
    cell
        Raster cell size, metres.
    observer_height
        Eye height of a pedestrian, metres.
    storey_height, default_floors
        For buildings without a height (see :func:`rakennettu.layers.form.estimate_floors`).
    heights
        The buildings' heights already derived (``height`` in m and ``height_source``, on
        their index, as :func:`rakennettu.prepare.prepare` makes them); then
        ``storey_height`` and ``default_floors`` are not used.
    dem
        A terrain :class:`rakennettu.sources.municipal.Raster`, or None.
    edge_betweenness
        For the exposure (see :func:`landmark_exposure`); computed when needed and
        missing. Exposure is reported whenever this is given.
    betweenness_radius
        Radius (m) of the betweenness computed here.
    exposure_distance
        Segments within this distance (m) of a landmark count for its exposure.
    min_height_share
        Share of footprint area with known heights needed for the viewshed without a DEM.
    method
        ``"auto"``, or force ``"viewshed"`` or ``"exposure"``.

    Returns
    -------
    LandmarkVisibility

    Examples
    --------
    A 10 m statue at the end of a street, with a 20 m block of known height between
    it and node 2:

    >>> from shapely import Point, box
    >>> net = street(0, 50, 100)  # nodes 0, 1, ... along the x axis at these x (m)
    >>> statue = gpd.GeoDataFrame({"weight": [1.0], "height": [10.0]},
    ...                           geometry=[Point(0, 0)], crs=3067)
    >>> block = gpd.GeoDataFrame({"height": [20.0]}, geometry=[box(60, -20, 80, 20)], crs=3067)
    >>> vis = landmark_visibility(net, statue, block, radius=200, cell=1)
    >>> vis.method, vis.nodes["cult_landmarks_visible"].tolist()
    ('viewshed', [1.0, 1.0, 0.0])
    """
    _check_crs(net, landmarks=landmarks, buildings=buildings)
    if method not in ("auto", *VISIBILITY_METHODS):
        raise ValueError(f"method must be 'auto', 'viewshed' or 'exposure', got {method!r}")
    n = len(landmarks)
    weights = _weights(landmarks).to_numpy()
    origins = _origins(landmarks)
    if heights is None:
        heights = building_heights(
            buildings, storey_height=storey_height, default_floors=default_floors
        )
    b_geoms = polygonal(buildings.geometry).to_numpy()
    valid = ~(shapely.is_missing(origins) | shapely.is_empty(origins))
    known = (heights["height_source"] != "assumed").to_numpy()
    share = _known_height_share(b_geoms, known, origins[valid], radius)
    chosen, note = _choose_method(n, method, dem is not None, share, min_height_share)
    target, own_lists = _target_heights(landmarks, origins, valid, b_geoms, heights["height"])
    row_method = np.full(n, chosen, dtype=object)
    sweep = _Sweep.empty(n, net.n_nodes)
    ok = np.flatnonzero(valid)
    if chosen == "viewshed" and ok.size:
        opts = {"radius": radius, "cell": cell, "observer_height": observer_height}
        sight = (origins, ok, target, own_lists, weights)
        sweep = _sweep(net, buildings, heights["height"], dem, sight, opts)
    if chosen == "viewshed":
        row_method[~sweep.computed] = "exposure"
        if (~sweep.computed).any():
            log.info(
                "%d landmarks lie off the visibility raster, on unknown terrain or have no "
                "geometry; their exposure is reported instead",
                int((~sweep.computed).sum()),
            )
    exposure = np.full(n, np.nan)
    if n and (edge_betweenness is not None or (row_method == "exposure").any()):
        exposure = landmark_exposure(
            net,
            landmarks,
            edge_betweenness,
            distance=exposure_distance,
            betweenness_radius=betweenness_radius,
        ).to_numpy()
    table = pd.DataFrame(
        {
            VISIBLE_AREA: sweep.area,
            VISIBLE_NODES: sweep.seen_nodes,
            EXPOSURE: exposure,
            "target_height": target,
            "visibility_method": pd.Categorical(row_method, categories=VISIBILITY_METHODS),
        },
        index=landmarks.index.copy(),
    )
    counts = {LANDMARKS_VISIBLE: sweep.node_count, LANDMARKS_VISIBLE_WEIGHT: sweep.node_weight}
    log.info("landmark visibility: %s (%s)", chosen, note)
    return LandmarkVisibility(table, _node_frame(net, counts), chosen, note, share)


def _known_height_share(
    b_geoms: npt.NDArray[Any], known: B8, origins: npt.NDArray[Any], radius: float
) -> float:
    """Share of the footprint area within ``radius`` of the landmarks with known heights."""
    b_area = shapely.area(b_geoms)
    near = np.ones(len(b_geoms), dtype=bool)
    if len(origins) and len(b_geoms):
        near[:] = False
        _, b_near = shapely.STRtree(b_geoms).query(origins, predicate="dwithin", distance=radius)
        near[b_near] = True
    total = float(b_area[near].sum())
    return float(b_area[near & known].sum() / total) if total > 0 else 0.0


def _choose_method(
    n: int, method: str, dem: bool, share: float, min_height_share: float
) -> tuple[str, str]:
    """The visibility method for the town, and a note saying why."""
    if n == 0:
        return "none", "no landmarks"
    if method != "auto":
        return method, f"{method} chosen by the caller"
    if dem:
        return "viewshed", (
            f"viewshed on the DEM and building heights ({share:.0%} of the footprint area "
            "near landmarks has a known height or floor count; the rest assumed)"
        )
    if share >= min_height_share:
        return "viewshed", (
            f"viewshed on building heights over flat terrain (no DEM); {share:.0%} of the "
            "footprint area near landmarks has a known height or floor count"
        )
    return "exposure", (
        f"network exposure instead of a viewshed: no DEM, and only {share:.0%} of the "
        f"footprint area near landmarks has a known height or floor count (needs "
        f"{min_height_share:.0%})"
    )


def _target_heights(
    landmarks: gpd.GeoDataFrame,
    origins: npt.NDArray[Any],
    valid: B8,
    b_geoms: npt.NDArray[Any],
    b_heights: pd.Series,
) -> tuple[F64, list[list[int]]]:
    """Each landmark's top (m): its own height, else max(its building, category default).

    Also the buildings each landmark stands in (positions), which do not hide it.
    """
    n = len(landmarks)
    own_lists: list[list[int]] = [[] for _ in range(n)]
    if valid.any() and len(b_geoms):
        p_at, b_at = shapely.STRtree(b_geoms).query(origins[valid], predicate="intersects")
        p_at = np.flatnonzero(valid)[p_at]
        for p, b in zip(p_at.tolist(), b_at.tolist(), strict=True):
            own_lists[p].append(b)
    b_height = b_heights.to_numpy()
    cats = (
        landmarks["category"].astype(object).to_numpy()
        if isinstance(landmarks, pd.DataFrame) and "category" in landmarks
        else np.full(n, None)
    )
    given = _numeric(landmarks, "height") if isinstance(landmarks, pd.DataFrame) else None
    target = np.full(n, np.nan)
    for i in range(n):
        if given is not None and np.isfinite(given[i]) and given[i] > 0:
            target[i] = given[i]
            continue
        default = LANDMARK_HEIGHTS.get(str(cats[i]), DEFAULT_LANDMARK_HEIGHT)
        own = max((b_height[b] for b in own_lists[i]), default=0.0)
        target[i] = max(default, own)
    return target, own_lists


@dataclass(frozen=True)
class _Sweep:
    """What the viewsheds found, per landmark and per node.

    Per landmark: visible area (m²), nodes seeing it, whether it was computed; per node:
    how many landmarks (and what weight of them) it sees.
    """

    area: F64
    seen_nodes: F64
    computed: B8
    node_count: F64
    node_weight: F64

    @classmethod
    def empty(cls, n: int, n_nodes: int) -> _Sweep:
        nodes = np.full(n_nodes, np.nan if n else 0.0)
        return cls(
            np.full(n, np.nan), np.full(n, np.nan), np.zeros(n, dtype=bool), nodes, nodes.copy()
        )


def _sweep(
    net: StreetNetwork,
    buildings: gpd.GeoDataFrame,
    heights: pd.Series,
    dem: Any,
    sight: tuple[npt.NDArray[Any], npt.NDArray[np.intp], F64, list[list[int]], F64],
    opts: Mapping[str, float],
) -> _Sweep:
    """Viewsheds of the landmarks ``ok`` on the surface of terrain and buildings.

    ``sight``: the landmarks' origins, the positions to compute (``ok``), their target
    heights (m), the buildings each stands in, and their weights.
    """
    origins, ok, target, own_lists, weights = sight
    n = len(target)
    radius, cell = opts["radius"], opts["cell"]
    xy = np.stack([shapely.get_x(origins[ok]), shapely.get_y(origins[ok])], axis=1)
    pad = radius + 2 * cell
    bounds = (
        float(xy[:, 0].min() - pad),
        float(xy[:, 1].min() - pad),
        float(xy[:, 0].max() + pad),
        float(xy[:, 1].max() + pad),
    )
    surface = surface_model(buildings, bounds=bounds, cell=cell, dem=dem, heights=heights)
    vs = viewsheds(
        surface,
        xy,
        radius=radius,
        origin_height=target[ok],
        target_height=opts["observer_height"],
        targets=np.stack([net.x, net.y], axis=1),
        ignore_buildings=[own_lists[i] for i in ok],
    )
    area = np.full(n, np.nan)
    area[ok] = vs.visible_area
    pairs = vs.pairs[vs.pairs["visible"].to_numpy(dtype=bool)]
    lm = ok[pairs["origin"].to_numpy(dtype=np.int64)]
    computed = np.zeros(n, dtype=bool)
    computed[ok[np.isfinite(vs.visible_area)]] = True
    seen_nodes = np.full(n, np.nan)
    seen_nodes[computed] = 0.0
    seen_nodes += np.bincount(lm, minlength=n)
    tgt = pairs["target"].to_numpy(dtype=np.int64)
    node_count = np.bincount(tgt, minlength=net.n_nodes).astype(float)
    node_weight = np.asarray(
        np.bincount(tgt, weights=weights[lm], minlength=net.n_nodes), dtype=np.float64
    )
    return _Sweep(area, seen_nodes, computed, node_count, node_weight)
