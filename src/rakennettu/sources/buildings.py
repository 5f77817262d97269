"""Building attributes in one schema: use, floors, height, year, disused.

OSM describes a building with many optional, free-text tags (``building``,
``building:levels``, ``height``, ``start_date`` ...); Finnish registers with numeric codes.
:func:`normalise_buildings` reads the tags into typed columns; :func:`use_from_codes` maps
a register's use codes to the same use vocabulary (:data:`USES`). Both read
``data/taxonomy/building_use.toml``.

The parsers never guess: what they cannot read stays missing (None or NaN), and a date
given as a period keeps its precision and bounds next to the year.

===================  ==========================================================
column               meaning
===================  ==========================================================
``use``              one of :data:`USES` (see ``building_use.toml``)
``floors``           storeys above ground, ``building:levels`` + ``roof:levels``
``height``           metres, from ``height``, else ``building:height``
``year``             year of construction (int, nullable), see :func:`parse_start_date`
``year_precision``   how exact ``year`` is (:data:`PRECISIONS`); None: no date tag
``year_min``         earliest year the date allows (nullable)
``year_max``         latest year the date allows (nullable)
``year_source``      the tag the date came from
``disused``          True for disused, abandoned and ruined buildings
===================  ==========================================================
"""

from __future__ import annotations

import datetime
import functools
import logging
import math
import re
from dataclasses import dataclass
from typing import Any, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd

from rakennettu.errors import ConfigError, SourceError
from rakennettu.errors import did_you_mean as _hint
from rakennettu.sources.osm_tags import tag_values, tags_from_pyrosm
from rakennettu.sources.use_table import (
    USES,
    BuildingUse,
    CodeClass,
    CodeScheme,
    load_building_use,
)

__all__ = [
    "BUILDING_COLUMNS",
    "PRECISIONS",
    "USES",
    "YEAR_KEYS",
    "BuildingUse",
    "CodeClass",
    "CodeScheme",
    "StartDate",
    "load_building_use",
    "normalise_buildings",
    "parse_height",
    "parse_levels",
    "parse_start_date",
    "start_date_bounds",
    "use_from_codes",
    "use_from_tags",
]

log = logging.getLogger(__name__)

#: The values of ``year_precision``, from exact to open; see :func:`parse_start_date`.
PRECISIONS: tuple[str, ...] = (
    "day",
    "month",
    "year",
    "approximate",
    "range",
    "decade",
    "century",
    "multiple",
    "before",
    "after",
    "unparsed",
)

#: Tags read for the year of construction, in this order: the first that parses is used.
#: ``building:start_date`` comes first because on a building that also holds a shop or a
#: café, ``start_date`` may be the date the business opened.
YEAR_KEYS: tuple[str, ...] = ("building:start_date", "start_date", "construction_date")

#: The columns :func:`normalise_buildings` adds.
BUILDING_COLUMNS: tuple[str, ...] = (
    "use",
    "floors",
    "height",
    "year",
    "year_precision",
    "year_min",
    "year_max",
    "year_source",
    "disused",
)

# Sanity limits: beyond them a value is a typo, not a building.
_MAX_LEVELS = 200.0
_MAX_HEIGHT_M = 1000.0
_MIN_YEAR, _MAX_YEAR = 1, 2100


# ---------------------------------------------------------------------------------------
# start_date


class StartDate(NamedTuple):
    """The year of a date tag and how exact it is.

    ``year`` is None when the text names no single year (``before 1939``) or cannot be
    read; ``precision`` is None only when there was no text.
    """

    year: int | None
    precision: str | None


@dataclass(frozen=True)
class _Span:
    """A date read from text: the years it covers and the unit it was given in."""

    lo: int
    hi: int
    unit: str  # day, month, year, decade, century, range
    month: int | None = None
    day: int | None = None


@dataclass(frozen=True)
class _Parsed:
    year: int | None
    precision: str | None
    lo: int | None
    hi: int | None


_APPROX_PREFIX = re.compile(
    r"^(?:~|ca\.?|c\.|circa|about|around|approx\.?|approximately|n\.|noin)\s*(.+)$"
)
_PARTS = {"early": 0, "mid": 1, "late": 2}
_FI_PARTS = {
    "alku": 0,
    "alkupuoli": 0,
    "alkupuolella": 0,
    "alussa": 0,
    "puoliväli": 1,
    "puolivälissä": 1,
    "keskivaiheilla": 1,
    "loppu": 2,
    "loppupuoli": 2,
    "loppupuolella": 2,
    "lopulla": 2,
}


def _year_ok(y: int) -> bool:
    return _MIN_YEAR <= y <= _MAX_YEAR


def _span(s: str) -> _Span | None:
    """Read a single date or period (no range, no qualifier); None if it is neither."""
    m = re.fullmatch(r"(\d{4})", s)
    if m:
        y = int(m.group(1))
        return _Span(y, y, "year") if _year_ok(y) else None
    m = re.fullmatch(r"(\d{4})-(\d{2})", s)
    if m:
        y, mo = int(m.group(1)), int(m.group(2))
        return _Span(y, y, "month", mo) if _year_ok(y) and 1 <= mo <= 12 else None
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", s)
    if m:
        return _day(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", s)  # Finnish 1.11.2016
    if m:
        return _day(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", s)  # 1/11/2016 or 11/1/2016
    if m:
        a, b, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
        return _day(y, b, a) or _day(y, a, b)
    m = re.fullmatch(r"(\d{3})0'?s", s)  # 1930s: the decade (OSM: 1900s is 1900-1909)
    if m:
        lo = int(m.group(1)) * 10
        return _Span(lo, lo + 9, "decade") if _year_ok(lo) else None
    m = re.fullmatch(r"(\d{2,3})0-luku", s)  # Finnish: 1930-luku decade, 1800-luku century
    if m:
        lo = int(m.group(1)) * 10
        if not _year_ok(lo):
            return None
        return _Span(lo, lo + 99, "century") if lo % 100 == 0 else _Span(lo, lo + 9, "decade")
    m = re.fullmatch(r"c(\d{1,2})|(\d{1,2})(?:st|nd|rd|th)[ -]?(?:century|cent\.?|c\.?)", s)
    if m:
        n = int(m.group(1) or m.group(2))
        lo = (n - 1) * 100
        return _Span(lo, lo + 99, "century") if n >= 1 and _year_ok(max(lo, 1)) else None
    m = re.fullmatch(r"(early|mid|late) (.+)", s)
    if m:
        return _part(_span(m.group(2)), _PARTS[m.group(1)])
    m = re.fullmatch(r"(.+)-luvun (\w+)", s)
    if m and m.group(2) in _FI_PARTS:
        return _part(_span(m.group(1) + "-luku"), _FI_PARTS[m.group(2)])
    return None


def _day(y: int, mo: int, d: int) -> _Span | None:
    if not _year_ok(y):
        return None
    try:
        datetime.date(y, mo, d)
    except ValueError:
        return None
    return _Span(y, y, "day", mo, d)


def _part(span: _Span | None, third: int) -> _Span | None:
    """Early, mid or late part of a decade or century: its first, middle or last third.

    A decade splits 4-3-3 years (1950-1953, 1954-1956, 1957-1959), a century 34-33-33
    (1800-1833, 1834-1866, 1867-1899).
    """
    if span is None or span.unit not in ("decade", "century"):
        return None
    width = span.hi - span.lo + 1
    cuts = [0, math.ceil(width / 3), width - width // 3, width]
    return _Span(span.lo + cuts[third], span.lo + cuts[third + 1] - 1, span.unit)


def _range(s: str) -> _Span | None:
    """``A..B``, ``A-B`` (years), ``A-YY``, ``between A and B``; or None."""
    m = re.fullmatch(r"between (.+) and (.+)", s)
    parts: tuple[str, str] | None = (m.group(1), m.group(2)) if m else None
    if parts is None and ".." in s:
        left, _, right = s.partition("..")
        parts = (left.strip(), right.strip())
    if parts is None:
        m = re.fullmatch(r"(\d{4})\s*-\s*(\d{4})", s)
        if m:
            parts = (m.group(1), m.group(2))
    if parts is None:
        m = re.fullmatch(r"(\d{2})(\d{2})\s*-\s*(\d{2})", s)  # 1913-14; 1913-05 is a month
        if m and int(m.group(3)) > 12:
            parts = (m.group(1) + m.group(2), m.group(1) + m.group(3))
    if parts is None:
        return None
    start, end = _span(parts[0]), _span(parts[1])
    if start is None or end is None or start.lo > end.hi:
        return None
    return _Span(start.lo, end.hi, "range")


def _mid(lo: int, hi: int) -> int:
    """Return the middle year of a span, halves rounded up (1930s: 1935)."""
    return (lo + hi + 1) // 2


def _latest_before(span: _Span) -> int:
    """Latest year for ``before <span>``."""
    if span.unit == "year":
        return span.lo - 1  # OSM: "before 1855" is 1854 or earlier
    if span.unit in ("month", "day"):
        return span.lo - 1 if span.month == 1 and span.day in (None, 1) else span.lo
    if span.unit == "range":
        return span.hi  # before some moment in the range: certainly by its end
    return span.lo - 1  # before a decade or century: before it began


def _earliest_after(span: _Span) -> int:
    """Earliest year for ``after <span>``."""
    if span.unit in ("decade", "century"):
        return span.hi + 1  # after a period: after it ended
    return span.lo  # after a year, date or some moment in a range


def _normalise_text(text: str) -> str:
    s = " ".join(text.strip().lower().split())
    s = s.replace("\u2013", "-").replace("\u2014", "-")
    s = re.sub(r"^(early|mid|late)-", r"\1 ", s)
    s = re.sub(r"^the ", "", s)
    s = s.removeprefix("j:")  # Julian calendar: the year is (almost always) the same
    return s


@functools.lru_cache(maxsize=4096)
def _parse(text: str) -> _Parsed:
    s = _normalise_text(text)
    if not s:
        return _Parsed(None, None, None, None)
    if ";" in s:
        parts = [_parse(p) for p in s.split(";") if p.strip()]
        if not parts or any(p.precision in (None, "unparsed") for p in parts):
            return _Parsed(None, "unparsed", None, None)
        years = [p.year for p in parts]
        los, his = [p.lo for p in parts], [p.hi for p in parts]
        return _Parsed(
            min(y for y in years if y is not None) if None not in years else None,
            "multiple",
            min(x for x in los if x is not None) if None not in los else None,
            max(x for x in his if x is not None) if None not in his else None,
        )
    approx = _APPROX_PREFIX.fullmatch(s) or re.fullmatch(r"(.+?)\s*[?~]", s)
    if approx is None:
        m = re.fullmatch(r"c(\d{4})", s)  # c1900; c19 is a century
        approx = m
    if approx is not None:
        inner = _range(approx.group(1)) or _span(approx.group(1))
        if inner is None:
            return _Parsed(None, "unparsed", None, None)
        return _Parsed(_mid(inner.lo, inner.hi), "approximate", None, None)
    m = re.fullmatch(r"(?:before|ennen)\s+(.+)", s) or re.fullmatch(r"\.\.\s*(.+)", s)
    if m:
        inner = _range(m.group(1)) or _span(m.group(1))
        if inner is None:
            return _Parsed(None, "unparsed", None, None)
        hi = _latest_before(inner) if not s.startswith("..") else inner.hi
        return _Parsed(None, "before", None, hi)
    m = (
        re.fullmatch(r"(?:after|jälkeen)\s+(.+)", s)
        or re.fullmatch(r"(.+?)\s+jälkeen", s)
        or re.fullmatch(r"(.+?)\s*\.\.", s)
    )
    if m:
        inner = _range(m.group(1)) or _span(m.group(1))
        if inner is None:
            return _Parsed(None, "unparsed", None, None)
        lo = _earliest_after(inner) if not s.endswith("..") else inner.lo
        return _Parsed(None, "after", lo, None)
    span = _range(s) or _span(s)
    if span is None:
        return _Parsed(None, "unparsed", None, None)
    if span.unit in ("day", "month", "year"):
        return _Parsed(span.lo, span.unit, span.lo, span.hi)
    unit = "year" if span.unit == "range" and span.lo == span.hi else span.unit
    return _Parsed(_mid(span.lo, span.hi), unit, span.lo, span.hi)


def _as_text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def parse_start_date(text: object) -> StartDate:
    """Read the year of construction from an OSM date such as ``start_date``.

    Never guesses: a text it cannot read gives ``(None, "unparsed")``, and an open
    bound (``before 1939``) gives no year, only a bound (:func:`start_date_bounds`).

    ===============================================  ===========  =====================
    form (examples)                                  precision    year
    ===============================================  ===========  =====================
    ``1936``, ``0897``                               year         as written
    ``1936-05``                                      month        1936
    ``1936-05-01``, ``1.5.1936`` (Finnish d.m.y)     day          1936
    ``~1900``, ``1900?``, ``ca. 1900``, ``c1900``,   approximate  the stated year (the
    ``circa 1900``, ``n. 1900`` (noin), ``~1940s``                middle of a period)
    ``1905..1908``, ``1910-1912``, ``1913-14``,      range        middle, halves up
    ``between 1905 and 1908``, ``mid C17..late C17``              (1905..1908: 1907)
    ``1930s``, ``1930-luku``                         decade       1935
    ``early 1950s``, ``mid 1950s``, ``late 1950s``   decade       1952, 1955, 1958
    ``C19``, ``19th century``, ``1800-luku``         century      1850
    ``early|mid|late C19``, ``late 19th century``,   century      1817, 1850, 1883
    ``1800-luvun alku|puoliväli|loppu``
    ``1865;1890`` (several dates)                    multiple     the earliest: 1865
    ``before 1939``, ``ennen 1939``, ``..1939``      before       None
    ``after 1815``, ``1815 jälkeen``, ``1815..``     after        None
    ===============================================  ===========  =====================

    Conventions: a decade ``1900s`` is 1900-1909 (the OSM wiki's rule; in running
    English it may mean the century); a century ``C19`` is 1800-1899; early, mid and late
    are the first, middle and last third of the period (decade 4-3-3 years); a range
    ``1913-05`` is a month, not 1913..1905. Leading and trailing spaces, case and
    en-dashes do not matter; ``j:`` (Julian calendar) is read as the same year.

    Parameters
    ----------
    text
        The tag value; None, NaN or empty for no date.

    Returns
    -------
    StartDate
        ``(year, precision)``; ``(None, None)`` when there is no text.

    Examples
    --------
    >>> parse_start_date("1936-05-01")
    StartDate(year=1936, precision='day')
    >>> parse_start_date("1905..1908")
    StartDate(year=1907, precision='range')
    >>> parse_start_date("late 19th century")
    StartDate(year=1883, precision='century')
    >>> parse_start_date("before 1815")
    StartDate(year=None, precision='before')
    >>> parse_start_date("when the king came")
    StartDate(year=None, precision='unparsed')
    """
    text_ = _as_text(text)
    if text_ is None:
        return StartDate(None, None)
    p = _parse(text_)
    return StartDate(p.year, p.precision)


def start_date_bounds(text: object) -> tuple[int | None, int | None]:
    """Return the earliest and latest year an OSM date allows (None: no bound).

    Bounds are stated, not estimated: ``1930s`` is (1930, 1939), ``before 1855`` is
    (None, 1854) (the OSM wiki: "during 1854 or before"), ``after 1815`` is (1815, None),
    an approximate date sets none. See :func:`parse_start_date` for the forms.

    Examples
    --------
    >>> start_date_bounds("1930s"), start_date_bounds("before 1855")
    ((1930, 1939), (None, 1854))
    >>> start_date_bounds("after 1905..1908"), start_date_bounds("~1900")
    ((1905, None), (None, None))
    """
    text_ = _as_text(text)
    if text_ is None:
        return (None, None)
    p = _parse(text_)
    return (p.lo, p.hi)


# ---------------------------------------------------------------------------------------
# Levels and height

_NUMBER = r"\d+(?:\.\d+)?"


def _numbers(text: object, one: Any) -> float:
    """Apply ``one`` to each ``;``-separated part and average; NaN if any part fails."""
    text_ = _as_text(text)
    if text_ is None:
        return math.nan
    s = text_.lower().replace(",", ".")
    values = [one(p.strip()) for p in s.split(";") if p.strip()]
    if not values or any(math.isnan(v) for v in values):
        return math.nan
    return float(sum(values) / len(values))


def _one_level(s: str) -> float:
    m = re.fullmatch(rf"({_NUMBER})(?:\s*-\s*({_NUMBER}))?", s)
    if not m:
        return math.nan
    a = float(m.group(1))
    b = float(m.group(2)) if m.group(2) else a
    if b < a or b > _MAX_LEVELS:
        return math.nan
    return (a + b) / 2


def parse_levels(text: object) -> float:
    """Read a storey count such as ``building:levels``.

    ``"3"`` and ``"3.5"`` (a half storey) as written; a decimal comma is read as a point
    (``"3,5"``); a range ``"2-3"`` and a list ``"3;4"`` (parts of different heights)
    give their mean, the expected storeys over the footprint. Anything else (``"3+"``,
    ``"-1"``, words, more than 200) is NaN.

    Examples
    --------
    >>> [parse_levels(v) for v in ["3", "3.5", "3,5", "3;4", "2-3", "3+", None]]
    [3.0, 3.5, 3.5, 3.5, 2.5, nan, nan]
    """
    return _numbers(text, _one_level)


_FEET = 0.3048
_INCH = 0.0254


def _one_height(s: str) -> float:
    s = s.removeprefix("~").strip()
    m = re.fullmatch(rf"({_NUMBER})(?:\s*-\s*({_NUMBER}))?\s*(m|meters?|metres?|metriä)?", s)
    if m:
        a = float(m.group(1))
        b = float(m.group(2)) if m.group(2) else a
        value = (a + b) / 2 if b >= a else math.nan
    elif m := re.fullmatch(rf"({_NUMBER})\s*(?:ft|feet|foot|')", s):
        value = float(m.group(1)) * _FEET
    elif m := re.fullmatch(rf"(\d+)\s*'\s*({_NUMBER})\s*(?:\"|''|in)", s):
        value = float(m.group(1)) * _FEET + float(m.group(2)) * _INCH
    else:
        return math.nan
    return value if 0 < value <= _MAX_HEIGHT_M else math.nan


def parse_height(text: object) -> float:
    r"""Read a height in metres, such as ``height`` or ``building:height``.

    Metres by default (``"12"``, ``"12 m"``, ``"12.5 metres"``, ``"12,5"``); feet with
    ``ft``, ``feet`` or ``'`` (``"40 ft"``, ``"40'"``, ``"12'6\""``); a range or a list
    gives the mean; a leading ``~`` is ignored. Anything else, zero or more than
    1000 m is NaN.

    Examples
    --------
    >>> [round(parse_height(v), 2) for v in ["12", "12 m", "12,5", "40 ft", "12'6\""]]
    [12.0, 12.0, 12.5, 12.19, 3.81]
    >>> parse_height("tall")
    nan
    """
    return _numbers(text, _one_height)


# ---------------------------------------------------------------------------------------
# The use table


# ---------------------------------------------------------------------------------------
# Use


def use_from_tags(tags: pd.Series, *, building_use: BuildingUse | None = None) -> pd.Series:
    """Return the use of each building, read from its OSM tags.

    Keys are read in the table's order (``building:use``, ``building``, then the tags of
    what is inside: ``amenity``, ``shop`` ...); the first key whose value maps gives the
    use; ``building=yes`` and values the table does not know map to nothing, so the next
    key is read. Nothing mapped: ``"unknown"``.

    Parameters
    ----------
    tags
        A dict of OSM tags per building.
    building_use
        The use table; default the bundled one.

    Returns
    -------
    pandas.Series
        Named ``use``, on the same index; values from :data:`USES`.

    Examples
    --------
    >>> import pandas as pd
    >>> tags = pd.Series([
    ...     {"building": "apartments"},
    ...     {"building": "yes", "amenity": "school"},
    ...     {"building": "yes"},
    ... ])
    >>> use_from_tags(tags).tolist()
    ['residential', 'education', 'unknown']
    """
    table = building_use if building_use is not None else load_building_use()
    result = np.full(len(tags), None, dtype=object)
    for key in table.osm_order:
        undecided = result == None  # noqa: E711 (elementwise on an object array)
        if not undecided.any():
            break
        values = tag_values(tags, key).to_numpy()
        lookup: dict[str, str | None] = {}
        for i in np.flatnonzero(undecided):
            v = values[i]
            if v is None:
                continue
            if v not in lookup:
                lookup[v] = table.osm_use(key, v)
            result[i] = lookup[v]
    result[result == None] = "unknown"  # noqa: E711
    return pd.Series(result, index=tags.index, dtype=object, name="use")


def use_from_codes(
    codes: pd.Series, scheme: str = "nls_mtk", *, building_use: BuildingUse | None = None
) -> pd.Series:
    """Map a register's use codes to the building use vocabulary.

    Parameters
    ----------
    codes
        The codes, as numbers or text (``1``, ``"011"``, ``11.0``): numeric codes are
        zero-padded to the scheme's width, so ``11`` is ``"011"`` in a 3-digit scheme.
    scheme
        ``"nls_mtk"`` (NLS Topographic Database ``kayttotarkoitus``, 1-8),
        ``"rakennusluokitus_1994"`` (3 digits, municipal registers) or
        ``"rakennusluokitus_2018"`` (4 digits, the national register), or any scheme of
        the table's ``[codes]``.
    building_use
        The use table; default the bundled one.

    Returns
    -------
    pandas.Series
        Named ``use``, on the same index; missing codes and codes the scheme does not list
        are ``"unknown"`` (the unlisted ones are logged as a warning).

    Raises
    ------
    ConfigError
        No such scheme.

    Examples
    --------
    >>> import pandas as pd
    >>> use_from_codes(pd.Series([1, 2, 3, 8])).tolist()
    ['residential', 'commercial', 'other', 'religious']
    >>> use_from_codes(pd.Series([39, "0121"]), "rakennusluokitus_1994").tolist()
    ['residential', 'unknown']
    """
    table = building_use if building_use is not None else load_building_use()
    if scheme not in table.schemes:
        raise ConfigError(
            f"no building use code scheme {scheme!r}{_hint(scheme, list(table.schemes))}; "
            f"schemes in {table.source}: {', '.join(table.schemes)}"
        )
    sch = table.schemes[scheme]
    keys = [sch.key(v) for v in codes]
    out = [sch.classes[k].use if k is not None and k in sch.classes else "unknown" for k in keys]
    unlisted = sorted({k for k in keys if k is not None and k not in sch.classes})
    if unlisted:
        log.warning(
            "%d building(s) have %s codes the table does not list (%s); their use is "
            "'unknown'. Add them to [codes.%s.classes] in %s",
            sum(k in unlisted for k in keys),
            scheme,
            ", ".join(unlisted[:10]),
            scheme,
            table.source,
        )
    return pd.Series(out, index=codes.index, dtype=object, name="use")


# ---------------------------------------------------------------------------------------
# The whole building


def _building_tags(gdf: pd.DataFrame) -> pd.Series:
    """Tag dicts of a features frame, or merged from a pyrosm frame's columns."""
    if "tags" in gdf.columns and "osm_id" in gdf.columns:
        kinds = gdf["tags"].map(
            lambda t: isinstance(t, dict) or t is None or (isinstance(t, float) and math.isnan(t))
        )
        if not kinds.all():
            first = gdf["tags"][~kinds].iloc[0]
            raise SourceError(
                f"normalise_buildings: 'tags' must hold a dict of OSM tags per feature; found "
                f"{type(first).__name__} {str(first)[:60]!r} (convert pyrosm's JSON text with "
                "rakennettu.sources.osm_tags.tags_from_pyrosm)"
            )
        return gdf["tags"]
    return tags_from_pyrosm(gdf)


_LIFECYCLE = ("disused:building", "abandoned:building", "ruins:building")


def normalise_buildings(
    features_or_buildings: gpd.GeoDataFrame, *, building_use: BuildingUse | None = None
) -> gpd.GeoDataFrame:
    """Read building attributes from OSM tags into typed columns.

    Parameters
    ----------
    features_or_buildings
        Either a features frame (``osm_type``, ``osm_id``, ``name``, ``tags`` as dicts,
        ``geometry``), buildings or not, or a frame from pyrosm (``get_buildings()`` or
        ``get_data_by_custom_criteria``: tag columns plus JSON ``tags``). Any CRS. Not
        modified.
    building_use
        The use table; default the bundled ``data/taxonomy/building_use.toml``.

    Returns
    -------
    geopandas.GeoDataFrame
        The buildings only (``building=*`` other than ``no``, or a disused, abandoned or
        ruined building), index, CRS and geometry kept, with the input's columns but
        ``tags`` and these (input columns of the same names are replaced):

        - ``use``: one of :data:`USES`, from the tags (:func:`use_from_tags`);
        - ``floors``: storeys above ground, ``building:levels`` plus ``roof:levels``
          (habitable storeys in the roof; 0 if not given); NaN without
          ``building:levels``, never estimated from height (:func:`parse_levels`);
        - ``height``: metres, from ``height``, else ``building:height``
          (:func:`parse_height`);
        - ``year``, ``year_precision``, ``year_min``, ``year_max``, ``year_source``: from
          the first of :data:`YEAR_KEYS` that parses (:func:`parse_start_date`,
          :func:`start_date_bounds`); ``year*`` are nullable integers;
        - ``disused``: True for ``disused:building``/``abandoned:building``/
          ``ruins:building``, ``disused|abandoned|ruins=yes`` or ``building=ruins``.

    Raises
    ------
    SourceError
        Not a GeoDataFrame, or ``tags`` does not hold dicts.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> features = gpd.GeoDataFrame(
    ...     {
    ...         "osm_type": ["way", "way", "node"],
    ...         "osm_id": [1, 2, 3],
    ...         "name": [None, "Kallion kirkko", None],
    ...         "tags": [
    ...             {"building": "apartments", "building:levels": "6",
    ...              "roof:levels": "1", "start_date": "1930s"},
    ...             {"building": "church", "height": "65 m", "start_date": "1912"},
    ...             {"amenity": "bench"},
    ...         ],
    ...     },
    ...     geometry=[box(0, 0, 20, 12), box(40, 0, 70, 30), box(0, 50, 1, 51)],
    ...     crs="EPSG:3067",
    ... )
    >>> b = normalise_buildings(features)
    >>> b[["use", "floors", "height", "year", "year_precision", "disused"]]
               use  floors  height  year year_precision  disused
    0  residential     7.0     NaN  1935         decade    False
    1    religious     NaN    65.0  1912           year    False
    """
    gdf = features_or_buildings
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise SourceError(f"normalise_buildings: expected a GeoDataFrame, got {type(gdf).__name__}")
    table = building_use if building_use is not None else load_building_use()
    all_tags = _building_tags(gdf)
    building = tag_values(all_tags, "building")
    lifecycle = np.zeros(len(gdf), dtype=bool)
    for key in _LIFECYCLE:
        lifecycle |= tag_values(all_tags, key).notna().to_numpy()
    keep = ((building.notna() & (building != "no")).to_numpy()) | lifecycle
    tags = all_tags[keep]

    geometry = gdf.geometry.name
    carried = [c for c in gdf.columns if c not in ("tags", geometry, *BUILDING_COLUMNS)]
    out = pd.DataFrame(gdf.loc[keep, carried])
    # Columns are assigned by position (.array / numpy): the index may repeat labels.
    out["use"] = use_from_tags(tags, building_use=table).to_numpy()

    levels = tag_values(tags, "building:levels").map(parse_levels).to_numpy(dtype=float)
    roof = tag_values(tags, "roof:levels").map(parse_levels).to_numpy(dtype=float)
    out["floors"] = levels + np.nan_to_num(roof, nan=0.0)
    height = tag_values(tags, "height").map(parse_height).to_numpy(dtype=float)
    fallback = tag_values(tags, "building:height").map(parse_height).to_numpy(dtype=float)
    out["height"] = np.where(np.isnan(height), fallback, height)

    year_cols = _years(tags)
    for col in ("year", "year_precision", "year_min", "year_max", "year_source"):
        out[col] = year_cols[col].array

    flags = np.zeros(len(tags), dtype=bool)
    for key in _LIFECYCLE:
        flags |= tag_values(tags, key).notna().to_numpy()
    for key in ("disused", "abandoned", "ruins"):
        flags |= (tag_values(tags, key) == "yes").to_numpy()
    flags |= tag_values(tags, "building").isin(["ruins", "abandoned", "disused"]).to_numpy()
    out["disused"] = flags

    result = gpd.GeoDataFrame(out, geometry=gdf.geometry[keep], crs=gdf.crs)
    if len(result):
        log.info(
            "buildings: %d of %d features; floors known for %.0f %%, height %.0f %%, "
            "year %.0f %%; uses: %s",
            len(result),
            len(gdf),
            100 * result["floors"].notna().mean(),
            100 * result["height"].notna().mean(),
            100 * result["year"].notna().mean(),
            result["use"].value_counts().to_dict(),
        )
    return result


def _years(tags: pd.Series) -> dict[str, pd.Series]:
    """Return the year columns, from the first of :data:`YEAR_KEYS` that parses."""
    n = len(tags)
    year: list[int | None] = [None] * n
    precision: list[str | None] = [None] * n
    lo: list[int | None] = [None] * n
    hi: list[int | None] = [None] * n
    source: list[str | None] = [None] * n
    for key in YEAR_KEYS:
        values = tag_values(tags, key).to_numpy()
        for i, v in enumerate(values):
            if v is None or (precision[i] not in (None, "unparsed")):
                continue
            p = _parse(v)
            if precision[i] == "unparsed" and p.precision == "unparsed":
                continue
            year[i], precision[i], lo[i], hi[i], source[i] = p.year, p.precision, p.lo, p.hi, key
    index = tags.index
    return {
        "year": pd.Series(year, index=index, dtype="Int64"),
        "year_precision": pd.Series(precision, index=index, dtype=object),
        "year_min": pd.Series(lo, index=index, dtype="Int64"),
        "year_max": pd.Series(hi, index=index, dtype="Int64"),
        "year_source": pd.Series(source, index=index, dtype=object),
    }
