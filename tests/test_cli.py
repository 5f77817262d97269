"""The command line: exit codes, files written, messages."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from rakennettu import __version__
from rakennettu.cli import EXIT_CODES, cli

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")


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


def test_unknown_command_is_a_usage_error(runner):
    assert runner.invoke(cli, ["rnu"]).exit_code == EXIT_CODES["usage"] == 2
