"""Tests of rakennettu.layers.viewshed: hand-made rasters, a brute-force reference, a DEM."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
from rasterio.transform import from_origin
from scipy.ndimage import gaussian_filter
from shapely import box

from rakennettu.errors import CRSError
from rakennettu.layers.viewshed import (
    Surface,
    building_heights,
    surface_model,
    viewshed,
    viewsheds,
)

EYE = 1.6


def _surface(ground: np.ndarray, height: np.ndarray | None = None, cell: float = 1.0) -> Surface:
    """A north-up surface whose cell (r, c) has its centre at (c + 0.5, -r - 0.5) × cell."""
    h = np.zeros_like(ground) if height is None else height
    bid = np.where(h > 0, 0, -1)
    return Surface(
        np.asarray(ground, dtype=float),
        np.asarray(h, dtype=float),
        bid,
        from_origin(0, 0, cell, cell),
        3067,
    )


def _centre(s: Surface, r: int, c: int) -> tuple[float, float]:
    return ((c + 0.5) * s.cell, -(r + 0.5) * s.cell)


def _disk(shape: tuple[int, int], r0: int, c0: int, radius_cells: float) -> np.ndarray:
    rr, cc = np.mgrid[: shape[0], : shape[1]]
    return np.asarray(np.hypot(rr - r0, cc - c0) <= radius_cells, dtype=bool)


def brute_force(s: Surface, r0: int, c0: int, origin_h: float, target_h: float, radius: float):
    """Exact sight lines through the blocky surface, sampled every 1/20 of a cell.

    A target is hidden when any cell the straight line from the origin's top to the
    target point passes over (other than the two end cells) rises above the line.
    """
    g, e = s.ground, s.elevation
    nr, nc = g.shape
    z0 = g[r0, c0] + origin_h
    out = np.zeros(g.shape, dtype=bool)
    k = math.ceil(radius / s.cell)
    for r in range(max(0, r0 - k), min(nr, r0 + k + 1)):
        for c in range(max(0, c0 - k), min(nc, c0 + k + 1)):
            d = math.hypot(r - r0, c - c0)
            if d * s.cell > radius:
                continue
            if d == 0:
                out[r, c] = True
                continue
            zt = g[r, c] + target_h
            t = np.linspace(0.0, 1.0, int(d * 20) + 2)[1:-1]
            rr = np.floor(r0 + 0.5 + (r - r0) * t).astype(int)
            cc = np.floor(c0 + 0.5 + (c - c0) * t).astype(int)
            z = z0 + (zt - z0) * t
            inner = ~(((rr == r0) & (cc == c0)) | ((rr == r) & (cc == c)))
            out[r, c] = not np.any(e[rr[inner], cc[inner]] > z[inner])
    return out


# ------------------------------------------------------------------------------ flat


@pytest.mark.parametrize(
    ("size", "cell", "radius", "origin_h"),
    [(41, 1.0, 20.0, 10.0), (61, 5.0, 140.0, 1.0), (101, 2.0, 100.0, 0.5)],
    ids=["1m-tall", "5m-low", "2m-below-eye"],
)
def test_a_flat_plane_sees_everything_within_the_radius(size, cell, radius, origin_h):
    s = _surface(np.zeros((size, size)), cell=cell)
    mid = size // 2
    v = viewshed(s, *_centre(s, mid, mid), radius=radius, origin_height=origin_h, target_height=EYE)
    disk = _disk(s.shape, mid, mid, radius / cell)
    assert v[disk].all()
    assert not v[~disk].any()


def test_a_flat_plane_counts_the_whole_disk_as_visible_area():
    s = _surface(np.zeros((81, 81)), cell=5.0)
    v = viewsheds(s, np.array([_centre(s, 40, 40)]), radius=150, origin_height=3, target_height=EYE)
    n_cells = int(_disk(s.shape, 40, 40, 30).sum())
    assert v.visible_area.tolist() == [n_cells * 25.0]
    assert abs(v.visible_area[0] - math.pi * 150**2) / (math.pi * 150**2) < 0.01


# ------------------------------------------------------------------------------ a wall


@pytest.mark.parametrize(
    ("origin_h", "wall_h", "wall_at"),
    [(20.0, 10.0, 20), (12.0, 6.0, 10), (30.0, 3.0, 5)],
    ids=["tower-behind-10m-wall", "12m-behind-6m", "30m-behind-3m"],
)
def test_a_wall_hides_what_is_behind_it_up_to_a_computable_distance(origin_h, wall_h, wall_at):
    # The line from the origin's top (height H) to a target (1.6 m) at distance b clears a
    # wall of height W at distance a when H + (1.6 - H) a / b >= W, i.e. from
    # b* = a (H - 1.6) / (H - W) on: the wall casts a shadow from a to b*.
    n = 120
    h = np.zeros((1, n))
    h[0, wall_at] = wall_h
    s = _surface(np.zeros((1, n)), h)
    v = viewshed(s, *_centre(s, 0, 0), radius=n, origin_height=origin_h, target_height=EYE)
    b_star = wall_at * (origin_h - EYE) / (origin_h - wall_h)
    dist = np.arange(n)
    hidden = (dist > wall_at) & (dist < b_star)
    assert not v[0, hidden].any()
    assert v[0, ~hidden].all()
    assert int(hidden.sum()) == math.ceil(b_star) - wall_at - 1


def test_a_wall_taller_than_the_origin_hides_everything_behind_it():
    h = np.zeros((1, 60))
    h[0, 10] = 25.0
    s = _surface(np.zeros((1, 60)), h)
    v = viewshed(s, *_centre(s, 0, 0), radius=60, origin_height=20, target_height=EYE)
    assert v[0, :11].all()
    assert not v[0, 11:].any()


def test_a_short_wall_casts_a_wedge_shaped_shadow():
    # A wall 11 cells long (rows -5..5 of the origin) at 20 cells east, 10 m high, seen
    # from a 20 m origin: hidden 21..36 cells straight behind it, visible beside it.
    n = 81
    h = np.zeros((n, n))
    h[35:46, 60] = 10.0
    s = _surface(np.zeros((n, n)), h)
    v = viewshed(s, *_centre(s, 40, 40), radius=40, origin_height=20, target_height=EYE)
    assert not v[40, 61:77].any()  # straight behind, before b* = 36.8
    assert v[40, 77:81].all()  # beyond b*
    half_angle = math.atan2(5.5, 20)
    rows, cols = np.mgrid[:n, :n]
    angle = np.abs(np.arctan2(rows - 40, cols - 40))
    clear = (angle > half_angle + 0.1) & _disk(s.shape, 40, 40, 40)
    assert v[clear].all()


def test_own_building_does_not_hide_the_origin():
    n = 41
    h = np.zeros((n, n))
    h[17:24, 17:24] = 15.0  # the landmark's own building around the origin
    s = Surface(np.zeros((n, n)), h, np.where(h > 0, 7, -1), from_origin(0, 0, 1, 1), 3067)
    xy = _centre(s, 20, 20)
    blocked = viewshed(s, *xy, radius=20, origin_height=10, target_height=EYE)
    free = viewshed(s, *xy, radius=20, origin_height=10, target_height=EYE, ignore_buildings=[7])
    outside = _disk(s.shape, 20, 20, 20) & (h == 0)
    assert free[outside].all()
    assert not blocked[outside].any()


# ------------------------------------------------------------------------------ hills


def test_a_hill_hides_the_valley_behind_it():
    # a ridge 10 m high across the raster at 30 cells east; behind it the ground is flat
    n = 101
    x = np.arange(n, dtype=float)
    ridge = 10.0 * np.exp(-(((x - 30) / 4.0) ** 2))
    s = _surface(np.tile(ridge, (21, 1)))
    v = viewshed(s, *_centre(s, 10, 0), radius=100, origin_height=2, target_height=EYE)
    assert v[10, :30].all()  # the near slope faces the origin
    assert not v[10, 40:].any()  # behind the ridge: line of sight ~1.8 m vs 10 m crest
    ref = brute_force(s, 10, 0, 2.0, EYE, 100.0)
    assert (v == ref)[_disk(s.shape, 10, 0, 100)].mean() > 0.98


def test_from_the_top_of_a_cone_every_slope_is_visible():
    n = 61
    rows, cols = np.mgrid[:n, :n]
    cone = 30.0 - np.hypot(rows - 30, cols - 30)
    s = _surface(cone)
    v = viewshed(s, *_centre(s, 30, 30), radius=30, origin_height=EYE, target_height=EYE)
    assert v[_disk(s.shape, 30, 30, 30)].all()


def _random_town(seed: int, n: int = 81) -> Surface:
    rng = np.random.default_rng(seed)
    ground = gaussian_filter(rng.normal(size=(n, n)), 8) * 60
    height = np.zeros((n, n))
    for _ in range(25):
        r, c = rng.integers(0, n - 10, 2)
        hh, ww = rng.integers(3, 10, 2)
        height[r : r + hh, c : c + ww] = rng.uniform(4, 25)
    height[36:45, 36:45] = 0.0
    return _surface(ground, height)


@pytest.mark.parametrize("seed", [0, 1, 2, 3], ids=lambda s: f"seed{s}")
def test_the_sweep_agrees_with_exact_sight_lines_on_hills_and_blocks(seed):
    s = _random_town(seed)
    v = viewshed(s, *_centre(s, 40, 40), radius=38, origin_height=12, target_height=EYE)
    ref = brute_force(s, 40, 40, 12.0, EYE, 38.0)
    disk = _disk(s.shape, 40, 40, 38)
    assert (v == ref)[disk].mean() > 0.97
    assert abs(v[disk].mean() - ref[disk].mean()) < 0.02


# ------------------------------------------------------------------------------ batch


def test_viewsheds_match_single_viewsheds_and_count_open_ground():
    s = _random_town(5)
    origins = np.array([_centre(s, 40, 40), _centre(s, 20, 60), _centre(s, 5, 5)])
    targets = np.array([_centre(s, r, c) for r in range(0, 81, 7) for c in range(0, 81, 9)])
    heights = np.array([12.0, 4.0, 25.0])
    v = viewsheds(s, origins, radius=30, origin_height=heights, target_height=EYE, targets=targets)
    for i, (x, y) in enumerate(origins):
        single = viewshed(s, x, y, radius=30, origin_height=heights[i], target_height=EYE)
        assert v.visible_area[i] == single[s.building < 0].sum() * s.cell**2
        pairs = v.pairs[v.pairs["origin"] == i]
        tr, tc = s.rowcol(targets[pairs["target"], 0], targets[pairs["target"], 1])
        assert pairs["visible"].tolist() == single[tr, tc].tolist()
        assert (pairs["distance"] <= 30).all()


def test_viewsheds_leave_origins_off_the_surface_uncomputed():
    s = _surface(np.zeros((10, 10)))
    v = viewsheds(s, np.array([[5.0, -5.0], [500.0, 500.0]]), radius=3, origin_height=2,
                  target_height=EYE)  # fmt: skip
    assert v.visible_area[0] > 0
    assert np.isnan(v.visible_area[1])


@pytest.mark.parametrize(
    ("x", "y", "ground", "match"),
    [
        (500.0, 500.0, 0.0, "outside the surface"),
        (5.5, -5.5, np.nan, "terrain at the origin"),
    ],
    ids=["off-surface", "unknown-terrain"],
)
def test_viewshed_rejects_origins_it_cannot_compute(x, y, ground, match):
    g = np.zeros((10, 10))
    g[5, 5] = ground
    with pytest.raises(ValueError, match=match):
        viewshed(_surface(g), x, y, radius=5, origin_height=2, target_height=EYE)


# ------------------------------------------------------------------------------ surface


def test_building_heights_prefer_height_then_floors_then_the_default():
    b = gpd.GeoDataFrame(
        {"height": [22.0, np.nan, np.nan, 0.0], "floors": [2.0, 5.0, np.nan, np.nan]},
        geometry=[box(0, 0, 1, 1)] * 4,
        crs=3067,
    )
    h = building_heights(b, storey_height=3.5, default_floors=2)
    assert h["height"].tolist() == [22.0, 17.5, 7.0, 7.0]
    assert h["height_source"].astype(str).tolist() == ["height", "floors", "assumed", "assumed"]


def test_surface_model_burns_heights_and_lets_the_tallest_win():
    b = gpd.GeoDataFrame(
        {"height": [6.0, 30.0], "floors": [np.nan, np.nan]},
        geometry=[box(0, 0, 20, 10), box(10, 0, 15, 5)],  # a tower inside a low wing
        crs=3067,
        index=[101, 102],
    )
    s = surface_model(b, bounds=(0, 0, 20, 10), cell=5)
    assert s.shape == (2, 4)
    assert s.height.tolist() == [[6.0, 6.0, 6.0, 6.0], [6.0, 6.0, 30.0, 6.0]]
    assert s.building.tolist() == [[0, 0, 0, 0], [0, 0, 1, 0]]
    assert (s.ground == 0).all()


def test_surface_model_raises_on_a_geographic_crs():
    b = gpd.GeoDataFrame({"height": [6.0]}, geometry=[box(24.9, 60.1, 24.91, 60.11)], crs=4326)
    with pytest.raises(CRSError, match="geographic"):
        surface_model(b, bounds=(24.9, 60.1, 25.0, 60.2), cell=5)


# ------------------------------------------------------------------------------ a DEM


@pytest.fixture
def lapinlahti(shared_data):
    """The Lapinlahti DEM (1 m, heights 0-11 m) read into the town CRS."""
    from pyproj import CRS

    from rakennettu.sources.municipal import read_raster

    path = shared_data("helsinki-misc", "elevation_model_2021_lapinlahti.tif")
    return read_raster(path, to_crs=CRS.from_epsg(3067))


@pytest.mark.shared
def test_the_dem_is_the_terrain_and_buildings_stand_on_it(lapinlahti):
    dem = lapinlahti
    left, top = dem.transform.c, dem.transform.f
    rows, cols = dem.array.shape
    right, bottom = left + cols * dem.transform.a, top + rows * dem.transform.e
    x0, y0 = (left + right) / 2, (bottom + top) / 2
    house = gpd.GeoDataFrame(
        {"height": [12.0]}, geometry=[box(x0 - 10, y0 - 10, x0 + 10, y0 + 10)], crs=3067
    )
    s = surface_model(house, bounds=(left, bottom, right, top), cell=5, dem=dem)
    inner = np.isfinite(s.ground)
    assert inner.mean() > 0.8  # the edges of the reprojected DEM hold no data
    assert np.nanmin(s.ground) > -1 and np.nanmax(s.ground) < 12
    r, c = s.rowcol([x0], [y0])
    assert s.elevation[r[0], c[0]] == pytest.approx(s.ground[r[0], c[0]] + 12.0)
    # the resampled terrain follows the 1 m DEM
    for dx, dy in [(20, 20), (-30, 15), (40, -35)]:
        rr, cc = s.rowcol([x0 + dx], [y0 + dy])
        cx, cy = s.transform * (cc[0] + 0.5, rr[0] + 0.5)
        col, row = ~dem.transform * (cx, cy)
        assert s.ground[rr[0], cc[0]] == pytest.approx(
            float(dem.array[int(row), int(col)]), abs=1.0
        )


@pytest.mark.shared
def test_sight_lines_over_the_dem_agree_with_exact_ones(lapinlahti):
    dem = lapinlahti
    left, top = dem.transform.c, dem.transform.f
    rows, cols = dem.array.shape
    right, bottom = left + cols * dem.transform.a, top + rows * dem.transform.e
    empty = gpd.GeoDataFrame({"height": []}, geometry=[], crs=3067)
    s = surface_model(empty, bounds=(left, bottom, right, top), cell=2, dem=dem)
    r0, c0 = s.shape[0] // 2, s.shape[1] // 2
    v = viewshed(s, *s.transform * (c0 + 0.5, r0 + 0.5), radius=80, origin_height=3,
                 target_height=EYE)  # fmt: skip
    ref = brute_force(s, r0, c0, 3.0, EYE, 80.0)
    disk = _disk(s.shape, r0, c0, 40) & np.isfinite(s.ground)
    assert (v == ref)[disk].mean() > 0.97
    assert 0.05 < v[disk].mean() < 1.0  # the terrain hides some of the ground
