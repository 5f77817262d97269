"""Small geometry and CRS checks shared by the layers and the synthesis.

Private: the public CRS helpers belong in ``rakennettu.crs`` (see docs/DEVELOPING.md);
these stay here until that module lands, then become thin calls to it.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from rakennettu.errors import CRSError

__all__ = ["as_area", "polygonal", "require_projected", "same_crs"]


def require_projected(crs: Any, what: str) -> pyproj.CRS:
    """Return ``crs`` as a :class:`pyproj.CRS`, or raise unless it is projected in metres.

    Examples
    --------
    >>> require_projected("EPSG:3067", "buildings").to_epsg()
    3067
    >>> require_projected("EPSG:4326", "buildings")
    Traceback (most recent call last):
    ...
    rakennettu.errors.CRSError: buildings: geographic CRS (EPSG:4326)...
    """
    if crs is None:
        raise CRSError(
            f"{what}: no CRS is set; set the town's metric CRS, e.g. gdf.set_crs(3067) "
            "if the coordinates are already in ETRS-TM35FIN"
        )
    crs = pyproj.CRS.from_user_input(crs)
    if crs.is_geographic:
        raise CRSError(
            f"{what}: geographic CRS ({crs.to_string()}), so areas and lengths would be "
            "in degrees; project to a metric CRS first, e.g. gdf.to_crs(3067) in Finland"
        )
    units = {axis.unit_name for axis in crs.axis_info}
    if not units <= {"metre", "meter"}:
        raise CRSError(
            f"{what}: CRS measured in {', '.join(sorted(units))} ({crs.to_string()}); "
            "project to a metric CRS, e.g. gdf.to_crs(3067)"
        )
    return crs


def same_crs(**layers: Any) -> pyproj.CRS:
    """Check that every named layer is in one projected metric CRS and return that CRS.

    Layers are anything with a ``.crs`` (GeoDataFrame, GeoSeries); None and bare
    shapely geometries (which carry no CRS) are skipped. Raises :class:`CRSError`
    naming the layers that differ.

    Examples
    --------
    >>> a = gpd.GeoSeries([], crs=3067)
    >>> same_crs(buildings=a, streets=a, barriers=None).to_epsg()
    3067
    >>> same_crs(buildings=a, streets=a.to_crs(3857))
    Traceback (most recent call last):
    ...
    rakennettu.errors.CRSError: streets: not in the CRS of buildings (EPSG:3067)...
    """
    crss = {
        name: require_projected(layer.crs, name)
        for name, layer in layers.items()
        if layer is not None and not isinstance(layer, BaseGeometry)
    }
    first_name, first = next(iter(crss.items()))
    differ = [name for name, crs in crss.items() if crs != first]
    if differ:
        raise CRSError(
            f"{', '.join(differ)}: not in the CRS of {first_name} ({first.to_string()}); "
            "project every layer to the town CRS with .to_crs(...)"
        )
    return first


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
