"""Checks, column names and small helpers shared by the cultural layer's modules."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from rakennettu.crs import require_projected
from rakennettu.errors import CRSError
from rakennettu.naming import indicator_name
from rakennettu.network import (
    StreetNetwork,
)

if TYPE_CHECKING:
    pass


F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B8 = npt.NDArray[np.bool_]

# --- column names ------------------------------------------------------------------


def _c(measure: str, radius: float | None = None) -> str:
    return indicator_name("cult", measure, radius)


NEAREST_LANDMARK = _c("nearest_landmark")
NEAREST_THIRD_PLACE = _c("nearest_third_place")
NEAREST_GREEN = _c("nearest_green")
NEAREST_WATER = _c("nearest_water")
LANDMARKS_VISIBLE = _c("landmarks_visible")
LANDMARKS_VISIBLE_WEIGHT = _c("landmarks_visible_weight")
VISIBLE_AREA = _c("landmark_visible_area")
VISIBLE_NODES = _c("landmark_visible_nodes")
EXPOSURE = _c("landmark_exposure")
YEAR = _c("year")
PERIOD = _c("period")
AGE = _c("age")
THIRD_PLACE_DISTANCE = _c("third_place_distance")
RESIDENT_WEIGHT = _c("resident_weight")
NEAR_THIRD_PLACE = _c("near_third_place")
# ---------------------------------------------------------------------------------------
# checks and small helpers
# ---------------------------------------------------------------------------------------


def _check_crs(net: StreetNetwork, **frames: Any) -> None:
    """Every frame in the network's projected CRS, or CRSError naming the culprits."""
    for name, frame in frames.items():
        if frame is None:
            continue
        crs = require_projected(frame.crs, name)
        if crs != net.crs:
            raise CRSError(
                f"{name}: in {crs.to_string()} but the network is in {net.crs.to_string()}; "
                f"reproject with {name}.to_crs(net.crs)"
            )


def _radii(radii: float | Iterable[float]) -> list[int]:
    seq = [radii] if np.ndim(radii) == 0 else list(radii)  # type: ignore[arg-type]
    values = np.atleast_1d(np.asarray(seq, dtype=float))
    if values.size == 0:
        raise ValueError("radii is empty; give at least one radius in metres, e.g. [400, 800]")
    out = sorted({float(r) for r in values.ravel()})
    if any(not (r > 0 and math.isfinite(r) and r.is_integer()) for r in out):
        raise ValueError(f"radii must be positive whole numbers of metres, got {radii!r}")
    return [int(r) for r in out]


def _weights(frame: pd.DataFrame) -> pd.Series:
    if "weight" not in frame:
        return pd.Series(1.0, index=frame.index)
    w = pd.to_numeric(frame["weight"], errors="coerce").astype(float)
    return w.fillna(1.0)


def _numeric(frame: pd.DataFrame, column: str) -> F64:
    if column not in frame:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _in_area(frame: pd.DataFrame) -> B8:
    if "in_area" in frame:
        return frame["in_area"].fillna(False).to_numpy(dtype=bool)
    return np.ones(len(frame), dtype=bool)


def _node_frame(net: StreetNetwork, data: Mapping[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(dict(data), index=net.node_ids.copy())


def _street_tree(net: StreetNetwork) -> tuple[shapely.STRtree, npt.NDArray[Any]]:
    geoms = net.edges.geometry.to_numpy()
    return shapely.STRtree(geoms), geoms
