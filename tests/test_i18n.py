"""Languages: catalogues in step with the code, numbers and dates in each locale's format."""

from __future__ import annotations

import re
import shutil
import tomllib
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from babel import numbers
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from rakennettu import i18n
from rakennettu.errors import ConfigError
from rakennettu.i18n import available_languages, choose_language, kind_words, language

REPO = Path(__file__).resolve().parent.parent
LOCALE = REPO / "src" / "rakennettu" / "locale"
NBSP = "\u00a0"
KEYWORDS = {"_": None, "N_": None, "plural": (1, 2), "ngettext": (1, 2)}


def _code_messages() -> set[str]:
    """Every message id the package's code and templates mark, read with Babel's own
    extractors (as ``babel.cfg`` says)."""
    method = [("src/rakennettu/**.py", "python"), ("src/rakennettu/**.j2", "jinja2")]
    found = extract_from_dir(REPO, method_map=method, keywords=KEYWORDS)
    ids = set()
    for _, _, msg, _, _ in found:
        ids.add(msg if isinstance(msg, str) else msg[0])
    return ids


def _catalogue(code: str):
    with (LOCALE / code / "LC_MESSAGES" / "rakennettu.po").open("rb") as f:
        return read_po(f, locale=code)


def _fields(text: str) -> set[str]:
    return set(re.findall(r"\{(\w*)\}", text))


@pytest.fixture(scope="module")
def messages():
    return _code_messages()


def test_the_languages_are_the_catalogue_folders():
    assert available_languages() == ("en", "fi")
    assert {p.parent.parent.name for p in LOCALE.glob("*/LC_MESSAGES/rakennettu.po")} == {
        "en",
        "fi",
    }


@pytest.mark.parametrize("code", ["en", "fi"])
def test_every_message_of_the_code_is_in_the_catalogue(messages, code):
    catalogue = _catalogue(code)
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in catalogue if m.id}
    assert messages - ids == set(), "run the update in docs/translating.md"
    assert len(messages) > 20
    assert "The top sites, one by one" in messages  # from report.py
    assert "Versions:" in messages  # from the report's template


def test_finnish_translates_every_message_with_the_same_fields(messages):
    for m in _catalogue("fi"):
        if not m.id or (m.id if isinstance(m.id, str) else m.id[0]) not in messages:
            continue
        ids = [m.id] if isinstance(m.id, str) else list(m.id)
        strings = [m.string] if isinstance(m.string, str) else list(m.string)
        assert all(strings) and "fuzzy" not in m.flags, m.id
        for s in strings:
            assert _fields(s) == _fields(ids[0]), (m.id, s)


def test_numbers_in_the_finnish_and_english_formats():
    fi, en = language("fi"), language("en")
    assert fi.number(12345.678, 1) == f"12{NBSP}345,7"  # decimal comma, no-break space
    assert en.number(12345.678, 1) == "12,345.7"
    assert fi.fixed(0.5, 2) == "0,50" and en.fixed(0.5, 2) == "0.50"
    assert fi.integer(85.8) == "86" and en.integer(16551) == "16,551"
    assert fi.percent(0.873) == f"87{NBSP}%" and en.percent(0.873) == "87%"
    assert fi.percent(0.8734, 1) == f"87,3{NBSP}%"
    assert fi.number(float("nan")) == "–"


_SAME_NUMBER_OTHER_TEXT = [
    -0.0, 0.0, 0, 1, 1.0, 2.5, 3.5, 0.125, 1e20, 10**20, 1234.5, -1234.5,
    np.float32(0.1), np.float64(0.1), 0.1, Decimal("0.10"), Decimal("1E+3"), np.int64(7),
]  # fmt: skip


@pytest.mark.parametrize("code", ["fi", "en"])
def test_remembered_numbers_are_babels_for_each_value(code):
    """Numbers are formatted once per text of the value (the pages write ~100k), so values
    that are equal but read differently (-0.0 and 0.0, float32 and float64) must each get
    what Babel itself writes for them, in any order."""
    lang = language(code)
    patterns = {"#,##0", "#,##0.##", "#,##0.00", "#,##0.#######"}
    for value in _SAME_NUMBER_OTHER_TEXT * 2:  # the second pass from the memory
        for pattern in patterns:
            want = numbers.format_decimal(value, format=pattern, locale=code)
            assert i18n._decimal(value, pattern, code) == want, (value, pattern)
        assert lang.fixed(value, 2) == numbers.format_decimal(value, "#,##0.00", locale=code)
        assert lang.number(value, 2) == numbers.format_decimal(value, "#,##0.##", locale=code)
        assert lang.integer(value) == numbers.format_decimal(round(value), "#,##0", locale=code)


def test_dates_in_each_language():
    assert language("fi").date("2026-12-03T08:00:00Z") == "3. joulukuuta 2026"
    assert language("en").date("2026-12-03") == "December 3, 2026"


def test_plural_forms():
    fi = language("fi")
    assert fi.plural("{n} candidate site", "{n} candidate sites", 1) == "1 kohde-ehdokas"
    assert fi.plural("{n} candidate site", "{n} candidate sites", 2) == "2 kohde-ehdokasta"
    assert language("en").plural("{n} candidate site", "{n} candidate sites", 1) == (
        "1 candidate site"
    )


def test_values_are_filled_in_after_translating():
    """Text from data with braces is not a format string, and is not translated."""
    fi = language("fi")
    assert fi._("Data files: {folder}", folder="{folder} Map") == "Aineistotiedostot: {folder} Map"


@pytest.mark.parametrize(
    ("setting", "crs", "lonlat", "expected"),
    [
        ("auto", "EPSG:3067", None, "fi"),  # ETRS-TM35FIN
        ("auto", "EPSG:3879", None, "fi"),  # ETRS-GK25FIN (Helsinki's)
        ("auto", "EPSG:32635", (25.0, 60.2), "fi"),  # UTM 35N, in Finland
        ("auto", "EPSG:32635", (24.1, 56.9), "en"),  # UTM 35N, Riga
        ("auto", None, None, "en"),
        ("en", "EPSG:3067", None, "en"),
        ("fi", "EPSG:32633", (13.4, 52.5), "fi"),
    ],
)
def test_choose_language(setting, crs, lonlat, expected):
    assert choose_language(setting, crs=crs, lonlat=lonlat) == expected


def test_the_workflow_accepts_only_languages_with_a_catalogue():
    from rakennettu.config import resolve_workflow

    wf = resolve_workflow("kotka-karhula")
    assert wf.outputs.language == "auto"
    assert wf.updated({"outputs.language": "en"}).outputs.language == "en"
    with pytest.raises(ConfigError, match=r"'sv' is not a language with a catalogue.*auto, en, fi"):
        wf.updated({"outputs.language": "sv"})


def test_site_kinds_in_the_taxonomy_words():
    table = tomllib.loads(
        (REPO / "src/rakennettu/_data/taxonomy/candidates.toml").read_text(encoding="utf-8")
    )
    parking = next(c for c in table["category"] if c["id"] == "surface_parking")
    assert kind_words("surface_parking", language("fi")) == parking["label_fi"]
    assert kind_words("surface_parking", language("en")) == parking["label_en"]
    assert kind_words("surface_parking+empty_block", language("fi")).endswith(", tyhjä kortteli")
    assert kind_words("made_up_kind", language("en")) == "made up kind"


def test_a_new_language_is_one_file(tmp_path, monkeypatch):
    """Swedish: copy the template, translate a message, and it is a language."""
    folder = tmp_path / "locale"
    shutil.copytree(LOCALE, folder)
    sv = folder / "sv" / "LC_MESSAGES"
    sv.mkdir(parents=True)
    template = (LOCALE / "rakennettu.pot").read_text(encoding="utf-8")
    text = template.replace('msgid "Map"\nmsgstr ""', 'msgid "Map"\nmsgstr "Karta"')
    (sv / "rakennettu.po").write_text(text, encoding="utf-8")
    monkeypatch.setattr(i18n, "_locale_dir", lambda: folder)
    i18n.available_languages.cache_clear()
    i18n.language.cache_clear()
    try:
        assert available_languages() == ("en", "fi", "sv")
        sv_lang = language("sv")
        assert sv_lang._("Map") == "Karta"
        assert sv_lang._("Report") == "Report"  # untranslated: English
        assert sv_lang.number(1234.5, 1) == f"1{NBSP}234,5"
    finally:
        i18n.available_languages.cache_clear()
        i18n.language.cache_clear()


def test_messages_written_inside_f_strings_are_in_the_catalogues_too():
    """Babel's extractor does not see a call inside an f-string (``f"{lang._('Check:')}"``):
    every literal ``._("...")`` in the code must be in the catalogue all the same."""
    literal = re.compile(r"""\._\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\s*[,)]""")
    found = set()
    for path in (REPO / "src" / "rakennettu").rglob("*.py"):
        for m in literal.finditer(path.read_text(encoding="utf-8")):
            found.add(m.group(1) if m.group(1) is not None else m.group(2))
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in _catalogue("fi") if m.id}
    assert "Check:" in found and len(found) > 50
    assert sorted(found - ids) == []


def test_a_said_message_is_english_text_that_says_itself_in_finnish():
    en, fi = language("en"), language("fi")
    word = i18n.Said("buildings")
    w = i18n.Said(
        "{layer}: {message} (threshold {limit}): {affects}",
        layer=word,
        message="x<y> 'data'",
        limit=i18n.Share(0.004),
        affects=i18n.Said("road"),
    )
    assert w == "buildings: x<y> 'data' (threshold under 1 %): road"
    assert w.in_(en) == w
    # words and numbers in Finnish; text from data as it is
    assert (
        w.in_(fi) == "rakennukset: x<y> 'data' (kynnysarvo alle 1 %). Vaikuttaa: tie- tai rata-alue"
    )
    counts = i18n.Said("{n} {rule}", n=1234, rule=word)
    assert (counts, counts.in_(fi)) == ("1,234 buildings", f"rakennukset 1{NBSP}234")
    rate = i18n.Said("only {v} third places per km²", v=0.0612)
    assert (rate, rate.in_(fi)) == ("only 0.061 third places per km²",
                                   "vain 0,061 kolmatta paikkaa neliökilometrillä")  # fmt: skip
    # through JSON and pickle (Dask) and back
    import json
    import pickle

    again = i18n.Said.from_record(json.loads(json.dumps(w.record())))
    assert again == w and again.in_(fi) == w.in_(fi)
    assert pickle.loads(pickle.dumps(w)).in_(fi) == w.in_(fi)
    # a message without a translation stays English in Finnish (never an error)
    assert i18n.Said("not a catalogue message {n}", n=3).in_(fi) == "not a catalogue message 3"


def test_the_console_says_a_logged_warning_in_the_run_language():
    import logging

    from rakennettu.cli import _Formatter

    said = i18n.Said("the date of the OpenStreetMap data is unknown (no timestamp in the file)")
    record = logging.LogRecord("rakennettu.x", logging.WARNING, __file__, 1, "%s", (said,), None)
    plain = logging.LogRecord("rakennettu.x", logging.WARNING, __file__, 1, "%s", ("a",), None)
    with i18n.speaking(language("fi")):
        line = _Formatter().format(record)
        assert _Formatter().format(plain) == "warning: a"
    assert line == (
        "warning: OpenStreetMap-aineiston päivämäärä ei ole tiedossa (tiedostossa ei ole "
        "aikaleimaa)"
    )
    assert _Formatter().format(record) == f"warning: {said}"  # English outside a Finnish run
    i18n.speak(language("fi"))  # outside a run's block (the Python API): changes nothing
    assert _Formatter().format(record) == f"warning: {said}"
