"""Analysis units: node values reach the hexagons; cells without access are marked."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely import Point, box

from rakennettu.synthesis.grid import hex_grid
from rakennettu.synthesis.units import cells_from_nodes, form_by_cell


@pytest.fixture
def grid():
    return hex_grid(box(0, 0, 1000, 1000), 50, crs=3067)


def test_cells_with_nodes_take_their_mean(grid):
    c = grid.geometry.iloc[10].centroid
    nodes = gpd.GeoDataFrame(
        {"morph_x": [1.0, 2.0, 6.0]},
        geometry=[Point(c.x - 5, c.y), Point(c.x + 5, c.y), Point(c.x, c.y + 3)],
        crs=3067,
    )
    out = cells_from_nodes(grid, nodes, reach=0)
    assert out.loc[grid.index[10], "morph_x"] == pytest.approx(3.0)
    assert out.loc[grid.index[10], "n_nodes"] == 3
    assert (out["access"] == "nodes").sum() == 1


def test_cells_without_nodes_take_the_nearest_within_reach_else_are_marked(grid):
    nodes = gpd.GeoDataFrame({"morph_x": [5.0]}, geometry=[Point(500, 500)], crs=3067)
    out = cells_from_nodes(grid, nodes, reach=120)
    home = out["access"] == "nodes"
    near = out["access"] == "nearest"
    none = out["access"] == "none"
    assert home.sum() == 1
    assert near.sum() > 0 and (out.loc[near, "morph_x"] == 5.0).all()
    assert (out.loc[near, "node_distance"] <= 120).all()
    # far cells are marked, not zeroed
    assert none.sum() > 0 and out.loc[none, "morph_x"].isna().all()
    dist = grid.geometry.distance(Point(500, 500))
    np.testing.assert_array_equal(none.to_numpy(), (dist > 120).to_numpy())


def test_form_by_cell_totals(grid):
    b = gpd.GeoDataFrame(
        {"morph_footprint_area": [400.0], "morph_floor_area": [1200.0]},
        geometry=[box(480, 480, 500, 500)],
        crs=3067,
    )
    t = gpd.GeoDataFrame(
        {"morph_cell_area": [2500.0]}, geometry=[box(450, 450, 500, 500)], crs=3067
    )
    out = form_by_cell(grid, b, t)
    area = grid.geometry.area
    # the building's footprint and floor area are shared out among cells, never lost
    assert (out["morph_coverage"] * area).sum() == pytest.approx(400.0)
    assert (out["morph_far"] * area).sum() == pytest.approx(1200.0)
    assert out["morph_grain"].notna().sum() >= 1
