"""The social layer: the town's functional and economic network and its places.

Everything here is measured over the pedestrian network (:mod:`rakennettu.network`), not
with crow-flies buffers, except the density surfaces, which are deliberately plain
kernel surfaces for maps. Each function takes layers in one projected metric CRS and
returns a new table aligned on its input's index (network nodes: ``net.node_ids``;
buildings: the buildings' index); inputs are never modified, and a geographic CRS raises
:class:`~rakennettu.errors.CRSError`.

Activities (:func:`activity_access`)
    Points (polygons by a representative point) with a ``category`` from the
    ``activities`` tag table (``data/taxonomy/activities.toml``: daily_needs, food_drink,
    health, education, culture, sport, services, retail, work, and whatever the table
    adds) or from a municipal points layer, and an optional ``weight`` (1 by default). A
    feature counts in its primary category only, so the categories partition the
    activities. Per node and radius ``R``: the count within ``R`` and the decayed sum
    ``Σ weight · exp(-β d)`` over the activities within ``R`` (``β = 4 / R`` per metre
    unless given: a weight falls to ``e⁻⁴ ≈ 0.018`` at ``R``), per category and in total;
    and the network distance to the nearest activity of each category up to the largest
    radius (NaN beyond: "beyond reach", the worst case in the scores), as the cultural
    layer's ``cult_nearest_*``.

Land-use mix (:func:`land_use_mix`, :func:`hill_numbers`)
    Hill numbers of the category abundances ``a_i`` within ``R``, with shares
    ``p_i = a_i / Σ a``:

    - ``D_q = (Σ p_i^q) ^ (1 / (1 - q))`` for ``q ≠ 1``;
    - ``D_1 = exp(-Σ p_i ln p_i)`` (the limit ``q → 1``: exponential Shannon entropy);
    - ``D_0`` is the number of categories present, ``D_2 = 1 / Σ p_i²`` the inverse
      Simpson index.

    Sums run over the categories present (``p_i > 0``). ``D_q`` is an effective number
    of categories: 1 for a single category, ``k`` for an even split over ``k``, 0 where
    nothing is within reach. ``soc_mix_q<q>`` uses the counts as abundances,
    ``soc_mix_decayed_q<q>`` the decayed sums, so near activities weigh more.

Residents and jobs (:func:`floor_areas`, :func:`estimate_population`,
:func:`allocate_population`, :func:`catchment`)
    From a population grid (YKR, HSY: 250 m or 1 km cells with ``residents`` and
    optionally ``jobs``) allocated to buildings in proportion to the floor area of the
    buildings that can hold them (dasymetric mapping), or estimated from floor area per
    person where there is no grid. Summed per node over the buildings within ``R`` on
    the network: the people a place serves.

Density surfaces (:func:`kernel_density`)
    Quartic-kernel densities of activities and residents, per km², written as GeoTIFF by
    :func:`rakennettu.outputs.rasters.write_geotiff`.

:func:`social_layer` runs all of it for a :class:`~rakennettu.town.Town` and returns a
:class:`SocialLayer`. The columns are listed, with units and sources, in
:data:`INDICATORS`.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from rakennettu._geo import as_area, polygonal
from rakennettu._timing import Stages
from rakennettu.crs import require_projected
from rakennettu.diversity import hill_numbers
from rakennettu.errors import CRSError
from rakennettu.layers.form import DEFAULT_FLOORS, FLOORS, STOREY_HEIGHT, estimate_floors
from rakennettu.naming import IndicatorDoc, indicator_name, parse_name
from rakennettu.network import StreetNetwork, accessibility, attach_points, nearest
from rakennettu.sources.landuse import residential_landuse, unknown_homes
from rakennettu.sources.municipal import Raster

if TYPE_CHECKING:
    from rakennettu.prepare import Prepared
    from rakennettu.town import Town

__all__ = [
    "INDICATORS",
    "JOB_USES",
    "POPULATION_METHODS",
    "RESIDENTIAL_USES",
    "SocialLayer",
    "activity_access",
    "activity_categories",
    "allocate_population",
    "catchment",
    "estimate_population",
    "floor_areas",
    "hill_numbers",
    "homes_of_unknown_use",
    "kernel_density",
    "land_use_mix",
    "social_layer",
]

log = logging.getLogger(__name__)

F64 = npt.NDArray[np.float64]

RESIDENTIAL_USES: tuple[str, ...] = ("residential",)
"""Building uses (``data/taxonomy/building_use.toml``) whose floor area houses residents.

``unknown`` (OSM ``building=yes``) is left out: in small towns such footprints are mostly
sheds, saunas and garages. Where a town's homes are mostly tagged ``building=yes``
(central Helsinki), pass ``residential_uses=("residential", "unknown")``.
"""

JOB_USES: tuple[str, ...] = (
    "commercial",
    "office",
    "industrial",
    "public",
    "education",
    "health",
    "culture",
)
"""Building uses whose floor area is counted as workplaces when jobs are estimated.

Left out: ``residential`` (homes), ``religious`` and ``sport`` (large halls with few
staff per m²), ``parking`` and ``other`` (garages, sheds, saunas, cottages), and
``unknown``.
"""

UnknownHomes = Literal["never", "residential_landuse", "always"]
UNKNOWN_HOMES: tuple[str, ...] = ("never", "residential_landuse", "always")
"""Rules for buildings of unknown use (``building=yes``) counted as homes."""

POPULATION_METHODS: tuple[str, ...] = ("grid", "grid_residents", "grid_jobs", "floor_area")
"""Values of ``population_method``: both values from the grid; residents (or jobs) from
the grid and the other estimated from floor area; both estimated from floor area."""

_M2_PER_KM2 = 1e6
_QUARTIC = "quartic"
_KDE_BATCH = 500_000  # kernel evaluations per batch (about 30 MB of temporaries)
_CATEGORY_ID = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*$")
_TOTAL = "total"
_VALUE_COLUMNS = ("residents", "jobs")


# ------------------------------------------------------------------------ indicators

INDICATORS: tuple[IndicatorDoc, ...] = (
    IndicatorDoc(
        "soc",
        "count_total",
        True,
        "count",
        "Activities of every category within R on the network (walk along the streets "
        "plus the last metres off them).",
        "OSM activities (taxonomy table activities) and municipal 'pois' layers",
    ),
    IndicatorDoc(
        "soc",
        "count_{category}",
        True,
        "count",
        "Activities of the category (their primary category) within R on the network.",
        "OSM activities (taxonomy table activities) and municipal 'pois' layers",
    ),
    IndicatorDoc(
        "soc",
        "access_total",
        True,
        "decay-weighted count",
        "Σ weight · exp(-β d) over the activities within network distance d <= R, "
        "β = 4/R per metre by default (a weight falls to 0.018 at R).",
        "OSM activities (taxonomy table activities, rule weights) and municipal 'pois'",
    ),
    IndicatorDoc(
        "soc",
        "access_{category}",
        True,
        "decay-weighted count",
        "Σ weight · exp(-β d) over the category's activities within network distance "
        "d <= R, β = 4/R per metre by default.",
        "OSM activities (taxonomy table activities, rule weights) and municipal 'pois'",
    ),
    IndicatorDoc(
        "soc",
        "nearest_{category}",
        False,
        "m",
        "Network distance to the nearest activity of the category; NaN beyond the largest "
        "radius (beyond reach: the loaded context reaches only that far beyond the area, so "
        "farther distances would be upper bounds).",
        "OSM activities (taxonomy table activities) and municipal 'pois' layers",
    ),
    IndicatorDoc(
        "soc",
        "mix_q0",
        True,
        "count of categories",
        "Land-use mix: the number of activity categories present within R (Hill number "
        "D_0, richness).",
        "soc_count_<category>_<R>m",
    ),
    IndicatorDoc(
        "soc",
        "mix_q1",
        True,
        "effective number of categories",
        "Land-use mix: Hill number D_1 = exp(-Σ p_i ln p_i) of the category shares p_i of "
        "the activities within R (exponential Shannon entropy); 0 where none is in reach.",
        "soc_count_<category>_<R>m",
    ),
    IndicatorDoc(
        "soc",
        "mix_q2",
        True,
        "effective number of categories",
        "Land-use mix: Hill number D_2 = 1 / Σ p_i² of the category shares within R "
        "(inverse Simpson index); 0 where none is in reach.",
        "soc_count_<category>_<R>m",
    ),
    IndicatorDoc(
        "soc",
        "mix_decayed_q1",
        True,
        "effective number of categories",
        "As soc_mix_q1 with the decayed sums soc_access_<category> as abundances, so near "
        "activities weigh more. (A decayed q0 would repeat soc_mix_q0.)",
        "soc_access_<category>_<R>m",
    ),
    IndicatorDoc(
        "soc",
        "mix_decayed_q2",
        True,
        "effective number of categories",
        "As soc_mix_q2 with the decayed sums soc_access_<category> as abundances.",
        "soc_access_<category>_<R>m",
    ),
    IndicatorDoc(
        "soc",
        "residents",
        True,
        "persons",
        "Residents of the buildings within R on the network (building representative "
        "points attached to the nearest street): the population a place serves.",
        "population grid ([[layers]] role 'population', column residents) allocated to "
        "buildings by residential floor area, else residential floor area / m2_per_resident",
        "node",
    ),
    IndicatorDoc(
        "soc",
        "jobs",
        True,
        "jobs",
        "Jobs in the buildings within R on the network.",
        "population grid column jobs allocated by workplace floor area, else workplace "
        "floor area (uses commercial, office, industrial, public, education, health, "
        "culture) / m2_per_job",
        "node",
    ),
    IndicatorDoc(
        "soc",
        "activity_density",
        False,
        "per km²",
        "Quartic kernel density of the activities (weighted), K(d) = 3/(π h²)·(1 - d²/h²)² "
        "for d < h, h = bandwidth (m); integrates to the weighted count.",
        "OSM activities and municipal 'pois' layers",
        "raster",
    ),
    IndicatorDoc(
        "soc",
        "resident_density",
        False,
        "per km²",
        "Quartic kernel density of residents at building points (as soc_activity_density).",
        "building residents (grid allocation or floor-area estimate)",
        "raster",
    ),
)
"""The social indicators: one entry per measure, ``{category}`` standing for an activity
category id. Totals come before the per-category entries, so
:func:`rakennettu.naming.describe` finds them first."""


# ------------------------------------------------------------------------- helpers


def _check_radii(radii: float | Iterable[float]) -> list[int]:
    values = [radii] if np.isscalar(radii) else list(radii)  # type: ignore[arg-type]
    if not values:
        raise ValueError("radii is empty; give at least one radius in metres, e.g. [400, 800]")
    out: list[int] = []
    for r in values:
        if not (isinstance(r, int | float | np.integer | np.floating) and math.isfinite(r)):
            raise ValueError(f"radii must be whole numbers of metres, got {values!r}")
        if r <= 0 or float(r) != int(r):
            raise ValueError(
                f"radii must be positive whole numbers of metres (they name columns, "
                f"e.g. soc_count_total_800m), got {values!r}"
            )
        out.append(int(r))
    return sorted(set(out))


def _check_positive(value: float, name: str, unit: str = "m") -> float:
    if not (isinstance(value, int | float | np.integer | np.floating) and value > 0):
        raise ValueError(f"{name} must be a positive number ({unit}), got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite ({unit}), got {value!r}")
    return float(value)


def _check_network_crs(net: StreetNetwork, crs: Any, what: str) -> None:
    parsed = require_projected(crs, what)
    if parsed != net.crs:
        raise CRSError(
            f"{what}: CRS {parsed.to_string()} is not the network's ({net.crs.to_string()}); "
            "reproject with .to_crs(net.crs)"
        )


def _points_of(geometry: gpd.GeoSeries) -> gpd.GeoSeries:
    """Points as they are; polygons and lines by a representative point; None kept."""
    geoms = geometry.to_numpy()
    out = geoms.copy()
    todo = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    todo &= shapely.get_type_id(geoms) != 0
    if todo.any():
        out[todo] = shapely.point_on_surface(geoms[todo])
    return gpd.GeoSeries(out, index=geometry.index, crs=geometry.crs)


def _per_row(values: Any, index: pd.Index, what: str, dtype: Any = np.float64) -> np.ndarray:
    """Values aligned to ``index``: a Series (reindexed, all labels required) or array."""
    if isinstance(values, pd.Series):
        if not values.index.equals(index):
            missing = index.difference(values.index)
            if len(missing):
                raise KeyError(
                    f"{what} has no value for {len(missing)} rows (e.g. {list(missing[:3])})"
                )
            if values.index.has_duplicates:
                raise ValueError(f"{what}: its index repeats labels; pass it in row order")
            values = values.reindex(index)
        return values.to_numpy(dtype=dtype)
    arr = np.asarray(values, dtype=dtype)
    if arr.shape != (len(index),):
        raise ValueError(f"{what} must have one value per row ({len(index)}), got {arr.shape}")
    return arr


def _measure_part(label: Hashable, what: str) -> str:
    text = str(label)
    if not _CATEGORY_ID.match(text):
        raise ValueError(
            f"{what} {label!r} cannot name a column: use lower-case words joined by '_' "
            "(recode it, e.g. values.category in the workflow's [[layers]] entry)"
        )
    if text == _TOTAL:
        raise ValueError(f"{what} may not be called {_TOTAL!r}; that name is the total")
    return text


# --------------------------------------------------------------------------- activities


def activity_categories(
    activities: pd.DataFrame, *, taxonomy: Any = None, column: str = "category"
) -> list[str]:
    """The activity categories to report: the tag table's, then any others in the data.

    Parameters
    ----------
    activities
        Activities with a ``category`` column.
    taxonomy
        The tag tables (:func:`rakennettu.sources.taxonomy.load_taxonomy`); default the
        bundled ones. Its ``activities`` table gives the categories and their order, so
        every town gets the same columns even where a category has no activity.
    column
        The category column.

    Returns
    -------
    list of str
        The table's category ids in its order, then other categories found in
        ``activities`` (e.g. from a municipal layer), sorted.

    Examples
    --------
    >>> acts = pd.DataFrame({"category": ["retail", "ice_cream_vans", None]})
    >>> activity_categories(acts)[-3:]
    ['retail', 'work', 'ice_cream_vans']
    """
    from rakennettu.sources.taxonomy import load_taxonomy

    tax = taxonomy if taxonomy is not None else load_taxonomy()
    ids = list(tax["activities"].ids)
    extra: list[str] = []
    if column in activities:
        found = activities[column].dropna().unique().tolist()
        extra = sorted({str(c) for c in found} - set(ids))
    for c in [*ids, *extra]:
        _measure_part(c, "activity category")
    return [*ids, *extra]


def activity_access(
    net: StreetNetwork,
    activities: gpd.GeoDataFrame,
    *,
    radii: float | Iterable[float],
    snap_distance: float,
    beta: float | Sequence[float] | None = None,
    categories: Sequence[str] | None = None,
    max_nearest: float | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Reach of every node to the activities: counts, decayed sums and nearest distances.

    Activities are attached to the nearest street (polygons by a point on their surface)
    and searched from outward over the network (:func:`rakennettu.network.accessibility`);
    the walk to an activity runs along the streets and then the snapping distance off
    them. An activity counts in its primary ``category`` (and in the total) with its
    ``weight`` (1 where the column is missing or empty).

    Parameters
    ----------
    net
        The street network.
    activities
        Points or polygons with a ``category`` column and an optional ``weight``, in the
        network's CRS (e.g. ``town.activities``).
    radii
        Network radii in metres (whole numbers).
    snap_distance
        Activities farther than this (metres) from every street are left out.
    beta
        Decay rate per metre: one value, one per radius (ascending), or None for
        ``4 / R``.
    categories
        The categories to report; default :func:`activity_categories` (the tag table's,
        then others in the data). Activities of other categories count in the total only.
    max_nearest
        Search the nearest activity up to this many metres (default the largest radius,
        as the cultural layer's ``cult_nearest_*``); farther is NaN, "beyond reach".
    progress
        Show a progress bar over the categories.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``net.node_ids``: ``soc_count_<category>_<R>m`` and
        ``soc_count_total_<R>m`` (counts within R), ``soc_access_<category>_<R>m`` and
        ``soc_access_total_<R>m`` (``Σ weight · exp(-β d)`` within R) and
        ``soc_nearest_<category>`` (metres, NaN where none lies within ``max_nearest``).

    Raises
    ------
    CRSError
        If the activities are not in the network's projected CRS.

    Examples
    --------
    Two shops and a café on a 3x3 grid of 100 m blocks:

    >>> from shapely import Point
    >>> net = grid  # a 3x3 grid of 100 m blocks, nodes 0-8 by rows (conftest.py)
    >>> acts = gpd.GeoDataFrame(
    ...     {"category": ["retail", "retail", "food_drink"]},
    ...     geometry=[Point(0, 0), Point(100, 0), Point(200, 200)], crs=3067)
    >>> acc = activity_access(net, acts, radii=[100], snap_distance=10,
    ...                       categories=["retail", "food_drink"])
    >>> acc.loc[[0, 4], ["soc_count_retail_100m", "soc_count_total_100m"]]
             soc_count_retail_100m  soc_count_total_100m
    node_id
    0                            2                     2
    4                            1                     1
    >>> round(float(acc.loc[0, "soc_access_retail_100m"]), 4)  # 1 + exp(-4/100 * 100)
    1.0183
    >>> acc.loc[[0, 8], "soc_nearest_food_drink"].tolist()  # NaN beyond 100 m
    [nan, 0.0]
    """
    labels = _check_radii(radii)
    snap = _check_positive(snap_distance, "snap_distance")
    if not isinstance(activities, gpd.GeoDataFrame):
        raise TypeError(f"activities must be a GeoDataFrame, got {type(activities).__name__}")
    _check_network_crs(net, activities.crs, "activities")
    if "category" not in activities:
        raise KeyError(
            "activities have no 'category' column; classify them with "
            "rakennettu.sources.taxonomy.activities(...) or map one for a 'pois' layer"
        )
    cats = list(categories) if categories is not None else activity_categories(activities)
    for c in cats:
        _measure_part(c, "activity category")
    # positions as the index: the input's labels may repeat
    pts = _points_of(activities.geometry.reset_index(drop=True))
    category = (
        activities["category"]
        .reset_index(drop=True)
        .map(lambda v: None if pd.isna(v) else str(v))
        .astype(object)
    )
    category = category.where(category.isin(cats), None)
    weight = (
        pd.to_numeric(activities["weight"], errors="coerce").reset_index(drop=True).fillna(1.0)
        if "weight" in activities
        else pd.Series(1.0, index=pts.index)
    )
    attached = attach_points(net, pts, max_distance=snap)
    n_off = int((~attached["attached"]).sum())
    if n_off:
        log.info("%d of %d activities lie over %g m from a street: left out", n_off, len(pts), snap)
    acc = accessibility(
        net,
        attached,
        radii=labels,
        categories=category,
        weights=weight,
        beta=beta,
        progress=progress,
    )
    limit = (
        float(max(labels)) if max_nearest is None else _check_positive(max_nearest, "max_nearest")
    )
    near = nearest(net, attached, max_distance=limit, categories=category)
    present = set(acc.columns.get_level_values(0))
    data: dict[str, Any] = {}
    n = net.n_nodes
    for measure, source in (("count", "count"), ("access", "decayed")):
        for c in [*cats, _TOTAL]:
            for r in labels:
                col = (c, source, r)
                if c in present:
                    values = acc[col].to_numpy()
                else:
                    values = np.zeros(n, dtype=np.int64 if measure == "count" else np.float64)
                data[indicator_name("soc", f"{measure}_{c}", r)] = values
    for c in cats:
        data[indicator_name("soc", f"nearest_{c}")] = (
            near[c].to_numpy() if c in near else np.full(n, np.nan)
        )
    return pd.DataFrame(data, index=net.node_ids.copy())


# ------------------------------------------------------------------------------- mix


def _q_label(q: float) -> str:
    return f"q{q:g}".replace(".", "_")


def land_use_mix(
    access: pd.DataFrame,
    *,
    qs: Sequence[float] = (0, 1, 2),
    decayed_qs: Sequence[float] = (1, 2),
) -> pd.DataFrame:
    """Land-use mix per node and radius: Hill numbers of the activity categories.

    Parameters
    ----------
    access
        A table with ``soc_count_<category>_<R>m`` columns (and ``soc_access_...`` for
        the decayed forms), as :func:`activity_access` makes; totals are ignored.
    qs
        Orders of the mix of counts.
    decayed_qs
        Orders of the mix of decayed sums. ``q = 0`` is left out by default: with
        positive weights it equals the mix of counts.

    Returns
    -------
    pandas.DataFrame
        On the index of ``access``: ``soc_mix_q<q>_<R>m`` and
        ``soc_mix_decayed_q<q>_<R>m`` (effective numbers of categories; see
        :func:`hill_numbers`).

    Examples
    --------
    >>> counts = pd.DataFrame({"soc_count_retail_400m": [3, 1, 0],
    ...                        "soc_count_food_drink_400m": [3, 0, 0],
    ...                        "soc_count_total_400m": [6, 1, 0]})
    >>> land_use_mix(counts, qs=(0, 2), decayed_qs=())
       soc_mix_q0_400m  soc_mix_q2_400m
    0              2.0              2.0
    1              1.0              1.0
    2              0.0              0.0
    """
    groups: dict[tuple[str, int], list[str]] = {}
    for col in access.columns:
        try:
            parsed = parse_name(str(col))
        except ValueError:
            continue
        if parsed.dimension != "soc" or parsed.radius is None:
            continue
        for kind in ("count", "access"):
            prefix = f"{kind}_"
            if parsed.measure.startswith(prefix) and parsed.measure != f"{kind}_{_TOTAL}":
                groups.setdefault((kind, parsed.radius), []).append(str(col))
    radii = sorted({r for _, r in groups})
    data: dict[str, F64] = {}
    for kind, orders, infix in (("count", qs, ""), ("access", decayed_qs, "decayed_")):
        for q in orders:
            for r in radii:
                cols = groups.get((kind, r), [])
                values = access[cols].to_numpy(dtype=np.float64)
                data[indicator_name("soc", f"mix_{infix}{_q_label(q)}", r)] = (
                    hill_numbers(values, q) if cols else np.zeros(len(access))
                )
    return pd.DataFrame(data, index=access.index.copy())


# ----------------------------------------------------------------- residents and jobs


def floor_areas(
    buildings: gpd.GeoDataFrame,
    *,
    storey_height: float = STOREY_HEIGHT,
    default_floors: float = DEFAULT_FLOORS,
    residential_uses: Sequence[str] = RESIDENTIAL_USES,
    job_uses: Sequence[str] = JOB_USES,
    homes: pd.Series | None = None,
    floors: pd.Series | None = None,
) -> pd.DataFrame:
    """Floor area of each building, and the part that houses residents or jobs.

    Floor area is the (repaired) footprint area times the floors of
    :func:`rakennettu.layers.form.estimate_floors`, as ``morph_floor_area``. A building
    counts wholly as residential or as workplace by its ``use`` (missing: unknown).

    Parameters
    ----------
    buildings
        Footprints with ``use``, ``floors`` and ``height``, in a projected metric CRS.
    storey_height, default_floors
        See :func:`rakennettu.layers.form.estimate_floors`.
    residential_uses
        Uses that house residents (default :data:`RESIDENTIAL_USES`).
    job_uses
        Uses counted as workplaces (default :data:`JOB_USES`).
    homes
        Boolean per building (on its index): counted as homes whatever their use, e.g.
        buildings of unknown use in residential land use
        (:func:`rakennettu.sources.landuse.unknown_homes`).
    floors
        Floors per building already estimated (on its index, as
        :func:`rakennettu.prepare.prepare` passes them); then ``storey_height`` and
        ``default_floors`` are not used.

    Returns
    -------
    pandas.DataFrame
        On the index of ``buildings``: ``floor_area``, ``residential_floor_area`` and
        ``job_floor_area``, m².

    Examples
    --------
    >>> from shapely import box
    >>> b = gpd.GeoDataFrame({"use": ["residential", "office", "unknown"],
    ...                       "floors": [3.0, 2.0, np.nan], "height": np.nan},
    ...                      geometry=[box(0, 0, 10, 10)] * 3, crs=3067)
    >>> floor_areas(b)
       floor_area  residential_floor_area  job_floor_area
    0       300.0                   300.0             0.0
    1       200.0                     0.0           200.0
    2       100.0                     0.0             0.0
    """
    require_projected(buildings.crs, "buildings")
    footprint = polygonal(buildings.geometry).area.to_numpy()
    if floors is None:
        est = estimate_floors(buildings, storey_height=storey_height, default_floors=default_floors)
        floors = est[FLOORS]
    area = footprint * floors.to_numpy(dtype=float)
    if "use" in buildings:
        use = buildings["use"].astype(object).where(buildings["use"].notna(), "unknown")
    else:
        log.info("buildings have no 'use' column; every building counts as unknown")
        use = pd.Series("unknown", index=buildings.index, dtype=object)
    is_res = use.isin(list(residential_uses)).to_numpy()
    if homes is not None:
        is_res = is_res | homes.reindex(buildings.index, fill_value=False).to_numpy(dtype=bool)
    is_job = use.isin(list(job_uses)).to_numpy()
    return pd.DataFrame(
        {
            "floor_area": area,
            "residential_floor_area": np.where(is_res, area, 0.0),
            "job_floor_area": np.where(is_job, area, 0.0),
        },
        index=buildings.index,
    )


def estimate_population(
    areas: pd.DataFrame, *, m2_per_resident: float = 40.0, m2_per_job: float = 35.0
) -> pd.DataFrame:
    """Estimate residents and jobs of buildings from their floor area.

    ``residents = residential_floor_area / m2_per_resident`` and
    ``jobs = job_floor_area / m2_per_job``: a crude estimate where no population grid is
    given. Finnish homes average about 40 m² of floor area per resident; 35 m² of
    workplace floor area per job is a planning rule of thumb for offices and shops that
    overstates jobs in warehouses and halls.

    Parameters
    ----------
    areas
        ``residential_floor_area`` and ``job_floor_area`` in m², as :func:`floor_areas`
        makes.
    m2_per_resident
        Residential floor area per resident, m².
    m2_per_job
        Workplace floor area per job, m².

    Returns
    -------
    pandas.DataFrame
        On the index of ``areas``: ``residents`` and ``jobs`` (fractional persons).

    Examples
    --------
    >>> areas = pd.DataFrame({"residential_floor_area": [400.0, 0.0],
    ...                       "job_floor_area": [0.0, 700.0]})
    >>> estimate_population(areas)
       residents  jobs
    0       10.0   0.0
    1        0.0  20.0
    """
    m2r = _check_positive(m2_per_resident, "m2_per_resident", "m²")
    m2j = _check_positive(m2_per_job, "m2_per_job", "m²")
    return pd.DataFrame(
        {
            "residents": areas["residential_floor_area"].to_numpy(dtype=np.float64) / m2r,
            "jobs": areas["job_floor_area"].to_numpy(dtype=np.float64) / m2j,
        },
        index=areas.index,
    )


def _pseudo_ids(existing: pd.Index, cells: pd.Index) -> pd.Index:
    """Row labels for pseudo buildings: negative integers, or ``"grid-<cell>"`` strings."""
    if pd.api.types.is_integer_dtype(existing.dtype) or len(existing) == 0:
        start = min(int(existing.min()) if len(existing) else 0, 0) - 1
        return pd.Index(np.arange(start, start - len(cells), -1, dtype=np.int64))
    taken = set(existing)
    labels = [f"grid-{c}" for c in cells]
    clash = [x for x in labels if x in taken]
    if clash:
        raise ValueError(f"buildings already use the labels {clash[:3]}; rename them")
    return pd.Index(labels, dtype=object)


def allocate_population(
    buildings: gpd.GeoDataFrame | gpd.GeoSeries,
    grid: gpd.GeoDataFrame,
    *,
    floor_area: pd.Series | Sequence[float],
    residential_mask: pd.Series | Sequence[bool],
    job_mask: pd.Series | Sequence[bool] | None = None,
    within: BaseGeometry | None = None,
) -> gpd.GeoDataFrame:
    """Share the people of a population grid among the buildings (dasymetric mapping).

    A building's footprint is cut by the grid cells; a cell's residents go to the pieces
    inside it in proportion to their floor area (the building's floor area times the
    share of its footprint in the cell), among the buildings of ``residential_mask``.
    Jobs likewise among those of ``job_mask``. A cell with people but no such floor area
    shares them among all its buildings by floor area; a cell with people and no
    building at all keeps them at a point (a *pseudo building* row, flagged ``pseudo``):
    the representative point of the cell's part within ``within``, else of the cell.
    Every cell's people are therefore kept: each column sums to the grid's total (up to
    float rounding). Cells reaching beyond the loaded buildings share their people among
    the buildings there are, so load buildings for the whole cells (or the context).

    Parameters
    ----------
    buildings
        Footprints, in a projected metric CRS.
    grid
        Grid cells (polygons) with ``residents`` and/or ``jobs`` (missing values count
        as 0), in the buildings' CRS.
    floor_area
        Floor area per building, m² (e.g. :func:`floor_areas`).
    residential_mask
        Which buildings house residents.
    job_mask
        Which buildings hold jobs; None: every building.
    within
        Where pseudo buildings may stand (the loaded context); optional.

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed like ``buildings``, then one row per pseudo building (negative integer
        labels below the smallest, or ``"grid-<cell>"`` for other indexes): the grid's
        value columns (``residents``, ``jobs``, persons), ``pseudo`` (bool),
        ``grid_cell`` (the cell of a pseudo row), ``covered`` (whether the building
        touches the grid's extent, the convex hull of its cells: outside it the grid
        says nothing) and the representative point of each footprint as geometry.

    Raises
    ------
    CRSError
        If the layers are not in one projected CRS.
    ValueError
        If the grid has neither ``residents`` nor ``jobs``, or negative values.

    Examples
    --------
    Two 100 m cells: the west one holds a house and a shop, the east one only a shed;
    a third cell holds no building at all.

    >>> from shapely import box
    >>> grid = gpd.GeoDataFrame({"residents": [30, 10, 5]}, geometry=[
    ...     box(0, 0, 100, 100), box(100, 0, 200, 100), box(200, 0, 300, 100)], crs=3067)
    >>> houses = gpd.GeoSeries([box(10, 10, 30, 30), box(50, 50, 70, 70),
    ...                         box(150, 50, 160, 60)], crs=3067)
    >>> out = allocate_population(houses, grid, floor_area=[400, 400, 100],
    ...                           residential_mask=[True, False, False])
    >>> out[["residents", "pseudo", "grid_cell"]]
        residents  pseudo  grid_cell
     0       30.0   False       <NA>
     1        0.0   False       <NA>
     2       10.0   False       <NA>
    -1        5.0    True          2
    """
    crs = require_projected(buildings.crs, "buildings")
    grid_crs = require_projected(grid.crs, "grid")
    if grid_crs != crs:
        raise CRSError(
            f"grid: CRS {grid_crs.to_string()} is not the buildings' ({crs.to_string()}); "
            "reproject it with .to_crs(...)"
        )
    columns = [c for c in _VALUE_COLUMNS if c in grid]
    if not columns:
        raise ValueError(
            "grid has neither 'residents' nor 'jobs'; map them in the workflow's population "
            "layer, e.g. columns = { residents = 'asukkaita' }"
        )
    values: dict[str, F64] = {}
    for c in columns:
        v = pd.to_numeric(grid[c], errors="coerce").to_numpy(dtype=np.float64)
        if np.any(v < 0):
            raise ValueError(
                f"grid column {c!r} has {int((v < 0).sum())} negative values; recode "
                f"suppressed cells, e.g. values = {{ {c} = {{ -1 = nan }} }}"
            )
        if np.any(np.isinf(v)):
            raise ValueError(f"grid column {c!r} has infinite values")
        values[c] = np.nan_to_num(v, nan=0.0)
    index = buildings.index
    area = _per_row(floor_area, index, "floor_area")
    area = np.where(np.isfinite(area) & (area > 0), area, 0.0)
    masks = {
        "residents": _per_row(residential_mask, index, "residential_mask", bool),
        "jobs": (
            np.ones(len(index), dtype=bool)
            if job_mask is None
            else _per_row(job_mask, index, "job_mask", bool)
        ),
    }
    footprints = polygonal(buildings.geometry).to_numpy()
    cells = polygonal(grid.geometry).to_numpy()
    nb, nc = len(footprints), len(cells)
    b_at, c_at = shapely.STRtree(cells).query(footprints, predicate="intersects")
    fp_area = shapely.area(footprints)
    piece = shapely.area(shapely.intersection(footprints[b_at], cells[c_at]))
    share = np.divide(piece, fp_area[b_at], out=np.zeros_like(piece), where=fp_area[b_at] > 0)
    w_all = area[b_at] * share
    all_sum = np.bincount(c_at, weights=w_all, minlength=nc)

    out: dict[str, F64] = {}
    pseudo_value: dict[str, F64] = {}
    needs_pseudo = np.zeros(nc, dtype=bool)
    for c in columns:
        people = values[c]
        w_mask = w_all * masks[c][b_at]
        mask_sum = np.bincount(c_at, weights=w_mask, minlength=nc)
        by_mask = mask_sum > 0
        by_all = ~by_mask & (all_sum > 0)
        pseudo = (people > 0) & ~by_mask & ~by_all
        with np.errstate(invalid="ignore", divide="ignore"):
            alloc = np.where(
                by_mask[c_at],
                people[c_at] * w_mask / np.where(by_mask, mask_sum, 1.0)[c_at],
                np.where(
                    by_all[c_at], people[c_at] * w_all / np.where(by_all, all_sum, 1.0)[c_at], 0.0
                ),
            )
        out[c] = np.asarray(np.bincount(b_at, weights=alloc, minlength=nb), dtype=np.float64)
        pseudo_value[c] = np.where(pseudo, people, 0.0)
        needs_pseudo |= pseudo
        log.info(
            "grid %s: %d cells shared by %s floor area, %d by all floor area, %d kept at "
            "pseudo buildings (%.0f of %.0f)",
            c,
            int((by_mask & (people > 0)).sum()),
            "residential" if c == "residents" else "workplace",
            int((by_all & (people > 0)).sum()),
            int(pseudo.sum()),
            float(people[pseudo].sum()),
            float(people.sum()),
        )
    hull = shapely.convex_hull(shapely.union_all(cells)) if nc else shapely.Polygon()
    covered = shapely.intersects(footprints, hull)
    points = shapely.point_on_surface(footprints)
    frame = pd.DataFrame({c: out[c] for c in columns}, index=index.copy())
    frame["pseudo"] = False
    frame["grid_cell"] = pd.Series(pd.NA, index=frame.index, dtype=object)
    frame["covered"] = covered
    geometry = list(points)
    where = np.flatnonzero(needs_pseudo)
    if where.size:
        cell_geoms = cells[where]
        if within is not None:
            inside = shapely.intersection(cell_geoms, within)
            cell_geoms = np.where(shapely.is_empty(inside), cell_geoms, inside)
        labels = grid.index[where]
        extra = pd.DataFrame(
            {c: pseudo_value[c][where] for c in columns},
            index=_pseudo_ids(index, pd.Index(labels)),
        )
        extra["pseudo"] = True
        extra["grid_cell"] = pd.Series(list(labels), index=extra.index, dtype=object)
        extra["covered"] = True
        frame = pd.concat([frame, extra])
        geometry += list(shapely.point_on_surface(cell_geoms))
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometry, index=frame.index, crs=crs))


def catchment(
    net: StreetNetwork,
    points: gpd.GeoDataFrame | gpd.GeoSeries,
    weights: pd.DataFrame | pd.Series,
    *,
    radii: float | Iterable[float],
    snap_distance: float,
) -> pd.DataFrame:
    """Sum of point weights (residents, jobs) within each radius of every node.

    The points (polygons by a point on their surface) are attached to the nearest
    street within ``snap_distance``; a node's catchment at ``R`` is the total weight of
    the points within network distance ``R`` (along the streets, plus the snapping
    distance), as :func:`rakennettu.network.accessibility` counts them.

    Parameters
    ----------
    net
        The street network.
    points
        Where the people are (e.g. building representative points), in the network's CRS.
    weights
        One column per quantity, or a named Series, indexed like ``points``; each name
        becomes a measure: ``residents`` -> ``soc_residents_<R>m``.
    radii
        Network radii in metres (whole numbers).
    snap_distance
        Points farther than this (metres) from every street are left out (logged).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``net.node_ids``: ``soc_<name>_<R>m`` for each weight and radius.

    Examples
    --------
    Ten residents at the south-west corner of a 3x3 grid of 100 m blocks, five at the
    north-east one:

    >>> from shapely import Point
    >>> net = grid  # a 3x3 grid of 100 m blocks, nodes 0-8 by rows (conftest.py)
    >>> homes = gpd.GeoSeries([Point(0, 0), Point(200, 200)], crs=3067)
    >>> people = pd.Series([10.0, 5.0], name="residents")
    >>> catchment(net, homes, people, radii=[200, 400], snap_distance=10).loc[[0, 4]]
             soc_residents_200m  soc_residents_400m
    node_id
    0                      10.0                15.0
    4                      15.0                15.0
    """
    labels = _check_radii(radii)
    snap = _check_positive(snap_distance, "snap_distance")
    geometry = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
    _check_network_crs(net, geometry.crs, "points")
    frame = weights.to_frame() if isinstance(weights, pd.Series) else weights
    if frame.columns.has_duplicates or any(c is None for c in frame.columns):
        raise ValueError("weights need unique column names (they name the measures)")
    names = [_measure_part(c, "weight") for c in frame.columns]
    if not frame.index.equals(geometry.index):
        raise ValueError("weights must be indexed like the points")
    attached = attach_points(net, _points_of(geometry.reset_index(drop=True)), max_distance=snap)
    return _catchment(net, attached, frame, names, labels, snap)


def _catchment(
    net: StreetNetwork,
    attached: pd.DataFrame,
    frame: pd.DataFrame,
    names: list[str],
    labels: list[int],
    snap: float,
) -> pd.DataFrame:
    """:func:`catchment` on points already attached (in the row order of ``frame``)."""
    ok = attached["attached"].to_numpy(dtype=bool)
    data: dict[str, Any] = {}
    for name, col in zip(names, frame.columns, strict=True):
        w = pd.Series(frame[col].to_numpy(dtype=np.float64), index=attached.index)
        if not np.all(np.isfinite(w)):
            raise ValueError(f"weights {col!r} has missing or infinite values")
        lost = float(w[~ok].sum())
        if lost:
            log.info(
                "catchment: %.0f of %.0f %s lie over %g m from a street and are left out",
                lost,
                float(w.sum()),
                name,
                snap,
            )
        acc = accessibility(net, attached, radii=labels, weights=w)
        for r in labels:
            data[indicator_name("soc", name, r)] = acc[(_TOTAL, "weighted", r)].to_numpy()
    return pd.DataFrame(data, index=net.node_ids.copy())


# --------------------------------------------------------------------- density surfaces


def _bounds_of(area: Any, crs: CRS) -> tuple[float, float, float, float]:
    if isinstance(area, tuple | list) and len(area) == 4:
        minx, miny, maxx, maxy = (float(v) for v in area)
    else:
        geom = as_area(area, crs).iloc[0]
        if geom is None or geom.is_empty:
            raise ValueError("area is empty; give the study area polygon or its bounds")
        minx, miny, maxx, maxy = geom.bounds
    if not (maxx > minx and maxy > miny):
        raise ValueError(f"area must have a positive width and height, got {area!r}")
    return minx, miny, maxx, maxy


def kernel_density(
    points: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    area: BaseGeometry | gpd.GeoSeries | gpd.GeoDataFrame | tuple[float, float, float, float],
    cell: float,
    bandwidth: float,
    weights: pd.Series | Sequence[float] | None = None,
) -> Raster:
    """Kernel density of (weighted) points on a raster, per km².

    The quartic (biweight) kernel, as in QGIS's heatmap and ArcGIS's Kernel Density:
    ``K(d) = 3 / (π h²) · (1 - d² / h²)²`` for ``d < h`` and 0 beyond, where ``h`` is the
    ``bandwidth`` (the radius of a point's influence, metres). It integrates to 1 over
    the plane, so the density (times 10⁶ m² per km²) integrates over the raster to the
    total weight of the points whose reach lies inside it. It is evaluated at each
    pixel centre from the exact point positions.

    Parameters
    ----------
    points
        Points (polygons by a point on their surface), in a projected metric CRS. Points
        outside the raster contribute where their reach overlaps it.
    area
        The extent: a polygon (a shapely geometry in the points' CRS, or a
        GeoSeries/GeoDataFrame) or ``(minx, miny, maxx, maxy)``. Its bounds are grown
        to whole multiples of ``cell`` from the CRS origin, so surfaces of one town
        align pixel for pixel.
    cell
        Pixel size, metres.
    bandwidth
        Kernel radius ``h``, metres.
    weights
        Weight per point (e.g. residents); 1 each by default.

    Returns
    -------
    Raster
        float32 density per km² (rows north to south), the transform and CRS, and
        ``meta`` with the kernel, bandwidth, cell, unit and total weight.

    Examples
    --------
    One point in the middle of a 1 km square, 10 m pixels, 200 m bandwidth:

    >>> from shapely import Point, box
    >>> r = kernel_density(gpd.GeoSeries([Point(500, 500)], crs=3067),
    ...                    area=box(0, 0, 1000, 1000), cell=10, bandwidth=200)
    >>> r.array.shape, r.transform.c, r.transform.f
    ((100, 100), 0.0, 1000.0)
    >>> round(float(r.array.sum()) * 10 * 10 / 1e6, 3)  # integral: one point
    1.0
    """
    geometry = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
    if not isinstance(geometry, gpd.GeoSeries):
        raise TypeError(f"points must be a GeoDataFrame or GeoSeries, got {type(points).__name__}")
    crs = require_projected(geometry.crs, "points")
    if not isinstance(area, BaseGeometry | tuple | list):
        require_projected(area.crs, "area")
    c = _check_positive(cell, "cell")
    h = _check_positive(bandwidth, "bandwidth")
    minx, miny, maxx, maxy = _bounds_of(area, crs)
    left, bottom = math.floor(minx / c) * c, math.floor(miny / c) * c
    right, top = math.ceil(maxx / c) * c, math.ceil(maxy / c) * c
    width = max(1, round((right - left) / c))
    height = max(1, round((top - bottom) / c))
    from rasterio.transform import from_origin

    transform = from_origin(left, top, c, c)
    pts = _points_of(geometry)
    w = np.ones(len(pts)) if weights is None else _per_row(weights, geometry.index, "weights")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite and >= 0")
    geoms = pts.to_numpy()
    usable = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) & (w > 0)
    xy = shapely.get_coordinates(geoms[usable])
    w = w[usable]
    near = (
        (xy[:, 0] > left - h) & (xy[:, 0] < right + h)
        & (xy[:, 1] > bottom - h) & (xy[:, 1] < top + h)
    )  # fmt: skip
    xy, w = xy[near], w[near]
    k = math.ceil(h / c)
    dr, dc = (
        a.ravel() for a in np.meshgrid(np.arange(-k, k + 1), np.arange(-k, k + 1), indexing="ij")
    )
    norm = 3.0 / (math.pi * h * h)
    total = np.zeros(height * width)
    chunk = max(1, _KDE_BATCH // dr.size)  # points per batch: bounded memory
    for s in range(0, len(xy), chunk):
        x, y, ww = xy[s : s + chunk, 0], xy[s : s + chunk, 1], w[s : s + chunk]
        row0 = np.floor((top - y) / c).astype(np.int64)
        col0 = np.floor((x - left) / c).astype(np.int64)
        rows = row0[:, None] + dr[None, :]
        cols = col0[:, None] + dc[None, :]
        px = left + (cols + 0.5) * c
        py = top - (rows + 0.5) * c
        u = ((px - x[:, None]) ** 2 + (py - y[:, None]) ** 2) / (h * h)
        keep = (u < 1.0) & (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
        vals = (ww[:, None] * norm * (1.0 - u) ** 2)[keep]
        total += np.bincount((rows * width + cols)[keep], weights=vals, minlength=height * width)
    density = (total * _M2_PER_KM2).reshape(height, width).astype(np.float32)
    meta = {
        "kernel": _QUARTIC,
        "bandwidth_m": h,
        "cell_m": c,
        "unit": "per km2",
        "points": len(xy),
        "total_weight": float(w.sum()),
    }
    return Raster(array=density, transform=transform, crs=crs, source="", meta=meta)


@dataclass(frozen=True, eq=False)
class SocialLayer:
    """The social tables of one town, as :func:`social_layer` returns them.

    Attributes
    ----------
    nodes
        Indexed by ``node_id`` (the network's nodes): every ``soc_`` node column of
        :data:`INDICATORS`.
    buildings
        On the index of ``town.buildings``, then any pseudo buildings (see
        :func:`allocate_population`): ``floor_area``, ``residential_floor_area``,
        ``job_floor_area`` (m²), ``residents``, ``jobs`` (persons),
        ``population_method`` (per row, one of :data:`POPULATION_METHODS`),
        ``pseudo``, ``grid_cell`` (a pseudo row's cell), ``in_area``, and as geometry
        the point where the people are counted (a footprint's representative point).
    rasters
        Density surfaces by name (``soc_activity_density``, ``soc_resident_density``).
    population_method
        How residents and jobs were obtained for the town: ``"grid"``,
        ``"grid_residents"``, ``"grid_jobs"`` or ``"floor_area"``; with
        ``"+floor_area"`` appended when some buildings lie outside the grid's extent
        and were estimated from floor area (``buildings.population_method`` says which).
    report
        Totals worth checking: ``residents``, ``jobs``, ``residents_off_network`` and
        ``jobs_off_network`` (in buildings farther than ``snap_distance`` from a street,
        so in no catchment), ``pseudo_buildings``, ``population_method_rows`` and
        ``activities``.
    timings
        Seconds per stage.
    """

    nodes: pd.DataFrame
    buildings: gpd.GeoDataFrame
    rasters: Mapping[str, Raster]
    population_method: str
    report: Mapping[str, Any] = field(default_factory=dict)
    timings: Mapping[str, float] = field(default_factory=dict)


def social_layer(
    town: Town,
    net: StreetNetwork,
    prepared: Prepared,
    *,
    radii: float | Iterable[float] = (400, 800, 1200),
    snap_distance: float = 100.0,
    raster_cell: float = 10.0,
    bandwidth: float = 200.0,
    beta: float | Sequence[float] | None = None,
    progress: bool = False,
) -> SocialLayer:
    """Compute every social indicator of a town, timing each stage.

    Stages: activity access and nearest distances (:func:`activity_access`), the
    land-use mix (:func:`land_use_mix`), node catchments of the residents and jobs that
    :func:`rakennettu.prepare.prepare` put in the buildings (:func:`catchment`) and the
    density surfaces (:func:`kernel_density`, over the study area).

    Parameters
    ----------
    town
        A :class:`~rakennettu.town.Town`: ``activities``, ``area`` and ``crs`` are read.
    net
        The town's street network (``StreetNetwork.from_graph(town.graph)``).
    prepared
        The town's buildings with their residents and jobs
        (:func:`rakennettu.prepare.prepare`); its ``people`` are read.
    radii
        Network radii in metres.
    snap_distance
        How far (metres) activities and buildings may be from a street to be attached.
    raster_cell, bandwidth
        Pixel size and kernel radius of the density surfaces, metres.
    beta
        Decay rate per metre (one or one per radius); None: ``4 / R``.
    residential_uses, job_uses
        Building uses housing residents and jobs (:data:`RESIDENTIAL_USES`,
        :data:`JOB_USES`).
    progress
        Show a progress bar over the stages.

    Returns
    -------
    SocialLayer

    Raises
    ------
    CRSError
        If the network is not in the town's CRS.

    Examples
    --------
    >>> town = kotka_town()  # load_town("kotka-karhula"), loaded once for all doctests
    >>> net = StreetNetwork.from_graph(town.graph)
    >>> from rakennettu.config import FormConfig, SocialConfig
    >>> from rakennettu.prepare import prepare
    >>> prep = prepare(town, FormConfig(), SocialConfig(unknown_as_homes="never"))
    >>> soc = social_layer(town, net, prep, radii=[400, 800])
    >>> soc.population_method
    'floor_area'
    >>> soc.nodes.index.equals(net.node_ids), "soc_mix_q1_800m" in soc.nodes
    (True, True)
    >>> sorted(soc.rasters)
    ['soc_activity_density', 'soc_resident_density']
    """
    labels = _check_radii(radii)
    if CRS.from_user_input(town.crs) != net.crs:
        raise CRSError(
            f"the network is in {net.crs.to_string()} but the town in "
            f"{CRS.from_user_input(town.crs).to_string()}; build it from town.graph"
        )
    report: dict[str, Any] = {
        k: prepared.report[k] for k in ("unknown_as_homes", "unknown_as_homes_buildings")
    }
    people, method = prepared.people, prepared.population_method
    stage = Stages("social", log, total=4, progress=progress)

    with stage("activities"):
        access = activity_access(
            net, town.activities, radii=labels, snap_distance=snap_distance, beta=beta
        )
    with stage("mix"):
        mix = land_use_mix(access)
    with stage("catchment"):
        _check_network_crs(net, people.crs, "buildings")
        attached = attach_points(
            net,
            people.geometry.reset_index(drop=True),
            max_distance=_check_positive(snap_distance, "snap_distance"),
        )
        off = ~attached["attached"].to_numpy(dtype=bool)
        for c in ("residents", "jobs"):
            report[f"{c}_off_network"] = float(people[c].to_numpy()[off].sum())
        reach = _catchment(
            net,
            attached,
            people[["residents", "jobs"]],
            ["residents", "jobs"],
            labels,
            snap_distance,
        )
    with stage("density"):
        rasters = {
            indicator_name("soc", "activity_density"): kernel_density(
                town.activities,
                weights=_activity_weights(town.activities),
                area=town.area,
                cell=raster_cell,
                bandwidth=bandwidth,
            ),
            indicator_name("soc", "resident_density"): kernel_density(
                people.geometry,
                weights=people["residents"],
                area=town.area,
                cell=raster_cell,
                bandwidth=bandwidth,
            ),
        }
    stage.close()
    nodes = pd.concat([access, mix, reach], axis=1)
    report.update({k: v for k, v in prepared.report.items() if k not in report})
    report["activities"] = len(town.activities)
    log.info(
        "social: %d nodes, %d buildings (%s), %.0f residents, %.0f jobs in %.1f s",
        len(nodes),
        int((~people["pseudo"]).sum()),
        method,
        float(people["residents"].sum()),
        float(people["jobs"].sum()),
        sum(stage.timings.values()),
    )
    return SocialLayer(
        nodes=nodes,
        buildings=people,
        rasters=rasters,
        population_method=method,
        report=report,
        timings=stage.timings,
    )


def homes_of_unknown_use(town: Town, rule: UnknownHomes) -> pd.Series:
    """Buildings of unknown use counted as homes under a rule (boolean, buildings' index).

    ``"never"``: none; ``"always"``: every building of unknown use;
    ``"residential_landuse"``: those inside OSM ``landuse=residential``
    (:func:`rakennettu.sources.landuse.unknown_homes`).
    """
    b = town.buildings
    if rule == "never":
        return pd.Series(False, index=b.index)
    if rule == "always":
        return unknown_homes(b, shapely.box(*b.total_bounds).buffer(1.0))
    if rule == "residential_landuse":
        return unknown_homes(b, residential_landuse(town.features))
    raise ValueError(f"unknown_homes must be one of {UNKNOWN_HOMES}, got {rule!r}")


def _activity_weights(activities: pd.DataFrame) -> pd.Series:
    if "weight" not in activities:
        return pd.Series(1.0, index=activities.index)
    return pd.to_numeric(activities["weight"], errors="coerce").fillna(1.0)
