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

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from rakennettu._timing import Stages
from rakennettu.config import CulturalConfig, NetworkConfig
from rakennettu.layers.cultural._common import AGE, PERIOD, YEAR, _check_crs, _in_area, _radii
from rakennettu.layers.cultural.access import landmark_access, third_place_access
from rakennettu.layers.cultural.age import (
    DEFAULT_AGE_PERIODS,
    _age_items,
    _age_table,
    _building_years,
    _check_periods,
    _reference_year,
    age_by_cell,
    building_age,
    construction_periods,
    period_diversity,
    period_labels,
)
from rakennettu.layers.cultural.green import (
    CATCHMENT_WIDTH,
    GREEN_CELL,
    _green_items,
    _nearest_green_water,
    green_areas,
    green_blue_access,
    green_blue_entrances,
    green_share,
    nearest_entrance,
    water_features,
)
from rakennettu.layers.cultural.indicators import INDICATORS
from rakennettu.layers.cultural.third_places import (
    ResidentsNear,
    _residents_items,
    _residents_of,
    _share_table,
    residents_near_third_places,
)
from rakennettu.layers.cultural.townscape import (
    DEFAULT_LANDMARK_HEIGHT,
    LANDMARK_HEIGHTS,
    LandmarkVisibility,
    landmark_exposure,
    landmark_visibility,
)
from rakennettu.network import (
    StreetNetwork,
    attach,
    catchments,
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
    network: NetworkConfig | None = None,
    cultural: CulturalConfig | None = None,
    edge_betweenness: pd.Series | pd.DataFrame | None = None,
    reference_year: int | None = None,
    max_nearest: float | None = None,
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
    network, cultural
        The workflow's ``[network]`` (``radii``, ``snap_distance``) and ``[cultural]``
        (``age_periods``, ``viewshed_radius``, ``viewshed_cell``, ``observer_height``,
        ``third_place_distance``, ``visibility``) sections; None: the defaults.
    edge_betweenness
        Segment betweenness (for the exposure fallback); computed at the largest radius
        when needed and not given.
    reference_year
        The year ages are counted to; default the current year.
    max_nearest
        Distances to the nearest landmark, third place, green and water are reported up
        to this (m); default the largest radius.
    min_height_share
        See :func:`landmark_visibility`.
    progress
        Show a progress bar over the steps.

    Returns
    -------
    CulturalLayer

    Examples
    --------
    >>> from rakennettu.config import FormConfig, NetworkConfig, SocialConfig
    >>> from rakennettu.prepare import prepare
    >>> town = kotka_town()  # load_town("kotka-karhula"), loaded once for all doctests
    >>> net = StreetNetwork.from_graph(town.graph)
    >>> prep = prepare(town, FormConfig(), SocialConfig())
    >>> radii = NetworkConfig(radii=(400, 800))
    >>> cult = cultural_layer(town, net, prep, network=radii, reference_year=2025)
    >>> cult.nodes.index.equals(net.node_ids), cult.summary["visibility_method"]
    (True, 'none')
    >>> cult.summary["age_unknown_share"]  # Karhula's OSM buildings carry no dates
    1.0
    """
    network = network or NetworkConfig()
    cultural = cultural or CulturalConfig()
    rad = _radii(network.radii)
    periods = _check_periods(cultural.age_periods)
    ref = _reference_year(reference_year)
    frames = ("landmarks", "third_places", "buildings", "green_blue")
    _check_crs(net, **{k: getattr(town, k) for k in frames})
    snap = network.snap_distance
    near_m = float(max_nearest) if max_nearest is not None else float(max(rad))
    step = Stages("cultural", log, total=5, progress=progress)
    tables: list[pd.DataFrame] = []
    with step("landmarks"):
        tables.append(
            landmark_access(
                net, town.landmarks, radii=rad, snap_distance=snap, max_nearest=max_nearest
            )
        )
    with step("third places"):
        tables.append(
            third_place_access(
                net, town.third_places, radii=rad, snap_distance=snap, max_nearest=max_nearest
            )
        )
    with step("green and blue"):
        green = green_areas(town.green_blue)
        water = water_features(town.green_blue)
        nearest = {"max_nearest": near_m, "snap_distance": snap}
        tables.append(_nearest_green_water(net, green, water, nearest))
    with step("catchments"):
        near = _catchment_tables(net, town, prepared, green, rad, periods, ref, snap, cultural)
        tables += near.tables
    with step("townscape"):
        vis = landmark_visibility(
            net,
            town.landmarks,
            town.buildings,
            radius=cultural.viewshed_radius,
            cell=cultural.viewshed_cell,
            observer_height=cultural.observer_height,
            heights=prepared.buildings[["height", "height_source"]],
            dem=town.dem,
            edge_betweenness=edge_betweenness,
            betweenness_radius=float(max(rad)),
            min_height_share=min_height_share,
            method=cultural.visibility,
        )
        tables.append(vis.nodes)
    step.close()
    nodes = pd.concat(tables, axis=1)
    buildings, summary = _buildings_and_summary(town, near, vis, rad, periods, ref, cultural)
    log.info(
        "cultural: %d nodes, %d landmarks, visibility by %s, in %.1f s",
        net.n_nodes,
        len(town.landmarks),
        vis.method,
        sum(step.timings.values()),
    )
    return CulturalLayer(nodes, vis.landmarks, buildings, summary, step.timings)


@dataclass(frozen=True)
class _Catchments:
    """The node tables of the shared catchment search, and residents near third places."""

    tables: list[pd.DataFrame]
    residents: pd.DataFrame
    share: float


def _catchment_tables(
    net: StreetNetwork,
    town: Town,
    prepared: Prepared,
    green: gpd.GeoDataFrame,
    rad: list[int],
    periods: list[int],
    ref: int,
    snap: float,
    cultural: CulturalConfig,
) -> _Catchments:
    """Building age, residents near third places and green share: one search per node."""
    b_att = attach(net, town.buildings, max_distance=snap)
    distance = cultural.third_place_distance
    r_items, r_table, r_share = _residents_items(
        net,
        town.buildings,
        town.third_places,
        b_att,
        reach=float(max(max(rad), distance)),
        snap_distance=snap,
        distance=distance,
        weights=_residents_of(town.buildings, prepared.buildings["residents"]),
    )
    groups = [
        _age_items(town.buildings, b_att, periods),
        r_items,
        _green_items(net, green, CATCHMENT_WIDTH, GREEN_CELL),
    ]
    (a_sums, a_med), (r_sums, _), (g_sums, _) = catchments(net, groups, rad)
    tables = [
        _age_table(net, a_sums, a_med, rad, ref),
        _share_table(net, r_sums, rad, "residents_near_third_place_share"),
        _share_table(net, g_sums, rad, "green_share"),
    ]
    return _Catchments(tables, r_table, r_share)


def _buildings_and_summary(
    town: Town,
    near: _Catchments,
    vis: LandmarkVisibility,
    rad: list[int],
    periods: list[int],
    ref: int,
    cultural: CulturalConfig,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The building table (year, period, age, third place) and the town-wide summary."""
    years = _building_years(town.buildings)
    index = town.buildings.index
    b = pd.DataFrame(
        {
            YEAR: years,
            PERIOD: construction_periods(pd.Series(years, index=index), age_periods=periods),
            AGE: ref - years,
        },
        index=index.copy(),
    ).join(near.residents)
    inside = _in_area(town.buildings)
    n_in = int(inside.sum())
    unknown = float(np.isnan(years[inside]).mean()) if n_in else float("nan")
    summary: dict[str, Any] = {
        "reference_year": ref,
        "radii_m": rad,
        "age_periods": period_labels(periods),
        "buildings": n_in,
        "age_unknown_share": unknown,
        "residents_near_third_place_share": near.share,
        "residents_basis": "residents",
        "third_place_distance_m": cultural.third_place_distance,
        "landmarks": int(_in_area(town.landmarks).sum()),
        "third_places": int(_in_area(town.third_places).sum()),
        "visibility_method": vis.method,
        "visibility_note": vis.note,
        "height_known_share": vis.height_known_share,
        "dem": town.dem is not None,
    }
    return b, summary
