"""Municipal layers: vector files any GDAL driver reads, and GeoTIFF rasters.

Every town names its fields its own way, so each layer in a workflow carries a column
mapping from the fields rakennettu knows (``floors``, ``year``, ``residents`` ...) to the
file's columns (``kerrosluku``, ``valmvuosi``, ``inhabitants`` ...), and optionally a
recoding of their values. Layers are checked before they are read: a missing column, a
missing CRS or a CRS that disagrees with the coordinates is an error naming the file.
"""

from __future__ import annotations

import json
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

from rakennettu._geo import polygonal as as_polygons
from rakennettu.config import LayerConfig
from rakennettu.crs import check_coordinates_fit
from rakennettu.errors import CRSError, EmptyDataError, SourceError, did_you_mean

__all__ = [
    "LayerInfo",
    "Raster",
    "check_values",
    "inspect_layer",
    "read_raster",
    "read_vector_layer",
    "repair_geometries",
]

log = logging.getLogger(__name__)


def _hint(word: str, choices: Any) -> str:
    return did_you_mean(word, choices, fmt=" (did you mean {!r}?)")


# Roles whose features are areas; pois and heritage may be points.
_POLYGON_ROLES = {"buildings", "population", "sites", "green"}

# Fields whose values must be numbers after recoding.
_NUMERIC = {"floors", "height", "year", "residents", "jobs", "weight"}

# Counts, which cannot be negative (statistical grids mark suppressed cells with -1).
_COUNTS = {"residents", "jobs"}


@dataclass(frozen=True)
class LayerInfo:
    """What a vector layer holds, read without loading its features."""

    path: Path
    layer: str
    crs: CRS
    fields: tuple[str, ...]
    n_features: int
    bounds: tuple[float, float, float, float]
    label: str


@dataclass(frozen=True)
class Raster:
    """A single-band raster in the town CRS.

    Attributes
    ----------
    array
        float32 values, NaN where there is no data (rows north to south).
    transform
        The affine transform from pixel (col, row) to town-CRS coordinates (metres).
    crs
        The town CRS.
    source
        The file it came from.
    """

    array: np.ndarray
    transform: Any
    crs: CRS
    source: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def resolution(self) -> float:
        """Pixel size in metres."""
        return float(abs(self.transform.a))


def _label(path: Path, layer: str | None) -> str:
    return f"{path}" + (f" (layer {layer!r})" if layer else "")


def inspect_layer(cfg: LayerConfig) -> LayerInfo:
    """Check a vector layer without reading its features: layer, CRS, mapped columns.

    Raises
    ------
    SourceError
        The file cannot be read, holds several layers and none is named, or lacks a
        mapped column.
    CRSError
        The file has no CRS and the workflow gives none, or the coordinates do not fit
        the CRS.
    """
    path = cfg.path
    if path is None:  # a WFS layer: fetch it with rakennettu.sources.wfs.fetch_wfs first
        raise SourceError(f"{cfg.url}: a WFS layer is read after fetch_wfs() caches it")
    if not path.exists():
        raise SourceError(f"{path}: file not found (role {cfg.role!r})")
    if _is_parquet(path):
        return _inspect_parquet(cfg)
    _check_shapefile_parts(path)
    try:
        layers = pyogrio.list_layers(path)
    except Exception as e:
        raise SourceError(f"{path}: cannot read as a vector file: {e}") from None
    names = [str(n) for n in layers[:, 0]]
    layer = cfg.layer
    if layer is None:
        if len(names) > 1:
            raise SourceError(
                f"{path}: the file holds {len(names)} layers ({', '.join(names)}); name one "
                "with `layer = ...` in its [[layers]] entry"
            )
        layer = names[0] if names else None
    elif layer not in names:
        raise SourceError(
            f"{path}: no layer {layer!r}{_hint(layer, names)}; layers: " + ", ".join(names)
        )
    label = _label(path, layer if len(names) > 1 or cfg.layer else None)
    try:
        info = pyogrio.read_info(path, layer=layer)
    except Exception as e:
        raise SourceError(f"{label}: cannot read: {e}") from None
    fields = tuple(str(f) for f in info["fields"])
    _check_columns(cfg, fields, label)
    file_crs = CRS.from_user_input(info["crs"]) if info["crs"] else None
    crs = _layer_crs(cfg, file_crs, label)
    total = info.get("total_bounds")
    if info["features"] and (total is None or not any(total)):
        total = _geometry_bounds(path, layer, label, int(info["features"]))
    bounds = tuple(float(v) for v in (total if total is not None else (np.nan,) * 4))
    if info["features"] and all(np.isfinite(bounds)):
        check_coordinates_fit(bounds, crs, source=label)  # type: ignore[arg-type]
    return LayerInfo(
        path=path,
        layer=str(layer),
        crs=crs,
        fields=fields,
        n_features=int(info["features"]),
        bounds=bounds,  # type: ignore[arg-type]
        label=label,
    )


def _check_shapefile_parts(path: Path) -> None:
    """A shapefile keeps its attributes in a .dbf beside it; say so when it is missing."""
    if path.suffix.lower() != ".shp":
        return
    siblings = {p.name.lower() for p in path.parent.glob(f"{path.stem}.*")}
    if f"{path.stem.lower()}.dbf" not in siblings:
        raise SourceError(
            f"{path}: the shapefile's attribute table {path.stem}.dbf is missing beside it "
            "(a shapefile is several files: .shp, .shx, .dbf and .prj); copy all of them"
        )


def _geometry_bounds(
    path: Path, layer: str | None, label: str, n: int
) -> tuple[float, float, float, float]:
    """The bounds of a layer's geometries, read when its metadata gives none."""
    try:
        geoms = pyogrio.read_dataframe(path, layer=layer, columns=[]).geometry
    except Exception as e:
        raise SourceError(f"{label}: cannot read its geometries: {e}") from None
    present = geoms[geoms.notna() & ~geoms.is_empty]
    if len(present) == 0:
        raise EmptyDataError(
            f"{label}: none of its {n} features has a geometry (all are empty or null); "
            "check that the file (and its layer) is the right one, or fix its geometries"
        )
    minx, miny, maxx, maxy = (float(v) for v in present.total_bounds)
    return minx, miny, maxx, maxy


def _is_parquet(path: Path) -> bool:
    return path.suffix.lower() in (".parquet", ".geoparquet")


def _inspect_parquet(cfg: LayerConfig) -> LayerInfo:
    """GeoParquet through pyarrow (GDAL's Parquet driver is not in every build)."""
    import pyarrow.parquet as pq

    path = cfg.path
    assert path is not None
    label = str(path)
    try:
        pf = pq.ParquetFile(path)
        meta = json.loads((pf.schema_arrow.metadata or {}).get(b"geo", b"null"))
    except Exception as e:
        raise SourceError(f"{path}: cannot read as GeoParquet: {e}") from None
    if not meta:
        raise SourceError(f"{path}: a Parquet file without GeoParquet metadata (no geometry)")
    geom_col = meta.get("primary_column", "geometry")
    fields = tuple(n for n in pf.schema_arrow.names if n != geom_col)
    _check_columns(cfg, fields, label)
    col_meta = meta.get("columns", {}).get(geom_col, {})
    crs_json = col_meta.get("crs", "OGC:CRS84")
    file_crs = CRS.from_user_input(crs_json) if crs_json is not None else None
    crs = _layer_crs(cfg, file_crs, label)
    b = [float(v) for v in col_meta.get("bbox", (np.nan,) * 4)]
    bounds = (b[0], b[1], b[2], b[3])
    if pf.metadata.num_rows and all(np.isfinite(bounds)):
        check_coordinates_fit(bounds, crs, source=label)
    return LayerInfo(
        path=path,
        layer=path.stem,
        crs=crs,
        fields=fields,
        n_features=int(pf.metadata.num_rows),
        bounds=bounds,
        label=label,
    )


def _check_columns(cfg: LayerConfig, fields: tuple[str, ...], label: str) -> None:
    missing = [(k, c) for k, c in cfg.columns.items() if c not in fields]
    if missing:
        k, c = missing[0]
        raise SourceError(
            f"{label}: column {c!r} (mapped to {k!r}) is not in the file"
            f"{_hint(c, fields)}; its columns are: {', '.join(fields)}"
        )


def _layer_crs(cfg: LayerConfig, file_crs: CRS | None, label: str) -> CRS:
    if cfg.crs is not None:
        given = CRS.from_user_input(cfg.crs)
        if file_crs is not None and not file_crs.equals(given):
            warnings.warn(
                f"{label}: the file says {file_crs.to_string()}, the workflow says "
                f"{given.to_string()}; using the workflow's",
                UserWarning,
                stacklevel=3,
            )
        return given
    if file_crs is None:
        raise CRSError(
            f'{label}: the file has no CRS; add `crs = "EPSG:...."` to its [[layers]] '
            "entry (EPSG:3067 for ETRS-TM35FIN, EPSG:3879 for Helsinki's GK25)"
        )
    return file_crs


def read_vector_layer(
    cfg: LayerConfig,
    *,
    to_crs: CRS,
    within: BaseGeometry | None = None,
) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    """Read a municipal vector layer, map and recode its columns, project and clip it.

    Parameters
    ----------
    cfg
        The layer's entry in the workflow.
    to_crs
        The town CRS.
    within
        Keep only features intersecting this polygon (in ``to_crs``).

    Returns
    -------
    (GeoDataFrame, dict)
        Features with the role's fields as columns, ``source_row`` (the file's feature
        id) and ``geometry`` in ``to_crs``; and counts (read, repaired, dropped, kept).

    Raises
    ------
    SourceError, CRSError
        See :func:`inspect_layer`; also a mapped numeric field with text in it.
    EmptyDataError
        Nothing of the layer lies within the area.
    """
    info = inspect_layer(cfg)
    bbox = None
    if within is not None:
        tr = Transformer.from_crs(to_crs, info.crs, always_xy=True)
        bbox = tr.transform_bounds(*within.bounds)
    columns = list(dict.fromkeys(cfg.columns.values()))
    try:
        if _is_parquet(info.path):
            gdf = gpd.read_parquet(info.path, columns=[*columns, "geometry"], bbox=bbox)
        else:
            gdf = gpd.read_file(
                info.path,
                layer=info.layer,
                columns=columns,
                bbox=bbox,
                engine="pyogrio",
                fid_as_index=True,
            )
    except Exception as e:
        raise SourceError(f"{info.label}: cannot read features: {e}") from None
    if gdf.crs is None or cfg.crs is not None:
        gdf = gdf.set_crs(info.crs, allow_override=True)
    counts = {"read": len(gdf)}
    out = gpd.GeoDataFrame(index=pd.RangeIndex(len(gdf)), geometry=gdf.geometry.to_numpy())
    out = out.set_crs(info.crs)
    out["source_row"] = gdf.index.to_numpy()
    for name, column in cfg.columns.items():
        recoded = _recode(gdf[column], name, cfg.values.get(name), info.label, column)
        out[name] = recoded.to_numpy()
    out = out[[*cfg.columns, "source_row", "geometry"]]
    out, repaired, dropped = repair_geometries(out, polygonal=cfg.role in _POLYGON_ROLES)
    counts["repaired"], counts["invalid_dropped"] = repaired, dropped
    if repaired or dropped:
        log.warning(
            "%s: repaired %d invalid geometries, dropped %d that could not be repaired",
            info.label,
            repaired,
            dropped,
        )
    out = out.to_crs(to_crs)
    if within is not None:
        keep = out.intersects(within)
        counts["outside"] = int((~keep).sum())
        out = out[keep]
    if len(out) == 0:
        raise EmptyDataError(
            f"{info.label}: none of its {info.n_features} features lies within the area "
            "(check the layer's CRS and the [area] of the workflow)"
        )
    counts["kept"] = len(out)
    return out, counts


def check_values(cfg: LayerConfig) -> int:
    """Read a layer's mapped columns (not its geometries) and check their values.

    The checks of :func:`read_vector_layer`, for ``rakennettu validate``: numbers where
    numbers belong (after recoding) and no negative counts.

    Returns
    -------
    int
        The number of rows checked.
    """
    info = inspect_layer(cfg)
    columns = list(dict.fromkeys(cfg.columns.values()))
    if not columns:
        return info.n_features
    try:
        if _is_parquet(info.path):
            table = pd.read_parquet(info.path, columns=columns)
        else:
            table = pyogrio.read_dataframe(
                info.path, layer=info.layer, columns=columns, read_geometry=False
            )
    except Exception as e:
        raise SourceError(f"{info.label}: cannot read its columns: {e}") from None
    for name, column in cfg.columns.items():
        _recode(table[column], name, cfg.values.get(name), info.label, column)
    return len(table)


def _recode(
    values: pd.Series, name: str, mapping: dict[str, Any] | None, label: str, column: str
) -> pd.Series:
    if mapping:
        as_text = values.map(lambda v: _key(v))
        recoded = as_text.map(lambda v: mapping.get(v, v) if v is not None else None)
        values = recoded
    if name in _NUMERIC:
        num = pd.to_numeric(values, errors="coerce")
        bad = values.notna() & num.isna()
        if bad.any():
            examples = ", ".join(repr(v) for v in values[bad].unique()[:3])
            raise SourceError(
                f"{label}: column {column!r} (mapped to {name!r}) must hold numbers; "
                f"found {examples}; recode them with values.{name} = {{ ... }}"
            )
        if name in _COUNTS and (num < 0).any():
            neg = num[num < 0]
            examples = ", ".join(f"{v:g}" for v in neg.unique()[:3])
            raise SourceError(
                f"{label}: column {column!r} (mapped to {name!r}) holds {len(neg)} negative "
                f"counts ({examples}); a count of people cannot be negative. Grids often mark "
                f"suppressed cells with -1: recode them, e.g. values.{name} = {{ '-1' = 0 }}, "
                "or fix the file"
            )
        return num.astype("float64")
    return values.map(_key).astype(object)


def _key(v: Any) -> str | None:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def repair_geometries(
    gdf: gpd.GeoDataFrame, *, polygonal: bool = True
) -> tuple[gpd.GeoDataFrame, int, int]:
    """Repair invalid geometries where it is safe; drop the rest and empty ones.

    Z coordinates are dropped. Invalid geometries are repaired with
    :func:`shapely.make_valid`; with ``polygonal``, only polygonal parts are kept (see
    :func:`rakennettu._geo.polygonal`), so a footprint that collapses to a line is dropped.

    Returns
    -------
    (GeoDataFrame, int, int)
        The repaired frame (index kept), the number repaired and the number dropped.

    Examples
    --------
    >>> from shapely import Polygon
    >>> bowtie = Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    >>> gdf = gpd.GeoDataFrame(geometry=[bowtie], crs=3067)
    >>> fixed, repaired, dropped = repair_geometries(gdf)
    >>> repaired, dropped, float(fixed.area.iloc[0])
    (1, 0, 2.0)
    """
    series = gpd.GeoSeries(shapely.force_2d(gdf.geometry.to_numpy()), index=gdf.index, crs=gdf.crs)
    missing = series.isna().to_numpy()
    invalid = ~missing & ~series.is_valid.to_numpy()
    if polygonal:
        series = as_polygons(series)
    elif invalid.any():
        series[invalid] = shapely.make_valid(series[invalid].to_numpy())
    empty = series.isna().to_numpy() | series.is_empty.to_numpy()
    out = gdf.copy()
    out[out.geometry.name] = series.to_numpy()
    out = out[~empty]
    return out, int((invalid & ~empty).sum()), int(empty.sum())


def read_raster(
    path: str | Path,
    *,
    to_crs: CRS,
    within: BaseGeometry | None = None,
    resolution: float | None = None,
    assume_crs: str | None = None,
) -> Raster:
    """Read a single-band raster (GeoTIFF) and reproject it to the town CRS.

    Parameters
    ----------
    path
        The raster file.
    to_crs
        The town CRS (metres).
    within
        Keep only the part covering this polygon (in ``to_crs``).
    resolution
        Pixel size in metres; by default the source's, converted to metres.
    assume_crs
        CRS to use when the file has none (or to override a wrong one).

    Returns
    -------
    Raster
        Values as float32 with NaN for no data, bilinearly resampled.
    """
    import rasterio
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    p = Path(path)
    if not p.is_file():
        raise SourceError(f"{p}: raster file not found")
    try:
        src = rasterio.open(p)
    except rasterio.errors.RasterioIOError as e:
        raise SourceError(f"{p}: cannot read as a raster: {e}") from None
    with src:
        src_crs = CRS.from_user_input(assume_crs) if assume_crs else src.crs
        if src_crs is None:
            raise CRSError(
                f'{p}: the raster has no CRS; add `crs = "EPSG:...."` to its [[layers]] entry'
            )
        src_crs = CRS.from_user_input(src_crs)
        check_coordinates_fit(tuple(src.bounds), src_crs, source=str(p))
        left, bottom, right, top = src.bounds
        if within is not None:
            tr = Transformer.from_crs(to_crs, src_crs, always_xy=True)
            wl, wb, wr, wt = tr.transform_bounds(*within.bounds)
            left, bottom = max(left, wl), max(bottom, wb)
            right, top = min(right, wr), min(top, wt)
            if left >= right or bottom >= top:
                raise EmptyDataError(f"{p}: the raster does not overlap the area")
        transform, width, height = calculate_default_transform(
            src_crs,
            to_crs,
            src.width,
            src.height,
            left=left,
            bottom=bottom,
            right=right,
            top=top,
            resolution=resolution,
        )
        dst = np.full((height, width), np.nan, dtype="float32")
        reproject(
            source=rasterio.band(src, 1),
            destination=dst,
            src_crs=src_crs,
            dst_crs=to_crs,
            dst_transform=transform,
            src_nodata=src.nodata,
            dst_nodata=np.nan,
            resampling=Resampling.bilinear,
        )
    return Raster(array=dst, transform=transform, crs=to_crs, source=str(p))
