"""Kernel density surfaces of activities and residents (per km², for maps)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from rakennettu._geo import as_area
from rakennettu.crs import require_projected
from rakennettu.layers.social._common import _check_positive, _per_row, _points_of
from rakennettu.sources.municipal import Raster

if TYPE_CHECKING:
    pass

_M2_PER_KM2 = 1e6
_QUARTIC = "quartic"
_KDE_BATCH = 500_000  # kernel evaluations per batch (about 30 MB of temporaries)
# --------------------------------------------------------------------- density surfaces


def _bounds_of(area: Any, crs: CRS) -> tuple[float, float, float, float]:
    if isinstance(area, tuple | list) and len(area) == 4:
        minx, miny, maxx, maxy = (float(v) for v in area)
    else:
        geom = as_area(area, crs).iloc[0]
        if geom is None or geom.is_empty:
            raise ValueError("area is empty; give the study area polygon or its bounds")
        minx, miny, maxx, maxy = geom.bounds
    if not (maxx > minx and maxy > miny):
        raise ValueError(f"area must have a positive width and height, got {area!r}")
    return minx, miny, maxx, maxy


def kernel_density(
    points: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    area: BaseGeometry | gpd.GeoSeries | gpd.GeoDataFrame | tuple[float, float, float, float],
    cell: float,
    bandwidth: float,
    weights: pd.Series | Sequence[float] | None = None,
) -> Raster:
    """Kernel density of (weighted) points on a raster, per km².

    The quartic (biweight) kernel, as in QGIS's heatmap and ArcGIS's Kernel Density:
    ``K(d) = 3 / (π h²) · (1 - d² / h²)²`` for ``d < h`` and 0 beyond, where ``h`` is the
    ``bandwidth`` (the radius of a point's influence, metres). It integrates to 1 over
    the plane, so the density (times 10⁶ m² per km²) integrates over the raster to the
    total weight of the points whose reach lies inside it. It is evaluated at each
    pixel centre from the exact point positions.

    Parameters
    ----------
    points
        Points (polygons by a point on their surface), in a projected metric CRS. Points
        outside the raster contribute where their reach overlaps it.
    area
        The extent: a polygon (a shapely geometry in the points' CRS, or a
        GeoSeries/GeoDataFrame) or ``(minx, miny, maxx, maxy)``. Its bounds are grown
        to whole multiples of ``cell`` from the CRS origin, so surfaces of one town
        align pixel for pixel.
    cell
        Pixel size, metres.
    bandwidth
        Kernel radius ``h``, metres.
    weights
        Weight per point (e.g. residents); 1 each by default.

    Returns
    -------
    Raster
        float32 density per km² (rows north to south), the transform and CRS, and
        ``meta`` with the kernel, bandwidth, cell, unit and total weight.

    Examples
    --------
    One point in the middle of a 1 km square, 10 m pixels, 200 m bandwidth:

    >>> from shapely import Point, box
    >>> r = kernel_density(gpd.GeoSeries([Point(500, 500)], crs=3067),
    ...                    area=box(0, 0, 1000, 1000), cell=10, bandwidth=200)
    >>> r.array.shape, r.transform.c, r.transform.f
    ((100, 100), 0.0, 1000.0)
    >>> round(float(r.array.sum()) * 10 * 10 / 1e6, 3)  # integral: one point
    1.0
    """
    geometry = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
    if not isinstance(geometry, gpd.GeoSeries):
        raise TypeError(f"points must be a GeoDataFrame or GeoSeries, got {type(points).__name__}")
    crs = require_projected(geometry.crs, "points")
    if not isinstance(area, BaseGeometry | tuple | list):
        require_projected(area.crs, "area")
    c = _check_positive(cell, "cell")
    h = _check_positive(bandwidth, "bandwidth")
    minx, miny, maxx, maxy = _bounds_of(area, crs)
    left, bottom = math.floor(minx / c) * c, math.floor(miny / c) * c
    right, top = math.ceil(maxx / c) * c, math.ceil(maxy / c) * c
    width = max(1, round((right - left) / c))
    height = max(1, round((top - bottom) / c))
    from rasterio.transform import from_origin

    transform = from_origin(left, top, c, c)
    pts = _points_of(geometry)
    w = np.ones(len(pts)) if weights is None else _per_row(weights, geometry.index, "weights")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite and >= 0")
    geoms = pts.to_numpy()
    usable = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) & (w > 0)
    xy = shapely.get_coordinates(geoms[usable])
    w = w[usable]
    near = (
        (xy[:, 0] > left - h) & (xy[:, 0] < right + h)
        & (xy[:, 1] > bottom - h) & (xy[:, 1] < top + h)
    )  # fmt: skip
    xy, w = xy[near], w[near]
    k = math.ceil(h / c)
    dr, dc = (
        a.ravel() for a in np.meshgrid(np.arange(-k, k + 1), np.arange(-k, k + 1), indexing="ij")
    )
    norm = 3.0 / (math.pi * h * h)
    total = np.zeros(height * width)
    chunk = max(1, _KDE_BATCH // dr.size)  # points per batch: bounded memory
    for s in range(0, len(xy), chunk):
        x, y, ww = xy[s : s + chunk, 0], xy[s : s + chunk, 1], w[s : s + chunk]
        row0 = np.floor((top - y) / c).astype(np.int64)
        col0 = np.floor((x - left) / c).astype(np.int64)
        rows = row0[:, None] + dr[None, :]
        cols = col0[:, None] + dc[None, :]
        px = left + (cols + 0.5) * c
        py = top - (rows + 0.5) * c
        u = ((px - x[:, None]) ** 2 + (py - y[:, None]) ** 2) / (h * h)
        keep = (u < 1.0) & (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
        vals = (ww[:, None] * norm * (1.0 - u) ** 2)[keep]
        total += np.bincount((rows * width + cols)[keep], weights=vals, minlength=height * width)
    density = (total * _M2_PER_KM2).reshape(height, width).astype(np.float32)
    meta = {
        "kernel": _QUARTIC,
        "bandwidth_m": h,
        "cell_m": c,
        "unit": "per km2",
        "points": len(xy),
        "total_weight": float(w.sum()),
    }
    return Raster(array=density, transform=transform, crs=crs, source="", meta=meta)


def _activity_weights(activities: pd.DataFrame) -> pd.Series:
    if "weight" not in activities:
        return pd.Series(1.0, index=activities.index)
    return pd.to_numeric(activities["weight"], errors="coerce").fillna(1.0)
