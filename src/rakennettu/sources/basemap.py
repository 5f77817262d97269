"""What a reader needs to find their way on the map: district names and the sea, from OSM.

Both come from the town's own OpenStreetMap features (``Town.features``):

- :func:`districts`: named ``place=suburb``, ``quarter`` and ``neighbourhood`` features
  (the OSM wiki's parts of a town, largest first), one label point each;
- :func:`sea`: the sea within the loaded area, from ``natural=coastline`` ways. By the
  OSM wiki's convention the land is on the left of a coastline way and the water on its
  right, so the area is cut along the coastlines (their cut ends joined to its edge) and
  each part that lies on the right is sea.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops
from shapely.geometry.base import BaseGeometry

__all__ = ["DISTRICT_PLACES", "districts", "sea"]

log = logging.getLogger(__name__)

#: place=* values that name a part of a town, largest first (OSM wiki, Key:place).
DISTRICT_PLACES: tuple[str, ...] = ("suburb", "quarter", "neighbourhood")


def _tag(features: gpd.GeoDataFrame, key: str) -> pd.Series:
    tags = features["tags"] if "tags" in features else pd.Series([{}] * len(features))
    return tags.map(lambda d: d.get(key) if isinstance(d, dict) else None)


def districts(features: gpd.GeoDataFrame, area: BaseGeometry) -> gpd.GeoDataFrame:
    """Named districts in the area: ``name``, ``place`` and a label point.

    Examples
    --------
    >>> from shapely import Point, box
    >>> f = gpd.GeoDataFrame({"name": ["Kallio", "Kioski", None],
    ...     "tags": [{"place": "suburb"}, {"shop": "kiosk"}, {"place": "quarter"}]},
    ...     geometry=[Point(5, 5), Point(6, 6), Point(7, 7)], crs=3067)
    >>> districts(f, box(0, 0, 10, 10))[["name", "place"]].values.tolist()
    [['Kallio', 'suburb']]
    """
    place = _tag(features, "place")
    names = features["name"] if "name" in features else pd.Series(None, index=features.index)
    named = names.map(lambda v: isinstance(v, str) and bool(v.strip()))
    keep = place.isin(DISTRICT_PLACES).to_numpy() & named.to_numpy()
    sel = features[keep]
    points = sel.geometry.representative_point()
    inside = points.within(area)
    out = gpd.GeoDataFrame(
        {"name": sel["name"][inside].astype(str), "place": place[keep][inside.to_numpy()]},
        geometry=points[inside],
        crs=features.crs,
    )
    order = out["place"].map({p: i for i, p in enumerate(DISTRICT_PLACES)})
    out = out.assign(_o=order).sort_values(["_o", "name"], kind="stable").drop(columns="_o")
    return out.drop_duplicates("name").reset_index(drop=True)


def sea(
    features: gpd.GeoDataFrame, extent: BaseGeometry, *, box: BaseGeometry | None = None
) -> gpd.GeoDataFrame:
    """The sea within ``extent``, the area the features were loaded for, from the coastlines.

    The coastline ways are cut to ``extent``: an extract ends their pieces at its edge. A
    piece whose end lies within one of its own segments' length of the extent's edge (the
    part cut away) is joined to the edge there; the extent is then cut along the pieces,
    and each part on the water side (the right of the way, OSM wiki ``natural=coastline``)
    is sea. A piece that ends further inside is a gap in the coastline: it cannot say
    which side is sea, so it is left out, with a warning. With ``box``, the sea is cut to
    it (the map's frame).

    Examples
    --------
    A coastline running north along x = 5 has the sea on its right, to the east; an island
    (a ring drawn anticlockwise: land on the left, inside) is left out of it:

    >>> from shapely import LineString, Polygon, box as bbox
    >>> island = LineString([(7, 4), (8, 4), (8, 5), (7, 5), (7, 4)])
    >>> f = gpd.GeoDataFrame({"name": [None, None], "tags": [{"natural": "coastline"}] * 2},
    ...     geometry=[LineString([(5, -1), (5, 11)]), island], crs=3067)
    >>> s = sea(f, bbox(0, 0, 10, 10))
    >>> s.total_bounds.tolist(), float(s.area.sum())
    ([5.0, 0.0, 10.0, 10.0], 49.0)
    """
    empty = gpd.GeoDataFrame({"kind": []}, geometry=[], crs=features.crs)
    coast = features[_tag(features, "natural").eq("coastline").to_numpy()]
    lines = [g for g in coast.geometry if g is not None and not g.is_empty]
    lines = [g.intersection(extent) for g in lines if g.intersects(extent)]
    lines = [p for g in lines for p in getattr(g, "geoms", [g]) if p.geom_type == "LineString"]
    if not lines:
        return empty
    merged = shapely.line_merge(shapely.union_all(lines), directed=True)
    pieces, gaps = [], 0
    for line in getattr(merged, "geoms", [merged]):
        joined = line if line.is_ring else _to_edge(line, extent.boundary)
        if joined is None:
            gaps += 1
        else:
            pieces.append(joined)
    if gaps:
        log.warning(
            "sea: %d coastline piece(s) end inside the loaded area (a gap in the coastline "
            "data): the sea is not drawn from them",
            gaps,
        )
    if not pieces:
        return empty
    cut = shapely.union_all([extent.boundary, *pieces])
    faces = list(shapely.polygonize(list(getattr(cut, "geoms", [cut]))).geoms)
    inside = [f for f in faces if f.area > 0 and extent.contains(f.representative_point())]
    water = [f for f in inside if _right_of(f, pieces)]
    if box is not None:
        water = [w.intersection(box) for w in water]
        water = [w for w in water if not w.is_empty and w.area > 0]
    if not water:
        return empty
    return gpd.GeoDataFrame({"kind": ["sea"] * len(water)}, geometry=water, crs=features.crs)


_OVERSHOOT = 0.5  # m: a joined end is carried this far past the edge, so that it cuts it


def _to_edge(line: BaseGeometry, edge: BaseGeometry) -> BaseGeometry | None:
    """An open coastline piece joined at both ends to the extent's edge; None for a gap.

    An end within the length of the piece's longest segment of the edge lost its last
    segment to the clipping; it is joined to the nearest point of the edge. An end further
    in is a gap in the data.
    """
    xy = np.asarray(line.coords)[:, :2]
    if len(xy) < 2:
        return None
    reach = float(np.hypot(*np.diff(xy, axis=0).T).max())
    out = []
    for end, inner in ((xy[0], xy[1]), (xy[-1], xy[-2])):
        p = shapely.Point(end)
        d = float(edge.distance(p))
        if d > reach:
            return None
        target = np.asarray(shapely.ops.nearest_points(edge, p)[0].coords[0])
        step = target - end if d > 1e-9 else end - inner
        unit = step / max(float(np.hypot(*step)), 1e-12)
        out.append(target + unit * _OVERSHOOT if d > 1e-9 else end + unit * _OVERSHOOT)
    return shapely.LineString(np.vstack([out[0], xy, out[1]]))


def _right_of(face: BaseGeometry, lines: list[BaseGeometry]) -> bool:
    """Whether a face lies to the right of the nearest coastline segment."""
    p = face.representative_point()
    best, side = np.inf, 0.0
    for line in lines:
        xy = shapely.get_coordinates(line)
        a, b = xy[:-1], xy[1:]
        ab = b - a
        t = np.clip(((p.x - a[:, 0]) * ab[:, 0] + (p.y - a[:, 1]) * ab[:, 1])
                    / np.maximum((ab**2).sum(axis=1), 1e-12), 0, 1)  # fmt: skip
        near = a + t[:, None] * ab
        d = np.hypot(near[:, 0] - p.x, near[:, 1] - p.y)
        i = int(np.argmin(d))
        if d[i] < best:
            best = float(d[i])
            side = ab[i, 0] * (p.y - a[i, 1]) - ab[i, 1] * (p.x - a[i, 0])
    return bool(side < 0)  # negative cross product: to the right of the way's direction
