"""Normalisation, dimension scores and the synergy index: the maths, by properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import percentileofscore

from rakennettu.synthesis.scores import normalise, synergy, vitality, weighted_mean

values = st.lists(
    st.one_of(st.floats(-1e9, 1e9, allow_nan=False), st.just(float("nan"))), min_size=1, max_size=60
)
unit = st.floats(0, 1, allow_nan=False)


@settings(max_examples=100, deadline=None)
@given(v=values, method=st.sampled_from(["percentile", "robust_z"]))
def test_normalised_values_are_in_range_and_keep_nan(v, method):
    s = normalise(pd.Series(v), method=method)
    x = pd.Series(v)
    assert s[x.isna()].isna().all()
    assert s[x.notna()].between(0, 1).all()


@settings(max_examples=100, deadline=None)
@given(v=values, method=st.sampled_from(["percentile", "robust_z"]))
def test_normalisation_keeps_the_order(v, method):
    x = pd.Series(v).dropna()
    s = normalise(x, method=method)
    order = np.argsort(x.to_numpy(), kind="stable")
    assert np.all(np.diff(s.to_numpy()[order]) >= -1e-12)


@pytest.mark.parametrize(
    "v",
    [
        [0.0, 1.0, 5e-324],  # found by Hypothesis: a subnormal MAD overflowed the quotient
        [5e-324, 0.0, 1.0, -1e9, 5e-324, 1e-320],
        [1e-310, 2e-310, 3e-310, 1e9, -1e9],
        [-1e9, 1e9, 2.2250738585072014e-308, 0.0, 1e-308],
    ],
)
def test_robust_z_survives_a_tiny_mad(v):
    # pytest turns the overflow RuntimeWarning into an error, as in the suite
    s = normalise(pd.Series(v), method="robust_z")
    assert s.between(0, 1).all()
    x = np.asarray(v)
    order = np.argsort(x, kind="stable")
    assert np.all(np.diff(s.to_numpy()[order]) >= 0)
    # the median value scores one half, the largest and smallest saturate on their side
    assert s[int(np.argmax(x))] > 0.5 > s[int(np.argmin(x))]


def test_robust_z_matches_scipy_on_ordinary_values():
    from scipy.stats import median_abs_deviation, norm

    x = pd.Series([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0])
    ref = norm.cdf((x - x.median()) / median_abs_deviation(x, scale=1 / 1.4826))
    np.testing.assert_allclose(normalise(x, method="robust_z"), ref)


def test_percentile_matches_scipy():
    x = pd.Series([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0])
    n = len(x)
    # scipy's "mean" kind counts ties half, over all n values including itself
    ref = [(percentileofscore(x, v, kind="mean") / 100 * n - 0.5) / (n - 1) for v in x]
    np.testing.assert_allclose(normalise(x), ref)


@settings(max_examples=100, deadline=None)
@given(s=st.tuples(unit, unit, unit), w=st.tuples(*[st.floats(0.01, 10)] * 3))
def test_synergy_never_exceeds_the_weighted_mean(s, w):
    dims = pd.DataFrame({"score_morph": [s[0]], "score_soc": [s[1]], "score_cult": [s[2]]})
    weights = dict(zip(("morph", "soc", "cult"), w, strict=True))
    g = synergy(dims, weights, floor=1e-9).iloc[0]
    a = weighted_mean(dims.rename(columns=lambda c: c[6:]), weights).iloc[0]
    assert 0 <= g <= max(a, 1e-9) + 1e-12  # (scores below the floor are raised to it)


@settings(max_examples=50, deadline=None)
@given(x=unit, w=st.tuples(*[st.floats(0.01, 10)] * 3))
def test_equal_scores_give_that_score(x, w):
    x = max(x, 0.01)
    dims = pd.DataFrame({"score_morph": [x], "score_soc": [x], "score_cult": [x]})
    assert synergy(dims, dict(zip(("morph", "soc", "cult"), w, strict=True))).iloc[0] == (
        pytest.approx(x)
    )


@settings(max_examples=50, deadline=None)
@given(a=st.lists(st.tuples(unit, unit, unit), min_size=1, max_size=20), noise=unit)
def test_zero_weight_removes_a_dimension(a, noise):
    dims = pd.DataFrame(a, columns=["score_morph", "score_soc", "score_cult"])
    other = dims.assign(score_cult=noise)
    w = {"morph": 1.0, "soc": 2.0, "cult": 0.0}
    pd.testing.assert_series_equal(synergy(dims, w), synergy(other, w))


def test_synergy_rewards_balance():
    dims = pd.DataFrame(
        {"score_morph": [0.9, 0.6], "score_soc": [0.9, 0.6], "score_cult": [0.05, 0.6]}
    )
    s = synergy(dims, {"morph": 1, "soc": 1, "cult": 1})
    assert s.iloc[1] > s.iloc[0]  # all three moderately strong beats two strong, one weak


def test_negative_dimension_weight_is_refused():
    dims = pd.DataFrame({"score_morph": [0.5]})
    with pytest.raises(ValueError, match="must be >= 0"):
        synergy(dims, {"morph": -1})


@settings(max_examples=50, deadline=None)
@given(rows=st.lists(st.tuples(unit, unit), min_size=2, max_size=30), seed=st.integers(0, 99))
def test_vitality_does_not_depend_on_row_order(rows, seed):
    cells = pd.DataFrame(rows, columns=["morph_a", "soc_b"])
    spec = {"morph": {"morph_a": 1.0}, "soc": {"soc_b": -1.0}}
    w = {"morph": 1.0, "soc": 1.0}
    a = vitality(cells, spec, w)
    b = vitality(cells.sample(frac=1, random_state=seed), spec, w)
    pd.testing.assert_frame_equal(a, b.loc[a.index])


def test_cells_without_access_are_not_scored():
    cells = pd.DataFrame({"morph_a": [1.0, 2.0, 0.0], "soc_b": [1.0, 2.0, 0.0]})
    out = vitality(
        cells,
        {"morph": {"morph_a": 1}, "soc": {"soc_b": 1}},
        {"morph": 1, "soc": 1},
        usable=pd.Series([True, True, False]),
    )
    assert out.loc[2].isna().all()
    assert out.loc[0, "score_morph"] == 0.0 and out.loc[1, "score_morph"] == 1.0


def test_make_test_draws_the_same_examples_every_time():
    # tests/conftest.py loads the deterministic profile unless HYPOTHESIS_PROFILE says otherwise
    import os

    if os.environ.get("HYPOTHESIS_PROFILE", "deterministic") != "deterministic":
        pytest.skip("another Hypothesis profile was asked for")
    assert settings.default.derandomize
    assert settings.default.database is None


# ---- the index adapts to what the data can say -----------------------------------------

SPEC = {
    "morph": {"morph_a": 1.0},
    "soc": {"soc_b": 1.0, "soc_nearest_daily_needs": -0.5},
    "cult": {"cult_c": 1.0, "cult_age_diversity_800m": 0.5},
}
W = {"morph": 1.0, "soc": 1.0, "cult": 1.0}


def _cells(**cols):
    base = {
        "morph_a": [1.0, 2.0, 3.0, 4.0],
        "soc_b": [4.0, 1.0, 3.0, 2.0],
        "soc_nearest_daily_needs": [100.0, 300.0, 200.0, 400.0],
        "cult_c": [2.0, 4.0, 1.0, 3.0],
        "cult_age_diversity_800m": [0.5, 0.1, 0.9, 0.3],
    }
    base.update(cols)
    return pd.DataFrame(base)


def _pct(v):
    """Percentile rank by hand: the lowest 0, the highest 1."""
    order = np.argsort(np.argsort(v))
    return order / (len(v) - 1)


def test_an_all_nan_indicator_leaves_its_dimension_with_a_warning(caplog):
    # no building has a year: the age diversity is NaN everywhere
    cells = _cells(cult_age_diversity_800m=[np.nan] * 4)
    out = vitality(cells, SPEC, W)
    # by hand: the cultural score is cult_c's percentile alone (its weight renormalised)
    np.testing.assert_allclose(out["score_cult"], _pct([2.0, 4.0, 1.0, 3.0]))
    assert (
        "index: cult_age_diversity_800m has no value in any scored cell: left out of the "
        "cultural score (the weights renormalised over its other indicators)"
    ) in caplog.messages


def test_a_constant_indicator_leaves_its_dimension_and_the_weights_renormalise(caplog):
    # the same value everywhere would score 0.5 everywhere and pull the dimension to 0.5
    cells = _cells(cult_age_diversity_800m=[0.4] * 4, soc_b=[7.0] * 4)
    out = vitality(cells, SPEC, W)
    np.testing.assert_allclose(out["score_cult"], _pct([2.0, 4.0, 1.0, 3.0]))
    # soc: only the nearest distance is left (lower is better), at its full weight
    np.testing.assert_allclose(out["score_soc"], 1 - _pct([100.0, 300.0, 200.0, 400.0]))
    assert any("soc_b has the same value in every scored cell" in m for m in caplog.messages)
    # with the constant left in, the cultural score would differ: (c + 0.5 × 0.5) / 1.5
    kept = (_pct([2.0, 4.0, 1.0, 3.0]) + 0.5 * 0.5) / 1.5
    assert not np.allclose(out["score_cult"], kept)


def test_a_dimension_without_a_usable_indicator_leaves_the_synergy(caplog):
    # no landmarks, no years: every cultural indicator measures nothing
    cells = _cells(cult_c=[0.0] * 4, cult_age_diversity_800m=[np.nan] * 4)
    out = vitality(cells, SPEC, W)
    assert out["score_cult"].isna().all()
    # the synergy is the geometric mean of the two remaining dimensions, by hand
    m = np.clip(out["score_morph"].to_numpy(), 0.01, 1)
    s = np.clip(out["score_soc"].to_numpy(), 0.01, 1)
    np.testing.assert_allclose(out["synergy"], np.sqrt(m * s))
    assert (
        "index: no usable cultural measure: the cultural dimension is left out of the "
        "synergy (the geometric mean of the remaining dimensions)"
    ) in caplog.messages


def test_only_the_scored_cells_decide_what_is_constant():
    from rakennettu.synthesis.scores import adapt

    cells = _cells(cult_c=[5.0, 5.0, 5.0, 9.0])
    usable = pd.Series([True, True, True, False])
    a = adapt(cells[usable], SPEC, W)
    assert a.dropped_indicators == {"cult_c": "constant"}
    assert a.spec["cult"] == {"cult_age_diversity_800m": 0.5}
    out = vitality(cells, SPEC, W, usable=usable)
    np.testing.assert_allclose(out["score_cult"][:3], _pct([0.5, 0.1, 0.9]))


def test_a_nearest_distance_beyond_reach_everywhere_is_constant():
    from rakennettu.synthesis.scores import adapt

    # nothing within reach anywhere: NaN counts as the farthest, the same for every cell
    a = adapt(_cells(soc_nearest_daily_needs=[np.nan] * 4), SPEC, W)
    assert a.dropped_indicators == {"soc_nearest_daily_needs": "constant"}
