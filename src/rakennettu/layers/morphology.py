"""The morphological layer: the street network's structure and the town's urban form.

:func:`morphology_layer` puts together the network engine (:mod:`rakennettu.network`:
closeness, betweenness, reach and straightness at every radius from one search per
source) and the form measures (:mod:`rakennettu.layers.form`: buildings, enclosures,
enclosed tessellation, street continuity), and names every column ``morph_<measure>`` or
``morph_<measure>_<R>m``. All indicators are raw, with units; scoring comes later.

Block structure (enclosures) is drawn from the streets proper, not from every walkable
line: separately mapped sidewalks, footpaths and steps would otherwise cut each block into
thin strips. The centrality measures use the whole walking network.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from rakennettu._timing import Stages
from rakennettu.layers import form
from rakennettu.naming import IndicatorDoc, indicator_name
from rakennettu.network import StreetNetwork, centrality_with_edges

if TYPE_CHECKING:
    from rakennettu.prepare import Prepared
    from rakennettu.town import Town

__all__ = [
    "INDICATORS",
    "NON_STREET_HIGHWAYS",
    "MorphologyLayer",
    "block_streets",
    "morphology_layer",
    "network_measures",
]

log = logging.getLogger(__name__)

#: ``highway`` values that are paths beside or between streets rather than streets, left
#: out when drawing blocks.
NON_STREET_HIGHWAYS = frozenset(
    {"footway", "path", "steps", "cycleway", "corridor", "bridleway", "elevator", "platform"}
)

_SRC_NET = "the walking network (OSM highway=*, osmnx 'walk' rules), lengths in metres"
_SRC_BLD = "building footprints (OSM building=* or the municipal register)"

INDICATORS: tuple[IndicatorDoc, ...] = (
    IndicatorDoc("morph", "harmonic", True, "1/m",
                 "Local harmonic closeness: sum of 1/d over the nodes within network "
                 "distance R (d in metres).", _SRC_NET),
    IndicatorDoc("morph", "node_count", True, "count",
                 "Reach: street nodes within network distance R.", _SRC_NET),
    IndicatorDoc("morph", "edge_count", True, "count",
                 "Street segments with both ends within R (the ego graph's edges).", _SRC_NET),
    IndicatorDoc("morph", "street_length", True, "m",
                 "Length of the street segments with both ends within R.", _SRC_NET),
    IndicatorDoc("morph", "farness", True, "m",
                 "Sum of network distances to the nodes within R.", _SRC_NET),
    IndicatorDoc("morph", "closeness_hillier", True, "count²/m",
                 "Hillier's normalised closeness: node_count² / farness within R.", _SRC_NET),
    IndicatorDoc("morph", "betweenness", True, "count",
                 "Local betweenness: shortest paths no longer than R passing through the "
                 "node (Brandes, unordered pairs, endpoints excluded).", _SRC_NET),
    IndicatorDoc("morph", "betweenness_beta", True, "count",
                 "Betweenness with each pair weighted by exp(-4 d / R).", _SRC_NET),
    IndicatorDoc("morph", "straightness", True, "ratio 0-1",
                 "Mean ratio of straight-line to network distance to the nodes within R.",
                 _SRC_NET),
    IndicatorDoc("morph", "meshedness", True, "ratio 0-1",
                 "Meshedness within R: (e - n + 1) / (2n - 5) of the ego graph.", _SRC_NET),
    IndicatorDoc("morph", "gamma", True, "ratio 0-1",
                 "Connectivity within R: e / (3 (n - 2)) of the ego graph.", _SRC_NET),
    IndicatorDoc("morph", "node_density", True, "1/km",
                 "Street nodes per km of street within R.", _SRC_NET),
    IndicatorDoc("morph", "degree", False, "count",
                 "Street segments meeting at the node.", _SRC_NET),
    IndicatorDoc("morph", "intersection_density", True, "1/km²",
                 "Intersections (3 or more segments) per km² within a straight-line "
                 "circle of radius R.", _SRC_NET),
    IndicatorDoc("morph", "dead_end_share", True, "share 0-1",
                 "Share of the nodes within a straight-line circle of radius R that are "
                 "dead ends.", _SRC_NET),
    IndicatorDoc("morph", "betweenness", True, "count",
                 "Segment betweenness within R: shortest paths no longer than R using "
                 "the segment.", _SRC_NET, level="edge"),
    IndicatorDoc("morph", "betweenness_beta", True, "count",
                 "Segment betweenness with each pair weighted by exp(-4 d / R).", _SRC_NET,
                 level="edge"),
    IndicatorDoc("morph", "stroke_length", False, "m",
                 "Length of the COINS stroke (continuous street by angle) the segment "
                 "belongs to.", _SRC_NET, level="edge"),
    IndicatorDoc("morph", "stroke_edges", False, "count",
                 "Segments in the segment's COINS stroke.", _SRC_NET, level="edge"),
    IndicatorDoc("morph", "footprint_area", False, "m²", "Building footprint area.",
                 _SRC_BLD, level="building"),
    IndicatorDoc("morph", "floors", False, "storeys",
                 "Floors: the known count, else height / storey height, else the default "
                 "(see floors_source).", _SRC_BLD, level="building"),
    IndicatorDoc("morph", "floors_source", False, "text",
                 "Where floors came from: 'floors', 'height' or 'assumed' (the default).", _SRC_BLD,
                 level="building"),
    IndicatorDoc("morph", "floor_area", False, "m²", "Footprint area × floors.", _SRC_BLD,
                 level="building"),
    IndicatorDoc("morph", "elongation", False, "ratio 0-1",
                 "Elongation of the minimum rotated rectangle (momepy).", _SRC_BLD,
                 level="building"),
    IndicatorDoc("morph", "circular_compactness", False, "ratio 0-1",
                 "Area over the area of the minimum enclosing circle (momepy).", _SRC_BLD,
                 level="building"),
    IndicatorDoc("morph", "orientation", False, "degrees 0-45",
                 "Deviation of the building's main axis from the cardinal directions.",
                 _SRC_BLD, level="building"),
    IndicatorDoc("morph", "shared_walls", False, "m",
                 "Length of wall shared with other buildings.", _SRC_BLD, level="building"),
    IndicatorDoc("morph", "shared_walls_ratio", False, "share 0-1",
                 "Shared wall length over the perimeter.", _SRC_BLD, level="building"),
    IndicatorDoc("morph", "cell_area", False, "m²",
                 "Grain: area of the building's enclosed tessellation cell.", _SRC_BLD,
                 level="tessellation"),
    IndicatorDoc("morph", "cell_coverage", False, "share 0-1",
                 "Built-up share of the tessellation cell.", _SRC_BLD, level="tessellation"),
    IndicatorDoc("morph", "cell_far", False, "m²/m²",
                 "Floor area ratio of the tessellation cell.", _SRC_BLD, level="tessellation"),
    IndicatorDoc("morph", "enclosure_area", False, "m²",
                 "Block size: area of the enclosure bounded by streets, rail and water.",
                 _SRC_NET, level="enclosure"),
    IndicatorDoc("morph", "enclosure_buildings", False, "count",
                 "Buildings in the enclosure.", _SRC_BLD, level="enclosure"),
    IndicatorDoc("morph", "enclosure_coverage", False, "share 0-1",
                 "Built-up share of the enclosure.", _SRC_BLD, level="enclosure"),
    IndicatorDoc("morph", "enclosure_far", False, "m²/m²",
                 "Floor area ratio of the enclosure.", _SRC_BLD, level="enclosure"),
)  # fmt: skip


@dataclass(frozen=True, eq=False)
class MorphologyLayer:
    """The morphological indicators of a town.

    Attributes
    ----------
    nodes
        Per street node (index ``node_id``): centrality, reach and structure at each
        radius.
    edges
        Per street segment (index ``u, v, key``): betweenness at each radius and stroke
        continuity.
    buildings
        Per building (the town's building index): footprint, floors, floor area, shape.
    cells
        The enclosed tessellation (index ``cell_id``) with grain, coverage and FAR.
    enclosures
        The blocks (index ``enclosure_id``) with size, building count, coverage and FAR.
    summary
        Town-wide street figures (intersection density, degree mix, mean lengths).
    timings
        Seconds per stage. On a large town the tessellation runs on worker processes
        beside the node structure, buildings and strokes: ``tessellation start`` is the
        time to hand it out, ``tessellation`` the time left to wait for it.
    """

    nodes: pd.DataFrame
    edges: pd.DataFrame
    buildings: pd.DataFrame
    cells: gpd.GeoDataFrame
    enclosures: gpd.GeoDataFrame
    summary: pd.Series
    timings: Mapping[str, float] = field(default_factory=dict)


def _rename(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out.columns = [indicator_name("morph", m, r) for m, r in frame.columns]
    return out


def network_measures(
    net: StreetNetwork,
    radii: Iterable[float],
    *,
    progress: bool = False,
    centrality: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Centrality, reach and structure per node, and betweenness per segment.

    Parameters
    ----------
    net
        The street network.
    radii
        Network radii in metres.
    progress
        Show progress bars.
    centrality
        ``centrality_with_edges(net, radii)`` computed already (e.g. tile by tile,
        :func:`rakennettu.region.tiled_centrality`); by default computed here.

    Returns
    -------
    (DataFrame, DataFrame)
        Node table (index ``net.node_ids``) and segment table (index of ``net.edges``),
        columns ``morph_<measure>_<R>m``.

    Examples
    --------
    >>> G = grid_graph()  # a 3x3 grid of 100 m blocks, nodes 0-8 by rows (conftest.py)
    >>> nodes, edges = network_measures(StreetNetwork.from_graph(G), [200])
    >>> nodes.loc[4, ["morph_node_count_200m", "morph_meshedness_200m"]].tolist()  # (12-9+1)/(18-5)
    [8.0, 0.3076...]
    """
    radii = sorted(radii)
    c, eb = (
        centrality_with_edges(net, radii, progress=progress) if centrality is None else centrality
    )
    parts = [_rename(c)]
    for r in radii:
        counts = pd.DataFrame(
            {k: c[k, r] for k in ("node_count", "edge_count", "street_length")}, index=c.index
        )
        # the ego graph includes its centre, the engine's counts do not
        counts["node_count"] = counts["node_count"] + 1
        parts.append(form.radius_measures(counts, r))
    nodes = pd.concat(parts, axis=1)
    edges = _rename(eb)
    return nodes, edges


def block_streets(edges: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The street segments that bound blocks: all but footways, paths, steps, cycleways.

    Examples
    --------
    >>> from shapely import LineString
    >>> e = gpd.GeoDataFrame({"highway": ["residential", "footway", "steps;footway"]},
    ...     geometry=[LineString([(0, 0), (1, 0)])] * 3, crs=3067)
    >>> block_streets(e)["highway"].tolist()
    ['residential']
    """
    if "highway" not in edges:
        return edges

    def is_street(value: Any) -> bool:
        if not isinstance(value, str):
            return True
        return not set(value.split(";")) <= NON_STREET_HIGHWAYS

    return edges[edges["highway"].map(is_street)]


#: Buildings from which the tessellation runs on every core. Starting the worker pool
#: costs about 3 s and the tessellation 1.2-9 ms per building in one process, which two
#: cores make 1.3-2.2x faster (FIELD-NOTES): the pool pays off from about 2,000 buildings
#: of perimeter blocks and 5,000 of detached houses.
PARALLEL_TESSELLATION_FROM = 5000


def tessellation_jobs(n_buildings: int, cores: int | None = None) -> int:
    """Worker processes for the tessellation of ``n_buildings`` buildings.

    Examples
    --------
    >>> tessellation_jobs(500, cores=2), tessellation_jobs(20_000, cores=2)
    (1, -1)
    >>> tessellation_jobs(20_000, cores=1)
    1
    """
    cores = (os.cpu_count() or 1) if cores is None else cores
    return -1 if n_buildings >= PARALLEL_TESSELLATION_FROM and cores > 1 else 1


def morphology_layer(
    town: Town,
    net: StreetNetwork,
    prepared: Prepared,
    *,
    radii: Iterable[float],
    n_jobs: int | None = None,
    progress: bool = False,
    centrality: tuple[pd.DataFrame, pd.DataFrame] | None = None,
) -> MorphologyLayer:
    """Compute the morphological layer of a town.

    Parameters
    ----------
    town
        The loaded town.
    net
        Its street network (``StreetNetwork.from_graph(town.graph)``).
    prepared
        The town's buildings as :func:`rakennettu.prepare.prepare` derives them: their
        floors are read.
    radii
        Network radii in metres.
    n_jobs
        Worker processes for the tessellation (-1: all cores). ``None``: all cores from
        :data:`PARALLEL_TESSELLATION_FROM` buildings on, else one (see
        :func:`tessellation_jobs`).
    progress
        Show progress bars.
    centrality
        The street centralities computed already (see :func:`network_measures`).

    Returns
    -------
    MorphologyLayer

    Examples
    --------
    >>> town = tiny_town()  # a made-up 6 x 6 street grid with 48 buildings
    >>> from rakennettu.config import FormConfig, SocialConfig
    >>> from rakennettu.prepare import prepare
    >>> prep = prepare(town, FormConfig(), SocialConfig())
    >>> morph = morphology_layer(town, StreetNetwork.from_graph(town.graph), prep, radii=[400])
    >>> morph.nodes.index.equals(town.nodes.index), "morph_harmonic_400m" in morph.nodes
    (True, True)
    """
    radii = sorted(radii)
    stage = Stages("morphology", log)

    with stage("network"):
        nodes, edges = network_measures(net, radii, progress=progress, centrality=centrality)
        nodes = nodes.reindex(town.nodes.index)
        edges = edges.reindex(town.edges.index)
    with stage("enclosures"):
        blocks = form.enclosures(block_streets(town.edges), barriers=town.barriers, area=town.area)
    with stage("tessellation start"):
        # on worker processes while this one computes the measures that do not need it
        jobs = tessellation_jobs(len(town.buildings)) if n_jobs is None else n_jobs
        tessellated = form.tessellation_started(town.buildings, blocks, n_jobs=jobs)
    with stage("node structure"):
        structure = [
            form.node_measures(town.graph, radius=r).drop(columns="morph_degree") for r in radii
        ]
        degree = form.node_measures(town.graph, radius=radii[0])[["morph_degree"]]
        nodes = pd.concat([nodes, degree, *structure], axis=1)
    with stage("buildings"):
        floors = prepared.buildings[[form.FLOORS, form.FLOORS_SOURCE]]
        buildings = form.building_measures(town.buildings, floors=floors)
    with stage("strokes"):
        strokes = form.street_measures(town.edges)
        edges = edges.join(strokes)
    with stage("tessellation"):  # what is left of it
        cells = tessellated()
    with stage("cells and enclosures"):
        floors = buildings[form.FLOORS]
        cells = cells.join(form.cell_measures(cells, town.buildings, floors))
        blocks = blocks.join(form.enclosure_measures(blocks, town.buildings, floors))
    with stage("summary"):
        inside = town.edges["in_area"].to_numpy(dtype=bool)
        summary = form.street_summary(
            town.edges[inside], area=town.area, strokes=strokes[inside], enclosures=blocks
        )
    return MorphologyLayer(
        nodes=nodes,
        edges=edges,
        buildings=buildings,
        cells=cells,
        enclosures=blocks,
        summary=summary,
        timings=stage.timings,
    )
