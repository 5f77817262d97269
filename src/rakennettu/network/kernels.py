"""Compiled (numba) bounded Dijkstra kernels: centrality, accessibility, multi-source reach."""

from __future__ import annotations

import math

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

# ---------------------------------------------------------------------------------------
# compiled kernels
# ---------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _heap_push(hk: F64, hv: I64, size: int, key: float, val: int) -> int:  # pragma: no cover
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
def _centrality_source(  # pragma: no cover
    s: int,
    indptr: I64,
    nbr: I64,
    wt: F64,
    sid: I64,
    scount: F64,
    slen: F64,
    loopc: F64,
    loopl: F64,
    xs: F64,
    ys: F64,
    radii: F64,
    betas: F64,
    do_bc: bool,
    do_edges: bool,
    dist: F64,
    pos: I64,
    sigma: F64,
    order: I64,
    binv: I64,
    delta: F64,
    deltab: F64,
    ebw: F64,
    pstart: I64,
    pred: I64,
    hk: F64,
    hv: I64,
    row: F64,
    bc: F64,
    bcb: F64,
    ebc: F64,
    ebcb: F64,
) -> int:
    """One bounded Dijkstra from ``s`` with closeness sums and Brandes accumulation."""
    nr = radii.shape[0]
    rmax = radii[nr - 1]
    sx = xs[s]
    sy = ys[s]
    dist[s] = 0.0
    hk[0] = 0.0
    hv[0] = s
    size = 1
    ns = 0
    npred = 0
    pstart[0] = 0
    while size > 0:
        d = hk[0]
        v = hv[0]
        size = _heap_pop(hk, hv, size)
        if pos[v] >= 0:
            continue
        pos[v] = ns
        order[ns] = v
        ns += 1
        k = 0
        while d > radii[k]:
            k += 1
        binv[v] = k
        sg = 0.0
        ec = loopc[v]
        el = loopl[v]
        for e in range(indptr[v], indptr[v + 1]):
            w = nbr[e]
            if pos[w] >= 0:
                # w was settled before v: the segment v-w lies within d; w may be a predecessor
                ec += scount[e]
                el += slen[e]
                if dist[w] + wt[e] == d:
                    sg += sigma[w]
                    pred[npred] = e
                    npred += 1
            else:
                nd = d + wt[e]
                if nd <= rmax and nd < dist[w]:
                    dist[w] = nd
                    size = _heap_push(hk, hv, size, nd, w)
        pstart[ns] = npred
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
                row[_STRAIGHT, k] += math.hypot(xs[v] - sx, ys[v] - sy) / d
                row[_STRAIGHT_N, k] += 1.0
    for m in range(_N_ROWS):
        for r in range(1, nr):
            row[m, r] += row[m, r - 1]
    if do_bc:
        for i in range(ns - 1, 0, -1):
            w = order[i]
            kw = binv[w]
            dw = dist[w]
            sw = sigma[w]
            bw = w * nr
            for r in range(kw, nr):
                ebw[r] = math.exp(-betas[r] * dw)
            for q in range(pstart[i], pstart[i + 1]):
                e = pred[q]
                v = nbr[e]
                c = sigma[v] / sw
                bv = v * nr
                for r in range(kw, nr):
                    t = c * (1.0 + delta[bw + r])
                    tb = c * (ebw[r] + deltab[bw + r])
                    delta[bv + r] += t
                    deltab[bv + r] += tb
                    if do_edges:
                        q = sid[e] * nr + r
                        ebc[q] += t
                        ebcb[q] += tb
            for r in range(kw, nr):
                bc[bw + r] += delta[bw + r]
                bcb[bw + r] += deltab[bw + r]
    for i in range(ns):
        v = order[i]
        dist[v] = np.inf
        pos[v] = -1
        if do_bc:
            for r in range(nr):
                delta[v * nr + r] = 0.0
                deltab[v * nr + r] = 0.0
    return ns


@njit(cache=True, parallel=True, nogil=True)
def _centrality_kernel(  # pragma: no cover
    indptr: I64,
    nbr: I64,
    wt: F64,
    sid: I64,
    scount: F64,
    slen: F64,
    loopc: F64,
    loopl: F64,
    xs: F64,
    ys: F64,
    sources: I64,
    radii: F64,
    betas: F64,
    do_bc: bool,
    do_edges: bool,
    n_simple: int,
    nt: int,
) -> tuple[F64, F64, F64, F64, F64]:
    n = indptr.shape[0] - 1
    nr = radii.shape[0]
    nsrc = sources.shape[0]
    out = np.zeros((nsrc, _N_ROWS, nr))
    cap = nbr.shape[0] + 2
    dist = np.full((nt, n), np.inf)
    pos = np.full((nt, n), -1, dtype=np.int64)
    sigma = np.zeros((nt, n))
    order = np.zeros((nt, n), dtype=np.int64)
    binv = np.zeros((nt, n), dtype=np.int64)
    hk = np.empty((nt, cap))
    hv = np.empty((nt, cap), dtype=np.int64)
    ebw = np.zeros((nt, nr))
    pstart = np.zeros((nt, n + 1), dtype=np.int64)
    pred = np.zeros((nt, nbr.shape[0] + 1), dtype=np.int64)
    nb = n * nr if do_bc else 1
    delta = np.zeros((nt, nb))
    deltab = np.zeros((nt, nb))
    bc = np.zeros((nt, nb))
    bcb = np.zeros((nt, nb))
    ne = n_simple * nr if do_edges else 1
    ebc = np.zeros((nt, ne))
    ebcb = np.zeros((nt, ne))
    per = max(1, min(64, nsrc // (4 * nt)))
    nblocks = per * nt
    for tid in prange(nt):
        for j in range(per):
            blk = j * nt + tid
            lo = blk * nsrc // nblocks
            hi = (blk + 1) * nsrc // nblocks
            for i in range(lo, hi):
                _centrality_source(
                    sources[i],
                    indptr,
                    nbr,
                    wt,
                    sid,
                    scount,
                    slen,
                    loopc,
                    loopl,
                    xs,
                    ys,
                    radii,
                    betas,
                    do_bc,
                    do_edges,
                    dist[tid],
                    pos[tid],
                    sigma[tid],
                    order[tid],
                    binv[tid],
                    delta[tid],
                    deltab[tid],
                    ebw[tid],
                    pstart[tid],
                    pred[tid],
                    hk[tid],
                    hv[tid],
                    out[i],
                    bc[tid],
                    bcb[tid],
                    ebc[tid],
                    ebcb[tid],
                )
    return out, bc.sum(axis=0), bcb.sum(axis=0), ebc.sum(axis=0), ebcb.sum(axis=0)


@njit(cache=True, nogil=True)
def _access_source(  # pragma: no cover
    su: int,
    sv: int,
    ou: float,
    ov: float,
    weight: float,
    indptr: I64,
    nbr: I64,
    wt: F64,
    radii: F64,
    betas: F64,
    cutoff: float,
    mask: B8,
    dist: F64,
    pos: I64,
    order: I64,
    hk: F64,
    hv: I64,
    cnt: F64,
    wsum: F64,
    dec: F64,
    near: F64,
) -> int:
    """One bounded Dijkstra from a point seeded at both ends of its edge."""
    nr = radii.shape[0]
    size = 0
    if ou <= cutoff:
        dist[su] = ou
        size = _heap_push(hk, hv, size, ou, su)
    if ov <= cutoff and ov < dist[sv]:
        dist[sv] = ov
        size = _heap_push(hk, hv, size, ov, sv)
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
        for e in range(indptr[v], indptr[v + 1]):
            w = nbr[e]
            if pos[w] < 0:
                nd = d + wt[e]
                if nd <= cutoff and nd < dist[w]:
                    dist[w] = nd
                    size = _heap_push(hk, hv, size, nd, w)
        if mask[v]:
            if d < near[v]:
                near[v] = d
            k = 0
            while k < nr and d > radii[k]:
                k += 1
            if k < nr:
                b = v * nr
                cnt[b + k] += 1.0
                wsum[b + k] += weight
                for r in range(k, nr):
                    dec[b + r] += weight * math.exp(-betas[r] * d)
    for i in range(ns):
        v = order[i]
        dist[v] = np.inf
        pos[v] = -1
    return ns


@njit(cache=True, parallel=True, nogil=True)
def _access_kernel(  # pragma: no cover
    indptr: I64,
    nbr: I64,
    wt: F64,
    pu: I64,
    pv: I64,
    pou: F64,
    pov: F64,
    pw: F64,
    radii: F64,
    betas: F64,
    cutoff: float,
    mask: B8,
    nt: int,
) -> tuple[F64, F64, F64, F64]:
    n = indptr.shape[0] - 1
    nr = radii.shape[0]
    npts = pu.shape[0]
    cap = nbr.shape[0] + 4
    dist = np.full((nt, n), np.inf)
    pos = np.full((nt, n), -1, dtype=np.int64)
    order = np.zeros((nt, n), dtype=np.int64)
    hk = np.empty((nt, cap))
    hv = np.empty((nt, cap), dtype=np.int64)
    cnt = np.zeros((nt, n * nr))
    wsum = np.zeros((nt, n * nr))
    dec = np.zeros((nt, n * nr))
    near = np.full((nt, n), np.inf)
    per = max(1, min(64, npts // (4 * nt)))
    nblocks = per * nt
    for tid in prange(nt):
        for j in range(per):
            blk = j * nt + tid
            lo = blk * npts // nblocks
            hi = (blk + 1) * npts // nblocks
            for i in range(lo, hi):
                _access_source(
                    pu[i],
                    pv[i],
                    pou[i],
                    pov[i],
                    pw[i],
                    indptr,
                    nbr,
                    wt,
                    radii,
                    betas,
                    cutoff,
                    mask,
                    dist[tid],
                    pos[tid],
                    order[tid],
                    hk[tid],
                    hv[tid],
                    cnt[tid],
                    wsum[tid],
                    dec[tid],
                    near[tid],
                )
    nearest = near[0].copy()
    for t in range(1, nt):
        for v in range(n):
            if near[t, v] < nearest[v]:
                nearest[v] = near[t, v]
    return cnt.sum(axis=0), wsum.sum(axis=0), dec.sum(axis=0), nearest


@njit(cache=True, nogil=True)
def _multi_source_kernel(
    indptr: I64, nbr: I64, wt: F64, seeds: I64, offsets: F64, cutoff: float
) -> tuple[I64, F64]:  # pragma: no cover
    """Nodes within ``cutoff`` of the nearest seed, and their distances."""
    n = indptr.shape[0] - 1
    dist = np.full(n, np.inf)
    pos = np.full(n, -1, dtype=np.int64)
    order = np.zeros(n, dtype=np.int64)
    hk = np.empty(nbr.shape[0] + seeds.shape[0] + 2)
    hv = np.empty(nbr.shape[0] + seeds.shape[0] + 2, dtype=np.int64)
    size = 0
    for i in range(seeds.shape[0]):
        s = seeds[i]
        o = offsets[i]
        if o <= cutoff and o < dist[s]:
            dist[s] = o
            size = _heap_push(hk, hv, size, o, s)
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
        for e in range(indptr[v], indptr[v + 1]):
            w = nbr[e]
            if pos[w] < 0:
                nd = d + wt[e]
                if nd <= cutoff and nd < dist[w]:
                    dist[w] = nd
                    size = _heap_push(hk, hv, size, nd, w)
    reached = order[:ns].copy()
    return reached, dist[reached]
