"""Developable ground: the part of a candidate site that could carry a building.

A site found in OpenStreetMap (a construction polygon, a car park, an empty block) is
often drawn over land that no one could build on: the carriageway beside it, a tram stop,
a park, or a building that is still standing. This module subtracts, from each site:

- **road and rail space**: street and track centre lines buffered to their width (the
  way's ``width`` tag, else ``lanes`` × a lane width, else a width per ``highway`` or
  ``railway`` class: ``data/taxonomy/road_widths.toml``), and the areas of the ``road_area``
  and ``rail_area`` categories of ``data/taxonomy/ground.toml`` (``area:highway``, highway
  areas, squares, platforms, rail land, bridges);
- **open space**: the ``open_space`` category of ``ground.toml`` (parks, gardens including
  private ones, playgrounds, pitches, cemeteries, woods, water);
- **existing buildings**: the town's buildings layer (municipal buildings included), but
  not the building a site is (a disused building, a building under construction).

What remains is the site's ground. Its parts narrower than ``min_width`` or smaller than
``min_area`` are slivers and are dropped; a site whose ground is less than ``min_share``
(default one half) of its land is mostly not ground and is no site. The land of an empty
block is the block less its road space (blocks are bounded by street centre lines, so
half of each street around them lies inside the enclosure); the land of any other site is
its outline.
"""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from rakennettu._geo import polygonal
from rakennettu._resources import taxonomy_dir
from rakennettu.i18n import N_, Said, Share
from rakennettu.sources.taxonomy import classify

__all__ = [
    "Cover",
    "RoadWidths",
    "developable",
    "ground_cover",
    "keep_ground",
    "load_road_widths",
    "removed_counts",
    "road_space",
    "way_width",
]

log = logging.getLogger(__name__)

_UNDERGROUND_TUNNEL = {"yes", "building_passage", "culvert", "flooded"}
# Service ways inside a lot (OSM wiki Key:service): they go when the lot is rebuilt.
_INTERNAL_SERVICE = {"parking_aisle", "drive-through"}
_NUMBER = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(?:m|meters|metres)?\s*$")


@dataclass(frozen=True)
class RoadWidths:
    """Widths (m) of road and rail centre lines without a usable ``width`` or ``lanes``.

    Attributes
    ----------
    lane_width
        Metres per traffic lane (``lanes`` × this).
    sidewalk_width
        Metres per sidewalk tagged on a road (``sidewalk=both|left|right|yes``).
    highway, railway
        Width by class.
    """

    lane_width: float
    sidewalk_width: float
    highway: Mapping[str, float]
    railway: Mapping[str, float]


def load_road_widths(path: str | Path | None = None) -> RoadWidths:
    """Read the table of road widths (default ``data/taxonomy/road_widths.toml``).

    Examples
    --------
    >>> w = load_road_widths()
    >>> w.highway["residential"], w.railway["tram"], w.lane_width
    (6.0, 3.5, 3.25)
    """
    p = Path(path) if path is not None else taxonomy_dir() / "road_widths.toml"
    raw = tomllib.loads(p.read_text(encoding="utf-8"))
    return RoadWidths(
        lane_width=float(raw["lane_width"]),
        sidewalk_width=float(raw["sidewalk_width"]),
        highway={str(k): float(v) for k, v in raw["highway"].items()},
        railway={str(k): float(v) for k, v in raw["railway"].items()},
    )


def _number(text: Any) -> float | None:
    if not isinstance(text, str):
        return None
    m = _NUMBER.match(text)
    return float(m.group(1).replace(",", ".")) if m else None


def _underground(tags: Mapping[str, str]) -> bool:
    layer = _number(tags.get("layer", "").lstrip("-")) if "layer" in tags else None
    return (
        tags.get("tunnel") in _UNDERGROUND_TUNNEL
        or tags.get("location") in ("underground", "underwater")
        or tags.get("covered") == "yes"
        or (layer is not None and tags.get("layer", "").strip().startswith("-"))
    )


def way_width(tags: Mapping[str, str], widths: RoadWidths) -> float | None:
    """The width (m) of the ground a street or track centre line takes, or None.

    ``width`` (metres, the carriageway: OSM wiki Key:width) wins; else ``lanes`` × the
    lane width; else the width of the ``highway`` or ``railway`` class. Sidewalks tagged on
    the road add their width. Underground ways (tunnels, a negative ``layer``), aisles of
    a car park and drive-throughs (``service=parking_aisle|drive-through``: they go with
    the lot) and classes not in the table (corridors, elevators, proposed roads) take
    none.

    Examples
    --------
    >>> w = load_road_widths()
    >>> way_width({"highway": "primary", "width": "14 m"}, w)
    14.0
    >>> way_width({"highway": "secondary", "lanes": "4", "sidewalk": "both"}, w)
    17.0
    >>> way_width({"highway": "residential", "tunnel": "yes"}, w) is None
    True
    """
    if _underground(tags) or tags.get("service") in _INTERNAL_SERVICE:
        return None
    hw, rw = tags.get("highway"), tags.get("railway")
    if hw == "construction":
        hw = tags.get("construction", "road")
    if hw is not None and hw in widths.highway:
        base = _number(tags.get("width"))
        if base is None or not 0.5 <= base <= 100:
            lanes = _number(tags.get("lanes"))
            base = lanes * widths.lane_width if lanes and 0 < lanes <= 16 else None
        if base is None:
            base = widths.highway[hw]
        side = tags.get("sidewalk")
        n_side = 2 if side == "both" else 1 if side in ("left", "right", "yes") else 0
        return base + n_side * widths.sidewalk_width
    if rw is not None and rw in widths.railway:
        return widths.railway[rw]
    return None


def road_space(
    features: gpd.GeoDataFrame,
    widths: RoadWidths | None = None,
    *,
    classes: pd.DataFrame | None = None,
) -> gpd.GeoSeries:
    """Road and rail space: centre lines at their width, and road and rail areas.

    Parameters
    ----------
    features
        OSM features (``tags`` dicts), in a metric CRS.
    widths
        The width table (default :func:`load_road_widths`).
    classes
        ``classify(features, "ground")`` when already made.

    Returns
    -------
    geopandas.GeoSeries
        Polygons, one per feature that takes road or rail space (index of ``features``).

    Examples
    --------
    >>> from shapely import LineString
    >>> f = gpd.GeoDataFrame({"osm_type": "way", "osm_id": [1], "name": None,
    ...     "tags": [{"highway": "residential"}]},
    ...     geometry=[LineString([(0, 0), (100, 0)])], crs=3067)
    >>> round(road_space(f).area.iloc[0])
    600
    """
    w = widths or load_road_widths()
    if len(features) == 0:
        return gpd.GeoSeries([], crs=features.crs)
    classes = classify(features, "ground") if classes is None else classes
    area = (classes["road_area"] | classes["rail_area"]).to_numpy(dtype=bool)
    poly = features.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    width = [way_width(t, w) for t in features["tags"]]
    has_width = np.array([v is not None for v in width], dtype=bool)
    out: dict[Any, BaseGeometry] = {}
    geoms = features.geometry.to_numpy()
    for i in np.flatnonzero(area & poly):
        out[features.index[i]] = geoms[i]
    lines = np.flatnonzero(has_width & ~(area & poly))
    for i, g in zip(lines, _centre_lines(geoms[lines], [width[i] for i in lines]), strict=True):
        if g is not None:
            out[features.index[i]] = g
    return gpd.GeoSeries(out, crs=features.crs, dtype="geometry")


def _centre_lines(geoms: np.ndarray, widths: list[float | None]) -> np.ndarray:
    """Ways buffered to half their width with flat ends (None for a point).

    A closed way drawn as a polygon is a loop: its boundary is buffered.
    """
    kind = shapely.get_type_id(geoms)
    lines = geoms.copy()
    loop = (kind == 3) | (kind == 6)  # Polygon, MultiPolygon
    lines[loop] = shapely.boundary(geoms[loop])
    half = np.array([float(w or 0.0) / 2 for w in widths], dtype=float)
    out = np.full(len(geoms), None, dtype=object)
    keep = shapely.get_type_id(lines) != 0  # a Point takes no space
    out[keep] = shapely.buffer(lines[keep], half[keep], cap_style="flat")
    return out


@dataclass(frozen=True, eq=False)
class Cover:
    """What covers the ground of a town: road and rail space, open space, buildings.

    Each is a GeoSeries of polygons with a spatial index, in the town's CRS.
    """

    road: gpd.GeoSeries
    open: gpd.GeoSeries
    buildings: gpd.GeoDataFrame

    @cached_property
    def building_keys(self) -> _BuildingKeys:
        """The buildings' rows by OSM type and id (made once, for every site judged)."""
        return _BuildingKeys(self.buildings)


def ground_cover(
    features: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    *,
    widths: RoadWidths | None = None,
    classes: pd.DataFrame | None = None,
) -> Cover:
    """The road space, open space and buildings of a town, to subtract from sites.

    ``classes`` is ``classify(features, "ground")`` when already made.

    Examples
    --------
    >>> from shapely import LineString, box
    >>> f = gpd.GeoDataFrame({"osm_type": "way", "osm_id": [1, 2], "name": None,
    ...     "tags": [{"highway": "residential"}, {"leisure": "park"}]},
    ...     geometry=[LineString([(0, 0), (100, 0)]), box(0, 10, 50, 60)], crs=3067)
    >>> c = ground_cover(f, gpd.GeoDataFrame(geometry=[], crs=3067))
    >>> len(c.road), len(c.open)
    (1, 1)
    """
    if len(features):
        classes = classify(features, "ground") if classes is None else classes
        is_open = classes["open_space"].to_numpy(dtype=bool)
        open_ = polygonal(features.geometry[is_open])
        open_ = open_[~open_.is_empty]
    else:
        open_ = gpd.GeoSeries([], crs=features.crs)
    road = road_space(features, widths, classes=classes)
    bld = buildings[buildings.geom_type.isin(["Polygon", "MultiPolygon"])]
    if "disused" in bld:
        bld = bld[~bld["disused"].fillna(False).astype(bool)]
    return Cover(
        road=_valid(road), open=_valid(open_), buildings=bld.set_geometry(_valid(bld.geometry))
    )


def _valid(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    bad = ~geoms.is_valid
    if bad.any():
        geoms = geoms.copy()
        geoms[bad] = shapely.make_valid(geoms[bad].to_numpy())
    return geoms


def _own_buildings(buildings: gpd.GeoDataFrame, provenance: str) -> np.ndarray:
    """Rows of ``buildings`` that are the site itself (named in its provenance)."""
    return _BuildingKeys(buildings).own(provenance)


class _BuildingKeys:
    """The buildings' rows by OSM type and id, built once for many sites."""

    def __init__(self, buildings: gpd.GeoDataFrame) -> None:
        self.n = len(buildings)
        self.keys: np.ndarray | None = None  # "type/id", sorted
        if "osm_id" in buildings and "osm_type" in buildings:
            key = buildings["osm_type"].astype(str) + "/" + buildings["osm_id"].astype(str)
            key_ = key.fillna("").to_numpy(dtype=object).astype(str)
            self.order = np.argsort(key_, kind="stable")
            self.keys = key_[self.order]

    def own(self, provenance: str) -> np.ndarray:
        """A mask of the rows named ``osm:<type>/<id>`` in ``provenance``."""
        mask = np.zeros(self.n, dtype=bool)
        if self.keys is None or not provenance:
            return mask
        for osm_type, osm_id in set(re.findall(r"osm:(\w+)/(\d+)", provenance)):
            key = f"{osm_type}/{osm_id}"
            lo = np.searchsorted(self.keys, key, side="left")
            hi = np.searchsorted(self.keys, key, side="right")
            mask[self.order[lo:hi]] = True
        return mask


def _overlay(op: Any, a: Any, b: Any = None) -> BaseGeometry:
    """A shapely overlay; on a GEOS robustness failure, again on a 1 cm grid."""
    args = (a,) if b is None else (a, b)
    try:
        return op(*args)
    except shapely.errors.GEOSException:
        return op(*args, grid_size=0.01)


def _union_within(series: gpd.GeoSeries, site: BaseGeometry) -> BaseGeometry:
    if len(series) == 0:
        return shapely.Polygon()
    hits = series.sindex.query(site, predicate="intersects")
    if len(hits) == 0:
        return shapely.Polygon()
    union = _overlay(shapely.union_all, series.to_numpy()[hits])
    return _polygons(_overlay(shapely.intersection, union, site))


def _polygons(g: BaseGeometry) -> BaseGeometry:
    """The polygonal part of a geometry (overlays can leave lines and points)."""
    if g.geom_type in ("Polygon", "MultiPolygon"):
        return g
    parts = [p for p in getattr(g, "geoms", []) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _keep_lots(ground: BaseGeometry, min_area: float, min_width: float) -> BaseGeometry:
    """The parts of the ground that are lots: at least ``min_area`` and ``min_width``."""
    parts = [g for g in getattr(ground, "geoms", [ground]) if g.geom_type == "Polygon"]
    keep = [
        g
        for g in parts
        if g.area >= min_area and (not min_width or not g.buffer(-min_width / 2).is_empty)
    ]
    return shapely.union_all(keep) if keep else shapely.Polygon()


def _judge(
    site: BaseGeometry,
    kind: str,
    road: gpd.GeoSeries,
    open_space: gpd.GeoSeries,
    buildings: gpd.GeoSeries,
    min_area: float,
    min_width: float,
    min_share: float,
) -> dict[str, Any]:
    """One site's ground, shares and verdict (a row of :func:`developable`)."""
    site = shapely.make_valid(site) if not site.is_valid else site
    road_ = _union_within(road, site)
    rest = _polygons(_overlay(shapely.difference, site, road_))
    open_ = _union_within(open_space, rest)
    rest = _polygons(_overlay(shapely.difference, rest, open_))
    bld = _union_within(buildings, rest) if len(buildings) else shapely.Polygon()
    ground = _polygons(_overlay(shapely.difference, rest, bld))
    lots = _keep_lots(ground, min_area, min_width)
    outline = site.area or 1.0
    land = outline - road_.area if kind == "empty_block" else outline
    share = lots.area / land if land > 0 else 0.0
    covers = {"road": road_.area, "open_space": open_.area, "buildings": bld.area}
    verdict = "ground"
    if _keep_lots(site, min_area, min_width).is_empty:
        verdict = "too_small"  # before anything is subtracted (the size rule alone)
    elif share < min_share:
        worst = max(covers, key=lambda k: covers[k])
        verdict = worst if covers[worst] > (outline - lots.area) / 2 else "slivers"
    return {
        "road_share": road_.area / outline,
        "open_share": open_.area / outline,
        "building_share": bld.area / outline,
        "ground_share": share,
        "ground_m2": lots.area,
        "verdict": verdict,
        "geometry": lots,
    }


def developable(
    sites: gpd.GeoDataFrame,
    cover: Cover,
    *,
    min_area: float = 400.0,
    min_width: float = 15.0,
    min_share: float = 0.5,
) -> gpd.GeoDataFrame:
    """Each site's developable ground and what covers the rest.

    Parameters
    ----------
    sites
        Site polygons with ``kind`` and ``provenance`` (an ``empty_block`` site's land is
        the block less its road space).
    cover
        :func:`ground_cover`.
    min_area, min_width
        A part of the ground smaller (m²) or narrower (m) than these is a sliver.
    min_share
        A site whose ground is less than this share of its land is no site.

    Returns
    -------
    geopandas.GeoDataFrame
        On the sites' index, the ground as geometry, with ``road_share``, ``open_share``,
        ``building_share`` (of the outline), ``ground_share`` (of the land), ``ground_m2``
        and ``verdict``: ``"ground"``, or why the site is none (``"road"``,
        ``"open_space"``, ``"buildings"``, ``"slivers"``; ``"too_small"`` when its outline
        fails the size rules before anything is subtracted).

    Examples
    --------
    A 100 m × 60 m lot with a 6 m street through it keeps two lots of about 2,800 m²:

    >>> from shapely import LineString, box
    >>> f = gpd.GeoDataFrame({"osm_type": "way", "osm_id": [1], "name": None,
    ...     "tags": [{"highway": "residential"}]},
    ...     geometry=[LineString([(0, 30), (100, 30)])], crs=3067)
    >>> sites = gpd.GeoDataFrame({"kind": ["brownfield"], "provenance": ["osm:way/9"]},
    ...     geometry=[box(0, 0, 100, 60)], crs=3067)
    >>> c = ground_cover(f, gpd.GeoDataFrame(geometry=[], crs=3067))
    >>> developable(sites, c)[["road_share", "ground_m2", "verdict"]].round(2)
       road_share  ground_m2 verdict
    0         0.1     5400.0  ground
    """
    keys = cover.building_keys
    buildings = cover.buildings.geometry
    kinds = [str(k) for k in sites["kind"]]
    provs = [str(p) for p in sites["provenance"]] if "provenance" in sites else [""] * len(sites)
    rows = []
    for site, kind, prov in zip(sites.geometry.to_numpy(), kinds, provs, strict=True):
        own = keys.own(prov)
        # a site that is a building: the others (a GeoSeries of their geometries alone,
        # whose spatial index is the one of the frame without those rows)
        others = gpd.GeoSeries(buildings.to_numpy()[~own]) if own.any() else buildings
        rows.append(_judge(site, kind, cover.road, cover.open, others, min_area, min_width,
                           min_share))  # fmt: skip
    out = gpd.GeoDataFrame(rows, geometry="geometry", crs=sites.crs)
    out.index = sites.index
    return out


def removed_counts(verdicts: pd.Series) -> dict[str, int]:
    """How many sites each rule removed, by verdict (for the run record).

    Examples
    --------
    >>> removed_counts(pd.Series(["ground", "road", "road", "open_space"]))
    {'open_space': 1, 'road': 2}
    """
    counts = verdicts[verdicts != "ground"].value_counts()
    return {str(k): int(v) for k, v in sorted(counts.items())}


def _warn_planner(v: pd.Series, name: Any, idx: Any) -> None:
    """Warn that a planner's site is mostly not ground (it is kept as given)."""
    log.warning(
        Said(
            N_(
                "planner's site {site}: only {ground} of it is developable ground "
                "(road or rail {road}, open space {open}, buildings {buildings}); "
                "kept as given"
            ),
            site=str(name or idx),
            ground=Share(v["ground_share"]),
            road=Share(v["road_share"]),
            open=Share(v["open_share"]),
            buildings=Share(v["building_share"]),
        )
    )


def keep_ground(
    sites: gpd.GeoDataFrame,
    cover: Cover,
    *,
    min_area: float = 400.0,
    min_width: float = 15.0,
    min_share: float = 0.5,
) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    """Cut every site down to its developable ground; drop those that are mostly not ground.

    Sites of the planner (``category``/``kind`` ``"planner"``) are kept as given, with a
    warning when they are mostly not ground. Points and lines pass through unchanged (the
    candidates layer drops them). Each source polygon is judged on its own, before
    overlapping sites are merged, so that a construction polygon drawn over a street does
    not hide the lot beside it.

    Returns
    -------
    (GeoDataFrame, dict)
        The sites kept, with their ground as geometry; how many each rule removed
        (``road``, ``open_space``, ``buildings``, ``slivers``).
    """
    if len(sites) == 0:
        return sites, {}
    kind = sites["category"].astype(str) if "category" in sites else sites["kind"].astype(str)
    if "kind" in sites and "category" in sites:
        kind = kind.where(kind != "planner", sites["kind"].astype(str))
    planner = (
        sites["category"].astype(str).eq("planner").to_numpy()
        if "category" in sites
        else kind.eq("planner").to_numpy()
    )
    area_like = sites.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    judged = sites[area_like].assign(kind=kind[area_like].to_numpy())
    if "provenance" not in judged:
        judged = judged.assign(
            provenance=[
                f"osm:{t}/{i}" for t, i in zip(judged["osm_type"], judged["osm_id"], strict=True)
            ]
        )
    verdict = developable(
        judged, cover, min_area=min_area, min_width=min_width, min_share=min_share
    )
    geoms = sites.geometry.to_numpy().copy()
    pos = np.flatnonzero(area_like)
    ground = verdict["verdict"].to_numpy() == "ground"
    for j in np.flatnonzero(planner[pos] & ~ground):
        _warn_planner(verdict.iloc[j], judged.iloc[j].get("name"), verdict.index[j])
    kept = ~planner[pos] & ground
    geoms[pos[kept]] = verdict.geometry.to_numpy()[kept]
    drop = np.zeros(len(sites), dtype=bool)
    drop[pos[~planner[pos] & ~ground]] = True
    out = sites.set_geometry(gpd.GeoSeries(geoms, index=sites.index, crs=sites.crs))
    removed = removed_counts(verdict["verdict"][~planner[area_like]])
    return out[~drop], removed
