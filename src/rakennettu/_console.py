"""Text for the terminal: what came from data prints as text, never as a terminal command.

A name in OpenStreetMap or in a planner's file may hold control characters: ESC
sequences that recolour or clear the screen, set the window title or make a hidden link
(OSC 8), a bell, a carriage return that overwrites the line, a line feed that prints a
fake extra line, or a bidirectional override that shows text in another order than it
is. :func:`console_text` removes them all before anything reaches the console.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["console_text"]

# Whole escape sequences first, so that their parameters go with them (ECMA-48):
# OSC/DCS/SOS/PM/APC strings up to their terminator (BEL or ST), CSI sequences, and the
# two- and three-character ESC sequences; both the 7-bit (ESC x) and 8-bit (C1) forms.
_SEQUENCES = re.compile(
    r"(?:\x1b[\]PX^_]|[\x9d\x90\x98\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|\x1b[ -/]*[0-~]?"
)
# What remains: C0 controls but tab and line feed, DEL, C1 controls, and the bidi
# embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069).
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# Line breaks other than LF (a lone CR returns to the start of the line and overwrites it).
_BREAKS = re.compile(r"[\r\u2028\u2029\x85\x0b\x0c]")


def console_text(value: Any, *, one_line: bool = True) -> str:
    r"""``value`` as text that is safe to print on a terminal.

    Escape sequences (CSI, OSC, ...) are removed whole, other control characters and
    bidirectional overrides dropped; a carriage return (but in CR LF), a tab and the
    other line breaks (U+2028, U+2029, NEL, VT, FF) become a space. With
    ``one_line`` (the default) line feeds become spaces too, so a name cannot print a
    line of its own; without it they stay (a multi-line message of the program's own).

    Parameters
    ----------
    value
        Anything; ``str(value)`` is cleaned.
    one_line
        Replace line feeds by spaces.

    Returns
    -------
    str
        The text to print.

    Examples
    --------
    >>> console_text("\x1b[2J\x1b[31mRed\x1b[0m lot")
    'Red lot'
    >>> console_text("\x1b]8;;http://evil.example/\x07Park\x1b]8;;\x07")
    'Park'
    >>> console_text("Lot 1\n9. C9 FAKE")
    'Lot 1 9. C9 FAKE'
    >>> console_text("a\x07b\x7fc\u202ed\u202c")
    'abcd'
    >>> console_text("line one\nline two", one_line=False)
    'line one\nline two'
    """
    text = _SEQUENCES.sub("", str(value)).replace("\r\n", "\n")
    text = _BREAKS.sub(" ", text)
    text = _CONTROLS.sub("", text.replace("\t", " "))
    return text.replace("\n", " ") if one_line else text
