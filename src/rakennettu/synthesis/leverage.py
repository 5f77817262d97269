"""Leverage: what a development action at a site would do for the people around it.

For each candidate site a *program* is simulated: new activities of given categories
(for example one third place and two daily services), optionally new floor area (homes
and jobs), and, on sites larger than a set area, new pedestrian links across the site
between its access points. Only what can change is recomputed, through the network
engine's incremental path: the accessibility of the nodes within the radius of the new
places, and the centrality of the sources within the radius of the new links.

Raw gains, with units, by dimension:

social
    ``soc_access_gain``: Σ over street nodes of the people there (residents + jobs) ×
    the rise in their distance-decayed access to activities within R (people ×
    activities, decay exp(-4d/R)); ``soc_variety_gain``: Σ people × the rise in the
    number of activity categories within R (Hill number q = 0; it never falls when
    activities are added, unlike the Shannon form); ``soc_residents_gain_daily``:
    residents with no daily service within 400 m before and one after;
    ``soc_people_added``: new residents and jobs from the program's floor area.
cultural
    ``cult_third_place_gain``: Σ residents × the rise in their decayed access to third
    places within R; ``cult_residents_gain_third_place``: residents who had no third
    place within 400 m and gain one; ``cult_landmark_context``: the weighted, decayed
    landmarks and heritage within R of the site (the context it would join).
morphological
    ``morph_closeness_gain``: Σ over nodes of the rise in harmonic closeness within R from
    the new links (1/m); ``morph_through_movement``: the betweenness within R of the
    site's access points and link nodes after the change, less before (paths);
    ``morph_far_gap``: the surroundings' floor area ratio less the site's (how much floor
    area the site lacks relative to its neighbours, m²/m²); ``morph_coverage_gap``
    likewise for ground coverage.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from rakennettu.config import CandidatesConfig, NetworkConfig, SocialConfig
from rakennettu.diversity import hill_numbers
from rakennettu.errors import ConfigError
from rakennettu.network import (
    NetworkChange,
    StreetNetwork,
    accessibility,
    attach_points,
    centrality,
    centrality_update,
)
from rakennettu.network._util import compiled_threads
from rakennettu.network.access import (
    _check_access_args,
    _groups,
    _Points,
    _resolve_points,
    _snap_to_edges,
)
from rakennettu.network.whatif import (
    _AccessBefore,
    _changed_points,
    _signature,
    _Updated,
    _updated_columns,
)

__all__ = [
    "FIGURES",
    "GAINS",
    "PARALLEL_LEVERAGE_FROM",
    "LeverageContext",
    "Program",
    "SiteEffect",
    "build_context",
    "choose_links",
    "leverage_processes",
    "leverage_table",
    "leverage_tables",
    "links_frame",
    "parse_program",
    "people_by_node",
    "simulate",
    "site_effect",
]

log = logging.getLogger(__name__)

#: The raw gains by dimension, with their units (see the module docstring).
GAINS: dict[str, dict[str, str]] = {
    "soc": {
        "soc_access_gain": "people × decayed activities",
        "soc_variety_gain": "people × categories",
        "soc_residents_gain_daily": "residents",
        "soc_people_added": "residents + jobs",
    },
    "cult": {
        "cult_third_place_gain": "residents × decayed third places",
        "cult_residents_gain_third_place": "residents",
        "cult_landmark_context": "weighted decayed landmarks",
    },
    "morph": {
        "morph_closeness_gain": "1/m, summed over nodes",
        "morph_through_movement": "paths",
        "morph_far_gap": "m²/m²",
        "morph_coverage_gap": "share 0-1",
    },
}

#: The figures a site's explanation quotes beside the gains (not scored), with units:
#: each names its population (residents or jobs), so that the words and the table agree.
FIGURES: dict[str, str] = {
    "soc_residents_reached": "residents",
    "soc_jobs_reached": "jobs",
    "cult_residents_reached": "residents",
    "n_links": "links",
    "radius": "m",
    "near": "m",
}

_THIRD = "third_place"
_DAILY = "daily_needs"


@dataclass(frozen=True)
class Program:
    """A development program simulated at a site.

    Attributes
    ----------
    activities
        Activity category -> number of new places (categories of
        ``data/taxonomy/activities.toml``, e.g. ``{"daily_needs": 2}``).
    third_places
        New third places (a café, a library branch, a community room).
    floor_area
        New floor area in m² (0 for none).
    residential_share
        Share of the new floor area that is homes; the rest is workplaces.
    links
        Add pedestrian links across the site when it is large enough.
    """

    activities: Mapping[str, int] = field(default_factory=lambda: {"daily_needs": 2})
    third_places: int = 1
    floor_area: float = 0.0
    residential_share: float = 0.5
    links: bool = True

    def describe(self) -> str:
        """The program in words.

        Examples
        --------
        >>> Program().describe()
        '1 third place, 2 daily needs, links across large sites'
        """
        parts = []
        if self.third_places:
            parts.append(f"{self.third_places} third place{'s' * (self.third_places != 1)}")
        parts += [f"{n} {c.replace('_', ' ')}" for c, n in self.activities.items() if n]
        if self.floor_area:
            parts.append(
                f"{self.floor_area:,.0f} m² floor area ({self.residential_share:.0%} homes)"
            )
        if self.links:
            parts.append("links across large sites")
        return ", ".join(parts) or "nothing"


_PROGRAM_ITEM = re.compile(r"^\s*([a-z_]+)\s*=\s*([^\s,;]+)\s*$")


def parse_program(text: str | None, default: Program, *, categories: set[str]) -> Program:
    """Read a site's ``program`` text, e.g. ``"daily_needs=2, third_place=1, floor_area=3000"``.

    Keys: an activity category (count), ``third_place`` (count), ``floor_area`` (m²),
    ``residential`` (share 0-1), ``links`` (yes/no). Items left out keep the default;
    an empty text gives the default.

    Raises
    ------
    ConfigError
        An unknown key or a value that is not a number.

    Examples
    --------
    >>> p = parse_program("retail=3; links=no", Program(), categories={"retail", "daily_needs"})
    >>> dict(p.activities), p.third_places, p.links
    ({'daily_needs': 2, 'retail': 3}, 1, False)
    """
    if text is None or (isinstance(text, float) and math.isnan(text)) or not str(text).strip():
        return default  # no program given (None, NaN from a file, or empty text)
    acts = dict(default.activities)
    out = default
    for item in re.split(r"[,;]", str(text)):
        if not item.strip():
            continue
        m = _PROGRAM_ITEM.match(item)
        if not m:
            raise ConfigError(f"program {text!r}: {item.strip()!r} is not 'key=value'")
        key, value = m.groups()
        try:
            if key == "links":
                if value.lower() not in ("yes", "no", "true", "false"):
                    raise ValueError(value)
                out = replace(out, links=value.lower() in ("yes", "true"))
            elif key == "third_place":
                out = replace(out, third_places=int(value))
            elif key == "floor_area":
                out = replace(out, floor_area=float(value))
            elif key == "residential":
                out = replace(out, residential_share=float(value))
            elif key in categories:
                acts[key] = int(value)
            else:
                allowed = ["third_place", "floor_area", "residential", "links", *sorted(categories)]
                raise ConfigError(
                    f"program {text!r}: unknown key {key!r}; allowed: {', '.join(allowed)}"
                )
        except ConfigError:
            raise
        except ValueError:
            raise ConfigError(f"program {text!r}: {key} = {value!r} is not valid") from None
    return replace(out, activities=acts)


@dataclass(frozen=True, eq=False)
class LeverageContext:
    """Everything the simulation needs, computed once per town (see :func:`build_context`)."""

    net: StreetNetwork
    radius: float
    near: float
    people: pd.Series
    residents: pd.Series
    activities: gpd.GeoDataFrame
    third_places: gpd.GeoDataFrame
    act_attached: pd.DataFrame
    tp_attached: pd.DataFrame
    base_act: pd.DataFrame
    base_tp: pd.DataFrame
    base_centrality: pd.DataFrame
    landmark_access: pd.Series
    cells: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    categories: tuple[str, ...]
    snap_distance: float
    m2_per_resident: float
    m2_per_job: float
    link_min_area: float
    max_links: int
    detour: float
    surroundings: float


def _points(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Polygons and lines as points on them (the loader's features can be any geometry)."""
    geoms = gdf.geometry
    pts = geoms.where(geoms.geom_type == "Point", geoms.representative_point())
    return gdf.set_geometry(pts)


def _attach(net: StreetNetwork, pts: gpd.GeoDataFrame, category: Any, snap: float) -> pd.DataFrame:
    att = attach_points(net, pts.geometry, max_distance=snap)
    att["category"] = category if np.isscalar(category) else np.asarray(category)
    return att


def build_context(
    net: StreetNetwork,
    *,
    activities: gpd.GeoDataFrame,
    third_places: gpd.GeoDataFrame,
    landmarks: gpd.GeoDataFrame,
    people: pd.Series,
    residents: pd.Series,
    cells: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    candidates: CandidatesConfig | None = None,
    network: NetworkConfig | None = None,
    social: SocialConfig | None = None,
    surroundings: float = 250.0,
) -> LeverageContext:
    """Compute the baseline that every site's simulation is compared with.

    Parameters
    ----------
    net
        The street network.
    activities, third_places, landmarks
        The town's classified places (``category`` for activities, ``weight`` for
        landmarks); polygons count at a point on them.
    people, residents
        Per street node (indexed like ``net.node_ids``): residents + jobs, and residents.
    cells
        Analysis hexagons with ``morph_far`` and ``morph_coverage``.
    buildings
        Footprints with ``morph_footprint_area`` and ``morph_floor_area`` (m²).
    candidates
        The ``[candidates]`` settings (default: the workflow defaults): ``radius`` of the
        gains and ``near``, the walking distance of "within reach" figures (m);
        ``link_min_area`` (m²), ``max_links`` and ``detour`` of the links across sites.
    network
        The ``[network]`` settings: ``snap_distance``, how far (m) a place may lie from a
        street to be reached.
    social
        The ``[social]`` settings: ``m2_per_resident`` and ``m2_per_job``, the floor area
        (m²) per new resident and per new job.
    surroundings
        The floor area ratio of the surroundings is taken over cells within this distance
        (m) of the site.

    Returns
    -------
    LeverageContext
    """
    cand = candidates or CandidatesConfig()
    soc = social or SocialConfig()
    radius, snap_distance = float(cand.radius), float((network or NetworkConfig()).snap_distance)
    radii = sorted({float(cand.near), radius})
    acts = _points(activities)
    tps = _points(third_places)
    marks = _points(landmarks)
    act_att = _attach(net, acts, acts["category"].astype(str).to_numpy(), snap_distance)
    tp_att = _attach(net, tps, _THIRD, snap_distance)
    base_act = accessibility(net, act_att, radii=radii, categories="category")
    base_tp = accessibility(net, tp_att, radii=radii)
    lm_att = _attach(net, marks, "landmark", snap_distance)
    lm_att["weight"] = marks["weight"].to_numpy(dtype=float) if "weight" in marks else 1.0
    lm = accessibility(net, lm_att, radii=[radius], weights="weight")
    cent = centrality(net, [radius])
    cats = tuple(sorted(set(acts["category"].astype(str))))
    return LeverageContext(
        net=net,
        radius=radius,
        near=float(cand.near),
        people=people.reindex(net.node_ids).fillna(0.0),
        residents=residents.reindex(net.node_ids).fillna(0.0),
        activities=acts,
        third_places=tps,
        act_attached=act_att,
        tp_attached=tp_att,
        base_act=base_act,
        base_tp=base_tp,
        base_centrality=cent,
        landmark_access=lm[("total", "decayed", radius)],
        cells=cells,
        buildings=buildings,
        categories=cats,
        snap_distance=snap_distance,
        m2_per_resident=soc.m2_per_resident,
        m2_per_job=soc.m2_per_job,
        link_min_area=cand.link_min_area,
        max_links=cand.max_links,
        detour=cand.detour,
        surroundings=surroundings,
    )


def choose_links(
    site: BaseGeometry,
    access: list[Any],
    net: StreetNetwork,
    *,
    max_links: int = 3,
    detour: float = 1.5,
    slack: float = 30.0,
) -> list[shapely.LineString]:
    """Links across a site between access points the network now joins only by a detour.

    Pairs of access points whose straight line runs across the site (no more than
    ``slack`` metres of it outside, to reach the streets) and whose network distance
    exceeds ``detour`` × the straight line are candidates; the ``max_links`` pairs that
    save the most metres are linked, each access point used once. Network distances are
    searched up to 6 × ``detour``/1.5 × the widest pair (farther pairs count as
    unconnected, saving the most), one search per access point with the network engine.

    Examples
    --------
    A 300 m × 100 m block with streets on its four sides and a node in the middle of each
    long side: a 100 m link across replaces a 400 m walk around.

    >>> import networkx as nx
    >>> from shapely import box
    >>> xy = [(0, 0), (150, 0), (300, 0), (300, 100), (150, 100), (0, 100)]
    >>> G = nx.cycle_graph(6, create_using=nx.MultiGraph)
    >>> G.graph["crs"] = "EPSG:3067"
    >>> for i, (x, y) in enumerate(xy):
    ...     G.nodes[i].update(x=float(x), y=float(y))
    >>> for a, b, k in G.edges(keys=True):
    ...     G.edges[a, b, k]["length"] = float(np.hypot(*np.subtract(xy[a], xy[b])))
    >>> links = choose_links(box(0, 0, 300, 100), [0, 1, 2, 3, 4, 5], StreetNetwork.from_graph(G))
    >>> [(round(line.length), line.coords[0]) for line in links]
    [(100, (150.0, 0.0))]
    """
    if len(access) < 2 or max_links <= 0:
        return []
    pos = net.node_ids.get_indexer(pd.Index(access, tupleize_cols=False))
    if (pos < 0).any():
        raise KeyError(f"access points not in the network: {list(np.asarray(access)[pos < 0])}")
    xy = np.column_stack([net.x[pos], net.y[pos]])
    first, second = np.triu_indices(len(access), 1)
    lines = shapely.linestrings(np.stack([xy[first], xy[second]], axis=1))
    straight = shapely.length(lines)
    dist = _pair_distances(net, pos, detour)[first, second]
    # cheap tests first; the geometry only for pairs that pass them
    keep = np.flatnonzero((straight >= 10.0) & (dist > detour * straight))
    keep = keep[_outside(lines[keep], site) <= slack]
    saving = dist[keep] - straight[keep]
    labels = [str(a) for a in access]
    order = sorted(
        range(keep.size),
        key=lambda c: (-saving[c], labels[first[keep[c]]], labels[second[keep[c]]]),
    )
    used: set[int] = set()
    links: list[shapely.LineString] = []
    for c in order:
        a, b = int(first[keep[c]]), int(second[keep[c]])
        if a in used or b in used:
            continue
        links.append(lines[keep[c]])
        used |= {a, b}
        if len(links) == max_links:
            break
    return links


def _outside(lines: np.ndarray, site: BaseGeometry) -> np.ndarray:
    """The length (m) of each line outside the site; lines the site covers are 0."""
    out = np.zeros(len(lines))
    if len(lines) == 0:
        return out
    prepared = shapely.from_wkb(site.wkb)  # a copy: preparing does not touch the caller's
    shapely.prepare(prepared)
    cross = ~shapely.covers(prepared, lines)
    out[cross] = shapely.length(shapely.difference(lines[cross], site))
    return out


def _pair_distances(net: StreetNetwork, pos: np.ndarray, detour: float) -> np.ndarray:
    """Network distances (m) between access points (positions in ``net.node_ids``).

    Row ``i`` holds the distances from point ``i`` to the points after it (searched from
    ``i``); ``inf`` beyond the cutoff (4 × ``detour`` × the widest pair + 1 m).
    """
    k = pos.size
    widest = float(np.hypot(np.ptp(net.x[pos]), np.ptp(net.y[pos])))
    cutoff = 4.0 * detour * widest + 1.0
    internal = net._internal(net.node_ids[pos])
    out = np.full((k, k), np.inf)
    found = np.full(net.n_nodes, np.inf)
    for i in range(k - 1):
        reached, d = net._within(internal[i : i + 1], np.zeros(1), cutoff)
        found[reached] = d
        out[i, i + 1 :] = found[internal[i + 1 :]]
        found[reached] = np.inf
    return out


def _anchor(site: BaseGeometry, net: StreetNetwork) -> shapely.Point:
    """The point of the site's boundary nearest the network: where new places open."""
    edges = net._edges  # not net.edges: a copy, whose spatial index is built every time
    i = edges.sindex.nearest(site, return_all=False)[1][0]
    return shapely.ops.nearest_points(site.boundary, edges.geometry.iloc[i])[0]


def simulate(
    ctx: LeverageContext,
    site: BaseGeometry,
    access: list[Any],
    program: Program,
) -> dict[str, Any]:
    """Simulate a program at a site and measure the raw gains (see the module docstring).

    Parameters
    ----------
    ctx
        The town's baseline (:func:`build_context`).
    site
        The site polygon.
    access
        Its access nodes (:func:`rakennettu.synthesis.candidates.access_nodes`).
    program
        What is built.

    Returns
    -------
    dict
        Every gain of :data:`GAINS`; the figures of the explanations, :data:`FIGURES`;
        ``links`` (the link geometries), ``recomputed_nodes`` and ``program`` (in words).
    """
    return site_effect(ctx, site, access, program).gains(ctx.people, ctx.residents)


@dataclass(frozen=True, eq=False)
class SiteEffect:
    """What a program does at a site, node by node, before it is weighted by people.

    The social and cultural gains are sums over street nodes of people × a rise, so
    they are linear in the people at the nodes: one simulation serves every population
    (e.g. the rules for buildings of unknown use) through :meth:`gains`.

    Attributes
    ----------
    act_nodes, tp_nodes
        Ids of the nodes whose access to activities (third places) was recomputed.
    act_rise, tp_rise
        The rise of their decayed access within the radius.
    variety
        The rise of the number of activity categories within the radius (at ``act_nodes``).
    daily_new, tp_new
        True where a node had no daily service (third place) within ``near`` before, and
        has one after.
    fixed
        The gains that do not depend on people (links, closeness, gaps, landmark context,
        people added), and the figures ``links``, ``n_links``, ``radius``, ``near``,
        ``recomputed_nodes``, ``program``.
    """

    act_nodes: pd.Index
    act_rise: np.ndarray
    variety: np.ndarray
    daily_new: np.ndarray
    tp_nodes: pd.Index
    tp_rise: np.ndarray
    tp_new: np.ndarray
    fixed: dict[str, Any]

    def gains(self, people: pd.Series, residents: pd.Series) -> dict[str, Any]:
        """The gains for people (residents + jobs) and residents per street node.

        Returns
        -------
        dict
            As :func:`simulate`.
        """
        ppl = people.loc[self.act_nodes].to_numpy()
        res = residents.loc[self.act_nodes].to_numpy()
        reached = self.act_rise > 1e-12
        out: dict[str, Any] = {
            "soc_access_gain": float(ppl @ self.act_rise),
            "soc_residents_reached": float(res[reached].sum()),
            "soc_jobs_reached": float((ppl - res)[reached].sum()),
            "soc_variety_gain": float(ppl @ self.variety),
            "soc_residents_gain_daily": float(res[self.daily_new].sum()),
            "soc_people_added": self.fixed["soc_people_added"],
        }
        tres = residents.loc[self.tp_nodes].to_numpy()
        out["cult_third_place_gain"] = float(tres @ self.tp_rise)
        out["cult_residents_reached"] = float(tres[self.tp_rise > 1e-12].sum())
        out["cult_residents_gain_third_place"] = float(tres[self.tp_new].sum())
        out.update({k: v for k, v in self.fixed.items() if k != "soc_people_added"})
        return out


def _links_and_network(
    ctx: LeverageContext, site: BaseGeometry, access: list[Any], program: Program
) -> tuple[list[shapely.LineString], StreetNetwork, NetworkChange | None]:
    """The links across a large site, and the network with them."""
    net = ctx.net
    lines: list[shapely.LineString] = []
    if program.links and site.area >= ctx.link_min_area and len(access) >= 2:
        lines = choose_links(
            site,
            access,
            net,
            max_links=ctx.max_links,
            detour=ctx.detour,
        )
    if lines:
        new_net, change = net.with_links(lines, snap_distance=2.0)
        return lines, new_net, change
    return lines, net, None


def site_effect(
    ctx: LeverageContext,
    site: BaseGeometry,
    access: list[Any],
    program: Program,
) -> SiteEffect:
    """Simulate a program at a site: the rises at each node, before weighting by people.

    Parameters are as for :func:`simulate`; ``site_effect(...).gains(ctx.people,
    ctx.residents)`` is ``simulate(...)``. The compiled searches run on one thread: a
    site's searches are small, so one thread is faster than starting parallel regions
    (2.2x on a generated town), and the sums do not depend on the machine's cores.
    """
    return _site_effect(ctx, _Baseline.of(ctx), site, access, program)


@dataclass(frozen=True, eq=False)
class _Baseline:
    """What every site's update reads from the context, resolved once and shared."""

    act: _AccessBefore
    tp: _AccessBefore
    act_sig: pd.DataFrame
    tp_sig: pd.DataFrame
    spec: tuple[Any, ...]
    #: The baseline columns the gains read, keyed ``("act" | "tp", *column)``: floats
    #: with NaN as 0, None where the table has no such column.
    base: dict[tuple[Any, ...], np.ndarray | None]
    #: The cells' and buildings' geometries and the columns the gaps read, as arrays.
    arrays: dict[str, np.ndarray]

    @classmethod
    def of(cls, ctx: LeverageContext) -> _Baseline:
        """Resolve the context's points and columns, and build its spatial indexes."""
        net, r, near = ctx.net, ctx.radius, ctx.near
        for frame in (ctx.cells, ctx.buildings, net._edges):
            frame.sindex  # noqa: B018  built here, before threads share it
        act_pts = _resolve_points(net, ctx.act_attached, "category", None, True)
        tp_pts = _resolve_points(net, ctx.tp_attached, None, None, True)
        # their categories grouped once: every site's points are these and a few more
        act_pts, tp_pts = (p._replace(groups=_groups(p)) for p in (act_pts, tp_pts))
        base = {
            ("act", c, "count", r): _column(ctx.base_act, (c, "count", r)) for c in ctx.categories
        }
        for key, table, col in (
            ("act", ctx.base_act, ("total", "decayed", r)),
            ("act", ctx.base_act, (_DAILY, "count", near)),
            ("tp", ctx.base_tp, ("total", "decayed", r)),
            ("tp", ctx.base_tp, ("total", "count", near)),
        ):
            base[(key, *col)] = _column(table, col)
        return cls(
            act=_AccessBefore(net, ctx.base_act, act_pts, ctx.base_act.to_numpy(dtype=float)),
            tp=_AccessBefore(net, ctx.base_tp, tp_pts, ctx.base_tp.to_numpy(dtype=float)),
            act_sig=_signature(net, act_pts),
            tp_sig=_signature(net, tp_pts),
            spec=_check_access_args(sorted({near, r}), None, None),
            base=base,
            arrays={
                "cells": ctx.cells.geometry.to_numpy(),
                "far": np.asarray(ctx.cells["morph_far"]),
                "coverage": np.asarray(ctx.cells["morph_coverage"]),
                "buildings": ctx.buildings.geometry.to_numpy(),
                "floor_area": ctx.buildings["morph_floor_area"].to_numpy(),
            },
        )


def _column(table: pd.DataFrame, col: tuple[Any, ...]) -> np.ndarray | None:
    """A column of a table as floats, NaN as 0; None when it has no such column."""
    if col not in table.columns:
        return None
    return np.nan_to_num(table[col].to_numpy(dtype=float))


class _Places(NamedTuple):
    """The new places of a program, attached to the network at the site's front door.

    As attached points (frames), or resolved on the network already.
    """

    act: pd.DataFrame | _Points
    tp: pd.DataFrame | _Points


def _new_places(
    ctx: LeverageContext,
    site: BaseGeometry,
    new_net: StreetNetwork,
    program: Program,
    *,
    resolved: bool = False,
) -> _Places:
    """The program's activities and third places, all at one point (attached once).

    ``resolved``: as :func:`_resolve_points` of the attached frames would give them (no
    frame made), for a network without links.
    """
    anchor = _anchor(site, new_net)
    snap = max(ctx.snap_distance, 1e6)  # the anchor lies on the site's edge by a street
    new_cats = [c for c, n in program.activities.items() for _ in range(n)]
    k = program.third_places
    if resolved:
        epos, dist, along, _ = _snap_to_edges(new_net, np.array([anchor], dtype=object), snap)
        if epos[0] >= 0:
            one = (new_net, int(epos[0]), float(dist[0]), float(along[0]))
            return _Places(
                _placed(*one, pd.Series(np.asarray(new_cats), index=_new_ids(len(new_cats)))),
                _placed(*one, pd.Series(np.nan, index=_new_ids(k), dtype=object)),
            )
    one_frame = attach_points(new_net, gpd.GeoSeries([anchor], crs=new_net.crs), max_distance=snap)
    act = one_frame.iloc[[0] * len(new_cats)].set_axis(_new_ids(len(new_cats)))
    act["category"] = np.asarray(new_cats)
    tp = one_frame.iloc[[0] * k].set_axis(_new_ids(k))
    tp["category"] = _THIRD
    return _Places(act, tp)


def _new_ids(n: int) -> pd.Index:
    return pd.Index([f"new-{i}" for i in range(n)])


def _placed(
    net: StreetNetwork, edge: int, snap: float, along: float, category: pd.Series
) -> _Points:
    """Points at one spot of an edge, as :func:`_resolve_points` resolves them, snap included.

    The spot: the edge's position, the snapping distance and the metres along the edge
    from its ``u`` end (:func:`_snap_to_edges`).
    """
    n = len(category)
    dv = net._edges["length"].to_numpy()[edge] - along
    return _Points(
        category.index,
        np.full(n, edge, dtype=np.int64),
        np.full(n, net._edge_iu[edge], dtype=np.int64),
        np.full(n, net._edge_iv[edge], dtype=np.int64),
        np.full(n, along + snap, dtype=np.float64),
        np.full(n, dv + snap, dtype=np.float64),
        np.ones(n),
        category,
    )


def _updated(
    ctx: LeverageContext,
    baseline: _Baseline,
    new_net: StreetNetwork,
    change: NetworkChange | None,
    added: pd.DataFrame | _Points,
    kind: str,
    want: set[tuple[Any, ...]],
) -> _Updated:
    """Accessibility (``kind`` "act" or "tp") after the change and the new places.

    As :func:`accessibility_update` with the old points resolved once: without a network
    change they stay as they are; after one they are attached to the new network again
    and compared with the old.
    """
    before, sig = (
        (baseline.act, baseline.act_sig) if kind == "act" else (baseline.tp, baseline.tp_sig)
    )
    categories = "category" if kind == "act" else None
    if change is None:
        new = (
            added
            if isinstance(added, _Points)
            else _resolve_points(new_net, added, categories, None, True)
        )
        pts = _joined(before.pts, new)
        gone, come = pd.Index([]), new.ids.difference(before.pts.ids)
    else:
        assert isinstance(added, pd.DataFrame)  # with links: attached frames (_new_places)
        if kind == "act":
            old = _attach(new_net, ctx.activities, ctx.act_attached["category"], ctx.snap_distance)
        else:
            old = _attach(new_net, ctx.third_places, _THIRD, ctx.snap_distance)
        pts = _resolve_points(new_net, pd.concat([old, added]), categories, None, True)
        gone, come = _changed_points(sig, _signature(new_net, pts))
    return _updated_columns(
        before, new_net, change, pts, gone, come, baseline.spec, kind == "act", want
    )


def _joined(a: _Points, b: _Points) -> _Points:
    """The points of ``a`` and then those of ``b`` (resolved on the same network).

    Their categories' groups (:func:`rakennettu.network.access._groups`) come from the
    two parts' groups: the same positions, without factorizing every point again.
    """
    return _Points(
        a.ids.append(b.ids),
        np.concatenate([a.edge, b.edge]),
        np.concatenate([a.pu, b.pu]),
        np.concatenate([a.pv, b.pv]),
        np.concatenate([a.ou, b.ou]),
        np.concatenate([a.ov, b.ov]),
        np.concatenate([a.weight, b.weight]),
        pd.concat([a.category, b.category]),
        _joined_groups(_groups(a), _groups(b), len(a.ids)),
    )


def _joined_groups(
    first: list[tuple[Any, np.ndarray]], then: list[tuple[Any, np.ndarray]], offset: int
) -> list[tuple[Any, np.ndarray]] | None:
    """The groups of two sets of points one after the other, as :func:`_groups` makes them.

    The second's positions shifted by ``offset``; labels sorted, the uncategorised (None)
    last; None when the labels cannot be sorted here.
    """
    parts: dict[Any, list[np.ndarray]] = {}
    for label, where in first:
        parts.setdefault(label, []).append(where)
    for label, where in then:
        parts.setdefault(label, []).append(where + offset)
    try:
        labels = sorted(label for label in parts if label is not None)
    except TypeError:  # labels of several types: _groups sorts them as pandas does
        return None
    out = [(label, np.concatenate(parts[label])) for label in labels]
    if None in parts:
        out.append((None, np.concatenate(parts[None])))
    return out


class _Values:
    """Columns of an updated table and of the baseline at some old nodes (by id)."""

    def __init__(
        self,
        upd: _Updated,
        baseline: _Baseline,
        kind: str,
        new_net: StreetNetwork,
        old_ids: pd.Index,
    ) -> None:
        self.upd, self.base, self.kind = upd, baseline.base, kind
        self.ids = new_net.node_ids[upd.rows].intersection(old_ids)
        self.new_pos = new_net.node_ids.get_indexer(self.ids)
        self.old_pos = old_ids.get_indexer(self.ids)

    def after(self, col: tuple[Any, ...]) -> np.ndarray:
        """As ``table.loc[ids, col]`` of the updated table (counts whole, NaN as 0)."""
        if col not in self.upd.data:
            return np.zeros(len(self.ids))
        vals = self.upd.data[col][self.new_pos]
        return np.nan_to_num(np.rint(vals) if col[1] == "count" else vals)

    def before(self, col: tuple[Any, ...]) -> np.ndarray:
        """As ``table.loc[ids, col]`` of the baseline table (NaN as 0)."""
        vals = self.base.get((self.kind, *col))
        return np.zeros(len(self.ids)) if vals is None else vals[self.old_pos]

    def rise(self, col: tuple[Any, ...]) -> np.ndarray:
        return self.after(col) - self.before(col)

    def hill0(self, cats: Sequence[str], r: float, *, after: bool) -> np.ndarray:
        """The number of categories present within ``r`` (Hill number q = 0).

        A category named twice in ``cats`` counts twice, as it always has here: the
        variety gain passes the town's categories and then the program's, so a program
        category the town already has is counted twice (see the lev-cores note).
        """
        if after:
            present = [c for c in cats if (c, "count", r) in self.upd.data]
            cols = [self.after((c, "count", r)) for c in present]
        else:
            present = [c for c in cats if self.base.get((self.kind, c, "count", r)) is not None]
            cols = [self.before((c, "count", r)) for c in present]
        if not present:
            return np.zeros(len(self.ids))
        return np.asarray(hill_numbers(np.column_stack(cols), 0), dtype=float)


def _site_effect(
    ctx: LeverageContext,
    baseline: _Baseline,
    site: BaseGeometry,
    access: list[Any],
    program: Program,
) -> SiteEffect:
    with compiled_threads(1):
        return _effect(ctx, baseline, site, access, program)


def _effect(
    ctx: LeverageContext,
    baseline: _Baseline,
    site: BaseGeometry,
    access: list[Any],
    program: Program,
) -> SiteEffect:
    net = ctx.net
    r, near = ctx.radius, ctx.near
    lines, new_net, change = _links_and_network(ctx, site, access, program)
    added = _new_places(ctx, site, new_net, program, resolved=change is None)
    cats = (*ctx.categories, *program.activities)
    daily, decayed, tp_near = (
        (_DAILY, "count", near),
        ("total", "decayed", r),
        ("total", "count", near),
    )
    act_want = {(c, "count", r) for c in cats} | {decayed, daily}
    act_upd = _updated(ctx, baseline, new_net, change, added.act, "act", act_want)
    tp_upd = _updated(ctx, baseline, new_net, change, added.tp, "tp", {decayed, tp_near})
    act = _Values(act_upd, baseline, "act", new_net, net.node_ids)
    tp = _Values(tp_upd, baseline, "tp", new_net, net.node_ids)
    homes = program.floor_area * program.residential_share
    fixed: dict[str, Any] = {
        "soc_people_added": float(
            homes / ctx.m2_per_resident + (program.floor_area - homes) / ctx.m2_per_job
        ),
        "cult_landmark_context": float(
            np.nan_to_num(ctx.landmark_access.reindex(access).max()) if access else 0.0
        ),
    }
    recomputed = new_net.node_ids[act_upd.rows].union(new_net.node_ids[tp_upd.rows])
    if change is not None:
        cent = centrality_update(net, new_net, change, ctx.base_centrality, [r])
        fixed.update(_link_gains(ctx, cent, change, access))
        recomputed = recomputed.union(cent.recomputed)
    else:
        fixed.update(morph_closeness_gain=0.0, morph_through_movement=0.0)
    fixed["morph_far_gap"], fixed["morph_coverage_gap"] = _gaps(ctx, baseline, site)
    fixed.update(
        links=lines,
        n_links=len(lines),
        radius=r,
        near=near,
        recomputed_nodes=len(recomputed),
        program=program.describe(),
    )
    return SiteEffect(
        act_nodes=act.ids,
        act_rise=act.rise(decayed),
        variety=act.hill0(cats, r, after=True) - act.hill0(ctx.categories, r, after=False),
        daily_new=(act.before(daily) == 0) & (act.after(daily) > 0),
        tp_nodes=tp.ids,
        tp_rise=tp.rise(decayed),
        tp_new=(tp.before(tp_near) == 0) & (tp.after(tp_near) > 0),
        fixed=fixed,
    )


def _link_gains(
    ctx: LeverageContext, cent: Any, change: NetworkChange, access: list[Any]
) -> dict[str, float]:
    """Closeness and through-movement gained by the links (see the module docstring)."""
    r = ctx.radius
    old_ids = ctx.net.node_ids
    crow = cent.recomputed.intersection(old_ids)
    after_h = cent.table.loc[crow, ("harmonic", r)]
    closeness = float((after_h - ctx.base_centrality.loc[crow, ("harmonic", r)]).sum())
    ends = pd.Index(access).union(change.added_nodes)
    after = cent.table.loc[ends.intersection(cent.table.index), ("betweenness", r)].sum()
    before = ctx.base_centrality.loc[
        pd.Index(access).intersection(old_ids), ("betweenness", r)
    ].sum()
    return {"morph_closeness_gain": closeness, "morph_through_movement": float(after - before)}


def _gaps(ctx: LeverageContext, baseline: _Baseline, site: BaseGeometry) -> tuple[float, float]:
    """Surroundings' FAR and coverage less the site's own."""
    arr = baseline.arrays
    close = np.sort(ctx.cells.sindex.query(site.buffer(ctx.surroundings), "intersects"))
    near = close[~shapely.within(arr["cells"][close], site)]
    around_far = float(np.nanmean(arr["far"][near])) if len(near) else 0.0
    around_cov = float(np.nanmean(arr["coverage"][near])) if len(near) else 0.0
    hits = ctx.buildings.sindex.query(site, predicate="intersects")
    geoms = arr["buildings"][hits]
    inside = shapely.area(shapely.intersection(geoms, site))
    whole = shapely.area(geoms)
    share = np.divide(inside, whole, where=whole > 0, out=np.zeros(len(hits)))
    floor = float((arr["floor_area"][hits] * share).sum())
    area = float(site.area) or 1.0
    return around_far - floor / area, around_cov - float(inside.sum()) / area


def people_by_node(
    net: StreetNetwork, buildings: gpd.GeoDataFrame, values: pd.DataFrame, *, snap: float = 250.0
) -> pd.DataFrame:
    """Sum building values (residents, jobs) at the street node nearest each building.

    A building counts at the nearer end of the street segment nearest its
    representative point (within ``snap`` metres; farther buildings are left out).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``net.node_ids``, one column per column of ``values`` (0 where none).

    Examples
    --------
    >>> import networkx as nx
    >>> from shapely import LineString, box
    >>> G = nx.MultiGraph()
    >>> G.graph["crs"] = "EPSG:3067"
    >>> G.add_node(1, x=0.0, y=0.0); G.add_node(2, x=100.0, y=0.0)
    >>> _ = G.add_edge(1, 2, length=100.0)
    >>> b = gpd.GeoDataFrame(geometry=[box(10, 5, 20, 15), box(80, 5, 90, 15)], crs=3067)
    >>> people_by_node(StreetNetwork.from_graph(G), b, pd.DataFrame({"residents": [4, 6]}))
             residents
    node_id
    1              4.0
    2              6.0
    """
    out = pd.DataFrame(0.0, index=net.node_ids, columns=list(values.columns))
    if len(buildings) == 0:
        return out
    pts = buildings.geometry.representative_point()
    att = attach_points(net, pts, max_distance=snap)
    ok = att["attached"].to_numpy(dtype=bool)
    near_u = att["dist_u"].to_numpy() <= att["dist_v"].to_numpy()
    node = np.where(near_u, att["edge_u"].to_numpy(), att["edge_v"].to_numpy())[ok]
    vals = values.reset_index(drop=True).iloc[np.flatnonzero(ok)]
    sums = vals.groupby(node).sum()
    out.loc[sums.index, sums.columns] = sums.to_numpy(dtype=float)
    return out


def leverage_table(
    ctx: LeverageContext,
    candidates: gpd.GeoDataFrame,
    access: pd.Series,
    programs: Mapping[Any, Program],
    *,
    progress: bool = False,
) -> pd.DataFrame:
    """Simulate every site's program and collect the raw gains, one row per site.

    Parameters
    ----------
    ctx
        The baseline (:func:`build_context`).
    candidates
        The sites (polygons).
    access
        Their access nodes (lists), on the candidates' index.
    programs
        The program of each site, by candidate id.
    progress
        Show a progress bar.

    Returns
    -------
    pandas.DataFrame
        On the candidates' index: every gain of :data:`GAINS`, ``links`` (list of
        LineStrings), ``recomputed_nodes``, ``program``.
    """
    return leverage_tables(ctx, candidates, access, programs, progress=progress)[0]


#: Sites × street nodes from which the sites are simulated on several processes (one per
#: compiled thread here, see :func:`leverage_processes`). A worker process costs about
#: 3 s of CPU before its first site (measured on Reisterstown's context: the package
#: imported 2.0 s, the 45 MB context pickled 0.3 s and read back 0.3 s, the kernels
#: from the disk cache), while a site costs 20-60 ms there (9,838 nodes), growing with
#: the nodes within the radius. This process simulates sites while the workers start,
#: so from about 200 sites on such a network the pool saves more than it costs; the
#: bundled towns (5-13 sites) stay in one process. Reisterstown: 721 × 9,838.
PARALLEL_LEVERAGE_FROM = 2_000_000

#: Sites sent to a worker process at a time.
_SITES_PER_CHUNK = 4


def leverage_processes(n_sites: int, n_nodes: int, threads: int | None = None) -> int:
    """Processes to simulate ``n_sites`` sites on a network of ``n_nodes`` nodes with.

    ``threads`` (default ``numba.get_num_threads()``: the cores, ``NUMBA_NUM_THREADS``,
    or a batch worker's share) from :data:`PARALLEL_LEVERAGE_FROM` sites × nodes on,
    else one. One also in a daemon process (a Dask worker's), which may start none.

    Examples
    --------
    >>> leverage_processes(10, 3_000, threads=2), leverage_processes(721, 9_838, threads=2)
    (1, 2)
    >>> leverage_processes(721, 9_838, threads=1)
    1
    """
    import multiprocessing

    import numba

    n = numba.get_num_threads() if threads is None else int(threads)
    if n_sites * n_nodes < PARALLEL_LEVERAGE_FROM or multiprocessing.current_process().daemon:
        return 1
    return max(1, min(n, n_sites // _SITES_PER_CHUNK))


def _site_effects(
    ctx: LeverageContext,
    jobs: list[tuple[Any, BaseGeometry, list[Any], Program]],
    *,
    threads: int | None,
    processes: int | None,
    progress: bool,
) -> dict[Any, SiteEffect]:
    """Every site's :func:`site_effect`, by candidate id, on processes or threads.

    With one process and several threads, the first site runs here alone: it fills the
    context's lazy caches (spatial indexes, index lookups, compiled kernels) before
    threads share them. Each site's searches run on one compiled thread, so its effect
    is the same on any thread and in any process.
    """
    import numba

    from rakennettu._timing import progress_bar

    n_proc = leverage_processes(len(jobs), ctx.net.n_nodes) if processes is None else int(processes)
    n = numba.get_num_threads() if threads is None else int(threads)
    bar = progress_bar(total=len(jobs), desc="leverage", show=progress)
    baseline = _Baseline.of(ctx)
    effects: dict[Any, SiteEffect] = {}
    try:
        if n_proc > 1 and len(jobs) > 1:
            return _on_processes(ctx, baseline, jobs, n_proc, bar)
        for cid, site, acc, program in jobs[: 1 if n > 1 else len(jobs)]:
            effects[cid] = _site_effect(ctx, baseline, site, acc, program)
            bar.update(1)
        rest = jobs[len(effects) :]
        if rest:
            effects.update(_on_threads(ctx, baseline, rest, n, bar))
    finally:
        bar.close()
    return {cid: effects[cid] for cid, *_ in jobs}


_Job = tuple[Any, BaseGeometry, list[Any], Program]


def _worker_state(ctx: LeverageContext) -> tuple[LeverageContext, _Baseline]:
    """A worker process's state: the context and its resolved baseline."""
    return ctx, _Baseline.of(ctx)


def _job_effect(state: tuple[LeverageContext, _Baseline], job: _Job) -> SiteEffect:
    """One site's effect (in a worker process or here)."""
    ctx, baseline = state
    _, site, acc, program = job
    return _site_effect(ctx, baseline, site, acc, program)


def _on_processes(
    ctx: LeverageContext, baseline: _Baseline, jobs: list[_Job], n: int, bar: Any
) -> dict[Any, SiteEffect]:
    """The sites' effects on this process and ``n - 1`` spawned workers (:mod:`._pool`)."""
    from rakennettu._pool import map_shared

    effects = map_shared(
        _job_effect,
        jobs,
        setup=_worker_state,
        context=ctx,
        state=(ctx, baseline),
        processes=n,
        chunk=_SITES_PER_CHUNK,
        done=bar.update,
    )
    return {job[0]: e for job, e in zip(jobs, effects, strict=True)}


def _on_threads(
    ctx: LeverageContext, baseline: _Baseline,
    jobs: list[tuple[Any, BaseGeometry, list[Any], Program]], n: int, bar: Any,
) -> dict[Any, SiteEffect]:  # fmt: skip
    """The sites' effects on a pool of ``n`` threads; pending ones are cancelled on error."""
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    from rakennettu import interrupt

    def one(site: BaseGeometry, acc: list[Any], program: Program) -> SiteEffect:
        interrupt.check()  # stop soon after Ctrl-C: no new site starts
        return _site_effect(ctx, baseline, site, acc, program)

    pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="leverage")
    futures = {}
    try:
        futures = {pool.submit(one, *job[1:]): job[0] for job in jobs}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            bar.update(len(done))
            for f in done:
                f.result()  # raise a site's error at once
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return {cid: f.result() for f, cid in futures.items()}


def leverage_tables(
    ctx: LeverageContext,
    candidates: gpd.GeoDataFrame,
    access: pd.Series,
    programs: Mapping[Any, Program],
    *,
    populations: Sequence[tuple[pd.Series, pd.Series]] = (),
    threads: int | None = 1,
    processes: int | None = None,
    progress: bool = False,
) -> list[pd.DataFrame]:
    """The leverage table for the context's people and for other populations.

    Each site is simulated once (:func:`site_effect`); its gains are then weighted by
    each population's people, which costs next to nothing (the gains are linear in the
    people at the nodes).

    Parameters
    ----------
    ctx, candidates, access, programs, progress
        As for :func:`leverage_table`.
    populations
        Other (people, residents) per street node, e.g. under other rules for buildings
        of unknown use: ``leverage_table(replace(ctx, people=p, residents=r), ...)``.
    threads
        Sites simulated at once, each on its own thread; None: as many as the compiled
        kernels' threads here (``numba.get_num_threads()``, i.e. ``NUMBA_NUM_THREADS`` or
        the cores). The tables do not depend on it. Only the compiled searches release
        the GIL, about 15 % of a site's time on a whole town (benchmarks/README.md), so
        more threads gain little (none measured on 2 cores): the default is one.
        Threads are used with one process only.
    processes
        Processes the sites are shared between, this one included, each worker with one
        compiled thread (:mod:`rakennettu._pool`); None: :func:`leverage_processes`
        (several from :data:`PARALLEL_LEVERAGE_FROM` sites × nodes on). The tables do
        not depend on it.

    Returns
    -------
    list of pandas.DataFrame
        The table of :func:`leverage_table` for ``ctx.people``, then one per population.
    """
    jobs = [
        (cid, candidates.geometry.loc[cid], list(access.loc[cid]), programs[cid])
        for cid in candidates.index
    ]
    effects = _site_effects(ctx, jobs, threads=threads, processes=processes, progress=progress)
    tables = []
    for people, residents in [(ctx.people, ctx.residents), *populations]:
        rows = {cid: effects[cid].gains(people, residents) for cid in candidates.index}
        table = pd.DataFrame.from_dict(rows, orient="index")
        table.index.name = candidates.index.name
        tables.append(table)
    return tables


def links_frame(gains: pd.DataFrame, crs: Any) -> gpd.GeoDataFrame:
    """The simulated links of every site, one row per link, with its ``candidate_id``.

    Examples
    --------
    >>> g = pd.DataFrame({"links": [[shapely.LineString([(0, 0), (0, 50)])], []]},
    ...                  index=pd.Index(["C1", "C2"], name="candidate_id"))
    >>> links_frame(g, 3067)["candidate_id"].tolist()
    ['C1']
    """
    rows = [(cid, line) for cid, lines in gains["links"].items() for line in lines]
    return gpd.GeoDataFrame(
        {"candidate_id": [r[0] for r in rows]},
        geometry=gpd.GeoSeries([r[1] for r in rows], crs=crs),
        crs=crs,
    )
