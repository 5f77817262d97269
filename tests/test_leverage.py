"""Leverage and ranking on a constructed town whose answer is known by design.

    cluster A (3x3 grid, 100 m)        single street          cluster B         dead end
    o---o---o                                              o---o---o
    |   |   |        [lot M]                               |   |   |              [lot E]
    o---o---o---o---o---o---o---o---o---o---o---o---o---o---o---o---o---o---o---o---o
    |   |   |                                              |   |   |
    o---o---o                                              o---o---o
    x=0    200                      (600)               1000   1200             (1700)

Both clusters have residents, shops and a landmark, and no third place. Lot M lies on the
single street halfway between them; lot E, identical, at the far end of a dead end east of
cluster B. A café and two daily services at M reach the people of both clusters; at E
almost nobody.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely import LineString, Point, box

from rakennettu.config import CandidatesConfig, NetworkConfig
from rakennettu.network import StreetNetwork, accessibility
from rakennettu.synthesis.candidates import access_nodes
from rakennettu.synthesis.leverage import (
    GAINS,
    Program,
    build_context,
    choose_links,
    leverage_table,
    leverage_tables,
    parse_program,
    simulate,
)
from rakennettu.synthesis.ranking import dimension_gains, rank_candidates

X0, Y0 = 385_000.0, 6_672_000.0  # central Helsinki in ETRS-TM35FIN


def _town(dx: float = 0.0, dy: float = 0.0):
    ox, oy = X0 + dx, Y0 + dy
    g = nx.MultiGraph(crs="EPSG:3067")

    def node(name, x, y):
        g.add_node(name, x=ox + x, y=oy + y)

    def edge(a, b):
        pa = Point(g.nodes[a]["x"], g.nodes[a]["y"])
        pb = Point(g.nodes[b]["x"], g.nodes[b]["y"])
        g.add_edge(a, b, length=pa.distance(pb))

    for cx, name in ((0, "A"), (1000, "B")):
        for i in range(3):
            for j in range(3):
                node(f"{name}{i}{j}", cx + 100 * i, 100 * j)
        for i in range(3):
            for j in range(3):
                if i < 2:
                    edge(f"{name}{i}{j}", f"{name}{i + 1}{j}")
                if j < 2:
                    edge(f"{name}{i}{j}", f"{name}{i}{j + 1}")
    street = [f"S{k}" for k in range(1, 8)]  # 300 .. 900 along y = 100
    for k, s in enumerate(street):
        node(s, 300 + 100 * k, 100)
    chain = ["A21", *street, "B01"]
    for a, b in itertools.pairwise(chain):
        edge(a, b)
    dead = [f"D{k}" for k in range(1, 6)]  # 1300 .. 1700 along y = 100
    for k, d in enumerate(dead):
        node(d, 1300 + 100 * k, 100)
    chain = ["B21", *dead]
    for a, b in itertools.pairwise(chain):
        edge(a, b)

    nodes = gpd.GeoDataFrame(
        index=pd.Index(list(g.nodes), name="node_id"),
        geometry=[Point(d["x"], d["y"]) for _, d in g.nodes(data=True)],
        crs=3067,
    )
    cluster = nodes.index.str.match(r"^[AB]\d\d$")
    residents = pd.Series(np.where(cluster, 100.0, 0.0), index=nodes.index)

    def pts(xys, **cols):
        return gpd.GeoDataFrame(cols, geometry=[Point(ox + x, oy + y) for x, y in xys], crs=3067)

    shops = [(50, 0), (150, 200), (1050, 0), (1150, 200)]
    activities = pts(shops, category=["retail", "food_drink", "retail", "food_drink"])
    third_places = pts([], category=[])
    landmarks = pts([(100, 150), (1100, 150)], weight=[3.0, 3.0])
    lots = gpd.GeoDataFrame(
        {"kind": ["vacant_land", "vacant_land"]},
        geometry=[
            box(ox + 560, oy + 105, ox + 640, oy + 185),  # M, on the single street
            box(ox + 1660, oy + 105, ox + 1740, oy + 185),  # E, at the dead end
        ],
        index=pd.Index(["M", "E"], name="candidate_id"),
        crs=3067,
    )
    cells = [box(ox + x, oy - 100, ox + x + 100, oy + 300) for x in range(-100, 1800, 100)]
    grid = gpd.GeoDataFrame(
        {"morph_far": [0.0] * len(cells), "morph_coverage": [0.0] * len(cells)},
        geometry=cells,
        crs=3067,
    )
    buildings = gpd.GeoDataFrame(
        {"morph_floor_area": pd.Series([], dtype=float)},
        geometry=gpd.GeoSeries([], crs=3067),
        crs=3067,
    )
    return g, nodes, residents, activities, third_places, landmarks, lots, grid, buildings


def _context(town, **kw):
    g, _, residents, acts, tps, marks, _, grid, buildings = town
    net = StreetNetwork.from_graph(g)
    ctx = build_context(
        net,
        activities=acts,
        third_places=tps,
        landmarks=marks,
        people=residents,
        residents=residents,
        cells=grid,
        buildings=buildings,
        candidates=CandidatesConfig(radius=800, near=400),
        network=NetworkConfig(snap_distance=50),
        **kw,
    )
    return net, ctx


@pytest.fixture(scope="module")
def town():
    return _town()


@pytest.fixture(scope="module")
def ranked(town):
    _, ctx = _context(town)
    lots = town[6]
    access = access_nodes(lots, town[1], distance=25)
    gains = leverage_table(ctx, lots, access, {i: Program() for i in lots.index})
    return gains, rank_candidates(gains, {"morph": 1, "soc": 1, "cult": 1}, draws=200)


def test_lot_between_the_clusters_ranks_above_the_lot_at_the_edge(ranked):
    gains, ranking = ranked
    t = ranking.table
    assert t.loc["M", "rank"] == 1 and t.loc["E", "rank"] == 2
    for dim in ("soc", "cult"):
        assert t.loc["M", f"gain_{dim}"] > t.loc["E", f"gain_{dim}"], dim
    # no links and equal gaps: the morphological gains do not tell the two lots apart, so
    # the dimension is left out of the scores and not called strong or weak
    assert (gains[list(GAINS["morph"])].nunique() == 1).all()
    assert ranking.dropped_dimensions == {"morph"}
    assert t["gain_morph"].isna().all()
    assert "morphological not scored" in t.loc["M", "why"]
    assert "strong morphological" not in t.loc["M", "why"]
    assert "weak morphological" not in t.loc["M", "why"]
    assert gains.loc["M", "cult_residents_gain_third_place"] > 0
    assert gains.loc["E", "cult_residents_gain_third_place"] == 0  # nobody lives near E
    assert "residents gain a third place within 400 m" in t.loc["M", "why"]


def test_social_gain_equals_a_full_recomputation(town):
    net, ctx = _context(town)
    lots, nodes, residents = town[6], town[1], town[2]
    access = access_nodes(lots, nodes, distance=25)
    gains = simulate(ctx, lots.geometry["M"], list(access["M"]), Program())
    # full: attach every activity, old and new, and recompute every node
    from rakennettu.synthesis.leverage import _anchor, _attach

    anchor = _anchor(lots.geometry["M"], net)
    new = gpd.GeoDataFrame(
        {"category": ["daily_needs"] * 2}, geometry=[anchor] * 2, crs=3067, index=["n0", "n1"]
    )
    allpts = pd.concat([ctx.act_attached, _attach(net, new, ["daily_needs"] * 2, 1e6)])
    full = accessibility(net, allpts, radii=[400, 800], categories="category")
    rise = full[("total", "decayed", 800)] - ctx.base_act[("total", "decayed", 800)]
    assert gains["soc_access_gain"] == pytest.approx(float(residents @ rise), rel=1e-9)


def _closeness_nx(g: nx.MultiGraph, radius: float) -> pd.Series:
    out = {}
    for n in g.nodes:
        d = nx.single_source_dijkstra_path_length(g, n, cutoff=radius, weight="length")
        out[n] = sum(1 / v for k, v in d.items() if k != n and v > 0)
    return pd.Series(out)


def test_link_across_a_large_lot_raises_closeness_as_networkx_says():
    # a 300 x 200 m block between two streets; its access points face each other
    g = nx.MultiGraph(crs="EPSG:3067")
    xy = {
        "sw": (0, 0), "s": (150, 0), "se": (300, 0),
        "nw": (0, 200), "n": (150, 200), "ne": (300, 200),
    }  # fmt: skip
    for k, (x, y) in xy.items():
        g.add_node(k, x=X0 + x, y=Y0 + y)
    for a, b in [("sw", "s"), ("s", "se"), ("se", "ne"), ("ne", "n"), ("n", "nw"), ("nw", "sw")]:
        g.add_edge(a, b, length=Point(xy[a]).distance(Point(xy[b])))
    net = StreetNetwork.from_graph(g)
    nodes = gpd.GeoDataFrame(
        index=pd.Index(list(xy), name="node_id"),
        geometry=[Point(X0 + x, Y0 + y) for x, y in xy.values()],
        crs=3067,
    )
    site = box(X0 + 10, Y0 + 5, X0 + 290, Y0 + 195)
    empty = gpd.GeoDataFrame({"category": []}, geometry=gpd.GeoSeries([], crs=3067), crs=3067)
    people = pd.Series(1.0, index=nodes.index)
    ctx = build_context(
        net, activities=empty, third_places=empty.drop(columns="category"),
        landmarks=empty.assign(weight=[]), people=people, residents=people,
        cells=gpd.GeoDataFrame({"morph_far": [0.0], "morph_coverage": [0.0]},
                               geometry=[site.buffer(300)], crs=3067),
        buildings=gpd.GeoDataFrame({"morph_floor_area": []},
                                   geometry=gpd.GeoSeries([], crs=3067), crs=3067),
        candidates=CandidatesConfig(radius=800, near=400, link_min_area=5000),
    )  # fmt: skip
    access = access_nodes(gpd.GeoDataFrame(geometry=[site], crs=3067), nodes, distance=25)
    gains = simulate(ctx, site, list(access.iloc[0]), Program(activities={}, third_places=0))
    assert len(gains["links"]) == 1
    assert {tuple(round(c) for c in p) for p in gains["links"][0].coords} == {
        (X0 + 150, Y0),
        (X0 + 150, Y0 + 200),
    }
    before = _closeness_nx(g, 800)
    g2 = g.copy()
    g2.add_edge("s", "n", length=200.0)
    after = _closeness_nx(g2, 800)
    assert gains["morph_closeness_gain"] == pytest.approx(float((after - before).sum()), rel=1e-9)
    assert gains["morph_closeness_gain"] > 0


@pytest.mark.parametrize(
    ("dx", "dy"), [(0, 0), (250_000, -1_000_000)], ids=["helsinki", "shifted-1000km"]
)
def test_ranking_is_invariant_to_a_crs_offset_and_row_order(ranked, dx, dy):
    town = _town(dx, dy)
    _, ctx = _context(town)
    lots = town[6].iloc[::-1]  # reversed rows
    access = access_nodes(lots, town[1], distance=25)
    gains = leverage_table(ctx, lots, access, {i: Program() for i in lots.index})
    ranking = rank_candidates(gains, {"morph": 1, "soc": 1, "cult": 1}, draws=200)
    base = ranked[1].table
    pd.testing.assert_series_equal(ranking.table["rank"].sort_index(), base["rank"].sort_index())
    for col in [c for d in GAINS.values() for c in d]:
        assert gains.loc[["M", "E"], col].to_numpy() == pytest.approx(
            ranked[0].loc[["M", "E"], col].to_numpy(), rel=1e-9, abs=1e-9
        ), col


@pytest.fixture(scope="module")
def mono_context(town):
    return _context(town)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(k=st.integers(0, 4), extra=st.sampled_from(["daily_needs", "retail", "culture"]))
def test_more_activities_never_lower_the_social_gain(mono_context, town, k, extra):
    _, ctx = mono_context
    lots, nodes = town[6], town[1]
    access = list(access_nodes(lots, nodes, distance=25)["M"])
    base = Program(activities={extra: k}, third_places=0)
    more = Program(activities={extra: k + 1}, third_places=0)
    g0 = simulate(ctx, lots.geometry["M"], access, base)
    g1 = simulate(ctx, lots.geometry["M"], access, more)
    for col in GAINS["soc"]:
        assert g1[col] >= g0[col] - 1e-12, col


gain_tables = st.integers(2, 12).flatmap(
    lambda n: st.lists(
        st.lists(st.floats(0, 1e6, allow_nan=False), min_size=11, max_size=11),
        min_size=n,
        max_size=n,
    )
)


def _gains(rows):
    cols = [c for d in GAINS.values() for c in d]
    return pd.DataFrame(rows, columns=cols, index=[f"C{i}" for i in range(len(rows))]).assign(
        links=[[] for _ in rows]
    )


@settings(max_examples=40, deadline=None)
@given(rows=gain_tables, w=st.tuples(*[st.floats(0.1, 5)] * 3))
def test_scores_stay_in_range(rows, w):
    weights = dict(zip(("morph", "soc", "cult"), w, strict=True))
    t = rank_candidates(_gains(rows), weights, draws=20).table
    assert ((t["score"] > 0) & (t["score"] <= 1)).all()
    assert t["rank"].between(1, len(rows)).all()
    assert (t["rank_p05"] <= t["rank_p95"]).all()


@settings(max_examples=40, deadline=None)
@given(rows=gain_tables, seed=st.integers(0, 1000))
def test_ranking_does_not_depend_on_row_order(rows, seed):
    g = _gains(rows)
    shuffled = g.sample(frac=1, random_state=seed)
    a = rank_candidates(g, {"morph": 1, "soc": 2, "cult": 1}, draws=10).table["rank"]
    b = rank_candidates(shuffled, {"morph": 1, "soc": 2, "cult": 1}, draws=10).table["rank"]
    pd.testing.assert_series_equal(a.sort_index(), b.sort_index())


@settings(max_examples=40, deadline=None)
@given(
    rows=gain_tables, noise=st.lists(st.floats(0, 1e6, allow_nan=False), min_size=12, max_size=12)
)
def test_a_zero_weight_removes_a_dimensions_influence(rows, noise):
    g = _gains(rows)
    scrambled = g.copy()
    for col in GAINS["cult"]:  # change the cultural gains arbitrarily
        scrambled[col] = noise[: len(g)]
    w = {"morph": 1.0, "soc": 1.0, "cult": 0.0}
    a = rank_candidates(g, w, draws=0).table
    b = rank_candidates(scrambled, w, draws=0).table
    pd.testing.assert_series_equal(a["score"].sort_index(), b["score"].sort_index())


def test_program_text():
    cats = {"daily_needs", "retail"}
    p = parse_program("retail=2, third_place=0, floor_area=1200, residential=0.75", Program(),
                      categories=cats)  # fmt: skip
    assert dict(p.activities) == {"daily_needs": 2, "retail": 2}
    assert (p.third_places, p.floor_area, p.residential_share) == (0, 1200.0, 0.75)
    assert parse_program(float("nan"), p, categories=cats) is p  # a missing value in a file
    assert parse_program("  ", p, categories=cats) is p
    from rakennettu import ConfigError

    with pytest.raises(ConfigError, match=r"unknown key 'retial'"):
        parse_program("retial=1", Program(), categories=cats)
    with pytest.raises(ConfigError, match=r"floor_area = 'lots' is not valid"):
        parse_program("floor_area=lots", Program(), categories=cats)


def test_dimension_gains_are_percentiles():
    g = _gains([[float(i)] * 11 for i in range(5)])
    _, dims = dimension_gains(g)
    assert dims["gain_soc"].tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_gains_with_links_equal_a_full_recomputation_on_the_changed_network():
    # a 300 x 200 m block with a shop on each side street; a link across it changes
    # every walk between the two sides
    g = nx.MultiGraph(crs="EPSG:3067")
    xy = {
        "sw": (0, 0), "s": (150, 0), "se": (300, 0),
        "nw": (0, 200), "n": (150, 200), "ne": (300, 200),
    }  # fmt: skip
    for k, (x, y) in xy.items():
        g.add_node(k, x=X0 + x, y=Y0 + y)
    for a, b in [("sw", "s"), ("s", "se"), ("se", "ne"), ("ne", "n"), ("n", "nw"), ("nw", "sw")]:
        g.add_edge(a, b, length=Point(xy[a]).distance(Point(xy[b])))
    net = StreetNetwork.from_graph(g)
    nodes = net.nodes
    site = box(X0 + 10, Y0 + 5, X0 + 290, Y0 + 195)
    shops = gpd.GeoDataFrame(
        {"category": ["retail", "food_drink"]},
        geometry=[Point(X0 + 100, Y0), Point(X0 + 200, Y0 + 200)],
        crs=3067,
    )
    tps = gpd.GeoDataFrame(geometry=[Point(X0 + 50, Y0 + 200)], crs=3067)
    people = pd.Series([10.0, 20.0, 30.0, 40.0, 50.0, 60.0], index=nodes.index)
    ctx = build_context(
        net, activities=shops, third_places=tps,
        landmarks=gpd.GeoDataFrame({"weight": []}, geometry=gpd.GeoSeries([], crs=3067), crs=3067),
        people=people, residents=people,
        cells=gpd.GeoDataFrame({"morph_far": [0.0], "morph_coverage": [0.0]},
                               geometry=[site.buffer(300)], crs=3067),
        buildings=gpd.GeoDataFrame({"morph_floor_area": []},
                                   geometry=gpd.GeoSeries([], crs=3067), crs=3067),
        candidates=CandidatesConfig(radius=400, near=200, link_min_area=5000),
        network=NetworkConfig(snap_distance=20),
    )  # fmt: skip
    access = list(access_nodes(gpd.GeoDataFrame(geometry=[site], crs=3067), nodes).iloc[0])
    gains = simulate(ctx, site, access, Program())
    assert len(gains["links"]) == 1
    # full: the changed network, every shop and the new ones attached afresh
    from rakennettu.synthesis.leverage import _anchor, _attach

    new_net, _ = net.with_links(gains["links"], snap_distance=2.0)
    anchor = _anchor(site, new_net)
    new = gpd.GeoDataFrame(
        {"category": ["daily_needs"] * 2}, geometry=[anchor] * 2, crs=3067, index=["n0", "n1"]
    )
    allpts = pd.concat(
        [
            _attach(new_net, shops, shops["category"], 20),
            _attach(new_net, new, new["category"], 1e6),
        ]
    )
    full = accessibility(new_net, allpts, radii=[200, 400], categories="category")
    rise = (full[("total", "decayed", 400)] - ctx.base_act[("total", "decayed", 400)]).loc[
        people.index
    ]
    assert gains["soc_access_gain"] == pytest.approx(float(people @ rise), rel=1e-9)
    tp_all = pd.concat(
        [
            _attach(new_net, tps, "third_place", 20),
            _attach(new_net, new.iloc[:1], "third_place", 1e6),
        ]
    )
    tp_full = accessibility(new_net, tp_all, radii=[200, 400])
    tp_rise = (tp_full[("total", "decayed", 400)] - ctx.base_tp[("total", "decayed", 400)]).loc[
        people.index
    ]
    assert gains["cult_third_place_gain"] == pytest.approx(float(people @ tp_rise), rel=1e-9)


def _ordered_gains(n: int, reverse: bool = False) -> pd.DataFrame:
    """Sites whose every gain rises with their number (or falls, reversed)."""
    k = np.arange(n, dtype=float)[::-1] if reverse else np.arange(n, dtype=float)
    return _gains([[v + 1.0] * len(_gains([]).columns[:-1]) for v in k])


def test_a_dropped_dimension_is_left_out_of_the_scores_and_never_explained():
    g = _ordered_gains(5)
    w = {"morph": 1.0, "soc": 1.0, "cult": 1.0}
    ranking = rank_candidates(g, w, draws=0, dropped={"cult"})
    t = ranking.table
    assert ranking.dropped_dimensions == {"cult"}
    assert t["gain_cult"].isna().all()
    # by hand: the geometric mean of the two remaining dimension gains (percentiles)
    p = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    expected = np.sqrt(np.clip(p, 0.01, 1) * np.clip(p, 0.01, 1))
    np.testing.assert_allclose(t.loc[g.index, "score"], expected)
    for why in t["why"]:
        assert why.endswith("cultural not scored (no usable data)")
        assert "strong cultural" not in why and "weak cultural" not in why


def test_rank_intervals_draw_between_the_assumptions():
    g = _ordered_gains(6)
    w = {"morph": 1.0, "soc": 1.0, "cult": 1.0}
    alone = rank_candidates(g, w, draws=200, kappa=1000).table
    both = rank_candidates(g, w, draws=200, kappa=1000, alternatives=[_ordered_gains(6, True)])
    top = "C5"  # best under the default assumption, worst under the other
    assert alone.loc[top, "rank"] == 1 and both.table.loc[top, "rank"] == 1
    assert alone.loc[top, ["rank_p05", "rank_p95"]].tolist() == [1, 1]
    assert both.table.loc[top, ["rank_p05", "rank_p95"]].tolist() == [1, 6]
    assert both.scenarios == 2


def _reference_intervals(dims, weights, context, cw, draws, kappa, seed, top, alternatives):
    """rank_intervals' rule draw by draw with pandas: Dirichlet weights, the synergy of
    the drawn frame's gains blended with the context, pandas' "min" ranks, percentiles."""
    from rakennettu.synthesis.scores import synergy

    used = [d for d in ("morph", "soc", "cult") if weights.get(d, 0) > 0]
    w = np.array([weights[d] for d in used])
    rng = np.random.default_rng(seed)
    samples = rng.dirichlet(kappa * w / w.sum(), size=draws)
    frames = [dims, *(a.loc[dims.index] for a in alternatives)]
    pick = rng.integers(0, len(frames), size=draws) if alternatives else np.zeros(draws, int)

    def ranked(frame, wts):
        s = synergy(frame.rename(columns=lambda c: c.replace("gain_", "score_")), wts)
        if context is not None and cw > 0:
            s = (1 - cw) * s + cw * context.fillna(0.0)
        return s.rank(ascending=False, method="min").astype(int)

    base_top = set(ranked(dims, weights).sort_values(kind="stable").index[:top])
    rows, stay = [], []
    for i, sample in enumerate(samples):
        r = ranked(frames[pick[i]], dict(zip(used, sample, strict=True)))
        rows.append(r.to_numpy())
        stay.append(len(base_top & set(r.sort_values(kind="stable").index[:top])) / len(base_top))
    q = np.percentile(np.array(rows), [5, 50, 95], axis=0, method="nearest")
    frame = pd.DataFrame({"rank_median": q[1], "rank_p05": q[0], "rank_p95": q[2]})
    return frame.set_axis(dims.index).astype(int), float(np.mean(stay))


@pytest.mark.parametrize("context_weight", [0.0, 0.3], ids=["no-context", "context"])
@pytest.mark.parametrize("n_alternatives", [0, 2], ids=["one-assumption", "three"])
def test_rank_intervals_equal_the_rule_drawn_one_by_one(
    context_weight, n_alternatives, monkeypatch
):
    from rakennettu.synthesis import ranking

    # the numpy path itself is checked, not its pandas fallback
    monkeypatch.setattr(ranking, "_drawn_ranks_pandas", lambda *a: pytest.fail("fallback"))

    rng = np.random.default_rng(7)
    index = pd.Index([f"site-{k}" for k in rng.permutation(40)], name="candidate_id")

    def gains():  # one decimal: many ties; zeros: below the synergy's floor
        return pd.DataFrame(
            rng.integers(0, 11, size=(40, 3)) / 10,
            index=index,
            columns=["gain_morph", "gain_soc", "gain_cult"],
        )

    dims, alternatives = gains(), [gains() for _ in range(n_alternatives)]
    context = pd.Series(rng.random(40), index=index).where(rng.random(40) > 0.2)
    weights = {"morph": 1.0, "soc": 2.0, "cult": 0.5}
    args = (dims, weights, context, context_weight, 100, 20.0, 3, 10, alternatives)
    frame, stability = ranking.rank_intervals(
        dims, weights, context=context, context_weight=context_weight, draws=100,
        kappa=20.0, seed=3, top=10, alternatives=alternatives,
    )  # fmt: skip
    want_frame, want_stability = _reference_intervals(*args)
    pd.testing.assert_frame_equal(frame, want_frame, check_exact=True)
    assert stability == want_stability
    assert (frame["rank_p05"] < frame["rank_p95"]).any()  # the draws did move the ranks


# ---------------------------------------------------------------------------------------
# choose_links against a plain networkx + shapely reference (the rule in its docstring)


def _reference_links(site, access, g, *, max_links=3, detour=1.5, slack=30.0):
    """The rule pair by pair: networkx Dijkstra, one shapely difference per pair."""
    pts = {a: Point(g.nodes[a]["x"], g.nodes[a]["y"]) for a in access}
    simple = nx.Graph()
    simple.add_nodes_from(g)
    for a, b, w in g.edges(data="length"):
        if not simple.has_edge(a, b) or simple[a][b]["length"] > w:
            simple.add_edge(a, b, length=w)
    xy = np.array([(p.x, p.y) for p in pts.values()])
    cutoff = 4.0 * detour * float(np.hypot(*(xy.max(axis=0) - xy.min(axis=0)))) + 1.0
    dist = {
        a: nx.single_source_dijkstra_path_length(simple, a, cutoff=cutoff, weight="length")
        for a in access
    }
    cands = []
    for i, a in enumerate(access):
        for b in access[i + 1 :]:
            line = LineString([pts[a], pts[b]])
            if line.length < 10.0 or line.difference(site).length > slack:
                continue
            d = dist[a].get(b, np.inf)
            if d > detour * line.length:
                cands.append((d - line.length, str(a), str(b), a, b, line))
    cands.sort(key=lambda c: (-c[0], c[1], c[2]))
    used, links = set(), []
    for *_, a, b, line in cands:
        if a not in used and b not in used:
            links.append(line)
            used |= {a, b}
    return links[:max_links]


def _holey_grid(seed: int) -> nx.MultiGraph:
    """A jittered 12 x 12 grid (60 m) with a fifth of its edges missing and some doubled."""
    rng = np.random.default_rng(seed)
    g = nx.MultiGraph(crs="EPSG:3067")
    for i, j in itertools.product(range(12), range(12)):
        x, y = X0 + 60 * i + rng.uniform(-8, 8), Y0 + 60 * j + rng.uniform(-8, 8)
        g.add_node(f"n{i}-{j}", x=x, y=y)
    for i, j in itertools.product(range(12), range(12)):
        for di, dj in ((1, 0), (0, 1)):
            if i + di > 11 or j + dj > 11 or rng.random() < 0.2:
                continue
            a, b = f"n{i}-{j}", f"n{i + di}-{j + dj}"
            straight = Point(g.nodes[a]["x"], g.nodes[a]["y"]).distance(
                Point(g.nodes[b]["x"], g.nodes[b]["y"])
            )
            g.add_edge(a, b, length=straight * rng.uniform(1.0, 1.4))
            if rng.random() < 0.1:  # a parallel path, sometimes shorter
                g.add_edge(a, b, length=straight * rng.uniform(1.0, 1.4))
    g.add_node("island", x=X0 + 330, y=Y0 + 330)  # an access point nothing reaches
    return g


@pytest.mark.parametrize("seed", range(8))
def test_choose_links_equals_the_pairwise_networkx_rule(seed):
    g = _holey_grid(seed)
    net = StreetNetwork.from_graph(g)
    rng = np.random.default_rng(100 + seed)
    cx, cy = X0 + rng.uniform(200, 460), Y0 + rng.uniform(200, 460)
    w, h = rng.uniform(120, 300), rng.uniform(80, 240)
    site = shapely.affinity.rotate(
        box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), rng.uniform(0, 90)
    )
    near = [n for n, d in g.nodes(data=True) if Point(d["x"], d["y"]).distance(site) <= 25]
    access = sorted(near, key=lambda n: rng.random())  # the order must not matter
    for max_links in (1, 3, 20):
        got = choose_links(site, access, net, max_links=max_links)
        want = _reference_links(site, access, g, max_links=max_links)
        assert [line.wkb for line in got] == [line.wkb for line in want]


def test_choose_links_reference_cases_are_not_all_empty():
    # the comparison above means something only if the rule picks links in most cases
    picked = 0
    for seed in range(8):
        g = _holey_grid(seed)
        site = box(X0 + 150, Y0 + 150, X0 + 450, Y0 + 400)
        access = [n for n, d in g.nodes(data=True) if Point(d["x"], d["y"]).distance(site) <= 25]
        links = choose_links(site, access, StreetNetwork.from_graph(g), max_links=20)
        assert [x.wkb for x in links] == [
            x.wkb for x in _reference_links(site, access, g, max_links=20)
        ]
        picked += len(links) > 0
    assert picked >= 6


def test_choose_links_unreached_pair_saves_the_most():
    # two access points on separate streets: no network path within the cutoff, so the
    # pair counts as the largest saving (and is linked first)
    g = nx.MultiGraph(crs="EPSG:3067")
    for name, x, y in (("a", 0, 0), ("b", 100, 0), ("c", 0, 80), ("d", 100, 80)):
        g.add_node(name, x=X0 + x, y=Y0 + y)
    g.add_edge("a", "b", length=100.0)
    g.add_edge("c", "d", length=100.0)
    links = choose_links(
        box(X0, Y0, X0 + 100, Y0 + 80), ["a", "b", "c", "d"], StreetNetwork.from_graph(g)
    )
    ends = sorted(
        tuple(sorted((round(p[0] - X0), round(p[1] - Y0)) for p in line.coords)) for line in links
    )
    # a-c and b-d (80 m, unconnected) win over the 128 m diagonals (also unconnected)
    # because ties at "unreached" go by the ids: a-c first, then b-d
    assert ends == [((0, 0), (0, 80)), ((100, 0), (100, 80))]


# ---------------------------------------------------------------------------------------
# leverage_tables: one simulation per site, weighted by each population; forked workers


def _random_town(seed: int):
    """The holey grid with random shops, third places, landmarks, people and 10 sites."""
    g = _holey_grid(seed)
    g.remove_node("island")
    net = StreetNetwork.from_graph(g)
    rng = np.random.default_rng(200 + seed)

    def pts(n, **cols):
        xy = rng.uniform(0, 660, size=(n, 2))
        return gpd.GeoDataFrame(cols, geometry=[Point(X0 + x, Y0 + y) for x, y in xy], crs=3067)

    cats = ["retail", "food_drink", "daily_needs", "health"]
    acts = pts(40, category=rng.choice(cats, 40))
    sites = []
    for _ in range(10):  # small and large rotated lots (the large ones get links)
        cx, cy = X0 + rng.uniform(100, 560), Y0 + rng.uniform(100, 560)
        w, h = rng.uniform(40, 260), rng.uniform(40, 200)
        lot = box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
        sites.append(shapely.affinity.rotate(lot, rng.uniform(0, 90)))
    lots = gpd.GeoDataFrame(
        geometry=sites, index=pd.Index([f"S{i}" for i in range(10)], name="candidate_id"), crs=3067
    )
    residents = pd.Series(rng.integers(0, 50, net.n_nodes).astype(float), index=net.node_ids)
    ctx = build_context(
        net, activities=acts, third_places=pts(6), landmarks=pts(3, weight=[1.0, 2.0, 3.0]),
        people=residents + rng.integers(0, 30, net.n_nodes), residents=residents,
        cells=gpd.GeoDataFrame({"morph_far": [0.5], "morph_coverage": [0.2]},
                               geometry=[box(X0 - 100, Y0 - 100, X0 + 800, Y0 + 800)], crs=3067),
        buildings=gpd.GeoDataFrame({"morph_floor_area": []},
                                   geometry=gpd.GeoSeries([], crs=3067), crs=3067),
        candidates=CandidatesConfig(radius=300, near=150, link_min_area=8000),
        network=NetworkConfig(snap_distance=40),
    )  # fmt: skip
    access = access_nodes(lots, net.nodes, distance=25)
    programs = {
        cid: Program(activities={"daily_needs": 1 + i % 2, "retail": i % 3}, third_places=i % 2)
        for i, cid in enumerate(lots.index)
    }
    populations = [
        (ctx.people * rng.uniform(0, 2, net.n_nodes), ctx.residents * 0.5),
        (ctx.people + 7.0, ctx.residents + 3.0),
    ]
    return ctx, lots, access, programs, populations


@pytest.fixture(scope="module", params=[0], ids=["seed0"])
def random_town(request):
    return _random_town(request.param)


def _per_site_tables(ctx, lots, access, programs, populations):
    """The rule before leverage_tables: every site simulated again for each population."""
    tables = []
    for people, residents in [(ctx.people, ctx.residents), *populations]:
        c = replace(ctx, people=people, residents=residents)
        rows = {
            cid: simulate(c, lots.geometry[cid], list(access[cid]), programs[cid])
            for cid in lots.index
        }
        table = pd.DataFrame.from_dict(rows, orient="index")
        table.index.name = lots.index.name
        tables.append(table)
    return tables


def test_random_town_has_links_and_reached_people(random_town):
    # the comparisons below mean something only if some sites get links and gains
    ctx, lots, access, programs, _ = random_town
    table = leverage_table(ctx, lots, access, programs)
    assert (table["n_links"] > 0).sum() >= 2
    assert (table["soc_access_gain"] > 0).sum() >= 5
    assert (table["cult_third_place_gain"] > 0).sum() >= 3


def test_leverage_tables_equal_per_site_simulations_per_population(random_town):
    ctx, lots, access, programs, populations = random_town
    want = _per_site_tables(ctx, lots, access, programs, populations)
    got = leverage_tables(ctx, lots, access, programs, populations=populations)
    assert len(got) == 3
    for g, w in zip(got, want, strict=True):
        links = g.pop("links"), w.pop("links")
        assert [[x.wkb for x in ls] for ls in links[0]] == [[x.wkb for x in ls] for ls in links[1]]
        pd.testing.assert_frame_equal(g, w, check_exact=True)
    # the populations differ, so do the tables (the test would pass on a copied table else)
    assert not got[0]["soc_access_gain"].equals(got[1]["soc_access_gain"])


def _assert_same_tables(got, expected):
    """Leverage tables equal bit for bit, their links by WKB."""
    for g, w in zip(got, expected, strict=True):
        assert [[x.wkb for x in ls] for ls in g["links"]] == [
            [x.wkb for x in ls] for ls in w["links"]
        ]
        pd.testing.assert_frame_equal(
            g.drop(columns="links"), w.drop(columns="links"), check_exact=True
        )


def test_leverage_tables_on_threads_equal_the_sequential_ones(random_town):
    # sites simulated at once on a pool of threads give the same tables, row for row, in
    # the candidates' order whatever order the sites end in (threads=1, the default, is
    # compared with simulate() above)
    ctx, lots, access, programs, populations = random_town
    one = leverage_tables(ctx, lots, access, programs, populations=populations)
    many = leverage_tables(ctx, lots, access, programs, populations=populations, threads=3)
    _assert_same_tables(many, one)
    assert list(one[0].index) == list(lots.index)


def test_leverage_tables_on_processes_equal_the_in_process_ones(random_town):
    # the sites shared between this process and a spawned worker (each holding the
    # context, pickled once) give the same tables, bit for bit, in the candidates' order
    ctx, lots, access, programs, populations = random_town
    one = leverage_tables(ctx, lots, access, programs, populations=populations, processes=1)
    two = leverage_tables(ctx, lots, access, programs, populations=populations, processes=2)
    _assert_same_tables(two, one)
    assert list(two[0].index) == list(lots.index)


def test_a_sites_points_are_grouped_as_if_grouped_afresh(random_town):
    # the baseline's category groups joined with a program's (one category the town has,
    # one it has not) equal the groups found by factorizing every joined point again
    from rakennettu.network.access import _groups
    from rakennettu.synthesis.leverage import _Baseline, _joined, _new_places

    ctx, lots, _, _, _ = random_town
    base = _Baseline.of(ctx)
    program = Program(activities={"retail": 2, "zz_new": 1}, third_places=2)
    added = _new_places(ctx, lots.geometry.iloc[0], ctx.net, program, resolved=True)
    for old, new in ((base.act.pts, added.act), (base.tp.pts, added.tp)):
        joined = _joined(old, new)
        fresh = _groups(joined._replace(groups=None))
        assert [label for label, _ in joined.groups] == [label for label, _ in fresh]
        for (_, got), (_, want) in zip(joined.groups, fresh, strict=True):
            np.testing.assert_array_equal(got, want)
    assert "zz_new" in [label for label, _ in _joined(base.act.pts, added.act).groups]
