"""Workflow files: parsing, defaults, and every kind of mistake a planner can make."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from rakennettu import ConfigError, bundled_workflow, bundled_workflows, load_workflow
from rakennettu.config import Workflow
from rakennettu.errors import SourceError

GOOD = """
[town]
name = "testi"
crs = "EPSG:3067"

[osm]
source = "file"
path = "pyrosm:test_pbf"
"""


@pytest.mark.parametrize("town", sorted(bundled_workflows()), ids=str)
def test_bundled_workflows_are_valid(town):
    wf = load_workflow(bundled_workflow(town))
    assert wf.town.name == town
    assert wf.network.radii == (400, 800, 1200)


def test_defaults_fill_in_what_the_town_leaves_out(write_workflow):
    wf = load_workflow(write_workflow(GOOD))
    assert wf.network.snap_distance == 100
    assert wf.area.buffer == 0
    assert wf.out_dir.as_posix() == "out/testi"


def test_town_file_overrides_defaults_key_by_key(write_workflow):
    wf = load_workflow(write_workflow(GOOD + "\n[network]\nradii = [1200, 300]\n"))
    assert wf.network.radii == (300, 1200)  # sorted
    assert wf.network.snap_distance == 100  # still from the defaults


def test_defaults_beside_the_town_file_are_used(write_workflow):
    write_workflow('[network]\nradii = [500]\n[town]\ncrs = "auto"\n', name="_defaults.toml")
    wf = load_workflow(write_workflow(GOOD))
    assert wf.network.radii == (500,)


def test_model_is_frozen(write_workflow):
    wf = load_workflow(write_workflow(GOOD))
    with pytest.raises(ValidationError, match="frozen"):
        wf.town.name = "other"  # type: ignore[misc]


def test_relative_paths_are_relative_to_the_workflow_file(write_workflow, tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "b.gpkg").write_bytes(b"")
    text = GOOD + '\n[[layers]]\nrole = "buildings"\npath = "data/b.gpkg"\n'
    wf = load_workflow(write_workflow(text))
    assert wf.layers[0].path == tmp_path / "data" / "b.gpkg"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        pytest.param(
            "\n[network]\nradi = [400]\n",
            r"line 11, \[network\] radi: unknown key; did you mean 'radii'\? Allowed keys: radii",
            id="typo-in-key",
        ),
        pytest.param(
            "\n[netwrk]\nradii = [400]\n",
            r"netwrk: unknown key; did you mean 'network'\?",
            id="typo-in-table",
        ),
        pytest.param(
            '\n[network]\nradii = "400"\n',
            r"\[network\] radii: .*tuple.*\(got '400'\)",
            id="wrong-type",
        ),
        pytest.param(
            "\n[network]\nradii = [400, -5]\n",
            r"\[network\] radii.*greater than 0",
            id="negative-radius",
        ),
        pytest.param(
            '\n[network]\nkeep = "larg"\n',
            r"keep: Input should be 'largest' or 'all' \(got 'larg'\); did you mean 'largest'\?",
            id="wrong-choice",
        ),
        pytest.param(
            "\n[area]\nbbox = [60.16, 24.93, 60.18]\n",
            r"\[area\] bbox",
            id="bbox-three-numbers",
        ),
        pytest.param(
            "\n[area]\nbbox = [24.96, 60.16, 24.93, 60.18]\n",
            r"bbox is \[west, south, east, north\].*west \(24.96\) must be less than east",
            id="bbox-west-east",
        ),
        pytest.param(
            "\n[area]\nbbox = [24.9, 95.0, 25.0, 96.0]\n",
            r"south and north must be latitudes",
            id="bbox-latitude-range",
        ),
        pytest.param(
            '\n[area]\nplace = "Kamppi"\nbbox = [24.9, 60.1, 25.0, 60.2]\n',
            r"give only one of place, bbox or polygon",
            id="two-area-kinds",
        ),
    ],
)
def test_mistakes_name_file_line_key_and_what_is_allowed(write_workflow, extra, message):
    path = write_workflow(GOOD + extra)
    with pytest.raises(ConfigError, match=message) as err:
        load_workflow(path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize(
    ("crs", "message"),
    [
        pytest.param("EPSG:999999", r"unknown CRS 'EPSG:999999'", id="unknown"),
        pytest.param("EPSG:4326", r"geographic CRS \(degrees\)", id="geographic"),
        pytest.param("EPSG:2263", r"units of 'US survey foot'", id="feet"),
        pytest.param("ETRS-TM35", r"unknown CRS", id="not-a-crs"),
    ],
)
def test_bad_town_crs(write_workflow, crs, message):
    text = GOOD.replace('crs = "EPSG:3067"', f'crs = "{crs}"')
    with pytest.raises(ConfigError, match=rf"line 4, \[town\] crs: .*{message}"):
        load_workflow(write_workflow(text))


def test_duplicate_key_is_reported(write_workflow):
    text = GOOD + '\n[network]\nkeep = "all"\nkeep = "largest"\n'
    with pytest.raises(ConfigError, match=r"given twice.*line 12"):
        load_workflow(write_workflow(text))


def test_duplicate_table_is_reported(write_workflow):
    text = GOOD + "\n[network]\nradii = [400]\n[network]\nkeep = 'all'\n"
    with pytest.raises(ConfigError, match=r"not valid TOML"):
        load_workflow(write_workflow(text))


def test_missing_osm_file(write_workflow):
    text = GOOD.replace('path = "pyrosm:test_pbf"', 'path = "nowhere/town.osm.pbf"')
    with pytest.raises(ConfigError, match=r"line 8, \[osm\] path: file not found: .*town.osm.pbf"):
        load_workflow(write_workflow(text))


def test_unknown_bundled_extract(write_workflow):
    text = GOOD.replace("pyrosm:test_pbf", "pyrosm:tampere_pbf")
    with pytest.raises(ConfigError, match=r"not an extract shipped with pyrosm"):
        load_workflow(write_workflow(text))


def test_wrong_osm_file_type(write_workflow):
    text = GOOD.replace('path = "pyrosm:test_pbf"', 'path = "town.gpkg"')
    with pytest.raises(ConfigError, match=r"must be a .osm.pbf, .osm or .osm.bz2 file"):
        load_workflow(write_workflow(text))


def test_missing_required_section(write_workflow):
    with pytest.raises(ConfigError, match=r"osm: required key is missing"):
        load_workflow(write_workflow('[town]\nname = "x"\n'))


def test_all_problems_are_reported_at_once(write_workflow):
    text = GOOD.replace('"EPSG:3067"', '"EPSG:4326"') + "\n[network]\nradi = 1\nkeep = 2\n"
    with pytest.raises(ConfigError, match=r"3 problems") as err:
        load_workflow(write_workflow(text))
    assert "crs" in str(err.value) and "radi" in str(err.value) and "keep" in str(err.value)


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        pytest.param(
            'role = "buildings"\npath = "b.gpkg"\ncolumns = { floor = "kerrosluku" }',
            r"line \d+, \[layers\[1\]\] columns: \['floor'\] are not fields of role "
            r"'buildings'; did you mean 'floors'\?",
            id="unknown-field",
        ),
        pytest.param(
            'role = "building"\npath = "b.gpkg"',
            r"role: Input should be .*did you mean 'buildings'\?",
            id="unknown-role",
        ),
        pytest.param(
            'role = "buildings"\npath = "b.gpkg"\nfile = "c.gpkg"',
            r"\[layers\[1\]\] file: unknown key",
            id="unknown-key",
        ),
        pytest.param(
            'role = "pois"\npath = "b.gpkg"\nvalues = { category = { 1 = "retail" } }',
            r"\['category'\] recode fields that 'columns' does not map",
            id="values-without-column",
        ),
        pytest.param(
            'role = "population"\npath = "b.gpkg"\nmode = "join"',
            r"mode = 'join' is for role 'buildings' only",
            id="join-not-buildings",
        ),
        pytest.param(
            'role = "buildings"\npath = "b.gpkg"\ncrs = "EPSG:0"',
            r"unknown CRS 'EPSG:0'",
            id="layer-crs",
        ),
    ],
)
def test_layer_mistakes(write_workflow, layer, message):
    with pytest.raises(ConfigError, match=message):
        load_workflow(write_workflow(f"{GOOD}\n[[layers]]\n{layer}\n"), check_files=False)


def test_missing_layer_file_names_role_and_line(write_workflow):
    text = GOOD + '\n[[layers]]\nrole = "population"\npath = "grid.gpkg"\n'
    with pytest.raises(ConfigError, match=r"line 12, \[layers\]\[1\] path \(role 'population'\)"):
        load_workflow(write_workflow(text))


def test_not_a_toml_file(tmp_path):
    p = tmp_path / "town.yaml"
    p.write_text("town: x")
    with pytest.raises(ConfigError, match=r"is a \.toml file"):
        load_workflow(p)


def test_missing_workflow_file(tmp_path):
    with pytest.raises(SourceError, match="workflow file not found"):
        load_workflow(tmp_path / "none.toml")


def test_workflow_round_trips_through_json(write_workflow):
    wf = load_workflow(write_workflow(GOOD))
    again = Workflow.model_validate_json(wf.model_dump_json())
    assert again == wf.model_copy(update={"source_file": None})


def test_building_use_names_match_the_vocabulary():
    from typing import get_args

    from rakennettu.config import BuildingUseName
    from rakennettu.sources.buildings import load_building_use

    assert set(get_args(BuildingUseName)) == set(load_building_use().labels)


def test_updated_validates_like_a_file(write_workflow):
    wf = load_workflow(write_workflow(GOOD))
    new = wf.updated({"network.radii": [800, 400], "synthesis.weights.cult": 0.0})
    assert new.network.radii == (400, 800)
    assert new.synthesis.weights["cult"] == 0.0
    assert wf.network.radii == (400, 800, 1200)  # the original is untouched
    with pytest.raises(ConfigError, match=r"\[network\] keep: Input should be 'largest' or 'all'"):
        wf.updated({"network.keep": "some"})
    with pytest.raises(ConfigError, match=r"at least one dimension needs a weight"):
        wf.updated({"synthesis.weights": {"morph": 0, "soc": 0, "cult": 0}})
