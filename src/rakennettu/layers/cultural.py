"""The cultural layer: landmarks, third places, building age, green and blue, townscape.

Everything is measured over the pedestrian network (:mod:`rakennettu.network`), not
with crow-flies buffers. Functions take plain data and options (metres, years) and
return new tables aligned on their input's index; inputs are never modified and a
geographic CRS raises :class:`~rakennettu.errors.CRSError`. :func:`cultural_layer` runs
all of it for a :class:`~rakennettu.town.Town`. Every column is documented in
:data:`INDICATORS`; ``docs/cultural.md`` gives the reasons behind the definitions.

Definitions
-----------
Attachment
    A point feature joins the network at the nearest position on the nearest street
    segment; a polygon or line feature (a church, a square, a building) at its point
    nearest to a street, i.e. on its boundary where it faces the street, never at its
    centroid (:func:`rakennettu.network.attach`). Features farther than ``snap_distance`` from
    every street are left out. The walk to a feature is the network distance to its
    segment's end, plus the distance along the segment, plus the snapping distance.
Access (landmarks, third places)
    Per node and radius ``R``: the count of features within ``R``, the weighted,
    distance-decayed sum ``Σ w · exp(-β d)`` with ``β = 4 / R`` (``w`` the ``weight``
    column, 1 when absent), and the distance to the nearest (up to ``max_nearest``).
Network catchment
    A node's catchment at radius ``R`` holds the buildings whose attachment is within
    ``R`` (network distance, snap included), and the catchment *area* is the union of
    the street segments reached within ``R`` (cut at ``R``) buffered by
    ``catchment_width`` metres, measured on a raster: a cell of ``green_cell`` metres
    belongs to it when its centre lies within ``catchment_width`` of a street segment
    and the nearest position on that segment is within ``R`` of the node.
Construction periods
    ``age_periods`` (e.g. 1920, 1945, ...) split years into periods ``before 1920``,
    ``1920-1944``, ..., ``2010 or later``; a building of 1950 falls in ``1945-1959``.
    A building's year is the ``year`` column (OSM ``start_date`` and its kin, or the
    register); buildings without one are *unknown*: counted in the unknown share,
    left out of the median and the diversity, never taken as new.
Period diversity
    Jacobs' mix of old and new buildings: the Hill number of order 1 of the period
    shares, ``exp(-Σ p_i ln p_i)``: 1 when every known building is of one period,
    ``k`` when they spread evenly over ``k`` periods.
Green and water entrances
    Green areas and water are reached at their edges: the boundary (a water line
    itself) is sampled every ``entrance_spacing`` metres and samples within
    ``entrance_distance`` of a street are kept, plus the points where streets and paths
    cross the boundary; a feature with neither gets its boundary point nearest a
    street (:func:`green_blue_entrances`). A node inside a green area (or on water,
    e.g. on a bridge) is at distance 0 from it.
Green area
    Features of the green group (not cemeteries, not water) with a recreational weight
    of at least ``min_green_weight`` (0.5 drops grass verges and scrub) and an area of
    at least ``min_green_area`` m² (:func:`green_areas`). Water: the blue group's
    polygons (their boundaries are the shoreline) and lines (rivers, streams,
    coastline) of weight at least ``min_green_weight`` (drops technical basins).
Townscape
    A landmark's visual reach, from a viewshed on a raster of terrain and building
    heights (:mod:`rakennettu.layers.viewshed`), or, without a DEM and with too few
    known heights, its network exposure (see :func:`landmark_visibility`).
"""

from __future__ import annotations

import datetime
import itertools
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from rakennettu._geo import polygonal
from rakennettu._timing import Stages
from rakennettu.crs import require_projected
from rakennettu.diversity import hill_numbers
from rakennettu.errors import CRSError
from rakennettu.layers.form import DEFAULT_FLOORS, STOREY_HEIGHT, estimate_floors
from rakennettu.layers.viewshed import building_heights, surface_model, viewsheds
from rakennettu.naming import IndicatorDoc, indicator_name
from rakennettu.network import (
    CatchmentItems,
    StreetNetwork,
    accessibility,
    attach,
    attach_points,
    catchments,
    edge_betweenness,
)

if TYPE_CHECKING:
    from rakennettu.prepare import Prepared
    from rakennettu.town import Town

__all__ = [
    "DEFAULT_AGE_PERIODS",
    "DEFAULT_LANDMARK_HEIGHT",
    "INDICATORS",
    "LANDMARK_HEIGHTS",
    "CulturalLayer",
    "LandmarkVisibility",
    "ResidentsNear",
    "age_by_cell",
    "building_age",
    "construction_periods",
    "cultural_layer",
    "green_areas",
    "green_blue_access",
    "green_blue_entrances",
    "green_share",
    "landmark_access",
    "landmark_exposure",
    "landmark_visibility",
    "nearest_entrance",
    "period_diversity",
    "period_labels",
    "residents_near_third_places",
    "third_place_access",
    "water_features",
]

log = logging.getLogger(__name__)

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B8 = npt.NDArray[np.bool_]

DEFAULT_AGE_PERIODS: tuple[int, ...] = (1920, 1945, 1960, 1975, 1990, 2010)
"""Years splitting construction periods, as in the workflow defaults."""

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

CATCHMENT_WIDTH = 50.0
"""Buffer (m) around the reached streets that makes a node's catchment area."""
GREEN_CELL = 10.0
"""Cell size (m) of the raster the green share is measured on."""

# --- column names ------------------------------------------------------------------


def _c(measure: str, radius: float | None = None) -> str:
    return indicator_name("cult", measure, radius)


NEAREST_LANDMARK = _c("nearest_landmark")
NEAREST_THIRD_PLACE = _c("nearest_third_place")
NEAREST_GREEN = _c("nearest_green")
NEAREST_WATER = _c("nearest_water")
LANDMARKS_VISIBLE = _c("landmarks_visible")
LANDMARKS_VISIBLE_WEIGHT = _c("landmarks_visible_weight")
VISIBLE_AREA = _c("landmark_visible_area")
VISIBLE_NODES = _c("landmark_visible_nodes")
EXPOSURE = _c("landmark_exposure")
YEAR = _c("year")
PERIOD = _c("period")
AGE = _c("age")
THIRD_PLACE_DISTANCE = _c("third_place_distance")
RESIDENT_WEIGHT = _c("resident_weight")
NEAR_THIRD_PLACE = _c("near_third_place")

INDICATORS: tuple[IndicatorDoc, ...] = (
    IndicatorDoc(
        "cult",
        "landmarks",
        True,
        "count",
        "Landmarks and heritage features within R along the pedestrian network (polygons "
        "attached at their boundary point nearest a street).",
        "town.landmarks (data/taxonomy/landmarks.toml; municipal heritage layer)",
    ),
    IndicatorDoc(
        "cult",
        "landmark_access",
        True,
        "weight",
        "Sum over landmarks within R of weight × exp(-4 d / R), d the network distance "
        "in metres: near, important landmarks count most.",
        "town.landmarks (weight column)",
    ),
    IndicatorDoc(
        "cult",
        "nearest_landmark",
        False,
        "m",
        "Network distance to the nearest landmark; NaN beyond max_nearest (default the "
        "largest radius).",
        "town.landmarks",
    ),
    IndicatorDoc(
        "cult",
        "third_places",
        True,
        "count",
        "Third places (cafés, pubs, libraries, community centres, markets, squares, "
        "parks, playgrounds) within R along the network.",
        "town.third_places (data/taxonomy/third_places.toml)",
    ),
    IndicatorDoc(
        "cult",
        "third_place_access",
        True,
        "weight",
        "Sum over third places within R of weight × exp(-4 d / R).",
        "town.third_places",
    ),
    IndicatorDoc(
        "cult",
        "nearest_third_place",
        False,
        "m",
        "Network distance to the nearest third place; NaN beyond max_nearest.",
        "town.third_places",
    ),
    IndicatorDoc(
        "cult",
        "residents_near_third_place_share",
        True,
        "share 0-1",
        "Of the residents whose homes are within R of the node, the share living within "
        "third_place_distance (400 m) along the network of a third place. Residents per "
        "building from the social layer, else residential floor area as the weight "
        "(the summary says which). NaN where no residents are within R.",
        "town.buildings, town.third_places, residents (social layer)",
    ),
    IndicatorDoc(
        "cult",
        "buildings",
        True,
        "count",
        "Buildings whose street attachment lies within R along the network (snap "
        "included): the catchment the age measures are computed on.",
        "town.buildings",
    ),
    IndicatorDoc(
        "cult",
        "year_median",
        True,
        "year",
        "Median construction year of the buildings within R whose year is known; NaN "
        "where none is.",
        "town.buildings year (OSM start_date etc., building register)",
    ),
    IndicatorDoc(
        "cult",
        "age_median",
        True,
        "years",
        "reference_year minus cult_year_median (the summary gives the reference year).",
        "town.buildings year",
    ),
    IndicatorDoc(
        "cult",
        "age_diversity",
        True,
        "effective number of periods",
        "Hill number of order 1, exp(Shannon entropy), of the construction-period "
        "shares among the buildings within R of known year (periods from age_periods): "
        "1 = one period only, k = even mix of k periods. NaN where no year is known.",
        "town.buildings year; [cultural] age_periods",
    ),
    IndicatorDoc(
        "cult",
        "age_unknown_share",
        True,
        "share 0-1",
        "Share of the buildings within R whose construction year is unknown; NaN where "
        "there are no buildings.",
        "town.buildings year",
    ),
    IndicatorDoc(
        "cult",
        "nearest_green",
        False,
        "m",
        "Network distance to the nearest entrance of a green area (boundary points by a "
        "street, path crossings), 0 inside one; NaN beyond max_nearest.",
        "town.green_blue (green group, weight >= 0.5, area >= 1000 m²)",
    ),
    IndicatorDoc(
        "cult",
        "nearest_water",
        False,
        "m",
        "Network distance to the nearest shoreline point (water polygon boundaries, "
        "rivers, streams, coastline) by a street, 0 on water; NaN beyond max_nearest.",
        "town.green_blue (blue group, weight >= 0.5)",
    ),
    IndicatorDoc(
        "cult",
        "green_share",
        True,
        "share 0-1",
        "Green area over the area of the node's network catchment: the street segments "
        "reached within R buffered by catchment_width (50 m), on a 10 m raster.",
        "town.green_blue, town.edges",
    ),
    IndicatorDoc(
        "cult",
        "landmarks_visible",
        False,
        "count",
        "Landmarks within viewshed_radius whose top a pedestrian at the node sees over "
        "terrain and buildings. NaN where visibility fell back to network exposure.",
        "town.landmarks, town.buildings heights/floors, town.dem",
    ),
    IndicatorDoc(
        "cult",
        "landmarks_visible_weight",
        False,
        "weight",
        "Sum of the weights of the landmarks visible from the node; NaN where "
        "visibility fell back to network exposure.",
        "town.landmarks, town.buildings, town.dem",
    ),
    IndicatorDoc(
        "cult",
        "landmark_visible_area",
        False,
        "m²",
        "Open ground (no building) within viewshed_radius from which a pedestrian "
        "(observer_height) sees the landmark's top; NaN for the exposure method.",
        "town.landmarks, town.buildings, town.dem",
        level="landmark",
    ),
    IndicatorDoc(
        "cult",
        "landmark_visible_nodes",
        False,
        "count",
        "Street nodes within viewshed_radius from which the landmark's top is visible.",
        "town.landmarks, town.buildings, town.dem",
        level="landmark",
    ),
    IndicatorDoc(
        "cult",
        "landmark_exposure",
        False,
        "node pairs",
        "Sum of the edge betweenness (node pairs within the betweenness radius whose "
        "shortest paths use the segment) of the street segments within "
        "exposure_distance (50 m) of the landmark: how many walks pass it.",
        "town.landmarks, rakennettu.network.edge_betweenness",
        level="landmark",
    ),
    IndicatorDoc(
        "cult",
        "year",
        False,
        "year",
        "Construction year used for the building (NaN: unknown).",
        "town.buildings year",
        level="building",
    ),
    IndicatorDoc(
        "cult",
        "period",
        False,
        "label",
        "Construction period of the building (from age_periods); missing when unknown.",
        "town.buildings year",
        level="building",
    ),
    IndicatorDoc(
        "cult",
        "age",
        False,
        "years",
        "reference_year minus the construction year.",
        "town.buildings year",
        level="building",
    ),
    IndicatorDoc(
        "cult",
        "third_place_distance",
        False,
        "m",
        "Network distance from the building to the nearest third place, up to the "
        "largest radius; NaN beyond, or when the building is not attached.",
        "town.buildings, town.third_places",
        level="building",
    ),
    IndicatorDoc(
        "cult",
        "near_third_place",
        False,
        "bool",
        "Whether cult_third_place_distance <= third_place_distance (400 m).",
        "town.buildings, town.third_places",
        level="building",
    ),
    IndicatorDoc(
        "cult",
        "resident_weight",
        False,
        "residents or m²",
        "Residents of the building (given), else its residential floor area (footprint "
        "× floors, 0 for other uses).",
        "residents (social layer) or town.buildings use/floors",
        level="building",
    ),
    IndicatorDoc(
        "cult",
        "buildings",
        False,
        "count",
        "Buildings whose representative point lies in the cell.",
        "town.buildings",
        level="hex",
    ),
    IndicatorDoc(
        "cult",
        "year_median",
        False,
        "year",
        "Median construction year of the cell's buildings of known year.",
        "town.buildings year",
        level="hex",
    ),
    IndicatorDoc(
        "cult",
        "age_median",
        False,
        "years",
        "reference_year minus the cell's median year.",
        "town.buildings year",
        level="hex",
    ),
    IndicatorDoc(
        "cult",
        "age_diversity",
        False,
        "effective number of periods",
        "Hill number of order 1 of the construction-period shares of the cell's "
        "buildings of known year.",
        "town.buildings year; [cultural] age_periods",
        level="hex",
    ),
    IndicatorDoc(
        "cult",
        "age_unknown_share",
        False,
        "share 0-1",
        "Share of the cell's buildings whose year is unknown.",
        "town.buildings year",
        level="hex",
    ),
)


# ---------------------------------------------------------------------------------------
# checks and small helpers
# ---------------------------------------------------------------------------------------


def _check_crs(net: StreetNetwork, **frames: Any) -> None:
    """Every frame in the network's projected CRS, or CRSError naming the culprits."""
    for name, frame in frames.items():
        if frame is None:
            continue
        crs = require_projected(frame.crs, name)
        if crs != net.crs:
            raise CRSError(
                f"{name}: in {crs.to_string()} but the network is in {net.crs.to_string()}; "
                f"reproject with {name}.to_crs(net.crs)"
            )


def _radii(radii: float | Iterable[float]) -> list[int]:
    seq = [radii] if np.ndim(radii) == 0 else list(radii)  # type: ignore[arg-type]
    values = np.atleast_1d(np.asarray(seq, dtype=float))
    if values.size == 0:
        raise ValueError("radii is empty; give at least one radius in metres, e.g. [400, 800]")
    out = sorted({float(r) for r in values.ravel()})
    if any(not (r > 0 and math.isfinite(r) and r.is_integer()) for r in out):
        raise ValueError(f"radii must be positive whole numbers of metres, got {radii!r}")
    return [int(r) for r in out]


def _weights(frame: pd.DataFrame) -> pd.Series:
    if "weight" not in frame:
        return pd.Series(1.0, index=frame.index)
    w = pd.to_numeric(frame["weight"], errors="coerce").astype(float)
    return w.fillna(1.0)


def _numeric(frame: pd.DataFrame, column: str) -> F64:
    if column not in frame:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _in_area(frame: pd.DataFrame) -> B8:
    if "in_area" in frame:
        return frame["in_area"].fillna(False).to_numpy(dtype=bool)
    return np.ones(len(frame), dtype=bool)


def _node_frame(net: StreetNetwork, data: Mapping[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(dict(data), index=net.node_ids.copy())


def _street_tree(net: StreetNetwork) -> tuple[shapely.STRtree, npt.NDArray[Any]]:
    geoms = net.edges.geometry.to_numpy()
    return shapely.STRtree(geoms), geoms


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
# building age
# ---------------------------------------------------------------------------------------


def _check_periods(age_periods: Sequence[int]) -> list[int]:
    periods = [int(y) for y in age_periods]
    if periods != sorted(set(periods)):
        raise ValueError(f"age_periods must be increasing years, got {list(age_periods)}")
    return periods


def period_labels(age_periods: Sequence[int]) -> list[str]:
    """Labels of the construction periods that ``age_periods`` split the years into.

    Examples
    --------
    >>> period_labels([1920, 1945, 1960])
    ['before 1920', '1920-1944', '1945-1959', '1960 or later']
    >>> period_labels([])
    ['all years']
    """
    p = _check_periods(age_periods)
    if not p:
        return ["all years"]
    mids = [f"{a}-{b - 1}" for a, b in itertools.pairwise(p)]
    return [f"before {p[0]}", *mids, f"{p[-1]} or later"]


def _period_codes(years: F64, periods: list[int]) -> I64:
    codes = np.searchsorted(np.asarray(periods, dtype=float), years, side="right")
    return np.where(np.isfinite(years), codes, -1).astype(np.int64)


def construction_periods(years: pd.Series, *, age_periods: Sequence[int]) -> pd.Series:
    """The construction period of each year (missing stays missing).

    Parameters
    ----------
    years
        Construction years (NaN or NA when unknown).
    age_periods
        Increasing years that start a new period.

    Returns
    -------
    pandas.Series
        Categorical labels from :func:`period_labels`, on the index of ``years``.

    Examples
    --------
    >>> construction_periods(pd.Series([1890, 1950, None, 1960]), age_periods=[1920, 1945, 1960])
    0    before 1920
    1      1945-1959
    2            NaN
    3   1960 or later
    dtype: category
    Categories (4, str): ['before 1920', '1920-1944', '1945-1959', '1960 or later']
    """
    periods = _check_periods(age_periods)
    labels = period_labels(periods)
    y = pd.to_numeric(years, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    codes = _period_codes(y, periods)
    return pd.Series(
        pd.Categorical.from_codes(codes, categories=labels), index=years.index, name=years.name
    )


def period_diversity(counts: Any) -> Any:
    """Hill number of order 1 (``exp`` of the Shannon entropy) of counts per period.

    :func:`rakennettu.diversity.hill_numbers` with ``q = 1``, NaN where there is no
    building.

    Parameters
    ----------
    counts
        Counts of buildings per period, along the last axis.

    Returns
    -------
    float or numpy.ndarray
        ``exp(-Σ p_i ln p_i)`` with ``p_i = count_i / Σ count``: the effective number of
        periods, from 1 (one period) to the number of periods (an even mix); NaN where
        every count is 0.

    Examples
    --------
    >>> period_diversity([3, 3, 0])
    2.0
    >>> period_diversity([[5, 0], [0, 0]]).tolist()
    [1.0, nan]
    """
    c = np.asarray(counts, dtype=float)
    if c.ndim == 1:
        return hill_numbers(c, 1, empty=np.nan)
    rows = hill_numbers(c.reshape(-1, c.shape[-1]), 1, empty=np.nan)
    return rows.reshape(c.shape[:-1])


def _reference_year(reference_year: int | None) -> int:
    return datetime.date.today().year if reference_year is None else int(reference_year)


def _building_years(buildings: pd.DataFrame) -> F64:
    return _numeric(buildings, "year")


def building_age(
    net: StreetNetwork,
    buildings: gpd.GeoDataFrame,
    *,
    radii: float | Iterable[float],
    snap_distance: float,
    age_periods: Sequence[int] = DEFAULT_AGE_PERIODS,
    reference_year: int | None = None,
) -> pd.DataFrame:
    """Age of the buildings within each node's network catchment, and its mix.

    A building is in a node's catchment at radius ``R`` when its street attachment
    (:func:`rakennettu.network.attach`) lies within ``R`` along the network, snapping distance
    included. Buildings without a ``year`` are *unknown*: counted, left out of the
    median and the diversity.

    Parameters
    ----------
    net
        The street network.
    buildings
        Footprints with a ``year`` column (construction year; NaN/NA when unknown).
    radii
        Network radii in metres.
    snap_distance
        Buildings farther than this (m) from every street are left out.
    age_periods
        Years splitting construction periods (see :func:`period_labels`).
    reference_year
        The year ages are counted to; default the current year.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``net.node_ids``, per radius: ``cult_buildings_<R>m`` (count),
        ``cult_year_median_<R>m`` (year), ``cult_age_median_<R>m`` (years),
        ``cult_age_diversity_<R>m`` (Hill q=1 of period shares) and
        ``cult_age_unknown_share_<R>m`` (0-1).

    Examples
    --------
    Four houses along a 100 m street, of 1900, 1980 and two of unknown age:

    >>> from shapely import box
    >>> net = street(0, 100)  # nodes 0, 1, ... along the x axis at these x (m)
    >>> houses = gpd.GeoDataFrame({"year": [1900, 1980, None, None]},
    ...     geometry=[box(x, 5, x + 10, 15) for x in (10, 30, 50, 70)], crs=3067)
    >>> age = building_age(net, houses, radii=[200], snap_distance=20, reference_year=2020)
    >>> age.loc[0].tolist()
    [4.0, 1940.0, 80.0, 2.0, 0.5]
    """
    _check_crs(net, buildings=buildings)
    rad = _radii(radii)
    periods = _check_periods(age_periods)
    attached = attach(net, buildings, max_distance=snap_distance)
    ((sums, med),) = catchments(net, [_age_items(buildings, attached, periods)], rad)
    return _age_table(net, sums, med, rad, _reference_year(reference_year))


def _age_items(
    buildings: pd.DataFrame, attached: pd.DataFrame, periods: list[int]
) -> CatchmentItems:
    """Channels: all, known, one per period; median of the year."""
    years = _building_years(buildings)
    codes = _period_codes(years, periods)
    values = np.zeros((len(buildings), 2 + len(periods) + 1))
    values[:, 0] = 1.0
    known = codes >= 0
    values[known, 1] = 1.0
    values[np.flatnonzero(known), 2 + codes[known]] = 1.0
    return CatchmentItems(attached, values, median_of=years)


def _age_table(net: StreetNetwork, sums: F64, med: F64, rad: list[int], ref: int) -> pd.DataFrame:
    data: dict[str, Any] = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for j, r in enumerate(rad):
            total = sums[:, j, 0]
            data[_c("buildings", r)] = total
            data[_c("year_median", r)] = med[:, j]
            data[_c("age_median", r)] = ref - med[:, j]
            data[_c("age_diversity", r)] = period_diversity(sums[:, j, 2:])
            data[_c("age_unknown_share", r)] = np.where(
                total > 0, (total - sums[:, j, 1]) / np.where(total > 0, total, 1.0), np.nan
            )
    return _node_frame(net, data)


def age_by_cell(
    buildings: gpd.GeoDataFrame,
    grid: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    age_periods: Sequence[int] = DEFAULT_AGE_PERIODS,
    reference_year: int | None = None,
) -> pd.DataFrame:
    """Age of the buildings in each grid cell, and its mix.

    A building belongs to the cell holding its representative point (the first cell in
    grid order when the point sits on a shared edge), so it is counted once; a median
    cannot be shared out by area.

    Parameters
    ----------
    buildings
        Footprints with a ``year`` column, in the grid's CRS.
    grid
        Cells, e.g. from :func:`rakennettu.synthesis.grid.hex_grid`.
    age_periods
        Years splitting construction periods.
    reference_year
        The year ages are counted to; default the current year.

    Returns
    -------
    pandas.DataFrame
        On the index of ``grid``: ``cult_buildings`` (count), ``cult_year_median``
        (year), ``cult_age_median`` (years), ``cult_age_diversity`` (Hill q=1) and
        ``cult_age_unknown_share`` (0-1); NaN where the cell holds no (dated) building.

    Examples
    --------
    >>> from shapely import box
    >>> grid = gpd.GeoSeries([box(0, 0, 100, 100), box(100, 0, 200, 100)], crs=3067)
    >>> b = gpd.GeoDataFrame({"year": [1900, 1990, None]},
    ...     geometry=[box(10, 10, 20, 20), box(30, 10, 40, 20), box(110, 10, 120, 20)], crs=3067)
    >>> age_by_cell(b, grid, age_periods=[1945], reference_year=2000).T
                                 0    1
    cult_buildings             2.0  1.0
    cult_year_median        1945.0  NaN
    cult_age_median           55.0  NaN
    cult_age_diversity         2.0  NaN
    cult_age_unknown_share     0.0  1.0
    """
    crs = require_projected(grid.crs, "grid")
    b_crs = require_projected(buildings.crs, "buildings")
    if b_crs != crs:
        raise CRSError(
            f"buildings: in {b_crs.to_string()} but the grid is in {crs.to_string()}; "
            "reproject with buildings.to_crs(grid.crs)"
        )
    periods = _check_periods(age_periods)
    ref = _reference_year(reference_year)
    years = _building_years(buildings)
    codes = _period_codes(years, periods)
    pts = shapely.point_on_surface(polygonal(buildings.geometry).to_numpy())
    ok = ~shapely.is_empty(pts)
    cells = grid.geometry.to_numpy()
    b_at, c_at = shapely.STRtree(cells).query(pts[ok], predicate="intersects")
    b_at = np.flatnonzero(ok)[b_at]
    order = np.lexsort((c_at, b_at))
    b_at, c_at = b_at[order], c_at[order]
    b_at, first = np.unique(b_at, return_index=True)
    c_at = c_at[first]
    n_cells, n_per = len(cells), len(periods) + 1
    total = np.bincount(c_at, minlength=n_cells).astype(float)
    known = codes[b_at] >= 0
    counts = np.zeros((n_cells, n_per))
    np.add.at(counts, (c_at[known], codes[b_at][known]), 1.0)
    med = np.full(n_cells, np.nan)
    frame = pd.DataFrame({"cell": c_at[known], "year": years[b_at][known]})
    if len(frame):
        m = frame.groupby("cell")["year"].median()
        med[m.index.to_numpy()] = m.to_numpy()
    n_known = counts.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        unknown = np.where(total > 0, (total - n_known) / np.where(total > 0, total, 1), np.nan)
    return pd.DataFrame(
        {
            _c("buildings"): total,
            _c("year_median"): med,
            _c("age_median"): ref - med,
            _c("age_diversity"): period_diversity(counts),
            _c("age_unknown_share"): unknown,
        },
        index=grid.index,
    )


# ---------------------------------------------------------------------------------------
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
    residential_uses: Sequence[str] = ("residential",),
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
    snap_distance: float = 100.0,
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
    snap_distance: float = 100.0,
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
    gx, gy = np.meshgrid(xs + cell / 2, ys + cell / 2)
    pts = shapely.points(gx.ravel(), gy.ravel())
    tree, _ = _street_tree(net)
    near, _ = tree.query(pts, predicate="dwithin", distance=width)
    pts = pts[np.unique(near)]
    att = attach_points(net, gpd.GeoSeries(pts, crs=net.crs), max_distance=width)
    return pts, att


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
    radius: float = 600.0,
    cell: float = 5.0,
    observer_height: float = 1.6,
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
    b_area = shapely.area(b_geoms)
    known = (heights["height_source"] != "assumed").to_numpy()
    valid = ~(shapely.is_missing(origins) | shapely.is_empty(origins))
    near = np.ones(len(b_geoms), dtype=bool)
    if valid.any() and len(b_geoms):
        near[:] = False
        _, b_near = shapely.STRtree(b_geoms).query(
            origins[valid], predicate="dwithin", distance=radius
        )
        near[b_near] = True
    total = float(b_area[near].sum())
    share = float(b_area[near & known].sum() / total) if total > 0 else 0.0

    if n == 0:
        chosen = "none"
        note = "no landmarks"
    elif method != "auto":
        chosen = method
        note = f"{method} chosen by the caller"
    elif dem is not None:
        chosen = "viewshed"
        note = (
            f"viewshed on the DEM and building heights ({share:.0%} of the footprint area "
            "near landmarks has a known height or floor count; the rest assumed)"
        )
    elif share >= min_height_share:
        chosen = "viewshed"
        note = (
            f"viewshed on building heights over flat terrain (no DEM); {share:.0%} of the "
            "footprint area near landmarks has a known height or floor count"
        )
    else:
        chosen = "exposure"
        note = (
            f"network exposure instead of a viewshed: no DEM, and only {share:.0%} of the "
            f"footprint area near landmarks has a known height or floor count (needs "
            f"{min_height_share:.0%})"
        )

    area = np.full(n, np.nan)
    seen_nodes = np.full(n, np.nan)
    target = np.full(n, np.nan)
    row_method = np.full(n, chosen, dtype=object)
    node_count = np.full(net.n_nodes, np.nan if n else 0.0)
    node_weight = np.full(net.n_nodes, np.nan if n else 0.0)

    # target heights: own height, else max(own building, category default)
    own_lists: list[list[int]] = [[] for _ in range(n)]
    if valid.any() and len(b_geoms):
        p_at, b_at = shapely.STRtree(b_geoms).query(origins[valid], predicate="intersects")
        p_at = np.flatnonzero(valid)[p_at]
        for p, b in zip(p_at.tolist(), b_at.tolist(), strict=True):
            own_lists[p].append(b)
    b_height = heights["height"].to_numpy()
    cats = (
        landmarks["category"].astype(object).to_numpy()
        if isinstance(landmarks, pd.DataFrame) and "category" in landmarks
        else np.full(n, None)
    )
    given = _numeric(landmarks, "height") if isinstance(landmarks, pd.DataFrame) else None
    for i in range(n):
        if given is not None and np.isfinite(given[i]) and given[i] > 0:
            target[i] = given[i]
            continue
        default = LANDMARK_HEIGHTS.get(str(cats[i]), DEFAULT_LANDMARK_HEIGHT)
        own = max((b_height[b] for b in own_lists[i]), default=0.0)
        target[i] = max(default, own)

    ok = np.flatnonzero(valid)
    computed = np.zeros(n, dtype=bool)
    if chosen == "viewshed" and ok.size:
        xy = np.stack([shapely.get_x(origins[ok]), shapely.get_y(origins[ok])], axis=1)
        pad = radius + 2 * cell
        bounds = (
            float(xy[:, 0].min() - pad),
            float(xy[:, 1].min() - pad),
            float(xy[:, 0].max() + pad),
            float(xy[:, 1].max() + pad),
        )
        surface = surface_model(
            buildings,
            bounds=bounds,
            cell=cell,
            dem=dem,
            heights=heights["height"],
        )
        vs = viewsheds(
            surface,
            xy,
            radius=radius,
            origin_height=target[ok],
            target_height=observer_height,
            targets=np.stack([net.x, net.y], axis=1),
            ignore_buildings=[own_lists[i] for i in ok],
        )
        area[ok] = vs.visible_area
        pairs = vs.pairs[vs.pairs["visible"].to_numpy(dtype=bool)]
        lm = ok[pairs["origin"].to_numpy(dtype=np.int64)]
        computed[ok[np.isfinite(vs.visible_area)]] = True
        seen_nodes[computed] = 0.0
        seen_nodes += np.bincount(lm, minlength=n)
        tgt = pairs["target"].to_numpy(dtype=np.int64)
        node_count = np.bincount(tgt, minlength=net.n_nodes).astype(float)
        node_weight = np.bincount(tgt, weights=weights[lm], minlength=net.n_nodes)
    if chosen == "viewshed":
        row_method[~computed] = "exposure"
        if (~computed).any():
            log.info(
                "%d landmarks lie off the visibility raster, on unknown terrain or have no "
                "geometry; their exposure is reported instead",
                int((~computed).sum()),
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
            VISIBLE_AREA: area,
            VISIBLE_NODES: seen_nodes,
            EXPOSURE: exposure,
            "target_height": target,
            "visibility_method": pd.Categorical(row_method, categories=VISIBILITY_METHODS),
        },
        index=landmarks.index.copy(),
    )
    nodes = _node_frame(net, {LANDMARKS_VISIBLE: node_count, LANDMARKS_VISIBLE_WEIGHT: node_weight})
    log.info("landmark visibility: %s (%s)", chosen, note)
    return LandmarkVisibility(table, nodes, chosen, note, share)


# ---------------------------------------------------------------------------------------
# the whole layer
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CulturalLayer:
    """Every cultural indicator of a town (see :func:`cultural_layer`).

    Attributes
    ----------
    nodes
        Indexed by ``node_id`` (``net.node_ids``): every node-level ``cult_`` column.
    landmarks
        On ``town.landmarks``' index: visible area, visible nodes, exposure, target
        height and the visibility method.
    buildings
        On ``town.buildings``' index: ``cult_year``, ``cult_period``, ``cult_age``,
        ``cult_third_place_distance``, ``cult_near_third_place``,
        ``cult_resident_weight``.
    summary
        Town-wide figures and the choices made (reference year, periods, unknown-age
        share, residents near a third place, visibility method and its note, ...).
    timings
        Seconds per step.
    """

    nodes: pd.DataFrame
    landmarks: pd.DataFrame
    buildings: pd.DataFrame
    summary: Mapping[str, Any]
    timings: Mapping[str, float]


def cultural_layer(
    town: Town,
    net: StreetNetwork,
    prepared: Prepared,
    *,
    radii: float | Iterable[float] = (400, 800, 1200),
    snap_distance: float = 100.0,
    age_periods: Sequence[int] = DEFAULT_AGE_PERIODS,
    viewshed_radius: float = 600.0,
    viewshed_cell: float = 5.0,
    observer_height: float = 1.6,
    edge_betweenness: pd.Series | pd.DataFrame | None = None,
    reference_year: int | None = None,
    max_nearest: float | None = None,
    third_place_distance: float = 400.0,
    visibility: Literal["auto", "viewshed", "exposure"] = "auto",
    min_height_share: float = 0.5,
    progress: bool = False,
) -> CulturalLayer:
    """Compute the cultural layer of a town over its pedestrian network.

    Steps (timed): landmark access, third-place access, distances to green and water,
    the network catchments (building age, residents near third places and green share
    in one search per node), townscape. See the module docstring for the
    definitions and :data:`INDICATORS` for every column.

    Parameters
    ----------
    town
        The loaded town (``landmarks``, ``third_places``, ``buildings``, ``green_blue``,
        ``dem``).
    net
        ``StreetNetwork.from_graph(town.graph)``, built once per town.
    prepared
        The town's buildings as :func:`rakennettu.prepare.prepare` derives them: their
        heights (townscape) and residents (near third places) are read.
    radii
        Network radii in metres.
    snap_distance
        Features farther than this (m) from every street are not attached.
    age_periods
        Years splitting construction periods.
    viewshed_radius, viewshed_cell, observer_height
        Townscape: how far (m), raster cell (m), pedestrian eye height (m).
    edge_betweenness
        Segment betweenness (for the exposure fallback); computed at the largest radius
        when needed and not given.
    reference_year
        The year ages are counted to; default the current year.
    max_nearest
        Distances to the nearest landmark, third place, green and water are reported up
        to this (m); default the largest radius.
    third_place_distance
        Walking distance (m) for "residents near a third place".
    visibility
        ``"auto"`` (viewshed with a DEM or enough heights, else exposure), or force
        ``"viewshed"`` or ``"exposure"``.
    min_height_share
        See :func:`landmark_visibility`.
    progress
        Show a progress bar over the steps.

    Returns
    -------
    CulturalLayer

    Examples
    --------
    >>> town = kotka_town()  # load_town("kotka-karhula"), loaded once for all doctests
    >>> net = StreetNetwork.from_graph(town.graph)
    >>> from rakennettu.config import FormConfig, SocialConfig
    >>> from rakennettu.prepare import prepare
    >>> prep = prepare(town, FormConfig(), SocialConfig())
    >>> cult = cultural_layer(town, net, prep, radii=[400, 800], reference_year=2025)
    >>> cult.nodes.index.equals(net.node_ids), cult.summary["visibility_method"]
    (True, 'none')
    >>> cult.summary["age_unknown_share"]  # Karhula's OSM buildings carry no dates
    1.0
    """
    rad = _radii(radii)
    periods = _check_periods(age_periods)
    ref = _reference_year(reference_year)
    _check_crs(
        net,
        landmarks=town.landmarks,
        third_places=town.third_places,
        buildings=town.buildings,
        green_blue=town.green_blue,
    )
    steps = 5
    step = Stages("cultural", log, total=steps, progress=progress)

    tables: list[pd.DataFrame] = []
    with step("landmarks"):
        tables.append(
            landmark_access(
                net, town.landmarks, radii=rad, snap_distance=snap_distance, max_nearest=max_nearest
            )
        )
    with step("third places"):
        tables.append(
            third_place_access(
                net,
                town.third_places,
                radii=rad,
                snap_distance=snap_distance,
                max_nearest=max_nearest,
            )
        )
    with step("green and blue"):
        green = green_areas(town.green_blue)
        water = water_features(town.green_blue)
        near_m = float(max_nearest) if max_nearest is not None else float(max(rad))
        opts = {"max_nearest": near_m, "snap_distance": snap_distance}
        tables.append(_nearest_green_water(net, green, water, opts))
    with step("catchments"):
        # building age, residents near third places and green share share one search
        b_att = attach(net, town.buildings, max_distance=snap_distance)
        r_items, r_table, r_share = _residents_items(
            net,
            town.buildings,
            town.third_places,
            b_att,
            reach=float(max(max(rad), third_place_distance)),
            snap_distance=snap_distance,
            distance=third_place_distance,
            weights=_residents_of(town.buildings, prepared.buildings["residents"]),
        )
        groups = [
            _age_items(town.buildings, b_att, periods),
            r_items,
            _green_items(net, green, CATCHMENT_WIDTH, GREEN_CELL),
        ]
        (a_sums, a_med), (r_sums, _), (g_sums, _) = catchments(net, groups, rad)
        tables.append(_age_table(net, a_sums, a_med, rad, ref))
        tables.append(_share_table(net, r_sums, rad, "residents_near_third_place_share"))
        tables.append(_share_table(net, g_sums, rad, "green_share"))
    with step("townscape"):
        vis = landmark_visibility(
            net,
            town.landmarks,
            town.buildings,
            radius=viewshed_radius,
            cell=viewshed_cell,
            observer_height=observer_height,
            heights=prepared.buildings[["height", "height_source"]],
            dem=town.dem,
            edge_betweenness=edge_betweenness,
            betweenness_radius=float(max(rad)),
            min_height_share=min_height_share,
            method=visibility,
        )
        tables.append(vis.nodes)
    step.close()

    nodes = pd.concat(tables, axis=1)
    years = _building_years(town.buildings)
    b = pd.DataFrame(
        {
            YEAR: years,
            PERIOD: construction_periods(
                pd.Series(years, index=town.buildings.index), age_periods=periods
            ),
            AGE: ref - years,
        },
        index=town.buildings.index.copy(),
    ).join(r_table)
    inside = _in_area(town.buildings)
    n_in = int(inside.sum())
    unknown = float(np.isnan(years[inside]).mean()) if n_in else float("nan")
    summary: dict[str, Any] = {
        "reference_year": ref,
        "radii_m": rad,
        "age_periods": period_labels(periods),
        "buildings": n_in,
        "age_unknown_share": unknown,
        "residents_near_third_place_share": r_share,
        "residents_basis": "residents",
        "third_place_distance_m": third_place_distance,
        "landmarks": int(_in_area(town.landmarks).sum()),
        "third_places": int(_in_area(town.third_places).sum()),
        "visibility_method": vis.method,
        "visibility_note": vis.note,
        "height_known_share": vis.height_known_share,
        "dem": town.dem is not None,
    }
    log.info(
        "cultural: %d nodes, %d landmarks, visibility by %s, in %.1f s",
        net.n_nodes,
        len(town.landmarks),
        vis.method,
        sum(step.timings.values()),
    )
    return CulturalLayer(
        nodes=nodes,
        landmarks=vis.landmarks,
        buildings=b,
        summary=summary,
        timings=step.timings,
    )
