"""The map in a real browser: headless Chromium, no network, driven by selenium.

Needs Debian's ``chromium`` and ``chromedriver`` (``apt-get install -y chromium
chromium-driver``); the paths can be overridden with ``$CHROMIUM`` and ``$CHROMEDRIVER``.
Skipped with the reason when either is missing. Selenium talks to chromedriver over the
loopback interface, so this module allows loopback connections (and nothing else).
"""

from __future__ import annotations

import io
import socket

import numpy as np
import pytest
from PIL import Image

from browser import catalogue_patterns, foreign_strings, start_chromium, viewport, wait
from outputs_town import XSS, hostile, hostile_layers, many_sites, tiny_layers, tiny_record
from rakennettu.config import resolve_workflow
from rakennettu.outputs.map import build_map, write_map
from rakennettu.sources.taxonomy import load_taxonomy

pytestmark = pytest.mark.browser

_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    """Loopback only (selenium <-> chromedriver); any other connection fails."""
    real_connect = socket.socket.connect
    real_create = socket.create_connection
    real_getaddrinfo = socket.getaddrinfo

    def host_of(address):
        return address[0] if isinstance(address, tuple) else address

    def connect(self, address):
        if self.family == socket.AF_UNIX or host_of(address) in _LOOPBACK:
            return real_connect(self, address)
        raise OSError(f"tests must not use the network: {address!r}")

    def create_connection(address, *args, **kwargs):
        if host_of(address) in _LOOPBACK:
            return real_create(address, *args, **kwargs)
        raise OSError(f"tests must not use the network: {address!r}")

    def getaddrinfo(host, *args, **kwargs):
        if host in _LOOPBACK:
            return real_getaddrinfo(host, *args, **kwargs)
        raise OSError(f"tests must not use the network: {host!r}")

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture(scope="module")
def map_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("map") / "map.html"
    return write_map(build_map(tiny_layers(), title="Tiny town", record=tiny_record()), path)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = start_chromium(tmp_path_factory.mktemp("chromium-profile"))
    yield driver
    driver.quit()


@pytest.fixture
def loaded(browser, map_file):
    """The map, freshly loaded for each test."""
    browser.get(map_file.as_uri())
    _wait(browser, "return document.querySelectorAll('.leaflet-marker-pane .rk-rank').length > 0")
    return browser


_wait = wait


def _map_js(driver) -> str:
    """The page's map variable (folium names it after the map's element id)."""
    return "window[document.querySelector('.folium-map').id]"


def test_loads_without_errors_or_requests(loaded):
    errors = [e for e in loaded.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert errors == []
    resources = loaded.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    assert all(r.startswith(("file:", "data:")) for r in resources), resources


def test_layer_control_lists_the_layers(loaded):
    base = loaded.execute_script(
        "return Array.from(document.querySelectorAll('.leaflet-control-layers-base label'))"
        ".map(l => l.textContent.trim())"
    )
    overlays = loaded.execute_script(
        "return Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label'))"
        ".map(l => l.textContent.trim())"
    )
    assert base[0] == "Vitality: synergy index" and base[-1] == "No hexagon shading"
    assert len(base) == 8
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


def test_one_numbered_marker_per_candidate(loaded):
    numbers = loaded.execute_script(
        "return Array.from(document.querySelectorAll('.leaflet-marker-pane .rk-rank'))"
        ".map(m => m.textContent)"
    )
    assert sorted(numbers, key=int) == [str(r) for r in sorted(tiny_layers()["candidates"]["rank"])]


def test_popup_shows_an_injected_name_as_text(loaded):
    marker = loaded.execute_script(
        "return Array.from(document.querySelectorAll('.leaflet-marker-pane .rk-rank'))"
        ".find(m => m.textContent === '1')"
    )
    marker.click()
    _wait(
        loaded,
        "var p = document.querySelector('.leaflet-popup'); "
        "return p && getComputedStyle(p).opacity === '1';",
    )  # faded in
    content = loaded.find_element("css selector", ".leaflet-popup-content")
    text = content.text
    assert XSS in text  # the candidate ranked first is named like an attack
    assert "Rank 1 of 5" in text and "Why here:" in text
    assert content.find_elements("css selector", "img") == []
    assert loaded.execute_script("return document.querySelectorAll('img').length") == 0
    assert len(content.find_elements("css selector", ".rk-barfill")) == 3


def test_every_tooltip_and_popup_is_inert(loaded):
    """Open every tooltip on the map at once: no element comes from data text."""
    loaded.execute_script(
        "Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label'))"
        ".find(l => l.textContent.includes('Through-movement')).querySelector('input').click()"
    )
    opened = loaded.execute_script(
        f"""
        var map = {_map_js(loaded)}, n = 0;
        map.eachLayer(function (l) {{
            if (l.getTooltip && l.getTooltip()) {{
                l.getTooltip().options.permanent = true; l.openTooltip(); n++;
            }}
        }});
        return n;
        """
    )
    assert opened > 50
    texts = loaded.execute_script(
        "return Array.from(document.querySelectorAll('.leaflet-tooltip')).map(t => t.textContent)"
    )
    assert sum(XSS in t for t in texts) == 3  # a street, a building, a landmark
    assert loaded.execute_script("return document.querySelectorAll('img').length") == 0


def test_the_legend_follows_the_layer_shown(loaded):
    def visible_titles():
        return loaded.execute_script(
            "return Array.from(document.querySelectorAll('.rk-legend .rk-block'))"
            ".filter(b => b.style.display !== 'none').map(b => b.querySelector('h2').textContent)"
        )

    assert visible_titles() == ["Vitality: synergy index", "On the map"]
    radio = loaded.execute_script(
        "return Array.from(document.querySelectorAll('.leaflet-control-layers-base label'))"
        ".find(l => l.textContent.trim() === 'Services and people').querySelector('input')"
    )
    radio.click()
    assert visible_titles() == ["Services and people", "On the map"]


def test_a_hidden_layer_is_made_when_first_shown(loaded):
    """Only the shown hexagon layer is drawn at first (rk.later); another is made, with
    its own colours, when chosen, and the first is taken off."""
    cells = len(tiny_layers()["cells"])
    script = (
        "return Array.from(document.querySelectorAll('.leaflet-rk-cells-pane path'))"
        ".map(p => p.getAttribute('fill'))"
    )
    shown = loaded.execute_script(script)
    assert len(shown) == cells
    loaded.execute_script(
        "Array.from(document.querySelectorAll('.leaflet-control-layers-base label'))"
        ".find(l => l.textContent.trim() === 'Services and people').querySelector('input').click()"
    )
    chosen = loaded.execute_script(script)
    assert len(chosen) == cells and chosen != shown


def test_screenshot_is_a_map(loaded, tmp_path):
    png = loaded.get_screenshot_as_png()
    (tmp_path / "map.png").write_bytes(png)
    with Image.open(io.BytesIO(png)) as im:
        rgb = np.asarray(im.convert("RGB"), dtype=float)
        colours = len(im.convert("RGB").getcolors(1 << 20) or [])
    assert rgb.shape[0] > 500 and rgb.shape[1] > 800
    assert rgb.std() > 20
    assert colours > 200
    # The hexagons (YlGnBu, blended with the background) cover a good part of the view.
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    assert ((b - r > 30) & (g - r > 20)).mean() > 0.05


def test_numbers_below_the_top_ten_show_when_zoomed_in(browser, tmp_path):
    layers = many_sites(tiny_layers(), 14)
    path = write_map(build_map(layers, title="Many sites"), tmp_path / "map.html")
    browser.get(path.as_uri())
    _wait(browser, "return document.querySelectorAll('.leaflet-marker-pane .rk-rank').length")
    count = (
        "return Array.from(document.querySelectorAll('.leaflet-marker-pane .rk-rank'))"
        ".filter(m => m.offsetParent !== null).length"
    )
    browser.execute_script(f"{_map_js(browser)}.setZoom(14, {{animate: false}});")
    assert _wait(browser, count.replace("return ", "return 10 === ")) is True  # a town-wide view
    browser.execute_script(f"{_map_js(browser)}.setZoom(17, {{animate: false}});")
    assert _wait(browser, count.replace("return ", "return 14 === ")) is True


def _as_parsed(text: str) -> str:
    """A text as the HTML parser keeps it (it turns CR and CR LF into LF)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def test_hostile_names_stay_text_in_the_browser(browser, tmp_path, monkeypatch):
    """Template, HTML, formula and control-character payloads in every text: none runs."""
    monkeypatch.chdir(tmp_path)
    layers = hostile_layers()
    m = build_map(layers, title=hostile(4), record=tiny_record())
    path = write_map(m, tmp_path / "map.html")
    browser.get(path.as_uri())
    _wait(browser, "return document.querySelectorAll('.leaflet-marker-pane .rk-rank').length")
    texts = browser.execute_script(
        f"""
        var map = {_map_js(browser)}, tips = [], pops = [];
        map.eachLayer(function (l) {{
            if (l.getTooltip && l.getTooltip()) {{
                l.getTooltip().options.permanent = true; l.openTooltip();
            }}
        }});
        tips = Array.from(document.querySelectorAll('.leaflet-tooltip')).map(t => t.textContent);
        map.eachLayer(function (l) {{
            if (l.getPopup && l.getPopup()) {{
                l.openPopup();
                var c = document.querySelector('.leaflet-popup-content');
                pops.push(c ? c.textContent : '');
                l.closePopup();
            }}
        }});
        return {{tips: tips, pops: pops, title: document.title,
                 box: document.querySelector('.rk-title').textContent}};
        """
    )
    errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert errors == []
    # nothing from the data became an element or ran
    assert browser.execute_script("return document.querySelectorAll('img').length") == 0
    assert browser.execute_script("return document.scripts.length") == 3
    assert texts["title"] == " ".join(f"{hostile(4)}: vitality map".split())  # not HACKED
    assert list(tmp_path.iterdir()) == [path]  # no PWNED folder
    # each payload shows as text, whole: names in tooltips, sites in their popups
    shown = "\n".join([*texts["tips"], *texts["pops"], texts["box"]])
    assert "«49»" not in shown and "«XXX»" not in shown
    names = [t for name in ("edges", "buildings", "landmarks", "third_places") for t in
             layers[name]["name"].dropna()]  # fmt: skip
    sites = layers["candidates"]
    for text in [*names, *sites["name"], *sites["why"], *sites["provenance"]]:
        assert _as_parsed(text) in shown, repr(text)
    assert len(texts["pops"]) == len(sites)
    assert _as_parsed(hostile(4)) in texts["box"]


# ------------------------------------------------- finding one's way, in either language


def _tiny_map(tmp_path, code: str):
    rec = {**tiny_record(), "workflow": resolve_workflow("kotka-karhula").model_dump(mode="json")}
    m = build_map(tiny_layers(), title="Tiny town", record=rec, language=code)
    return write_map(m, tmp_path / f"map-{code}.html")


def _open(browser, path, size=(1366, 768)):
    viewport(browser, *size)
    browser.get(path.as_uri())
    _wait(browser, "return document.querySelectorAll('.leaflet-marker-pane .rk-rank').length > 0")
    return browser


@pytest.mark.parametrize("code", ["fi", "en"])
def test_the_legend_and_controls_fit_a_1366x768_screen(browser, tmp_path, code):
    page = _open(browser, _tiny_map(tmp_path, code))
    boxes = page.execute_script(
        "return ['.rk-legend', '.rk-title', '.leaflet-control-layers'].map(s => {"
        "  var r = document.querySelector(s).getBoundingClientRect();"
        "  return [s, r.top, r.bottom, r.left, r.right]; })"
    )
    height = page.execute_script("return window.innerHeight")
    width = page.execute_script("return window.innerWidth")
    assert (width, height) == (1366, 768)
    for name, top, bottom, left, right in boxes:
        assert top >= 0 and bottom <= height and left >= 0 and right <= width, name
    legend, title = boxes[0], boxes[1]
    assert legend[1] >= title[2]  # below the title box, not over it
    page.find_element("css selector", ".rk-fold > summary").click()  # folds away
    folded = page.execute_script(
        "return document.querySelector('.rk-legend').getBoundingClientRect().height"
    )
    assert folded < 40


def test_street_names_show_from_zoom_16(browser, tmp_path):
    page = _open(browser, _tiny_map(tmp_path, "fi"))
    shown = (
        "return Array.from(document.querySelectorAll('.rk-street-label'))"
        ".filter(e => e.offsetParent !== null || getComputedStyle(e).display !== 'none')"
        ".map(e => e.textContent)"
    )
    page.execute_script(f"{_map_js(page)}.setZoom(14, {{animate: false}});")
    assert _wait(page, shown.replace("return ", "return 0 === ") + ".length") is True
    page.execute_script(f"{_map_js(page)}.setZoom(17, {{animate: false}});")
    names = _wait(page, shown)
    # The tiny town's named streets (tests/outputs_town.py: "Katu 0" ... "Katu 4", one
    # named like an attack), 600 m each: two labels each at 300 m spacing.
    assert sorted(set(names)) == sorted(["Katu 0", "Katu 1", XSS, "Katu 3", "Katu 4"])
    assert page.execute_script("return document.querySelectorAll('img').length") == 0


def test_no_site_outline_is_hidden_under_its_marker(browser, tmp_path):
    page = _open(browser, _tiny_map(tmp_path, "en"))
    found = page.execute_script(
        f"""
        var map = {_map_js(page)}, outlines = [], markers = [];
        map.eachLayer(function (l) {{
            var p = l.feature && l.feature.properties;
            if (!p || p.k === undefined) return;
            if (l._path) outlines.push([p.k, l._path.getBoundingClientRect().toJSON()]);
            if (l._icon) markers.push([p.k, l._icon.getBoundingClientRect().toJSON()]);
        }});
        return [outlines, markers];
        """
    )
    outlines, markers = dict(found[0]), dict(found[1])
    assert len(outlines) == len(markers) == 5  # the point site is drawn as a circle
    for k, o in outlines.items():
        m = markers[k]
        inside = (
            o["left"] >= m["left"] and o["right"] <= m["right"]
            and o["top"] >= m["top"] and o["bottom"] <= m["bottom"]
        )  # fmt: skip
        assert not inside, k
        assert m["bottom"] <= o["top"] + 1  # the marker stands above the outline
        assert o["width"] > 5 and o["height"] > 5  # the outline itself is visible


@pytest.mark.parametrize("code", ["fi", "en"])
def test_every_string_on_the_map_is_in_the_catalogue(browser, tmp_path, code):
    page = _open(browser, _tiny_map(tmp_path, code))
    page.execute_script(
        "Array.from(document.querySelectorAll('.leaflet-marker-pane .rk-rank'))"
        ".find(m => m.textContent === '2').click()"
    )
    _wait(page, "return document.querySelector('.leaflet-popup-content details')")
    page.execute_script("document.querySelector('.leaflet-popup-content details').open = true")
    page.execute_script(f"{_map_js(page)}.setZoom(17, {{animate: false}});")
    texts = page.execute_script(
        "var w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT), out = [];"
        "while (w.nextNode()) { var t = w.currentNode.textContent.trim();"
        "  var p = w.currentNode.parentElement;"
        "  if (t && p.closest('script,style,.leaflet-control-attribution') === null) out.push(t); }"
        "return out;"
    )
    layers = tiny_layers()
    data = {"Tiny town", "Leaflet", "|", "×", "+", "−", XSS}
    for frame in layers.values():
        if "name" in frame:
            data |= {n for n in frame["name"] if isinstance(n, str)}
    tax = load_taxonomy()  # category names: the taxonomy's own label_fi / label_en
    data |= {getattr(c, f"label_{code}") for t in tax for c in t.categories}
    assert len(texts) > 60
    foreign = foreign_strings(texts, code, data)
    assert not foreign, "\n".join(foreign)
    if code == "fi":  # and it is Finnish: no English message slipped through untranslated
        english = catalogue_patterns("en")
        fi = catalogue_patterns("fi")
        untranslated = [
            t for t in texts
            if any(p.fullmatch(t) for p in english) and not any(p.fullmatch(t) for p in fi)
        ]  # fmt: skip
        assert untranslated == []


# ------------------------------------------------- a large town: buildings loaded by area


def test_buildings_in_files_load_by_area_and_stay_text(browser, tmp_path, monkeypatch):
    """Buildings written beside the page (as a whole town's are) load from zoom 15 as
    <script> files, their hostile names stay text, and below zoom 15 they are hidden."""
    monkeypatch.chdir(tmp_path)
    layers = hostile_layers()
    m = build_map(layers, title="Large town", record=tiny_record(), lazy_buildings=0)
    path = write_map(m, tmp_path / "map.html")
    files = sorted(p.name for p in (tmp_path / "map_files").iterdir())
    assert len(files) >= 2 and all(f.startswith("buildings-") for f in files)
    browser.get(path.as_uri())
    _wait(browser, "return document.querySelectorAll('.leaflet-marker-pane .rk-rank').length")
    assert browser.execute_script(f"return {_map_js(browser)}.getZoom()") >= 15
    n = len(layers["buildings"])
    pane = "document.querySelector('.leaflet-rk-buildings-pane')"
    _wait(browser, f"return {pane}.querySelectorAll('path').length === {n}")
    loaded = browser.execute_script(
        "return Array.from(document.scripts).map(e => e.src).filter(r => r)"
    )
    assert sorted(r.rsplit("/", 1)[-1] for r in loaded) == files
    assert all(r.startswith("file:") for r in loaded)
    tips = browser.execute_script(
        f"""
        var map = {_map_js(browser)};
        map.eachLayer(function (l) {{
            if (l.getTooltip && l.getTooltip() && l.options.pane === 'rk-buildings') {{
                l.getTooltip().options.permanent = true; l.openTooltip();
            }}
        }});
        return Array.from(document.querySelectorAll('.leaflet-tooltip')).map(t => t.textContent);
        """
    )
    errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert errors == []
    assert browser.execute_script("return document.querySelectorAll('img').length") == 0
    assert sorted(tmp_path.iterdir()) == sorted([path, tmp_path / "map_files"])  # no PWNED
    shown = "\n".join(tips)
    for text in layers["buildings"]["name"].dropna():
        assert _as_parsed(text) in shown, repr(text)
    browser.execute_script(f"{_map_js(browser)}.setZoom(13, {{animate: false}})")
    _wait(browser, f"return {pane}.style.display === 'none'")


def test_street_tooltips_put_name_and_number_into_the_sentence(loaded):
    """The sentence comes once with the layer; each street's tooltip is filled in the page."""
    from rakennettu.i18n import language
    from rakennettu.outputs._common import fmt

    loaded.execute_script(
        "Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label'))"
        ".filter(l => l.textContent.includes('Through-movement'))[0]"
        ".querySelector('input').click()"
    )
    tips = loaded.execute_script(
        f"""
        var out = [];
        {_map_js(loaded)}.eachLayer(function (l) {{
            if (l.options.pane === 'rk-betweenness' && l.getTooltip && l.getTooltip()) {{
                l.openTooltip(l.getCenter());
                out.push(l.getTooltip().getElement().textContent);
            }}
        }});
        return out;
        """
    )
    edges = tiny_layers()["edges"]
    en = language("en")
    expected = [
        f"{n if isinstance(n, str) else 'street'} · through-movement {fmt(b, en)} shortest paths"
        for n, b in zip(edges["name"], edges["morph_betweenness_800m"], strict=True)
    ]
    assert sorted(tips) == sorted(expected)
