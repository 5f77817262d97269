"""Tests of rakennettu.layers.cultural: hand-worked towns, networkx as reference, real towns.

The hand-worked town used throughout (EPSG:3067, metres), every segment 100 m::

                3 (100, 100)
                |
    0 -------- 1 -------- 2 -------- 4
    (0, 0)   (100, 0)   (200, 0)   (300, 0)
"""

from __future__ import annotations

import itertools
import math

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely import LineString, Point, Polygon, box

from rakennettu.config import CulturalConfig, FormConfig, NetworkConfig, SocialConfig
from rakennettu.errors import CRSError
from rakennettu.layers import cultural as cult
from rakennettu.naming import describe, parse_name
from rakennettu.network import StreetNetwork, attach, attach_points, edge_betweenness
from rakennettu.prepare import prepare
from rakennettu.synthesis.grid import hex_grid

EPSG = 3067
T_NODES = {0: (0.0, 0.0), 1: (100.0, 0.0), 2: (200.0, 0.0), 3: (100.0, 100.0), 4: (300.0, 0.0)}
T_EDGES = [(0, 1), (1, 2), (1, 3), (2, 4)]


def make_graph(nodes: dict[int, tuple[float, float]], edges: list[tuple[int, int]]):
    G = nx.MultiGraph(crs=f"EPSG:{EPSG}")
    for n, (x, y) in nodes.items():
        G.add_node(n, x=x, y=y)
    for u, v in edges:
        line = LineString([nodes[u], nodes[v]])
        G.add_edge(u, v, length=line.length, geometry=line)
    return G


@pytest.fixture(scope="module")
def t_graph():
    return make_graph(T_NODES, T_EDGES)


@pytest.fixture(scope="module")
def t_net(t_graph):
    return StreetNetwork.from_graph(t_graph)


def diamond(x: float, y: float, r: float = 5.0, facing: str = "south") -> Polygon:
    """A small square standing on one corner at (x, y): its unique point nearest a street."""
    if facing == "south":
        return Polygon([(x, y), (x + r, y + r), (x, y + 2 * r), (x - r, y + r)])
    return Polygon([(x, y), (x + r, y - r), (x + 2 * r, y), (x + r, y + r)])  # facing west


def gdf(rows: list[dict], geoms: list, index=None) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=EPSG, index=index)


# ---------------------------------------------------------------------------------------
# landmarks and third places
# ---------------------------------------------------------------------------------------

# statue: a point 5 m off segment 0-1, 45 m from node 0 (55 m from node 1)
# church: an apse whose tip (150, 10) is 10 m off segment 1-2, 50 m from node 1; its
#         centroid lies some 40 m from the street
# plaque: a point on segment 1-3, 95 m from node 1 (5 m from node 3)
APSE = Polygon([(150, 10), (160, 20), (160, 60), (140, 60), (140, 20)])
LANDMARK_WEIGHTS = {"statue": 2.0, "church": 1.5, "plaque": 0.25}
# network distances in metres, on paper: along the streets + the last metres off them
LANDMARK_DIST = {
    0: {"statue": 45 + 5, "church": 100 + 50 + 10, "plaque": 100 + 95},
    1: {"statue": 55 + 5, "church": 50 + 10, "plaque": 95},
    2: {"statue": 100 + 55 + 5, "church": 50 + 10, "plaque": 100 + 95},
    3: {"statue": 100 + 55 + 5, "church": 100 + 50 + 10, "plaque": 5},
    4: {"statue": 200 + 55 + 5, "church": 100 + 50 + 10, "plaque": 200 + 95},
}


@pytest.fixture(scope="module")
def t_landmarks():
    return gdf(
        [{"kind": k, "weight": w} for k, w in LANDMARK_WEIGHTS.items()],
        [Point(45, 5), APSE, Point(100, 95)],
        index=pd.Index(["statue", "church", "plaque"], name="landmark"),
    )


@pytest.mark.parametrize("node", sorted(LANDMARK_DIST), ids=lambda n: f"node{n}")
@pytest.mark.parametrize("radius", [100, 200], ids=["100m", "200m"])
def test_landmark_access_matches_the_hand_worked_town(t_net, t_landmarks, node, radius):
    acc = cult.landmark_access(t_net, t_landmarks, radii=[100, 200], snap_distance=50)
    dist = LANDMARK_DIST[node]
    within = {k: d for k, d in dist.items() if d <= radius}
    assert acc.loc[node, f"cult_landmarks_{radius}m"] == len(within)
    expected = sum(LANDMARK_WEIGHTS[k] * math.exp(-4 / radius * d) for k, d in within.items())
    assert acc.loc[node, f"cult_landmark_access_{radius}m"] == pytest.approx(expected)
    assert acc.loc[node, "cult_nearest_landmark"] == pytest.approx(min(dist.values()))


def test_polygon_landmarks_attach_at_the_boundary_not_the_centroid(t_net, t_landmarks):
    att = attach(t_net, t_landmarks, max_distance=50)
    church = att.loc["church"]
    assert church["snap_distance"] == pytest.approx(10.0)
    assert {church["dist_u"], church["dist_v"]} == {50.0}
    assert t_landmarks.geometry["church"].centroid.y > 35  # the centroid is far off


def test_landmark_access_columns_and_index(t_net, t_landmarks):
    acc = cult.landmark_access(t_net, t_landmarks, radii=[200, 100], snap_distance=50)
    assert acc.index.equals(t_net.node_ids)
    assert list(acc.columns) == [
        "cult_landmarks_100m",
        "cult_landmarks_200m",
        "cult_landmark_access_100m",
        "cult_landmark_access_200m",
        "cult_nearest_landmark",
    ]


def test_nearest_is_missing_beyond_max_nearest(t_net, t_landmarks):
    acc = cult.landmark_access(t_net, t_landmarks, radii=[100], snap_distance=50, max_nearest=100)
    assert acc["cult_nearest_landmark"].isna().tolist() == [False, False, False, False, True]


def test_third_place_access_uses_weights_and_counts(t_net):
    places = gdf(
        [{"weight": 1.0}, {"weight": 3.0}],
        [Point(300, 0), box(180, -40, 220, -2)],  # a café at node 4; a square 2 m off node 2
    )
    acc = cult.third_place_access(t_net, places, radii=[100], snap_distance=50)
    # node 2: the square at 2 m (its nearest boundary point is (200, -2)), the café at 100 m
    assert acc.loc[2, "cult_third_places_100m"] == 2
    assert acc.loc[2, "cult_third_place_access_100m"] == pytest.approx(
        3 * math.exp(-0.04 * 2) + 1 * math.exp(-0.04 * 100)
    )
    assert acc.loc[2, "cult_nearest_third_place"] == pytest.approx(2.0)


def test_features_beyond_the_snap_distance_are_left_out(t_net):
    far = gdf([{"weight": 1.0}, {"weight": 1.0}], [Point(50, 5), Point(50, 500)])
    acc = cult.landmark_access(t_net, far, radii=[1000], snap_distance=50)
    assert acc["cult_landmarks_1000m"].tolist() == [1] * 5


def test_empty_landmarks_give_zeros_and_missing_nearest(t_net):
    empty = gpd.GeoDataFrame({"weight": []}, geometry=[], crs=EPSG)
    acc = cult.landmark_access(t_net, empty, radii=[400], snap_distance=50)
    assert acc["cult_landmarks_400m"].tolist() == [0] * 5
    assert acc["cult_nearest_landmark"].isna().all()


# ---------------------------------------------------------------------------------------
# residents near third places
# ---------------------------------------------------------------------------------------

# Third places: café 1 at node 0, café 2 3 m off segment 1-2, 50 m from node 1.
# A long street 3-5 runs north from node 3 for 400 m.
# Buildings (residents; distance to the nearest café, on paper):
#   a  tip (20, 5):  on 0-1 at 20 m        -> café 1: 20 + 5 = 25
#   b  tip (250, 5): on 2-4 at 50 m        -> café 2: 3 + 50 + 50 + 5 = 108
#   c  tip (105, 400), facing west: on 3-5 at 300 m -> café 2: 3 + 50 + 100 + 300 + 5 = 458
#   d  far from every street               -> not attached, not near
#   e  tip (170, 5): on 1-2 at 70 m, the segment of café 2 -> straight along it:
#      |70 - 50| + 3 + 5 = 28 (not 88 through node 2)
R_NODES = {**T_NODES, 5: (100.0, 500.0)}
R_EDGES = [*T_EDGES, (3, 5)]
RESIDENTS = {"a": 10.0, "b": 20.0, "c": 30.0, "d": 40.0, "e": 50.0}
THIRD_DIST = {"a": 25.0, "b": 108.0, "c": 458.0, "d": np.nan, "e": 28.0}


@pytest.fixture(scope="module")
def r_net():
    return StreetNetwork.from_graph(make_graph(R_NODES, R_EDGES))


@pytest.fixture(scope="module")
def r_buildings():
    return gdf(
        [{"use": "residential", "floors": 2.0, "in_area": True}] * 5,
        [
            diamond(20, 5),
            diamond(250, 5),
            diamond(105, 400, facing="west"),
            diamond(2000, 2000),
            diamond(170, 5),
        ],
        index=pd.Index(list("abcde"), name="building"),
    )


@pytest.fixture(scope="module")
def r_places():
    return gdf([{}, {}], [Point(0, 0), Point(150, -3)])


def test_each_building_walks_to_its_nearest_third_place(r_net, r_buildings, r_places):
    res = pd.Series(RESIDENTS)
    near = cult.residents_near_third_places(
        r_net, r_buildings, r_places, radii=[400, 800], snap_distance=50, residents=res
    )
    d = near.buildings["cult_third_place_distance"]
    assert d.to_dict() == pytest.approx(THIRD_DIST, nan_ok=True)
    assert near.buildings["cult_near_third_place"].to_dict() == {
        "a": True, "b": True, "c": False, "d": False, "e": True
    }  # fmt: skip
    assert near.share == pytest.approx((10 + 20 + 50) / 150)
    assert near.basis == "residents"


def test_per_node_share_of_residents_near_a_third_place(r_net, r_buildings, r_places):
    res = pd.Series(RESIDENTS)
    near = cult.residents_near_third_places(
        r_net, r_buildings, r_places, radii=[400, 800], snap_distance=50, residents=res
    )
    # node 0 reaches a (25 m), e (100 + 70 + 5) and b (200 + 50 + 5) within 400 m, all
    # near a café; within 800 m also c (100 + 100 + 300 + 5), which is not
    assert near.nodes.loc[0, "cult_residents_near_third_place_share_400m"] == 1.0
    assert near.nodes.loc[0, "cult_residents_near_third_place_share_800m"] == pytest.approx(
        80 / 110
    )


def test_without_residents_residential_floor_area_weighs_and_the_basis_says_so(
    r_net, r_buildings, r_places
):
    b = r_buildings.copy()
    b["use"] = ["residential", "residential", "commercial", "residential", None]
    near = cult.residents_near_third_places(r_net, b, r_places, radii=[400], snap_distance=50)
    assert near.basis == "residential floor area"
    area = b.geometry.area.to_numpy()
    expected_w = np.where(b["use"].to_numpy() == "residential", area * 2, 0.0)
    assert near.buildings["cult_resident_weight"].to_numpy() == pytest.approx(expected_w)
    # a and b are near (weight 100 m² each); d is not attached
    assert near.share == pytest.approx(200 / 300)


def test_residential_uses_choose_the_homes(r_net, r_buildings, r_places):
    b = r_buildings.copy()
    b["use"] = ["residential", "unknown", "unknown", "unknown", "commercial"]
    only = cult.residents_near_third_places(r_net, b, r_places, radii=[400], snap_distance=50)
    more = cult.residents_near_third_places(
        r_net, b, r_places, radii=[400], snap_distance=50,
        residential_uses=("residential", "unknown"),
    )  # fmt: skip
    assert only.share == 1.0  # only a counts, and it is near
    assert more.share == pytest.approx(2 / 4)  # a, b near; c far; d not attached


def test_residents_must_cover_every_building(r_net, r_buildings, r_places):
    with pytest.raises(KeyError, match="residents has no value for 2 buildings"):
        cult.residents_near_third_places(
            r_net, r_buildings, r_places, radii=[400], snap_distance=50,
            residents=pd.Series({"a": 1.0, "b": 2.0, "c": 3.0}),
        )  # fmt: skip


# ---------------------------------------------------------------------------------------
# building age
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ([4, 0, 0], 1.0),
        ([1, 1, 1, 1], 4.0),
        ([2, 1, 1], 2**1.5),
        ([1, 1, 2, 0, 0, 0, 1], math.exp(-(3 * 0.2 * math.log(0.2) + 0.4 * math.log(0.4)))),
        ([0, 0], float("nan")),
    ],
    ids=["one-period", "even-4", "half-quarter-quarter", "five-buildings", "none"],
)
def test_period_diversity_is_the_hill_number_of_order_one(counts, expected):
    got = cult.period_diversity(counts)
    if math.isnan(expected):
        assert math.isnan(got)
    else:
        c = np.asarray(counts, dtype=float)
        p = c[c > 0] / c.sum()
        assert got == pytest.approx(math.exp(-(p * np.log(p)).sum()))
        assert got == pytest.approx(expected)


@pytest.mark.parametrize(
    ("year", "label"),
    [
        (1919, "before 1920"),
        (1920, "1920-1944"),
        (1944, "1920-1944"),
        (1945, "1945-1959"),
        (1950, "1945-1959"),
        (2009, "1990-2009"),
        (2010, "2010 or later"),
    ],
    ids=str,
)
def test_construction_periods_split_at_the_given_years(year, label):
    got = cult.construction_periods(pd.Series([year]), age_periods=cult.DEFAULT_AGE_PERIODS)
    assert got.iloc[0] == label


def test_age_periods_must_increase():
    with pytest.raises(ValueError, match="age_periods must be increasing"):
        cult.period_labels([1960, 1945])


# Ten houses along 0-1 and 1-2, all within 200 m of node 1 (at most 95 m along + 5 m off).
# Five have a year, five do not.
AGE_YEARS = [1890, 1930, 1950, 1950, 2015, None, None, None, None, None]


@pytest.fixture(scope="module")
def age_buildings():
    xs = [10, 30, 50, 70, 90, 110, 130, 150, 170, 190]
    return gdf(
        [{"year": y} for y in AGE_YEARS],
        [diamond(x, 5) for x in xs],
    ).astype({"year": "Int64"})


def test_unknown_ages_are_counted_not_guessed(t_net, age_buildings):
    age = cult.building_age(
        t_net, age_buildings, radii=[200], snap_distance=20, reference_year=2025
    )
    row = age.loc[1]
    assert row["cult_buildings_200m"] == 10
    assert row["cult_age_unknown_share_200m"] == 0.5
    known = [y for y in AGE_YEARS if y is not None]
    assert row["cult_year_median_200m"] == np.median(known) == 1950
    assert row["cult_age_median_200m"] == 2025 - 1950
    # periods of the known half: before 1920, 1920-1944, 1945-1959 (2), 2010 or later
    p = np.array([1, 1, 2, 1]) / 5
    assert row["cult_age_diversity_200m"] == pytest.approx(math.exp(-(p * np.log(p)).sum()))


def test_a_catchment_without_dated_buildings_has_no_median_and_an_unknown_share_of_one(t_net):
    b = gdf([{"year": None}] * 3, [diamond(x, 5) for x in (10, 50, 90)])
    age = cult.building_age(t_net, b, radii=[100], snap_distance=20)
    assert age.loc[0, "cult_age_unknown_share_100m"] == 1.0
    assert np.isnan(age.loc[0, "cult_year_median_100m"])
    assert np.isnan(age.loc[0, "cult_age_diversity_100m"])
    assert np.isnan(age.loc[4, "cult_age_unknown_share_100m"])  # no buildings within 100 m


def test_catchment_radius_counts_the_walk_to_each_building(t_net, age_buildings):
    # node 0 at 100 m reaches houses 0-4 (at 10..90 m along + 5 m) but not those past node 1
    age = cult.building_age(t_net, age_buildings, radii=[100], snap_distance=20)
    assert age.loc[0, "cult_buildings_100m"] == 5
    assert age.loc[0, "cult_year_median_100m"] == 1950
    assert age.loc[0, "cult_age_unknown_share_100m"] == 0.0


def test_age_by_cell_counts_each_building_once(age_buildings):
    grid = gpd.GeoSeries([box(0, 0, 100, 100), box(100, 0, 200, 100)], crs=EPSG, index=["w", "e"])
    cells = cult.age_by_cell(age_buildings, grid, reference_year=2000)
    assert cells["cult_buildings"].tolist() == [5.0, 5.0]
    assert cells.loc["w", "cult_year_median"] == 1950
    assert cells.loc["w", "cult_age_median"] == 50
    assert cells.loc["w", "cult_age_unknown_share"] == 0.0
    assert cells.loc["e", "cult_age_unknown_share"] == 1.0
    assert np.isnan(cells.loc["e", "cult_year_median"])


def test_age_by_cell_on_a_hex_grid_of_helsinki(helsinki):
    grid = hex_grid(helsinki.area, 150, crs=helsinki.crs)
    cells = cult.age_by_cell(helsinki.buildings, grid)
    assert cells.index.equals(grid.index)
    inside = helsinki.buildings.representative_point().intersects(grid.union_all())
    assert cells["cult_buildings"].sum() == inside.sum()
    dated = cells["cult_year_median"].notna()
    assert (cells.loc[dated, "cult_age_unknown_share"] < 1).all()
    assert cells["cult_age_diversity"].dropna().between(1, 7).all()


# ---------------------------------------------------------------------------------------
# green and blue
# ---------------------------------------------------------------------------------------

LINE_NODES = {i: (100.0 * i, 0.0) for i in range(5)}  # a straight street, 0 .. 400 m
LINE_EDGES = [(i, i + 1) for i in range(4)]


@pytest.fixture(scope="module")
def line_net():
    return StreetNetwork.from_graph(make_graph(LINE_NODES, LINE_EDGES))


def test_a_big_park_touching_the_street_is_at_distance_zero_not_at_its_centroid(line_net):
    park = gpd.GeoSeries([box(150, 2, 750, 602)], crs=EPSG)  # 2 m north of the street
    near = cult.nearest_entrance(line_net, park, max_nearest=1000)
    # boundary samples every 20 m: the nearest is within 10 m along the street + 2 m off
    assert near[2] <= 12.0 and near[3] <= 12.0 and near[4] <= 12.0
    assert near[1] == pytest.approx(50 + 2)
    assert near[0] == pytest.approx(150 + 2)
    centroid = park.centroid.iloc[0]
    assert centroid.distance(Point(LINE_NODES[2])) > 300


def test_a_node_inside_a_park_is_at_zero(line_net):
    park = gpd.GeoSeries([box(150, -50, 750, 600)], crs=EPSG)
    near = cult.nearest_entrance(line_net, park, max_nearest=1000)
    assert near[2] == near[3] == near[4] == 0.0
    assert near[1] == pytest.approx(50.0)


def test_a_river_beside_the_street_is_reached_all_along_it(line_net):
    river = gpd.GeoSeries([LineString([(-100, -30), (500, -30)])], crs=EPSG)
    near = cult.nearest_entrance(line_net, river, max_nearest=1000)
    assert near.tolist() == pytest.approx([30.0] * 5)


def test_paths_crossing_into_a_park_are_entrances():
    nodes = {0: (0.0, 0.0), 1: (200.0, 0.0), 2: (400.0, 0.0), 3: (200.0, 300.0)}
    net = StreetNetwork.from_graph(make_graph(nodes, [(0, 1), (1, 2), (1, 3)]))
    park = gpd.GeoSeries([box(0, 100, 400, 500)], crs=EPSG)  # 100 m north of the street
    e = cult.green_blue_entrances(net, park)
    crossing = e[e["how"] == "crossing"]
    assert [(p.x, p.y) for p in crossing.geometry] == [(200.0, 100.0)]
    near = cult.nearest_entrance(net, park, max_nearest=1000)
    assert near[1] == pytest.approx(100.0)  # up the path to where it enters the park
    assert near[3] == 0.0  # the path's end lies in the park


def _centres_within(shape, width: float, cell: float = 10.0) -> np.ndarray:
    minx, miny, maxx, maxy = shape.bounds
    xs = np.arange(math.floor((minx - width) / cell), math.ceil((maxx + width) / cell)) * cell
    ys = np.arange(math.floor((miny - width) / cell), math.ceil((maxy + width) / cell)) * cell
    gx, gy = np.meshgrid(xs + cell / 2, ys + cell / 2)
    return shapely.points(gx.ravel(), gy.ravel())


@pytest.mark.parametrize(
    ("node", "radius", "reach_x"),
    [(0, 100, 100.0), (0, 400, 400.0), (2, 100, None), (4, 400, None)],
    ids=["node0-100m", "node0-400m", "node2-100m", "node4-400m"],
)
def test_green_share_is_the_green_part_of_the_buffered_reached_streets(
    line_net, node, radius, reach_x
):
    # Street 0 .. 400 m along y = 0; park over the 50 m strip north of 100 .. 200 m.
    park = gpd.GeoSeries([box(100, 0, 200, 50)], crs=EPSG)
    share = cult.green_share(line_net, park, radii=[100, 400], catchment_width=50, cell=10)
    street = LineString([(0, 0), (400, 0)])
    x0 = LINE_NODES[node][0]
    lo, hi = x0 - radius, x0 + radius
    # cells within 50 m of the street whose nearest street position is within reach
    pts = _centres_within(street, 50)
    buffer = street.buffer(50)
    along = np.clip(shapely.get_x(pts), 0, 400)
    catch = shapely.within(pts, buffer) & (along >= lo) & (along <= hi)
    green = catch & shapely.within(pts, park.iloc[0])
    expected = green.sum() / catch.sum()
    assert share.loc[node, f"cult_green_share_{radius}m"] == pytest.approx(expected)
    if reach_x == 100.0:
        assert expected == 0.0  # the park starts where the 100 m catchment ends


def test_green_areas_and_water_follow_the_documented_selection():
    gb = gdf(
        [
            {"category": "green", "kind": "park", "weight": 1.0},
            {"category": "green", "kind": "grass", "weight": 0.3},
            {"category": "green", "kind": "playground", "weight": 1.0},
            {"category": "cemetery", "kind": "cemetery", "weight": 0.5},
            {"category": "blue", "kind": "water", "weight": 1.0},
            {"category": "blue", "kind": "basin", "weight": 0.3},
            {"category": "blue", "kind": "water", "weight": 1.0},
            {"group": "green", "kind": "green", "weight": 1.0},  # a municipal green layer
        ],
        [
            box(0, 0, 100, 100),
            box(0, 0, 100, 100),
            box(0, 0, 20, 20),  # 400 m²: too small
            box(0, 0, 100, 100),
            box(0, 0, 100, 100),
            box(0, 0, 100, 100),
            Point(5, 5),  # a bay's name
            box(0, 0, 100, 100),
        ],
    )
    assert cult.green_areas(gb).index.tolist() == [0, 7]
    assert cult.water_features(gb).index.tolist() == [4]


# ---------------------------------------------------------------------------------------
# townscape
# ---------------------------------------------------------------------------------------


def test_without_heights_visibility_falls_back_to_network_exposure(t_net, t_graph, t_landmarks):
    b = gdf([{"floors": np.nan, "height": np.nan}], [box(120, 30, 130, 40)])
    vis = cult.landmark_visibility(t_net, t_landmarks, b, betweenness_radius=10_000)
    assert vis.method == "exposure"
    assert "network exposure" in vis.note and "0%" in vis.note
    assert (vis.landmarks["visibility_method"] == "exposure").all()
    assert vis.nodes["cult_landmarks_visible"].isna().all()
    assert vis.landmarks["cult_landmark_visible_area"].isna().all()
    # reference: networkx edge betweenness, summed over the segments within 50 m
    ebc = nx.edge_betweenness_centrality(t_graph, weight="length", normalized=False)
    edges = {(u, v): LineString([T_NODES[u], T_NODES[v]]) for u, v in T_EDGES}
    for name, geom in t_landmarks.geometry.items():
        dist = {e: geom.distance(line) for e, line in edges.items()}
        assert all(abs(d - 50) > 1e-6 for d in dist.values())  # no ties at the limit
        expected = sum(ebc[(u, v, 0)] for (u, v), d in dist.items() if d <= 50)
        assert vis.landmarks.loc[name, "cult_landmark_exposure"] == pytest.approx(expected)


def test_exposure_accepts_a_precomputed_betweenness_frame(t_net, t_landmarks):
    eb = edge_betweenness(t_net, [400, 10_000])
    got = cult.landmark_exposure(t_net, t_landmarks, eb)
    again = cult.landmark_exposure(t_net, t_landmarks, eb["betweenness", 10_000])
    assert got.equals(again)
    with pytest.raises(KeyError, match="lacks 4 segments"):
        cult.landmark_exposure(t_net, t_landmarks, pd.Series([1.0, 2.0]))


@pytest.fixture(scope="module")
def tower_scene():
    """A 10 m tower at node 0 and a 20 m block across the street between nodes 0 and 1."""
    tower = gdf(
        [{"category": "tower", "weight": 2.0, "height": 10.0}], [Point(0, 0)], index=["tower"]
    )
    block = gdf([{"height": 20.0, "floors": np.nan}], [box(60, -20, 80, 20)])
    return tower, block


def test_the_viewshed_sees_past_the_block_only_where_it_does_not_stand(t_net, tower_scene):
    tower, block = tower_scene
    vis = cult.landmark_visibility(t_net, tower, block, radius=600, cell=2)
    assert vis.method == "viewshed"
    assert vis.height_known_share == 1.0
    # node 0 stands at the tower; node 3 looks past the block's corner; nodes 1, 2 and 4
    # are behind it: the sight line from 10 m to 1.6 m at 100 m is 5 m high at x = 60
    assert vis.nodes["cult_landmarks_visible"].tolist() == [1, 0, 0, 1, 0]
    assert vis.nodes["cult_landmarks_visible_weight"].tolist() == [2, 0, 0, 2, 0]
    row = vis.landmarks.loc["tower"]
    assert row["cult_landmark_visible_nodes"] == 2
    assert row["target_height"] == 10.0
    assert 0.8 * math.pi * 600**2 < row["cult_landmark_visible_area"] < math.pi * 600**2
    assert np.isnan(row["cult_landmark_exposure"])


def test_landmark_heights_come_from_the_landmark_its_building_or_its_category(t_net):
    church_walls = Polygon([(140, 20), (160, 20), (160, 60), (140, 60)])
    marks = gdf(
        [
            {"category": "religious", "weight": 1.5},  # its own building is 15 m: 20 m default
            {"category": "heritage", "weight": 3.0},  # its own building is 24 m
            {"category": "memorial", "weight": 1.0},
            {"category": "art", "weight": 0.5, "height": 7.0},
        ],
        [church_walls, Point(250, 30), Point(50, 5), Point(150, -5)],
    )
    b = gdf(
        [{"height": 15.0}, {"height": 24.0}],
        [church_walls, box(240, 20, 260, 40)],
    )
    vis = cult.landmark_visibility(t_net, marks, b, radius=100, cell=2)
    assert vis.landmarks["target_height"].tolist() == [20.0, 24.0, 3.0, 7.0]
    # its own walls do not hide the church: the street beside it sees it
    assert vis.landmarks["cult_landmark_visible_nodes"].iloc[0] >= 2


def test_visibility_method_can_be_forced_and_is_checked(t_net, t_landmarks, tower_scene):
    _, block = tower_scene
    forced = cult.landmark_visibility(t_net, t_landmarks, block, method="exposure")
    assert forced.method == "exposure" and forced.note == "exposure chosen by the caller"
    with pytest.raises(ValueError, match="method must be"):
        cult.landmark_visibility(t_net, t_landmarks, block, method="isovist")  # type: ignore[arg-type]


def test_no_landmarks_means_nothing_to_see(t_net, tower_scene):
    _, block = tower_scene
    empty = gpd.GeoDataFrame({"weight": []}, geometry=[], crs=EPSG)
    vis = cult.landmark_visibility(t_net, empty, block)
    assert vis.method == "none"
    assert vis.nodes["cult_landmarks_visible"].tolist() == [0.0] * 5
    assert len(vis.landmarks) == 0


def test_a_landmark_on_unknown_terrain_falls_back_to_exposure_alone(t_net, tower_scene):
    from pyproj import CRS
    from rasterio.transform import from_origin

    from rakennettu.sources.municipal import Raster

    _, block = tower_scene
    terrain = np.zeros((280, 280), dtype="float32")  # 5 m cells over -700 .. 700 m
    transform = from_origin(-700, 700, 5, 5)
    col, row = ~transform * (250, 30)
    terrain[int(row) - 2 : int(row) + 3, int(col) - 2 : int(col) + 3] = np.nan
    dem = Raster(terrain, transform, CRS.from_epsg(EPSG))
    marks = gdf([{"weight": 1.0}, {"weight": 1.0}], [Point(45, 5), Point(250, 30)])
    vis = cult.landmark_visibility(t_net, marks, block, radius=300, cell=5, dem=dem)
    assert vis.method == "viewshed"
    assert vis.landmarks["visibility_method"].tolist() == ["viewshed", "exposure"]
    assert vis.landmarks["cult_landmark_visible_area"].notna().tolist() == [True, False]
    assert vis.landmarks["cult_landmark_exposure"].notna().tolist() == [True, True]


@pytest.mark.shared
def test_with_a_dem_the_viewshed_runs_on_the_terrain(shared_data):
    from pyproj import CRS

    from rakennettu.sources.municipal import read_raster

    dem = read_raster(
        shared_data("helsinki-misc", "elevation_model_2021_lapinlahti.tif"),
        to_crs=CRS.from_epsg(EPSG),
    )
    left, top = dem.transform.c, dem.transform.f
    h, w = dem.array.shape
    cx, cy = left + w * dem.transform.a / 2, top + h * dem.transform.e / 2
    nodes = {i: (cx - 90 + 45.0 * i, cy) for i in range(5)}
    nodes[5] = (cx, cy + 100)
    net = StreetNetwork.from_graph(make_graph(nodes, [(i, i + 1) for i in range(4)] + [(2, 5)]))
    mark = gdf([{"category": "memorial", "weight": 1.0}], [Point(cx, cy - 5)])
    houses = gdf([{"height": np.nan, "floors": np.nan}], [box(cx + 200, cy, cx + 210, cy + 10)])
    on_dem = cult.landmark_visibility(net, mark, houses, radius=120, cell=2, dem=dem)
    assert on_dem.method == "viewshed"
    assert "DEM" in on_dem.note
    flat = cult.landmark_visibility(net, mark, houses, radius=120, cell=2, method="viewshed")
    a_dem = on_dem.landmarks["cult_landmark_visible_area"].iloc[0]
    a_flat = flat.landmarks["cult_landmark_visible_area"].iloc[0]
    assert 0 < a_dem < a_flat  # terrain hides part of what flat ground would show


# ---------------------------------------------------------------------------------------
# contracts: CRS, inputs, documentation
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("crs", "match"),
    [(4326, "geographic"), (3857, "reproject with landmarks.to_crs")],
    ids=["geographic", "other-projected"],
)
def test_layers_in_another_crs_raise(t_net, t_landmarks, crs, match):
    with pytest.raises(CRSError, match=match):
        cult.landmark_access(t_net, t_landmarks.to_crs(crs), radii=[100], snap_distance=50)


@pytest.mark.parametrize(
    "radii", [[], [0], [100.5], [-400]], ids=["empty", "zero", "fraction", "negative"]
)
def test_radii_are_checked(t_net, t_landmarks, radii):
    with pytest.raises(ValueError, match="radii"):
        cult.landmark_access(t_net, t_landmarks, radii=radii, snap_distance=50)


def test_inputs_are_not_modified(t_net, t_landmarks, r_buildings, r_places):
    frames = [t_landmarks, r_buildings, r_places]
    before = [f.copy() for f in frames]
    cult.landmark_access(t_net, t_landmarks, radii=[100], snap_distance=50)
    cult.residents_near_third_places(t_net, r_buildings, r_places, radii=[100], snap_distance=50)
    cult.building_age(t_net, r_buildings, radii=[100], snap_distance=50)
    cult.landmark_visibility(t_net, t_landmarks, r_buildings, method="viewshed")
    for b, f in zip(before, frames, strict=True):
        pd.testing.assert_frame_equal(b, f)


def test_every_indicator_is_documented_once_per_level():
    keys = [(d.measure, d.per_radius, d.level) for d in cult.INDICATORS]
    assert len(keys) == len(set(keys))
    assert all(d.dimension == "cult" for d in cult.INDICATORS)


def test_the_method_notes_list_every_indicator():
    from pathlib import Path

    notes = (Path(__file__).resolve().parent.parent / "docs" / "cultural.md").read_text()
    rows = {
        (cells[1].strip("` "), cells[2].strip())
        for line in notes.splitlines()
        if line.startswith("| `cult_") and len(cells := line.split("|")) > 3
    }
    documented = {
        (f"cult_{d.measure}" + ("_<R>m" if d.per_radius else ""), d.level) for d in cult.INDICATORS
    }
    assert rows == documented


# ---------------------------------------------------------------------------------------
# real towns
# ---------------------------------------------------------------------------------------


def _prepared(town):
    """The town's prepared buildings with the settings the layers defaulted to before."""
    return prepare(town, FormConfig(), SocialConfig(unknown_as_homes="never"))


@pytest.fixture(scope="module")
def helsinki_net(helsinki):
    return StreetNetwork.from_graph(helsinki.graph)


@pytest.fixture(scope="module")
def helsinki_layer(helsinki, helsinki_net):
    return cult.cultural_layer(helsinki, helsinki_net, _prepared(helsinki), reference_year=2025)


@pytest.fixture(scope="module")
def kotka_layer(kotka):
    net = StreetNetwork.from_graph(kotka.graph)
    return cult.cultural_layer(kotka, net, _prepared(kotka), reference_year=2025)


def test_building_catchments_agree_with_networkx_on_helsinki(helsinki, helsinki_net):
    b = helsinki.buildings
    age = cult.building_age(helsinki_net, b, radii=[400, 800], snap_distance=100)
    att = attach(helsinki_net, b, max_distance=100)
    ok = att["attached"].to_numpy(dtype=bool)
    years = pd.to_numeric(b["year"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    rng = np.random.default_rng(7)
    for node in rng.choice(helsinki_net.node_ids.to_numpy(), size=12, replace=False):
        dist = nx.single_source_dijkstra_path_length(
            helsinki.graph, node, cutoff=800, weight="length"
        )
        du = np.array([dist.get(n, np.inf) for n in att["edge_u"]], dtype=float)
        dv = np.array([dist.get(n, np.inf) for n in att["edge_v"]], dtype=float)
        d = np.minimum(du + att["dist_u"], dv + att["dist_v"]) + att["snap_distance"]
        d = np.where(ok, d, np.inf)
        for r in (400, 800):
            within = d <= r
            known = within & np.isfinite(years)
            assert age.loc[node, f"cult_buildings_{r}m"] == within.sum()
            if known.any():
                assert age.loc[node, f"cult_year_median_{r}m"] == np.median(years[known])
            if within.any():
                assert age.loc[node, f"cult_age_unknown_share_{r}m"] == pytest.approx(
                    1 - known.sum() / within.sum()
                )


@pytest.mark.parametrize("town_name", ["kotka", "helsinki"])
def test_cultural_layer_tables_keep_their_indexes_and_are_documented(request, town_name):
    town = request.getfixturevalue(town_name)
    layer = request.getfixturevalue(f"{town_name}_layer")
    assert layer.nodes.index.equals(pd.Index(list(town.graph.nodes), name="node_id"))
    assert layer.landmarks.index.equals(town.landmarks.index)
    assert layer.buildings.index.equals(town.buildings.index)
    for level, frame in (
        ("node", layer.nodes),
        ("landmark", layer.landmarks),
        ("building", layer.buildings),
    ):
        for col in frame.columns:
            if not col.startswith("cult_"):
                continue
            parse_name(col)
            doc = describe(col, tuple(d for d in cult.INDICATORS if d.level == level))
            assert doc is not None, f"{col} ({level}) is not in INDICATORS"
    expected_nodes = {
        d.measure for d in cult.INDICATORS if d.level == "node"
    }  # every documented node measure is made
    made = {parse_name(c).measure for c in layer.nodes.columns}
    assert made == expected_nodes
    assert set(layer.timings) == {
        "landmarks", "third places", "green and blue", "catchments", "townscape"
    }  # fmt: skip


@pytest.mark.parametrize("town_name", ["kotka", "helsinki"])
def test_cultural_layer_values_are_sane(request, town_name):
    layer = request.getfixturevalue(f"{town_name}_layer")
    n = layer.nodes
    radii = layer.summary["radii_m"]
    for a, b in itertools.pairwise(radii):
        for m in ("landmarks", "third_places", "buildings"):
            assert (n[f"cult_{m}_{a}m"] <= n[f"cult_{m}_{b}m"]).all()
    shares = [c for c in n.columns if "share" in c]
    assert all(n[c].dropna().between(0, 1).all() for c in shares)
    for c in ("landmark", "third_place", "green", "water"):
        assert (n[f"cult_nearest_{c}"].dropna() >= 0).all()
        assert (n[f"cult_nearest_{c}"].dropna() <= max(radii)).all()
    div = n[[c for c in n.columns if "age_diversity" in c]].to_numpy().ravel()
    div = div[np.isfinite(div)]
    assert ((div >= 1 - 1e-9) & (div <= 7 + 1e-9)).all()
    assert 0 <= layer.summary["residents_near_third_place_share"] <= 1


def test_kotka_buildings_have_no_dates_and_none_is_taken_as_new(kotka_layer):
    n = kotka_layer.nodes
    assert kotka_layer.summary["age_unknown_share"] == 1.0
    assert n[[c for c in n.columns if "year_median" in c]].isna().all().all()
    assert (n["cult_age_unknown_share_1200m"] == 1.0).all()
    assert kotka_layer.summary["visibility_method"] == "none"  # Karhula maps no landmarks


def test_helsinki_falls_back_to_exposure_and_says_why(helsinki_layer):
    s = helsinki_layer.summary
    assert s["visibility_method"] == "exposure"
    assert s["height_known_share"] < 0.5
    assert "no DEM" in s["visibility_note"]
    lm = helsinki_layer.landmarks
    assert (lm["visibility_method"] == "exposure").all()
    assert (lm["cult_landmark_exposure"] >= 0).all()
    assert helsinki_layer.nodes["cult_landmarks_visible"].isna().all()
    assert s["age_unknown_share"] == pytest.approx(
        helsinki_layer.buildings["cult_year"].isna().mean()
    )


def test_helsinki_viewshed_when_forced(helsinki, helsinki_net):
    layer = cult.cultural_layer(
        helsinki,
        helsinki_net,
        _prepared(helsinki),
        network=NetworkConfig(radii=(400,)),
        cultural=CulturalConfig(visibility="viewshed"),
        reference_year=2025,
    )
    lm = layer.landmarks
    assert (lm["visibility_method"] == "viewshed").all()
    assert (lm["cult_landmark_visible_area"] > 0).all()
    assert (lm["cult_landmark_visible_area"] <= math.pi * 600**2).all()
    visible = layer.nodes["cult_landmarks_visible"]
    assert visible.notna().all() and visible.max() > 0
    assert visible.sum() == lm["cult_landmark_visible_nodes"].sum()


def test_cultural_layer_leaves_the_town_untouched(kotka):
    frames = {k: v.copy() for k, v in kotka.layers().items()}
    net = StreetNetwork.from_graph(kotka.graph)
    cult.cultural_layer(kotka, net, _prepared(kotka), network=NetworkConfig(radii=(400,)))
    for k, v in kotka.layers().items():
        pd.testing.assert_frame_equal(frames[k], v, obj=k)


def test_catchment_cells_are_every_raster_centre_within_the_width_of_a_street(kotka):
    # Reference: the whole raster over the streets' extent, each centre tested against
    # all the streets at once (the blocks of cells first kept near streets must lose none).
    from rakennettu.layers.cultural import green

    net = StreetNetwork.from_graph(kotka.graph)
    width, cell = 50.0, 10.0
    pts, att = green._catchment_cells(net, width, cell)
    streets = shapely.multilinestrings(net.edges.geometry.to_numpy())
    everything = _centres_within(streets, width, cell)
    expected = everything[shapely.dwithin(everything, streets, width)]
    assert len(expected) < 0.8 * len(everything)  # open land between the streets
    assert shapely.equals_exact(pts, expected, tolerance=0).all()
    assert len(pts) == len(expected) and att.index.equals(pd.RangeIndex(len(pts)))
    # attached as attach_points attaches them (the tree's nearest edge, one by one)
    ref = attach_points(net, gpd.GeoSeries(pts, crs=net.crs), max_distance=width)
    pd.testing.assert_frame_equal(att, ref)


def test_points_attached_among_their_candidate_edges_as_by_the_nearest_query():
    # Hand-made: the grid of 100 m blocks; (-10, -10) is as far from the edge 0-1 as from
    # 0-3 (a tie the tree's nearest query decides), (50, 5) nearest 0-1, (500, 500) none.
    from rakennettu.network import attach_points_among

    G = nx.MultiGraph(nx.convert_node_labels_to_integers(nx.grid_2d_graph(3, 3)))
    G.graph["crs"] = "EPSG:3067"
    nx.set_node_attributes(G, {i: 100.0 * (i % 3) for i in G}, "x")
    nx.set_node_attributes(G, {i: 100.0 * (i // 3) for i in G}, "y")
    nx.set_edge_attributes(G, 100.0, "length")
    net = StreetNetwork.from_graph(G)
    pts = gpd.GeoSeries([Point(-10, -10), Point(50, 5), Point(150, 95), Point(500, 500)],
                        crs=net.crs)  # fmt: skip
    pairs = net._tree.query(pts.to_numpy(), predicate="dwithin", distance=30)
    among = attach_points_among(net, pts, pairs, max_distance=30)
    pd.testing.assert_frame_equal(among, attach_points(net, pts, max_distance=30))
    assert among["snap_distance"].round(6).tolist()[:3] == [round(200**0.5, 6), 5.0, 5.0]
    assert among["attached"].tolist() == [True, True, True, False]
