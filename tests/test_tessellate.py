"""Tests of rakennettu.layers.tessellate: the cells of momepy, identical, on hand-made blocks.

The bundled towns are compared in tests/test_form.py (test_tessellation_matches_momepy).
"""

from __future__ import annotations

import geopandas as gpd
import momepy
import numpy as np
import pytest
import shapely
from shapely import MultiPolygon, box

from rakennettu.layers import tessellate

pytestmark = pytest.mark.filterwarnings(
    "ignore:CRS not set for some of the concatenation inputs:UserWarning"
)

EPSG = 3067

# Six 100 m blocks in a row (x from 0 to 600), and the buildings in them:
BLOCKS = [box(100 * i, 0, 100 * (i + 1), 100) for i in range(6)]
BUILDINGS = [
    # block 0: two houses sharing a wall, a detached one, a shed that vanishes when
    # shrunk by 0.4 m, and a house in two parts
    box(10, 10, 30, 25),
    box(30, 10, 50, 25),
    box(60, 60, 80, 75),
    box(85, 5, 85.6, 5.6),
    MultiPolygon([box(10, 60, 20, 70), box(25, 60, 35, 70)]),
    # block 1 holds one building only
    box(120, 40, 140, 60),
    # block 2 is empty; a hall straddles blocks 3 and 4 (a cell in each), and a house
    # reaches 1 m into block 5, under the 5 % threshold there, which leaves block 5
    # to its one other building
    box(380, 40, 420, 60),
    box(330, 10, 350, 20),
    box(450, 70, 470, 90),
    box(480, 30, 501, 50),
    box(560, 60, 580, 80),
]


def _momepy(buildings: list, blocks: list) -> tuple[list, list, list]:
    """momepy's cells as (building position or -1, block position, WKB), sorted."""
    raw = momepy.enclosed_tessellation(
        gpd.GeoDataFrame(geometry=buildings, crs=EPSG),
        gpd.GeoDataFrame(geometry=blocks, crs=EPSG),
        n_jobs=1,
    )
    building = np.where(raw.index >= 0, raw.index, -1)
    block = raw["enclosure_index"].to_numpy()
    order = np.lexsort((building, block))
    wkb = shapely.to_wkb(raw.geometry.to_numpy()[order]).tolist()
    return building[order].tolist(), block[order].tolist(), wkb


def test_cells_are_momepys_to_the_coordinate() -> None:
    building, block, cells = tessellate.enclosed_cells(
        np.array(BUILDINGS, dtype=object), np.array(BLOCKS, dtype=object)
    )
    theirs = _momepy(BUILDINGS, BLOCKS)
    assert (building.tolist(), block.tolist()) == theirs[:2]
    assert shapely.to_wkb(cells).tolist() == theirs[2]
    # the cases are there: a vanished shed, an empty block, a sliver under the threshold
    assert 3 not in building.tolist()
    assert (-1, 2) in zip(building.tolist(), block.tolist(), strict=True)
    assert block[building == 9].tolist() == [4]
    assert building[block == 5].tolist() == [10]
    assert shapely.equals(cells[block == 5][0], BLOCKS[5])  # one building left: all of it


def test_a_block_of_slivers_only_stays_empty() -> None:
    # two buildings touch the block, each by less than 5 % of its area
    blocks = [box(0, 0, 100, 100), box(100, 0, 200, 100)]
    buildings = [box(60, 10, 101, 30), box(60, 60, 101, 80)]
    building, block, cells = tessellate.enclosed_cells(
        np.array(buildings, dtype=object), np.array(blocks, dtype=object)
    )
    theirs = _momepy(buildings, blocks)
    assert (building.tolist(), block.tolist()) == theirs[:2]
    assert shapely.to_wkb(cells).tolist() == theirs[2]
    assert (-1, 1) in zip(building.tolist(), block.tolist(), strict=True)


def test_batches_largest_first_change_nothing(monkeypatch) -> None:
    # blocks batched a few buildings at a time: the same cells (in worker processes:
    # tests/test_form.py, test_tessellation_on_two_workers_equals_one)
    buildings, blocks = np.array(BUILDINGS, dtype=object), np.array(BLOCKS, dtype=object)
    one = tessellate.enclosed_cells(buildings, blocks)  # one batch of all
    monkeypatch.setattr(tessellate, "BATCH_BUILDINGS", 3)
    sizes = [(0, 5), (3, 2), (4, 1), (5, 1)]
    tasks = tessellate._batches([(e, blocks[e], buildings[:n], np.arange(n)) for e, n in sizes])
    assert [[job[0] for job in task] for task in tasks] == [[0], [3, 4], [5]]
    more = tessellate.enclosed_cells(buildings, blocks)
    assert all(np.array_equal(a, b) for a, b in zip(one[:2], more[:2], strict=True))
    assert shapely.equals_exact(one[2], more[2], tolerance=0).all()


def test_no_buildings_leave_every_block_whole() -> None:
    building, block, cells = tessellate.enclosed_cells(
        np.array([], dtype=object), np.array(BLOCKS[:2], dtype=object)
    )
    assert building.tolist() == [-1, -1] and block.tolist() == [0, 1]
    assert shapely.equals_exact(cells, np.array(BLOCKS[:2]), tolerance=0).all()


def test_lines_are_refused() -> None:
    with pytest.raises(ValueError, match="polygonal footprints only"):
        tessellate.enclosure_cells(
            BLOCKS[0], np.array([box(10, 10, 20, 20), shapely.LineString([(50, 50), (60, 60)])]),
            np.array([0, 1]), threshold=None,
        )  # fmt: skip
