"""Landmarks and third places within reach over the pedestrian network."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from rakennettu.layers.cultural._common import (
    NEAREST_LANDMARK,
    NEAREST_THIRD_PLACE,
    _c,
    _check_crs,
    _node_frame,
    _radii,
    _weights,
)
from rakennettu.network import (
    StreetNetwork,
    accessibility,
    attach,
)

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------
# attachment and access
# ---------------------------------------------------------------------------------------


def _access(
    net: StreetNetwork,
    features: gpd.GeoDataFrame,
    radii: list[int],
    snap_distance: float,
    max_nearest: float | None,
    count_name: str,
    access_name: str,
    nearest_name: str,
) -> pd.DataFrame:
    attached = attach(net, features, max_distance=snap_distance)
    near = float(max_nearest) if max_nearest is not None else float(max(radii))
    acc = accessibility(net, attached, radii=radii, weights=_weights(features), max_nearest=near)
    data: dict[str, Any] = {}
    for r in radii:
        data[_c(count_name, r)] = acc[("total", "count", r)].to_numpy()
    for r in radii:
        data[_c(access_name, r)] = acc[("total", "decayed", r)].to_numpy(dtype=float)
    near_label = int(near) if near.is_integer() else near
    data[nearest_name] = acc[("total", "nearest", near_label)].to_numpy(dtype=float)
    n_off = int((~attached["attached"]).sum())
    if n_off:
        log.info("%s: %d of %d features not attached (beyond %g m)", count_name, n_off,
                 len(attached), snap_distance)  # fmt: skip
    return _node_frame(net, data)


def landmark_access(
    net: StreetNetwork,
    landmarks: gpd.GeoDataFrame,
    *,
    radii: float | Iterable[float],
    snap_distance: float,
    max_nearest: float | None = None,
) -> pd.DataFrame:
    """Network access of every node to landmarks and heritage.

    Parameters
    ----------
    net
        The street network.
    landmarks
        Landmarks (points, lines, polygons) with a ``weight`` (1 when absent), in the
        network's CRS.
    radii
        Network radii in metres (whole numbers).
    snap_distance
        Landmarks farther than this (metres) from every street are left out.
    max_nearest
        Report the nearest landmark up to this distance (m); default the largest radius.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``net.node_ids``: ``cult_landmarks_<R>m`` (count),
        ``cult_landmark_access_<R>m`` (``Σ weight · exp(-4 d / R)``) and
        ``cult_nearest_landmark`` (m, NaN beyond ``max_nearest``).

    Examples
    --------
    A street 0-1-2 of two 100 m segments and a church (weight 2) whose apse comes within
    10 m of it at the middle node:

    >>> from shapely import Polygon
    >>> net = street(0, 100, 200)  # nodes 0, 1, ... along the x axis at these x (m)
    >>> apse = Polygon([(100, 10), (110, 20), (110, 40), (90, 40), (90, 20)])
    >>> church = gpd.GeoDataFrame({"weight": [2.0]}, geometry=[apse], crs=3067)
    >>> acc = landmark_access(net, church, radii=[100], snap_distance=50)
    >>> acc["cult_landmarks_100m"].tolist(), acc["cult_nearest_landmark"].tolist()
    ([0, 1, 0], [nan, 10.0, nan])
    >>> round(float(acc.loc[1, "cult_landmark_access_100m"]), 4)  # 2 exp(-4 * 10 / 100)
    1.3406
    """
    _check_crs(net, landmarks=landmarks)
    return _access(
        net,
        landmarks,
        _radii(radii),
        snap_distance,
        max_nearest,
        "landmarks",
        "landmark_access",
        NEAREST_LANDMARK,
    )


def third_place_access(
    net: StreetNetwork,
    third_places: gpd.GeoDataFrame,
    *,
    radii: float | Iterable[float],
    snap_distance: float,
    max_nearest: float | None = None,
) -> pd.DataFrame:
    """Network access of every node to third places (Oldenburg).

    Parameters
    ----------
    net
        The street network.
    third_places
        Cafés, pubs, libraries, squares, parks ... (points or polygons) with an optional
        ``weight``, in the network's CRS.
    radii
        Network radii in metres (whole numbers).
    snap_distance
        Places farther than this (metres) from every street are left out.
    max_nearest
        Report the nearest place up to this distance (m); default the largest radius.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``net.node_ids``: ``cult_third_places_<R>m`` (count),
        ``cult_third_place_access_<R>m`` (``Σ weight · exp(-4 d / R)``) and
        ``cult_nearest_third_place`` (m).

    Examples
    --------
    >>> from shapely import Point
    >>> net = street(0, 100)  # nodes 0, 1, ... along the x axis at these x (m)
    >>> cafe = gpd.GeoDataFrame(geometry=[Point(30, 0)], crs=3067)
    >>> acc = third_place_access(net, cafe, radii=[50], snap_distance=20)
    >>> acc.round(4).T  # exp(-4 * 30 / 50) = 0.0907
    node_id                         0    1
    cult_third_places_50m        1.0000  0.0
    cult_third_place_access_50m  0.0907  0.0
    cult_nearest_third_place    30.0000  NaN
    """
    _check_crs(net, third_places=third_places)
    return _access(
        net,
        third_places,
        _radii(radii),
        snap_distance,
        max_nearest,
        "third_places",
        "third_place_access",
        NEAREST_THIRD_PLACE,
    )


# ---------------------------------------------------------------------------------------
