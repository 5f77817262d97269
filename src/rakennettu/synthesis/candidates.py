"""Candidate development sites: the places where a town could act.

Sites come from three sources, each keeping its provenance:

- OpenStreetMap, classified by ``data/taxonomy/candidates.toml``: brownfield, construction,
  greenfield, surface parking, disused or abandoned buildings and ruins, vacant land;
- the planner's own file (a ``[[layers]]`` entry with role ``sites``: any vector format,
  with optional ``name``, ``kind`` and ``program`` columns);
- empty blocks: enclosures with no building that are not parks, water or cemeteries, and
  lie within the built town (near buildings).

Sites smaller than a minimum area are dropped as slivers, points and lines are dropped
(they have no ground to develop), and overlapping sites are merged into one that lists
all its sources.
"""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from shapely.geometry.base import BaseGeometry

from rakennettu._geo import polygonal
from rakennettu._groups import union_by_group
from rakennettu.crs import same_crs
from rakennettu.sources.taxonomy import classify
from rakennettu.wording import say

__all__ = [
    "CANDIDATE_COLUMNS",
    "access_nodes",
    "area_within",
    "built_envelope",
    "collect_candidates",
    "empty_blocks",
    "possibly_unmapped",
    "site_context",
    "undevelopable",
]

log = logging.getLogger(__name__)

CANDIDATE_COLUMNS = ["kind", "name", "program", "provenance", "area_m2", "geometry"]

# When sites of several kinds merge, the merged site takes the first kind in this order.
_KIND_ORDER = (
    "planner",
    "brownfield",
    "disused_building",
    "vacant_land",
    "construction",
    "surface_parking",
    "greenfield",
    "empty_block",
    "vacant_premises",
)


def _provenance(row: Any) -> str:
    if isinstance(row.get("provenance"), str) and row["provenance"]:
        return str(row["provenance"])
    return f"osm:{row['osm_type']}/{int(row['osm_id'])}"


# OSM polygons that make a block without buildings something other than a vacant lot:
# squares and pedestrian areas, rail yards, parks, water, sports grounds, cemeteries.
_UNDEVELOPABLE: dict[str, set[str] | None] = {
    "leisure": None,
    "natural": None,
    "water": None,
    "waterway": None,
    "place": {"square"},
    "highway": {"pedestrian", "footway", "platform", "service", "residential", "living_street"},
    "area:highway": None,
    "landuse": {
        "railway", "cemetery", "religious", "military", "recreation_ground", "grass",
        "village_green", "forest", "meadow", "allotments", "garages", "port",
    },
    "amenity": {"grave_yard", "marketplace", "parking_space", "bus_station", "ferry_terminal"},
    "railway": None,
    "public_transport": None,
    "man_made": {"bridge", "pier", "breakwater"},
    "aeroway": None,
    "historic": None,
}  # fmt: skip


def undevelopable(features: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Polygons a block without buildings should not be mistaken for a vacant lot.

    Squares and pedestrian areas, rail land, parks and sports grounds, water, cemeteries,
    allotments and historic sites (tags in ``_UNDEVELOPABLE``), from the raw OSM features
    (``town.features``: a ``tags`` dict per feature).

    Examples
    --------
    >>> from shapely import box
    >>> f = gpd.GeoDataFrame({"tags": [{"place": "square"}, {"landuse": "brownfield"}]},
    ...                      geometry=[box(0, 0, 9, 9), box(20, 0, 29, 9)], crs=3067)
    >>> len(undevelopable(f))
    1
    """

    def hit(tags: dict[str, str]) -> bool:
        for key, values in _UNDEVELOPABLE.items():
            v = tags.get(key)
            if v is not None and (values is None or v in values):
                return True
        return False

    poly = features.geom_type.isin(["Polygon", "MultiPolygon"])
    return features[poly & features["tags"].map(hit)]


def built_envelope(
    buildings: gpd.GeoDataFrame, *, reach: float = 50.0, close: float = 100.0
) -> BaseGeometry:
    """The built-up envelope of a town: land within ``reach`` m of a building, closed.

    The union of the buildings buffered by ``reach + close`` and shrunk back by ``close``
    (a morphological closing): gaps narrower than ``2 × close`` between built-up parts
    (a street, a square, an empty lot) are inside; fields and water beyond the last
    buildings are outside.

    Examples
    --------
    >>> from shapely import box
    >>> b = gpd.GeoDataFrame(geometry=[box(0, 0, 20, 20), box(180, 0, 200, 20)], crs=3067)
    >>> env = built_envelope(b)
    >>> env.contains(shapely.Point(100, 10)), env.contains(shapely.Point(100, 200))
    (True, False)
    """
    geoms = polygonal(buildings.geometry).to_numpy()
    if len(geoms) == 0:
        return shapely.Polygon()
    grown = shapely.union_all(shapely.buffer(geoms, reach + close, quad_segs=4))
    return shapely.buffer(grown, -close, quad_segs=4)


def area_within(geoms: np.ndarray, region: BaseGeometry) -> np.ndarray:
    """The area (m²) of each geometry inside ``region``, for comparing with a share of it.

    The overlay of a geometry and a large region (a town's built-up envelope) costs
    about as much as the region is large; most blocks lie wholly inside or outside it.
    So the overlay is made only where a geometry crosses the region's boundary; a
    geometry the region covers counts its own area (the overlay's up to rounding, last
    bits), a disjoint one 0.

    Examples
    --------
    >>> from shapely import box
    >>> area_within(np.array([box(0, 0, 2, 2), box(9, 0, 11, 2), box(30, 0, 31, 1)]),
    ...             box(0, 0, 10, 10)).tolist()
    [4.0, 2.0, 0.0]
    """
    out = np.zeros(len(geoms))
    if len(geoms) == 0 or region.is_empty:
        return out
    prepared = shapely.from_wkb(shapely.to_wkb(region))  # a copy: the caller's unprepared
    shapely.prepare(prepared)
    inside = shapely.covers(prepared, geoms)
    out[inside] = shapely.area(geoms[inside])
    cross = ~inside & shapely.intersects(prepared, geoms)
    out[cross] = shapely.area(shapely.intersection(geoms[cross], region))
    return out


def empty_blocks(
    enclosures: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    *,
    exclude: gpd.GeoDataFrame | None = None,
    envelope: BaseGeometry | None = None,
    inside_share: float = 0.75,
) -> gpd.GeoDataFrame:
    """Enclosures without buildings, within the built-up envelope, not green or water.

    Parameters
    ----------
    enclosures
        Blocks with ``morph_enclosure_buildings``.
    buildings
        Footprints, for the envelope when none is given.
    exclude
        Parks, green areas, water and cemeteries: a block more than half covered by them
        is not a candidate.
    envelope
        The built-up envelope (:func:`built_envelope` of ``buildings`` by default).
    inside_share
        A block must lie this share (0-1) of its area inside the envelope: the land
        around the outermost streets is not a block.

    Returns
    -------
    geopandas.GeoDataFrame
        The blocks, with ``kind = "empty_block"`` and a provenance naming the enclosure.
    """
    same_crs(enclosures=enclosures, buildings=buildings, exclude=exclude)
    empty = enclosures[enclosures["morph_enclosure_buildings"] == 0]
    if len(empty) == 0:
        return _empty_frame(enclosures.crs)
    env = built_envelope(buildings) if envelope is None else envelope
    geoms = empty.geometry.to_numpy()
    inside = area_within(geoms, env)
    keep = inside >= inside_share * shapely.area(geoms)
    if exclude is not None and len(exclude):
        cover = shapely.union_all(polygonal(exclude.geometry).to_numpy())
        keep &= area_within(geoms, cover) <= 0.5 * shapely.area(geoms)
    log.info(
        "empty blocks: %d enclosures without buildings; %d outside the built-up envelope",
        len(empty),
        int((inside < inside_share * shapely.area(geoms)).sum()),
    )
    out = empty[keep]
    return gpd.GeoDataFrame(
        {
            "kind": "empty_block",
            "name": None,
            "program": None,
            "provenance": [f"enclosure:{i}" for i in out.index],
        },
        geometry=out.geometry.to_numpy(),
        crs=enclosures.crs,
    )


def possibly_unmapped(
    blocks: gpd.GeoDataFrame,
    features: gpd.GeoDataFrame,
    *,
    road: gpd.GeoSeries | None = None,
    landuse_share: float = 0.5,
    classes: pd.DataFrame | None = None,
) -> pd.Series:
    """Why each empty block is probably a mapping gap, or None when it looks empty.

    A block whose land (the block less its road space) holds a shop, office, craft,
    amenity or address (the ``occupied`` category of ``site_context.toml``) has a building
    the map lacks; so has a block lying mostly (``landuse_share``) in residential,
    commercial or retail landuse (``built_landuse``) with no building mapped.
    ``classes`` is ``classify(features, "site_context")`` when already made.

    Returns
    -------
    pandas.Series
        On the blocks' index: ``"3 shops, amenities or addresses"``, ``"residential
        landuse with no building mapped"``, or None.

    Examples
    --------
    >>> from shapely import Point, box
    >>> blocks = gpd.GeoDataFrame(geometry=[box(0, 0, 50, 50), box(100, 0, 150, 50)], crs=3067)
    >>> f = gpd.GeoDataFrame({"osm_type": "node", "osm_id": [1], "name": None,
    ...     "tags": [{"shop": "bakery"}]}, geometry=[Point(10, 10)], crs=3067)
    >>> possibly_unmapped(blocks, f).tolist()
    ['1 shop, amenity or address', None]
    """
    out = pd.Series([None] * len(blocks), index=blocks.index, dtype=object)
    if len(blocks) == 0 or len(features) == 0:
        return out
    classes = classify(features, "site_context") if classes is None else classes
    land = blocks.geometry.to_numpy().copy()
    if road is not None and len(road):
        i, j = road.sindex.query(land, predicate="intersects")
        hit = np.unique(i)
        union = union_by_group(road.to_numpy()[j], np.searchsorted(hit, i), len(hit))
        land[hit] = shapely.difference(land[hit], union)
    occ = features[classes["occupied"].to_numpy(dtype=bool)]
    if len(occ):
        b, _ = occ.sindex.query(land, predicate="intersects")
        counts = np.bincount(b, minlength=len(land))
        for i in np.flatnonzero(counts):
            n = int(counts[i])
            out.iloc[i] = say("occupied_one" if n == 1 else "occupied_many", n=n)
    use = features[classes["built_landuse"].to_numpy(dtype=bool)]
    use = use[use.geom_type.isin(["Polygon", "MultiPolygon"])]
    if len(use):
        for i, value in _built_landuse(land, out.isna().to_numpy(), use, landuse_share):
            out.iloc[i] = say("landuse", value=value)
    return out


def _built_landuse(
    land: np.ndarray, open_: np.ndarray, use: gpd.GeoDataFrame, share: float
) -> list[tuple[int, str]]:
    """The blocks (positions in ``land``, among ``open_``) lying ``share`` in built landuse.

    Each with the ``landuse`` value of the first landuse polygon on it (``"built"`` when
    it has none).
    """
    todo = np.flatnonzero(open_ & ~shapely.is_empty(land))
    if not len(todo):
        return []
    i, j = use.sindex.query(land[todo], predicate="intersects")
    order = np.argsort(i, kind="stable")  # by block, each block's in the query's order
    i, j = i[order], j[order]
    hit = np.unique(i)
    if not len(hit):
        return []
    union = union_by_group(use.geometry.to_numpy()[j], np.searchsorted(hit, i), len(hit))
    g = land[todo[hit]]
    covered = shapely.area(shapely.intersection(union, g)) >= share * shapely.area(g)
    first = j[np.searchsorted(i, hit)]  # the first landuse polygon the query found on each
    tags = use["tags"].to_numpy()
    return [
        (int(todo[h]), str(tags[f].get("landuse", "built")))
        for h, f, c in zip(hit, first, covered, strict=True)
        if c
    ]


def _empty_frame(crs: Any) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {c: pd.Series([], dtype=object) for c in CANDIDATE_COLUMNS if c != "geometry"},
        geometry=gpd.GeoSeries([], crs=crs),
        crs=crs,
    ).astype({"area_m2": float})


def collect_candidates(
    sites: gpd.GeoDataFrame,
    *,
    area: Any = None,
    blocks: gpd.GeoDataFrame | None = None,
    min_area: float = 400.0,
    min_width: float = 15.0,
) -> gpd.GeoDataFrame:
    """Gather candidate sites, drop slivers, points and lines, and merge overlaps.

    Parameters
    ----------
    sites
        Classified candidate features (``town.candidates``): ``category`` (the kind),
        ``osm_type``/``osm_id`` or ``provenance``, optional ``name`` and ``program``.
    area
        The study area: sites must intersect it.
    blocks
        Further sites, e.g. :func:`empty_blocks`.
    min_area
        Sites smaller than this (m², after merging) are dropped.
    min_width
        Sites with no part this wide (m) are dropped: a strip between two roads holds
        no building.

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed ``candidate_id`` (``"C1"``, ``"C2"`` … west to east), with ``kind``
        (``"+"``-joined when merged), ``name``, ``program``, ``provenance`` (``"; "``-joined)
        and ``area_m2``.

    Examples
    --------
    Two overlapping lots become one; a 10 m² sliver is dropped:

    >>> from shapely import box
    >>> sites = gpd.GeoDataFrame({"category": ["brownfield", "surface_parking", "brownfield"],
    ...     "osm_type": "way", "osm_id": [1, 2, 3], "name": [None, "P", None]},
    ...     geometry=[box(0, 0, 40, 40), box(30, 0, 70, 40), box(200, 0, 202, 5)], crs=3067)
    >>> c = collect_candidates(sites)
    >>> c[["kind", "provenance", "area_m2"]]
                                kind                   provenance  area_m2
    candidate_id
    C1            brownfield+surface_parking  osm:way/1; osm:way/2   2800.0
    """
    frames = []
    if len(sites):
        s = sites.copy()
        kind = s["category"] if "category" in s else pd.Series("planner", index=s.index)
        s["kind"] = np.where(
            kind.astype(str) == "planner", s.get("kind", "planner"), kind.astype(str)
        )
        s["provenance"] = [_provenance(r) for _, r in s.iterrows()]
        for col in ("name", "program"):
            if col not in s:
                s[col] = None
        frames.append(s[["kind", "name", "program", "provenance", "geometry"]])
    if blocks is not None and len(blocks):
        frames.append(blocks[["kind", "name", "program", "provenance", "geometry"]])
    if not frames:
        return _empty_frame(sites.crs).rename_axis("candidate_id")
    crs = frames[0].crs
    allsites = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=crs)
    allsites = allsites.set_geometry(polygonal(allsites.geometry))
    dropped = int(allsites.geometry.is_empty.sum())
    allsites = allsites[~allsites.geometry.is_empty]
    if area is not None:
        allsites = allsites[allsites.intersects(area)]
    merged = _merge_overlaps(allsites)
    merged["area_m2"] = merged.geometry.area
    narrow = merged.geometry.buffer(-min_width / 2).is_empty.to_numpy() if min_width else False
    small = (merged["area_m2"] < min_area) | narrow
    log.info(
        "candidates: %d sites; dropped %d points or lines and %d below %.0f m² or %.0f m "
        "wide; merged overlaps into %d",
        len(allsites),
        dropped,
        int(small.sum()),
        min_area,
        min_width,
        int((~small).sum()),
    )
    out = merged[~small]
    order = np.argsort(out.geometry.centroid.x.to_numpy(), kind="stable")
    out = out.iloc[order].reset_index(drop=True)
    out.index = pd.Index([f"C{i + 1}" for i in range(len(out))], name="candidate_id")
    return out[CANDIDATE_COLUMNS]


def _merge_overlaps(sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Union the sites that overlap (by area), transitively; join their attributes."""
    n = len(sites)
    geoms = sites.geometry.to_numpy()
    left, right = sites.sindex.query(geoms, predicate="intersects")
    pairs = left < right
    left, right = left[pairs], right[pairs]
    if len(left):
        overlap = shapely.area(shapely.intersection(geoms[left], geoms[right])) > 1.0
        left, right = left[overlap], right[overlap]
    graph = coo_matrix((np.ones(len(left)), (left, right)), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    n_groups = int(label.max()) + 1 if n else 0
    union = union_by_group(geoms, label, n_groups)
    kind = sites["kind"].astype(str).to_numpy()
    cols = {c: sites[c].to_numpy() for c in ("name", "program", "provenance")}
    order = np.argsort(label, kind="stable")
    members = np.split(order, np.cumsum(np.bincount(label))[:-1]) if n else []
    rows = [
        {
            "kind": "+".join(sorted(set(kind[m]), key=_kind_rank)),
            "name": _first_text(cols["name"][m]),
            "program": _first_text(cols["program"][m]),
            "provenance": "; ".join(dict.fromkeys(cols["provenance"][m])),
            "geometry": union[g],
        }
        for g, m in enumerate(members)
    ]
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=sites.crs)


def _kind_rank(kind: str) -> int:
    return _KIND_ORDER.index(kind) if kind in _KIND_ORDER else len(_KIND_ORDER)


def _first_text(values: np.ndarray) -> str | None:
    """The first non-empty text among ``values``, or None."""
    return next((v for v in values if isinstance(v, str) and v), None)


def access_nodes(
    candidates: gpd.GeoDataFrame,
    nodes: gpd.GeoDataFrame,
    *,
    distance: float = 25.0,
    fallback: float = 250.0,
) -> pd.Series:
    """The street nodes where each site meets or nears the walking network.

    Parameters
    ----------
    candidates
        Site polygons.
    nodes
        Street nodes (points).
    distance
        Nodes within this distance (m) of a site's boundary or inside it are its access
        points.
    fallback
        A site with none gets the nearest node within this distance (m).

    Returns
    -------
    pandas.Series
        On the candidates' index: a list of node ids (empty when the site is farther than
        ``fallback`` from every node).
    """
    same_crs(candidates=candidates, nodes=nodes)
    geoms = candidates.geometry.to_numpy()
    site, node = nodes.sindex.query(geoms, predicate="dwithin", distance=distance)
    found: dict[int, list[Any]] = {}
    for s, v in zip(site, node, strict=True):
        found.setdefault(int(s), []).append(nodes.index[v])
    missing = [i for i in range(len(geoms)) if i not in found]
    if missing:
        s2, v2 = nodes.sindex.nearest(geoms[missing], max_distance=fallback, return_all=False)
        for s, v in zip(s2, v2, strict=True):
            found[missing[int(s)]] = [nodes.index[v]]
    return pd.Series([found.get(i, []) for i in range(len(geoms))], index=candidates.index)


def site_context(
    sites: gpd.GeoDataFrame, cells: gpd.GeoDataFrame, *, reach: float = 100.0
) -> pd.Series:
    """The vitality around each site: the mean synergy of the cells within ``reach`` m.

    Returns
    -------
    pandas.Series
        Named ``context``, on the sites' index; NaN where no scored cell is near.

    Examples
    --------
    >>> from shapely import box
    >>> cells = gpd.GeoDataFrame({"synergy": [0.2, 0.6, 0.9]},
    ...     geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10), box(900, 0, 910, 10)], crs=3067)
    >>> sites = gpd.GeoDataFrame(geometry=[box(2, 2, 4, 4)], crs=3067)
    >>> site_context(sites, cells).round(2).tolist()
    [0.4]
    """
    site_pos, cell_pos = cells.sindex.query(
        sites.geometry.to_numpy(), predicate="dwithin", distance=reach
    )
    values = cells["synergy"].to_numpy()[cell_pos]
    frame = pd.DataFrame({"site": site_pos, "v": values}).dropna()
    mean = frame.groupby("site")["v"].mean()
    out = np.full(len(sites), np.nan)
    out[mean.index.to_numpy()] = mean.to_numpy()
    return pd.Series(out, index=sites.index, name="context")
