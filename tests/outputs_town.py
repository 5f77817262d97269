"""Inputs for the output tests: a tiny town drawn in code.

``tiny_layers()`` builds every layer of the output contract in a few milliseconds: a
600 m × 400 m patch of central Helsinki coordinates (EPSG:3067) with hexagons, a street
grid, buildings, places, green and water, five candidate sites (one a point, one named
like an injection attack) and their simulated links.

``many_sites(layers, n)`` gives it ``n`` ranked sites; ``hostile_layers()`` names every
street, building, place and site (and its ``why``) with a payload of ``HOSTILE``.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely import LineString, Point, box

from rakennettu.synthesis.grid import hex_grid
from rakennettu.synthesis.leverage import GAINS

CRS = 3067
X0, Y0 = 385_000.0, 6_672_000.0
XSS = "<img src=x onerror=alert(1)>"
GAIN_COLUMNS = [c for d in GAINS.values() for c in d]

# Hostile names: each would do something if a page parsed it as a template or HTML, a
# spreadsheet as a formula or a terminal as control sequences. Each is framed by "«" and
# "»" so that a test can find it whole (or find what it became).
TEMPLATE = "«{{7*7}}»"  # shows as «49» if parsed as a Jinja2 template
TEMPLATE_BLOCK = "«{% for x in range(3) %}X{% endfor %}»"  # «XXX» if parsed
MKDIR = "«{{ cycler.__init__.__globals__.os.mkdir(dict(PWNED=1)|first) }}»"  # creates PWNED/
SCRIPT_END = "«</script><script>document.title='HACKED'</script>»"
FORMULAS = [
    '=HYPERLINK("http://evil.example/x","click")',
    "@SUM(1+1)",
    "+1+cmd|' /C calc'!A0",
    "-2+3",
]
CONTROLS = [
    "«\x1b]8;;http://evil.example/\x07link\x1b]8;;\x07»",  # OSC 8 hyperlink
    "«\x1b[2J\x1b[31mRED\x1b[0m»",  # CSI: clear the screen, colour
    "«line one\n9. C9 FAKE»",  # a fake extra line
    "«carriage\rback»",
    "«bell\x07\x7f\u202eevil\u202c»",  # BEL, DEL, a right-to-left override
]
HOSTILE = [TEMPLATE, TEMPLATE_BLOCK, MKDIR, XSS, SCRIPT_END, *FORMULAS, *CONTROLS]


def _cells(rng: np.random.Generator) -> gpd.GeoDataFrame:
    grid = hex_grid(box(X0, Y0, X0 + 600, Y0 + 400), 62, crs=CRS)
    n = len(grid)
    c = grid.geometry.centroid
    u = ((c.x - X0) / 600).clip(0, 1).to_numpy()
    v = ((c.y - Y0) / 400).clip(0, 1).to_numpy()
    morph = np.clip(0.2 + 0.7 * u + rng.normal(0, 0.05, n), 0, 1)
    soc = np.clip(0.9 - 0.6 * v + rng.normal(0, 0.05, n), 0, 1)
    cult = np.clip(0.5 + 0.4 * np.sin(6 * u) * v, 0, 1)
    syn = np.exp((np.log(np.maximum(morph, 0.01)) + np.log(np.maximum(soc, 0.01))
                  + np.log(np.maximum(cult, 0.01))) / 3)  # fmt: skip
    access = np.where(u > 0.95, "none", np.where(rng.random(n) < 0.5, "nodes", "nearest"))
    cells = grid.assign(
        access=access,
        score_morph=morph,
        score_soc=soc,
        score_cult=cult,
        synergy=syn,
        morph_harmonic_800m=0.5 + 3 * u,
        soc_access_total_800m=40 * (1 - v) ** 2,
        cult_third_place_access_400m=np.round(3 * u * v, 1),
        morph_coverage=0.3 * u,
    )
    none = cells["access"].eq("none")
    cols = ["score_morph", "score_soc", "score_cult", "synergy", "morph_harmonic_800m",
            "soc_access_total_800m", "cult_third_place_access_400m"]  # fmt: skip
    cells.loc[none, cols] = np.nan
    return cells


def _edges() -> gpd.GeoDataFrame:
    lines, names, hws = [], [], []
    for i in range(5):  # east-west streets
        y = Y0 + 100 * i
        lines.append(LineString([(X0, y), (X0 + 600, y)]))
        names.append(XSS if i == 2 else f"Katu {i}")
        hws.append("residential")
    for j in range(7):  # north-south paths
        x = X0 + 100 * j
        lines.append(LineString([(x, Y0), (x, Y0 + 400)]))
        names.append(None)
        hws.append("footway" if j % 2 else "tertiary")
    n = len(lines)
    idx = pd.MultiIndex.from_tuples([(k, k + 100, 0) for k in range(n)], names=["u", "v", "key"])
    return gpd.GeoDataFrame(
        {
            "length": [ln.length for ln in lines],
            "highway": hws,
            "name": names,
            "morph_betweenness_800m": np.arange(n, dtype=float) ** 2,
            "morph_betweenness_beta_800m": np.arange(n, dtype=float),
        },
        geometry=lines,
        index=idx,
        crs=CRS,
    )


def _buildings() -> gpd.GeoDataFrame:
    geoms, rows = [], []
    for i in range(6):
        for j in range(4):
            x, y = X0 + 20 + 100 * i, Y0 + 20 + 100 * j
            geoms.append(box(x, y, x + 40, y + 30))
            rows.append(
                {
                    "name": XSS if (i, j) == (1, 1) else None,
                    "use": ["residential", "commercial", "public"][(i + j) % 3],
                    "floors": np.nan if (i + j) % 4 == 0 else float(1 + (i + j) % 5),
                    "height": np.nan,
                    "year": np.nan if (i * j) % 3 == 0 else float(1900 + 5 * (i + 4 * j)),
                    "morph_floors": float(1 + (i + j) % 5),
                    "morph_floors_source": "assumed" if (i + j) % 4 == 0 else "floors",
                    "morph_floor_area": 1200.0 * (1 + (i + j) % 5),
                }
            )
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=CRS)


def _places() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    landmarks = gpd.GeoDataFrame(
        {"name": [XSS, "Kirkko"], "category": ["heritage", "religious"],
         "kind": ["monument", "church"], "weight": [1.0, 2.0]},
        geometry=[Point(X0 + 150, Y0 + 250), box(X0 + 410, Y0 + 310, X0 + 440, Y0 + 350)],
        crs=CRS,
    )  # fmt: skip
    third = gpd.GeoDataFrame(
        {"name": ["Kahvila", None, "Kirjasto"], "category": ["hospitality", "public_space",
         "civic"], "kind": ["cafe", "square", "library"], "weight": [1.0, 1.0, 1.0]},
        geometry=[Point(X0 + 250, Y0 + 150), Point(X0 + 330, Y0 + 60), Point(X0 + 520, Y0 + 280)],
        crs=CRS,
    )  # fmt: skip
    green = gpd.GeoDataFrame(
        {"category": ["green", "blue", "cemetery"], "kind": ["park", "water", "grave_yard"],
         "name": ["Puisto", "Lampi", None]},
        geometry=[box(X0 + 105, Y0 + 205, X0 + 195, Y0 + 295),
                  Point(X0 + 560, Y0 + 60).buffer(35),
                  box(X0 + 205, Y0 + 305, X0 + 295, Y0 + 395)],
        crs=CRS,
    )  # fmt: skip
    return landmarks, third, green


def _candidates(rng: np.random.Generator) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    geoms = [
        box(X0 + 105, Y0 + 105, X0 + 195, Y0 + 195),
        box(X0 + 305, Y0 + 205, X0 + 395, Y0 + 295),
        box(X0 + 405, Y0 + 5, X0 + 495, Y0 + 95),
        Point(X0 + 250, Y0 + 350),
        box(X0 + 5, Y0 + 305, X0 + 95, Y0 + 395),
    ]
    ids = [f"C{i + 1}" for i in range(len(geoms))]
    gains = pd.DataFrame(rng.random((len(geoms), len(GAIN_COLUMNS))) * 100, columns=GAIN_COLUMNS)
    rank = [2, 1, 4, 5, 3]
    table = pd.DataFrame(
        {
            "candidate_id": ids,
            "rank": rank,
            "score": [0.7, 0.8, 0.4, 0.2, 0.5],
            "rank_median": rank,
            "rank_p05": [1, 1, 3, 4, 2],
            "rank_p95": [3, 2, 5, 5, 4],
            "gain_morph": [0.5, 0.9, 0.1, 0.0, 0.4],
            "gain_soc": [0.9, 0.6, 0.5, 0.2, 0.6],
            "gain_cult": [0.6, 0.8, 0.4, 0.3, 0.2],
            "why": [f"strong social (0.90): {XSS} residents", "strong morphological (0.90)",
                    "moderate social (0.50)", "weak social (0.20)", "moderate social (0.60)"],
            "kind": ["brownfield", "surface_parking", "vacant_land", "disused_amenity",
                     "construction"],
            "name": ["Vanha varikko", XSS, None, "Entinen kioski", "Työmaa"],
            "program": [None, "daily_needs=3", None, None, None],  # the planner's, if any
            "program_simulated": ["1 third place, 2 daily needs, links across large sites",
                                  "1 third place, 3 daily needs, links across large sites",
                                  *["1 third place, 2 daily needs"] * 3],
            "context": [0.62, 0.71, 0.4, 0.2, 0.55],
            "provenance": ["OSM way 1", "planner file sites.gpkg", "OSM way 3", "OSM node 4",
                           "empty block"],
            "area_m2": [g.area for g in geoms],
        }
    ).join(gains)  # fmt: skip
    cands = gpd.GeoDataFrame(table, geometry=geoms, crs=CRS).set_index("candidate_id")
    links = gpd.GeoDataFrame(
        {"candidate_id": ["C1", "C2", "C2"]},
        geometry=[LineString([(X0 + 100, Y0 + 150), (X0 + 200, Y0 + 150)]),
                  LineString([(X0 + 300, Y0 + 250), (X0 + 400, Y0 + 250)]),
                  LineString([(X0 + 350, Y0 + 200), (X0 + 350, Y0 + 300)])],
        crs=CRS,
    )  # fmt: skip
    return cands, links


def tiny_layers(seed: int = 0) -> dict[str, gpd.GeoDataFrame]:
    """Every layer of the output contract, for a tiny made-up town."""
    rng = np.random.default_rng(seed)
    landmarks, third, green = _places()
    cands, links = _candidates(rng)
    return {
        "cells": _cells(rng),
        "edges": _edges(),
        "buildings": _buildings(),
        "landmarks": landmarks,
        "third_places": third,
        "green_blue": green,
        "candidates": cands,
        "candidate_links": links,
    }


def many_sites(layers: dict[str, gpd.GeoDataFrame], n: int) -> dict[str, gpd.GeoDataFrame]:
    """The tiny town with ``n`` ranked sites (copies of its five, shifted a little)."""
    base = layers["candidates"]
    parts = []
    for i in range(0, n, len(base)):
        part = base.copy()
        part["geometry"] = part.geometry.translate(7 * i, 5 * i)
        parts.append(part)
    sites = gpd.GeoDataFrame(pd.concat(parts).iloc[:n], crs=base.crs)
    sites.index = pd.Index([f"C{i + 1}" for i in range(n)], name="candidate_id")
    sites["rank"] = np.arange(1, n + 1)
    return {**layers, "candidates": sites}


def tiny_record() -> dict:
    """A run record for the tiny town (no files: nothing to hash)."""
    from rakennettu.outputs.record import run_record

    sens = pd.DataFrame(
        {"rank": [1, 2, 3, 4, 5], "rank_without_morph": [2, 1, 3, 5, 4],
         "rank_without_soc": [1, 3, 2, 4, 5], "rank_without_cult": [1, 2, 4, 3, 5]},
        index=["C2", "C1", "C5", "C3", "C4"],
    )  # fmt: skip
    sens.loc["kept_in_top"] = [5, 5, 5, 5]
    return run_record(
        title="Tiny town",
        timings={"load": 1.0, "morphology": 2.5},
        counts={name: len(g) for name, g in tiny_layers().items()},
        warnings=["3 buildings have no footprint"],
        stability=0.87,
        sensitivity=sens,
        sources=[
            {"role": "osm", "source": "tiny.osm.pbf", "licence": "© OpenStreetMap contributors, "
             "ODbL 1.0"},
            {"role": "buildings", "source": "data/<b>rakennukset</b>.gpkg",
             "licence": "CC BY 4.0 <script>"},
        ],
        area_km2=0.24,
        crs="EPSG:3067",
    )  # fmt: skip


def hostile(k: int) -> str:
    """Payload ``k`` of ``HOSTILE`` (cycling), followed by two template probes."""
    return f"{HOSTILE[k % len(HOSTILE)]} {TEMPLATE}{MKDIR}"


def hostile_layers() -> dict[str, gpd.GeoDataFrame]:
    """The tiny town with a payload of ``HOSTILE`` in every text a page or file shows.

    Every name of every layer, and each site's ``why``, ``kind`` and ``provenance``, is
    :func:`hostile`: the payloads cycle, the template probes are in each.
    """
    out = {}
    for i, (name, gdf) in enumerate(tiny_layers().items()):
        gdf = gdf.copy()
        if "name" in gdf:
            gdf["name"] = [hostile(3 * i + k) for k in range(len(gdf))]
        if name == "candidates":
            for j, col in enumerate(("why", "kind", "provenance"), start=1):
                gdf[col] = [hostile(5 * j + k) for k in range(len(gdf))]
        out[name] = gdf
    return out
