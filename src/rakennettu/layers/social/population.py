"""Residents and jobs per building: floor areas by use, estimates, a population grid.

Floor areas by use, estimates per m² of floor area, and a population grid shared among
the buildings (dasymetric mapping).

The run derives them once, in :func:`rakennettu.prepare.prepare`; these are its rules.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from rakennettu._geo import polygonal
from rakennettu.config import SocialConfig
from rakennettu.crs import require_projected
from rakennettu.errors import CRSError
from rakennettu.layers.form import DEFAULT_FLOORS, FLOORS, STOREY_HEIGHT, estimate_floors
from rakennettu.layers.social._common import F64, _check_positive, _per_row
from rakennettu.sources.landuse import residential_landuse, unknown_homes

if TYPE_CHECKING:
    from rakennettu.town import Town

log = logging.getLogger(__name__)


RESIDENTIAL_USES: tuple[str, ...] = SocialConfig().residential_uses
"""Building uses (``data/taxonomy/building_use.toml``) whose floor area houses residents.

``unknown`` (OSM ``building=yes``) is left out: in small towns such footprints are mostly
sheds, saunas and garages. Where a town's homes are mostly tagged ``building=yes``
(central Helsinki), pass ``residential_uses=("residential", "unknown")``.
"""

JOB_USES: tuple[str, ...] = SocialConfig().job_uses
"""Building uses whose floor area is counted as workplaces when jobs are estimated
(the workflow's default ``[social] job_uses``).

Left out: ``residential`` (homes), ``religious`` and ``sport`` (large halls with few
staff per m²), ``parking`` and ``other`` (garages, sheds, saunas, cottages), and
``unknown``.
"""

UnknownHomes = Literal["never", "residential_landuse", "always"]
UNKNOWN_HOMES: tuple[str, ...] = ("never", "residential_landuse", "always")
"""Rules for buildings of unknown use (``building=yes``) counted as homes."""

POPULATION_METHODS: tuple[str, ...] = ("grid", "grid_residents", "grid_jobs", "floor_area")
"""Values of ``population_method``: both values from the grid; residents (or jobs) from
the grid and the other estimated from floor area; both estimated from floor area."""

_VALUE_COLUMNS = ("residents", "jobs")

# ----------------------------------------------------------------- residents and jobs


def floor_areas(
    buildings: gpd.GeoDataFrame,
    *,
    storey_height: float = STOREY_HEIGHT,
    default_floors: float = DEFAULT_FLOORS,
    residential_uses: Sequence[str] = RESIDENTIAL_USES,
    job_uses: Sequence[str] = JOB_USES,
    homes: pd.Series | None = None,
    floors: pd.Series | None = None,
) -> pd.DataFrame:
    """Floor area of each building, and the part that houses residents or jobs.

    Floor area is the (repaired) footprint area times the floors of
    :func:`rakennettu.layers.form.estimate_floors`, as ``morph_floor_area``. A building
    counts wholly as residential or as workplace by its ``use`` (missing: unknown).

    Parameters
    ----------
    buildings
        Footprints with ``use``, ``floors`` and ``height``, in a projected metric CRS.
    storey_height, default_floors
        See :func:`rakennettu.layers.form.estimate_floors`.
    residential_uses
        Uses that house residents (default :data:`RESIDENTIAL_USES`).
    job_uses
        Uses counted as workplaces (default :data:`JOB_USES`).
    homes
        Boolean per building (on its index): counted as homes whatever their use, e.g.
        buildings of unknown use in residential land use
        (:func:`rakennettu.sources.landuse.unknown_homes`).
    floors
        Floors per building already estimated (on its index, as
        :func:`rakennettu.prepare.prepare` passes them); then ``storey_height`` and
        ``default_floors`` are not used.

    Returns
    -------
    pandas.DataFrame
        On the index of ``buildings``: ``floor_area``, ``residential_floor_area`` and
        ``job_floor_area``, m².

    Examples
    --------
    >>> from shapely import box
    >>> b = gpd.GeoDataFrame({"use": ["residential", "office", "unknown"],
    ...                       "floors": [3.0, 2.0, np.nan], "height": np.nan},
    ...                      geometry=[box(0, 0, 10, 10)] * 3, crs=3067)
    >>> floor_areas(b)
       floor_area  residential_floor_area  job_floor_area
    0       300.0                   300.0             0.0
    1       200.0                     0.0           200.0
    2       100.0                     0.0             0.0
    """
    require_projected(buildings.crs, "buildings")
    footprint = polygonal(buildings.geometry).area.to_numpy()
    if floors is None:
        est = estimate_floors(buildings, storey_height=storey_height, default_floors=default_floors)
        floors = est[FLOORS]
    area = footprint * floors.to_numpy(dtype=float)
    if "use" in buildings:
        use = buildings["use"].astype(object).where(buildings["use"].notna(), "unknown")
    else:
        log.info("buildings have no 'use' column; every building counts as unknown")
        use = pd.Series("unknown", index=buildings.index, dtype=object)
    is_res = use.isin(list(residential_uses)).to_numpy()
    if homes is not None:
        is_res = is_res | homes.reindex(buildings.index, fill_value=False).to_numpy(dtype=bool)
    is_job = use.isin(list(job_uses)).to_numpy()
    return pd.DataFrame(
        {
            "floor_area": area,
            "residential_floor_area": np.where(is_res, area, 0.0),
            "job_floor_area": np.where(is_job, area, 0.0),
        },
        index=buildings.index,
    )


def estimate_population(
    areas: pd.DataFrame,
    *,
    m2_per_resident: float = SocialConfig().m2_per_resident,
    m2_per_job: float = SocialConfig().m2_per_job,
) -> pd.DataFrame:
    """Estimate residents and jobs of buildings from their floor area.

    ``residents = residential_floor_area / m2_per_resident`` and
    ``jobs = job_floor_area / m2_per_job``: a crude estimate where no population grid is
    given. Finnish homes average about 40 m² of floor area per resident; 35 m² of
    workplace floor area per job is a planning rule of thumb for offices and shops that
    overstates jobs in warehouses and halls.

    Parameters
    ----------
    areas
        ``residential_floor_area`` and ``job_floor_area`` in m², as :func:`floor_areas`
        makes.
    m2_per_resident
        Residential floor area per resident, m².
    m2_per_job
        Workplace floor area per job, m².

    Returns
    -------
    pandas.DataFrame
        On the index of ``areas``: ``residents`` and ``jobs`` (fractional persons).

    Examples
    --------
    >>> areas = pd.DataFrame({"residential_floor_area": [400.0, 0.0],
    ...                       "job_floor_area": [0.0, 700.0]})
    >>> estimate_population(areas, m2_per_resident=40.0, m2_per_job=35.0)
       residents  jobs
    0       10.0   0.0
    1        0.0  20.0
    """
    m2r = _check_positive(m2_per_resident, "m2_per_resident", "m²")
    m2j = _check_positive(m2_per_job, "m2_per_job", "m²")
    return pd.DataFrame(
        {
            "residents": areas["residential_floor_area"].to_numpy(dtype=np.float64) / m2r,
            "jobs": areas["job_floor_area"].to_numpy(dtype=np.float64) / m2j,
        },
        index=areas.index,
    )


def _pseudo_ids(existing: pd.Index, cells: pd.Index) -> pd.Index:
    """Row labels for pseudo buildings: negative integers, or ``"grid-<cell>"`` strings."""
    if pd.api.types.is_integer_dtype(existing.dtype) or len(existing) == 0:
        start = min(int(existing.min()) if len(existing) else 0, 0) - 1
        return pd.Index(np.arange(start, start - len(cells), -1, dtype=np.int64))
    taken = set(existing)
    labels = [f"grid-{c}" for c in cells]
    clash = [x for x in labels if x in taken]
    if clash:
        raise ValueError(f"buildings already use the labels {clash[:3]}; rename them")
    return pd.Index(labels, dtype=object)


def allocate_population(
    buildings: gpd.GeoDataFrame | gpd.GeoSeries,
    grid: gpd.GeoDataFrame,
    *,
    floor_area: pd.Series | Sequence[float],
    residential_mask: pd.Series | Sequence[bool],
    job_mask: pd.Series | Sequence[bool] | None = None,
    within: BaseGeometry | None = None,
) -> gpd.GeoDataFrame:
    """Share the people of a population grid among the buildings (dasymetric mapping).

    A building's footprint is cut by the grid cells; a cell's residents go to the pieces
    inside it in proportion to their floor area (the building's floor area times the
    share of its footprint in the cell), among the buildings of ``residential_mask``.
    Jobs likewise among those of ``job_mask``. A cell with people but no such floor area
    shares them among all its buildings by floor area; a cell with people and no
    building at all keeps them at a point (a *pseudo building* row, flagged ``pseudo``):
    the representative point of the cell's part within ``within``, else of the cell.
    Every cell's people are therefore kept: each column sums to the grid's total (up to
    float rounding). Cells reaching beyond the loaded buildings share their people among
    the buildings there are, so load buildings for the whole cells (or the context).

    Parameters
    ----------
    buildings
        Footprints, in a projected metric CRS.
    grid
        Grid cells (polygons) with ``residents`` and/or ``jobs`` (missing values count
        as 0), in the buildings' CRS.
    floor_area
        Floor area per building, m² (e.g. :func:`floor_areas`).
    residential_mask
        Which buildings house residents.
    job_mask
        Which buildings hold jobs; None: every building.
    within
        Where pseudo buildings may stand (the loaded context); optional.

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed like ``buildings``, then one row per pseudo building (negative integer
        labels below the smallest, or ``"grid-<cell>"`` for other indexes): the grid's
        value columns (``residents``, ``jobs``, persons), ``pseudo`` (bool),
        ``grid_cell`` (the cell of a pseudo row), ``covered`` (whether the building
        touches the grid's extent, the convex hull of its cells: outside it the grid
        says nothing) and the representative point of each footprint as geometry.

    Raises
    ------
    CRSError
        If the layers are not in one projected CRS.
    ValueError
        If the grid has neither ``residents`` nor ``jobs``, or negative values.

    Examples
    --------
    Two 100 m cells: the west one holds a house and a shop, the east one only a shed;
    a third cell holds no building at all.

    >>> from shapely import box
    >>> grid = gpd.GeoDataFrame({"residents": [30, 10, 5]}, geometry=[
    ...     box(0, 0, 100, 100), box(100, 0, 200, 100), box(200, 0, 300, 100)], crs=3067)
    >>> houses = gpd.GeoSeries([box(10, 10, 30, 30), box(50, 50, 70, 70),
    ...                         box(150, 50, 160, 60)], crs=3067)
    >>> out = allocate_population(houses, grid, floor_area=[400, 400, 100],
    ...                           residential_mask=[True, False, False])
    >>> out[["residents", "pseudo", "grid_cell"]]
        residents  pseudo  grid_cell
     0       30.0   False       <NA>
     1        0.0   False       <NA>
     2       10.0   False       <NA>
    -1        5.0    True          2
    """
    crs = require_projected(buildings.crs, "buildings")
    values = _grid_values(grid, crs)
    index = buildings.index
    area = _per_row(floor_area, index, "floor_area")
    area = np.where(np.isfinite(area) & (area > 0), area, 0.0)
    masks = {
        "residents": _per_row(residential_mask, index, "residential_mask", bool),
        "jobs": (
            np.ones(len(index), dtype=bool)
            if job_mask is None
            else _per_row(job_mask, index, "job_mask", bool)
        ),
    }
    footprints = polygonal(buildings.geometry).to_numpy()
    cells = polygonal(grid.geometry).to_numpy()
    pieces = _Pieces.of(footprints, cells, area)
    out: dict[str, F64] = {}
    pseudo_value: dict[str, F64] = {}
    needs_pseudo = np.zeros(len(cells), dtype=bool)
    for c, people in values.items():
        out[c], pseudo = pieces.share(people, masks[c], c)
        pseudo_value[c] = np.where(pseudo, people, 0.0)
        needs_pseudo |= pseudo
    hull = shapely.convex_hull(shapely.union_all(cells)) if len(cells) else shapely.Polygon()
    frame = pd.DataFrame(out, index=index.copy())
    frame["pseudo"] = False
    frame["grid_cell"] = pd.Series(pd.NA, index=frame.index, dtype=object)
    frame["covered"] = shapely.intersects(footprints, hull)
    geometry = list(shapely.point_on_surface(footprints))
    where = np.flatnonzero(needs_pseudo)
    if where.size:
        extra, points = _pseudo_rows(grid, cells, where, within, pseudo_value, index)
        frame = pd.concat([frame, extra])
        geometry += points
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometry, index=frame.index, crs=crs))


def _grid_values(grid: gpd.GeoDataFrame, crs: CRS) -> dict[str, F64]:
    """The grid's ``residents`` and ``jobs`` (missing as 0), checked: CRS, sign, finite."""
    grid_crs = require_projected(grid.crs, "grid")
    if grid_crs != crs:
        raise CRSError(
            f"grid: CRS {grid_crs.to_string()} is not the buildings' ({crs.to_string()}); "
            "reproject it with .to_crs(...)"
        )
    columns = [c for c in _VALUE_COLUMNS if c in grid]
    if not columns:
        raise ValueError(
            "grid has neither 'residents' nor 'jobs'; map them in the workflow's population "
            "layer, e.g. columns = { residents = 'asukkaita' }"
        )
    values: dict[str, F64] = {}
    for c in columns:
        v = pd.to_numeric(grid[c], errors="coerce").to_numpy(dtype=np.float64)
        if np.any(v < 0):
            raise ValueError(
                f"grid column {c!r} has {int((v < 0).sum())} negative values; recode "
                f"suppressed cells, e.g. values = {{ {c} = {{ -1 = nan }} }}"
            )
        if np.any(np.isinf(v)):
            raise ValueError(f"grid column {c!r} has infinite values")
        values[c] = np.nan_to_num(v, nan=0.0)
    return values


@dataclass(frozen=True)
class _Pieces:
    """Footprints cut by grid cells: building and cell of each piece, its floor area."""

    b_at: npt.NDArray[np.intp]
    c_at: npt.NDArray[np.intp]
    w_all: F64
    all_sum: F64
    nb: int
    nc: int

    @classmethod
    def of(cls, footprints: np.ndarray, cells: np.ndarray, area: F64) -> _Pieces:
        nb, nc = len(footprints), len(cells)
        b_at, c_at = shapely.STRtree(cells).query(footprints, predicate="intersects")
        fp_area = shapely.area(footprints)
        piece = shapely.area(shapely.intersection(footprints[b_at], cells[c_at]))
        share = np.divide(piece, fp_area[b_at], out=np.zeros_like(piece), where=fp_area[b_at] > 0)
        w_all = area[b_at] * share
        all_sum = np.asarray(np.bincount(c_at, weights=w_all, minlength=nc), dtype=np.float64)
        return cls(b_at, c_at, w_all, all_sum, nb, nc)

    def share(self, people: F64, mask: npt.NDArray[np.bool_], what: str) -> tuple[F64, np.ndarray]:
        """People per building, and the cells whose people no building takes.

        A cell's people go by the floor area of ``mask``, else of every building; the
        cells with neither keep them at a pseudo building.
        """
        b_at, c_at, w_all, all_sum = self.b_at, self.c_at, self.w_all, self.all_sum
        w_mask = w_all * mask[b_at]
        mask_sum = np.bincount(c_at, weights=w_mask, minlength=self.nc)
        by_mask = mask_sum > 0
        by_all = ~by_mask & (all_sum > 0)
        pseudo = (people > 0) & ~by_mask & ~by_all
        with np.errstate(invalid="ignore", divide="ignore"):
            alloc = np.where(
                by_mask[c_at],
                people[c_at] * w_mask / np.where(by_mask, mask_sum, 1.0)[c_at],
                np.where(
                    by_all[c_at], people[c_at] * w_all / np.where(by_all, all_sum, 1.0)[c_at], 0.0
                ),
            )
        log.info(
            "grid %s: %d cells shared by %s floor area, %d by all floor area, %d kept at "
            "pseudo buildings (%.0f of %.0f)",
            what,
            int((by_mask & (people > 0)).sum()),
            "residential" if what == "residents" else "workplace",
            int((by_all & (people > 0)).sum()),
            int(pseudo.sum()),
            float(people[pseudo].sum()),
            float(people.sum()),
        )
        per_building = np.bincount(b_at, weights=alloc, minlength=self.nb)
        return np.asarray(per_building, dtype=np.float64), pseudo


def _pseudo_rows(
    grid: gpd.GeoDataFrame,
    cells: np.ndarray,
    where: npt.NDArray[np.intp],
    within: BaseGeometry | None,
    values: dict[str, F64],
    index: pd.Index,
) -> tuple[pd.DataFrame, list[Any]]:
    """Rows and points of the pseudo buildings of the cells ``where``."""
    cell_geoms = cells[where]
    if within is not None:
        inside = shapely.intersection(cell_geoms, within)
        cell_geoms = np.where(shapely.is_empty(inside), cell_geoms, inside)
    labels = grid.index[where]
    extra = pd.DataFrame(
        {c: v[where] for c, v in values.items()},
        index=_pseudo_ids(index, pd.Index(labels)),
    )
    extra["pseudo"] = True
    extra["grid_cell"] = pd.Series(list(labels), index=extra.index, dtype=object)
    extra["covered"] = True
    return extra, list(shapely.point_on_surface(cell_geoms))


def homes_of_unknown_use(town: Town, rule: UnknownHomes) -> pd.Series:
    """Buildings of unknown use counted as homes under a rule (boolean, buildings' index).

    ``"never"``: none; ``"always"``: every building of unknown use;
    ``"residential_landuse"``: those inside OSM ``landuse=residential``
    (:func:`rakennettu.sources.landuse.unknown_homes`).
    """
    b = town.buildings
    if rule == "never":
        return pd.Series(False, index=b.index)
    if rule == "always":
        return unknown_homes(b, shapely.box(*b.total_bounds).buffer(1.0))
    if rule == "residential_landuse":
        return unknown_homes(b, residential_landuse(town.features))
    raise ValueError(f"unknown_homes must be one of {UNKNOWN_HOMES}, got {rule!r}")
