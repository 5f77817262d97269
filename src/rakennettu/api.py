"""The notebook user's API: centrality at any radii, and a finished run to work on.

:func:`centrality` measures a town's streets at radii of one's choosing;
:func:`open_run` reads a run's folder (``vitality.gpkg``, ``run.json``) into a
:class:`Run` that re-ranks its candidate sites with other weights
(:meth:`Run.rerank`), simulates a program on a site drawn by hand
(:meth:`Run.simulate`) and exports its layers (:meth:`Run.to_parquet`).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
from shapely.geometry.base import BaseGeometry

from rakennettu.cache import StageCache
from rakennettu.config import Workflow, load_workflow
from rakennettu.errors import ConfigError, SourceError
from rakennettu.layers.morphology import network_measures
from rakennettu.network import StreetNetwork
from rakennettu.synthesis.candidates import access_nodes, site_context
from rakennettu.synthesis.leverage import FIGURES, GAINS, Program, parse_program, simulate
from rakennettu.synthesis.ranking import rank_candidates
from rakennettu.synthesis.scores import adapt, vitality
from rakennettu.town import Town

__all__ = ["Run", "centrality", "open_run"]

log = logging.getLogger(__name__)

#: The index column of each output layer, restored when a layer is read back.
_INDEX = {
    "nodes": ["node_id"],
    "edges": ["u", "v", "key"],
    "cells": ["cell_id"],
    "candidates": ["candidate_id"],
}


def centrality(
    town: Town, *, radii: Iterable[float], progress: bool = False
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The street centralities of a town at the given radii, as the run computes them.

    Closeness (harmonic, with its beta variant), betweenness, straightness, reach and
    structure per node; betweenness per street segment, from the run's shortest-path
    engine (:mod:`rakennettu.network`).

    Parameters
    ----------
    town
        A loaded town (:func:`rakennettu.load_town`).
    radii
        Network radii in metres.
    progress
        Show progress bars.

    Returns
    -------
    (GeoDataFrame, GeoDataFrame)
        ``town.nodes`` and ``town.edges`` (index, geometry and attributes kept) with the
        columns ``morph_<measure>_<R>m`` (units in ``rakennettu catalogue``).

    Examples
    --------
    >>> nodes, edges = centrality(kotka_town(), radii=[300])
    >>> nodes.index.name, "morph_harmonic_300m" in nodes, "morph_betweenness_300m" in edges
    ('node_id', True, True)
    >>> len(nodes) == len(kotka_town().nodes)
    True
    """
    net = StreetNetwork.from_graph(town.graph)
    nodes, edges = network_measures(net, radii, progress=progress)
    return town.nodes.join(nodes), town.edges.join(edges)


def open_run(out_dir: str | Path) -> Run:
    """A finished run, read from its output folder.

    Parameters
    ----------
    out_dir
        The folder holding ``vitality.gpkg`` and ``run.json`` (``out/<town>``).

    Raises
    ------
    SourceError
        The folder is not a finished run's.

    Examples
    --------
    >>> run_ = open_run(kotka_run_dir())
    >>> run_.town, len(run_.candidates) == run_.record["sites"]["ranked"]
    ('kotka-karhula', True)
    """
    folder = Path(out_dir)
    missing = [f for f in ("run.json", "vitality.gpkg") if not (folder / f).is_file()]
    if missing:
        raise SourceError(
            f"{folder}: not a finished run's folder (no {', '.join(missing)}); give the "
            "folder `rakennettu run` wrote, e.g. out/<town>"
        )
    record = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    return Run(folder, record)


@dataclass(eq=False)
class Run:
    """A finished run: its layers, its record and what can be redone without recomputing.

    Attributes
    ----------
    folder
        The run's output folder.
    record
        ``run.json``: settings, sources, warnings, per-stage cache status.
    """

    folder: Path
    record: dict[str, Any]
    _layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict, repr=False)
    _done: Any = field(default=None, repr=False)

    def __repr__(self) -> str:
        ranked = self.record.get("sites", {}).get("ranked", "?")
        return f"Run({self.town!r}, {str(self.folder)!r}, {ranked} sites)"

    @property
    def town(self) -> str:
        """The town's short name."""
        return str(self.record["town"]["name"] if "town" in self.record else "?")

    @property
    def workflow(self) -> Workflow:
        """The run's workflow, from the settings recorded in ``run.json`` (else its file)."""
        try:
            return Workflow.model_validate(self.record["workflow"])
        except Exception:
            path = self.record.get("workflow_file")
            if not path or not Path(path).is_file():
                raise
            return load_workflow(path)

    def layer(self, name: str) -> gpd.GeoDataFrame:
        """One layer of ``vitality.gpkg``, with its index (``node_id``, ``candidate_id``...)."""
        if name not in self._layers:
            frame = gpd.read_file(self.folder / "vitality.gpkg", layer=name, engine="pyogrio")
            index = [c for c in _INDEX.get(name, []) if c in frame.columns]
            self._layers[name] = frame.set_index(index) if index else frame
        return self._layers[name]

    @property
    def layers(self) -> list[str]:
        """The names of the layers in ``vitality.gpkg``."""
        return [str(n) for n, _ in pyogrio.list_layers(self.folder / "vitality.gpkg")]

    @property
    def candidates(self) -> gpd.GeoDataFrame:
        """The ranked candidate sites (the ``candidates`` layer), best first."""
        return self.layer("candidates")

    @property
    def cells(self) -> gpd.GeoDataFrame:
        """The hexagon grid with its indicators, scores and synergy."""
        return self.layer("cells")

    def rerank(self, weights: Mapping[str, float]) -> gpd.GeoDataFrame:
        """The candidates ranked again with other dimension weights; no layer recomputed.

        The cells' scores and synergy are recomputed from their indicators (so the
        vitality around each site follows the weights), then every site's score, rank,
        rank interval and ``why`` from its stored gains and figures (``soc_access_gain``,
        ``soc_residents_reached``, ``soc_jobs_reached``, ...: see :data:`GAINS`,
        :data:`FIGURES`). With the run's own weights it gives the run's ranking. When the
        rank intervals also drew other unknown-use assumptions, their gains are read
        from the stage cache; without them the intervals leave the assumptions out (a
        warning says so).

        Parameters
        ----------
        weights
            Dimension weights (``morph``, ``soc``, ``cult``); dimensions not given keep
            the run's weight.

        Returns
        -------
        GeoDataFrame
            The candidates layer with new ``rank``, ``score``, ``gain_*``, interval,
            ``why`` and ``context``, best first.

        Examples
        --------
        >>> run_ = open_run(kotka_run_dir())
        >>> same = run_.rerank(weights={})
        >>> same.index.equals(run_.candidates.index)
        True
        >>> social = run_.rerank(weights={"morph": 0, "cult": 0})
        >>> sorted(social.index) == sorted(run_.candidates.index)
        True
        """
        wf = self.workflow
        w = {str(d): float(v) for d, v in wf.synthesis.weights.items()}
        unknown = sorted(set(weights) - set(w))
        if unknown:
            raise ConfigError(f"weights: unknown dimensions {unknown}; dimensions: {sorted(w)}")
        w.update({str(d): float(v) for d, v in weights.items()})
        cells = self._scored_cells(wf, w)
        gains, alternatives = self._gains()
        sites = self.candidates.loc[gains.index]
        context = site_context(sites, cells)
        spec = {str(d): dict(c) for d, c in wf.synthesis.indicators.items()}
        usable = (cells["access"] != "none").to_numpy(dtype=bool)
        dropped = adapt(cells[usable], spec, w).dropped_dimensions
        cand = wf.candidates
        ranking = rank_candidates(
            gains, w, context=context, context_weight=cand.context_weight, draws=cand.draws,
            kappa=cand.kappa, seed=cand.seed, dropped=dropped, alternatives=alternatives,
        )  # fmt: skip
        table = ranking.table.assign(context=context)
        out = sites.drop(columns=[c for c in table.columns if c in sites.columns]).join(table)
        return out[self.candidates.columns].sort_values("rank", kind="stable")

    def _scored_cells(self, wf: Workflow, weights: dict[str, float]) -> gpd.GeoDataFrame:
        cells = self.cells
        spec = {str(d): dict(c) for d, c in wf.synthesis.indicators.items()}
        usable = cells["access"] != "none"
        scores = vitality(cells, spec, weights, method=wf.synthesis.normalise, usable=usable)
        return cells.drop(columns=scores.columns, errors="ignore").join(scores)

    def _gains(self) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
        """The sites' gains in the run's order, and those under the other assumptions."""
        names = [c for d in GAINS.values() for c in d] + list(FIGURES)
        stored = self.candidates
        gains = stored[[c for c in names if c in stored.columns]]
        key = self.record.get("stages", {}).get("leverage", {}).get("key")
        entry = None
        if key:
            entry = StageCache(self.workflow.cache_dir).read("leverage", key)
        if entry is not None:
            order, alternatives = entry[0].index, entry[1]
            return gains.loc[order], alternatives
        if (
            len(self.record.get("ranking", {}).get("assumptions", {}).get("unknown_as_homes", []))
            > 1
        ):
            log.warning(
                "rerank: the gains under the other unknown-use assumptions are not in the "
                "stage cache; the rank intervals leave them out"
            )
        return gains.loc[sorted(gains.index, key=_natural)], []

    def simulate(
        self, site: BaseGeometry | gpd.GeoSeries | gpd.GeoDataFrame, *, program: Any = None
    ) -> pd.Series:
        """A program simulated on a site drawn by hand: its gains and where it would rank.

        The town is loaded from the run's workflow and its layers read from the stage
        cache (computed, and cached, if absent), so the first call takes a few seconds.

        Parameters
        ----------
        site
            A polygon in the town CRS (EPSG:3067 in Finland), or a GeoSeries/GeoDataFrame
            with a CRS (reprojected; several polygons form one site).
        program
            The workflow's ``[candidates.program]`` by default; or a
            :class:`~rakennettu.synthesis.leverage.Program`, a dict of its fields, or
            text as in a planner's ``program`` column (``"third_places=2; floor_area=5000"``).

        Returns
        -------
        pandas.Series
            Every gain (:data:`GAINS`) and figure (:data:`FIGURES`), ``program``,
            ``links`` (new paths, LineStrings), and ``rank``, ``score``, ``why`` among the
            run's candidates (``of``: how many sites, this one included).

        Examples
        --------
        >>> run_ = open_run(kotka_run_dir())
        >>> site = run_.candidates.geometry.iloc[0].buffer(-1)
        >>> res = run_.simulate(site)  # doctest: +SKIP
        >>> int(res["of"]) == len(run_.candidates) + 1  # doctest: +SKIP
        True
        """
        done = self._computed()
        wf, town = self.workflow, done.town
        geom = _site_geometry(site, town.crs)
        frame = gpd.GeoDataFrame(
            geometry=[geom], index=pd.Index(["drawn"], name="candidate_id"), crs=town.crs
        )
        access = access_nodes(frame, town.nodes, distance=wf.candidates.access_distance)
        ctx = _context(wf, done)
        gains = simulate(ctx, geom, list(access.loc["drawn"]), self._program(wf, town, program))
        row = pd.DataFrame([gains], index=frame.index)
        everything = pd.concat([done.parts["gains"], row])
        sites = pd.concat([done.layers["candidates"][["geometry"]], frame])
        context = site_context(gpd.GeoDataFrame(sites, crs=town.crs), done.layers["cells"])
        weights = {str(d): float(w) for d, w in wf.synthesis.weights.items()}
        cand = wf.candidates
        ranking = rank_candidates(
            everything, weights, context=context.loc[everything.index],
            context_weight=cand.context_weight, draws=cand.draws, kappa=cand.kappa,
            seed=cand.seed, dropped=done.parts["dropped"],
        )  # fmt: skip
        mine = ranking.table.loc["drawn"]
        extra = {"rank": mine["rank"], "score": mine["score"], "why": mine["why"]}
        return pd.Series({**gains, **extra, "of": len(everything)}, name="drawn")

    def _program(self, wf: Workflow, town: Town, program: Any) -> Program:
        from rakennettu.layers.social import activity_categories

        default = Program(**wf.candidates.program.model_dump())
        if program is None or isinstance(program, Program):
            return program or default
        if isinstance(program, Mapping):
            return Program(**{**default.__dict__, **dict(program)})
        cats = set(activity_categories(town.activities))
        return parse_program(str(program), default, categories=cats)

    def _computed(self) -> Any:
        """The run's stages again in memory, the layers from the stage cache."""
        if self._done is None:
            from rakennettu.workflow import _compute

            wf = self.workflow
            self._done = _compute(wf, False, StageCache(wf.cache_dir if wf.cache.stages else None))
        return self._done

    def to_parquet(self, folder: str | Path) -> dict[str, Path]:
        """Every layer of the run as a GeoParquet file, ``folder/<layer>.parquet``.

        Returns
        -------
        dict
            Layer name -> file.

        Examples
        --------
        >>> import tempfile
        >>> files = open_run(kotka_run_dir()).to_parquet(tempfile.mkdtemp())
        >>> gpd.read_parquet(files["candidates"]).index.name
        'candidate_id'
        """
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        files = {}
        for name in self.layers:
            files[name] = out / f"{name}.parquet"
            self.layer(name).to_parquet(files[name])
        return files


def _context(wf: Workflow, done: Any) -> Any:
    from rakennettu.workflow import leverage_context

    p = done.parts
    return leverage_context(wf, done.town, p["net"], p["social"], p["cells"], p["buildings"])


def _site_geometry(site: Any, crs: Any) -> BaseGeometry:
    if isinstance(site, BaseGeometry):
        return site
    if site.crs is None:
        raise ConfigError("site: a GeoSeries/GeoDataFrame needs a CRS")
    return site.to_crs(crs).geometry.union_all()


def _natural(text: Any) -> list[Any]:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", str(text))]
