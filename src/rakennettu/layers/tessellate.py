"""Enclosed tessellation in plain shapely: momepy's cells, without its frames.

:func:`enclosed_cells` makes the cells of ``momepy.enclosed_tessellation`` (momepy 0.11,
libpysal 4.14 ``voronoi_frames``): the same shapely operations, with the same arguments, on
the same geometries in the same order, so every cell is the same geometry, coordinate for
coordinate. What it leaves out is the pandas and geopandas around them (a frame per
enclosure, a ``groupby`` per building, the spatial index of every frame built anew), about a
fifth of the time, and its worker processes import only what these functions need. The
enclosures are handed to the workers largest first, the small ones in batches, so that
neither worker waits long for the other at the end.

Per enclosure (:func:`enclosure_cells`), as momepy and libpysal do it:

1. keep the buildings with more than ``threshold`` of their area inside the enclosure;
2. snap them to a 1e-5 m grid, shrink them by ``shrink`` metres (flat caps, mitred
   joins) and add vertices every ``segment`` metres;
3. take the Voronoi polygons of all their vertices, extended to the enclosure, and make
   them valid;
4. give each building the union of the polygons that intersect it (a coverage union,
   a plain union where GEOS refuses), made valid if any is not;
5. clip those that cross the enclosure's boundary to it, and simplify the cells as a
   coverage by ``segment / 2`` metres, the enclosure's outline kept.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any

import numpy as np
import shapely
from shapely.errors import GEOSException

__all__ = ["enclosed_cells", "enclosed_cells_started", "enclosure_cells"]

#: Grid (metres) the buildings are snapped to before the Voronoi diagram (libpysal's).
GRID_SIZE = 1e-5

#: Buildings per task handed to a worker process, at least: enclosures are batched up to
#: it, and larger ones go alone. About 1.2 s of work on detached houses.
BATCH_BUILDINGS = 500

_POLYGONAL = (3, 6)  # shapely type ids of Polygon and MultiPolygon

_Cells = tuple[np.ndarray, np.ndarray]  # labels, polygons
_Placed = tuple[np.ndarray, np.ndarray, np.ndarray]  # building, enclosure, polygon
_Done = tuple[int, np.ndarray, np.ndarray]  # enclosure, labels, polygons
_Task = list[tuple[int, shapely.Geometry, np.ndarray, np.ndarray]]


def enclosed_cells(
    buildings: np.ndarray,
    enclosures: np.ndarray,
    *,
    shrink: float = 0.4,
    segment: float = 0.5,
    threshold: float | None = 0.05,
    simplify: bool = True,
    n_jobs: int = 1,
) -> _Placed:
    """The cells of ``momepy.enclosed_tessellation``, identical, from arrays of geometries.

    As in momepy, an enclosure that no building intersects is one cell without a
    building, one that a single building intersects is that building's cell whatever
    the threshold, and the others are split by :func:`enclosure_cells`. A building
    that reaches into several enclosures gets a cell in each; one that collapses when
    shrunk gets none.

    Parameters
    ----------
    buildings
        Polygonal footprints, none empty, in a projected CRS in metres.
    enclosures
        Enclosure polygons in the same CRS.
    shrink, segment, threshold, simplify
        As in ``momepy.enclosed_tessellation``.
    n_jobs
        Worker processes (-1: all cores). The cells do not depend on it.

    Returns
    -------
    (ndarray, ndarray, ndarray)
        For each cell, the position of its building in ``buildings`` (-1 for none), the
        position of its enclosure in ``enclosures``, and its polygon; ordered by
        enclosure, then building.

    Examples
    --------
    >>> from shapely import box
    >>> blocks = np.array([box(0, 0, 100, 100), box(100, 0, 200, 100)])
    >>> houses = np.array([box(10, 10, 30, 20), box(60, 60, 80, 70)])
    >>> building, enclosure, cells = enclosed_cells(houses, blocks)
    >>> building.tolist(), enclosure.tolist(), [round(c.area) for c in cells]
    ([0, 1, -1], [0, 0, 1], [3600, 6400, 10000])
    """
    params = {"shrink": shrink, "segment": segment, "threshold": threshold, "simplify": simplify}
    return enclosed_cells_started(buildings, enclosures, n_jobs=n_jobs, **params)()


def enclosed_cells_started(
    buildings: np.ndarray, enclosures: np.ndarray, *, n_jobs: int = 1, **params: Any
) -> Callable[[], _Placed]:
    """Start :func:`enclosed_cells` on worker processes; call the result for the cells.

    With ``n_jobs`` other than 1 the enclosures go to loky's worker processes at once
    (fresh interpreters, never a fork: the network engine's OpenMP threads would not
    survive one), and this process is free for other work until it asks for the cells.
    With one job, the cells are made when asked for.

    Examples
    --------
    >>> from shapely import box
    >>> blocks = np.array([box(0, 0, 100, 100)])
    >>> houses = np.array([box(10, 10, 30, 20), box(60, 60, 80, 70)])
    >>> finish = enclosed_cells_started(houses, blocks)
    >>> [round(c.area) for c in finish()[2]]
    [3600, 6400]
    """
    of_enclosure, building = _tree(buildings).query(enclosures, predicate="intersects")
    starts = np.searchsorted(of_enclosure, np.arange(len(enclosures) + 1))
    count = np.diff(starts)
    whole = np.flatnonzero(count < 2)  # no building, or one: the whole enclosure
    owner = np.full(len(whole), -1, dtype=np.int64)
    single = count[whole] == 1
    owner[single] = building[starts[whole[single]]]
    split = np.flatnonzero(count > 1)
    jobs = [
        (int(e), enclosures[e], buildings[building[starts[e] : starts[e + 1]]],
         building[starts[e] : starts[e + 1]])
        for e in split[np.argsort(-count[split], kind="stable")]
    ]  # fmt: skip
    results = _submitted(_batches(jobs), params, n_jobs)

    def finish() -> _Placed:
        parts = [(owner, whole, enclosures[whole])]
        for e, owners, cells in results():
            parts.append((owners, np.full(len(owners), e), cells))
        placed, encl, geoms = (np.concatenate(p) for p in zip(*parts, strict=True))
        order = np.lexsort((placed, encl))
        return placed[order].astype(np.int64), encl[order].astype(np.int64), geoms[order]

    return finish


def _batches(jobs: _Task) -> list[_Task]:
    """Enclosures (largest first) in tasks of at least :data:`BATCH_BUILDINGS` buildings."""
    tasks: list[_Task] = []
    size = BATCH_BUILDINGS
    for job in jobs:
        if size >= BATCH_BUILDINGS:
            tasks.append([])
            size = 0
        tasks[-1].append(job)
        size += len(job[2])
    return tasks


def _submitted(
    tasks: list[_Task], params: dict[str, Any], n_jobs: int
) -> Callable[[], Iterator[_Done]]:
    """The tasks sent to ``n_jobs`` worker processes; call the result to collect them."""
    from joblib.externals.loky import cpu_count, get_reusable_executor

    workers = min(len(tasks), n_jobs if n_jobs > 0 else max(1, cpu_count() + 1 + n_jobs))
    if workers < 2:
        return lambda: (done for task in tasks for done in _cells_of(task, params))
    _pickled_by_value()
    feeder = _Feeder(get_reusable_executor(max_workers=workers), tasks, params)
    for _ in range(workers):
        feeder.feed()
    return feeder.collect


class _Feeder:
    """Tasks handed to a pool one per worker, the next one as soon as one ends.

    Not all at once: at the interpreter's exit (a run stopped by an error or Ctrl-C
    before it asked for the cells) the pool finishes the tasks it holds, and these are
    then one per worker, not the whole town.
    """

    def __init__(self, pool: Any, tasks: list[_Task], params: dict[str, Any]) -> None:
        self.pool, self.tasks, self.params = pool, tasks, params
        self.futures: list[Future[list[_Done]]] = []
        self.stopped = False
        self.lock = threading.Lock()

    def feed(self, _: object = None) -> None:
        """Hand the next task to the pool (a future's done-callback)."""
        with self.lock:
            if self.stopped or len(self.futures) == len(self.tasks):
                return
            try:
                future = self.pool.submit(_cells_of, self.tasks[len(self.futures)], self.params)
            except RuntimeError:  # the pool or the interpreter is shutting down
                self.stopped = True
                return
            self.futures.append(future)
        future.add_done_callback(self.feed)

    def collect(self) -> Iterator[_Done]:
        """The cells of every task, in the tasks' order; the rest dropped on an error."""
        try:
            for i in range(len(self.tasks)):
                while len(self.futures) <= i and not self.stopped:
                    self.feed()
                if len(self.futures) <= i:
                    raise RuntimeError("the tessellation's worker pool was shut down")
                yield from self.futures[i].result()
        finally:
            self.stopped = True
            for future in self.futures:
                future.cancel()


def _pickled_by_value() -> None:
    """Send the workers this module's functions whole, not by name.

    A worker then imports shapely and numpy only, not the rakennettu package with
    everything it imports: 0.5 s of CPU to start a worker instead of 2.5 s.
    """
    try:
        import cloudpickle  # loky's pickler when installed (dask installs it)
    except ImportError:
        return
    cloudpickle.register_pickle_by_value(sys.modules[__name__])


def _cells_of(task: _Task, params: dict[str, Any]) -> list[_Done]:
    return [(e, *enclosure_cells(poly, geoms, labels, **params)) for e, poly, geoms, labels in task]


def enclosure_cells(
    enclosure: shapely.Geometry,
    buildings: np.ndarray,
    labels: np.ndarray,
    *,
    shrink: float = 0.4,
    segment: float = 0.5,
    threshold: float | None = 0.05,
    simplify: bool = True,
) -> _Cells:
    """The cells of one enclosure, as momepy's ``_tess`` makes them.

    Parameters
    ----------
    enclosure
        The enclosure polygon.
    buildings
        The polygonal footprints that intersect it, in the order of the spatial query
        that found them (the order is an input of the Voronoi diagram).
    labels
        One non-negative integer per building.
    shrink, segment, threshold, simplify
        As in ``momepy.enclosed_tessellation``: metres, metres, share of a building's
        area, and whether to simplify the cells.

    Returns
    -------
    (ndarray, ndarray)
        Labels and cell polygons. Where fewer than two buildings pass the threshold,
        the whole enclosure, labelled by the one building or -1.

    Examples
    --------
    >>> from shapely import box
    >>> houses = np.array([box(10, 10, 30, 20), box(60, 60, 80, 70)])
    >>> labels, cells = enclosure_cells(box(0, 0, 100, 100), houses, np.array([7, 9]))
    >>> labels.tolist(), [round(c.area) for c in cells]
    ([7, 9], [3600, 6400])

    The cells meet near the bisector of the facing corners of the shrunk houses,
    (29.6, 19.6) and (60.4, 60.4): a line from (0, 74) to (98, 0), 3,626 m² below it.
    """
    if threshold:
        keep = _kept(enclosure, buildings, threshold)
        buildings, labels = buildings[keep], labels[keep]
    if len(buildings) < 2:
        label = labels[0] if len(buildings) else -1
        return np.array([label], dtype=np.int64), np.array([enclosure], dtype=object)
    objects = _discretised(buildings, shrink=shrink, segment=segment)
    voronoi = shapely.voronoi_polygons(
        shapely.GeometryCollection(list(objects)), extend_to=enclosure
    )
    polygons = _valid(shapely.get_parts(voronoi))
    kind = shapely.get_type_id(polygons)
    if not (kind == 3).all():  # libpysal's fix for libgeos/geos#1062
        polygons = shapely.get_parts(polygons)
        polygons = polygons[shapely.get_type_id(polygons) == 3]
    owners, cells = _dissolved(objects, labels, polygons)
    if not shapely.is_valid(cells).all():
        cells = shapely.make_valid(cells)
    crossing = _tree(cells).query(enclosure.boundary, predicate="intersects")
    cells[crossing] = shapely.intersection(cells[crossing], enclosure)
    if simplify:
        cells = shapely.coverage_simplify(cells, tolerance=segment / 2, simplify_boundary=False)
    return owners, cells


def _kept(enclosure: shapely.Geometry, buildings: np.ndarray, threshold: float) -> np.ndarray:
    """Buildings with more than ``threshold`` of their area in the enclosure (momepy's rule).

    A building the enclosure covers has all of its area inside (the overlay's area equals
    its own to rounding), so below a threshold of one half it is kept without an overlay.
    """
    whole = np.zeros(len(buildings), dtype=bool)
    if threshold < 0.5:
        shapely.prepare(enclosure)
        whole = shapely.covers(enclosure, buildings)
    part = buildings[~whole]
    keep = whole.copy()
    keep[~whole] = shapely.area(shapely.intersection(part, enclosure)) > (
        shapely.area(part) * threshold
    )
    return keep


def _valid(geoms: np.ndarray) -> np.ndarray:
    """The geometries made valid, as ``shapely.make_valid``, without copying valid ones.

    GEOS returns a valid geometry unchanged (checked on the 360,000 Voronoi polygons of
    Reisterstown's largest block), so only the invalid ones need the call.
    """
    bad = ~shapely.is_valid(geoms)
    if not bad.any():
        return geoms
    out = geoms.copy()
    out[bad] = shapely.make_valid(geoms[bad])
    return out


def _discretised(buildings: np.ndarray, *, shrink: float, segment: float) -> np.ndarray:
    """Snapped, shrunk and segmentised footprints: libpysal's Voronoi generators."""
    objects = shapely.set_precision(buildings, GRID_SIZE)
    kind = shapely.get_type_id(objects)
    if not np.isin(kind, _POLYGONAL).all():
        raise ValueError("enclosure_cells takes polygonal footprints only")
    if shrink != 0:
        objects = shapely.buffer(objects, -shrink, quad_segs=16, cap_style=2, join_style=2)
    if segment != 0:
        objects = shapely.segmentize(objects, segment)
    return objects


def _tree(geoms: np.ndarray) -> shapely.STRtree:
    """A spatial index as geopandas builds it (empty geometries left out, same positions)."""
    nonempty = geoms.copy()
    nonempty[shapely.is_empty(nonempty)] = None
    return shapely.STRtree(nonempty)


def _dissolved(objects: np.ndarray, labels: np.ndarray, polygons: np.ndarray) -> _Cells:
    """Per label, in ascending order, the union of the polygons that intersect its object.

    The polygons of a label keep the order in which the spatial query returns them, as
    pandas' ``groupby`` keeps it for libpysal: a coverage union's vertices may depend on it.
    """
    of_object, polygon = _tree(polygons).query(objects, predicate="intersects")
    keys = labels[of_object]
    order = np.argsort(keys, kind="stable")
    keys, members = keys[order], polygons[polygon[order]]
    owners, starts = np.unique(keys, return_index=True)
    ends = np.append(starts[1:], len(keys))
    cells = np.empty(len(owners), dtype=object)
    for k, (start, end) in enumerate(zip(starts, ends, strict=True)):
        try:
            cells[k] = shapely.coverage_union_all(members[start:end])
        except GEOSException:
            cells[k] = shapely.union_all(members[start:end])
    return owners.astype(np.int64), cells
