"""CSV files that a spreadsheet opens as data: no cell from the data runs as a formula.

A spreadsheet (Excel, LibreOffice Calc, Google Sheets) reads a cell that starts with
``=``, ``+``, ``-`` or ``@`` as a formula, so a site or street named
``=HYPERLINK("http://evil.example/x","click")`` would become a live link, and
``+1+cmd|' /C calc'!A0`` a command (CSV injection). Following OWASP's advice, every text
cell that starts with one of ``= + - @``, a tab, a carriage return or a line feed gets a
single quote ``'`` in front: the spreadsheet shows the text as it is (with the quote), and
a program reading the CSV sees the quote and can drop it. Numbers stay numbers: numeric
columns are not touched, and neither is a text that is just a number (``-2.5``, ``+1e3``).

Every CSV the package writes goes through :func:`write_csv`. Its lines end in CR LF (RFC
4180), so that a text holding a line feed or a lone carriage return is quoted and stays in
its cell instead of breaking the row.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

from rakennettu._io import atomic_path

__all__ = ["FORMULA_START", "spreadsheet_cell", "spreadsheet_safe", "write_csv"]

#: A text cell starting with one of these is read as a formula (OWASP, CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def spreadsheet_cell(value: Any) -> Any:
    """A cell's value that no spreadsheet runs as a formula.

    Parameters
    ----------
    value
        Any value; only text is changed.

    Returns
    -------
    Any
        ``"'" + value`` for a text that starts like a formula; ``value`` otherwise.

    Examples
    --------
    >>> print(spreadsheet_cell('=HYPERLINK("http://evil.example/x","click")'))
    '=HYPERLINK("http://evil.example/x","click")
    >>> [spreadsheet_cell(v) for v in ["@SUM(1+1)", "-2+3", "-2.5", "Kirkko", 3.5]]
    ["'@SUM(1+1)", "'-2+3", '-2.5', 'Kirkko', 3.5]
    """
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells (and text index) are :func:`spreadsheet_cell`.

    Examples
    --------
    >>> df = pd.DataFrame({"name": ["=1+1", None], "n": [-1.0, 2.0]}, index=["@a", "b"])
    >>> print(spreadsheet_safe(df).to_csv(), end="")
    ,name,n
    '@a,'=1+1,-1.0
    b,,2.0
    """
    out = frame.copy()
    for col in out.columns:
        if not pd.api.types.is_numeric_dtype(out[col]) and not pd.api.types.is_bool_dtype(out[col]):
            out[col] = out[col].map(spreadsheet_cell, na_action="ignore")
    if not isinstance(out.index, pd.MultiIndex) and not pd.api.types.is_numeric_dtype(out.index):
        out.index = out.index.map(spreadsheet_cell)
    return out


def write_csv(frame: pd.DataFrame, path: str | Path, **options: Any) -> Path:
    """Write ``frame`` as UTF-8 CSV, formula-safe (:func:`spreadsheet_safe`) and atomically.

    Parameters
    ----------
    frame
        The table.
    path
        The target file; replaced only when complete.
    **options
        Passed to :meth:`pandas.DataFrame.to_csv` (``index``, ``float_format``, ...).

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        spreadsheet_safe(frame).to_csv(tmp, encoding="utf-8", lineterminator="\r\n", **options)
    return path
