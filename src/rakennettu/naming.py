"""One naming scheme for indicator columns: ``<dimension>_<measure>[_<radius>m]``.

Every indicator that rakennettu writes is named by :func:`indicator_name`, so that a
column's dimension, measure and radius can always be read back by :func:`parse_name`.
"""

from __future__ import annotations

import re
from typing import Literal, NamedTuple

__all__ = [
    "DIMENSIONS",
    "IndicatorDoc",
    "IndicatorName",
    "describe",
    "indicator_name",
    "parse_name",
]

Dimension = Literal["morph", "soc", "cult"]
DIMENSIONS: tuple[Dimension, ...] = ("morph", "soc", "cult")

_MEASURE = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*$")
_NAME = re.compile(r"^(morph|soc|cult)_([a-z0-9_]+?)(?:_(\d+)m)?$")


class IndicatorName(NamedTuple):
    """The parts of an indicator column name."""

    dimension: Dimension
    measure: str
    radius: int | None


def indicator_name(dimension: Dimension, measure: str, radius: float | None = None) -> str:
    """Return the column name of an indicator.

    Parameters
    ----------
    dimension
        ``"morph"``, ``"soc"`` or ``"cult"``.
    measure
        Lower-case words joined by underscores, e.g. ``"harmonic"`` or ``"access_food"``.
    radius
        Network radius in metres, or None for measures without a radius. Must be a
        whole number of metres.

    Returns
    -------
    str
        For example ``"morph_harmonic_800m"``.

    Examples
    --------
    >>> indicator_name("soc", "access_food", 800)
    'soc_access_food_800m'
    >>> indicator_name("morph", "coverage")
    'morph_coverage'
    """
    if dimension not in DIMENSIONS:
        raise ValueError(f"dimension must be one of {DIMENSIONS}, got {dimension!r}")
    if not _MEASURE.match(measure):
        raise ValueError(f"measure must be lower-case words joined by '_', got {measure!r}")
    if radius is None:
        return f"{dimension}_{measure}"
    if float(radius) != int(radius) or radius <= 0:
        raise ValueError(f"radius must be a positive whole number of metres, got {radius!r}")
    return f"{dimension}_{measure}_{int(radius)}m"


def parse_name(name: str) -> IndicatorName:
    """Split an indicator column name into dimension, measure and radius.

    Examples
    --------
    >>> parse_name("morph_betweenness_400m")
    IndicatorName(dimension='morph', measure='betweenness', radius=400)
    >>> parse_name("cult_building_age_median")
    IndicatorName(dimension='cult', measure='building_age_median', radius=None)
    """
    m = _NAME.match(name)
    if not m:
        raise ValueError(f"{name!r} is not an indicator name like 'morph_harmonic_800m'")
    dim, measure, radius = m.groups()
    return IndicatorName(dim, measure, int(radius) if radius else None)  # type: ignore[arg-type]


class IndicatorDoc(NamedTuple):
    """The documentation of one indicator measure, kept next to the code that computes it.

    Each layer module lists its measures in a module-level ``INDICATORS`` tuple; the
    indicator reference (``docs/indicators.md``) is generated from them and a test checks
    that every column a run writes is documented.

    Attributes
    ----------
    dimension
        ``"morph"``, ``"soc"`` or ``"cult"``.
    measure
        The measure as in the column name; ``{category}`` stands for a category id, e.g.
        ``"access_{category}"``.
    per_radius
        Whether the column carries a radius suffix (``_800m``).
    unit
        Unit of the values, e.g. ``"m"``, ``"m²"``, ``"count"``, ``"1/m"``, ``"share 0-1"``.
    definition
        One or two sentences: what it measures and how.
    source
        The data it comes from (OSM tags, taxonomy table, municipal layer role).
    level
        The rows it is computed for: ``"node"`` (street nodes, and the analysis hexagons
        that take their values), ``"edge"``, ``"building"``, ``"tessellation"``,
        ``"enclosure"``, ``"hex"`` (measured on the analysis hexagons themselves),
        ``"landmark"``, ``"raster"``.
    """

    dimension: Dimension
    measure: str
    per_radius: bool
    unit: str
    definition: str
    source: str
    level: str = "node"

    def pattern(self) -> re.Pattern[str]:
        """A regular expression matching the columns of this measure."""
        measure = re.escape(self.measure).replace(r"\{category\}", "[a-z0-9_]+")
        radius = r"_\d+m" if self.per_radius else ""
        return re.compile(rf"^{self.dimension}_{measure}{radius}$")


def describe(column: str, docs: tuple[IndicatorDoc, ...]) -> IndicatorDoc | None:
    """The documentation entry that matches a column name, if any.

    Examples
    --------
    >>> doc = IndicatorDoc("soc", "access_{category}", True, "count", "...", "...")
    >>> describe("soc_access_food_drink_800m", (doc,)).unit
    'count'
    >>> describe("soc_access_food_drink", (doc,)) is None
    True
    """
    for doc in docs:
        if doc.pattern().match(column):
            return doc
    return None
