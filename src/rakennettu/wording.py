"""Every phrase that describes a site, in one place, marked for the catalogues.

The site names, what is there now, the flags a planner must see, the reasons a site was
set aside, and the sentences of a site's ``why``. The site phrases (:data:`KINDS`,
:data:`NOW`, :data:`FLAGS`, :data:`NAMES`) are catalogue messages: the data files keep
them in English (:func:`rakennettu.synthesis.describe.describe_sites`) and the pages say
them in the reader's language from the site's recorded parts (``kind``, ``place``,
``place_kind``, ``spaces``, ``flag_ids``) with :func:`site_name`, :func:`now_words` and
:func:`flag_words`. The log's phrases (:data:`PHRASES`) are plain format strings filled
with :func:`say`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rakennettu.i18n import N_, Language, language

__all__ = [
    "FLAGS",
    "KINDS",
    "NAMES",
    "NOW",
    "PHRASES",
    "flag_words",
    "kind_words",
    "now_words",
    "say",
    "site_name",
]

#: A candidate kind in words (the start of a site's name when OSM gives none).
KINDS: dict[str, str] = {
    "planner": N_("Planner's site"),
    "brownfield": N_("Brownfield"),
    "vacant_land": N_("Vacant land"),
    "disused_building": N_("Disused building"),
    "surface_parking": N_("Surface car park"),
    "greenfield": N_("Greenfield"),
    "construction": N_("Construction site"),
    "empty_block": N_("Empty block"),
    "vacant_premises": N_("Vacant premises"),
}

#: What is on a site now, by kind (``{capacity}``: car park spaces).
NOW: dict[str, str] = {
    "planner": N_("a site named by the planner"),
    "brownfield": N_("cleared land (brownfield)"),
    "vacant_land": N_("vacant land"),
    "disused_building": N_("a disused building"),
    "surface_parking": N_("surface car park"),
    "surface_parking_capacity": N_("surface car park, {capacity} spaces"),
    "greenfield": N_("undeveloped land set for building (greenfield)"),
    "construction": N_("construction site"),
    "empty_block": N_("land with no building mapped"),
    "vacant_premises": N_("empty shop or office"),
    "school_grounds": N_("school grounds"),
    "church_grounds": N_("church grounds"),
}

#: The flags a planner must see (ids of ``data/taxonomy/site_context.toml``).
FLAGS: dict[str, str] = {
    "private_access": N_("private access"),
    "school_grounds": N_("school or college grounds"),
    "church_grounds": N_("church grounds"),
    "heritage": N_("heritage"),
    "under_construction": N_("already under construction"),
}

#: A site's name from where it is, when OpenStreetMap gives it none (``place_kind``).
NAMES: dict[str, str] = {
    "address": N_("{kind} at {place}"),
    "street": N_("{kind} at {place}"),
    "district": N_("{kind} near {place}"),
}

#: Sentences with named fields (the log's, in English).
PHRASES: dict[str, str] = {
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
}


def say(key: str, **fields: Any) -> str:
    """A phrase of :data:`PHRASES` with its fields filled.

    Examples
    --------
    >>> say("data_date", date="2026-12-01")
    'OpenStreetMap data of 2026-12-01'
    """
    return PHRASES[key].format(**fields)


def kind_words(kind: str, lang: Language | None = None) -> str:
    """A (possibly ``+``-joined) kind in words: its first kind, in ``lang`` (English).

    Examples
    --------
    >>> kind_words("construction+empty_block")
    'Construction site'
    >>> kind_words("surface_parking", language("fi"))
    'Pysäköintialue'
    """
    first = str(kind).split("+")[0]
    if first in KINDS:
        return (lang or language("en"))._(KINDS[first])
    return first.replace("_", " ").capitalize()


def _text(row: Mapping[str, Any], key: str) -> str:
    v = row.get(key)
    return v if isinstance(v, str) else ""


def site_name(lang: Language, row: Mapping[str, Any]) -> str:
    """A site's name in ``lang``.

    OpenStreetMap's name; else its kind at its address or street or near its district
    (``place``, ``place_kind``); else the recorded ``name``.

    Examples
    --------
    >>> row = {"kind": "surface_parking", "place": "Katu 3", "place_kind": "address",
    ...        "name": "Surface car park at Katu 3"}
    >>> site_name(language("fi"), row), site_name(language("en"), {"name": "Torikatu 1"})
    ('Pysäköintialue, Katu 3', 'Torikatu 1')
    """
    how, place = _text(row, "place_kind"), _text(row, "place")
    if how in NAMES and place:
        return lang._(NAMES[how], kind=kind_words(_text(row, "kind"), lang), place=place)
    return _text(row, "name")


def now_words(lang: Language, row: Mapping[str, Any]) -> str:
    """What is on a site now, in ``lang``, from its ``kind``, ``spaces`` and ``flag_ids``.

    Examples
    --------
    >>> now_words(language("fi"), {"kind": "surface_parking", "spaces": 46})
    'pysäköintialue, 46 paikkaa'
    >>> now_words(language("en"), {"kind": "vacant_land+empty_block"})
    'vacant land; land with no building mapped'
    """
    parts = []
    kind = _text(row, "kind")
    flags = _text(row, "flag_ids").split(";")
    for k in dict.fromkeys(kind.split("+")):
        spaces = row.get("spaces")
        if (
            k == "surface_parking"
            and isinstance(spaces, int | float)
            and spaces == spaces
            and spaces
        ):
            parts.append(lang._(NOW["surface_parking_capacity"], capacity=lang.integer(spaces)))
        elif k in NOW:
            parts.append(lang._(NOW[k]))
        elif k:
            parts.append(k.replace("_", " "))
    parts += [lang._(NOW[f]) for f in ("school_grounds", "church_grounds") if f in flags]
    return "; ".join(dict.fromkeys(parts))


def flag_words(lang: Language, row: Mapping[str, Any]) -> str:
    """The flags a planner must see, in ``lang`` (from ``flag_ids``), ``"; "``-joined.

    Examples
    --------
    >>> flag_words(language("fi"), {"flag_ids": "private_access;heritage"})
    'yksityinen alue; kulttuuriperintöä'
    """
    ids = [f for f in _text(row, "flag_ids").split(";") if f]
    return "; ".join(lang._(FLAGS[f]) if f in FLAGS else f.replace("_", " ") for f in ids)
