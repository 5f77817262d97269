"""Analysis units: network values reach the hexagon cells from the street nodes.

A cell takes the mean of the values of the street nodes inside it. A cell with no node
inside takes the values of the nearest node within ``reach`` metres (a courtyard or a
park beside a street). Cells farther than that from any node are *marked* as without
access (``access = "none"``) and keep NaN values: they are not zeroed, so a lake does not
count as a place with poor accessibility.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd

from rakennettu.crs import same_crs
from rakennettu.naming import IndicatorDoc, indicator_name, parse_name
from rakennettu.synthesis.grid import aggregate_to_grid

__all__ = ["HEX_INDICATORS", "cells_from_nodes", "form_by_cell", "indicator_columns"]

log = logging.getLogger(__name__)

_SRC_BLD = "building footprints with floors (see morph_floors_source)"

#: Form measures of the analysis hexagons themselves (level "hex").
HEX_INDICATORS: tuple[IndicatorDoc, ...] = (
    IndicatorDoc("morph", "coverage", False, "share 0-1",
                 "Built-up share of the hexagon: footprint area inside it / its area.",
                 _SRC_BLD, level="hex"),
    IndicatorDoc("morph", "far", False, "m²/m²",
                 "Floor area ratio of the hexagon: floor area inside it / its area.",
                 _SRC_BLD, level="hex"),
    IndicatorDoc("morph", "grain", False, "m²",
                 "Mean size of the tessellation cells in the hexagon (area-weighted).",
                 _SRC_BLD, level="hex"),
)  # fmt: skip


def indicator_columns(frame: pd.DataFrame) -> list[str]:
    """The numeric columns of a frame that are named like indicators (``morph_...``).

    Examples
    --------
    >>> indicator_columns(pd.DataFrame({"morph_harmonic_400m": [1.0], "node_id": [3],
    ...                                 "morph_floors_source": ["height"]}))
    ['morph_harmonic_400m']
    """
    out = []
    for col in frame.columns:
        try:
            parse_name(str(col))
        except ValueError:
            continue
        if pd.api.types.is_numeric_dtype(frame[col]) or pd.api.types.is_bool_dtype(frame[col]):
            out.append(col)
    return out


def cells_from_nodes(
    grid: gpd.GeoDataFrame,
    nodes: gpd.GeoDataFrame,
    *,
    reach: float,
    columns: list[str] | None = None,
) -> pd.DataFrame:
    """Give each grid cell the values of the street nodes in it, or of the nearest one.

    Parameters
    ----------
    grid
        The analysis cells (polygons).
    nodes
        Street nodes (points) with indicator columns, in the grid's CRS.
    reach
        Metres: a cell without a node takes the nearest node within this distance of the
        cell (its boundary); farther cells get NaN and ``access = "none"``.
    columns
        Columns to carry; by default every numeric indicator column.

    Returns
    -------
    pandas.DataFrame
        On the grid's index: the columns, plus ``access`` (``"nodes"``: the mean of the
        ``n_nodes`` nodes inside; ``"nearest"``: the nearest node's values, with its
        distance in ``node_distance`` (m); ``"none"``).

    Examples
    --------
    >>> from shapely import Point, box
    >>> grid = gpd.GeoDataFrame(geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10),
    ...                                   box(500, 0, 510, 10)], crs=3067)
    >>> nodes = gpd.GeoDataFrame({"morph_harmonic_400m": [1.0, 3.0]},
    ...     geometry=[Point(2, 2), Point(4, 4)], crs=3067)

    The first cell holds both nodes (mean 2.0); the second takes the nearer one, 6 m
    away; the third is 490 m from any node:

    >>> cells_from_nodes(grid, nodes, reach=50)[["morph_harmonic_400m", "access"]]
       morph_harmonic_400m   access
    0                  2.0    nodes
    1                  3.0  nearest
    2                  NaN     none
    """
    same_crs(grid=grid, nodes=nodes)
    cols = columns if columns is not None else indicator_columns(nodes)
    values = nodes[cols].astype(float).to_numpy()
    out = pd.DataFrame(np.nan, index=grid.index, columns=cols)
    access = pd.Series("none", index=grid.index, dtype=object)
    n_nodes = pd.Series(0, index=grid.index, dtype="int64")
    distance = pd.Series(np.nan, index=grid.index)
    if len(grid) == 0 or len(nodes) == 0:
        return out.assign(access=access, n_nodes=n_nodes, node_distance=distance)

    cell_pos, node_pos = grid.sindex.query(nodes.geometry.to_numpy(), predicate="within")[::-1]
    if len(cell_pos):
        # a node on a shared edge is "within" neither cell; those fall to "nearest"
        first = pd.Series(cell_pos).groupby(node_pos).first()
        cell_pos, node_pos = first.to_numpy(), first.index.to_numpy()
        sums = pd.DataFrame(values[node_pos]).groupby(cell_pos).mean()
        counts = pd.Series(cell_pos).value_counts()
        idx = grid.index[sums.index.to_numpy()]
        out.loc[idx, cols] = sums.to_numpy()
        access.loc[idx] = "nodes"
        n_nodes.loc[grid.index[counts.index.to_numpy()]] = counts.to_numpy()
        distance.loc[idx] = 0.0
    empty = np.flatnonzero(access.to_numpy() == "none")
    if len(empty) and reach > 0:
        geoms = grid.geometry.to_numpy()[empty]
        near_cell, near_node = nodes.sindex.nearest(geoms, max_distance=reach, return_all=False)
        if len(near_cell):
            idx = grid.index[empty[near_cell]]
            out.loc[idx, cols] = values[near_node]
            access.loc[idx] = "nearest"
            d = geoms[near_cell]
            distance.loc[idx] = [
                g.distance(p) for g, p in zip(d, nodes.geometry.to_numpy()[near_node], strict=True)
            ]
    log.info(
        "cells: %d with nodes, %d from the nearest node, %d without access",
        int((access == "nodes").sum()),
        int((access == "nearest").sum()),
        int((access == "none").sum()),
    )
    return out.assign(access=access, n_nodes=n_nodes, node_distance=distance)


def form_by_cell(
    grid: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    tessellation: gpd.GeoDataFrame,
) -> pd.DataFrame:
    """Coverage, floor area ratio and grain of each analysis hexagon.

    Parameters
    ----------
    grid
        The hexagons.
    buildings
        Footprints with ``morph_footprint_area`` and ``morph_floor_area`` (m²).
    tessellation
        Tessellation cells with ``morph_cell_area`` (m²).

    Returns
    -------
    pandas.DataFrame
        ``morph_coverage``, ``morph_far`` (0 where nothing is built) and ``morph_grain``
        (NaN where there is no cell), on the grid's index.

    Examples
    --------
    >>> from shapely import box
    >>> grid = gpd.GeoDataFrame(geometry=[box(0, 0, 100, 100)], crs=3067)
    >>> b = gpd.GeoDataFrame({"morph_footprint_area": [200.0], "morph_floor_area": [600.0]},
    ...     geometry=[box(10, 10, 30, 20)], crs=3067)
    >>> t = gpd.GeoDataFrame({"morph_cell_area": [10_000.0]}, geometry=[box(0, 0, 100, 100)],
    ...     crs=3067)
    >>> form_by_cell(grid, b, t).round(3).values.tolist()
    [[0.02, 0.06, 10000.0]]
    """
    area = grid.geometry.area.to_numpy()
    sums = aggregate_to_grid(
        buildings, grid, how="sum", columns=["morph_footprint_area", "morph_floor_area"]
    )
    grain = aggregate_to_grid(tessellation, grid, how="mean", columns=["morph_cell_area"])
    return pd.DataFrame(
        {
            indicator_name("morph", "coverage"): sums["morph_footprint_area"].to_numpy() / area,
            indicator_name("morph", "far"): sums["morph_floor_area"].to_numpy() / area,
            indicator_name("morph", "grain"): grain["morph_cell_area"].to_numpy(),
        },
        index=grid.index,
    )
