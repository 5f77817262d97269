"""What a run would reject, found before it runs: names, sizes and the town CRS.

`rakennettu validate` and the start of every run call these, so a misspelt indicator,
an analysis grid too fine for the area or a CRS that stretches every distance is
reported in a second, with the workflow key and the fix, not after the network analysis.
"""

from __future__ import annotations

import math

from shapely.geometry.base import BaseGeometry

from rakennettu.config import MAX_CELLS, MAX_PIXELS, Workflow
from rakennettu.crs import check_scale
from rakennettu.errors import ConfigError, CRSError, EmptyDataError, suggest

__all__ = [
    "activity_names",
    "check_names",
    "check_sizes",
    "check_town_crs",
    "indicator_names",
    "inspect_workflow",
]


def activity_names() -> list[str]:
    """The activity categories of the bundled tag table (``activities.toml``), in order."""
    from rakennettu.sources.taxonomy import load_taxonomy

    return list(load_taxonomy()["activities"].ids)


def indicator_names(radii: tuple[int, ...] | list[int], categories: list[str]) -> set[str]:
    """Every indicator a run can put on the analysis cells, for these radii and categories.

    Built from the layers' ``INDICATORS`` lists (:mod:`rakennettu.catalogue`): the node
    measures the cells take from their street nodes and the measures of the cells
    themselves, each radius measure at every radius, each ``{category}`` at every category.

    Examples
    --------
    >>> names = indicator_names([400, 800], ["retail"])
    >>> "soc_access_retail_800m" in names, "morph_far" in names, "morph_far_800m" in names
    (True, True, False)
    """
    from rakennettu.catalogue import INDICATORS

    names: set[str] = set()
    for doc in INDICATORS:
        if doc.level not in ("node", "hex"):
            continue
        measures = (
            [doc.measure.replace("{category}", c) for c in categories]
            if "{category}" in doc.measure
            else [doc.measure]
        )
        suffixes = [f"_{r}m" for r in radii] if doc.per_radius else [""]
        names.update(f"{doc.dimension}_{m}{s}" for m in measures for s in suffixes)
    return names


def _where(wf: Workflow) -> str:
    return str(wf.source_file or "<workflow>")


def check_names(wf: Workflow) -> None:
    """Raise :class:`ConfigError` for an indicator or activity name no run can produce.

    Indicators in ``[synthesis.indicators]`` must be columns a run computes for the
    configured radii; activities in ``[candidates.program]`` must be categories of the
    tag table. A category that only a municipal ``pois`` layer can bring is accepted when
    the workflow has one.
    """
    cats = activity_names()
    has_pois = any(lay.role == "pois" for lay in wf.layers)
    known = indicator_names(wf.network.radii, cats)
    problems = []
    for dim, cols in wf.synthesis.indicators.items():
        for col in cols:
            if col in known or (has_pois and _category_measure(col, wf.network.radii)):
                continue
            hint = suggest(col, [k for k in known if k.startswith(f"{dim}_")])
            problems.append(
                f"[synthesis.indicators] {dim}.{col}: no such indicator"
                + (f"; did you mean {hint!r}?" if hint else "")
                + f" (radii {list(wf.network.radii)}; see docs/indicators.md)"
            )
    unknown = [c for c in wf.candidates.program.activities if c not in cats]
    if unknown and not has_pois:
        hint = suggest(unknown[0], cats)
        problems.append(
            f"[candidates.program] activities: unknown categories {unknown}"
            + (f"; did you mean {hint!r}?" if hint else "")
            + f" Categories: {', '.join(cats)}."
        )
    if problems:
        raise ConfigError(f"{_where(wf)}: " + "; ".join(problems))


def _category_measure(col: str, radii: tuple[int, ...]) -> bool:
    """Whether a name has the form of a per-category social measure (any category)."""
    names = indicator_names(radii, ["\x00"])
    return any(
        col.startswith(a) and col.endswith(b) and len(col) > len(a) + len(b)
        for a, b in (n.split("\x00") for n in names if "\x00" in n)
    )


def check_sizes(wf: Workflow, area: BaseGeometry) -> None:
    """Raise :class:`ConfigError` when a grid or raster would be too large for the area.

    Parameters
    ----------
    wf
        The workflow.
    area
        The study area in the town CRS (metres).

    Raises
    ------
    ConfigError
        More than :data:`~rakennettu.config.MAX_CELLS` analysis hexagons, or more than
        :data:`~rakennettu.config.MAX_PIXELS` pixels in a density surface or the
        visibility raster, naming the key and the smallest size that fits.
    """
    w, s, e, n = area.bounds
    hex_m2 = 1.5 * math.sqrt(3) * wf.synthesis.cell_size**2
    problems = []
    if area.area / hex_m2 > MAX_CELLS:
        least = math.sqrt(area.area / MAX_CELLS / (1.5 * math.sqrt(3)))
        problems.append(
            f"[synthesis] cell_size: {wf.synthesis.cell_size:g} m makes "
            f"{area.area / hex_m2:,.0f} hexagons over {area.area / 1e6:,.1f} km² (at most "
            f"{MAX_CELLS:,}); use at least {math.ceil(least)} m, or a smaller [area]"
        )
    for key, cell, pad in (
        ("[social] raster_cell", wf.social.raster_cell, wf.social.bandwidth),
        ("[cultural] viewshed_cell", wf.cultural.viewshed_cell, wf.cultural.viewshed_radius),
    ):
        pixels = (e - w + 2 * pad) * (n - s + 2 * pad) / cell**2
        if pixels > MAX_PIXELS:
            problems.append(
                f"{key}: {cell:g} m makes a raster of {pixels:,.0f} pixels over the area "
                f"(at most {MAX_PIXELS:,}); use at least "
                f"{math.ceil(cell * math.sqrt(pixels / MAX_PIXELS))} m, or a smaller [area]"
            )
    if problems:
        raise ConfigError(f"{_where(wf)}: " + "; ".join(problems))


def check_town_crs(wf: Workflow, crs: object, area_wgs84: BaseGeometry) -> None:
    """Raise :class:`ConfigError` when the town CRS distorts the area by more than 1 %.

    ``[town] allow_distorted_crs = true`` accepts it (for a deliberate choice).
    """
    if wf.town.allow_distorted_crs:
        return
    try:
        check_scale(crs, area_wgs84, where="[town] crs")
    except CRSError as e:
        raise ConfigError(f"{_where(wf)}, {e}") from None


def inspect_workflow(wf: Workflow) -> list[str]:
    """Check a workflow and its inputs without running it; what was checked, line by line.

    Everything a run would reject before its analysis: names, the OSM file read to its
    end (tags over the size limit too), the area against the extract, the town CRS and
    its distortion, grid and raster sizes, and each municipal layer's file, columns,
    values, CRS and overlap with the area.

    Raises
    ------
    RakennettuError
        The first problem found (a ConfigError lists every problem of the file itself).
    """
    from shapely import box

    from rakennettu.crs import crs_label, town_crs
    from rakennettu.sources.osm import scan_osm_file
    from rakennettu.town import resolve_area

    check_names(wf)
    given = "auto" if wf.town.crs == "auto" else crs_label(wf.town.crs)
    lines = [
        f"workflow: {wf.town.name} ({wf.title}), CRS {given}, radii {list(wf.network.radii)} m"
    ]
    header = None
    if wf.osm.source == "file":
        path = wf.osm_file
        assert path is not None
        n_ways, header = scan_osm_file(path)
        lines.append(f"osm: {path} reads to its end ({n_ways:,} ways)")
    else:
        lines.append("osm: online query (cached after the first run)")
    area_wgs, kind = resolve_area(wf, wf.osm_file if wf.osm.source == "file" else None)
    if area_wgs is None and header is not None and wf.area.place is None:
        area_wgs = box(*header)
    if area_wgs is None:
        lines.append(f"area: {kind}; found when the run reads the data")
        return lines + _layer_lines(wf, None, None)
    if header is not None and not area_wgs.intersects(box(*header)):
        raise EmptyDataError(
            f"{wf.osm_file}: the area lies outside the extract (extract covers "
            f"{_fmt(header)}, area {_fmt(area_wgs.bounds)}); check [area] in "
            f"{_where(wf)} (a bbox is [west, south, east, north] in degrees)"
        )
    crs = town_crs(area_wgs, wf.town.crs)
    check_town_crs(wf, crs, area_wgs)
    area = _project(area_wgs, 4326, crs)
    area = area.buffer(wf.area.buffer) if wf.area.buffer else area
    check_sizes(wf, area)
    lines.append(f"area: {kind}, {area.area / 1e6:,.2f} km², town CRS {crs_label(crs)}")
    context = area.buffer(max(wf.network.radii))
    return lines + _layer_lines(wf, context, crs)


def _layer_lines(wf: Workflow, context: BaseGeometry | None, crs: object) -> list[str]:
    """Check each municipal layer: file, columns, values, CRS, overlap with the area."""
    from rakennettu.crs import crs_label
    from rakennettu.sources.municipal import check_values, inspect_layer

    lines = []
    for lay in wf.layers:
        if lay.url is not None:
            lines.append(f"layer {lay.role}: WFS {lay.url} ({lay.layer}); not contacted here")
            continue
        if lay.role == "dem":
            assert lay.path is not None
            lines.append(f"layer dem: {lay.path}" + _dem_overlap(lay.path, lay.crs, context, crs))
            continue
        info = inspect_layer(lay)
        check_values(lay)
        if context is not None and info.n_features and all(map(math.isfinite, info.bounds)):
            reach = _project(context, crs, info.crs)
            if not reach.intersects(_box(info.bounds)):
                raise EmptyDataError(
                    f"{info.label}: none of its {info.n_features} features lies within the "
                    f"area (the layer covers {_fmt(info.bounds)} in {crs_label(info.crs)}, "
                    f"the area {_fmt(reach.bounds)}); check the layer's CRS and [area]"
                )
        lines.append(
            f"layer {lay.role}: {info.label}, {info.n_features:,} features, "
            f"{crs_label(info.crs)}, columns {dict(lay.columns)}"
        )
    return lines


def _dem_overlap(
    path: object, assume: str | None, context: BaseGeometry | None, crs: object
) -> str:
    import rasterio

    from rakennettu.errors import SourceError

    try:
        with rasterio.open(path) as src:
            src_crs, bounds = (assume or src.crs), tuple(src.bounds)
    except rasterio.errors.RasterioIOError as e:
        raise SourceError(f"{path}: cannot read as a raster: {e}") from None
    if context is None or src_crs is None:
        return ""
    if not _project(context, crs, src_crs).intersects(_box(bounds)):
        raise EmptyDataError(f"{path}: the raster does not overlap the area")
    return ", overlaps the area"


def _box(bounds: tuple[float, ...]) -> BaseGeometry:
    """A rectangle from ``(minx, miny, maxx, maxy)``."""
    from shapely import box

    return box(*bounds)


def _project(geom: BaseGeometry, src: object, dst: object) -> BaseGeometry:
    import geopandas as gpd

    return gpd.GeoSeries([geom], crs=src).to_crs(dst).iloc[0]


def _fmt(b: tuple[float, ...]) -> str:
    return "[" + ", ".join(f"{v:.4f}" if abs(v) < 1000 else f"{v:.0f}" for v in b) + "]"
