"""The cultural indicators: name, unit, definition and source of every ``cult_`` column."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rakennettu.naming import IndicatorDoc

if TYPE_CHECKING:
    pass


INDICATORS: tuple[IndicatorDoc, ...] = (
    IndicatorDoc(
        "cult",
        "landmarks",
        True,
        "count",
        "Landmarks and heritage features within R along the pedestrian network (polygons "
        "attached at their boundary point nearest a street).",
        "town.landmarks (data/taxonomy/landmarks.toml; municipal heritage layer)",
    ),
    IndicatorDoc(
        "cult",
        "landmark_access",
        True,
        "weight",
        "Sum over landmarks within R of weight × exp(-4 d / R), d the network distance "
        "in metres: near, important landmarks count most.",
        "town.landmarks (weight column)",
    ),
    IndicatorDoc(
        "cult",
        "nearest_landmark",
        False,
        "m",
        "Network distance to the nearest landmark; NaN beyond max_nearest (default the "
        "largest radius).",
        "town.landmarks",
    ),
    IndicatorDoc(
        "cult",
        "third_places",
        True,
        "count",
        "Third places (cafés, pubs, libraries, community centres, markets, squares, "
        "parks, playgrounds) within R along the network.",
        "town.third_places (data/taxonomy/third_places.toml)",
    ),
    IndicatorDoc(
        "cult",
        "third_place_access",
        True,
        "weight",
        "Sum over third places within R of weight × exp(-4 d / R).",
        "town.third_places",
    ),
    IndicatorDoc(
        "cult",
        "nearest_third_place",
        False,
        "m",
        "Network distance to the nearest third place; NaN beyond max_nearest.",
        "town.third_places",
    ),
    IndicatorDoc(
        "cult",
        "residents_near_third_place_share",
        True,
        "share 0-1",
        "Of the residents whose homes are within R of the node, the share living within "
        "third_place_distance (400 m) along the network of a third place. Residents per "
        "building from the social layer, else residential floor area as the weight "
        "(the summary says which). NaN where no residents are within R.",
        "town.buildings, town.third_places, residents (social layer)",
    ),
    IndicatorDoc(
        "cult",
        "buildings",
        True,
        "count",
        "Buildings whose street attachment lies within R along the network (snap "
        "included): the catchment the age measures are computed on.",
        "town.buildings",
    ),
    IndicatorDoc(
        "cult",
        "year_median",
        True,
        "year",
        "Median construction year of the buildings within R whose year is known; NaN "
        "where none is.",
        "town.buildings year (OSM start_date etc., building register)",
    ),
    IndicatorDoc(
        "cult",
        "age_median",
        True,
        "years",
        "reference_year minus cult_year_median (the summary gives the reference year).",
        "town.buildings year",
    ),
    IndicatorDoc(
        "cult",
        "age_diversity",
        True,
        "effective number of periods",
        "Hill number of order 1, exp(Shannon entropy), of the construction-period "
        "shares among the buildings within R of known year (periods from age_periods): "
        "1 = one period only, k = even mix of k periods. NaN where no year is known.",
        "town.buildings year; [cultural] age_periods",
    ),
    IndicatorDoc(
        "cult",
        "age_unknown_share",
        True,
        "share 0-1",
        "Share of the buildings within R whose construction year is unknown; NaN where "
        "there are no buildings.",
        "town.buildings year",
    ),
    IndicatorDoc(
        "cult",
        "nearest_green",
        False,
        "m",
        "Network distance to the nearest entrance of a green area (boundary points by a "
        "street, path crossings), 0 inside one; NaN beyond max_nearest.",
        "town.green_blue (green group, weight >= 0.5, area >= 1000 m²)",
    ),
    IndicatorDoc(
        "cult",
        "nearest_water",
        False,
        "m",
        "Network distance to the nearest shoreline point (water polygon boundaries, "
        "rivers, streams, coastline) by a street, 0 on water; NaN beyond max_nearest.",
        "town.green_blue (blue group, weight >= 0.5)",
    ),
    IndicatorDoc(
        "cult",
        "green_share",
        True,
        "share 0-1",
        "Green area over the area of the node's network catchment: the street segments "
        "reached within R buffered by catchment_width (50 m), on a 10 m raster.",
        "town.green_blue, town.edges",
    ),
    IndicatorDoc(
        "cult",
        "landmarks_visible",
        False,
        "count",
        "Landmarks within viewshed_radius whose top a pedestrian at the node sees over "
        "terrain and buildings. NaN where visibility fell back to network exposure.",
        "town.landmarks, town.buildings heights/floors, town.dem",
    ),
    IndicatorDoc(
        "cult",
        "landmarks_visible_weight",
        False,
        "weight",
        "Sum of the weights of the landmarks visible from the node; NaN where "
        "visibility fell back to network exposure.",
        "town.landmarks, town.buildings, town.dem",
    ),
    IndicatorDoc(
        "cult",
        "landmark_visible_area",
        False,
        "m²",
        "Open ground (no building) within viewshed_radius from which a pedestrian "
        "(observer_height) sees the landmark's top; NaN for the exposure method.",
        "town.landmarks, town.buildings, town.dem",
        level="landmark",
    ),
    IndicatorDoc(
        "cult",
        "landmark_visible_nodes",
        False,
        "count",
        "Street nodes within viewshed_radius from which the landmark's top is visible.",
        "town.landmarks, town.buildings, town.dem",
        level="landmark",
    ),
    IndicatorDoc(
        "cult",
        "landmark_exposure",
        False,
        "node pairs",
        "Sum of the edge betweenness (node pairs within the betweenness radius whose "
        "shortest paths use the segment) of the street segments within "
        "exposure_distance (50 m) of the landmark: how many walks pass it.",
        "town.landmarks, rakennettu.network.edge_betweenness",
        level="landmark",
    ),
    IndicatorDoc(
        "cult",
        "year",
        False,
        "year",
        "Construction year used for the building (NaN: unknown).",
        "town.buildings year",
        level="building",
    ),
    IndicatorDoc(
        "cult",
        "period",
        False,
        "label",
        "Construction period of the building (from age_periods); missing when unknown.",
        "town.buildings year",
        level="building",
    ),
    IndicatorDoc(
        "cult",
        "age",
        False,
        "years",
        "reference_year minus the construction year.",
        "town.buildings year",
        level="building",
    ),
    IndicatorDoc(
        "cult",
        "third_place_distance",
        False,
        "m",
        "Network distance from the building to the nearest third place, up to the "
        "largest radius; NaN beyond, or when the building is not attached.",
        "town.buildings, town.third_places",
        level="building",
    ),
    IndicatorDoc(
        "cult",
        "near_third_place",
        False,
        "bool",
        "Whether cult_third_place_distance <= third_place_distance (400 m).",
        "town.buildings, town.third_places",
        level="building",
    ),
    IndicatorDoc(
        "cult",
        "resident_weight",
        False,
        "residents or m²",
        "Residents of the building (given), else its residential floor area (footprint "
        "× floors, 0 for other uses).",
        "residents (social layer) or town.buildings use/floors",
        level="building",
    ),
    IndicatorDoc(
        "cult",
        "buildings",
        False,
        "count",
        "Buildings whose representative point lies in the cell.",
        "town.buildings",
        level="hex",
    ),
    IndicatorDoc(
        "cult",
        "year_median",
        False,
        "year",
        "Median construction year of the cell's buildings of known year.",
        "town.buildings year",
        level="hex",
    ),
    IndicatorDoc(
        "cult",
        "age_median",
        False,
        "years",
        "reference_year minus the cell's median year.",
        "town.buildings year",
        level="hex",
    ),
    IndicatorDoc(
        "cult",
        "age_diversity",
        False,
        "effective number of periods",
        "Hill number of order 1 of the construction-period shares of the cell's "
        "buildings of known year.",
        "town.buildings year; [cultural] age_periods",
        level="hex",
    ),
    IndicatorDoc(
        "cult",
        "age_unknown_share",
        False,
        "share 0-1",
        "Share of the cell's buildings whose year is unknown.",
        "town.buildings year",
        level="hex",
    ),
)
