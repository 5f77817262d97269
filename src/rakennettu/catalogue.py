"""The catalogue of every indicator rakennettu computes, and its reference page.

Each layer lists its measures beside the code that computes them (an ``INDICATORS``
tuple of :class:`~rakennettu.naming.IndicatorDoc`); this module gathers them, finds the
entry of any output column, and writes ``docs/indicators.md``::

    python -m rakennettu.catalogue > docs/indicators.md
"""

from __future__ import annotations

import sys

from rakennettu.layers.cultural import INDICATORS as CULTURAL
from rakennettu.layers.morphology import INDICATORS as MORPHOLOGICAL
from rakennettu.layers.social import INDICATORS as SOCIAL
from rakennettu.naming import DIMENSIONS, IndicatorDoc, describe
from rakennettu.synthesis.units import HEX_INDICATORS

__all__ = ["INDICATORS", "lookup", "markdown"]

#: Every indicator, all dimensions and levels.
INDICATORS: tuple[IndicatorDoc, ...] = MORPHOLOGICAL + HEX_INDICATORS + SOCIAL + CULTURAL

_TITLES = {"morph": "Morphological", "soc": "Social", "cult": "Cultural"}


def lookup(column: str, *, level: str | None = None) -> IndicatorDoc | None:
    """The entry of an output column, optionally at one level (``"node"``, ``"hex"`` ...).

    Examples
    --------
    >>> lookup("soc_access_food_drink_800m").unit
    'decay-weighted count'
    >>> lookup("morph_far", level="hex").unit
    'm²/m²'
    """
    docs = INDICATORS if level is None else tuple(d for d in INDICATORS if d.level == level)
    return describe(column, docs)


def markdown() -> str:
    """The indicator reference as Markdown (``docs/indicators.md``)."""
    lines = [
        "# Indicators",
        "",
        "Generated from the `INDICATORS` lists in the code by "
        "`python -m rakennettu.catalogue > docs/indicators.md`; a test keeps it current.",
        "",
        "Columns are named `<dimension>_<measure>` or `<dimension>_<measure>_<R>m` for a "
        "network radius R in metres; `{category}` stands for a category id of the tag "
        "tables in `data/taxonomy/`. Node measures reach the analysis hexagons from the "
        "street nodes in them (see `rakennettu.synthesis.units`). All values are raw, "
        "with units; scores are derived from them.",
        "",
    ]
    for dim in DIMENSIONS:
        lines += [f"## {_TITLES[dim]}", ""]
        lines += ["| column | level | unit | definition | source |", "|---|---|---|---|---|"]
        for d in INDICATORS:
            if d.dimension != dim:
                continue
            col = f"{d.dimension}_{d.measure}" + ("_<R>m" if d.per_radius else "")
            text = d.definition.replace("|", "\\|")
            lines.append(f"| `{col}` | {d.level} | {d.unit} | {text} | {d.source} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    sys.stdout.write(markdown())
