"""One run, end to end: the only module that reads a workflow and chains the stages.

Every stage is a plain function that a notebook can call on its own; :func:`run` only
calls them in order, times them and writes the outputs.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from rakennettu.config import Workflow, load_workflow
from rakennettu.outputs.gpkg import write_gpkg
from rakennettu.sources.municipal import inspect_layer
from rakennettu.sources.osm import scan_osm_file
from rakennettu.town import Town, _osm_path, load_town

__all__ = ["RunResult", "run", "validate"]

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    """What a run produced."""

    workflow: Workflow
    town: Town
    out_dir: Path
    files: dict[str, Path] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def _resolve(workflow: Workflow | str | Path) -> Workflow:
    from rakennettu._resources import bundled_workflows

    if isinstance(workflow, Workflow):
        return workflow
    if isinstance(workflow, str) and workflow in bundled_workflows():
        return load_workflow(bundled_workflows()[workflow])
    return load_workflow(workflow)


def validate(workflow: Workflow | str | Path) -> list[str]:
    """Check a workflow without running it: the file, its inputs, columns and CRSs.

    Returns
    -------
    list of str
        What was checked, one line each.

    Raises
    ------
    RakennettuError
        The first problem found (a ConfigError lists every problem of the file itself).

    Examples
    --------
    >>> validate("kotka-karhula")[0]
    'workflow: kotka-karhula (Kotka, Karhula), CRS EPSG:3067, radii [400, 800, 1200] m'
    """
    wf = _resolve(workflow)
    lines = [
        f"workflow: {wf.town.name} ({wf.title}), CRS {wf.town.crs}, "
        f"radii {list(wf.network.radii)} m"
    ]
    if wf.osm.source == "file":
        path = _osm_path(wf)
        n_ways, _ = scan_osm_file(path)
        lines.append(f"osm: {path} reads to its end ({n_ways:,} ways)")
    else:
        lines.append("osm: online query (cached after the first run)")
    for lay in wf.layers:
        if lay.url is not None:
            lines.append(f"layer {lay.role}: WFS {lay.url} ({lay.layer}); not contacted here")
            continue
        if lay.role == "dem":
            lines.append(f"layer dem: {lay.path}")
            continue
        info = inspect_layer(lay)
        lines.append(
            f"layer {lay.role}: {info.label}, {info.n_features:,} features, "
            f"{info.crs.to_string()}, columns {dict(lay.columns)}"
        )
    return lines


def run(
    workflow: Workflow | str | Path,
    *,
    out_dir: str | Path | None = None,
    progress: bool = False,
) -> RunResult:
    """Run a workflow: load the town and write its layers to ``out_dir/vitality.gpkg``.

    Parameters
    ----------
    workflow
        A Workflow, a workflow file, or a bundled town's name.
    out_dir
        Output folder; by default the workflow's ``[outputs] folder`` (``out/<town>``).
    progress
        Log each stage as it finishes.
    """
    wf = _resolve(workflow)
    out = Path(out_dir) if out_dir is not None else wf.out_dir
    timings: dict[str, float] = {}

    t = time.perf_counter()
    town = load_town(wf, progress=progress)
    timings["load"] = time.perf_counter() - t
    for k, v in town.report.get("timings_s", {}).items():
        if k != "total":
            timings[f"load.{k}"] = v

    t = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    gpkg = write_gpkg(town.layers(), out / "vitality.gpkg")
    timings["write"] = time.perf_counter() - t
    log.log(logging.INFO if progress else logging.DEBUG, "wrote %s", gpkg)
    return RunResult(workflow=wf, town=town, out_dir=out, files={"gpkg": gpkg}, timings=timings)


def summary_lines(result: RunResult) -> list[str]:
    """A short printable summary of a run."""
    town = result.town
    lines = [
        f"{town.title}: {town.area_km2:.2f} km², CRS {town.crs.to_string()} ({town.crs.name})",
        "",
        f"{'layer':<14}{'rows':>8}{'in area':>9}",
    ]
    for name, row in town.summary().iterrows():
        lines.append(f"{name:<14}{row['rows']:>8,}{row['in area']:>9,}")
    lines += ["", f"{'step':<22}{'seconds':>8}"]
    lines += [f"{k:<22}{v:>8.2f}" for k, v in result.timings.items()]
    lines += ["", *(f"{k}: {v}" for k, v in result.files.items())]
    return lines
