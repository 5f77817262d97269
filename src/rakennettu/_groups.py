"""Geometry operations on groups of geometries, in one GEOS call for all groups."""

from __future__ import annotations

import numpy as np
import shapely

__all__ = ["union_by_group"]


def union_by_group(geoms: np.ndarray, group: np.ndarray, n: int) -> np.ndarray:
    """The union of each group's geometries, in one GEOS call for all groups.

    Entry ``g`` is ``shapely.union_all(geoms[group == g])`` (the members in their order:
    the same union, vertex for vertex); a group without members is an empty collection.
    Should GEOS fail on a group, that group is unioned again on a 1 cm grid.

    Parameters
    ----------
    geoms
        Geometries.
    group
        The group (0 to ``n - 1``) of each geometry.
    n
        How many groups.

    Examples
    --------
    >>> from shapely import box
    >>> u = union_by_group(np.array([box(0, 0, 2, 2), box(5, 5, 6, 6), box(1, 0, 3, 2)]),
    ...                    np.array([0, 1, 0]), 3)
    >>> shapely.area(u).tolist()
    [6.0, 1.0, 0.0]
    """
    group = np.asarray(group, dtype=np.intp)
    order = np.argsort(group, kind="stable")
    counts = np.bincount(group, minlength=n)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.intp)
    rank = np.arange(len(group)) - starts[group[order]]
    table = np.full((n, max(int(counts.max(initial=0)), 1)), None, dtype=object)
    table[group[order], rank] = np.asarray(geoms, dtype=object)[order]
    try:
        return np.asarray(shapely.union_all(table, axis=1), dtype=object)
    except shapely.errors.GEOSException:
        out = np.empty(n, dtype=object)
        for g in range(n):
            try:
                out[g] = shapely.union_all(table[g])
            except shapely.errors.GEOSException:
                out[g] = shapely.union_all(table[g], grid_size=0.01)
        return out
