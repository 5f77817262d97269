"""A fast stand-in for a run's computation, to test how outputs are written.

``computed(wf)`` returns what :func:`rakennettu.workflow._compute` returns, in
milliseconds, from the tiny town of ``outputs_town``; everything after it (the
GeoPackage, the CSV, run.json, the pages, the output folder's staging, lock and swap) is
the real code. The ranking depends on the workflow: with an even ``[candidates] seed``
site C2 ranks first, with an odd one C4, so two workflows give outputs that tell apart
in every file.

Run as a script, it is a ``rakennettu`` command line with that stand-in, and a pause
at one moment of the writing (for the interrupt tests)::

    python tests/fake_run.py PAUSE FLAGDIR -- run WORKFLOW --out DIR

``PAUSE`` is ``none``, ``compute`` (before anything is written), ``gpkg`` (after the
GeoPackage's first layer), ``csv`` (after the GeoPackage, before the CSV), ``commit``
(every file written, before the swap) or ``kernel`` (inside a long compiled network
kernel). At the pause the script creates ``FLAGDIR/ready`` and waits until
``FLAGDIR/go`` exists (or a signal comes).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pyproj

sys.path.insert(0, str(Path(__file__).resolve().parent))

from outputs_town import tiny_layers

FIRST = {0: "C2", 1: "C4"}  # the site ranked first, by the parity of the seed


def computed(wf: Any) -> Any:
    """A run's results for the tiny town; the ranking follows ``wf.candidates.seed``."""
    from rakennettu.workflow import _Computed

    layers = tiny_layers()
    cands = layers["candidates"]
    if wf.candidates.seed % 2:
        cands = cands.assign(score=1 - cands["score"], rank=6 - cands["rank"])
    layers["candidates"] = cands.sort_values("rank", kind="stable")
    town = SimpleNamespace(title="Testi", sources=[], area_km2=0.24, crs=pyproj.CRS.from_epsg(3067))
    ranking = SimpleNamespace(stability=0.5, sensitivity=None)
    return _Computed(town, layers, {}, ranking, {"load": 0.01}, {"language": "en"})  # type: ignore[arg-type]


def signature(folder: Path) -> dict[str, str]:
    """The first-ranked site as each file of a folder says it."""
    import json

    import pandas as pd
    import pyogrio

    gpkg = pyogrio.read_dataframe(folder / "vitality.gpkg", layer="candidates")
    csv = pd.read_csv(folder / "candidates.csv")
    record = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    out = {
        "gpkg": str(gpkg.sort_values("rank")["candidate_id"].iloc[0]),
        "csv": str(csv["candidate_id"].iloc[0]),
        "run.json": FIRST[record["workflow"]["candidates"]["seed"] % 2],
    }
    for page in ("map.html", "report.html"):
        if not (folder / page).exists():
            continue
        text = (folder / page).read_text(encoding="utf-8")

        # sites are listed in rank order, as "Site id: C2<" (map), "Site id: <span
        # translate="no">C2<" (report) or "C2 · surface parking"
        def first(c: str, text: str = text) -> int:
            marks = (f"Site id: {c}<", f'Site id: <span translate="no">{c}<', f"{c} \u00b7 ")
            found = [text.find(m) for m in marks]
            return min(f for f in found if f >= 0)

        out[page] = min(("C2", "C4"), key=first)
    return out


def _pause(flags: Path, *, wait: bool = True) -> None:
    (flags / "ready").touch()
    while wait and not (flags / "go").exists():
        time.sleep(0.02)


def _long_kernel(at_pause: Any) -> None:
    """Street centrality on a grid of 10,000 nodes to 3 km, again and again."""
    import networkx as nx

    from rakennettu.network import StreetNetwork, centrality

    def grid(side: int) -> Any:
        g = nx.MultiGraph(crs="EPSG:3067")
        for i in range(side):
            for j in range(side):
                g.add_node(i * side + j, x=100.0 * i, y=100.0 * j)
                if i:
                    g.add_edge((i - 1) * side + j, i * side + j, length=100.0)
                if j:
                    g.add_edge(i * side + j - 1, i * side + j, length=100.0)
        return g

    centrality(StreetNetwork.from_graph(grid(4)), [300])  # compiled (or from the cache)
    net = StreetNetwork.from_graph(grid(100))
    at_pause(wait=False)
    while True:  # until the signal
        centrality(net, [500.0, 1000.0, 2000.0, 3000.0])


def stand_in(pause: str, at_pause: Any, patch: Any) -> None:
    """Put the stand-in computation in place, and ``at_pause()`` at the moment ``pause``.

    ``patch(owner, name, value)`` sets an attribute (``setattr``, or pytest's
    ``monkeypatch.setattr``).
    """
    import pyogrio

    import rakennettu.workflow as workflow
    from rakennettu.outputs import gpkg as gpkg_module
    from rakennettu.outputs.folder import OutputFolder

    def compute(wf: Any, progress: bool, cache: Any = None) -> Any:
        if pause == "compute":
            at_pause()
        if pause == "kernel":
            _long_kernel(at_pause)
        return computed(wf)

    patch(workflow, "_compute", compute)
    if pause == "gpkg":
        write = pyogrio.write_dataframe
        calls = []

        def write_then_pause(*args: Any, **kwargs: Any) -> Any:
            if calls:
                at_pause()
            calls.append(1)
            return write(*args, **kwargs)

        fake = SimpleNamespace(
            write_dataframe=write_then_pause,
            list_layers=pyogrio.list_layers,
            get_gdal_config_option=pyogrio.get_gdal_config_option,
            set_gdal_config_options=pyogrio.set_gdal_config_options,
        )
        patch(gpkg_module, "pyogrio", fake)
    if pause == "csv":
        csv = workflow.write_candidates_csv

        def pause_then_csv(*args: Any) -> Any:
            at_pause()
            return csv(*args)

        patch(workflow, "write_candidates_csv", pause_then_csv)
    if pause == "commit":
        commit = OutputFolder.commit

        def pause_then_commit(self: OutputFolder) -> None:
            at_pause()
            commit(self)

        patch(OutputFolder, "commit", pause_then_commit)


def main() -> None:
    """The command line with the stand-in computation and a pause."""
    from rakennettu.cli import main as cli_main

    pause, flags = sys.argv[1], Path(sys.argv[2])
    sys.argv = ["rakennettu", *sys.argv[4:]]
    stand_in(pause, lambda wait=True: _pause(flags, wait=wait), setattr)
    cli_main()


if __name__ == "__main__":
    main()
