"""Small geometry helpers shared by the loaders, the layers and the synthesis."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from rakennettu.errors import CRSError

__all__ = ["as_area", "polygonal", "union_by_group"]


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


def union_by_group(geoms: np.ndarray, group: np.ndarray, n: int) -> np.ndarray:
    """The union of each group's geometries, in one GEOS call for all groups.

    Entry ``g`` is ``shapely.union_all(geoms[group == g])`` (the members in their order:
    the same union, vertex for vertex); a group without members is an empty collection.
    Should GEOS fail on a group, that group is unioned again on a 1 cm grid.

    Parameters
    ----------
    geoms
        Geometries.
    group
        The group (0 to ``n - 1``) of each geometry.
    n
        How many groups.

    Examples
    --------
    >>> from shapely import box
    >>> u = union_by_group(np.array([box(0, 0, 2, 2), box(5, 5, 6, 6), box(1, 0, 3, 2)]),
    ...                    np.array([0, 1, 0]), 3)
    >>> shapely.area(u).tolist()
    [6.0, 1.0, 0.0]
    """
    group = np.asarray(group, dtype=np.intp)
    order = np.argsort(group, kind="stable")
    counts = np.bincount(group, minlength=n)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.intp)
    rank = np.arange(len(group)) - starts[group[order]]
    table = np.full((n, max(int(counts.max(initial=0)), 1)), None, dtype=object)
    table[group[order], rank] = np.asarray(geoms, dtype=object)[order]
    try:
        return np.asarray(shapely.union_all(table, axis=1), dtype=object)
    except shapely.errors.GEOSException:
        out = np.empty(n, dtype=object)
        for g in range(n):
            try:
                out[g] = shapely.union_all(table[g])
            except shapely.errors.GEOSException:
                out[g] = shapely.union_all(table[g], grid_size=0.01)
        return out
