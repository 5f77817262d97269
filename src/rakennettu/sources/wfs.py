"""Municipal layers from a WFS service (OGC Web Feature Service 2.0), cached on disk.

Finnish municipalities publish much of their spatial data over WFS (building registers,
detailed plans, population grids). A layer in a workflow names the service ``url`` and
the feature type as its ``layer``; :func:`fetch_wfs` pages through ``GetFeature`` with
GeoJSON output in the town CRS, limited to the area's box, and keeps the result as a
GeoPackage in the cache, so later runs read it offline. ``refresh=True`` fetches again.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import requests
from pyproj import CRS

from rakennettu._io import atomic_path
from rakennettu.errors import SourceError

__all__ = ["fetch_wfs"]

log = logging.getLogger(__name__)


def _cache_file(
    url: str, typename: str, bbox: tuple[float, ...] | None, crs: CRS, cache_dir: Path
) -> Path:
    key = json.dumps(
        {"url": url, "typename": typename, "bbox": bbox, "crs": crs.to_string()},
        sort_keys=True,
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:20]
    safe = "".join(c if c.isalnum() else "_" for c in typename)[:40]
    return cache_dir / "wfs" / f"{safe}-{digest}.gpkg"


def fetch_wfs(
    url: str,
    typename: str,
    *,
    crs: CRS,
    bbox: tuple[float, float, float, float] | None = None,
    cache_dir: Path,
    page_size: int = 5000,
    timeout: float = 60.0,
    refresh: bool = False,
) -> Path:
    """Download a WFS feature type within a box, page by page, into a cached GeoPackage.

    Parameters
    ----------
    url
        The service endpoint, e.g. ``https://kartta.hel.fi/ws/geoserver/avoindata/wfs``.
    typename
        The feature type (``typeNames``), e.g. ``avoindata:Rakennukset_alue_rekisteritiedot``.
    crs
        The CRS to ask the features in (the town CRS).
    bbox
        ``(minx, miny, maxx, maxy)`` in ``crs``; the whole layer when None.
    cache_dir
        The cache root; files go to ``cache_dir/wfs/``.
    page_size
        Features per request (``count``).
    timeout
        Seconds per request.
    refresh
        Fetch again even when a cached copy exists.

    Returns
    -------
    Path
        The cached GeoPackage (one layer, in ``crs``).

    Raises
    ------
    SourceError
        The service cannot be reached, answers with an error, or returns no GeoJSON.
    """
    target = _cache_file(url, typename, bbox, crs, cache_dir)
    if target.is_file() and not refresh:
        log.info("WFS %s: using cached %s", typename, target)
        return target
    srs = f"urn:ogc:def:crs:EPSG::{crs.to_epsg()}" if crs.to_epsg() else crs.to_string()
    params: dict[str, Any] = {
        "service": "WFS",
        "version": "2.0.0",
        "request": "GetFeature",
        "typeNames": typename,
        "outputFormat": "application/json",
        "srsName": srs,
        "count": page_size,
    }
    if bbox is not None:
        params["bbox"] = ",".join(f"{v:.3f}" for v in bbox) + f",{srs}"
    frames: list[gpd.GeoDataFrame] = []
    start = 0
    while True:
        page = _get_page(url, {**params, "startIndex": start}, timeout, typename)
        features = page.get("features", [])
        if features:
            frames.append(gpd.GeoDataFrame.from_features(features, crs=crs))
        log.info("WFS %s: %d features from index %d", typename, len(features), start)
        start += len(features)
        matched = page.get("numberMatched")
        if len(features) < page_size or (isinstance(matched, int) and start >= matched):
            break
    if frames:
        gdf = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=crs)
    else:
        gdf = gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=crs))
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        gdf.to_file(tmp, driver="GPKG", layer="features")
    return target


def _get_page(url: str, params: dict[str, Any], timeout: float, typename: str) -> dict[str, Any]:
    try:
        r = requests.get(url, params=params, timeout=timeout)
    except (requests.RequestException, OSError) as e:
        raise SourceError(
            f"WFS {url} ({typename}): cannot reach the service ({e}); check the network, or "
            "download the layer once and give it as a file `path`"
        ) from None
    if not r.ok:
        raise SourceError(f"WFS {url} ({typename}): HTTP {r.status_code}: {r.text[:300]}")
    try:
        data = r.json()
    except ValueError:
        raise SourceError(
            f"WFS {url} ({typename}): the answer is not GeoJSON (does the service offer "
            f"outputFormat=application/json?): {r.text[:300]}"
        ) from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise SourceError(f"WFS {url} ({typename}): the answer is not a FeatureCollection")
    return data
