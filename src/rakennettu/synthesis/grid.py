"""The analysis grid: regular hexagons over the study area, and values aggregated to it.

Hexagons are *pointy-topped* (a vertex points north; rows run east–west and every
other row is offset by half a cell). ``cell_size`` is the side length ``s`` in metres,
which is also the distance from the centre to a vertex: a cell covers
``3 √3 / 2 · s²`` m², is ``√3 · s`` wide and ``2 s`` tall, and rows are ``1.5 s``
apart.

The lattice is anchored at the origin of the CRS, and a cell's id ``"<q>_<r>"`` is its
axial coordinate on that lattice: the same place and size give the same id in every
run, and two areas in one CRS share ids where they overlap.
"""

from __future__ import annotations

from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from rakennettu._geo import as_area, intersections
from rakennettu.crs import require_projected, same_crs
from rakennettu.errors import CRSError
from rakennettu.naming import parse_name

__all__ = ["aggregate_to_grid", "hex_grid"]

HEX_ID = "hex_id"

# Vertex offsets of a pointy-topped hexagon around its centre, counter-clockwise from
# east-north-east, in units of half the width (x) and half the side (y). Vertices are
# computed from integers on this lattice, so neighbours share them exactly.
_DX = np.array([1, 0, -1, -1, 0, 1, 1])
_DY = np.array([1, 2, 1, -1, -2, -1, 1])


def hex_grid(
    area: BaseGeometry | gpd.GeoSeries | gpd.GeoDataFrame,
    cell_size: float,
    *,
    crs: Any = None,
) -> gpd.GeoDataFrame:
    """Pointy-topped hexagons of side ``cell_size`` metres covering ``area``.

    Every hexagon that shares some area with ``area`` is kept whole, so the cells
    cover the area completely and overlap each other nowhere.

    Parameters
    ----------
    area
        The study area: a GeoSeries or GeoDataFrame (its parts are unioned), or a
        shapely geometry together with ``crs``.
    cell_size
        Side length of a hexagon, metres (centre to vertex).
    crs
        The CRS of a shapely ``area``; ignored for a GeoSeries or GeoDataFrame.

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed ``hex_id`` (``"<q>_<r>"``), with the integer axial coordinates ``q``
        and ``r``, ordered south to north, then west to east.

    Examples
    --------
    >>> from shapely import box
    >>> grid = hex_grid(box(0, 0, 300, 200), 100, crs=3067)
    >>> len(grid), round(grid.area.iloc[0])
    (5, 25981)
    >>> grid.index[:3].tolist()
    ['0_0', '1_0', '2_0']
    """
    if cell_size <= 0 or not np.isfinite(cell_size):
        raise ValueError(f"cell_size must be a positive number of metres, got {cell_size!r}")
    if isinstance(area, BaseGeometry):
        if crs is None:
            raise CRSError("area is a bare shapely geometry; pass its CRS, e.g. crs=3067")
        require_projected(crs, "area")
        region = as_area(area, crs)
    else:
        crs = require_projected(area.crs, "area")
        region = as_area(area, crs)
    shape = region.iloc[0]
    if shape is None or shape.is_empty:
        return _empty_grid(crs)
    s = float(cell_size)
    half_w, half_s = np.sqrt(3.0) * s / 2, s / 2
    minx, miny, maxx, maxy = shape.bounds
    rows = np.arange(np.floor(miny / (1.5 * s)) - 1, np.ceil(maxy / (1.5 * s)) + 2, dtype=np.int64)
    cols = np.arange(
        np.floor(minx / (2 * half_w)) - 1, np.ceil(maxx / (2 * half_w)) + 2, dtype=np.int64
    )
    c, r = (a.ravel() for a in np.meshgrid(cols, rows))
    q = c - (r - (r & 1)) // 2  # odd rows shift east by half a cell
    xs = half_w * ((2 * q + r)[:, None] + _DX)
    ys = half_s * ((3 * r)[:, None] + _DY)  # centre + offset, in lattice units
    hexes = shapely.polygons(np.stack([xs, ys], axis=-1))
    shapely.prepare(shape)
    keep = shapely.intersects(shape, hexes) & ~shapely.touches(shape, hexes)
    ids = pd.Index([f"{a}_{b}" for a, b in zip(q[keep], r[keep], strict=True)], name=HEX_ID)
    return gpd.GeoDataFrame({"q": q[keep], "r": r[keep]}, geometry=hexes[keep], index=ids, crs=crs)


def aggregate_to_grid(
    values: gpd.GeoDataFrame,
    grid: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    how: Literal["mean", "sum"] = "mean",
    columns: list[str] | None = None,
) -> pd.DataFrame:
    """Aggregate the values of points, lines or polygons to grid cells.

    Polygons (buildings, tessellation cells) are weighted by the area they share with
    each grid cell, lines by the length inside it; a point goes to the one cell that
    contains it (the first in grid order when it sits on a shared edge).

    - ``how="mean"``: the weighted mean; for polygons the area-weighted mean of an
      intensive value (coverage, FAR, shape), for points their plain mean. NaN where
      the cell holds no value.
    - ``how="sum"``: the total; a polygon or line adds the share of its value that lies
      in the cell (its value × inside area / its area), for extensive values (floor
      area, counts); points add their values. 0 where the cell holds nothing.

    Missing values (NaN) are left out of both.

    Parameters
    ----------
    values
        Features with numeric columns, all points, all lines or all polygons, in the
        grid's CRS.
    grid
        Grid cells, e.g. from :func:`hex_grid`.
    how
        ``"mean"`` or ``"sum"``.
    columns
        Columns to aggregate. By default every numeric (or boolean) indicator column,
        i.e. named like ``morph_cell_coverage`` (see :mod:`rakennettu.naming`), so
        identifiers such as ``building_id`` are never averaged by accident.

    Returns
    -------
    pandas.DataFrame
        On the index of ``grid``, one float column per aggregated column.

    Examples
    --------
    A 10 m square of coverage 0.5 lying half in each of two cells:

    >>> from shapely import box
    >>> grid = gpd.GeoSeries([box(0, 0, 10, 10), box(10, 0, 20, 10)], crs=3067)
    >>> cells = gpd.GeoDataFrame(
    ...     {"building_id": [7], "morph_cell_coverage": [0.5], "morph_floor_area": [80.0]},
    ...     geometry=[box(5, 0, 15, 10)], crs=3067)
    >>> aggregate_to_grid(cells, grid, how="mean")
       morph_cell_coverage  morph_floor_area
    0                  0.5              80.0
    1                  0.5              80.0
    >>> aggregate_to_grid(cells, grid, how="sum")["morph_floor_area"].tolist()
    [40.0, 40.0]
    """
    if how not in ("mean", "sum"):
        raise ValueError(f"how must be 'mean' or 'sum', got {how!r}")
    same_crs(grid=grid, values=values)
    if columns is None:
        columns = [
            c
            for c in values.columns
            if _is_indicator(c)
            and (pd.api.types.is_numeric_dtype(values[c]) or pd.api.types.is_bool_dtype(values[c]))
        ]
    data = values[columns].to_numpy(dtype=float, na_value=np.nan)
    cell_geoms = grid.geometry.to_numpy()
    geoms = values.geometry.to_numpy()
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    kinds = set(shapely.get_type_id(geoms[present]).tolist())
    tree = shapely.STRtree(cell_geoms)
    feature, cell = tree.query(geoms[present], predicate="intersects")
    feature = np.flatnonzero(present)[feature]
    if kinds <= {0, 4}:  # points
        order = np.lexsort((cell, feature))
        feature, cell = feature[order], cell[order]
        feature, first = np.unique(feature, return_index=True)
        cell = cell[first]
        weight = np.ones(len(feature))
        share = weight
    elif kinds <= {1, 2, 5} or kinds <= {3, 6}:  # lines or polygons
        measure = shapely.area if kinds <= {3, 6} else shapely.length
        weight = measure(intersections(geoms[feature], cell_geoms[cell]))
        with np.errstate(invalid="ignore", divide="ignore"):
            share = weight / measure(geoms[feature])
    else:
        raise TypeError(
            "values must be all points, all lines or all polygons; got geometry types "
            + ", ".join(sorted(set(values.geom_type[present].astype(str))))
        )
    v = data[feature]
    known = ~np.isnan(v)
    v = np.where(known, v, 0.0)
    if how == "sum":
        result = _sum_by(cell, v * share[:, None], len(cell_geoms))
    else:
        num = _sum_by(cell, v * weight[:, None], len(cell_geoms))
        den = _sum_by(cell, known * weight[:, None], len(cell_geoms))
        with np.errstate(invalid="ignore", divide="ignore"):
            result = np.where(den > 0, num / den, np.nan)
    return pd.DataFrame(result, index=grid.index, columns=pd.Index(columns))


def _is_indicator(name: Any) -> bool:
    try:
        parse_name(str(name))
    except ValueError:
        return False
    return True


def _sum_by(group: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros((n, values.shape[1]))
    np.add.at(out, group, values)
    return out


def _empty_grid(crs: Any) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"q": pd.Series(dtype=np.int64), "r": pd.Series(dtype=np.int64)},
        geometry=gpd.GeoSeries([], crs=crs),
        index=pd.Index([], dtype=object, name=HEX_ID),
        crs=crs,
    )
