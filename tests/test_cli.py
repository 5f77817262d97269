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
    """A missing workflow file is a missing input (4), as the README's table says."""
    for command in (["validate"], ["run"], ["map"]):
        result = runner.invoke(cli, [*command, str(tmp_path / "none.toml")])
        assert result.exit_code == EXIT_CODES["data"] == 4, command
        assert "none.toml: workflow file not found" in result.output


def test_data_error_exit_code_and_nothing_written(runner, write_workflow, tmp_path):
    bad = tmp_path / "cut.osm.pbf"
    from rakennettu._resources import bundled_osm_path

    bad.write_bytes(bundled_osm_path("pyrosm:test_pbf").read_bytes()[:50_000])
    path = write_workflow(f'[town]\nname = "x"\n[osm]\npath = "{bad}"\n')
    out = tmp_path / "out"
    result = runner.invoke(cli, ["run", str(path), "--out", str(out)])
    assert result.exit_code == EXIT_CODES["data"] == 4
    assert "corrupt or truncated" in result.output
    assert not (out / "x" / "vitality.gpkg").exists()
    assert list(out.iterdir()) == []  # no staging folder, no lock left


def test_unknown_command_is_a_usage_error(runner):
    assert runner.invoke(cli, ["rnu"]).exit_code == EXIT_CODES["usage"] == 2


@pytest.fixture
def fake_run(monkeypatch, tmp_path):
    """`rakennettu run` with a stand-in for the computation: stage lines, a detail, a warning."""
    import logging
    from types import SimpleNamespace

    from pyproj import CRS

    import rakennettu.workflow as workflow
    from outputs_town import tiny_layers
    from rakennettu._timing import Stages
    from rakennettu.config import resolve_workflow
    from rakennettu.i18n import language

    def run(wf, *, out_dir=None, progress=False, wait=False, scheduler=None, workers=None):
        log = logging.getLogger("rakennettu.workflow")
        stage = Stages(
            "run",
            log,
            level=logging.INFO if progress else logging.DEBUG,
            describe=lambda name, s: workflow.stage_line(language("fi"), name, s),
        )
        for name in ("load", "pages"):
            with stage(name):
                logging.getLogger("rakennettu.town").info("tessellation: 2,205 rows")
        logging.getLogger("rakennettu.social").warning("3 buildings have no use")
        files = {"gpkg": tmp_path / "vitality.gpkg", "map": tmp_path / "map.html",
                 "report": tmp_path / "report.html"}  # fmt: skip
        town = SimpleNamespace(title="Pikkukaupunki", area_km2=0.24, crs=CRS(3067))
        return workflow.RunResult(
            workflow=resolve_workflow("kotka-karhula"), town=town, out_dir=tmp_path,
            layers=tiny_layers(), files=files, timings={"load": 1.25, "pages": 0.5},
            record={"language": "fi"},
        )  # fmt: skip

    monkeypatch.setattr(workflow, "run", run)
    return tmp_path


def test_run_console_default_is_short(runner, fake_run):
    out = runner.invoke(cli, ["run", "kotka-karhula"]).output
    lines = out.splitlines()
    assert lines[0].startswith("Kaupungin aineisto luettu (")  # one line per stage
    assert lines[1].startswith("Kartta ja raportti kirjoitettu (")
    assert "warning: 3 buildings have no use" in lines
    assert "tessellation" not in out  # module detail: only under -v
    assert "taso" not in out and "sekuntia" not in out  # the tables: only under -v
    assert "Pikkukaupunki: 0,24 km², EPSG:3067" in lines  # Finnish: a decimal comma
    assert lines[-2:] == [
        f"Kartta: {fake_run / 'map.html'}",
        f"Raportti: {fake_run / 'report.html'}",
    ]
    assert sum(line.startswith("  ") for line in lines) == 5  # the five best sites


def test_run_console_verbose_has_the_tables(runner, fake_run):
    out = runner.invoke(cli, ["-v", "run", "kotka-karhula"]).output
    assert "tessellation: 2,205 rows" in out
    assert "WARNING rakennettu.social: 3 buildings have no use" in out
    assert "taso" in out and "sekuntia" in out and f"gpkg: {fake_run / 'vitality.gpkg'}" in out


def test_run_console_quiet_prints_nothing_but_errors(runner, fake_run):
    result = runner.invoke(cli, ["-q", "run", "kotka-karhula"])
    assert result.exit_code == 0 and result.output == ""


def test_a_near_town_name_is_suggested(runner):
    result = runner.invoke(cli, ["run", "helsinki"])
    assert result.exit_code == EXIT_CODES["config"]
    assert "did you mean 'helsinki-keskusta'?" in result.output


def test_the_readme_lists_every_exit_code():
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    rows = {int(c) for c in re.findall(r"^\| (\d+) \| ", readme, re.M)}
    assert rows == set(EXIT_CODES.values())
