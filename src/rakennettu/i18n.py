"""Languages: message catalogues, and numbers and dates in the reader's format.

The words of the map, the report and the console summary live in gettext catalogues,
``rakennettu/locale/<code>/LC_MESSAGES/rakennettu.po``; a language is one such file.
The ``.po`` files are read with Babel when first used (no build step: a fresh clone
works), so adding Swedish is writing ``locale/sv/LC_MESSAGES/rakennettu.po``
(see ``docs/translating.md``).

Untrusted text (names from OpenStreetMap or a planner's file) never goes through a
catalogue: only the package's own message ids do, and values are filled in afterwards
with :meth:`Language._` keyword arguments.
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
import math
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from babel import Locale, dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

__all__ = [
    "DOMAIN",
    "FINNISH_BOUNDS",
    "N_",
    "Language",
    "Said",
    "Share",
    "available_languages",
    "category_words",
    "choose_language",
    "kind_words",
    "language",
    "logged_said",
    "said_in",
    "speak",
    "speaking",
    "spoken",
]

DOMAIN = "rakennettu"
#: Finland's extent in WGS84 (lon_min, lat_min, lon_max, lat_max), with Åland.
FINNISH_BOUNDS = (19.0, 59.4, 31.6, 70.1)
#: Town CRSs used only in Finland (ETRS-TM35FIN, ETRS-GKn, KKJ zones).
_FINNISH_CRS = {3067, *range(3873, 3886), *range(2391, 2395), 3386, 3387}


def N_(message: str) -> str:  # noqa: N802 (gettext's conventional name)
    """Mark a message for the catalogues without translating it (translate when shown).

    Examples
    --------
    >>> N_("Map")
    'Map'
    """
    return message


#: Site kinds that are not categories of the candidates taxonomy.
_KINDS = {
    "empty_block": N_("empty block"),
    "planner": N_("planner's site"),
}


def _locale_dir() -> Any:
    return resources.files("rakennettu") / "locale"


@cache
def available_languages() -> tuple[str, ...]:
    """The languages with a catalogue, sorted.

    Examples
    --------
    >>> available_languages()
    ('en', 'fi')
    """
    root = _locale_dir()
    found = [
        d.name
        for d in root.iterdir()
        if d.is_dir() and (d / "LC_MESSAGES" / f"{DOMAIN}.po").is_file()
    ]
    return tuple(sorted(found))


@cache
def _translations(code: str) -> gettext.GNUTranslations:
    """Compile a ``.po`` catalogue in memory (fuzzy entries are left out)."""
    po = _locale_dir() / code / "LC_MESSAGES" / f"{DOMAIN}.po"
    with po.open("rb") as f:
        catalog = read_po(f, locale=code, domain=DOMAIN)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


@cache
def _babel_locale(code: str) -> Locale:
    """The Babel locale, parsed once (the pages format thousands of numbers)."""
    return Locale.parse(code)


_DECIMALS: dict[tuple[str, str, str], str] = {}
_DECIMALS_MAX = 1 << 16


def _decimal(value: Any, pattern: str, code: str) -> str:
    r"""Babel's ``format_decimal``, remembered per text of the value.

    Babel reads a value as ``Decimal(str(value))``, so two values with the same text are
    written alike: a whole town's pages write ~100,000 numbers with a few thousand texts
    (three significant digits), and Babel costs ~40 µs each.

    Examples
    --------
    >>> _decimal(1234.5, "#,##0.#", "fi")
    '1\xa0234,5'
    """
    key = (code, pattern, str(value))
    text = _DECIMALS.get(key)
    if text is None:
        if len(_DECIMALS) >= _DECIMALS_MAX:
            _DECIMALS.clear()
        text = numbers.format_decimal(value, format=pattern, locale=_babel_locale(code))
        _DECIMALS[key] = text
    return text


@dataclass(frozen=True)
class Language:
    r"""One language: its messages, and numbers and dates in its format.

    Build it with :func:`language`.

    Examples
    --------
    >>> fi = language("fi")
    >>> fi._("Data files: {folder}", folder="out/kotka")
    'Aineistotiedostot: out/kotka'
    >>> fi.number(12345.67, 1), language("en").number(12345.67, 1)
    ('12\xa0345,7', '12,345.7')
    """

    code: str
    _tr: gettext.GNUTranslations = field(repr=False, compare=False)

    @property
    def locale(self) -> Locale:
        """The Babel locale."""
        return _babel_locale(self.code)

    def _(self, message: str, **values: Any) -> str:
        """The message in this language, with its ``{name}`` fields filled in from ``values``.

        A message without a translation stays in English. Numbers among ``values`` are
        written as given: format them first with :meth:`number`, :meth:`integer` or
        :meth:`percent`. Values are filled in after translating, so text from data never
        becomes a message or a format string.
        """
        text = self._tr.gettext(message)
        return text.format(**values) if values else text

    def gettext(self, message: str) -> str:
        """The message in this language, its ``{fields}`` left as they are."""
        return self._tr.gettext(message)

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        """The singular or plural form for ``count``, its ``{fields}`` left as they are."""
        return self._tr.ngettext(singular, plural, count)

    def plural(self, singular: str, plural: str, count: int, **values: Any) -> str:
        r"""The singular or plural form for ``count``; ``{n}`` is the count, formatted.

        Examples
        --------
        >>> language("fi").plural("{n} candidate site", "{n} candidate sites", 1200)
        '1\xa0200 kohde-ehdokasta'
        """
        text = self._tr.ngettext(singular, plural, count)
        return text.format(n=self.integer(count), **values)

    def number(self, value: float, digits: int = 2) -> str:
        """A number with ``digits`` decimals at most, trailing zeros dropped; "–" for none."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "–"
        pattern = "#,##0" + ("." + "#" * digits if digits > 0 else "")
        return _decimal(value, pattern, self.code)

    def significant(self, value: Any, digits: int = 3) -> str:
        r"""A number for people: ``digits`` significant digits, whole numbers from there up.

        The one formatter of measured values on the pages (``outputs._common.fmt``);
        "–" for none or a value that is not a finite number.

        Examples
        --------
        >>> [language("fi").significant(v) for v in (0, 0.012345, 12.345, 1234.5, None)]
        ['0', '0,0123', '12,3', '1\xa0234', '–']
        >>> [language("en").significant(v) for v in (0.5, -3.0, 1234.5, "x")]
        ['0.5', '-3', '1,234', '–']
        """
        try:
            v = float(value)
        except (TypeError, ValueError):
            return "–"
        if not math.isfinite(v):
            return "–"
        a = abs(v)
        if a == 0:
            return "0"
        if a >= 10 ** (digits - 1):
            return self.integer(v)
        decimals = digits - 1 - math.floor(math.log10(a))
        return self.number(round(v, decimals), decimals)

    def fixed(self, value: float, digits: int = 2) -> str:
        """A number with exactly ``digits`` decimals ("0,50"); "–" for none."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "–"
        pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
        return _decimal(value, pattern, self.code)

    def integer(self, value: float) -> str:
        """A whole number (rounded half to even), with the locale's thousands separator."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "–"
        return _decimal(round(value), "#,##0", self.code)

    def percent(self, share: float, digits: int = 0) -> str:
        """A share (0.25) as a percentage ("25 %" in Finnish, "25%" in English)."""
        if share is None or (isinstance(share, float) and math.isnan(share)):
            return "–"
        pattern = self.locale.percent_formats[None].pattern  # "#,##0 %" in Finnish
        if digits > 0:
            pattern = re.sub(r"0(?!.*0)", "0." + "#" * digits, pattern)
        return numbers.format_percent(share, format=pattern, locale=self.code)

    def date(self, when: dt.date | dt.datetime | str) -> str:
        """A date in the locale's long format ("3. joulukuuta 2026", "December 3, 2026")."""
        if isinstance(when, str):
            when = dt.datetime.fromisoformat(when.replace("Z", "+00:00"))
        if isinstance(when, dt.datetime):
            when = when.date()
        return dates.format_date(when, format="long", locale=self.code)


@cache
def language(code: str = "en") -> Language:
    """The language ``code`` (one of :func:`available_languages`).

    Raises
    ------
    ValueError
        No catalogue for ``code``.

    Examples
    --------
    >>> language("fi").code
    'fi'
    """
    if code not in available_languages():
        raise ValueError(
            f"no catalogue for language {code!r}; available: {', '.join(available_languages())}"
        )
    return Language(code, _translations(code))


def choose_language(
    setting: str, *, crs: Any = None, lonlat: tuple[float, float] | None = None
) -> str:
    """The language of a run's outputs from its ``[outputs] language`` setting.

    ``"auto"`` is Finnish for a town in Finland (a Finnish CRS such as EPSG:3067, or a
    study area whose centre lies within :data:`FINNISH_BOUNDS`) and English elsewhere.

    Examples
    --------
    >>> choose_language("auto", crs="EPSG:3067")
    'fi'
    >>> choose_language("auto", crs="EPSG:32633", lonlat=(13.4, 52.5))  # Berlin
    'en'
    >>> choose_language("en", crs="EPSG:3067")
    'en'
    """
    if setting != "auto":
        return setting
    if crs is not None:
        from pyproj import CRS

        epsg = CRS.from_user_input(crs).to_epsg()
        if epsg in _FINNISH_CRS:
            return "fi"
    if lonlat is not None:
        lon_min, lat_min, lon_max, lat_max = FINNISH_BOUNDS
        if lon_min <= lonlat[0] <= lon_max and lat_min <= lonlat[1] <= lat_max:
            return "fi"
    return "en"


def category_words(table: str, category: Any, lang: Language) -> str:
    """A taxonomy category's label in ``lang`` (``label_<code>``, else the English one).

    Examples
    --------
    >>> category_words("third_places", "civic", language("fi"))
    'Kansalaistilat'
    """
    from rakennettu.sources.taxonomy import load_taxonomy

    tax = load_taxonomy()
    cat = str(category)
    if table in tax and cat in tax[table].ids:
        c = tax[table].category(cat)
        return getattr(c, f"label_{lang.code}", None) or c.label_en
    return cat.replace("_", " ")


def kind_words(kind: Any, lang: Language) -> str:
    """A site's kind in words: the taxonomy's ``label_<code>`` ("surface_parking+empty_block").

    Kinds joined with ``+`` are each put in words; a kind the taxonomy does not know
    stays as it is, with spaces for underscores.

    Examples
    --------
    >>> kind_words("surface_parking+empty_block", language("fi"))
    'Pintapysäköinti, tyhjä kortteli'
    >>> kind_words("surface_parking", language("en"))
    'Surface parking'
    """
    from rakennettu.sources.taxonomy import load_taxonomy

    if not isinstance(kind, str) or not kind.strip():
        return lang._("site")
    table = load_taxonomy()["candidates"]
    words = []
    for part in kind.split("+"):
        if part in table.ids:
            cat = table.category(part)
            words.append(getattr(cat, f"label_{lang.code}", None) or cat.label_en)
        elif part in _KINDS:
            words.append(lang._(_KINDS[part]))
        else:
            words.append(part.replace("_", " "))
    return ", ".join(words)


class Share(float):
    """A share (0.25) that a :class:`Said` message says as a percentage ("25 %")."""


class Said(str):
    r"""English text that keeps its message id and values, to be said in another language.

    A warning is logged and recorded as this English text (it *is* a ``str``); the
    console, the report and the map say it again in the run's language with
    :meth:`in_`. Values: a ``str`` is data and stays as it is; a :class:`Said` is said
    in the language too (a message with no values is a word: a layer's name); an
    ``int`` is a count, a :class:`Share` a percentage, another number a small rate
    (one decimal, two significant digits below 1).

    Examples
    --------
    >>> w = Said("only {v} buildings per km of street in {town}", v=2.25, town="Kotka")
    >>> w
    'only 2.2 buildings per km of street in Kotka'
    >>> Said.from_record(w.record()) == w, Said("{s} of the buildings", s=Share(0.004))
    (True, 'under 1 % of the buildings')
    """

    message: str
    values: dict[str, Any]

    def __new__(cls, message: str, /, **values: Any) -> Said:  # noqa: D102
        self = super().__new__(cls, _fill(language("en"), message, values))
        self.message, self.values = message, values
        return self

    def __reduce__(self) -> Any:
        return _said, (self.message, self.values)

    def in_(self, lang: Language) -> str:
        """The text in ``lang`` (English for a message with no translation)."""
        return _fill(lang, self.message, self.values)

    def record(self) -> dict[str, Any]:
        """The message and its values as plain JSON (for ``run.json``)."""
        return {"message": self.message, "values": {k: _json(v) for k, v in self.values.items()}}

    @classmethod
    def from_record(cls, rec: Mapping[str, Any]) -> Said:
        """The message back from :meth:`record`."""
        values = rec.get("values") or {}
        return cls(str(rec["message"]), **{str(k): _unjson(v) for k, v in values.items()})


def _said(message: str, values: dict[str, Any]) -> Said:
    return Said(message, **values)


def _json(v: Any) -> Any:
    if isinstance(v, Said):
        return v.record()
    if isinstance(v, Share):
        return {"share": float(v)}
    return v


def _unjson(v: Any) -> Any:
    if isinstance(v, Mapping) and "message" in v:
        return Said.from_record(v)
    if isinstance(v, Mapping) and "share" in v:
        return Share(v["share"])
    return v


def _value(lang: Language, v: Any) -> str:
    if isinstance(v, Said):
        return v.in_(lang)
    if isinstance(v, str):
        return v
    if isinstance(v, Share):
        if 0 < v < 0.01:
            return lang.gettext("under 1 %")
        return f"{lang.number(float(v) * 100, 0)} %"
    if isinstance(v, bool) or not isinstance(v, int | float):
        return str(v)
    if isinstance(v, int):
        return lang.integer(v)
    if v >= 1 or v == 0 or not math.isfinite(v):
        return lang.number(v, 1)
    return lang.significant(v, 2)


def _fill(lang: Language, message: str, values: Mapping[str, Any]) -> str:
    text = lang.gettext(message)
    return text.format(**{k: _value(lang, v) for k, v in values.items()}) if values else text


def logged_said(record: Any) -> Said | None:
    """The :class:`Said` message of a log record, else None.

    The record's message is one when logged as ``log.warning(said)`` or
    ``log.warning("%s", said)``.
    """
    args = record.args
    if isinstance(record.msg, Said) and not args:
        return record.msg
    if record.msg == "%s" and isinstance(args, tuple) and len(args) == 1:
        return args[0] if isinstance(args[0], Said) else None
    return None


def said_in(text: Any, lang: Language) -> str:
    """``text`` in ``lang`` if it is a :class:`Said` message, else as it is (data).

    Examples
    --------
    >>> said_in(Said("Map"), language("fi")), said_in("Map", language("fi"))
    ('Kartta', 'Map')
    """
    return text.in_(lang) if isinstance(text, Said) else str(text)


#: The language of the innermost :func:`speaking` block (a one-item list, set by :func:`speak`).
_SPOKEN: ContextVar[list[Language | None] | None] = ContextVar("rakennettu_spoken", default=None)


def spoken() -> Language:
    """The language the console says messages in (:func:`speaking`; English by default)."""
    now = _SPOKEN.get()
    return (now[0] if now else None) or language("en")


def speak(lang: Language) -> None:
    """Say logged :class:`Said` messages in ``lang`` until the end of this block.

    The block is the :func:`speaking` one this is called in; outside one nothing changes.
    """
    now = _SPOKEN.get()
    if now is not None:
        now[0] = lang


@contextmanager
def speaking(lang: Language | None = None) -> Iterator[None]:
    """Say logged :class:`Said` messages in ``lang`` on the console within the block.

    :func:`speak` changes the language inside the block (a run knows its language once
    the town is loaded); the language before the block is back after it.

    Examples
    --------
    >>> with speaking():
    ...     speak(language("fi"))
    ...     spoken().code
    'fi'
    >>> spoken().code
    'en'
    """
    token = _SPOKEN.set([lang])
    try:
        yield
    finally:
        _SPOKEN.reset(token)
