"""Completeness figures and their warnings, on small towns drawn in code."""

from __future__ import annotations

import json

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from pyproj import CRS
from shapely import LineString, Point, box

from rakennettu.completeness import THRESHOLDS, completeness, figures_record
from rakennettu.i18n import Said, language
from rakennettu.town import Town

X0, Y0 = 385_000.0, 6_672_000.0
EPSG = 3067


def _streets() -> gpd.GeoDataFrame:
    """Four east-west and four north-south streets across a 1 km square: 8 km, plus a
    2 km footway that must not count as street."""
    lines = [LineString([(X0, Y0 + y), (X0 + 1000, Y0 + y)]) for y in (125, 375, 625, 875)]
    lines += [LineString([(X0 + x, Y0), (X0 + x, Y0 + 1000)]) for x in (125, 375, 625, 875)]
    lines += [LineString([(X0, Y0 + 500), (X0 + 1000, Y0 + 500)])] * 2
    highway = ["residential"] * 8 + ["footway"] * 2
    return gpd.GeoDataFrame({"highway": highway, "in_area": True}, geometry=lines, crs=EPSG)


def _buildings(n: int, **cols) -> gpd.GeoDataFrame:
    xs = X0 + 20 + (np.arange(n) % 40) * 24
    ys = Y0 + 20 + (np.arange(n) // 40) * 30
    data = {"use": "residential", "floors": 3.0, "height": np.nan, "year": 1960.0, "in_area": True}
    data.update(cols)
    geoms = [box(x, y, x + 12, y + 12) for x, y in zip(xs, ys, strict=True)]
    return gpd.GeoDataFrame(data, geometry=geoms, index=pd.RangeIndex(n), crs=EPSG)


def _points(n: int, **cols) -> gpd.GeoDataFrame:
    pts = [Point(X0 + 50 + 9 * i, Y0 + 500) for i in range(n)]
    return gpd.GeoDataFrame({"in_area": True, **cols}, geometry=pts, index=range(n), crs=EPSG)


def _town(buildings=None, activities=20, third_places=5, landmarks=2) -> Town:
    empty = gpd.GeoDataFrame(geometry=[], crs=EPSG)
    area = box(X0, Y0, X0 + 1000, Y0 + 1000)
    return Town(
        name="test",
        title="Test",
        crs=CRS.from_epsg(EPSG),
        area=area,
        context=area,
        graph=nx.MultiGraph(),
        nodes=empty,
        edges=_streets(),
        buildings=_buildings(200) if buildings is None else buildings,
        activities=_points(activities, category="daily_needs"),
        third_places=_points(third_places, kind="cafe"),
        landmarks=_points(landmarks, weight=1.0),
        green_blue=empty,
        candidates=empty,
        barriers=empty,
        features=empty.assign(tags=[]),
    )


def test_a_complete_town_has_no_warnings_and_the_figures_are_right():
    c = completeness(_town())
    t = c.table
    assert c.warnings == ()
    assert not t["short"].any()
    # 200 buildings on 8 km of street (the 2 km of footway left out); 1 km²
    assert t.loc["street_km", "value"] == pytest.approx(8.0)
    assert t.loc["buildings_per_street_km", "value"] == pytest.approx(25.0)
    assert t.loc["activities_per_km2", "value"] == pytest.approx(20.0)
    assert t.loc["third_places_per_km2", "value"] == pytest.approx(5.0)
    assert t.loc["landmarks", "value"] == 2
    assert t.loc["year_share", "value"] == 1.0


def test_no_construction_years():
    c = completeness(_town(_buildings(200, year=np.nan)))
    assert c.table.loc["year_share", "value"] == 0.0
    assert c.warnings == (
        "buildings: no building has a construction year (threshold 25 %): building age "
        "measures left out of the cultural score",
    )


def test_few_construction_years():
    years = np.where(np.arange(200) < 20, 1930.0, np.nan)  # 10 %
    c = completeness(_town(_buildings(200, year=years)))
    assert c.warnings == (
        "buildings: only 10 % of the buildings have a construction year (threshold 25 %): "
        "building age diversity rests on few buildings",
    )


def test_a_shortfall_is_said_in_finnish_and_recorded_in_english():
    """The warning is English text (the record) that says itself in Finnish: the
    percentages in Finnish format, the layer's name and what it affects translated."""
    years = np.where(np.arange(200) < 20, 1930.0, np.nan)  # 10 %
    c = completeness(_town(_buildings(200, year=years)))
    (w,) = c.warnings
    assert w.in_(language("fi")) == (
        "rakennukset: rakennusvuosi on vain 10 % rakennuksista (kynnysarvo 25 %). "
        "Vaikuttaa: rakennusten ikävaihtelu perustuu harvoihin rakennuksiin"
    )
    assert w.in_(language("en")) == w
    rec = json.loads(json.dumps(figures_record(c)))
    assert rec["warnings"] == [w]
    assert Said.from_record(rec["warning_messages"][0]).in_(language("fi")) == w.in_(language("fi"))


def test_every_building_is_building_yes():
    c = completeness(_town(_buildings(200, use="unknown", floors=np.nan)))
    assert c.table.loc["use_share", "value"] == 0.0
    assert c.warnings == (
        "buildings: 0 % of the buildings have a known use (the rest are building=yes) "
        "(threshold 50 %): which floor area counts as homes and workplaces: residents and "
        "jobs rest on the rule for unknown uses (docs/population.md)",
        "buildings: 0 % of the buildings have floors or a height (threshold 25 %): floor "
        "area, FAR and residents: the rest count as default_floors storeys",
    )


def test_no_activities_third_places_or_landmarks():
    c = completeness(_town(activities=0, third_places=0, landmarks=0))
    assert list(c.table.index[c.table["short"]]) == [
        "activities_per_km2",
        "third_places_per_km2",
        "landmarks",
    ]
    assert c.warnings == (
        "activities: no activities (shops, services) in the area (threshold 5): access to "
        "activities and the land-use mix (social score), and the social gains of the sites",
        "third_places: no third places (cafés, libraries, squares) in the area (threshold "
        "1): third-place access (cultural score) and the cultural gains of the sites",
        "landmarks: no landmarks or heritage in the area (threshold 1): landmark access "
        "left out of the cultural score, and the landmark context of the sites",
    )


def test_very_few_buildings_per_km_of_street():
    c = completeness(_town(_buildings(12)))  # 12 buildings on 8 km
    assert c.table.loc["buildings_per_street_km", "value"] == pytest.approx(1.5)
    assert c.warnings == (
        "buildings: only 1.5 buildings per km of street: most buildings are probably not "
        "mapped (threshold 5): floor area, coverage, residents and jobs, and every measure "
        "built on them",
    )


def test_thresholds_are_settings():
    c = completeness(_town(), thresholds={"activities_per_km2": 50})
    assert list(c.table.index[c.table["short"]]) == ["activities_per_km2"]
    assert c.table.loc["activities_per_km2", "threshold"] == 50
    assert THRESHOLDS["activities_per_km2"] == 5


def _people(town: Town, residents, unknown_homes=0.0) -> pd.DataFrame:
    b = town.buildings
    area = 144.0 * 3
    return pd.DataFrame(
        {
            "residents": residents,
            "jobs": 0.0,
            "residential_floor_area": area,
            "population_method": "floor_area",
            "pseudo": False,
        },
        index=b.index,
    )


def test_residents_and_jobs_and_where_they_came_from():
    town = _town()
    c = completeness(town, people=_people(town, 2.0))
    t = c.table
    assert t.loc["residents", "value"] == pytest.approx(400.0)
    assert t.loc["residents", "note"] == "from floor area"
    assert t.loc["residents_from_grid", "value"] == 0.0
    assert c.warnings == (
        "population: no jobs in the area (no building counts as a workplace) (threshold "
        "1): jobs within reach, and people reached by the sites count residents only",
    )


def test_residents_in_buildings_of_unknown_use():
    # 150 of 200 buildings are building=yes counted as homes: 75 % of the floor area
    uses = np.where(np.arange(200) < 150, "unknown", "residential")
    town = _town(_buildings(200, use=uses))
    c = completeness(town, people=_people(town, 2.0).assign(jobs=1.0))
    assert c.table.loc["unknown_homes_share", "value"] == pytest.approx(0.75)
    assert c.warnings[-1] == (
        "population: 75 % of the residential floor area is in buildings of unknown use "
        "counted as homes (threshold 25 %): residents are an assumption there: the sites' "
        "rank intervals also draw between counting no and every unknown-use building as "
        "homes"
    )


def test_figures_record_is_plain_json():
    import json

    rec = figures_record(completeness(_town(_buildings(200, year=np.nan))))
    text = json.dumps(rec, allow_nan=False)
    assert json.loads(text)["figures"]["year_share"]["short"] is True


def test_a_rate_below_one_keeps_two_digits():
    # 1 building on 8 km of street (an extract holding only the buildings with an amenity)
    c = completeness(_town(_buildings(1)))
    assert c.warnings[0].startswith("buildings: only 0.12 buildings per km of street")
