"""Compiled (numba) bounded Dijkstra kernels: centrality, accessibility, catchments, reach.

Every kernel takes the adjacency as one :class:`Graph` (CSR arrays in the network's
internal order) and its other inputs as a few small named tuples of arrays, so a call
reads ``kernel(graph, points, radii, ...)`` rather than thirty positional arrays. A search
settles nodes with :func:`_settle` from a pre-seeded 4-ary heap, up to a cutoff, and
:func:`_reset` puts back only the nodes it touched.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from rakennettu.network._util import (
    _EDGES,
    _FAR,
    _HARM,
    _LEN,
    _N_ROWS,
    _NODES,
    _STRAIGHT,
    _STRAIGHT_N,
    B8,
    F64,
    I64,
)


class Graph(NamedTuple):
    """Shortest-edge adjacency (CSR) in internal node order; lengths in metres."""

    indptr: I64
    nbr: I64
    wt: F64


class Segments(NamedTuple):
    """What centrality needs beyond the adjacency.

    Per adjacency entry: the simple segment id, the number and summed length of the
    parallel segments it stands for; per node: self-loops and coordinates.
    """

    sid: I64
    scount: F64
    slen: F64
    loopc: F64
    loopl: F64
    xs: F64
    ys: F64


class _Work(NamedTuple):
    """One thread's buffers for a centrality search."""

    dist: F64
    pos: I64
    sigma: F64
    order: I64
    binv: I64
    delta: F64
    deltab: F64
    ebw: F64
    pstart: I64
    pred: I64
    hk: F64
    hv: I64


class _Between(NamedTuple):
    """One thread's betweenness sums: nodes (n * nr) and simple segments (n_simple * nr)."""

    bc: F64
    bcb: F64
    ebc: F64
    ebcb: F64


class Seeds(NamedTuple):
    """Points on segments: internal end nodes and the walk (metres) to each end, weights."""

    pu: I64
    pv: I64
    ou: F64
    ov: F64
    weight: F64


class _AccessOut(NamedTuple):
    """One thread's accessibility sums (n * nr) and nearest distances (n)."""

    cnt: F64
    wsum: F64
    dec: F64
    near: F64


class Items(NamedTuple):
    """Items attached to nodes for catchments, CSR by internal node.

    ``item_ptr[v]:item_ptr[v+1]`` index ``item_idx`` (the item) and ``item_off`` (walk from
    ``v`` to it, metres); item ``i`` adds ``vals[vptr[i]:vptr[i+1]]`` to the channels from
    ``ch0[i]``; ``medv[i]`` is the value to take the median of (NaN: none).
    """

    item_ptr: I64
    item_idx: I64
    item_off: F64
    vals: F64
    vptr: I64
    ch0: I64
    medv: F64


# ---------------------------------------------------------------------------------------
# the heap and the bounded search
# ---------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _heap_push(hk: F64, hv: I64, size: int, key: float, val: int) -> int:  # pragma: no cover
    """Add ``(key, val)`` to the 4-ary heap; return the new size."""
    i = size
    while i > 0:
        p = (i - 1) >> 2
        if hk[p] <= key:
            break
        hk[i] = hk[p]
        hv[i] = hv[p]
        i = p
    hk[i] = key
    hv[i] = val
    return size + 1


@njit(cache=True, nogil=True)
def _heap_pop(hk: F64, hv: I64, size: int) -> int:  # pragma: no cover
    """Remove the top of the 4-ary heap (read ``hk[0]``, ``hv[0]`` first); return the size."""
    size -= 1
    key = hk[size]
    val = hv[size]
    i = 0
    while True:
        c = 4 * i + 1
        if c >= size:
            break
        best = c
        bk = hk[c]
        last = min(c + 4, size)
        for j in range(c + 1, last):
            if hk[j] < bk:
                bk = hk[j]
                best = j
        if bk >= key:
            break
        hk[i] = bk
        hv[i] = hv[best]
        i = best
    hk[i] = key
    hv[i] = val
    return size


@njit(cache=True, nogil=True)
def _seed(dist: F64, hk: F64, hv: I64, size: int, v: int, d: float, cutoff: float) -> int:
    """Put node ``v`` on the heap at ``d`` when within ``cutoff`` and nearer than before."""
    if d <= cutoff and d < dist[v]:
        dist[v] = d
        size = _heap_push(hk, hv, size, d, v)
    return size


@njit(cache=True, nogil=True)
def _settle(  # pragma: no cover
    g: Graph, cutoff: float, dist: F64, pos: I64, order: I64, hk: F64, hv: I64, size: int
) -> int:
    """Settle every node within ``cutoff`` of the seeded heap; return how many (``order``)."""
    ns = 0
    while size > 0:
        d = hk[0]
        v = hv[0]
        size = _heap_pop(hk, hv, size)
        if pos[v] >= 0:
            continue
        pos[v] = ns
        order[ns] = v
        ns += 1
        for e in range(g.indptr[v], g.indptr[v + 1]):
            w = g.nbr[e]
            if pos[w] < 0:
                size = _seed(dist, hk, hv, size, w, d + g.wt[e], cutoff)
    return ns


@njit(cache=True, nogil=True)
def _reset(order: I64, ns: int, dist: F64, pos: I64) -> None:  # pragma: no cover
    for i in range(ns):
        v = order[i]
        dist[v] = np.inf
        pos[v] = -1


# ---------------------------------------------------------------------------------------
# centrality: closeness sums and Brandes accumulation
# ---------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _centrality_settle(  # pragma: no cover
    s: int, g: Graph, seg: Segments, radii: F64, w: _Work, row: F64
) -> tuple[int, int]:
    """Bounded Dijkstra from ``s`` with path counts, predecessors and closeness sums."""
    nr = radii.shape[0]
    rmax = radii[nr - 1]
    sx = seg.xs[s]
    sy = seg.ys[s]
    dist, pos, sigma = w.dist, w.pos, w.sigma
    dist[s] = 0.0
    w.hk[0] = 0.0
    w.hv[0] = s
    size = 1
    ns = 0
    npred = 0
    w.pstart[0] = 0
    while size > 0:
        d = w.hk[0]
        v = w.hv[0]
        size = _heap_pop(w.hk, w.hv, size)
        if pos[v] >= 0:
            continue
        pos[v] = ns
        w.order[ns] = v
        ns += 1
        k = 0
        while d > radii[k]:
            k += 1
        w.binv[v] = k
        sg = 0.0
        ec = seg.loopc[v]
        el = seg.loopl[v]
        for e in range(g.indptr[v], g.indptr[v + 1]):
            u = g.nbr[e]
            if pos[u] >= 0:
                # u was settled before v: the segment v-u lies within d; u may be a predecessor
                ec += seg.scount[e]
                el += seg.slen[e]
                if dist[u] + g.wt[e] == d:
                    sg += sigma[u]
                    w.pred[npred] = e
                    npred += 1
            else:
                size = _seed(dist, w.hk, w.hv, size, u, d + g.wt[e], rmax)
        w.pstart[ns] = npred
        if v == s:
            sg = 1.0
        sigma[v] = sg
        row[_EDGES, k] += ec
        row[_LEN, k] += el
        if v != s:
            row[_NODES, k] += 1.0
            row[_FAR, k] += d
            if d > 0.0:
                row[_HARM, k] += 1.0 / d
                row[_STRAIGHT, k] += math.hypot(seg.xs[v] - sx, seg.ys[v] - sy) / d
                row[_STRAIGHT_N, k] += 1.0
    for m in range(_N_ROWS):
        for r in range(1, nr):
            row[m, r] += row[m, r - 1]
    return ns, npred


@njit(cache=True, nogil=True)
def _brandes(  # pragma: no cover
    ns: int,
    g: Graph,
    seg: Segments,
    radii: F64,
    betas: F64,
    do_edges: bool,
    w: _Work,
    out: _Between,
) -> None:
    """Accumulate dependencies back along the settled order into node and segment sums."""
    nr = radii.shape[0]
    delta, deltab = w.delta, w.deltab
    for i in range(ns - 1, 0, -1):
        x = w.order[i]
        kw = w.binv[x]
        dw = w.dist[x]
        sw = w.sigma[x]
        bw = x * nr
        for r in range(kw, nr):
            w.ebw[r] = math.exp(-betas[r] * dw)
        for q in range(w.pstart[i], w.pstart[i + 1]):
            e = w.pred[q]
            v = g.nbr[e]
            c = w.sigma[v] / sw
            bv = v * nr
            for r in range(kw, nr):
                t = c * (1.0 + delta[bw + r])
                tb = c * (w.ebw[r] + deltab[bw + r])
                delta[bv + r] += t
                deltab[bv + r] += tb
                if do_edges:
                    j = seg.sid[e] * nr + r
                    out.ebc[j] += t
                    out.ebcb[j] += tb
        for r in range(kw, nr):
            out.bc[bw + r] += delta[bw + r]
            out.bcb[bw + r] += deltab[bw + r]


@njit(cache=True, nogil=True)
def _centrality_source(  # pragma: no cover
    s: int,
    g: Graph,
    seg: Segments,
    radii: F64,
    betas: F64,
    do_bc: bool,
    do_edges: bool,
    w: _Work,
    row: F64,
    out: _Between,
) -> int:
    """One bounded Dijkstra from ``s`` with closeness sums and Brandes accumulation."""
    nr = radii.shape[0]
    ns, _ = _centrality_settle(s, g, seg, radii, w, row)
    if do_bc:
        _brandes(ns, g, seg, radii, betas, do_edges, w, out)
    _reset(w.order, ns, w.dist, w.pos)
    if do_bc:
        for i in range(ns):
            v = w.order[i]
            for r in range(nr):
                w.delta[v * nr + r] = 0.0
                w.deltab[v * nr + r] = 0.0
    return ns


#: Betweenness (and accessibility) is summed per block of sources (points), and the
#: blocks' sums are added in block order, so the sums do not depend on the number of
#: threads (the last bits would, were they summed per thread). At most this many blocks
#: (and threads) per kernel call, and their sums take at most about ``_SUM_BYTES``.
_SUM_BLOCKS = 16
_SUM_BYTES = 1 << 26


@njit(cache=True, nogil=True)
def _sum_blocks(n_items: int, block_bytes: int) -> int:  # pragma: no cover
    """Blocks of the sources: at least 4 sources and 2 blocks' sums within the budget."""
    most = max(2, _SUM_BYTES // max(1, block_bytes))
    return max(1, min(_SUM_BLOCKS, most, n_items // 4))


@njit(cache=True, nogil=True)
def _in_block_order(parts: F64) -> F64:  # pragma: no cover
    """The blocks' sums (rows) added one after another, in block order."""
    total = parts[0].copy()
    for b in range(1, parts.shape[0]):
        total += parts[b]
    return total


@njit(cache=True, parallel=True, nogil=True)
def _centrality_kernel(  # pragma: no cover
    g: Graph,
    seg: Segments,
    sources: I64,
    radii: F64,
    betas: F64,
    do_bc: bool,
    do_edges: bool,
    n_simple: int,
    nt: int,
) -> tuple[F64, F64, F64, F64, F64]:
    """Closeness rows per source, node and segment betweenness summed over the sources.

    The sources are cut into a number of blocks that does not depend on ``nt`` (see
    ``_SUM_BLOCKS``); the ``nt`` threads take the blocks in turn.
    """
    n = g.indptr.shape[0] - 1
    nr = radii.shape[0]
    nsrc = sources.shape[0]
    out = np.zeros((nsrc, _N_ROWS, nr))
    nb = n * nr if do_bc else 1
    ne = n_simple * nr if do_edges else 1
    nblk = _sum_blocks(nsrc, 8 * (2 * nb + 2 * ne))
    nw = max(1, min(nt, nblk))
    cap = g.nbr.shape[0] + 2
    dist = np.full((nw, n), np.inf)
    pos = np.full((nw, n), -1, dtype=np.int64)
    sigma = np.zeros((nw, n))
    order = np.zeros((nw, n), dtype=np.int64)
    binv = np.zeros((nw, n), dtype=np.int64)
    hk = np.empty((nw, cap))
    hv = np.empty((nw, cap), dtype=np.int64)
    ebw = np.zeros((nw, nr))
    pstart = np.zeros((nw, n + 1), dtype=np.int64)
    pred = np.zeros((nw, g.nbr.shape[0] + 1), dtype=np.int64)
    delta = np.zeros((nw, nb))
    deltab = np.zeros((nw, nb))
    bc = np.zeros((nblk, nb))
    bcb = np.zeros((nblk, nb))
    ebc = np.zeros((nblk, ne))
    ebcb = np.zeros((nblk, ne))
    for tid in prange(nw):
        w = _Work(dist[tid], pos[tid], sigma[tid], order[tid], binv[tid], delta[tid],
                  deltab[tid], ebw[tid], pstart[tid], pred[tid], hk[tid], hv[tid])  # fmt: skip
        for blk in range(tid, nblk, nw):
            acc = _Between(bc[blk], bcb[blk], ebc[blk], ebcb[blk])
            for i in range(blk * nsrc // nblk, (blk + 1) * nsrc // nblk):
                _centrality_source(sources[i], g, seg, radii, betas, do_bc, do_edges, w,
                                   out[i], acc)  # fmt: skip
    return (
        out, _in_block_order(bc), _in_block_order(bcb), _in_block_order(ebc),
        _in_block_order(ebcb),
    )  # fmt: skip


# ---------------------------------------------------------------------------------------
# accessibility: searches from points outward
# ---------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _access_source(  # pragma: no cover
    i: int,
    pts: Seeds,
    g: Graph,
    radii: F64,
    betas: F64,
    cutoff: float,
    mask: B8,
    dist: F64,
    pos: I64,
    order: I64,
    hk: F64,
    hv: I64,
    out: _AccessOut,
) -> int:
    """One bounded Dijkstra from point ``i`` seeded at both ends of its segment."""
    nr = radii.shape[0]
    size = _seed(dist, hk, hv, 0, pts.pu[i], pts.ou[i], cutoff)
    size = _seed(dist, hk, hv, size, pts.pv[i], pts.ov[i], cutoff)
    ns = _settle(g, cutoff, dist, pos, order, hk, hv, size)
    weight = pts.weight[i]
    for a in range(ns):
        v = order[a]
        if not mask[v]:
            continue
        d = dist[v]
        if d < out.near[v]:
            out.near[v] = d
        k = 0
        while k < nr and d > radii[k]:
            k += 1
        if k < nr:
            b = v * nr
            out.cnt[b + k] += 1.0
            out.wsum[b + k] += weight
            for r in range(k, nr):
                out.dec[b + r] += weight * math.exp(-betas[r] * d)
    _reset(order, ns, dist, pos)
    return ns


@njit(cache=True, parallel=True, nogil=True)
def _access_kernel(  # pragma: no cover
    g: Graph, pts: Seeds, radii: F64, betas: F64, cutoff: float, mask: B8, nt: int
) -> tuple[F64, F64, F64, F64]:
    """Counts, weight sums (per node and radius band), decayed sums and nearest distance.

    Summed per block of points, the blocks added in block order (as for centrality), so
    the sums do not depend on ``nt``.
    """
    n = g.indptr.shape[0] - 1
    nr = radii.shape[0]
    npts = pts.pu.shape[0]
    nblk = _sum_blocks(npts, 8 * (3 * n * nr + n))
    nw = max(1, min(nt, nblk))
    cap = g.nbr.shape[0] + 4
    dist = np.full((nw, n), np.inf)
    pos = np.full((nw, n), -1, dtype=np.int64)
    order = np.zeros((nw, n), dtype=np.int64)
    hk = np.empty((nw, cap))
    hv = np.empty((nw, cap), dtype=np.int64)
    cnt = np.zeros((nblk, n * nr))
    wsum = np.zeros((nblk, n * nr))
    dec = np.zeros((nblk, n * nr))
    near = np.full((nblk, n), np.inf)
    for tid in prange(nw):
        for blk in range(tid, nblk, nw):
            out = _AccessOut(cnt[blk], wsum[blk], dec[blk], near[blk])
            for i in range(blk * npts // nblk, (blk + 1) * npts // nblk):
                _access_source(i, pts, g, radii, betas, cutoff, mask, dist[tid], pos[tid],
                               order[tid], hk[tid], hv[tid], out)  # fmt: skip
    nearest = near[0].copy()
    for t in range(1, nblk):
        for v in range(n):
            if near[t, v] < nearest[v]:
                nearest[v] = near[t, v]
    return _in_block_order(cnt), _in_block_order(wsum), _in_block_order(dec), nearest


# ---------------------------------------------------------------------------------------
# reach of a set of seeds (nearest, what-if), and catchments of items around each node
# ---------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _multi_source_kernel(
    g: Graph, seeds: I64, offsets: F64, cutoff: float
) -> tuple[I64, F64]:  # pragma: no cover
    """Nodes within ``cutoff`` of the nearest seed, and their distances."""
    n = g.indptr.shape[0] - 1
    dist = np.full(n, np.inf)
    pos = np.full(n, -1, dtype=np.int64)
    order = np.zeros(n, dtype=np.int64)
    hk = np.empty(g.nbr.shape[0] + seeds.shape[0] + 2)
    hv = np.empty(g.nbr.shape[0] + seeds.shape[0] + 2, dtype=np.int64)
    size = 0
    for i in range(seeds.shape[0]):
        size = _seed(dist, hk, hv, size, seeds[i], offsets[i], cutoff)
    ns = _settle(g, cutoff, dist, pos, order, hk, hv, size)
    reached = order[:ns].copy()
    return reached, dist[reached]


@njit(cache=True, nogil=True)
def _catchment_items(  # pragma: no cover
    ns: int, order: I64, dist: F64, items: Items, bd: F64, touched: I64
) -> int:
    """The items reached from the settled nodes at their nearest distance (``bd``)."""
    nt = 0
    for a in range(ns):
        v = order[a]
        for j in range(items.item_ptr[v], items.item_ptr[v + 1]):
            it = items.item_idx[j]
            dd = dist[v] + items.item_off[j]
            if dd < bd[it]:
                if bd[it] == np.inf:
                    touched[nt] = it
                    nt += 1
                bd[it] = dd
    return nt


@njit(cache=True, nogil=True)
def _medians(nm: int, md: F64, mv: F64, radii: F64, tmp: F64, med: F64) -> None:
    """Median of ``mv[:nm]`` over the items with ``md <= R``, per radius (NaN: none)."""
    for k in range(radii.shape[0]):
        cnt = 0
        for a in range(nm):
            if md[a] <= radii[k]:
                tmp[cnt] = mv[a]
                cnt += 1
        if cnt > 0:
            med[k] = np.median(tmp[:cnt])


@njit(cache=True, parallel=True, nogil=True)
def _catchment_kernel(  # pragma: no cover
    g: Graph, items: Items, nch: int, radii: F64, nblocks: int, first: int, last: int
) -> tuple[F64, F64]:
    """Per source node and radius: sums of the items' values within R, median of medv.

    Sources are the nodes ``first`` to ``last - 1`` (the rows of the results). One
    bounded Dijkstra per source; an item attached at both ends of a segment is at
    ``min(dist[u] + off_u, dist[v] + off_v)``.
    """
    n = g.indptr.shape[0] - 1
    nr = radii.shape[0]
    n_items = items.medv.shape[0]
    rmax = radii[nr - 1]
    n_src = last - first
    sums = np.zeros((n_src, nr, nch))
    med = np.full((n_src, nr), np.nan)
    cap = g.nbr.shape[0] + 2
    for blk in prange(nblocks):
        dist = np.full(n, np.inf)
        pos = np.full(n, -1, dtype=np.int64)
        order = np.empty(n, dtype=np.int64)
        bd = np.full(n_items, np.inf)
        touched = np.empty(n_items, dtype=np.int64)
        md = np.empty(n_items)
        mv = np.empty(n_items)
        tmp = np.empty(n_items)
        hk = np.empty(cap)
        hv = np.empty(cap, dtype=np.int64)
        for s in range(first + blk * n_src // nblocks, first + (blk + 1) * n_src // nblocks):
            size = _seed(dist, hk, hv, 0, s, 0.0, rmax)
            ns = _settle(g, rmax, dist, pos, order, hk, hv, size)
            nt = _catchment_items(ns, order, dist, items, bd, touched)
            nm = 0
            for a in range(nt):
                it = touched[a]
                dd = bd[it]
                bd[it] = np.inf
                if dd > rmax:
                    continue
                k = 0
                while dd > radii[k]:
                    k += 1
                c0 = items.ch0[it]
                for q in range(items.vptr[it], items.vptr[it + 1]):
                    sums[s - first, k, c0 + q - items.vptr[it]] += items.vals[q]
                if math.isfinite(items.medv[it]):
                    md[nm] = dd
                    mv[nm] = items.medv[it]
                    nm += 1
            for k in range(1, nr):
                for c in range(nch):
                    sums[s - first, k, c] += sums[s - first, k - 1, c]
            if nm > 0:
                _medians(nm, md, mv, radii, tmp, med[s - first])
            _reset(order, ns, dist, pos)
    return sums, med
