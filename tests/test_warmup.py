"""The install's warm-up (``python -m rakennettu._warmup``) reaches every compiled kernel."""

from __future__ import annotations

import importlib
import pkgutil

import numba
import pytest

import rakennettu
from rakennettu._warmup import tiny_run


def _cached_kernels() -> dict[str, object]:
    """Every numba function with an on-disk cache in the package, by qualified name."""
    found = {}
    for info in pkgutil.walk_packages(rakennettu.__path__, "rakennettu."):
        if info.name.endswith("__main__") or info.name == "rakennettu._warmup":
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if (
                isinstance(obj, numba.core.registry.CPUDispatcher)
                and obj.py_func.__module__ == info.name
                and type(obj._cache).__name__ != "NullCache"  # cache=True
            ):
                found[f"{info.name}.{name}"] = obj
    return found


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return tiny_run(tmp_path_factory.mktemp("warmup"))


def test_tiny_town_runs_every_stage(tiny):
    town = tiny.town
    assert len(town.buildings) == 48  # two per block, one block empty
    cands = tiny.layers["candidates"]
    assert len(cands) >= 1
    # the empty 80 m block is crossed by links between access points on opposite sides
    # (the middles of its sides and their stubs: 160 m or more around, 80-96 m across),
    # so the what-if network is recomputed
    links = tiny.layers["candidate_links"]
    assert 1 <= len(links) <= 3
    assert ((links.length > 75) & (links.length < 100)).all()
    assert (cands["recomputed_nodes"] > 0).all()


def test_warmup_compiles_every_cached_kernel(tiny):
    # after the tiny run every top-level kernel has compiled code for the argument types a
    # run passes; a kernel added later and not reached by a run fails here
    kernels = _cached_kernels()
    assert len(kernels) >= 8
    # kernels called only by other kernels compile inside them; the viewshed of a single
    # origin (`viewshed()`) is never asked for by a run
    called_by_kernels = {n for k in kernels.values() for n in k.py_func.__code__.co_names}
    missing = [
        name
        for name, k in kernels.items()
        if not k.signatures and name.rsplit(".", 1)[1] not in called_by_kernels
    ]
    assert set(missing) <= {"rakennettu.layers.viewshed._single"}, missing


def test_a_town_without_candidate_sites_is_a_clear_data_error(tmp_path):
    # the tiny town with its empty block not counted: no OSM site kind, no planner's file
    from rakennettu import EmptyDataError, load_workflow, run
    from rakennettu._warmup import tiny_workflow

    toml = tiny_workflow(tmp_path)
    text = toml.read_text(encoding="utf-8")
    toml.write_text(text.replace("[candidates]\n", "[candidates]\nempty_blocks = false\n"))
    said = r"warmup\.toml: no candidate site to rank .*sites layer"
    with pytest.raises(EmptyDataError, match=said):
        run(load_workflow(toml), out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()  # nothing half-written
