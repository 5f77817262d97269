"""Developable ground, empty blocks that are really empty, and sites named for planners.

Small towns drawn in code, one per rule: the expected areas are worked by hand (or with
plain shapely on the drawn geometry), never read back from the code under test.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely import LineString, Point, box

from rakennettu._groups import union_by_group
from rakennettu.i18n import Said, language
from rakennettu.layers.form import enclosures
from rakennettu.synthesis.candidates import (
    area_within,
    built_envelope,
    collect_candidates,
    empty_blocks,
    possibly_unmapped,
)
from rakennettu.synthesis.describe import describe_sites
from rakennettu.synthesis.ground import (
    developable,
    ground_cover,
    keep_ground,
    load_road_widths,
    road_space,
    way_width,
)
from rakennettu.wording import reason_words

CRS = 3067
NO_BUILDINGS = gpd.GeoDataFrame(geometry=[], crs=CRS)


def features(*items):
    """A features frame from (tags, geometry) pairs, ids from 1."""
    return gpd.GeoDataFrame(
        {
            "osm_type": ["way" if g.geom_type != "Point" else "node" for _, g in items],
            "osm_id": list(range(1, len(items) + 1)),
            "name": [t.get("name") for t, _ in items],
            "tags": [t for t, _ in items],
        },
        geometry=[g for _, g in items],
        crs=CRS,
    )


def sites(kind, *geoms, provenance=None):
    return gpd.GeoDataFrame(
        {
            "kind": kind,
            "provenance": provenance or [f"osm:way/{900 + i}" for i in range(len(geoms))],
        },
        geometry=list(geoms),
        crs=CRS,
    )


# ---------------------------------------------------------------------------------------
# road and rail space


def test_widths_follow_the_wiki_order_width_then_lanes_then_class():
    w = load_road_widths()
    assert way_width({"highway": "primary", "width": "9.5"}, w) == 9.5
    assert way_width({"highway": "primary", "lanes": "2"}, w) == 2 * w.lane_width
    assert way_width({"highway": "primary"}, w) == w.highway["primary"]
    assert way_width({"highway": "primary", "width": "wide", "lanes": "3"}, w) == 3 * w.lane_width
    assert way_width({"highway": "construction", "construction": "tertiary"}, w) == 8.0
    assert way_width({"railway": "tram"}, w) == w.railway["tram"]
    # underground, inside a car park, or no class: no ground taken
    assert way_width({"highway": "primary", "tunnel": "yes"}, w) is None
    assert way_width({"highway": "primary", "layer": "-1"}, w) is None
    assert way_width({"highway": "service", "service": "parking_aisle"}, w) is None
    assert way_width({"highway": "corridor"}, w) is None
    assert way_width({"building": "yes"}, w) is None


def test_a_road_through_a_site_takes_its_width():
    # 100 m x 60 m lot, a street 20 m wide along y = 30: two lots 100 x 20 remain
    f = features(({"highway": "primary", "width": "20"}, LineString([(-10, 30), (110, 30)])))
    cover = ground_cover(f, NO_BUILDINGS)
    out = developable(sites("brownfield", box(0, 0, 100, 60)), cover)
    assert out["road_share"].iloc[0] == pytest.approx(2000 / 6000)
    assert out["ground_m2"].iloc[0] == pytest.approx(4000)
    assert out["verdict"].iloc[0] == "ground"
    assert len(out.geometry.iloc[0].geoms) == 2


def test_a_construction_site_drawn_over_the_street_is_no_site():
    # a 100 x 30 construction polygon over a four-lane street (13 m) and a tram track
    # pair: 2 x 3.5 m; road and rail take 20 of its 30 m
    f = features(
        ({"highway": "secondary", "lanes": "4"}, LineString([(-10, 10), (110, 10)])),
        ({"railway": "tram"}, LineString([(-10, 20), (110, 20)])),
        ({"railway": "tram"}, LineString([(-10, 23.5), (110, 23.5)])),
    )
    cover = ground_cover(f, NO_BUILDINGS)
    s = sites("construction", box(0, 0, 100, 30))
    out = developable(s, cover)
    road = box(0, 10 - 6.5, 100, 10 + 6.5).union(box(0, 18.25, 100, 25.25))
    assert out["road_share"].iloc[0] == pytest.approx(road.area / 3000)
    assert out["verdict"].iloc[0] == "road"
    kept, removed = keep_ground(s.assign(category="construction"), cover)
    assert len(kept) == 0 and removed == {"road": 1}


def test_road_areas_squares_and_platforms_are_road_space():
    f = features(
        ({"area:highway": "primary"}, box(0, 0, 100, 40)),
        ({"place": "square", "name": "Tori"}, box(0, 40, 50, 100)),
        ({"public_transport": "platform"}, box(50, 40, 100, 50)),
        ({"highway": "pedestrian", "area": "yes"}, box(50, 50, 100, 70)),
    )
    out = developable(sites("empty_block", box(0, 0, 100, 100)), ground_cover(f, NO_BUILDINGS))
    assert out["road_share"].iloc[0] == pytest.approx((4000 + 3000 + 500 + 1000) / 10000)
    assert out["ground_m2"].iloc[0] == pytest.approx(50 * 30)
    # block land is the block less its road space: 1500 of 1500 m² is ground
    assert out["ground_share"].iloc[0] == pytest.approx(1.0)


def test_a_closed_street_loop_is_a_line_not_an_area():
    # a closed highway=residential way round a lot (no area=yes) is a loop of road
    loop = box(0, 0, 100, 100)
    f = features(({"highway": "residential"}, loop))
    out = developable(sites("brownfield", box(10, 10, 90, 90)), ground_cover(f, NO_BUILDINGS))
    assert out["road_share"].iloc[0] == 0.0
    assert out["verdict"].iloc[0] == "ground"


# ---------------------------------------------------------------------------------------
# open space and buildings


@pytest.mark.parametrize(
    "tags",
    [
        {"leisure": "park"},
        {"leisure": "garden", "garden:type": "private", "access": "private"},
        {"leisure": "playground"},
        {"leisure": "pitch"},
        {"landuse": "cemetery"},
        {"natural": "water"},
        {"natural": "wood"},
    ],
    ids=lambda t: "=".join(next(iter(t.items()))),
)
def test_a_park_inside_a_site_is_open_space(tags):
    # open space over 60 % of a 100 x 50 lot: 40 % ground is mostly not ground
    f = features((tags, box(0, 0, 60, 50)))
    out = developable(sites("brownfield", box(0, 0, 100, 50)), ground_cover(f, NO_BUILDINGS))
    assert out["open_share"].iloc[0] == pytest.approx(0.6)
    assert out["verdict"].iloc[0] == "open_space"


def test_a_small_park_corner_leaves_the_rest_as_ground():
    f = features(({"leisure": "park"}, box(0, 0, 20, 20)))
    out = developable(sites("brownfield", box(0, 0, 100, 50)), ground_cover(f, NO_BUILDINGS))
    assert out["ground_m2"].iloc[0] == pytest.approx(5000 - 400)
    assert out["verdict"].iloc[0] == "ground"


def test_a_building_over_a_site_is_not_ground():
    b = gpd.GeoDataFrame(
        {"osm_type": ["way"], "osm_id": [7]}, geometry=[box(0, 0, 70, 50)], crs=CRS
    )
    cover = ground_cover(features(), b)
    out = developable(sites("construction", box(0, 0, 100, 50)), cover)
    assert out["building_share"].iloc[0] == pytest.approx(0.7)
    assert out["verdict"].iloc[0] == "buildings"
    # a disused building is its own site: its footprint is not subtracted
    own = developable(sites("disused_building", box(0, 0, 70, 50), provenance=["osm:way/7"]), cover)
    assert own["verdict"].iloc[0] == "ground"
    assert own["building_share"].iloc[0] == 0.0


def test_slivers_left_by_a_road_are_dropped():
    # 100 x 30 lot, a 10 m street along y = 15: two strips 10 m wide, none 15 m wide
    f = features(({"highway": "secondary"}, LineString([(-10, 15), (110, 15)])))
    out = developable(sites("brownfield", box(0, 0, 100, 30)), ground_cover(f, NO_BUILDINGS))
    assert out["ground_m2"].iloc[0] == 0.0
    assert out["verdict"].iloc[0] in ("road", "slivers")


def test_planner_sites_are_kept_with_a_warning(caplog):
    f = features(({"leisure": "park"}, box(0, 0, 100, 50)))
    s = sites("planner", box(0, 0, 100, 50)).assign(category="planner", name="Puistotontti")
    with caplog.at_level(logging.WARNING, logger="rakennettu"):
        kept, removed = keep_ground(s, ground_cover(f, NO_BUILDINGS))
    assert len(kept) == 1 and kept.geometry.iloc[0].equals(box(0, 0, 100, 50))
    assert removed == {}
    assert "Puistotontti" in caplog.text and "open space 100 %" in caplog.text
    # the warning is said in Finnish on a Finnish run (the name is data, kept as it is)
    (said,) = [r.msg for r in caplog.records if isinstance(r.msg, Said)]
    assert said.in_(language("fi")) == (
        "kaavoittajan kohde Puistotontti: vain 0 % siitä on rakennettavaa maata (tie tai rata "
        "0 %, avoin tila 100 %, rakennukset 0 %); säilytetty sellaisenaan"
    )


# ---------------------------------------------------------------------------------------
# empty blocks


def _grid_town(nx_: int = 12, ny: int = 4, step: float = 100.0):
    """nx_ x ny streets (centre lines), a building in every block but one, area beyond."""
    lines = [LineString([(i * step, 0), (i * step, (ny - 1) * step)]) for i in range(nx_)]
    lines += [LineString([(0, j * step), ((nx_ - 1) * step, j * step)]) for j in range(ny)]
    streets = gpd.GeoDataFrame({"highway": ["residential"] * len(lines)}, geometry=lines, crs=CRS)
    area = box(-400, -400, (nx_ - 1) * step + 400, (ny - 1) * step + 400)
    encl = enclosures(streets, area=area)
    blds = []
    empty_at = (5 * step + step / 2, step + step / 2)
    for i in range(nx_ - 1):
        for j in range(ny - 1):
            cx, cy = i * step + step / 2, j * step + step / 2
            if (cx, cy) != empty_at:
                blds.append(box(cx - 20, cy - 20, cx + 20, cy + 20))
    buildings = gpd.GeoDataFrame(geometry=blds, crs=CRS)
    counts = [int(buildings.intersects(g).sum()) for g in encl.geometry]
    encl = encl.assign(morph_enclosure_buildings=counts)
    f = features(*[({"highway": "residential"}, ln) for ln in lines])
    return encl, buildings, f, Point(empty_at)


def test_land_outside_the_streets_is_no_block():
    encl, buildings, f, empty_at = _grid_town()
    outer = encl[encl.area > 100 * 100 * 2]
    assert len(outer) >= 1  # the land round the grid is an enclosure (the 78.8 ha case)
    blocks = empty_blocks(encl, buildings)
    assert len(blocks) == 1
    assert blocks.geometry.iloc[0].contains(empty_at)
    # ranked, the block's land is the block less half of each street around it
    out = collect_candidates(
        gpd.GeoDataFrame({"category": []}, geometry=[], crs=CRS),
        blocks=keep_ground(blocks, ground_cover(f, buildings))[0],
    )
    assert out["area_m2"].iloc[0] == pytest.approx((100 - 6) ** 2, rel=0.01)


def test_envelope_closes_gaps_between_buildings_but_not_fields():
    b = gpd.GeoDataFrame(geometry=[box(0, 0, 20, 20), box(180, 0, 200, 20)], crs=CRS)
    env = built_envelope(b)
    assert env.contains(Point(100, 10))
    assert not env.contains(Point(100, 300))


def test_a_block_with_shops_but_no_buildings_is_possibly_unmapped():
    blocks = gpd.GeoDataFrame(
        geometry=[box(0, 0, 100, 100), box(200, 0, 300, 100), box(400, 0, 500, 100)], crs=CRS
    )
    f = features(
        ({"shop": "bakery"}, Point(20, 20)),
        ({"addr:street": "Katu", "addr:housenumber": "5"}, Point(50, 50)),
        ({"amenity": "bench"}, Point(250, 50)),  # street furniture: empty all the same
        ({"landuse": "residential"}, box(390, -10, 510, 110)),
    )
    reason = possibly_unmapped(blocks, f)
    assert reason.iloc[0] == "2 shops, amenities or addresses"
    assert reason.iloc[1] is None
    assert reason.iloc[2] == "residential landuse with no building mapped"
    # said in Finnish on a Finnish map and report; the OSM value stays as it is
    fi = language("fi")
    assert [reason_words(r, fi) for r in reason] == [
        "2 liikettä, palvelua tai osoitetta",
        "",
        "maankäyttö residential, mutta ei kartoitettuja rakennuksia",
    ]
    assert reason_words(reason.iloc[0], language("en")) == reason.iloc[0]


def test_a_shop_on_the_street_centre_line_does_not_mark_the_block():
    blocks = gpd.GeoDataFrame(geometry=[box(0, 0, 100, 100)], crs=CRS)
    f = features(
        ({"highway": "residential"}, LineString([(-10, 0), (110, 0)])),
        ({"amenity": "cafe"}, Point(50, 1)),  # in the street's space, not the block's land
    )
    cover = ground_cover(f, NO_BUILDINGS)
    assert possibly_unmapped(blocks, f, road=cover.road).iloc[0] is None


# ---------------------------------------------------------------------------------------
# names, districts, what is there now, flags

STREET = gpd.GeoDataFrame(
    {"name": ["Rantakatu"]}, geometry=[LineString([(-50, -10), (200, -10)])], crs=CRS
)


def _describe(kind, site, *items):
    s = gpd.GeoDataFrame({"kind": [kind], "name": [None]}, geometry=[site], crs=CRS)
    return describe_sites(s, features(*items), STREET).iloc[0]


def test_a_site_without_a_name_is_named_by_kind_and_nearest_address():
    row = _describe(
        "surface_parking",
        box(0, 0, 50, 40),
        ({"amenity": "parking", "capacity": "46"}, box(0, 0, 50, 40)),
        ({"addr:street": "Rantakatu", "addr:housenumber": "12"}, Point(60, 20)),
        ({"addr:street": "Kaukokatu", "addr:housenumber": "1"}, Point(300, 20)),
    )
    assert row["name"] == "Surface car park at Rantakatu 12"
    assert row["now"] == "surface car park, 46 spaces"
    assert row["flags"] is None


def test_without_an_address_the_nearest_street_names_the_site():
    row = _describe("empty_block", box(0, 0, 50, 40))
    assert row["name"] == "Empty block at Rantakatu"
    assert row["now"] == "land with no building mapped"


def test_an_osm_name_is_kept():
    s = gpd.GeoDataFrame({"kind": ["brownfield"], "name": ["Vanha satama"]},
                         geometry=[box(0, 0, 50, 40)], crs=CRS)  # fmt: skip
    assert describe_sites(s, features(), STREET)["name"].iloc[0] == "Vanha satama"


def test_district_from_the_area_holding_the_site_else_the_nearest_node():
    inside = _describe(
        "brownfield",
        box(0, 0, 50, 40),
        ({"place": "suburb", "name": "Kaartinkaupunki"}, box(-500, -500, 500, 500)),
        ({"place": "neighbourhood", "name": "Kolmikulma"}, box(-100, -100, 100, 100)),
        ({"place": "quarter", "name": "Kauempana"}, Point(20, 20)),
    )
    assert inside["district"] == "Kolmikulma"  # the smallest area holding it
    node = _describe(
        "brownfield",
        box(0, 0, 50, 40),
        ({"place": "quarter", "name": "Lähellä"}, Point(100, 100)),
        ({"place": "quarter", "name": "Kaukana"}, Point(900, 900)),
    )
    assert node["district"] == "Lähellä"


@pytest.mark.parametrize(
    ("tags", "flag"),
    [
        ({"amenity": "parking", "access": "private"}, "private access"),
        ({"amenity": "school", "name": "Koulu"}, "school or college grounds"),
        ({"amenity": "place_of_worship"}, "church grounds"),
        ({"landuse": "religious"}, "church grounds"),
        ({"heritage": "2"}, "heritage"),
        ({"landuse": "construction"}, "already under construction"),
    ],
)
def test_flags_a_planner_must_see(tags, flag):
    row = _describe("surface_parking", box(0, 0, 50, 40), (tags, box(-10, -10, 60, 50)))
    assert flag in row["flags"].split("; ")


def test_school_grounds_say_so_in_now_and_far_areas_do_not_flag():
    row = _describe("empty_block", box(0, 0, 50, 40), ({"amenity": "school"}, box(0, 0, 50, 40)))
    assert "school grounds" in row["now"]
    far = _describe("empty_block", box(0, 0, 50, 40), ({"amenity": "school"}, box(300, 0, 400, 90)))
    assert far["flags"] is None
    # a heritage point inside the site flags it; one outside does not
    pin = _describe("brownfield", box(0, 0, 50, 40), ({"historic": "memorial"}, Point(25, 20)))
    assert pin["flags"] == "heritage"
    out = _describe("brownfield", box(0, 0, 50, 40), ({"historic": "memorial"}, Point(99, 99)))
    assert out["flags"] is None


def test_a_construction_site_is_flagged_under_construction():
    row = _describe("construction", box(0, 0, 50, 40))
    assert row["flags"] == "already under construction"
    assert row["now"] == "construction site"


def test_private_roads_near_a_site_do_not_flag_it():
    row = _describe(
        "brownfield",
        box(0, 0, 50, 40),
        ({"highway": "service", "access": "private"}, LineString([(-5, 20), (55, 20)])),
    )
    assert row["flags"] is None


def test_describe_keeps_the_index():
    s = gpd.GeoDataFrame(
        {"kind": ["brownfield", "empty_block"], "name": [None, None]},
        geometry=[box(0, 0, 50, 40), box(100, 0, 150, 40)],
        index=["C7", "C3"],
        crs=CRS,
    )
    out = describe_sites(s, features(), STREET)
    assert list(out.index) == ["C7", "C3"]
    assert np.all(out["name"].str.endswith("at Rantakatu"))


def test_area_within_equals_the_overlay_areas():
    # blocks inside, outside and across a holed, many-sided region (a closed envelope)
    rng = np.random.default_rng(3)
    houses = [box(x, y, x + 15, y + 15) for x, y in rng.uniform(0, 2000, size=(300, 2))]
    region = built_envelope(gpd.GeoDataFrame(geometry=houses, crs=CRS))
    corners, sides = rng.uniform(-300, 2300, size=(300, 2)), rng.uniform(5, 120, 300)
    blocks = np.array([box(x, y, x + w, y + w) for (x, y), w in zip(corners, sides, strict=True)])
    want = shapely.area(shapely.intersection(blocks, region))
    got = area_within(blocks, region)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-6)
    whole = shapely.area(blocks)
    assert ((got > 0) & (got < whole)).sum() >= 10  # some cross the boundary
    assert (got == whole).sum() >= 10 and (got == 0).sum() >= 10
    assert not shapely.is_prepared(region)  # the caller's geometry left as it was


def _one_by_one(sites, feats, edges, *, address_reach=60.0, street_reach=150.0, reach=1500.0):
    """The naming rules site by site, with plain shapely and a scan of every feature.

    Ties (several addresses or streets at the least distance) go to the one found first
    by a query of the addresses' (streets') spatial index for that site alone, as the
    rules have always taken them.
    """
    from rakennettu.sources.taxonomy import classify
    from rakennettu.wording import FLAGS

    tags = feats["tags"].tolist()
    geoms = feats.geometry.to_numpy()
    classes = classify(feats, "site_context")
    ranks = {"neighbourhood": 0, "quarter": 1, "suburb": 2}
    addr = feats[[("addr:street" in t and "addr:housenumber" in t) for t in tags]]
    out = []
    for site, kind in zip(sites.geometry, sites["kind"], strict=True):
        pt = site.representative_point()
        held = [(ranks[t["place"]], k) for k, t in enumerate(tags)
                if t.get("place") in ranks and geoms[k].geom_type == "Polygon"
                and geoms[k].contains(pt)]  # fmt: skip
        nodes = [(geoms[k].distance(pt), k) for k, t in enumerate(tags)
                 if t.get("place") in ranks and geoms[k].geom_type == "Point"]  # fmt: skip
        if held:
            district = tags[min(held)[1]]["name"]
        elif nodes and min(nodes)[0] <= reach:
            district = tags[min(nodes)[1]]["name"]
        else:
            district = None
        hits = addr.sindex.query(site, predicate="dwithin", distance=address_reach)
        near = [(addr.geometry.iloc[k].distance(site), n, k) for n, k in enumerate(hits)]
        hits = edges.sindex.query(site, predicate="dwithin", distance=street_reach)
        street = [(edges.geometry.iloc[k].distance(site), n, k) for n, k in enumerate(hits)]
        if near:
            t = addr["tags"].iloc[min(near)[2]]
            place, how = f"{t['addr:street']} {t['addr:housenumber']}", "address"
        elif street:
            place, how = edges["name"].iloc[min(street)[2]], "street"
        else:
            place, how = district, "district" if district else None
        flags = [f for f in FLAGS if (f == "under_construction" and "construction" in kind)
                 or any(geoms[k].intersects(site) and (
                     geoms[k].geom_type == "Point" or (geoms[k].geom_type == "Polygon"
                     and geoms[k].intersection(site).area >= 0.1 * site.area))
                     for k in np.flatnonzero(classes[f].to_numpy(dtype=bool)))]  # fmt: skip
        spaces = sum(int(t.get("capacity", 0)) for k, t in enumerate(tags)
                     if kind == "surface_parking" and t.get("amenity") == "parking"
                     and geoms[k].intersects(site) and (geoms[k].geom_type == "Point"
                     or geoms[k].intersection(site).area >= 0.5 * geoms[k].area))  # fmt: skip
        out.append((district, place, how, ";".join(flags) or None, spaces or None))
    return out


@pytest.mark.parametrize("seed", [0], ids=["seed0"])
def test_describe_sites_equals_the_rules_site_by_site(seed):
    # many sites and features at once, addresses in pairs at one point (ties), points on
    # sites' edges, nested districts: as the rules applied to each site alone
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 900, size=(60, 2)).round(-1)  # on a 10 m grid: shared edges, ties
    kinds = rng.choice(["surface_parking", "brownfield", "construction", "empty_block"], 60)
    site_geoms = [box(x, y, x + rng.choice([30, 40, 80]), y + 40) for x, y in xy]
    sites_ = gpd.GeoDataFrame({"kind": kinds, "name": None}, geometry=site_geoms, crs=CRS)
    items = []
    for x, y in rng.uniform(0, 950, size=(80, 2)).round(-1):
        t = {"addr:street": f"Katu{int(x)}", "addr:housenumber": str(int(y))}
        items += [(t, Point(x, y)), ({**t, "addr:housenumber": f"{int(y)}a"}, Point(x, y))]
    for x, y in rng.uniform(0, 900, size=(80, 2)).round(-1):
        tags = [
            {"amenity": "parking", "capacity": str(rng.integers(5, 60))},
            {"amenity": "parking", "access": "private", "capacity": "12"},
            {"amenity": "school"},
            {"historic": "memorial"},
            {"landuse": "construction"},
        ]
        t = tags[rng.integers(len(tags))]
        g = Point(x, y) if rng.random() < 0.4 else box(x, y, x + rng.choice([20, 50]), y + 30)
        items.append((t, g))
    items += [
        ({"place": "suburb", "name": "Iso"}, box(0, 0, 600, 600)),
        ({"place": "neighbourhood", "name": "Pieni"}, box(100, 100, 400, 400)),
        ({"place": "quarter", "name": "Piste"}, Point(800, 800)),
        ({"place": "quarter", "name": "Toinen"}, Point(950, 400)),
    ]
    feats = features(*items)
    streets = gpd.GeoDataFrame({"name": ["Ranta", "Vuori"]},
                               geometry=[LineString([(0, -20), (950, -20)]),
                                         LineString([(-20, 0), (-20, 950)])], crs=CRS)  # fmt: skip
    got = describe_sites(sites_, feats, streets)
    want = _one_by_one(sites_, feats, streets)
    assert [tuple(r) for r in got[["district", "place", "place_kind", "flag_ids", "spaces"]]
            .astype(object).where(got.notna(), None).itertuples(index=False)] == want  # fmt: skip
    # the case means something: ties, flags, spaces, districts of both kinds
    assert got["place_kind"].eq("address").sum() >= 5
    assert got["flag_ids"].notna().sum() >= 5 and got["spaces"].notna().sum() >= 2
    assert {"Iso", "Pieni"} <= set(got["district"].dropna())


# ---------------------------------------------------------------------------------------
# the date of the data


def _pbf(path, *, header_stamp=None):
    import datetime as dt

    import osmium

    header = osmium.io.Header()
    if header_stamp:
        header.set("osmosis_replication_timestamp", header_stamp)
    utc = dt.UTC
    w = osmium.SimpleWriter(str(path), 0, header)
    w.add_node(osmium.osm.mutable.Node(id=1, location=(24.90, 60.1)))
    w.add_node(osmium.osm.mutable.Node(id=2, location=(24.91, 60.1)))
    for i, year in ((5, 2018), (6, 2021), (7, 2019)):
        w.add_way(
            osmium.osm.mutable.Way(
                id=i, nodes=[1, 2], tags={"highway": "residential"},
                timestamp=dt.datetime(year, 6, 1, tzinfo=utc),
            )
        )  # fmt: skip
    w.close()
    return path


def test_data_date_from_the_header_else_the_newest_way(tmp_path):
    from rakennettu.sources.osm import osm_data_date

    stamped = _pbf(tmp_path / "a.osm.pbf", header_stamp="2023-05-06T07:08:09Z")
    assert osm_data_date(stamped) == "2023-05-06"
    plain = _pbf(tmp_path / "b.osm.pbf")
    assert osm_data_date(plain) == "2021-06-01"


@pytest.mark.parametrize("seed", [0, 1], ids=["seed0", "seed1"])
def test_union_by_group_is_union_all_group_by_group(seed):
    # overlapping, touching and apart boxes in groups of 0 to many members, in any order
    rng = np.random.default_rng(seed)
    xy, w = rng.uniform(0, 300, size=(200, 2)), rng.uniform(5, 60, 200)
    geoms = np.array([box(x, y, x + s, y + s) for (x, y), s in zip(xy, w, strict=True)])
    group = rng.integers(0, 40, 200)
    group[group == 7] = 8  # group 7 has no member
    got = union_by_group(geoms, group, 41)
    for g in range(41):
        want = shapely.union_all(geoms[group == g])  # members in their order
        assert shapely.to_wkb(got[g]) == shapely.to_wkb(want), g
    assert got[7].is_empty and got[40].is_empty


def _unmapped_one_by_one(blocks, feats, road):
    """The mapping-gap rules block by block, with plain shapely and a scan of every feature."""
    from rakennettu.sources.taxonomy import classify

    classes = classify(feats, "site_context")
    occupied = feats.geometry[classes["occupied"].to_numpy(dtype=bool)].tolist()
    use = feats[classes["built_landuse"].to_numpy(dtype=bool)]
    out = []
    for block in blocks.geometry:
        cuts = [r for r in road if r.intersects(block)]
        land = block.difference(shapely.union_all(cuts)) if cuts else block
        n = sum(o.intersects(land) for o in occupied)
        on = [k for k in use.sindex.query(land) if use.geometry.iloc[k].intersects(land)]
        covered = shapely.union_all(use.geometry.iloc[on].tolist()).intersection(land)
        if n:
            out.append(f"{n} shop, amenity or address" if n == 1 else str(n))
        elif on and covered.area >= 0.5 * land.area:
            out.append(use["tags"].iloc[on[0]]["landuse"])
        else:
            out.append(None)
    return out


def test_possibly_unmapped_equals_the_rules_block_by_block():
    # a grid of blocks, streets along and across them, shops, and landuse patches
    rng = np.random.default_rng(5)
    blocks = gpd.GeoDataFrame(
        geometry=[box(x, y, x + 90, y + 90) for x in range(0, 1000, 100) for y in (0, 100, 200)],
        crs=CRS,
    )
    items = [({"highway": "residential"}, LineString([(x, -20), (x + 30, 320)]))
             for x in rng.uniform(0, 1000, 8)]  # fmt: skip
    items += [({"shop": "bakery"}, Point(x, y)) for x, y in rng.uniform(0, 300, (6, 2)) * [3, 1]]
    items += [({"landuse": str(rng.choice(["residential", "retail"]))},
               box(x, y, x + s, y + s))
              for (x, y), s in zip(rng.uniform(0, 300, (25, 2)) * [3, 1],
                                   rng.uniform(20, 120, 25), strict=True)]  # fmt: skip
    f = features(*items)
    road = ground_cover(f, NO_BUILDINGS).road
    got = possibly_unmapped(blocks, f, road=road).tolist()
    want = _unmapped_one_by_one(blocks, f, road.tolist())
    # the counts' and values' wording aside, the same blocks for the same reasons
    assert [g is None for g in got] == [w is None for w in want]
    for g, w in zip(got, want, strict=True):
        if w in ("residential", "retail"):
            assert g == f"{w} landuse with no building mapped"
        elif w is not None:
            assert g.startswith(w.split()[0]) and "landuse" not in g
    assert sum(w in ("residential", "retail") for w in want) >= 3
    assert sum(w is not None and w not in ("residential", "retail") for w in want) >= 2
    assert want.count(None) >= 3


def test_a_site_leaves_out_exactly_the_buildings_its_provenance_names():
    # two buildings share an id across types; a site of two buildings; ids as numbers or text
    b = gpd.GeoDataFrame(
        {"osm_type": ["way", "relation", "way", "way"], "osm_id": [7, 7, "12", 13]},
        geometry=[box(0, 0, 10, 10), box(20, 0, 30, 10), box(40, 0, 50, 10), box(60, 0, 70, 10)],
        crs=CRS,
    )
    cover = ground_cover(features(), b)
    for prov, want in [("osm:way/7", [0]), ("osm:relation/7; osm:way/12", [1, 2]),
                       ("enclosure:4", []), ("", []), ("osm:way/99", [])]:  # fmt: skip
        assert np.flatnonzero(cover.building_keys.own(prov)).tolist() == want, prov


def test_road_space_is_each_way_buffered_on_its_own():
    # streets, a loop drawn closed, a multi-line, a street node, a square: against shapely
    # applied way by way with the width of way_width
    rng = np.random.default_rng(11)
    items = [({"highway": str(rng.choice(["residential", "primary", "service"])),
               "lanes": str(rng.integers(1, 4))},
              LineString(rng.uniform(0, 500, (int(rng.integers(2, 6)), 2))))
             for _ in range(30)]  # fmt: skip
    items += [
        ({"highway": "residential"}, box(0, 0, 50, 50).exterior),
        ({"highway": "residential"}, box(100, 0, 150, 50)),  # a closed way that is a loop
        ({"railway": "tram"}, shapely.MultiLineString([[(0, 0), (9, 0)], [(0, 5), (9, 5)]])),
        ({"highway": "residential"}, Point(3, 3)),  # takes no space
        ({"place": "square"}, box(200, 200, 260, 240)),  # an area as it is
    ]
    f = features(*items)
    got = road_space(f)
    widths = load_road_widths()
    want = {}
    for idx, (tags, g) in zip(f.index, items, strict=True):
        if tags.get("place") == "square":
            want[idx] = g
        elif g.geom_type != "Point":
            line = g.boundary if g.geom_type == "Polygon" else g
            want[idx] = shapely.buffer(line, way_width(tags, widths) / 2, cap_style="flat")
    assert sorted(got.index) == sorted(want)
    for idx, g in got.items():
        assert shapely.to_wkb(g) == shapely.to_wkb(want[idx]), idx
