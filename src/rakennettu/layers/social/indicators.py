"""The social indicators: name, unit, definition and source of every ``soc_`` column."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rakennettu.naming import IndicatorDoc

if TYPE_CHECKING:
    pass


# ------------------------------------------------------------------------ indicators

INDICATORS: tuple[IndicatorDoc, ...] = (
    IndicatorDoc(
        "soc",
        "count_total",
        True,
        "count",
        "Activities of every category within R on the network (walk along the streets "
        "plus the last metres off them).",
        "OSM activities (taxonomy table activities) and municipal 'pois' layers",
    ),
    IndicatorDoc(
        "soc",
        "count_{category}",
        True,
        "count",
        "Activities of the category (their primary category) within R on the network.",
        "OSM activities (taxonomy table activities) and municipal 'pois' layers",
    ),
    IndicatorDoc(
        "soc",
        "access_total",
        True,
        "decay-weighted count",
        "Σ weight · exp(-β d) over the activities within network distance d <= R, "
        "β = 4/R per metre by default (a weight falls to 0.018 at R).",
        "OSM activities (taxonomy table activities, rule weights) and municipal 'pois'",
    ),
    IndicatorDoc(
        "soc",
        "access_{category}",
        True,
        "decay-weighted count",
        "Σ weight · exp(-β d) over the category's activities within network distance "
        "d <= R, β = 4/R per metre by default.",
        "OSM activities (taxonomy table activities, rule weights) and municipal 'pois'",
    ),
    IndicatorDoc(
        "soc",
        "nearest_{category}",
        False,
        "m",
        "Network distance to the nearest activity of the category; NaN beyond the largest "
        "radius (beyond reach: the loaded context reaches only that far beyond the area, so "
        "farther distances would be upper bounds).",
        "OSM activities (taxonomy table activities) and municipal 'pois' layers",
    ),
    IndicatorDoc(
        "soc",
        "mix_q0",
        True,
        "count of categories",
        "Land-use mix: the number of activity categories present within R (Hill number "
        "D_0, richness).",
        "soc_count_<category>_<R>m",
    ),
    IndicatorDoc(
        "soc",
        "mix_q1",
        True,
        "effective number of categories",
        "Land-use mix: Hill number D_1 = exp(-Σ p_i ln p_i) of the category shares p_i of "
        "the activities within R (exponential Shannon entropy); 0 where none is in reach.",
        "soc_count_<category>_<R>m",
    ),
    IndicatorDoc(
        "soc",
        "mix_q2",
        True,
        "effective number of categories",
        "Land-use mix: Hill number D_2 = 1 / Σ p_i² of the category shares within R "
        "(inverse Simpson index); 0 where none is in reach.",
        "soc_count_<category>_<R>m",
    ),
    IndicatorDoc(
        "soc",
        "mix_decayed_q1",
        True,
        "effective number of categories",
        "As soc_mix_q1 with the decayed sums soc_access_<category> as abundances, so near "
        "activities weigh more. (A decayed q0 would repeat soc_mix_q0.)",
        "soc_access_<category>_<R>m",
    ),
    IndicatorDoc(
        "soc",
        "mix_decayed_q2",
        True,
        "effective number of categories",
        "As soc_mix_q2 with the decayed sums soc_access_<category> as abundances.",
        "soc_access_<category>_<R>m",
    ),
    IndicatorDoc(
        "soc",
        "residents",
        True,
        "persons",
        "Residents of the buildings within R on the network (building representative "
        "points attached to the nearest street): the population a place serves.",
        "population grid ([[layers]] role 'population', column residents) allocated to "
        "buildings by residential floor area, else residential floor area / m2_per_resident",
        "node",
    ),
    IndicatorDoc(
        "soc",
        "jobs",
        True,
        "jobs",
        "Jobs in the buildings within R on the network.",
        "population grid column jobs allocated by workplace floor area, else workplace "
        "floor area (uses commercial, office, industrial, public, education, health, "
        "culture) / m2_per_job",
        "node",
    ),
    IndicatorDoc(
        "soc",
        "activity_density",
        False,
        "per km²",
        "Quartic kernel density of the activities (weighted), K(d) = 3/(π h²)·(1 - d²/h²)² "
        "for d < h, h = bandwidth (m); integrates to the weighted count.",
        "OSM activities and municipal 'pois' layers",
        "raster",
    ),
    IndicatorDoc(
        "soc",
        "resident_density",
        False,
        "per km²",
        "Quartic kernel density of residents at building points (as soc_activity_density).",
        "building residents (grid allocation or floor-area estimate)",
        "raster",
    ),
)
"""The social indicators: one entry per measure, ``{category}`` standing for an activity
category id. Totals come before the per-category entries, so
:func:`rakennettu.naming.describe` finds them first."""
