"""Checks and small helpers shared by the social layer's modules."""

from __future__ import annotations

import math
import re
from collections.abc import Hashable, Iterable
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from rakennettu.crs import require_projected
from rakennettu.errors import CRSError
from rakennettu.network import StreetNetwork

if TYPE_CHECKING:
    pass


F64 = npt.NDArray[np.float64]

_CATEGORY_ID = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*$")
_TOTAL = "total"
# ------------------------------------------------------------------------- helpers


def _check_radii(radii: float | Iterable[float]) -> list[int]:
    values = [radii] if np.isscalar(radii) else list(radii)  # type: ignore[arg-type]
    if not values:
        raise ValueError("radii is empty; give at least one radius in metres, e.g. [400, 800]")
    out: list[int] = []
    for r in values:
        if not (isinstance(r, int | float | np.integer | np.floating) and math.isfinite(r)):
            raise ValueError(f"radii must be whole numbers of metres, got {values!r}")
        if r <= 0 or float(r) != int(r):
            raise ValueError(
                f"radii must be positive whole numbers of metres (they name columns, "
                f"e.g. soc_count_total_800m), got {values!r}"
            )
        out.append(int(r))
    return sorted(set(out))


def _check_positive(value: float, name: str, unit: str = "m") -> float:
    if not (isinstance(value, int | float | np.integer | np.floating) and value > 0):
        raise ValueError(f"{name} must be a positive number ({unit}), got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite ({unit}), got {value!r}")
    return float(value)


def _check_network_crs(net: StreetNetwork, crs: Any, what: str) -> None:
    parsed = require_projected(crs, what)
    if parsed != net.crs:
        raise CRSError(
            f"{what}: CRS {parsed.to_string()} is not the network's ({net.crs.to_string()}); "
            "reproject with .to_crs(net.crs)"
        )


def _points_of(geometry: gpd.GeoSeries) -> gpd.GeoSeries:
    """Points as they are; polygons and lines by a representative point; None kept."""
    geoms = geometry.to_numpy()
    out = geoms.copy()
    todo = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    todo &= shapely.get_type_id(geoms) != 0
    if todo.any():
        out[todo] = shapely.point_on_surface(geoms[todo])
    return gpd.GeoSeries(out, index=geometry.index, crs=geometry.crs)


def _per_row(values: Any, index: pd.Index, what: str, dtype: Any = np.float64) -> np.ndarray:
    """Values aligned to ``index``: a Series (reindexed, all labels required) or array."""
    if isinstance(values, pd.Series):
        if not values.index.equals(index):
            missing = index.difference(values.index)
            if len(missing):
                raise KeyError(
                    f"{what} has no value for {len(missing)} rows (e.g. {list(missing[:3])})"
                )
            if values.index.has_duplicates:
                raise ValueError(f"{what}: its index repeats labels; pass it in row order")
            values = values.reindex(index)
        return values.to_numpy(dtype=dtype)
    arr = np.asarray(values, dtype=dtype)
    if arr.shape != (len(index),):
        raise ValueError(f"{what} must have one value per row ({len(index)}), got {arr.shape}")
    return arr


def _measure_part(label: Hashable, what: str) -> str:
    text = str(label)
    if not _CATEGORY_ID.match(text):
        raise ValueError(
            f"{what} {label!r} cannot name a column: use lower-case words joined by '_' "
            "(recode it, e.g. values.category in the workflow's [[layers]] entry)"
        )
    if text == _TOTAL:
        raise ValueError(f"{what} may not be called {_TOTAL!r}; that name is the total")
    return text
