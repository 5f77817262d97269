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
from shapely.geometry.base import BaseGeometry

from rakennettu.i18n import language
from rakennettu.sources.taxonomy import classify
from rakennettu.wording import FLAGS, NOW, kind_words, site_name

__all__ = ["describe_sites"]

_PLACES = ("neighbourhood", "quarter", "suburb")
_OVERLAP = 0.1  # share of a site an area must cover to flag it


def _capacity(tags: dict[str, str]) -> int:
    m = re.match(r"^\s*(\d+)\s*$", str(tags.get("capacity", "")))
    return int(m.group(1)) if m else 0


def _district(site: BaseGeometry, places: gpd.GeoDataFrame, reach: float) -> str | None:
    if len(places) == 0:
        return None
    pt = site.representative_point()
    areas = places[places.geom_type.isin(["Polygon", "MultiPolygon"])]
    holding = areas[areas.contains(pt)]
    if len(holding):
        order = holding["tags"].map(lambda t: _PLACES.index(t["place"]))
        return str(holding.loc[order.sort_values(kind="stable").index[0], "name"])
    nodes = places[places.geom_type == "Point"]
    if len(nodes) == 0:
        return None
    d = nodes.distance(pt)
    return str(nodes.loc[d.idxmin(), "name"]) if d.min() <= reach else None


def _address(
    site: BaseGeometry, addresses: gpd.GeoDataFrame, reach: float
) -> tuple[str, str] | None:
    if len(addresses) == 0:
        return None
    hits = addresses.sindex.query(site, predicate="dwithin", distance=reach)
    if len(hits) == 0:
        return None
    near = addresses.iloc[hits]
    i = near.distance(site).to_numpy().argmin()
    tags = near["tags"].iloc[i]
    return str(tags["addr:street"]), str(tags["addr:housenumber"])


def _edge_name(v: Any) -> str | None:
    if isinstance(v, list | tuple | np.ndarray):
        v = next((x for x in v if isinstance(x, str) and x), None)
    return v if isinstance(v, str) and v else None


def _street(site: BaseGeometry, edges: gpd.GeoDataFrame, reach: float) -> str | None:
    if len(edges) == 0:
        return None
    hits = edges.sindex.query(site, predicate="dwithin", distance=reach)
    if len(hits) == 0:
        return None
    near = edges.iloc[hits]
    i = near.distance(site).to_numpy().argmin()
    return str(near["name"].iloc[i])


def _flags(
    site: BaseGeometry, kind: str, context: gpd.GeoDataFrame, classes: pd.DataFrame
) -> list[str]:
    found = []
    hits = context.sindex.query(site, predicate="intersects") if len(context) else []
    near = context.iloc[hits] if len(hits) else context.iloc[:0]
    for flag in FLAGS:
        rows = near[classes.loc[near.index, flag].to_numpy(dtype=bool)] if len(near) else near
        hit = flag == "under_construction" and "construction" in kind.split("+")
        for g in rows.geometry:
            if g.geom_type == "Point" or (
                g.geom_type in ("Polygon", "MultiPolygon")
                and shapely.intersection(g, site).area >= _OVERLAP * site.area
            ):
                hit = True
                break
        if hit:
            found.append(flag)
    return found


def _spaces(site: BaseGeometry, kind: str, parking: gpd.GeoDataFrame) -> int:
    """Car park spaces mapped on a surface car park site (0 when none or another kind)."""
    if "surface_parking" not in kind.split("+") or not len(parking):
        return 0
    hits = parking.iloc[parking.sindex.query(site, predicate="intersects")]
    return sum(
        _capacity(t)
        for t, g in zip(hits["tags"], hits.geometry, strict=True)
        if g.geom_type == "Point" or shapely.intersection(g, site).area >= 0.5 * g.area
    )


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
    classes = classify(features, "site_context") if len(features) else pd.DataFrame()
    flagged = features[classes[list(FLAGS)].any(axis=1).to_numpy()] if len(features) else features
    en = language("en")
    rows = []
    for idx, site in zip(sites.index, sites.geometry, strict=True):
        kind = str(sites.at[idx, "kind"])
        district = _district(site, places, district_reach)
        name = sites.at[idx, "name"] if "name" in sites else None
        place, how = None, None
        if not (isinstance(name, str) and name):
            addr = _address(site, addresses, address_reach)
            street = _street(site, named, street_reach) if addr is None else None
            if addr is not None:
                place, how = f"{addr[0]} {addr[1]}", "address"
            elif street is not None:
                place, how = street, "street"
            elif district is not None:
                place, how = district, "district"
            name = (site_name(en, {"kind": kind, "place": place, "place_kind": how})
                    if how else f"{kind_words(kind)} {idx}")  # fmt: skip
        flags = _flags(site, kind, flagged, classes)
        spaces = _spaces(site, kind, parking)
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
