"""Coordinate reference systems: the town's metric CRS and checks on inputs.

rakennettu works in one projected CRS in metres per town: EPSG:3067 (ETRS-TM35FIN) in
Finland, the local UTM zone elsewhere. Data are reprojected only at the edges: loaders
project to the town CRS, maps reproject to EPSG:4326 inside, and every metric raises
:class:`~rakennettu.errors.CRSError` on a geographic CRS, because an area in square
degrees is silently wrong.
"""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd
import numpy as np
from pyproj import CRS, Proj, Transformer
from pyproj.aoi import AreaOfInterest
from pyproj.database import query_utm_crs_info
from pyproj.exceptions import CRSError as PyprojCRSError
from shapely import Polygon
from shapely.geometry.base import BaseGeometry

from rakennettu.errors import CRSError

__all__ = [
    "FINLAND_CRS",
    "MAX_SCALE_ERROR",
    "check_coordinates_fit",
    "crs_label",
    "in_finland",
    "require_projected",
    "same_crs",
    "scale_error",
    "town_crs",
]

log = logging.getLogger(__name__)

FINLAND_CRS = CRS.from_epsg(3067)

#: The largest scale error a town CRS may have over the area (as a share): 1 % of a
#: distance or an area is about what OSM's own positional error costs a 400 m walk; a
#: CRS beyond it (Web Mercator stretches lengths 2x at 60 N) biases every density.
MAX_SCALE_ERROR = 0.01

# A coarse outline of mainland Finland and Åland (lon, lat), enough to tell a Finnish
# town from one in Sweden, Estonia or Russia. Towns within a few km of the land border
# may need an explicit `crs` in their workflow.
_FINLAND = Polygon(
    [
        (19.0, 60.0), (21.0, 59.6), (23.0, 59.75), (27.8, 60.2), (29.7, 61.2),
        (31.6, 62.9), (29.9, 64.8), (30.0, 66.0), (29.0, 67.8), (28.6, 69.0),
        (29.3, 69.5), (28.2, 70.1), (26.0, 70.1), (24.8, 68.6), (23.6, 68.7),
        (21.0, 69.3), (20.5, 69.1), (23.3, 68.0), (23.7, 66.8), (24.15, 65.8),
        (21.0, 63.2), (21.0, 61.5), (19.0, 60.6), (19.0, 60.0),
    ]
)  # fmt: skip


def in_finland(lon: float, lat: float) -> bool:
    """Whether a point (degrees) lies in Finland, by a coarse outline.

    Examples
    --------
    >>> in_finland(24.94, 60.17)  # Helsinki
    True
    >>> in_finland(18.07, 59.33)  # Stockholm
    False
    """
    from shapely import Point

    return bool(_FINLAND.contains(Point(lon, lat)))


def town_crs(area_wgs84: BaseGeometry, configured: str = "auto") -> CRS:
    """Choose the town's metric CRS.

    Parameters
    ----------
    area_wgs84
        The study area in EPSG:4326 (lon/lat degrees).
    configured
        A CRS from the workflow (any form pyproj reads), or ``"auto"``: EPSG:3067 when
        the area's centre is in Finland, else the WGS 84 UTM zone of the centre.

    Returns
    -------
    pyproj.CRS
        A projected CRS in metres.

    Examples
    --------
    >>> from shapely import box
    >>> town_crs(box(15.59, 48.40, 15.67, 48.42)).to_epsg()  # Krems, Austria
    32633
    >>> town_crs(box(26.93, 60.52, 26.97, 60.54)).to_epsg()  # Karhula, Kotka
    3067
    """
    if configured != "auto":
        try:
            crs = CRS.from_user_input(configured)
        except PyprojCRSError:
            raise CRSError(f"unknown CRS {configured!r}; give e.g. 'EPSG:3067'") from None
        require_projected(crs, "the town CRS")
        return crs
    c = area_wgs84.centroid
    if in_finland(c.x, c.y):
        return FINLAND_CRS
    infos = query_utm_crs_info(
        datum_name="WGS 84",
        area_of_interest=AreaOfInterest(c.x, c.y, c.x, c.y),
    )
    if not infos:
        raise CRSError(
            f"no UTM zone found for ({c.x:.4f}, {c.y:.4f}); set [town] crs in the workflow"
        )
    crs = CRS.from_epsg(int(infos[0].code))
    log.info("town CRS chosen automatically: %s (%s)", crs.to_string(), crs.name)
    return crs


def require_projected(crs: Any, what: str) -> CRS:
    """Return ``crs`` as a :class:`pyproj.CRS`, or raise unless it is projected in metres.

    ``crs`` is anything pyproj reads, or an object with a ``.crs`` (GeoDataFrame,
    GeoSeries).

    Examples
    --------
    >>> require_projected("EPSG:3067", "buildings").to_epsg()
    3067
    >>> require_projected("EPSG:4326", "buildings")
    Traceback (most recent call last):
    ...
    rakennettu.errors.CRSError: buildings: geographic CRS (EPSG:4326)...
    """
    if isinstance(crs, gpd.GeoDataFrame | gpd.GeoSeries):
        crs = crs.crs
    if crs is None:
        raise CRSError(
            f"{what}: no CRS is set; set the town's metric CRS, e.g. gdf.set_crs(3067) "
            "if the coordinates are already in ETRS-TM35FIN"
        )
    crs = CRS.from_user_input(crs)
    if crs.is_geographic:
        raise CRSError(
            f"{what}: geographic CRS ({crs.to_string()}), so areas and lengths would be "
            "in degrees; project to a metric CRS first, e.g. gdf.to_crs(3067) in Finland"
        )
    units = {axis.unit_name for axis in crs.axis_info}
    if not units <= {"metre", "meter"}:
        raise CRSError(
            f"{what}: CRS measured in {', '.join(sorted(units))} ({crs.to_string()}); "
            "project to a metric CRS, e.g. gdf.to_crs(3067)"
        )
    return crs


def same_crs(**layers: Any) -> CRS:
    """Check that every named layer is in one projected metric CRS and return that CRS.

    Layers are anything with a ``.crs`` (GeoDataFrame, GeoSeries); None and bare
    shapely geometries (which carry no CRS) are skipped. Raises :class:`CRSError`
    naming the layers that differ.

    Examples
    --------
    >>> a = gpd.GeoSeries([], crs=3067)
    >>> same_crs(buildings=a, streets=a, barriers=None).to_epsg()
    3067
    >>> same_crs(buildings=a, streets=a.to_crs(3857))
    Traceback (most recent call last):
    ...
    rakennettu.errors.CRSError: streets: not in the CRS of buildings (EPSG:3067)...
    """
    crss = {
        name: require_projected(layer.crs, name)
        for name, layer in layers.items()
        if layer is not None and not isinstance(layer, BaseGeometry)
    }
    first_name, first = next(iter(crss.items()))
    differ = [name for name, crs in crss.items() if crs != first]
    if differ:
        raise CRSError(
            f"{', '.join(differ)}: not in the CRS of {first_name} ({first.to_string()}); "
            "project every layer to the town CRS with .to_crs(...)"
        )
    return first


def check_coordinates_fit(
    bounds: tuple[float, float, float, float], crs: CRS, *, source: str
) -> None:
    """Raise :class:`CRSError` when coordinates cannot be in the CRS they claim.

    The bounds are transformed to degrees and compared with the CRS's area of use (with a
    generous margin): coordinates in metres labelled EPSG:4326, or Finnish coordinates
    labelled with a UTM zone of another continent, fail here rather than landing silently
    in the sea.

    Parameters
    ----------
    bounds
        ``(minx, miny, maxx, maxy)`` in ``crs``.
    crs
        The CRS the source declares.
    source
        The file (and layer) named in the message.
    """
    minx, miny, maxx, maxy = bounds
    if crs.is_geographic:
        if not (-180.5 <= minx <= maxx <= 180.5 and -90.5 <= miny <= maxy <= 90.5):
            raise CRSError(
                f"{source}: coordinates ({minx:.0f}, {miny:.0f}) .. ({maxx:.0f}, {maxy:.0f}) "
                f"cannot be degrees, but the file declares {crs.to_string()}; the file's CRS "
                "is wrong: fix it in the file, or give the right one as the layer's `crs`"
            )
        return
    aou = crs.area_of_use
    if aou is None:
        return
    try:
        tr = Transformer.from_crs(crs, 4326, always_xy=True)
        w, s, e, n = tr.transform_bounds(minx, miny, maxx, maxy)
    except Exception:  # pragma: no cover - pyproj raises various errors on nonsense input
        w = s = e = n = float("nan")
    margin = 5.0  # degrees
    ok = (
        all(v == v for v in (w, s, e, n))
        and w >= aou.west - margin
        and e <= aou.east + margin
        and s >= aou.south - margin
        and n <= aou.north + margin
    )
    if not ok:
        raise CRSError(
            f"{source}: coordinates ({minx:.0f}, {miny:.0f}) .. ({maxx:.0f}, {maxy:.0f}) do "
            f"not fall where {crs.to_string()} ({crs.name}) is used ({aou.name}); the file's "
            "CRS disagrees with its coordinates: fix the file, or give the right CRS as the "
            "layer's `crs`"
        )


def crs_label(crs: Any) -> str:
    """A CRS as a person reads it: its code and name, never WKT.

    Examples
    --------
    >>> crs_label("EPSG:3067")
    'EPSG:3067 ETRS89 / TM35FIN(E,N)'
    >>> crs_label(CRS.from_epsg(3879).to_wkt())  # a .prj file's WKT finds its code
    'EPSG:3879 ETRS89 / GK25FIN'
    """
    crs = CRS.from_user_input(crs)
    auth = crs.to_authority(min_confidence=90)
    return f"{auth[0]}:{auth[1]} {crs.name}" if auth else crs.name


def scale_error(crs: Any, area_wgs84: BaseGeometry) -> tuple[float, float, float]:
    """The largest scale error of a projected CRS over an area, and where it is.

    The meridional, parallel and areal scale factors (:meth:`pyproj.Proj.get_factors`)
    are taken at the corners, edge midpoints and centre of the area's bounding box; the
    error is the largest ``|factor - 1|``: 0.02 means lengths or areas off by 2 %.

    Returns
    -------
    (float, float, float)
        The error (a share), and the longitude and latitude where it is largest.

    Examples
    --------
    >>> from shapely import box
    >>> helsinki = box(24.90, 60.15, 24.97, 60.18)
    >>> round(scale_error("EPSG:3857", helsinki)[0], 2)  # Web Mercator: lengths 2x
    3.04
    >>> scale_error("EPSG:3067", helsinki)[0] < 0.001
    True
    """
    w, s, e, n = area_wgs84.bounds
    lons = np.array([w, e, w, e, (w + e) / 2, w, e, (w + e) / 2, (w + e) / 2])
    lats = np.array([s, s, n, n, (s + n) / 2, (s + n) / 2, (s + n) / 2, s, n])
    f = Proj(CRS.from_user_input(crs)).get_factors(lons, lats)
    scales = np.vstack([f.meridional_scale, f.parallel_scale, f.areal_scale])
    err = np.nanmax(np.abs(scales - 1), axis=0)
    if not np.isfinite(err).any():
        return float("inf"), float(lons[4]), float(lats[4])
    i = int(np.nanargmax(err))
    return float(err[i]), float(lons[i]), float(lats[i])


def check_scale(crs: Any, area_wgs84: BaseGeometry, *, where: str = "[town] crs") -> None:
    """Raise :class:`CRSError` when a CRS distorts the area by more than 1 %.

    The message names the CRS to use instead (EPSG:3067 in Finland, else the local UTM
    zone) and the override, ``[town] allow_distorted_crs = true``.

    Examples
    --------
    >>> from shapely import box
    >>> check_scale("EPSG:3067", box(24.90, 60.15, 24.97, 60.18))
    >>> check_scale("EPSG:3857", box(24.90, 60.15, 24.97, 60.18))
    Traceback (most recent call last):
    ...
    rakennettu.errors.CRSError: [town] crs: EPSG:3857 WGS 84 / Pseudo-Mercator distorts ...
    """
    err, lon, lat = scale_error(crs, area_wgs84)
    if err <= MAX_SCALE_ERROR:
        return
    better = crs_label(town_crs(area_wgs84))
    size = f"{err:.0%}" if np.isfinite(err) else "beyond measure"
    raise CRSError(
        f"{where}: {crs_label(crs)} distorts lengths or areas by {size} at "
        f"({lon:.3f}, {lat:.3f}) within the area (at most {MAX_SCALE_ERROR:.0%} is "
        f"allowed): every distance, density and area would be wrong; use {better} "
        '(or crs = "auto"), or set allow_distorted_crs = true in [town] to use it anyway'
    )
