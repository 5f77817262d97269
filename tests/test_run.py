"""One whole run of the bundled Kotka town: the output contract, checked end to end."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import rasterio
from click.testing import CliRunner

from rakennettu.catalogue import lookup, markdown
from rakennettu.cli import EXIT_CODES, cli

REPO = Path(__file__).resolve().parent.parent

# Every test of the session's one Kotka run lives in this file, so that pytest-xdist
# (--dist loadfile) runs it once, on one worker.
pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")

# which catalogue levels document the indicator columns of each output layer
LEVELS = {
    "nodes": {"node"},
    "cells": {"node", "hex"},
    "edges": {"edge"},
    "buildings": {"building"},
    "tessellation": {"tessellation"},
    "enclosures": {"enclosure"},
    "landmarks": {"landmark"},
}


@pytest.fixture(scope="module")
def gpkg(kotka_run):
    result, out = kotka_run
    assert result.exit_code == 0, result.output
    return out / "vitality.gpkg"


@pytest.mark.parametrize("layer", sorted(LEVELS))
def test_every_indicator_column_is_documented(gpkg, layer):
    info = pyogrio.read_info(gpkg, layer=layer)
    undocumented = [
        c
        for c in info["fields"]
        if c.split("_")[0] in ("morph", "soc", "cult")
        and not any(lookup(c, level=lv) for lv in LEVELS[layer])
    ]
    assert not undocumented, f"{layer}: {undocumented} are not in the catalogue"


def test_validate_knows_exactly_the_indicators_a_run_puts_on_the_cells(gpkg):
    """The names `validate` accepts are the cells' indicator columns, no more, no fewer."""
    from rakennettu.checks import activity_names, indicator_names

    info = pyogrio.read_info(gpkg, layer="cells")
    computed = {c for c in info["fields"] if c.split("_")[0] in ("morph", "soc", "cult")}
    assert indicator_names([400, 800, 1200], activity_names()) == computed


def test_indicator_reference_is_current():
    assert (REPO / "docs" / "indicators.md").read_text(encoding="utf-8") == markdown()


def test_cells_scores(gpkg):
    cells = pyogrio.read_dataframe(gpkg, layer="cells")
    scored = cells["access"] != "none"
    for col in ("score_morph", "score_soc", "score_cult", "synergy"):
        assert cells.loc[scored, col].between(0, 1).all(), col
        assert cells.loc[~scored, col].isna().all(), col


def test_candidates_are_ranked_and_explained(gpkg):
    c = pyogrio.read_dataframe(gpkg, layer="candidates")
    assert len(c) > 0
    assert sorted(c["rank"]) == sorted(c["score"].rank(ascending=False, method="min").astype(int))
    assert (c["rank_p05"] <= c["rank_median"]).all() and (c["rank_median"] <= c["rank_p95"]).all()
    assert c["why"].str.contains("social").all()
    assert c["provenance"].str.len().gt(0).all()
    assert c["area_m2"].ge(400).all()


def test_density_surfaces(kotka_run):
    _, out = kotka_run
    tifs = sorted((out / "surfaces").glob("*.tif"))
    assert [t.stem for t in tifs] == ["soc_activity_density", "soc_resident_density"]
    with rasterio.open(tifs[1]) as src:
        assert src.crs.to_epsg() == 3067
        assert src.transform.e < 0  # rows north to south
        assert np.nanmax(src.read(1)) > 0


def test_cli_run_writes_the_gpkg_with_contract_layers(kotka_run):
    result, out = kotka_run
    assert result.exit_code == 0, result.output
    layers = {str(n) for n, _ in pyogrio.list_layers(out / "vitality.gpkg")}
    assert {"nodes", "edges", "buildings", "activities", "landmarks", "third_places"} <= layers
    assert {"tessellation", "enclosures", "cells", "candidates", "candidate_links"} <= layers
    assert "EPSG:3067" in result.output
    nodes = pyogrio.read_dataframe(out / "vitality.gpkg", layer="nodes")
    assert "node_id" in nodes.columns
    edges = pyogrio.read_dataframe(out / "vitality.gpkg", layer="edges")
    assert {"u", "v", "length"} <= set(edges.columns)
    assert {"morph_harmonic_800m", "morph_betweenness_400m"} <= set(nodes.columns)
    assert "morph_betweenness_1200m" in edges.columns
    cells = pyogrio.read_dataframe(out / "vitality.gpkg", layer="cells")
    assert {"access", "morph_far", "score_morph", "score_soc", "score_cult", "synergy"} <= set(
        cells.columns
    )
    cands = pyogrio.read_dataframe(out / "vitality.gpkg", layer="candidates")
    assert {"candidate_id", "rank", "score", "rank_p05", "rank_p95", "why"} <= set(cands.columns)


def test_the_console_is_short_and_in_finnish(kotka_run):
    """Kotka is in Finland: one Finnish line per stage, the top sites, the pages; no tables."""
    from rakennettu.i18n import language
    from rakennettu.workflow import STAGE_WORDS

    result, out = kotka_run
    fi = language("fi")
    lines = result.output.splitlines()
    assert "\r" not in result.output  # no progress bars when stderr is not a terminal
    assert "NetworkX" not in result.output  # pyrosm's own timing print, logged at DEBUG
    for words in STAGE_WORDS.values():
        assert sum(line.startswith(fi._(words) + " (") for line in lines) == 1, words
    said = [fi._(w) + " (" for w in STAGE_WORDS.values()]
    timed = [line for line in lines if re.fullmatch(r"\S.* \([\d,]+ s\)", line)]
    assert [t for t in timed if not t.startswith(tuple(said))] == []  # no stage in English
    assert f"{fi._('Map')}: {out / 'map.html'}" in lines
    assert f"{fi._('Report')}: {out / 'report.html'}" in lines
    ranked = pyogrio.read_dataframe(out / "vitality.gpkg", layer="candidates")
    top = [line for line in lines if line.startswith("  ") and "(C" in line]
    assert len(top) == min(5, len(ranked))
    assert fi._("rows") not in result.output and "tessellation" not in result.output
    # besides one line per warning (Karhula's data have gaps, each said once)
    assert len([line for line in lines if not line.startswith("warning: ")]) < 30


def test_failed_rerun_keeps_earlier_outputs(kotka_run, tmp_path, monkeypatch):
    import shutil

    import rakennettu.workflow

    _, done = kotka_run
    out = tmp_path / "out" / "kotka-karhula"
    shutil.copytree(done, out)
    before = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def boom(*a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(rakennettu.workflow, "load_town", boom)
    result = CliRunner().invoke(
        cli, ["-q", "run", "--no-cache", "kotka-karhula", "--out", str(out.parent)]
    )
    assert result.exit_code == EXIT_CODES["internal"] == 1
    assert "internal error: RuntimeError: disk on fire" in result.output
    after = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before


def test_pages_are_small_offline_and_rebuild_identically(kotka_run):
    """The run's pages: small, no remote script or style, rebuilt byte for byte."""
    import re

    import geopandas as gpd

    from rakennettu.outputs.pages import rebuild

    _, out = kotka_run
    pages = {name: (out / f"{name}.html").read_bytes() for name in ("map", "report")}
    assert len(pages["map"]) < 1_500_000 and len(pages["report"]) < 1_000_000
    page = pages["map"].decode()
    assert not re.search(r"<script[^>]*\bsrc\s*=|<link[^>]*\bhref\s*=", page)
    ranked = gpd.read_file(out / "vitality.gpkg", layer="candidates")
    assert len(ranked) > 0 and page.count('"r":') == len(ranked)
    files = rebuild(out)
    assert {k: p.read_bytes() for k, p in files.items()} == pages


# ------------------------------------------------- the pages in a browser, both languages


@pytest.fixture
def _no_network(monkeypatch):
    """Loopback only here: selenium talks to chromedriver (tests/browser.py)."""
    from conftest import loopback_only

    loopback_only(monkeypatch)


@pytest.mark.browser
def test_the_pages_in_a_browser_in_finnish_and_english(kotka_run, tmp_path):
    """Screenshots at 1366×768 (map, a site's popup, the report's first page) and a PDF.

    With ``RAKENNETTU_SCREENSHOTS=docs/images`` the screenshots are kept there (README).
    """
    import shutil

    from browser import keep_screenshot, pdf_page_count, print_pdf, start_chromium, viewport, wait
    from rakennettu.outputs.pages import rebuild

    _, out = kotka_run
    en = tmp_path / "en"
    shutil.copytree(out, en, ignore=shutil.ignore_patterns("surfaces"))
    rebuild(en, language="en")
    driver = start_chromium(tmp_path / "profile")
    try:
        viewport(driver, 1366, 768)
        for code, folder in (("fi", out), ("en", en)):
            driver.get((folder / "map.html").as_uri())
            wait(driver, "return document.querySelectorAll('.leaflet-marker-pane .rk-rank').length")
            assert driver.execute_script("return document.documentElement.lang") == code
            keep_screenshot(driver, f"map-{code}", tmp_path)
            driver.execute_script(
                "Array.from(document.querySelectorAll('.leaflet-marker-pane .rk-rank'))"
                ".find(m => m.textContent === '1').click()"
            )
            wait(driver, "var p = document.querySelector('.leaflet-popup');"
                         "return p && getComputedStyle(p).opacity === '1';")  # fmt: skip
            keep_screenshot(driver, f"map-popup-{code}", tmp_path)
            driver.get((folder / "report.html").as_uri())
            wait(driver, "return document.querySelectorAll('.card img').length")
            keep_screenshot(driver, f"report-{code}", tmp_path)
            _every_report_string_is_a_message(driver, code, folder)
            pdf = print_pdf(driver)
            (tmp_path / f"report-{code}.pdf").write_bytes(pdf)
            pages = pdf_page_count(pdf)
            assert 2 <= pages <= 20, pages  # A4; the first page is a page of its own
            print(f"report-{code}.pdf: {pages} pages")
    finally:
        driver.quit()


def _every_report_string_is_a_message(driver, code: str, folder) -> None:
    """Every text of the report is a message of the ``code`` catalogue (fields filled in
    with anything), a number, or data: the town's title, or text in an element the page
    marks ``translate="no"`` (names, ids, warnings, files, versions). On the Finnish page
    no English message is left untranslated."""
    import json

    from browser import catalogue_patterns, foreign_strings

    texts = driver.execute_script(
        "var w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT), out = [];"
        "while (w.nextNode()) { var t = w.currentNode.textContent.trim();"
        "  if (t && w.currentNode.parentElement.closest('[translate=no]') === null)"
        "    out.push(t); }"
        "return out;"
    )
    record = json.loads((folder / "run.json").read_text())
    data = {record["town"]["title"], "×", "|", "5 %", "95 %"}
    assert len(texts) > 100
    foreign = foreign_strings(texts, code, data)
    assert not foreign, "\n".join(foreign)
    if code == "fi":
        english, fi = catalogue_patterns("en"), catalogue_patterns("fi")
        pieces = [" ".join(t.split()).strip(":;.,—– ") for t in texts]  # as the patterns are
        untranslated = [
            t for t in pieces
            if any(p.fullmatch(t) for p in english) and not any(p.fullmatch(t) for p in fi)
        ]  # fmt: skip
        assert untranslated == []


def test_run_json_says_what_the_data_could_not_measure(kotka_run, kotka):
    import json

    result, out = kotka_run
    rec = json.loads((out / "run.json").read_text(encoding="utf-8"))
    b = kotka.buildings[kotka.buildings["in_area"]]
    # facts of the bundled Karhula extract, read from the loaded town
    assert b["year"].isna().all()
    assert not kotka.landmarks["in_area"].any() if len(kotka.landmarks) else True
    warnings = rec["warnings"]
    assert (
        "rakennettu.completeness: buildings: no building has a construction year (threshold "
        "25 %): building age measures left out of the cultural score"
    ) in warnings
    assert any("no landmarks or heritage in the area" in w for w in warnings)
    figures = rec["completeness"]["figures"]
    assert figures["year_share"]["value"] == 0.0 and figures["year_share"]["short"]
    assert figures["buildings"]["value"] == len(b)
    # the index left out what measures nothing here, and said so
    assert rec["index"]["dropped_indicators"] == {
        "cult_landmark_access_800m": "constant",
        "cult_age_diversity_800m": "all NaN",
    }
    assert any("cult_age_diversity_800m has no value in any scored cell" in w for w in warnings)
    assert rec["index"]["dropped_dimensions"] == []
    assert "assumptions" in rec["ranking"]
    # the warnings reached the console too, in the run's language (Finnish in Kotka),
    # and the report says them in Finnish; run.json keeps them in English
    said = "rakennukset: yhdelläkään rakennuksella ei ole rakennusvuotta (kynnysarvo 25 %)"
    assert said in result.output and "no building has a construction year" not in result.output
    assert "cult_age_diversity_800m: ei arvoa yhdessäkään pisteytetyssä ruudussa" in (result.output)
    assert len(rec["warning_messages"]) == len(warnings)
    report = (out / "report.html").read_text(encoding="utf-8")
    assert said in report and "no building has a construction year" not in report


def _same_outputs(a: Path, b: Path) -> None:
    """Every layer of vitality.gpkg, candidates.csv byte for byte, run.json but its timings."""
    import json

    import geopandas as gpd
    import pandas as pd

    layers = [name for name, _ in pyogrio.list_layers(a / "vitality.gpkg")]
    assert layers == [name for name, _ in pyogrio.list_layers(b / "vitality.gpkg")]
    for layer in layers:
        pd.testing.assert_frame_equal(
            gpd.read_file(a / "vitality.gpkg", layer=layer),
            gpd.read_file(b / "vitality.gpkg", layer=layer),
            check_exact=True,
            obj=layer,
        )
    assert (a / "candidates.csv").read_bytes() == (b / "candidates.csv").read_bytes()
    records = [json.loads((d / "run.json").read_text()) for d in (a, b)]
    for r in records:
        for key in ("timings_s", "created", "stages"):
            r.pop(key)
    assert records[0] == records[1]


def test_a_rerun_with_new_weights_reads_every_layer_from_the_cache(kotka_run, tmp_path):
    """Only the weights changed: the layers and the site gains come from the stage cache
    (filled by the session's Kotka run), and every output is what a fresh run gives."""
    import json

    from rakennettu import bundled_workflow, run

    text = bundled_workflow("kotka-karhula").read_text(encoding="utf-8")
    wf = tmp_path / "kotka-karhula.toml"
    # the pages are built from these outputs (tests/test_pages.py); not needed here
    wf.write_text(
        text + "\n[synthesis]\nweights = { morph = 3, soc = 1, cult = 0.5 }\n"
        "[outputs]\nmap = false\nreport = false\n"
    )
    cached = run(wf, out_dir=tmp_path / "cached")
    fresh = run(wf, out_dir=tmp_path / "fresh", cache=False)
    stages = ["load", "morphology", "social", "cultural", "candidates", "leverage"]
    assert {k: v["status"] for k, v in cached.record["stages"].items()} == dict.fromkeys(
        stages, "cached"
    )
    assert {k: v["status"] for k, v in fresh.record["stages"].items()} == dict.fromkeys(
        stages, "computed"
    )
    record = json.loads((tmp_path / "cached" / "run.json").read_text())
    assert record["stages"]["social"]["status"] == "cached"
    _same_outputs(tmp_path / "cached", tmp_path / "fresh")
    # and the weights did change the result
    before = (kotka_run[1] / "candidates.csv").read_bytes()
    assert (tmp_path / "cached" / "candidates.csv").read_bytes() != before
    # a finished run re-ranked with those weights gives the fresh run's ranking
    import pandas as pd

    from rakennettu import open_run

    reranked = open_run(kotka_run[1]).rerank(weights={"morph": 3, "soc": 1, "cult": 0.5})
    expected = fresh.layers["candidates"]
    assert list(reranked.index) == list(expected.index)
    for col in ("rank", "score", "rank_p05", "rank_p95", "why", "context"):
        got, want = pd.Series(reranked[col].tolist()), pd.Series(expected[col].tolist())
        pd.testing.assert_series_equal(got, want, check_dtype=False, obj=col)


def test_open_run_reranks_with_the_run_s_own_weights_to_the_run_s_ranking(kotka_run):
    import geopandas as gpd
    import pandas as pd

    from rakennettu import open_run

    done = open_run(kotka_run[1])
    stored = done.candidates
    again = done.rerank(weights={})
    assert list(again.index) == list(stored.index)
    for col in ("rank", "score", "rank_p05", "rank_p95", "why", "context"):
        pd.testing.assert_series_equal(again[col], stored[col], check_dtype=False, obj=col)
    assert isinstance(again, gpd.GeoDataFrame) and again.crs == stored.crs
    # every gain and figure the explanations quote is a documented column of the layer
    from rakennettu.synthesis.leverage import FIGURES, GAINS

    assert {c for d in GAINS.values() for c in d} | set(FIGURES) <= set(stored.columns)


def test_open_run_refuses_a_folder_that_is_not_a_run(tmp_path):
    from rakennettu import SourceError, open_run

    with pytest.raises(SourceError, match=r"not a finished run's folder \(no run.json"):
        open_run(tmp_path)


def test_simulating_a_ranked_site_by_hand_gives_its_gains(kotka_run):
    """A site drawn as a copy of the run's best one, with the run's program: same gains."""
    import pandas as pd

    from rakennettu import open_run
    from rakennettu.synthesis.leverage import GAINS

    done = open_run(kotka_run[1])
    best = done.candidates.iloc[0]
    if isinstance(best["program"], str) and best["program"]:
        pytest.skip("the best site has a program of its own")
    drawn = done.simulate(best.geometry)
    for col in [c for d in GAINS.values() for c in d]:
        assert drawn[col] == pytest.approx(best[col], rel=1e-12, abs=1e-12), col
    assert drawn["of"] == len(done.candidates) + 1
    # as good as the best site: it ranks first or second (ties keep the run's site first)
    assert drawn["rank"] in (1, 2)
    assert isinstance(drawn, pd.Series) and drawn["why"]


def test_centrality_at_other_radii_is_the_run_s_at_its_own(kotka_run, kotka):
    import geopandas as gpd

    from rakennettu import centrality

    nodes, edges = centrality(kotka, radii=[400])
    assert nodes.index.equals(kotka.nodes.index) and edges.index.equals(kotka.edges.index)
    ran = gpd.read_file(kotka_run[1] / "vitality.gpkg", layer="nodes").set_index("node_id")
    for col in ("morph_harmonic_400m", "morph_betweenness_400m", "morph_straightness_400m"):
        want = ran.loc[nodes.index, col].to_numpy()
        assert nodes[col].to_numpy() == pytest.approx(want, nan_ok=True), col
