"""The doctest namespace: small networks (and one town) every docstring example may use.

Names: ``np``, ``pd``, ``gpd``, ``nx``, ``StreetNetwork``;

* ``grid_graph()``: a fresh 3x3 grid of 100 m blocks, nodes 0-8 numbered row by row from
  the south-west corner (node ``i`` at ``(100 * (i % 3), 100 * (i // 3))``), a networkx
  MultiGraph in EPSG:3067; ``grid``: that graph as a :class:`StreetNetwork`;
* ``street(*xs)``: a straight street along the x axis with nodes 0, 1, ... at ``xs``
  (metres), segment lengths their differences;
* ``osm_features()``: three OSM features as :mod:`rakennettu.sources.osm_tags` gives them
  (``osm_type``, ``osm_id``, ``name``, ``tags``, point ``geometry`` 10 m apart in
  EPSG:3067): node 1 the library "Kallion kirjasto" (``amenity=library``,
  ``heritage=2``), node 2 a bench (``amenity=bench``), way 3 the park "Karhupuisto"
  (``leisure=park``);
* ``kotka_town()``: the bundled Kotka, Karhula town (``load_town("kotka-karhula")``),
  loaded once for the whole doctest run;
* ``tiny_town()``: the made-up town of :mod:`rakennettu._warmup` (a 6 x 6 street grid
  80 m apart with 48 buildings, shops and an empty block), loaded once;
* ``kotka_run_dir()``: the output folder of one run of it (``run("kotka-karhula")``
  without the map and report), made once for the whole test session
  (:func:`run_without_pages`, shared with the tests).

Every test and doctest uses the session's own cache folder (``$RAKENNETTU_CACHE``),
shared by the xdist workers of the session.
"""

from __future__ import annotations

import functools
import os

import pytest


def _grid_graph():  # type: ignore[no-untyped-def]
    import networkx as nx

    G = nx.MultiGraph(nx.convert_node_labels_to_integers(nx.grid_2d_graph(3, 3)))
    G.graph["crs"] = "EPSG:3067"
    nx.set_node_attributes(G, {i: 100.0 * (i % 3) for i in G}, "x")
    nx.set_node_attributes(G, {i: 100.0 * (i // 3) for i in G}, "y")
    nx.set_edge_attributes(G, 100.0, "length")
    return G


@functools.cache
def _street(*xs: float):  # type: ignore[no-untyped-def]
    import networkx as nx

    from rakennettu.network import StreetNetwork

    G = nx.MultiGraph(crs="EPSG:3067")
    for i, x in enumerate(xs):
        G.add_node(i, x=float(x), y=0.0)
    for i in range(len(xs) - 1):
        G.add_edge(i, i + 1, length=float(xs[i + 1] - xs[i]))
    return StreetNetwork.from_graph(G)


def _osm_features():  # type: ignore[no-untyped-def]
    import geopandas as gpd
    from shapely.geometry import Point

    tags = [
        {"amenity": "library", "name": "Kallion kirjasto", "heritage": "2"},
        {"amenity": "bench"},
        {"leisure": "park", "name": "Karhupuisto"},
    ]
    return gpd.GeoDataFrame(
        {
            "osm_type": ["node", "node", "way"],
            "osm_id": [1, 2, 3],
            "name": [t.get("name") for t in tags],
            "tags": tags,
        },
        geometry=[Point(386000 + 10 * i, 6674000) for i in range(3)],
        crs="EPSG:3067",
    )


@functools.cache
def _kotka_town():  # type: ignore[no-untyped-def]
    from rakennettu import load_town

    # loaded once for the session: load_town keeps it in the session's stage cache
    # (shared with tests/conftest.py's `kotka` and the runs of Kotka)
    return load_town("kotka-karhula")


@functools.cache
def _tiny_town():  # type: ignore[no-untyped-def]
    import tempfile

    from rakennettu import load_town, load_workflow
    from rakennettu._warmup import tiny_workflow

    return load_town(load_workflow(tiny_workflow(tempfile.mkdtemp(prefix="rakennettu-doctest-"))))


@functools.cache
def run_without_pages(town: str):  # type: ignore[no-untyped-def]
    """``rakennettu.run(town)`` without its map and report, once for the test session.

    For the tests and doctests that read a run's data files and record but not its pages
    (tests/test_run.py's ``kotka_run`` writes and checks the pages). The result is kept in
    the session's stage cache and its folder in the session's temporary folder, both
    shared by the xdist workers: whichever asks first runs it (its layers from the stage
    cache when a test's run of the town put them there), the others wait and read it.
    The pages are left out through ``[outputs]``, which no stage's cache key reads.
    """
    from pathlib import Path

    from rakennettu import bundled_workflow, load_workflow, run
    from rakennettu.cache import StageCache

    cache = Path(os.environ["RAKENNETTU_CACHE"])

    def compute():  # type: ignore[no-untyped-def]
        wf = load_workflow(bundled_workflow(town))
        wf = wf.updated({"outputs.map": False, "outputs.report": False})
        return run(wf, out_dir=cache.parent / "runs-without-pages" / town)

    return StageCache(cache).get_or_compute("tests", f"{town}-run-without-pages", compute)


@pytest.fixture(scope="session")
def without_pages():
    """:func:`run_without_pages` (a town's name -> its RunResult), for tests/conftest.py."""
    return run_without_pages


def _kotka_run_dir():  # type: ignore[no-untyped-def]
    return run_without_pages("kotka-karhula").out_dir


# The test files that take longest (whole-town runs, notebooks, browsers, Dask clusters)
# go first: pytest-xdist (--dist loadfile) hands files to its workers in collection
# order, so the long ones start early and the short ones fill the gaps at the end. The
# first two need different towns, so the two workers do not wait for the same run.
LONG_FIRST = (
    "tests/test_notebooks.py",
    "tests/test_run.py",
    "tests/test_batch.py",
    "tests/test_form.py",
    "tests/test_hostile_run.py",
    "tests/test_region.py",
    "tests/test_town.py",
    "tests/test_interrupt.py",
    "tests/test_network.py",
    "tests/test_report.py",
    "tests/test_browser.py",
    "tests/test_pages.py",
    "tests/test_leverage.py",
    "tests/test_social.py",
    "tests/test_morphology.py",
    "tests/test_folder.py",
    "tests/test_undirected.py",
)


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """The files of LONG_FIRST first, in that order; the rest as collected."""
    rank = {name: i for i, name in enumerate(LONG_FIRST)}
    root = config.rootpath

    def place(item: pytest.Item) -> int:
        try:
            name = item.path.relative_to(root).as_posix()
        except ValueError:
            return len(rank)
        return rank.get(name, len(rank))

    items.sort(key=place)  # stable: each file's tests stay together, in their order


def _session_cache(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The test session's own rakennettu cache folder, shared by its xdist workers.

    Shared, so that a stage one worker computed (a bundled town's layers) is read by the
    other instead of computed again; the stage cache's lock makes a worker that needs an
    entry being computed wait for it. Never the user's own cache.
    """
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # pytest-N/, above each worker's popen-gwK/
    return str(base / "cache")


@pytest.fixture(scope="session", autouse=True)
def _isolated_session_cache(tmp_path_factory):
    """The session fixtures (town runs) start before any test's own: set it for them too."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAKENNETTU_CACHE", _session_cache(tmp_path_factory))
        yield


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Each test (and doctest) sees the session's cache folder (a test may set its own)."""
    monkeypatch.setenv("RAKENNETTU_CACHE", _session_cache(tmp_path_factory))


@pytest.fixture(autouse=True)
def _doctest_names(doctest_namespace: dict) -> None:
    import geopandas as gpd
    import networkx as nx
    import numpy as np
    import pandas as pd

    from rakennettu.network import StreetNetwork

    doctest_namespace.update(
        np=np,
        pd=pd,
        gpd=gpd,
        nx=nx,
        StreetNetwork=StreetNetwork,
        grid_graph=_grid_graph,
        grid=StreetNetwork.from_graph(_grid_graph()),
        street=_street,
        kotka_town=_kotka_town,
        kotka_run_dir=_kotka_run_dir,
        tiny_town=_tiny_town,
        osm_features=_osm_features,
    )
