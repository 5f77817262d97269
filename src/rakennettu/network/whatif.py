"""What-if changes: links added to a network and the incremental updates they need."""

from __future__ import annotations

import logging
import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from rakennettu.network._util import (
    _TOTAL,
    B8,
    F64,
    I64,
    _check_betas,
    _check_radii,
    _new_node_ids,
)
from rakennettu.network.access import (
    _access_columns,
    _access_frame,
    _access_frame_data,
    _access_values,
    _as_geoseries,
    _category_labels,
    _check_access_args,
    _check_same_crs,
    _Points,
    _resolve_points,
    _snap_to_edges,
)
from rakennettu.network.centrality import (
    _centrality_columns,
    _centrality_frame,
    _closeness_values,
    _run_centrality,
)
from rakennettu.network.graph import StreetNetwork

logger = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------
# what-if changes
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NetworkChange:
    """What a what-if change did to a network (see :meth:`StreetNetwork.with_links`).

    Attributes
    ----------
    added_nodes
        Ids of the nodes the change created (link ends, split points).
    removed_edges
        ``(u, v, key)`` of the old segments that were split.
    added_edges
        ``(u, v, key)`` of the new segments: split pieces and links.
    """

    added_nodes: pd.Index
    removed_edges: pd.MultiIndex
    added_edges: pd.MultiIndex

    @property
    def touched_nodes(self) -> pd.Index:
        """Ids of every end node of a removed or added segment, and the added nodes."""
        parts = [
            self.added_nodes,
            self.removed_edges.get_level_values(0),
            self.removed_edges.get_level_values(1),
            self.added_edges.get_level_values(0),
            self.added_edges.get_level_values(1),
        ]
        values: list[Hashable] = []
        for p in parts:
            values.extend(p.tolist())
        return pd.Index(list(dict.fromkeys(values)), tupleize_cols=False)

    @property
    def is_empty(self) -> bool:
        """True when nothing changed."""
        return not (len(self.added_nodes) or len(self.removed_edges) or len(self.added_edges))


class UpdateResult(NamedTuple):
    """An updated result table and the nodes whose rows were recomputed."""

    table: pd.DataFrame
    recomputed: pd.Index


class _Ends(NamedTuple):
    """Where each link end joins: ``("node", id)``, ``("split", None)`` or ``("free", j)``."""

    ref: list[tuple[str, Any]]
    splits: dict[int, list[tuple[float, int]]]  # edge -> (t along its geometry, end)
    free_xy: list[tuple[float, float]]  # new dead-end nodes


def _link_geometries(net: StreetNetwork, lines: Any) -> list[shapely.LineString]:
    if isinstance(lines, gpd.GeoDataFrame | gpd.GeoSeries):
        geo = _as_geoseries(lines, "lines")
        _check_same_crs(net, geo.crs, "links")
        geoms = list(geo.to_numpy())
    else:
        geoms = list(lines)
    bad = [i for i, g in enumerate(geoms) if not isinstance(g, shapely.LineString) or g.is_empty]
    if bad:
        raise TypeError(f"links must be non-empty LineStrings; items {bad[:5]} are not")
    return geoms


def _free_end(free_xy: list[tuple[float, float]], p: shapely.Point, tol: float) -> int:
    """The dead-end node within ``tol`` of ``p``, or a new one."""
    for j, (fx, fy) in enumerate(free_xy):
        if math.hypot(p.x - fx, p.y - fy) <= tol:
            return j
    free_xy.append((p.x, p.y))
    return len(free_xy) - 1


def _place_ends(net: StreetNetwork, ends: Any, snap_distance: float, tol: float) -> _Ends:
    """Join each end to a node, a split of its nearest segment, or a new dead end."""
    epos, _, along, along_geom = _snap_to_edges(net, ends, snap_distance)
    lengths = net._edges["length"].to_numpy()
    eu = net._edges["u"].to_numpy()
    ev = net._edges["v"].to_numpy()
    out = _Ends([], {}, [])
    for i in range(len(ends)):
        e = int(epos[i])
        if e >= 0 and along[i] <= tol:
            out.ref.append(("node", eu[e]))
        elif e >= 0 and lengths[e] - along[i] <= tol:
            out.ref.append(("node", ev[e]))
        elif e >= 0:
            out.splits.setdefault(e, []).append((float(along_geom[i]), i))
            out.ref.append(("split", None))
        else:
            out.ref.append(("free", _free_end(out.free_xy, ends[i], tol)))
    return out


def _merge_splits(
    splits: dict[int, list[tuple[float, int]]], tol: float
) -> tuple[list[tuple[int, float]], dict[int, int]]:
    """Split points, merged along each edge within ``tol``; and the split of each end."""
    split_nodes: list[tuple[int, float]] = []  # (edge, t along the u-oriented geometry)
    end_split: dict[int, int] = {}
    for e in sorted(splits):
        for t, i in sorted(splits[e]):
            if not (split_nodes and split_nodes[-1][0] == e and t - split_nodes[-1][1] <= tol):
                split_nodes.append((e, t))
            end_split[i] = len(split_nodes) - 1
    return split_nodes, end_split


def _oriented(net: StreetNetwork, e: int) -> shapely.LineString:
    """Edge ``e``'s geometry running from its ``u`` end."""
    g = net._edges.geometry.to_numpy()[e]
    return shapely.reverse(g) if net._edge_rev[e] else g


class _NewEdges:
    """Edges being added: ids, keys unique per node pair, lengths (m) and geometries."""

    def __init__(self, net: StreetNetwork) -> None:
        self.net = net
        self.u: list[Hashable] = []
        self.v: list[Hashable] = []
        self.k: list[int] = []
        self.length: list[float] = []
        self.geom: list[Any] = []
        self._used: dict[frozenset[Hashable], int] = {}

    def _next_key(self, a: Hashable, b: Hashable) -> int:
        pair = frozenset((a, b))
        if pair not in self._used:
            eu = self.net._edges["u"].to_numpy()
            ev = self.net._edges["v"].to_numpy()
            same = ((eu == a) & (ev == b)) | ((eu == b) & (ev == a))
            keys = self.net._edges.index.get_level_values(2)[same]
            self._used[pair] = int(max(keys)) + 1 if len(keys) else 0
        key = self._used[pair]
        self._used[pair] = key + 1
        return key

    def add(self, a: Hashable, b: Hashable, length: float, geom: Any) -> None:
        self.u.append(a)
        self.v.append(b)
        self.k.append(self._next_key(a, b))
        self.length.append(length)
        self.geom.append(geom)

    def index(self) -> pd.MultiIndex:
        return pd.MultiIndex.from_arrays(
            [pd.Index(x, tupleize_cols=False) for x in (self.u, self.v, self.k)],
            names=self.net._edges.index.names,
        )


def _split_edges(
    net: StreetNetwork, split_nodes: list[tuple[int, float]], split_ids: list[Hashable],
    new: _NewEdges,
) -> list[int]:  # fmt: skip
    """Add the pieces of every split segment (lengths in proportion); return the removed."""
    from shapely.ops import substring

    lengths = net._edges["length"].to_numpy()
    eu = net._edges["u"].to_numpy()
    ev = net._edges["v"].to_numpy()
    by_edge: dict[int, list[int]] = {}
    for j, (e, _) in enumerate(split_nodes):
        by_edge.setdefault(e, []).append(j)
    for e, js in by_edge.items():
        g = _oriented(net, e)
        glen = g.length
        ts = [0.0] + [split_nodes[j][1] for j in js] + [glen]
        ids = [eu[e]] + [split_ids[j] for j in js] + [ev[e]]
        for a in range(len(ids) - 1):
            piece = substring(g, ts[a], ts[a + 1])
            if not isinstance(piece, shapely.LineString):
                piece = shapely.LineString([piece.coords[0], piece.coords[0]])
            length = float(lengths[e]) * (ts[a + 1] - ts[a]) / glen if glen > 0 else 0.0
            new.add(ids[a], ids[a + 1], length, piece)
    return list(by_edge)


def _with_links(
    net: StreetNetwork,
    lines: Any,
    snap_distance: float,
    node_tolerance: float,
) -> tuple[StreetNetwork, NetworkChange]:
    geoms = _link_geometries(net, lines)
    if not (snap_distance >= 0 and node_tolerance >= 0):
        raise ValueError("snap_distance and node_tolerance must be distances in metres >= 0")
    k = len(geoms)
    ends = np.array([shapely.Point(g.coords[j]) for g in geoms for j in (0, -1)], dtype=object)
    placed = _place_ends(net, ends, snap_distance, node_tolerance)
    split_nodes, end_split = _merge_splits(placed.splits, node_tolerance)
    new_ids = _new_node_ids(net.node_ids, len(split_nodes) + len(placed.free_xy))
    split_ids = new_ids[: len(split_nodes)]
    free_ids = new_ids[len(split_nodes) :]
    points = [_oriented(net, e).interpolate(t) for e, t in split_nodes]
    all_x = np.concatenate([net.x, [p.x for p in points], [x for x, _ in placed.free_xy]])
    all_y = np.concatenate([net.y, [p.y for p in points], [y for _, y in placed.free_xy]])
    node_ids = net.node_ids.append(pd.Index(new_ids, tupleize_cols=False))
    node_ids.name = net.node_ids.name
    id_pos = {nid: i for i, nid in enumerate(node_ids)}

    def end_id(i: int) -> Hashable:
        kind, ref = placed.ref[i]
        if kind == "node":
            return ref
        return split_ids[end_split[i]] if kind == "split" else free_ids[ref]

    new = _NewEdges(net)
    removed = _split_edges(net, split_nodes, split_ids, new)
    for i, g in enumerate(geoms):
        ea, eb = end_id(2 * i), end_id(2 * i + 1)
        if ea == eb:
            logger.info("link %d starts and ends at the same node %r and was skipped", i, ea)
            continue
        coords = list(g.coords)
        coords[0] = (all_x[id_pos[ea]], all_y[id_pos[ea]])
        coords[-1] = (all_x[id_pos[eb]], all_y[id_pos[eb]])
        line = shapely.LineString(coords)
        new.add(ea, eb, float(line.length), line)
    keep = np.ones(net.n_edges, dtype=bool)
    keep[removed] = False
    edges = net._edges
    added_index = new.index()
    new_net = StreetNetwork._build(
        node_ids,
        all_x,
        all_y,
        net.crs,
        edges.index[keep].append(added_index),
        np.concatenate([edges["length"].to_numpy()[keep], np.asarray(new.length, dtype=float)]),
        list(edges.geometry.to_numpy()[keep]) + new.geom,
    )
    change = NetworkChange(
        added_nodes=pd.Index(new_ids, tupleize_cols=False, name=net.node_ids.name),
        removed_edges=edges.index[~keep],
        added_edges=added_index,
    )
    logger.info("added %d links: %d new nodes, %d segments split", k, len(new_ids), len(removed))
    return new_net, change


def _check_previous_index(previous: pd.DataFrame, old_net: StreetNetwork) -> None:
    if not previous.index.equals(old_net.node_ids):
        raise ValueError(
            "previous must be indexed like old_net.node_ids (the table computed on old_net)"
        )


def _affected(
    old_net: StreetNetwork,
    new_net: StreetNetwork,
    node_ids: pd.Index,
    cutoff: float,
    old_extra: tuple[I64, F64] | None = None,
    new_extra: tuple[I64, F64] | None = None,
) -> B8:
    """Mask over ``new_net``'s nodes within ``cutoff`` of the seeds, in either network."""
    mask = np.zeros(new_net.n_nodes, dtype=bool)
    for net, extra in ((old_net, old_extra), (new_net, new_extra)):
        seeds = net._internal(node_ids)
        offsets = np.zeros(seeds.size)
        if extra is not None:
            seeds = np.concatenate([seeds, extra[0]])
            offsets = np.concatenate([offsets, extra[1]])
        reached, _ = net._within(seeds, offsets, cutoff)
        ids = net.node_ids[net._order[reached]]
        pos = new_net.node_ids.get_indexer(ids)
        mask[pos[pos >= 0]] = True
    return mask


def centrality_update(
    old_net: StreetNetwork,
    new_net: StreetNetwork,
    change: NetworkChange,
    previous: pd.DataFrame,
    radii: float | Iterable[float],
    *,
    beta: float | Sequence[float] | None = None,
    progress: bool = False,
) -> UpdateResult:
    """Update a :func:`centrality` table after a change, recomputing only what can change.

    A source's search to the largest radius ``R`` differs between the two networks only if
    it reaches an end of a changed segment within ``R`` in one of them; only those
    sources are recomputed. Betweenness becomes ``previous - contributions(old network,
    those sources) + contributions(new network, those sources)``.

    Parameters
    ----------
    old_net, new_net
        The networks before and after, e.g. from :meth:`StreetNetwork.with_links`.
    change
        The record of the change.
    previous
        ``centrality(old_net, radii, beta=beta)`` (with or without betweenness).
    radii, beta
        As given to :func:`centrality` for ``previous``.
    progress
        Show a progress bar.

    Returns
    -------
    UpdateResult
        ``table``: equal to ``centrality(new_net, radii, beta=beta)`` up to float
        rounding, indexed like ``new_net.node_ids``; ``recomputed``: ids of the sources
        searched again.

    Examples
    --------
    >>> from shapely import LineString
    >>> from rakennettu.network import centrality
    >>> net = grid  # a 3x3 grid of 100 m blocks, nodes 0-8 by rows (conftest.py)
    >>> before = centrality(net, [100])
    >>> new, change = net.with_links([LineString([(200, 200), (260, 200)])])
    >>> upd = centrality_update(net, new, change, before, [100])
    >>> upd.recomputed.tolist()
    [5, 7, 8, -1]
    >>> upd.table.loc[[8, -1], ("node_count", 100)].tolist()
    [3, 1]
    """
    rad, labels = _check_radii(radii)
    betas = _check_betas(beta, rad)
    _check_previous_index(previous, old_net)
    do_bc = "betweenness" in previous.columns.get_level_values(0)
    columns = _centrality_columns(labels, do_bc)
    if not previous.columns.equals(columns):
        raise ValueError(
            "previous has other columns than centrality(old_net, radii) makes; pass the same "
            f"radii ({labels})"
        )
    cutoff = float(rad[-1])
    mask = _affected(old_net, new_net, change.touched_nodes, cutoff)
    new_pos = np.flatnonzero(mask)
    src_new = np.sort(new_net._rank[new_pos])
    run_new = _run_centrality(
        new_net, src_new, rad, betas, do_bc=do_bc, do_edges=False, progress=progress
    )
    prev_pos = old_net.node_ids.get_indexer(new_net.node_ids)
    exists = prev_pos >= 0
    # rows of the new table in new_net's node order
    values: dict[str, F64] = {}
    fresh = _closeness_values(run_new.per_source)
    # run_new.per_source is in the order of src_new (internal ids of new_net)
    row_of = new_net._order[src_new]  # original positions in new_net
    for measure in columns.get_level_values(0).unique():
        old_vals = previous[measure].to_numpy(dtype=np.float64)
        arr = np.zeros((new_net.n_nodes, rad.size))
        arr[exists] = old_vals[prev_pos[exists]]
        if measure in fresh:
            arr[row_of] = fresh[measure]
        values[measure] = arr
    if do_bc:
        src_old = old_net._internal(new_net.node_ids[new_pos])
        run_old = _run_centrality(
            old_net, np.sort(src_old), rad, betas, do_bc=True, do_edges=False, progress=progress
        )
        for measure, old_c, new_c in (
            ("betweenness", run_old.bc, run_new.bc),
            ("betweenness_beta", run_old.bcb, run_new.bcb),
        ):
            arr = values[measure]
            arr[exists] -= old_c[old_net._rank][prev_pos[exists]]
            arr += new_c[new_net._rank]
    table = _centrality_frame(
        new_net.node_ids,
        {k: v for k, v in values.items() if not k.startswith("betweenness")},
        values.get("betweenness"),
        values.get("betweenness_beta"),
        labels,
    )
    recomputed = new_net.node_ids[new_pos]
    logger.info("centrality update: %d of %d sources recomputed", len(new_pos), new_net.n_nodes)
    return UpdateResult(table, recomputed)


def _signature(net: StreetNetwork, pts: _Points) -> pd.DataFrame:
    """Describe each attached point by what its reach depends on."""
    ei = net._edges.index
    return pd.DataFrame(
        {
            "u": np.asarray(ei.get_level_values(0).take(pts.edge), dtype=object),
            "v": np.asarray(ei.get_level_values(1).take(pts.edge), dtype=object),
            "k": np.asarray(ei.get_level_values(2).take(pts.edge), dtype=object),
            "ou": pts.ou,
            "ov": pts.ov,
            "w": pts.weight,
            "c": pts.category.to_numpy(dtype=object),
        },
        index=pts.ids,
    )


def _changed_points(old: pd.DataFrame, new: pd.DataFrame) -> tuple[pd.Index, pd.Index]:
    """Ids of points gone from ``old`` (removed or changed) and come in ``new``."""
    common = old.index.intersection(new.index)
    a = old.loc[common]
    b = new.loc[common]
    same = ((a == b) | (a.isna() & b.isna())).all(axis=1)
    changed = common[~same.to_numpy()]
    gone = old.index.difference(new.index).append(changed)
    come = new.index.difference(old.index).append(changed)
    return gone, come


def _point_seeds(pts: _Points, ids: pd.Index) -> tuple[I64, F64]:
    where = pts.ids.get_indexer(ids)
    where = where[where >= 0]
    return (
        np.concatenate([pts.pu[where], pts.pv[where]]),
        np.concatenate([pts.ou[where], pts.ov[where]]),
    )


def _sorted_labels(labels: Iterable[Hashable]) -> list[Hashable]:
    unique = list(dict.fromkeys(labels))
    try:
        return sorted(unique)  # type: ignore[type-var]
    except TypeError:
        return unique


def accessibility_update(
    old_net: StreetNetwork,
    new_net: StreetNetwork,
    change: NetworkChange | None,
    previous: pd.DataFrame,
    old_attached: pd.DataFrame,
    new_attached: pd.DataFrame,
    *,
    radii: float | Iterable[float],
    categories: str | pd.Series | None = None,
    weights: str | pd.Series | None = None,
    beta: float | Sequence[float] | None = None,
    include_snap: bool = True,
    max_nearest: float | None = None,
) -> UpdateResult:
    """Update an :func:`accessibility` table after a network change and/or new points.

    Points are matched by index between ``old_attached`` and ``new_attached``; a point
    counts as changed when its segment, position, snapping distance, weight or category
    differs. Only nodes within reach (the largest radius or ``max_nearest``) of a changed
    segment's end, or of a removed, added or changed point, in the old or the new network,
    are recomputed. When only points were added to an unchanged network, their
    contributions are added to ``previous`` (``nearest`` takes the minimum), so only
    nodes within reach of the new points are touched.

    Parameters
    ----------
    old_net, new_net
        The networks before and after (the same object when only points change).
    change
        The record of the network change, or None when ``new_net is old_net``.
    previous
        ``accessibility(old_net, old_attached, ...)`` with the same options.
    old_attached, new_attached
        The points attached to each network (re-attach after a network change: points on
        split segments move to the pieces).
    radii, categories, weights, beta, include_snap, max_nearest
        As for :func:`accessibility`; ``categories`` and ``weights`` are column names
        present in both frames, or Series indexed by point id covering both.

    Returns
    -------
    UpdateResult
        ``table``: equal to ``accessibility(new_net, new_attached, ...)`` up to float
        rounding (columns of categories that lost all their points are kept, at zero);
        ``recomputed``: ids of the nodes whose rows were touched.

    Examples
    --------
    A new shop at the north-east corner of a 3x3 grid of 100 m blocks:

    >>> from shapely import Point
    >>> from rakennettu.network import accessibility, attach_points
    >>> net = grid  # a 3x3 grid of 100 m blocks, nodes 0-8 by rows (conftest.py)
    >>> old = attach_points(net, gpd.GeoSeries([Point(0, 0)], crs="EPSG:3067"), max_distance=5)
    >>> before = accessibility(net, old, radii=[100])
    >>> pts = gpd.GeoSeries([Point(0, 0), Point(200, 200)], crs="EPSG:3067")
    >>> new = attach_points(net, pts, max_distance=5)
    >>> upd = accessibility_update(net, net, None, before, old, new, radii=[100])
    >>> upd.recomputed.tolist()
    [5, 7, 8]
    >>> upd.table.loc[[0, 5, 8], ("total", "count", 100)].tolist()
    [1, 1, 1]
    """
    spec = _check_access_args(radii, beta, max_nearest)
    _check_previous_index(previous, old_net)
    if change is None and new_net is not old_net:
        raise ValueError("pass the NetworkChange from with_links when new_net is not old_net")
    old_pts = _resolve_points(old_net, old_attached, categories, weights, include_snap)
    new_pts = _resolve_points(new_net, new_attached, categories, weights, include_snap)
    gone, come = _changed_points(_signature(old_net, old_pts), _signature(new_net, new_pts))
    upd = _updated_columns(
        _AccessBefore(old_net, previous, old_pts), new_net, change, new_pts, gone, come,
        spec, categories is not None,
    )  # fmt: skip
    _, labels, _, _, near_label = spec
    table = _access_frame(new_net.node_ids, upd.data, upd.cats, labels, near_label)
    logger.info("accessibility update: %d of %d nodes recomputed", upd.rows.size, new_net.n_nodes)
    return UpdateResult(table, new_net.node_ids[upd.rows])


class _AccessBefore(NamedTuple):
    """An accessibility table on a network and its points, resolved once for many updates.

    ``values`` is ``previous`` as floats (None: taken from ``previous`` when needed).
    """

    net: StreetNetwork
    previous: pd.DataFrame
    pts: _Points
    values: F64 | None = None


class _Updated(NamedTuple):
    """Columns of an updated accessibility table (in the new network's node order)."""

    data: dict[tuple[Hashable, str, float | int], F64]
    rows: I64  # positions of the recomputed nodes in the new network
    cats: list[Hashable]  # the categories of the table, the total last


def _updated_columns(
    before: _AccessBefore,
    new_net: StreetNetwork,
    change: NetworkChange | None,
    new_pts: _Points,
    gone: pd.Index,
    come: pd.Index,
    spec: tuple[F64, list[float | int], F64, float, float | int],
    categories_given: bool,
    want: Iterable[tuple[Hashable, str, float | int]] | None = None,
) -> _Updated:
    """The work of :func:`accessibility_update`: the columns ``want`` (None: all).

    ``gone`` and ``come`` are the ids of the points removed or changed, and added or
    changed; ``spec`` is what :func:`_check_access_args` returns.
    """
    old_net, previous, old_pts, values = before
    rad, labels, betas, cutoff, near_label = spec
    net_changed = change is not None and not change.is_empty
    prev_cats = [c for c in previous.columns.get_level_values(0).unique() if c != _TOTAL]
    new_cats = _category_labels(new_pts) if categories_given else []
    cats = [*_sorted_labels([*prev_cats, *new_cats]), _TOTAL]
    columns = _access_columns(cats, labels, near_label)
    made = set(columns)
    missing = [c for c in previous.columns if c not in made]
    if len(missing):
        raise ValueError(
            f"previous has columns {list(missing[:3])} that these options do not make; pass "
            "the radii, categories and max_nearest used for previous"
        )
    wanted = made if want is None else set(want)
    keep = [c for c in columns if c in wanted]
    n = new_net.n_nodes
    prev_pos = old_net.node_ids.get_indexer(new_net.node_ids)
    exists = prev_pos >= 0
    if values is None:
        values = previous.to_numpy(dtype=np.float64)
    table_data = _previous_columns(previous.columns, values, keep, n, prev_pos[exists], exists)

    if not net_changed and len(gone) == 0:
        # only additions: add their contributions
        sel = new_pts.ids.get_indexer(come)
        runs, reached = _access_values(
            new_net, new_pts, rad, betas, cutoff, np.ones(n, dtype=bool), sel=sel
        )
        add = _access_frame_data(runs, categories_given, labels, near_label, n, rad.size)
        rank = new_net._rank
        for col, vals in add.items():
            if col not in table_data:
                continue
            if col[1] == "nearest":
                table_data[col] = np.fmin(table_data[col], vals[rank])
            else:
                table_data[col] = table_data[col] + vals[rank]
        rows = np.flatnonzero(reached[rank])
    else:
        touched = change.touched_nodes if change is not None else pd.Index([])
        mask = _affected(
            old_net,
            new_net,
            touched,
            cutoff,
            old_extra=_point_seeds(old_pts, gone),
            new_extra=_point_seeds(new_pts, come),
        )
        rows = np.flatnonzero(mask)
        a_int = new_net._rank[rows]
        reached_int, d = new_net._within(a_int, np.zeros(a_int.size), cutoff)
        dist = np.full(n, np.inf)
        dist[reached_int] = d
        to_point = np.minimum(dist[new_pts.pu] + new_pts.ou, dist[new_pts.pv] + new_pts.ov)
        sel = np.flatnonzero(to_point <= cutoff)
        mask_int = np.zeros(n, dtype=bool)
        mask_int[a_int] = True
        runs, _ = _access_values(new_net, new_pts, rad, betas, cutoff, mask_int, sel=sel)
        fresh = _access_frame_data(runs, categories_given, labels, near_label, n, rad.size)
        for col in keep:
            if col in fresh:
                vals = fresh[col][new_net._rank]
            else:
                vals = np.full(n, np.nan) if col[1] == "nearest" else np.zeros(n)
            table_data[col][rows] = vals[rows]
    return _Updated(table_data, rows, cats)


def _previous_columns(
    columns: pd.MultiIndex,
    values: F64,
    keep: list[tuple[Hashable, str, float | int]],
    n: int,
    source: I64,
    exists: B8,
) -> dict[tuple[Hashable, str, float | int], F64]:
    """The columns ``keep`` of the previous table on the new nodes.

    ``values`` holds the previous table as floats (its columns ``columns``); the i-th
    new node that ``exists`` takes its row ``source[i]``.
    """
    where = {c: j for j, c in enumerate(columns)}
    out: dict[tuple[Hashable, str, float | int], F64] = {}
    for col in keep:
        arr = np.full(n, np.nan) if col[1] == "nearest" else np.zeros(n)
        j = where.get(col)
        if j is not None:
            arr[exists] = values[source, j]
        out[col] = arr
    return out
