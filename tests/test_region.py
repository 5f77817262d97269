"""A region in tiles: buffered tiles give the whole network's centralities; a tiled run on
Dask equals the single-machine run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner

from conftest import loopback_only
from rakennettu.cli import cli
from rakennettu.network import StreetNetwork, centrality_with_edges
from rakennettu.region import exact_margin, tile_network, tile_part, tiled_centrality, tiles

RADII = [400, 800, 1200]

# Betweenness is a sum over sources; the tiles add them in another order. The closeness
# sums follow each search's settling order, which ties in distance may change. So the
# values agree to float rounding: 1e-12 relative (a sum of ~10^4 terms in float64 drifts
# by ~10^-12 at most), no absolute slack (zeros stay exact zeros).
RTOL = 1e-12


@pytest.fixture
def _no_network(monkeypatch):
    """As in conftest, but the Dask scheduler and workers may talk over the loopback."""
    loopback_only(monkeypatch)


@pytest.fixture(scope="module")
def helsinki_net(helsinki):
    return StreetNetwork.from_graph(helsinki.graph)


@pytest.fixture(scope="module")
def whole(helsinki_net):
    """The centralities of the whole Helsinki network at RADII: (nodes, edges)."""
    return centrality_with_edges(helsinki_net, RADII)


def _close(a: pd.DataFrame, b: pd.DataFrame, rtol: float) -> None:
    pd.testing.assert_index_equal(a.index, b.index)
    pd.testing.assert_index_equal(a.columns, b.columns)
    np.testing.assert_allclose(
        a.to_numpy(dtype=float), b.to_numpy(dtype=float), rtol=rtol, atol=0, equal_nan=True
    )


@pytest.mark.parametrize("size", [500, 1000], ids=["tiles-smaller-than-radius", "tiles-1000m"])
def test_tiled_centrality_equals_the_whole_network(helsinki_net, whole, size):
    net = helsinki_net
    assert len(tiles(net, size)) >= 4  # really split
    nodes, edges = tiled_centrality(net, RADII, tile_size=size)
    whole_nodes, whole_edges = whole
    _close(nodes, whole_nodes, RTOL)
    _close(edges, whole_edges, RTOL)
    counts = nodes[["node_count", "edge_count"]]
    pd.testing.assert_frame_equal(counts, whole_nodes[["node_count", "edge_count"]])


def test_every_node_is_in_one_core(helsinki_net):
    cores = [t.core for t in tiles(helsinki_net, 700)]
    together = pd.Index(np.concatenate([c.to_numpy() for c in cores]))
    assert not together.has_duplicates
    assert together.sort_values().equals(helsinki_net.node_ids.sort_values())


def test_a_buffer_of_half_the_radius_is_not_exact(helsinki_net, whole):
    """The margin matters: with half of it, core nodes near the tile edge come out wrong."""
    net = helsinki_net
    tile = max(tiles(net, 700), key=lambda t: len(t.core))
    whole_nodes, _ = whole
    right = tile_part(tile_network(net, tile, exact_margin(net, 1200)), tile.core, RADII)
    short = tile_part(tile_network(net, tile, 600), tile.core, RADII)
    rows = whole_nodes.index.get_indexer(right.core)
    harmonic = whole_nodes["harmonic"].to_numpy()[rows]
    np.testing.assert_allclose(right.closeness["harmonic"], harmonic, rtol=RTOL, atol=0)
    assert (short.closeness["harmonic"][:, -1] < harmonic[:, -1] * (1 - 1e-9)).any()


def test_margin_grows_with_segments_shorter_than_their_chord():
    import networkx as nx

    G = nx.MultiGraph(crs="EPSG:3067")
    G.add_node(0, x=0.0, y=0.0)
    G.add_node(1, x=100.0, y=0.0)
    G.add_edge(0, 1, length=80.0)  # a geodesic length under a CRS scale > 1, exaggerated
    assert exact_margin(StreetNetwork.from_graph(G), 400) == pytest.approx(400 * 100 / 80 + 1)


@pytest.mark.slow
def test_tiled_run_on_dask_equals_the_single_machine_run(kotka_run_without_pages, tmp_path):
    """Kotka in 1 km tiles on a local cluster of two workers, from the command line.

    Every layer of vitality.gpkg equals the single-machine run's: the candidates (every
    site, score, rank and rank interval) exactly; the street nodes, segments and cells to
    float rounding (the betweenness sums, see RTOL; 1e-9 for the cells, whose scores
    are means of those values).
    """
    from rakennettu import bundled_workflow

    single = kotka_run_without_pages.out_dir
    out = tmp_path / "tiled"
    workflow = tmp_path / "kotka-karhula.toml"  # the bundled one, without the pages
    workflow.write_text(
        bundled_workflow("kotka-karhula").read_text(encoding="utf-8")
        + "\n[outputs]\nmap = false\nreport = false\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        cli, ["-q", "run", str(workflow), "--out", str(out), "--tile-size", "1000",
              "--workers", "2"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    tiled = out / "kotka-karhula"
    layers = pyogrio.list_layers(single / "vitality.gpkg")[:, 0].tolist()
    assert pyogrio.list_layers(tiled / "vitality.gpkg")[:, 0].tolist() == layers
    assert {"nodes", "edges", "cells", "candidates"} <= set(layers)
    for layer in layers:
        a = pyogrio.read_dataframe(single / "vitality.gpkg", layer=layer)
        b = pyogrio.read_dataframe(tiled / "vitality.gpkg", layer=layer)
        if layer in ("nodes", "edges", "cells"):
            floats = [c for c in a.columns if a[c].dtype.kind == "f"]
            other = [c for c in a.columns if c not in floats]
            pd.testing.assert_frame_equal(a[other], b[other], check_exact=True)
            _close(a[floats], b[floats], RTOL if layer != "cells" else 1e-9)
        else:
            pd.testing.assert_frame_equal(a, b, check_exact=True, obj=layer)
    cands = pyogrio.read_dataframe(tiled / "vitality.gpkg", layer="candidates")
    assert len(cands) > 0 and cands["rank"].notna().all()


def _tiles_in_a_task(radii):
    """A town's task of a batch: tiles on the batch's own cluster (no cluster of its own)."""
    from rakennettu.region import region_client

    net = StreetNetwork.from_graph(_grid(6))
    with region_client(None, None) as (client, _threads):
        parts = tiled_centrality(net, radii, tile_size=150, client=client)
        address = client.scheduler.address
    return parts, centrality_with_edges(net, radii), address


def _grid(n):
    import networkx as nx

    G = nx.MultiGraph(nx.convert_node_labels_to_integers(nx.grid_2d_graph(n, n)))
    G.graph["crs"] = "EPSG:3067"
    nx.set_node_attributes(G, {i: 100.0 * (i % n) for i in G}, "x")
    nx.set_node_attributes(G, {i: 100.0 * (i // n) for i in G}, "y")
    nx.set_edge_attributes(G, 100.0, "length")
    return G


def test_tiles_of_a_town_in_a_batch_go_to_the_batchs_cluster():
    from distributed import Client, LocalCluster

    with (
        LocalCluster(n_workers=1, threads_per_worker=2, processes=False, protocol="tcp",
                     host="127.0.0.1", dashboard_address="127.0.0.1:0") as cluster,
        Client(cluster) as client,
    ):  # fmt: skip
        tiled, whole, used = client.submit(_tiles_in_a_task, [200, 300]).result()
        assert used == cluster.scheduler_address  # the batch's cluster, not a new one
    for a, b in zip(tiled, whole, strict=True):
        _close(a, b, RTOL)
