"""How complete a town's data are: figures a planner can judge, and what a shortfall affects.

:func:`completeness` takes a loaded :class:`~rakennettu.town.Town` (and, once estimated,
its residents and jobs) and returns a tidy table, one row per figure: the value, its unit,
the threshold it is held against, whether it falls short, and what a shortfall affects.
Every shortfall is also a warning sentence, logged and recorded in ``run.json`` and on
the report's first section. The thresholds and their reasons are in docs/completeness.md;
the workflow's ``[completeness]`` section sets them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from rakennettu.i18n import N_, Said, Share
from rakennettu.layers.morphology import block_streets

__all__ = ["LAYERS", "THRESHOLDS", "Completeness", "completeness", "figures_record"]

log = logging.getLogger(__name__)

#: Default thresholds (see docs/completeness.md for the reasons).
THRESHOLDS: Mapping[str, float] = {
    "buildings_per_street_km": 5.0,
    "use_share": 0.5,
    "floors_share": 0.25,
    "year_share": 0.25,
    "activities_per_km2": 5.0,
    "third_places_per_km2": 1.0,
    "landmarks": 1.0,
    "residents": 1.0,
    "jobs": 1.0,
    "unknown_homes_share": 0.25,
}


@dataclass(frozen=True)
class Completeness:
    """The figures of a town's data and the warnings of their shortfalls.

    Attributes
    ----------
    table
        One row per figure (index ``figure``): ``layer``, ``value``, ``unit``,
        ``threshold``, ``short`` (bool), ``affects`` (what a shortfall affects).
    warnings
        One sentence per shortfall, in the table's order (English text that the
        outputs say in the run's language: :class:`~rakennettu.i18n.Said`).
    """

    table: pd.DataFrame
    warnings: tuple[str, ...]


#: The layers' names in the warnings (the English is the layer's own name).
LAYERS: Mapping[str, str] = {
    "buildings": N_("buildings"),
    "streets": N_("streets"),
    "activities": N_("activities"),
    "third_places": N_("third_places"),
    "landmarks": N_("landmarks"),
    "population": N_("population"),
}


def _share(mask: pd.Series) -> float:
    return float(mask.mean()) if len(mask) else float("nan")


def _limit(v: float, unit: str) -> float:
    """The threshold as a :class:`~rakennettu.i18n.Said` value: a share or a rate."""
    return Share(v) if unit.startswith("share") else v


def _building_rows(town: Any) -> list[dict[str, Any]]:
    b = town.buildings[town.buildings["in_area"].to_numpy(dtype=bool)]
    edges = town.edges[town.edges["in_area"].to_numpy(dtype=bool)]
    streets = block_streets(edges)
    km = float(streets.length.sum()) / 1000 if len(streets) else 0.0
    n = len(b)
    use = b["use"].astype(object) if "use" in b else pd.Series(None, index=b.index)
    known_use = use.notna() & (use != "unknown")
    floors = pd.Series(False, index=b.index)
    for col in ("floors", "height"):
        if col in b:
            floors |= pd.to_numeric(b[col], errors="coerce").notna()
    year = pd.to_numeric(b["year"], errors="coerce").notna() if "year" in b else floors & False
    return [
        dict(figure="buildings", layer="buildings", value=n, unit="buildings"),
        dict(figure="street_km", layer="streets", value=km, unit="km",
             note="streets that bound blocks (footways and paths left out)"),
        dict(figure="buildings_per_street_km", layer="buildings",
             value=n / km if km > 0 else float("nan"), unit="per km",
             message=lambda v: Said(N_("only {v} buildings per km of street: most buildings "
                                       "are probably not mapped"), v=v),
             affects=N_("floor area, coverage, residents and jobs, and every measure built on "
                        "them")),
        dict(figure="use_share", layer="buildings", value=_share(known_use), unit="share",
             message=lambda v: Said(N_("{v} of the buildings have a known use (the rest are "
                                       "building=yes)"), v=Share(v)),
             affects=N_("which floor area counts as homes and workplaces: residents and jobs "
                        "rest on the rule for unknown uses (docs/population.md)")),
        dict(figure="floors_share", layer="buildings", value=_share(floors), unit="share",
             message=lambda v: Said(N_("{v} of the buildings have floors or a height"),
                                    v=Share(v)),
             affects=N_("floor area, FAR and residents: the rest count as default_floors "
                        "storeys")),
        dict(figure="year_share", layer="buildings", value=_share(year), unit="share",
             message=lambda v: Said(N_("no building has a construction year")) if v == 0 else
             Said(N_("only {v} of the buildings have a construction year"), v=Share(v)),
             affects=N_("building age measures left out of the cultural score") if not
             year.any() else N_("building age diversity rests on few buildings")),
    ]  # fmt: skip


def _place_rows(town: Any) -> list[dict[str, Any]]:
    km2 = float(town.area_km2)

    def in_area(gdf: Any) -> int:
        if gdf is None or not len(gdf):
            return 0
        return int(gdf["in_area"].sum()) if "in_area" in gdf else len(gdf)

    acts, tps, marks = in_area(town.activities), in_area(town.third_places), in_area(town.landmarks)
    return [
        dict(figure="activities_per_km2", layer="activities", value=acts / km2, unit="per km²",
             count=acts,
             message=lambda v: Said(N_("no activities (shops, services) in the area"))
             if v == 0 else Said(N_("only {v} activities (shops, services) per km²"), v=v),
             affects=N_("access to activities and the land-use mix (social score), and the "
                        "social gains of the sites")),
        dict(figure="third_places_per_km2", layer="third_places", value=tps / km2,
             unit="per km²", count=tps,
             message=lambda v: Said(N_("no third places (cafés, libraries, squares) in the "
                                       "area")) if v == 0 else
             Said(N_("only {v} third places per km²"), v=v),
             affects=N_("third-place access (cultural score) and the cultural gains of the "
                        "sites")),
        dict(figure="landmarks", layer="landmarks", value=marks, unit="landmarks",
             message=lambda v: Said(N_("no landmarks or heritage in the area")),
             affects=N_("landmark access left out of the cultural score, and the landmark "
                        "context of the sites")),
    ]  # fmt: skip


def _people_rows(town: Any, people: pd.DataFrame) -> list[dict[str, Any]]:
    ids = town.buildings.index
    rows = people.loc[people.index.intersection(ids)]
    in_area = town.buildings.loc[rows.index, "in_area"].to_numpy(dtype=bool)
    rows = rows[in_area]
    pseudo = people[people.get("pseudo", pd.Series(False, index=people.index)).astype(bool)]
    residents = float(rows["residents"].sum() + pseudo["residents"].sum())
    jobs = float(rows["jobs"].sum() + pseudo["jobs"].sum())
    methods = people["population_method"].astype(str)
    source = "grid" if methods.str.startswith("grid").all() else (
        "floor area" if (methods == "floor_area").all() else "grid and floor area")  # fmt: skip
    use = town.buildings.loc[rows.index, "use"].astype(object)
    unknown = (use.isna() | (use == "unknown")).to_numpy()
    res_area = rows["residential_floor_area"].to_numpy(dtype=float)
    from_unknown = float(res_area[unknown].sum() / res_area.sum()) if res_area.sum() else 0.0
    grid = methods.str.startswith("grid").to_numpy()
    return [
        dict(figure="residents", layer="population", value=residents, unit="persons",
             note=f"from {source}",
             message=lambda v: Said(N_("no residents in the area (no building counts as "
                                       "homes)")),
             affects=N_("residents within reach and every residents-weighted gain of the "
                        "sites are zero")),
        dict(figure="jobs", layer="population", value=jobs, unit="jobs", note=f"from {source}",
             message=lambda v: Said(N_("no jobs in the area (no building counts as a "
                                       "workplace)")),
             affects=N_("jobs within reach, and people reached by the sites count residents "
                        "only")),
        dict(figure="residents_from_grid", layer="population", value=_share(pd.Series(grid)),
             unit="share of buildings"),
        dict(figure="unknown_homes_share", layer="population",
             value=0.0 if grid.all() else from_unknown, unit="share of residential floor area",
             message=lambda v: Said(N_("{v} of the residential floor area is in buildings of "
                                       "unknown use counted as homes"), v=Share(v)),
             affects=N_("residents are an assumption there: the sites' rank intervals also "
                        "draw between counting no and every unknown-use building as homes"),
             above=True),
    ]  # fmt: skip


def completeness(
    town: Any,
    *,
    people: pd.DataFrame | None = None,
    thresholds: Mapping[str, float] | None = None,
) -> Completeness:
    """The completeness figures of a town's data, each against its threshold.

    Parameters
    ----------
    town
        A loaded :class:`~rakennettu.town.Town` (buildings, edges, activities, third
        places, landmarks; rows in the study area carry ``in_area``).
    people
        Residents and jobs per building (``SocialLayer.buildings``: ``residents``,
        ``jobs``, ``residential_floor_area``, ``population_method``, ``pseudo``); without
        it the population rows are left out.
    thresholds
        Figure -> threshold, over :data:`THRESHOLDS`. A figure falls short below its
        threshold (``unknown_homes_share``: above it).

    Returns
    -------
    Completeness

    Examples
    --------
    >>> from rakennettu import load_town
    >>> c = completeness(load_town("kotka-karhula"))
    >>> float(c.table.loc["year_share", "value"]), c.warnings[0].split(": ")[1]
    (0.0, 'under 1 % of the buildings have floors or a height (threshold 25 %)')
    """
    limits = {**THRESHOLDS, **(thresholds or {})}
    rows = _building_rows(town) + _place_rows(town)
    if people is not None:
        rows += _people_rows(town, people)
    out, warnings = [], []
    for row in rows:
        fig = row["figure"]
        value = float(row["value"])
        limit = limits.get(fig)
        short = False
        if limit is not None and np.isfinite(value):
            short = value > limit if row.get("above") else value < limit
        if limit is not None and not np.isfinite(value):
            short = True
        affects = row.get("affects", "")
        if short:
            layer = row["layer"]
            warnings.append(
                Said(
                    N_("{layer}: {message} (threshold {limit}): {affects}"),
                    layer=Said(LAYERS[layer]) if layer in LAYERS else layer,
                    message=row["message"](value),
                    limit=_limit(float(limit), row["unit"]) if limit is not None else "?",
                    affects=Said(affects),
                )
            )
        out.append(
            {
                "figure": fig,
                "layer": row["layer"],
                "value": value,
                "unit": row["unit"],
                "threshold": limit,
                "short": short,
                "affects": affects if short else "",
                "note": row.get("note", ""),
            }
        )
    table = pd.DataFrame(out).set_index("figure")
    return Completeness(table=table, warnings=tuple(warnings))


def figures_record(result: Completeness) -> dict[str, Any]:
    """The completeness figures as plain JSON for ``run.json`` (``completeness`` key).

    Examples
    --------
    >>> t = pd.DataFrame({"layer": ["landmarks"], "value": [0.0], "unit": ["landmarks"],
    ...     "threshold": [1.0], "short": [True], "affects": ["x"], "note": [""]},
    ...     index=pd.Index(["landmarks"], name="figure"))
    >>> figures_record(Completeness(t, ("w",)))["figures"]["landmarks"]["short"]
    True
    """
    figures = {
        str(fig): {k: (None if isinstance(v, float) and not np.isfinite(v) else v)
                   for k, v in row.items()}
        for fig, row in result.table.to_dict("index").items()
    }  # fmt: skip
    return {
        "figures": figures,
        "warnings": [str(w) for w in result.warnings],
        "warning_messages": [w.record() if isinstance(w, Said) else None for w in result.warnings],
    }
