"""Tests of rakennettu.layers.social: hand-worked towns, networkx references, invariants."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Hashable

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
import shapely
from shapely import Point, box

from rakennettu.config import FormConfig, SocialConfig
from rakennettu.errors import CRSError
from rakennettu.layers import social
from rakennettu.layers.social import (
    INDICATORS,
    JOB_USES,
    activity_access,
    allocate_population,
    catchment,
    estimate_population,
    floor_areas,
    kernel_density,
    land_use_mix,
    social_layer,
)
from rakennettu.naming import describe
from rakennettu.network import StreetNetwork
from rakennettu.outputs.rasters import write_geotiff
from rakennettu.prepare import prepare

CRS = "EPSG:3067"
RTOL = 1e-12


# ---------------------------------------------------------------------------------------
# a hand-worked town
# ---------------------------------------------------------------------------------------


def grid_graph() -> nx.MultiGraph:
    r"""A 3x3 grid of 100 m blocks; node i at (100 * (i % 3), 100 * (i // 3)).

    6 ---- 7 ---- 8
    |      |      |        D (daily_needs) 5 m west of the middle of 3-6
    3 ---- 4 ---- 5        C (food_drink) on node 4
    |      |      |        B (retail) in the middle of 5-8
    0 ---- 1 ---- 2        A (retail) 30 m along 0-1
    """
    G = nx.MultiGraph(crs=CRS)
    for i in range(9):
        G.add_node(i, x=100.0 * (i % 3), y=100.0 * (i // 3))
    for i in range(9):
        if i % 3 < 2:
            G.add_edge(i, i + 1, length=100.0)
        if i < 6:
            G.add_edge(i, i + 3, length=100.0)
    return G


@pytest.fixture(scope="module")
def net() -> StreetNetwork:
    return StreetNetwork.from_graph(grid_graph())


# (category, x, y, edge end u, distance from u, edge end v, distance from v, snap)
SHOPS = {
    "A": ("retail", 30.0, 0.0, 0, 30.0, 1, 70.0, 0.0),
    "B": ("retail", 200.0, 150.0, 5, 50.0, 8, 50.0, 0.0),
    "C": ("food_drink", 100.0, 100.0, 4, 0.0, 4, 0.0, 0.0),
    "D": ("daily_needs", -5.0, 150.0, 3, 50.0, 6, 50.0, 5.0),
    "E": ("retail", 500.0, 500.0, None, None, None, None, None),  # beyond snap_distance
}
CATS = ["daily_needs", "food_drink", "retail"]
RADII = [100, 200]


@pytest.fixture(scope="module")
def shops() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"category": [s[0] for s in SHOPS.values()]},
        geometry=[Point(s[1], s[2]) for s in SHOPS.values()],
        index=pd.Index(list(SHOPS), name="shop"),
        crs=CRS,
    )


def manhattan(a: int, b: int) -> float:
    return 100.0 * (abs(a % 3 - b % 3) + abs(a // 3 - b // 3))


def walk(node: int, shop: str) -> float:
    """Distance on paper: along the grid to an end of the shop's street, then to it."""
    _, _, _, u, du, v, dv, snap = SHOPS[shop]
    if u is None:
        return math.inf
    return min(manhattan(node, u) + du, manhattan(node, v) + dv) + snap


def paper_hill(abundances: list[float], q: float) -> float:
    a = np.asarray(abundances, dtype=float)
    if a.sum() == 0:
        return 0.0
    p = a[a > 0] / a.sum()
    if q == 1:
        return float(np.exp(-(p * np.log(p)).sum()))
    return float((p**q).sum() ** (1 / (1 - q)))


def test_distances_on_paper():
    # the helper itself, against the sketch in grid_graph's docstring
    assert [walk(0, s) for s in "ABCD"] == [30.0, 350.0, 200.0, 155.0]
    assert [walk(4, s) for s in "ABCD"] == [170.0, 150.0, 0.0, 155.0]
    assert [walk(8, s) for s in "ABCD"] == [370.0, 50.0, 200.0, 255.0]


@pytest.fixture(scope="module")
def access(net, shops) -> pd.DataFrame:
    return activity_access(net, shops, radii=RADII, snap_distance=10, categories=CATS)


@pytest.mark.parametrize(
    ("column", "node", "expected"),
    [
        ("soc_count_retail_100m", 0, 1),
        ("soc_count_retail_200m", 0, 1),
        ("soc_count_food_drink_200m", 0, 1),  # C at exactly 200 m counts (inclusive)
        ("soc_count_daily_needs_100m", 0, 0),
        ("soc_count_total_200m", 0, 3),
        ("soc_access_retail_100m", 0, math.exp(-0.04 * 30)),
        ("soc_access_retail_200m", 0, math.exp(-0.02 * 30)),
        ("soc_access_food_drink_200m", 0, math.exp(-4.0)),
        ("soc_access_daily_needs_200m", 0, math.exp(-0.02 * 155)),
        ("soc_nearest_retail", 0, 30.0),
        ("soc_nearest_daily_needs", 0, 155.0),
        ("soc_count_retail_200m", 4, 2),
        ("soc_count_total_100m", 4, 1),
        ("soc_count_total_200m", 4, 4),
        ("soc_access_food_drink_100m", 4, 1.0),
        ("soc_access_retail_200m", 4, math.exp(-0.02 * 170) + math.exp(-0.02 * 150)),
        ("soc_access_total_200m", 4, 1 + math.exp(-3.4) + math.exp(-3.0) + math.exp(-3.1)),
        ("soc_nearest_retail", 4, 150.0),
        ("soc_nearest_food_drink", 4, 0.0),
        ("soc_nearest_daily_needs", 8, math.nan),  # 255 m on paper: beyond the 200 m radius
    ],
    ids=lambda v: str(v),
)
def test_activity_access_on_paper(access, column, node, expected):
    assert access.loc[node, column] == pytest.approx(expected, rel=RTOL, nan_ok=True)


@pytest.mark.parametrize("node", range(9), ids=lambda n: f"node{n}")
def test_activity_access_every_node(access, node):
    for cat in [*CATS, "total"]:
        mine = [s for s, v in SHOPS.items() if cat in ("total", v[0])]
        d = np.array([walk(node, s) for s in mine])
        for r in RADII:
            inside = d <= r
            assert access.loc[node, f"soc_count_{cat}_{r}m"] == inside.sum()
            assert access.loc[node, f"soc_access_{cat}_{r}m"] == pytest.approx(
                np.exp(-4.0 / r * d[inside]).sum(), rel=RTOL, abs=1e-15
            )
        if cat != "total":
            # the nearest up to the largest radius, NaN (beyond reach) farther
            near = d.min() if d.min() <= max(RADII) else np.nan
            got = access.loc[node, f"soc_nearest_{cat}"]
            assert got == pytest.approx(near, rel=RTOL, nan_ok=True)


def test_activity_access_columns(access, net):
    assert access.index.equals(net.node_ids)
    assert access.index.name == "node_id"
    expected = (
        [f"soc_count_{c}_{r}m" for c in [*CATS, "total"] for r in RADII]
        + [f"soc_access_{c}_{r}m" for c in [*CATS, "total"] for r in RADII]
        + [f"soc_nearest_{c}" for c in CATS]
    )
    assert list(access.columns) == expected
    assert access["soc_count_total_200m"].dtype == np.int64


@pytest.mark.parametrize("node", [0, 4, 8], ids=lambda n: f"node{n}")
@pytest.mark.parametrize("radius", RADII, ids=lambda r: f"{r}m")
def test_land_use_mix_on_paper(access, node, radius):
    counts = [access.loc[node, f"soc_count_{c}_{radius}m"] for c in CATS]
    decayed = [access.loc[node, f"soc_access_{c}_{radius}m"] for c in CATS]
    mix = land_use_mix(access)
    for q in (0, 1, 2):
        assert mix.loc[node, f"soc_mix_q{q}_{radius}m"] == pytest.approx(
            paper_hill(counts, q), rel=1e-12
        )
    for q in (1, 2):
        assert mix.loc[node, f"soc_mix_decayed_q{q}_{radius}m"] == pytest.approx(
            paper_hill(decayed, q), rel=1e-12
        )


def test_land_use_mix_node4_200m(access):
    # retail 2, food_drink 1, daily_needs 1: shares 1/2, 1/4, 1/4
    mix = land_use_mix(access).loc[4]
    assert mix["soc_mix_q0_200m"] == 3
    assert mix["soc_mix_q1_200m"] == pytest.approx(2**1.5, rel=1e-12)
    assert mix["soc_mix_q2_200m"] == pytest.approx(8 / 3, rel=1e-12)


def test_land_use_mix_columns(access):
    mix = land_use_mix(access)
    assert list(mix.columns) == [
        "soc_mix_q0_100m",
        "soc_mix_q0_200m",
        "soc_mix_q1_100m",
        "soc_mix_q1_200m",
        "soc_mix_q2_100m",
        "soc_mix_q2_200m",
        "soc_mix_decayed_q1_100m",
        "soc_mix_decayed_q1_200m",
        "soc_mix_decayed_q2_100m",
        "soc_mix_decayed_q2_200m",
    ]
    assert mix.index.equals(access.index)


def test_activity_access_beta_and_weights(net, shops):
    weighted = shops.assign(weight=[2.0, 1.0, 1.0, 1.0, 1.0])
    acc = activity_access(net, weighted, radii=[200], snap_distance=10, beta=0.01, categories=CATS)
    assert acc.loc[0, "soc_access_retail_200m"] == pytest.approx(2 * math.exp(-0.3), rel=RTOL)
    assert acc.loc[0, "soc_count_retail_200m"] == 1  # counts ignore weights


def test_activity_access_default_categories_from_taxonomy(net, shops):
    acc = activity_access(net, shops, radii=[100], snap_distance=10)
    for cat in ("daily_needs", "food_drink", "health", "culture", "work"):
        assert f"soc_count_{cat}_100m" in acc
    assert (acc["soc_count_health_100m"] == 0).all()
    assert acc["soc_nearest_health"].isna().all()


def test_other_categories_count_in_total(net, shops):
    acc = activity_access(net, shops, radii=[200], snap_distance=10, categories=["retail"])
    assert acc.loc[0, "soc_count_total_200m"] == 3
    assert "soc_count_food_drink_200m" not in acc


def test_activity_access_polygons_by_surface_point(net):
    # a 10 m square shop whose surface point lies 5 m north of the street 0-1, at x = 50
    acts = gpd.GeoDataFrame({"category": ["retail"]}, geometry=[box(45, 0, 55, 10)], crs=CRS)
    acc = activity_access(net, acts, radii=[100], snap_distance=10, categories=["retail"])
    assert acc.loc[0, "soc_nearest_retail"] == pytest.approx(55.0)


def test_activity_access_empty(net):
    empty = gpd.GeoDataFrame({"category": pd.Series([], dtype=object)}, geometry=[], crs=CRS)
    acc = activity_access(net, empty, radii=[100], snap_distance=10, categories=["retail"])
    assert (acc["soc_count_total_100m"] == 0).all()
    assert (acc["soc_access_retail_100m"] == 0).all()
    assert acc["soc_nearest_retail"].isna().all()


def test_soc_nearest_is_nan_beyond_the_largest_radius(net):
    # one shop at node 0: nodes within 200 m (Manhattan on the grid) get the distance,
    # farther ones are beyond reach (NaN), as cult_nearest_* beyond max_nearest
    acts = gpd.GeoDataFrame({"category": ["retail"]}, geometry=[Point(0, 0)], crs=CRS)
    acc = activity_access(net, acts, radii=[100, 200], snap_distance=1, categories=["retail"])
    expected = [manhattan(i, 0) if manhattan(i, 0) <= 200 else np.nan for i in range(9)]
    np.testing.assert_array_equal(acc["soc_nearest_retail"].to_numpy(), expected)
    wider = activity_access(
        net, acts, radii=[100], snap_distance=1, categories=["retail"], max_nearest=400
    )
    assert wider["soc_nearest_retail"].tolist() == [manhattan(i, 0) for i in range(9)]


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ({"category": "Food & drink"}, "cannot name a column"),
        ({"category": "total"}, "may not be called 'total'"),
    ],
    ids=["not-a-word", "total"],
)
def test_activity_categories_must_name_columns(net, bad, match):
    acts = gpd.GeoDataFrame(bad, geometry=[Point(0, 0)], index=[0], crs=CRS)
    with pytest.raises(ValueError, match=match):
        activity_access(net, acts, radii=[100], snap_distance=10)


@pytest.mark.parametrize("radii", [[], [400.5], [-100]], ids=["empty", "fraction", "negative"])
def test_radii_checked(net, shops, radii):
    with pytest.raises(ValueError, match="radi"):
        activity_access(net, shops, radii=radii, snap_distance=10)


# ---------------------------------------------------------------------------------------
# Hill numbers
# ---------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------
# residents and jobs
# ---------------------------------------------------------------------------------------


def test_floor_areas_and_estimate():
    b = gpd.GeoDataFrame(
        {
            "use": ["residential", "office", "industrial", "religious", "unknown", None],
            "floors": [4.0, 2.0, np.nan, 1.0, np.nan, np.nan],
            "height": [np.nan, np.nan, 9.5, np.nan, np.nan, np.nan],
        },
        geometry=[box(0, 0, 10, 10)] * 6,
        index=pd.Index(list("abcdef"), name="building"),
        crs=CRS,
    )
    areas = floor_areas(b)
    assert areas["floor_area"].tolist() == [400.0, 200.0, 300.0, 100.0, 100.0, 100.0]
    assert areas["residential_floor_area"].tolist() == [400.0, 0, 0, 0, 0, 0]
    assert areas["job_floor_area"].tolist() == [0, 200.0, 300.0, 0, 0, 0]
    est = estimate_population(areas, m2_per_resident=40, m2_per_job=50)
    assert est.index.equals(b.index)
    assert est["residents"].tolist() == [10.0, 0, 0, 0, 0, 0]
    assert est["jobs"].tolist() == [0, 4.0, 6.0, 0, 0, 0]
    assert set(JOB_USES) >= {"commercial", "office", "industrial"}


def hand_grid() -> gpd.GeoDataFrame:
    r"""Five 100 m cells in a row (x from 0 to 500), with residents and jobs.

    cell 0: a house (floor 400 m²) and an office (600 m²); half of a second house
    cell 1: the other half of that house (2 x 100 m² footprint, 1 floor) and a shed
    cell 2: a shed (100 m²) and a shop (300 m²): no residential floor area
    cell 3: nothing built, 5 residents: a pseudo building
    cell 4: nothing built, nobody
    """
    return gpd.GeoDataFrame(
        {"residents": [30.0, 12.0, 8.0, 5.0, 0.0], "jobs": [20.0, 0.0, 4.0, np.nan, 0.0]},
        geometry=[box(100 * i, 0, 100 * (i + 1), 100) for i in range(5)],
        index=pd.Index(["c0", "c1", "c2", "c3", "c4"], name="cell"),
        crs=CRS,
    )


def hand_buildings() -> tuple[gpd.GeoDataFrame, list[float], list[bool], list[bool]]:
    b = gpd.GeoDataFrame(
        {"use": ["residential", "office", "residential", "other", "other", "commercial"]},
        geometry=[
            box(10, 10, 30, 30),  # house: 20 x 20 m, one floor
            box(40, 40, 60, 70),  # office
            box(90, 50, 110, 60),  # straddling house: 10 m in cell 0, 10 m in cell 1
            box(150, 10, 160, 20),  # shed in cell 1
            box(210, 10, 220, 20),  # shed in cell 2
            box(250, 50, 270, 65),  # shop in cell 2
        ],
        index=pd.Index([10, 11, 12, 13, 14, 15], name="building"),
        crs=CRS,
    )
    floor = [400.0, 600.0, 200.0, 100.0, 100.0, 300.0]
    residential = [True, False, True, False, False, False]
    jobs = [False, True, False, False, False, True]
    return b, floor, residential, jobs


def test_allocate_population_on_paper():
    b, floor, residential, jobs = hand_buildings()
    out = allocate_population(
        b, hand_grid(), floor_area=floor, residential_mask=residential, job_mask=jobs
    )
    # cell 0: house 400 and half of the straddling house (100) share 30 residents
    # cell 1: the other half of it (100) takes all 12 (the shed is not residential)
    # cell 2: no residential floor area: shed 100 and shop 300 share 8 by floor area
    # cell 3: 5 residents at a pseudo building
    expected_res = {10: 24.0, 11: 0.0, 12: 6.0 + 12.0, 13: 0.0, 14: 2.0, 15: 6.0, -1: 5.0}
    expected_jobs = {10: 0.0, 11: 20.0, 12: 0.0, 13: 0.0, 14: 0.0, 15: 4.0, -1: 0.0}
    assert out.index.tolist() == [10, 11, 12, 13, 14, 15, -1]
    for k, v in expected_res.items():
        assert out.loc[k, "residents"] == pytest.approx(v, rel=RTOL)
    for k, v in expected_jobs.items():
        assert out.loc[k, "jobs"] == pytest.approx(v, rel=RTOL)
    assert out["pseudo"].tolist() == [False] * 6 + [True]
    assert out.loc[-1, "grid_cell"] == "c3"
    assert out.loc[-1, "geometry"].within(box(300, 0, 400, 100))
    assert out.geometry.iloc[0].equals(Point(20, 20))
    assert out.crs == CRS


def test_allocate_jobs_without_job_buildings_fall_back():
    b, floor, residential, _ = hand_buildings()
    out = allocate_population(
        b, hand_grid(), floor_area=floor, residential_mask=residential, job_mask=[False] * 6
    )
    # cell 0: 20 jobs over all floor area: 400 + 600 + 100 of the straddling house
    assert out.loc[11, "jobs"] == pytest.approx(20 * 600 / 1100, rel=RTOL)
    assert out["jobs"].sum() == pytest.approx(24.0, rel=RTOL)


def test_pseudo_point_lies_within_the_context():
    b, floor, residential, jobs = hand_buildings()
    context = box(0, 0, 320, 100)
    out = allocate_population(
        b,
        hand_grid(),
        floor_area=floor,
        residential_mask=residential,
        job_mask=jobs,
        within=context,
    )
    assert out.loc[-1, "geometry"].within(box(300, 0, 320, 100))


def test_allocate_marks_buildings_outside_the_grid():
    b, floor, residential, jobs = hand_buildings()
    far = gpd.GeoDataFrame(
        {"use": ["residential"]}, geometry=[box(900, 900, 910, 910)], index=[16], crs=CRS
    )
    both = pd.concat([b, far])
    out = allocate_population(
        both,
        hand_grid(),
        floor_area=[*floor, 100.0],
        residential_mask=[*residential, True],
        job_mask=[*jobs, False],
    )
    assert out.loc[16, "residents"] == 0.0
    assert not out.loc[16, "covered"]
    assert out.loc[[10, 11, 12, 13, 14, 15, -1], "covered"].all()


def random_case(seed: int) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, np.ndarray, np.ndarray]:
    """A 4x4 grid of 250 m cells and buildings dropped at random, some across cells."""
    rng = np.random.default_rng(seed)
    cells = [
        box(250 * i, 250 * j, 250 * (i + 1), 250 * (j + 1)) for j in range(4) for i in range(4)
    ]
    grid = gpd.GeoDataFrame(
        {
            "residents": rng.integers(0, 500, 16).astype(float),
            "jobs": rng.integers(0, 300, 16).astype(float),
        },
        geometry=cells,
        crs=CRS,
    )
    n = 60
    x = rng.uniform(0, 500, n)  # the east half of the grid stays empty
    y = rng.uniform(0, 1000, n)
    w = rng.uniform(8, 40, n)
    geoms = [box(a, b, a + s, b + s * 0.7) for a, b, s in zip(x, y, w, strict=True)]
    buildings = gpd.GeoDataFrame(geometry=geoms, crs=CRS)
    floor = np.asarray(shapely.area(buildings.geometry.to_numpy())) * rng.integers(1, 6, n)
    return buildings, grid, floor, rng.random(n) < 0.5


@pytest.mark.parametrize("seed", [0, 1, 2], ids=lambda s: f"seed{s}")
def test_allocation_preserves_totals(seed):
    buildings, grid, floor, residential = random_case(seed)
    out = allocate_population(
        buildings, grid, floor_area=floor, residential_mask=residential, job_mask=~residential
    )
    for col in ("residents", "jobs"):
        assert math.fsum(out[col]) == pytest.approx(grid[col].sum(), rel=1e-12)
        assert (out[col] >= 0).all()
    assert out["pseudo"].sum() >= 1  # the empty east half keeps its people at points
    assert out.index[: len(buildings)].equals(buildings.index)


def reference_allocation(
    buildings: gpd.GeoDataFrame, grid: gpd.GeoDataFrame, floor: np.ndarray, mask: np.ndarray
) -> tuple[np.ndarray, float]:
    """The dasymetric rule written out cell by cell: residents per building, and the
    residents left at pseudo buildings."""
    fp = buildings.geometry.to_numpy()
    out = np.zeros(len(fp))
    pseudo = 0.0
    for cell, people in zip(grid.geometry, grid["residents"], strict=True):
        share = np.array([g.intersection(cell).area / g.area for g in fp])
        homes = floor * share * mask
        anything = floor * share
        if homes.sum() > 0:
            out += people * homes / homes.sum()
        elif anything.sum() > 0:
            out += people * anything / anything.sum()
        else:
            pseudo += people
    return out, pseudo


@pytest.mark.parametrize("seed", [3, 4], ids=lambda s: f"seed{s}")
def test_allocation_matches_the_rule_cell_by_cell(seed):
    buildings, grid, floor, residential = random_case(seed)
    out = allocate_population(buildings, grid, floor_area=floor, residential_mask=residential)
    expected, pseudo = reference_allocation(buildings, grid, floor, residential)
    got = out.loc[buildings.index, "residents"].to_numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    assert out.loc[out["pseudo"], "residents"].sum() == pytest.approx(pseudo, rel=1e-12)


@pytest.mark.parametrize(
    ("grid", "match"),
    [
        (gpd.GeoDataFrame({"people": [1]}, geometry=[box(0, 0, 1, 1)], crs=CRS), "neither"),
        (gpd.GeoDataFrame({"residents": [-1]}, geometry=[box(0, 0, 1, 1)], crs=CRS), "negative"),
    ],
    ids=["no-columns", "negative"],
)
def test_allocate_rejects_bad_grids(grid, match):
    b = gpd.GeoSeries([box(0, 0, 1, 1)], crs=CRS)
    with pytest.raises(ValueError, match=match):
        allocate_population(b, grid, floor_area=[1.0], residential_mask=[True])


def test_allocate_string_index_gets_string_pseudo_labels():
    b, floor, residential, jobs = hand_buildings()
    b.index = pd.Index([f"b{i}" for i in range(6)], name="building")
    out = allocate_population(
        b, hand_grid(), floor_area=floor, residential_mask=residential, job_mask=jobs
    )
    assert out.index[-1] == "grid-c3"


# ---------------------------------------------------------------------------------------
# catchment against networkx
# ---------------------------------------------------------------------------------------


def irregular_graph() -> nx.MultiGraph:
    r"""Seven nodes, unequal lengths, a parallel street and a dead end.

     5 ------ 6
     |        |
    90       120
     |        |
     2 --60-- 3 ----250---- 4
     |      /
    80   110
     |  /
     0 --70-- 1     (a second, 150 m street 0-1)
    """
    coords = {
        0: (0, 0),
        1: (70, 0),
        2: (0, 80),
        3: (60, 80),
        4: (310, 80),
        5: (0, 170),
        6: (60, 200),
    }
    G = nx.MultiGraph(crs=CRS)
    for n, (x, y) in coords.items():
        G.add_node(n, x=float(x), y=float(y))
    for u, v, length in [
        (0, 1, 70), (0, 1, 150), (0, 2, 80), (1, 3, 110), (2, 3, 60), (3, 4, 250),
        (2, 5, 90), (5, 6, 120), (3, 6, 120),
    ]:  # fmt: skip
        G.add_edge(u, v, length=float(length))
    return G


def reference_catchment(
    G: nx.MultiGraph, homes: list[tuple[Hashable, Hashable, float, float]], radius: float
) -> dict[Hashable, float]:
    """Split each home's street at the home and ask networkx for the distances."""
    H = nx.Graph()
    for u, v, d in G.edges(data=True):
        if not H.has_edge(u, v) or H[u][v]["length"] > d["length"]:
            H.add_edge(u, v, length=d["length"])
    for i, (u, v, along, _) in enumerate(homes):
        H.add_edge(("home", i), u, length=along)
        H.add_edge(("home", i), v, length=H[u][v]["length"] - along)
    out = dict.fromkeys(G.nodes, 0.0)
    for i, (_, _, _, people) in enumerate(homes):
        reach = nx.single_source_dijkstra_path_length(
            H, ("home", i), cutoff=radius, weight="length"
        )
        for n, _ in reach.items():
            if n in out:
                out[n] += people
    return out


@pytest.mark.parametrize("radius", [50, 100, 150, 300, 500], ids=lambda r: f"{r}m")
def test_catchment_matches_networkx(radius):
    G = irregular_graph()
    net = StreetNetwork.from_graph(G)
    # (u, v, metres from u along the shortest u-v street, residents), on the straight streets
    homes = [(0, 1, 20.0, 10.0), (2, 3, 30.0, 4.0), (3, 4, 200.0, 7.0), (0, 2, 0.0, 3.0)]
    pos = {n: np.array([G.nodes[n]["x"], G.nodes[n]["y"]]) for n in G}
    points = []
    for u, v, along, _ in homes:
        t = along / np.linalg.norm(pos[v] - pos[u])
        points.append(Point(*(pos[u] + t * (pos[v] - pos[u]))))
    pts = gpd.GeoSeries(points, index=pd.Index(list("abcd"), name="home"), crs=CRS)
    people = pd.DataFrame({"residents": [h[3] for h in homes]}, index=pts.index)
    got = catchment(net, pts, people, radii=[radius], snap_distance=1)
    ref = reference_catchment(G, homes, radius)
    for n, v in ref.items():
        assert got.loc[n, f"soc_residents_{radius}m"] == pytest.approx(v, abs=1e-9), n


def test_catchment_several_weights(net):
    pts = gpd.GeoSeries([Point(0, 0), Point(100, 100)], crs=CRS)
    weights = pd.DataFrame({"residents": [10.0, 1.0], "jobs": [0.0, 4.0]})
    got = catchment(net, pts, weights, radii=[100], snap_distance=1)
    assert list(got.columns) == ["soc_residents_100m", "soc_jobs_100m"]
    assert got.loc[0].tolist() == [10.0, 0.0]
    assert got.loc[1].tolist() == [11.0, 4.0]


# ---------------------------------------------------------------------------------------
# density surfaces
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "bandwidth"), [(10, 200), (5, 50), (25, 300)], ids=lambda v: f"{v}m"
)
def test_kernel_integrates_to_the_points(cell, bandwidth):
    rng = np.random.default_rng(7)
    xy = rng.uniform(400, 600, size=(25, 2))
    pts = gpd.GeoSeries(gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=CRS)
    weights = rng.uniform(0.5, 3, 25)
    r = kernel_density(
        pts, weights=weights, area=box(0, 0, 1000, 1000), cell=cell, bandwidth=bandwidth
    )
    integral = float(r.array.astype(np.float64).sum()) * cell * cell / 1e6
    assert integral == pytest.approx(weights.sum(), rel=2e-3)
    assert r.meta["kernel"] == "quartic"


def test_kernel_shape_on_paper():
    # a point on a pixel centre: the value at the centre and 3 pixels east of it
    h, cell = 100.0, 10.0
    pts = gpd.GeoSeries([Point(505, 505)], crs=CRS)
    r = kernel_density(pts, area=box(0, 0, 1000, 1000), cell=cell, bandwidth=h)
    row, col = 49, 50  # (505, 505): column 50 from the west, row 49 from the north
    peak = 3 / (math.pi * h * h) * 1e6
    assert r.array[row, col] == pytest.approx(peak, rel=1e-6)
    assert r.array[row, col + 3] == pytest.approx(peak * (1 - 0.3**2) ** 2, rel=1e-6)
    assert r.array[row, col + 10] == 0.0  # exactly h away


def test_raster_rows_run_north_to_south_and_read_back(tmp_path):
    pts = gpd.GeoSeries([Point(950, 950)], crs=CRS)  # north-east corner
    r = kernel_density(pts, area=box(3, 7, 995, 1000), cell=10, bandwidth=40)
    assert r.array.shape == (100, 100)  # bounds grown to whole cells: 0..1000
    assert (r.transform.a, r.transform.e, r.transform.c, r.transform.f) == (10, -10, 0, 1000)
    peak = np.unravel_index(np.argmax(r.array), r.array.shape)
    assert peak[0] < 10 and peak[1] >= 90
    path = write_geotiff(r, tmp_path / "surfaces" / "d.tif", description="soc_activity_density")
    with rasterio.open(path) as src:
        assert src.crs.to_epsg() == 3067
        assert src.transform == r.transform
        assert src.descriptions == ("soc_activity_density",)
        assert src.tags()["kernel"] == "quartic"
        np.testing.assert_array_equal(src.read(1), r.array)
        x, y = src.xy(*peak)
        assert abs(x - 950) <= 5 and abs(y - 950) <= 5
    assert not list(path.parent.glob(".*part*"))


def test_write_geotiff_replaces_atomically(tmp_path):
    pts = gpd.GeoSeries([Point(50, 50)], crs=CRS)
    target = tmp_path / "d.tif"
    target.write_text("old")
    write_geotiff(kernel_density(pts, area=(0, 0, 100, 100), cell=10, bandwidth=30), target)
    with rasterio.open(target) as src:
        assert src.count == 1


def test_points_outside_reach_in():
    # a point 20 m west of the area still warms its western edge
    pts = gpd.GeoSeries([Point(-20, 50)], crs=CRS)
    r = kernel_density(pts, area=box(0, 0, 100, 100), cell=10, bandwidth=50)
    assert r.array[:, 0].max() > 0 and r.array[:, -1].max() == 0


# ---------------------------------------------------------------------------------------
# invariants
# ---------------------------------------------------------------------------------------


def test_inputs_not_modified(net, shops):
    before = shops.copy()
    activity_access(net, shops, radii=RADII, snap_distance=10)
    pd.testing.assert_frame_equal(shops, before)
    b, floor, residential, jobs = hand_buildings()
    grid = hand_grid()
    b0, g0 = b.copy(), grid.copy()
    allocate_population(b, grid, floor_area=floor, residential_mask=residential, job_mask=jobs)
    floor_areas(b.assign(floors=np.nan, height=np.nan))
    pd.testing.assert_frame_equal(b, b0)
    pd.testing.assert_frame_equal(grid, g0)


@pytest.mark.parametrize(
    "call",
    [
        lambda net, shops: activity_access(net, shops.to_crs(4326), radii=[100], snap_distance=10),
        lambda net, shops: activity_access(net, shops.to_crs(3857), radii=[100], snap_distance=10),
        lambda net, shops: catchment(
            net, shops.geometry.to_crs(4326), pd.Series(1.0, index=shops.index, name="residents"),
            radii=[100], snap_distance=10,
        ),
        lambda net, shops: kernel_density(
            shops.to_crs(4326), area=(0, 0, 1, 1), cell=1, bandwidth=1
        ),
        lambda net, shops: floor_areas(shops.to_crs(4326).assign(floors=1, height=1)),
        lambda net, shops: allocate_population(
            hand_buildings()[0], hand_grid().to_crs(3857), floor_area=[1.0] * 6,
            residential_mask=[True] * 6,
        ),
    ],
    ids=["access-4326", "access-3857", "catchment-4326", "kde-4326", "floors-4326", "grid-3857"],
)  # fmt: skip
def test_crs_errors(net, shops, call):
    with pytest.raises(CRSError):
        call(net, shops)


def test_indicator_docs_are_well_formed():
    measures = [d.measure for d in INDICATORS]
    assert len(measures) == len(set(measures))
    assert {d.dimension for d in INDICATORS} == {"soc"}
    assert describe("soc_count_total_800m", INDICATORS).measure == "count_total"
    assert describe("soc_count_food_drink_800m", INDICATORS).measure == "count_{category}"
    assert describe("soc_mix_q1_800m", INDICATORS).measure == "mix_q1"
    assert describe("soc_residents_400m", INDICATORS).unit == "persons"


# ---------------------------------------------------------------------------------------
# whole towns
# ---------------------------------------------------------------------------------------


def _prepared(town):
    """The town's prepared buildings with the settings the social layer defaulted to."""
    return prepare(town, FormConfig(), SocialConfig(m2_per_resident=40, unknown_as_homes="never"))


@pytest.fixture(scope="module")
def kotka_social(kotka):
    net = StreetNetwork.from_graph(kotka.graph)
    return kotka, net, social_layer(kotka, net, _prepared(kotka))


@pytest.fixture(scope="module")
def helsinki_social(helsinki):
    net = StreetNetwork.from_graph(helsinki.graph)
    return helsinki, net, social_layer(helsinki, net, _prepared(helsinki))


def test_the_layer_reads_the_prepared_people(kotka_social):
    # residents and jobs come from the prepare stage only: doubling them there doubles
    # every catchment (a sum of weights) and leaves the activity measures alone
    town, net, soc = kotka_social
    prep = _prepared(town)
    people = prep.people.assign(residents=prep.people["residents"] * 2, jobs=0.0)
    doubled = social_layer(town, net, dataclasses.replace(prep, people=people))
    for r in (400, 800, 1200):
        got = doubled.nodes[f"soc_residents_{r}m"]
        np.testing.assert_allclose(got, 2 * soc.nodes[f"soc_residents_{r}m"], rtol=1e-12)
        assert (doubled.nodes[f"soc_jobs_{r}m"] == 0).all()
        assert soc.nodes[f"soc_jobs_{r}m"].max() > 0
    same = [c for c in soc.nodes if not c.startswith(("soc_residents_", "soc_jobs_"))]
    pd.testing.assert_frame_equal(doubled.nodes[same], soc.nodes[same])


@pytest.fixture(params=["kotka", "helsinki"])
def town_social(request, kotka_social, helsinki_social):
    return kotka_social if request.param == "kotka" else helsinki_social


def test_town_tables(town_social):
    town, net, soc = town_social
    assert soc.nodes.index.equals(net.node_ids)
    assert soc.buildings.index[: len(town.buildings)].equals(town.buildings.index)
    for col in soc.nodes.columns:
        assert describe(col, INDICATORS) is not None, col
    for name in soc.rasters:
        assert describe(name, INDICATORS).level == "raster"
    # floor areas, residents and jobs are the prepare stage's (rakennettu.prepare)
    assert set(soc.timings) == {"activities", "mix", "catchment", "density"}
    in_area = soc.buildings["in_area"].iloc[: len(town.buildings)]
    assert (in_area.to_numpy() == town.buildings["in_area"].to_numpy()).all()
    assert soc.report["residents"] == pytest.approx(soc.buildings["residents"].sum())
    assert 0 <= soc.report["residents_off_network"] < 0.1 * soc.report["residents"]
    assert (
        soc.nodes.notna().all().drop([c for c in soc.nodes if c.startswith("soc_nearest_")]).all()
    )


def test_town_counts_grow_with_radius(town_social):
    _, _, soc = town_social
    n = soc.nodes
    for measure in ("count_total", "access_total", "residents", "jobs", "mix_q0"):
        a, b, c = (n[f"soc_{measure}_{r}m"] for r in (400, 800, 1200))
        assert (a <= b + 1e-9).all() and (b <= c + 1e-9).all(), measure


def test_town_nearest_agrees_with_counts(town_social):
    """The nearest distance (scipy, no radius) and the counts (the network engine)."""
    _, _, soc = town_social
    n = soc.nodes
    cats = [c.removeprefix("soc_nearest_") for c in n if c.startswith("soc_nearest_")]
    for cat in cats:
        near = n[f"soc_nearest_{cat}"]
        for r in (400, 800, 1200):
            some = n[f"soc_count_{cat}_{r}m"] > 0
            assert (near[some] <= r + 1e-6).all()
            assert ((near[~some] > r - 1e-6) | near[~some].isna()).all()


def test_town_mix_bounds(town_social):
    _, _, soc = town_social
    n = soc.nodes
    for r in (400, 800, 1200):
        q0, q1, q2 = (n[f"soc_mix_q{q}_{r}m"] for q in (0, 1, 2))
        assert (q1 <= q0 + 1e-9).all() and (q2 <= q1 + 1e-9).all()
        assert ((q0 == 0) == (n[f"soc_count_total_{r}m"] == 0)).all()


def test_kotka_estimates_from_floor_area(kotka_social):
    town, _, soc = kotka_social
    b = soc.buildings
    assert soc.population_method == "floor_area"
    assert (b["population_method"] == "floor_area").all()
    assert not b["pseudo"].any()
    res = floor_areas(town.buildings)["residential_floor_area"].sum()
    assert b["residents"].sum() == pytest.approx(res / 40.0, rel=1e-12)


def test_central_helsinki_has_more_food_and_drink(kotka_social, helsinki_social):
    k = kotka_social[2].nodes
    h = helsinki_social[2].nodes
    assert h["soc_access_food_drink_800m"].median() > 10
    assert k["soc_access_food_drink_800m"].max() < h["soc_access_food_drink_800m"].median()
    assert h["soc_mix_q1_800m"].median() > k["soc_mix_q1_800m"].median()


def test_town_rasters(town_social):
    town, _, soc = town_social
    cell = soc.rasters["soc_activity_density"].resolution
    assert cell == 10
    for r in soc.rasters.values():
        assert r.crs == town.crs
        assert r.transform.e == -10
        left, top = r.transform.c, r.transform.f
        minx, _, _, maxy = town.area.bounds
        assert left <= minx < left + 10 and top - 10 < maxy <= top
    # every activity well inside the area puts all its weight on the raster
    acts = town.activities
    inside = acts.geometry.representative_point().within(town.area.buffer(-200))
    integral = soc.rasters["soc_activity_density"].array.astype(float).sum() * cell**2 / 1e6
    assert integral >= inside.sum() - 1e-3
    assert integral <= len(acts) + 1e-3


# ---------------------------------------------------------------------------------------
# the HSY population grid with the bundled Helsinki town
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def helsinki_with_grid(helsinki_hsy):
    grid, town = helsinki_hsy  # the bundled Helsinki with the HSY grid (tests/conftest.py)
    net = StreetNetwork.from_graph(town.graph)
    return grid, town, net, social_layer(town, net, _prepared(town))


@pytest.mark.shared
def test_hsy_grid_totals_preserved(helsinki_with_grid):
    grid_path, town, _, soc = helsinki_with_grid
    b = soc.buildings
    from_grid = b["population_method"] == "grid_residents"
    ref = pyogrio.read_dataframe(grid_path).to_crs(town.crs)
    within = ref[ref.intersects(town.context)]
    assert math.fsum(b.loc[from_grid, "residents"]) == pytest.approx(
        within["population"].sum(), rel=1e-12
    )
    assert soc.population_method == "grid_residents+floor_area"


@pytest.mark.shared
def test_hsy_grid_follows_the_rule(helsinki_with_grid):
    _, town, _, soc = helsinki_with_grid
    areas = floor_areas(town.buildings)
    homes = town.buildings[areas["residential_floor_area"] > 0]
    cells = town.population
    no_home = ~cells.intersects(homes.union_all()) & (cells["residents"] > 0)
    assert no_home.sum() >= 1  # the fallback to all floor area is exercised
    expected, pseudo = reference_allocation(
        town.buildings,
        cells,
        areas["floor_area"].to_numpy(),
        (areas["residential_floor_area"] > 0).to_numpy(),
    )
    b = soc.buildings
    from_grid = (b.loc[town.buildings.index, "population_method"] == "grid_residents").to_numpy()
    got = b.loc[town.buildings.index, "residents"].to_numpy()
    np.testing.assert_allclose(got[from_grid], expected[from_grid], rtol=1e-9, atol=1e-9)
    assert expected[~from_grid].sum() == pytest.approx(0.0, abs=1e-9)
    assert b.loc[b["pseudo"], "residents"].sum() == pytest.approx(pseudo, abs=1e-9)


@pytest.mark.shared
def test_hsy_grid_outside_buildings_estimated(helsinki_with_grid):
    _, town, _, soc = helsinki_with_grid
    b = soc.buildings
    hull = town.population.union_all().convex_hull
    outside = ~town.buildings.intersects(hull)
    assert outside.any()
    est = b.loc[town.buildings.index[outside.to_numpy()]]
    assert (est["population_method"] == "floor_area").all()
    assert est["residents"].to_numpy() == pytest.approx(
        est["residential_floor_area"].to_numpy() / 40.0
    )


def test_module_all_is_sorted():
    assert list(social.__all__) == sorted(social.__all__)
