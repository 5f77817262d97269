"""The sea from coastline ways (land on the left, water on the right: OSM wiki), by hand."""

from __future__ import annotations

import logging

import geopandas as gpd
import pytest
from shapely import LineString, box

from rakennettu.sources.basemap import sea

EXTENT = box(0, 0, 100, 100)


def _coast(*lines: LineString) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": [None] * len(lines), "tags": [{"natural": "coastline"}] * len(lines)},
        geometry=list(lines),
        crs=3067,
    )


@pytest.mark.parametrize(
    ("line", "area"),
    [
        (LineString([(60, -5), (60, 105)]), 40 * 100),  # crosses the extent: east of x = 60
        (LineString([(60, 105), (60, -5)]), 60 * 100),  # drawn south: the sea is west
        # cut by the extract 3 m short of each edge (segments 47 m): joined to the edges
        (LineString([(60, 3), (60, 50), (60, 97)]), 40 * 100),
    ],
    ids=["north", "south", "cut-short"],
)
def test_the_sea_is_on_the_right_of_the_coastline(line, area):
    s = sea(_coast(line), EXTENT)
    assert float(s.area.sum()) == pytest.approx(area, rel=1e-3)


def test_an_island_ring_is_land_inside_the_sea():
    shore = LineString([(60, -5), (60, 105)])
    island = LineString([(70, 40), (80, 40), (80, 50), (70, 50), (70, 40)])  # anticlockwise
    s = sea(_coast(shore, island), EXTENT)
    assert float(s.area.sum()) == pytest.approx(40 * 100 - 100)


def test_short_pieces_at_the_edge_make_no_wedges():
    """Two short quay pieces near the east edge (the central Helsinki case): the sea is
    the slivers between them and the edge, not wedges carried across the map."""
    a = LineString([(96, 10), (95, 20), (96, 30)])  # each end 4-5 m from x = 100
    b = LineString([(97, 60), (96, 70)])
    s = sea(_coast(a, b), EXTENT, box=box(-10, -10, 110, 110))
    assert s.total_bounds[0] >= 95 and float(s.area.sum()) < 5 * 30 + 4 * 10


def test_a_piece_ending_far_inside_is_a_gap_left_out_with_a_warning(caplog):
    gap = LineString([(60, -5), (60, 20), (60, 35), (60, 50)])  # ends 40 m in; segments <= 25 m
    with caplog.at_level(logging.WARNING, logger="rakennettu.sources.basemap"):
        s = sea(_coast(gap), EXTENT)
    assert s.empty
    assert "1 coastline piece(s) end inside the loaded area" in caplog.text
