"""Residents within walking distance of a third place."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from rakennettu._geo import polygonal
from rakennettu.config import SocialConfig
from rakennettu.layers.cultural._common import (
    F64,
    NEAR_THIRD_PLACE,
    RESIDENT_WEIGHT,
    THIRD_PLACE_DISTANCE,
    _c,
    _check_crs,
    _in_area,
    _node_frame,
    _radii,
)
from rakennettu.layers.form import DEFAULT_FLOORS, STOREY_HEIGHT, estimate_floors
from rakennettu.network import (
    CatchmentItems,
    StreetNetwork,
    accessibility,
    attach,
    catchments,
)

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)


# residents near third places
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResidentsNear:
    """Residents within walking distance of a third place.

    Attributes
    ----------
    buildings
        On the buildings' index: ``cult_third_place_distance`` (m),
        ``cult_near_third_place`` (bool), ``cult_resident_weight``.
    nodes
        ``cult_residents_near_third_place_share_<R>m`` per node.
    share
        Town-wide share (buildings in the study area, ``in_area``, when marked).
    basis
        ``"residents"`` or ``"residential floor area"``: what weighs the buildings.
    """

    buildings: pd.DataFrame
    nodes: pd.DataFrame
    share: float
    basis: str


def _resident_weights(
    buildings: gpd.GeoDataFrame,
    residents: pd.Series | None,
    storey_height: float,
    default_floors: float,
    residential_uses: Sequence[str],
) -> tuple[F64, str]:
    if residents is not None:
        return _residents_of(buildings, residents), "residents"
    floors = estimate_floors(buildings, storey_height=storey_height, default_floors=default_floors)
    area = polygonal(buildings.geometry).area.to_numpy()
    use = (
        buildings["use"].astype(object).to_numpy()
        if "use" in buildings
        else np.full(len(buildings), None)
    )
    homes = set(residential_uses)
    residential = np.asarray([u in homes for u in use], dtype=bool)
    w = np.where(residential, area * floors.iloc[:, 0].to_numpy(dtype=float), 0.0)
    return w, "residential floor area"


def _residents_of(buildings: gpd.GeoDataFrame, residents: pd.Series) -> F64:
    """Residents per building as weights (checked: every building, none negative)."""
    missing = buildings.index.difference(residents.index)
    if len(missing):
        raise KeyError(
            f"residents has no value for {len(missing)} buildings (e.g. "
            f"{list(missing[:3])}); pass a Series on the buildings' index"
        )
    r = pd.to_numeric(residents.reindex(buildings.index), errors="coerce")
    w = r.to_numpy(dtype=float, na_value=np.nan)
    if (w < 0).any():
        raise ValueError("residents must be >= 0")
    if np.isnan(w).any():
        log.info("residents: %d buildings without a value count as 0", int(np.isnan(w).sum()))
    return np.nan_to_num(w, nan=0.0)


def _nearest_from_nodes(
    net: StreetNetwork,
    node_nearest: F64,
    attached: pd.DataFrame,
    targets: pd.DataFrame | None = None,
) -> F64:
    """Network distance from attached points to the nearest target, via the nodes.

    ``node_nearest`` is each node's distance to the nearest target (NaN: beyond reach),
    in the order of ``net.node_ids``. With ``targets`` (attached too), points on the same
    segment as a target may also walk straight along it.
    """
    ok = attached["attached"].to_numpy(dtype=bool)
    out = np.full(len(attached), np.nan)
    if not ok.any():
        return out
    near = np.where(np.isfinite(node_nearest), node_nearest, np.inf)
    pu = net.node_ids.get_indexer(pd.Index(attached["edge_u"].to_numpy()[ok], tupleize_cols=False))
    pv = net.node_ids.get_indexer(pd.Index(attached["edge_v"].to_numpy()[ok], tupleize_cols=False))
    snap = attached["snap_distance"].to_numpy(dtype=float)[ok]
    du = attached["dist_u"].to_numpy(dtype=float)[ok]
    dv = attached["dist_v"].to_numpy(dtype=float)[ok]
    d = np.minimum(near[pu] + du, near[pv] + dv) + snap
    if targets is not None and targets["attached"].any():
        t = targets[targets["attached"].to_numpy(dtype=bool)]
        key = ["edge_u", "edge_v", "edge_key"]
        src = attached.loc[ok, key].copy()
        src["_pos"] = np.arange(int(ok.sum()))
        src["_along"] = du
        tgt = t[key].copy()
        tgt["_t_along"] = t["dist_u"].to_numpy(dtype=float)
        tgt["_t_snap"] = t["snap_distance"].to_numpy(dtype=float)
        both = src.merge(tgt, on=key, how="inner")
        if len(both):
            direct = (
                np.abs(both["_along"].to_numpy() - both["_t_along"].to_numpy())
                + both["_t_snap"].to_numpy()
            )
            pos = both["_pos"].to_numpy()
            best = np.full(len(d), np.inf)
            np.minimum.at(best, pos, direct + snap[pos])
            d = np.minimum(d, best)
    out[np.flatnonzero(ok)] = np.where(np.isfinite(d), d, np.nan)
    return out


def residents_near_third_places(
    net: StreetNetwork,
    buildings: gpd.GeoDataFrame,
    third_places: gpd.GeoDataFrame,
    *,
    radii: float | Iterable[float],
    snap_distance: float,
    distance: float = 400.0,
    residents: pd.Series | None = None,
    residential_uses: Sequence[str] = SocialConfig().residential_uses,
    storey_height: float = STOREY_HEIGHT,
    default_floors: float = DEFAULT_FLOORS,
) -> ResidentsNear:
    """The share of residents living within ``distance`` (network) of a third place.

    Each building is weighted by its residents when ``residents`` is given (a Series on
    the buildings' index, e.g. from the social layer); without it, by its residential
    floor area (footprint × floors for buildings whose ``use`` is in
    ``residential_uses``, 0 for the others: by default buildings of unknown use do not
    count), and :attr:`ResidentsNear.basis` says so. A building's distance runs from its
    street attachment (snap included) to the nearest third place's (snap included).

    Parameters
    ----------
    net
        The street network.
    buildings
        Footprints with ``use``, ``floors`` (and ``in_area``), in the network's CRS.
    third_places
        Third places (points, polygons), in the network's CRS.
    radii
        Network radii (m) of the per-node shares; distances are searched up to the
        largest radius (at least ``distance``).
    snap_distance
        Features farther than this (m) from every street are not attached; unattached
        buildings count as not near.
    distance
        Walking distance to a third place, metres.
    residents
        Residents per building, or None.
    residential_uses
        Building uses that house residents, when ``residents`` is None (as the social
        layer's ``residential_uses``; add ``"unknown"`` where homes are mapped as
        ``building=yes``).
    storey_height, default_floors
        For the floor areas (see :func:`rakennettu.layers.form.estimate_floors`).

    Returns
    -------
    ResidentsNear

    Examples
    --------
    Two blocks of flats (300 m² of floor area each) at either end of a 600 m street, 5 m
    off it, and a café at its west end:

    >>> from shapely import Point, box
    >>> net = street(0, 600)  # nodes 0, 1, ... along the x axis at these x (m)
    >>> flats = gpd.GeoDataFrame({"use": ["residential"] * 2, "floors": [3.0, 3.0]},
    ...     geometry=[box(0, 5, 10, 15), box(590, 5, 600, 15)], crs=3067)
    >>> cafe = gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=3067)
    >>> near = residents_near_third_places(net, flats, cafe, radii=[400], snap_distance=20)
    >>> near.share, near.basis
    (0.5, 'residential floor area')
    >>> near.buildings["cult_third_place_distance"].tolist()  # searched up to 400 m
    [15.0, nan]
    """
    _check_crs(net, buildings=buildings, third_places=third_places)
    rad = _radii(radii)
    b_att = attach(net, buildings, max_distance=snap_distance)
    weights, basis = _resident_weights(
        buildings, residents, storey_height, default_floors, residential_uses
    )
    items, table, share = _residents_items(
        net,
        buildings,
        third_places,
        b_att,
        reach=float(max(max(rad), distance)),
        snap_distance=snap_distance,
        distance=distance,
        weights=weights,
    )
    ((sums, _),) = catchments(net, [items], rad)
    return ResidentsNear(table, _share_table(net, sums, rad, "residents_near_third_place_share"),
                         share, basis)  # fmt: skip


def _residents_items(
    net: StreetNetwork,
    buildings: gpd.GeoDataFrame,
    third_places: gpd.GeoDataFrame,
    b_att: pd.DataFrame,
    *,
    reach: float,
    snap_distance: float,
    distance: float,
    weights: F64,
) -> tuple[CatchmentItems, pd.DataFrame, float]:
    """Items (channels: weight, weight near), the building table and town share."""
    t_att = attach(net, third_places, max_distance=snap_distance)
    acc = accessibility(net, t_att, radii=[reach], max_nearest=reach)
    label = int(reach) if reach.is_integer() else reach
    node_near = np.array(acc[("total", "nearest", label)], dtype=float)
    d = _nearest_from_nodes(net, node_near, b_att, t_att)
    d = np.where(d <= reach, d, np.nan)
    near = np.nan_to_num(d, nan=np.inf) <= distance
    table = pd.DataFrame(
        {THIRD_PLACE_DISTANCE: d, NEAR_THIRD_PLACE: near, RESIDENT_WEIGHT: weights},
        index=buildings.index.copy(),
    )
    inside = _in_area(buildings)
    total = float(weights[inside].sum())
    share = float((weights * near)[inside].sum() / total) if total > 0 else float("nan")
    items = CatchmentItems(b_att, np.stack([weights, weights * near], axis=1))
    return items, table, share


def _share_table(net: StreetNetwork, sums: F64, rad: list[int], measure: str) -> pd.DataFrame:
    """Channel 1 over channel 0 per radius (NaN where channel 0 is 0)."""
    data: dict[str, Any] = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for j, r in enumerate(rad):
            tot = sums[:, j, 0]
            data[_c(measure, r)] = np.where(
                tot > 0, sums[:, j, 1] / np.where(tot > 0, tot, 1.0), np.nan
            )
    return _node_frame(net, data)
