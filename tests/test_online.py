"""Online OSM through osmnx, replayed from recorded Overpass responses; never the network."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
import requests

from rakennettu import SourceError, load_town

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")

RECORDINGS = Path(__file__).parent / "fixtures" / "overpass"
BBOX = "[26.94, 60.523, 26.955, 60.529]"  # inside the recorded box


def _response(url: str, payload: dict) -> requests.Response:
    r = requests.Response()
    r.status_code = 200
    r._content = json.dumps(payload).encode()
    r.url = url
    r.headers["Content-Type"] = "application/json"
    return r


@pytest.fixture
def overpass(monkeypatch):
    """Serve the recordings for osmnx's POSTs to Overpass; count the calls."""
    import osmnx._http

    calls: list[str] = []
    with gzip.open(RECORDINGS / "karhula-walk.json.gz", "rt") as fh:
        walk = json.load(fh)
    with gzip.open(RECORDINGS / "karhula-features.json.gz", "rt") as fh:
        feats = json.load(fh)

    def post(url, data=None, **kwargs):
        query = data["data"]
        calls.append(query)
        return _response(url, walk if '["highway"]["area"!~"yes"]' in query else feats)

    monkeypatch.setattr(requests, "post", post)
    monkeypatch.setattr(osmnx._http, "_config_dns", lambda url: None)
    return calls


@pytest.fixture
def online_workflow(write_workflow, tmp_path):
    return write_workflow(
        f'[town]\nname = "karhula-online"\n[osm]\nsource = "online"\n'
        f'[cache]\nfolder = "{tmp_path / "cache"}"\n'
        f"[network]\nradii = [200]\n[area]\nbbox = {BBOX}\n"
    )


def test_online_query_is_cached(overpass, online_workflow, tmp_path):
    town = load_town(online_workflow)
    assert len(overpass) == 2  # the walking network and the features
    assert town.crs.to_epsg() == 3067
    assert len(town.buildings) > 50
    assert town.graph.number_of_edges() > 20
    assert list((tmp_path / "cache" / "osm").glob("*.graphml"))

    again = load_town(online_workflow)
    assert len(overpass) == 2  # served from the cache: no new request
    assert len(again.buildings) == len(town.buildings)
    assert again.graph.number_of_edges() == town.graph.number_of_edges()


def test_online_and_file_agree_on_the_same_area(overpass, online_workflow, write_workflow):
    online = load_town(online_workflow)
    local = load_town(
        write_workflow(
            '[town]\nname = "karhula-file"\n[osm]\npath = "pyrosm:test_pbf"\n'
            f"[network]\nradii = [200]\n[area]\nbbox = {BBOX}\n",
            name="file.toml",
        )
    )
    on = online.buildings[online.buildings.in_area]
    lo = local.buildings[local.buildings.in_area]
    assert abs(len(on) - len(lo)) <= 0.05 * len(lo)
    assert on.area.sum() == pytest.approx(lo.area.sum(), rel=0.05)


def test_no_network_gives_a_clear_error(online_workflow, monkeypatch):
    import osmnx._http

    monkeypatch.setattr(osmnx._http, "_config_dns", lambda url: None)
    with pytest.raises(SourceError, match=r"online OSM query failed .*use a local extract"):
        load_town(online_workflow)


# --- WFS -----------------------------------------------------------------------------

WFS_URL = "https://kartta.example.fi/geoserver/wfs"


@pytest.fixture
def wfs_service(monkeypatch):
    """A recorded WFS 2.0 service: a 250 m population grid over Karhula, paged by 10.

    The answers are GeoJSON FeatureCollections as GeoServer writes them
    (numberMatched, numberReturned, features in the requested srsName).
    """
    import geopandas as gpd
    from shapely import box

    x0, y0 = 496_500, 6_709_800  # Karhula in ETRS-TM35FIN
    cells = [
        box(x0 + 250 * i, y0 + 250 * j, x0 + 250 * (i + 1), y0 + 250 * (j + 1))
        for i in range(6)
        for j in range(4)
    ]
    grid = gpd.GeoDataFrame(
        {"asukkaat": [10 * k for k in range(len(cells))]}, geometry=cells, crs=3067
    )
    calls: list[dict] = []

    def get(url, params=None, timeout=None, **kwargs):
        calls.append(dict(params))
        assert url == WFS_URL
        assert params["request"] == "GetFeature" and params["version"] == "2.0.0"
        assert params["srsName"] == "urn:ogc:def:crs:EPSG::3067"
        start, count = int(params["startIndex"]), int(params["count"])
        page = json.loads(grid.iloc[start : start + count].to_json(to_wgs84=False))
        page.update(numberMatched=len(grid), numberReturned=len(page["features"]))
        r = _response(url, page)
        return r

    monkeypatch.setattr(requests, "get", get)
    return grid, calls


def test_wfs_is_paged_and_cached(wfs_service, tmp_path):
    import geopandas as gpd
    from pyproj import CRS

    from rakennettu.sources.wfs import fetch_wfs

    grid, calls = wfs_service
    kw = {"crs": CRS.from_epsg(3067), "cache_dir": tmp_path, "page_size": 10}
    path = fetch_wfs(WFS_URL, "vaesto:ruudukko", **kw)
    assert [int(c["startIndex"]) for c in calls] == [0, 10, 20]  # 24 cells, pages of 10
    got = gpd.read_file(path)
    assert got.crs.equals(grid.crs)
    assert sorted(got["asukkaat"]) == sorted(grid["asukkaat"])
    assert got.union_all().equals_exact(grid.union_all(), tolerance=1e-6)
    assert fetch_wfs(WFS_URL, "vaesto:ruudukko", **kw) == path
    assert len(calls) == 3  # the second call reads the cache


def test_wfs_layer_in_a_workflow(wfs_service, write_workflow, tmp_path):
    grid, calls = wfs_service
    path = write_workflow(
        '[town]\nname = "k"\n[osm]\npath = "pyrosm:test_pbf"\n'
        f'[cache]\nfolder = "{tmp_path / "cache"}"\n'
        f'[[layers]]\nrole = "population"\nurl = "{WFS_URL}"\nlayer = "vaesto:ruudukko"\n'
        'columns = { residents = "asukkaat" }\n'
    )
    town = load_town(path)
    assert len(calls) == 1
    assert calls[0]["bbox"].endswith(",urn:ogc:def:crs:EPSG::3067")  # the context's box
    assert town.population is not None
    within = grid[grid.intersects(town.context)]
    assert town.population["residents"].sum() == within["asukkaat"].sum() > 0
    assert town.population["source"].eq(WFS_URL).all()


def test_wfs_error_answer_is_reported(monkeypatch, tmp_path):
    from pyproj import CRS

    from rakennettu.sources.wfs import fetch_wfs

    def get(url, params=None, timeout=None, **kwargs):
        r = requests.Response()
        r.status_code = 400
        r._content = b"<ows:ExceptionReport>Unknown type vaesto:ruudukk</ows:ExceptionReport>"
        r.url = url
        return r

    monkeypatch.setattr(requests, "get", get)
    with pytest.raises(SourceError, match=r"HTTP 400: .*Unknown type vaesto:ruudukk"):
        fetch_wfs(WFS_URL, "vaesto:ruudukk", crs=CRS.from_epsg(3067), cache_dir=tmp_path)


def test_wfs_unreachable_is_reported(tmp_path):
    from pyproj import CRS

    from rakennettu.sources.wfs import fetch_wfs

    with pytest.raises(SourceError, match=r"cannot reach the service"):
        fetch_wfs(WFS_URL, "vaesto:ruudukko", crs=CRS.from_epsg(3067), cache_dir=tmp_path)


def test_online_place_name_is_geocoded_once_and_cached(
    overpass, write_workflow, tmp_path, monkeypatch
):
    """A place name goes to Nominatim (recorded answer below) once; then the cache answers."""
    import osmnx._nominatim

    # Nominatim's JSON answer for "Karhula, Kotka", as osmnx asks for it (polygon_geojson=1)
    answer = [
        {
            "place_id": 1, "licence": "Data © OpenStreetMap contributors, ODbL 1.0",
            "osm_type": "relation", "osm_id": 1, "lat": "60.526", "lon": "26.9475",
            "class": "boundary", "type": "administrative", "place_rank": 20,
            "importance": 0.4, "addresstype": "suburb", "name": "Karhula",
            "display_name": "Karhula, Kotka, Finland",
            "boundingbox": ["60.523", "60.529", "26.94", "26.955"],
            "geojson": {"type": "Polygon", "coordinates": [[
                [26.94, 60.523], [26.955, 60.523], [26.955, 60.529], [26.94, 60.529],
                [26.94, 60.523]]]},
        }
    ]  # fmt: skip
    gets: list[str] = []

    def get(url, params=None, **kwargs):
        gets.append(url)
        assert "nominatim" in url
        return _response(url, answer)

    monkeypatch.setattr(requests, "get", get)
    monkeypatch.setattr(osmnx._nominatim.time, "sleep", lambda s: None)
    path = write_workflow(
        '[town]\nname = "karhula-place"\n[osm]\nsource = "online"\n'
        f'[cache]\nfolder = "{tmp_path / "cache"}"\n'
        '[network]\nradii = [200]\n[area]\nplace = "Karhula, Kotka"\n'
    )
    town = load_town(path)
    assert len(gets) == 1 and len(overpass) == 2
    assert town.area_km2 == pytest.approx(0.55, rel=0.1)  # the polygon, in EPSG:3067
    load_town(path)
    assert len(gets) == 1 and len(overpass) == 2  # both answered from the cache
