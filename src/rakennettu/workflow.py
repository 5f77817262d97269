"""One run, end to end: the only module that reads a workflow and chains the stages.

Every stage is a plain function that a notebook can call on its own; :func:`run` only
calls them in order, times them and writes the outputs.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import pandas as pd
import shapely
from shapely import box

from rakennettu import interrupt
from rakennettu._io import output_errors
from rakennettu._threads import Background, Once
from rakennettu._timing import Stages
from rakennettu.cache import Stage, StageCache, cached_town, stage_key
from rakennettu.checks import check_names, inspect_workflow
from rakennettu.completeness import Completeness, completeness, figures_record
from rakennettu.config import Workflow, resolve_workflow
from rakennettu.errors import ConfigError, EmptyDataError, suggest
from rakennettu.i18n import (
    N_,
    Language,
    Said,
    choose_language,
    kind_words,
    language,
    speak,
    speaking,
)
from rakennettu.layers.cultural import CulturalLayer, age_by_cell, cultural_layer
from rakennettu.layers.form import FLOORS
from rakennettu.layers.morphology import MorphologyLayer, morphology_layer
from rakennettu.layers.social import (
    SocialLayer,
    activity_categories,
    estimate_population,
    floor_areas,
    homes_of_unknown_use,
    social_layer,
)
from rakennettu.network import StreetNetwork, centrality_with_edges
from rakennettu.outputs._aside import Aside
from rakennettu.outputs.folder import OutputFolder
from rakennettu.outputs.gpkg import write_gpkg
from rakennettu.outputs.pages import pages_process, write_pages
from rakennettu.outputs.rasters import write_geotiff
from rakennettu.outputs.record import collect_warnings, run_record, write_record
from rakennettu.outputs.spreadsheet import write_csv
from rakennettu.prepare import Prepared, prepare
from rakennettu.region import region_client, tiled_centrality
from rakennettu.sources.basemap import districts, sea
from rakennettu.sources.taxonomy import classify_each
from rakennettu.synthesis.candidates import (
    access_nodes,
    area_within,
    built_envelope,
    collect_candidates,
    empty_blocks,
    possibly_unmapped,
    site_context,
    undevelopable,
)
from rakennettu.synthesis.describe import describe_sites
from rakennettu.synthesis.grid import hex_grid
from rakennettu.synthesis.ground import ground_cover, keep_ground
from rakennettu.synthesis.leverage import (
    LeverageContext,
    Program,
    build_context,
    leverage_tables,
    links_frame,
    parse_program,
    people_by_node,
)
from rakennettu.synthesis.ranking import Ranking, rank_candidates
from rakennettu.synthesis.scores import adapt, vitality
from rakennettu.synthesis.units import cells_from_nodes, form_by_cell
from rakennettu.town import Town, load_town

__all__ = ["RunResult", "run", "run_language", "stage_line", "summary_lines", "validate"]

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    """What a run produced."""

    workflow: Workflow
    town: Town
    out_dir: Path
    layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    record: dict[str, Any] = field(default_factory=dict)
    ranking: Ranking | None = None


def validate(workflow: Workflow | str | Path) -> list[str]:
    """Check a workflow without running it: what a run would reject, found in seconds.

    See :func:`rakennettu.checks.inspect_workflow` for what is checked.

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
    >>> for line in validate("kotka-karhula")[:3]:
    ...     print(line)  # doctest: +NORMALIZE_WHITESPACE
    workflow: kotka-karhula (Kotka, Karhula), CRS EPSG:3067 ETRS89 / TM35FIN(E,N),
      radii [400, 800, 1200] m
    osm: ... reads to its end (... ways)
    area: whole extract, ... km², town CRS EPSG:3067 ETRS89 / TM35FIN(E,N)
    """
    return inspect_workflow(resolve_workflow(workflow))


def run(
    workflow: Workflow | str | Path,
    *,
    out_dir: str | Path | None = None,
    progress: bool = False,
    wait: bool = False,
    before_commit: Callable[[RunResult, Path], None] | None = None,
    cache: bool | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
) -> RunResult:
    """Run a workflow: load the town, compute its layers, write ``out_dir/vitality.gpkg``.

    The output folder is written as one unit (:mod:`rakennettu.outputs.folder`): every
    file goes into a staging folder beside it, swapped in when all are complete. An error
    or an interrupt (Ctrl-C, SIGTERM) leaves the previous outputs as they were.

    Parameters
    ----------
    workflow
        A Workflow, a workflow file, or a bundled town's name.
    out_dir
        The output folder itself; by default the workflow's ``[outputs] folder``
        (``out/<town>``).
    progress
        Log each stage as it finishes and show progress bars.
    wait
        If another run is writing the same folder, wait for it instead of failing.
    before_commit
        Called with the result and the staging folder when every output is written,
        before the swap: to add files of one's own (a batch's ``batch.json``).
    cache
        Read and keep the layer stages in the stage cache (:mod:`rakennettu.cache`,
        in ``<cache folder>/stages``); by default the workflow's ``[cache] stages``.
        ``run.json`` says per stage whether it was ``computed`` or ``cached``.
    scheduler, workers
        Where the tiles of ``[region] tile_size`` run: a running Dask scheduler's address,
        or a local cluster of ``workers`` processes (default 2). Unused without tiles.

    Raises
    ------
    FolderBusyError
        Another run holds the output folder (and ``wait`` is False).
    OutputFolderError
        The folder holds another town's outputs, or files that are not outputs.
    KeyboardInterrupt
        SIGINT or SIGTERM; the folder is left as it was.
    """
    wf = resolve_workflow(workflow)
    out = Path(out_dir) if out_dir is not None else wf.out_dir
    check_names(wf)
    with (
        interrupt.handling(),
        output_errors(out),
        collect_warnings() as warns,
        speaking(),
        OutputFolder(out, town=wf.town.name, wait=wait) as folder,
    ):
        use = wf.cache.stages if cache is None else cache
        stages = StageCache(wf.cache_dir if use else None)
        tiled = {"tiles": (scheduler, workers)} if wf.region.tile_size else {}
        done = _compute(wf, progress, stages, **tiled)
        result = _write(wf, done, folder.path, warns, progress)
        if before_commit is not None:
            before_commit(result, folder.path)
        folder.commit()
    files = {k: out / Path(v).relative_to(result.out_dir) for k, v in result.files.items()}
    return replace(result, out_dir=out, files=files)


def _stages(progress: bool, lang: list[Language]) -> Stages:
    return Stages(
        "run",
        log,
        level=logging.INFO if progress else logging.DEBUG,
        describe=lambda name, s: stage_line(lang[0], name, s),
    )


def _centrality(
    wf: Workflow, net: StreetNetwork, tiles: tuple[str | None, int | None]
) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """The street centralities tile by tile on Dask (``[region] tile_size``), else None."""
    if not wf.region.tile_size:
        return None
    with region_client(*tiles) as (client, threads):
        return tiled_centrality(
            net,
            wf.network.radii,
            tile_size=wf.region.tile_size,
            client=client,
            numba_threads=threads or None,
        )


def _compute(
    wf: Workflow,
    progress: bool,
    cache: StageCache | None = None,
    tiles: tuple[str | None, int | None] = (None, None),
) -> _Computed:
    """Every stage of a run up to its outputs, in memory (tiles: scheduler, workers).

    The stages of :data:`STAGES` are read from ``cache`` when their key is there.
    """
    cache = cache if cache is not None else StageCache(None)
    lang = [language(run_language(wf))]  # known better once the town is loaded
    stage = _stages(progress, lang)
    with stage("load"):
        town, content = _load(wf, cache, progress)
        lang[0] = language(run_language(wf, town))
        speak(lang[0])  # the console says the run's warnings in its language
        _check_planner_programs(wf, town)  # a typo found now, not after every layer
    cached = _StageRunner(wf, content, cache)
    with stage("network"):
        net = StreetNetwork.from_graph(town.graph)
    with stage("prepare"):
        prep = prepare(town, wf.form, wf.social, progress=progress)
        cached.key("prepare")
    morph, social, complete, cult = _layers(wf, town, net, prep, cached, stage, tiles, progress)
    with stage("cells"):
        nodes = town.nodes.join(morph.nodes).join(social.nodes).join(cult.nodes)
        people = social.buildings.drop(columns=["geometry", "in_area"])
        buildings = (
            town.buildings.join(morph.buildings).join(people, how="left").join(cult.buildings)
        )
        grid = hex_grid(town.area, wf.synthesis.cell_size, crs=town.crs)
        cells = grid.join(cells_from_nodes(grid, nodes, reach=wf.synthesis.node_reach))
        cells = cells.join(form_by_cell(grid, buildings, morph.cells))
        cells = cells.join(age_by_cell(town.buildings, grid, age_periods=wf.cultural.age_periods))

    with stage("vitality"):
        spec = _indicator_spec(wf, cells)
        weights = {str(d): float(w) for d, w in wf.synthesis.weights.items()}
        usable = cells["access"] != "none"
        adapted = adapt(cells[usable.to_numpy(dtype=bool)], spec, weights)
        cells = cells.join(
            vitality(cells, spec, weights, method=wf.synthesis.normalise, usable=usable)
        )
    with stage("candidates"):
        sites, unmapped, site_report, access = cached(
            "candidates", lambda: _sites_and_access(wf, town, morph.enclosures)
        )
        _require_sites(sites, site_report, wf)
        cand = wf.candidates
    with stage("leverage"):
        programs = _programs(wf, sites, activity_categories(town.activities))
        gains, alternatives, assumptions = cached(
            "leverage",
            lambda: _gains(wf, town, net, prep, social, complete, cells, buildings, sites,
                           access, programs, progress=progress),
        )  # fmt: skip
        context = site_context(sites, cells)
        ranking = rank_candidates(
            gains,
            weights,
            context=context,
            context_weight=cand.context_weight,
            draws=cand.draws,
            kappa=cand.kappa,
            seed=cand.seed,
            dropped=adapted.dropped_dimensions,
            alternatives=alternatives,
        )
        candidates = sites.join(ranking.table).join(
            gains.drop(columns=["links"]).rename(columns={"program": "program_simulated"})
        )
        candidates = candidates.assign(context=context).sort_values("rank", kind="stable")
        links = links_frame(gains, town.crs)

    layers = {
        **town.layers(),
        "nodes": nodes,
        "edges": town.edges.join(morph.edges),
        "buildings": buildings,
        "landmarks": town.landmarks.join(cult.landmarks),
        "tessellation": morph.cells,
        "enclosures": morph.enclosures,
        "cells": cells,
        "candidates": candidates,
        "candidate_links": links,
        "possibly_unmapped": unmapped,
        "districts": districts(town.features, town.area),
        "sea": sea(town.features, town.context, box=box(*town.area.buffer(100).bounds)),
    }
    timings = {"load": stage.timings.pop("load")}
    timings.update({f"load.{k}": v for k, v in town.report["timings_s"].items() if k != "total"})
    timings.update(stage.timings)
    for name, layer in (("morphology", morph), ("social", social), ("cultural", cult)):
        if cache.status.get(name, {}).get("status") != "cached":
            timings.update({f"{name}.{k}": v for k, v in layer.timings.items()})
    extra = {
        "language": lang[0].code,
        "completeness": figures_record(complete),
        "index": {
            "dropped_indicators": adapted.dropped_indicators,
            "dropped_dimensions": sorted(adapted.dropped_dimensions),
            "weights": adapted.weights,
        },
        "population": social.report,
        "population_method": social.population_method,
        "cultural": dict(cult.summary),
        "network": town.report.get("network", {}),
        "osm_data_date": town.sources[0].get("date") if town.sources else None,
        "sites": site_report,
        "stages": {k: dict(v) for k, v in cache.status.items()},
    }
    ranking_extra = {
        "dropped_dimensions": sorted(ranking.dropped_dimensions),
        "dropped_gains": ranking.dropped_gains,
        "assumptions": {
            "unknown_as_homes": [wf.social.unknown_as_homes, *assumptions],
            "how": ASSUMPTIONS_HOW if assumptions else "",
        },
    }
    parts = {
        "net": net,
        "social": social,
        "cells": cells,
        "buildings": buildings,
        "gains": gains,
        "alternatives": alternatives,
        "dropped": adapted.dropped_dimensions,
    }
    return _Computed(
        town, layers, dict(social.rasters), ranking, timings, extra, ranking_extra, parts
    )


def _layers(
    wf: Workflow,
    town: Town,
    net: StreetNetwork,
    prep: Prepared,
    cached: _StageRunner,
    stage: Stages,
    tiles: tuple[str | None, int | None],
    progress: bool,
) -> tuple[MorphologyLayer, SocialLayer, Completeness, CulturalLayer]:
    """The three layers, and the data's completeness; the morphology on a thread of its own.

    The morphological layer (on a whole town mostly the tessellation, in worker processes)
    is computed on a second thread while this one computes the social and cultural
    layers, so that a run keeps both cores busy. The layers do not depend on each other
    but for the street centralities, which the morphology keeps and the cultural
    layer's townscape reads (the betweenness): they are computed once, by the layer that
    needs them first, and only when one of the two is not in the cache.
    """
    radii = sorted(wf.network.radii)
    centrality = Once(
        lambda: _centrality(wf, net, tiles) or centrality_with_edges(net, radii, progress=progress)
    )
    cached.key("morphology")  # the cultural layer's key chains it

    def morphology() -> MorphologyLayer:
        with stage("morphology"):
            return cast(MorphologyLayer, cached(
                "morphology",
                lambda: morphology_layer(
                    town, net, prep, radii=radii, progress=progress, centrality=centrality()
                ),
            ))  # fmt: skip

    morph = Background(morphology, name="rakennettu-morphology")
    with stage("social"):
        social = cached(
            "social",
            lambda: social_layer(
                town, net, prep, network=wf.network, social=wf.social, progress=progress
            ),
        )
    with stage("completeness"):
        complete = completeness(
            town, people=social.buildings, thresholds=wf.completeness.model_dump()
        )
        for text in complete.warnings:
            logging.getLogger("rakennettu.completeness").warning("%s", text)
    with stage("cultural"):
        cult = cached("cultural", lambda: cultural_layer(
            town,
            net,
            prep,
            network=wf.network,
            cultural=wf.cultural,
            edge_betweenness=centrality()[1],  # the townscape reads its largest radius
            progress=progress,
        ))  # fmt: skip
    return morph.result(), social, complete, cult


#: The stages a run keeps in the stage cache (:mod:`rakennettu.cache`): each with the
#: stages it reads (``load`` is the town, keyed by its content) and the workflow
#: settings it reads. The others (network, completeness, cells, vitality, ranking,
#: outputs) take well under a second and always run.
STAGES: dict[str, Stage] = {
    s.name: s
    for s in (
        Stage("prepare", ("load",), ("form", "social")),
        Stage("morphology", ("load", "prepare"), ("network.radii", "region")),
        Stage("social", ("load", "prepare"), ("network", "social")),
        Stage("cultural", ("load", "prepare", "morphology"), ("network", "cultural")),
        Stage("candidates", ("load", "morphology"), ("candidates", "outputs.language"),
              without=tuple(f"candidates.{k}" for k in (
                  "program", "context_weight", "draws", "kappa", "seed", "radius", "near",
                  "link_min_area", "max_links", "detour"))),
        Stage("leverage", ("load", "prepare", "morphology", "social", "cultural", "candidates"),
              ("network", "social", "form", "completeness", "candidates", "cultural.age_periods",
               "synthesis.cell_size", "synthesis.node_reach"),
              without=tuple(f"candidates.{k}" for k in (
                  "context_weight", "draws", "kappa", "seed"))),
    )
}  # fmt: skip


def _load(wf: Workflow, cache: StageCache, progress: bool) -> tuple[Town, str | None]:
    """The town and its content key (:func:`~rakennettu.cache.town_key`; None without a cache).

    With a cache, a town whose input files and settings are unchanged
    (:func:`~rakennettu.cache.load_key`) is read from it; its load timings are then left
    out, as a cached layer's are. Online sources are loaded each time (their own caches
    spare the network). See :func:`~rakennettu.cache.cached_town`.
    """
    return cast(
        "tuple[Town, str | None]",
        cached_town(wf, cache, lambda: load_town(wf, progress=progress, cache=False)),
    )


class _StageRunner:
    """Run the stages of :data:`STAGES` through a cache, chaining their keys."""

    def __init__(self, wf: Workflow, content: str | None, cache: StageCache) -> None:
        self.wf, self.cache = wf, cache
        self.keys = {"load": content} if content is not None else {}

    def key(self, name: str) -> str | None:
        """Chain the key of a stage that is not stored (it is cheaper to compute than read)."""
        if self.cache.folder is None:
            return None
        self.keys[name] = stage_key(STAGES[name], self.wf, self.keys)
        return self.keys[name]

    def __call__(self, name: str, compute: Callable[[], Any]) -> Any:
        if self.cache.folder is None:
            self.cache.status[name] = {"status": "computed", "key": None}
            return compute()
        key = stage_key(STAGES[name], self.wf, self.keys)
        self.keys[name] = key
        return self.cache.get_or_compute(name, key, compute)


def _sites_and_access(
    wf: Workflow, town: Town, enclosures: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, dict[str, Any], pd.Series]:
    """The candidate sites (:func:`find_sites`) and their access nodes."""
    sites, unmapped, report = find_sites(wf, town, enclosures)
    if not len(sites):
        return sites, unmapped, report, pd.Series([], dtype=object)
    access = access_nodes(sites, town.nodes, distance=wf.candidates.access_distance)
    return sites, unmapped, report, access


def leverage_context(
    wf: Workflow,
    town: Town,
    net: StreetNetwork,
    social: SocialLayer,
    cells: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
) -> LeverageContext:
    """The baseline a site's program is simulated against, with ``[candidates]`` settings.

    See :func:`rakennettu.synthesis.leverage.build_context`.
    """
    at_nodes = people_by_node(net, social.buildings, social.buildings[["residents", "jobs"]])
    return build_context(
        net,
        activities=town.activities,
        third_places=town.third_places,
        landmarks=town.landmarks,
        people=at_nodes["residents"] + at_nodes["jobs"],
        residents=at_nodes["residents"],
        cells=cells,
        buildings=buildings,
        candidates=wf.candidates,
        network=wf.network,
        social=wf.social,
    )


def _gains(
    wf: Workflow,
    town: Town,
    net: StreetNetwork,
    prep: Prepared,
    social: SocialLayer,
    complete: Any,
    cells: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    access: pd.Series,
    programs: dict[Any, Program],
    *,
    progress: bool,
) -> tuple[pd.DataFrame, list[pd.DataFrame], list[str]]:
    """Every site's simulated gains, and again under the other unknown-use rules."""
    ctx = leverage_context(wf, town, net, social, cells, buildings)
    assumptions = unknown_use_assumptions(wf, town, prep, complete)
    populations = [
        (alt["residents"] + alt["jobs"], alt["residents"])
        for alt in (people_by_node(net, social.buildings, p) for p in assumptions.values())
    ]
    # one simulation per site, weighted by each rule's people (the gains are linear in them)
    gains, *alternatives = leverage_tables(
        ctx, sites, access, programs, populations=populations, progress=progress
    )
    return gains, alternatives, list(assumptions)


@dataclass
class _Computed:
    """A run's results in memory, before anything is written."""

    town: Town
    layers: dict[str, gpd.GeoDataFrame]
    rasters: dict[str, Any]
    ranking: Ranking
    timings: dict[str, float]
    extra: dict[str, Any]
    ranking_extra: dict[str, Any] = field(default_factory=dict)
    #: What a simulation of a new site needs (:meth:`rakennettu.api.Run.simulate`).
    parts: dict[str, Any] = field(default_factory=dict)


def _write(wf: Workflow, done: _Computed, out: Path, warns: list[str], progress: bool) -> RunResult:
    """Write a run's outputs into ``out`` (the staging folder) and build its record.

    A large town's map is drawn in a second process, started first: its imports overlap
    the GeoPackage's writing, and it is ended if the run stops before the pages.
    """
    process = pages_process(done.layers) if wf.outputs.map and wf.outputs.report else None
    with process or contextlib.nullcontext():
        return _write_files(wf, done, out, warns, progress, process)


def _write_files(
    wf: Workflow,
    done: _Computed,
    out: Path,
    warns: list[str],
    progress: bool,
    process: Aside | None,
) -> RunResult:
    lang = language(done.extra["language"])
    stage = _stages(progress, [lang])
    town, layers, timings = done.town, done.layers, dict(done.timings)
    with stage("write"):
        gpkg = write_gpkg(layers, out / "vitality.gpkg")
        files = {
            "gpkg": gpkg,
            "csv": write_candidates_csv(layers["candidates"], out / "candidates.csv"),
        }
        for name, raster in done.rasters.items():
            files[name] = write_geotiff(raster, out / "surfaces" / f"{name}.tif")
    timings["write"] = stage.timings["write"]
    with stage("pages"):
        record = run_record(
            workflow=wf,
            title=town.title,
            inputs=wf.input_files(),
            sources=town.sources,
            timings=timings,
            counts={k: len(v) for k, v in layers.items()},
            warnings=warns,
            stability=done.ranking.stability,
            sensitivity=done.ranking.sensitivity,
            ranking_extra=done.ranking_extra,
            area_km2=town.area_km2,
            crs=town.crs.to_string(),
            extra=done.extra,
        )
        files["record"] = write_record(record, out / "run.json")
        files.update(
            write_pages(
                layers,
                record,
                out,
                title=town.title,
                language=lang.code,
                tiles=wf.outputs.tiles,
                map=wf.outputs.map,
                report=wf.outputs.report,
                process=process,
            )
        )
    timings["pages"] = stage.timings["pages"]
    return RunResult(
        workflow=wf,
        town=town,
        out_dir=out,
        layers=layers,
        files=files,
        timings=timings,
        record=record,
        ranking=done.ranking,
    )


_UNMAPPED_COLUMNS = ["provenance", "reason", "area_m2", "district", "now", "flags"]


def _require_sites(sites: gpd.GeoDataFrame, report: dict[str, Any], wf: Workflow) -> None:
    """Raise :class:`EmptyDataError` when no candidate site is left to rank."""
    if len(sites):
        return
    removed = ", ".join(f"{n} {why}" for why, n in report.get("removed", {}).items() if n)
    raise EmptyDataError(
        f"{wf.source_file or 'the workflow'}: no candidate site to rank in this area "
        f"({report.get('osm_sites', 0)} OSM sites"
        + (f"; removed: {removed}" if removed else "")
        + '); add a planner\'s sites layer ([[layers]] role = "sites"), set [candidates] '
        "empty_blocks = true, or choose a larger [area]"
    )


def find_sites(
    wf: Workflow, town: Town, enclosures: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, dict[str, Any]]:
    """The candidate sites on developable ground, named; and the possibly unmapped blocks.

    Returns
    -------
    (GeoDataFrame, GeoDataFrame, dict)
        The sites (:func:`collect_candidates` with ``district``, ``now``, ``flags``), the
        empty blocks left out as probable mapping gaps (``reason``), and what each rule
        removed (for ``run.json``).
    """
    cand = wf.candidates
    classes = _classes(town.features)
    cover = ground_cover(town.features, town.buildings, classes=classes["ground"])
    rules = {"min_area": cand.min_area, "min_width": cand.min_width,
             "min_share": cand.min_ground_share}  # fmt: skip
    report: dict[str, Any] = {"osm_sites": len(town.candidates)}
    osm, removed = keep_ground(town.candidates, cover, **rules)
    blocks, unmapped = None, _no_unmapped(town.crs)
    if cand.empty_blocks:
        blocks, unmapped, more = _blocks(
            town, enclosures, cover, rules, cand.rank_unmapped, classes["site_context"]
        )
        for k, v in more.pop("removed").items():
            removed[k] = removed.get(k, 0) + v
        report.update(more)
    report["removed"] = removed
    new_rules = {k: v for k, v in removed.items() if k != "too_small"}
    if new_rules:
        log.warning(_removed_warning(new_rules))
    sites = collect_candidates(
        osm, area=town.area, blocks=blocks, min_area=cand.min_area, min_width=cand.min_width
    )
    named = describe_sites(sites, town.features, town.edges, classes=classes["site_context"])
    sites = sites.drop(columns=["name"]).join(named)
    report["ranked"] = len(sites)
    if not town.sources or town.sources[0].get("date") is None:
        log.warning(
            Said(N_("the date of the OpenStreetMap data is unknown (no timestamp in the file)"))
        )
    return sites, unmapped, report


#: The ground rules' names in the warning of the sites they set aside.
_RULES = {
    "road": N_("road"),
    "open_space": N_("open space"),
    "buildings": N_("buildings"),
    "slivers": N_("slivers"),
}


def _removed_warning(removed: dict[str, int]) -> Said:
    """The warning of the candidate sites the ground rules set aside ("3 road, 1 slivers")."""
    counts: Any = None
    for k, v in sorted(removed.items(), reverse=True):
        rule = Said(_RULES[k]) if k in _RULES else k.replace("_", " ")
        one = Said(N_("{n} {rule}"), n=v, rule=rule)
        counts = one if counts is None else Said(N_("{first}, {rest}"), first=one, rest=counts)
    return Said(N_("candidate sites set aside as not developable ground: {counts}"), counts=counts)


def _classes(features: gpd.GeoDataFrame) -> dict[str, pd.DataFrame | None]:
    """The features by the ``ground`` and ``site_context`` tables, classified once."""
    if not len(features):
        return {"ground": None, "site_context": None}
    return dict(classify_each(features, ["ground", "site_context"]))


def _no_unmapped(crs: Any) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {c: pd.Series([], dtype=object) for c in _UNMAPPED_COLUMNS},
        geometry=gpd.GeoSeries([], crs=crs),
        crs=crs,
    ).astype({"area_m2": float})


def _blocks(
    town: Town,
    enclosures: gpd.GeoDataFrame,
    cover: Any,
    rules: dict[str, float],
    rank_unmapped: bool,
    context: pd.DataFrame | None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, dict[str, Any]]:
    """Empty blocks on their developable ground; those that look unmapped apart.

    ``context`` is the features classified by ``site_context`` (None without features).
    """
    envelope = built_envelope(town.buildings)
    empty = enclosures[enclosures["morph_enclosure_buildings"] == 0].geometry.to_numpy()
    inside = area_within(empty, envelope)
    blocks = empty_blocks(
        enclosures, town.buildings, exclude=undevelopable(town.features), envelope=envelope
    )
    report: dict[str, Any] = {
        "empty_enclosures": len(empty),
        "outside_envelope": int((inside < 0.75 * shapely.area(empty)).sum()),
        "empty_blocks": len(blocks),
    }
    blocks, report["removed"] = keep_ground(blocks, cover, **rules)
    reason = possibly_unmapped(blocks, town.features, road=cover.road, classes=context)
    gap = reason.notna().to_numpy()
    report["possibly_unmapped"] = int(gap.sum())
    unmapped = _no_unmapped(town.crs)
    if gap.any():
        log.warning(
            Said(
                N_(
                    "empty blocks with shops, addresses or built-up landuse but no building "
                    "mapped (probably buildings missing from the map): {n}; left out of the "
                    "ranking (layer possibly_unmapped)"
                ),
                n=int(gap.sum()),
            )
        )
        gaps = blocks[gap].assign(reason=reason[gap].to_numpy())
        gaps = gaps.assign(area_m2=gaps.geometry.area)
        about = describe_sites(gaps, town.features, town.edges, classes=context)
        gaps = gaps.join(about.drop(columns="name"))
        unmapped = gaps[[*_UNMAPPED_COLUMNS, "geometry"]]
        if not rank_unmapped:
            blocks = blocks[~gap]
    return blocks, unmapped, report


#: How the rank intervals include the unknown-use assumption (recorded in run.json).
ASSUMPTIONS_HOW = (
    "many buildings are of unknown use and residents come from floor area: the site gains "
    "were also computed with buildings of unknown use counted never and always as homes, "
    "and each weight draw of the rank intervals took one of the assumptions (the default "
    "and the others) with equal chance"
)


def unknown_use_assumptions(
    wf: Workflow, town: Town, prep: Prepared, complete: Any
) -> dict[str, pd.DataFrame]:
    """Residents and jobs per building under the other rules for unknown uses.

    Only where the assumption matters: residents from floor area (not a grid) and more
    than ``[completeness] unknown_homes_share`` of the residential floor area, or of
    the buildings' uses, unknown. Returns rule -> ``residents``/``jobs`` on the prepared
    people's index (pseudo buildings keep their grid values).
    """
    t = complete.table
    short = any(
        fig in t.index and bool(t.loc[fig, "short"]) for fig in ("use_share", "unknown_homes_share")
    )
    grid = prep.population_method.startswith("grid") and "+" not in prep.population_method
    if not short or grid:
        return {}
    out: dict[str, pd.DataFrame] = {}
    base = prep.people[["residents", "jobs"]]
    from_area = prep.people["population_method"].astype(str) == "floor_area"
    for rule in ("never", "always"):
        if rule == wf.social.unknown_as_homes:
            continue
        areas = floor_areas(
            town.buildings,
            floors=prep.buildings[FLOORS],
            residential_uses=wf.social.residential_uses,
            job_uses=wf.social.job_uses,
            homes=homes_of_unknown_use(town, rule),
        )
        est = estimate_population(
            areas, m2_per_resident=wf.social.m2_per_resident, m2_per_job=wf.social.m2_per_job
        ).reindex(base.index)
        alt = base.copy()
        rows = from_area.to_numpy(dtype=bool)
        alt.loc[rows, ["residents", "jobs"]] = est.loc[rows, ["residents", "jobs"]].to_numpy()
        out[rule] = alt
    lang = language(run_language(wf, town))
    log.info(
        lang._("The rank intervals also try other rules for buildings of unknown use: {rules}",
               rules=", ".join(lang._(_RULE_WORDS[r]) for r in sorted(out)))
    )  # fmt: skip
    return out


#: The other rules for buildings of unknown use, in words (the console).
_RULE_WORDS = {"never": N_("never as homes"), "always": N_("always as homes")}


def write_candidates_csv(candidates: gpd.GeoDataFrame, path: Path) -> Path:
    """The ranked candidates as a table for spreadsheets, with WGS84 coordinates.

    One row per site in rank order: id, rank and interval, score, gains, the breakdown,
    kind, name, provenance, area (m²) and a point on the site (``lon``, ``lat``). Text
    that a spreadsheet would run as a formula is quoted (:mod:`rakennettu.outputs.spreadsheet`).
    """
    table = candidates.drop(columns=candidates.geometry.name).copy()
    pts = candidates.geometry.representative_point().to_crs(4326)
    table["lon"], table["lat"] = pts.x.round(6).to_numpy(), pts.y.round(6).to_numpy()
    return write_csv(table.reset_index(), path, index=False)


def _indicator_spec(wf: Workflow, cells: gpd.GeoDataFrame) -> dict[str, dict[str, float]]:
    """The indicators of each dimension, checked against the columns computed."""
    spec: dict[str, dict[str, float]] = {
        d: dict(cols) for d, cols in wf.synthesis.indicators.items()
    }
    problems = []
    for dim, cols in spec.items():
        for col in cols:
            if col not in cells.columns:
                options = [c for c in cells.columns if str(c).startswith(f"{dim}_")]
                hint = suggest(col, options)
                problems.append(
                    f"[synthesis.indicators] {dim}.{col}: no such indicator"
                    + (f"; did you mean {hint!r}?" if hint else "")
                )
    if problems:
        raise ConfigError(f"{wf.source_file}: " + "; ".join(problems))
    missing = [d for d, w in wf.synthesis.weights.items() if w > 0 and d not in spec]
    if missing:
        raise ConfigError(
            f"{wf.source_file}, [synthesis.indicators]: the dimensions {missing} have a "
            "weight but no indicators"
        )
    return spec


def _programs(wf: Workflow, sites: gpd.GeoDataFrame, categories: Any) -> dict[Any, Program]:
    p = wf.candidates.program
    default = Program(**p.model_dump())
    unknown = [c for c in p.activities if c not in set(categories)]
    if unknown:
        raise ConfigError(
            f"{wf.source_file}, [candidates.program] activities: unknown categories "
            f"{unknown}; categories: {', '.join(categories)}"
        )
    return {
        cid: _site_program(row["program"], f"site {cid} ({row['provenance']})", default, categories)
        for cid, row in sites.iterrows()
    }


def _site_program(text: Any, site: str, default: Program, categories: Any) -> Program:
    """A site's program (:func:`parse_program`); its error names the site."""
    try:
        return parse_program(text, default, categories=set(categories))
    except ConfigError as e:
        raise ConfigError(f"{site}: {e}") from None


def _check_planner_programs(wf: Workflow, town: Town) -> None:
    """Parse the programs of the planner's sites as soon as the town is read.

    The leverage stage parses them again (:func:`_programs`); this only moves a bad
    program's error from after the layers (minutes on a whole town) to the start.
    """
    sites = town.candidates
    if sites is None or "program" not in sites:
        return
    default = Program(**wf.candidates.program.model_dump())
    categories = activity_categories(town.activities)
    where_from = sites["provenance"] if "provenance" in sites else sites.index.to_series()
    for program, where in zip(sites["program"], where_from, strict=True):
        if isinstance(program, str) and program.strip():
            _site_program(program, f"the planner's site ({where})", default, categories)


#: The stages of a run in words, for the console (marked for the catalogues).
STAGE_WORDS: dict[str, str] = {
    "load": N_("Town data read"),
    "network": N_("Street network ready"),
    "prepare": N_("Floor areas, residents and jobs of the buildings estimated"),
    "morphology": N_("Streets and urban form measured"),
    "social": N_("Activities, residents and jobs measured"),
    "completeness": N_("Completeness of the data checked"),
    "cultural": N_("Landmarks, third places and green areas measured"),
    "cells": N_("Hexagon grid filled in"),
    "vitality": N_("Vitality index computed"),
    "candidates": N_("Candidate sites found"),
    "leverage": N_("Effects of building on each site simulated"),
    "write": N_("Data files written"),
    "pages": N_("Map and report written"),
}


def run_language(wf: Workflow, town: Town | None = None) -> str:
    """The language of a run's outputs: ``[outputs] language``, or by where the town is.

    Before the town is loaded, ``"auto"`` decides from the workflow's CRS alone; with the
    town, also from where its study area lies.

    Examples
    --------
    >>> run_language(resolve_workflow("kotka-karhula"))
    'fi'
    """
    crs: Any = wf.town.crs if wf.town.crs != "auto" else None
    lonlat = None
    if town is not None:
        crs = town.crs
        centre = gpd.GeoSeries([town.area], crs=town.crs).to_crs(4326).iloc[0].centroid
        lonlat = (centre.x, centre.y)
    return choose_language(wf.outputs.language, crs=crs, lonlat=lonlat)


def stage_line(lang: Language, stage: str, seconds: float) -> str:
    """The console line of a finished stage.

    Examples
    --------
    >>> stage_line(language("fi"), "load", 2.934)
    'Kaupungin aineisto luettu (2,9 s)'
    """
    what = lang._(STAGE_WORDS[stage]) if stage in STAGE_WORDS else stage
    return lang._("{what} ({seconds} s)", what=what, seconds=lang.number(seconds, 1))


def summary_lines(result: RunResult, *, top: int = 5, verbose: bool = False) -> list[str]:
    """A short printable summary of a run in its language: the town, the top sites, the pages.

    Parameters
    ----------
    result
        The run.
    top
        How many sites to list.
    verbose
        Add the tables: rows per layer and seconds per step.
    """
    lang = language(result.record.get("language") or run_language(result.workflow, result.town))
    town = result.town
    lines = [
        lang._(
            "{town}: {area} km², {crs}",
            town=town.title,
            area=lang.number(town.area_km2, 2),
            crs=town.crs.to_string(),
        )
    ]
    if verbose:
        lines += _tables(result, lang)
    cands = result.layers.get("candidates")
    if cands is not None and len(cands):
        sites = lang.plural("{n} candidate site", "{n} candidate sites", len(cands))
        lines += ["", lang._("The {top} best of {sites}:", top=min(top, len(cands)), sites=sites)]
        for cid, c in cands.head(top).iterrows():
            lines.append(_site_line(lang, cid, c))
    pages = {k: v for k, v in result.files.items() if k in ("map", "report")}
    words = {"map": lang._("Map"), "report": lang._("Report")}
    lines.append("")
    if verbose:
        lines += [f"{k}: {v}" for k, v in result.files.items() if k not in pages]
    else:
        lines.append(lang._("Data files: {folder}", folder=result.out_dir))
    lines += [f"{words[k]}: {v}" for k, v in pages.items()]
    return lines


def _site_line(lang: Language, cid: Any, c: Any) -> str:
    from rakennettu.wording import site_name

    name = site_name(lang, c)
    label = name if name.strip() else kind_words(c.get("kind"), lang)
    return "  " + lang._(
        "{rank}. {label} ({id}): score {score}, rank {low}–{high} under other weightings",
        rank=int(c["rank"]),
        label=label[:48],
        id=cid,
        score=lang.fixed(float(c["score"]), 2),
        low=int(c["rank_p05"]),
        high=int(c["rank_p95"]),
    )


def _tables(result: RunResult, lang: Language) -> list[str]:
    layer, rows = lang._("layer"), lang._("rows")
    step, seconds = lang._("step"), lang._("seconds")
    lines = ["", f"{layer:<16}{rows:>8}"]
    lines += [f"{k:<16}{lang.integer(len(v)):>8}" for k, v in result.layers.items()]
    lines += ["", f"{step:<32}{seconds:>8}"]
    lines += [f"{k:<32}{lang.fixed(v, 2):>8}" for k, v in result.timings.items()]
    return lines
