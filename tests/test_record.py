"""The run record: plain JSON that round-trips, hashes of the inputs, versions, errors."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from outputs_town import tiny_record
from rakennettu import bundled_workflow, load_workflow
from rakennettu.errors import SourceError
from rakennettu.outputs.record import (
    SCHEMA,
    collect_warnings,
    read_record,
    run_record,
    sensitivity_frame,
    write_record,
)


def test_round_trip(tmp_path):
    rec = tiny_record()
    back = read_record(write_record(rec, tmp_path / "run.json"))
    assert back == rec
    assert back["schema"] == SCHEMA


def test_sensitivity_table_round_trips(tmp_path):
    sens = pd.DataFrame(
        {"rank": [1, 2], "rank_without_morph": [2, 1]}, index=pd.Index(["C7", "C3"])
    )
    sens.loc["kept_in_top"] = [2, 2]
    back = read_record(write_record(run_record(sensitivity=sens), tmp_path / "run.json"))
    pd.testing.assert_frame_equal(sensitivity_frame(back), sens)
    assert sensitivity_frame(run_record()) is None


def test_the_resolved_workflow_and_the_town():
    wf = load_workflow(bundled_workflow("kotka-karhula"))
    rec = run_record(workflow=wf, area_km2=4.89, crs="EPSG:3067")
    assert rec["workflow"] == json.loads(json.dumps(wf.model_dump(mode="json")))
    assert rec["workflow"]["network"]["radii"] == [400, 800, 1200]
    assert rec["town"] == {"name": "kotka-karhula", "title": "Kotka, Karhula",
                           "area_km2": 4.89, "crs": "EPSG:3067"}  # fmt: skip
    assert rec["workflow_file"].endswith("kotka-karhula.toml")


def test_versions_of_the_stack():
    rec = run_record()
    assert rec["rakennettu"]
    for name in ("numpy", "geopandas", "folium", "matplotlib"):
        assert rec["versions"][name], name
    assert set(rec["libraries"]) == {"GEOS", "PROJ", "GDAL"}


def test_input_files_are_hashed_once(tmp_path):
    f = tmp_path / "extract.osm.pbf"
    f.write_bytes(b"not really a pbf")
    rec = run_record(
        inputs={"osm": f},
        sources=[
            {"role": "osm", "source": str(f), "licence": "ODbL"},
            {"role": "heritage", "source": "https://example.org/wfs"},  # not a file
        ],
    )
    assert rec["inputs"] == [
        {"name": "osm", "path": str(f.resolve()), "bytes": 16,
         "sha256": hashlib.sha256(b"not really a pbf").hexdigest()}
    ]  # fmt: skip


def test_values_become_plain_json():
    rec = run_record(
        timings={"load": np.float64(1.5), "bad": float("nan")},
        counts={"cells": np.int64(537)},
        stability=np.float32(0.5),
        created=dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        extra={"paths": [Path("/a")], "kinds": {"b", "a"}},
    )
    assert rec["timings_s"] == {"load": 1.5, "bad": None}
    assert rec["counts"] == {"cells": 537} and type(rec["counts"]["cells"]) is int
    assert rec["created"] == "2025-01-02T03:04:05+00:00"
    assert rec["paths"] == ["/a"] and rec["kinds"] == ["a", "b"]
    json.dumps(rec, allow_nan=False)


def test_reading_errors_say_what_to_do(tmp_path):
    with pytest.raises(SourceError, match="no run record here; run the workflow first"):
        read_record(tmp_path / "run.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(SourceError, match="not a readable run record"):
        read_record(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text('{"a": 1}')
    with pytest.raises(SourceError, match="not a rakennettu run record"):
        read_record(tmp_path / "other.json")


def test_write_record_replaces_the_file_atomically(tmp_path, monkeypatch):
    path = write_record(run_record(counts={"cells": 1}), tmp_path / "run.json")
    before = path.read_bytes()

    def dies(self, text, *args, **kwargs):
        Path.write_bytes(self, text[:10].encode())
        raise KeyboardInterrupt

    monkeypatch.setattr(Path, "write_text", dies)
    with pytest.raises(KeyboardInterrupt):
        write_record(run_record(counts={"cells": 2}), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]


def test_collect_warnings_of_the_package_only():
    before = list(logging.getLogger("rakennettu").handlers)
    with collect_warnings() as caught:
        logging.getLogger("rakennettu.town").warning("12 sites have no street within %d m", 100)
        logging.getLogger("rakennettu.town").info("not a warning")
        logging.getLogger("somebody.else").warning("not ours")
    assert caught == ["rakennettu.town: 12 sites have no street within 100 m"]
    assert logging.getLogger("rakennettu").handlers == before


def test_python_warnings_are_recorded_once_with_their_module(capfd):
    import warnings

    momepy = "/venv/lib/python3.11/site-packages/momepy/functional/_elements.py"
    with warnings.catch_warnings():
        warnings.simplefilter("always")  # the suite turns warnings into errors; a run does not
        with collect_warnings() as caught:
            for _ in range(3):
                warnings.warn_explicit("The tessellation is not complete", UserWarning, momepy, 10)
                with np.errstate(invalid="warn"):
                    np.log(np.array([-1.0]))
    assert len(caught) == 2  # each distinct warning once
    assert caught[0] == (
        "rakennettu.warnings: UserWarning (momepy.functional._elements, _elements.py:10): "
        "The tessellation is not complete"
    )
    assert caught[1].startswith("rakennettu.warnings: RuntimeWarning (test_record, ")
    assert caught[1].endswith("): invalid value encountered in log")
    assert "UserWarning: The tessellation" not in capfd.readouterr().err


def test_warning_filters_still_apply_inside_the_collection():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with collect_warnings(), pytest.raises(UserWarning):
            warnings.warn("still an error", UserWarning, stacklevel=1)
