"""OpenStreetMap: a local extract (offline, the default) or an osmnx query (online, cached).

Both paths return the same :class:`OSMData`: the walking network as an osmnx graph and
every feature the tag tables may use, with all its tags, in EPSG:4326. The Town loader
projects and clips them.

Local files: ``.osm.pbf`` is read with pyrosm; ``.osm`` and ``.osm.bz2`` are first
converted to PBF with pyosmium (once; the result is cached). Every file is scanned with
pyosmium before use, so a corrupt or truncated extract is reported as such rather than
as an obscure parser error.

Online queries go through osmnx (Overpass). Their results are cached on disk, keyed by
the query, so a second run needs no network; osmnx's own HTTP cache lies beneath.
"""

from __future__ import annotations

import bz2
import contextlib
import hashlib
import html
import io
import json
import logging
import pickle
import re
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from shapely import Polygon, box
from shapely.geometry.base import BaseGeometry

from rakennettu._io import atomic_path, default_cache_dir, file_hash
from rakennettu.errors import EmptyDataError, SourceError
from rakennettu.sources.osm_tags import KEYS

__all__ = [
    "MAX_TAG_BYTES",
    "OSM_ATTRIBUTION",
    "OSMData",
    "OSMStarted",
    "fetch_osm",
    "find_place",
    "osm_data_date",
    "read_osm_features",
    "read_osm_file",
    "read_osm_file_started",
    "scan_osm_file",
]

log = logging.getLogger(__name__)

OSM_ATTRIBUTION = "© OpenStreetMap contributors, ODbL 1.0"

# Keys the loader needs beyond the tag tables: barriers for enclosures, places for areas.
_EXTRA_KEYS = ("railway", "waterway", "natural", "water", "place", "boundary", "building")
FEATURE_KEYS: tuple[str, ...] = tuple(dict.fromkeys((*KEYS, *_EXTRA_KEYS)))

_FEATURE_COLUMNS = ["osm_type", "osm_id", "name", "tags", "geometry"]


@dataclass(frozen=True)
class OSMData:
    """Raw OpenStreetMap data for a town, in EPSG:4326.

    Attributes
    ----------
    graph
        The walking network: an osmnx-compatible, simplified MultiDiGraph with ``length``
        in metres on its edges.
    features
        Every feature with one of :data:`FEATURE_KEYS`: columns ``osm_type``, ``osm_id``,
        ``name``, ``tags`` (dict of all its tags) and ``geometry``.
    extent
        The area the data covers (the extract's box, or the queried polygon).
    source
        The file read or the query made, for the run record.
    date
        The date of the data (ISO ``YYYY-MM-DD``, see :func:`osm_data_date`), or None
        when unknown.
    """

    graph: nx.MultiDiGraph
    features: gpd.GeoDataFrame
    extent: BaseGeometry
    source: str
    date: str | None = None


# ---------------------------------------------------------------------------------------
# Local files


def scan_osm_file(path: str | Path) -> tuple[int, tuple[float, float, float, float] | None]:
    """Check that an OSM file can be read to its end; return its way count and header box.

    Raises
    ------
    SourceError
        When the file is missing, corrupt, truncated or not OSM data.
    """
    n_ways, bbox, _ = _scan(Path(path))
    return n_ways, bbox


def _scan(p: Path) -> tuple[int, tuple[float, float, float, float] | None, bool]:
    """:func:`scan_osm_file`, and whether the file's ways come in order of their ids."""
    import osmium

    if not p.is_file():
        raise SourceError(f"{p}: OSM file not found")
    try:
        reader = osmium.io.Reader(str(p), osmium.osm.osm_entity_bits.NOTHING)
        header_box = reader.header().box()
        reader.close()
        bbox = None
        if header_box.valid():
            bl, tr = header_box.bottom_left, header_box.top_right
            bbox = (bl.lon, bl.lat, tr.lon, tr.lat)
        # every object is parsed (a bad tag on a node fails too); only ways reach Python
        ways = osmium.FileProcessor(str(p)).with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        n_ways, last, in_order = 0, -(2**63), True
        for way in ways:
            n_ways += 1
            in_order = in_order and way.id > last
            last = way.id
    except RuntimeError as e:
        raise SourceError(
            f"{p}: corrupt or truncated OSM file ({e}); download or export it again"
        ) from None
    except ValueError as e:  # libosmium: "OSM tag key/value is too long"
        if "too long" not in str(e):
            raise
        raise SourceError(_too_long(p, str(e))) from None
    if n_ways == 0:
        raise EmptyDataError(f"{p}: the OSM file holds no ways (no streets, no buildings)")
    return n_ways, bbox, in_order


def osm_data_date(path: str | Path) -> str | None:
    """The date of an OSM file's data (ISO ``YYYY-MM-DD``, UTC), or None when unknown.

    The header's ``osmosis_replication_timestamp`` (the time the extract was cut), else
    the newest timestamp of its ways and relations (a node moved later than any way is
    not seen; reading every node would take as long as reading the file).

    Examples
    --------
    >>> from rakennettu._resources import bundled_osm_path
    >>> osm_data_date(bundled_osm_path("pyrosm:test_pbf"))
    '2019-04-14'
    """
    import osmium

    reader = osmium.io.Reader(str(path), osmium.osm.osm_entity_bits.NOTHING)
    stamp = reader.header().get("osmosis_replication_timestamp")
    reader.close()
    if stamp:
        return str(stamp)[:10]
    bits = osmium.osm.osm_entity_bits.WAY | osmium.osm.osm_entity_bits.RELATION
    newest = None
    o: Any
    for o in osmium.FileProcessor(str(path), bits):
        ts = o.timestamp
        if ts.year >= 2004 and (newest is None or ts > newest):  # OSM began in 2004
            newest = ts
    return newest.strftime("%Y-%m-%d") if newest is not None else None


#: The longest tag key or value libosmium (pyosmium) reads, in UTF-8 bytes. OpenStreetMap
#: itself allows 255 characters, so a longer one comes from an edited or generated file.
MAX_TAG_BYTES = 1024

_XML_TAG = re.compile(r'<tag\s+k="([^"]*)"\s+v="([^"]*)"')


def _too_long(path: Path, error: str) -> str:
    """The message for a tag over the size limit, naming the line in an XML file."""
    where = ""
    if path.name.lower().endswith((".osm", ".osm.bz2", ".xml")):
        found = _find_long_tag(path)
        if found is not None:
            line, key = found
            where = f" at line {line} (key {key[:40]!r})"
    return (
        f"{path}: a tag key or value{where} is longer than {MAX_TAG_BYTES} bytes ({error}); "
        "OpenStreetMap allows 255 characters and the OSM reader refuses more: shorten or "
        "remove that tag in the file (e.g. in JOSM) and export it again"
    )


def _find_long_tag(path: Path) -> tuple[int, str] | None:
    """The line and key of the first tag over :data:`MAX_TAG_BYTES` in an OSM XML file."""
    opener: Any = bz2.open if path.name.lower().endswith(".bz2") else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, start=1):
            for k, v in _XML_TAG.findall(line):
                key, value = html.unescape(k), html.unescape(v)
                if max(len(key.encode()), len(value.encode())) > MAX_TAG_BYTES:
                    return n, key
    return None


def _to_pbf(path: Path, cache_dir: Path) -> Path:
    """Convert an .osm or .osm.bz2 file to PBF with pyosmium, cached by content hash."""
    import osmium

    digest = file_hash(path)
    out = cache_dir / "converted" / f"{path.name.split('.')[0]}-{digest[:16]}.osm.pbf"
    if out.is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    log.info("converting %s to PBF (once; cached at %s)", path, out)
    with atomic_path(out) as tmp:
        try:
            with osmium.SimpleWriter(str(tmp)) as writer:
                for obj in osmium.FileProcessor(str(path)):
                    writer.add(obj)
        except RuntimeError as e:
            raise SourceError(f"{path}: corrupt or truncated OSM file ({e})") from None
    return out


def _sorted_pbf(path: Path, cache_dir: Path) -> Path:
    """A copy of an OSM file with its objects in the order osmium's tools require.

    Nodes, then ways, then relations, each by id, as ``osmium sort`` writes them
    (libosmium's own sort, through pyosmium's ``MergeInputReader``). Some published
    extracts are not sorted, and pyosmium's area assembler stops on them ("Way IDs out
    of order"). Cached by content hash, like :func:`_to_pbf`.
    """
    import osmium

    digest = file_hash(path)
    out = cache_dir / "sorted" / f"{path.name.split('.')[0]}-{digest[:16]}.osm.pbf"
    if out.is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    log.info("%s is not sorted by id: sorting it (once; cached at %s)", path, out)
    with atomic_path(out) as tmp:
        merge = osmium.MergeInputReader()
        merge.add_file(str(path))
        writer = osmium.WriteHandler(str(tmp))
        try:
            merge.apply(writer, simplify=True)
        finally:
            writer.close()
    return out


def read_osm_file(
    path: str | Path,
    *,
    clip: BaseGeometry | None = None,
    cache_dir: str | Path | None = None,
) -> OSMData:
    """Read the walking network and the features of a local OSM extract.

    Parameters
    ----------
    path
        A ``.osm.pbf``, ``.osm`` or ``.osm.bz2`` file.
    clip
        Read only what lies within this polygon (EPSG:4326 degrees); the whole file when
        None.
    cache_dir
        Where converted ``.osm`` files are kept (default :func:`default_cache_dir`).

    Returns
    -------
    OSMData

    Raises
    ------
    SourceError
        The file is missing, corrupt or truncated.
    EmptyDataError
        The file (or the part within ``clip``) has no walkable streets.

    Examples
    --------
    >>> from rakennettu._resources import bundled_osm_path
    >>> osm = read_osm_file(bundled_osm_path("pyrosm:test_pbf"))
    >>> buildings = osm.features.tags.map(lambda t: "building" in t)
    >>> osm.graph.number_of_nodes() > 100, int(buildings.sum()) > 2000
    (True, True)
    """
    return read_osm_file_started(path, clip=clip, cache_dir=cache_dir).result()


def read_osm_file_started(
    path: str | Path,
    *,
    clip: BaseGeometry | None = None,
    cache_dir: str | Path | None = None,
) -> OSMStarted:
    """:func:`read_osm_file`, with the features still being read (call ``result()``).

    The walking network is read here; on a large file the features are read meanwhile
    on a worker process (:data:`PARALLEL_READ_FROM`), so that a caller can work on the
    network before it needs them.
    """
    import pyrosm

    p = original = Path(path)
    _, header_box, in_order = _scan(p)
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    if not p.name.lower().endswith(".pbf"):
        p = _to_pbf(p, cache)
    extent: BaseGeometry | None = box(*header_box) if header_box else None
    bounding_box: Any = None
    if clip is not None:
        bounding_box = clip if extent is None else clip.intersection(extent)
        if bounding_box.is_empty:
            covers = _fmt_bounds(extent.bounds) if extent is not None else "?"
            raise EmptyDataError(
                f"{path}: the area lies outside the extract (extract covers {covers}, area "
                f"{_fmt_bounds(clip.bounds)}); check [area] in the workflow (a bbox is "
                "[west, south, east, north] in degrees)"
            )
        if bounding_box.geom_type != "Polygon":  # pyrosm takes a Polygon or a box
            bounding_box = box(*bounding_box.bounds)
    # the features are read beside the network when the file is large (a worker process)
    features_read = _features_started(p, in_order, cache, bounding_box)
    with _quiet_pyrosm():
        try:
            osm = pyrosm.OSM(str(p), bounding_box=bounding_box, progress=False)
            nodes, edges = osm.get_network("walking", nodes=True)
        except Exception as e:  # pyrosm raises many kinds on bad input
            raise SourceError(f"{path}: cannot read the OSM file: {e}") from e
        if edges is None or nodes is None or len(edges) == 0:
            raise EmptyDataError(
                f"{path}: no walkable streets in the extract"
                + (" within the area; check [area] in the workflow" if clip is not None else "")
            )
        graph = osm.to_graph(
            nodes,
            edges,
            graph_type="networkx",
            osmnx_compatible=True,
            retain_all=True,
            progress=False,
        )
    if extent is None:
        extent = box(*nodes.total_bounds)
    if clip is not None:
        extent = extent.intersection(clip)
    date = osm_data_date(original)  # a sorted or converted copy has no header
    return OSMStarted(graph, extent, str(path), date, features_read)


@dataclass(frozen=True)
class OSMStarted:
    """An OSM file read but for its features (see :func:`read_osm_file_started`)."""

    graph: nx.MultiDiGraph
    extent: BaseGeometry
    source: str
    date: str | None
    features: Callable[[], tuple[gpd.GeoDataFrame, int]]

    def result(self) -> OSMData:
        """The whole :class:`OSMData`, once the features are read."""
        features, incomplete = self.features()
        if incomplete:
            log.info(
                "%s: %d features cut by the extract's edge were rebuilt from the nodes "
                "present or skipped",
                self.source,
                incomplete,
            )
        log.info(
            "read %s: %d street nodes, %d street edges, %d features",
            self.source,
            self.graph.number_of_nodes(),
            self.graph.number_of_edges(),
            len(features),
        )
        return OSMData(self.graph, features, self.extent, self.source, self.date)


#: PBF size (bytes) from which the features are read on a worker process while this one
#: reads the walking network. Reading them takes about 2 s per MB of PBF; starting the
#: worker about 1 s of CPU, paid back on a second core from about 1 MB on.
PARALLEL_READ_FROM = 1_000_000


def _features_started(
    path: Path, in_order: bool, cache: Path, clip: BaseGeometry | None
) -> Callable[[], tuple[gpd.GeoDataFrame, int]]:
    """Start reading the features of a PBF file; call the result for them.

    On a worker process (loky's, as the tessellation's: a fresh interpreter, never a
    fork) when the file has :data:`PARALLEL_READ_FROM` bytes or more and the machine a
    second core; otherwise they are read here when asked for.
    """
    from joblib.externals.loky import cpu_count, get_reusable_executor

    if path.stat().st_size < PARALLEL_READ_FROM or cpu_count() < 2:
        return lambda: _features_in_order(path, in_order, cache, clip)
    future = get_reusable_executor(max_workers=1).submit(
        _features_pickled, path, in_order, cache, clip
    )
    return lambda: pickle.loads(future.result())


def _features_pickled(path: Path, in_order: bool, cache: Path, clip: BaseGeometry | None) -> bytes:
    """The features, pickled by the standard pickler.

    Loky's own pickler (cloudpickle, written in Python) takes seconds over a large
    town's tens of thousands of tag dictionaries.
    """
    return pickle.dumps(_features_in_order(path, in_order, cache, clip), protocol=5)


def _features_in_order(
    path: Path, in_order: bool, cache: Path, clip: BaseGeometry | None
) -> tuple[gpd.GeoDataFrame, int]:
    """:func:`read_osm_features` of the PBF file, or of a sorted copy when it needs one."""
    # pyosmium's area assembler needs the ways in order of their ids (and stops on
    # other disorder too: then the features are read again from a sorted copy)
    features_from = path if in_order else _sorted_pbf(path, cache)
    try:
        return read_osm_features(features_from, FEATURE_KEYS, clip=clip)
    except RuntimeError as e:
        if "out of order" not in str(e):
            raise
        return read_osm_features(_sorted_pbf(path, cache), FEATURE_KEYS, clip=clip)


def _empty_features() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"osm_type": pd.Series([], dtype=object), "osm_id": pd.Series([], dtype="int64"),
         "name": pd.Series([], dtype=object), "tags": pd.Series([], dtype=object)},
        geometry=gpd.GeoSeries([], crs="EPSG:4326"),
        crs="EPSG:4326",
    )  # fmt: skip


def read_osm_features(
    path: str | Path, keys: Iterable[str], *, clip: BaseGeometry | None = None
) -> tuple[gpd.GeoDataFrame, int]:
    """Read every node, way and area carrying one of ``keys``, with all its tags.

    Closed ways and multipolygon relations become polygons (pyosmium's area assembler);
    other ways become lines, nodes points. A closed way cut by the extract's edge is
    rebuilt from the nodes present (as pyrosm does); a relation that cannot be assembled
    is skipped. (pyrosm's ``get_data_by_custom_criteria`` silently drops some ways when
    several keys are requested, so it is not used here.)

    Returns
    -------
    (GeoDataFrame, int)
        Features in EPSG:4326 (``osm_type``, ``osm_id``, ``name``, ``tags``,
        ``geometry``), and the number of features rebuilt or skipped as incomplete.
    """
    import osmium

    keys = tuple(keys)
    wkb = osmium.geom.WKBFactory()
    types: list[str] = []
    ids: list[int] = []
    tags: list[dict[str, str]] = []
    geoms: list[Any] = []
    area_ways: set[int] = set()
    lines: list[tuple[int, dict[str, str], Any]] = []
    incomplete = 0
    processor = (
        osmium.FileProcessor(str(path))
        .with_locations()
        .with_areas(osmium.filter.KeyFilter(*keys))
        .with_filter(osmium.filter.KeyFilter(*keys))
    )
    bad = (RuntimeError, osmium.InvalidLocationError)
    o: Any
    for o in processor:
        if o.is_area():
            try:
                g = wkb.create_multipolygon(o)
            except bad:
                incomplete += 1
                continue
            types.append("way" if o.from_way() else "relation")
            ids.append(o.orig_id())
            tags.append(dict(o.tags))
            geoms.append(g)
            if o.from_way():
                area_ways.add(o.orig_id())
        elif o.is_node():
            types.append("node")
            ids.append(o.id)
            tags.append(dict(o.tags))
            geoms.append(wkb.create_point(o))
        elif o.is_way():
            coords = [(n.lon, n.lat) for n in o.nodes if n.location.valid()]
            if len(coords) < len(o.nodes):
                incomplete += 1
            closed = o.is_closed() or (len(coords) < len(o.nodes) and _closed_ids(o))
            if closed and len(coords) >= 3:
                lines.append((o.id, dict(o.tags), shapely.Polygon(coords)))
            elif len(coords) >= 2:
                lines.append((o.id, dict(o.tags), shapely.LineString(coords)))
    if not ids and not lines:
        return _empty_features(), incomplete
    geometry = list(shapely.from_wkb(geoms)) if geoms else []
    for wid, wtags, g in lines:
        if wid in area_ways:
            continue
        types.append("way")
        ids.append(wid)
        tags.append(wtags)
        geometry.append(shapely.make_valid(g) if not g.is_valid else g)
    out = gpd.GeoDataFrame(
        {
            "osm_type": types,
            "osm_id": np.asarray(ids, dtype="int64"),
            "name": [t.get("name") for t in tags],
            "tags": tags,
        },
        geometry=geometry,
        crs="EPSG:4326",
    )
    if clip is not None:
        out = out[out.intersects(clip)]
    out = out[~out.geometry.is_empty]
    # a closed area way is read as an area; its polygon is simpler as a Polygon
    single = out.geometry.map(
        lambda g: g.geoms[0] if g.geom_type == "MultiPolygon" and len(g.geoms) == 1 else g
    )
    out = out.set_geometry(single.to_numpy(), crs="EPSG:4326")
    return out.reset_index(drop=True), incomplete


def _closed_ids(way: Any) -> bool:
    return len(way.nodes) > 3 and way.nodes[0].ref == way.nodes[-1].ref


def find_place(osm: OSMData, name: str) -> BaseGeometry | None:
    """The polygon of a named boundary, place or landuse area in the data, if any.

    Matching ignores case and looks at ``name`` and its language variants (``name:fi``,
    ``name:sv``, ``name:en``). The largest match wins.
    """
    f = osm.features
    if len(f) == 0:
        return None
    wanted = name.strip().casefold()

    def matches(tags: dict[str, str]) -> bool:
        names = [v for k, v in tags.items() if k == "name" or k.startswith("name:")]
        return any(n.casefold() == wanted for n in names) and (
            "boundary" in tags or "place" in tags or "landuse" in tags
        )

    hits = f[f.tags.map(matches) & f.geom_type.isin(["Polygon", "MultiPolygon"])]
    if len(hits) == 0:
        return None
    areas = hits.to_crs(hits.estimate_utm_crs()).area
    return hits.geometry.loc[areas.idxmax()]


# ---------------------------------------------------------------------------------------
# Online (osmnx), cached


def _query_key(kind: str, geometry: BaseGeometry, keys: Iterable[str]) -> str:
    import osmnx as ox

    payload = json.dumps(
        {
            "kind": kind,
            "geometry": shapely.to_wkt(geometry, rounding_precision=6),
            "keys": sorted(keys),
            "osmnx": ox.__version__,
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def fetch_osm(
    area: BaseGeometry,
    *,
    cache_dir: str | Path | None = None,
    refresh: bool = False,
) -> OSMData:
    """Fetch the walking network and features within a polygon from Overpass, via osmnx.

    Results are cached in ``cache_dir/osm/`` keyed by the polygon, the tag keys and the
    osmnx version, so a repeated run makes no request. osmnx's HTTP cache
    (``cache_dir/http``) lies beneath.

    Parameters
    ----------
    area
        Polygon in EPSG:4326 degrees.
    cache_dir
        Cache folder (default :func:`default_cache_dir`).
    refresh
        Ignore (and replace) a cached result.

    Raises
    ------
    SourceError
        The query failed (no network, Overpass error).
    EmptyDataError
        Overpass returned no walkable streets for the area.
    """
    import osmnx as ox

    root = Path(cache_dir) if cache_dir else default_cache_dir()
    key = _query_key("walk+features", area, FEATURE_KEYS)
    graph_file = root / "osm" / f"{key}.graphml"
    feat_file = root / "osm" / f"{key}.features.parquet"
    source = f"Overpass API via osmnx {ox.__version__} (cached as {key})"
    if not refresh and graph_file.is_file() and feat_file.is_file():
        log.info("online OSM: using cached result %s", key)
        graph = ox.load_graphml(graph_file)
        features = _read_features(feat_file)
        return OSMData(graph=graph, features=features, extent=area, source=source)

    old = (ox.settings.use_cache, ox.settings.cache_folder, ox.settings.overpass_rate_limit)
    ox.settings.use_cache = True
    ox.settings.cache_folder = str(root / "http")
    ox.settings.overpass_rate_limit = False
    try:
        try:
            graph = ox.graph_from_polygon(area, network_type="walk", retain_all=True)
        except ox._errors.InsufficientResponseError as e:
            raise EmptyDataError(f"Overpass returned no walkable streets for the area: {e}") from e
        try:
            raw = ox.features_from_polygon(area, tags={k: True for k in FEATURE_KEYS})
        except ox._errors.InsufficientResponseError:
            raw = gpd.GeoDataFrame(geometry=[], crs="EPSG:4326")
    except EmptyDataError:
        raise
    except Exception as e:
        raise SourceError(
            f"online OSM query failed ({type(e).__name__}: {e}); check the network "
            "connection, or use a local extract: [osm] source = 'file'"
        ) from e
    finally:
        ox.settings.use_cache, ox.settings.cache_folder, ox.settings.overpass_rate_limit = old

    features = _features_from_osmnx(raw)
    graph_file.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(graph_file) as tmp:
        ox.save_graphml(graph, tmp)
    with atomic_path(feat_file) as tmp:
        _write_features(features, tmp)
    return OSMData(graph=graph, features=features, extent=area, source=source)


def _features_from_osmnx(raw: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if len(raw) == 0:
        return _empty_features()
    raw = raw.reset_index()
    skip = {"element", "id", "element_type", "osmid", "geometry", "nodes", "ways"}
    tag_cols = [c for c in raw.columns if c not in skip]
    values = raw[tag_cols].astype(object).where(raw[tag_cols].notna(), None)
    tags = [
        {k: str(v) for k, v in zip(tag_cols, row, strict=True) if v is not None}
        for row in values.itertuples(index=False, name=None)
    ]
    etype = raw["element"] if "element" in raw else raw["element_type"]
    oid = raw["id"] if "id" in raw else raw["osmid"]
    out = gpd.GeoDataFrame(
        {
            "osm_type": etype.astype(str).to_numpy(),
            "osm_id": pd.to_numeric(oid).astype("int64").to_numpy(),
            "name": [t.get("name") for t in tags],
            "tags": tags,
        },
        geometry=raw.geometry.to_numpy(),
        crs=raw.crs or "EPSG:4326",
    )
    return out.to_crs(4326)


def _write_features(features: gpd.GeoDataFrame, path: Path) -> None:
    out = features.copy()
    out["tags"] = out["tags"].map(lambda t: json.dumps(t, ensure_ascii=False))
    out.to_parquet(path)


def _read_features(path: Path) -> gpd.GeoDataFrame:
    f = gpd.read_parquet(path)
    f["tags"] = f["tags"].map(json.loads)
    return f[_FEATURE_COLUMNS]


# ---------------------------------------------------------------------------------------
# Helpers


@contextlib.contextmanager
def _quiet_pyrosm() -> Iterator[None]:
    # pyrosm and the libraries it calls warn about their own internals (deprecated
    # pandas/shapely usage, chained assignment); nothing a user can act on. pyrosm also
    # prints its timings ("Building the NetworkX graph took 00:02") to stdout: logged at
    # DEBUG instead (`-vv`), so the console stays quiet. (Its progress bars and "took"
    # lines on stderr are turned off where it is called: `progress=False`.)
    printed = io.StringIO()
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(printed):
            warnings.simplefilter("ignore")
            yield
    finally:
        for line in printed.getvalue().splitlines():
            if line.strip():
                log.debug("pyrosm: %s", line.strip())


def _fmt_bounds(b: tuple[float, ...]) -> str:
    return "[" + ", ".join(f"{v:.4f}" for v in b) + "]"


def bbox_polygon(bbox: tuple[float, float, float, float]) -> Polygon:
    """A polygon from ``(west, south, east, north)``."""
    return box(*bbox)
