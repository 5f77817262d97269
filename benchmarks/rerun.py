"""A rerun after a weight change: everything computed again, against the stage cache.

For each bundled town: one run with the workflow's weights fills a fresh stage cache;
then the same town with other weights runs twice, once with the cache off (``--no-cache``:
the whole run, as before the cache existed) and once with it (the layers and the site
gains read back, only the ranking and the outputs redone). Each run is its own
``rakennettu -q run`` process; wall time and the CPU seconds (user + system) of that
process are reported, with the load average at its start.

    PYTHONPATH=src python benchmarks/rerun.py [--towns kotka-karhula helsinki-keskusta]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WEIGHTS = "\n[synthesis]\nweights = { morph = 1, soc = 2, cult = 0.5 }\n"


def timed(args: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds of the child process and the 1-minute load at its start."""
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(args, env=env, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--towns", nargs="+", default=["kotka-karhula", "helsinki-keskusta"])
    towns = parser.parse_args().towns
    tmp = Path(tempfile.mkdtemp(prefix="rerun-"))
    env = {**os.environ, "RAKENNETTU_CACHE": str(tmp / "cache")}
    print(f"outputs and cache in {tmp}", file=sys.stderr)
    exe = [sys.executable, "-c", "from rakennettu.cli import main; main()", "-q", "run"]
    print("| town | rerun with new weights | wall s | CPU s | load at start |")
    print("|---|---|---:|---:|---:|")
    for town in towns:
        text = (ROOT / "workflows" / f"{town}.toml").read_text(encoding="utf-8")
        reweighted = tmp / f"{town}.toml"
        reweighted.write_text(text + WEIGHTS, encoding="utf-8")
        timed([*exe, str(ROOT / "workflows" / f"{town}.toml"), "--out", str(tmp / "a")], env)
        rows = {
            "everything computed (--no-cache)": [*exe, str(reweighted), "--no-cache"],
            "layers from the stage cache": [*exe, str(reweighted)],
        }
        for what, args in rows.items():
            wall, cpu, load = timed([*args, "--out", str(tmp / what[:6])], env)
            print(f"| {town} | {what} | {wall:.1f} | {cpu:.1f} | {load:.1f} |", flush=True)


if __name__ == "__main__":
    main()
