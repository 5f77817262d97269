"""The GeoPackage of results, written atomically.

All layers are written into a temporary file beside the target, which is renamed over
the target only when every layer is in, so an interrupted run leaves the previous
GeoPackage intact.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from rakennettu._io import atomic_path

__all__ = ["for_file", "read_gpkg", "write_gpkg"]

log = logging.getLogger(__name__)


def for_file(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A copy of a frame that GeoPackage can store.

    Named index levels become columns (``node_id``; ``u``, ``v``, ``key``); dicts, lists
    and sets become JSON text; other objects become text.

    Examples
    --------
    >>> from shapely import Point
    >>> g = gpd.GeoDataFrame({"tags": [{"a": "1"}]}, geometry=[Point(0, 0)], crs=3067)
    >>> for_file(g)["tags"].iloc[0]
    '{"a": "1"}'
    """
    out = gdf
    names = [n for n in out.index.names if n is not None]
    out = out.reset_index() if names else out.reset_index(drop=True)
    out = out.copy()
    geom = out.geometry.name
    for col in out.columns:
        if col == geom:
            continue
        s = out[col]
        if s.dtype == object or isinstance(s.dtype, pd.StringDtype):
            out[col] = s.map(_to_text)
        elif isinstance(s.dtype, pd.CategoricalDtype):
            out[col] = s.astype(object).map(_to_text)
    return gpd.GeoDataFrame(out, geometry=geom, crs=gdf.crs)


def _to_text(v: Any) -> Any:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, dict | list | tuple | set):
        return json.dumps(sorted(v) if isinstance(v, set) else v, ensure_ascii=False)
    if isinstance(v, str | bool | int | float):
        return v
    return str(v)


def write_gpkg(layers: Mapping[str, gpd.GeoDataFrame], path: str | Path) -> Path:
    """Write frames as layers of one GeoPackage, atomically.

    Parameters
    ----------
    layers
        Layer name -> GeoDataFrame (in any projected CRS; each keeps its own).
    path
        The target ``.gpkg``; replaced only when every layer has been written.

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from shapely import Point
    >>> g = gpd.GeoDataFrame({"n": [1]}, geometry=[Point(0, 0)], crs=3067)
    >>> out = write_gpkg({"points": g}, pathlib.Path(tempfile.mkdtemp()) / "a.gpkg")
    >>> [str(name) for name, _ in pyogrio.list_layers(out)]
    ['points']
    """
    path = Path(path)
    with atomic_path(path) as tmp, _unsynced():
        for name, gdf in layers.items():
            pyogrio.write_dataframe(for_file(gdf), tmp, layer=name, driver="GPKG")
            log.debug("wrote layer %s (%d rows)", name, len(gdf))
    return path


@contextmanager
def _unsynced() -> Iterator[None]:
    """SQLite without a disk flush after each layer's transaction, within the block.

    The file is a temporary one, renamed into place (and its folder swapped in) only
    when whole, so the flushes (0.5-1 s of waiting for the disk per run) bought nothing.
    GDAL's configuration is process-wide: the previous value is put back.
    """
    key = "OGR_SQLITE_SYNCHRONOUS"
    before = pyogrio.get_gdal_config_option(key)
    pyogrio.set_gdal_config_options({key: "OFF"})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({key: before})


def read_gpkg(path: str | Path) -> dict[str, gpd.GeoDataFrame]:
    """Read every layer of a GeoPackage back."""
    return {
        str(name): gpd.read_file(path, layer=str(name), engine="pyogrio")
        for name, _ in pyogrio.list_layers(path)
    }
