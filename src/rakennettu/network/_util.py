"""Shared checks and helpers of the network engine (types, CRS, radii, column order)."""

from __future__ import annotations

import contextlib
from collections.abc import Hashable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from pyproj import CRS

from rakennettu.errors import CRSError

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B8 = npt.NDArray[np.bool_]

CENTRALITY_MEASURES: tuple[str, ...] = (
    "harmonic",
    "node_count",
    "edge_count",
    "street_length",
    "farness",
    "closeness_hillier",
    "betweenness",
    "betweenness_beta",
    "straightness",
)
_ACCESS_MEASURES = ("count", "weighted", "decayed")
_TOTAL = "total"

# rows of the per-source output array of the centrality kernel
_HARM, _NODES, _EDGES, _LEN, _FAR, _STRAIGHT, _STRAIGHT_N = range(7)
_N_ROWS = 7


# ---------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------


def _hilbert_keys(x: F64, y: F64, bits: int = 16) -> I64:
    """Position of each point along a Hilbert curve over the points' bounding box."""
    side = 1 << bits
    if x.size == 0:
        return np.zeros(0, dtype=np.int64)
    span = max(float(np.ptp(x)), float(np.ptp(y)), 1e-9)
    xi = ((x - x.min()) / span * (side - 1)).astype(np.int64)
    yi = ((y - y.min()) / span * (side - 1)).astype(np.int64)
    d = np.zeros(x.size, dtype=np.int64)
    s = side >> 1
    while s > 0:
        rx = (xi & s) > 0
        ry = (yi & s) > 0
        d += s * s * ((3 * rx.astype(np.int64)) ^ ry.astype(np.int64))
        flip = (~ry) & rx
        xi = np.where(flip, side - 1 - xi, xi)
        yi = np.where(flip, side - 1 - yi, yi)
        swap = ~ry
        xi, yi = np.where(swap, yi, xi), np.where(swap, xi, yi)
        s >>= 1
    return d


def _require_projected(crs: Any, what: str) -> CRS:
    """Return ``crs`` as a pyproj CRS, raising CRSError when it is missing or geographic."""
    if crs is None:
        raise CRSError(
            f"{what} has no CRS; set it to the projected CRS of the coordinates "
            "(for a graph: G.graph['crs'] = 'EPSG:3067')"
        )
    try:
        parsed = CRS.from_user_input(crs)
    except Exception as exc:  # pyproj raises its own CRSError
        raise CRSError(f"{what} has an unreadable CRS {crs!r}: {exc}") from exc
    if parsed.is_geographic:
        raise CRSError(
            f"{what} is in a geographic CRS ({parsed.name}); network lengths and straight-line "
            "distances need metres: project it first, e.g. "
            "ox.project_graph(G, to_crs='EPSG:3067') or gdf.to_crs('EPSG:3067')"
        )
    return parsed


def _check_radii(radii: float | Iterable[float]) -> tuple[F64, list[float | int]]:
    """Sorted unique radii in metres, and their column labels (ints when whole)."""
    values = [radii] if np.isscalar(radii) else list(radii)  # type: ignore[arg-type]
    if not values:
        raise ValueError("radii is empty; give at least one radius in metres, e.g. [400, 800]")
    arr = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError(f"radii must be positive finite distances in metres, got {values!r}")
    arr = np.unique(arr)
    labels: list[float | int] = [int(r) if float(r).is_integer() else float(r) for r in arr]
    return arr, labels


def _check_betas(beta: float | Sequence[float] | None, radii: F64) -> F64:
    """Decay rate per radius (1/metre): ``4 / R`` by default."""
    if beta is None:
        return 4.0 / radii
    if np.isscalar(beta):
        out = np.full(radii.shape, float(beta))  # type: ignore[arg-type]
    else:
        out = np.asarray(beta, dtype=np.float64)
        if out.shape != radii.shape:
            raise ValueError(
                f"beta has {out.size} values but there are {radii.size} radii; give one value "
                "or one per radius (in ascending order of radius)"
            )
    if not np.all(np.isfinite(out)) or np.any(out < 0):
        raise ValueError(f"beta must be non-negative decay rates per metre, got {beta!r}")
    return out


def _ordered_columns(tuples: Sequence[tuple[Any, ...]], names: list[str]) -> pd.MultiIndex:
    """Make a MultiIndex whose levels keep the order of first appearance.

    The tuples are made in nested-loop order, so with levels in that order the codes are
    lexsorted and ``frame.loc[:, (measure, radius)]`` does not warn about performance.
    """
    levels: list[list[Any]] = []
    codes: list[list[int]] = []
    for i in range(len(names)):
        values = [t[i] for t in tuples]
        level = list(dict.fromkeys(values))
        where = {v: j for j, v in enumerate(level)}
        levels.append(level)
        codes.append([where[v] for v in values])
    return pd.MultiIndex(levels=levels, codes=codes, names=names)


def _readonly(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
    a = np.ascontiguousarray(a)
    a.flags.writeable = False
    return a


def _new_node_ids(existing: pd.Index, k: int) -> list[Hashable]:
    """``k`` node ids not in ``existing``: negative integers, or ``"new-<i>"`` strings."""
    if pd.api.types.is_integer_dtype(existing.dtype):
        start = min(int(existing.min()) if len(existing) else 0, 0) - 1
        return [start - i for i in range(k)]
    taken = set(existing)
    out: list[Hashable] = []
    i = 0
    while len(out) < k:
        cand = f"new-{i}"
        if cand not in taken:
            out.append(cand)
        i += 1
    return out


@contextlib.contextmanager
def compiled_threads(n: int) -> Iterator[None]:
    """Run the compiled kernels on ``n`` threads inside the block (of this thread).

    Many small searches (one site's what-if update) cost less on one thread than the
    start of a parallel region each; the sums then also do not depend on the machine's
    core count.

    Examples
    --------
    >>> import numba
    >>> with compiled_threads(1):
    ...     numba.get_num_threads()
    1
    """
    import numba

    before = numba.get_num_threads()
    most = int(getattr(numba.config, "NUMBA_NUM_THREADS", n))
    numba.set_num_threads(max(1, min(int(n), most)))
    try:
        yield
    finally:
        numba.set_num_threads(before)
