"""Townscape visibility: a raster surface of terrain and buildings, and viewsheds on it.

The surface
-----------
:func:`surface_model` burns building footprints into a grid of ``cell`` metres with
:func:`rasterio.features.rasterize` (a cell belongs to a building when its centre lies in
the footprint; where footprints overlap, the tallest wins). A building's height is its
``height`` (m) when known, else its floors × ``storey_height``, else ``default_floors`` ×
``storey_height`` (see :func:`building_heights`). The terrain is the DEM resampled
bilinearly onto the grid when one is given, else flat at 0 m. The surface a sight line
must clear is terrain + building height.

The sweep
---------
Sight lines are symmetric, so whether a pedestrian sees a landmark's top is decided from
the landmark: :func:`viewshed` takes an *origin* (the landmark, ``origin_height`` above the
terrain) and marks every cell within ``radius`` whose *target* point (``target_height``
above the terrain, e.g. a pedestrian's eyes) has a clear line to it.

The kernel is the R2 radial sweep of Franklin & Ray (1994): a ray is cast from the origin
cell to each of the ``8 K`` cells on the border of the ``(2K+1)²`` window around it
(``K = ceil(radius / cell)``); along a ray, the cells are visited one row or column at a
time (the cell holding the exact point of the line there), keeping the steepest slope
``(surface - z0) / d`` met so far. A cell's target is visible when its slope
``(terrain + target_height - z0) / d`` is at least that maximum. Every cell of the window
is met by some ray; a cell met by several takes the answer of the ray passing closest to
its centre. Each ray makes at most ``K`` steps, so one origin costs ``8 K²`` steps for
``4 K²`` cells: linear in the cells of the window, about twice over. Distances are
between cell centres (metres). Cells whose terrain is unknown (NaN: outside the DEM)
neither block nor count.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from numba import njit, prange
from pyproj import CRS

from rakennettu import interrupt
from rakennettu._geo import polygonal
from rakennettu.crs import require_projected
from rakennettu.layers.form import DEFAULT_FLOORS, STOREY_HEIGHT, estimate_floors

__all__ = [
    "HEIGHT_SOURCES",
    "Surface",
    "Viewsheds",
    "building_heights",
    "surface_model",
    "viewshed",
    "viewsheds",
]

log = logging.getLogger(__name__)

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B8 = npt.NDArray[np.bool_]

HEIGHT_SOURCES = ("height", "floors", "assumed")
"""Where a building's height came from, in :func:`building_heights`."""


# ------------------------------------------------------------------------------ surface


@dataclass(frozen=True)
class Surface:
    """Terrain and buildings on a regular grid in a projected CRS (metres).

    Attributes
    ----------
    ground
        Terrain elevation (m), float64, rows north to south; NaN where unknown.
    height
        Building height above the terrain (m); 0 on open ground.
    building
        Position (0-based row number) of the building in the frame given to
        :func:`surface_model` that covers each cell, -1 on open ground.
    transform
        Affine transform from (col, row) to coordinates (a north-up grid).
    crs
        The CRS of the coordinates.
    """

    ground: F64
    height: F64
    building: I64
    transform: Any
    crs: CRS

    @property
    def cell(self) -> float:
        """Cell size in metres."""
        return float(abs(self.transform.a))

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols)."""
        return (int(self.ground.shape[0]), int(self.ground.shape[1]))

    @property
    def elevation(self) -> F64:
        """Terrain + buildings (m): what a sight line must clear."""
        return np.asarray(self.ground + self.height, dtype=np.float64)

    def rowcol(self, x: Any, y: Any) -> tuple[I64, I64]:
        """Row and column of the cells holding points ``(x, y)`` (may fall outside)."""
        col, row = ~self.transform * (np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        return (
            np.floor(np.asarray(row)).astype(np.int64),
            np.floor(np.asarray(col)).astype(np.int64),
        )

    def inside(self, rows: I64, cols: I64) -> B8:
        """Whether cells ``(rows, cols)`` lie on the grid."""
        nr, nc = self.shape
        return np.asarray((rows >= 0) & (rows < nr) & (cols >= 0) & (cols < nc), dtype=bool)


def building_heights(
    buildings: pd.DataFrame,
    *,
    storey_height: float = STOREY_HEIGHT,
    default_floors: float = DEFAULT_FLOORS,
    floors: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Height of each building in metres, and where it came from.

    In order: ``height`` when it is a positive number; else the floors of
    :func:`~rakennettu.layers.form.estimate_floors` (the ``floors`` column, else
    ``default_floors``) × ``storey_height``.

    Parameters
    ----------
    buildings
        A frame with ``height`` (m) and ``floors`` columns (NaN when unknown; a missing
        column counts as unknown).
    storey_height
        Metres per storey.
    default_floors
        Floors assumed when neither is known.
    floors
        The floors already estimated (:func:`~rakennettu.layers.form.estimate_floors`,
        on the buildings' index), as :func:`rakennettu.prepare.prepare` passes them;
        ``default_floors`` is then not used.

    Returns
    -------
    pandas.DataFrame
        ``height`` (m) and ``height_source`` (``"height"``, ``"floors"`` or
        ``"assumed"``), on the index of ``buildings``.

    Examples
    --------
    >>> df = pd.DataFrame({"height": [12.5, np.nan, np.nan], "floors": [2, 4, np.nan]})
    >>> building_heights(df)
       height height_source
    0    12.5        height
    1    12.0        floors
    2     3.0       assumed
    """
    if "height" in buildings:
        h = pd.to_numeric(buildings["height"], errors="coerce").to_numpy(
            dtype=float, na_value=np.nan
        )
    else:
        h = np.full(len(buildings), np.nan)
    est = (
        estimate_floors(buildings, storey_height=storey_height, default_floors=default_floors)
        if floors is None
        else floors
    )
    n_floors = est.iloc[:, 0].to_numpy(dtype=float)
    floor_source = est.iloc[:, 1].astype(str).to_numpy()
    known = np.isfinite(h) & (h > 0)
    height = np.where(known, h, n_floors * storey_height)
    source = np.where(known, "height", np.where(floor_source == "floors", "floors", "assumed"))
    return pd.DataFrame(
        {
            "height": height.astype(float),
            "height_source": pd.Categorical(source, categories=HEIGHT_SOURCES),
        },
        index=buildings.index,
    )


def surface_model(
    buildings: gpd.GeoDataFrame,
    *,
    bounds: tuple[float, float, float, float],
    cell: float,
    dem: Any = None,
    storey_height: float = STOREY_HEIGHT,
    default_floors: float = DEFAULT_FLOORS,
    heights: pd.Series | None = None,
) -> Surface:
    """Rasterise terrain and building heights for sight lines.

    Parameters
    ----------
    buildings
        Footprints with ``height`` (m) and/or ``floors`` (see :func:`building_heights`),
        in a projected CRS.
    bounds
        ``(minx, miny, maxx, maxy)`` to cover, metres; the grid is aligned to multiples
        of ``cell`` and grown to cover them.
    cell
        Cell size in metres.
    dem
        A terrain raster (:class:`rakennettu.sources.municipal.Raster`: ``array``,
        ``transform``, ``crs``) or None for flat terrain at 0 m. Resampled bilinearly;
        cells it does not cover get NaN terrain.
    storey_height, default_floors
        See :func:`building_heights`.
    heights
        Building heights already known (m, on the buildings' index: the ``height`` of
        :func:`building_heights`, as :func:`rakennettu.prepare.prepare` makes it);
        ``storey_height`` and ``default_floors`` are then not used.

    Returns
    -------
    Surface

    Raises
    ------
    CRSError
        If the buildings' CRS is geographic or missing.

    Examples
    --------
    A 10 m × 10 m building of 4 floors on a 5 m grid:

    >>> from shapely import box
    >>> b = gpd.GeoDataFrame({"floors": [4.0]}, geometry=[box(0, 0, 10, 10)], crs=3067)
    >>> s = surface_model(b, bounds=(0, 0, 20, 10), cell=5)
    >>> s.height
    array([[12., 12.,  0.,  0.],
           [12., 12.,  0.,  0.]])
    >>> s.building.tolist()
    [[0, 0, -1, -1], [0, 0, -1, -1]]
    """
    from rasterio.features import rasterize
    from rasterio.transform import from_origin

    crs = require_projected(buildings.crs, "buildings")
    if not (cell > 0 and math.isfinite(cell)):
        raise ValueError(f"cell must be a positive size in metres, got {cell!r}")
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    west = math.floor(minx / cell) * cell
    south = math.floor(miny / cell) * cell
    east = max(math.ceil(maxx / cell) * cell, west + cell)
    north = max(math.ceil(maxy / cell) * cell, south + cell)
    ncol = round((east - west) / cell)
    nrow = round((north - south) / cell)
    transform = from_origin(west, north, cell, cell)
    shape = (nrow, ncol)

    height = np.zeros(shape, dtype=np.float64)
    building = np.full(shape, -1, dtype=np.int64)
    geoms = polygonal(buildings.geometry).to_numpy()
    if len(geoms):
        hs = (
            building_heights(buildings, storey_height=storey_height, default_floors=default_floors)
            if heights is None
            else heights.to_frame("height")
        )["height"].to_numpy(dtype=float)
        box = shapely.box(west, south, east, north)
        keep = np.flatnonzero(shapely.intersects(geoms, box) & ~shapely.is_empty(geoms))
        keep = keep[np.argsort(hs[keep], kind="stable")]  # the tallest is drawn last, wins
        if keep.size:
            height = rasterize(
                zip(geoms[keep], hs[keep], strict=True),
                out_shape=shape,
                transform=transform,
                fill=0.0,
                dtype="float64",
            )
            # positions + 1, so that 0 means no building
            ids = rasterize(
                zip(geoms[keep], (keep + 1).astype(np.float64), strict=True),
                out_shape=shape,
                transform=transform,
                fill=0.0,
                dtype="float64",
            )
            building = ids.astype(np.int64) - 1
            height = np.where(building >= 0, height, 0.0)
    ground = np.zeros(shape, dtype=np.float64)
    if dem is not None:
        ground = _resample_dem(dem, shape, transform, crs)
    return Surface(
        ground=ground,
        height=np.asarray(height, dtype=np.float64),
        building=building,
        transform=transform,
        crs=crs,
    )


def _resample_dem(dem: Any, shape: tuple[int, int], transform: Any, crs: CRS) -> F64:
    from rasterio.warp import Resampling, reproject

    src = np.asarray(dem.array, dtype=np.float64)
    out = np.full(shape, np.nan, dtype=np.float64)
    reproject(
        source=src,
        destination=out,
        src_transform=dem.transform,
        src_crs=CRS.from_user_input(dem.crs),
        dst_transform=transform,
        dst_crs=crs,
        src_nodata=np.nan,
        dst_nodata=np.nan,
        resampling=Resampling.bilinear,
    )
    return out


# ------------------------------------------------------------------------------ kernel


@njit(cache=True, nogil=True)
def _blocks(  # pragma: no cover - compiled
    ground: F64,
    height: F64,
    bid: I64,
    rr: int,
    cc: int,
    ar: int,
    ac: int,
    z0: float,
    cell: float,
    own: I64,
) -> float:
    """Slope from the origin to the top of the cell ``(rr, cc)``; -inf if unknown."""
    nrow, ncol = ground.shape
    if rr < 0 or rr >= nrow or cc < 0 or cc >= ncol:
        return -np.inf
    g = ground[rr, cc]
    if not math.isfinite(g):
        return -np.inf
    h = height[rr, cc]
    b = bid[rr, cc]
    if b >= 0:
        for o in own:
            if o == b:
                h = 0.0
                break
    return (g + h - z0) / (math.sqrt(ar * ar + ac * ac) * cell)


@njit(cache=True, nogil=True)
def _ray(  # pragma: no cover - compiled
    ground: F64,
    height: F64,
    bid: I64,
    r0: int,
    c0: int,
    z0: float,
    dr: int,
    dc: int,
    k: int,
    rad2: float,
    cell: float,
    to_h: float,
    own: I64,
    vis: B8,
    best: F64,
) -> None:
    """Walk one ray, a row or column at a time, through every cell the line crosses."""
    nrow, ncol = ground.shape
    w = 2 * k + 1
    n = max(abs(dr), abs(dc))
    col_major = abs(dc) >= abs(dr)
    maxs = -np.inf
    for i in range(1, n + 1):
        fr = dr * i / n
        fc = dc * i / n
        ar = math.floor(fr + 0.5)
        ac = math.floor(fc + 0.5)
        d2 = ar * ar + ac * ac
        if d2 > rad2:
            break
        rr = r0 + ar
        cc = c0 + ac
        if rr < 0 or rr >= nrow or cc < 0 or cc >= ncol:
            break
        # the cells the line crosses in this row/column, before and after its middle
        if col_major:
            a_in = math.floor(dr * (i - 0.5) / n + 0.5)
            a_out = math.floor(dr * (i + 0.5) / n + 0.5)
            if a_in != ar:
                s = _blocks(ground, height, bid, r0 + a_in, cc, a_in, ac, z0, cell, own)
                maxs = max(maxs, s)
        else:
            a_in = math.floor(dc * (i - 0.5) / n + 0.5)
            a_out = math.floor(dc * (i + 0.5) / n + 0.5)
            if a_in != ac:
                s = _blocks(ground, height, bid, rr, c0 + a_in, ar, a_in, z0, cell, own)
                maxs = max(maxs, s)
        g = ground[rr, cc]
        if math.isfinite(g):
            j = (ar + k) * w + (ac + k)
            dev = abs(fr - ar) + abs(fc - ac)
            if dev < best[j]:
                best[j] = dev
                vis[j] = (g + to_h - z0) / (math.sqrt(d2) * cell) >= maxs
            maxs = max(maxs, _blocks(ground, height, bid, rr, cc, ar, ac, z0, cell, own))
        if col_major:
            if a_out != ar:
                s = _blocks(ground, height, bid, r0 + a_out, cc, a_out, ac, z0, cell, own)
                maxs = max(maxs, s)
        elif a_out != ac:
            s = _blocks(ground, height, bid, rr, c0 + a_out, ar, a_out, z0, cell, own)
            maxs = max(maxs, s)


@njit(cache=True, nogil=True)
def _sweep(  # pragma: no cover - compiled
    ground: F64,
    height: F64,
    bid: I64,
    r0: int,
    c0: int,
    z0: float,
    k: int,
    rad2: float,
    cell: float,
    to_h: float,
    own: I64,
    vis: B8,
    best: F64,
) -> None:
    """Fill the ``(2k+1)²`` window around ``(r0, c0)``: ``vis`` and ``best`` (inf: unseen)."""
    w = 2 * k + 1
    for j in range(w * w):
        vis[j] = False
        best[j] = np.inf
    best[k * w + k] = 0.0
    vis[k * w + k] = True
    if k == 0:
        return
    for dc in range(-k, k + 1):
        _ray(ground, height, bid, r0, c0, z0, -k, dc, k, rad2, cell, to_h, own, vis, best)
        _ray(ground, height, bid, r0, c0, z0, k, dc, k, rad2, cell, to_h, own, vis, best)
    for dr in range(-k + 1, k):
        _ray(ground, height, bid, r0, c0, z0, dr, -k, k, rad2, cell, to_h, own, vis, best)
        _ray(ground, height, bid, r0, c0, z0, dr, k, k, rad2, cell, to_h, own, vis, best)


@njit(cache=True, nogil=True)
def _single(  # pragma: no cover - compiled
    ground: F64,
    height: F64,
    bid: I64,
    r0: int,
    c0: int,
    z0: float,
    k: int,
    rad2: float,
    cell: float,
    to_h: float,
    own: I64,
) -> tuple[B8, F64]:
    w = 2 * k + 1
    vis = np.zeros(w * w, dtype=np.bool_)
    best = np.empty(w * w)
    _sweep(ground, height, bid, r0, c0, z0, k, rad2, cell, to_h, own, vis, best)
    return vis, best


@njit(cache=True, parallel=True, nogil=True)
def _batch(  # pragma: no cover - compiled
    ground: F64,
    height: F64,
    bid: I64,
    rows: I64,
    cols: I64,
    z0s: F64,
    own_ptr: I64,
    own_ids: I64,
    k: int,
    rad2: float,
    cell: float,
    to_h: float,
    tgt_ptr: I64,
    tgt_r: I64,
    tgt_c: I64,
) -> tuple[I64, B8]:
    """Visible open cells per origin (-1: not computed) and visibility of each target."""
    m = rows.shape[0]
    w = 2 * k + 1
    counts = np.full(m, -1, dtype=np.int64)
    flags = np.zeros(tgt_r.shape[0], dtype=np.bool_)
    for i in prange(m):
        if not math.isfinite(z0s[i]):
            continue
        vis = np.zeros(w * w, dtype=np.bool_)
        best = np.empty(w * w)
        own = own_ids[own_ptr[i] : own_ptr[i + 1]]
        r0 = rows[i]
        c0 = cols[i]
        _sweep(ground, height, bid, r0, c0, z0s[i], k, rad2, cell, to_h, own, vis, best)
        nrow, ncol = ground.shape
        c = 0
        for a in range(w):
            rr = r0 + a - k
            if rr < 0 or rr >= nrow:
                continue
            for b in range(w):
                cc = c0 + b - k
                if cc < 0 or cc >= ncol:
                    continue
                j = a * w + b
                if vis[j] and best[j] < np.inf and bid[rr, cc] < 0:
                    c += 1
        counts[i] = c
        for t in range(tgt_ptr[i], tgt_ptr[i + 1]):
            a = tgt_r[t] - r0 + k
            b = tgt_c[t] - c0 + k
            if 0 <= a < w and 0 <= b < w:
                j = a * w + b
                flags[t] = vis[j] and best[j] < np.inf
    return counts, flags


# ------------------------------------------------------------------------------ public


def _window(radius: float, cell: float) -> tuple[int, float]:
    if not (radius >= 0 and math.isfinite(radius)):
        raise ValueError(f"radius must be a distance in metres >= 0, got {radius!r}")
    r = radius / cell
    return math.ceil(r), r * r


def viewshed(
    surface: Surface,
    x: float,
    y: float,
    *,
    radius: float,
    origin_height: float,
    target_height: float,
    ignore_buildings: Sequence[int] = (),
) -> B8:
    """The cells within ``radius`` whose target point has a clear line to the origin.

    Parameters
    ----------
    surface
        Terrain and buildings (:func:`surface_model`).
    x, y
        The origin (e.g. a landmark), in the surface's CRS.
    radius
        How far to look, metres (between cell centres).
    origin_height
        Height of the origin above the terrain (m), e.g. a landmark's top.
    target_height
        Height of the target point above the terrain in each cell (m), e.g. a
        pedestrian's eyes.
    ignore_buildings
        Positions of buildings that do not block (the landmark's own building).

    Returns
    -------
    numpy.ndarray
        Booleans shaped like the surface; False beyond ``radius``, outside the window
        and where the terrain is unknown. Building cells are computed like the others
        (a target at ``target_height`` above the terrain there).

    Raises
    ------
    ValueError
        If the origin lies outside the surface or on unknown terrain.

    Examples
    --------
    A 10 m wall two cells east of a 2 m origin on flat ground (1 m cells): the cells
    just behind it are hidden, farther ones visible again over it only if the line
    clears 10 m, which it never does here:

    >>> from rasterio.transform import from_origin
    >>> h = np.zeros((1, 7)); h[0, 3] = 10.0
    >>> s = Surface(np.zeros((1, 7)), h, np.where(h > 0, 0, -1), from_origin(0, 1, 1, 1), 3067)
    >>> viewshed(s, 1.5, 0.5, radius=10, origin_height=2, target_height=1.6).astype(int)
    array([[1, 1, 1, 1, 0, 0, 0]])
    """
    rows, cols = surface.rowcol([x], [y])
    r0, c0 = int(rows[0]), int(cols[0])
    if not surface.inside(rows, cols)[0]:
        raise ValueError(f"the origin ({x}, {y}) lies outside the surface")
    g0 = surface.ground[r0, c0]
    if not np.isfinite(g0):
        raise ValueError(f"the terrain at the origin ({x}, {y}) is unknown (NaN)")
    k, rad2 = _window(radius, surface.cell)
    with interrupt.shielded():  # a signal waits for the compiled sweep
        vis, best = _single(
            surface.ground,
            surface.height,
            surface.building,
            r0,
            c0,
            float(g0 + origin_height),
            k,
            rad2,
            surface.cell,
            float(target_height),
            np.asarray(list(ignore_buildings), dtype=np.int64),
        )
    w = 2 * k + 1
    win = (vis & np.isfinite(best)).reshape(w, w)
    out = np.zeros(surface.shape, dtype=bool)
    nr, nc = surface.shape
    r_lo, c_lo = max(r0 - k, 0), max(c0 - k, 0)
    r_hi, c_hi = min(r0 + k + 1, nr), min(c0 + k + 1, nc)
    out[r_lo:r_hi, c_lo:c_hi] = win[r_lo - r0 + k : r_hi - r0 + k, c_lo - c0 + k : c_hi - c0 + k]
    return out


@dataclass(frozen=True)
class Viewsheds:
    """Results of :func:`viewsheds` for many origins.

    Attributes
    ----------
    visible_area
        Per origin, the area (m²) of open cells (no building) within the radius that see
        it; NaN where the origin lies off the surface or on unknown terrain.
    pairs
        One row per (origin, target) within the radius: ``origin``, ``target``
        (positions in the inputs), ``distance`` (m, between cell centres) and
        ``visible`` (bool).
    """

    visible_area: F64
    pairs: pd.DataFrame


def viewsheds(
    surface: Surface,
    origins: F64,
    *,
    radius: float,
    origin_height: Any,
    target_height: float,
    targets: F64 | None = None,
    ignore_buildings: Sequence[Sequence[int]] | None = None,
) -> Viewsheds:
    """Viewsheds of many origins at once (in parallel), with the targets each one sees.

    Parameters
    ----------
    surface
        Terrain and buildings (:func:`surface_model`).
    origins
        ``(n, 2)`` coordinates of the origins.
    radius
        How far to look, metres.
    origin_height
        One height above the terrain (m) or one per origin.
    target_height
        Height of the target points above the terrain (m).
    targets
        ``(m, 2)`` coordinates of target points (e.g. street nodes), or None.
    ignore_buildings
        Per origin, the positions of buildings that do not block it.

    Returns
    -------
    Viewsheds

    Examples
    --------
    Two origins on an open 40 m × 40 m plane (5 m cells) see everything within 10 m:

    >>> from rasterio.transform import from_origin
    >>> z = np.zeros((8, 8))
    >>> s = Surface(z, z, np.full((8, 8), -1), from_origin(0, 40, 5, 5), 3067)
    >>> v = viewsheds(s, np.array([[12.5, 12.5], [27.5, 27.5]]), radius=10,
    ...               origin_height=3.0, target_height=1.6, targets=np.array([[17.5, 12.5]]))
    >>> v.visible_area.tolist()  # 13 cells within two cells' distance
    [325.0, 325.0]
    >>> v.pairs
       origin  target  distance  visible
    0       0       0       5.0     True
    """
    pts = np.asarray(origins, dtype=np.float64).reshape(-1, 2)
    n = pts.shape[0]
    h0 = np.broadcast_to(np.asarray(origin_height, dtype=np.float64), (n,))
    k, rad2 = _window(radius, surface.cell)
    rows, cols = surface.rowcol(pts[:, 0], pts[:, 1])
    ok = surface.inside(rows, cols)
    z0 = np.full(n, np.nan)
    z0[ok] = surface.ground[rows[ok], cols[ok]] + h0[ok]
    rows = np.where(ok, rows, 0)
    cols = np.where(ok, cols, 0)
    own_lists = [list(x) for x in ignore_buildings] if ignore_buildings is not None else []
    if own_lists and len(own_lists) != n:
        raise ValueError("ignore_buildings must hold one sequence per origin")
    own_ptr = np.zeros(n + 1, dtype=np.int64)
    if own_lists:
        own_ptr[1:] = np.cumsum([len(x) for x in own_lists])
    own_ids = np.asarray([b for x in own_lists for b in x], dtype=np.int64)

    # candidate (origin, target) pairs: targets within the radius by cell centres
    if targets is None:
        tpts = np.zeros((0, 2))
    else:
        tpts = np.asarray(targets, dtype=np.float64).reshape(-1, 2)
    tr, tc = surface.rowcol(tpts[:, 0], tpts[:, 1])
    t_in = np.flatnonzero(surface.inside(tr, tc))
    origin_of: I64 = np.zeros(0, dtype=np.int64)
    target_of: I64 = np.zeros(0, dtype=np.int64)
    if t_in.size and n:
        from scipy.spatial import cKDTree

        cell = surface.cell
        tree = cKDTree(np.stack([tc[t_in], tr[t_in]], axis=1).astype(float))
        near = tree.query_ball_point(
            np.stack([cols, rows], axis=1).astype(float), r=radius / cell + 1e-9
        )
        origin_of = np.repeat(np.arange(n), [len(x) for x in near]).astype(np.int64)
        target_of = t_in[np.asarray([j for x in near for j in x], dtype=np.int64)]
        keep = ok[origin_of]
        origin_of, target_of = origin_of[keep], target_of[keep]
        order = np.lexsort((target_of, origin_of))
        origin_of, target_of = origin_of[order], target_of[order]
    tgt_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(origin_of, minlength=n), out=tgt_ptr[1:])
    with interrupt.shielded():  # a signal waits for the compiled sweep
        counts, flags = _batch(
            surface.ground,
            surface.height,
            surface.building,
            np.ascontiguousarray(rows, dtype=np.int64),
            np.ascontiguousarray(cols, dtype=np.int64),
            z0,
            own_ptr,
            own_ids,
            k,
            rad2,
            surface.cell,
            float(target_height),
            tgt_ptr,
            np.ascontiguousarray(tr[target_of], dtype=np.int64),
            np.ascontiguousarray(tc[target_of], dtype=np.int64),
        )
    area = np.where(counts >= 0, counts * surface.cell**2, np.nan).astype(np.float64)
    dist = np.hypot(tr[target_of] - rows[origin_of], tc[target_of] - cols[origin_of])
    pairs = pd.DataFrame(
        {
            "origin": origin_of,
            "target": target_of,
            "distance": dist * surface.cell,
            "visible": flags,
        }
    )
    return Viewsheds(visible_area=area, pairs=pairs)
