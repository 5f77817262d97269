"""OpenStreetMap files: reading, independent counts, broken files, other formats."""

from __future__ import annotations

import bz2
import shutil

import osmium
import pyrosm
import pytest

from rakennettu import EmptyDataError, SourceError
from rakennettu._resources import bundled_osm_path
from rakennettu.sources.osm import FEATURE_KEYS, read_osm_file, scan_osm_file

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::UserWarning")


@pytest.fixture(scope="module")
def karhula_pbf():
    return bundled_osm_path("pyrosm:test_pbf")


@pytest.fixture(scope="module")
def karhula(karhula_pbf):
    return read_osm_file(karhula_pbf)


def _osmium_building_ways(path):
    """Independent count: closed ways tagged building whose nodes are all in the file."""
    ids = set()
    for o in (
        osmium.FileProcessor(str(path))
        .with_locations()
        .with_filter(osmium.filter.KeyFilter("building"))
    ):
        if o.is_way() and o.is_closed() and all(n.location.valid() for n in o.nodes):
            ids.add(o.id)
    return ids


def test_buildings_match_an_independent_read(karhula, karhula_pbf):
    f = karhula.features
    ours = set(f.loc[(f.osm_type == "way") & f.tags.map(lambda t: "building" in t), "osm_id"])
    complete = _osmium_building_ways(karhula_pbf)
    assert complete <= ours  # every complete building way is read
    extra = ours - complete  # the rest are ways cut by the extract's edge
    assert len(extra) < 0.05 * len(ours)


def test_every_feature_has_a_feature_key(karhula):
    keys = set(FEATURE_KEYS)
    assert karhula.features.tags.map(lambda t: bool(keys & set(t))).all()


def test_walking_network_matches_pyrosm(karhula, karhula_pbf):
    osm = pyrosm.OSM(str(karhula_pbf))
    nodes, edges = osm.get_network("walking", nodes=True)
    g = osm.to_graph(nodes, edges, graph_type="networkx", retain_all=True)
    assert karhula.graph.number_of_nodes() == g.number_of_nodes()
    assert karhula.graph.number_of_edges() == g.number_of_edges()


def test_tags_are_complete_dicts(karhula):
    with_name = karhula.features.dropna(subset=["name"])
    assert len(with_name) > 0
    assert (with_name.name == with_name.tags.map(lambda t: t["name"])).all()


@pytest.mark.parametrize("suffix", [".osm", ".osm.bz2"], ids=["xml", "bz2"])
def test_xml_extracts_read_like_pbf(tmp_path, karhula, karhula_pbf, suffix):
    xml = tmp_path / "karhula.osm"
    with osmium.SimpleWriter(str(xml)) as w:
        for o in osmium.FileProcessor(str(karhula_pbf)):
            w.add(o)
    path = xml
    if suffix == ".osm.bz2":
        path = tmp_path / "karhula.osm.bz2"
        with open(xml, "rb") as src, bz2.open(path, "wb") as dst:
            shutil.copyfileobj(src, dst)
    data = read_osm_file(path, cache_dir=tmp_path / "cache")
    assert data.graph.number_of_edges() == karhula.graph.number_of_edges()
    assert len(data.features) == len(karhula.features)
    assert list((tmp_path / "cache" / "converted").glob("*.osm.pbf"))


def test_truncated_pbf_is_reported(tmp_path, karhula_pbf):
    bad = tmp_path / "cut.osm.pbf"
    bad.write_bytes(karhula_pbf.read_bytes()[:60_000])
    with pytest.raises(SourceError, match=r"cut.osm.pbf: corrupt or truncated OSM file"):
        read_osm_file(bad)


def test_garbage_file_is_reported(tmp_path):
    bad = tmp_path / "town.osm.pbf"
    bad.write_text("this is not OSM data\n" * 100)
    with pytest.raises(SourceError, match=r"town.osm.pbf: corrupt or truncated"):
        read_osm_file(bad)


def test_empty_extract_is_reported(tmp_path, karhula_pbf):
    empty = tmp_path / "empty.osm.pbf"
    empty.write_bytes(karhula_pbf.read_bytes()[:100])  # the header only
    with pytest.raises(EmptyDataError, match=r"holds no ways"):
        scan_osm_file(empty)


def test_missing_file(tmp_path):
    with pytest.raises(SourceError, match=r"OSM file not found"):
        read_osm_file(tmp_path / "nope.osm.pbf")


def test_area_outside_the_extract(karhula_pbf):
    from shapely import box

    with pytest.raises(EmptyDataError, match=r"the area lies outside the extract"):
        read_osm_file(karhula_pbf, clip=box(24.9, 60.1, 24.95, 60.15))


def test_area_without_streets(karhula_pbf):
    from shapely import box

    # a 30 m box in the middle of the Kymijoki river at Karhula
    with pytest.raises(EmptyDataError, match=r"no walkable streets"):
        read_osm_file(karhula_pbf, clip=box(26.93, 60.5201, 26.9305, 60.5203))


def _tiny_xml(reverse: bool) -> str:
    from rakennettu._warmup import tiny_town_osm

    lines = tiny_town_osm().splitlines()
    head, body, tail = lines[:2], lines[2:-1], lines[-1:]
    nodes = [x for x in body if x.startswith("<node")]
    ways = [x for x in body if x.startswith("<way")]
    # the data's date: the newest timestamp of the ways (the file's header has none)
    ways[0] = ways[0].replace("<way ", '<way timestamp="2021-05-06T07:08:09Z" ', 1)
    if reverse:  # objects in descending id order: not sorted as osmium requires
        nodes, ways = nodes[::-1], ways[::-1]
    return "\n".join([*head, *nodes, *ways, *tail])


def test_features_read_on_a_worker_process_equal_those_read_here(tmp_path, monkeypatch):
    """A large extract's features are read on a second process while this one reads the
    streets: the same table, sorted copy included (an unsorted file, read there)."""
    import joblib.externals.loky as loky
    from geopandas.testing import assert_geodataframe_equal

    from rakennettu.sources import osm

    if loky.cpu_count() < 2:
        pytest.skip("the features are read on a worker only with a second core")
    unsorted = tmp_path / "unsorted.osm"
    unsorted.write_text(_tiny_xml(True), encoding="utf-8")
    files = [bundled_osm_path("pyrosm:test_pbf"), unsorted]
    here = [read_osm_file(f, cache_dir=tmp_path / "here") for f in files]
    monkeypatch.setattr(osm, "PARALLEL_READ_FROM", 0)
    pools = []
    real_get = loky.get_reusable_executor

    def get(*args, **kwargs):  # the pool the features are handed to
        pools.append(real_get(*args, **kwargs))
        return pools[-1]

    monkeypatch.setattr(loky, "get_reusable_executor", get)
    there = [read_osm_file(f, cache_dir=tmp_path / "there") for f in files]
    assert len(pools) == 2  # both files' features went to the worker
    for a, b in zip(here, there, strict=True):
        assert_geodataframe_equal(a.features, b.features)
        assert a.features["tags"].tolist() == b.features["tags"].tolist()
        assert sorted(a.graph.edges) == sorted(b.graph.edges)
        assert (a.date, a.extent.wkt) == (b.date, b.extent.wkt)


def test_unsorted_extract_reads_like_the_sorted_one(tmp_path):
    paths = {}
    for reverse in (False, True):
        paths[reverse] = tmp_path / f"town-{reverse}.osm"
        paths[reverse].write_text(_tiny_xml(reverse), encoding="utf-8")
    ordered = read_osm_file(paths[False], cache_dir=tmp_path / "a")
    shuffled = read_osm_file(paths[True], cache_dir=tmp_path / "b")
    assert list((tmp_path / "b" / "sorted").glob("*.osm.pbf"))  # the sorted copy, cached
    assert not (tmp_path / "a" / "sorted").exists()
    key = ["osm_type", "osm_id"]
    a = ordered.features.sort_values(key).reset_index(drop=True)
    b = shuffled.features.sort_values(key).reset_index(drop=True)
    assert len(a) == 71 and a[key].equals(b[key])  # 48 buildings, 16 ways, 6 places, a park
    assert a.geometry.geom_equals_exact(b.geometry, 1e-9).all()
    assert a["tags"].tolist() == b["tags"].tolist()
    assert sorted(ordered.graph.edges) == sorted(shuffled.graph.edges)
    assert ordered.date == shuffled.date == "2021-05-06"  # read from the file given
