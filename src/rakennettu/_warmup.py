"""Compile the numba kernels into their on-disk cache: ``python -m rakennettu._warmup``.

The kernels of the network engine, the catchments and the viewsheds are compiled with
``cache=True``: the first run after an install compiles them (13-17 s on two cores) and
stores the machine code beside the sources (``__pycache__``); later runs load it in well
under a second. ``make`` runs this module once after installing, so that the first run a
user starts (``make demo``) is as fast as the second.

It runs the whole analysis on a tiny made-up town (a 6 × 6 street grid with buildings,
shops, a café, a park and an empty block) written as an OSM XML file in a temporary
folder, so every kernel is compiled for the argument types a real run passes, whatever
function calls it. Nothing is written outside the temporary folder and the numba cache.
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING
from xml.sax.saxutils import quoteattr

if TYPE_CHECKING:
    from rakennettu.workflow import RunResult

__all__ = ["tiny_run", "tiny_town_osm", "tiny_workflow", "warm"]

# a grid near central Helsinki by default
_LAT0, _LON0 = 60.1650, 24.9300
_N = 6


_MIDS = {"south": (2.5, 2.0), "north": (2.5, 3.0), "west": (2.0, 2.5), "east": (3.0, 2.5)}
_STUBS = {"south": (0.0, -0.1), "north": (0.0, 0.1), "west": (-0.1, 0.0), "east": (0.1, 0.0)}


def tiny_town_osm(*, origin: tuple[float, float] | None = None, spacing: float = 80.0) -> str:
    """OSM XML of a tiny made-up town that exercises every stage of a run.

    Parameters
    ----------
    origin
        Latitude and longitude (degrees) of its south-west corner; by default in central
        Helsinki (60.165° N, 24.930° E).
    spacing
        Metres between its streets (every length in the town scales with it).

    Returns
    -------
    str
        An ``<osm>`` document: a 6 × 6 grid of residential streets `spacing` (80 m)
        apart; two apartment buildings in every block but one (an empty block, 80 m ×
        80 m, a candidate site large enough for links across it, with a junction in the
        middle of each side); shops, a café, a library, a monument and a park.

    Examples
    --------
    >>> text = tiny_town_osm()
    >>> text.startswith("<?xml"), text.count('k="highway"'), text.count('k="building"')
    (True, 16, 48)
    """
    lat0, lon0 = origin or (_LAT0, _LON0)
    dlat = spacing / 111_320
    dlon = spacing / (111_320 * math.cos(math.radians(lat0)))

    def _grid_ll(i: float, j: float) -> tuple[float, float]:
        return lat0 + j * dlat, lon0 + i * dlon

    nodes: list[str] = []
    ways: list[str] = []
    ids = iter(range(1, 1_000_000))

    def node(lat: float, lon: float, tags: dict[str, str] | None = None) -> int:
        nid = next(ids)
        body = "".join(f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in (tags or {}).items())
        nodes.append(f'<node id="{nid}" version="1" lat="{lat:.7f}" lon="{lon:.7f}">{body}</node>')
        return nid

    def way(refs: list[int], tags: dict[str, str]) -> None:
        body = "".join(f'<nd ref="{r}"/>' for r in refs)
        body += "".join(f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items())
        ways.append(f'<way id="{next(ids)}" version="1">{body}</way>')

    def square(i: float, j: float, size: float, tags: dict[str, str]) -> None:
        corners = [(i, j), (i + size, j), (i + size, j + size), (i, j + size)]
        refs = [node(*_grid_ll(a, b)) for a, b in corners]
        way([*refs, refs[0]], tags)

    grid = [[node(*_grid_ll(i, j)) for j in range(_N)] for i in range(_N)]
    # the empty block (2, 2): a node in the middle of each side, with a footpath stub
    # outwards (so that it is a junction), gives access points that only a detour of
    # 160 m joins across an 80 m block: the run adds links there
    mid = {side: node(*_grid_ll(*xy)) for side, xy in _MIDS.items()}
    for side, (x, y) in _MIDS.items():
        dx, dy = _STUBS[side]
        way([mid[side], node(*_grid_ll(x + dx, y + dy))], {"highway": "footway"})
    for k in range(_N):
        row = [grid[i][k] for i in range(_N)]
        col = [grid[k][j] for j in range(_N)]
        if k in (2, 3):
            row.insert(3, mid["south" if k == 2 else "north"])
            col.insert(3, mid["west" if k == 2 else "east"])
        way(row, {"highway": "residential", "name": f"Katu {k}"})
        way(col, {"highway": "residential", "name": f"Tie {k}"})
    home = {"building": "apartments", "building:levels": "4"}
    for i in range(_N - 1):
        for j in range(_N - 1):
            if (i, j) == (2, 2):
                continue  # the empty block
            square(i + 0.15, j + 0.15, 0.3, home)
            square(i + 0.55, j + 0.55, 0.3, {**home, "building:levels": "2"})
    for k, tags in enumerate(
        (
            {"shop": "supermarket", "name": "Kauppa"},
            {"amenity": "cafe", "name": "Kahvila"},
            {"amenity": "library", "name": "Kirjasto"},
            {"amenity": "pharmacy"},
            {"shop": "bakery"},
            {"historic": "monument", "name": "Muistomerkki"},
        )
    ):
        node(*_grid_ll(0.5 + k * 0.8, 0.05), tags)
    square(3.1, 4.1, 0.8, {"leisure": "park", "name": "Puisto"})
    head = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="rakennettu">']
    return "\n".join([*head, *nodes, *ways, "</osm>"])


_WORKFLOW = """[town]
name = "warmup"
title = "Warm-up"
crs = "EPSG:3067"
[osm]
path = {path}
[outputs]
map = false
report = false
[cultural]
visibility = "viewshed"
[candidates]
draws = 20
[cache]
folder = {cache}
"""


def tiny_workflow(folder: str | Path) -> Path:
    """Write the tiny town (:func:`tiny_town_osm`) and its workflow into ``folder``.

    The map and report are left out (they compile nothing); the landmarks are seen
    through viewsheds so that those kernels compile too; the cache is ``folder/cache``.

    Returns
    -------
    pathlib.Path
        The workflow file, ``folder/warmup.toml``.
    """
    folder = Path(folder)
    osm = folder / "warmup.osm"
    osm.write_text(tiny_town_osm(), encoding="utf-8")
    toml = folder / "warmup.toml"
    text = _WORKFLOW.format(path=json.dumps(str(osm)), cache=json.dumps(str(folder / "cache")))
    toml.write_text(text, encoding="utf-8")
    return toml


def tiny_run(folder: str | Path) -> RunResult:
    """Run the tiny town (:func:`tiny_workflow`) with its files in ``folder``."""
    from rakennettu import load_workflow, run

    return run(load_workflow(tiny_workflow(folder)), out_dir=Path(folder) / "out")


def warm() -> float:
    """Run the tiny town once (compiling every kernel into the cache); return seconds."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="rakennettu-warmup-") as tmp:
        tiny_run(tmp)
    return time.perf_counter() - started


def main() -> int:
    """Warm the cache; on failure say so (the first run will compile instead)."""
    try:
        seconds = warm()
    except Exception as e:  # the install must not fail because of the warm-up
        print(
            f"rakennettu: warming the numba cache failed ({type(e).__name__}: {e}); "
            "the first run will compile the kernels instead (15-20 s)",
            file=sys.stderr,
        )
        return 0
    print(f"rakennettu: numba kernels compiled and cached in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
