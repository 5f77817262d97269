"""The report's first page: what a council needs to decide, in the reader's language.

The town, the date of the data, the five best sites (each with a small map with the
streets named, what is there now, what to build and why in two or three sentences) and
the main caveats of the data. The page is the template ``first_page.html.j2``; this
module gathers its values, every text already in the chosen language (the report's
template includes the page and escapes them).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure

from rakennettu._console import console_text
from rakennettu.i18n import N_, Language, kind_words
from rakennettu.outputs._common import candidate_table
from rakennettu.outputs._figures import lines, palette_png, rings, rings_of
from rakennettu.outputs.labels import street_labels
from rakennettu.outputs.words import simulated_program, site_heading, why_sentences
from rakennettu.wording import flag_words, now_words

__all__ = [
    "TOP",
    "SiteNear",
    "area_words",
    "first_page",
    "site_cards",
    "site_map",
    "site_near",
]

TOP = 5  # sites on the first page
_HALF = 160.0  # m: half the side of a site map (at least)


def _png(fig: Figure) -> str:
    with warnings.catch_warnings():  # a name in a script the font lacks: drawn as boxes
        warnings.filterwarnings(
            "ignore", message="Glyph .* missing from font", category=UserWarning
        )
        # a 64-colour palette: a third of the size, same look
        return palette_png(fig, colors=64, dpi=100)


@dataclass(frozen=True)
class SiteNear:
    """What a site's small map shows: its window and the layers' parts within it.

    Attributes
    ----------
    window
        ``(minx, miny, maxx, maxy)`` in the layers' CRS (metres).
    polygons
        Water, green areas and buildings, in drawing order: each a list of rings and
        its face colours.
    streets
        The street lines, or None without streets.
    labels
        One label per street name, nearest the site first: ``(x, y, name, angle)``.
    """

    window: tuple[float, float, float, float]
    polygons: list[tuple[list[np.ndarray], Any]]
    streets: list[np.ndarray] | None
    labels: list[tuple[float, float, str, float]]


def site_near(layers: Mapping[str, gpd.GeoDataFrame], site: Any) -> SiteNear:
    """Select what the small map of ``site`` shows (see :func:`site_map`).

    Examples
    --------
    >>> from shapely import Point, box
    >>> near = site_near({"buildings": gpd.GeoDataFrame(geometry=[box(0, 0, 10, 10),
    ...     box(900, 900, 910, 910)], crs=3067)}, Point(5, 5).buffer(20))
    >>> near.window, [len(rings) for rings, _ in near.polygons], near.streets
    ((-203.0, -155.0, 213.0, 165.0), [1], None)
    """
    minx, miny, maxx, maxy = site.bounds
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    half = max(_HALF, 0.75 * max(maxx - minx, maxy - miny))
    window = (cx - 1.3 * half, cy - half, cx + 1.3 * half, cy + half)
    x, y = slice(window[0], window[2]), slice(window[1], window[3])
    polygons: list[tuple[list[np.ndarray], Any]] = []
    for name, colour in (("sea", "#cfe1f2"), ("green_blue", None), ("buildings", "#b5b5b5")):
        g = layers.get(name)
        if g is None or not len(g):
            continue
        if colour is None:  # green areas and water by category
            g = g[[c for c in ("category", g.geometry.name) if c in g]].cx[x, y]
            cat = g["category"].astype(str) if "category" in g else pd.Series("green", g.index)
            shapes, of = rings_of(g.geometry)  # a multipolygon has a ring per part
            colours = np.where(cat.eq("blue"), "#cfe1f2", "#dbe9d0")[of]
            polygons.append((shapes, list(colours)))
        else:
            polygons.append((rings(g.geometry.cx[x, y]), colour))
    edges = layers.get("edges")
    streets, labels = None, []
    if edges is not None and len(edges):
        near = edges[[c for c in ("name", edges.geometry.name) if c in edges]].cx[x, y]
        streets = lines(near.geometry)
        inside = street_labels(near, spacing=120).cx[x, y]
        # One label per street: the one nearest the site.
        inside = inside.assign(d=inside.distance(site)).sort_values("d", kind="stable")
        inside = inside.drop_duplicates("name")
        labels = [(p.x, p.y, str(name), angle)
                  for p, name, angle in zip(inside.geometry, inside["name"], inside["angle"],
                                            strict=True)]  # fmt: skip
    return SiteNear(window, polygons, streets, labels)


def site_map(
    layers: Mapping[str, gpd.GeoDataFrame],
    site: Any,
    rank: int,
    *,
    size: tuple[float, float] = (3.4, 2.6),
    near: SiteNear | None = None,
) -> Figure:
    """A small map of one site: water, green, buildings, named streets, the site outlined.

    ``size`` is the figure's width and height in inches (100 pixels each); ``near`` what
    :func:`site_near` selected for the site (selected here when not given).
    """
    near = near if near is not None else site_near(layers, site)
    window = near.window
    minx, miny, maxx, maxy = site.bounds
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    fig = Figure(figsize=size, dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    for polygon_rings, colours in near.polygons:
        ax.add_collection(PolyCollection(polygon_rings, facecolors=colours))
    if near.streets is not None:
        ax.add_collection(LineCollection(near.streets, colors="#777", linewidths=0.8))
    for px, py, name, angle in near.labels:
        # A name is data: plain text (no mathtext), one line, no control characters.
        ax.text(px, py, console_text(name), rotation=-angle, fontsize=6.5, style="italic",
                color="#222", ha="center", va="center", rotation_mode="anchor",
                parse_math=False,
                bbox={"fc": "white", "ec": "none", "alpha": 0.6, "pad": 0.3})  # fmt: skip
    outline = gpd.GeoSeries([site])
    if site.geom_type in ("Polygon", "MultiPolygon"):
        ax.add_collection(PolyCollection(rings(outline), facecolors="#e7298a33",
                                         edgecolors="#c51b7d", linewidths=2.2))  # fmt: skip
    else:
        ax.plot([cx], [cy], "o", ms=10, mfc="#e7298a55", mec="#c51b7d", mew=2)
    ax.annotate(str(rank), (cx, maxy), xytext=(0, 12), textcoords="offset points", ha="center",
                fontsize=9, fontweight="bold", color="white",
                bbox={"boxstyle": "circle,pad=0.3", "fc": "#222", "ec": "white"})  # fmt: skip
    ax.set_xlim(window[0], window[2])
    ax.set_ylim(window[1], window[3])
    ax.set_aspect("equal")
    ax.set_axis_off()
    return fig


def area_words(lang: Language, m2: Any) -> str:
    """An area in m² below a hectare, else in hectares, in ``lang``'s format ("" for none).

    Examples
    --------
    >>> from rakennettu.i18n import language
    >>> area_words(language("fi"), 535.2), area_words(language("en"), 23_456)
    ('535 m²', '2.3 ha')
    """
    try:
        v = float(m2)
    except (TypeError, ValueError):
        return ""
    if not np.isfinite(v):
        return ""
    if v < 10_000:
        return lang._("{area} m²", area=lang.integer(v))
    return lang._("{area} ha", area=lang.number(v / 10_000, 1))


def _near(
    layers: Mapping[str, gpd.GeoDataFrame], site: Any, cid: Any, known: dict[str, SiteNear] | None
) -> SiteNear:
    """:func:`site_near`, kept in ``known`` by site id (the first page and the cards share)."""
    if known is None:
        return site_near(layers, site)
    if str(cid) not in known:
        known[str(cid)] = site_near(layers, site)
    return known[str(cid)]


def _sites(
    layers: Mapping[str, gpd.GeoDataFrame],
    record: Mapping[str, Any] | None,
    lang: Language,
    near: dict[str, SiteNear] | None = None,
) -> list[dict[str, Any]]:
    cands = layers.get("candidates")
    if cands is None or not len(cands):
        return []
    table = candidate_table(cands)
    if "rank" not in table:
        return []
    links = layers.get("candidate_links")
    n_links = links["candidate_id"].value_counts() if links is not None and len(links) else {}
    out = []
    for cid, row in table[table["rank"].notna()].head(TOP).iterrows():
        r = row.to_dict()
        fig = site_map(layers, row.geometry, int(r["rank"]),
                       near=_near(layers, row.geometry, cid, near))  # fmt: skip
        now = kind_words(r.get("kind"), lang)
        area = area_words(lang, r.get("area_m2"))
        out.append(
            {
                "rank": int(r["rank"]),
                "title": site_heading(lang, cid, r),
                "now": lang._("{what}, {area}", what=now, area=area) if area else now,
                "todo": simulated_program(lang, r, record) or "",
                "why": why_sentences(lang, r, n_links=int(n_links.get(cid, 0))),
                "map": _png(fig),
                "id": str(cid),
            }
        )
    return out


def site_cards(
    layers: Mapping[str, gpd.GeoDataFrame],
    record: Mapping[str, Any] | None,
    lang: Language,
    *,
    top: int = 10,
    near: dict[str, SiteNear] | None = None,
) -> list[dict[str, Any]]:
    """A card per top site for the report after its first page, in ``lang``.

    Each card: the rank and name, a map with the streets named, where (district), the
    area, what is there now, the flags a planner must check, what was simulated, why
    (one sentence per dimension), the rank interval in words and the gains as bars.
    ``near``: what each site's map shows by site id (:func:`site_near`), filled as the
    maps are drawn; pass the dict :func:`first_page` got to select each site once.
    """
    from rakennettu.outputs._common import bar_rows
    from rakennettu.synthesis.leverage import GAINS

    cands = layers.get("candidates")
    if cands is None or not len(cands) or "rank" not in cands:
        return []
    table = candidate_table(cands)
    links = layers.get("candidate_links")
    n_links = links["candidate_id"].value_counts() if links is not None and len(links) else {}
    out = []
    for cid, row in table[table["rank"].notna()].head(top).iterrows():
        r = row.to_dict()
        rank = int(r["rank"])
        fig = site_map(layers, row.geometry, rank, size=(4.4, 3.3),
                       near=_near(layers, row.geometry, cid, near))  # fmt: skip
        out.append(
            {
                "rank": rank,
                "title": site_heading(lang, cid, r),
                "place": r.get("district") if isinstance(r.get("district"), str) else "",
                "area": area_words(lang, r.get("area_m2")),
                "now": now_words(lang, r),
                "flags": flag_words(lang, r),
                "todo": simulated_program(lang, r, record) or "",
                "rank_text": _rank_words(lang, r, rank),
                "why": why_sentences(lang, r, n_links=int(n_links.get(cid, 0)), limit=len(GAINS)),
                "bars": bar_rows({d: r.get(f"gain_{d}", float("nan")) for d in GAINS}, lang),
                "map": _png(fig),
                "id": str(cid),
            }
        )
    return out


def _rank_words(lang: Language, row: Mapping[str, Any], rank: int) -> str:
    lo, hi = row.get("rank_p05"), row.get("rank_p95")
    if lo is None or hi is None or pd.isna(lo) or pd.isna(hi):
        return lang.integer(rank)
    if int(lo) == int(hi):
        return lang._("{rank}, in every weighting tried", rank=lang.integer(rank))
    return lang._(
        "{rank}; between {low} and {high} in 90 % of the weightings tried",
        rank=lang.integer(rank), low=lang.integer(lo), high=lang.integer(hi),
    )  # fmt: skip


def _caveats(
    layers: Mapping[str, gpd.GeoDataFrame], record: Mapping[str, Any] | None, lang: Language
) -> list[str]:
    out = []
    b = layers.get("buildings")
    if b is not None and len(b):
        if "year" in b:
            share = float(pd.to_numeric(b["year"], errors="coerce").isna().mean())
            if share > 0.2:
                msg = lang._(
                    "{share} of the buildings have no known year of construction: the mix of "
                    "building ages is read from the others.",
                    share=lang.percent(share),
                )
                out.append(msg)
        if "morph_floors_source" in b:
            share = float(b["morph_floors_source"].astype(str).eq("assumed").mean())
            if share > 0.2:
                out.append(lang._(
                    "{share} of the buildings have neither floors nor height in the data: their "
                    "floor area, and the residents and jobs drawn from it, are estimates.",
                    share=lang.percent(share)))  # fmt: skip
    for name, what in (("landmarks", "landmarks"), ("third_places", "third_places")):
        g = layers.get(name)
        if g is not None and len(g) == 0:
            msg = (
                N_("No landmarks or heritage sites were found in the data.")
                if what == "landmarks"
                else N_("No meeting places (cafés, libraries, squares) were found in the data.")
            )
            out.append(lang._(msg))
    warnings = (record or {}).get("warnings") or []
    if warnings:
        out.append(lang.plural(
            "{n} warning was logged during the run: see the caveats at the end.",
            "{n} warnings were logged during the run: see the caveats at the end.",
            len(warnings)))  # fmt: skip
    osm = lang._(
        "OpenStreetMap is as complete as its mappers have made it: missing shops, cafés and "
        "building details lower the scores where they are missing, not on the ground."
    )
    out.append(osm)
    return out


def _data_date(record: Mapping[str, Any] | None, lang: Language) -> str:
    rec = record or {}
    for key in ("osm_data_date",):
        if rec.get(key):
            return lang._("OpenStreetMap data of {date}", date=lang.date(str(rec[key])))
    if rec.get("created"):
        return lang._("run on {date} (the date of the data is not recorded)",
                      date=lang.date(str(rec["created"])))  # fmt: skip
    return ""


def first_page(
    layers: Mapping[str, gpd.GeoDataFrame],
    record: Mapping[str, Any] | None,
    lang: Language,
    *,
    near: dict[str, SiteNear] | None = None,
) -> dict[str, Any]:
    """The values of the report's first page (``first_page.html.j2``), in ``lang``.

    ``near``: see :func:`site_cards`.
    """
    title = ((record or {}).get("town") or {}).get("title") or lang._("the town")
    sites = _sites(layers, record, lang, near)
    return {
        "heading": lang._("{town}: where to act first", town=title),
        "date": _data_date(record, lang),
        "intro": lang._(
            "The {n} sites where building would do most for the town's vitality, in "
            "order. Each card says what is there now, what the run simulated there and "
            "why it ranks high.",
            n=len(sites),
        ),
        "sites": sites,
        "words": {
            "now": lang._("Now:"),
            "todo": lang._("Simulated here:"),
            "why": lang._("Why here:"),
            "caveats": lang._("Before deciding: the data"),
            "site": lang._("Site id"),
            "none": lang._("No candidate sites were found or ranked in this run."),
        },
        "caveats": _caveats(layers, record, lang),
    }
