"""A whole run of a town whose every text is hostile: nothing runs, every payload is text.

Karhula (the OSM extract shipped with pyrosm) is rewritten with pyosmium so that every
named object and every building, street, landmark and third place carries a payload of
``outputs_town.HOSTILE`` (template code, HTML, spreadsheet formulas, terminal escapes); a
planner's sites file and the town's title carry them too. The run goes through the
command line in a fresh working folder, then the pages are rebuilt (``rakennettu map``).
The written files and the console are checked; ``test_browser.py`` opens such a map.
"""

from __future__ import annotations

import csv
import html
import json
import re

import geopandas as gpd
import pyogrio
import pytest
from click.testing import CliRunner
from shapely import box

from outputs_town import HOSTILE, hostile
from rakennettu._resources import bundled_osm_path
from rakennettu.cli import cli
from rakennettu.i18n import language
from rakennettu.outputs.map import _js

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::FutureWarning")]

NAMED = ("building", "highway", "amenity", "shop", "leisure", "tourism", "historic",
         "man_made", "landuse", "name")  # fmt: skip
TITLE = hostile(2)  # the template probes and the mkdir payload
SITES = gpd.GeoDataFrame(
    {
        "nimi": [hostile(5), hostile(11)],  # a formula; a fake extra console line
        "tyyppi": [hostile(0), "vacant lot"],
    },
    geometry=[box(497150, 6710350, 497230, 6710420), box(497400, 6710600, 497460, 6710650)],
    crs=3067,
)


def _toml(text: str) -> str:
    """A TOML basic string (control characters as \\uXXXX escapes)."""
    body = "".join(
        f"\\u{ord(c):04x}" if ord(c) < 32 or ord(c) == 127 or c in '"\\' else c for c in text
    )
    return f'"{body}"'


# Karhula's extract has no landmark: three are added (lon, lat, tags), near the sites.
LANDMARKS = [
    (26.94880, 60.52951, {"historic": "monument"}),
    (26.95080, 60.53054, {"amenity": "place_of_worship", "religion": "christian"}),
    (26.95317, 60.53167, {"tourism": "attraction"}),
]


def _hostile_extract(source, target) -> int:
    """Copy an OSM extract, naming each object with a tag of ``NAMED`` with a payload.

    The ``LANDMARKS`` are written after the last node (an extract lists nodes first).
    """
    import osmium

    k, added = 0, False
    with osmium.SimpleWriter(str(target)) as writer:
        for obj in osmium.FileProcessor(str(source)):
            if obj.type_str() != "n" and not added:
                for i, (lon, lat, tags) in enumerate(LANDMARKS):
                    node = osmium.osm.mutable.Node(
                        id=9_000_000_000 + i, location=(lon, lat), version=1,
                        tags={**tags, "name": hostile(k)},
                    )  # fmt: skip
                    writer.add_node(node)
                    k += 1
                added = True
            tags = dict(obj.tags)
            if any(key in tags for key in NAMED):
                tags["name"] = hostile(k)
                k += 1
                obj = obj.replace(tags=tags)
            writer.add(obj)
    return k


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    named = _hostile_extract(bundled_osm_path("pyrosm:test_pbf"), folder / "karhula.osm.pbf")
    SITES.to_file(folder / "sites.gpkg")
    (folder / "town.toml").write_text(
        f"""
[town]
name = "hostile"
title = {_toml(TITLE)}
[osm]
path = "karhula.osm.pbf"
[candidates]
draws = 50
[[layers]]
role = "sites"
path = "sites.gpkg"
columns = {{ name = "nimi", kind = "tyyppi" }}
""",
        encoding="utf-8",
    )
    work = tmp_path_factory.mktemp("cwd")  # where {{ ...os.mkdir(...) }} would create PWNED
    runner = CliRunner()
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(work)
        ran = runner.invoke(cli, ["run", str(folder / "town.toml"), "--out", str(folder / "out")])
        validated = runner.invoke(cli, ["validate", str(folder / "town.toml")])
        out = folder / "out"
        before = (out / "map.html").read_text(encoding="utf-8")
        rebuilt = runner.invoke(cli, ["map", str(folder / "town.toml"), "--out", str(out)])
    assert ran.exit_code == 0, ran.output
    assert validated.exit_code == 0, validated.output
    assert rebuilt.exit_code == 0, rebuilt.output
    return {"out": out, "work": work, "named": named, "console": [ran, validated, rebuilt],
            "first_map": before}  # fmt: skip


def _names(out) -> dict[str, list[str]]:
    """The names in each layer of the GeoPackage that carry a payload."""
    found = {}
    for layer in ("edges", "buildings", "landmarks", "third_places", "candidates"):
        frame = pyogrio.read_dataframe(out / "vitality.gpkg", layer=layer, read_geometry=False)
        found[layer] = [n for n in frame.get("name", []) if isinstance(n, str) and "«" in n]
    return found


def test_nothing_ran(town):
    assert list(town["work"].iterdir()) == []  # no PWNED folder, nothing else
    for name in ("map.html", "report.html", "candidates.csv", "run.json"):
        text = (town["out"] / name).read_text(encoding="utf-8")
        assert "«49»" not in text and "«XXX»" not in text, name
    assert town["first_map"] == (town["out"] / "map.html").read_text(encoding="utf-8")


def test_every_text_channel_carried_payloads(town):
    names = _names(town["out"])
    assert town["named"] > 100
    for layer, found in names.items():
        assert found, f"no payload reached the {layer} layer"
    assert {hostile(5), hostile(11)} <= set(names["candidates"])  # the planner's sites
    payloads = {h for found in names.values() for n in found for h in HOSTILE if n.startswith(h)}
    assert payloads == set(HOSTILE)


def test_the_geopackage_and_run_record_keep_the_text_as_it_is(town):
    record = json.loads((town["out"] / "run.json").read_text(encoding="utf-8"))
    assert record["town"]["title"] == TITLE
    cands = pyogrio.read_dataframe(town["out"] / "vitality.gpkg", layer="candidates")
    assert hostile(5) in set(cands["name"])  # the formula, unquoted: the GeoPackage is data


def test_the_map_shows_every_payload_as_escaped_data(town):
    page = (town["out"] / "map.html").read_text(encoding="utf-8")
    for layer, found in _names(town["out"]).items():
        for name in found:
            assert _js(html.escape(name))[1:-1] in page, (layer, name)
    lang = language(json.loads((town["out"] / "run.json").read_text())["language"])
    title = lang._("{town}: vitality map", town=TITLE)  # the page is in the run's language
    assert f"<title>{html.escape(title)}</title>" in page
    assert page.lower().count("<script") == page.lower().count("</script>") == 3
    assert "<img" not in page


def test_the_report_shows_the_payloads_escaped(town):
    page = (town["out"] / "report.html").read_text(encoding="utf-8")
    assert f"<h1>{html.escape(TITLE)}</h1>" in page
    top = [n for n in _names(town["out"])["candidates"]]
    shown = [n for n in top if html.escape(n) in page]
    assert shown, "no site name in the report"
    assert "<script" not in page.lower() and "<img src=x" not in page


def test_candidates_csv_quotes_formulas(town):
    with open(town["out"] / "candidates.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    cands = pyogrio.read_dataframe(town["out"] / "vitality.gpkg", layer="candidates")
    by_id = dict(zip(cands["candidate_id"], cands["name"], strict=True))
    for row in rows:
        name = by_id[row["candidate_id"]]
        if isinstance(name, str) and name:
            expected = "'" + name if name[0] in "=+-@\t\r\n" else name
            assert row["name"] == expected
    assert any(r["name"].startswith("'=") for r in rows)  # hostile(5) is =HYPERLINK


def test_the_console_prints_no_control_character_and_no_fake_line(town):
    for result in town["console"]:
        text = result.output
        bad = re.findall(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", text)
        assert bad == [], (result.output, bad)
        assert not any(line.lstrip().startswith("9. C9 FAKE") for line in text.splitlines())
        assert "«49»" not in text
    assert "9. C9 FAKE" in town["console"][0].output  # the site with a newline was listed
