"""One whole run of the bundled Kotka town: the output contract, checked end to end."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyogrio
import pytest
import rasterio

from rakennettu.catalogue import lookup, markdown

REPO = Path(__file__).resolve().parent.parent

# share the session's one Kotka run with tests/test_cli.py on one xdist worker
pytestmark = pytest.mark.xdist_group("kotka_run")

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
