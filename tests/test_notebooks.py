"""The notebooks in notebooks/: stored without outputs, and they run from top to bottom."""

from __future__ import annotations

import os
import re
import time

import nbformat
import pytest

from conftest import REPO, SHARED, loopback_only

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


@pytest.fixture
def _no_network(monkeypatch):
    """As in conftest, but the test talks to its Jupyter kernel over the loopback."""
    loopback_only(monkeypatch)


def test_there_are_notebooks():
    assert [p.name for p in NOTEBOOKS] == [
        "01-quickstart.ipynb",
        "02-indicators.ipynb",
        "03-what-if.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert nb.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_uses_only_the_public_api(path):
    source = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells)
    assert "import rakennettu as rk" in source
    # no private module or function (a leading underscore; dunders like __version__ are fine)
    assert re.findall(r"\b(?:rk|rakennettu)(?:\.[a-z]\w*)*\._(?!_)\w*", source) == []
    assert not re.search(r"import[^\n]*\b_[a-z]", source)


@pytest.fixture
def towns_run(request, path):
    """The session's run of the town a notebook runs, so that its stages are in the
    session's stage cache: the notebook's own `rk.run` reads them as a user's second run
    would (its outputs are still written, ranked and checked by the notebook)."""
    town = {
        "01-quickstart": "helsinki_run",
        "02-indicators": "helsinki_run",
        "03-what-if": "kotka_run_without_pages",
    }.get(path.stem)
    if town:
        request.getfixturevalue(town)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_runs(path, monkeypatch, towns_run):
    from nbclient import NotebookClient

    # the kernel imports this checkout and finds ../shared/data as the tests do
    paths = [str(REPO / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(paths))
    monkeypatch.setenv("RAKENNETTU_SHARED_DATA", str(SHARED))
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    started = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - started
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    data = [o.get("data", {}) for c in nb.cells for o in c.get("outputs", [])]
    assert any("image/png" in d for d in data), "every notebook shows a figure"
    if path.stem == "01-quickstart":  # the interactive map, inline and offline
        maps = [d["text/html"] for d in data if "leaflet" in d.get("text/html", "")]
        assert maps and not re.search(
            r"src=&quot;https?://|&lt;link[^&]*href=&quot;https?:", maps[0]
        )
    print(f"{path.name}: {seconds:.0f} s")
