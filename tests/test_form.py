"""Tests of rakennettu.layers.form: hand-worked geometry, momepy as reference, invariants."""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import momepy
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.spatial.distance import cdist
from shapely import LineString, box

from rakennettu.errors import CRSError
from rakennettu.layers import form, tessellate
from rakennettu.layers.morphology import MorphologyLayer, block_streets
from rakennettu.synthesis.grid import aggregate_to_grid, hex_grid
from rakennettu.town import Town

pytestmark = [
    # pyrosm warns when a custom query (rail, water) finds nothing in an extract;
    # Karhula has no rivers or lakes, which is fine for these tests.
    pytest.mark.filterwarnings("ignore:Could not find any OSM data for given area:UserWarning"),
    # momepy 0.11's enclosed_tessellation concatenates an empty, CRS-less frame when no
    # enclosure is empty or holds a single building; geopandas warns, the CRS is right.
    pytest.mark.filterwarnings(
        "ignore:CRS not set for some of the concatenation inputs:UserWarning"
    ),
]

EPSG = 3067


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture(
    scope="session",
    params=[
        pytest.param("helsinki", id="helsinki", marks=pytest.mark.slow),
        pytest.param("kotka", id="karhula", marks=pytest.mark.slow),
    ],
)
def town(request: pytest.FixtureRequest) -> Town:
    """The bundled towns as the run loads them (tests/conftest.py: load_town)."""
    return request.getfixturevalue(request.param)


@pytest.fixture(scope="session")
def town_form(request: pytest.FixtureRequest, town: Town) -> MorphologyLayer:
    """The form tables of the run path: the morphology layer (at 200 and 400 m), computed
    once for the session (tests/conftest.py)."""
    return request.getfixturevalue(f"{town.name.split('-')[0]}_morph")


def _gdf(geoms: list[Any], **columns: Any) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=geoms, crs=EPSG)


# ---------------------------------------------------------------- hand-worked geometry


@pytest.mark.parametrize(
    ("second", "shared"),
    [
        pytest.param(box(10, 0, 20, 10), 10.0, id="side-by-side"),
        pytest.param(box(10, 5, 20, 15), 5.0, id="half-wall"),
        pytest.param(box(10, 10, 20, 20), 0.0, id="corner-only"),
        pytest.param(box(11, 0, 21, 10), 0.0, id="one-metre-gap"),
    ],
)
def test_two_squares_share_a_wall_of_known_length(second: shapely.Polygon, shared: float) -> None:
    b = _gdf([box(0, 0, 10, 10), second], floors=[1.0, 1.0], height=np.nan)
    m = form.building_measures(b)
    assert m[form.SHARED_WALLS].tolist() == pytest.approx([shared, shared])
    assert m[form.SHARED_WALLS_RATIO].iloc[0] == pytest.approx(shared / 40)


@pytest.mark.parametrize(
    ("floors", "height", "far", "source"),
    [
        pytest.param(3.0, np.nan, 0.06, "floors", id="three-floors"),
        pytest.param(3.0, 30.0, 0.06, "floors", id="floors-beat-height"),
        pytest.param(np.nan, 9.5, 0.06, "height", id="height-9.5m"),
        pytest.param(np.nan, 2.0, 0.02, "height", id="low-height-one-floor"),
        pytest.param(np.nan, np.nan, 0.02, "assumed", id="unknown-one-floor"),
        pytest.param(0.0, np.nan, 0.02, "assumed", id="zero-floors-unknown"),
    ],
)
def test_block_of_100m_with_a_20_by_10m_building(
    floors: float, height: float, far: float, source: str
) -> None:
    block = gpd.GeoSeries([box(0, 0, 100, 100)], crs=EPSG)
    house = _gdf([box(40, 40, 60, 50)], floors=[floors], height=[height])
    measures = form.building_measures(house)
    assert measures[form.FLOORS_SOURCE].iloc[0] == source
    got = form.enclosure_measures(block, house, measures[form.FLOORS]).iloc[0]
    assert got[form.ENCLOSURE_AREA] == pytest.approx(10_000)
    assert got[form.ENCLOSURE_BUILDINGS] == 1
    assert got[form.ENCLOSURE_COVERAGE] == pytest.approx(0.02)
    assert got[form.ENCLOSURE_FAR] == pytest.approx(far)


def test_building_reaching_into_two_blocks_counts_by_its_parts() -> None:
    blocks = gpd.GeoSeries([box(0, 0, 100, 100), box(100, 0, 200, 100)], crs=EPSG)
    house = _gdf([box(90, 0, 130, 10)], floors=[2.0], height=np.nan)  # 10 m² | 30 m² ×10
    got = form.enclosure_measures(blocks, house, pd.Series([2.0]))
    assert got[form.ENCLOSURE_COVERAGE].tolist() == pytest.approx([0.01, 0.03])
    assert got[form.ENCLOSURE_FAR].tolist() == pytest.approx([0.02, 0.06])
    assert got[form.ENCLOSURE_BUILDINGS].tolist() == [0, 1]  # its representative point


def test_nested_footprints_cover_the_ground_once_at_the_tallest() -> None:
    # a 20 × 20 m hall of 2 floors with a 5 × 5 m tower of 10 floors mapped inside it
    cell = gpd.GeoSeries([box(0, 0, 100, 100)], crs=EPSG)
    hall_and_tower = _gdf([box(0, 0, 20, 20), box(5, 5, 10, 10)])
    got = form.cell_measures(cell, hall_and_tower, pd.Series([2.0, 10.0])).iloc[0]
    assert got[form.CELL_COVERAGE] == pytest.approx(400 / 10_000)
    assert got[form.CELL_FAR] == pytest.approx((375 * 2 + 25 * 10) / 10_000)


def test_tessellation_splits_a_block_between_its_buildings() -> None:
    # not symmetric on purpose: momepy's cells overlap or leave gaps where the Voronoi
    # diagram of a mirror-symmetric layout is degenerate
    blocks = gpd.GeoSeries([box(0, 0, 100, 100), box(100, 0, 200, 100)], crs=EPSG)
    houses = _gdf([box(10, 10, 30, 25), box(60, 55, 85, 90), box(120, 40, 140, 60)])
    houses.index = pd.Index(["a", "b", "c"])
    cells = form.tessellation(houses, blocks)
    assert cells[form.BUILDING_ID].tolist() == ["a", "b", "c"]
    assert cells[form.ENCLOSURE_ID].tolist() == [0, 0, 1]
    assert cells.area.sum() == pytest.approx(20_000)
    assert cells.contains(houses.geometry.reset_index(drop=True)).all()
    measures = form.cell_measures(cells, houses, pd.Series(1.0, index=houses.index))
    assert measures[form.CELL_COVERAGE].iloc[2] == pytest.approx(400 / 10_000)
    assert (measures[form.CELL_AREA] * measures[form.CELL_COVERAGE]).sum() == pytest.approx(
        houses.area.sum()
    )


@pytest.mark.parametrize(
    ("houses", "owners"),
    [
        pytest.param([box(10, 10, 30, 20)], [0, -1], id="one-building"),
        pytest.param([box(10, 10, 30, 20), box(110, 10, 130, 20)], [0, 1], id="one-per-block"),
        pytest.param([box(90, 10, 110, 20)], [0, 0], id="one-across-the-street"),
    ],
)
def test_tessellation_without_a_block_of_two_buildings(
    houses: list[shapely.Polygon], owners: list[int]
) -> None:
    # momepy 0.11 raises "No objects to concatenate" here; each cell is then its block
    blocks = gpd.GeoSeries([box(0, 0, 100, 100), box(100, 0, 200, 100)], crs=EPSG)
    cells = form.tessellation(_gdf(houses), blocks)
    expected = pd.array([o if o >= 0 else None for o in owners], dtype="Int64")
    assert cells[form.BUILDING_ID].array.equals(expected)
    assert shapely.equals(cells.geometry.to_numpy(), blocks.to_numpy()).all()


def test_enclosures_drop_water_and_stop_at_rail_and_area_edge() -> None:
    streets = gpd.GeoSeries([LineString([(50, -10), (50, 110)])], crs=EPSG)
    barriers = gpd.GeoSeries(
        [LineString([(-10, 50), (50, 50)]), box(60, 60, 90, 90)],  # rail; a pond
        crs=EPSG,
    )
    got = form.enclosures(streets, barriers=barriers, area=box(0, 0, 100, 100))
    assert sorted(got.area.round(6)) == [2500.0, 2500.0, 5000.0 - 900.0]
    assert got.index.name == form.ENCLOSURE_ID


@pytest.mark.parametrize(
    ("floors", "height", "expected"),
    [
        pytest.param([2.5], [np.nan], [2.5], id="fractional-floors"),
        pytest.param([np.nan], [22.0], [7.0], id="height-floor-division"),
        pytest.param([-1.0], [np.nan], [1.0], id="negative-floors-unknown"),
        pytest.param([np.nan], [np.inf], [1.0], id="infinite-height-unknown"),
    ],
)
def test_estimate_floors(floors: list[float], height: list[float], expected: list[float]) -> None:
    df = pd.DataFrame({"floors": floors, "height": height})
    assert form.estimate_floors(df)[form.FLOORS].tolist() == expected


def test_estimate_floors_without_columns_assumes_default() -> None:
    got = form.estimate_floors(pd.DataFrame(index=[5, 6]), default_floors=2.0)
    assert got[form.FLOORS].tolist() == [2.0, 2.0]
    assert got[form.FLOORS_SOURCE].tolist() == ["assumed", "assumed"]


def test_floor_area_matches_momepy_where_height_gives_a_floor() -> None:
    # momepy's own docstring example; the last one (4.5 m) is a single floor in both
    area = pd.Series([100.0, 30.0, 40.0, 75.0, 230.0])
    height = pd.Series([22.0, 6.5, 12.0, 9.0, 4.5])
    squares = [box(0, 0, math.sqrt(a), math.sqrt(a)) for a in area]
    got = form.building_measures(_gdf(squares, floors=np.nan, height=height.to_numpy()))
    np.testing.assert_allclose(got[form.FLOOR_AREA], momepy.floor_area(area, height))


def test_floor_area_below_one_storey_height_differs_from_momepy() -> None:
    # momepy gives a 2.5 m shed no floor area (2.5 // 3 = 0); we count one floor
    got = form.building_measures(_gdf([box(0, 0, 10, 10)], floors=np.nan, height=[2.5]))
    assert momepy.floor_area(pd.Series([100.0]), pd.Series([2.5])).iloc[0] == 0
    assert got[form.FLOOR_AREA].iloc[0] == pytest.approx(100.0)


@pytest.mark.parametrize(
    ("lines", "strokes"),
    [
        pytest.param(
            [[(0, 0), (100, 0)], [(100, 0), (200, 0)], [(100, 0), (100, 50)]],
            [0, 0, 1],
            id="tee",
        ),
        pytest.param(
            [[(0, 0), (100, 0)], [(100, 0), (200, 5)], [(100, 0), (180, 60)]],
            [0, 0, 1],
            id="fork-follows-straightest",
        ),
        pytest.param(
            [[(0, 0), (100, 0)], [(0, 0), (100, 0)], [(100, 0), (200, 0)]],
            [0, 0, 0],
            id="duplicate-joins-its-twin",
        ),
    ],
)
def test_strokes_on_small_networks(lines: list[Any], strokes: list[int]) -> None:
    got = form.street_measures(_gdf([LineString(c) for c in lines]))
    assert got[form.STROKE_ID].tolist() == strokes


def test_duplicate_segment_adds_nothing_to_its_stroke() -> None:
    lines = [LineString([(0, 0), (100, 0)])] * 2 + [LineString([(100, 0), (200, 0)])]
    got = form.street_measures(_gdf(lines))
    assert got[form.STROKE_LENGTH].tolist() == [200.0] * 3
    assert got[form.STROKE_EDGES].tolist() == [2] * 3


def test_street_summary_of_a_square_with_a_tail() -> None:
    #  3 ---- 2
    #  |      |
    #  0 ---- 1 ---- 4      100 m sides, one dead end (4)
    xy = {0: (0, 0), 1: (100, 0), 2: (100, 100), 3: (0, 100), 4: (200, 0)}
    pairs = [(0, 1), (1, 2), (2, 3), (3, 0), (1, 4)]
    streets = _gdf([LineString([xy[u], xy[v]]) for u, v in pairs], length=[100.0] * 5)
    got = form.street_summary(streets, area=box(0, 0, 1000, 1000))
    assert got["morph_intersection_density"] == pytest.approx(1.0)  # node 1, in 1 km²
    assert got["morph_dead_end_share"] == pytest.approx(1 / 5)
    assert got["morph_node_degree_2_share"] == pytest.approx(3 / 5)
    assert got["morph_mean_node_degree"] == pytest.approx(2.0)
    assert got["morph_segment_length_mean"] == pytest.approx(100.0)
    assert got["morph_meshedness"] == pytest.approx((5 - 5 + 1) / (2 * 5 - 5))
    assert got["morph_gamma"] == pytest.approx(5 / (3 * 3))


# -------------------------------------------------- meshedness and gamma from counts


def _grid_graph() -> nx.MultiGraph:
    """A 4 × 4 street grid, 100 m blocks, with one diagonal and one parallel edge."""
    g = nx.MultiGraph(nx.grid_2d_graph(4, 4))
    nx.set_edge_attributes(g, 100.0, "length")
    g.add_edge((0, 0), (1, 1), length=141.0)
    g.add_edge((2, 2), (2, 3), length=120.0)  # a second, curved street between two nodes
    return g


def _ego_counts(graph: nx.MultiGraph, radius: float) -> pd.DataFrame:
    rows = {}
    for n in graph.nodes:
        sub = nx.ego_graph(graph, n, radius=radius, distance="length")
        rows[n] = (sub.number_of_nodes(), sub.number_of_edges(), sub.size("length"))
    return pd.DataFrame.from_dict(
        rows, orient="index", columns=["node_count", "edge_count", "street_length"]
    )


@pytest.fixture(scope="module", params=["grid", "karhula"])
def small_graph(request: pytest.FixtureRequest) -> nx.MultiGraph:
    if request.param == "grid":
        return _grid_graph()
    return request.getfixturevalue("kotka").graph


@pytest.mark.parametrize("radius", [150, 400, 800], ids=lambda r: f"{r}m")
def test_meshedness_and_gamma_from_counts_match_momepy(
    small_graph: nx.MultiGraph, radius: int
) -> None:
    counts = _ego_counts(small_graph, radius)
    ours = form.radius_measures(counts, radius)
    mesh = nx.get_node_attributes(
        momepy.meshedness(small_graph, radius=radius, distance="length", verbose=False),
        "meshedness",
    )
    gam = nx.get_node_attributes(
        momepy.gamma(small_graph, radius=radius, distance="length", verbose=False), "gamma"
    )
    reference = pd.DataFrame({"meshedness": mesh, "gamma": gam}).loc[counts.index]
    defined = counts["node_count"] >= 3
    np.testing.assert_allclose(
        ours.loc[defined, f"morph_meshedness_{radius}m"], reference.loc[defined, "meshedness"]
    )
    np.testing.assert_allclose(
        ours.loc[defined, f"morph_gamma_{radius}m"], reference.loc[defined, "gamma"]
    )
    # below three nodes momepy returns 0, a negative number or NaN; we say NaN
    assert ours.loc[~defined].isna().iloc[:, :2].all().all()


@pytest.mark.parametrize("radius", [150, 400], ids=lambda r: f"{r}m")
def test_node_density_from_counts_matches_momepy_per_km(
    small_graph: nx.MultiGraph, radius: int
) -> None:
    counts = _ego_counts(small_graph, radius)
    ours = form.node_density(counts["node_count"], counts["street_length"])
    with_degree = momepy.node_degree(small_graph)
    density = nx.get_node_attributes(
        momepy.node_density(
            with_degree, radius=radius, length="length", distance="length", verbose=False
        ),
        "node_density",
    )
    np.testing.assert_allclose(ours, pd.Series(density).loc[counts.index] * 1000)


@pytest.mark.parametrize(
    ("v", "e", "expected_mesh", "expected_gamma"),
    [
        pytest.param(3, 2, 0.0, 2 / 3, id="path-of-three"),
        pytest.param(3, 3, 1.0, 1.0, id="triangle"),
        pytest.param(2, 1, np.nan, np.nan, id="single-edge"),
        pytest.param(1, 0, np.nan, np.nan, id="lone-node"),
    ],
)
def test_meshedness_and_gamma_small_cases(
    v: int, e: int, expected_mesh: float, expected_gamma: float
) -> None:
    np.testing.assert_allclose(form.meshedness(v, e), expected_mesh)
    np.testing.assert_allclose(form.gamma(v, e), expected_gamma)


def test_counts_functions_keep_a_series_index() -> None:
    v = pd.Series([4, 5], index=["a", "b"])
    assert form.meshedness(v, np.array([4, 6])).index.tolist() == ["a", "b"]


# ------------------------------------------------ whole towns, momepy as the reference


def _valid(buildings: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    keep = buildings.is_valid & buildings.geom_type.isin(["Polygon", "MultiPolygon"])
    return buildings[keep]


@pytest.mark.parametrize(
    ("column", "reference"),
    [
        pytest.param(form.ELONGATION, momepy.elongation, id="elongation"),
        pytest.param(form.CIRCULAR_COMPACTNESS, momepy.circular_compactness, id="compactness"),
        pytest.param(form.ORIENTATION, momepy.orientation, id="orientation"),
        pytest.param(form.SHARED_WALLS, momepy.shared_walls, id="shared-walls"),
    ],
)
def test_building_shape_matches_momepy(town: Town, column: str, reference: Any) -> None:
    valid = _valid(town.buildings)
    ours = form.building_measures(valid)[column]
    np.testing.assert_allclose(ours, reference(valid), rtol=1e-9, atol=1e-9)


def test_footprint_area_matches_geopandas(town: Town) -> None:
    valid = _valid(town.buildings)
    got = form.building_measures(valid)[form.FOOTPRINT_AREA]
    np.testing.assert_allclose(got, valid.area)


def test_enclosures_match_momepy_less_the_water(town: Town) -> None:
    streets = block_streets(town.edges)
    ours = form.enclosures(streets, barriers=town.barriers, area=town.area)
    barriers = town.barriers.geometry
    is_water = barriers.geom_type.str.contains("Polygon")
    lines = pd.concat([barriers[~is_water], barriers[is_water].boundary])
    theirs = momepy.enclosures(
        streets,
        limit=gpd.GeoSeries([town.area], crs=EPSG),
        additional_barriers=[lines],
        clip=True,
    )
    key = lambda g: set(shapely.to_wkb(shapely.normalize(g.geometry.to_numpy())))  # noqa: E731
    assert key(ours) <= key(theirs)
    dropped = theirs[~theirs.geometry.normalize().to_wkb().isin(key(ours))]
    water = barriers[is_water]
    assert dropped.representative_point().within(water.union_all()).all()


def _apart(buildings: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Valid footprints that overlap no other (momepy's input requirement)."""
    valid = _valid(buildings)
    left, right = valid.sindex.query(valid.geometry, predicate="intersects")
    left, right = left[left != right], right[left != right]
    shared = valid.geometry.iloc[left].intersection(valid.geometry.iloc[right], align=False)
    crowded = np.unique(left[shared.area.to_numpy() > 0])
    return valid.drop(index=valid.index[crowded])


def _central_blocks(
    town: Town, buildings: gpd.GeoDataFrame, side: float = 900.0, most: int = 400
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """A part of the town, a few times cheaper to tessellate than all of it.

    The enclosures that reach into a square of `side` metres around the middle of the
    town's area and hold at most `most` buildings, whole, and the buildings that touch
    them. Every enclosure goes the same way through the tessellation whatever its size;
    the cost grows faster than the buildings in one enclosure, so large ones cost most.
    """
    enclosures = form.enclosures(block_streets(town.edges), barriers=town.barriers, area=town.area)
    square = shapely.box(*town.area.centroid.buffer(side / 2).bounds)
    enclosures = enclosures[enclosures.intersects(square)]
    encl, near = buildings.sindex.query(enclosures.geometry, predicate="intersects")
    small = np.bincount(encl, minlength=len(enclosures)) <= most
    enclosures = enclosures[small]
    return buildings.iloc[np.unique(near[small[encl]])], enclosures


def test_tessellation_matches_momepy(town: Town) -> None:
    buildings, enclosures = _central_blocks(town, _apart(town.buildings).reset_index(drop=True))
    assert len(buildings) >= 150 and len(enclosures) >= 5  # a real part of the town
    ours = form.tessellation(buildings, enclosures)
    theirs = momepy.enclosed_tessellation(buildings, enclosures, n_jobs=1)
    # the same cells, to the coordinate: momepy's building index (negative for none)
    # and enclosure label, sorted as ours are
    building = np.where(theirs.index >= 0, theirs.index, -1)
    order = np.lexsort((building, enclosures.index.get_indexer(theirs["enclosure_id"])))
    mine = ours[form.BUILDING_ID].fillna(-1).astype(int).to_numpy()
    assert mine.tolist() == building[order].tolist()
    assert ours[form.ENCLOSURE_ID].tolist() == theirs["enclosure_id"].to_numpy()[order].tolist()
    same = shapely.equals_exact(ours.geometry.to_numpy(), theirs.geometry.to_numpy()[order], 0.0)
    assert same.all()
    assert (mine >= 0).sum() > 100 and (mine < 0).any()  # cells of buildings, and empty ones


def test_tower_mapped_inside_its_hall_gets_its_own_cell() -> None:
    blocks = gpd.GeoSeries([box(0, 0, 100, 100)], crs=EPSG)
    hall, tower, shed = box(10, 10, 50, 40), box(20, 20, 30, 30), box(70, 70, 80, 85)
    cells = form.tessellation(_gdf([hall, tower, shed]), blocks)
    assert cells[form.BUILDING_ID].tolist() == [0, 1, 2]
    assert cells.area.sum() == pytest.approx(10_000)
    assert cells.union_all().area == pytest.approx(10_000)  # no overlaps
    assert cells.geometry.iloc[1].contains(box(20.5, 20.5, 29.5, 29.5))


def test_strokes_match_momepy_coins(town: Town, town_form: MorphologyLayer) -> None:
    streets = town.edges[~town.edges.geometry.normalize().duplicated()]
    theirs = momepy.COINS(streets, flow_mode=True).stroke_attribute()
    ours = town_form.edges.loc[streets.index, form.STROKE_ID]
    # the same partition of segments, whatever the labels
    assert pd.crosstab(ours, theirs).gt(0).sum(axis=1).eq(1).all()
    assert ours.nunique() == theirs.nunique()
    lengths = streets["length"].groupby(theirs).sum()
    np.testing.assert_allclose(
        town_form.edges.loc[streets.index, form.STROKE_LENGTH], lengths.loc[theirs].to_numpy()
    )
    # the strokes as components of the links: momepy's very numbers
    assert form.coins_strokes(streets).tolist() == theirs.tolist()


@pytest.mark.parametrize("source", ["index", "endpoints"])
def test_degree_mix_matches_the_graph(town: Town, source: str) -> None:
    streets = town.edges if source == "index" else town.edges.reset_index(drop=True)
    got = form.street_summary(streets, area=town.area)
    degree = pd.Series(dict(town.graph.degree()))
    assert got["morph_dead_end_share"] == pytest.approx((degree == 1).mean())
    assert got["morph_node_degree_4plus_share"] == pytest.approx((degree >= 4).mean())
    assert got["morph_intersection_density"] == pytest.approx(
        (degree >= 3).sum() / (town.area.area / 1e6)
    )
    assert got["morph_meshedness"] == pytest.approx(
        momepy.meshedness(town.graph, radius=None, verbose=False)
    )
    assert got["morph_gamma"] == pytest.approx(momepy.gamma(town.graph, radius=None, verbose=False))


def test_node_measures_match_networkx_and_a_brute_count(town: Town) -> None:
    got = form.node_measures(town.graph, radius=400)
    degree = pd.Series(dict(town.graph.degree()))
    assert got[form.DEGREE].to_dict() == degree.to_dict()
    xy = np.array([(d["x"], d["y"]) for _, d in town.graph.nodes(data=True)])
    near = cdist(xy, xy) <= 400
    crossings = (near & (degree.to_numpy() >= 3)[None, :]).sum(axis=1)
    np.testing.assert_allclose(
        got["morph_intersection_density_400m"], crossings / (math.pi * 0.4**2)
    )


def test_coverage_matches_a_dissolve_and_overlay(town: Town, town_form: MorphologyLayer) -> None:
    # an independent route: dissolve the valid footprints, overlay, sum; compared in the
    # enclosures that no invalid footprint (repaired differently here) reaches
    enclosures = town_form.enclosures.reset_index()
    valid = _valid(town.buildings)
    invalid = town.buildings.drop(valid.index)
    built = gpd.GeoDataFrame(geometry=[valid.union_all()], crs=EPSG)
    pieces = gpd.overlay(
        enclosures[[form.ENCLOSURE_ID, "geometry"]],
        built,
        how="intersection",
        keep_geom_type=True,
    )
    covered = pieces.area.groupby(pieces[form.ENCLOSURE_ID]).sum()
    expected = covered.reindex(town_form.enclosures.index, fill_value=0.0) / (
        town_form.enclosures.area
    )
    clean = ~town_form.enclosures.intersects(invalid.envelope.union_all())
    assert clean.mean() > 0.9
    np.testing.assert_allclose(
        town_form.enclosures.loc[clean, form.ENCLOSURE_COVERAGE],
        expected[clean],
        rtol=1e-6,
        atol=1e-9,
    )


# ------------------------------------------------------------------ whole-town invariants


def test_tables_keep_their_inputs_index_and_crs(town: Town, town_form: MorphologyLayer) -> None:
    assert town_form.buildings.index.equals(town.buildings.index)
    assert town_form.edges.index.equals(town.edges.index)
    assert town_form.nodes is not None
    assert town_form.nodes.index.tolist() == list(town.graph.nodes)
    assert town_form.cells.crs == town.buildings.crs
    assert town_form.enclosures.crs == town.buildings.crs
    assert set(town_form.cells[form.BUILDING_ID].dropna()) <= set(town.buildings.index)
    assert set(town_form.cells[form.ENCLOSURE_ID]) <= set(town_form.enclosures.index)


def test_ratios_stay_in_range(town_form: MorphologyLayer) -> None:
    for table, column in [
        (town_form.cells, form.CELL_COVERAGE),
        (town_form.enclosures, form.ENCLOSURE_COVERAGE),
        (town_form.buildings, form.SHARED_WALLS_RATIO),
        (town_form.buildings, form.ELONGATION),
    ]:
        values = table[column].dropna()
        assert values.between(0, 1 + 1e-9).all(), column


def test_cells_fill_their_enclosures(town_form: MorphologyLayer) -> None:
    cell_area = town_form.cells.area.groupby(town_form.cells[form.ENCLOSURE_ID]).sum()
    enclosure_area = town_form.enclosures.area.loc[cell_area.index]
    np.testing.assert_allclose(cell_area, enclosure_area, rtol=1e-3)


def test_floor_area_adds_up_in_enclosures(town: Town, town_form: MorphologyLayer) -> None:
    # every building in Karhula and Helsinki lies in some enclosure or outside all;
    # enclosure floor area never exceeds the buildings' total
    enclosures = town_form.enclosures
    total = (enclosures[form.ENCLOSURE_FAR] * enclosures.area).sum()
    assert 0 < total <= town_form.buildings[form.FLOOR_AREA].sum() * (1 + 1e-9)


def test_run_path_keeps_every_building_and_reports_its_stages(
    town: Town, town_form: MorphologyLayer
) -> None:
    assert len(town_form.buildings) == len(town.buildings)
    assert len(town_form.edges) == len(town.edges)
    assert list(town_form.timings) == [
        "network",
        "enclosures",
        "tessellation start",
        "node structure",
        "buildings",
        "strokes",
        "tessellation",
        "cells and enclosures",
        "summary",
    ]


def test_cells_aggregate_to_a_hex_grid_keeping_the_built_area(
    town: Town, town_form: MorphologyLayer
) -> None:
    cells = town_form.cells
    grid = hex_grid(town.area, 100, crs=EPSG)
    mean = aggregate_to_grid(cells, grid, how="mean")
    assert list(mean.columns) == [form.CELL_AREA, form.CELL_COVERAGE, form.CELL_FAR]
    inside = aggregate_to_grid(cells, grid, how="sum", columns=[form.CELL_AREA])[form.CELL_AREA]
    built = (mean[form.CELL_COVERAGE] * inside).sum()
    assert built == pytest.approx((cells[form.CELL_COVERAGE] * cells.area).sum(), rel=1e-6)


def _form_stages(
    buildings: gpd.GeoDataFrame, streets: gpd.GeoDataFrame, area: shapely.Polygon
) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """The form stages in the order morphology_layer runs them: buildings and blocks."""
    table = form.building_measures(buildings)
    blocks = form.enclosures(streets, area=area)
    cells = form.tessellation(buildings, blocks)
    floors = table[form.FLOORS]
    cells.join(form.cell_measures(cells, buildings, floors))
    form.street_measures(streets)
    return table, blocks.join(form.enclosure_measures(blocks, buildings, floors))


def test_inputs_are_not_modified() -> None:
    buildings = _gdf(
        [shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)]), box(20, 20, 30, 30)],  # bowtie
        floors=[np.nan, 2.0],
        height=[np.nan, np.nan],
    )
    buildings.index = pd.Index(["x", "y"])
    streets = _gdf([LineString([(-5, 15), (40, 15)])], length=[45.0])
    before_b, before_s = buildings.copy(), streets.copy()
    _form_stages(buildings, streets, area=box(-5, -5, 40, 40))
    pd.testing.assert_frame_equal(buildings, before_b)
    pd.testing.assert_frame_equal(streets, before_s)


# ------------------------------------------------------------------- empty inputs, CRS


def _empty_buildings() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"floors": pd.Series(dtype=float), "height": pd.Series(dtype=float)},
        geometry=gpd.GeoSeries([], crs=EPSG),
    )


def _some_buildings() -> gpd.GeoDataFrame:
    return _gdf([box(10, 10, 20, 20), box(60, 60, 70, 80)], floors=[1.0, 2.0], height=np.nan)


def _empty_lines() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"length": pd.Series(dtype=float)}, geometry=gpd.GeoSeries([], crs=EPSG)
    )


_BLOCK = gpd.GeoSeries([box(0, 0, 100, 100)], crs=EPSG)


@pytest.mark.parametrize(
    ("call", "full"),
    [
        pytest.param(
            lambda b: form.building_measures(b),
            lambda: form.building_measures(_some_buildings()),
            id="building_measures",
        ),
        pytest.param(
            lambda b: form.cell_measures(_BLOCK.iloc[:0], b, pd.Series(dtype=float)),
            lambda: form.cell_measures(_BLOCK, _some_buildings(), pd.Series([1.0, 2.0])),
            id="cell_measures",
        ),
        pytest.param(
            lambda b: form.enclosure_measures(_BLOCK.iloc[:0], b, pd.Series(dtype=float)),
            lambda: form.enclosure_measures(_BLOCK, _some_buildings(), pd.Series([1.0, 2.0])),
            id="enclosure_measures",
        ),
        pytest.param(
            lambda b: form.street_measures(_empty_lines()),
            lambda: form.street_measures(_gdf([LineString([(0, 0), (1, 0)])], length=[1.0])),
            id="street_measures",
        ),
        pytest.param(
            lambda b: form.enclosures(_empty_lines()),
            lambda: form.enclosures(_empty_lines(), area=box(0, 0, 1, 1)),
            id="enclosures",
        ),
        pytest.param(
            lambda b: form.tessellation(b, _BLOCK.iloc[:0]),
            lambda: form.tessellation(_some_buildings(), _BLOCK),
            id="tessellation",
        ),
        pytest.param(
            lambda b: form.node_measures(nx.MultiGraph(crs=EPSG)),
            lambda: form.node_measures(_grid_graph_with_xy()),
            id="node_measures",
        ),
    ],
)
def test_empty_inputs_give_empty_frames_with_the_same_columns(call: Any, full: Any) -> None:
    empty = call(_empty_buildings())
    reference = full()
    assert len(empty) == 0
    assert list(empty.columns) == list(reference.columns)
    assert (empty.dtypes == reference.dtypes).all()


def _grid_graph_with_xy() -> nx.MultiGraph:
    g = _grid_graph()
    g.graph["crs"] = f"EPSG:{EPSG}"
    nx.set_node_attributes(g, {n: n[0] * 100.0 for n in g.nodes}, "x")
    nx.set_node_attributes(g, {n: n[1] * 100.0 for n in g.nodes}, "y")
    return g


def test_empty_buildings_leave_every_enclosure_an_empty_cell() -> None:
    cells = form.tessellation(_empty_buildings(), _BLOCK)
    assert cells[form.BUILDING_ID].isna().all()
    assert len(cells) == 1


def test_form_stages_with_no_buildings() -> None:
    streets = _gdf([LineString([(50, -10), (50, 110)])], length=[120.0])
    buildings, blocks = _form_stages(_empty_buildings(), streets, area=box(0, 0, 100, 100))
    assert len(buildings) == 0
    assert blocks[form.ENCLOSURE_COVERAGE].tolist() == [0.0, 0.0]


_WGS84 = gpd.GeoDataFrame(
    {"floors": [1.0], "height": [np.nan], "length": [1.0]},
    geometry=[box(24.9, 60.1, 24.901, 60.101)],
    crs=4326,
)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda g: form.building_measures(g), id="building_measures"),
        pytest.param(lambda g: form.enclosures(g.boundary), id="enclosures"),
        pytest.param(lambda g: form.tessellation(g, g), id="tessellation"),
        pytest.param(lambda g: form.cell_measures(g, g, pd.Series([1.0])), id="cell_measures"),
        pytest.param(
            lambda g: form.enclosure_measures(g, g, pd.Series([1.0])), id="enclosure_measures"
        ),
        pytest.param(
            lambda g: form.street_measures(g.assign(geometry=g.boundary)), id="street_measures"
        ),
        pytest.param(lambda g: form.street_summary(g.assign(geometry=g.boundary)), id="summary"),
        pytest.param(lambda g: form.node_measures(nx.MultiGraph(crs=g.crs)), id="node_measures"),
    ],
)
def test_geographic_crs_raises(call: Any) -> None:
    with pytest.raises(CRSError, match=r": geographic CRS \(EPSG:4326\).*to_crs\(3067\)"):
        call(_WGS84)


def test_mismatched_crs_raises() -> None:
    blocks = gpd.GeoSeries([box(0, 0, 100, 100)], crs=3857)
    with pytest.raises(CRSError, match="not in the CRS of buildings"):
        form.tessellation(_some_buildings(), blocks)


def test_missing_crs_raises() -> None:
    no_crs = gpd.GeoDataFrame({"floors": [1.0]}, geometry=[box(0, 0, 1, 1)])
    with pytest.raises(CRSError, match="buildings: no CRS is set"):
        form.building_measures(no_crs)


def test_tessellation_on_two_workers_equals_one(kotka: Town, monkeypatch) -> None:
    # the run asks for all cores on large towns (morphology.tessellation_jobs): the cells
    # must not depend on it (one town: the code path is the same for every town)
    buildings, enclosures = _central_blocks(kotka, kotka.buildings)
    assert len(buildings) >= 150  # enough for momepy to split the work between both
    one = form.tessellation(buildings, enclosures, n_jobs=1)
    # a task per block: two on the workers at first, the others handed out as they end
    monkeypatch.setattr(tessellate, "BATCH_BUILDINGS", 1)
    two = form.tessellation(buildings, enclosures, n_jobs=2)
    pd.testing.assert_frame_equal(one.drop(columns="geometry"), two.drop(columns="geometry"))
    assert shapely.equals_exact(one.geometry.to_numpy(), two.geometry.to_numpy(), 0.0).all()
