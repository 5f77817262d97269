"""The pages of a run, and rebuilding them from an output folder without recomputing."""

from __future__ import annotations

import re

import pytest

from outputs_town import tiny_layers, tiny_record
from rakennettu.errors import SourceError
from rakennettu.outputs.gpkg import write_gpkg
from rakennettu.outputs.pages import rebuild, write_pages
from rakennettu.outputs.record import write_record


@pytest.fixture
def out_dir(tmp_path):
    write_gpkg(tiny_layers(), tmp_path / "vitality.gpkg")
    write_record(tiny_record(), tmp_path / "run.json")
    return tmp_path


def test_rebuild_writes_both_pages_from_the_folder(out_dir):
    files = rebuild(out_dir)
    assert files == {"map": out_dir / "map.html", "report": out_dir / "report.html"}
    page = files["map"].read_text()
    assert page.count('"r":') == 5  # every ranked site has its number, read back from file
    assert "<h1>Tiny town</h1>" in files["report"].read_text()


def test_rebuild_matches_writing_from_memory(out_dir, tmp_path_factory):
    direct = write_pages(tiny_layers(), tiny_record(), tmp_path_factory.mktemp("direct"))
    rebuilt = rebuild(out_dir)
    numbers = re.compile(r"\d+(\.\d+)?")
    a, b = (numbers.sub("#", f["map"].read_text()) for f in (direct, rebuilt))
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
