"""The doctest namespace: small networks every docstring example may use.

``np``, ``pd``, ``gpd``, ``nx``, ``StreetNetwork``; ``grid_graph()`` (a fresh 3x3 grid of
100 m blocks, nodes 0-8 numbered row by row from the south-west, as a networkx MultiGraph
in EPSG:3067), ``grid`` (that graph as a StreetNetwork) and ``line3`` (a straight street
0-1-2 of two 100 m segments along the x axis).
"""

from __future__ import annotations

import pytest


def _grid_graph():  # type: ignore[no-untyped-def]
    import networkx as nx

    G = nx.MultiGraph(nx.convert_node_labels_to_integers(nx.grid_2d_graph(3, 3)))
    G.graph["crs"] = "EPSG:3067"
    nx.set_node_attributes(G, {i: 100.0 * (i % 3) for i in G}, "x")
    nx.set_node_attributes(G, {i: 100.0 * (i // 3) for i in G}, "y")
    nx.set_edge_attributes(G, 100.0, "length")
    return G


@pytest.fixture(autouse=True)
def _doctest_names(doctest_namespace: dict) -> None:
    import geopandas as gpd
    import networkx as nx
    import numpy as np
    import pandas as pd

    from rakennettu.network import StreetNetwork

    line = nx.MultiGraph([(0, 1, {"length": 100.0}), (1, 2, {"length": 100.0})], crs="EPSG:3067")
    nx.set_node_attributes(line, {0: 0.0, 1: 100.0, 2: 200.0}, "x")
    nx.set_node_attributes(line, {0: 0.0, 1: 0.0, 2: 0.0}, "y")
    doctest_namespace.update(
        np=np,
        pd=pd,
        gpd=gpd,
        nx=nx,
        StreetNetwork=StreetNetwork,
        grid_graph=_grid_graph,
        grid=StreetNetwork.from_graph(_grid_graph()),
        line3=StreetNetwork.from_graph(line),
    )
