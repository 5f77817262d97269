"""Hill numbers against hand computations, and their documented edge cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from rakennettu.diversity import hill_numbers
from rakennettu.layers.cultural import period_diversity


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        # abundances 6, 3, 1 (shares 0.6, 0.3, 0.1), worked on paper
        (0, 3.0),
        (1, math.exp(-(0.6 * math.log(0.6) + 0.3 * math.log(0.3) + 0.1 * math.log(0.1)))),
        (2, 1 / (0.36 + 0.09 + 0.01)),
        (3, (0.216 + 0.027 + 0.001) ** (1 / (1 - 3))),
        (0.5, (math.sqrt(0.6) + math.sqrt(0.3) + math.sqrt(0.1)) ** 2),
    ],
    ids=["q0", "q1", "q2", "q3", "q0.5"],
)
def test_hill_numbers_by_hand(q, expected):
    assert hill_numbers([6, 3, 1, 0], q) == pytest.approx(expected, rel=1e-12)


def test_nothing_present_is_empty():
    rows = np.array([[0.0, 0.0], [1.0, 3.0]])
    assert hill_numbers(rows, 2)[0] == 0.0
    assert np.isnan(hill_numbers(rows, 2, empty=np.nan)[0])
    assert hill_numbers(rows, 2)[1] == pytest.approx(1 / (0.0625 + 0.5625))


@pytest.mark.parametrize(
    ("abundances", "q", "expected"),
    [
        ([7], 0, 1.0),
        ([7], 1, 1.0),
        ([7], 2, 1.0),
        ([3, 3, 3, 3], 0, 4.0),
        ([3, 3, 3, 3], 1, 4.0),
        ([3, 3, 3, 3], 2, 4.0),
        ([0.5, 0.5, 0.5], 0.5, 3.0),
        ([2, 1, 1], 0, 3.0),
        ([2, 1, 1], 1, 2**1.5),
        ([2, 1, 1], 2, 8 / 3),
        ([8, 2], 2, 1 / 0.68),
        ([8, 2], 0.5, (math.sqrt(0.8) + math.sqrt(0.2)) ** 2),
        ([8, 2], 3, (0.8**3 + 0.2**3) ** -0.5),
        ([5, 0, 5], 1, 2.0),
        ([0, 0, 0], 0, 0.0),
        ([0, 0, 0], 1, 0.0),
        ([0, 0, 0], 2, 0.0),
    ],
    ids=lambda v: str(v),
)
def test_hill_numbers(abundances, q, expected):
    assert hill_numbers(abundances, q) == pytest.approx(expected, rel=1e-12)


def test_hill_q1_is_the_limit():
    a = [5, 3, 1, 1]
    assert hill_numbers(a, 1 - 1e-7) == pytest.approx(hill_numbers(a, 1), rel=1e-6)
    assert hill_numbers(a, 1 + 1e-7) == pytest.approx(hill_numbers(a, 1), rel=1e-6)


def test_hill_falls_with_q():
    a = np.random.default_rng(0).integers(0, 20, size=(50, 6))
    d = [hill_numbers(a, q) for q in (0, 0.5, 1, 2, 4)]
    for lo, hi in zip(d[1:], d[:-1], strict=True):
        assert np.all(lo <= hi + 1e-12)


def test_hill_frame_keeps_index():
    frame = pd.DataFrame({"a": [1, 0], "b": [1, 0]}, index=pd.Index(["x", "y"], name="node_id"))
    out = hill_numbers(frame, 2)
    assert out.index.equals(frame.index)
    assert out.tolist() == [2.0, 0.0]


@pytest.mark.parametrize(
    ("abundances", "q"), [([1, -1], 1), ([1, np.nan], 1), ([1, 1], -1)], ids=["neg", "nan", "q"]
)
def test_hill_rejects(abundances, q):
    with pytest.raises(ValueError, match=r"abundances|q must"):
        hill_numbers(abundances, q)


def test_period_diversity_is_q1_with_nan_for_no_building():
    counts = np.array([[[3, 3, 0], [0, 0, 0]], [[1, 0, 0], [2, 1, 1]]])
    out = period_diversity(counts)
    assert out.shape == (2, 2)
    assert out[0, 0] == pytest.approx(2.0) and np.isnan(out[0, 1]) and out[1, 0] == 1.0
    assert out[1, 1] == pytest.approx(hill_numbers([2, 1, 1], 1))
