"""The comparison of towns as files: ``comparison.csv`` and a self-contained HTML page."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from rakennettu._io import atomic_path
from rakennettu.outputs.spreadsheet import write_csv

__all__ = ["comparison_html", "write_comparison"]


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
