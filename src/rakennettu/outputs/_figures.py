"""Small drawing helpers shared by the report's pages: polygon rings, palette PNGs."""

from __future__ import annotations

import base64
import io
from typing import Any

import geopandas as gpd
import numpy as np
from matplotlib.figure import Figure
from PIL import Image

__all__ = ["palette_png", "rings"]


def rings(geoms: gpd.GeoSeries) -> list[np.ndarray]:
    """The exterior rings (x, y) of every polygon part; other and empty geometries skipped.

    Examples
    --------
    >>> from shapely.geometry import Point, box
    >>> [r.shape for r in rings(gpd.GeoSeries([box(0, 0, 1, 1), Point(0, 0), None]))]
    [(5, 2)]
    """
    out = []
    for g in geoms:
        if g is None or g.is_empty:
            continue
        for part in getattr(g, "geoms", [g]):
            if part.geom_type == "Polygon" and not part.is_empty:
                out.append(np.asarray(part.exterior.coords)[:, :2])
    return out


def palette_png(fig: Figure, *, colors: int, **savefig: Any) -> str:
    """The figure as base64 PNG reduced to a palette of ``colors`` (a third of the size).

    ``savefig`` goes to :meth:`~matplotlib.figure.Figure.savefig` (e.g. ``dpi``).
    """
    buf = io.BytesIO()
    # the full-colour PNG is only read back here: stored without compression (the same
    # pixels, several times faster to write and read)
    fig.savefig(buf, format="png", pil_kwargs={"compress_level": 0}, **savefig)
    buf.seek(0)
    with Image.open(buf) as im:
        small = im.convert("RGB").quantize(colors=colors, method=Image.Quantize.MEDIANCUT)
    out = io.BytesIO()
    small.save(out, format="PNG", optimize=True)
    return base64.b64encode(out.getvalue()).decode("ascii")
