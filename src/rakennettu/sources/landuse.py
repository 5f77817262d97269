"""Land use around buildings: which buildings of unknown use stand in residential areas.

OpenStreetMap maps many apartment blocks as plain ``building=yes`` (use ``unknown``). A
``landuse=residential`` area says "predominantly houses or apartment buildings" (OSM wiki,
Tag:landuse=residential), so a building of unknown use inside one is counted as a home
(see docs/population.md for the measured effect against the HSY grids).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

__all__ = ["residential_landuse", "unknown_homes"]

#: ``landuse`` values whose areas are predominantly homes.
RESIDENTIAL_LANDUSE = frozenset({"residential"})


def residential_landuse(features: gpd.GeoDataFrame) -> BaseGeometry:
    """The union of the residential land-use areas among OSM features.

    Parameters
    ----------
    features
        OSM features with a ``tags`` column of dicts, in a projected CRS. Closed ways
        read as lines are taken as their polygons.

    Returns
    -------
    shapely geometry
        The areas (empty when none).

    Examples
    --------
    >>> from shapely import box
    >>> f = gpd.GeoDataFrame({"tags": [{"landuse": "residential"}, {"landuse": "retail"}]},
    ...                      geometry=[box(0, 0, 10, 10), box(20, 0, 30, 10)], crs=3067)
    >>> residential_landuse(f).area
    100.0
    """
    if len(features) == 0 or "tags" not in features:
        return shapely.Polygon()
    is_res = features["tags"].map(
        lambda d: isinstance(d, dict) and d.get("landuse") in RESIDENTIAL_LANDUSE
    )
    geoms = features.geometry[is_res.to_numpy(dtype=bool)].to_numpy()
    polys = []
    for g in geoms:
        if g is None or g.is_empty:
            continue
        if g.geom_type in ("Polygon", "MultiPolygon"):
            polys.append(g)
        elif g.geom_type == "LineString" and g.is_closed and len(g.coords) >= 4:
            polys.append(shapely.Polygon(g.coords))
    if not polys:
        return shapely.Polygon()
    return shapely.union_all(shapely.make_valid(np.asarray(polys, dtype=object)))


def unknown_homes(buildings: gpd.GeoDataFrame, areas: BaseGeometry) -> pd.Series:
    """Buildings of unknown use whose representative point lies in ``areas``.

    Parameters
    ----------
    buildings
        Footprints with ``use`` (missing counts as unknown).
    areas
        Residential land use (:func:`residential_landuse`), in the buildings' CRS.

    Returns
    -------
    pandas.Series
        Boolean, on the buildings' index.

    Examples
    --------
    >>> from shapely import box
    >>> b = gpd.GeoDataFrame({"use": ["unknown", "office", None, "unknown"]},
    ...                      geometry=[box(1, 1, 2, 2), box(3, 3, 4, 4), box(5, 5, 6, 6),
    ...                                box(50, 50, 51, 51)], crs=3067)
    >>> unknown_homes(b, box(0, 0, 10, 10)).tolist()
    [True, False, True, False]
    """
    if "use" in buildings:
        use = buildings["use"].astype(object)
        unknown = (use.isna() | (use == "unknown")).to_numpy(dtype=bool)
    else:
        unknown = np.ones(len(buildings), dtype=bool)
    if areas.is_empty or not unknown.any():
        return pd.Series(False, index=buildings.index)
    pts = buildings.geometry.representative_point().to_numpy()
    shapely.prepare(areas)
    inside = shapely.contains(areas, pts)
    return pd.Series(unknown & np.asarray(inside, dtype=bool), index=buildings.index)
