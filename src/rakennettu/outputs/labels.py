"""Where to write names on a map: street names along the streets.

Used by the interactive map (Leaflet labels from zoom 16 on) and by the report's small
site maps (matplotlib text), so both name the same streets at the same places.
"""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

__all__ = ["street_labels"]


def street_labels(edges: gpd.GeoDataFrame, *, spacing: float = 300.0) -> gpd.GeoDataFrame:
    """Points to write street names at: along each named street, every ``spacing`` metres.

    Segments of one name are merged first; a street shorter than ``spacing`` gets one
    label at its middle, and streets shorter than 60 m none. ``angle`` is the street's
    direction there, in degrees clockwise on screen, kept within ±90 so text reads upright.

    Examples
    --------
    >>> from shapely import LineString
    >>> streets = gpd.GeoDataFrame({"name": ["Katu", "Katu", None]},
    ...     geometry=[LineString([(0, 0), (400, 0)]), LineString([(400, 0), (700, 0)]),
    ...               LineString([(0, 0), (0, 500)])], crs=3067)
    >>> labels = street_labels(streets)
    >>> labels.geometry.x.tolist(), labels["angle"].tolist()
    ([175.0, 525.0], [0, 0])
    """
    names = edges["name"] if "name" in edges else pd.Series(None, index=edges.index)
    names = names.map(_first_name)
    keep = names.map(lambda v: isinstance(v, str) and bool(v.strip())).to_numpy(dtype=bool)
    named = gpd.GeoDataFrame({"name": names[keep]}, geometry=edges.geometry[keep], crs=edges.crs)
    rows: list[dict[str, Any]] = []
    for name, part in named.groupby("name", sort=True):
        merged = shapely.line_merge(shapely.union_all(part.geometry.to_numpy()))
        lines = getattr(merged, "geoms", [merged])
        for line in lines:
            if line.length < 60:
                continue
            n = max(1, int(line.length // spacing))
            for k in range(n):
                at = line.length * (k + 0.5) / n
                p0, p1 = (
                    line.interpolate(max(at - 10, 0)),
                    line.interpolate(min(at + 10, line.length)),
                )
                angle = -math.degrees(math.atan2(p1.y - p0.y, p1.x - p0.x))
                angle = (angle + 90) % 180 - 90
                rows.append({"name": name, "angle": round(angle), "geometry": line.interpolate(at)})
    return (
        gpd.GeoDataFrame(rows, geometry="geometry", crs=edges.crs)
        if rows
        else gpd.GeoDataFrame({"name": [], "angle": []}, geometry=[], crs=edges.crs)
    )


def _first_name(value: Any) -> Any:
    """One name of a segment that joins several streets ("Katokuja;Kangaskatu": the first).

    Examples
    --------
    >>> _first_name("Katokuja;Kangaskatu"), _first_name("Kauppakatu"), _first_name(None)
    ('Katokuja', 'Kauppakatu', None)
    """
    if isinstance(value, list | tuple):
        value = ";".join(str(v) for v in value)
    if not isinstance(value, str):
        return value
    parts = [p.strip() for p in value.split(";") if p.strip()]
    return parts[0] if parts else None
