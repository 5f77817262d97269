"""Towns compared: one town's figures, and a table of towns ranked by their built environment.

One row per town that finished (or was skipped as unchanged), written to
``batch/comparison.csv`` and ``batch/comparison.html`` beside the town folders. Towns of
different sizes are compared by rates and typical values, never totals:

* *per km²* of the study area: residents, jobs, street length, intersections
  (street nodes where three or more streets meet), activities and third places;
* *medians over the town's analysis cells* (1 ha hexagons with network access) of the
  indicators of the vitality index. These indicators are local (computed within a fixed
  walking radius of each place), so a bigger town does not score higher for its size;
  the median is the typical hectare, not the sum;
* *per resident*: the share of residents living within 400 m of a third place;
* the synergy index's quantiles over the cells. Synergy is normalised within each town
  (percentile ranks), so its level does not compare across towns; its spread shows how
  far the three dimensions coincide in the town.

The cross-town *vitality* ranks the towns by their built environment with the method of
the within-town index applied to towns instead of cells (:func:`compare_towns`): each
indicator's town median is turned into a mid-rank percentile *among the towns of the
batch* (``(rank - 0.5) / n``, lower is better for distances; :func:`rank_across`),
averaged per dimension with the indicator weights of the bundled defaults, and the three
dimension scores combined by a weighted geometric mean. Limits: it is relative (adding
or removing a town changes every score, and with few towns the ranks are coarse: 1/6,
1/2 and 5/6 for three towns; it says which town is ahead, not by how much); a town
without any value in a dimension gets no vitality; medians depend on how the
study area is drawn (fields and forest inside it lower them); OSM completeness differs
between towns (a missing café reads as a missing third place); an indicator missing in
every town is left out and one missing in a town counts only for the others.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from rakennettu._io import json_plain
from rakennettu._resources import defaults_path
from rakennettu.config import SynthesisConfig

__all__ = ["COMPARISON_FOLDER", "compare_towns", "rank_across", "town_summary"]

COMPARISON_FOLDER = "batch"
"""The folder, beside the town folders, of ``comparison.csv`` and ``comparison.html``."""

_SYNERGY_QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


# ---------------------------------------------------------------------------------------
# one town's figures


def _length_inside(edges: Any, area: Any) -> float:
    """Length (m) of the street segments inside the area."""
    import shapely

    if len(edges) == 0:
        return 0.0
    return float(shapely.length(shapely.intersection(edges.geometry.to_numpy(), area)).sum())


def _third_place_share(buildings: Any, inside: np.ndarray) -> float:
    """Share of the area's residents whose home is near a third place (cultural layer)."""
    if "residents" not in buildings or "cult_near_third_place" not in buildings:
        return float("nan")
    res = pd.to_numeric(buildings["residents"], errors="coerce").fillna(0.0).to_numpy() * inside
    total = float(res.sum())
    if total <= 0:
        return float("nan")
    near = buildings["cult_near_third_place"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    return float(res[near].sum() / total)


def town_summary(result: Any, *, top: int = 3) -> dict[str, Any]:
    """The figures of one town for the comparison: plain JSON values.

    Parameters
    ----------
    result
        A :class:`rakennettu.RunResult`.
    top
        How many of the best-ranked candidate sites to keep.

    Returns
    -------
    dict
        ``town``, ``title``, ``area_km2``; ``residents``, ``jobs``, ``buildings``,
        ``street_km``, ``intersections``, ``activities``, ``third_places`` in the study
        area; ``third_place_share``: the share of the residents whose home is within
        ``[cultural] third_place_distance`` of a third place along the network (the
        cultural layer's ``cult_near_third_place``), 0-1; ``cells`` (with network
        access); ``synergy`` quantiles (``p10`` ... ``p90``, ``mean``); ``medians`` of
        every indicator column over those cells; ``top`` (``rank``, ``name``, ``kind``,
        ``score``, ``rank_p05``, ``rank_p95``) and ``candidates`` (their number).
    """
    town = result.town
    layers = result.layers
    area = town.area
    km2 = town.area_km2
    b = layers["buildings"]
    inside = b["in_area"].to_numpy(dtype=bool) if "in_area" in b else np.ones(len(b), bool)

    def total(col: str) -> float:
        if col not in b:
            return float("nan")
        return float(pd.to_numeric(b[col], errors="coerce").fillna(0.0).to_numpy()[inside].sum())

    nodes = layers["nodes"]
    n_in = nodes[nodes["in_area"]] if "in_area" in nodes else nodes
    degree = n_in["street_count"] if "street_count" in n_in else n_in.get("morph_degree")
    intersections = int((pd.to_numeric(degree) >= 3).sum()) if degree is not None else 0

    def in_area(name: str) -> int:
        gdf = layers.get(name)
        if gdf is None:
            return 0
        return int(gdf["in_area"].sum()) if "in_area" in gdf else len(gdf)

    cells = layers["cells"]
    usable = cells["access"] != "none" if "access" in cells else pd.Series(True, cells.index)
    c = cells[usable.to_numpy(dtype=bool)]
    syn = pd.to_numeric(c.get("synergy", pd.Series(dtype=float)), errors="coerce").dropna()
    synergy = {f"p{round(q * 100)}": float(syn.quantile(q)) for q in _SYNERGY_QUANTILES}
    synergy["mean"] = float(syn.mean()) if len(syn) else float("nan")
    indicator_cols = [
        col
        for col in c.columns
        if str(col).startswith(("morph_", "soc_", "cult_"))
        and pd.api.types.is_numeric_dtype(c[col])
    ]
    # a nearest distance is NaN beyond reach: the worst case, as in the scores (stored as
    # None when the median itself lies beyond reach)
    medians = {
        col: float(c[col].astype(float).fillna(np.inf if "nearest" in col else np.nan).median())
        for col in indicator_cols
    }

    cand = layers.get("candidates")
    top_rows: list[dict[str, Any]] = []
    if cand is not None and len(cand) and "rank" in cand:
        for _, row in cand.sort_values("rank", kind="stable").head(top).iterrows():
            name = row.get("name")
            top_rows.append(
                {
                    "rank": int(row["rank"]),
                    "name": None if pd.isna(name) else str(name),
                    "kind": str(row.get("kind", "")),
                    "provenance": str(row.get("provenance", "")),
                    "score": float(row["score"]),
                    "rank_p05": float(row.get("rank_p05", np.nan)),
                    "rank_p95": float(row.get("rank_p95", np.nan)),
                }
            )
    return json_plain(
        {
            "town": town.name,
            "title": town.title,
            "crs": town.crs.to_string(),
            "area_km2": km2,
            "residents": total("residents"),
            "jobs": total("jobs"),
            "buildings": int(inside.sum()),
            "street_km": _length_inside(layers["edges"], area) / 1000.0,
            "intersections": intersections,
            "activities": in_area("activities"),
            "third_places": in_area("third_places"),
            "third_place_share": _third_place_share(b, inside),
            "third_place_distance_m": result.workflow.cultural.third_place_distance,
            "cells": len(c),
            "synergy": synergy,
            "medians": medians,
            "top": top_rows,
            "candidates": 0 if cand is None else len(cand),
        }
    )


# ---------------------------------------------------------------------------------------
# the comparison


def _default_index() -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """The indicators and dimension weights of the bundled defaults."""
    with open(defaults_path(), "rb") as fh:
        data = tomllib.load(fh).get("synthesis", {})
    syn = SynthesisConfig.model_validate(
        {k: v for k, v in data.items() if k in ("indicators", "weights")}
    )
    spec = {str(d): dict(cols) for d, cols in syn.indicators.items()}
    weights = {str(d): float(w) for d, w in syn.weights.items()}
    return spec, weights


def _per_km2(value: Any, km2: Any) -> float:
    try:
        v, a = float(value), float(km2)
    except (TypeError, ValueError):
        return float("nan")
    return v / a if a > 0 and math.isfinite(v) else float("nan")


def compare_towns(
    summaries: Sequence[Mapping[str, Any]],
    *,
    indicators: Mapping[str, Mapping[str, float]] | None = None,
    weights: Mapping[str, float] | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Compare towns fairly and rank them by their built-environment vitality.

    Parameters
    ----------
    summaries
        One :func:`town_summary` per town.
    indicators
        Dimension -> {indicator -> weight} of the cross-town index (negative: lower is
        better); by default those of the bundled ``_defaults.toml``.
    weights
        Dimension weights; by default those of the bundled defaults.

    Returns
    -------
    (DataFrame, list of str)
        One row per town, indexed by town name, best vitality first (see the module
        docstring for the columns and the method), and notes on indicators left out.

    Examples
    --------
    Three towns, one indicator per dimension (the lowest distance is best):

    >>> towns = [{"town": t, "area_km2": 2.0, "residents": r, "medians": {
    ...     "morph_a": m, "soc_b": s, "cult_nearest_c": c}} for t, r, m, s, c in [
    ...     ("a", 1000, 1.0, 5.0, 300.0), ("b", 4000, 3.0, 9.0, 100.0),
    ...     ("c", 2000, 2.0, 1.0, 200.0)]]
    >>> table, notes = compare_towns(towns, indicators={"morph": {"morph_a": 1},
    ...     "soc": {"soc_b": 1}, "cult": {"cult_nearest_c": -1}},
    ...     weights={"morph": 1, "soc": 1, "cult": 1})
    >>> table["vitality_rank"].to_dict()
    {'b': 1, 'c': 2, 'a': 3}
    >>> table.loc["b", ["residents_per_km2", "score_cult"]].round(3).tolist()
    [2000.0, 0.833]
    """
    d_spec, d_weights = _default_index()
    spec = {str(d): dict(c) for d, c in (indicators or d_spec).items()}
    dim_w = {str(d): float(w) for d, w in (weights or d_weights).items()}
    rows = []
    for s in summaries:
        km2 = s.get("area_km2")
        syn = s.get("synergy") or {}
        row: dict[str, Any] = {
            "town": s["town"],
            "title": s.get("title", s["town"]),
            "area_km2": km2,
            "residents": s.get("residents"),
            "jobs": s.get("jobs"),
            "residents_per_km2": _per_km2(s.get("residents"), km2),
            "jobs_per_km2": _per_km2(s.get("jobs"), km2),
            "buildings_per_km2": _per_km2(s.get("buildings"), km2),
            "street_km": s.get("street_km"),
            "street_km_per_km2": _per_km2(s.get("street_km"), km2),
            "intersections_per_km2": _per_km2(s.get("intersections"), km2),
            "activities_per_km2": _per_km2(s.get("activities"), km2),
            "third_places_per_km2": _per_km2(s.get("third_places"), km2),
            "residents_near_third_place": s.get("third_place_share"),
            "cells": s.get("cells"),
        }
        for q in _SYNERGY_QUANTILES:
            row[f"synergy_p{round(q * 100)}"] = syn.get(f"p{round(q * 100)}")
        medians = s.get("medians") or {}
        for cols in spec.values():
            for col in cols:
                value = medians.get(col)
                if value is None and col in medians and "nearest" in col:
                    value = math.inf  # the median cell has none within reach
                row[f"median_{col}"] = value
        for i, cand in enumerate((s.get("top") or [])[:3], start=1):
            row[f"top{i}"] = _site_label(cand)
            row[f"top{i}_score"] = cand.get("score")
        rows.append(row)
    table = pd.DataFrame(rows)
    if table.empty:
        return table, []
    table = table.set_index("town")
    for col in table.columns:
        text = col == "title" or (str(col).startswith("top") and not str(col).endswith("_score"))
        if not text:
            table[col] = pd.to_numeric(table[col], errors="coerce")

    # the index: the same indicators and weights as within a town, across towns
    notes = []
    used: dict[str, dict[str, float]] = {}
    for dim, cols in spec.items():
        present = {c: w for c, w in cols.items() if table[f"median_{c}"].notna().any()}
        missing = [c for c in cols if c not in present]
        if missing:
            notes.append(f"{dim}: {', '.join(missing)} computed in no town; left out")
        if present and dim_w.get(dim, 0) > 0:
            used[dim] = present
        elif dim_w.get(dim, 0) > 0:
            notes.append(f"{dim}: no indicator computed in any town; dimension left out")
    if used:
        medians = table[[f"median_{c}" for cols in used.values() for c in cols]]
        medians = medians.rename(columns=lambda c: c.removeprefix("median_"))
        scores = _across_towns(medians, used, {d: dim_w[d] for d in used})
        for dim in ("morph", "soc", "cult"):
            table[f"score_{dim}"] = scores.get(f"score_{dim}", np.nan)
        table["vitality"] = scores["synergy"]
    else:
        table["vitality"] = np.nan
    order = table["vitality"].rank(ascending=False, method="min", na_option="bottom")
    table["vitality_rank"] = order.astype(int)
    table = table.sort_values(["vitality_rank", "title"], kind="stable")
    return table, notes


def rank_across(values: pd.Series, *, reverse: bool = False) -> pd.Series:
    """Mid-rank percentile of each town among the towns with a value: ``(rank - 0.5) / n``.

    Unlike the within-town normalisation (0 for the lowest of many cells), no town gets 0
    or 1, so with few towns the lowest is not floored out of the geometric mean.

    Examples
    --------
    >>> rank_across(pd.Series([3.0, 1.0, 2.0, np.nan])).round(3).tolist()
    [0.833, 0.167, 0.5, nan]
    >>> rank_across(pd.Series([3.0, 1.0]), reverse=True).tolist()
    [0.25, 0.75]
    """
    x = pd.to_numeric(values, errors="coerce").astype(float)
    ok = x.notna()
    out = pd.Series(np.nan, index=x.index, name=values.name)
    n = int(ok.sum())
    if n:
        s = (x[ok].rank(method="average") - 0.5) / n
        out[ok] = (1.0 - s) if reverse else s
    return out


def _across_towns(
    medians: pd.DataFrame, spec: Mapping[str, Mapping[str, float]], weights: Mapping[str, float]
) -> pd.DataFrame:
    """Dimension scores and their synergy, of towns ranked among each other."""
    from rakennettu.synthesis.scores import synergy, weighted_mean

    norm = pd.DataFrame(
        {
            c: rank_across(medians[c], reverse=w < 0)
            for cols in spec.values()
            for c, w in cols.items()
        },
        index=medians.index,
    )
    dims = pd.DataFrame(
        {f"score_{d}": weighted_mean(norm, cols) for d, cols in spec.items()}, index=medians.index
    )
    present = dims.notna().all(axis=1)
    out = dims.assign(synergy=np.nan)
    if present.any():
        out.loc[present, "synergy"] = synergy(dims[present], weights).to_numpy()
    return out


def _site_label(cand: Mapping[str, Any]) -> str:
    """A site in a few words: its name or kind, and where it comes from.

    Examples
    --------
    >>> _site_label({"kind": "construction+empty_block",
    ...              "provenance": "osm:way/607795734; enclosure:189; enclosure:190"})
    'construction+empty block (osm:way/607795734 and 2 more)'
    >>> _site_label({"name": "Satama", "kind": "brownfield", "provenance": "plan:12"})
    'Satama (brownfield, plan:12)'
    """
    name = cand.get("name")
    kind = str(cand.get("kind") or "site").replace("_", " ")
    parts = [p.strip() for p in str(cand.get("provenance") or "").split(";") if p.strip()]
    where = parts[0] + (f" and {len(parts) - 1} more" if len(parts) > 1 else "") if parts else ""
    if name:
        return f"{name} ({kind}, {where})" if where else f"{name} ({kind})"
    return f"{kind} ({where})" if where else kind
