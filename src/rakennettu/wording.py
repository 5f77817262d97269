"""Every English phrase that describes a site, in one place (for translation).

The site names, what is there now, the flags a planner must see, the reasons a site was
set aside, and the sentences of a site's ``why``. Phrases are plain format strings with
named fields; code fills them with :func:`say`. A translation replaces this table.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FLAGS", "KINDS", "NOW", "PHRASES", "kind_words", "say"]

#: A candidate kind in words (the start of a site's name when OSM gives none).
KINDS: dict[str, str] = {
    "planner": "Planner's site",
    "brownfield": "Brownfield",
    "vacant_land": "Vacant land",
    "disused_building": "Disused building",
    "surface_parking": "Surface car park",
    "greenfield": "Greenfield",
    "construction": "Construction site",
    "empty_block": "Empty block",
    "vacant_premises": "Vacant premises",
}

#: What is on a site now, by kind (``{capacity}``: car park spaces).
NOW: dict[str, str] = {
    "planner": "a site named by the planner",
    "brownfield": "cleared land (brownfield)",
    "vacant_land": "vacant land",
    "disused_building": "a disused building",
    "surface_parking": "surface car park",
    "surface_parking_capacity": "surface car park, {capacity} spaces",
    "greenfield": "undeveloped land set for building (greenfield)",
    "construction": "construction site",
    "empty_block": "land with no building mapped",
    "vacant_premises": "empty shop or office",
    "school_grounds": "school grounds",
    "church_grounds": "church grounds",
}

#: The flags a planner must see (ids of ``data/taxonomy/site_context.toml``).
FLAGS: dict[str, str] = {
    "private_access": "private access",
    "school_grounds": "school or college grounds",
    "church_grounds": "church grounds",
    "heritage": "heritage",
    "under_construction": "already under construction",
}

#: Sentences with named fields.
PHRASES: dict[str, str] = {
    # names
    "name_at": "{kind} at {street}",
    "name_at_number": "{kind} at {street} {number}",
    "name_near": "{kind} near {place}",
    # possibly unmapped blocks
    "occupied_one": "{n} shop, amenity or address",
    "occupied_many": "{n} shops, amenities or addresses",
    "landuse": "{value} landuse with no building mapped",
    # warnings
    "planner_not_ground": (
        "planner's site {site}: only {ground:.0%} of it is developable ground "
        "(road or rail {road:.0%}, open space {open:.0%}, buildings {buildings:.0%}); "
        "kept as given"
    ),
    "removed": "candidate sites set aside as not developable ground: {counts}",
    "unmapped": (
        "empty blocks with shops, addresses or built-up landuse but no building mapped "
        "(probably buildings missing from the map): {n}; left out of the ranking (layer "
        "possibly_unmapped)"
    ),
    "no_date": "the date of the OpenStreetMap data is unknown (no timestamp in the file)",
    # why: each figure is a column of the gains table, with its unit and its population
    "why_access": "access to services rises for {residents:,.0f} residents and "
    "{jobs:,.0f} jobs within {radius} m",
    "why_variety": "adds a kind of activity not yet within {radius} m, for more residents "
    "and jobs than most sites",
    "why_daily": "{value:,.0f} residents gain a daily service within {near} m",
    "why_added": "{value:,.0f} new residents and jobs from the floor area built",
    "why_third_place": "access to third places rises for {residents:,.0f} residents "
    "within {radius} m",
    "why_third_place_near": "{value:,.0f} residents gain a third place within {near} m",
    "why_landmarks": "landmarks and heritage nearby (weighted access {value:.1f}), more "
    "than around most sites",
    "why_links_one": "1 new link across the site raises closeness",
    "why_links_many": "{n} new links across the site raise closeness",
    "why_through": "its links carry {value:,.0f} more shortest paths",
    "why_far": "fills a floor-area gap of {value:.2f} (FAR) against its surroundings",
    "why_coverage": "its ground is {value:.0f} percentage points less built-up than around it",
    "nothing_soc": "adds little to the services residents and jobs already reach",
    "nothing_cult": "adds little to the third places and heritage residents already reach",
    "nothing_morph": "no new links, and as built-up as its surroundings",
    "level_strong": "strong",
    "level_moderate": "moderate",
    "level_weak": "weak",
    "dim_morph": "morphological",
    "dim_soc": "social",
    "dim_cult": "cultural",
    "not_scored": "{dim} not scored (no usable data)",
    # outputs
    "data_date": "OpenStreetMap data of {date}",
    "label_now": "Now:",
    "label_flags": "Check:",
}


def say(key: str, **fields: Any) -> str:
    """A phrase of :data:`PHRASES` with its fields filled.

    Examples
    --------
    >>> say("name_at_number", kind="Surface car park", street="Lapinlahdenkatu", number="3")
    'Surface car park at Lapinlahdenkatu 3'
    """
    return PHRASES[key].format(**fields)


def kind_words(kind: str) -> str:
    """A (possibly ``+``-joined) kind in words: its first kind.

    Examples
    --------
    >>> kind_words("construction+empty_block")
    'Construction site'
    """
    first = str(kind).split("+")[0]
    return KINDS.get(first, first.replace("_", " ").capitalize())
