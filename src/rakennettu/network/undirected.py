"""An osmnx street graph made undirected: osmnx's rule, without its per-group pandas loop.

``osmnx.convert.to_undirected`` (osmnx 2.x) first gives a new key to one edge of each
set of parallel edges ``(u, v, k)``/``(v, u, k)`` whose geometries differ (its
``_update_edge_keys``), then adds every directed edge to a MultiGraph and drops the
duplicates (same ``osmid`` and geometry). Its first step builds a GeoDataFrame of every
edge and iterates a pandas ``groupby`` over every group: on a walking network, where each
edge has its reverse, that is one group per street segment, the slowest part of the
network build on whole towns. :func:`to_undirected` does the same with one pass over the
edges and a dictionary, and keeps osmnx's second step as it is, so the graph is the same:
same nodes, edges, keys, attributes and order (tested against osmnx on real towns).
"""

from __future__ import annotations

import itertools
from typing import Any

import networkx as nx
import numpy as np
import shapely
from shapely import LineString

__all__ = ["to_undirected"]


def to_undirected(graph: nx.MultiDiGraph) -> nx.MultiGraph:
    """Convert a MultiDiGraph to an undirected MultiGraph, as ``osmnx.convert.to_undirected``.

    Parallel edges are kept only if their geometries differ; edges without a geometry
    get the straight line between their nodes; every edge records its direction in
    ``from`` and ``to``. The input is not modified.

    Examples
    --------
    >>> g = nx.MultiDiGraph(crs="EPSG:3067")
    >>> g.add_node(1, x=0.0, y=0.0); g.add_node(2, x=100.0, y=0.0)
    >>> _ = g.add_edge(1, 2, osmid=7, length=100.0)
    >>> _ = g.add_edge(2, 1, osmid=7, length=100.0)
    >>> u = to_undirected(g)
    >>> list(u.edges(keys=True)), u.edges[1, 2, 0]["length"]
    ([(1, 2, 0)], 100.0)
    """
    g = graph.copy()
    for u, v, d in g.edges(data=True):
        d["from"] = u
        d["to"] = v
        if "geometry" not in d:
            d["geometry"] = LineString(
                [(g.nodes[u]["x"], g.nodes[u]["y"]), (g.nodes[v]["x"], g.nodes[v]["y"])]
            )
    g = _update_edge_keys(g)
    gu = nx.MultiGraph(**g.graph)
    gu.add_nodes_from(g.nodes(data=True))
    gu.add_edges_from(g.edges(keys=True, data=True))
    duplicates = set()
    for u1, v1, key1, data1 in gu.edges(keys=True, data=True):
        if (u1, v1, key1) not in duplicates:
            for key2 in gu[u1][v1]:
                if key1 != key2 and _is_duplicate_edge(data1, gu.edges[u1, v1, key2]):
                    duplicates.add((u1, v1, key2))
    gu.remove_edges_from(duplicates)
    return gu


def _update_edge_keys(g: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """A new key for one edge of each ``(u, v, k)``/``(v, u, k)`` set whose geometries differ.

    The edges are grouped by osmnx's key (the two node ids as text, sorted, and the key);
    in a group, every pair of geometries that differ flags the group's first edge.
    """
    groups: dict[str, list[tuple[tuple[Any, Any, Any], Any]]] = {}
    for u, v, k, geom in g.edges(keys=True, data="geometry"):
        uvk = "_".join([*sorted([str(u), str(v)]), str(k)])
        groups.setdefault(uvk, []).append(((u, v, k), geom))
    different = []  # in osmnx's order (groupby sorts the keys): a set's order depends on it
    for uvk in sorted(groups):
        members = [m for m in groups[uvk] if _present(m[1])]
        if len(members) < 2:
            continue
        coords = [shapely.get_coordinates(geom) for _, geom in members]
        for c1, c2 in itertools.combinations(coords, 2):
            if not _same_coords(c1, c2):
                different.append(members[0][0])
    for u, v, k in set(different):
        new_key = max(list(g[u][v]) + list(g[v][u])) + 1
        g.add_edge(u, v, key=new_key, **g.get_edge_data(u, v, k))
        g.remove_edge(u, v, key=k)
    return g


def _present(geom: Any) -> bool:
    """Not missing (osmnx drops rows whose geometry is None or NaN before comparing)."""
    return geom is not None and not (isinstance(geom, float) and np.isnan(geom))


def _same_coords(c1: np.ndarray, c2: np.ndarray) -> bool:
    """Same x, y sequence in either direction (osmnx's ``_is_same_geometry``)."""
    return bool(np.array_equal(c1, c2) or np.array_equal(c1[::-1], c2))


def _is_duplicate_edge(data1: dict[str, Any], data2: dict[str, Any]) -> bool:
    """Same ``osmid`` (as sets when lists) and the same geometry, or both without one."""
    osmid1 = set(data1["osmid"]) if isinstance(data1["osmid"], list) else data1["osmid"]
    osmid2 = set(data2["osmid"]) if isinstance(data2["osmid"], list) else data2["osmid"]
    if osmid1 != osmid2:
        return False
    if "geometry" in data1 and "geometry" in data2:
        return _same_coords(
            shapely.get_coordinates(data1["geometry"]), shapely.get_coordinates(data2["geometry"])
        )
    return ("geometry" not in data1) and ("geometry" not in data2)
