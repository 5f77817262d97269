"""Untrusted text is data: never template source, never a formula, never a terminal escape.

The rule checked on the source tree: nothing in ``src/`` hands a built string (an
f-string, a concatenation, a variable) to something that parses it as a template or as
markup (branca/folium ``Element``, ``Html``, ``Popup``, ``Tooltip``, ``DivIcon``; Jinja2
``Template``, ``from_string``); every Jinja2 ``Environment`` escapes HTML.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
# callables whose first argument is template source or markup
PARSERS = {"Element", "Template", "from_string", "Html", "Popup", "Tooltip", "DivIcon",
           "IFrame", "Markup", "MacroElement"}  # fmt: skip
KEYWORDS = {"template", "source", "html", "text", "data"}
# folium/branca classes whose render() re-parses their output (MacroElement and its kin)
MACROS = {"MacroElement", "Layer", "FeatureGroup", "Evented", "Class", "JSCSSMixin", "Map"}
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
