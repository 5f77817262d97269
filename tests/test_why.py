"""A site's `why`: every figure from its gains, the population named, nothing said of all."""

from __future__ import annotations

import re

import pandas as pd

from rakennettu.synthesis.leverage import FIGURES, GAINS
from rakennettu.synthesis.ranking import rank_candidates

COLS = [c for d in GAINS.values() for c in d]
W = {"morph": 1, "soc": 1, "cult": 1}


def _gains(n: int = 4, **cols) -> pd.DataFrame:
    base = {c: [0.0] * n for c in COLS}
    base.update({"soc_residents_reached": [0.0] * n, "soc_jobs_reached": [0.0] * n,
                 "cult_residents_reached": [0.0] * n, "n_links": [0] * n,
                 "radius": [800.0] * n, "near": [400.0] * n})  # fmt: skip
    base.update(cols)
    return pd.DataFrame(base, index=[f"C{i + 1}" for i in range(n)])


def _why(g: pd.DataFrame) -> pd.Series:
    return rank_candidates(g, W, draws=0).table["why"].loc[g.index]


def test_access_names_residents_and_jobs_with_the_tables_figures():
    g = _gains(
        soc_access_gain=[5.0, 1.0, 0.0, 0.0],
        soc_residents_reached=[1234.0, 10.0, 0.0, 0.0],
        soc_jobs_reached=[5678.0, 20.0, 0.0, 0.0],
    )
    why = _why(g)
    assert "access to services rises for 1,234 residents and 5,678 jobs within 800 m" in why["C1"]
    assert "people" not in " ".join(why)


def test_without_the_figures_no_number_is_made_up():
    # a re-ranking from the scored gains alone: no "0 people", the sentence is left out
    g = _gains(soc_access_gain=[5.0, 1.0, 0.0, 0.0]).drop(
        columns=["soc_residents_reached", "soc_jobs_reached"]
    )
    why = _why(g)
    assert not any(re.search(r"\b0 (residents|jobs|people)", w) for w in why)
    assert not any("access to services rises" in w for w in why)


def test_variety_is_said_only_of_sites_above_the_others():
    same = _why(_gains(soc_variety_gain=[3.0, 3.0, 3.0, 3.0]))
    assert not any("kind of activity" in w for w in same)
    varied = _why(_gains(soc_variety_gain=[9.0, 1.0, 1.0, 1.0]))
    assert "kind of activity" in varied["C1"]
    assert not any("kind of activity" in varied[c] for c in ("C2", "C3", "C4"))


def test_links_come_from_the_link_count_column():
    g = _gains(morph_closeness_gain=[2.0, 0.0, 0.0, 0.0], n_links=[2, 0, 0, 0])
    why = _why(g)
    assert "2 new links across the site raise closeness" in why["C1"]
    assert "link" not in why["C2"].replace("no new links", "")


def test_figures_columns_are_documented_with_units():
    assert set(FIGURES) >= {"soc_residents_reached", "soc_jobs_reached", "cult_residents_reached"}
    assert FIGURES["soc_jobs_reached"] == "jobs" and FIGURES["soc_residents_reached"] == "residents"
