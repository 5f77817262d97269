"""Untrusted text is data: never template source, never a formula, never a terminal escape.

The end-to-end run of a hostile town is in ``test_hostile_run.py``.

The rule checked on the source tree: nothing in ``src/`` hands a built string (an
f-string, a concatenation, a variable) to something that parses it as a template or as
markup (branca/folium ``Element``, ``Html``, ``Popup``, ``Tooltip``, ``DivIcon``; Jinja2
``Template``, ``from_string``); every Jinja2 ``Environment`` escapes HTML.
"""

from __future__ import annotations

import ast
import csv
import logging
import re
from pathlib import Path

import pandas as pd
import pytest

from outputs_town import CONTROLS, FORMULAS, HOSTILE, hostile_layers
from rakennettu._console import console_text
from rakennettu.batch import write_comparison
from rakennettu.outputs.spreadsheet import spreadsheet_cell, write_csv
from rakennettu.workflow import write_candidates_csv

SRC = Path(__file__).resolve().parent.parent / "src"
# callables whose first argument is template source or markup
PARSERS = {"Element", "Template", "from_string", "Html", "Popup", "Tooltip", "DivIcon",
           "IFrame", "Markup", "MacroElement"}  # fmt: skip
KEYWORDS = {"template", "source", "html", "text", "data"}
# folium/branca classes whose render() re-parses their output (MacroElement and its kin)
MACROS = {"MacroElement", "Layer", "FeatureGroup", "Evented", "Class", "JSCSSMixin", "Map",
          "LayerControl", "TileLayer", "GeoJson", "Marker", "Popup", "Tooltip"}  # fmt: skip
# the base class itself; the map (its options are numbers and fixed words, never data)
TRUSTED = {"_RenderedOnce", "_OfflineMap"}


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _literal(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def template_source_problems(code: str, where: str = "<code>") -> list[str]:
    """Calls that hand a built string to a template or markup parser, and unescaped
    Jinja2 environments, as ``file:line: text`` lines."""
    out = []
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.ClassDef):
            bases = {_name(b) for b in node.bases}
            # branca renders a MacroElement's output a second time, as template source
            if bases & MACROS and not bases & {"_RenderedOnce"} and node.name not in TRUSTED:
                out.append(f"{where}:{node.lineno}: {node.name} is rendered twice by branca")
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        if name in PARSERS:
            args = [*node.args[:1], *(k.value for k in node.keywords if k.arg in KEYWORDS)]
            for arg in args:
                if not _literal(arg):
                    out.append(f"{where}:{node.lineno}: {name}({ast.unparse(arg)[:60]})")
        if name == "Environment":
            auto = [k.value for k in node.keywords if k.arg == "autoescape"]
            if not auto or (isinstance(auto[0], ast.Constant) and auto[0].value is not True):
                out.append(f"{where}:{node.lineno}: Environment without autoescape=True")
    return out


def test_the_checker_finds_template_source_built_from_text():
    bad = (
        'Element(f"<b>{name}</b>")\n'
        "jinja2.Template(page)\n"
        'env.from_string("<p>" + why)\n'
        "folium.Popup(html=text)\n"
        "jinja2.Environment(loader=loader)\n"
        "class Box(MacroElement): pass\n"
    )
    assert sorted(p.split(": ")[0] for p in template_source_problems(bad)) == [
        f"<code>:{i}" for i in range(1, 7)
    ]
    good = 'Template("""{{ this.name }}""")\nEnvironment(autoescape=True)\n_Verbatim(f"{x}")\n'
    good += "class Box(MacroElement, _RenderedOnce): pass\n"
    assert template_source_problems(good) == []


def test_no_text_is_template_source_in_src():
    problems = []
    for path in sorted(SRC.rglob("*.py")):
        where = str(path.relative_to(SRC))
        problems += template_source_problems(path.read_text(encoding="utf-8"), where)
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------- spreadsheets (CSV)


def _read_csv_cells(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _expected_cell(text: str) -> str:
    """What a spreadsheet must be handed for ``text`` (OWASP: quote a formula's start)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r", "\n") else text


@pytest.mark.parametrize("text", [*FORMULAS, "\tTAB", "\r=1+1", "\n=1"], ids=repr)
def test_a_formula_in_text_is_quoted(text, tmp_path):
    frame = pd.DataFrame({"name": [text, "Kirkko"], "value": [-2.5, 3.0]})
    rows = _read_csv_cells(write_csv(frame, tmp_path / "t.csv", index=False))
    assert [r["name"] for r in rows] == ["'" + text, "Kirkko"]
    assert [float(r["value"]) for r in rows] == [-2.5, 3.0]  # numbers stay numbers


@pytest.mark.parametrize("text", ["-2.5", "+1e3", "-7", "Katu -2", "a=b", "'=quoted"], ids=str)
def test_text_that_is_no_formula_is_left_alone(text):
    assert spreadsheet_cell(text) == text


def test_every_csv_is_written_through_the_one_helper():
    writers = [
        f"{p.relative_to(SRC)}:{i}"
        for p in sorted(SRC.rglob("*.py"))
        if p.name != "spreadsheet.py"
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1)
        if ".to_csv(" in line or "csv.writer(" in line
    ]
    assert writers == []


def test_candidates_csv_quotes_hostile_names(tmp_path):
    cands = hostile_layers()["candidates"]
    rows = _read_csv_cells(write_candidates_csv(cands, tmp_path / "candidates.csv"))
    assert [r["candidate_id"] for r in rows] == list(cands.index)
    for col in ("name", "why", "kind", "provenance"):
        assert [r[col] for r in rows] == [_expected_cell(t) for t in cands[col]], col
    assert [float(r["score"]) for r in rows] == pytest.approx(list(cands["score"]))
    assert {r["name"][:2] for r in rows} >= {"'=", "'@", "'+", "'-"}


def test_batch_comparison_csv_quotes_hostile_names(tmp_path):
    table = pd.DataFrame(
        {"title": [FORMULAS[0], "Kotka"], "top1": [FORMULAS[2], FORMULAS[1]],
         "residents": [-1.0, 2.0]},
        index=pd.Index(["=town", "kotka"], name="town"),
    )  # fmt: skip
    rows = _read_csv_cells(write_comparison(table, tmp_path)["comparison_csv"])
    assert [r["town"] for r in rows] == ["'=town", "kotka"]
    assert [r["title"] for r in rows] == ["'" + FORMULAS[0], "Kotka"]
    assert [r["top1"] for r in rows] == ["'" + FORMULAS[2], "'" + FORMULAS[1]]
    assert [r["residents"] for r in rows] == ["-1", "2"]


# ------------------------------------------------------------------ the terminal


def _unsafe(text: str) -> list[str]:
    """Characters a terminal acts on: C0 but LF, DEL, C1, bidi embeddings/overrides/isolates."""
    return [
        c
        for c in text
        if (ord(c) < 32 and c != "\n") or 0x7F <= ord(c) <= 0x9F
        or 0x202A <= ord(c) <= 0x202E or 0x2066 <= ord(c) <= 0x2069
    ]  # fmt: skip


@pytest.mark.parametrize("text", HOSTILE, ids=repr)
def test_console_text_keeps_the_words_and_drops_the_controls(text):
    out = console_text(text)
    assert _unsafe(out) == [] and "\n" not in out
    # what is left reads the same (sequences gone whole, controls gone), nothing added
    words = re.sub(r"\x1b\][^\x07]*\x07|\x1b\[[0-9;]*[A-Za-z]", "", text)
    words = re.sub(r"[\x00-\x1f\x7f\u202a-\u202e\s]", "", words)
    assert re.sub(r"\s", "", out) == words


def test_eight_bit_and_unterminated_sequences_go_too():
    assert console_text("a\x9b31mb\x9d0;title\x9cc\x1b]0;title") == "abc"
    assert console_text("x\x1bcy\x1b(Bz") == "xyz"  # RIS (reset) and a charset switch


def test_a_message_of_several_lines_keeps_its_lines_but_not_a_cr():
    assert console_text("one\r\ntwo\rthree\x1b[A", one_line=False) == "one\ntwo three"


def test_log_warnings_print_a_name_on_its_own_line_only(capsys):
    from rakennettu.cli import _Formatter

    record = logging.LogRecord(
        "rakennettu.x", logging.WARNING, __file__, 1, "site %s: %d buildings", (CONTROLS[2], 3),
        None,
    )  # fmt: skip
    line = _Formatter().format(record)
    assert line == "warning: site «line one 9. C9 FAKE»: 3 buildings"
    record.args, record.msg = (), f"built: {CONTROLS[1]}"  # an f-string message
    assert _Formatter().format(record) == "warning: built: «RED»"
