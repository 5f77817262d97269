"""The morphological layer: engine and form measures put together, checked independently."""

from __future__ import annotations

import momepy
import networkx as nx
import numpy as np
import pytest

from rakennettu.config import FormConfig, SocialConfig
from rakennettu.layers.morphology import INDICATORS, block_streets, morphology_layer
from rakennettu.naming import describe
from rakennettu.network import StreetNetwork
from rakennettu.prepare import prepare
from rakennettu.synthesis.units import HEX_INDICATORS

pytestmark = pytest.mark.filterwarnings(
    # momepy concatenates frames whose CRS it has not set yet; harmless
    "ignore:CRS not set for some of the concatenation inputs:UserWarning",
    "ignore::FutureWarning",
)

RADII = [200, 400]


@pytest.fixture(scope="module")
def morph(kotka_morph):
    """Kotka's morphology layer at RADII (tests/conftest.py)."""
    return kotka_morph


def test_tables_keep_the_towns_indexes(kotka, morph):
    assert morph.nodes.index.equals(kotka.nodes.index)
    assert morph.edges.index.equals(kotka.edges.index)
    assert morph.buildings.index.equals(kotka.buildings.index)


@pytest.mark.parametrize("radius", RADII, ids=lambda r: f"{r}m")
def test_harmonic_and_reach_match_networkx(kotka, morph, radius):
    g = kotka.graph
    for node in list(g.nodes)[::15]:
        dist = nx.single_source_dijkstra_path_length(g, node, cutoff=radius, weight="length")
        others = [d for n, d in dist.items() if n != node and d > 0]
        assert morph.nodes.loc[node, f"morph_harmonic_{radius}m"] == pytest.approx(
            sum(1 / d for d in others), rel=1e-9
        )
        assert morph.nodes.loc[node, f"morph_node_count_{radius}m"] == len(dist) - 1


@pytest.mark.parametrize("radius", RADII, ids=lambda r: f"{r}m")
def test_meshedness_and_gamma_match_momepy(kotka, morph, radius):
    g = momepy.meshedness(kotka.graph.copy(), radius=radius, name="m", distance="length")
    g = momepy.gamma(g, radius=radius, name="g", distance="length")
    ref_m = np.array([g.nodes[n]["m"] for n in morph.nodes.index], dtype=float)
    ref_g = np.array([g.nodes[n]["g"] for n in morph.nodes.index], dtype=float)
    got_m = morph.nodes[f"morph_meshedness_{radius}m"].to_numpy()
    got_g = morph.nodes[f"morph_gamma_{radius}m"].to_numpy()
    ok = ~np.isnan(got_m)  # NaN below 3 nodes, where momepy's formula breaks down
    assert ok.mean() > 0.75  # Karhula is sparse: at 200 m a fifth of the nodes reach < 3
    np.testing.assert_allclose(got_m[ok], ref_m[ok], rtol=1e-9)
    np.testing.assert_allclose(got_g[ok], ref_g[ok], rtol=1e-9)


def test_every_column_is_documented(morph):
    docs = INDICATORS + HEX_INDICATORS
    for frame, level in (
        (morph.nodes, "node"),
        (morph.edges, "edge"),
        (morph.buildings, "building"),
        (morph.cells, "tessellation"),
        (morph.enclosures, "enclosure"),
    ):
        for col in frame.columns:
            if not str(col).startswith("morph_"):
                continue
            doc = describe(col, tuple(d for d in docs if d.level == level))
            assert doc is not None, f"{level} column {col} is not in INDICATORS"


def test_blocks_leave_out_sidewalks_and_paths(helsinki):
    streets = block_streets(helsinki.edges)
    assert 0 < len(streets) < len(helsinki.edges)
    assert not streets["highway"].isin(["footway", "path", "steps", "cycleway"]).any()


def test_floor_area_uses_known_floors(kotka, morph):
    b = kotka.buildings.join(morph.buildings)
    known = b["floors"].notna() & (b["floors"] > 0)
    expected = b.loc[known, "morph_footprint_area"] * b.loc[known, "floors"]
    np.testing.assert_allclose(b.loc[known, "morph_floor_area"], expected)
    assert set(b["morph_floors_source"]) <= {"floors", "height", "assumed"}


@pytest.mark.slow
def test_summary_when_the_area_is_smaller_than_the_extract(write_workflow):
    """Streets outside the area are loaded as context; the summary counts the area's only."""
    from rakennettu import load_town, load_workflow

    path = write_workflow(
        '[town]\nname = "karhula-west"\n[osm]\npath = "pyrosm:test_pbf"\n'
        "[area]\nbbox = [26.930, 60.520, 26.950, 60.540]\n"
    )
    town = load_town(load_workflow(path))
    assert not town.edges["in_area"].all()
    prep = prepare(town, FormConfig(), SocialConfig())
    layer = morphology_layer(town, StreetNetwork.from_graph(town.graph), prep, radii=[200])
    assert layer.summary["morph_stroke_length_weighted_mean"] > 0
