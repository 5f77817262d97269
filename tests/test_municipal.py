"""Municipal layers: formats, column mapping, CRS checks, repairs, rasters."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
from pyproj import CRS
from shapely import Polygon, box

from rakennettu import CRSError, EmptyDataError, SourceError
from rakennettu.config import LayerConfig
from rakennettu.sources.municipal import inspect_layer, read_raster, read_vector_layer

TM35 = CRS.from_epsg(3067)


def _layer(path, **kw):
    return LayerConfig(path=path, **{"role": "buildings", **kw})


@pytest.fixture
def squares(tmp_path):
    """Three 10 m squares in Helsinki (EPSG:3067) with a floors column."""
    gdf = gpd.GeoDataFrame(
        {"kerrosluku": [1, 3, 8], "kaytto": ["011", "131", "011"]},
        geometry=[box(385000 + 20 * i, 6672000, 385010 + 20 * i, 6672010) for i in range(3)],
        crs=3067,
    )
    return gdf


@pytest.mark.parametrize(
    ("suffix", "driver"),
    [
        pytest.param(".gpkg", "GPKG", id="geopackage"),
        pytest.param(".shp", "ESRI Shapefile", id="shapefile"),
        pytest.param(".geojson", "GeoJSON", id="geojson"),
        pytest.param(".parquet", None, id="geoparquet"),
    ],
)
def test_formats_read_the_same(tmp_path, squares, suffix, driver):
    path = tmp_path / f"b{suffix}"
    if driver is None:
        squares.to_parquet(path)
    else:
        squares.to_file(path, driver=driver)
    gdf, counts = read_vector_layer(_layer(path, columns={"floors": "kerrosluku"}), to_crs=TM35)
    assert counts["kept"] == 3
    assert gdf["floors"].tolist() == [1.0, 3.0, 8.0]
    assert gdf.crs.equals(TM35)
    assert gdf.area.round(6).tolist() == [100.0] * 3


def test_zipped_shapefile(shared_data):
    path = shared_data("helsinki-pygisbook", "PKS_postinumeroalueet_2023_manner_shp.zip")
    cfg = LayerConfig(role="heritage", path=path, columns={"name": "Nimi"})
    gdf, counts = read_vector_layer(cfg, to_crs=TM35)
    reference = pyogrio.read_dataframe(path)
    assert counts["read"] == len(reference) == 172
    assert sorted(gdf["name"]) == sorted(reference["Nimi"])
    assert gdf.crs.equals(TM35)  # from EPSG:3879


def test_register_buildings_with_floors(shared_data):
    path = shared_data("helsinki-nls-geogen", "buildings.gpkg")
    cfg = _layer(
        path, layer="buildings", columns={"floors": "kerrosluku", "use": "kayttotarkoitus"}
    )
    gdf, counts = read_vector_layer(cfg, to_crs=TM35)
    reference = pyogrio.read_dataframe(path, layer="buildings")
    assert counts["read"] == len(reference) == 2328
    assert gdf["floors"].sum() == reference["kerrosluku"].sum()
    assert gdf["use"].map(type).eq(str).all()  # codes kept as text for recoding
    assert not gdf.has_z.any()  # Z dropped


def test_recoding_values(tmp_path, squares):
    path = tmp_path / "b.gpkg"
    squares.to_file(path)
    cfg = _layer(
        path,
        columns={"floors": "kerrosluku", "use": "kaytto"},
        values={"floors": {"8": 7.5}, "use": {"011": "residential", "131": "commercial"}},
    )
    gdf, _ = read_vector_layer(cfg, to_crs=TM35)
    assert gdf["floors"].tolist() == [1.0, 3.0, 7.5]
    assert gdf["use"].tolist() == ["residential", "commercial", "residential"]


def test_missing_column_names_file_field_and_columns(tmp_path, squares):
    path = tmp_path / "b.gpkg"
    squares.to_file(path)
    with pytest.raises(
        SourceError,
        match=r"b.gpkg: column 'kerroksia' \(mapped to 'floors'\) is not in the file.*; its "
        r"columns are: kerrosluku, kaytto",
    ):
        inspect_layer(_layer(path, columns={"floors": "kerroksia"}))


def test_column_typo_gets_a_suggestion(tmp_path, squares):
    path = tmp_path / "b.gpkg"
    squares.to_file(path)
    with pytest.raises(SourceError, match=r"did you mean 'kerrosluku'"):
        inspect_layer(_layer(path, columns={"floors": "kerrosluk"}))


def test_text_in_a_numeric_field(tmp_path, squares):
    path = tmp_path / "b.gpkg"
    squares.assign(kerrosluku=["1", "3", "many"]).to_file(path)
    with pytest.raises(SourceError, match=r"must hold numbers; found 'many'"):
        read_vector_layer(_layer(path, columns={"floors": "kerrosluku"}), to_crs=TM35)


def test_file_without_crs(tmp_path, squares):
    path = tmp_path / "b.shp"
    squares.to_file(path)
    path.with_suffix(".prj").unlink()
    with pytest.raises(CRSError, match=r"b.shp: the file has no CRS; add `crs = "):
        inspect_layer(_layer(path))
    gdf, _ = read_vector_layer(_layer(path, crs="EPSG:3067"), to_crs=TM35)
    assert len(gdf) == 3


def test_crs_that_disagrees_with_coordinates(tmp_path, squares):
    path = tmp_path / "b.gpkg"
    squares.set_crs(4326, allow_override=True).to_file(path)
    with pytest.raises(CRSError, match=r"b.gpkg: coordinates .* cannot be degrees"):
        inspect_layer(_layer(path))


def test_crs_of_the_wrong_zone(tmp_path, squares):
    path = tmp_path / "b.gpkg"
    squares.set_crs(3879, allow_override=True).to_file(path)  # GK25: eastings of 25.5 million
    with pytest.raises(CRSError, match=r"do not fall where EPSG:3879"):
        inspect_layer(_layer(path))


def test_workflow_crs_overrides_a_wrong_one_with_a_warning(tmp_path, squares):
    path = tmp_path / "b.gpkg"
    squares.set_crs(3879, allow_override=True).to_file(path)
    with pytest.warns(UserWarning, match=r"the file says EPSG:3879, the workflow says EPSG:3067"):
        info = inspect_layer(_layer(path, crs="EPSG:3067"))
    assert info.crs.equals(TM35)


def test_several_layers_need_a_name(shared_data):
    path = shared_data("helsinki-nls-geogen", "buildings.gpkg")
    with pytest.raises(SourceError, match=r"holds 3 layers \(buildings, control_50k"):
        inspect_layer(_layer(path))
    with pytest.raises(SourceError, match=r"no layer 'building' \(did you mean 'buildings'"):
        inspect_layer(_layer(path, layer="building"))


def test_invalid_geometries_are_repaired_and_counted(tmp_path, squares):
    bowtie = Polygon([(385000, 6672000), (385010, 6672010), (385010, 6672000), (385000, 6672010)])
    line_only = Polygon([(385000, 6672000), (385010, 6672000), (385020, 6672000)])
    bad = gpd.GeoDataFrame(
        {"kerrosluku": [2, 2, 2]}, geometry=[bowtie, line_only, squares.geometry[0]], crs=3067
    )
    path = tmp_path / "bad.gpkg"
    bad.to_file(path)
    gdf, counts = read_vector_layer(_layer(path, columns={"floors": "kerrosluku"}), to_crs=TM35)
    assert counts["repaired"] == 1
    assert counts["invalid_dropped"] == 1
    assert len(gdf) == 2 and gdf.is_valid.all()
    assert gdf.area.iloc[0] == pytest.approx(50.0)


def test_layer_outside_the_area(tmp_path, squares):
    path = tmp_path / "b.gpkg"
    squares.to_file(path)
    far = box(500000, 7000000, 501000, 7001000)
    with pytest.raises(EmptyDataError, match=r"none of its 3 features lies within the area"):
        read_vector_layer(_layer(path), to_crs=TM35, within=far)


def test_unreadable_file(tmp_path):
    path = tmp_path / "b.gpkg"
    path.write_text("not a geopackage")
    with pytest.raises(SourceError, match=r"b.gpkg: cannot read as a vector file"):
        inspect_layer(_layer(path))


def test_population_grid_keeps_its_totals(shared_data):
    path = shared_data("helsinki-misc", "helsinki_population_grid_2020.gpkg")
    cfg = LayerConfig(role="population", path=path, columns={"residents": "population"})
    gdf, _ = read_vector_layer(cfg, to_crs=TM35)
    assert gdf["residents"].sum() == 71_724
    # 250 m cells survive the reprojection from EPSG:4326
    assert gdf.area.median() == pytest.approx(62_500, rel=0.01)


def test_dem_is_reprojected_to_the_town_crs(shared_data):
    import rasterio

    path = shared_data("helsinki-misc", "elevation_model_2021_lapinlahti.tif")
    dem = read_raster(path, to_crs=TM35)
    assert dem.crs.equals(TM35)
    # source pixels are 0.84 m (east) x 1.68 m (north); square pixels in between
    assert 0.84 <= dem.resolution <= 1.68
    with rasterio.open(path) as src:
        src_vals = src.read(1)
    assert np.nanmax(dem.array) == pytest.approx(src_vals.max(), abs=0.5)
    assert np.nanmin(dem.array) == pytest.approx(src_vals.min(), abs=0.5)
    # the raster lands on Lapinlahti, Helsinki (easting ~384,000 m in ETRS-TM35FIN)
    x0, y0 = dem.transform.c, dem.transform.f
    assert 383_000 < x0 < 385_000 and 6_671_000 < y0 < 6_673_000
