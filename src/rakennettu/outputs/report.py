"""The report (``report.html``): one self-contained page a planner can read and archive.

:func:`build_report` writes what was analysed (area, data sources with licences,
counts), the method in a few paragraphs, the top candidate sites with their breakdowns and
rank intervals, maps of the synergy index and of each dimension and distributions of the
key indicators (matplotlib, embedded as PNG), the ranking's sensitivity and stability, the
caveats the data call for (unknown building ages and floors, edge effects, cells without
access), and the run's versions, timings and input hashes.

The page is a Jinja2 template file (``outputs/templates/report.html.j2``, HTML escaped by
default): every text that comes from data or from the run record is passed to it as a
value and escaped once; the page loads nothing from elsewhere.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from rakennettu._io import atomic_path
from rakennettu._version import __version__
from rakennettu.i18n import N_, Language
from rakennettu.i18n import language as get_language
from rakennettu.outputs import report_text
from rakennettu.outputs._common import (
    NO_ACCESS,
    CellLayer,
    candidate_table,
    cell_layers,
    classes_for,
    fmt,
)
from rakennettu.outputs._figures import lines, palette_png, rings
from rakennettu.outputs._templates import render, words
from rakennettu.outputs.first_page import SiteNear, area_words, first_page, site_cards
from rakennettu.outputs.report_text import get as _get
from rakennettu.wording import reason_words

__all__ = ["SECTIONS", "build_report", "write_report"]

#: The report's sections after its first page: (id, heading), headings in English.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("data", N_("What the data could not measure")),
    ("candidates", N_("The top sites, one by one")),
    ("maps", N_("Maps")),
    ("method", N_("How the sites were found: the method in plain words")),
    ("robustness", N_("How robust is the order?")),
    ("caveats", N_("Caveats and data gaps")),
    ("summary", N_("What was analysed")),
    ("distributions", N_("Key indicators")),
    ("run", N_("Appendix: versions, timings, input files")),
)

_TOP = report_text.TOP


# ------------------------------------------------------------------- small helpers


def _png(fig: Figure) -> str:
    """The figure as base64 PNG, reduced to a 128-colour palette (a third of the size)."""
    return palette_png(fig, colors=128, dpi=fig.dpi, bbox_inches="tight", pad_inches=0.05,
                       facecolor="white")  # fmt: skip


# --------------------------------------------------------------------------- plots


def _base(ax: Any, layers: Mapping[str, gpd.GeoDataFrame]) -> None:
    gb = layers.get("green_blue")
    if gb is not None and len(gb):
        cat = gb["category"].astype(str) if "category" in gb else pd.Series("green", index=gb.index)
        for value, colour in (("green", "#dbe9d0"), ("cemetery", "#e2e6dc"), ("blue", "#cfe1f2")):
            sel = gb[cat.eq(value)]
            ax.add_collection(PolyCollection(rings(sel.geometry), facecolors=colour,
                                             edgecolors="none", zorder=1))  # fmt: skip


def _streets(ax: Any, layers: Mapping[str, gpd.GeoDataFrame]) -> None:
    edges = layers.get("edges")
    if edges is not None and len(edges):
        ax.add_collection(LineCollection(lines(edges.geometry, outlines=True), colors="#6f6f6f",
                                         linewidths=0.35, alpha=0.7, zorder=3))  # fmt: skip


def _map_figures(
    layers: Mapping[str, gpd.GeoDataFrame],
    cells: gpd.GeoDataFrame,
    specs: Sequence[CellLayer],
    *,
    lang: Language,
    candidates: gpd.GeoDataFrame | None = None,
) -> Iterator[Figure]:
    """A map of the hexagons per measure: one figure, drawn once and recoloured per measure.

    Save each figure before asking for the next (its base, streets and sites are drawn once:
    a whole town's 12,000 hexagons and 13,000 streets take half a second per figure).
    """
    fig = Figure(figsize=(9.0, 7.0), dpi=100)
    ax = fig.add_subplot()
    _base(ax, layers)
    cell_rings = rings(cells.geometry)
    shading = None
    if len(cell_rings) == len(cells):
        shading = PolyCollection(cell_rings, edgecolors="none", alpha=0.85, zorder=2)
        ax.add_collection(shading)
    _streets(ax, layers)
    if candidates is not None and len(candidates):
        outlines = lines(candidates.geometry, outlines=True)
        ax.add_collection(LineCollection(outlines, colors="#111", linewidths=1.2, zorder=4))
        pts = candidates.geometry.representative_point()
        if "rank" in candidates:
            for p, r in zip(pts, candidates["rank"], strict=True):
                if pd.notna(r) and r <= _TOP:
                    ax.annotate(str(int(r)), (p.x, p.y), ha="center", va="center", fontsize=8,
                                fontweight="bold", zorder=5,
                                bbox={"boxstyle": "circle,pad=0.25", "fc": "white",
                                      "ec": "#111", "lw": 0.8})  # fmt: skip
    x0, y0, x1, y1 = cells.total_bounds
    pad = 0.02 * max(x1 - x0, y1 - y0)
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y0 - pad, y1 + pad)
    ax.set_aspect("equal")
    ax.set_axis_off()
    _districts(ax, layers, (x0, y0, x1, y1))
    _scalebar(ax, x0, y0, x1 - x0, lang)
    for spec in specs:
        cls = classes_for(spec, cells[spec.column], lang)
        if shading is not None:
            colours = np.array([*cls.colours, NO_ACCESS])
            codes = np.where(cls.codes < 0, len(cls.colours), cls.codes)
            shading.set_facecolor(colours[codes].tolist())
        ax.set_title(spec.title, fontsize=11, loc="left")
        handles = [Patch(facecolor=c, edgecolor="#999", label=t)
                   for c, t in zip(cls.colours, cls.labels, strict=True)]  # fmt: skip
        handles.append(Patch(facecolor=NO_ACCESS, edgecolor="#999",
                             label=lang._("not scored (no street)")))  # fmt: skip
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8,
                  frameon=False, title=spec.unit or None, title_fontsize=8)  # fmt: skip
        yield fig


def _districts(ax: Any, layers: Mapping[str, gpd.GeoDataFrame], box: tuple[float, ...]) -> None:
    """District names at their centres (names are data: plain text, no mathtext)."""
    from rakennettu._console import console_text

    d = layers.get("districts")
    if d is None or not len(d) or "name" not in d:
        return
    pts = d.geometry.representative_point()
    for p, name in zip(pts, d["name"], strict=True):
        if isinstance(name, str) and name and box[0] <= p.x <= box[2] and box[1] <= p.y <= box[3]:
            ax.text(p.x, p.y, console_text(name).upper(), fontsize=7, color="#444", ha="center",
                    va="center", zorder=4.5, parse_math=False, alpha=0.85,
                    bbox={"fc": "white", "ec": "none", "alpha": 0.5, "pad": 0.5})  # fmt: skip


def _scalebar(ax: Any, x0: float, y0: float, width: float, lang: Language) -> None:
    target = width / 5
    nice = 10 ** math.floor(math.log10(target)) if target > 0 else 1
    for m in (5, 2, 1):
        if m * nice <= target:
            nice *= m
            break
    ax.plot([x0, x0 + nice], [y0, y0], color="#222", lw=2, zorder=6)
    label = f"{fmt(nice / 1000, lang)} km" if nice >= 1000 else f"{fmt(nice, lang)} m"
    ax.annotate(label, (x0 + nice / 2, y0), xytext=(0, 3), textcoords="offset points",
                ha="center", va="bottom", fontsize=7, zorder=6)  # fmt: skip


def tick_format(lang: Language) -> FuncFormatter:
    r"""Axis tick labels in ``lang``'s number format (Finnish: decimal comma, space).

    Examples
    --------
    >>> from rakennettu.i18n import language
    >>> f = tick_format(language("fi"))
    >>> [f(v) for v in (0.30000000000000004, 2500.0, -0.0)]
    ['0,3', '2\xa0500', '0']
    """

    def say(value: float, _pos: Any = None) -> str:
        return lang.number(0.0 if abs(value) < 1e-12 else value, 6)

    return FuncFormatter(say)


def _distributions(
    cells: gpd.GeoDataFrame, specs: Sequence[CellLayer], lang: Language
) -> Figure | None:
    chosen = [s for s in specs if s.column == "synergy" or not s.fixed]
    chosen = [s for s in chosen if pd.to_numeric(cells[s.column], errors="coerce").notna().any()]
    if not chosen:
        return None
    n = len(chosen)
    cols = 2 if n > 1 else 1
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(8, 2.6 * rows), dpi=100, layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, spec in zip(axes, chosen, strict=False):
        x = pd.to_numeric(cells[spec.column], errors="coerce").dropna().to_numpy(dtype=float)
        ax.hist(x, bins=min(30, max(5, len(np.unique(x)))), color="#2c7fb8", edgecolor="white",
                linewidth=0.4)  # fmt: skip
        med = float(np.median(x))
        ax.axvline(med, color="#d95f02", lw=1.2)
        title = lang._("{what} (median {value})", what=spec.title, value=fmt(med, lang))
        ax.set_title(title, fontsize=9, loc="left")
        ax.set_xlabel(spec.unit, fontsize=8)
        ax.set_ylabel(lang._("hexagons"), fontsize=8)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.xaxis.set_major_formatter(tick_format(lang))
        ax.yaxis.set_major_formatter(tick_format(lang))
        ax.tick_params(labelsize=7)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    for ax in axes[n:]:
        ax.set_axis_off()
    return fig


# ------------------------------------------------------------------------ sections
# Each returns the data its section of the template shows (plain values, no HTML); the
# text-only sections are in report_text.py.


def _candidates(
    layers: Mapping[str, gpd.GeoDataFrame],
    record: Mapping[str, Any] | None,
    lang: Language,
    near: dict[str, SiteNear] | None = None,
) -> dict[str, Any]:
    cands = layers.get("candidates")
    found = 0 if cands is None else len(cands)
    ranked = 0
    if cands is not None and "rank" in cands:
        ranked = int(cands["rank"].notna().sum())
    return {
        "found": found,
        "ranked": lang.integer(ranked),
        "cards": site_cards(layers, record, lang, top=_TOP, near=near) if ranked else [],
        "unmapped": _unmapped(layers, lang),
    }


def _text(v: Any) -> str:
    return v if isinstance(v, str) else ""


def _unmapped(layers: Mapping[str, gpd.GeoDataFrame], lang: Language) -> list[dict[str, str]]:
    """The empty blocks left out as probable mapping gaps, largest first."""
    gaps = layers.get("possibly_unmapped")
    if gaps is None or not len(gaps):
        return []
    gaps = gaps.assign(_a=gaps.geometry.area).sort_values("_a", ascending=False)
    return [
        {
            "reason": reason_words(r.get("reason"), lang),
            "district": _text(r.get("district")),
            "area": area_words(lang, r["_a"]),
            "where": _text(r.get("provenance")),
        }
        for _, r in gaps.iterrows()
    ]


def _maps(layers: Mapping[str, gpd.GeoDataFrame], lang: Language) -> dict[str, Any]:
    cells = layers.get("cells")
    if cells is None or not len(cells):
        return {"message": lang._("No analysis hexagons in this run.")}
    fixed = [s for s in cell_layers(cells, lang) if s.fixed]
    if not fixed:
        return {"message": lang._("The hexagons carry no scores in this run.")}
    cands = layers.get("candidates")
    table = candidate_table(cands) if cands is not None and len(cands) else None
    numbered = table is not None and "rank" in table and table["rank"].notna().any()
    figures = []
    for s, fig in zip(fixed, _map_figures(layers, cells, fixed, lang=lang, candidates=table),
                      strict=True):  # fmt: skip
        caption = s.description
        if numbered:
            caption += " " + lang._("Numbers: the top sites by rank (their cards above).")
        figures.append({"data": _png(fig), "alt": s.title, "caption": caption})
    return {"message": "", "figures": figures}


def _distribution_section(layers: Mapping[str, gpd.GeoDataFrame], lang: Language) -> dict[str, Any]:
    cells = layers.get("cells")
    if cells is None or not len(cells):
        return {"message": lang._("No analysis hexagons in this run.")}
    specs = cell_layers(cells, lang)
    fig = _distributions(cells, specs, lang)
    if fig is None:
        return {"message": lang._("No key indicators in this run.")}
    rows = []
    for s in specs:
        x = pd.to_numeric(cells[s.column], errors="coerce").dropna()
        if len(x):
            q = x.quantile([0.05, 0.5, 0.95])
            rows.append([s.title, *(fmt(q[k], lang) for k in (0.05, 0.5, 0.95)),
                         lang.integer(len(x))])  # fmt: skip
    docs = report_text.indicator_notes(list(cells.columns), lang)
    return {"message": "", "figure": _png(fig), "rows": rows, "docs": docs}


# ----------------------------------------------------------------------- the page


def build_report(
    layers: Mapping[str, gpd.GeoDataFrame],
    record: Mapping[str, Any] | None = None,
    *,
    language: str | None = None,
) -> str:
    """The report of a run as one self-contained HTML page.

    The page is the template ``outputs/templates/report.html.j2``; this function only
    gathers the values it shows, and the template escapes each of them once.

    Parameters
    ----------
    layers
        The run's frames by layer name (as in ``vitality.gpkg``), in the town's metric CRS;
        any may be missing.
    record
        The run record (:func:`rakennettu.outputs.record.run_record`).
    language
        The language of the first page (default: the record's, else English).

    Returns
    -------
    str
        The page; save it with :func:`write_report`.

    Examples
    --------
    >>> from shapely import Point
    >>> cells = gpd.GeoDataFrame({"synergy": [0.2, 0.8], "access": ["nodes", "none"]},
    ...     geometry=[Point(0, 0).buffer(50, 3), Point(100, 0).buffer(50, 3)], crs=3067)
    >>> page = build_report({"cells": cells}, {"town": {"title": "A <b>town</b>"}})
    >>> "A &lt;b&gt;town&lt;/b&gt;" in page and 'id="caveats"' in page
    True
    """
    lang = get_language(language or _get(record, "language") or "en")
    near: dict[str, SiteNear] = {}  # each site's map data, for its map on both pages
    return render(
        "report.html.j2",
        **words(lang),
        lang=lang.code,
        header=_header(record, lang),
        first_page=first_page(layers, record, lang, near=near),
        title=_get(record, "town", "title") or _get(record, "town", "name") or lang._("Town"),
        version=__version__,
        sections=[(sid, lang._(heading)) for sid, heading in SECTIONS],
        data=report_text.data_gaps(record, lang),
        summary=report_text.summary(layers, record, lang),
        method=report_text.method(record, lang),
        candidates=_candidates(layers, record, lang, near),
        maps=_maps(layers, lang),
        distributions=_distribution_section(layers, lang),
        robustness=report_text.robustness(layers, record, lang),
        caveats=report_text.caveats(layers, record, lang),
        run=report_text.appendix(record, lang),
    )


def _header(record: Mapping[str, Any] | None, lang: Language) -> dict[str, str]:
    title = _get(record, "town", "title") or _get(record, "town", "name") or lang._("Town")
    sub = lang._("Vitality report · rakennettu {version}", version=__version__)
    created = _get(record, "created")
    if created:
        sub += " · " + lang._("run {date}", date=lang.date(str(created)))
    data_date = _get(record, "osm_data_date")
    if data_date:
        sub += " · " + lang._("OpenStreetMap data of {date}", date=lang.date(str(data_date)))
    return {"title": lang._("{town}: vitality report", town=title), "sub": sub}


def write_report(html: str, path: str | Path) -> Path:
    """Write the report, atomically (the previous file stays until the page is complete)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(html, encoding="utf-8")
    return path
