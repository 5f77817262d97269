"""The social layer: the town's functional and economic network and its places.

Everything here is measured over the pedestrian network (:mod:`rakennettu.network`), not
with crow-flies buffers, except the density surfaces, which are deliberately plain
kernel surfaces for maps. Each function takes layers in one projected metric CRS and
returns a new table aligned on its input's index (network nodes: ``net.node_ids``;
buildings: the buildings' index); inputs are never modified, and a geographic CRS raises
:class:`~rakennettu.errors.CRSError`.

Activities (:func:`activity_access`)
    Points (polygons by a representative point) with a ``category`` from the
    ``activities`` tag table (``data/taxonomy/activities.toml``: daily_needs, food_drink,
    health, education, culture, sport, services, retail, work, and whatever the table
    adds) or from a municipal points layer, and an optional ``weight`` (1 by default). A
    feature counts in its primary category only, so the categories partition the
    activities. Per node and radius ``R``: the count within ``R`` and the decayed sum
    ``Σ weight · exp(-β d)`` over the activities within ``R`` (``β = 4 / R`` per metre
    unless given: a weight falls to ``e⁻⁴ ≈ 0.018`` at ``R``), per category and in total;
    and the network distance to the nearest activity of each category up to the largest
    radius (NaN beyond: "beyond reach", the worst case in the scores), as the cultural
    layer's ``cult_nearest_*``.

Land-use mix (:func:`land_use_mix`, :func:`hill_numbers`)
    Hill numbers of the category abundances ``a_i`` within ``R``, with shares
    ``p_i = a_i / Σ a``:

    - ``D_q = (Σ p_i^q) ^ (1 / (1 - q))`` for ``q ≠ 1``;
    - ``D_1 = exp(-Σ p_i ln p_i)`` (the limit ``q → 1``: exponential Shannon entropy);
    - ``D_0`` is the number of categories present, ``D_2 = 1 / Σ p_i²`` the inverse
      Simpson index.

    Sums run over the categories present (``p_i > 0``). ``D_q`` is an effective number
    of categories: 1 for a single category, ``k`` for an even split over ``k``, 0 where
    nothing is within reach. ``soc_mix_q<q>`` uses the counts as abundances,
    ``soc_mix_decayed_q<q>`` the decayed sums, so near activities weigh more.

Residents and jobs (:func:`floor_areas`, :func:`estimate_population`,
:func:`allocate_population`, :func:`catchment`)
    From a population grid (YKR, HSY: 250 m or 1 km cells with ``residents`` and
    optionally ``jobs``) allocated to buildings in proportion to the floor area of the
    buildings that can hold them (dasymetric mapping), or estimated from floor area per
    person where there is no grid. Summed per node over the buildings within ``R`` on
    the network: the people a place serves.

Density surfaces (:func:`kernel_density`)
    Quartic-kernel densities of activities and residents, per km², written as GeoTIFF by
    :func:`rakennettu.outputs.rasters.write_geotiff`.

:func:`social_layer` runs all of it for a :class:`~rakennettu.town.Town` and returns a
:class:`SocialLayer`. The columns are listed, with units and sources, in
:data:`INDICATORS`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
from pyproj import CRS

from rakennettu._timing import Stages
from rakennettu.config import NetworkConfig, SocialConfig
from rakennettu.diversity import hill_numbers
from rakennettu.errors import CRSError
from rakennettu.layers.social._common import _check_network_crs, _check_positive, _check_radii
from rakennettu.layers.social.access import (
    _catchment,
    activity_access,
    activity_categories,
    catchment,
    land_use_mix,
)
from rakennettu.layers.social.density import _activity_weights, kernel_density
from rakennettu.layers.social.indicators import INDICATORS
from rakennettu.layers.social.population import (
    JOB_USES,
    POPULATION_METHODS,
    RESIDENTIAL_USES,
    allocate_population,
    estimate_population,
    floor_areas,
    homes_of_unknown_use,
)
from rakennettu.naming import indicator_name
from rakennettu.network import StreetNetwork, attach_points
from rakennettu.sources.municipal import Raster

if TYPE_CHECKING:
    from rakennettu.prepare import Prepared
    from rakennettu.town import Town

__all__ = [
    "INDICATORS",
    "JOB_USES",
    "POPULATION_METHODS",
    "RESIDENTIAL_USES",
    "SocialLayer",
    "activity_access",
    "activity_categories",
    "allocate_population",
    "catchment",
    "estimate_population",
    "floor_areas",
    "hill_numbers",
    "homes_of_unknown_use",
    "kernel_density",
    "land_use_mix",
    "social_layer",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class SocialLayer:
    """The social tables of one town, as :func:`social_layer` returns them.

    Attributes
    ----------
    nodes
        Indexed by ``node_id`` (the network's nodes): every ``soc_`` node column of
        :data:`INDICATORS`.
    buildings
        On the index of ``town.buildings``, then any pseudo buildings (see
        :func:`allocate_population`): ``floor_area``, ``residential_floor_area``,
        ``job_floor_area`` (m²), ``residents``, ``jobs`` (persons),
        ``population_method`` (per row, one of :data:`POPULATION_METHODS`),
        ``pseudo``, ``grid_cell`` (a pseudo row's cell), ``in_area``, and as geometry
        the point where the people are counted (a footprint's representative point).
    rasters
        Density surfaces by name (``soc_activity_density``, ``soc_resident_density``).
    population_method
        How residents and jobs were obtained for the town: ``"grid"``,
        ``"grid_residents"``, ``"grid_jobs"`` or ``"floor_area"``; with
        ``"+floor_area"`` appended when some buildings lie outside the grid's extent
        and were estimated from floor area (``buildings.population_method`` says which).
    report
        Totals worth checking: ``residents``, ``jobs``, ``residents_off_network`` and
        ``jobs_off_network`` (in buildings farther than ``snap_distance`` from a street,
        so in no catchment), ``pseudo_buildings``, ``population_method_rows`` and
        ``activities``.
    timings
        Seconds per stage.
    """

    nodes: pd.DataFrame
    buildings: gpd.GeoDataFrame
    rasters: Mapping[str, Raster]
    population_method: str
    report: Mapping[str, Any] = field(default_factory=dict)
    timings: Mapping[str, float] = field(default_factory=dict)


def social_layer(
    town: Town,
    net: StreetNetwork,
    prepared: Prepared,
    *,
    network: NetworkConfig | None = None,
    social: SocialConfig | None = None,
    beta: float | Sequence[float] | None = None,
    progress: bool = False,
) -> SocialLayer:
    """Compute every social indicator of a town, timing each stage.

    Stages: activity access and nearest distances (:func:`activity_access`), the
    land-use mix (:func:`land_use_mix`), node catchments of the residents and jobs that
    :func:`rakennettu.prepare.prepare` put in the buildings (:func:`catchment`) and the
    density surfaces (:func:`kernel_density`, over the study area).

    Parameters
    ----------
    town
        A :class:`~rakennettu.town.Town`: ``activities``, ``area`` and ``crs`` are read.
    net
        The town's street network (``StreetNetwork.from_graph(town.graph)``).
    prepared
        The town's buildings with their residents and jobs
        (:func:`rakennettu.prepare.prepare`); its ``people`` are read.
    network, social
        The workflow's ``[network]`` (``radii``, ``snap_distance``) and ``[social]``
        (``raster_cell``, ``bandwidth``) sections; None: the defaults.
    beta
        Decay rate per metre (one or one per radius); None: ``4 / R``.
    progress
        Show a progress bar over the stages.

    Returns
    -------
    SocialLayer

    Raises
    ------
    CRSError
        If the network is not in the town's CRS.

    Examples
    --------
    >>> from rakennettu.config import FormConfig, NetworkConfig, SocialConfig
    >>> from rakennettu.prepare import prepare
    >>> town = kotka_town()  # load_town("kotka-karhula"), loaded once for all doctests
    >>> net = StreetNetwork.from_graph(town.graph)
    >>> prep = prepare(town, FormConfig(), SocialConfig())
    >>> soc = social_layer(town, net, prep, network=NetworkConfig(radii=(400, 800)))
    >>> soc.population_method
    'floor_area'
    >>> soc.nodes.index.equals(net.node_ids), "soc_mix_q1_800m" in soc.nodes
    (True, True)
    >>> sorted(soc.rasters)
    ['soc_activity_density', 'soc_resident_density']
    """
    network = network or NetworkConfig()
    social = social or SocialConfig()
    labels = _check_radii(network.radii)
    if CRS.from_user_input(town.crs) != net.crs:
        raise CRSError(
            f"the network is in {net.crs.to_string()} but the town in "
            f"{CRS.from_user_input(town.crs).to_string()}; build it from town.graph"
        )
    people = prepared.people
    stage = Stages("social", log, total=4, progress=progress)
    with stage("activities"):
        access = activity_access(
            net, town.activities, radii=labels, snap_distance=network.snap_distance, beta=beta
        )
    with stage("mix"):
        mix = land_use_mix(access)
    with stage("catchment"):
        reach, off = _people_reach(net, people, labels, network.snap_distance)
    with stage("density"):
        rasters = _surfaces(town, people, social)
    stage.close()
    nodes = pd.concat([access, mix, reach], axis=1)
    first = ("unknown_as_homes", "unknown_as_homes_buildings")
    report: dict[str, Any] = {k: prepared.report[k] for k in first}
    report.update(off)
    report.update({k: v for k, v in prepared.report.items() if k not in first})
    report["activities"] = len(town.activities)
    log.info(
        "social: %d nodes, %d buildings (%s), %.0f residents, %.0f jobs in %.1f s",
        len(nodes),
        int((~people["pseudo"]).sum()),
        prepared.population_method,
        float(people["residents"].sum()),
        float(people["jobs"].sum()),
        sum(stage.timings.values()),
    )
    return SocialLayer(
        nodes=nodes,
        buildings=people,
        rasters=rasters,
        population_method=prepared.population_method,
        report=report,
        timings=stage.timings,
    )


def _people_reach(
    net: StreetNetwork, people: gpd.GeoDataFrame, labels: list[int], snap_distance: float
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Residents and jobs within each radius of every node, and those off the network."""
    _check_network_crs(net, people.crs, "buildings")
    attached = attach_points(
        net,
        people.geometry.reset_index(drop=True),
        max_distance=_check_positive(snap_distance, "snap_distance"),
    )
    off = ~attached["attached"].to_numpy(dtype=bool)
    columns = ["residents", "jobs"]
    report = {f"{c}_off_network": float(people[c].to_numpy()[off].sum()) for c in columns}
    reach = _catchment(net, attached, people[columns], columns, labels, snap_distance)
    return reach, report


def _surfaces(town: Town, people: gpd.GeoDataFrame, social: SocialConfig) -> dict[str, Raster]:
    """The density surfaces of activities (by weight) and residents over the area."""
    cell, bandwidth = social.raster_cell, social.bandwidth
    activities = kernel_density(
        town.activities,
        weights=_activity_weights(town.activities),
        area=town.area,
        cell=cell,
        bandwidth=bandwidth,
    )
    residents = kernel_density(
        people.geometry, weights=people["residents"], area=town.area, cell=cell, bandwidth=bandwidth
    )
    return {
        indicator_name("soc", "activity_density"): activities,
        indicator_name("soc", "resident_density"): residents,
    }
