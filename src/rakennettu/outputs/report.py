"""The report (``report.html``): one self-contained page a planner can read and archive.

:func:`build_report` writes what was analysed (area, data sources with licences,
counts), the method in a few paragraphs, the top candidate sites with their breakdowns and
rank intervals, maps of the synergy index and of each dimension and distributions of the
key indicators (matplotlib, embedded as PNG), the ranking's sensitivity and stability, the
caveats the data call for (unknown building ages and floors, edge effects, cells without
access), and the run's versions, timings and input hashes.

Every text that comes from data or from the run record is escaped; the page loads
nothing from elsewhere.
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
from rakennettu.naming import DIMENSIONS
from rakennettu.outputs._common import (
    DIMENSION_TEXT,
    DIMENSION_WORDS,
    NO_ACCESS,
    CellLayer,
    candidate_table,
    cell_layers,
    classes_for,
    esc,
    fmt,
    key_indicators,
    program_text,
    record_sources,
    site_title,
)
from rakennettu.outputs.map import OSM_ATTRIBUTION_HTML, bars_html
from rakennettu.outputs.record import sensitivity_frame

__all__ = ["SECTIONS", "build_report", "write_report"]

#: The report's sections: (id, heading).
SECTIONS: tuple[tuple[str, str], ...] = (
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

_CSS = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
  color: #222; margin: 0; background: #fafaf8; }
main { max-width: 980px; margin: 0 auto; padding: 24px 28px 60px; background: #fff; }
h1 { margin: 0 0 4px; font-size: 28px; } h2 { margin-top: 36px; border-bottom: 2px solid #ddd;
  padding-bottom: 4px; } h3 { margin-bottom: 4px; }
.sub { color: #666; margin: 0; }
nav ol { columns: 2; padding-left: 20px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 4px 8px; text-align: left;
  vertical-align: top; }
th { background: #f3f3f1; } td.num, th.num { text-align: right; white-space: nowrap; }
td.why { font-size: 12px; max-width: 380px; }
figure { margin: 12px 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 13px; }
.maps { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
.note { background: #f6f6ee; border-left: 4px solid #c9c28a; padding: 6px 12px; }
.rk-bars { min-width: 200px; }
.rk-bars div.rk-barrow { display: flex; align-items: center; font-size: 11px; margin: 1px 0; }
.rk-bars span.rk-barlabel { width: 92px; flex: none; }
.rk-bars span.rk-bartrack { flex: 1; background: #eee; height: 10px; margin: 0 6px;
  position: relative; }
.rk-bars span.rk-barfill { position: absolute; left: 0; top: 0; bottom: 0; }
.rk-bars span.rk-barvalue { width: 30px; text-align: right; flex: none; }
code { font-size: 12px; word-break: break-all; }
footer { margin-top: 40px; color: #666; font-size: 13px; }
@media print { body { background: #fff; } main { max-width: none; } h2 { break-after: avoid; }
  figure, tr { break-inside: avoid; } }
"""


# ------------------------------------------------------------------- small helpers


def _get(record: Mapping[str, Any] | None, *keys: str, default: Any = None) -> Any:
    node: Any = record or {}
    for k in keys:
        if not isinstance(node, Mapping) or k not in node:
            return default
        node = node[k]
    return default if node is None else node


def _table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    num: Sequence[int] = (),
    classes: Mapping[int, str] | None = None,
) -> str:
    """An HTML table; cells are HTML already (escape data before)."""
    cls = {i: "num" for i in num} | dict(classes or {})

    def cell(tag: str, i: int, c: str) -> str:
        return f'<{tag} class="{cls[i]}">{c}</{tag}>' if i in cls else f"<{tag}>{c}</{tag}>"

    th = "".join(cell("th", i, h) for i, h in enumerate(header))
    body = "".join(
        "<tr>" + "".join(cell("td", i, c) for i, c in enumerate(row)) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


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


def _img(data: str, alt: str, caption: str) -> str:
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{esc(alt)}">'
        f"<figcaption>{caption}</figcaption></figure>"
    )


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


def _summary(layers: Mapping[str, gpd.GeoDataFrame], record: Mapping[str, Any] | None) -> str:
    area = _get(record, "town", "area_km2")
    crs = _get(record, "town", "crs")
    radii = _get(record, "workflow", "network", "radii")
    cell = _get(record, "workflow", "synthesis", "cell_size")
    facts = []
    if area is not None:
        facts.append(f"a study area of <b>{fmt(area)} km²</b>")
    if crs:
        facts.append(f"in {esc(crs)}")
    if radii:
        facts.append(f"walking radii of {esc(', '.join(str(r) for r in radii))} m")
    if cell:
        facts.append(f"hexagons of {fmt(cell)} m a side")
    intro = f"<p>The run covered {', '.join(facts)}.</p>" if facts else ""
    counts = dict(_get(record, "counts", default={}))
    for name, gdf in layers.items():
        counts.setdefault(name, len(gdf))
    rows = [[esc(k), f"{int(v):,}"] for k, v in counts.items() if v is not None]
    parts = [intro, "<h3>Layers</h3>", _table(["layer", "rows"], rows, num=(1,))]
    sources = record_sources(record)
    parts.append("<h3>Data sources</h3>")
    if sources:
        srows = [
            [esc(s.get("role", "")), f"<code>{esc(s.get('source', ''))}</code>",
             esc(s.get("licence", "")) or "<i>not stated</i>"]
            for s in sources
        ]  # fmt: skip
        parts.append(_table(["role", "source", "licence"], srows))
    else:
        parts.append("<p>The run record lists no sources.</p>")
    parts.append(
        f"<p>Map data {OSM_ATTRIBUTION_HTML}. Municipal data as licensed by their "
        "publishers (above).</p>"
    )
    return "".join(parts)


def _method(record: Mapping[str, Any] | None) -> str:
    wf = _get(record, "workflow", default={})
    weights = _get(wf, "synthesis", "weights", default={}) or {}
    radii = _get(wf, "network", "radii", default=[400, 800, 1200])
    norm = _get(wf, "synthesis", "normalise", default="percentile")
    cand = _get(wf, "candidates", default={}) or {}
    w = ", ".join(f"{DIMENSION_WORDS[d].lower()} {fmt(weights[d])}" for d in DIMENSIONS
                  if d in weights)  # fmt: skip
    norm_text = (
        "its percentile rank among the town's hexagons (0 the lowest, 1 the highest)"
        if norm == "percentile"
        else "a robust z-score (distance from the median in median absolute deviations) "
        "mapped to 0–1 through the normal distribution"
    )
    dims = "".join(f"<li><b>{DIMENSION_WORDS[d]}</b>: {esc(DIMENSION_TEXT[d])}.</li>"
                   for d in DIMENSIONS)  # fmt: skip
    draws = cand.get("draws", 1000)
    kappa = cand.get("kappa", 30)
    ctx = cand.get("context_weight")
    ctx_text = (
        f" The score blends in the vitality around the site with weight {fmt(ctx)}." if ctx else ""
    )
    return (
        "<p>A place has vitality where three dimensions of the built environment reinforce "
        "each other (after the EDGE lab's method for Finnish municipal development plans):</p>"
        f"<ul>{dims}</ul>"
        "<p>Every indicator is computed over the pedestrian street network from OpenStreetMap "
        f"and municipal data, at network radii of {esc(', '.join(map(str, radii)))} m, and "
        "carried to a grid of hexagons from the street nodes in or next to each. The raw "
        "values, with their units, are kept in <code>vitality.gpkg</code>.</p>"
        f"<p><b>Normalisation.</b> Each indicator is replaced by {norm_text}. A dimension's "
        "score is the weighted mean of its normalised indicators, again 0–1.</p>"
        "<p><b>Synergy.</b> The synergy index is the weighted <i>geometric</i> mean of the "
        "three dimension scores"
        + (f" (weights: {esc(w)})" if w else "")
        + ". It is high only where all three are high together: a place strong in one "
        "dimension alone scores less than one moderately strong in all three. Hexagons with "
        "no street within reach are not scored.</p>"
        "<p><b>Leverage.</b> Each candidate site (brownfield, surface parking, vacant or "
        "disused land and buildings from OSM, the planner's own sites, large empty blocks) "
        "gets a simulated development program: new activities and a third place and, on "
        "large sites, new pedestrian links across it. Only the affected part of the network "
        "is recomputed, and the gains for the people around the site are measured in each "
        "dimension (access to activities and their variety, residents gaining a daily "
        "service or a third place, closeness and through-movement from the new links, the "
        "floor-area gap to the surroundings). The gains are normalised across the sites and "
        "combined like the synergy index, so a site ranks high when it helps in all three "
        f"dimensions.{ctx_text}</p>"
        "<p><b>Rank intervals.</b> The dimension weights are drawn "
        f"{fmt(draws)} times from a Dirichlet distribution around the configured ones "
        f"(concentration {fmt(kappa)}); each site's rank interval is the 5th to 95th "
        "percentile of its rank over the draws. A narrow interval means the place of the "
        "site does not hinge on the exact weights.</p>"
    )


def _candidates(layers: Mapping[str, gpd.GeoDataFrame]) -> str:
    cands = layers.get("candidates")
    if cands is None or not len(cands):
        return "<p>No candidate sites were found or given.</p>"
    table = candidate_table(cands)
    if "rank" not in table or not table["rank"].notna().any():
        return (
            f"<p>{len(table)} candidate sites were found; they have not been ranked in this "
            "run.</p>"
        )
    top = table[table["rank"].notna()].head(_TOP)
    rows = []
    for cid, r in top.iterrows():
        kind = str(r.get("kind", "") or "").replace("_", " ")
        site = f"<b>{esc(site_title(cid, r))}</b><br><small>{esc(cid)} · {esc(kind)}</small>"
        if pd.notna(r.get("rank_p05")) and pd.notna(r.get("rank_p95")):
            interval = f"{int(r['rank_p05'])}–{int(r['rank_p95'])}"
        else:
            interval = "–"
        bars = bars_html({d: r.get(f"gain_{d}", float("nan")) for d in DIMENSIONS})
        why = esc(r.get("why")) if isinstance(r.get("why"), str) else ""
        prog = esc(program_text(r))
        rows.append([str(int(r["rank"])), site, fmt(r.get("score")), interval, bars,
                     f"{why}<br><small>Simulated: {prog}</small>" if prog else why])  # fmt: skip
    html = _table(["rank", "site", "score", "rank interval (5–95%)", "gains by dimension",
                   "why"], rows, num=(0, 2, 3), classes={5: "why"})  # fmt: skip
    return (
        f"<p>The {len(top)} sites with the highest leverage, of {int(table['rank'].notna().sum())}"
        " ranked. The score is 0–1; the bars show each dimension's normalised gain. The "
        "map (<code>map.html</code>) shows every site with its full breakdown and the raw "
        f"gains with units.</p>{html}"
    )


def _maps(layers: Mapping[str, gpd.GeoDataFrame]) -> str:
    cells = layers.get("cells")
    if cells is None or not len(cells):
        return "<p>No analysis hexagons in this run.</p>"
    specs = cell_layers(cells)
    fixed = [s for s in specs if s.fixed]
    if not fixed:
        return "<p>The hexagons carry no scores in this run.</p>"
    cands = layers.get("candidates")
    table = candidate_table(cands) if cands is not None and len(cands) else None
    figs = []
    for s in fixed:
        fig = _map_figure(layers, cells, s, candidates=table if s.column == "synergy" else None)
        caption = esc(s.description)
        if s.column == "synergy" and table is not None and "rank" in table:
            caption += " Numbers: the top candidate sites by rank."
        figs.append(_img(_png(fig), s.title, caption))
    return f'<div class="maps">{"".join(figs)}</div>'


def _distribution_section(layers: Mapping[str, gpd.GeoDataFrame]) -> str:
    cells = layers.get("cells")
    if cells is None or not len(cells):
        return "<p>No analysis hexagons in this run.</p>"
    specs = cell_layers(cells)
    fig = _distributions(cells, specs)
    if fig is None:
        return "<p>No key indicators in this run.</p>"
    rows = []
    for s in specs:
        x = pd.to_numeric(cells[s.column], errors="coerce").dropna()
        if not len(x):
            continue
        q = x.quantile([0.05, 0.5, 0.95])
        rows.append([esc(s.title), esc(s.unit), fmt(q[0.05]), fmt(q[0.5]), fmt(q[0.95]),
                     f"{len(x):,}"])  # fmt: skip
    keys = key_indicators(list(cells.columns))
    docs = "".join(
        f"<li><code>{esc(c)}</code> ({esc(d.unit)}): {esc(d.definition)}</li>"
        for c, _, d in keys
        if d is not None
    )
    return (
        _img(_png(fig), "distributions", "Over the hexagons with street access; orange: median.")
        + _table(["measure", "unit", "5%", "median", "95%", "hexagons"], rows, num=(2, 3, 4, 5))
        + (f"<ul>{docs}</ul>" if docs else "")
    )


def _robustness(layers: Mapping[str, gpd.GeoDataFrame], record: Mapping[str, Any] | None) -> str:
    parts = []
    stab = _get(record, "ranking", "stability")
    if stab is not None:
        parts.append(
            f"<p><b>Rank stability: {fmt(stab)}.</b> When the dimension weights vary around "
            f"the configured ones, on average {100 * float(stab):.0f}% of the top ten stay in "
            "the top ten. Above 0.8 the short list hardly depends on the exact weights; below "
            "0.5 it does, and the weights deserve a discussion.</p>"
        )
    sens = sensitivity_frame(record) if record else None
    if sens is not None and len(sens):
        names: dict[str, str] = {}
        cands = layers.get("candidates")
        if cands is not None and len(cands):
            t = candidate_table(cands)
            if "name" in t:
                names = {str(i): n for i, n in t["name"].items() if isinstance(n, str) and n}
        header = ["site"] + [
            "rank" if c == "rank" else "without " + DIMENSION_WORDS.get(
                str(c).removeprefix("rank_without_"), str(c)).lower()
            for c in sens.columns
        ]  # fmt: skip
        rows = []
        for idx, row in sens.iterrows():
            label = (
                f"<i>kept in the top {len(sens) - 1}</i>"
                if idx == "kept_in_top"
                else esc(idx) + (f" <small>{esc(names[str(idx)])}</small>" if str(idx) in names
                                 else "")
            )  # fmt: skip
            rows.append([label] + [fmt(v) for v in row])
        parts.append(
            "<p>The top sites' ranks when each dimension is left out in turn (its weight set "
            "to 0). A site that falls far without one dimension owes its place to it.</p>"
            + _table(header, rows, num=tuple(range(1, len(header))))
        )
    if not parts:
        parts.append("<p>No ranking figures in this run.</p>")
    return "".join(parts)


def _caveats(layers: Mapping[str, gpd.GeoDataFrame], record: Mapping[str, Any] | None) -> str:
    items = []
    b = layers.get("buildings")
    if b is not None and len(b):
        n = len(b)
        if "year" in b:
            unknown = int(pd.to_numeric(b["year"], errors="coerce").isna().sum())
            items.append(
                f"<b>{_share(unknown, n)}</b> of the {n:,} buildings have no known year of "
                "construction, so the building-age measures rest on the rest."
            )
        if "morph_floors_source" in b:
            assumed = int(b["morph_floors_source"].astype(str).eq("assumed").sum())
        elif "floors" in b:
            h = b["height"] if "height" in b else pd.Series(np.nan, index=b.index)
            assumed = int((b["floors"].isna() & h.isna()).sum())
        else:
            assumed = -1
        if assumed >= 0:
            items.append(
                f"<b>{_share(assumed, n)}</b> of the buildings have neither floors nor height: "
                "their floors are assumed, so floor areas (and the residents and jobs drawn "
                "from them) are estimates there."
            )
    cells = layers.get("cells")
    if cells is not None and len(cells) and "access" in cells:
        none = int(cells["access"].astype(str).eq("none").sum())
        items.append(
            f"<b>{none:,}</b> of the {len(cells):,} hexagons ({_share(none, len(cells))}) have "
            "no street within reach (water, large yards, rail areas): they are not scored, "
            "rather than scored as poor."
        )
    items.append(_edge_effects(layers, record))
    for name, what in (("landmarks", "landmarks or heritage sites"),
                       ("third_places", "third places"), ("activities", "activities")):  # fmt: skip
        g = layers.get(name)
        if g is not None and len(g) == 0:
            items.append(
                f"No {what} were found in the data: the measures built on them are zero "
                "everywhere and carry no information; add a municipal layer if they exist."
            )
    items.append(
        "OpenStreetMap is as complete as its mappers have made it: shops, cafés and "
        "building attributes are often missing in small towns, which lowers the social and "
        "cultural scores there without any real difference on the ground."
    )
    warns = _get(record, "warnings", default=[])
    if warns:
        items.append(
            "Warnings during the run: <ul>" + "".join(f"<li>{esc(w)}</li>" for w in warns)
            + "</ul>"
        )  # fmt: skip
    return "<ul>" + "".join(f"<li>{i}</li>" for i in items if i) + "</ul>"


def _edge_effects(layers: Mapping[str, gpd.GeoDataFrame], record: Mapping[str, Any] | None) -> str:
    radii = _get(record, "workflow", "network", "radii", default=None)
    r = float(max(radii)) if radii else 800.0
    nodes = layers.get("nodes")
    cells = layers.get("cells")
    beyond = nodes is not None and "in_area" in nodes and not nodes["in_area"].astype(bool).all()
    if beyond:
        return (
            f"Edge effects: the network and places were loaded up to {fmt(r)} m beyond the "
            "study area, so values near its boundary are not cut short, unless the data "
            "themselves end there."
        )
    if cells is None or not len(cells):
        return ""
    area = shapely.union_all(cells.geometry.to_numpy())
    near = cells.geometry.centroid.distance(area.boundary) < r
    return (
        f"Edge effects: nothing beyond the study area was loaded (the data end there), so "
        f"network measures within {fmt(r)} m of its boundary are understated. That is "
        f"<b>{_share(int(near.sum()), len(cells))}</b> of the hexagons here; read the scores "
        "near the edge with care."
    )


def _run(record: Mapping[str, Any] | None) -> str:
    if not record:
        return "<p>No run record.</p>"
    parts = []
    vers = [("rakennettu", _get(record, "rakennettu")), ("Python", _get(record, "python"))]
    vers += list((_get(record, "libraries", default={}) or {}).items())
    vers += list((_get(record, "versions", default={}) or {}).items())
    rows = [[esc(k), esc(v) if v else "<i>not installed</i>"] for k, v in vers]
    parts.append("<h3>Versions</h3>" + _table(["package", "version"], rows))
    timings = _get(record, "timings_s", default={}) or {}
    if timings:
        rows = [[esc(k), f"{float(v):.2f}"] for k, v in timings.items() if v is not None]
        parts.append("<h3>Timings</h3>" + _table(["stage", "seconds"], rows, num=(1,)))
    inputs = _get(record, "inputs", default=[]) or []
    if inputs:
        rows = [
            [esc(i.get("name")), f"<code>{esc(i.get('path'))}</code>",
             f"{int(i.get('bytes', 0)):,}", f"<code>{esc(i.get('sha256'))}</code>"]
            for i in inputs
        ]  # fmt: skip
        parts.append("<h3>Input files</h3>" + _table(["input", "path", "bytes", "sha256"], rows,
                                                      num=(2,)))  # fmt: skip
    wf_file = _get(record, "workflow_file")
    if wf_file:
        parts.append(f"<p>Workflow file: <code>{esc(wf_file)}</code>. The resolved settings "
                     "are in <code>run.json</code>.</p>")  # fmt: skip
    return "".join(parts)


# ----------------------------------------------------------------------- the page


def build_report(
    layers: Mapping[str, gpd.GeoDataFrame], record: Mapping[str, Any] | None = None
) -> str:
    """The report of a run as one self-contained HTML page.

    Parameters
    ----------
    layers
        The run's frames by layer name (as in ``vitality.gpkg``), in the town's metric CRS;
        any may be missing.
    record
        The run record (:func:`rakennettu.outputs.record.run_record`).

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
    title = _get(record, "town", "title") or _get(record, "town", "name") or "Town"
    created = str(_get(record, "created", default=""))[:10]
    body = {
        "summary": _summary(layers, record),
        "method": _method(record),
        "candidates": _candidates(layers),
        "maps": _maps(layers),
        "distributions": _distribution_section(layers),
        "robustness": _robustness(layers, record),
        "caveats": _caveats(layers, record),
        "run": _run(record),
    }
    nav = "".join(f'<li><a href="#{sid}">{esc(h)}</a></li>' for sid, h in SECTIONS)
    sections = "".join(
        f'<section id="{sid}"><h2>{esc(h)}</h2>{body[sid]}</section>' for sid, h in SECTIONS
    )
    sub = f"Vitality report · rakennettu {esc(__version__)}" + (
        f" · run {esc(created)}" if created else ""
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}: vitality report</title><style>{_CSS}</style></head>"
        f'<body><main><header><h1>{esc(title)}</h1><p class="sub">{sub}</p></header>'
        f"<nav><ol>{nav}</ol></nav>{sections}"
        f"<footer>Map data {OSM_ATTRIBUTION_HTML}. Made with rakennettu "
        f"{esc(__version__)}.</footer></main></body></html>\n"
    )


def write_report(html: str, path: str | Path) -> Path:
    """Write the report, atomically (the previous file stays until the page is complete)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(html, encoding="utf-8")
    return path
