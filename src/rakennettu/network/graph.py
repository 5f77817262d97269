"""The street network container (:class:`StreetNetwork`): CSR adjacency in Hilbert order."""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import networkx as nx
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pyproj import CRS

from rakennettu import interrupt
from rakennettu.errors import CRSError, NetworkError
from rakennettu.network._util import B8, F64, I64, _hilbert_keys, _readonly, _require_projected
from rakennettu.network.kernels import Graph, Segments, _multi_source_kernel

if TYPE_CHECKING:
    from rakennettu.network.whatif import NetworkChange


# ---------------------------------------------------------------------------------------
# the network container
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class StreetNetwork:
    """An undirected street network prepared for fast radius-limited searches.

    Build it once per town with :meth:`from_graph` or :meth:`from_gdfs` and pass it to
    every metric. It is immutable; what-if changes return a new network
    (:meth:`with_links`). Node results are indexed by :attr:`node_ids` in their original
    order; edges are identified by ``(u, v, key)``.

    Internally, nodes are renumbered along a Hilbert curve so that nearby nodes sit near
    each other in memory, and parallel edges collapse to the shortest in a CSR adjacency
    (float64 lengths in metres).

    Attributes
    ----------
    node_ids
        The node ids, in the order of the input.
    x, y
        Node coordinates in the projected CRS (metres), in the order of :attr:`node_ids`.
    crs
        The projected CRS of the coordinates and geometries.
    """

    node_ids: pd.Index
    x: F64
    y: F64
    crs: CRS
    _edges: gpd.GeoDataFrame
    _order: I64
    _rank: I64
    _edge_iu: I64
    _edge_iv: I64
    _edge_sid: I64
    _edge_share: F64
    _edge_rev: B8
    _indptr: I64
    _nbr: I64
    _wt: F64
    _sid: I64
    _scount: F64
    _slen: F64
    _loopc: F64
    _loopl: F64
    _xs: F64
    _ys: F64
    _n_simple: int

    # -- construction ------------------------------------------------------------------

    @classmethod
    def from_graph(cls, G: nx.Graph) -> StreetNetwork:
        """Build a network from an osmnx-style networkx graph.

        Parameters
        ----------
        G
            A ``MultiGraph`` (or ``MultiDiGraph``, ``Graph``) in a projected CRS
            (``G.graph["crs"]``), with node attributes ``x``, ``y`` and an edge attribute
            ``length`` in metres; an edge ``geometry`` (LineString) is used when present,
            else a straight line. In a directed graph, edges running both ways between the
            same nodes with the same length (to the millimetre) are one street segment.

        Returns
        -------
        StreetNetwork
            Nodes in the order of ``G.nodes``, edges identified by ``(u, v, key)``.

        Raises
        ------
        CRSError
            If the graph has no CRS or a geographic one.
        NetworkError
            If coordinates or lengths are missing, lengths negative, or ids duplicated.

        Examples
        --------
        A 3x3 grid of 100 m blocks:

        >>> import networkx as nx
        >>> G = nx.MultiGraph(nx.convert_node_labels_to_integers(nx.grid_2d_graph(3, 3)))
        >>> G.graph["crs"] = "EPSG:3067"
        >>> nx.set_node_attributes(G, {i: 100.0 * (i % 3) for i in G}, "x")
        >>> nx.set_node_attributes(G, {i: 100.0 * (i // 3) for i in G}, "y")
        >>> nx.set_edge_attributes(G, 100.0, "length")
        >>> net = StreetNetwork.from_graph(G)
        >>> net
        StreetNetwork(9 nodes, 12 edges, crs='EPSG:3067')
        """
        crs = _require_projected(G.graph.get("crs"), "the graph (G.graph['crs'])")
        nodes = list(G.nodes)
        node_ids = pd.Index(nodes, name="node_id", tupleize_cols=False)
        x = np.array([G.nodes[n].get("x", np.nan) for n in nodes], dtype=np.float64)
        y = np.array([G.nodes[n].get("y", np.nan) for n in nodes], dtype=np.float64)
        us: list[Hashable] = []
        vs: list[Hashable] = []
        ks: list[Hashable] = []
        lengths: list[float] = []
        geoms: list[Any] = []
        if G.is_multigraph():
            it = G.edges(keys=True, data=True)
        else:
            it = ((u, v, 0, d) for u, v, d in G.edges(data=True))
        for u, v, k, d in it:
            us.append(u)
            vs.append(v)
            ks.append(k)
            ln = d.get("length")
            lengths.append(np.nan if ln is None else float(ln))
            geoms.append(d.get("geometry"))
        length = np.asarray(lengths, dtype=np.float64)
        keep = np.ones(len(us), dtype=bool)
        if G.is_directed() and us:
            keep = _undirected_keep(node_ids, us, vs, length)
        idx = np.flatnonzero(keep)
        edge_index = pd.MultiIndex.from_arrays(
            [
                pd.Index([us[i] for i in idx], tupleize_cols=False),
                pd.Index([vs[i] for i in idx], tupleize_cols=False),
                pd.Index([ks[i] for i in idx], tupleize_cols=False),
            ],
            names=["u", "v", "key"],
        )
        geometry = [geoms[i] for i in idx]
        return cls._build(node_ids, x, y, crs, edge_index, length[idx], geometry)

    @classmethod
    def from_gdfs(cls, nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame) -> StreetNetwork:
        """Build a network from node and edge GeoDataFrames (as ``ox.graph_to_gdfs`` makes).

        Parameters
        ----------
        nodes
            Indexed by node id, with ``x``, ``y`` columns or Point geometries, in a
            projected CRS.
        edges
            With ``u``, ``v`` (node ids) and ``length`` (metres) as columns or index levels,
            an optional ``key`` (else numbered within each ``u``-``v`` pair) and LineString
            geometries (straight lines where missing).

        Returns
        -------
        StreetNetwork
            Nodes in the order of ``nodes``; edges identified by ``(u, v, key)``.

        Raises
        ------
        CRSError
            If the CRS is missing, geographic, or differs between the frames.
        NetworkError
            If a required column is missing, a length missing or negative, or an edge
            refers to an unknown node.

        Examples
        --------
        >>> import geopandas as gpd
        >>> from shapely import LineString, Point
        >>> nodes = gpd.GeoDataFrame(
        ...     geometry=[Point(0, 0), Point(100, 0), Point(100, 100)],
        ...     index=pd.Index([10, 11, 12], name="osmid"), crs="EPSG:3067")
        >>> edges = gpd.GeoDataFrame(
        ...     {"u": [10, 11], "v": [11, 12], "length": [100.0, 100.0]},
        ...     geometry=[LineString([(0, 0), (100, 0)]), LineString([(100, 0), (100, 100)])],
        ...     crs="EPSG:3067")
        >>> net = StreetNetwork.from_gdfs(nodes, edges)
        >>> list(net.node_ids)
        [10, 11, 12]
        """
        crs_n = getattr(nodes, "crs", None)
        crs_e = getattr(edges, "crs", None)
        if crs_n is not None and crs_e is not None and CRS.from_user_input(crs_n) != crs_e:
            raise CRSError(
                f"nodes ({CRS.from_user_input(crs_n).name}) and edges "
                f"({CRS.from_user_input(crs_e).name}) are in different CRSs; "
                "reproject one with .to_crs(...)"
            )
        crs = _require_projected(crs_n if crs_n is not None else crs_e, "the nodes/edges")
        problems: list[str] = []
        if "x" in nodes.columns and "y" in nodes.columns:
            x = nodes["x"].to_numpy(dtype=np.float64)
            y = nodes["y"].to_numpy(dtype=np.float64)
        elif isinstance(nodes, gpd.GeoDataFrame) and nodes.geometry.name in nodes.columns:
            x = nodes.geometry.x.to_numpy(dtype=np.float64)
            y = nodes.geometry.y.to_numpy(dtype=np.float64)
        else:
            problems.append("nodes have neither 'x'/'y' columns nor Point geometries")
            x = y = np.full(len(nodes), np.nan)

        def _field(name: str) -> pd.Index | None:
            if name in edges.columns:
                return pd.Index(edges[name].to_numpy(), tupleize_cols=False)
            if name in (edges.index.names or []):
                return pd.Index(edges.index.get_level_values(name), tupleize_cols=False)
            return None

        u = _field("u")
        v = _field("v")
        length_f = _field("length")
        for name, f in (("u", u), ("v", v), ("length", length_f)):
            if f is None:
                problems.append(f"edges have no {name!r} column")
        if problems or u is None or v is None or length_f is None:
            raise NetworkError("cannot build a StreetNetwork: " + "; ".join(problems))
        key = _field("key")
        if key is None:
            key = pd.Index(
                pd.DataFrame({"u": u, "v": v}).groupby(["u", "v"], sort=False).cumcount()
            )
        edge_index = pd.MultiIndex.from_arrays([u, v, key], names=["u", "v", "key"])
        length = pd.to_numeric(pd.Series(length_f), errors="coerce").to_numpy(np.float64)
        geometry: list[Any] | None = None
        if isinstance(edges, gpd.GeoDataFrame) and edges.geometry.name in edges.columns:
            geometry = list(edges.geometry.to_numpy())
        return cls._build(pd.Index(nodes.index), x, y, crs, edge_index, length, geometry)

    @classmethod
    def _build(
        cls,
        node_ids: pd.Index,
        x: F64,
        y: F64,
        crs: CRS,
        edge_index: pd.MultiIndex,
        length: F64,
        geometry: Sequence[Any] | None,
    ) -> StreetNetwork:
        problems: list[str] = []
        n = len(node_ids)
        if node_ids.has_duplicates:
            dup = node_ids[node_ids.duplicated()].unique()[:5].tolist()
            problems.append(f"node ids are not unique (e.g. {dup})")
        bad_xy = ~(np.isfinite(x) & np.isfinite(y))
        if bad_xy.any():
            problems.append(
                f"{int(bad_xy.sum())} nodes lack finite 'x'/'y' coordinates "
                f"(e.g. {node_ids[bad_xy][:5].tolist()})"
            )
        pu = node_ids.get_indexer(edge_index.get_level_values(0)) if n else np.array([], int)
        pv = node_ids.get_indexer(edge_index.get_level_values(1)) if n else np.array([], int)
        unknown = (pu < 0) | (pv < 0)
        if unknown.any():
            problems.append(
                f"{int(unknown.sum())} edges refer to nodes that are not in the nodes "
                f"(e.g. {edge_index[unknown][:3].tolist()})"
            )
        missing = ~np.isfinite(length)
        if missing.any():
            problems.append(
                f"{int(missing.sum())} edges have a missing or infinite 'length' "
                f"(e.g. {edge_index[missing][:3].tolist()}); compute lengths in metres first "
                "(e.g. ox.distance.add_edge_lengths(G) or edges.length in a projected CRS)"
            )
        negative = length < 0
        if negative.any():
            problems.append(
                f"{int(negative.sum())} edges have a negative 'length' "
                f"(e.g. {edge_index[negative][:3].tolist()}); lengths must be metres >= 0"
            )
        if edge_index.has_duplicates:
            problems.append(
                f"edge ids (u, v, key) are not unique (e.g. "
                f"{edge_index[edge_index.duplicated()][:3].tolist()})"
            )
        if problems:
            raise NetworkError("cannot build a StreetNetwork: " + "; ".join(problems))

        m = len(edge_index)
        # geometries: given ones, straight lines elsewhere
        geoms = np.full(m, None, dtype=object)
        ok = np.zeros(m, dtype=bool)
        if geometry is not None:
            given = np.asarray(list(geometry), dtype=object)
            ok = _lines(given)
            geoms[ok] = given[ok]
        su, sv = pu[~ok], pv[~ok]
        if su.size:
            ends = [np.stack([x[su], y[su]], axis=1), np.stack([x[sv], y[sv]], axis=1)]
            geoms[~ok] = shapely.linestrings(np.stack(ends, 1))
        fx, fy = _first_xy(geoms)
        rev = np.hypot(fx - x[pv], fy - y[pv]) < np.hypot(fx - x[pu], fy - y[pu])
        edges = gpd.GeoDataFrame(
            {
                "u": edge_index.get_level_values(0),
                "v": edge_index.get_level_values(1),
                "length": length,
            },
            geometry=gpd.GeoSeries(geoms, crs=crs),
            crs=crs,
        )
        edges.index = edge_index

        # internal order along a Hilbert curve
        order = np.argsort(_hilbert_keys(x, y), kind="stable").astype(np.int64)
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.arange(n, dtype=np.int64)
        iu = rank[pu] if m else np.zeros(0, dtype=np.int64)
        iv = rank[pv] if m else np.zeros(0, dtype=np.int64)

        loop = iu == iv
        loopc = np.bincount(iu[loop], minlength=n).astype(np.float64)
        loopl = np.bincount(iu[loop], weights=length[loop], minlength=n).astype(np.float64)
        a = np.minimum(iu, iv)[~loop]
        b = np.maximum(iu, iv)[~loop]
        ln = length[~loop]
        pair = a * np.int64(max(n, 1)) + b
        uniq, inv = np.unique(pair, return_inverse=True)
        ns = uniq.size
        smin = np.full(ns, np.inf)
        np.minimum.at(smin, inv, ln)
        scount = np.bincount(inv, minlength=ns).astype(np.float64)
        slen = np.bincount(inv, weights=ln, minlength=ns).astype(np.float64)
        is_min = ln == smin[inv]
        n_min = np.bincount(inv[is_min], minlength=ns).astype(np.float64)
        edge_sid = np.full(m, -1, dtype=np.int64)
        edge_sid[~loop] = inv
        share = np.zeros(m, dtype=np.float64)
        share[np.flatnonzero(~loop)[is_min]] = 1.0 / n_min[inv[is_min]]
        sa = uniq // max(n, 1)
        sb = uniq % max(n, 1)
        rows = np.concatenate([sa, sb])
        cols = np.concatenate([sb, sa])
        sids = np.concatenate([np.arange(ns), np.arange(ns)])
        srt = np.lexsort((cols, rows))
        rows, cols, sids = rows[srt], cols[srt], sids[srt]
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
        return cls(
            node_ids=node_ids,
            x=_readonly(np.asarray(x, dtype=np.float64)),
            y=_readonly(np.asarray(y, dtype=np.float64)),
            crs=crs,
            _edges=edges,
            _order=_readonly(order),
            _rank=_readonly(rank),
            _edge_iu=_readonly(iu.astype(np.int64)),
            _edge_iv=_readonly(iv.astype(np.int64)),
            _edge_sid=_readonly(edge_sid),
            _edge_share=_readonly(share),
            _edge_rev=_readonly(rev),
            _indptr=_readonly(indptr),
            _nbr=_readonly(cols.astype(np.int64)),
            _wt=_readonly(smin[sids]),
            _sid=_readonly(sids.astype(np.int64)),
            _scount=_readonly(scount[sids]),
            _slen=_readonly(slen[sids]),
            _loopc=_readonly(loopc),
            _loopl=_readonly(loopl),
            _xs=_readonly(np.asarray(x, dtype=np.float64)[order]),
            _ys=_readonly(np.asarray(y, dtype=np.float64)[order]),
            _n_simple=int(ns),
        )

    # -- what-if changes ---------------------------------------------------------------

    def with_links(
        self,
        lines: gpd.GeoSeries | gpd.GeoDataFrame | Sequence[shapely.LineString],
        *,
        snap_distance: float = 10.0,
        node_tolerance: float = 1.0,
    ) -> tuple[StreetNetwork, NetworkChange]:
        """Return a new network with pedestrian links added, and a record of the change.

        Each end of a link joins the network at the nearest point of the nearest segment
        within ``snap_distance`` metres: at that segment's end node when the point is within
        ``node_tolerance`` metres of it (along the segment), else by splitting the segment
        there (the pieces share its length in proportion to their geometry). Ends farther
        than ``snap_distance`` from every segment become new dead-end nodes (ends of links
        within ``node_tolerance`` of each other share one). Links do not join each other or
        streets where they merely cross. A link's length is the length of its geometry, with
        its ends moved to the nodes they join.

        Parameters
        ----------
        lines
            LineStrings in the network's CRS.
        snap_distance
            How far (metres) a link end may be from the network to join it.
        node_tolerance
            Ends this close (metres) to a node join the node rather than split a segment.

        Returns
        -------
        tuple[StreetNetwork, NetworkChange]
            The new network (old nodes first, in order, then the new ones with negative
            integer ids, or ``"new-<i>"`` for string ids) and the change, for
            :func:`centrality_update` and :func:`accessibility_update`.

        Examples
        --------
        A diagonal link across the south-west block of a 3x3 grid of 100 m blocks, from node
        0 to the middle of the segment 4-5:

        >>> from shapely import LineString
        >>> net = grid  # a 3x3 grid of 100 m blocks, nodes 0-8 by rows (conftest.py)
        >>> new, change = net.with_links([LineString([(0, 0), (150, 100)])])
        >>> new
        StreetNetwork(10 nodes, 14 edges, crs='EPSG:3067')
        >>> change.added_nodes.tolist(), change.removed_edges.tolist()
        ([-1], [(4, 5, 0)])
        >>> change.added_edges.tolist()
        [(4, -1, 0), (-1, 5, 0), (0, -1, 0)]
        """
        from rakennettu.network.whatif import _with_links

        return _with_links(self, lines, snap_distance, node_tolerance)

    def __setstate__(self, state: dict[str, Any]) -> None:
        # unpickled arrays come back writeable: restore immutability (and the one numba
        # specialisation, compiled for read-only arrays)
        for key, value in state.items():
            if isinstance(value, np.ndarray):
                value.flags.writeable = False
            object.__setattr__(self, key, value)

    # -- views -------------------------------------------------------------------------

    def __repr__(self) -> str:
        epsg = self.crs.to_epsg()
        crs = f"EPSG:{epsg}" if epsg else self.crs.name
        return f"StreetNetwork({self.n_nodes} nodes, {self.n_edges} edges, crs={crs!r})"

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_ids)

    @property
    def n_edges(self) -> int:
        """Number of street segments (parallel edges and self-loops included)."""
        return len(self._edges)

    @property
    def edges(self) -> gpd.GeoDataFrame:
        """The edges (a copy): ``u``, ``v``, ``length`` (metres), geometry; index (u, v, key)."""
        return self._edges.copy()

    @property
    def nodes(self) -> gpd.GeoDataFrame:
        """The nodes: ``x``, ``y`` and Point geometry, indexed by :attr:`node_ids`."""
        return gpd.GeoDataFrame(
            {"x": self.x, "y": self.y},
            geometry=gpd.points_from_xy(self.x, self.y),
            index=self.node_ids.copy(),
            crs=self.crs,
        )

    @cached_property
    def csr(self) -> Any:
        """Shortest-edge lengths (metres) as a ``scipy.sparse.csr_array`` in node order."""
        from scipy.sparse import csr_array

        rows = np.repeat(np.arange(self.n_nodes), np.diff(self._indptr))
        mat = csr_array(
            (np.asarray(self._wt), (self._order[rows], self._order[self._nbr])),
            shape=(self.n_nodes, self.n_nodes),
        )
        return mat

    @property
    def _graph(self) -> Graph:
        """The adjacency for the compiled kernels (internal order)."""
        return Graph(self._indptr, self._nbr, self._wt)

    @property
    def _segments(self) -> Segments:
        """Segment counts and lengths, self-loops and coordinates for centrality."""
        return Segments(
            self._sid, self._scount, self._slen, self._loopc, self._loopl, self._xs, self._ys
        )

    @cached_property
    def _tree(self) -> shapely.STRtree:
        return shapely.STRtree(self._edges.geometry.to_numpy())

    def _internal(self, ids: Iterable[Hashable]) -> I64:
        """Return the internal indices of the node ids present in this network."""
        pos = self.node_ids.get_indexer(pd.Index(list(ids), tupleize_cols=False))
        return np.asarray(self._rank[pos[pos >= 0]], dtype=np.int64)

    def _within(self, seeds: I64, offsets: F64, cutoff: float) -> tuple[I64, F64]:
        """Return internal nodes within ``cutoff`` metres of the nearest seed, and distances."""
        if seeds.size == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        with interrupt.shielded():  # one search from every seed at once: short
            return _multi_source_kernel(
                self._graph,
                np.ascontiguousarray(seeds, dtype=np.int64),
                np.ascontiguousarray(offsets, dtype=np.float64),
                float(cutoff),
            )


def _first_xy(lines: npt.NDArray[Any]) -> tuple[F64, F64]:
    """The first vertex of each line (NaN for an empty one), without making points.

    Examples
    --------
    >>> _first_xy(np.array([shapely.LineString([(0, 1), (2, 3)]), shapely.LineString(),
    ...                     shapely.LineString([(5, 6), (7, 8)])], dtype=object))
    (array([ 0., nan,  5.]), array([ 1., nan,  6.]))
    """
    fx, fy = np.full(len(lines), np.nan), np.full(len(lines), np.nan)
    xy, which = shapely.get_coordinates(lines, return_index=True)
    if len(which):
        first = np.r_[0, np.flatnonzero(which[1:] != which[:-1]) + 1]
        fx[which[first]], fy[which[first]] = xy[first, 0], xy[first, 1]
    return fx, fy


def _lines(given: npt.NDArray[Any]) -> B8:
    """True where an item is a non-empty LineString (or LinearRing).

    Examples
    --------
    >>> _lines(np.array([shapely.LineString([(0, 0), (1, 0)]), None, shapely.Point(0, 0),
    ...                  shapely.LineString(), "text"], dtype=object)).tolist()
    [True, False, False, False, False]
    """
    try:  # by type id: LineString 1, LinearRing 2 (a LineString too); None is -1
        return np.isin(shapely.get_type_id(given), (1, 2)) & ~shapely.is_empty(given)
    except TypeError:  # items that are not geometries at all
        return np.array(
            [isinstance(g, shapely.LineString) and not g.is_empty for g in given], dtype=bool
        )


_WORK = 1 << 23  # node visits x radii per kernel call: a signal is seen between two calls


def _per_call(net: StreetNetwork, radius: float, n_radii: int) -> int:
    """Searches per kernel call: about ``_WORK`` node visits (times radii) in all.

    A search reaches about the nodes within ``radius`` of its source, estimated from the
    network's density over its bounding box; a call has at least enough searches to
    outweigh its setup (arrays the size of the network). It depends on the network and the
    radius only, so results do not change from run to run.

    Examples
    --------
    >>> import networkx as nx
    >>> g = nx.MultiGraph(crs="EPSG:3067")
    >>> g.add_nodes_from([(0, {"x": 0.0, "y": 0.0}), (1, {"x": 100.0, "y": 100.0})])
    >>> _ = g.add_edge(0, 1, length=150.0)
    >>> _per_call(StreetNetwork.from_graph(g), 800.0, 3)  # 2**23 / (2 nodes * (3 + 2))
    838860
    """
    n = max(1, net.n_nodes)
    xs, ys = net._xs, net._ys
    area = max(float(np.ptp(xs) * np.ptp(ys)), 1.0) if n > 1 else 1.0
    reach = max(1.0, n * min(1.0, math.pi * radius**2 / area))
    return int(max(8.0 * n / reach, _WORK / (reach * (n_radii + 2)), 1.0))


def _undirected_keep(node_ids: pd.Index, us: list[Hashable], vs: list[Hashable], length: F64) -> B8:
    """In a directed graph, keep max(forward, backward) edges per node pair and length."""
    pu = node_ids.get_indexer(pd.Index(us, tupleize_cols=False))
    pv = node_ids.get_indexer(pd.Index(vs, tupleize_cols=False))
    frame = pd.DataFrame(
        {
            "a": np.minimum(pu, pv),
            "b": np.maximum(pu, pv),
            "mm": np.round(np.nan_to_num(length, nan=-1.0) * 1000).astype(np.int64),
            "fwd": pu <= pv,
        }
    )
    frame["rank"] = frame.groupby(["a", "b", "mm", "fwd"], sort=False).cumcount()
    group = frame.groupby(["a", "b", "mm"], sort=False)["fwd"]
    nfwd = group.transform("sum").to_numpy(dtype=np.int64)
    nbwd = group.transform("size").to_numpy(dtype=np.int64) - nfwd
    need = np.maximum(nfwd, nbwd)
    rank = frame["rank"].to_numpy()
    # keep the forward ones first, then backward ones beyond the forward count
    keep = np.where(frame["fwd"].to_numpy(), rank < need, rank < need - nfwd)
    return np.asarray(keep, dtype=bool)
