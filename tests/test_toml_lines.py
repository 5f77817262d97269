"""Line numbers of TOML keys (for error messages), checked against tomllib's own reading."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from rakennettu._resources import defaults_path, taxonomy_dir
from rakennettu._toml import find_line, key_lines
from rakennettu.sources.use_table import load_building_use

ROOT = Path(__file__).resolve().parents[1]
FILES = [
    defaults_path(),
    *sorted(taxonomy_dir().glob("*.toml")),
    *sorted((ROOT / "workflows").glob("*.toml")),
    ROOT / "docs" / "example-workflow.toml",
]


def _paths(node: Any, loc: tuple = ()) -> list[tuple]:
    """Every table, array-of-tables entry and key of parsed TOML, as locations."""
    out = []
    if isinstance(node, dict):
        for k, v in node.items():
            out.append((*loc, k))
            out += _paths(v, (*loc, k))
    elif isinstance(node, list) and node and all(isinstance(v, dict) for v in node):
        for i, v in enumerate(node):
            out.append((*loc, i))
            out += _paths(v, (*loc, i))
    return out


def _written_at(line: str, loc: tuple) -> bool:
    """Does this line write the last key of ``loc`` (a key, or a table header naming it)?"""
    name = loc[-1] if isinstance(loc[-1], str) else loc[-2]
    key = rf"(\"{re.escape(name)}\"|'{re.escape(name)}'|{re.escape(name)})"
    return bool(
        re.match(rf"\s*(\[\[?\s*([^\]]*\.)?{key}\s*(\.[^\]]*)?\]\]?|([^=]*\.)?{key}\s*=)", line)
    )


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_every_key_is_found_on_its_own_line(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    lines = key_lines(text)
    rows = text.splitlines()
    checked = 0
    for loc in _paths(data):
        if loc in lines:
            assert _written_at(rows[lines[loc] - 1], loc), (loc, rows[lines[loc] - 1])
            checked += 1
        else:  # inside an inline table or an array: placed at the key that holds it
            parent = find_line(lines, loc)
            assert parent is not None and parent in {
                lines[loc[:k]] for k in range(1, len(loc)) if loc[:k] in lines
            }
    assert checked > 0


def test_array_of_tables_entries_are_counted() -> None:
    text = '[[a]]\nx = 1\n[[a]]\nx = 2\n[a.b]\ny = 3\n[[a]]\n  "q.r" = { z = 1 }\n'
    lines = key_lines(text)
    assert lines[("a", 0, "x")] == 2 and lines[("a", 1, "x")] == 4
    assert lines[("a", 1, "b", "y")] == 6 and lines[("a", 2, "q.r")] == 8
    assert find_line(lines, ("a", 2, "q.r", "z")) == 8


def test_multiline_values_hide_no_keys() -> None:
    text = 'a = [\n  "x = 1",\n  2,\n]\ns = """\nb = 2\n"""\nc = 3\n'
    assert key_lines(text) == {("a",): 1, ("s",): 5, ("c",): 8}


def test_use_table_problem_names_its_line(tmp_path: Path) -> None:
    text = (taxonomy_dir() / "building_use.toml").read_text(encoding="utf-8")
    text = text.replace('office = ["office"]', 'offices = ["office"]', 1)
    line = next(n for n, row in enumerate(text.splitlines(), 1) if row.startswith("offices ="))
    path = tmp_path / "building_use.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(
        Exception, match=rf", line {line}, \[osm\.building\] offices: 'offices' is not a use"
    ):
        load_building_use(path)
