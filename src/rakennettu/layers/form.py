"""Urban form: buildings, enclosures, enclosed tessellation and street-network form.

The functions here are the form part of the morphological layer. Each takes layers in
one projected metric CRS (EPSG:3067 in Finland) and returns a new table aligned on its
input's index; inputs are never modified, and a geographic CRS raises
:class:`~rakennettu.errors.CRSError`. Indicators are raw, with units given per column:

buildings (:func:`building_measures`)
    ``morph_footprint_area`` (m²), ``morph_floors`` (storeys), ``morph_floors_source``,
    ``morph_floor_area`` (m²), ``morph_elongation``, ``morph_circular_compactness``
    (ratios 0–1), ``morph_orientation`` (degrees 0–45), ``morph_shared_walls`` (m),
    ``morph_shared_walls_ratio`` (0–1).
tessellation cells (:func:`tessellation`, :func:`cell_measures`)
    ``morph_cell_area`` (grain, m²), ``morph_cell_coverage`` and ``morph_cell_far``
    (m² per m²).
enclosures (:func:`enclosures`, :func:`enclosure_measures`)
    ``morph_enclosure_area`` (block size, m²), ``morph_enclosure_buildings`` (count),
    ``morph_enclosure_coverage``, ``morph_enclosure_far`` (m² per m²).
street segments (:func:`street_measures`)
    ``stroke_id``, ``morph_stroke_length`` (m), ``morph_stroke_edges`` (count).
street nodes (:func:`node_measures`)
    ``morph_degree``, ``morph_intersection_density_<R>m`` (per km²),
    ``morph_dead_end_share_<R>m`` (0–1).
within a network radius, from counts (:func:`meshedness`, :func:`gamma`,
:func:`node_density`, :func:`radius_measures`)
    ``morph_meshedness_<R>m``, ``morph_gamma_<R>m``, ``morph_node_density_<R>m``
    (nodes per km of street).
the whole network (:func:`street_summary`)
    intersection density (per km²), dead-end share, node degree mix, mean segment,
    stroke and enclosure sizes, meshedness and gamma.

:func:`rakennettu.layers.morphology.morphology_layer` runs all of it for a town.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeAlias

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree
from shapely.geometry.base import BaseGeometry

from rakennettu._geo import as_area, polygonal
from rakennettu.config import FormConfig
from rakennettu.crs import require_projected, same_crs
from rakennettu.layers.tessellate import enclosed_cells_started
from rakennettu.naming import indicator_name

__all__ = [
    "DEFAULT_FLOORS",
    "STOREY_HEIGHT",
    "building_measures",
    "cell_measures",
    "coins_strokes",
    "enclosure_measures",
    "enclosures",
    "estimate_floors",
    "gamma",
    "meshedness",
    "node_density",
    "node_measures",
    "radius_measures",
    "street_measures",
    "street_summary",
    "tessellation",
    "tessellation_started",
]

log = logging.getLogger(__name__)

STOREY_HEIGHT: float = FormConfig().storey_height
"""Storey height in metres used to turn a building height into floors (as momepy); the
default of the workflow's ``[form] storey_height``."""
DEFAULT_FLOORS: float = FormConfig().default_floors
"""Floors assumed for a building with neither a usable floor count nor height; the
default of the workflow's ``[form] default_floors``."""

# Identifiers (not indicators) that link the tables.
BUILDING_ID = "building_id"
ENCLOSURE_ID = "enclosure_id"
STROKE_ID = "stroke_id"
CELL_ID = "cell_id"

FOOTPRINT_AREA = indicator_name("morph", "footprint_area")
FLOORS = indicator_name("morph", "floors")
FLOORS_SOURCE = indicator_name("morph", "floors_source")
FLOOR_AREA = indicator_name("morph", "floor_area")
ELONGATION = indicator_name("morph", "elongation")
CIRCULAR_COMPACTNESS = indicator_name("morph", "circular_compactness")
ORIENTATION = indicator_name("morph", "orientation")
SHARED_WALLS = indicator_name("morph", "shared_walls")
SHARED_WALLS_RATIO = indicator_name("morph", "shared_walls_ratio")
CELL_AREA = indicator_name("morph", "cell_area")
CELL_COVERAGE = indicator_name("morph", "cell_coverage")
CELL_FAR = indicator_name("morph", "cell_far")
ENCLOSURE_AREA = indicator_name("morph", "enclosure_area")
ENCLOSURE_BUILDINGS = indicator_name("morph", "enclosure_buildings")
ENCLOSURE_COVERAGE = indicator_name("morph", "enclosure_coverage")
ENCLOSURE_FAR = indicator_name("morph", "enclosure_far")
STROKE_LENGTH = indicator_name("morph", "stroke_length")
STROKE_EDGES = indicator_name("morph", "stroke_edges")
DEGREE = indicator_name("morph", "degree")

FLOOR_SOURCES = ("floors", "height", "assumed")

Area: TypeAlias = BaseGeometry | gpd.GeoSeries | gpd.GeoDataFrame


# --------------------------------------------------------------------------- buildings


def estimate_floors(
    buildings: pd.DataFrame,
    *,
    storey_height: float = STOREY_HEIGHT,
    default_floors: float = DEFAULT_FLOORS,
) -> pd.DataFrame:
    """Estimate the number of floors of each building and say where it came from.

    In order: the ``floors`` column when it is a positive number; else ``height``
    (metres) divided by ``storey_height`` and rounded down as momepy's ``floor_area``
    does, but never below one floor; else ``default_floors``. A missing column counts as
    unknown throughout.

    Parameters
    ----------
    buildings
        A frame with ``floors`` and ``height`` columns (NaN when unknown).
    storey_height
        Metres per storey, 3 by default.
    default_floors
        Floors assumed when neither is known, 1 by default.

    Returns
    -------
    pandas.DataFrame
        ``morph_floors`` (storeys) and ``morph_floors_source`` (categorical:
        ``"floors"``, ``"height"`` or ``"assumed"``), on the index of ``buildings``.

    Examples
    --------
    >>> df = pd.DataFrame({"floors": [3, np.nan, np.nan, 0], "height": [np.nan, 10.0, 2.5, np.nan]})
    >>> estimate_floors(df)
       morph_floors morph_floors_source
    0           3.0              floors
    1           3.0              height
    2           1.0              height
    3           1.0             assumed
    """
    floors = _numeric_column(buildings, "floors")
    height = _numeric_column(buildings, "height")
    from_floors = np.isfinite(floors) & (floors > 0)
    from_height = ~from_floors & np.isfinite(height) & (height > 0)
    with np.errstate(invalid="ignore"):
        by_height = np.maximum(height // storey_height, 1.0)
    estimate = np.where(from_floors, floors, np.where(from_height, by_height, default_floors))
    source = np.select([from_floors, from_height], FLOOR_SOURCES[:2], FLOOR_SOURCES[2])
    return pd.DataFrame(
        {
            FLOORS: estimate.astype(float),
            FLOORS_SOURCE: pd.Categorical(source, categories=FLOOR_SOURCES),
        },
        index=buildings.index,
    )


def building_measures(
    buildings: gpd.GeoDataFrame,
    *,
    storey_height: float = STOREY_HEIGHT,
    default_floors: float = DEFAULT_FLOORS,
    floors: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Size, floor area, shape and adjacency of each building footprint.

    Invalid footprints are repaired first (``make_valid``, keeping polygonal parts);
    a footprint with nothing left has area 0 and no shape values (NaN).

    Parameters
    ----------
    buildings
        Polygon footprints with ``floors`` and ``height`` columns (see
        :func:`estimate_floors`), in a projected metric CRS.
    storey_height, default_floors
        Passed to :func:`estimate_floors`.
    floors
        The floors already estimated (``morph_floors``, ``morph_floors_source`` on the
        buildings' index, as :func:`rakennettu.prepare.prepare` makes them); then
        ``storey_height`` and ``default_floors`` are not used.

    Returns
    -------
    pandas.DataFrame
        On the index of ``buildings``:

        - ``morph_footprint_area``: footprint area, m².
        - ``morph_floors``, ``morph_floors_source``: see :func:`estimate_floors`.
        - ``morph_floor_area``: footprint area × floors, m².
        - ``morph_elongation``: short over long side of the minimum rotated
          rectangle, 0–1 (``momepy.elongation``).
        - ``morph_circular_compactness``: area over the area of the minimum enclosing
          circle, 0–1 (``momepy.circular_compactness``).
        - ``morph_orientation``: deviation of the minimum rotated rectangle from the
          cardinal directions, degrees 0–45 (``momepy.orientation``).
        - ``morph_shared_walls``: length of walls shared with touching footprints, m
          (``momepy.shared_walls``, strict contiguity).
        - ``morph_shared_walls_ratio``: shared walls over the perimeter, 0–1.

    Examples
    --------
    Two 10 m squares side by side share one 10 m wall:

    >>> from shapely import box
    >>> b = gpd.GeoDataFrame(
    ...     {"floors": [2.0, np.nan], "height": [np.nan, np.nan]},
    ...     geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)], crs=3067)
    >>> m = building_measures(b)
    >>> m[["morph_floor_area", "morph_shared_walls", "morph_shared_walls_ratio"]]
       morph_floor_area  morph_shared_walls  morph_shared_walls_ratio
    0             200.0                10.0                      0.25
    1             100.0                10.0                      0.25
    """
    require_projected(buildings.crs, "buildings")
    geoms = polygonal(buildings.geometry).reset_index(drop=True)
    n = len(geoms)
    footprint = geoms.area.to_numpy()
    if floors is None:
        floors = estimate_floors(
            buildings, storey_height=storey_height, default_floors=default_floors
        )
    ok = ~geoms.is_empty.to_numpy()
    shape = {
        ELONGATION: np.full(n, np.nan),
        CIRCULAR_COMPACTNESS: np.full(n, np.nan),
        ORIENTATION: np.full(n, np.nan),
        SHARED_WALLS: np.full(n, np.nan),
    }
    if ok.any():
        # momepy.orientation reads the rectangles' coordinates in strides of five, so it
        # must only see footprints with area (empty ones would shift every later row).
        solid = geoms[ok]
        import momepy  # imported here: 2 s, only for these measures

        shape[ELONGATION][ok] = momepy.elongation(solid).to_numpy()
        shape[CIRCULAR_COMPACTNESS][ok] = momepy.circular_compactness(solid).to_numpy()
        shape[ORIENTATION][ok] = momepy.orientation(solid).to_numpy()
        shape[SHARED_WALLS][ok] = momepy.shared_walls(solid).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        walls_ratio = shape[SHARED_WALLS] / geoms.length.to_numpy()
    return pd.DataFrame(
        {
            FOOTPRINT_AREA: footprint,
            FLOORS: floors[FLOORS].to_numpy(),
            FLOORS_SOURCE: floors[FLOORS_SOURCE].array,
            FLOOR_AREA: footprint * floors[FLOORS].to_numpy(),
            **shape,
            SHARED_WALLS_RATIO: walls_ratio,
        },
        index=buildings.index,
    )


# ---------------------------------------------------------- enclosures and tessellation


def enclosures(
    streets: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    barriers: gpd.GeoSeries | gpd.GeoDataFrame | None = None,
    area: Area | None = None,
) -> gpd.GeoDataFrame:
    """Enclosures: the areas bounded on all sides by streets, rail, water or the area edge.

    Built with ``momepy.enclosures``: streets are the primary barriers; barrier lines,
    and the outlines of barrier polygons, subdivide them; the study area, when given,
    closes them at its edge and only enclosures inside it are kept. Enclosures inside a
    barrier polygon (a lake, the sea) are dropped, since no one builds or walks there.

    Parameters
    ----------
    streets
        Street segments (LineStrings), in a projected metric CRS.
    barriers
        Rail lines and water: lines, or polygons for water bodies. Optional.
    area
        The study-area polygon (a shapely geometry in the streets' CRS, or a
        GeoSeries/GeoDataFrame). Optional.

    Returns
    -------
    geopandas.GeoDataFrame
        One polygon per enclosure, indexed ``enclosure_id`` from 0.

    Examples
    --------
    Two streets crossing a 100 m square area cut it into four enclosures:

    >>> from shapely import LineString, box
    >>> streets = gpd.GeoSeries(
    ...     [LineString([(50, -10), (50, 110)]), LineString([(-10, 50), (110, 50)])], crs=3067)
    >>> enclosures(streets, area=box(0, 0, 100, 100)).area.tolist()
    [2500.0, 2500.0, 2500.0, 2500.0]
    """
    crs = same_crs(streets=streets, barriers=barriers, area=area)
    lines = streets.geometry[~streets.geometry.is_empty & streets.geometry.notna()]
    limit = None if area is None else as_area(area, crs)
    water = gpd.GeoSeries([], crs=crs)
    extra: list[gpd.GeoSeries] | None = None
    if barriers is not None and len(barriers):
        geoms = barriers.geometry[barriers.geometry.notna() & ~barriers.geometry.is_empty]
        is_poly = geoms.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
        water = geoms[is_poly]
        extra_lines = pd.concat([geoms[~is_poly], water.boundary])
        extra = [extra_lines] if len(extra_lines) else None
    if not len(lines) and limit is None:
        return _empty_enclosures(crs)
    import momepy  # imported here: 2 s, only for these measures

    raw = momepy.enclosures(lines, limit=limit, additional_barriers=extra, clip=limit is not None)
    geom = raw.geometry.reset_index(drop=True)
    if len(water) and len(geom):
        in_water, _ = water.sindex.query(geom.representative_point(), predicate="within")
        geom = geom.drop(index=np.unique(in_water)).reset_index(drop=True)
    # number enclosures west to east, then south to north, whatever the street order
    anchor = shapely.get_coordinates(geom.representative_point().to_numpy())
    geom = geom.iloc[np.lexsort((anchor[:, 1], anchor[:, 0]))].reset_index(drop=True)
    out = gpd.GeoDataFrame(geometry=geom.set_crs(crs, allow_override=True))
    out.index.name = ENCLOSURE_ID
    return out


def tessellation(
    buildings: gpd.GeoDataFrame | gpd.GeoSeries,
    enclosures: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    n_jobs: int = 1,
) -> gpd.GeoDataFrame:
    """Enclosed tessellation: each enclosure split into one cell per building.

    The cells of ``momepy.enclosed_tessellation`` (default shrink, segment and
    threshold), identical to the coordinate, made without its data frames by
    :func:`rakennettu.layers.tessellate.enclosed_cells`. Each cell carries the index
    label of its building and of its enclosure; enclosures without buildings are kept
    whole as empty cells. As in momepy, a building that reaches into several enclosures
    gets a cell in each, and a building that collapses when shrunk, or lies outside
    every enclosure, gets none.
    Unlike momepy, overlapping footprints are first cut apart (the smaller keeps the
    shared ground, so a tower mapped inside its hall keeps its own cell), because
    momepy's cells overlap where footprints do.

    Parameters
    ----------
    buildings
        Footprints (repaired as in :func:`building_measures`), any index.
    enclosures
        Enclosure polygons, e.g. from :func:`enclosures`.
    n_jobs
        Worker processes (-1: all cores); the cells do not depend on it. Starting the
        pool costs about 3 s: on the bundled towns (486 and 2,208 buildings) one
        process is faster; more pay off only for towns of many thousands of buildings.

    Returns
    -------
    geopandas.GeoDataFrame
        Cells indexed ``cell_id`` from 0, ordered by enclosure, with ``building_id``
        (the building's index label, missing for empty cells) and ``enclosure_id``.

    Examples
    --------
    >>> from shapely import box
    >>> blocks = gpd.GeoSeries([box(0, 0, 100, 100), box(100, 0, 200, 100)], crs=3067)
    >>> houses = gpd.GeoSeries([box(10, 10, 30, 20), box(60, 60, 80, 70)], index=[7, 9], crs=3067)
    >>> cells = tessellation(houses, blocks)
    >>> cells[["building_id", "enclosure_id"]]
             building_id  enclosure_id
    cell_id
    0                  7             0
    1                  9             0
    2               <NA>             1
    >>> round(cells.area.sum())
    20000
    """
    return tessellation_started(buildings, enclosures, n_jobs=n_jobs)()


def tessellation_started(
    buildings: gpd.GeoDataFrame | gpd.GeoSeries,
    enclosures: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    n_jobs: int = 1,
) -> Callable[[], gpd.GeoDataFrame]:
    """Start :func:`tessellation`; call the result for the cells.

    With ``n_jobs`` other than 1 the worker processes start on the enclosures at once,
    and this process is free for other measures until it asks for the cells (see
    :func:`rakennettu.layers.tessellate.enclosed_cells_started`).

    Examples
    --------
    >>> from shapely import box
    >>> blocks = gpd.GeoSeries([box(0, 0, 100, 100)], crs=3067)
    >>> finish = tessellation_started(gpd.GeoSeries([box(10, 10, 30, 20)], crs=3067), blocks)
    >>> finish().area.tolist()
    [10000.0]
    """
    crs = same_crs(buildings=buildings, enclosures=enclosures)
    footprints = polygonal(buildings.geometry).to_numpy()
    # overlapping footprints make overlapping cells: the smaller one keeps the ground
    geoms = _ground(footprints, priority=-shapely.area(footprints))
    usable = np.flatnonzero(~shapely.is_empty(geoms))
    started = enclosed_cells_started(geoms[usable], enclosures.geometry.to_numpy(), n_jobs=n_jobs)
    labels, enclosure_labels = buildings.index, enclosures.index

    def finish() -> gpd.GeoDataFrame:
        building_pos, enclosure_pos, cell_geoms = started()
        has_building = building_pos >= 0
        building_pos[has_building] = usable[building_pos[has_building]]
        building_id = pd.Series(
            index=pd.RangeIndex(len(cell_geoms)),
            dtype="Int64" if pd.api.types.is_integer_dtype(labels.dtype) else labels.dtype,
        )
        building_id[has_building] = labels.take(building_pos[has_building])
        cells = gpd.GeoDataFrame(
            {BUILDING_ID: building_id, ENCLOSURE_ID: enclosure_labels.take(enclosure_pos)},
            geometry=cell_geoms,
            crs=crs,
        )
        cells.index.name = CELL_ID
        return cells

    return finish


def cell_measures(
    cells: gpd.GeoDataFrame | gpd.GeoSeries,
    buildings: gpd.GeoDataFrame | gpd.GeoSeries,
    floors: pd.Series,
) -> pd.DataFrame:
    """Grain, coverage and floor area ratio of each tessellation cell.

    Coverage and FAR count every footprint by the part of it that lies in the cell, so
    a building split between cells (or overhanging a neighbour's) is shared fairly.

    Parameters
    ----------
    cells
        Cell polygons, e.g. from :func:`tessellation`.
    buildings
        Footprints.
    floors
        Storeys per building on the index of ``buildings`` (``morph_floors``).

    Returns
    -------
    pandas.DataFrame
        On the index of ``cells``: ``morph_cell_area`` (m²), ``morph_cell_coverage``
        (footprint m² per m² of cell) and ``morph_cell_far`` (floor m² per m² of cell).

    Examples
    --------
    >>> from shapely import box
    >>> cell = gpd.GeoSeries([box(0, 0, 100, 100)], crs=3067)
    >>> house = gpd.GeoSeries([box(10, 10, 30, 20)], crs=3067)
    >>> cell_measures(cell, house, pd.Series([3.0]))
       morph_cell_area  morph_cell_coverage  morph_cell_far
    0          10000.0                 0.02            0.06
    """
    same_crs(cells=cells, buildings=buildings)
    area, coverage, far = _intensity(cells, buildings, floors)
    return pd.DataFrame(
        {CELL_AREA: area, CELL_COVERAGE: coverage, CELL_FAR: far}, index=cells.index
    )


def enclosure_measures(
    enclosures: gpd.GeoDataFrame | gpd.GeoSeries,
    buildings: gpd.GeoDataFrame | gpd.GeoSeries,
    floors: pd.Series,
) -> pd.DataFrame:
    """Block size, building count, coverage and floor area ratio of each enclosure.

    Parameters
    ----------
    enclosures
        Enclosure polygons, e.g. from :func:`enclosures`.
    buildings
        Footprints.
    floors
        Storeys per building on the index of ``buildings`` (``morph_floors``).

    Returns
    -------
    pandas.DataFrame
        On the index of ``enclosures``: ``morph_enclosure_area`` (m²),
        ``morph_enclosure_buildings`` (buildings whose representative point lies in
        the enclosure), ``morph_enclosure_coverage`` (footprint m² per m², counting
        the part of each footprint inside) and ``morph_enclosure_far`` (floor m² per
        m²).

    Examples
    --------
    A 100 × 100 m block with one 20 × 10 m building of three floors:

    >>> from shapely import box
    >>> block = gpd.GeoSeries([box(0, 0, 100, 100)], crs=3067)
    >>> house = gpd.GeoSeries([box(10, 10, 30, 20)], crs=3067)
    >>> enclosure_measures(block, house, pd.Series([3.0])).T
                                     0
    morph_enclosure_area       10000.00
    morph_enclosure_buildings      1.00
    morph_enclosure_coverage       0.02
    morph_enclosure_far            0.06
    """
    same_crs(enclosures=enclosures, buildings=buildings)
    area, coverage, far = _intensity(enclosures, buildings, floors)
    geoms = polygonal(buildings.geometry)
    points = geoms[~geoms.is_empty].representative_point()
    _, where = enclosures.sindex.query(points, predicate="within")
    count = np.bincount(where, minlength=len(enclosures))
    return pd.DataFrame(
        {
            ENCLOSURE_AREA: area,
            ENCLOSURE_BUILDINGS: count,
            ENCLOSURE_COVERAGE: coverage,
            ENCLOSURE_FAR: far,
        },
        index=enclosures.index,
    )


# ----------------------------------------------------------------------- street network


def street_measures(streets: gpd.GeoDataFrame) -> pd.DataFrame:
    """Continuity of each street segment: the COINS stroke it belongs to.

    Strokes come from ``momepy.COINS`` with ``flow_mode=True`` (a stroke may turn only
    at intersections, so each segment belongs to exactly one stroke) and no angle
    threshold: at each node the pair of segments closest to a straight line continues
    the stroke.

    Parameters
    ----------
    streets
        Street segments (LineStrings) with a ``length`` column in metres (the
        geometric length is used when it is missing).

    Returns
    -------
    pandas.DataFrame
        On the index of ``streets``: ``stroke_id``, ``morph_stroke_length`` (total
        length of the stroke, m) and ``morph_stroke_edges`` (segments in it).

    Examples
    --------
    A straight street of two segments and a side street:

    >>> from shapely import LineString
    >>> s = gpd.GeoDataFrame(geometry=[
    ...     LineString([(0, 0), (100, 0)]), LineString([(100, 0), (200, 0)]),
    ...     LineString([(100, 0), (100, 50)])], crs=3067)
    >>> street_measures(s)
       stroke_id  morph_stroke_length  morph_stroke_edges
    0          0                200.0                   2
    1          0                200.0                   2
    2          1                 50.0                   1
    """
    require_projected(streets.crs, "streets")
    if not len(streets):
        return pd.DataFrame(
            {
                STROKE_ID: pd.Series(dtype=np.int64),
                STROKE_LENGTH: pd.Series(dtype=float),
                STROKE_EDGES: pd.Series(dtype=np.int64),
            },
            index=streets.index,
        )
    # COINS needs distinct lines: a segment mapped twice joins its twin's stroke and
    # adds nothing to the stroke's length or count.
    geoms = streets.geometry.to_numpy()
    _, first_twin, twin_of = np.unique(
        shapely.to_wkb(shapely.normalize(geoms)), return_index=True, return_inverse=True
    )
    keep = np.sort(first_twin)
    lines = gpd.GeoDataFrame(geometry=geoms[keep], crs=streets.crs)
    groups = coins_strokes(lines)
    # number strokes in order of first appearance, so ids do not depend on set order
    _, first, kept_stroke = np.unique(groups, return_index=True, return_inverse=True)
    kept_stroke = np.argsort(np.argsort(first))[kept_stroke]
    totals = np.bincount(kept_stroke, weights=_lengths(streets)[keep])
    counts = np.bincount(kept_stroke)
    row = np.empty(len(geoms), dtype=np.int64)
    row[keep] = np.arange(len(keep))
    stroke = kept_stroke[row[first_twin[twin_of]]]
    return pd.DataFrame(
        {STROKE_ID: stroke, STROKE_LENGTH: totals[stroke], STROKE_EDGES: counts[stroke]},
        index=streets.index,
    )


def coins_strokes(lines: gpd.GeoDataFrame | gpd.GeoSeries) -> np.ndarray:
    """``momepy.COINS(lines, flow_mode=True).stroke_attribute()``, its last step faster.

    COINS links each segment of a line, at each end, to the neighbour that continues it
    best, when the neighbour agrees; momepy then walks the links from every segment
    in turn and keeps the distinct walks, which takes as long as the rest together.
    When every link is mutual (each segment has at most two, so the links form paths
    and rings) a walk is a connected component, numbered as momepy numbers it: by its
    first segment. Otherwise momepy's own walk is used.

    Returns
    -------
    numpy.ndarray
        momepy's stroke number of each line, in the lines' order.

    Examples
    --------
    >>> from shapely import LineString
    >>> s = gpd.GeoSeries([LineString([(0, 0), (100, 0)]), LineString([(100, 0), (100, 50)]),
    ...     LineString([(100, 0), (200, 0)])], crs=3067)
    >>> coins_strokes(s).tolist()
    [0, 1, 0]
    """
    import momepy  # imported here: 2 s, only for these measures
    from scipy.sparse import coo_array
    from scipy.sparse.csgraph import connected_components

    coins = momepy.COINS(lines, flow_mode=True)
    segments = list(coins.unique.values())
    line = np.array([seg[8] for seg in segments], dtype=np.int64)
    link = np.array(
        [[e if isinstance(e, int) else -1 for e in seg[6:8]] for seg in segments], dtype=np.int64
    ).reshape(-1, 2)
    at, end = np.nonzero(link >= 0)
    other = link[at, end]
    if not (link[other] == at[:, None]).any(axis=1).all():
        return coins.stroke_attribute().to_numpy()
    n = len(segments)
    graph = coo_array((np.ones(len(at)), (at, other)), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    first = np.full(component.max(initial=-1) + 1, n)
    np.minimum.at(first, component, np.arange(n))
    number = np.argsort(np.argsort(first))[component]  # by first segment, as momepy
    stroke = np.full(len(lines), -1, dtype=np.int64)
    np.maximum.at(stroke, line, number)  # a line in two strokes gets the later, as in momepy
    return stroke


def street_summary(
    streets: gpd.GeoDataFrame,
    *,
    area: Area | None = None,
    strokes: pd.DataFrame | None = None,
    enclosures: pd.DataFrame | None = None,
) -> pd.Series:
    """Form of the whole street network (one value each).

    Nodes are the segment ends: the ``u`` and ``v`` index levels of an osmnx edge
    frame when present, else the end coordinates of the geometries.

    Parameters
    ----------
    streets
        Street segments with a ``length`` column in metres.
    area
        The study area; its size is the denominator of intersection density. Without
        it, the convex hull of the streets.
    strokes
        :func:`street_measures` of ``streets``, if already computed.
    enclosures
        :func:`enclosure_measures`, for block sizes. Optional.

    Returns
    -------
    pandas.Series
        - ``morph_intersection_density``: nodes of degree 3 or more per km² of area.
        - ``morph_dead_end_share``: share of nodes of degree 1.
        - ``morph_node_degree_2_share``, ``_3_share``, ``_4plus_share``: the rest of the
          degree mix (with the dead-end share they sum to 1).
        - ``morph_mean_node_degree``.
        - ``morph_segment_length_mean``: mean segment length, m.
        - ``morph_stroke_length_mean``: mean COINS stroke length, m.
        - ``morph_stroke_length_weighted_mean``: length of the stroke an average metre
          of street belongs to, m.
        - ``morph_meshedness`` and ``morph_gamma`` of the whole network (see
          :func:`meshedness`, :func:`gamma`).
        - ``morph_enclosure_area_mean``, ``morph_enclosure_area_median`` (m²) and
          ``morph_built_enclosure_area_mean`` (m², enclosures with a building), when
          ``enclosures`` is given.

    Examples
    --------
    A plus sign: one 4-way intersection and four dead ends.

    >>> from shapely import LineString, box
    >>> arms = [LineString([(50, 50), xy]) for xy in [(0, 50), (100, 50), (50, 0), (50, 100)]]
    >>> s = gpd.GeoDataFrame({"length": [50.0] * 4}, geometry=arms, crs=3067)
    >>> summary = street_summary(s, area=box(0, 0, 1000, 1000))
    >>> summary[["morph_intersection_density", "morph_dead_end_share"]].tolist()
    [1.0, 0.8]
    """
    crs = same_crs(streets=streets, area=area)
    length = _lengths(streets)
    degree = _degrees(streets)
    if area is not None:
        km2 = float(as_area(area, crs).area.sum()) / 1e6
    else:
        km2 = float(shapely.convex_hull(streets.geometry.union_all()).area) / 1e6
    if strokes is None:
        strokes = street_measures(streets)
    n_nodes = len(degree)
    share = {k: float((degree == k).mean()) if n_nodes else np.nan for k in (1, 2, 3)}
    share[4] = float((degree >= 4).mean()) if n_nodes else np.nan
    stroke_length = strokes.groupby(STROKE_ID)[STROKE_LENGTH].first()
    values: dict[str, float] = {
        indicator_name("morph", "intersection_density"): (
            float((degree >= 3).sum()) / km2 if km2 > 0 else np.nan
        ),
        indicator_name("morph", "dead_end_share"): share[1],
        indicator_name("morph", "node_degree_2_share"): share[2],
        indicator_name("morph", "node_degree_3_share"): share[3],
        indicator_name("morph", "node_degree_4plus_share"): share[4],
        indicator_name("morph", "mean_node_degree"): (float(degree.mean()) if n_nodes else np.nan),
        indicator_name("morph", "segment_length_mean"): (
            float(length.mean()) if len(length) else np.nan
        ),
        indicator_name("morph", "stroke_length_mean"): (
            float(stroke_length.mean()) if len(stroke_length) else np.nan
        ),
        indicator_name("morph", "stroke_length_weighted_mean"): (
            float(np.average(strokes[STROKE_LENGTH], weights=length))
            if length.sum() > 0
            else np.nan
        ),
        indicator_name("morph", "meshedness"): float(meshedness(n_nodes, len(streets))),
        indicator_name("morph", "gamma"): float(gamma(n_nodes, len(streets))),
    }
    if enclosures is not None:
        size = enclosures[ENCLOSURE_AREA]
        built = size[enclosures[ENCLOSURE_BUILDINGS] > 0]
        values[indicator_name("morph", "enclosure_area_mean")] = float(size.mean())
        values[indicator_name("morph", "enclosure_area_median")] = float(size.median())
        values[indicator_name("morph", "built_enclosure_area_mean")] = float(built.mean())
    return pd.Series(values, dtype=float)


def node_measures(graph: nx.MultiGraph, *, radius: float = 400.0) -> pd.DataFrame:
    """Degree of each street node and the intersections and dead ends around it.

    The neighbourhood is a circle of ``radius`` metres (straight-line, not network
    distance) around the node, the node itself included.

    Parameters
    ----------
    graph
        The projected street graph (osmnx-style: nodes with ``x`` and ``y`` in
        metres, ``graph.graph["crs"]`` set).
    radius
        Radius of the neighbourhood, metres.

    Returns
    -------
    pandas.DataFrame
        Indexed by node id: ``morph_degree``, ``morph_intersection_density_<R>m``
        (nodes of degree 3 or more per km² of the circle) and
        ``morph_dead_end_share_<R>m`` (share of the nodes in the circle with degree 1).

    Examples
    --------
    >>> G = nx.MultiGraph(crs="EPSG:3067")
    >>> G.add_nodes_from([(0, {"x": 0, "y": 0}), (1, {"x": 100, "y": 0}),
    ...                   (2, {"x": 0, "y": 100}), (3, {"x": -100, "y": 0})])
    >>> _ = G.add_edges_from([(0, 1), (0, 2), (0, 3)])
    >>> node_measures(G, radius=50).iloc[:, :2]
       morph_degree  morph_intersection_density_50m
    0             3                        127.323954
    1             1                          0.000000
    2             1                          0.000000
    3             1                          0.000000
    """
    require_projected(graph.graph.get("crs"), "graph")
    nodes = list(graph.nodes)
    degree = np.array([d for _, d in graph.degree(nodes)], dtype=np.int64)
    density_name = indicator_name("morph", "intersection_density", radius)
    dead_name = indicator_name("morph", "dead_end_share", radius)
    if not nodes:
        return pd.DataFrame(
            {
                DEGREE: pd.Series(dtype=np.int64),
                density_name: pd.Series(dtype=float),
                dead_name: pd.Series(dtype=float),
            }
        )
    xy = np.array([(graph.nodes[n]["x"], graph.nodes[n]["y"]) for n in nodes], dtype=float)
    disc_km2 = np.pi * radius**2 / 1e6

    def within(mask: np.ndarray) -> np.ndarray:
        if not mask.any():
            return np.zeros(len(xy))
        found = cKDTree(xy[mask]).query_ball_point(xy, r=radius, return_length=True)
        return np.asarray(found, dtype=float)

    return pd.DataFrame(
        {
            DEGREE: degree,
            density_name: within(degree >= 3) / disc_km2,
            dead_name: within(degree == 1) / within(np.ones(len(xy), dtype=bool)),
        },
        index=pd.Index(nodes, name=None),
    )


def meshedness(node_count: Any, edge_count: Any) -> pd.Series | np.ndarray:
    """Compute meshedness from node and edge counts of a (sub)graph.

    ``(e - v + 1) / (2 v - 5)``: the number of faces over the most a planar graph on
    ``v`` nodes can have, as ``momepy.meshedness``. Pass the node and edge counts of
    the subgraph within a network radius around each node (the induced ego graph:
    every edge with both ends within reach, parallel edges and self-loops included),
    as ``nx.ego_graph(G, n, radius=R, distance="length")`` gives, to get momepy's
    values at radius ``R``.

    Unlike momepy, below three nodes the result is NaN: momepy returns 0 or a
    negative number there, which are not meshedness values.

    Parameters
    ----------
    node_count, edge_count
        Counts, scalars or arrays; a Series keeps its index.

    Returns
    -------
    pandas.Series or numpy.ndarray
        Meshedness, dimensionless (0 for a tree, 1 for a maximal planar graph).

    Examples
    --------
    >>> meshedness([4, 4, 2], [4, 3, 1])
    array([0.33333333, 0.        ,        nan])
    """
    v, e = _counts(node_count), _counts(edge_count)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(v >= 3, (e - v + 1) / (2 * v - 5), np.nan)
    return _like(node_count, value, "meshedness")


def gamma(node_count: Any, edge_count: Any) -> pd.Series | np.ndarray:
    """Compute the gamma connectivity index from node and edge counts of a (sub)graph.

    ``e / (3 (v - 2))``: edges over the most a planar graph on ``v`` nodes can have, as
    ``momepy.gamma``; pass counts as for :func:`meshedness`. Below three nodes the
    result is NaN (momepy: NaN for two nodes, 0 or negative for one).

    Parameters
    ----------
    node_count, edge_count
        Counts, scalars or arrays; a Series keeps its index.

    Returns
    -------
    pandas.Series or numpy.ndarray
        Gamma, dimensionless.

    Examples
    --------
    >>> gamma([4, 4, 2], [4, 3, 1])
    array([0.66666667, 0.5       ,        nan])
    """
    v, e = _counts(node_count), _counts(edge_count)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(v >= 3, e / (3 * (v - 2)), np.nan)
    return _like(node_count, value, "gamma")


def node_density(node_count: Any, street_length: Any) -> pd.Series | np.ndarray:
    """Compute nodes per kilometre of street within a network radius.

    ``momepy.node_density`` (unweighted) times 1000: momepy gives nodes per metre.
    Pass the node count and total edge length (metres) of the same induced ego graph
    as for :func:`meshedness`. Where there is no street, 0 as momepy.

    Examples
    --------
    >>> node_density([5, 1], [250.0, 0.0])
    array([20.,  0.])
    """
    v, length = _counts(node_count), np.asarray(street_length, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(length > 0, v / length * 1000.0, 0.0)
    return _like(node_count, value, "node_density")


def radius_measures(counts: pd.DataFrame, radius: float) -> pd.DataFrame:
    """Meshedness, gamma and node density at a radius, from network counts per node.

    Parameters
    ----------
    counts
        Per node ``node_count``, ``edge_count`` and ``street_length`` (m) within
        ``radius`` of network distance, as the network engine provides them (see
        :func:`meshedness` for what the counts must cover).
    radius
        The network radius the counts were taken at, metres (names the columns).

    Returns
    -------
    pandas.DataFrame
        On the index of ``counts``: ``morph_meshedness_<R>m``, ``morph_gamma_<R>m``
        and ``morph_node_density_<R>m`` (nodes per km of street).

    Examples
    --------
    >>> counts = pd.DataFrame({"node_count": [4], "edge_count": [4], "street_length": [400.0]})
    >>> radius_measures(counts, 400).round(3)
       morph_meshedness_400m  morph_gamma_400m  morph_node_density_400m
    0                  0.333             0.667                     10.0
    """
    return pd.DataFrame(
        {
            indicator_name("morph", "meshedness", radius): meshedness(
                counts["node_count"], counts["edge_count"]
            ),
            indicator_name("morph", "gamma", radius): gamma(
                counts["node_count"], counts["edge_count"]
            ),
            indicator_name("morph", "node_density", radius): node_density(
                counts["node_count"], counts["street_length"]
            ),
        },
        index=counts.index,
    )


# ---------------------------------------------------------------------------- all of it


# ------------------------------------------------------------------------------ helpers


def _numeric_column(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame:
        log.info("buildings have no %r column; treating it as unknown", name)
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _lengths(streets: gpd.GeoDataFrame | gpd.GeoSeries) -> np.ndarray:
    if isinstance(streets, gpd.GeoDataFrame) and "length" in streets:
        return streets["length"].to_numpy(dtype=float)
    return streets.geometry.length.to_numpy()


def _degrees(streets: gpd.GeoDataFrame) -> pd.Series:
    """Degree of every segment end (self-loops count twice, as in networkx)."""
    names = streets.index.names
    if "u" in names and "v" in names:
        ends = np.concatenate(
            [streets.index.get_level_values("u"), streets.index.get_level_values("v")]
        )
    else:
        geoms = streets.geometry.to_numpy()
        xy = np.concatenate(
            [
                shapely.get_coordinates(shapely.get_point(geoms, 0)),
                shapely.get_coordinates(shapely.get_point(geoms, -1)),
            ]
        )
        ends = pd.MultiIndex.from_arrays(xy.T).to_numpy()
    return pd.Series(ends).value_counts()


def _intensity(
    zones: gpd.GeoDataFrame | gpd.GeoSeries,
    buildings: gpd.GeoDataFrame | gpd.GeoSeries,
    floors: pd.Series,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Area of each zone, and footprint and floor area per m² inside it."""
    if not floors.index.equals(buildings.index):
        floors = floors.reindex(buildings.index)
    storeys = floors.to_numpy(dtype=float)
    ground = _ground(polygonal(buildings.geometry).to_numpy(), priority=storeys)  # tallest
    zone_geoms = zones.geometry.to_numpy()
    zone_at, piece_at = shapely.STRtree(ground).query(zone_geoms, predicate="intersects")
    shared = shapely.area(shapely.intersection(zone_geoms[zone_at], ground[piece_at]))
    area = shapely.area(zone_geoms)
    covered = np.bincount(zone_at, weights=shared, minlength=len(zone_geoms))
    floor_area = np.bincount(zone_at, weights=shared * storeys[piece_at], minlength=len(zone_geoms))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (
            area,
            np.where(area > 0, covered / area, np.nan),
            np.where(area > 0, floor_area / area, np.nan),
        )


def _ground(geoms: np.ndarray, priority: np.ndarray) -> np.ndarray:
    """Footprints cut so that none overlaps another.

    OSM often maps a tower or a wing inside or over its main building. Counted twice,
    such ground would push coverage above 1, and overlapping footprints make momepy's
    tessellation cells overlap. Where footprints overlap, the one of higher
    ``priority`` (then the earlier one) keeps the ground and the others lose it.
    """
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    rank = np.lexsort((np.arange(len(geoms)), -np.nan_to_num(priority, nan=-np.inf)))
    order = np.empty(len(geoms), dtype=np.int64)
    order[rank] = np.arange(len(geoms))
    below = order[left] > order[right]
    left, right = left[below], right[below]
    overlap = shapely.relate_pattern(geoms[left], geoms[right], "2********")
    left, right = left[overlap], right[overlap]
    out = geoms.copy()
    for i in np.unique(left):
        out[i] = shapely.difference(geoms[i], shapely.union_all(geoms[right[left == i]]))
    return out


def _empty_enclosures(crs: Any) -> gpd.GeoDataFrame:
    out = gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=crs))
    out.index.name = ENCLOSURE_ID
    return out


def _counts(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=float)


def _like(template: Any, values: np.ndarray, name: str) -> pd.Series | np.ndarray:
    if isinstance(template, pd.Series):
        return pd.Series(values, index=template.index, name=name)
    return values
