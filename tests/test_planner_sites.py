"""A planner's own sites file, with names, kinds and programs, ranked with the run's sites.

On the made-up town of :mod:`rakennettu._warmup` (a 6 x 6 street grid 80 m apart, two
buildings in each block, its south-west corner at 60.165 N, 24.930 E): every check here
is of the sites file's way through a run, which any town shows.
"""

from __future__ import annotations

import math

import geopandas as gpd
import pytest
from shapely import box

from rakennettu import ConfigError, run
from rakennettu._warmup import tiny_town_osm

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")

LAT0, LON0, SPACING = 60.165, 24.930, 80.0  # the tiny town's south-west corner, its blocks
DLAT = SPACING / 111_320
DLON = SPACING / (111_320 * math.cos(math.radians(LAT0)))


def _lot(i: float, j: float, size: float):
    """A square lot at (i, j) blocks east and north of the corner, ``size`` blocks wide."""
    return box(LON0 + i * DLON, LAT0 + j * DLAT, LON0 + (i + size) * DLON, LAT0 + (j + size) * DLAT)


# two lots (36 m x 36 m, in degrees), each in the corner of a block its buildings leave
# free: one with its own program, one with the default
SITES = gpd.GeoDataFrame(
    {
        "nimi": ["Tehtaantie 5 <b>&</b>", "Rantapuisto lot"],
        "tyyppi": ["brownfield", "vacant lot"],
        "ohjelma": ["culture=1, third_place=2, floor_area=3000, residential=0.8", None],
    },
    geometry=[_lot(1.5, 3.05, 0.45), _lot(3.5, 1.05, 0.45)],
    crs=4326,
)

WORKFLOW = """
[town]
name = "tiny-plan"
crs = "EPSG:3067"
[osm]
path = "town.osm"
[candidates]
draws = 50
[outputs]
report = false
[[layers]]
role = "sites"
path = "sites.gpkg"
columns = {{ name = "nimi", kind = "tyyppi", program = "ohjelma" }}
"""


def _town(folder, sites: gpd.GeoDataFrame):
    """The tiny town's OSM file, the sites file and the workflow in ``folder``."""
    (folder / "town.osm").write_text(tiny_town_osm(origin=(LAT0, LON0)), encoding="utf-8")
    sites.to_file(folder / "sites.gpkg")
    (folder / "town.toml").write_text(WORKFLOW.format(), encoding="utf-8")
    return folder / "town.toml"


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    folder = tmp_path_factory.mktemp("plan")
    return run(_town(folder, SITES), out_dir=folder / "out"), folder


def test_planner_sites_are_ranked_with_their_provenance_and_program(planned):
    result, _ = planned
    c = result.layers["candidates"]
    mine = c[c["provenance"].str.contains("sites.gpkg#")]
    assert len(mine) == 2 and len(c) > 2  # ranked with the site the run found (the empty block)
    first = mine[mine["name"] == "Tehtaantie 5 <b>&</b>"].iloc[0]
    assert first["kind"] == "brownfield"
    assert "2 third places" in first["program_simulated"]
    assert "3,000 m² floor area (80% homes)" in first["program_simulated"]
    social = result.workflow.social  # floor area per resident and per job, m²
    expected = 3000 * 0.8 / social.m2_per_resident + 3000 * 0.2 / social.m2_per_job
    assert first["soc_people_added"] == pytest.approx(expected)
    other = mine[mine["name"] == "Rantapuisto lot"].iloc[0]
    assert "1 third place, 2 daily needs" in other["program_simulated"]  # the default
    assert c["rank"].is_unique or c["score"].duplicated().any()


def test_planner_text_is_escaped_on_the_map(planned):
    _, folder = planned
    page = (folder / "out" / "map.html").read_text(encoding="utf-8")
    assert "Tehtaantie 5 <b>&</b>" not in page
    assert "Tehtaantie 5 &lt;b&gt;&amp;&lt;/b&gt;" in page or "Tehtaantie 5 \\u003cb" in page


def test_a_bad_program_names_the_site_and_file(tmp_path):
    bad = SITES.assign(ohjelma=["libary=1", None])
    with pytest.raises(ConfigError, match=r"sites.gpkg#\d+\): program 'libary=1': unknown key"):
        run(_town(tmp_path, bad), out_dir=tmp_path / "out")
