"""Reading the package's TOML files (workflows, tag tables) with line numbers for errors.

Python's :mod:`tomllib` returns plain data without positions. :func:`key_lines` reads the
text once more and records the line of every table header and key, by the same path a
pydantic error gives as its location (``("category", 2, "rules", "cafe")``), so that a
validation problem can say where it is: ``activities.toml, line 41, ...``.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from rakennettu.errors import ConfigError, SourceError

__all__ = ["Loc", "find_line", "key_lines", "read_toml"]

#: A location in a TOML document: table names, keys and array indexes (0-based).
Loc = tuple[str | int, ...]

_BARE = re.compile(r"[A-Za-z0-9_-]+")


def read_toml(path: Path, what: str) -> tuple[dict[str, Any], str]:
    r"""Read a TOML file; return its data and its text.

    Parameters
    ----------
    path
        The file.
    what
        What the file is, for the messages (``"workflow file"``, ``"taxonomy table"``).

    Raises
    ------
    SourceError
        The file is missing or cannot be read.
    ConfigError
        The file is not valid UTF-8 or not valid TOML; the message says where.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.toml"
    >>> _ = p.write_text('[a]\nb = 1\n', encoding="utf-8")
    >>> read_toml(p, "table")
    ({'a': {'b': 1}}, '[a]\nb = 1\n')
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SourceError(f"{path}: {what} not found") from None
    except OSError as e:
        raise SourceError(f"{path}: cannot read {what}: {e}") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: cannot read {what}: {e}") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as e:
        msg = str(e)
        if msg.startswith("Cannot overwrite a value") or "Cannot declare" in msg:
            msg = f"a key or table is given twice ({msg})"
        raise ConfigError(f"{path}: not valid TOML: {msg}") from None


def _split_key(text: str) -> list[str]:
    """Split a dotted TOML key (``a."b.c".d``) into its parts, quotes removed."""
    parts: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in " \t.":
            i += 1
        elif ch in "\"'":
            end = text.find(ch, i + 1)
            end = n if end < 0 else end
            parts.append(text[i + 1 : end])
            i = end + 1
        else:
            m = _BARE.match(text, i)
            if not m:
                break
            parts.append(m.group())
            i = m.end()
    return parts


def _key_end(line: str) -> int:
    """Index of the ``=`` that ends the key of a key line, or -1 (quotes respected)."""
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == "=":
            return i
        elif ch == "#":
            return -1
    return -1


def _open_brackets(value: str) -> int:
    """Net count of ``[``/``{`` opened by a value (strings and comments skipped)."""
    depth, quote = 0, ""
    for ch in value:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            break
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
    return depth


def key_lines(text: str) -> dict[Loc, int]:
    r"""The line (1-based) of every table header and key of a TOML text, by location.

    An array of tables (``[[category]]``) counts its entries: the third ``[[category]]``
    is ``("category", 2)``. A key inside an inline table or a multi-line array is placed
    at the line of the key that holds it.

    Examples
    --------
    >>> lines = key_lines('[table]\nx = 1\n[[cat]]\nid = "a"\n[[cat]]\nid = "b"\n'
    ...                   '[cat.rules]\ncafe = { match = "amenity=cafe" }\n')
    >>> lines[("table", "x")], lines[("cat", 1)], lines[("cat", 1, "rules", "cafe")]
    (2, 5, 8)
    """
    out: dict[Loc, int] = {}
    table: Loc = ()
    counts: dict[Loc, int] = {}
    depth, in_string = 0, False
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if in_string:  # inside a multi-line string: nothing here is a key
            in_string = line.count('"""') % 2 == 0 and line.count("'''") % 2 == 0
            continue
        if depth > 0:
            depth += _open_brackets(line)
            continue
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            array = line.startswith("[[")
            inner = line[2 : line.find("]]")] if array else line[1 : line.find("]")]
            table = _resolve(_split_key(inner), counts, array)
            for k in range(1, len(table) + 1):  # and the tables it implies, where first named
                out.setdefault(table[:k], n)
            continue
        end = _key_end(line)
        if end < 0:
            continue
        out.setdefault((*table, *_split_key(line[:end])), n)
        value = line[end + 1 :]
        in_string = (value.count('"""') % 2 == 1) or (value.count("'''") % 2 == 1)
        depth = max(0, _open_brackets(value))
    return out


def _resolve(names: list[str], counts: dict[Loc, int], array: bool) -> Loc:
    """The location of a header: earlier arrays of tables on its path get their index."""
    loc: Loc = ()
    for i, name in enumerate(names):
        loc = (*loc, name)
        last = i == len(names) - 1
        if last and array:
            counts[loc] = counts.get(loc, -1) + 1
            loc = (*loc, counts[loc])
        elif loc in counts:
            loc = (*loc, counts[loc])
    return loc


def find_line(text: str | dict[Loc, int], loc: Loc) -> int | None:
    r"""The line of a location, or of its nearest enclosing table or key that is written.

    Parameters
    ----------
    text
        The TOML text, or its :func:`key_lines`.
    loc
        A location, as in a pydantic error (``("network", "radii", 0)``).

    Returns
    -------
    int or None
        1-based line; None when nothing on the path is written (e.g. a key missing from
        the top level).

    Examples
    --------
    >>> text = '[network]\nradii = [400, 800]\n'
    >>> find_line(text, ("network", "radii", 1)), find_line(text, ("network", "speed"))
    (2, 1)
    >>> find_line(text, ("outputs", "map")) is None
    True
    """
    lines = key_lines(text) if isinstance(text, str) else text
    for k in range(len(loc), 0, -1):
        if loc[:k] in lines:
            return lines[loc[:k]]
    return None
