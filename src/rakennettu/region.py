"""A region in tiles: the street network's measures computed tile by tile on Dask workers.

A region's walking network is split into square *core* tiles; every street node belongs
to exactly one core. Each tile's work runs on the *buffered* tile: the nodes within a
margin of its core, and the segments between them. The tile computes, for the searches
from its core nodes only (:func:`rakennettu.network.centrality_with_edges`' kernel with
a subset of sources):

* the closeness measures of its core nodes (each depends on that node's own search);
* the betweenness *contributions* of those searches to every node and segment they
  reach (Brandes' dependencies are summed over sources, so the sum over the tiles' core
  sources is the sum over all sources).

Why the buffered tile is exact. A search from ``s`` stops at the largest radius ``R``;
every node ``w`` it settles has a path from ``s`` no longer than ``R``. Along the path,
the straight line between the ends of each segment is at most ``k`` times its length,
where ``k`` is the largest ratio of chord to length over the network's segments (1 for
lengths measured along the geometry in the town CRS; a little more where lengths are
geodesic and the CRS scale exceeds 1). So ``w`` lies within ``k R`` of ``s`` in a
straight line, inside the core box grown by ``k R``, and so does every segment between
two settled nodes. The search on the buffered tile therefore settles the same nodes
along the same shortest paths, with the same path counts, as on the whole network: the
same distances (a minimum of the same path sums), closeness and dependencies. The margin
is ``k R + 1`` metres, the metre for rounding in the comparisons.

What differs from one machine: betweenness is a sum over sources, added in another order
(tile by tile), so it agrees to float rounding (relative 1e-12), as the one-machine run
itself does between thread counts. The closeness measures are sums over one search each,
in the order the search settles nodes, which ties in distance may change: also to
rounding. Everything else (loading, form, tessellation, accessibility, cultural layer,
scores, ranks, leverage) runs on the stitched whole in the workflow, so town-wide
normalisation and ranks are those of one machine.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from rakennettu.errors import NetworkError
from rakennettu.network import StreetNetwork
from rakennettu.network._util import _check_betas, _check_radii, _ordered_columns
from rakennettu.network.centrality import (
    _centrality_frame,
    _closeness_values,
    _edge_frame,
    _run_centrality,
)

__all__ = ["Tile", "exact_margin", "tile_network", "tiled_centrality", "tiles"]

log = logging.getLogger(__name__)

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Tile:
    """One tile: its core box (metres, town CRS) and the ids of its core nodes."""

    box: Box
    core: pd.Index


def tiles(net: StreetNetwork, size: float) -> list[Tile]:
    """Split the network's nodes into square core tiles of side ``size`` metres.

    Tiles start at the nodes' lower left corner; a node on a tile's right or upper edge
    belongs to the next tile, so every node is in exactly one core. Empty tiles are left
    out.

    Examples
    --------
    >>> [t.core.tolist() for t in tiles(grid, 150)]  # 3x3 grid of 100 m blocks, nodes 0-8
    [[0, 1, 3, 4], [2, 5], [6, 7], [8]]
    """
    if not size > 0:
        raise ValueError(f"tile size must be positive metres, not {size}")
    x, y = np.asarray(net.x), np.asarray(net.y)
    if x.size == 0:
        return []
    x0, y0 = float(x.min()), float(y.min())
    ix = np.floor((x - x0) / size).astype(np.int64)
    iy = np.floor((y - y0) / size).astype(np.int64)
    keys, which = np.unique(np.stack([iy, ix], axis=1), axis=0, return_inverse=True)
    out = []
    for k, (j, i) in enumerate(keys.tolist()):
        box = (x0 + i * size, y0 + j * size, x0 + (i + 1) * size, y0 + (j + 1) * size)
        out.append(Tile(box, net.node_ids[which.ravel() == k]))
    return out


def exact_margin(net: StreetNetwork, radius: float) -> float:
    """The margin around a core tile within which every search to ``radius`` stays (m).

    ``k * radius + 1``, ``k`` the largest ratio of a segment's chord (straight line
    between its end nodes) to its length, at least 1 (see the module docstring).

    Raises
    ------
    NetworkError
        A segment of zero length between two distinct points: no margin bounds a search.

    Examples
    --------
    >>> exact_margin(grid, 400)
    401.0
    """
    e = net.edges
    pos_u = net.node_ids.get_indexer(e.index.get_level_values(0))
    pos_v = net.node_ids.get_indexer(e.index.get_level_values(1))
    x, y = np.asarray(net.x), np.asarray(net.y)
    chord = np.hypot(x[pos_u] - x[pos_v], y[pos_u] - y[pos_v])
    length = e["length"].to_numpy(dtype=np.float64)
    if ((length <= 0) & (chord > 0)).any():
        raise NetworkError(
            "a street segment of zero length joins two distinct points; tiles cannot be "
            "buffered exactly (compute lengths in metres, e.g. edges.length)"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(length > 0, chord / length, 0.0)
    k = max(1.0, float(ratio.max(initial=0.0)))
    return k * float(radius) + 1.0


def tile_network(net: StreetNetwork, tile: Tile, margin: float) -> StreetNetwork:
    """The buffered tile: nodes within ``margin`` of the core box, segments between them.

    Examples
    --------
    >>> sub = tile_network(grid, tiles(grid, 150)[3], 101)
    >>> sorted(sub.node_ids.tolist()), sub.n_edges
    ([4, 5, 7, 8], 4)
    """
    x, y = np.asarray(net.x), np.asarray(net.y)
    xmin, ymin, xmax, ymax = tile.box
    keep = (x >= xmin - margin) & (x <= xmax + margin)
    keep &= (y >= ymin - margin) & (y <= ymax + margin)
    nodes = net.nodes[keep]
    edges = net.edges
    inside = edges.index.get_level_values(0).isin(nodes.index)
    inside &= edges.index.get_level_values(1).isin(nodes.index)
    return StreetNetwork.from_gdfs(nodes, edges[inside])


@dataclass(frozen=True)
class _TilePart:
    """What one tile sends back: closeness of its core, contributions to betweenness."""

    core: pd.Index
    closeness: dict[str, np.ndarray]  # measure -> (n_core, n_radii)
    node_ids: pd.Index
    bc: np.ndarray  # (n_sub, n_radii), in node_ids order
    bcb: np.ndarray
    edges: pd.DataFrame  # segment contributions, index (u, v, key)


def tile_part(
    sub: StreetNetwork,
    core: pd.Index,
    radii: Sequence[float],
    beta: Sequence[float] | None = None,
    numba_threads: int | None = None,
) -> _TilePart:
    """The searches from ``core`` on the buffered tile ``sub`` (runs on a worker)."""
    if numba_threads:
        import numba

        most = int(getattr(numba.config, "NUMBA_NUM_THREADS", numba_threads))
        numba.set_num_threads(max(1, min(numba_threads, most)))
    rad, labels = _check_radii(radii)
    betas = _check_betas(beta, rad)
    sources = np.sort(sub._internal(core))
    run = _run_centrality(sub, sources, rad, betas, do_bc=True, do_edges=True)
    ids = sub.node_ids[sub._order[sources]]
    rank = sub._rank
    return _TilePart(
        core=ids,
        closeness=_closeness_values(run.per_source),
        node_ids=sub.node_ids,
        bc=run.bc[rank],
        bcb=run.bcb[rank],
        edges=_edge_frame(sub, run.ebc, run.ebcb, labels),
    )


def _stitch(
    net: StreetNetwork, parts: Iterable[_TilePart], labels: list[float | int]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Put the tiles' parts together into the tables of ``centrality_with_edges``."""
    nr = len(labels)
    closeness: dict[str, np.ndarray] = {}
    bc, bcb = np.zeros((net.n_nodes, nr)), np.zeros((net.n_nodes, nr))
    columns = _ordered_columns(
        [(m, r) for m in ("betweenness", "betweenness_beta") for r in labels],
        ["measure", "radius_m"],
    )
    ebc = np.zeros((net.n_edges, 2 * nr))
    seen = np.zeros(net.n_nodes, dtype=bool)
    for part in parts:
        rows = net.node_ids.get_indexer(part.core)
        seen[rows] = True
        for k, v in part.closeness.items():
            closeness.setdefault(k, np.full((net.n_nodes, nr), np.nan))[rows] = v
        pos = net.node_ids.get_indexer(part.node_ids)
        bc[pos] += part.bc
        bcb[pos] += part.bcb
        epos = net.edges.index.get_indexer(part.edges.index)
        ebc[epos] += part.edges[columns].to_numpy()
    if not seen.all():
        raise NetworkError(f"{int((~seen).sum())} street nodes are in no tile's core (a bug)")
    nodes = _centrality_frame(net.node_ids, closeness, bc, bcb, labels)
    edges = pd.DataFrame(ebc, index=net.edges.index.copy(), columns=columns)
    return nodes, edges


def tiled_centrality(
    net: StreetNetwork,
    radii: float | Iterable[float],
    *,
    tile_size: float,
    client: Any = None,
    numba_threads: int | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`~rakennettu.network.centrality_with_edges`, computed tile by tile.

    Parameters
    ----------
    net
        The whole street network.
    radii
        Network radii in metres.
    tile_size
        Side of the core tiles, metres.
    client
        A ``distributed.Client``: each tile is one task. ``None``: the tiles run one after
        the other in this process (the same code, for tests and small areas).
    numba_threads
        Threads of the compiled kernels on each worker (default: the worker's setting).

    Returns
    -------
    (DataFrame, DataFrame)
        The node and segment tables, equal to ``centrality_with_edges(net, radii)`` to
        float rounding (see the module docstring).

    Examples
    --------
    >>> from rakennettu.network import centrality_with_edges
    >>> n1, e1 = tiled_centrality(grid, [200], tile_size=150)
    >>> n2, e2 = centrality_with_edges(grid, [200])
    >>> bool(np.allclose(n1, n2, rtol=1e-12) and np.allclose(e1, e2, rtol=1e-12))
    True
    """
    rad, labels = _check_radii(radii)
    margin = exact_margin(net, float(rad.max(initial=0.0)))
    todo = tiles(net, tile_size)
    log.info(
        "%d tiles of %g m, each buffered by %.0f m, for %d street nodes",
        len(todo),
        tile_size,
        margin,
        net.n_nodes,
    )
    subs = ((tile_network(net, t, margin), t.core) for t in todo)
    radii_list = [float(r) for r in rad]
    if client is None:
        parts: Iterable[_TilePart] = (
            tile_part(sub, core, radii_list, None, numba_threads) for sub, core in subs
        )
        return _stitch(net, parts, labels)
    futures = [
        client.submit(tile_part, sub, core, radii_list, None, numba_threads, pure=False)
        for sub, core in subs
    ]
    return _stitch(net, (f.result() for f in futures), labels)


def _in_worker() -> bool:
    """Whether this code runs as a task on a Dask worker (a town of ``rakennettu batch``)."""
    try:
        from distributed import get_worker

        get_worker()
    except (ImportError, ValueError):
        return False
    return True


@contextlib.contextmanager
def region_client(scheduler: str | None, workers: int | None) -> Iterator[tuple[Any, int]]:
    """A Dask client for the tiles, and kernel threads per worker (0: the worker's own).

    As ``rakennettu batch`` starts one: a local cluster of ``workers`` processes (default
    2), or the scheduler at an address. Inside a Dask task (a town of a batch, whose
    worker processes may not start processes of their own), with neither given, the tiles
    go to the batch's own cluster: the town's task leaves its thread to them meanwhile
    (``distributed.worker_client``).
    """
    if scheduler is None and workers is None and _in_worker():
        from distributed import worker_client

        with worker_client() as client:
            yield client, 0
        return
    from rakennettu.batch import _client

    n = workers or 2
    with _client(scheduler, n) as (client, _):
        threads = None if scheduler is not None else max(1, (os.cpu_count() or 1) // n)
        yield client, threads or 0
