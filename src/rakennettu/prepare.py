"""The prepare stage: what every layer reads about the buildings, derived once per town.

Floors, heights and floor areas of the buildings, and the residents and jobs they hold,
are assumptions about the data (a storey height, a floor count where none is mapped,
floor area per person). They are made here, once, from the workflow's ``[form]`` and
``[social]`` sections; the morphological, social and cultural layers and the viewshed
then only read the columns of :class:`Prepared`, so every layer rests on the same
numbers.

Per building, in order:

floors (``morph_floors``, ``morph_floors_source``)
    The ``floors`` column when it is a positive number; else ``height`` (m) divided by
    ``storey_height`` and rounded down, but never below one floor; else
    ``default_floors`` (:func:`rakennettu.layers.form.estimate_floors`).
height (``height``, ``height_source``)
    The ``height`` column (m) when positive; else floors × ``storey_height``
    (:func:`rakennettu.layers.viewshed.building_heights`).
floor area (``floor_area``, ``residential_floor_area``, ``job_floor_area``)
    Footprint area (m², repaired) × floors; wholly residential or workplace by the
    building's use (:func:`rakennettu.layers.social.floor_areas`), buildings of unknown
    use counted as homes by ``unknown_as_homes``.
residents and jobs (``residents``, ``jobs``, ``population_method``)
    A population grid shared among the buildings by floor area where the town has one
    (:func:`rakennettu.layers.social.allocate_population`), else residential floor area /
    ``m2_per_resident`` and workplace floor area / ``m2_per_job``
    (:func:`rakennettu.layers.social.estimate_population`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from rakennettu._geo import polygonal
from rakennettu._timing import Stages
from rakennettu.config import FormConfig, SocialConfig
from rakennettu.crs import require_projected
from rakennettu.layers.form import FLOORS, estimate_floors
from rakennettu.layers.social import (
    POPULATION_METHODS,
    allocate_population,
    estimate_population,
    floor_areas,
    homes_of_unknown_use,
)
from rakennettu.layers.viewshed import building_heights

if TYPE_CHECKING:
    from rakennettu.town import Town

__all__ = ["Prepared", "prepare", "prepare_buildings"]

log = logging.getLogger(__name__)

_VALUE_COLUMNS = ("residents", "jobs")


def prepare_buildings(
    buildings: gpd.GeoDataFrame,
    form: FormConfig,
    *,
    residential_uses: tuple[str, ...] | None = None,
    job_uses: tuple[str, ...] | None = None,
    homes: pd.Series | None = None,
) -> gpd.GeoDataFrame:
    """Floors, height and floor area of each building.

    Parameters
    ----------
    buildings
        Footprints with ``floors``, ``height`` (m) and ``use`` where known (a missing
        column counts as unknown), in a projected metric CRS.
    form
        The workflow's ``[form]`` section: ``storey_height`` (m) and ``default_floors``.
    residential_uses, job_uses
        Uses whose floor area houses residents and jobs (the ``[social]`` section's);
        None: the columns ``residential_floor_area`` and ``job_floor_area`` are left out.
    homes
        Buildings counted as homes whatever their use (boolean, buildings' index).

    Returns
    -------
    geopandas.GeoDataFrame
        On the index of ``buildings``, with their footprints: ``morph_floors`` (storeys),
        ``morph_floors_source`` (``floors``, ``height`` or ``assumed``), ``height`` (m),
        ``height_source`` (``height``, ``floors`` or ``assumed``), ``floor_area`` (m²)
        and, with the uses, ``residential_floor_area`` and ``job_floor_area`` (m²).

    Examples
    --------
    >>> from shapely import box
    >>> b = gpd.GeoDataFrame({"floors": [2.0, np.nan], "height": [np.nan, 10.0]},
    ...                      geometry=[box(0, 0, 10, 10)] * 2, crs=3067)
    >>> prepare_buildings(b, FormConfig(storey_height=3.0, default_floors=1.0)).drop(
    ...     columns="geometry")
       morph_floors morph_floors_source  height height_source  floor_area
    0           2.0              floors     6.0        floors       200.0
    1           3.0              height    10.0        height       300.0
    """
    require_projected(buildings.crs, "buildings")
    floors = estimate_floors(
        buildings, storey_height=form.storey_height, default_floors=form.default_floors
    )
    heights = building_heights(buildings, storey_height=form.storey_height, floors=floors)
    areas = floor_areas(
        buildings,
        residential_uses=residential_uses or (),
        job_uses=job_uses or (),
        homes=homes,
        floors=floors[FLOORS],
    )
    if residential_uses is None or job_uses is None:
        areas = areas[["floor_area"]]
    table = pd.concat([floors, heights, areas], axis=1)
    return gpd.GeoDataFrame(table, geometry=buildings.geometry.copy(), crs=buildings.crs)


@dataclass(frozen=True, eq=False)
class Prepared:
    """What the layers read about a town's buildings, as :func:`prepare` derives it.

    Attributes
    ----------
    buildings
        On the index of ``town.buildings``, with their footprints: the columns of
        :func:`prepare_buildings` (floors, height, floor areas), ``residents`` and
        ``jobs`` (persons), ``population_method`` and ``in_area``.
    people
        Where the residents and jobs are counted: the buildings (on their index, then any
        pseudo buildings of a population grid, see
        :func:`rakennettu.layers.social.allocate_population`), with ``floor_area``,
        ``residential_floor_area``, ``job_floor_area`` (m²), ``residents``, ``jobs``,
        ``population_method`` (per row), ``pseudo``, ``grid_cell``, ``in_area``, and as
        geometry a point on each footprint.
    population_method
        How residents and jobs were obtained for the town: ``"grid"``,
        ``"grid_residents"``, ``"grid_jobs"`` or ``"floor_area"``; with ``"+floor_area"``
        appended when some buildings lie outside the grid's extent.
    report
        ``unknown_as_homes`` (the rule) and ``unknown_as_homes_buildings``, then the
        totals ``residents``, ``jobs``, ``pseudo_buildings`` and
        ``population_method_rows``.
    timings
        Seconds per step.
    """

    buildings: gpd.GeoDataFrame
    people: gpd.GeoDataFrame
    population_method: str
    report: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def prepare(
    town: Town, form: FormConfig, social: SocialConfig, *, progress: bool = False
) -> Prepared:
    """Derive the buildings' floors, heights, floor areas, residents and jobs once.

    Parameters
    ----------
    town
        The loaded town: ``buildings``, ``population`` (or None), ``features``,
        ``context`` and ``area`` are read.
    form
        The ``[form]`` section (``storey_height``, ``default_floors``).
    social
        The ``[social]`` section (``residential_uses``, ``job_uses``,
        ``unknown_as_homes``, ``m2_per_resident``, ``m2_per_job``).
    progress
        Show a progress bar over the steps.

    Returns
    -------
    Prepared

    Examples
    --------
    >>> from rakennettu.config import FormConfig, SocialConfig
    >>> town = kotka_town()  # load_town("kotka-karhula"), loaded once for all doctests
    >>> prep = prepare(town, FormConfig(), SocialConfig())
    >>> prep.population_method, prep.buildings.index.equals(town.buildings.index)
    ('floor_area', True)
    """
    stage = Stages("prepare", log, total=2, progress=progress)
    with stage("floor area"):
        homes = homes_of_unknown_use(town, social.unknown_as_homes)
        table = prepare_buildings(
            town.buildings,
            form,
            residential_uses=social.residential_uses,
            job_uses=social.job_uses,
            homes=homes,
        )
    with stage("population"):
        areas = table[["floor_area", "residential_floor_area", "job_floor_area"]]
        people, method = _population(town, pd.DataFrame(areas), social)
        in_area = np.array(people.geometry.within(town.area), dtype=bool)
        if "in_area" in town.buildings:
            known = town.buildings["in_area"].to_numpy(dtype=bool)
            in_area[: len(known)] = known
        people["in_area"] = in_area
    stage.close()
    own = people.loc[town.buildings.index]
    table = table.assign(
        residents=own["residents"].to_numpy(),
        jobs=own["jobs"].to_numpy(),
        population_method=own["population_method"].array,
        in_area=own["in_area"].to_numpy(),
    )
    report: dict[str, Any] = {
        "unknown_as_homes": social.unknown_as_homes,
        "unknown_as_homes_buildings": int(homes.sum()),
        **_population_report(people),
    }
    return Prepared(table, people, method, report, dict(stage.timings))


def _population(
    town: Town, areas: pd.DataFrame, social: SocialConfig
) -> tuple[gpd.GeoDataFrame, str]:
    """Residents and jobs per building (and pseudo building), and the method overall."""
    buildings = town.buildings
    estimate = estimate_population(
        areas, m2_per_resident=social.m2_per_resident, m2_per_job=social.m2_per_job
    )
    grid = town.population
    grid_cols = [c for c in _VALUE_COLUMNS if grid is not None and c in grid]
    if grid is None or not grid_cols:
        out = gpd.GeoDataFrame(
            areas.join(estimate),
            geometry=gpd.GeoSeries(
                shapely.point_on_surface(polygonal(buildings.geometry).to_numpy()),
                index=buildings.index,
                crs=buildings.crs,
            ),
        )
        out["population_method"] = "floor_area"
        out["pseudo"] = False
        out["grid_cell"] = pd.Series(pd.NA, index=out.index, dtype=object)
        return _ordered(out), "floor_area"
    alloc = allocate_population(
        buildings,
        grid,
        floor_area=areas["floor_area"],
        residential_mask=areas["residential_floor_area"] > 0,
        job_mask=areas["job_floor_area"] > 0,
        within=town.context,
    )
    grid_method = "grid" if len(grid_cols) == 2 else f"grid_{grid_cols[0]}"
    covered = alloc["covered"].to_numpy(dtype=bool)
    out = alloc.drop(columns=["covered"])
    for c in _VALUE_COLUMNS:
        est = estimate[c].reindex(out.index, fill_value=0.0).to_numpy()
        out[c] = np.where(covered, out[c].to_numpy(), est) if c in grid_cols else est
    out["population_method"] = np.where(covered, grid_method, "floor_area")
    n_out = int((~covered).sum())
    if n_out:
        log.info(
            "%d of %d buildings lie outside the population grid: estimated from floor area",
            n_out,
            len(buildings),
        )
    full = areas.reindex(out.index, fill_value=0.0)
    for c in areas.columns:
        out[c] = full[c].to_numpy()
    method = grid_method if n_out == 0 else f"{grid_method}+floor_area"
    return _ordered(out), method


def _ordered(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    first = [
        "floor_area",
        "residential_floor_area",
        "job_floor_area",
        "residents",
        "jobs",
        "population_method",
        "pseudo",
        "grid_cell",
    ]
    rest = [c for c in frame.columns if c not in first]
    out = frame[first + rest].copy()
    out["population_method"] = pd.Categorical(
        out["population_method"], categories=POPULATION_METHODS
    )
    return out


def _population_report(people: gpd.GeoDataFrame) -> dict[str, Any]:
    methods = people["population_method"].value_counts()
    return {
        "residents": float(people["residents"].sum()),
        "jobs": float(people["jobs"].sum()),
        "pseudo_buildings": int(people["pseudo"].sum()),
        "population_method_rows": {str(k): int(v) for k, v in methods.items() if v},
    }
