"""A planner's own sites file, with names, kinds and programs, ranked with the OSM sites."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely import box

from rakennettu import ConfigError, run

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")

# two lots in Karhula (ETRS-TM35FIN): one with its own program, one with the default
SITES = gpd.GeoDataFrame(
    {
        "nimi": ["Tehtaantie 5 <b>&</b>", "Rantapuisto lot"],
        "tyyppi": ["brownfield", "vacant lot"],
        "ohjelma": ["culture=1, third_place=2, floor_area=3000, residential=0.8", None],
    },
    geometry=[box(497150, 6710350, 497230, 6710420), box(497400, 6710600, 497460, 6710650)],
    crs=3067,
)

WORKFLOW = """
[town]
name = "karhula-plan"
[osm]
path = "pyrosm:test_pbf"
[candidates]
draws = 50
[[layers]]
role = "sites"
path = "sites.gpkg"
columns = {{ name = "nimi", kind = "tyyppi", program = "ohjelma" }}
"""


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    folder = tmp_path_factory.mktemp("plan")
    SITES.to_file(folder / "sites.gpkg")
    (folder / "town.toml").write_text(WORKFLOW.format(), encoding="utf-8")
    return run(folder / "town.toml", out_dir=folder / "out"), folder


def test_planner_sites_are_ranked_with_their_provenance_and_program(planned):
    result, _ = planned
    c = result.layers["candidates"]
    mine = c[c["provenance"].str.contains("sites.gpkg#")]
    assert len(mine) == 2
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
    bad.to_file(tmp_path / "sites.gpkg")
    (tmp_path / "town.toml").write_text(WORKFLOW.format(), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"sites.gpkg#\d+\): program 'libary=1': unknown key"):
        run(tmp_path / "town.toml", out_dir=tmp_path / "out")
