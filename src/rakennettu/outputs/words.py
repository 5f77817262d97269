"""Sites and numbers in plain words, in the reader's language, for the map and the report.

Every function takes a :class:`rakennettu.i18n.Language` and returns unescaped text:
escape it (``_common.esc``) where it goes into HTML. Text from data (names, provenance)
is passed through as a value, never used as a message or a format string.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from rakennettu.i18n import N_, Language, kind_words

__all__ = [
    "DIMENSION_NAMES",
    "GAIN_WORDS",
    "UNIT_WORDS",
    "dimension_level",
    "program_words",
    "provenance_words",
    "simulated_program",
    "site_heading",
    "why_sentences",
]

#: The three dimensions, as a planner reads them.
DIMENSION_NAMES: dict[str, str] = {
    "morph": N_("Street network and urban form"),
    "soc": N_("Services and people"),
    "cult": N_("Places and heritage"),
}

#: The raw leverage gains in a planner's words (units: rakennettu.synthesis.leverage.GAINS).
GAIN_WORDS: dict[str, str] = {
    "soc_access_gain": N_("Access to activities"),
    "soc_variety_gain": N_("Variety of activities in reach"),
    "soc_residents_gain_daily": N_("Residents gaining a daily service nearby"),
    "soc_people_added": N_("New residents and jobs"),
    "cult_third_place_gain": N_("Access to third places"),
    "cult_residents_gain_third_place": N_("Residents gaining a third place nearby"),
    "cult_landmark_context": N_("Landmarks and heritage around the site"),
    "morph_closeness_gain": N_("Closeness gained from new links"),
    "morph_through_movement": N_("Through-movement at the site"),
    "morph_far_gap": N_("Floor-area gap to the surroundings"),
    "morph_coverage_gap": N_("Coverage gap to the surroundings"),
}

#: The technical units of the gains (shown under "details"), in words.
UNIT_WORDS: dict[str, str] = {
    "people × decayed activities": N_("people × activities, weighted by distance"),
    "people × categories": N_("people × kinds of activity"),
    "residents": N_("residents"),
    "residents + jobs": N_("residents and jobs"),
    "residents × decayed third places": N_("residents × third places, weighted by distance"),
    "weighted decayed landmarks": N_("landmarks, weighted by distance"),
    "1/m, summed over nodes": N_("1/m, summed over street junctions"),
    "paths": N_("shortest paths"),
    "m²/m²": N_("floor m² per m² of land"),
    "share 0-1": N_("share 0–1"),
}

_LEVELS = (N_("weak"), N_("moderate"), N_("strong"))
_COUNTED = {"soc_residents_gain_daily", "soc_people_added", "cult_residents_gain_third_place",
            "morph_through_movement"}  # fmt: skip


def dimension_level(lang: Language, value: float) -> str:
    """The strength of a 0-1 gain in words: weak, moderate or strong (in thirds)."""
    v = float(value) if value is not None and math.isfinite(float(value)) else 0.0
    return lang._(_LEVELS[0 if v < 1 / 3 else 1 if v < 2 / 3 else 2])


def _num(row: Mapping[str, Any], key: str) -> float:
    try:
        v = float(row.get(key))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    return v if math.isfinite(v) else 0.0


def _reason(lang: Language, col: str, row: Mapping[str, Any], n_links: int) -> str | None:
    """One gain as a plain clause, whole people, or None when it says nothing."""
    v = _num(row, col)
    r, near = lang.integer(_num(row, "radius") or 800), lang.integer(_num(row, "near") or 400)
    if col == "soc_access_gain" and v > 0 and _num(row, "soc_people_reached") >= 0.5:
        n = lang.integer(_num(row, "soc_people_reached"))
        return lang._("new services within {r} m of {n} people", n=n, r=r)
    if col == "soc_variety_gain" and v > 0:
        return lang._("a kind of service not yet within reach")
    if col == "soc_residents_gain_daily" and v >= 0.5:
        n = lang.integer(v)
        return lang._("{n} residents gain a daily service within {r} m", n=n, r=near)
    if col == "soc_people_added" and v >= 0.5:
        return lang._("{n} new residents and jobs", n=lang.integer(v))
    if col == "cult_third_place_gain" and v > 0 and _num(row, "cult_residents_reached") >= 0.5:
        n = lang.integer(_num(row, "cult_residents_reached"))
        return lang._("a new meeting place within {r} m of {n} residents", n=n, r=r)
    if col == "cult_residents_gain_third_place" and v >= 0.5:
        n = lang.integer(v)
        return lang._("{n} residents gain a meeting place within {r} m", n=n, r=near)
    if col == "cult_landmark_context" and v > 0:
        return lang._("landmarks and heritage close by")
    if col == "morph_closeness_gain" and n_links:
        return lang.plural(
            "{n} new walking link across the site", "{n} new walking links across the site",
            n_links,
        )  # fmt: skip
    if col == "morph_far_gap" and v > 0.05:
        return lang._("less built than its surroundings (floor area ratio {gap} lower)",
                      gap=lang.fixed(v, 2))  # fmt: skip
    if col == "morph_coverage_gap" and v > 0.05:
        return lang._("{pp} percentage points less ground built on than around it",
                      pp=lang.integer(100 * v))  # fmt: skip
    return None


def why_sentences(
    lang: Language, row: Mapping[str, Any], *, n_links: int = 0, limit: int = 2
) -> list[str]:
    """Why a site ranks where it does: one sentence per dimension, strongest first.

    Each sentence names the dimension, how strong its gain is among the sites, and at
    most two of its raw gains in whole numbers.

    Examples
    --------
    >>> from rakennettu.i18n import language
    >>> row = {"gain_soc": 0.9, "gain_cult": 0.1, "gain_morph": 0.4,
    ...        "soc_residents_gain_daily": 1240.4, "near": 400}
    >>> why_sentences(language("en"), row, limit=1)
    ['Services and people, strong (0.9 of 1): 1,240 residents gain a daily service within 400 m.']
    """
    from rakennettu.synthesis.leverage import GAINS

    dims = sorted(GAINS, key=lambda d: -_num(row, f"gain_{d}"))
    out = []
    for d in dims[:limit]:
        v = _num(row, f"gain_{d}")
        cols = sorted(GAINS[d], key=lambda c: -_num(row, c) if c in _COUNTED else 0)
        said = [s for s in (_reason(lang, c, row, n_links) for c in cols) if s][:2]
        head = lang._(
            "{dimension}, {level} ({value} of 1)",
            dimension=lang._(DIMENSION_NAMES[d]),
            level=dimension_level(lang, v),
            value=lang.number(v, 1),
        )
        body = "; ".join(said) if said else lang._("little change to what is already there")
        out.append(f"{head}: {body}.")
    return out


def program_words(lang: Language, program: Any) -> str:
    """A simulated program in words (a :class:`~rakennettu.synthesis.leverage.Program`).

    Examples
    --------
    >>> from rakennettu.i18n import language
    >>> from rakennettu.synthesis.leverage import Program
    >>> program_words(language("fi"), Program())
    '1 kohtaamispaikka, 2 × Päivittäiset palvelut, kävely-yhteydet suurten kohteiden läpi'
    """
    from rakennettu.sources.taxonomy import load_taxonomy

    table = load_taxonomy()["activities"]
    parts = []
    if program.third_places:
        parts.append(lang.plural("{n} meeting place", "{n} meeting places", program.third_places))
    for cat, n in program.activities.items():
        if not n:
            continue
        words = cat.replace("_", " ")
        if cat in table.ids:
            c = table.category(cat)
            words = getattr(c, f"label_{lang.code}", None) or c.label_en
        parts.append(lang._("{n} × {what}", n=lang.integer(n), what=words))
    if program.floor_area:
        parts.append(
            lang._("{area} m² of floor area ({share} homes)", area=lang.integer(program.floor_area),
                   share=lang.percent(program.residential_share))
        )  # fmt: skip
    if program.links:
        parts.append(lang._("walking links across large sites"))
    return ", ".join(parts) or lang._("nothing")


_INTERNAL = re.compile(r"^(enclosure|block|tessellation):\S*$")


def simulated_program(
    lang: Language, row: Mapping[str, Any], record: Mapping[str, Any] | None
) -> str | None:
    """What the run simulated at a site, in words: the site's ``program`` over the default.

    The default program is the workflow's ``[candidates.program]`` in the run record;
    without it, the ``program_simulated`` column in English (or nothing in another
    language).
    """
    from rakennettu.errors import ConfigError
    from rakennettu.sources.taxonomy import load_taxonomy
    from rakennettu.synthesis.leverage import Program, parse_program

    wf = (record or {}).get("workflow") or {}
    spec = (wf.get("candidates") or {}).get("program")
    if isinstance(spec, Mapping):
        try:
            default = Program(**spec)
            ids = set(load_taxonomy()["activities"].ids)
            return program_words(lang, parse_program(row.get("program"), default, categories=ids))
        except (ConfigError, TypeError):
            pass
    text = row.get("program_simulated")
    return text if lang.code == "en" and isinstance(text, str) and text.strip() else None


def provenance_words(lang: Language, provenance: Any) -> str:
    """Where a site comes from, without the run's internal ids (``enclosure:12``).

    Examples
    --------
    >>> from rakennettu.i18n import language
    >>> provenance_words(language("en"), "osm:way/369836403; enclosure:3; enclosure:14")
    'OpenStreetMap way 369836403; an empty block'
    """
    if not isinstance(provenance, str) or not provenance.strip():
        return ""
    out, block = [], False
    for part in (p.strip() for p in re.split(r"[;,]", provenance)):
        if not part:
            continue
        if _INTERNAL.match(part):
            block = True
            continue
        m = re.match(r"^osm:(node|way|relation)/(\d+)$", part)
        if m:
            kind = {"node": N_("OpenStreetMap node {id}"), "way": N_("OpenStreetMap way {id}"),
                    "relation": N_("OpenStreetMap relation {id}")}[m.group(1)]  # fmt: skip
            out.append(lang._(kind, id=m.group(2)))
        else:
            out.append(part)
    if block:
        out.append(lang._("an empty block"))
    return "; ".join(out)


def site_heading(lang: Language, cid: Any, row: Mapping[str, Any]) -> str:
    """A site's name in ``lang`` (:func:`rakennettu.wording.site_name`), else its kind.

    Examples
    --------
    >>> from rakennettu.i18n import language
    >>> site_heading(language("fi"), "C1", {"kind": "surface_parking", "name": None})
    'Pintapysäköinti'
    """
    from rakennettu.wording import site_name

    name = site_name(lang, row)
    if name.strip():
        return name
    return kind_words(row.get("kind"), lang)
