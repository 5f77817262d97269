"""The Town: everything a workflow names, loaded, cleaned, clipped and projected.

:func:`load_town` is the one place where sources meet. It resolves the study area,
chooses the metric CRS, reads OpenStreetMap (a local extract or an online query) and the
municipal layers, classifies features with the tag tables in ``data/taxonomy``, and
returns a :class:`Town` whose frames all share one projected CRS in metres.

Edge effects: the network and the point sets are loaded for the *context*, the study
area grown by the largest analysis radius (as far as the data reach), so that a node near
the boundary still sees the shops and streets just outside it. Rows carry ``in_area`` to
tell the two apart; results are reported for the study area.
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from rakennettu.checks import check_sizes, check_town_crs
from rakennettu.config import LayerConfig, Workflow, resolve_workflow
from rakennettu.crs import town_crs
from rakennettu.errors import ConfigError, EmptyDataError, SourceError
from rakennettu.network.undirected import to_undirected
from rakennettu.sources import municipal
from rakennettu.sources.buildings import normalise_buildings, use_from_codes
from rakennettu.sources.municipal import repair_geometries
from rakennettu.sources.osm import (
    OSM_ATTRIBUTION,
    OSMData,
    OSMStarted,
    fetch_osm,
    find_place,
    read_osm_file_started,
    scan_osm_file,
)
from rakennettu.sources.taxonomy import feature_layers
from rakennettu.sources.wfs import fetch_wfs

__all__ = ["Town", "load_town"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Town:
    """A town ready for analysis: every frame in :attr:`crs` (metres).

    Attributes
    ----------
    name, title
        Short name (output folder) and display name.
    crs
        The metric CRS of every frame.
    area
        The study area polygon.
    context
        The area grown by the largest radius, within the data: what was loaded.
    graph
        The walking network: an undirected, simplified osmnx MultiGraph, edge ``length``
        in metres (the length of the projected geometry).
    nodes, edges
        The graph as GeoDataFrames: nodes indexed by ``node_id``; edges by ``(u, v, key)``
        with ``length`` (m), ``highway``, ``name``. Both carry ``in_area``.
    buildings
        Footprints with ``use``, ``floors``, ``height`` (m), ``year``, ``source``.
    activities, third_places, landmarks
        Classified points and polygons (``category``/``kind`` columns from the tag tables).
    green_blue
        Parks, green areas and water with ``category`` (green, blue, cemetery) and ``kind``.
    candidates
        Candidate development sites (polygons) with ``kind`` and provenance.
    barriers
        Rail lines and water, for enclosures.
    population
        Population/jobs grid cells (``residents``, ``jobs``), or None.
    dem
        Terrain raster in the town CRS, or None.
    sources
        What was read, with licences: one dict per source.
    report
        Counts, repairs and warnings of the load.
    """

    name: str
    title: str
    crs: CRS
    area: BaseGeometry
    context: BaseGeometry
    graph: nx.MultiGraph
    nodes: gpd.GeoDataFrame
    edges: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    activities: gpd.GeoDataFrame
    third_places: gpd.GeoDataFrame
    landmarks: gpd.GeoDataFrame
    green_blue: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    barriers: gpd.GeoDataFrame
    features: gpd.GeoDataFrame = field(repr=False)
    population: gpd.GeoDataFrame | None = None
    dem: municipal.Raster | None = None
    sources: tuple[dict[str, Any], ...] = ()
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def area_km2(self) -> float:
        """Size of the study area in km²."""
        return float(self.area.area) / 1e6

    def layers(self) -> dict[str, gpd.GeoDataFrame]:
        """The town's frames by output layer name (see the output contract)."""
        out = {
            "nodes": self.nodes,
            "edges": self.edges,
            "buildings": self.buildings,
            "activities": self.activities,
            "third_places": self.third_places,
            "landmarks": self.landmarks,
            "green_blue": self.green_blue,
            "candidates": self.candidates,
        }
        if self.population is not None:
            out["population"] = self.population
        return out

    def __repr__(self) -> str:
        """A short summary: name, CRS, study area and rows per layer (never the frames).

        Examples
        --------
        >>> kotka_town()
        Town('kotka-karhula', 'Kotka, Karhula', EPSG:3067, ... km², nodes=..., edges=...,
             buildings=..., activities=..., third_places=..., landmarks=..., green_blue=...,
             candidates=...)
        """
        counts = ", ".join(f"{k}={len(v)}" for k, v in self.layers().items())
        crs = self.crs.to_string() if self.crs is not None else "no CRS"
        return f"Town({self.name!r}, {self.title!r}, {crs}, {self.area_km2:.2f} km², {counts})"

    def summary(self) -> pd.DataFrame:
        """Counts per layer, for printing.

        Examples
        --------
        >>> town = load_town("kotka-karhula")  # doctest: +SKIP
        >>> town.summary()  # doctest: +SKIP
        """
        rows = [
            {"layer": k, "rows": len(v), "in area": int(v["in_area"].sum())}
            for k, v in self.layers().items()
        ]
        return pd.DataFrame(rows).set_index("layer")


# ---------------------------------------------------------------------------------------


def _to_wgs84(geom: BaseGeometry, crs: CRS) -> BaseGeometry:
    return gpd.GeoSeries([geom], crs=crs).to_crs(4326).iloc[0]


def _from_wgs84(geom: BaseGeometry, crs: CRS) -> BaseGeometry:
    return gpd.GeoSeries([geom], crs=4326).to_crs(crs).iloc[0]


def _area_polygon_from_file(wf: Workflow) -> BaseGeometry:
    path = wf.area.polygon
    assert path is not None
    try:
        gdf = gpd.read_file(path, layer=wf.area.layer, engine="pyogrio")
    except Exception as e:
        raise SourceError(f"{path}: cannot read the [area] polygon file: {e}") from None
    if gdf.crs is None:
        raise SourceError(f"{path}: the [area] polygon file has no CRS; set one in the file")
    polys = gdf[gdf.geom_type.isin(["Polygon", "MultiPolygon"])]
    if len(polys) == 0:
        raise EmptyDataError(f"{path}: the [area] polygon file holds no polygons")
    geom = shapely.make_valid(polys.to_crs(4326).union_all())
    return geom


def _swapped(b: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    w, s, e, n = b
    return (s, w, n, e)


def resolve_area(wf: Workflow, osm_file: Path | None) -> tuple[BaseGeometry | None, str]:
    """The study area in EPSG:4326 (None: the whole extract), and how it was given."""
    a = wf.area
    if a.bbox is not None:
        area = shapely.box(*a.bbox)
        if osm_file is not None:
            _, header = scan_osm_file(osm_file)
            if header is not None:
                extract = shapely.box(*header)
                swapped = shapely.box(*_swapped(a.bbox))
                if not area.intersects(extract) and swapped.intersects(extract):
                    raise ConfigError(
                        f"{wf.source_file}, [area] bbox: {list(a.bbox)} lies outside the "
                        f"extract but its swap does not: write it as [west, south, east, "
                        f"north] (longitude first), i.e. {list(_swapped(a.bbox))}"
                    )
        return area, f"bbox {list(a.bbox)}"
    if a.polygon is not None:
        return _area_polygon_from_file(wf), f"polygon {a.polygon}"
    if a.place is not None:
        return None, f"place {a.place!r}"
    return None, "whole extract"


def _place_online(name: str, root: Path) -> BaseGeometry:
    import osmnx as ox

    old = (ox.settings.use_cache, ox.settings.cache_folder)
    ox.settings.use_cache, ox.settings.cache_folder = True, str(root / "http")
    try:
        gdf = ox.geocode_to_gdf(name)
    except Exception as e:
        raise SourceError(f"cannot geocode place {name!r} online: {e}") from e
    finally:
        ox.settings.use_cache, ox.settings.cache_folder = old
    return gdf.to_crs(4326).union_all()


def load_town(
    workflow: Workflow | str | Path, *, progress: bool = False, cache: bool | None = None
) -> Town:
    """Load a town: area, CRS, walking network, buildings, classified features, layers.

    Parameters
    ----------
    workflow
        A :class:`~rakennettu.config.Workflow`, a path to a workflow file, or the name of
        a bundled town (``"helsinki-keskusta"``, ``"kotka-karhula"``).
    progress
        Log each step at INFO level as it finishes.
    cache
        Read the town from the stage cache (:mod:`rakennettu.cache`, the entry a run
        reads and writes too) when its input files and settings are unchanged, else load
        it and keep it there; by default the workflow's ``[cache] stages``. A town read
        back has no load timings (``report["timings_s"]`` is empty). A town from an
        online source is loaded each time.

    Returns
    -------
    Town

    Raises
    ------
    ConfigError
        The workflow is invalid.
    SourceError
        A file is missing, unreadable or corrupt, or lacks a mapped column.
    CRSError
        A layer has no CRS or one that disagrees with its coordinates.
    EmptyDataError
        The area holds no streets or no buildings, or a layer lies outside it.

    Examples
    --------
    >>> town = kotka_town()  # load_town("kotka-karhula"), loaded once for all doctests
    >>> town.crs.to_epsg(), len(town.buildings) > 1000, town.graph.is_directed()
    (3067, True, False)
    >>> sorted(town.nodes.columns)[:3]
    ['geometry', 'in_area', 'street_count']
    """
    wf = resolve_workflow(workflow)
    if wf.cache.stages if cache is None else cache:
        from rakennettu.cache import StageCache, cached_town

        town, _ = cached_town(wf, StageCache(wf.cache_dir), lambda: _load(wf, progress))
        return town
    return _load(wf, progress)


def _load(wf: Workflow, progress: bool) -> Town:
    """:func:`load_town`, without the cache."""
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    osm, crs, area, area_kind = _read_area(wf)
    context = area.buffer(max(wf.network.radii)).intersection(_from_wgs84(osm.extent, crs))
    timings["read_osm"] = time.perf_counter() - t0
    _log_step(progress, "read OpenStreetMap", timings["read_osm"])

    t = time.perf_counter()
    graph, nodes, edges, net_report = _walk_network(osm.graph, crs, context, area, wf)
    timings["network"] = time.perf_counter() - t
    _log_step(progress, "built the walking network", timings["network"])

    t = time.perf_counter()
    osm = _finished(osm)  # on a large extract its features were read meanwhile
    timings["features"] = time.perf_counter() - t

    t = time.perf_counter()
    found, repaired, dropped = _classify(osm.features.to_crs(crs), context, area)
    timings["classify"] = time.perf_counter() - t
    _log_step(progress, "classified OSM features", timings["classify"])

    sources: list[dict[str, Any]] = [
        {
            "role": "osm",
            "source": osm.source,
            "licence": OSM_ATTRIBUTION,
            "features": len(osm.features),
            "date": osm.date,
        }
    ]
    report: dict[str, Any] = {
        "area": area_kind,
        "crs": crs.to_string(),
        "network": net_report,
        "osm_geometries_repaired": repaired,
        "osm_geometries_dropped": dropped,
        "layers": {},
    }
    t = time.perf_counter()
    population, dem = _read_layers(wf, crs, context, area, found, sources, report["layers"])
    if wf.layers:
        timings["municipal"] = time.perf_counter() - t
        _log_step(progress, "read municipal layers", timings["municipal"])

    buildings, cands = found["buildings"], found["candidates"]
    n_in = int(buildings["in_area"].sum()) if len(buildings) else 0
    if n_in == 0:
        raise EmptyDataError(
            f"{wf.source_file}: no buildings within the area ({area_kind}); check [area], "
            "or add a municipal buildings layer ([[layers]] role = 'buildings')"
        )
    timings["total"] = time.perf_counter() - t0
    report["timings_s"] = timings
    return Town(
        name=wf.town.name,
        title=wf.title,
        crs=crs,
        area=area,
        context=context,
        graph=graph,
        nodes=nodes,
        edges=edges,
        buildings=buildings,
        activities=found["activities"],
        third_places=found["third_places"],
        landmarks=found["landmarks"],
        green_blue=found["green_blue"],
        candidates=cands[cands["in_area"]] if len(cands) else cands,
        barriers=found["barriers"],
        features=found["features"],
        population=population,
        dem=dem,
        sources=tuple(sources),
        report=report,
    )


def _read_area(wf: Workflow) -> tuple[OSMData | OSMStarted, CRS, BaseGeometry, str]:
    """Read OSM and place the study area: the OSM data, CRS, area (in it) and its kind.

    For a known area only its context (the area grown by the largest radius) is read;
    otherwise the whole extract, then the area is found in it. The OSM features may
    still be being read (:func:`_finished` waits for them).
    """
    osm_file = wf.osm_file if wf.osm.source == "file" else None
    area_wgs, area_kind = resolve_area(wf, osm_file)
    max_r = max(wf.network.radii)
    buffer = wf.area.buffer
    if area_wgs is not None:
        crs = town_crs(area_wgs, wf.town.crs)
        area = _from_wgs84(area_wgs, crs)
        osm = _read_osm(
            wf, osm_file, _to_wgs84((area.buffer(buffer) if buffer else area).buffer(max_r), crs)
        )
    elif wf.osm.source == "online":
        if wf.area.place is None:
            raise ConfigError(
                f"{wf.source_file}, [area]: an online OSM source needs an area: give "
                "place, bbox or polygon"
            )
        place = _place_online(wf.area.place, wf.cache_dir)
        crs = town_crs(place, wf.town.crs)
        area = _from_wgs84(place, crs)
        osm = _read_osm(
            wf, None, _to_wgs84((area.buffer(buffer) if buffer else area).buffer(max_r), crs)
        )
    else:
        osm = _finished(_read_osm(wf, osm_file, None))  # the place is among the features
        place = find_place(osm, wf.area.place) if wf.area.place is not None else osm.extent
        if place is None:
            raise ConfigError(
                f"{wf.source_file}, [area] place: no boundary or place named "
                f"{wf.area.place!r} in {osm_file}; give a bbox or a polygon file "
                "instead, or use [osm] source = 'online' to geocode it"
            )
        crs = town_crs(place, wf.town.crs)
        area = _from_wgs84(place, crs)
        buffer = buffer if wf.area.place is not None else 0
    area = area.buffer(buffer) if buffer else area
    extent = _from_wgs84(osm.extent, crs)
    area = area.intersection(extent) if area_kind != "whole extract" else area
    if area.is_empty:
        raise EmptyDataError(f"{wf.source_file}: the [area] does not overlap the OSM data")
    check_town_crs(wf, crs, _to_wgs84(area, crs))
    check_sizes(wf, area)
    return osm, crs, area, area_kind


def _classify(
    features: gpd.GeoDataFrame, context: BaseGeometry, area: BaseGeometry
) -> tuple[dict[str, gpd.GeoDataFrame], int, int]:
    """The OSM features of the context, repaired, and their layers by the tag tables.

    Returns the layers (``buildings``, ``activities`` ... ``features``) and the counts of
    geometries repaired and dropped.
    """
    features, repaired, dropped = repair_geometries(features, polygonal=False)
    features = features[features.intersects(context)]
    features["in_area"] = features.intersects(area)
    is_building = features.tags.map(lambda d: "building" in d) & features.geom_type.isin(
        ["Polygon", "MultiPolygon"]
    )
    buildings = _osm_buildings(features[is_building])
    found = {
        "buildings": buildings,
        **feature_layers(features),  # the tags read once for the five tag tables
        "barriers": _barriers(features),
        "features": features,
    }
    return found, repaired, dropped


# Where each municipal layer role goes among a town's layers, and how it is read.
_ROLE_LAYERS: dict[str, tuple[str, Any]] = {
    "pois": ("activities", lambda g: _municipal_pois(g)),
    "heritage": ("landmarks", lambda g: _municipal_heritage(g)),
    "sites": ("candidates", lambda g: _municipal_sites(g)),
    "green": ("green_blue", lambda g: _municipal_green(g)),
}


def _read_layers(
    wf: Workflow,
    crs: CRS,
    context: BaseGeometry,
    area: BaseGeometry,
    found: dict[str, gpd.GeoDataFrame],
    sources: list[dict[str, Any]],
    counts: dict[str, Any],
) -> tuple[gpd.GeoDataFrame | None, municipal.Raster | None]:
    """Read the workflow's municipal layers into ``found``; return population and DEM.

    Each layer's source goes into ``sources`` and its counts into ``counts``.
    """
    population: gpd.GeoDataFrame | None = None
    dem: municipal.Raster | None = None
    for i, lay in enumerate(wf.layers):
        where = lay.url or str(lay.path)
        if lay.role == "dem":
            assert lay.path is not None
            dem = municipal.read_raster(lay.path, to_crs=crs, within=context, assume_crs=lay.crs)
            sources.append({"role": "dem", "source": where})
            continue
        if lay.url is not None:
            assert lay.layer is not None
            cached = fetch_wfs(
                lay.url, lay.layer, crs=crs, bbox=context.bounds, cache_dir=wf.cache_dir
            )
            lay = lay.model_copy(update={"path": cached, "layer": None, "url": None})
        gdf, n = municipal.read_vector_layer(lay, to_crs=crs, within=context)
        gdf["in_area"] = gdf.intersects(area)
        gdf["source"] = where
        counts[f"[layers][{i + 1}] {lay.role}: {where}"] = n
        sources.append({"role": lay.role, "source": where, **n})
        if lay.role == "buildings":
            found["buildings"] = _merge_buildings(found["buildings"], gdf, lay)
        elif lay.role == "population":
            population = gdf if population is None else _concat(population, gdf)
        elif lay.role in _ROLE_LAYERS:
            name, read = _ROLE_LAYERS[lay.role]
            found[name] = _concat(found[name], read(gdf))
    return population, dem


def _log_step(progress: bool, what: str, seconds: float) -> None:
    log.log(logging.INFO if progress else logging.DEBUG, "%s in %.2f s", what, seconds)


def _read_osm(
    wf: Workflow, osm_file: Path | None, clip: BaseGeometry | None
) -> OSMData | OSMStarted:
    """The OSM data; from a file, perhaps with its features still being read."""
    if wf.osm.source == "online":
        assert clip is not None
        return fetch_osm(clip, cache_dir=wf.cache_dir)
    assert osm_file is not None
    return read_osm_file_started(osm_file, clip=clip, cache_dir=wf.cache_dir)


def _finished(osm: OSMData | OSMStarted) -> OSMData:
    return osm if isinstance(osm, OSMData) else osm.result()


def _walk_network(
    graph: nx.MultiDiGraph, crs: CRS, context: BaseGeometry, area: BaseGeometry, wf: Workflow
) -> tuple[nx.MultiGraph, gpd.GeoDataFrame, gpd.GeoDataFrame, dict[str, Any]]:
    import osmnx as ox

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        g = ox.project_graph(graph, to_crs=crs)
        n_raw = g.number_of_nodes()
        try:
            g = ox.truncate.truncate_graph_polygon(g, context, truncate_by_edge=True)
        except ValueError:  # osmnx: "Found no graph nodes within the requested polygon"
            g = nx.MultiDiGraph()
        if g.number_of_nodes() == 0:
            raise EmptyDataError(f"{wf.source_file}: no walkable streets within the area")
        ug = to_undirected(g)
    n_components = nx.number_connected_components(ug)
    if wf.network.keep == "largest" and n_components > 1:
        largest = max(nx.connected_components(ug), key=len)
        dropped = ug.number_of_nodes() - len(largest)
        ug = ug.subgraph(largest).copy()
    else:
        dropped = 0
    nodes, edges = ox.convert.graph_to_gdfs(ug)
    # lengths in the town CRS, so network and straight-line distances agree
    edges["length"] = edges.geometry.length.to_numpy()
    nx.set_edge_attributes(ug, edges["length"].to_dict(), "length")
    nodes.index.name = "node_id"
    nodes = nodes[["x", "y", "street_count", "geometry"]].copy()
    nodes["in_area"] = nodes.intersects(area)
    keep_cols = [c for c in ("osmid", "highway", "name", "length", "geometry") if c in edges]
    edges = edges[keep_cols].copy()
    for c in ("osmid", "highway", "name"):
        if c in edges:
            edges[c] = edges[c].map(_flatten_value)
    edges["in_area"] = edges.intersects(area)
    if int(nodes["in_area"].sum()) == 0:
        raise EmptyDataError(f"{wf.source_file}: no walkable streets within the area")
    report = {
        "raw_nodes": n_raw,
        "nodes": len(nodes),
        "edges": len(edges),
        "components": n_components,
        "nodes_dropped_outside_largest_component": dropped,
        "street_length_km": float(edges["length"].sum() / 1000),
    }
    return ug, nodes, edges, report


def _flatten_value(v: Any) -> Any:
    """Osmnx keeps lists where simplification merged ways; store them as text."""
    if isinstance(v, list | tuple | set):
        return ";".join(str(x) for x in v)
    return v


def _osm_buildings(features: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    b = normalise_buildings(features)
    b["source"] = "osm"
    return b


def _barriers(features: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    def is_barrier(tags: dict[str, str]) -> bool:
        return (
            tags.get("railway") in ("rail", "light_rail", "narrow_gauge", "subway", "tram")
            and tags.get("tunnel") != "yes"
            and not tags.get("layer", "0").lstrip().startswith("-")
        ) or (
            tags.get("natural") in ("water", "coastline")
            or tags.get("waterway") in ("river", "riverbank", "canal")
        )

    mask = features.tags.map(is_barrier)
    out = features.loc[mask, ["osm_type", "osm_id", "name", "geometry", "in_area"]].copy()
    out["kind"] = features.loc[mask, "tags"].map(lambda t: "rail" if "railway" in t else "water")
    return out


def _concat(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if len(a) == 0:
        return b
    if len(b) == 0:
        return a
    return gpd.GeoDataFrame(pd.concat([a, b], ignore_index=True), crs=a.crs)


def _merge_buildings(
    osm: gpd.GeoDataFrame, reg: gpd.GeoDataFrame, lay: LayerConfig
) -> gpd.GeoDataFrame:
    """Combine OSM buildings with a register layer by the layer's mode."""
    reg = normalise_register_buildings(reg, codes=lay.codes)
    if lay.mode == "add" or len(osm) == 0:
        return _concat(osm, reg)
    if lay.mode == "replace":
        cover = shapely.union_all(reg.geometry.buffer(5).to_numpy()).convex_hull
        keep = ~osm.intersects(cover)
        log.info(
            "register buildings replace %d OSM buildings within their coverage",
            int((~keep).sum()),
        )
        return _concat(osm[keep], reg)
    # join: copy register attributes onto the OSM footprint it overlaps most
    left = gpd.GeoDataFrame(
        {"_osm_pos": np.arange(len(osm))}, geometry=osm.geometry.to_numpy(), crs=osm.crs
    )
    right = gpd.GeoDataFrame(
        {"_reg_pos": np.arange(len(reg))}, geometry=reg.geometry.to_numpy(), crs=reg.crs
    )
    inter = gpd.overlay(left, right, how="intersection", keep_geom_type=True)
    if len(inter) == 0:
        return osm
    inter["_a"] = inter.area
    best = inter.sort_values("_a").drop_duplicates("_osm_pos", keep="last")
    osm_pos, reg_pos = best["_osm_pos"].to_numpy(), best["_reg_pos"].to_numpy()
    out = osm.copy()
    targets = out.index[osm_pos]
    for col in lay.columns:
        if col == "id":
            continue
        vals = pd.Series(reg[col].to_numpy()[reg_pos], index=targets)
        if col not in out:
            out[col] = np.nan
        out.loc[targets, col] = vals.where(vals.notna(), out.loc[targets, col])
    out.loc[targets, "source"] = "osm+" + (lay.url or str(lay.path))
    return out


def normalise_register_buildings(
    reg: gpd.GeoDataFrame, *, codes: str | None = None
) -> gpd.GeoDataFrame:
    """Bring a municipal building layer to the building schema (use, floors, height, year).

    ``codes`` names the scheme of the register's use codes (see
    :func:`rakennettu.sources.buildings.use_from_codes`); without it, mapped (and recoded)
    use values are taken as they are.
    """
    out = reg.copy()
    for col in ("use", "floors", "height", "year", "name"):
        if col not in out:
            out[col] = None if col in ("use", "name") else np.nan
    if codes is not None:
        out["use"] = use_from_codes(out["use"], codes).to_numpy()
    out["use"] = out["use"].where(out["use"].notna(), "unknown")
    out["year_source"] = out["year"].notna().map({True: "register", False: None})
    return out


def _municipal_pois(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = gdf.copy()
    if "category" not in out:
        raise SourceError(
            f"{gdf['source'].iloc[0]}: a 'pois' layer needs a category: map one with "
            "columns.category = '<column>' (and recode with values.category)"
        )
    out["geometry"] = out.geometry.representative_point()
    if "weight" not in out:
        out["weight"] = 1.0
    return out


def _municipal_heritage(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = gdf.copy()
    out["category"] = "heritage"
    out["kind"] = out.get("kind", "protected")
    out["weight"] = 3.0  # as listed heritage in data/taxonomy/landmarks.toml
    return out


def _municipal_sites(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = gdf.copy()
    out["category"] = "planner"
    out["kind"] = out.get("kind", "planner")
    out["weight"] = 1.0
    out["provenance"] = [f"{s}#{r}" for s, r in zip(out["source"], out["source_row"], strict=True)]
    return out


def _municipal_green(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = gdf.copy()
    out["category"] = "green"
    out["kind"] = out.get("kind", "green")
    out["weight"] = 1.0
    return out
