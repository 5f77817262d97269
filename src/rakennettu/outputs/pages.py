"""The HTML outputs of a run, written together, and rebuilt from an output folder.

:func:`write_pages` writes ``map.html`` and ``report.html`` from a run's layers and its
record; :func:`rebuild` does the same from what a run left in its folder
(``vitality.gpkg`` and ``run.json``), without recomputing anything: after changing the
map's or report's code, or to get the online-tiles variant of the map.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio

from rakennettu.errors import SourceError
from rakennettu.outputs._aside import Aside
from rakennettu.outputs.folder import OutputFolder
from rakennettu.outputs.record import read_record

__all__ = ["GPKG", "MAP", "RECORD", "REPORT", "pages_process", "rebuild", "write_pages"]

log = logging.getLogger(__name__)

GPKG = "vitality.gpkg"
RECORD = "run.json"
MAP = "map.html"
REPORT = "report.html"

#: From this many hexagons and buildings together, the map is drawn in a second process
#: while the report is drawn in this one, on a machine with two cores or more. Below it the
#: second process's start (~2 s of imports) costs more than it saves.
ASIDE_FROM = 10_000

# Layers the pages draw; the rest of the GeoPackage is not read.
_USED = ("cells", "nodes", "edges", "buildings", "landmarks", "third_places", "activities",
         "green_blue", "candidates", "candidate_links", "possibly_unmapped", "districts",
         "sea")  # fmt: skip


def write_pages(
    layers: Mapping[str, gpd.GeoDataFrame],
    record: Mapping[str, Any] | None,
    out_dir: str | Path,
    *,
    title: str | None = None,
    language: str | None = None,
    tiles: bool = False,
    map: bool = True,
    report: bool = True,
    process: Aside | None = None,
) -> dict[str, Path]:
    """Write ``map.html`` and ``report.html`` into ``out_dir``, each atomically.

    Parameters
    ----------
    layers
        The run's frames by layer name, in the town's metric CRS.
    record
        The run record.
    out_dir
        The output folder.
    title
        The town's display name (default: the record's).
    language
        The pages' language (default: the record's ``language``, else English).
    tiles
        Add OpenStreetMap's online tiles to the map as an option.
    map, report
        Which pages to write.
    process
        A second process (:func:`pages_process`) to draw the map in while the report is
        drawn here; by default one is started for a large town on two cores or more.

    Returns
    -------
    dict
        ``{"map": path, "report": path}`` (the pages written).
    """
    out = Path(out_dir)
    town = (record or {}).get("town") or {}
    name = title or town.get("title") or town.get("name") or out.name
    used = {k: v for k, v in layers.items() if k in _USED}
    lang = language or (record or {}).get("language") or "en"
    rec = dict(record or {})
    rec.setdefault("town", {"title": name})
    files = {}
    own = None
    if process is None and map and report and _draw_aside(used):
        process = own = pages_process(used)
    with own or contextlib.nullcontext():
        if process is not None and map and report:  # the map there, the report here
            process.call(_write_map, used, name, record, tiles, lang, out / MAP)
        elif map:
            files["map"] = _write_map(used, name, record, tiles, lang, out / MAP)
        if report:
            files["report"] = _write_report(used, rec, out / REPORT, lang)
        if process is not None and map and report:
            files["map"] = Path(process.result())
    return files


def pages_process(layers: Mapping[str, gpd.GeoDataFrame]) -> Aside | None:
    """A second process to draw a large town's map in, or None (a small town, one core).

    Start it before the pages are due, e.g. before the GeoPackage is written: its imports
    (seconds) then cost no time. Pass it to :func:`write_pages` inside its ``with`` block,
    which ends the process if the run stops before the pages are written.
    """
    if not _draw_aside(layers):
        return None
    return Aside(warm=("rakennettu.outputs.pages", "rakennettu.outputs.map"))


def rebuild(
    out_dir: str | Path,
    *,
    tiles: bool = False,
    language: str | None = None,
    town: str | None = None,
    wait: bool = False,
) -> dict[str, Path]:
    """Rewrite ``map.html`` and ``report.html`` from an output folder, recomputing nothing.

    The folder is replaced as a whole (:class:`~rakennettu.outputs.folder.OutputFolder`):
    the pages are written into a copy of it (hard links) that is swapped in at the end, so
    an interrupt leaves the old pages, and a run cannot write the folder meanwhile.

    Parameters
    ----------
    out_dir
        A run's output folder, holding ``vitality.gpkg`` and ``run.json``.
    tiles
        Add OpenStreetMap's online tiles to the map as an option.
    language
        The pages' language (default: the run's, from its record).
    town
        The town expected in the folder (refused if its ``run.json`` names another).
    wait
        Wait for a run that is writing the folder, instead of failing.

    Returns
    -------
    dict
        ``{"map": path, "report": path}``.

    Raises
    ------
    SourceError
        The folder has no ``vitality.gpkg`` or no readable ``run.json``.
    FolderBusyError
        A run is writing the folder (and ``wait`` is False).
    """
    out = Path(out_dir)
    gpkg = out / GPKG
    if not gpkg.is_file():
        raise SourceError(
            f"{gpkg}: not found; point to a run's output folder (run the workflow first: "
            "rakennettu run WORKFLOW)"
        )
    with OutputFolder(out, town=town, wait=wait, seed=True) as folder:
        record = read_record(folder.path / RECORD)
        layers = _read_layers(folder.path / GPKG)
        log.info("rebuilding the pages of %s from %s layers", out, len(layers))
        files = write_pages(layers, record, folder.path, tiles=tiles, language=language)
        files = {k: out / Path(v).relative_to(folder.path) for k, v in files.items()}
        folder.commit()
    return files


def _read_layers(path: Path) -> dict[str, gpd.GeoDataFrame]:
    names = [str(n) for n, _ in pyogrio.list_layers(path)]
    return {n: gpd.read_file(path, layer=n, engine="pyogrio") for n in names if n in _USED}


def _write_map(
    layers: Mapping[str, gpd.GeoDataFrame],
    title: str,
    record: Mapping[str, Any] | None,
    tiles: bool,
    lang: str,
    path: Path,
) -> Path:
    # folium and matplotlib are imported here, not with the package (half a second)
    from rakennettu.outputs.map import build_map, write_map

    return write_map(
        build_map(layers, title=title, record=record, tiles=tiles, language=lang), path
    )


def _write_report(
    layers: Mapping[str, gpd.GeoDataFrame], record: Mapping[str, Any], path: Path, lang: str
) -> Path:
    from rakennettu.outputs.report import build_report, write_report

    return write_report(build_report(layers, record, language=lang), path)


def _draw_aside(layers: Mapping[str, gpd.GeoDataFrame]) -> bool:
    """Whether to draw the map in a second process: a large town, and a core for it."""
    size = sum(len(layers[k]) for k in ("cells", "buildings") if layers.get(k) is not None)
    if size < ASIDE_FROM or multiprocessing.current_process().daemon:
        return False  # small: the process's start costs more; a daemon has no children
    # (a Dask worker: its tasks share its cores already)
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return cores > 1
