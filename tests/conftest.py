"""Fixtures shared by the test modules."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# ../shared/data beside the clone, or wherever RAKENNETTU_SHARED_DATA points.
SHARED_DATA = Path(
    os.environ.get(
        "RAKENNETTU_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"
    )
)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared test data folder; skips the test when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(
            f"shared test data not found at {SHARED_DATA}: place the shared data folder "
            "beside the clone (../shared/data) or set RAKENNETTU_SHARED_DATA"
        )
    return SHARED_DATA
