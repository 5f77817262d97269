"""The stage cache (rakennettu.cache): exact round trips, keys, corrupt entries, races."""

from __future__ import annotations

import logging

import geopandas as gpd
import geopandas.testing
import numpy as np
import pandas as pd
import pytest
import shapely

from rakennettu import bundled_workflow, load_workflow
from rakennettu.cache import StageCache, stage_key, town_key
from rakennettu.workflow import STAGES


def _frames():
    nodes = gpd.GeoDataFrame(
        {
            "morph_harmonic_800m": [0.1, np.nan, -0.0],
            "kind": pd.Categorical(["a", "b", "a"], categories=["b", "a"], ordered=True),
            "n": pd.array([1, None, 3], dtype="Int64"),
        },
        geometry=[shapely.Point(1, 2), shapely.Point(3.000000000001, 4), None],
        index=pd.Index([10, 20, 30], name="node_id"),
        crs=3067,
    )
    edges = pd.DataFrame(
        {"length": [1.5, 2.25]},
        index=pd.MultiIndex.from_tuples([(1, 2, 0), (2, 3, 0)], names=["u", "v", "key"]),
    )
    # lists of geometries do not go to Parquet: this table stays in the pickle
    links = pd.DataFrame({"links": [[shapely.LineString([(0, 0), (0, 5)])], []]})
    return nodes, edges, links


def test_a_result_reads_back_identical_with_its_tables_as_parquet(tmp_path):
    nodes, edges, links = _frames()
    cache = StageCache(tmp_path)
    value = {"nodes": nodes, "edges": edges, "links": links, "figures": {"n": 3}}
    cache.get_or_compute("demo", "k", lambda: value)
    entry = cache.path("demo", "k")
    assert sorted(p.name for p in entry.iterdir()) == [
        "entry.pickle",
        "table-0.parquet",
        "table-1.parquet",
    ]
    assert gpd.read_parquet(entry / "table-0.parquet").crs == nodes.crs  # GeoParquet

    back = StageCache(tmp_path).get_or_compute("demo", "k", lambda: pytest.fail("recomputed"))
    geopandas.testing.assert_geodataframe_equal(back["nodes"], nodes, check_less_precise=False)
    assert list(back["nodes"].geometry.to_wkb()) == list(nodes.geometry.to_wkb())
    pd.testing.assert_frame_equal(back["edges"], edges, check_exact=True)
    assert back["links"]["links"][0][0].equals_exact(links["links"][0][0], 0)
    assert back["figures"] == {"n": 3}


def test_the_warnings_of_a_stage_are_logged_again_when_it_is_read(tmp_path, caplog):
    def compute():
        logging.getLogger("rakennettu.social").warning("12 buildings have no use")
        return 1

    StageCache(tmp_path).get_or_compute("social", "k", compute)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="rakennettu"):
        cache = StageCache(tmp_path)
        assert cache.get_or_compute("social", "k", lambda: pytest.fail("recomputed")) == 1
    assert [(r.name, r.getMessage()) for r in caplog.records] == [
        ("rakennettu.social", "12 buildings have no use")
    ]
    assert cache.status["social"]["status"] == "cached"


def test_a_said_warning_read_from_the_cache_is_said_in_the_run_language(tmp_path, caplog):
    from rakennettu.i18n import Said, language, logged_said

    def compute():
        said = Said("the date of the OpenStreetMap data is unknown (no timestamp in the file)")
        logging.getLogger("rakennettu.workflow").warning(said)
        return 1

    StageCache(tmp_path).get_or_compute("candidates", "k", compute)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="rakennettu"):
        StageCache(tmp_path).get_or_compute("candidates", "k", lambda: pytest.fail("again"))
    (record,) = caplog.records
    said = logged_said(record)
    assert said is not None and said.in_(language("fi")).startswith(
        "OpenStreetMap-aineiston päivämäärä ei ole tiedossa"
    )


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda e: (e / "entry.pickle").write_bytes(b"\x80\x05garbage"), id="pickle"),
        pytest.param(lambda e: (e / "table-0.parquet").write_bytes(b"PAR1"), id="parquet"),
        pytest.param(lambda e: (e / "table-0.parquet").unlink(), id="missing-table"),
    ],
)
def test_a_corrupt_entry_is_computed_again_with_a_warning(tmp_path, caplog, damage):
    nodes, _, _ = _frames()
    StageCache(tmp_path).get_or_compute("morphology", "k", lambda: nodes)
    damage(StageCache(tmp_path).path("morphology", "k"))
    cache = StageCache(tmp_path)
    with caplog.at_level(logging.WARNING, logger="rakennettu.cache"):
        back = cache.get_or_compute("morphology", "k", lambda: nodes.iloc[:1])
    assert len(back) == 1  # computed, not read
    assert cache.status["morphology"]["status"] == "computed"
    assert "could not be read" in caplog.text and "computing morphology again" in caplog.text
    # and the entry is whole again
    assert len(StageCache(tmp_path).get_or_compute("morphology", "k", lambda: None)) == 1


def test_a_second_writer_of_the_same_entry_leaves_one_whole_entry(tmp_path):
    """Two runs that compute the same stage at once: the second rename finds the first."""
    nodes, _, _ = _frames()
    a, b = StageCache(tmp_path), StageCache(tmp_path)
    a._write("morphology", "k", nodes, [])
    b._write("morphology", "k", nodes.iloc[:1], [])  # loses the race: the first stays
    back = StageCache(tmp_path).get_or_compute("morphology", "k", lambda: None)
    assert len(back) == 3
    leftovers = [p.name for p in (tmp_path / "stages" / "morphology").iterdir()]
    assert leftovers == ["k"]


def test_a_run_that_needs_an_entry_being_computed_waits_for_it(tmp_path):
    """Two runs of one stage at once: the second waits for the first's entry and reads
    it, instead of computing it again."""
    import threading

    nodes, _, _ = _frames()
    started, release = threading.Event(), threading.Event()
    calls: list[str] = []

    def slow() -> pd.DataFrame:
        calls.append("first")
        started.set()
        assert release.wait(10)
        return nodes

    first = StageCache(tmp_path)
    worker = threading.Thread(target=first.get_or_compute, args=("morphology", "k", slow))
    worker.start()
    assert started.wait(10)
    second = StageCache(tmp_path)
    got: list[pd.DataFrame] = []
    waiting = threading.Thread(
        target=lambda: got.append(
            second.get_or_compute("morphology", "k", lambda: calls.append("second"))
        )
    )
    waiting.start()
    waiting.join(0.3)
    assert waiting.is_alive() and not got  # blocked while the first computes
    release.set()
    worker.join(10)
    waiting.join(10)
    assert calls == ["first"]
    pd.testing.assert_frame_equal(got[0], nodes)
    assert first.status["morphology"]["status"] == "computed"
    assert second.status["morphology"]["status"] == "cached"


def test_no_cache_folder_computes_every_time(tmp_path):
    cache = StageCache(None)
    calls = []
    for _ in range(2):
        cache.get_or_compute("x", "k", lambda: calls.append(1))
    assert len(calls) == 2 and not list(tmp_path.iterdir())


def _keys(wf, root="town"):
    keys = {"load": root}
    for name, stage in STAGES.items():
        keys[name] = stage_key(stage, wf, keys)
    return keys


@pytest.mark.parametrize(
    ("change", "changed"),
    [
        pytest.param({"synthesis": {"weights": {"morph": 3}}}, set(), id="weights"),
        pytest.param({"candidates": {"draws": 10}}, set(), id="draws"),
        pytest.param({"candidates": {"program": {"third_places": 3}}}, {"leverage"}, id="program"),
        pytest.param({"candidates": {"min_area": 500}}, {"candidates", "leverage"}, id="sites"),
        pytest.param({"cultural": {"viewshed_radius": 900}}, {"cultural", "leverage"}, id="cult"),
        pytest.param(
            {"social": {"m2_per_resident": 40}},
            {"prepare", "morphology", "social", "cultural", "candidates", "leverage"},
            id="social",
        ),
        pytest.param(
            {"form": {"storey_height": 3.5}},
            {"prepare", "morphology", "social", "cultural", "candidates", "leverage"},
            id="form",
        ),
        pytest.param({"synthesis": {"cell_size": 150}}, {"leverage"}, id="cells"),
    ],
)
def test_a_settings_change_invalidates_its_stage_and_what_reads_it(change, changed):
    wf = load_workflow(bundled_workflow("kotka-karhula"))
    update = {k: wf.__getattribute__(k).model_copy(update=v) for k, v in change.items()}
    if "program" in change.get("candidates", {}):
        program = wf.candidates.program.model_copy(update=change["candidates"]["program"])
        update["candidates"] = wf.candidates.model_copy(update={"program": program})
    before, after = _keys(wf), _keys(wf.model_copy(update=update))
    assert {k for k in STAGES if before[k] != after[k]} == changed


def test_new_town_content_invalidates_every_stage():
    wf = load_workflow(bundled_workflow("kotka-karhula"))
    before, after = _keys(wf, "a"), _keys(wf, "b")
    assert all(before[k] != after[k] for k in STAGES)


def test_the_town_key_is_its_content(kotka):
    from rakennettu import load_town

    again = load_town("kotka-karhula", cache=False)  # loaded again, not read back
    assert town_key(again) == town_key(kotka)
    fewer = again.buildings.drop(again.buildings.index[:1])
    assert town_key(_with(again, buildings=fewer)) != town_key(kotka)


def _with(town, **frames):
    from dataclasses import replace

    return replace(town, **frames)


def _tiny_workflow(folder, text):
    """A workflow of the warm-up's tiny made-up town (rakennettu._warmup), OSM ``text``."""
    import json

    (folder / "tiny.osm").write_text(text, encoding="utf-8")
    toml = folder / "tiny.toml"
    path = json.dumps(str(folder / "tiny.osm"))
    toml.write_text(f'[town]\nname = "tiny"\ncrs = "EPSG:3067"\n[osm]\npath = {path}\n')
    return load_workflow(toml)


def test_a_town_is_read_from_the_cache_until_an_input_file_changes(tmp_path):
    """The loaded town is kept by its input files' content: read back equal, loaded
    again (with the new data) when the OSM file changes, not when only weights do."""
    from rakennettu._warmup import tiny_town_osm
    from rakennettu.cache import load_key
    from rakennettu.workflow import _load

    text = tiny_town_osm()
    wf = _tiny_workflow(tmp_path, text)
    first = StageCache(tmp_path / "cache")
    town, content = _load(wf, first, progress=False)
    assert first.status["load"] == {"status": "computed", "key": load_key(wf)}
    assert content == town_key(town)

    again = StageCache(tmp_path / "cache")
    back, back_content = _load(wf.updated({"synthesis.weights.cult": 3}), again, progress=False)
    assert again.status["load"]["status"] == "cached"
    assert back_content == content and town_key(back) == content  # the content, rehashed
    for name, frame in town.layers().items():
        pd.testing.assert_frame_equal(back.layers()[name], frame, check_exact=True, obj=name)
    assert sorted(back.graph.edges(keys=True, data="length")) == sorted(
        town.graph.edges(keys=True, data="length")
    )
    assert back.report["timings_s"] == {} and town.report["timings_s"]

    assert 'v="Kahvila"' in text
    wf = _tiny_workflow(tmp_path, text.replace('v="Kahvila"', 'v="Kahvila Aalto"'))
    changed = StageCache(tmp_path / "cache")
    new, new_content = _load(wf, changed, progress=False)
    assert changed.status["load"]["status"] == "computed" and new_content != content
    assert "Kahvila Aalto" in set(new.activities["name"])
    assert load_key(wf.updated({"network.radii": [300]})) != load_key(wf)


def test_load_town_reads_and_keeps_the_town_in_the_entry_a_run_uses(tmp_path, monkeypatch):
    """load_town with the cache on: loaded and kept once, then read back equal to a load
    without the cache (the reference), from the entry the run's load reads too."""
    import rakennettu.town
    from rakennettu import load_town
    from rakennettu._warmup import tiny_town_osm
    from rakennettu.cache import load_key
    from rakennettu.workflow import _load

    wf = _tiny_workflow(tmp_path, tiny_town_osm()).updated({"cache.folder": str(tmp_path / "c")})
    fresh = load_town(wf, cache=False)
    assert not (tmp_path / "c" / "stages").exists()  # (converted files go to c/converted)
    load_town(wf)
    assert (tmp_path / "c" / "stages" / "load" / load_key(wf) / "entry.pickle").is_file()

    def not_again(*a, **k):
        raise AssertionError("the town was loaded again")

    monkeypatch.setattr(rakennettu.town, "_load", not_again)
    back = load_town(wf)
    for name, frame in fresh.layers().items():
        pd.testing.assert_frame_equal(back.layers()[name], frame, check_exact=True, obj=name)
    assert back.area.equals_exact(fresh.area, 0) and back.crs == fresh.crs
    assert list(back.graph.edges(keys=True, data=True)) == list(
        fresh.graph.edges(keys=True, data=True)
    )
    assert back.report["timings_s"] == {} and fresh.report["timings_s"]
    with pytest.raises(AssertionError, match="loaded again"):
        load_town(wf, cache=False)
    run_cache = StageCache(tmp_path / "c")
    _load(wf, run_cache, progress=False)
    assert run_cache.status["load"]["status"] == "cached"
