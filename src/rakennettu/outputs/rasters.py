"""Rasters out: GeoTIFF surfaces (density, visibility), written atomically."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pyproj import CRS

from rakennettu._io import atomic_path
from rakennettu.sources.municipal import Raster

__all__ = ["write_geotiff"]


def write_geotiff(raster: Raster, path: str | Path, *, description: str | None = None) -> Path:
    """Write a raster as a single-band float32 GeoTIFF, atomically.

    The file appears only when complete (written beside it, then renamed). NaN is the
    nodata value; the raster's ``meta`` goes into the dataset tags.

    Parameters
    ----------
    raster
        The raster, e.g. from :func:`rakennettu.layers.social.kernel_density`.
    path
        The file to write (replaced if it exists).
    description
        A band description, e.g. the indicator name.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import tempfile, rasterio
    >>> from affine import Affine
    >>> r = Raster(np.ones((10, 10), "float32"), Affine(10, 0, 0, 0, -10, 100), CRS(3067))
    >>> p = write_geotiff(r, Path(tempfile.mkdtemp()) / "density.tif")
    >>> with rasterio.open(p) as src:
    ...     print(src.crs.to_epsg(), src.res, src.shape)
    3067 (10.0, 10.0) (10, 10)
    """
    import rasterio
    import rasterio.crs

    arr = np.asarray(raster.array, dtype=np.float32)
    if arr.ndim != 2:
        raise ValueError(f"raster.array must be 2-D, got shape {arr.shape}")
    epsg = CRS.from_user_input(raster.crs).to_epsg()
    rio_crs = (
        rasterio.crs.CRS.from_epsg(epsg)
        if epsg
        else rasterio.crs.CRS.from_wkt(CRS.from_user_input(raster.crs).to_wkt())
    )
    final = Path(path)
    with (
        atomic_path(final) as tmp,
        rasterio.open(
            tmp,
            "w",
            driver="GTiff",
            width=arr.shape[1],
            height=arr.shape[0],
            count=1,
            dtype="float32",
            crs=rio_crs,
            transform=raster.transform,
            nodata=np.nan,
            compress="deflate",
        ) as dst,
    ):
        dst.write(arr, 1)
        if raster.meta:
            dst.update_tags(**{str(k): str(v) for k, v in raster.meta.items()})
        if description:
            dst.set_band_description(1, description)
    return final


# ----------------------------------------------------------------------------- all of it
