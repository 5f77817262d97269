"""What the map and the report share: classes, palettes, words, escaping, the key indicators.

Everything here is small and pure; the map (:mod:`rakennettu.outputs.map`) and the
report (:mod:`rakennettu.outputs.report`) draw the same classes in the same colours and
describe them in the same words.
"""

from __future__ import annotations

import html
import importlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from rakennettu.i18n import N_, Language, language
from rakennettu.naming import DIMENSIONS, IndicatorDoc, describe

__all__ = [
    "DIMENSION_COLOURS",
    "DIMENSION_TEXT",
    "DIMENSION_WORDS",
    "GAIN_LABELS",
    "SCORE_PALETTE",
    "Classes",
    "area_text",
    "bar_rows",
    "candidate_table",
    "cell_layers",
    "esc",
    "fixed_classes",
    "fmt",
    "indicator_docs",
    "key_indicators",
    "missing",
    "program_text",
    "quantile_classes",
    "site_title",
]

#: Sequential, colour-blind-safe (ColorBrewer YlGnBu, 5 classes): low to high.
SCORE_PALETTE: tuple[str, ...] = ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494")
#: Street betweenness (ColorBrewer OrRd, the darker 5 of 6 classes): low to high.
STREET_PALETTE: tuple[str, ...] = ("#fdd49e", "#fdbb84", "#fc8d59", "#e34a33", "#b30000")
#: Cells without access to the street network (not scored).
NO_ACCESS = "#d9d9d9"
#: The three dimensions in bar charts (ColorBrewer Dark2: distinguishable in the
#: common colour-vision deficiencies).
DIMENSION_COLOURS: dict[str, str] = {"morph": "#1b9e77", "soc": "#d95f02", "cult": "#7570b3"}
DIMENSION_WORDS: dict[str, str] = {"morph": "Morphological", "soc": "Social", "cult": "Cultural"}
DIMENSION_TEXT: dict[str, str] = {
    "morph": "the street network and urban form: how central and connected the streets "
    "are and how dense the built fabric is",
    "soc": "activities and services within walking distance, their variety, and the "
    "residents and jobs they serve",
    "cult": "landmarks and heritage, third places (cafés, libraries, squares), the mix of "
    "building ages, and green areas and water nearby",
}

#: The raw leverage gains in a planner's words (units: rakennettu.synthesis.leverage.GAINS).
GAIN_LABELS: dict[str, str] = {
    "soc_access_gain": "Access to activities",
    "soc_variety_gain": "Variety of activities in reach",
    "soc_residents_gain_daily": "Residents gaining a daily service nearby",
    "soc_people_added": "New residents and jobs",
    "cult_third_place_gain": "Access to third places",
    "cult_residents_gain_third_place": "Residents gaining a third place nearby",
    "cult_landmark_context": "Landmarks and heritage around the site",
    "morph_closeness_gain": "Closeness gained from new links",
    "morph_through_movement": "Through-movement at the site",
    "morph_far_gap": "Floor-area gap to the surroundings",
    "morph_coverage_gap": "Coverage gap to the surroundings",
    "soc_residents_reached": "Residents whose access to services rises",
    "soc_jobs_reached": "Jobs whose access to services rises",
    "cult_residents_reached": "Residents whose access to third places rises",
}

#: The raw indicators shown on the map and in the report: (dimension, measure,
#: radii in order of preference, title).
KEY_INDICATORS: tuple[tuple[str, str, tuple[int, ...], str], ...] = (
    ("morph", "harmonic", (800, 1200, 400), "Street closeness"),
    ("soc", "access_total", (800, 1200, 400), "Activity access"),
    ("cult", "third_place_access", (400, 800, 1200), "Third-place access"),
)

_DOC_MODULES = (
    ("rakennettu.layers.morphology", "INDICATORS"),
    ("rakennettu.layers.social", "INDICATORS"),
    ("rakennettu.layers.cultural", "INDICATORS"),
    ("rakennettu.synthesis.units", "HEX_INDICATORS"),
)


def missing(value: Any) -> bool:
    """None, NaN, NaT or pandas' NA (a list or a text is never missing).

    Examples
    --------
    >>> [missing(v) for v in (None, float("nan"), pd.NA, "", 0, [1])]
    [True, True, True, False, False, False]
    """
    if value is None:
        return True
    if isinstance(value, str | list | tuple | dict | set):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def bar_rows(
    values: Mapping[str, Any], lang: Language | None = None
) -> list[tuple[str, int, str, str]]:
    """The three dimensions as bars: (word, width in %, colour, value as text).

    With a language, the dimensions in plain words and the values in its format.

    Examples
    --------
    >>> bar_rows({"morph": 0.5, "soc": 1.2})[:2]
    [('Morphological', 50, '#1b9e77', '0.5'), ('Social', 100, '#d95f02', '1.2')]
    >>> bar_rows({"morph": 0.5}, language("fi"))[0]
    ('Katuverkko ja kaupunkirakenne', 50, '#1b9e77', '0,50')
    """
    from rakennettu.outputs.words import DIMENSION_NAMES

    rows = []
    for d in DIMENSIONS:
        try:
            v = float(values.get(d, float("nan")))
        except (TypeError, ValueError):
            v = float("nan")
        ok = math.isfinite(v)
        width = round(100 * min(max(v, 0.0), 1.0)) if ok else 0
        if lang is None:
            word, text = DIMENSION_WORDS[d], fmt(v) if ok else "–"
        else:
            word, text = lang._(DIMENSION_NAMES[d]), lang.fixed(v, 2)
        rows.append((word, width, DIMENSION_COLOURS[d], text))
    return rows


def esc(value: Any) -> str:
    """Text safe to place in HTML: ``None``/NaN become an empty string.

    Examples
    --------
    >>> esc("<img src=x onerror=alert(1)>")
    '&lt;img src=x onerror=alert(1)&gt;'
    >>> esc(float("nan"))
    ''
    """
    if missing(value):
        return ""
    return html.escape(str(value), quote=True)


def fmt(x: Any, lang: Language | None = None) -> str:
    r"""A number for people in ``lang``'s format (English by default).

    Three significant digits, whole numbers from 100 up, thousands separated: the one
    formatter of measured values (:meth:`rakennettu.i18n.Language.significant`).

    Examples
    --------
    >>> [fmt(v) for v in (0, 0.012345, 0.5, 12.345, 1234.5, -3.0, float("nan"))]
    ['0', '0.0123', '0.5', '12.3', '1,234', '-3', '–']
    >>> fmt(1234.5, language("fi"))
    '1\xa0234'
    """
    return (lang or language("en")).significant(x)


@cache
def indicator_docs() -> tuple[IndicatorDoc, ...]:
    """The documentation of every indicator that the installed layers define."""
    docs: list[IndicatorDoc] = []
    for module, attr in _DOC_MODULES:
        try:
            docs.extend(getattr(importlib.import_module(module), attr))
        except (ImportError, AttributeError):  # a layer not merged yet
            continue
    return tuple(docs)


def doc_for(column: str, level: str | None = None) -> IndicatorDoc | None:
    """The documentation of a column; at a given level (``"edge"``) when there is one."""
    docs = indicator_docs()
    if level is not None:
        found = describe(column, tuple(d for d in docs if d.level == level))
        if found is not None:
            return found
    return describe(column, docs)


@dataclass(frozen=True)
class Classes:
    """Values cut into classes, with the colours and the words of a legend.

    Attributes
    ----------
    codes
        Class per row (0 = lowest); -1 where the value is missing.
    colours
        Colour per class.
    labels
        Legend text per class.
    """

    codes: np.ndarray
    colours: tuple[str, ...]
    labels: tuple[str, ...]


def _spread(palette: Sequence[str], n: int) -> tuple[str, ...]:
    idx = np.linspace(0, len(palette) - 1, n).round().astype(int) if n > 1 else [len(palette) - 1]
    return tuple(palette[i] for i in idx)


def fixed_classes(
    values: pd.Series,
    *,
    breaks: Sequence[float] = (0.2, 0.4, 0.6, 0.8),
    palette: Sequence[str] = SCORE_PALETTE,
    ends: tuple[str, str] = (N_("low"), N_("high")),
    lang: Language | None = None,
) -> Classes:
    """Classes of a 0-1 score at fixed breaks (equal fifths by default).

    Examples
    --------
    >>> c = fixed_classes(pd.Series([0.05, 0.5, 0.95, float("nan")]))
    >>> c.codes.tolist(), c.labels[0], c.labels[-1]
    ([0, 2, 4, -1], '0.0–0.2 low', '0.8–1.0 high')
    """
    lang = lang or language("en")
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    codes = np.where(np.isnan(x), -1, np.digitize(x, breaks))
    edges = [0.0, *breaks, 1.0]
    labels = [
        f"{lang.fixed(edges[i], 1)}–{lang.fixed(edges[i + 1], 1)}" for i in range(len(edges) - 1)
    ]
    labels[0] += f" {lang._(ends[0])}"
    labels[-1] += f" {lang._(ends[1])}"
    return Classes(codes.astype(int), _spread(palette, len(labels)), tuple(labels))


def quantile_classes(
    values: pd.Series,
    *,
    k: int = 5,
    palette: Sequence[str] = SCORE_PALETTE,
    unit: str = "",
    lang: Language | None = None,
) -> Classes:
    """Classes at the quantiles of the values (quintiles by default), for raw indicators.

    Ties can merge classes, so there may be fewer than ``k``.

    Examples
    --------
    >>> c = quantile_classes(pd.Series([1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10]), unit="m")
    >>> c.codes.tolist()
    [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    >>> c.labels[0], c.labels[-1]
    ('1–2.8 m (lowest)', '8.2–10 m (highest)')
    """
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(x)
    if not ok.any():
        return Classes(np.full(len(x), -1), (), ())
    lo, hi = float(np.min(x[ok])), float(np.max(x[ok]))
    inner = np.unique(np.quantile(x[ok], np.linspace(0, 1, k + 1)[1:-1]))
    inner = inner[(inner > lo) & (inner < hi)] if hi > lo else inner[:0]
    codes = np.where(ok, np.digitize(np.where(ok, x, lo), inner), -1)
    edges = [lo, *inner.tolist(), hi]
    suffix = f" {unit}" if unit else ""
    labels = [
        f"{fmt(edges[i], lang)}–{fmt(edges[i + 1], lang)}{suffix}" for i in range(len(edges) - 1)
    ]
    if len(labels) > 1:
        lang = lang or language("en")
        labels[0] += " " + lang._("(lowest)")
        labels[-1] += " " + lang._("(highest)")
    return Classes(codes.astype(int), _spread(palette, len(labels)), tuple(labels))


@dataclass(frozen=True)
class CellLayer:
    """One hexagon layer of the map and the report."""

    column: str
    title: str
    description: str
    unit: str
    fixed: bool


def key_indicators(columns: Sequence[str]) -> list[tuple[str, str, IndicatorDoc | None]]:
    """The key raw indicators present among ``columns``: (column, title, doc).

    Examples
    --------
    >>> [c for c, _, _ in key_indicators(["morph_harmonic_400m", "morph_harmonic_800m"])]
    ['morph_harmonic_800m']
    """
    out = []
    for dim, measure, radii, title in KEY_INDICATORS:
        for r in radii:
            col = f"{dim}_{measure}_{r}m"
            if col in columns:
                out.append((col, f"{title}, {r} m", doc_for(col)))
                break
    return out


#: The key raw indicators in plain words: title, what it says.
_KEY_WORDS: dict[str, tuple[str, str]] = {
    "harmonic": (
        N_("Street closeness, {r} m"),
        N_("How close the streets within {r} m are along the network: high in a dense, "
           "well-connected street grid."),
    ),
    "access_total": (
        N_("Activity access, {r} m"),
        N_("How many shops, services and workplaces are within a {r} m walk, nearer ones "
           "counting more."),
    ),
    "third_place_access": (
        N_("Meeting-place access, {r} m"),
        N_("How many cafés, libraries, squares and other meeting places are within a {r} m "
           "walk, nearer ones counting more."),
    ),
}  # fmt: skip


def cell_layers(cells: pd.DataFrame, lang: Language | None = None) -> list[CellLayer]:
    """The hexagon layers a cells frame supports: synergy, the scores, key indicators."""
    lang = lang or language("en")
    from rakennettu.outputs.words import DIMENSION_NAMES

    out = []
    if "synergy" in cells:
        out.append(
            CellLayer(
                "synergy",
                lang._("Vitality: synergy index"),
                lang._(
                    "High only where streets and urban form, services and people, and places "
                    "and heritage are all strong together; 0–1 within this town."
                ),
                "0–1",
                True,
            )
        )
    for d in DIMENSIONS:
        col = f"score_{d}"
        if col in cells:
            out.append(
                CellLayer(
                    col,
                    lang._(DIMENSION_NAMES[d]),
                    lang._(_SCORE_TEXT[d]),
                    "0–1",
                    True,
                )
            )
    for col, _title, _doc in key_indicators(list(cells.columns)):
        unit = ""  # technical units ("1/m", "decay-weighted count") say nothing to a reader
        measure, r = _key_measure(col)
        title, text = _KEY_WORDS[measure]
        out.append(CellLayer(col, lang._(title, r=r), lang._(text, r=r), unit, False))
    return out


_SCORE_TEXT: dict[str, str] = {
    "morph": N_("How central and connected the streets are and how dense the built fabric "
                "is; 0–1 within this town."),
    "soc": N_("Activities and services within walking distance, their variety, and the "
              "residents and jobs they serve; 0–1 within this town."),
    "cult": N_("Landmarks and heritage, meeting places, the mix of building ages, and green "
               "areas and water nearby; 0–1 within this town."),
}  # fmt: skip


def _key_measure(col: str) -> tuple[str, str]:
    for _dim, measure, _radii, _title in KEY_INDICATORS:
        if f"_{measure}_" in col:
            return measure, col.rsplit("_", 1)[-1].removesuffix("m")
    raise KeyError(col)


def classes_for(layer: CellLayer, values: pd.Series, lang: Language | None = None) -> Classes:
    """The classes of a hexagon layer."""
    if layer.fixed:
        return fixed_classes(values, lang=lang)
    return quantile_classes(values, unit=layer.unit, lang=lang)


def program_text(row: Mapping[str, Any]) -> str | None:
    """The program simulated at a site, in words (``program_simulated``, else ``program``).

    Examples
    --------
    >>> program_text({"program": "daily_needs=3", "program_simulated": "3 daily needs"})
    '3 daily needs'
    """
    for key in ("program_simulated", "program"):
        v = row.get(key)
        if isinstance(v, str) and v.strip():
            return v
    return None


def site_title(cid: Any, row: Mapping[str, Any]) -> str:
    """A site's name, else its kind in words, else its id (unescaped).

    Examples
    --------
    >>> site_title("C3", {"name": None, "kind": "surface_parking"})
    'surface parking'
    """
    for key in ("name", "kind"):
        v = row.get(key)
        if isinstance(v, str) and v.strip():
            return v.replace("_", " ") if key == "kind" else v
    return str(cid)


def area_text(m2: Any) -> str:
    """An area for people: m² below a hectare, else hectares.

    Examples
    --------
    >>> area_text(535.2), area_text(23_000)
    ('535 m²', '2.3 ha')
    """
    if missing(m2):
        return ""
    v = float(m2)
    return f"{fmt(v)} m²" if v < 10_000 else f"{fmt(v / 10_000)} ha"


def candidate_table(candidates: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Candidates indexed by ``candidate_id`` (read back from a file, it is a column), by rank.

    Examples
    --------
    >>> from shapely import Point
    >>> g = gpd.GeoDataFrame({"candidate_id": ["C2", "C1"], "rank": [2, 1]},
    ...                      geometry=[Point(0, 0), Point(1, 1)], crs=3067)
    >>> candidate_table(g).index.tolist()
    ['C1', 'C2']
    """
    c = candidates
    if c.index.name != "candidate_id" and "candidate_id" in c.columns:
        c = c.set_index("candidate_id")
    if "rank" in c.columns:
        c = c.sort_values("rank", kind="stable", na_position="last")
    return c


def record_sources(record: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The data sources of a run record (an empty list without one)."""
    if not record:
        return []
    return [dict(s) for s in record.get("sources", []) if isinstance(s, Mapping)]
