"""Building age: construction periods, their diversity within reach, and per hexagon."""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from rakennettu._geo import polygonal
from rakennettu.config import CulturalConfig
from rakennettu.crs import require_projected
from rakennettu.diversity import hill_numbers
from rakennettu.errors import CRSError
from rakennettu.layers.cultural._common import (
    F64,
    I64,
    _c,
    _check_crs,
    _node_frame,
    _numeric,
    _radii,
)
from rakennettu.network import (
    CatchmentItems,
    StreetNetwork,
    attach,
    catchments,
)

if TYPE_CHECKING:
    pass

DEFAULT_AGE_PERIODS: tuple[int, ...] = CulturalConfig().age_periods
"""Years splitting construction periods: the workflow's default ``[cultural] age_periods``."""

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
