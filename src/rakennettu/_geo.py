"""Small geometry helpers shared by the loaders, the layers and the synthesis."""

from __future__ import annotations

import itertools
from typing import Any

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from rakennettu.errors import CRSError

__all__ = ["as_area", "intersections", "polygonal"]


def as_area(
    area: BaseGeometry | gpd.GeoSeries | gpd.GeoDataFrame, crs: Any, what: str = "area"
) -> gpd.GeoSeries:
    """Return the study area as a one-row GeoSeries in ``crs``.

    A shapely geometry is taken to be in ``crs``; a GeoSeries or GeoDataFrame must
    already be in it (its parts are unioned).
    """
    if isinstance(area, BaseGeometry):
        return gpd.GeoSeries([area], crs=crs)
    if area.crs is None or pyproj.CRS.from_user_input(area.crs) != pyproj.CRS.from_user_input(crs):
        raise CRSError(
            f"{what}: CRS {area.crs} is not the layers' CRS {crs}; use {what}.to_crs(...)"
        )
    return gpd.GeoSeries([area.geometry.union_all()], crs=crs)


def polygonal(geometry: gpd.GeoSeries) -> gpd.GeoSeries:
    """Return valid polygonal geometries, same index; empty where nothing is left.

    Invalid footprints are repaired with ``shapely.make_valid(method="structure")``,
    dropping parts that collapsed to lines or points; non-polygonal parts are dropped.

    Examples
    --------
    >>> from shapely import Polygon
    >>> bowtie = Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    >>> polygonal(gpd.GeoSeries([bowtie])).area.tolist()
    [2.0]
    """
    geoms = np.asarray(geometry.array, dtype=object).copy()
    bad = ~shapely.is_valid(geoms) & ~shapely.is_missing(geoms)
    if bad.any():
        geoms[bad] = shapely.make_valid(geoms[bad], method="structure", keep_collapsed=False)
    kind = shapely.get_type_id(geoms)
    mixed = ~np.isin(kind, [-1, 3, 6])  # missing, Polygon, MultiPolygon
    for i in np.flatnonzero(mixed):
        parts = shapely.get_parts(geoms[i])
        parts = parts[np.isin(shapely.get_type_id(parts), [3, 6])]
        geoms[i] = shapely.union_all(parts) if len(parts) else shapely.Polygon()
    geoms[shapely.is_missing(geoms)] = shapely.Polygon()
    return gpd.GeoSeries(geoms, index=geometry.index, crs=geometry.crs)


#: Pairs from which :func:`intersections` splits the work over threads.
THREADED_FROM = 20_000


def intersections(a: np.ndarray, b: np.ndarray, *, threads: int | None = None) -> np.ndarray:
    """``shapely.intersection(a, b)``, element by element, on several threads when long.

    Shapely releases the GIL in its array functions, so the halves of a long pair of
    arrays are intersected at once on two cores. Each element is GEOS's own result, as
    in one call. ``threads``: default the cores this process may use, at most 4.

    Examples
    --------
    >>> from shapely import box
    >>> a = np.array([box(0, 0, 2, 2)] * 3)
    >>> b = np.array([box(1, 1, 3, 3), box(5, 5, 6, 6), box(0, 0, 1, 1)])
    >>> [g.area for g in intersections(a, b, threads=2)]
    [1.0, 0.0, 1.0]
    """
    import os
    from concurrent.futures import ThreadPoolExecutor

    n = len(a)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    k = threads if threads is not None else min(4, cores or 1)
    if k < 2 or (threads is None and n < THREADED_FROM):
        return shapely.intersection(a, b)
    bounds = np.linspace(0, n, k + 1).astype(int)
    with ThreadPoolExecutor(k) as pool:
        parts = pool.map(lambda s: shapely.intersection(a[s], b[s]), _slices(bounds))
        return np.concatenate(list(parts))


def _slices(bounds: np.ndarray) -> list[slice]:
    return [slice(int(lo), int(hi)) for lo, hi in itertools.pairwise(bounds)]
