"""Tests of rakennettu.synthesis.grid: hexagon geometry, coverage, ids and aggregation."""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely import LineString, Point, box

from rakennettu.errors import CRSError
from rakennettu.synthesis.grid import aggregate_to_grid, hex_grid

EPSG = 3067

AREAS = [
    pytest.param(box(0, 0, 1000, 600), id="box"),
    pytest.param(Point(386_000, 6_672_000).buffer(730), id="circle-in-helsinki"),
    pytest.param(
        shapely.MultiPolygon([box(-500, -500, 0, 0), box(200, 300, 900, 400)]), id="two-parts"
    ),
    pytest.param(
        shapely.Polygon([(0, 0), (800, 0), (800, 100), (100, 100), (100, 700), (0, 700)]),
        id="l-shape",
    ),
]
SIZES = [pytest.param(s, id=f"{s}m") for s in (25, 100, 173.5)]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("area", AREAS)
def test_cells_are_regular_hexagons_of_the_given_side(area: Any, size: float) -> None:
    grid = hex_grid(area, size, crs=EPSG)
    # rtol: areas of 25 m cells 6.7 million metres north carry ~1e-12 rounding
    np.testing.assert_allclose(grid.area, 3 * math.sqrt(3) / 2 * size**2, rtol=1e-9)
    np.testing.assert_allclose(grid.length, 6 * size, rtol=1e-9)
    assert (shapely.get_num_coordinates(grid.geometry.to_numpy()) == 7).all()
    # pointy-topped: as tall as 2 s, as wide as √3 s
    bounds = grid.bounds
    np.testing.assert_allclose(bounds.maxy - bounds.miny, 2 * size, rtol=1e-9)
    np.testing.assert_allclose(bounds.maxx - bounds.minx, math.sqrt(3) * size, rtol=1e-9)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("area", AREAS)
def test_cells_cover_the_area_without_overlap(area: Any, size: float) -> None:
    grid = hex_grid(area, size, crs=EPSG)
    assert area.difference(grid.union_all()).area == pytest.approx(0, abs=1e-6)
    left, right = grid.sindex.query(grid.geometry, predicate="intersects")
    pairs = left < right
    shared = shapely.intersection(
        grid.geometry.to_numpy()[left[pairs]], grid.geometry.to_numpy()[right[pairs]]
    )
    assert (shapely.area(shared) == 0).all()  # neighbours share edges exactly
    # every cell really reaches into the area
    assert (grid.intersection(area).area > 0).all()


def test_neighbours_share_their_vertices_exactly() -> None:
    grid = hex_grid(box(0, 0, 500, 500), 50, crs=EPSG)
    xy = shapely.get_coordinates(grid.geometry.to_numpy())
    distinct = np.unique(xy, axis=0)
    # inside a hexagonal tiling each vertex is shared by three cells; on a small grid
    # the border has fewer, but far fewer distinct points than 6 per cell
    assert len(distinct) < 6 * len(grid) / 2
    near = np.unique(np.round(xy, 6), axis=0)
    assert len(near) == len(distinct)


@pytest.mark.parametrize("size", SIZES)
def test_ids_are_stable_positions_on_one_lattice(size: float) -> None:
    big = hex_grid(box(-2000, -2000, 3000, 3000), size, crs=EPSG)
    small = hex_grid(box(100, 200, 900, 700), size, crs=EPSG)
    assert big.index.is_unique
    assert set(small.index) <= set(big.index)
    same = shapely.equals(small.geometry.to_numpy(), big.loc[small.index].geometry.to_numpy())
    assert same.all()
    again = hex_grid(box(100, 200, 900, 700), size, crs=EPSG)
    assert again.index.equals(small.index)


def test_ids_are_axial_coordinates() -> None:
    grid = hex_grid(box(-1, -1, 1, 1), 100, crs=EPSG)
    assert grid.index.tolist() == ["0_0"]
    centre = grid.geometry.iloc[0].centroid
    assert (centre.x, centre.y) == pytest.approx((0, 0), abs=1e-9)
    row = hex_grid(box(300, 140, 301, 160), 100, crs=EPSG)  # r = 1: x = √3·100·(q + 1/2)
    assert row.index.tolist() == ["1_1"]
    assert row[["q", "r"]].iloc[0].tolist() == [1, 1]


def test_area_as_geoseries_or_frame() -> None:
    area = box(0, 0, 400, 400)
    from_shape = hex_grid(area, 50, crs=EPSG)
    from_series = hex_grid(
        gpd.GeoSeries([box(0, 0, 400, 200), box(0, 200, 400, 400)], crs=EPSG), 50
    )
    from_frame = hex_grid(gpd.GeoDataFrame(geometry=[area], crs=EPSG), 50)
    assert from_series.index.equals(from_shape.index)
    assert from_frame.index.equals(from_shape.index)
    assert from_frame.crs == EPSG


def test_empty_area_gives_an_empty_typed_grid() -> None:
    grid = hex_grid(shapely.Polygon(), 100, crs=EPSG)
    full = hex_grid(box(0, 0, 1, 1), 100, crs=EPSG)
    assert len(grid) == 0
    assert list(grid.columns) == list(full.columns)
    assert (grid.dtypes == full.dtypes).all()
    assert grid.index.name == full.index.name == "hex_id"
    assert grid.crs == EPSG


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        pytest.param(
            lambda: hex_grid(gpd.GeoSeries([box(24, 60, 25, 61)], crs=4326), 100),
            CRSError,
            r"area: geographic CRS \(EPSG:4326\)",
            id="geographic-series",
        ),
        pytest.param(
            lambda: hex_grid(box(24, 60, 25, 61), 100, crs=4326),
            CRSError,
            r"area: geographic CRS",
            id="geographic-shape",
        ),
        pytest.param(
            lambda: hex_grid(box(0, 0, 1, 1), 100),
            CRSError,
            r"pass its CRS, e\.g\. crs=3067",
            id="shape-without-crs",
        ),
        pytest.param(
            lambda: hex_grid(box(0, 0, 1, 1), 0, crs=EPSG),
            ValueError,
            "cell_size must be a positive number of metres",
            id="zero-size",
        ),
    ],
)
def test_hex_grid_errors(call: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        call()


# ------------------------------------------------------------------------- aggregation


def _two_cells() -> gpd.GeoSeries:
    return gpd.GeoSeries([box(0, 0, 10, 10), box(10, 0, 20, 10)], index=["w", "e"], crs=EPSG)


def _frame(geoms: list[Any], **columns: Any) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=geoms, crs=EPSG)


def test_polygons_mean_is_area_weighted() -> None:
    # one square fully in "w" (value 1), one straddling 1 m² in w and 9 m² in e (value 3)
    values = _frame(
        [box(0, 0, 2, 2), box(9, 0, 10, 1).union(box(10, 0, 19, 1))], morph_value=[1.0, 3.0]
    )
    got = aggregate_to_grid(values, _two_cells(), how="mean")
    assert got.loc["w", "morph_value"] == pytest.approx((4 * 1 + 1 * 3) / 5)
    assert got.loc["e", "morph_value"] == pytest.approx(3.0)


def test_polygons_sum_is_apportioned_by_area() -> None:
    values = _frame([box(5, 0, 15, 10)], morph_floor_area=[100.0])  # half in each cell
    got = aggregate_to_grid(values, _two_cells(), how="sum")
    assert got["morph_floor_area"].tolist() == pytest.approx([50.0, 50.0])


def test_lines_are_weighted_by_length() -> None:
    values = _frame(
        [LineString([(0, 5), (10, 5)]), LineString([(8, 2), (12, 2)])],
        morph_stroke_length=[100.0, 400.0],
    )
    got = aggregate_to_grid(values, _two_cells(), how="mean")
    assert got.loc["w", "morph_stroke_length"] == pytest.approx((10 * 100 + 2 * 400) / 12)
    assert got.loc["e", "morph_stroke_length"] == pytest.approx(400.0)
    total = aggregate_to_grid(values, _two_cells(), how="sum")
    assert total["morph_stroke_length"].tolist() == pytest.approx([100 + 200, 200])


@pytest.mark.parametrize(
    ("how", "expected"),
    [
        pytest.param("mean", {"w": 2.0, "e": 5.0}, id="mean"),
        pytest.param("sum", {"w": 4.0, "e": 5.0}, id="sum"),
    ],
)
def test_points_go_to_one_cell_each(how: Any, expected: dict[str, float]) -> None:
    # the point on the shared edge x = 10 counts once, in the first cell in grid order
    values = _frame([Point(1, 1), Point(10, 5), Point(15, 5)], morph_degree=[1.0, 3.0, 5.0])
    got = aggregate_to_grid(values, _two_cells(), how=how)
    assert got["morph_degree"].to_dict() == pytest.approx(expected)


def test_missing_values_are_left_out() -> None:
    values = _frame([Point(1, 1), Point(2, 2), Point(15, 5)], morph_value=[2.0, np.nan, np.nan])
    mean = aggregate_to_grid(values, _two_cells(), how="mean")
    total = aggregate_to_grid(values, _two_cells(), how="sum")
    assert mean.loc["w", "morph_value"] == 2.0
    assert np.isnan(mean.loc["e", "morph_value"])
    assert total["morph_value"].tolist() == [2.0, 0.0]


def test_empty_cells_are_nan_for_mean_and_zero_for_sum() -> None:
    values = _frame([Point(1, 1)], morph_value=[2.0])
    assert np.isnan(aggregate_to_grid(values, _two_cells(), how="mean").loc["e", "morph_value"])
    assert aggregate_to_grid(values, _two_cells(), how="sum").loc["e", "morph_value"] == 0.0


def test_sum_is_conserved_over_a_hex_grid() -> None:
    rng = np.random.default_rng(7)
    corners = rng.uniform(0, 900, size=(60, 2))
    squares = [box(x, y, x + 37, y + 23) for x, y in corners]
    values = _frame(squares, morph_floor_area=rng.uniform(50, 500, size=60))
    grid = hex_grid(box(0, 0, 1000, 1000), 60, crs=EPSG)
    got = aggregate_to_grid(values, grid, how="sum")
    assert got["morph_floor_area"].sum() == pytest.approx(
        values["morph_floor_area"].sum(), rel=1e-9
    )


def test_default_columns_are_the_numeric_indicators() -> None:
    values = _frame(
        [Point(1, 1)],
        building_id=[12],
        morph_floor_area=[2.0],
        morph_floors=[3],
        morph_flag=[True],
        morph_floors_source=["height"],
    )
    got = aggregate_to_grid(values, _two_cells())
    assert list(got.columns) == ["morph_floor_area", "morph_floors", "morph_flag"]
    assert got.index.equals(_two_cells().index)


def test_empty_values_give_the_columns_on_the_grid() -> None:
    values = gpd.GeoDataFrame(
        {"morph_value": pd.Series(dtype=float)}, geometry=gpd.GeoSeries([], crs=EPSG)
    )
    mean = aggregate_to_grid(values, _two_cells(), how="mean")
    total = aggregate_to_grid(values, _two_cells(), how="sum")
    assert list(mean.columns) == ["morph_value"]
    assert mean["morph_value"].isna().all()
    assert total["morph_value"].tolist() == [0.0, 0.0]


@pytest.mark.parametrize(
    ("values", "grid", "error", "match"),
    [
        pytest.param(
            _frame([Point(1, 1), box(0, 0, 1, 1)], morph_value=[1.0, 2.0]),
            _two_cells(),
            TypeError,
            "all points, all lines or all polygons",
            id="mixed-geometries",
        ),
        pytest.param(
            _frame([Point(1, 1)], morph_value=[1.0]).to_crs(3857),
            _two_cells(),
            CRSError,
            r"values: not in the CRS of grid",
            id="crs-mismatch",
        ),
        pytest.param(
            _frame([Point(1, 1)], morph_value=[1.0]).to_crs(4326),
            _two_cells().to_crs(4326),
            CRSError,
            r"grid: geographic CRS",
            id="geographic",
        ),
    ],
)
def test_aggregate_errors(values: Any, grid: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        aggregate_to_grid(values, grid)


def test_unknown_how_raises() -> None:
    with pytest.raises(ValueError, match="how must be 'mean' or 'sum'"):
        aggregate_to_grid(_frame([Point(1, 1)], morph_value=[1.0]), _two_cells(), how="median")  # type: ignore[arg-type]


def test_intersections_on_threads_are_shapelys_own_element_by_element():
    """The long pairs of aggregate_to_grid are intersected in halves on two threads: each
    result is byte for byte what one shapely.intersection call gives."""
    import shapely

    from rakennettu._geo import intersections

    rng = np.random.default_rng(7)
    a = shapely.buffer(shapely.points(rng.random((3001, 2)) * 500), 12, quad_segs=4)
    b = shapely.box(*(rng.random((3001, 2)) * 500).T, *(rng.random((3001, 2)) * 500 + 30).T)
    whole = shapely.to_wkb(shapely.intersection(a, b))
    for threads in (2, 3):
        assert (shapely.to_wkb(intersections(a, b, threads=threads)) == whole).all()
