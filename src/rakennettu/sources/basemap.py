"""What a reader needs to find their way on the map: district names and the sea, from OSM.

Both come from the town's own OpenStreetMap features (``Town.features``):

- :func:`districts`: named ``place=suburb``, ``quarter`` and ``neighbourhood`` features
  (the OSM wiki's parts of a town, largest first), one label point each;
- :func:`sea`: the sea inside a box, from ``natural=coastline`` ways. By the OSM wiki's
  convention the land is on the left of a coastline way and the water on its right, so
  the box is cut along the coastlines and each piece that lies on the right is sea.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

__all__ = ["DISTRICT_PLACES", "districts", "sea"]

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


def sea(features: gpd.GeoDataFrame, box: BaseGeometry) -> gpd.GeoDataFrame:
    """The sea inside ``box`` (polygons), from the coastline ways; empty without any.

    Examples
    --------
    A coastline running north along x = 5 has the sea on its right, to the east:

    >>> from shapely import LineString, box as bbox
    >>> f = gpd.GeoDataFrame({"name": [None], "tags": [{"natural": "coastline"}]},
    ...     geometry=[LineString([(5, -1), (5, 11)])], crs=3067)
    >>> sea(f, bbox(0, 0, 10, 10)).total_bounds.tolist()
    [5.0, 0.0, 10.0, 10.0]
    """
    empty = gpd.GeoDataFrame({"kind": []}, geometry=[], crs=features.crs)
    coast = features[_tag(features, "natural").eq("coastline").to_numpy()]
    lines = [g for g in coast.geometry if g is not None and g.geom_type == "LineString"]
    lines = [g for g in lines if g.intersects(box)]
    if not lines:
        return empty
    merged = shapely.line_merge(shapely.union_all(lines), directed=True)
    span = 2 * float(np.hypot(*np.subtract(box.bounds[2:], box.bounds[:2])))
    lines = [_extend(g, span) for g in getattr(merged, "geoms", [merged])]
    cut = shapely.union_all([shapely.boundary(box), *[g.intersection(box) for g in lines]])
    faces = list(shapely.polygonize(list(getattr(cut, "geoms", [cut]))).geoms)
    water = [f for f in faces if f.area > 0 and _right_of(f, lines)]
    if not water:
        return empty
    return gpd.GeoDataFrame({"kind": ["sea"] * len(water)}, geometry=water, crs=features.crs)


def _extend(line: BaseGeometry, span: float) -> BaseGeometry:
    """An open coastline piece, its ends carried straight on by ``span`` metres.

    An extract holds the coastline ways near the town only, so a piece can end inside
    the box; carried on along its end directions it still cuts the box into land and sea.
    """
    if line.is_ring or len(line.coords) < 2:
        return line
    xy = np.asarray(line.coords)[:, :2]

    def ray(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        d = b - a
        return b + d / max(float(np.hypot(*d)), 1e-9) * span

    return shapely.LineString(np.vstack([ray(xy[1], xy[0]), xy, ray(xy[-2], xy[-1])]))


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
