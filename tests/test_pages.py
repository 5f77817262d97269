"""The pages of a run, and rebuilding them from an output folder without recomputing."""

from __future__ import annotations

import json
import re
import signal

import geopandas as gpd
import pytest

from outputs_town import tiny_layers, tiny_record
from rakennettu.errors import SourceError
from rakennettu.outputs import pages
from rakennettu.outputs._aside import Aside
from rakennettu.outputs.gpkg import write_gpkg
from rakennettu.outputs.pages import rebuild, write_pages
from rakennettu.outputs.record import write_record


@pytest.fixture
def out_dir(tmp_path):
    write_gpkg(tiny_layers(), tmp_path / "vitality.gpkg")
    write_record(tiny_record(), tmp_path / "run.json")
    return tmp_path


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory):
    """An output folder of the tiny town, its pages rebuilt from it: (folder, pages)."""
    folder = tmp_path_factory.mktemp("rebuilt")
    write_gpkg(tiny_layers(), folder / "vitality.gpkg")
    write_record(tiny_record(), folder / "run.json")
    return folder, rebuild(folder)


def test_rebuild_writes_both_pages_from_the_folder(rebuilt):
    out_dir, files = rebuilt
    assert files == {"map": out_dir / "map.html", "report": out_dir / "report.html"}
    page = files["map"].read_text()
    assert page.count('"r":') == 5  # every ranked site has its number, read back from file
    assert "<h1>Tiny town</h1>" in files["report"].read_text()


def test_rebuild_matches_writing_from_memory(rebuilt, tmp_path_factory):
    # the maps are compared (so the report is not written here)
    direct = write_pages(
        tiny_layers(), tiny_record(), tmp_path_factory.mktemp("direct"), report=False
    )
    numbers = re.compile(r"\d+(\.\d+)?")
    a, b = (numbers.sub("#", f["map"].read_text()) for f in (direct, rebuilt[1]))
    assert a == b  # the same page up to float text (the file round trip)


@pytest.mark.parametrize(
    ("missing", "message"),
    [("vitality.gpkg", "not found; point to a run's output folder"),
     ("run.json", "no run record here")],
    ids=["gpkg", "record"],
)  # fmt: skip
def test_rebuild_says_what_is_missing(out_dir, missing, message):
    (out_dir / missing).unlink()
    with pytest.raises(SourceError, match=message):
        rebuild(out_dir)


def test_the_pages_of_a_run_show_its_possibly_unmapped_blocks(tmp_path):
    """The run's layer of blocks left out as probably unmapped reaches both pages: a layer
    on the map and a row in the report (write_pages passes on only the layers the pages
    draw, and this one was left out)."""
    from shapely import box

    from outputs_town import X0, Y0

    layers = tiny_layers()
    crs = layers["cells"].crs
    gaps = gpd.GeoDataFrame(
        {"reason": ["«gap»"], "district": ["Ankkalinna"], "provenance": ["osm"]},
        geometry=[box(X0 + 10, Y0 + 10, X0 + 60, Y0 + 40)], crs=crs,
    )  # fmt: skip
    files = write_pages({**layers, "possibly_unmapped": gaps}, tiny_record(), tmp_path)
    assert "Possibly unmapped blocks" in files["map"].read_text()
    report = files["report"].read_text()
    assert "«gap»" in report and "Ankkalinna" in report


def test_the_map_drawn_in_a_second_process_is_the_same_page(tmp_path, monkeypatch):
    """A large town's map is drawn in a second process while the report is drawn here
    (``ASIDE_FROM``): the same map, byte for byte, as drawn in this process."""
    here = write_pages(tiny_layers(), tiny_record(), tmp_path / "here", report=False)
    monkeypatch.setattr(pages, "ASIDE_FROM", 0)
    monkeypatch.setattr(pages.os, "sched_getaffinity", lambda _: {0, 1})  # even on one core
    monkeypatch.setattr(pages, "_running", lambda: 1)  # and on a busy machine
    aside = write_pages(tiny_layers(), tiny_record(), tmp_path / "aside")
    assert aside == {"map": tmp_path / "aside/map.html", "report": tmp_path / "aside/report.html"}
    assert aside["map"].read_bytes() == here["map"].read_bytes()


def test_an_error_in_the_second_process_is_raised_in_the_first():
    with Aside() as aside:
        aside.call(json.loads, "{")
        with pytest.raises(json.JSONDecodeError, match="line 1"):
            aside.result()


def test_an_error_in_the_report_ends_the_maps_process(tmp_path, monkeypatch):
    """A failed (or interrupted) report ends the map's process before the error goes on
    (the output folder is then discarded: nothing may write into it afterwards)."""
    import rakennettu.outputs.report as report_module

    def broken(*args, **kwargs):
        raise ValueError("the report broke")

    monkeypatch.setattr(pages, "ASIDE_FROM", 0)
    monkeypatch.setattr(pages.os, "sched_getaffinity", lambda _: {0, 1})
    monkeypatch.setattr(pages, "_running", lambda: 1)
    monkeypatch.setattr(report_module, "build_report", broken)
    started = []

    class Recorded(Aside):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            started.append(self)

    monkeypatch.setattr(pages, "Aside", Recorded)
    with pytest.raises(ValueError, match="the report broke"):
        write_pages(tiny_layers(), tiny_record(), tmp_path)
    assert [a._proc.returncode for a in started] == [-signal.SIGTERM]  # ended, not waited for
    assert not (tmp_path / "map.html").exists()


@pytest.mark.parametrize(
    ("size", "cores", "running", "aside"),
    [(0, 2, 1, True), (0, 2, 2, False), (0, 1, 1, False), (10**9, 2, 1, False),
     (0, 4, 3, True)],
    ids=["large-idle", "busy", "one-core", "small", "four-cores-two-busy"],
)  # fmt: skip
def test_the_map_is_drawn_aside_only_for_a_large_town_with_an_idle_core(
    monkeypatch, size, cores, running, aside
):
    monkeypatch.setattr(pages, "ASIDE_FROM", size)
    monkeypatch.setattr(pages.os, "sched_getaffinity", lambda _: set(range(cores)))
    monkeypatch.setattr(pages, "_running", lambda: running)
    assert pages._draw_aside(tiny_layers()) is aside
