"""Sites named as a planner names them: name, district, what is there now, flags.

- ``name``: the site's OSM name; else its kind in words "at" the nearest address (street
  and house number, within ``address_reach`` m of the site), else "at" the nearest named
  street (within ``street_reach`` m), else "near" its district;
- ``district``: the smallest mapped ``place=neighbourhood|quarter|suburb`` area holding
  the site, else the nearest such place node (within ``district_reach`` m);
- ``now``: what is there now, in words ("surface car park, 46 spaces", "construction
  site", "school grounds");
- ``flags``: what a planner must see (``site_context.toml``: private access, school or
  church grounds, heritage, already under construction), ``"; "``-joined;
- the parts the pages say these with in another language (:mod:`rakennettu.wording`):
  ``place`` (the address, street or district a generated name refers to),
  ``place_kind`` (``address``, ``street``, ``district``; empty for OSM's own name),
  ``spaces`` (car park spaces mapped on a surface car park) and ``flag_ids``.

The phrases live in :mod:`rakennettu.wording`, in English here.
"""

from __future__ import annotations

import re
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from rakennettu.i18n import language
from rakennettu.sources.taxonomy import classify
from rakennettu.wording import FLAGS, NOW, kind_words, site_name

__all__ = ["describe_sites"]

_PLACES = ("neighbourhood", "quarter", "suburb")
_OVERLAP = 0.1  # share of a site an area must cover to flag it


def _capacity(tags: dict[str, str]) -> int:
    m = re.match(r"^\s*(\d+)\s*$", str(tags.get("capacity", "")))
    return int(m.group(1)) if m else 0


def _pairs(frame: gpd.GeoDataFrame, geoms: np.ndarray, **query: Any) -> tuple[Any, Any]:
    """(site, feature) position pairs from one query of the features' spatial index.

    Grouped by site in the sites' order; within a site, the features in the order a
    query of that site alone gives them (the same tree search), which decides ties.
    """
    if len(frame) == 0 or len(geoms) == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    i, j = frame.geometry.sindex.query(geoms, **query)
    return i.astype(np.intp), j.astype(np.intp)


def _first_nearest(
    n: int, i: np.ndarray, j: np.ndarray, dist: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each of ``n`` sites, its pair of least distance (the first such); -1 if none."""
    best = np.full(n, -1, dtype=np.intp)
    d = np.full(n, np.inf)
    if len(i):
        order = np.lexsort((np.arange(len(i)), dist, i))  # by site, distance, query order
        first = order[np.r_[True, i[order][1:] != i[order][:-1]]]
        best[i[first]], d[i[first]] = j[first], dist[first]
    return best, d


def _districts(geoms: np.ndarray, places: gpd.GeoDataFrame, reach: float) -> list[str | None]:
    """Each site's district: the smallest place area holding its representative point.

    Else the nearest place node within ``reach`` m; else None.
    """
    out: list[str | None] = [None] * len(geoms)
    if len(places) == 0:
        return out
    pts = shapely.point_on_surface(geoms)  # as BaseGeometry.representative_point()
    areas = places[places.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()]
    rank = np.asarray([_PLACES.index(t["place"]) for t in areas["tags"]], dtype=np.intp)
    i, j = _pairs(areas, pts)
    held = shapely.contains(areas.geometry.to_numpy()[j], pts[i])
    i, j = i[held], j[held]
    order = np.lexsort((j, rank[j], i))  # by site, then place rank, then the areas' order
    i, j = i[order], j[order]
    first = np.r_[True, i[1:] != i[:-1]] if len(i) else np.zeros(0, dtype=bool)
    names = areas["name"].to_numpy()
    for a, b in zip(i[first], j[first], strict=True):
        out[a] = str(names[b])
    nodes = places[(places.geom_type == "Point").to_numpy()]
    if len(nodes) == 0:
        return out
    node_names = nodes["name"].to_numpy()
    node_geoms = nodes.geometry.to_numpy()
    for a in [k for k, name in enumerate(out) if name is None]:
        d = shapely.distance(node_geoms, pts[a])  # as nodes.distance(pt)
        if np.isnan(d).all():
            continue
        k = int(np.nanargmin(d))  # the first least distance, as Series.idxmin
        if d[k] <= reach:
            out[a] = str(node_names[k])
    return out


def _nearest_labels(
    geoms: np.ndarray, frame: gpd.GeoDataFrame, reach: float
) -> tuple[np.ndarray, np.ndarray]:
    """Each site's nearest feature within ``reach`` m (position, -1 if none), and how far.

    The first of least distance in the order the spatial index finds them.
    """
    i, j = _pairs(frame, geoms, predicate="dwithin", distance=reach)
    if len(i) == 0:
        return _first_nearest(len(geoms), i, j, np.zeros(0))
    dist = shapely.distance(frame.geometry.to_numpy()[j], geoms[i])  # as near.distance(site)
    return _first_nearest(len(geoms), i, j, dist)


def _addresses(
    geoms: np.ndarray, addresses: gpd.GeoDataFrame, reach: float
) -> list[tuple[str, str] | None]:
    if len(addresses) == 0:
        return [None] * len(geoms)
    best, _ = _nearest_labels(geoms, addresses, reach)
    tags = addresses["tags"].to_numpy()
    return [
        None if b < 0 else (str(tags[b]["addr:street"]), str(tags[b]["addr:housenumber"]))
        for b in best
    ]


def _edge_name(v: Any) -> str | None:
    if isinstance(v, list | tuple | np.ndarray):
        v = next((x for x in v if isinstance(x, str) and x), None)
    return v if isinstance(v, str) and v else None


def _streets(geoms: np.ndarray, edges: gpd.GeoDataFrame, reach: float) -> list[str | None]:
    best, _ = _nearest_labels(geoms, edges, reach)
    names = edges["name"].to_numpy() if len(edges) else np.zeros(0, dtype=object)
    return [None if b < 0 else str(names[b]) for b in best]


def _flags(
    geoms: np.ndarray, kinds: list[str], context: gpd.GeoDataFrame, classes: pd.DataFrame
) -> list[list[str]]:
    """The flags of each site, in the order of ``FLAGS``.

    A point of a flagged feature on the site, or a polygon covering at least ``_OVERLAP``
    of it; ``under_construction`` also by the site's own kind.
    """
    names = list(FLAGS)
    flagged = np.zeros((len(geoms), len(names)), dtype=bool)
    i, j = _pairs(context, geoms, predicate="intersects")
    if len(i):
        g = context.geometry.to_numpy()[j]
        kind = shapely.get_type_id(g)
        hit = kind == 0  # Point
        poly = (kind == 3) | (kind == 6)  # Polygon, MultiPolygon
        cut = shapely.area(shapely.intersection(g[poly], geoms[i[poly]]))
        hit[poly] = cut >= _OVERLAP * shapely.area(geoms[i[poly]])
        on = classes.loc[context.index, names].to_numpy(dtype=bool)[j] & hit[:, None]
        np.logical_or.at(flagged, i, on)
    building = np.asarray(["construction" in k.split("+") for k in kinds], dtype=bool)
    flagged[:, names.index("under_construction")] |= building
    return [[names[f] for f in np.flatnonzero(row)] for row in flagged]


def _spaces(geoms: np.ndarray, kinds: list[str], parking: gpd.GeoDataFrame) -> list[int]:
    """Car park spaces mapped on each surface car park site (0 when none or another kind).

    The capacity of the parking points on it and of the areas at least half on it.
    """
    out = [0] * len(geoms)
    lots = np.asarray(["surface_parking" in k.split("+") for k in kinds], dtype=bool)
    if not lots.any() or not len(parking):
        return out
    where = np.flatnonzero(lots)
    i, j = _pairs(parking, geoms[where], predicate="intersects")
    g = parking.geometry.to_numpy()[j]
    point = shapely.get_type_id(g) == 0
    half = shapely.area(shapely.intersection(g, geoms[where][i])) >= 0.5 * shapely.area(g)
    capacity = np.asarray([_capacity(t) for t in parking["tags"]], dtype=np.int64)
    counts = np.zeros(len(where), dtype=np.int64)
    np.add.at(counts, i, np.where(point | half, capacity[j], 0))
    for k, c in zip(where, counts, strict=True):
        out[k] = int(c)
    return out


def _now(kind: str, flags: list[str], spaces: int) -> str:
    parts = []
    for k in dict.fromkeys(kind.split("+")):
        if k == "surface_parking" and spaces:
            parts.append(NOW["surface_parking_capacity"].format(capacity=spaces))
        else:
            parts.append(NOW.get(k, k.replace("_", " ")))
    for flag in ("school_grounds", "church_grounds"):
        if flag in flags:
            parts.append(NOW[flag])
    return "; ".join(dict.fromkeys(parts))


def describe_sites(
    sites: gpd.GeoDataFrame,
    features: gpd.GeoDataFrame,
    edges: gpd.GeoDataFrame,
    *,
    address_reach: float = 60.0,
    street_reach: float = 150.0,
    district_reach: float = 1500.0,
    classes: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Name, district, what is there now and flags of each site.

    Parameters
    ----------
    sites
        The candidate sites (``kind``, ``name``), in a metric CRS.
    features
        The town's OSM features (``tags`` dicts), same CRS.
    edges
        Street edges with ``name``.
    classes
        ``classify(features, "site_context")`` when already made.

    Returns
    -------
    pandas.DataFrame
        On the sites' index: ``name``, ``district``, ``now``, ``flags``, ``place``,
        ``place_kind``, ``spaces``, ``flag_ids``.

    Examples
    --------
    >>> from shapely import LineString, Point, box
    >>> sites = gpd.GeoDataFrame({"kind": ["surface_parking"], "name": [None]},
    ...     geometry=[box(0, 0, 40, 40)], crs=3067)
    >>> f = gpd.GeoDataFrame({"osm_type": ["way", "node"], "osm_id": [1, 2], "name": None,
    ...     "tags": [{"amenity": "parking", "capacity": "46", "access": "private"},
    ...              {"addr:street": "Katu", "addr:housenumber": "3"}]},
    ...     geometry=[box(0, 0, 40, 40), Point(45, 20)], crs=3067)
    >>> e = gpd.GeoDataFrame({"name": ["Katu"]}, geometry=[LineString([(50, 0), (50, 50)])],
    ...     crs=3067)
    >>> describe_sites(sites, f, e).iloc[0].tolist()[:4]
    ['Surface car park at Katu 3', None, 'surface car park, 46 spaces', 'private access']
    """
    tags = features["tags"]
    is_place = tags.map(lambda t: t.get("place") in _PLACES) & features["name"].notna()
    places = features[is_place]
    has_addr = tags.map(lambda t: "addr:street" in t and "addr:housenumber" in t)
    addresses = features[has_addr]
    parking = features[tags.map(lambda t: t.get("amenity") == "parking")]
    if "name" in edges:
        names = edges["name"].map(_edge_name)
        named = edges.assign(name=names)[names.notna()]
    else:
        named = edges.iloc[:0]
    if classes is None:
        classes = classify(features, "site_context") if len(features) else pd.DataFrame()
    flagged = features[classes[list(FLAGS)].any(axis=1).to_numpy()] if len(features) else features
    en = language("en")
    geoms = sites.geometry.to_numpy()
    kinds = [str(k) for k in sites["kind"]]
    given = sites["name"].tolist() if "name" in sites else [None] * len(sites)
    districts = _districts(geoms, places, district_reach)
    addresses_ = _addresses(geoms, addresses, address_reach)
    streets = _streets(geoms, named, street_reach)
    flags_ = _flags(geoms, kinds, flagged, classes)
    spaces_ = _spaces(geoms, kinds, parking)
    rows = []
    for k, idx in enumerate(sites.index):
        kind, district, name, flags, spaces = (
            kinds[k],
            districts[k],
            given[k],
            flags_[k],
            spaces_[k],
        )
        place, how = None, None
        if not (isinstance(name, str) and name):
            addr, street = addresses_[k], streets[k]
            if addr is not None:
                place, how = f"{addr[0]} {addr[1]}", "address"
            elif street is not None:
                place, how = street, "street"
            elif district is not None:
                place, how = district, "district"
            name = (site_name(en, {"kind": kind, "place": place, "place_kind": how})
                    if how else f"{kind_words(kind)} {idx}")  # fmt: skip
        rows.append(
            {
                "name": name,
                "district": district,
                "now": _now(kind, flags, spaces),
                "flags": "; ".join(FLAGS[f] for f in flags) or None,
                "place": place,
                "place_kind": how,
                "spaces": spaces if spaces else None,
                "flag_ids": ";".join(flags) or None,
            }
        )
    return pd.DataFrame(rows, index=sites.index, columns=_COLUMNS)


_COLUMNS = ["name", "district", "now", "flags", "place", "place_kind", "spaces", "flag_ids"]
