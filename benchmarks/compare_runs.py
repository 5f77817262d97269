"""Compare two run output folders of one town: are the outputs identical?

Usage::

    python benchmarks/compare_runs.py BASELINE_DIR NEW_DIR [BASELINE_DIR NEW_DIR ...]

Each pair is a town's output folder (``out/<town>``). Compared:

- every layer of ``vitality.gpkg``: columns, dtypes, index and values (pandas testing,
  exact), geometry as WKB bytes;
- ``candidates.csv`` byte for byte;
- ``surfaces/*.tif``: pixel arrays, transform and CRS;
- ``run.json`` parsed, without what differs between any two runs (timings, dates,
  versions, code hashes).

Prints one line per difference and ``identical`` per town; exits 1 on any difference.
A refactoring check, not a timed benchmark.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pyogrio

#: run.json keys that differ between any two runs of the same code and data.
VOLATILE = {"created", "rakennettu", "python", "platform", "versions", "libraries", "timings_s"}


def _layers(path: Path) -> list[str]:
    return [str(name) for name, _ in pyogrio.list_layers(path)]


def compare_gpkg(old: Path, new: Path) -> list[str]:
    """Differences between two GeoPackages, layer by layer."""
    out: list[str] = []
    a_layers, b_layers = _layers(old), _layers(new)
    if a_layers != b_layers:
        out.append(f"gpkg layers differ: {a_layers} vs {b_layers}")
    for name in sorted(set(a_layers) & set(b_layers)):
        a = pyogrio.read_dataframe(old, layer=name, fid_as_index=True)
        b = pyogrio.read_dataframe(new, layer=name, fid_as_index=True)
        try:
            pd.testing.assert_frame_equal(
                pd.DataFrame(a.drop(columns=a.geometry.name)),
                pd.DataFrame(b.drop(columns=b.geometry.name)),
                check_exact=True,
                obj=name,
            )
            wkb_a = a.geometry.to_wkb().tolist()
            wkb_b = b.geometry.to_wkb().tolist()
            if wkb_a != wkb_b:
                diff = sum(x != y for x, y in zip(wkb_a, wkb_b, strict=True))
                out.append(f"gpkg {name}: {diff} geometries differ")
            if a.crs != b.crs:
                out.append(f"gpkg {name}: CRS differs")
        except AssertionError as err:
            out.append(f"gpkg {name}: {str(err).splitlines()[0:3]}")
    return out


def compare_rasters(old: Path, new: Path) -> list[str]:
    """Differences between the GeoTIFF surfaces of two runs."""
    import numpy as np
    import rasterio

    out: list[str] = []
    a = sorted(p.name for p in (old / "surfaces").glob("*.tif"))
    b = sorted(p.name for p in (new / "surfaces").glob("*.tif"))
    if a != b:
        out.append(f"surfaces differ: {a} vs {b}")
    for name in sorted(set(a) & set(b)):
        with (
            rasterio.open(old / "surfaces" / name) as ra,
            rasterio.open(new / "surfaces" / name) as rb,
        ):
            same = (
                ra.transform == rb.transform
                and ra.crs == rb.crs
                and np.array_equal(ra.read(), rb.read(), equal_nan=True)
            )
        if not same:
            out.append(f"surface {name} differs")
    return out


def _strip(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in VOLATILE}


def _diff(a: Any, b: Any, path: str, out: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            if k not in a or k not in b:
                out.append(f"run.json {path}.{k}: only in {'new' if k in b else 'baseline'}")
            else:
                _diff(a[k], b[k], f"{path}.{k}", out)
    elif a != b:
        out.append(f"run.json {path}: {a!r:.80} vs {b!r:.80}")


def compare_record(old: Path, new: Path) -> list[str]:
    """Differences between two run records, without the volatile keys."""
    a = _strip(json.loads((old / "run.json").read_text(encoding="utf-8")))
    b = _strip(json.loads((new / "run.json").read_text(encoding="utf-8")))
    out: list[str] = []
    _diff(a, b, "", out)
    return out


def compare(old: Path, new: Path) -> list[str]:
    """Every difference between two output folders of one town."""
    out = compare_gpkg(old / "vitality.gpkg", new / "vitality.gpkg")
    if (old / "candidates.csv").read_bytes() != (new / "candidates.csv").read_bytes():
        out.append("candidates.csv differs")
    out += compare_rasters(old, new)
    out += compare_record(old, new)
    return out


def main(argv: list[str]) -> int:
    if not argv or len(argv) % 2:
        print(__doc__)
        return 2
    bad = 0
    for old, new in zip(argv[::2], argv[1::2], strict=True):
        diffs = compare(Path(old), Path(new))
        print(f"{Path(new).name}: {'identical' if not diffs else f'{len(diffs)} differences'}")
        for line in diffs:
            print("  " + line)
        bad += bool(diffs)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
