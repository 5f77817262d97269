"""The interactive map (``map.html``): one self-contained page that works with no network.

:func:`build_map` draws a run's layers on a folium (Leaflet) map:

- **hexagon layers**, one at a time (radio buttons): the synergy index, the three
  dimension scores (fixed classes of 0-1) and the key raw indicators (quintile classes,
  with units from the layers' :class:`~rakennettu.naming.IndicatorDoc`), each with a
  legend in words; hovering a hexagon lists all its values;
- **street segments** coloured by betweenness, **buildings**, **landmarks** and **third
  places** (circle markers), the **candidate sites** outlined and numbered by rank, with
  a popup each (rank and rank interval, the program simulated, the raw gains with units,
  the breakdown in words and a bar chart of the three dimensions), and the **new links**
  the simulation drew;
- a base map drawn from the town's own data (water, green areas, streets); online
  OpenStreetMap tiles only with ``tiles=True``.

Leaflet 1.9.4 (BSD-2-Clause, vendored under ``outputs/assets``) and the map's own script
and styles are inlined into the page, so the file references nothing remote. Every text
that comes from OSM or from a user's file is escaped (:func:`html.escape`) once in Python
and enters the page as data (JSON in the page's script), never as template source: the
map's elements render their template once (:class:`_RenderedOnce`), not twice as
branca's ``MacroElement`` does. Geometries are simplified (in metres, before reprojecting to
EPSG:4326) and coordinates rounded to 6 decimals (about 0.1 m) to keep the file small.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure, MacroElement
from folium.map import Layer
from folium.template import Template

from rakennettu._io import atomic_path
from rakennettu._version import __version__
from rakennettu.crs import require_projected
from rakennettu.i18n import N_, Language, category_words, kind_words, language
from rakennettu.naming import DIMENSIONS
from rakennettu.outputs._common import (
    NO_ACCESS,
    STREET_PALETTE,
    bar_rows,
    candidate_table,
    cell_layers,
    classes_for,
    esc,
    fmt,
    missing,
    program_text,
    quantile_classes,
    record_sources,
)
from rakennettu.outputs._templates import environment
from rakennettu.outputs.labels import street_labels
from rakennettu.outputs.words import (
    GAIN_WORDS,
    UNIT_WORDS,
    provenance_words,
    simulated_program,
    site_heading,
    why_sentences,
)
from rakennettu.wording import flag_words, now_words, reason_words

__all__ = [
    "OSM_ATTRIBUTION_HTML",
    "bars_html",
    "build_map",
    "candidate_popup",
    "leaflet_assets",
    "write_map",
]

log = logging.getLogger(__name__)

_ASSETS = Path(__file__).with_name("assets")

#: The attribution every map carries (the data are OpenStreetMap's).
OSM_ATTRIBUTION_HTML = (
    '© <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors, ODbL'
)

# Panes (z-index): Leaflet's tiles are at 200, its overlay pane at 400, markers at 600.
_PANES = (
    ("rk-ground", 250),  # water and green areas
    ("rk-buildings", 270),
    ("rk-cells", 300),
    ("rk-streets", 320),  # the base map's streets, above the shading
    ("rk-betweenness", 350),
    ("rk-links", 430),
    ("rk-points", 450),
    ("rk-labels", 460),  # street and district names, under the site markers (600)
)

_BUILDING = {"fillColor": "#a8a8a8", "fillOpacity": 0.75, "stroke": False}
_GREEN = {"fillColor": "#dbe9d0", "fillOpacity": 1, "color": "#c5dcb5", "weight": 0.5}
_WATER = {"fillColor": "#cfe1f2", "fillOpacity": 1, "color": "#a9c8e8", "weight": 1}
_CEMETERY = {"fillColor": "#e2e6dc", "fillOpacity": 1, "color": "#cfd5c6", "weight": 0.5}
_STREET = {"color": "#8c8c8c", "weight": 1.2, "opacity": 0.75}
_PATH = {"color": "#a6a6a6", "weight": 0.7, "opacity": 0.7}
_LANDMARK = {"radius": 5, "color": "#ffffff", "weight": 1, "fillColor": "#762a83",
             "fillOpacity": 0.95}  # fmt: skip
_THIRD_PLACE = {"radius": 4, "color": "#ffffff", "weight": 1, "fillColor": "#e08214",
                "fillOpacity": 0.95}  # fmt: skip
_UNMAPPED = {"color": "#b35806", "weight": 1.5, "dashArray": "2 3", "fillColor": "#b35806",
             "fillOpacity": 0.08}  # fmt: skip
_LINK = {"color": "#e7298a", "weight": 3.5, "opacity": 0.95, "lineCap": "round"}
_SITE = {"color": "#111111", "weight": 2, "dashArray": "6 4", "fillColor": "#111111",
         "fillOpacity": 0.06, "radius": 14}  # fmt: skip
_SITE_TOP = {"color": "#000000", "weight": 3, "fillColor": "#000000", "fillOpacity": 0.12,
             "radius": 14}  # fmt: skip
_SITE_MINOR = {"color": "#444444", "weight": 1.2, "dashArray": "4 4", "fill": False,
               "radius": 9}  # fmt: skip
_TOP = 3  # sites drawn in the strongest style
_TEN = 10  # sites numbered in full size
_MINOR_ZOOM = 16  # the others' numbers show from this zoom level on
_NAMES_ZOOM = 16  # street names: from this zoom on (rakennettu-map.js hides them below 16)

#: Beyond this many buildings, the map does not carry them: they go into script files in
#: ``map_files/`` beside ``map.html``, one per square of :data:`DETAIL_TILE` metres, and the
#: page loads those in view from zoom :data:`DETAIL_ZOOM` on (a whole town's buildings
#: would make the page tens of MB; at a town-wide zoom the hexagons show the same places).
LAZY_BUILDINGS = 2500
DETAIL_TILE = 500.0  # metres
DETAIL_ZOOM = 15
#: The folder of the detail files, beside map.html (an output name, see outputs.folder).
MAP_FILES = "map_files"
_PATHS = frozenset({"footway", "path", "steps", "cycleway", "pedestrian", "track", "corridor"})


# --------------------------------------------------------------------------- assets


@cache
def leaflet_assets() -> tuple[str, str]:
    """Leaflet's CSS and JavaScript with the map's own, ready to inline.

    The CSS's images (the layer control's icon) become ``data:`` URIs; the default
    marker image, which the map never uses, is dropped.

    Returns
    -------
    (str, str)
        CSS and JavaScript.
    """
    css = (_ASSETS / "leaflet.css").read_text(encoding="utf-8")
    for name in ("layers.png", "layers-2x.png"):
        data = base64.b64encode((_ASSETS / name).read_bytes()).decode("ascii")
        css = css.replace(f"url(images/{name})", f"url(data:image/png;base64,{data})")
    css = css.replace("url(images/marker-icon.png)", "none")
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)  # comments (with bug tracker links)
    css += "\n" + (_ASSETS / "rakennettu-map.css").read_text(encoding="utf-8")
    js = (_ASSETS / "leaflet.js").read_text(encoding="utf-8")
    js += "\n" + (_ASSETS / "rakennettu-map.js").read_text(encoding="utf-8")
    if "</script" in js.lower() or "</style" in css.lower():  # pragma: no cover
        raise RuntimeError("a vendored asset contains a closing tag")
    return css, js


class _OfflineMap(folium.Map):
    """A folium Map that links to no CDN: its assets are inlined by :func:`build_map`."""

    default_js: list[tuple[str, str]] = []  # noqa: RUF012 (folium reads the class attribute)
    default_css: list[tuple[str, str]] = []  # noqa: RUF012
    _rk_lang = "en"  # the page's language (set by build_map, written by write_map)
    _rk_files: dict[str, str]  # set per map by build_map


# ------------------------------------------------------------------ JSON and geometry


def _js(obj: Any) -> str:
    r"""JSON to place inside a ``<script>`` element.

    In a script element the HTML parser looks only for ``</`` (an end tag) and ``<!``
    (a comment): both become JSON escapes (``<\/``, ``\u003c!``), which leave the values
    as they were. The rest of the markup in the (already escaped) popups stays readable and
    small.

    Examples
    --------
    >>> print(_js({"p": "<b>a</b></script><!--"}))
    {"p":"<b>a<\/b><\/script>\u003c!--"}
    """
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (
        text.replace("</", "<\\/")
        .replace("<!", "\\u003c!")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _num(x: Any) -> float | int | None:
    """A value for the page: three significant digits, or None."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(v):
        return None
    v = float(f"{v:.3g}")
    return int(v) if v.is_integer() and abs(v) < 1e15 else v


def _display(gdf: gpd.GeoDataFrame, what: str, *, tolerance: float) -> gpd.GeoSeries:
    """Geometries simplified in metres, then reprojected to EPSG:4326."""
    require_projected(gdf.crs, what)
    geom = gdf.geometry
    if tolerance > 0:
        geom = geom.simplify(tolerance, preserve_topology=True)
    return geom.to_crs(4326)


def _points_of(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    geom = gdf.geometry
    return gdf.set_geometry(geom.where(geom.geom_type == "Point", geom.representative_point()))


_TYPES = {"Point": 1, "LineString": 2, "Polygon": 3, "MultiPoint": 4, "MultiLineString": 5,
          "MultiPolygon": 6}  # fmt: skip


def _run(coords: Any) -> list[int]:
    """A ring or line as micro-degrees (6 decimals), the first point whole, then steps."""
    a = np.rint(np.asarray(coords, dtype=float)[:, :2] * 1e6).astype(np.int64)
    a[1:] = np.diff(a, axis=0)
    out: list[int] = a.ravel().tolist()
    return out


def _encode(geom: Any) -> tuple[int, Any]:
    """A geometry in the compact form the map's script decodes (``rk.decode``)."""
    kind = geom.geom_type
    if kind == "Point":
        return 1, _run([geom.coords[0]])
    if kind == "LineString":
        return 2, _run(geom.coords)
    if kind == "Polygon":
        return 3, [_run(r.coords) for r in (geom.exterior, *geom.interiors)]
    if kind == "MultiPoint":
        return 4, [_run([p.coords[0]]) for p in geom.geoms]
    if kind == "MultiLineString":
        return 5, [_run(g.coords) for g in geom.geoms]
    if kind == "MultiPolygon":
        return 6, [[_run(r.coords) for r in (g.exterior, *g.interiors)] for g in geom.geoms]
    raise ValueError(f"cannot draw a {kind}")


def _collection(geoms: gpd.GeoSeries, props: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Features in a compact form: ``{"f": [[type, coordinates, properties], ...]}``.

    Coordinates are whole micro-degrees (6 decimals, about 0.1 m), each ring's first point
    whole and the rest as steps from the previous one: about half the size of GeoJSON.
    Geometry collections are drawn part by part.
    """
    return _features(_encoded(geoms), props)


def _features(encoded: Sequence[list[tuple[int, Any]]], props: Iterable[dict[str, Any]]) -> dict:
    return {"f": [[*e, p] for parts, p in zip(encoded, props, strict=True) for e in parts]}


def _encoded(geoms: Iterable[Any]) -> list[list[tuple[int, Any]]]:
    """Each geometry as the map's script reads it: a (type, coordinates) per part drawn.

    One entry per geometry: none for a missing or empty one, one per part of a geometry
    collection. The coordinates of all are rounded and stepped at once (:func:`_runs`).

    Examples
    --------
    >>> from shapely import LineString, Point
    >>> _encoded([Point(24.9, 60.1), None, LineString([(0, 0), (0.000001, 0.000002)])])
    [[(1, [24900000, 60100000])], [], [(2, [0, 0, 1, 2])]]
    """
    arr = np.asarray(list(geoms), dtype=object)
    out: list[list[tuple[int, Any]]] = [[] for _ in range(len(arr))]
    if not len(arr):
        return out
    kind = shapely.get_type_id(arr)  # -1 missing, 0 point, ..., 6 multipolygon, 7 collection
    drawn = (kind >= 0) & (kind != 2) & ~shapely.is_empty(arr)  # 2: a bare ring
    for i in np.flatnonzero(drawn & (kind == 7)):
        out[i] = [_encode(g) for g in arr[i].geoms if not g.is_empty and g.geom_type in _TYPES]
    rows = np.flatnonzero(drawn & (kind != 7))
    leaves = _leaves(arr[rows])  # per row, per part: its runs (a polygon's rings)
    for row, parts in zip(rows.tolist(), leaves, strict=True):
        k = int(kind[row])
        if k in (0, 1):  # a point, a line: its one run
            out[row] = [(k + 1, parts[0][0])]
        elif k == 3:  # a polygon: its rings
            out[row] = [(3, parts[0])]
        elif k in (4, 5):  # several points or lines: a run per part
            out[row] = [(k, [p[0] for p in parts])]
        else:  # several polygons: rings per part
            out[row] = [(6, parts)]
    return out


def _leaves(geoms: np.ndarray) -> list[list[list[list[int]]]]:
    """Per geometry, per part, its runs: a point's or a line's one, a polygon's rings."""
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    polygon = shapely.get_type_id(parts) == 3
    rings, ring_of = shapely.get_rings(parts[polygon], return_index=True)
    leaf_of = np.concatenate([np.flatnonzero(polygon)[ring_of], np.flatnonzero(~polygon)])
    order = np.argsort(leaf_of, kind="stable")  # a polygon's rings stay in their order
    runs = _runs(np.concatenate([rings, parts[~polygon]])[order])
    cuts = np.searchsorted(leaf_of[order], np.arange(1, len(parts))).tolist()
    per_part = [runs[a:b] for a, b in zip([0, *cuts], [*cuts, len(runs)], strict=True)]
    cuts = np.searchsorted(part_of, np.arange(1, len(geoms))).tolist()
    return [per_part[a:b] for a, b in zip([0, *cuts], [*cuts, len(parts)], strict=True)]


def _runs(leaves: np.ndarray) -> list[list[int]]:
    """Points, lines and rings as micro-degrees, each one's first point whole, then steps."""
    xy, which = shapely.get_coordinates(leaves, return_index=True)
    a = np.rint(xy * 1e6).astype(np.int64)
    steps = a.copy()
    steps[1:] -= a[:-1]
    counts = np.bincount(which, minlength=len(leaves))
    starts = np.cumsum(counts) - counts
    steps[starts[counts > 0]] = a[starts[counts > 0]]
    flat: list[int] = steps.ravel().tolist()
    return [
        flat[2 * s : 2 * (s + n)] for s, n in zip(starts.tolist(), counts.tolist(), strict=True)
    ]


def _detail_tiles(
    name: str, gdf: gpd.GeoDataFrame, geoms: gpd.GeoSeries, props: Sequence[dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Features in squares of :data:`DETAIL_TILE` metres: the page's index, and the files.

    Each file is a script ``rk.tile(name, key, data)`` with the data as JSON (:func:`_js`),
    so it loads by a ``<script>`` element from a ``file:`` page too (``fetch`` cannot).
    The index lists each file's key and its features' bounds (south, west, north, east).

    Examples
    --------
    >>> from shapely import Point
    >>> pts = gpd.GeoDataFrame(geometry=[Point(385000, 6672000), Point(385700, 6672000)],
    ...     crs=3067)
    >>> index, files = _detail_tiles("b", pts, pts.geometry.to_crs(4326), [{"t": "<i>"}] * 2)
    >>> index["d"], [t[0] for t in index["t"]], sorted(files)
    ('map_files/b-', ['770-13344', '771-13344'], ['b-770-13344.js', 'b-771-13344.js'])
    >>> files["b-770-13344.js"][:33]
    'rk.tile("b","770-13344",{"f":[[1,'
    """
    pts = gdf.geometry.representative_point()
    keys = [
        f"{i}-{j}"
        for i, j in zip(
            np.floor(pts.x.to_numpy() / DETAIL_TILE).astype(np.int64).tolist(),
            np.floor(pts.y.to_numpy() / DETAIL_TILE).astype(np.int64).tolist(),
            strict=True,
        )
    ]
    by_key: dict[str, list[int]] = {}
    for i, k in enumerate(keys):
        by_key.setdefault(k, []).append(i)
    tiles, files = [], {}
    encoded = _encoded(geoms)
    bounds = geoms.bounds.to_numpy()
    for key in sorted(by_key):
        rows = by_key[key]
        box = bounds[rows]
        w, s, e, n = (round(float(b), 6) for b in (*box[:, :2].min(0), *box[:, 2:].max(0)))
        tiles.append([key, s, w, n, e])
        data = _features([encoded[i] for i in rows], [props[i] for i in rows])
        files[f"{name}-{key}.js"] = f"rk.tile({_js(name)},{_js(key)},{_js(data)});\n"
    index = {"n": name, "d": f"{MAP_FILES}/{name}-", "z": DETAIL_ZOOM, "t": tiles}
    return index, files


# ------------------------------------------------------------------- map elements


class _Verbatim(Element):
    """Text placed in the page as it is, never parsed as a template.

    branca's :class:`~branca.element.Element` takes its first argument as Jinja2 template
    *source*; text built from data (a name from OSM, a workflow's title) must never be
    that, or ``{{ ... }}`` in a name would run. This element only returns its text.
    """

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


class _RenderedOnce(MacroElement):
    """A macro element whose script is rendered once, with its data as template variables.

    branca's ``MacroElement.render`` wraps the output of the ``script`` macro in a new
    ``Element``, which parses it as a template a second time: the data in it (names from
    OSM or from a planner's file) would then run as Jinja2 code. Here the output goes into
    the page as it is (:class:`_Verbatim`).
    """

    def render(self, **kwargs: Any) -> str:
        """Add the script to the page (nothing is returned: it is in the page's script)."""
        figure = self.get_root()
        if not isinstance(figure, Figure):  # pragma: no cover (always in a map)
            raise TypeError("a map element must be inside a Figure to render")
        module = self._template.module.__dict__
        if module.get("header") is not None or module.get("html") is not None:
            raise TypeError("only a script macro is rendered once")  # pragma: no cover
        script = module.get("script")
        if script is not None:
            text = str(script(self, kwargs))
            figure.script.add_child(_Verbatim(text), name=self.get_name())
        for child in self._children.values():
            child.render(**kwargs)
        return ""


class _Setup(_RenderedOnce):
    """Panes and the data that several layers share (declared once)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        rk.panes({{ this._parent.get_name() }}, {{ this.panes }});
        {%- for name, data in this.data %}
        var {{ name }} = {{ data }};
        {%- endfor %}
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "RkSetup"
        self.panes = _js([list(p) for p in _PANES])
        self.data: list[tuple[str, str]] = []

    def share(self, data: Mapping[str, Any]) -> str:
        name = f"rk_data_{len(self.data)}"
        self.data.append((name, f"rk.decode({_js(data)})"))
        return name


class _DataLayer(Layer, _RenderedOnce):
    """A layer of the control made of parts drawn by the map's script (``rk.*``).

    The parts are made when the layer is first shown (``rk.later``): a whole town's hidden
    layers (six hexagon shadings of 12,000 hexagons, the streets' through-movement) cost
    the page's first paint nothing.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = rk.later(function () { return [
        {%- for kind, data, options in this.parts %}
            rk.{{ kind }}({{ data }}, {{ options }}),
        {%- endfor %}
        ]; });
        {% endmacro %}
        """
    )

    def __init__(self, name: str, *, overlay: bool, show: bool) -> None:
        super().__init__(name=name, overlay=overlay, control=True, show=show)
        self._name = "RkLayer"
        self.parts: list[tuple[str, str, str]] = []

    def part(
        self,
        data: str | Mapping[str, Any],
        *,
        pane: str,
        styles: Sequence[Mapping[str, Any]],
        na: Mapping[str, Any] | None = None,
        index: int | None = None,
        interactive: bool = True,
        labels: Sequence[str] | None = None,
        kind: str = "geojson",
        tip: Sequence[str] | None = None,
        zoom: int | None = None,
    ) -> _DataLayer:
        options: dict[str, Any] = {
            "pane": pane,
            "styles": list(styles),
            "na": dict(na) if na is not None else {"stroke": False, "fill": False},
            "index": index,
            "interactive": interactive,
            "labels": list(labels) if labels is not None else None,
        }
        if tip is not None:  # [name where a feature has none, sentence with "{n}"], escaped
            options["tip"] = list(tip)
        if zoom is not None:  # labels: made from this zoom on, in view
            options["zoom"] = zoom
        js = data if isinstance(data, str) else f"rk.decode({_js(data)})"
        self.parts.append((kind, js, _js(options)))
        return self


class _LayerControl(folium.LayerControl, _RenderedOnce):
    """folium's layer control, its script rendered once.

    Layer names can come from data: a column's name in a GeoPackage that ``rakennettu map``
    reads back.
    """


class _Controls(_RenderedOnce):
    """The title, the legend (following the layers shown) and the attribution."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            rk.box(map, {{ this.title }}, "topleft", "rk-title");
            L.control.zoom({ position: "topleft" }).addTo(map);
            rk.minorFrom(map, {{ this.minor_zoom }});
            L.control.scale({ imperial: false, position: "bottomright" }).addTo(map);
            rk.box(map, {{ this.legend }}, "bottomleft", "rk-legend");
            {%- for a in this.attributions %}
            map.attributionControl.addAttribution({{ a }});
            {%- endfor %}
            rk.legendFollows(map, [
            {%- for layer, block in this.follows %}
                [{{ layer.get_name() }}, {{ block }}],
            {%- endfor %}
            ]);
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        title_html: str,
        legend_html: str,
        attributions: Sequence[str],
        follows: Sequence[tuple[Element, str]],
    ) -> None:
        super().__init__()
        self._name = "RkControls"
        self.title = _js(title_html)
        self.legend = _js(legend_html)
        self.attributions = [_js(a) for a in attributions]
        self.follows = [(layer, _js(block)) for layer, block in follows]
        self.minor_zoom = _MINOR_ZOOM


# ------------------------------------------------------------------------ legends


def _swatches(colours: Sequence[str], labels: Sequence[str]) -> str:
    items = "".join(
        f'<li><span class="rk-swatch" style="background:{c}"></span>{esc(t)}</li>'
        for c, t in zip(colours, labels, strict=True)
    )
    return f"<ul>{items}</ul>"


def _block(block_id: str, title: str, text: str, body: str) -> str:
    p = f"<p>{esc(text)}</p>" if text else ""
    return f'<div class="rk-block" id="{esc(block_id)}"><h2>{esc(title)}</h2>{p}{body}</div>'


def bars_html(values: Mapping[str, float], lang: Language | None = None) -> str:
    """Horizontal bars of the three dimensions (0-1), as HTML with inline styles.

    The markup is the ``bars`` macro of ``outputs/templates/_macros.html.j2`` (the report
    draws the same bars).

    Examples
    --------
    >>> "width:50%" in bars_html({"morph": 0.5, "soc": 1.0, "cult": float("nan")})
    True
    """
    macros = environment().get_template("_macros.html.j2").module
    return str(macros.bars(bar_rows(values, lang or language("en"))))  # type: ignore[attr-defined]


def _units() -> dict[str, str]:
    from rakennettu.synthesis.leverage import FIGURES, GAINS

    units = {col: unit for cols in GAINS.values() for col, unit in cols.items()}
    return {**units, **FIGURES}


def _rank_line(lang: Language, row: Mapping[str, Any], n: int | None) -> str:
    rank: Any = row.get("rank")
    lo: Any = row.get("rank_p05")
    hi: Any = row.get("rank_p95")
    head = (
        lang._("Rank {rank} of {n}", rank=int(rank), n=n)
        if n
        else lang._("Rank {rank}", rank=int(rank))
    )
    if missing(lo) or missing(hi):
        return f"<p><b>{esc(head)}</b></p>"
    if int(lo) == int(hi):
        spread = lang._("the same rank however the three dimensions are weighted")
    else:
        spread = lang._("rank {low}–{high} under most other weightings", low=int(lo), high=int(hi))
    return f"<p><b>{esc(head)}</b>: {esc(spread)}.</p>"


def candidate_popup(
    cid: Any,
    row: Mapping[str, Any],
    *,
    n: int | None = None,
    lang: Language | None = None,
    n_links: int = 0,
    program: str | None = None,
) -> str:
    """The popup of one candidate site, as escaped HTML: plain words, figures under details.

    Parameters
    ----------
    cid
        The site's id (``candidate_id``).
    row
        Its columns (see the output contract: ``rank``, ``rank_p05``, gains, ...).
    n
        How many sites were ranked.
    lang
        The language (default English).
    n_links
        The simulated new links across the site.
    program
        What was simulated there, in words (default: the ``program_simulated`` column).

    Examples
    --------
    >>> html = candidate_popup("C1", {"rank": 1, "name": "<b>Depot</b>", "gain_soc": 0.9})
    >>> "&lt;b&gt;Depot&lt;/b&gt;" in html and "<b>Depot" not in html
    True
    """
    lang = lang or language("en")

    def get(key: str) -> Any:
        v = row.get(key)
        return None if missing(v) else v

    rank = get("rank")
    head = f"{int(rank)}. " if rank is not None else ""
    parts = [f"<h3>{esc(head)}{esc(site_heading(lang, cid, row))}</h3>"]
    sub = []
    if get("name") is not None and get("kind") is not None:
        sub.append(esc(kind_words(get("kind"), lang)))
    if get("area_m2") is not None:
        sub.append(esc(_area(lang, get("area_m2"))))
    if get("district") is not None:
        sub.append(esc(get("district")))
    if sub:
        parts.append(f'<p class="rk-sub">{" · ".join(sub)}</p>')
    if get("now") is not None:
        now, label = now_words(lang, row) or get("now"), lang._("Now:")
        parts.append(f"<p><b>{esc(label)}</b> {esc(now)}</p>")
    if get("flags") is not None:
        flags, label = flag_words(lang, row) or get("flags"), lang._("Check:")
        parts.append(f"<p><b>{esc(label)}</b> {esc(flags)}</p>")
    if rank is not None:
        parts.append(_rank_line(lang, row, n))
    what = program if program is not None else program_text(row)
    if what is not None:
        label = lang._("Simulated here:")
        parts.append(f"<p><b>{esc(label)}</b> {esc(what)}</p>")
    why = why_sentences(lang, row, n_links=n_links)
    if why and any(get(f"gain_{d}") is not None for d in DIMENSIONS):
        items = "".join(f"<li>{esc(s)}</li>" for s in why)
        label = lang._("Why here:")
        parts.append(f"<p><b>{esc(label)}</b></p><ul>{items}</ul>")
        parts.append(bars_html({d: get(f"gain_{d}") for d in DIMENSIONS}, lang))
    parts.append(_expert(lang, cid, row, get))
    return f'<div class="rk-pop">{"".join(parts)}</div>'


def _area(lang: Language, m2: Any) -> str:
    v = float(m2)
    if v < 10_000:
        return lang._("{area} m²", area=lang.integer(v))
    return lang._("{area} ha", area=lang.number(v / 10_000, 1))


def _expert(lang: Language, cid: Any, row: Mapping[str, Any], get: Any) -> str:
    """The figures behind the words, folded away: scores, raw gains with units, source."""
    site_id = lang._("Site id: {id}", id=cid)
    bits = [f"<p>{esc(site_id)}</p>"]
    if get("score") is not None:
        bits.append(
            "<p>" + esc(lang._("Score {score} (0–1)", score=lang.fixed(get("score"), 2))) + "</p>"
        )
    if get("context") is not None:
        text = lang._("Vitality around the site: {v} (0–1)", v=lang.fixed(get("context"), 2))
        bits.append(f"<p>{esc(text)}</p>")
    units = _units()
    gains = [(c, get(c)) for c in GAIN_WORDS if get(c) is not None]
    if gains:
        rows = "".join(
            f"<tr><td>{esc(lang._(GAIN_WORDS[c]))}</td>"
            f'<td class="rk-num">{esc(_gain_value(lang, c, v))}</td>'
            f"<td>{esc(lang._(UNIT_WORDS.get(units.get(c, ''), units.get(c, ''))))}</td></tr>"
            for c, v in gains
        )
        bits.append(f"<table>{rows}</table>")
    source = provenance_words(lang, get("provenance"))
    if source:
        line = lang._("Source: {source}", source=source)
        bits.append(f'<p class="rk-sub">{esc(line)}</p>')
    summary = esc(lang._("Figures for experts"))
    return f'<details class="rk-expert"><summary>{summary}</summary>{"".join(bits)}</details>'


def _gain_value(lang: Language, col: str, v: Any) -> str:
    units = _units()
    if units.get(col) in ("residents", "residents + jobs", "paths"):
        return lang.integer(float(v))  # whole people, whole paths
    return fmt(v, lang)


#: Building uses (rakennettu.sources.buildings.USES) in words.
_USES: dict[str, str] = {
    "residential": N_("homes"),
    "commercial": N_("shops and services"),
    "office": N_("offices"),
    "industrial": N_("industry and storage"),
    "public": N_("public building"),
    "religious": N_("church or temple"),
    "education": N_("school or college"),
    "health": N_("health care"),
    "culture": N_("culture"),
    "sport": N_("sport"),
    "parking": N_("parking building"),
    "other": N_("outbuilding"),
    "unknown": N_("building"),
}


def _building_tips(buildings: pd.DataFrame, lang: Language | None = None) -> list[str]:
    """Each building's tooltip: name, use, floors, year built and floor area, in ``lang``.

    Written column by column, each distinct value's words once (a whole town has tens of
    thousands of buildings and a few hundred distinct values per column).

    Examples
    --------
    >>> b = pd.DataFrame({"name": ["<Hall>", None], "use": ["public", "residential"],
    ...     "floors": [2.0, None], "morph_floors": [2.0, 3.0],
    ...     "morph_floors_source": ["floors", "height"], "year": [1952.0, float("nan")],
    ...     "morph_floor_area": [1234.4, 250.0]})
    >>> for tip in _building_tips(b):
    ...     print(tip)
    <b>&lt;Hall&gt;</b> · public building · 2 floors · built 1952 · 1,234 m² floor area
    homes · 3 floors (from height) · year built unknown · 250 m² floor area
    """
    lang = lang or language("en")
    n = len(buildings)

    def column(name: str) -> list[Any]:
        return buildings[name].tolist() if name in buildings else [None] * n

    def once(words: Any) -> Any:
        memo: dict[Any, str] = {}

        def say(*key: Any) -> str:
            if key not in memo:
                memo[key] = words(*key)
            return memo[key]

        return say

    use = once(lambda u: esc(lang._(_USES.get(str(u), N_("building")))))
    floors = once(lambda f: esc(lang.plural("{n} floor", "{n} floors", f)))
    assumed = once(lambda f, how: esc(lang._(how, n=f)))
    built = once(lambda y: esc(lang._("built {year}", year=y)))
    area = once(lambda a: esc(lang._("{area} m² floor area", area=lang.integer(a))))
    unknown = esc(lang._("year built unknown"))
    tips = []
    for name, u, fl, mf, source, year, fa in zip(
        column("name"), column("use"), column("floors"), column("morph_floors"),
        column("morph_floors_source"), column("year"), column("morph_floor_area"), strict=True,
    ):  # fmt: skip
        bits = [f"<b>{esc(name)}</b>"] if not missing(name) else []
        bits.append(use(u))
        if not missing(fl):
            bits.append(floors(round(float(fl))))
        elif not missing(mf):
            how = (
                N_("{n} floors (from height)") if source == "height" else N_("{n} floors (assumed)")
            )
            bits.append(assumed(round(float(mf)), how))
        bits.append(unknown if missing(year) else built(int(year)))
        if not missing(fa):
            bits.append(area(fa))
        tips.append(" · ".join(bits))
    return tips


def _place_tip(
    row: Mapping[str, Any], what: str, lang: Language | None = None, table: str = ""
) -> str:
    lang = lang or language("en")
    name = row.get("name")
    head = esc(name) if isinstance(name, str) and name else esc(lang._(what))
    cat = row.get("category")
    tail = f" · {esc(category_words(table, cat, lang))}" if isinstance(cat, str) and cat else ""
    return f"<b>{head}</b>{tail}"


def _top_points(gdf: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """The northernmost point of each outline (points stay): a marker stands above it."""

    def top(geom: Any) -> Any:
        if geom is None or geom.is_empty or geom.geom_type == "Point":
            return geom
        xy = shapely.get_coordinates(geom)
        return shapely.Point(xy[int(np.argmax(xy[:, 1]))])

    return gpd.GeoSeries([top(g) for g in gdf.geometry], index=gdf.index, crs=gdf.crs)


def _links_per_site(layers: Mapping[str, gpd.GeoDataFrame]) -> dict[Any, int]:
    links = layers.get("candidate_links")
    if links is None or "candidate_id" not in links:
        return {}
    return {k: int(v) for k, v in links["candidate_id"].value_counts().items()}


def _candidate_layer(
    cands: gpd.GeoDataFrame,
    record: Mapping[str, Any] | None,
    *,
    tolerance: float,
    lang: Language,
    links: Mapping[Any, int],
) -> tuple[_DataLayer, str]:
    """The candidate sites, outlined, with a numbered marker above each; and legend items."""
    table = candidate_table(cands)
    rank = table["rank"] if "rank" in table else pd.Series(np.nan, index=table.index)
    has = rank.notna().to_numpy()
    n = int(has.sum())
    rows = table.drop(columns=table.geometry.name).to_dict("records")
    popups = [
        candidate_popup(cid, r, n=n or None, lang=lang, n_links=links.get(cid, 0),
                        program=simulated_program(lang, r, record))
        for cid, r in zip(table.index, rows, strict=True)
    ]  # fmt: skip
    # 0: the top three, 1: the rest of the top ten, 2: the others (and unranked sites).
    level = [0 if ok and r <= _TOP else 1 if ok and r <= _TEN else 2
             for r, ok in zip(rank, has, strict=True)]  # fmt: skip
    # A site with a number opens its marker's popup ("k"), so each popup is written once.
    props = [
        {"c": c, "k": i} if ok else {"c": c, "p": p}
        for i, (c, p, ok) in enumerate(zip(level, popups, has, strict=True))
    ]
    name = N_("Candidate sites, numbered by rank") if n else N_("Candidate sites")
    lay = _DataLayer(lang._(name), overlay=True, show=True)
    geoms = _display(table, "candidates", tolerance=tolerance)
    lay.part(_collection(geoms, props), pane="overlayPane", styles=[_SITE_TOP, _SITE, _SITE_MINOR])
    if not n:
        return lay, ('<li><span class="rk-swatch" style="border:2px dashed #111"></span>'
                     + esc(lang._("a candidate site")) + "</li>")  # fmt: skip
    pts = _display(_top_points(table), "candidates", tolerance=0)
    # A site mapped as a point is drawn as a circle (radius in px): its marker stands above it.
    radius = int(str(_SITE["radius"]))
    lift = [radius if g.geom_type == "Point" else 0 for g in table.geometry]
    marks = [
        {"r": int(r), "k": i, "p": p, "c": c, "o": lift[i],
         "title": lang._("Site ranked {rank}", rank=int(r))}
        for i, (r, p, c, ok) in enumerate(zip(rank, popups, level, has, strict=True))
        if ok
    ]  # fmt: skip
    lay.part(_collection(pts[has], marks), pane="markerPane", styles=[], kind="ranks")
    top3, ten = esc(lang._("a top-3 site (click for why)")), esc(lang._("a site in the top ten"))
    items = (
        f'<li><span class="rk-rank rk-rank-top">1</span>{top3}</li>'
        f'<li><span class="rk-rank">4</span>{ten}</li>'
    )
    if n > _TEN:
        items += (
            '<li><span class="rk-rank rk-rank-minor">11</span>'
            + esc(lang._("a site below the top ten (zoom in for its number)"))
            + "</li>"
        )
    return lay, items


# ----------------------------------------------------------------------- the map


def dropped_dimensions(record: Mapping[str, Any] | None) -> list[str]:
    """The dimensions a run left out of the index or the site scores, in words.

    Examples
    --------
    >>> dropped_dimensions({"index": {"dropped_dimensions": ["cult"]}})
    ['cultural']
    """
    rec = record or {}
    dims = set((rec.get("index") or {}).get("dropped_dimensions") or [])
    dims |= set((rec.get("ranking") or {}).get("dropped_dimensions") or [])
    words = {"morph": "morphological", "soc": "social", "cult": "cultural"}
    return [words.get(d, d) for d in ("morph", "soc", "cult") if d in dims]


_DIMENSION_ADJECTIVES = {"morph": N_("morphological"), "soc": N_("social"), "cult": N_("cultural")}


def _dropped_words(record: Mapping[str, Any] | None, lang: Language) -> list[str]:
    """The dimensions a run left out, as adjectives in ``lang`` ("cultural")."""
    english = dropped_dimensions(record)
    return [lang._(v) for v in _DIMENSION_ADJECTIVES.values() if v in english]


def _frame(layers: Mapping[str, gpd.GeoDataFrame], name: str) -> gpd.GeoDataFrame | None:
    gdf = layers.get(name)
    if gdf is None or len(gdf) == 0:
        return None
    return gdf


def _text_column(gdf: pd.DataFrame, name: str) -> pd.Series:
    """A column as text ("" where absent)."""
    if name not in gdf:
        return pd.Series("", index=gdf.index)
    return gdf[name].astype(str)


def _betweenness_column(edges: pd.DataFrame) -> str | None:
    for r in (800, 1200, 400):
        if f"morph_betweenness_{r}m" in edges:
            return f"morph_betweenness_{r}m"
    cols = [c for c in edges.columns if str(c).startswith("morph_betweenness_")]
    cols = [c for c in cols if "beta" not in c]
    return cols[0] if cols else None


def _ground(gb: gpd.GeoDataFrame) -> np.ndarray:
    """0 green, 1 water, 2 cemetery."""
    cat = gb["category"].astype(str) if "category" in gb else pd.Series("green", index=gb.index)
    return np.select([cat.eq("blue"), cat.eq("cemetery")], [1, 2], 0)


def build_map(
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    title: str,
    record: Mapping[str, Any] | None = None,
    tiles: bool = False,
    tolerance: float = 1.5,
    language: str | None = None,
    lazy_buildings: int | None = LAZY_BUILDINGS,
) -> folium.Map:
    """Draw a run's layers on one interactive map.

    Parameters
    ----------
    layers
        The run's frames by layer name (as in ``vitality.gpkg``), all in the town's metric
        CRS: ``cells``, ``edges``, ``buildings``, ``landmarks``, ``third_places``,
        ``green_blue``, ``candidates`` and ``candidate_links``. Any may be missing; a
        layer is drawn when its frame and columns are there.
    title
        The town's display name.
    record
        The run record (:func:`rakennettu.outputs.record.run_record`): its data sources
        and licences go into the attribution, its date and version under the title.
    tiles
        Add OpenStreetMap's online tiles as a layer (off: the map needs no network).
    tolerance
        Simplification tolerance for display, in metres.
    language
        The map's language (a catalogue's code; default: the record's, else English).
    lazy_buildings
        With more buildings than this, they are written to files beside the page and
        loaded by area from zoom :data:`DETAIL_ZOOM` on (see :data:`LAZY_BUILDINGS`);
        ``None``: always in the page.

    Returns
    -------
    folium.Map
        Save it with :func:`write_map` (which also writes the detail files).

    Examples
    --------
    >>> from shapely import Point
    >>> cells = gpd.GeoDataFrame({"synergy": [0.1, 0.9], "access": ["nodes", "nodes"]},
    ...     geometry=[Point(385000, 6672000).buffer(50, 3), Point(385100, 6672000).buffer(50, 3)],
    ...     crs=3067)
    >>> m = build_map({"cells": cells}, title="Town")
    >>> "cdn" in m.get_root().render()
    False
    """
    for name, gdf in layers.items():  # before any work: every layer in metres
        if gdf is not None and len(gdf):
            require_projected(gdf.crs, name)
    lang = _language_of(language, record)
    m, setup = _new_map(title, lang)
    legend = _Legend()
    if tiles:
        folium.TileLayer(
            "OpenStreetMap", name=lang._("OpenStreetMap tiles (online)"), attr=OSM_ATTRIBUTION_HTML,
            overlay=True, control=True, show=True,
        ).add_to(m)  # fmt: skip
    cells = _frame(layers, "cells")
    bounds = _add_cells(m, setup, cells, lang, legend) if cells is not None else None
    betw = _add_base(m, setup, layers, lang, legend, tolerance=tolerance)
    _add_names(m, layers, lang)
    if betw is not None:
        m.add_child(betw)
    buildings = _frame(layers, "buildings")
    if buildings is not None:
        _add_buildings(m, buildings, lang, legend, tolerance=tolerance, lazy=lazy_buildings)
    _add_places(m, layers, lang, legend)
    _add_sites(m, layers, record, lang, legend, tolerance=tolerance)
    _LayerControl(position="topright", collapsed=False).add_to(m)
    m.add_child(_controls(legend, title, record, lang))
    if bounds is None:
        frames = [g for g in layers.values() if g is not None and len(g)]
        if frames:
            bounds = list(_display(frames[0], "map layers", tolerance=0).total_bounds)
    if bounds is not None and all(math.isfinite(b) for b in bounds):
        m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    _stable_ids(m.get_root())
    return m


@dataclass
class _Legend:
    """What the map's legend gathers while its layers are drawn."""

    blocks: list[str] = field(default_factory=list)  # one per measure layer, in order
    follows: list[tuple[Element, str]] = field(default_factory=list)  # layer -> its block
    symbols: list[str] = field(default_factory=list)  # the "On the map" items
    sites: str = ""  # the sites' and links' items, first among the symbols

    def measure(self, layer: Element, title: str, text: str, body: str) -> None:
        """A measure's legend block, shown while its layer is."""
        block = f"rk-legend-{len(self.blocks)}"
        self.blocks.append(_block(block, title, text, body))
        self.follows.append((layer, block))


def _new_map(title: str, lang: Language) -> tuple[_OfflineMap, _Setup]:
    """An empty offline map with Leaflet inlined and the page's title."""
    m = _OfflineMap(
        location=None, tiles=None, control_scale=False, zoom_control=False, font_size="0.8rem",
        zoom_snap=0.25,
    )  # fmt: skip
    m._rk_lang = lang.code  # the page's lang attribute (see write_map)
    m._rk_files = {}  # detail files beside the page: name in MAP_FILES -> script text
    css, js = leaflet_assets()
    root = m.get_root()
    assert isinstance(root, Figure)
    root.header.add_child(_Verbatim(f"<style>{css}</style>"), name="rk_css", index=0)
    root.header.add_child(_Verbatim(f"<script>{js}</script>"), name="rk_js", index=1)
    root.header.add_child(
        _Verbatim("<title>" + esc(lang._("{town}: vitality map", town=title)) + "</title>"),
        name="rk_title",
        index=2,
    )
    setup = _Setup()
    m.add_child(setup)
    return m, setup


def _add_cells(
    m: folium.Map, setup: _Setup, cells: gpd.GeoDataFrame, lang: Language, legend: _Legend
) -> list[float]:
    """The hexagons: one base layer (radio button) per measure, sharing one geometry.

    Returns the hexagons' bounds (the map's extent).
    """
    specs = cell_layers(cells, lang)
    geoms = _display(cells, "cells", tolerance=0)
    no_access = (
        cells["access"].astype(str).eq("none").to_numpy()
        if "access" in cells
        else np.zeros(len(cells), dtype=bool)
    )
    classes = [classes_for(s, cells[s.column], lang) for s in specs]
    codes = np.column_stack([c.codes for c in classes]) if classes else None
    values = [[fmt(v, lang) for v in cells[s.column]] for s in specs]
    props = []
    for i in range(len(cells)):
        p: dict[str, Any] = {
            "c": codes[i].tolist() if codes is not None else [],
            "v": [col[i] for col in values],
        }
        if no_access[i]:
            p["t"] = esc(lang._("No street within reach: not scored"))
        props.append(p)
    data = setup.share(_collection(geoms, props))
    labels = [esc(f"{s.title} ({s.unit})" if s.unit else s.title) for s in specs]
    na = {"fillColor": NO_ACCESS, "fillOpacity": 0.55, "color": "#bdbdbd", "weight": 0.5}
    for i, (spec, cls) in enumerate(zip(specs, classes, strict=True)):
        styles = [
            {"fillColor": c, "fillOpacity": 0.6, "color": c, "weight": 0.6, "opacity": 0.7}
            for c in cls.colours
        ]
        lay = _DataLayer(spec.title, overlay=False, show=i == 0)
        lay.part(data, pane="rk-cells", styles=styles, na=na, index=i, labels=labels)
        m.add_child(lay)
        body = _swatches(
            [*cls.colours, NO_ACCESS],
            [*cls.labels, lang._("no street within reach: not scored")],
        )
        legend.measure(lay, spec.title, spec.description, body)
    if specs:
        m.add_child(_DataLayer(lang._("No hexagon shading"), overlay=False, show=False))
    return list(geoms.total_bounds)


def _add_base(
    m: folium.Map,
    setup: _Setup,
    layers: Mapping[str, gpd.GeoDataFrame],
    lang: Language,
    legend: _Legend,
    *,
    tolerance: float,
) -> _DataLayer | None:
    """The town's base map (water, green areas, streets), added to the map.

    Returns the streets' through-movement layer, to be added after the names (or None).
    """
    base = _DataLayer(lang._("Base map: water, green, streets"), overlay=True, show=True)
    sea_frame = _frame(layers, "sea")
    if sea_frame is not None:
        geoms = _display(sea_frame, "sea", tolerance=tolerance)
        base.part(
            _collection(geoms, [{"c": 0}] * len(geoms)), pane="rk-ground", styles=[_WATER],
            interactive=False,
        )  # fmt: skip
    gb = _frame(layers, "green_blue")
    if gb is not None:
        geoms = _display(gb, "green_blue", tolerance=tolerance)
        props = [{"c": int(c)} for c in _ground(gb)]
        base.part(
            _collection(geoms, props), pane="rk-ground", styles=[_GREEN, _WATER, _CEMETERY],
            interactive=False,
        )  # fmt: skip
        legend.symbols.append(
            _swatches(
                [str(_WATER["fillColor"]), str(_GREEN["fillColor"])],
                [lang._("water and sea"), lang._("green areas")],
            )
        )
    edges = _frame(layers, "edges")
    betw = _add_streets(base, setup, edges, lang, legend, tolerance) if edges is not None else None
    if base.parts:
        m.add_child(base)
    return betw


def _add_streets(
    base: _DataLayer,
    setup: _Setup,
    edges: gpd.GeoDataFrame,
    lang: Language,
    legend: _Legend,
    tolerance: float,
) -> _DataLayer | None:
    """The streets into the base map; returns their through-movement layer (or None)."""
    geoms = _display(edges, "edges", tolerance=tolerance)
    hw = _text_column(edges, "highway")
    path = hw.map(lambda h: any(p in h for p in _PATHS)).to_numpy()
    col = _betweenness_column(edges)
    bcls = quantile_classes(edges[col], palette=STREET_PALETTE, lang=lang) if col else None
    names = edges["name"] if "name" in edges else pd.Series(None, index=edges.index)
    # the tooltip "<street> · through-movement <n> shortest paths": its words once in
    # the layer's options, each segment's name (if any) and number in its properties
    tip = [esc(lang._("street")), esc(lang._("through-movement {n} shortest paths"))]
    props = []
    for i, (nm, b) in enumerate(zip(names, edges[col] if col else names, strict=True)):
        p: dict[str, Any] = {"c": [int(path[i]), int(bcls.codes[i]) if bcls is not None else -1]}
        if col is not None:
            p["n"] = esc(fmt(b, lang))
            if isinstance(nm, str) and nm:
                p["s"] = esc(nm)
        props.append(p)
    edge_data = setup.share(_collection(geoms, props))
    base.part(edge_data, pane="rk-streets", styles=[_STREET, _PATH], index=0, interactive=False)
    if col is None or bcls is None:
        return None
    widths = np.linspace(1.5, 5, max(len(bcls.colours), 1))
    styles = [
        {"color": c, "weight": float(w), "opacity": 0.95}
        for c, w in zip(bcls.colours, widths, strict=True)
    ]
    radius = col.rsplit("_", 1)[-1].removesuffix("m")
    betw = _DataLayer(
        lang._("Through-movement on streets, {r} m", r=radius), overlay=True, show=False
    )
    betw.part(edge_data, pane="rk-betweenness", styles=styles, index=1, tip=tip)
    items = "".join(
        f'<li><span class="rk-line" style="border-top:{w:.1f}px solid {c}"></span>{esc(t)}</li>'
        for c, w, t in zip(bcls.colours, widths, bcls.labels, strict=True)
    )
    text = lang._(
        "How many shortest walking routes between places up to {r} m apart use each "
        "street: the streets people pass along.",
        r=radius,
    )
    legend.measure(betw, betw.layer_name, text, f"<ul>{items}</ul>")
    return betw


def _add_names(m: folium.Map, layers: Mapping[str, gpd.GeoDataFrame], lang: Language) -> None:
    """District names, and street names from a closer zoom on."""
    places = _frame(layers, "districts")
    if places is not None and "name" in places:
        pts = _display(_points_of(places), "districts", tolerance=0)
        props = [{"t": esc(n), "a": 0} for n in places["name"]]
        names_layer = _DataLayer(lang._("District names"), overlay=True, show=True)
        names_layer.part(
            _collection(pts, props), pane="rk-labels", styles=[], kind="labels",
            labels=["rk-district-label"],
        )  # fmt: skip
        m.add_child(names_layer)
    edges = _frame(layers, "edges")
    if edges is None:
        return
    labels = street_labels(edges)
    if len(labels):
        pts = _display(labels, "street names", tolerance=0)
        props = [
            {"t": esc(n), "a": int(a)} for n, a in zip(labels["name"], labels["angle"], strict=True)
        ]
        names_layer = _DataLayer(lang._("Street names (zoom in)"), overlay=True, show=True)
        names_layer.part(
            _collection(pts, props), pane="rk-labels", styles=[], kind="labels", zoom=_NAMES_ZOOM
        )
        m.add_child(names_layer)


def _add_buildings(
    m: _OfflineMap,
    buildings: gpd.GeoDataFrame,
    lang: Language,
    legend: _Legend,
    *,
    tolerance: float,
    lazy: int | None,
) -> None:
    """The buildings: in the page, or in files loaded by area when there are many."""
    geoms = _display(buildings, "buildings", tolerance=tolerance)
    attrs = buildings.drop(columns=buildings.geometry.name)
    if "year" in attrs:
        attrs = attrs.assign(year=pd.to_numeric(attrs["year"], errors="coerce"))
    props = [{"c": 0, "t": t} for t in _building_tips(attrs, lang)]
    lay = _DataLayer(lang._("Buildings"), overlay=True, show=True)
    if lazy is not None and len(buildings) > lazy:
        index, files = _detail_tiles("buildings", buildings, geoms, props)
        m._rk_files.update(files)
        lay.part(_js(index), pane="rk-buildings", styles=[_BUILDING], kind="lazy")
    else:
        lay.part(_collection(geoms, props), pane="rk-buildings", styles=[_BUILDING])
    m.add_child(lay)
    legend.symbols.append(_swatches([str(_BUILDING["fillColor"])], [lang._("buildings")]))


def _add_places(
    m: folium.Map, layers: Mapping[str, gpd.GeoDataFrame], lang: Language, legend: _Legend
) -> None:
    """Landmarks and meeting places, as dots."""
    for name, what, style, word in (
        ("landmarks", N_("landmark"), _LANDMARK, N_("Landmarks and heritage")),
        ("third_places", N_("meeting place"), _THIRD_PLACE, N_("Meeting places (third places)")),
    ):
        pts = _frame(layers, name)
        if pts is None:
            continue
        pts = _points_of(pts)
        geoms = _display(pts, name, tolerance=0)
        rows = pts.drop(columns=pts.geometry.name).to_dict("records")
        props = [{"c": 0, "t": _place_tip(r, what, lang, name)} for r in rows]
        lay = _DataLayer(lang._(word), overlay=True, show=True)
        lay.part(_collection(geoms, props), pane="rk-points", styles=[style])
        m.add_child(lay)
        legend.symbols.append(
            f'<ul><li><span class="rk-dot" style="background:{style["fillColor"]}"></span>'
            f"{esc(lang._(word))}</li></ul>"
        )


def _add_sites(
    m: folium.Map,
    layers: Mapping[str, gpd.GeoDataFrame],
    record: Mapping[str, Any] | None,
    lang: Language,
    legend: _Legend,
    *,
    tolerance: float,
) -> None:
    """The ranked sites, the possibly unmapped blocks and the simulated new links."""
    cands = _frame(layers, "candidates")
    if cands is not None:
        lay, legend.sites = _candidate_layer(
            cands, record, tolerance=tolerance, lang=lang, links=_links_per_site(layers)
        )
        m.add_child(lay)
    gaps = _frame(layers, "possibly_unmapped")
    if gaps is not None:
        geoms = _display(gaps, "possibly_unmapped", tolerance=tolerance)
        reasons = gaps["reason"] if "reason" in gaps else pd.Series("", index=gaps.index)
        said = lang._("Possibly unmapped:")
        props = [{"c": 0, "t": f"{esc(said)} {esc(reason_words(r, lang))}"} for r in reasons]
        lay = _DataLayer(lang._("Possibly unmapped blocks"), overlay=True, show=True)
        lay.part(_collection(geoms, props), pane="overlayPane", styles=[_UNMAPPED])
        m.add_child(lay)
        legend.symbols.append(
            _swatches([str(_UNMAPPED["color"])], [lang._("possibly unmapped block")])
        )
    links = _frame(layers, "candidate_links")
    if links is not None:
        geoms = _display(links, "candidate_links", tolerance=0)
        ids = links["candidate_id"] if "candidate_id" in links else pd.Series("", index=links.index)
        props = [{"c": 0, "t": esc(lang._("Simulated new walking link · site {id}", id=i))}
                 for i in ids]  # fmt: skip
        lay = _DataLayer(lang._("Simulated new walking links"), overlay=True, show=True)
        lay.part(_collection(geoms, props), pane="rk-links", styles=[_LINK])
        m.add_child(lay)
        legend.sites += (
            f'<li><span class="rk-line" style="border-top:3px solid {_LINK["color"]}">'
            + "</span>"
            + esc(lang._("simulated new walking link"))
            + "</li>"
        )


def _controls(
    legend: _Legend, title: str, record: Mapping[str, Any] | None, lang: Language
) -> _Controls:
    """The title box, the legend (with what was left out) and the attributions."""
    symbols = ([f"<ul>{legend.sites}</ul>"] if legend.sites else []) + legend.symbols
    blocks = list(legend.blocks)
    if symbols:
        blocks.append(_block("rk-legend-symbols", lang._("On the map"), "", "".join(symbols)))
    gone = _dropped_words(record, lang)
    if gone:
        text = lang.plural(
            "The {dims} dimension: no indicator of it measured anything here (see the "
            "report's first section). The synergy is the geometric mean of the other "
            "dimensions, and no site is scored in it.",
            "The {dims} dimensions: no indicator of them measured anything here (see the "
            "report's first section). The synergy is the geometric mean of the other "
            "dimensions, and no site is scored in them.",
            len(gone),
            dims=gone[0] if len(gone) == 1 else lang._("{first} and {last}",
                                                         first=", ".join(gone[:-1]), last=gone[-1]),
        )  # fmt: skip
        blocks.insert(0, _block("rk-legend-dropped", lang._("Left out for want of data"), text, ""))
    sub = [lang._("Vitality map · rakennettu {version}", version=__version__)]
    if record and record.get("created"):
        sub.append(lang._("run {date}", date=lang.date(str(record["created"]))))
    if record and record.get("osm_data_date"):
        sub.append(lang._("OpenStreetMap data of {date}",
                          date=lang.date(str(record["osm_data_date"]))))  # fmt: skip
    hint = lang._("Hover a hexagon for its values; click a numbered site for its breakdown.")
    title_html = f"<h1>{esc(title)}</h1><p>{esc(' · '.join(sub))}</p><p>{esc(hint)}</p>"
    attributions = [OSM_ATTRIBUTION_HTML]
    for s in record_sources(record):
        if s.get("role") == "osm" or not s.get("licence"):
            continue
        src = Path(str(s.get("source", ""))).name
        attributions.append(esc(f"{s.get('role')}: {src} ({s['licence']})"))
    legend_html = (
        '<details class="rk-fold" open><summary>' + esc(lang._("Legend")) + "</summary>"
        f"<div>{''.join(blocks)}</div></details>"
    )
    return _Controls(title_html, legend_html, attributions, legend.follows)


def _language_of(code: str | None, record: Mapping[str, Any] | None) -> Language:
    """The language asked for, else the record's, else English."""
    return language(code or (record or {}).get("language") or "en")


def _stable_ids(root: Element) -> None:
    """Number the elements in order, so the same inputs write the same file."""
    counter = 0

    def visit(el: Element) -> None:
        nonlocal counter
        el._id = f"{counter:04d}"
        counter += 1
        for child in el._children.values():
            visit(child)

    visit(root)


def write_map(m: folium.Map, path: str | Path) -> Path:
    """Save a map as one self-contained HTML file, atomically.

    Parameters
    ----------
    m
        A map from :func:`build_map`.
    path
        The target file (``map.html``); replaced only when the page is complete.

    Returns
    -------
    Path
        ``path``. The detail files of a large town go into ``map_files/`` beside it
        (before the page, so a page never names a file that is not there yet); files
        there that the page does not name are removed.
    """
    path = Path(path)
    html = m.get_root().render()
    code = getattr(m, "_rk_lang", "en")  # a catalogue's code: letters only
    html = html.replace("<html>", f'<html lang="{esc(code)}">', 1)
    _write_files(getattr(m, "_rk_files", {}), path.parent / MAP_FILES)
    with atomic_path(path) as tmp:
        tmp.write_text(html, encoding="utf-8")
    log.info("map: %s (%.0f kB)", path, path.stat().st_size / 1000)
    return path


def _write_files(files: Mapping[str, str], folder: Path) -> None:
    """Write the detail files, each atomically; remove the folder's other scripts."""
    if folder.is_dir():
        for old in folder.glob("*.js"):
            if old.name not in files:
                old.unlink()
    if not files:
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
        return
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        with atomic_path(folder / name) as tmp:
            tmp.write_text(text, encoding="utf-8")
