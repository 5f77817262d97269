"""Importing the package (and starting the CLI) leaves the heavy libraries unloaded.

momepy (with libpysal and scikit-learn), osmnx, matplotlib, folium and Dask cost 0.2-2 s
each to import; the modules that need them import them where they are used, so that
``import rakennettu``, ``rakennettu --help`` and a run whose town and layers come from
the stage cache do not pay for them.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("momepy", "libpysal", "sklearn", "osmnx", "matplotlib", "folium", "dask", "distributed")


def test_importing_the_package_loads_no_heavy_library():
    code = (
        "import json, sys, rakennettu, rakennettu.cli, rakennettu.workflow; "
        f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert json.loads(out.stdout) == []
