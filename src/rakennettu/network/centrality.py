"""Local closeness and betweenness at several radii (centrality, edge_betweenness)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import numba
import numpy as np
import pandas as pd

from rakennettu._timing import progress_bar
from rakennettu.network._util import (
    _EDGES,
    _FAR,
    _HARM,
    _LEN,
    _N_ROWS,
    _NODES,
    _STRAIGHT,
    _STRAIGHT_N,
    CENTRALITY_MEASURES,
    F64,
    I64,
    _check_betas,
    _check_radii,
    _ordered_columns,
)
from rakennettu.network.graph import StreetNetwork
from rakennettu.network.kernels import _centrality_kernel

# ---------------------------------------------------------------------------------------
# centrality
# ---------------------------------------------------------------------------------------


class _CentralityRun(NamedTuple):
    per_source: F64  # (n_sources, _N_ROWS, n_radii), cumulative over radii
    bc: F64  # (n, n_radii), internal node order, unordered pairs
    bcb: F64
    ebc: F64  # (n_simple, n_radii)
    ebcb: F64


def _run_centrality(
    net: StreetNetwork,
    sources: I64,
    radii: F64,
    betas: F64,
    *,
    do_bc: bool,
    do_edges: bool,
    progress: bool = False,
) -> _CentralityRun:
    n, nr = net.n_nodes, radii.size
    if progress and sources.size:
        batches = np.array_split(sources, min(100, max(1, sources.size // 256)))
    else:
        batches = [sources]
    per_source = []
    bc = np.zeros(n * nr) if do_bc else np.zeros(0)
    bcb = np.zeros(n * nr) if do_bc else np.zeros(0)
    ebc = np.zeros(net._n_simple * nr) if do_edges else np.zeros(0)
    ebcb = np.zeros(net._n_simple * nr) if do_edges else np.zeros(0)
    what = "street betweenness" if do_edges and not do_bc else "node centrality"
    bar = (
        progress_bar(total=int(sources.size), desc=what, unit="node", show=True)
        if len(batches) > 1
        else None
    )
    for batch in batches:
        if batch.size == 0:
            continue
        o, b1, b2, e1, e2 = _centrality_kernel(
            net._graph,
            net._segments,
            np.ascontiguousarray(batch, dtype=np.int64),
            radii,
            betas,
            do_bc,
            do_edges,
            net._n_simple,
            numba.get_num_threads(),
        )
        per_source.append(o)
        if do_bc:
            bc += b1
            bcb += b2
        if do_edges:
            ebc += e1
            ebcb += e2
        if bar is not None:
            bar.update(int(batch.size))
    if bar is not None:
        bar.close()
    out = np.concatenate(per_source) if per_source else np.zeros((0, _N_ROWS, nr))
    # each unordered pair was counted from both ends
    return _CentralityRun(
        out,
        bc.reshape(-1, nr) / 2 if do_bc else bc,
        bcb.reshape(-1, nr) / 2 if do_bc else bcb,
        ebc.reshape(-1, nr) / 2 if do_edges else ebc,
        ebcb.reshape(-1, nr) / 2 if do_edges else ebcb,
    )


def _closeness_values(per_source: F64) -> dict[str, F64]:
    """Turn the kernel's per-source sums into closeness measures (n_sources, n_radii)."""
    nodes = per_source[:, _NODES]
    far = per_source[:, _FAR]
    sn = per_source[:, _STRAIGHT_N]
    with np.errstate(divide="ignore", invalid="ignore"):
        hillier = np.where(far > 0, nodes**2 / np.where(far > 0, far, 1.0), np.nan)
        straight = np.where(sn > 0, per_source[:, _STRAIGHT] / np.where(sn > 0, sn, 1.0), np.nan)
    return {
        "harmonic": per_source[:, _HARM],
        "node_count": nodes,
        "edge_count": per_source[:, _EDGES],
        "street_length": per_source[:, _LEN],
        "farness": far,
        "closeness_hillier": hillier,
        "straightness": straight,
    }


def _centrality_columns(labels: list[float | int], betweenness: bool) -> pd.MultiIndex:
    measures = [m for m in CENTRALITY_MEASURES if betweenness or not m.startswith("betweenness")]
    return _ordered_columns([(m, r) for m in measures for r in labels], ["measure", "radius_m"])


def _centrality_frame(
    index: pd.Index,
    closeness: dict[str, F64],
    bc: F64 | None,
    bcb: F64 | None,
    labels: list[float | int],
) -> pd.DataFrame:
    """Assemble the result frame; every array is already in the order of ``index``."""
    columns = _centrality_columns(labels, bc is not None)
    data: dict[tuple[str, float | int], Any] = {}
    for measure in columns.get_level_values(0).unique():
        if measure == "betweenness":
            arr = bc
        elif measure == "betweenness_beta":
            arr = bcb
        else:
            arr = closeness[measure]
        assert arr is not None
        for j, label in enumerate(labels):
            col = arr[:, j]
            if measure in ("node_count", "edge_count"):
                col = np.rint(col).astype(np.int64)
            data[(measure, label)] = col
    frame = pd.DataFrame(data, index=index.copy())
    frame.columns = columns
    return frame


def centrality(
    net: StreetNetwork,
    radii: float | Iterable[float],
    *,
    beta: float | Sequence[float] | None = None,
    betweenness: bool = True,
    progress: bool = False,
) -> pd.DataFrame:
    """Local closeness and betweenness of every node at several radii.

    One Dijkstra search per source, to the largest radius; a node at distance ``d``
    counts for every radius ``R >= d``. The measures are defined in the module docstring:
    ``harmonic``, ``node_count``, ``edge_count``, ``street_length`` (metres),
    ``farness`` (metres), ``closeness_hillier``, ``betweenness``, ``betweenness_beta``,
    ``straightness``.

    Parameters
    ----------
    net
        The street network.
    radii
        Network radii in metres, e.g. ``[400, 800]``; columns come in ascending order.
    beta
        Decay rate per metre for ``betweenness_beta``: one value, one per radius (ascending
        radius), or None for ``4 / R``.
    betweenness
        Compute the two betweenness measures (about half the run time).
    progress
        Show a progress bar.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``net.node_ids``; columns a MultiIndex ``(measure, radius_m)``.

    Examples
    --------
    On a 3x3 grid of 100 m blocks, the centre reaches its 4 neighbours at 100 m and the
    4 corners at 200 m; at 200 m it lies on the only shortest path between 2 pairs of
    opposite neighbours and on 1 of the 2 between 4 pairs of adjacent ones (2 + 4 / 2):

    >>> net = grid  # a 3x3 grid of 100 m blocks, nodes 0-8 by rows (conftest.py)
    >>> c = centrality(net, [100, 200])
    >>> c.loc[4, "harmonic"].tolist()
    [0.04, 0.06]
    >>> c.loc[4, "node_count"].tolist()
    [4, 8]
    >>> c.loc[4, "betweenness"].tolist()
    [0.0, 4.0]
    """
    rad, labels = _check_radii(radii)
    betas = _check_betas(beta, rad)
    run = _run_centrality(
        net,
        np.arange(net.n_nodes, dtype=np.int64),
        rad,
        betas,
        do_bc=betweenness,
        do_edges=False,
        progress=progress,
    )
    return _node_frame(net, run, labels, betweenness)


def _node_frame(
    net: StreetNetwork, run: _CentralityRun, labels: list[float | int], betweenness: bool
) -> pd.DataFrame:
    rank = net._rank
    closeness = {k: v[rank] for k, v in _closeness_values(run.per_source).items()}
    return _centrality_frame(
        net.node_ids,
        closeness,
        run.bc[rank] if betweenness else None,
        run.bcb[rank] if betweenness else None,
        labels,
    )


def centrality_with_edges(
    net: StreetNetwork,
    radii: float | Iterable[float],
    *,
    beta: float | Sequence[float] | None = None,
    progress: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`centrality` and :func:`edge_betweenness` from one search per source.

    The Brandes accumulation gives node and segment betweenness at once, so this costs
    about as much as :func:`centrality` alone; the values are those of the two calls.

    Parameters
    ----------
    net
        The street network.
    radii
        Network radii in metres.
    beta
        Decay rate per metre for ``betweenness_beta`` (see :func:`centrality`).
    progress
        Show a progress bar.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        The node table of :func:`centrality` and the segment table of
        :func:`edge_betweenness`.

    Examples
    --------
    >>> nodes, edges = centrality_with_edges(grid, [200])
    >>> float(nodes.loc[4, ("betweenness", 200)]), float(edges["betweenness", 200].sum())
    (4.0, 40.0)
    """
    rad, labels = _check_radii(radii)
    betas = _check_betas(beta, rad)
    run = _run_centrality(
        net,
        np.arange(net.n_nodes, dtype=np.int64),
        rad,
        betas,
        do_bc=True,
        do_edges=True,
        progress=progress,
    )
    nodes = _node_frame(net, run, labels, True)
    return nodes, _edge_frame(net, run.ebc, run.ebcb, labels)


def edge_betweenness(
    net: StreetNetwork,
    radii: float | Iterable[float],
    *,
    beta: float | Sequence[float] | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Betweenness of every street segment, restricted to node pairs within each radius.

    For every unordered pair ``{s, t}`` with ``d(s, t) <= R``, each segment on a shortest
    ``s``-``t`` path gets the share of those paths using it. Among parallel segments, the
    shortest ones share their pair's value equally and longer ones get 0 (as
    ``nx.edge_betweenness_centrality`` on a MultiGraph); self-loops get 0. With ``R``
    beyond the diameter this equals ``nx.edge_betweenness_centrality(G, weight="length",
    normalized=False)``.

    Parameters
    ----------
    net
        The street network.
    radii
        Network radii in metres.
    beta
        Decay rate per metre for ``betweenness_beta`` (see :func:`centrality`).
    progress
        Show a progress bar.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``net.edges`` (``u``, ``v``, ``key``); columns ``(measure,
        radius_m)`` with measures ``betweenness`` and ``betweenness_beta``.

    Examples
    --------
    >>> G = grid_graph()  # a 3x3 grid of 100 m blocks, nodes 0-8 by rows (conftest.py)
    >>> eb = edge_betweenness(StreetNetwork.from_graph(G), [100])
    >>> eb["betweenness", 100].tolist() == [1.0] * 12
    True
    """
    rad, labels = _check_radii(radii)
    betas = _check_betas(beta, rad)
    run = _run_centrality(
        net,
        np.arange(net.n_nodes, dtype=np.int64),
        rad,
        betas,
        do_bc=True,
        do_edges=True,
        progress=progress,
    )
    return _edge_frame(net, run.ebc, run.ebcb, labels)


def _edge_frame(net: StreetNetwork, ebc: F64, ebcb: F64, labels: list[float | int]) -> pd.DataFrame:
    sid = net._edge_sid
    share = net._edge_share
    ok = sid >= 0
    data: dict[tuple[str, float | int], F64] = {}
    for measure, arr in (("betweenness", ebc), ("betweenness_beta", ebcb)):
        for j, label in enumerate(labels):
            col = np.zeros(net.n_edges)
            col[ok] = arr[sid[ok], j] * share[ok]
            data[(measure, label)] = col
    frame = pd.DataFrame(data, index=net._edges.index.copy())
    frame.columns = _ordered_columns(list(data), ["measure", "radius_m"])
    return frame
