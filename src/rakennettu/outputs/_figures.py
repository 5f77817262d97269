"""Small drawing helpers shared by the report's pages: lines and polygon rings, palette PNGs."""

from __future__ import annotations

import base64
import io
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from matplotlib.figure import Figure
from PIL import Image

__all__ = ["figure_pixels", "lines", "palette_png", "rings"]


def _parts(geoms: Any) -> np.ndarray:
    """The parts of each geometry, in order (one level: a multi-part's, a collection's).

    Missing and empty geometries are left out.
    """
    return _parts_of(geoms)[0]


def _parts_of(geoms: Any) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_parts`, and the position in ``geoms`` of the geometry of each part."""
    arr = np.asarray(geoms, dtype=object)
    present = np.flatnonzero(~(shapely.is_missing(arr) | shapely.is_empty(arr)))
    parts, owner = shapely.get_parts(arr[present], return_index=True)
    return parts, present[owner]


def _runs(geoms: np.ndarray) -> list[np.ndarray]:
    """The (x, y) coordinates of each geometry (lines or rings) as one array each."""
    xy, which = shapely.get_coordinates(geoms, return_index=True)
    ends = np.cumsum(np.bincount(which, minlength=len(geoms)))
    return np.split(xy, ends[:-1]) if len(geoms) else []


def rings(geoms: gpd.GeoSeries) -> list[np.ndarray]:
    """The exterior rings (x, y) of every polygon part; other and empty geometries skipped.

    Examples
    --------
    >>> from shapely.geometry import Point, box
    >>> [r.shape for r in rings(gpd.GeoSeries([box(0, 0, 1, 1), Point(0, 0), None]))]
    [(5, 2)]
    """
    return rings_of(geoms)[0]


def rings_of(geoms: Any) -> tuple[list[np.ndarray], np.ndarray]:
    """:func:`rings`, and the position in ``geoms`` of the geometry each ring comes from.

    For a colour per geometry: a multipolygon has a ring per part.

    Examples
    --------
    >>> from shapely.geometry import MultiPolygon, box
    >>> rings_of([box(0, 0, 1, 1), MultiPolygon([box(2, 2, 3, 3), box(4, 4, 5, 5)])])[1]
    array([0, 1, 1])
    """
    parts, owner = _parts_of(geoms)
    keep = (shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)
    return _runs(shapely.get_exterior_ring(parts[keep])), owner[keep]


def lines(geoms: gpd.GeoSeries, *, outlines: bool = False) -> list[np.ndarray]:
    """The (x, y) coordinates of every line part, in order; other and empty parts skipped.

    With ``outlines``, each polygon part's exterior ring too, in its place.

    Examples
    --------
    >>> from shapely.geometry import LineString, Point, box
    >>> g = gpd.GeoSeries([LineString([(0, 0), (1, 1)]), box(0, 0, 1, 1), Point(0, 0)])
    >>> [r.shape for r in lines(g)], [r.shape for r in lines(g, outlines=True)]
    ([(2, 2)], [(2, 2), (5, 2)])
    """
    parts = _parts(geoms)
    kind = shapely.get_type_id(parts)
    if outlines:
        parts = np.where(kind == 3, shapely.get_exterior_ring(parts), parts)
    keep = ((kind == 1) | ((kind == 3) & outlines)) & ~shapely.is_empty(parts)
    return _runs(parts[keep])


class _Pixels(io.BytesIO):
    """A file for ``savefig(format="rgba")`` that keeps the pixels it is given.

    Agg writes its buffer in one piece, a memoryview shaped (height, width, 4): kept as
    an array, with no image file made and read back.
    """

    rgba: np.ndarray | None = None

    def write(self, data: Any, /) -> int:
        self.rgba = np.array(data, dtype=np.uint8, copy=True)
        return self.rgba.nbytes


def figure_pixels(fig: Figure, **savefig: Any) -> Image.Image:
    """The figure as ``savefig`` draws it, as an RGB image (the pixels a PNG would hold).

    ``savefig`` goes to :meth:`~matplotlib.figure.Figure.savefig` (``dpi``,
    ``bbox_inches``, ``facecolor`` ...): the figure is drawn by Agg exactly as for a PNG
    file, and its buffer is taken as it is (alpha dropped, as an RGB conversion does).

    Examples
    --------
    >>> fig = Figure(figsize=(1, 0.5), dpi=100)
    >>> im = figure_pixels(fig, facecolor="white")
    >>> im.mode, im.size, im.getpixel((0, 0))
    ('RGB', (100, 50), (255, 255, 255))
    """
    sink = _Pixels()
    fig.savefig(sink, format="rgba", **savefig)
    if sink.rgba is None or sink.rgba.ndim != 3:  # pragma: no cover - not Agg's output
        raise RuntimeError("matplotlib wrote no pixel buffer")
    h, w = sink.rgba.shape[:2]
    return Image.frombuffer("RGBA", (w, h), sink.rgba, "raw", "RGBA", 0, 1).convert("RGB")


def palette_png(fig: Figure, *, colors: int, **savefig: Any) -> str:
    """The figure as base64 PNG reduced to a palette of ``colors`` (a third of the size).

    ``savefig`` goes to :meth:`~matplotlib.figure.Figure.savefig` (e.g. ``dpi``); the
    pixels are taken from the canvas (:func:`figure_pixels`), not from a PNG file.
    """
    rgb = figure_pixels(fig, **savefig)
    small = rgb.quantize(colors=colors, method=Image.Quantize.MEDIANCUT)
    out = io.BytesIO()
    small.save(out, format="PNG", optimize=True)
    return base64.b64encode(out.getvalue()).decode("ascii")
