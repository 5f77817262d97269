"""The command line: exit codes, files written, messages."""

from __future__ import annotations

import pyogrio
import pytest
from click.testing import CliRunner

from rakennettu import __version__
from rakennettu.cli import EXIT_CODES, cli

pytestmark = [
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    # share the session's one Kotka run with tests/test_run.py on one xdist worker
    pytest.mark.xdist_group("kotka_run"),
]


@pytest.fixture
def runner():
    return CliRunner()


def test_version(runner):
    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_towns_lists_the_bundled_workflows(runner):
    result = runner.invoke(cli, ["towns"])
    assert result.exit_code == 0
    assert "helsinki-keskusta" in result.output and "kotka-karhula" in result.output


def test_run_writes_the_gpkg_with_contract_layers(kotka_run):
    result, out = kotka_run
    assert result.exit_code == 0, result.output
    layers = {str(n) for n, _ in pyogrio.list_layers(out / "vitality.gpkg")}
    assert {"nodes", "edges", "buildings", "activities", "landmarks", "third_places"} <= layers
    assert {"tessellation", "enclosures", "cells", "candidates", "candidate_links"} <= layers
    assert "EPSG:3067" in result.output
    nodes = pyogrio.read_dataframe(out / "vitality.gpkg", layer="nodes")
    assert "node_id" in nodes.columns
    edges = pyogrio.read_dataframe(out / "vitality.gpkg", layer="edges")
    assert {"u", "v", "length"} <= set(edges.columns)
    assert {"morph_harmonic_800m", "morph_betweenness_400m"} <= set(nodes.columns)
    assert "morph_betweenness_1200m" in edges.columns
    cells = pyogrio.read_dataframe(out / "vitality.gpkg", layer="cells")
    assert {"access", "morph_far", "score_morph", "score_soc", "score_cult", "synergy"} <= set(
        cells.columns
    )
    cands = pyogrio.read_dataframe(out / "vitality.gpkg", layer="candidates")
    assert {"candidate_id", "rank", "score", "rank_p05", "rank_p95", "why"} <= set(cands.columns)


def test_validate_ok(runner):
    result = runner.invoke(cli, ["validate", "kotka-karhula", "helsinki-keskusta"])
    assert result.exit_code == 0
    assert result.output.count(": OK") == 2


def test_invalid_workflow_exit_code(runner, write_workflow):
    path = write_workflow('[town]\nname = "x"\n[osm]\npath = "pyrosm:test_pbf"\n[netwrk]\n')
    result = runner.invoke(cli, ["run", str(path)])
    assert result.exit_code == EXIT_CODES["config"] == 3
    assert "did you mean 'network'" in result.output


def test_missing_workflow_file_exit_code(runner, tmp_path):
    result = runner.invoke(cli, ["validate", str(tmp_path / "none.toml")])
    assert result.exit_code == EXIT_CODES["config"]
    assert "workflow file not found" in result.output


def test_data_error_exit_code_and_nothing_written(runner, write_workflow, tmp_path):
    bad = tmp_path / "cut.osm.pbf"
    from rakennettu._resources import bundled_osm_path

    bad.write_bytes(bundled_osm_path("pyrosm:test_pbf").read_bytes()[:50_000])
    path = write_workflow(f'[town]\nname = "x"\n[osm]\npath = "{bad}"\n')
    out = tmp_path / "out"
    result = runner.invoke(cli, ["run", str(path), "--out", str(out)])
    assert result.exit_code == EXIT_CODES["data"] == 4
    assert "corrupt or truncated" in result.output
    assert not (out / "vitality.gpkg").exists()


def test_failed_rerun_keeps_earlier_outputs(runner, kotka_run, tmp_path, monkeypatch):
    import shutil

    import rakennettu.workflow

    _, done = kotka_run
    out = tmp_path / "out"
    shutil.copytree(done, out)
    before = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def boom(*a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(rakennettu.workflow, "load_town", boom)
    result = runner.invoke(cli, ["-q", "run", "kotka-karhula", "--out", str(out)])
    assert result.exit_code == EXIT_CODES["internal"] == 1
    assert "internal error: RuntimeError: disk on fire" in result.output
    after = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before


def test_unknown_command_is_a_usage_error(runner):
    assert runner.invoke(cli, ["rnu"]).exit_code == EXIT_CODES["usage"] == 2
