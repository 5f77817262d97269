"""The interactive map: offline, escaped, the expected layers and legends, a small file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import (
    GeometryCollection,
    LinearRing,
    LineString,
    MultiLineString,
    MultiPoint,
    MultiPolygon,
    Point,
    Polygon,
    box,
)

from outputs_town import XSS, hostile, hostile_layers, tiny_layers, tiny_record
from rakennettu.errors import CRSError
from rakennettu.i18n import language
from rakennettu.outputs import map as rkmap
from rakennettu.outputs._common import esc
from rakennettu.outputs.map import _js, build_map, candidate_popup, write_map

# Text that may name a web address without loading anything: attribution links, the SVG
# namespace in Leaflet's code.
ALLOWED_URLS = {
    "https://www.openstreetmap.org/copyright",
    "https://leafletjs.com",
    "http://www.w3.org/2000/svg",
}


@pytest.fixture(scope="module")
def page():
    m = build_map(tiny_layers(), title="Tiny <town>", record=tiny_record())
    return m.get_root().render()


def _control_layers(page: str) -> tuple[list[str], list[str]]:
    """The base layers and overlays listed in the rendered layer control."""
    block = re.search(r"base_layers : \{(.*?)\},\s*overlays :\s*\{(.*?)\},", page, re.S)
    assert block, "no layer control in the page"

    def names(text: str) -> list[str]:
        return [json.loads(n) for n in re.findall(r'^\s*("(?:[^"\\]|\\.)*") :', text, re.M)]

    return names(block.group(1)), names(block.group(2))


def _decode(data: dict) -> list[tuple[str, object]]:
    """The compact features back to (type, coordinates in degrees), as the page's script does."""

    def run(a):
        xy = np.cumsum(np.asarray(a, dtype=np.int64).reshape(-1, 2), axis=0)
        return (xy / 1e6).tolist()

    decoders = {
        1: ("Point", lambda c: run(c)[0]),
        2: ("LineString", run),
        3: ("Polygon", lambda c: [run(r) for r in c]),
        4: ("MultiPoint", lambda c: [run(p)[0] for p in c]),
        5: ("MultiLineString", lambda c: [run(r) for r in c]),
        6: ("MultiPolygon", lambda c: [[run(r) for r in p] for p in c]),
    }
    out = []
    for kind, coords, _ in data["f"]:
        name, fn = decoders[kind]
        out.append((name, fn(coords)))
    return out


# ------------------------------------------------------------------------ offline


def test_page_loads_nothing_from_elsewhere(page):
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.I)
    assert not re.search(r"<link[^>]*\bhref\s*=", page, re.I)
    assert not re.search(r"<img\b", page, re.I)
    assert not re.search(r"url\(\s*['\"]?(?!data:)(?!#default#VML)", page)
    assert "@import" not in page
    urls = set(re.findall(r"https?://[^\s\"'\\)<>]+", page))
    assert urls <= ALLOWED_URLS, urls - ALLOWED_URLS


def test_leaflet_is_inlined_with_its_licence_shipped(page):
    assert "Leaflet 1.9.4" in page
    assert (
        (Path(rkmap.__file__).with_name("assets") / "LICENSE-leaflet.txt")
        .read_text()
        .startswith("BSD 2-Clause License")
    )


def test_online_tiles_only_when_asked():
    m = build_map(tiny_layers(), title="T", tiles=True)
    page = m.get_root().render()
    assert "tile.openstreetmap.org" in page
    assert "OpenStreetMap tiles (online)" in _control_layers(page)[1]


def test_osm_attribution_and_escaped_licences(page):
    assert "OpenStreetMap<\\/a> contributors" in page
    assert "CC BY 4.0 &lt;script&gt;" in page  # a licence text, escaped


# ------------------------------------------------------------------------ escaping


def test_no_text_from_data_enters_the_page_unescaped(page):
    assert "<img src=x" not in page
    assert "onerror=alert(1)>" not in page
    # In the data it is escaped HTML, inside JSON that cannot close the script element.
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    # Leaflet with the map's helpers, folium's switches, the map: no other script ends.
    assert page.lower().count("<script") == page.lower().count("</script>") == 3
    assert "Tiny &lt;town&gt;" in page


def _texts(layers) -> list[str]:
    """Every name of every layer, and the sites' reasons and provenance."""
    out = [t for g in layers.values() if "name" in g for t in g["name"]]
    return out + list(layers["candidates"]["why"]) + list(layers["candidates"]["provenance"])


def test_hostile_names_are_data_never_template_code(tmp_path, monkeypatch):
    # Names that run as Jinja2 code if any of them becomes template source (issue 10, 1).
    monkeypatch.chdir(tmp_path)
    layers = hostile_layers()
    m = build_map(layers, title=hostile(2), record=tiny_record())
    write_map(m, tmp_path / "map.html")
    page = (tmp_path / "map.html").read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.html"]  # no PWNED folder
    assert "«49»" not in page and "«XXX»" not in page and "«None»" not in page
    for text in [*_texts(layers), hostile(2)]:
        # escaped once for HTML, then as a JSON string in the page's data
        assert rkmap._js(esc(text))[1:-1] in page, text
    assert f"<title>{esc(hostile(2))}: vitality map</title>" in page
    assert page.lower().count("<script") == page.lower().count("</script>") == 3


def test_a_column_name_read_back_from_a_file_is_no_template_either(tmp_path, monkeypatch):
    # `rakennettu map` reads the GeoPackage back: a column's name becomes a layer's name
    monkeypatch.chdir(tmp_path)
    layers = tiny_layers()
    edges = layers["edges"].drop(columns=["morph_betweenness_800m"])
    layers["edges"] = edges.rename(
        columns={"morph_betweenness_beta_800m": "morph_betweenness_{{7*7}}m"}
    )
    page = build_map(layers, title="T").get_root().render()
    _, overlays = _control_layers(page)
    assert "Through-movement on streets, {{7*7}} m" in overlays
    assert "on streets, 49 m" not in page


@pytest.mark.parametrize("field", ["name", "kind", "program", "program_simulated", "provenance"])
def test_candidate_popup_escapes_every_text_field(field):
    html = candidate_popup("C1", {"rank": 1, field: XSS})
    assert XSS not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_the_english_why_column_is_not_shown_but_said_in_the_pages_language():
    row = {"rank": 1, "why": XSS, "gain_soc": 0.9, "soc_residents_gain_daily": 85.8, "near": 400}
    html = candidate_popup("C1", row, lang=language("fi"))
    assert "onerror" not in html
    assert "86 asukasta saa päivittäisen palvelun 400 metrin päähän" in html  # whole people


@pytest.mark.parametrize(
    "text", ["</script><script>alert(1)</script>", "<!--<script>", "\u2028"], ids=str
)
def test_script_data_cannot_end_the_script(text):
    js = rkmap._js({"p": text})
    assert "</" not in js and "<!" not in js and "\u2028" not in js
    assert json.loads(js.replace("\\u003c", "<")) == {"p": text}


def test_candidate_popup_reads_like_a_breakdown():
    row = tiny_layers()["candidates"].loc["C1"].to_dict()
    html = candidate_popup("C1", row, n=5)
    assert "<h3>2. Vanha varikko</h3>" in html
    assert "Rank 2 of 5</b>: rank 1–3 under most other weightings" in html
    assert "<b>Simulated here:</b> 1 third place, 2 daily needs" in html
    assert "8,100 m²" in html
    assert "<b>Why here:</b>" in html and html.count("<li>") == 2  # the two strongest
    plain, expert = html.split('<details class="rk-expert">')
    assert "people × activities, weighted by distance" in expert  # raw gains: for experts
    assert "Vitality around the site: 0.62 (0–1)" in expert
    assert "OpenStreetMap way" not in plain and "Source: OSM way 1" in expert
    assert html.count('class="rk-barrow"') == 3


def test_popup_source_line_hides_internal_ids():
    row = {"rank": 1, "provenance": "osm:way/12; enclosure:3; enclosure:14; enclosure:15"}
    html = candidate_popup("C1", row)
    assert "enclosure" not in html
    assert "Source: OpenStreetMap way 12; an empty block" in html


# ------------------------------------------------------------------- layers, legend


def test_the_simulated_program_in_words_wins_over_the_planners_text():
    row = {"rank": 1, "program": "daily_needs=3", "program_simulated": "3 daily needs"}
    assert "<b>Simulated here:</b> 3 daily needs" in candidate_popup("C1", row)
    text = candidate_popup("C1", {"program": "daily_needs=3"})
    assert "<b>Simulated here:</b> daily_needs=3" in text


def test_layer_control_lists_the_layers(page):
    base, overlays = _control_layers(page)
    assert base == [
        "Vitality: synergy index",
        "Street network and urban form",
        "Services and people",
        "Places and heritage",
        "Street closeness, 800 m",
        "Activity access, 800 m",
        "Meeting-place access, 400 m",
        "No hexagon shading",
    ]
    assert overlays == [
        "Base map: water, green, streets",
        "Street names (zoom in)",
        "Through-movement on streets, 800 m",
        "Buildings",
        "Landmarks and heritage",
        "Meeting places (third places)",
        "Candidate sites, numbered by rank",
        "Simulated new walking links",
    ]


def test_layers_follow_the_columns_there_are():
    layers = tiny_layers()
    cells = layers["cells"].drop(columns=["synergy", "score_soc", "soc_access_total_800m"])
    cands = layers["candidates"].drop(columns=["rank"])
    m = build_map({"cells": cells, "candidates": cands, "edges": layers["edges"]}, title="T")
    base, overlays = _control_layers(m.get_root().render())
    assert base[0] == "Street network and urban form"
    assert "Services and people" not in base and "Activity access, 800 m" not in base
    assert overlays == [
        "Base map: water, green, streets",
        "Street names (zoom in)",
        "Through-movement on streets, 800 m",
        "Candidate sites",
    ]


def test_only_the_first_hexagon_layer_is_shown(page):
    names = re.findall(r"var (rk_layer_\w+) = ", page)
    shown = set(re.findall(r"(rk_layer_\w+)\.addTo\(", page))
    assert names[0] in shown
    assert not set(names[1:8]) & shown


@pytest.mark.parametrize(
    "text",
    [
        "0.8–1.0 high",
        "0.0–0.2 low",
        "no street within reach: not scored",
        "High only where streets and urban form, services and people, and places",
        "(lowest)",
        "(highest)",
        "a top-3 site",
        "simulated new walking link",
    ],
)
def test_legend_says_it_in_words(page, text):
    legend = re.search(r'rk\.box\(map, ("(?:[^"\\]|\\.)*"), "bottomleft"', page).group(1)
    assert text in json.loads(legend)


def test_legend_blocks_follow_their_layers(page):
    follows = re.search(r"rk\.legendFollows\(map, \[(.*?)\]\);", page, re.S).group(1)
    pairs = re.findall(r"\[(rk_layer_\w+), \"(rk-legend-\d+)\"\]", follows)
    assert len(pairs) == 8  # seven hexagon layers and the street betweenness


# -------------------------------------------------------------- geometry and size


def test_coordinates_are_rounded_to_six_decimals_and_decode():
    g = gpd.GeoSeries(
        [Point(24.9384561, 60.1698549), LineString([(24.9, 60.1), (24.9000014, 60.1000026)])],
        crs=4326,
    )
    data = rkmap._collection(g, [{}, {}])
    assert data["f"][0][1] == [24938456, 60169855]
    assert data["f"][1][1] == [24900000, 60100000, 1, 3]
    assert _decode(data) == [
        ("Point", [24.938456, 60.169855]),
        ("LineString", [[24.9, 60.1], [24.900001, 60.100003]]),
    ]


def test_multipolygons_with_holes_survive_the_encoding():
    outer = box(0, 0, 10, 10).difference(box(2, 2, 4, 4))
    mp = MultiPolygon([outer, box(20, 20, 21, 21)])
    ((kind, coords),) = _decode(rkmap._collection(gpd.GeoSeries([mp]), [{}]))
    assert kind == "MultiPolygon"
    assert len(coords) == 2 and len(coords[0]) == 2  # two parts, the first with a hole
    assert sorted(map(tuple, coords[1][0])) == sorted(
        map(tuple, box(20, 20, 21, 21).exterior.coords)
    )


def test_all_geometries_encoded_at_once_as_one_by_one():
    """The whole layer's coordinates are rounded and stepped at once; each geometry must
    read as the one-geometry encoder writes it, whatever its type, holes, parts or Z."""
    holed = box(0, 0, 10, 10).difference(box(2, 2, 4, 4)).difference(box(6, 6, 8, 8))
    geoms = [
        Point(24.9384561, 60.1698549),
        None,
        LineString([(24.9, 60.1, 3.0), (24.9000014, 60.1000026, 4.0)]),
        holed,
        Polygon(),
        MultiPoint([(1, 2), (1.0000004, 2.0000016)]),
        MultiLineString([[(0, 0), (1, 1)], [(5, 5), (5.5, 5.25), (6, 7)]]),
        MultiPolygon([holed, box(20, 20, 21, 21)]),
        LinearRing([(0, 0), (1, 0), (1, 1)]),  # not drawn, as before
        GeometryCollection([Point(3, 3), LineString([(0, 0), (2, 2)]), Polygon()]),
        box(-76.8, 39.4, -76.79, 39.41),
    ]
    one_by_one = [
        []
        if g is None or g.is_empty or g.geom_type == "LinearRing"
        else [rkmap._encode(p) for p in getattr(g, "geoms", [g]) if not p.is_empty]
        if g.geom_type == "GeometryCollection"
        else [rkmap._encode(g)]
        for g in geoms
    ]
    assert rkmap._encoded(geoms) == one_by_one
    assert rkmap._encoded(geoms[3:4] * 3) == one_by_one[3:4] * 3
    assert rkmap._encoded([]) == []


def test_geometries_are_simplified_in_metres():
    wiggly = LineString([(385000 + x, 6672000 + (0.3 if x % 2 else 0)) for x in range(0, 101)])
    gdf = gpd.GeoDataFrame(geometry=[wiggly], crs=3067)
    assert len(rkmap._display(gdf, "edges", tolerance=1.0).iloc[0].coords) == 2
    assert len(rkmap._display(gdf, "edges", tolerance=0).iloc[0].coords) == 101


def test_the_page_stays_small(page):
    assert len(page.encode()) < 300_000  # Leaflet itself is about 160 kB
    data = sum(len(m) for m in re.findall(r"rk\.decode\(.*?\)\)?[;,]\n", page))
    assert data < 60_000


def test_the_same_inputs_write_the_same_page():
    a = build_map(tiny_layers(), title="T", record=tiny_record()).get_root().render()
    b = build_map(tiny_layers(), title="T", record=tiny_record()).get_root().render()
    assert a == b


# ---------------------------------------------------------------------- contract


def test_inputs_are_not_modified():
    layers = tiny_layers()
    before = {k: v.copy() for k, v in layers.items()}
    build_map(layers, title="T")
    for k, v in layers.items():
        pd.testing.assert_frame_equal(v, before[k])


def test_candidates_read_back_from_a_file_keep_their_ids():
    cands = tiny_layers()["candidates"].reset_index()  # as read from vitality.gpkg
    page = build_map({"candidates": cands}, title="T").get_root().render()
    assert '"r":1,"k":0' in page and "Site id: C2" in page


def test_a_map_of_a_run_without_scores_or_candidates():
    layers = tiny_layers()
    cells = layers["cells"][["access", "morph_harmonic_800m", "geometry"]]
    page = build_map({"cells": cells, "edges": layers["edges"]}, title="T").get_root().render()
    assert _control_layers(page)[0] == ["Street closeness, 800 m", "No hexagon shading"]


def test_geographic_layers_are_refused():
    cells = tiny_layers()["cells"].to_crs(4326)
    with pytest.raises(CRSError, match="cells: geographic CRS"):
        build_map({"cells": cells}, title="T")


def test_write_map_replaces_the_file_atomically(tmp_path, monkeypatch):
    path = write_map(build_map(tiny_layers(), title="T"), tmp_path / "map.html")
    before = path.read_bytes()
    assert before.startswith(b"<!DOCTYPE html>")

    def dies(self, text, *args, **kwargs):
        Path.write_bytes(self, text[:100].encode())
        raise KeyboardInterrupt

    monkeypatch.setattr(Path, "write_text", dies)
    with pytest.raises(KeyboardInterrupt):
        write_map(build_map(tiny_layers(seed=1), title="Other"), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["map.html"]


def test_street_names_need_a_name_column_and_a_name():
    from rakennettu.outputs.labels import street_labels

    edges = tiny_layers()["edges"]
    assert len(street_labels(edges.drop(columns=["name"]))) == 0
    labels = street_labels(edges)
    # Five named east-west streets of 600 m (outputs_town.py), two labels each; the
    # unnamed north-south paths get none.
    assert sorted(labels["name"].value_counts().tolist()) == [2] * 5
    assert set(labels["angle"]) == {0}


def test_a_dimension_left_out_is_flagged_in_the_legend(page):
    rec = tiny_record()
    rec["index"] = {"dropped_dimensions": ["cult"], "dropped_indicators": {}}
    flagged = build_map(tiny_layers(), title="T", record=rec).get_root().render()
    assert "Left out for want of data" in flagged
    assert "The cultural dimension: no indicator of it measured anything here" in flagged
    assert "Left out for want of data" not in page  # nothing dropped: no note


# ------------------------------------------------------- a large town: detail in files


def test_many_buildings_go_to_files_beside_the_page(tmp_path):
    layers = hostile_layers()
    m = build_map(layers, title="Large town", lazy_buildings=0)
    page_path = write_map(m, tmp_path / "map.html")
    page = page_path.read_text()
    files = {p.name: p.read_text() for p in (tmp_path / "map_files").iterdir()}
    assert 'rk.lazy({"n":"buildings","d":"map_files/buildings-"' in page
    features = []
    for name, text in sorted(files.items()):
        head = re.match(r'rk\.tile\("buildings","(-?\d+--?\d+)",', text)
        assert head and name == f"buildings-{head.group(1)}.js"
        assert "</" not in text and "<!" not in text  # cannot end or open a script
        features += json.loads(text[head.end() : -3])["f"]
    assert len(features) == len(layers["buildings"])
    # the page of the same town with its buildings inline has the same tooltips
    inline = build_map(layers, title="Large town", lazy_buildings=None).get_root().render()
    for f in features:
        assert _js(f[2]["t"]) in inline
        assert _js(f[2]["t"]) not in page


def test_a_smaller_map_removes_the_detail_files_it_no_longer_names(tmp_path):
    layers = tiny_layers()
    write_map(build_map(layers, title="T", lazy_buildings=0), tmp_path / "map.html")
    assert any((tmp_path / "map_files").iterdir())
    write_map(build_map(layers, title="T"), tmp_path / "map.html")
    assert not (tmp_path / "map_files").exists()
