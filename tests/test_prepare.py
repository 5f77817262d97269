"""The prepare stage against hand-worked buildings: floors, heights, floor areas, people."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from pyproj import CRS
from shapely import box

from rakennettu.config import FormConfig, SocialConfig
from rakennettu.prepare import prepare, prepare_buildings
from rakennettu.town import Town

EPSG = 3067
X0, Y0 = 380_000.0, 6_700_000.0

# Five footprints, worked by hand with 3 m storeys and 2 floors where nothing is known:
#   a  10 x 10 m, floors 4                -> 4 floors (floors), 12 m (floors), 400 m²
#   b  20 x 10 m, height 10 m             -> floor(10 / 3) = 3 floors (height), 10 m, 600 m²
#   c   5 x 4 m,  height 2 m              -> floor(2 / 3) = 0, at least 1 (height), 2 m, 20 m²
#   d  10 x 10 m, nothing known           -> 2 floors (assumed), 2 x 3 = 6 m, 200 m²
#   e  10 x 10 m, floors 0 (not a count)  -> 2 floors (assumed), 6 m, 200 m²
FOOTPRINTS = {
    "a": box(X0, Y0, X0 + 10, Y0 + 10),
    "b": box(X0 + 30, Y0, X0 + 50, Y0 + 10),
    "c": box(X0 + 60, Y0, X0 + 65, Y0 + 4),
    "d": box(X0 + 150, Y0, X0 + 160, Y0 + 10),
    "e": box(X0 + 170, Y0, X0 + 180, Y0 + 10),
}
FLOORS = {"a": 4.0, "b": 3.0, "c": 1.0, "d": 2.0, "e": 2.0}
FLOORS_SOURCE = {"a": "floors", "b": "height", "c": "height", "d": "assumed", "e": "assumed"}
HEIGHT = {"a": 12.0, "b": 10.0, "c": 2.0, "d": 6.0, "e": 6.0}
HEIGHT_SOURCE = {"a": "floors", "b": "height", "c": "height", "d": "assumed", "e": "assumed"}
FLOOR_AREA = {"a": 400.0, "b": 600.0, "c": 20.0, "d": 200.0, "e": 200.0}
FORM = FormConfig(storey_height=3.0, default_floors=2.0)
# homes: a and d (residential); workplaces: b (office); c unknown, e a shed
SOCIAL = SocialConfig(m2_per_resident=40.0, m2_per_job=30.0, unknown_as_homes="never")


def _buildings() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "floors": [4.0, np.nan, np.nan, np.nan, 0.0],
            "height": [np.nan, 10.0, 2.0, np.nan, np.nan],
            "use": ["residential", "office", "unknown", "residential", "other"],
            "in_area": [True, True, True, True, False],
        },
        geometry=list(FOOTPRINTS.values()),
        index=pd.Index(list(FOOTPRINTS), name="building"),
        crs=EPSG,
    )


def _town(buildings: gpd.GeoDataFrame, population: gpd.GeoDataFrame | None = None) -> Town:
    empty = gpd.GeoDataFrame(geometry=[], crs=EPSG)
    area = box(X0 - 100, Y0 - 100, X0 + 400, Y0 + 200)
    return Town(
        name="test",
        title="Test",
        crs=CRS.from_epsg(EPSG),
        area=area,
        context=area,
        graph=nx.MultiGraph(),
        nodes=empty,
        edges=empty,
        buildings=buildings,
        activities=empty,
        third_places=empty,
        landmarks=empty,
        green_blue=empty,
        candidates=empty,
        barriers=empty,
        features=empty.assign(tags=[]),
        population=population,
    )


def test_floors_heights_and_floor_areas_by_hand():
    b = _buildings()
    got = prepare_buildings(b, FORM)
    assert got.index.equals(b.index)
    assert got.crs == b.crs
    assert got["morph_floors"].to_dict() == FLOORS
    assert got["morph_floors_source"].astype(str).to_dict() == FLOORS_SOURCE
    assert got["height"].to_dict() == HEIGHT
    assert got["height_source"].astype(str).to_dict() == HEIGHT_SOURCE
    assert got["floor_area"].to_dict() == pytest.approx(FLOOR_AREA)
    assert got.geometry.geom_equals(b.geometry).all()


def test_residents_and_jobs_from_floor_area_by_hand():
    b = _buildings()
    before = b.copy()
    prep = prepare(_town(b), FORM, SOCIAL)
    t = prep.buildings
    # a: 400 m² / 40 = 10 residents; d: 200 / 40 = 5; b: 600 m² of office / 30 = 20 jobs
    assert t["residents"].to_dict() == pytest.approx({"a": 10, "b": 0, "c": 0, "d": 5, "e": 0})
    assert t["jobs"].to_dict() == pytest.approx({"a": 0, "b": 20, "c": 0, "d": 0, "e": 0})
    assert t["residential_floor_area"].to_dict() == pytest.approx(
        {"a": 400, "b": 0, "c": 0, "d": 200, "e": 0}
    )
    assert t["in_area"].tolist() == [True, True, True, True, False]
    assert prep.population_method == "floor_area"
    assert prep.report["residents"] == pytest.approx(15.0)
    assert prep.report["jobs"] == pytest.approx(20.0)
    assert prep.people.index.equals(b.index)
    assert not prep.people["pseudo"].any()
    pd.testing.assert_frame_equal(b, before)  # the town's frame is left as it was


def test_unknown_uses_count_as_homes_when_the_rule_says_always():
    prep = prepare(
        _town(_buildings()), FORM, SOCIAL.model_copy(update={"unknown_as_homes": "always"})
    )
    # c (unknown use, 20 m²) now houses 20 / 40 = 0.5 residents; e ("other") still none
    assert prep.buildings.loc["c", "residents"] == pytest.approx(0.5)
    assert prep.buildings.loc["e", "residents"] == 0.0
    assert prep.report["unknown_as_homes_buildings"] == 1


def test_a_population_grid_is_shared_by_residential_floor_area():
    # west cell: a (400 m²) and d is outside it; 30 residents go to a alone; the east cell
    # holds d and e: 12 residents to d (the only home); a third cell has no building
    cells = [
        box(X0 - 20, Y0 - 20, X0 + 100, Y0 + 100),
        box(X0 + 100, Y0 - 20, X0 + 220, Y0 + 100),
        box(X0 + 220, Y0 - 20, X0 + 340, Y0 + 100),
    ]
    grid = gpd.GeoDataFrame({"residents": [30.0, 12.0, 7.0]}, geometry=cells, crs=EPSG)
    prep = prepare(_town(_buildings(), grid), FORM, SOCIAL)
    people = prep.people
    assert prep.population_method == "grid_residents"
    assert prep.buildings["residents"].to_dict() == pytest.approx(
        {"a": 30, "b": 0, "c": 0, "d": 12, "e": 0}
    )
    pseudo = people[people["pseudo"]]
    assert pseudo["residents"].tolist() == [7.0]
    assert pseudo.index.tolist() == ["grid-2"]  # a string index gets labelled pseudo rows
    # jobs are not in the grid: estimated from floor area (b: 600 / 30)
    assert prep.buildings.loc["b", "jobs"] == pytest.approx(20.0)
