"""The output folder as one unit: staging, swap, lock, recovery after dead runs; --out."""

from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

import rakennettu.workflow as workflow
from fake_run import FIRST, computed, signature
from rakennettu import interrupt
from rakennettu.cli import EXIT_CODES, cli
from rakennettu.errors import FolderBusyError, OutputFolderError
from rakennettu.outputs import folder as folder_module
from rakennettu.outputs.folder import OutputFolder

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*")
            if p.is_file()}  # fmt: skip


def make_run(target: Path, content: dict[str, str], town: str = "t") -> None:
    """A finished run's folder, written by hand."""
    target.mkdir(parents=True)
    (target / "run.json").write_text(json.dumps({"town": {"name": town}}))
    for name, text in content.items():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        (target / name).write_text(text)


def write_new(target: Path, *, fail: bool = False) -> None:
    with OutputFolder(target, town="t") as f:
        (f.path / "vitality.gpkg").write_text("new")
        if fail:
            raise RuntimeError("disk on fire")
        f.commit()


@pytest.fixture(params=["exchange", "two renames"])
def swap_kind(request, monkeypatch):
    """Both ways of swapping: renameat2(RENAME_EXCHANGE), and the two renames."""
    if request.param == "two renames":
        monkeypatch.setattr(folder_module, "_exchange", lambda a, b: False)
    return request.param


def test_commit_replaces_the_whole_folder(tmp_path, swap_kind):
    target = tmp_path / "t"
    make_run(target, {"vitality.gpkg": "old", "surfaces/old.tif": "old"})
    with OutputFolder(target, town="t") as f:
        assert f.path.parent == tmp_path and f.path.name.startswith(".t.staging-")
        (f.path / "vitality.gpkg").write_text("new")
        assert files(target)["vitality.gpkg"] == b"old"  # untouched until the swap
        f.commit()
    assert files(target) == {"vitality.gpkg": b"new"}  # old surfaces/ gone with the rest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t"]


def test_an_error_before_the_commit_leaves_the_folder(tmp_path):
    target = tmp_path / "t"
    make_run(target, {"vitality.gpkg": "old"})
    before = files(target)
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_new(target, fail=True)
    assert files(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t"]


def test_a_second_writer_fails_at_once_or_waits(tmp_path):
    target = tmp_path / "t"
    first = OutputFolder(target, town="t").__enter__()
    with pytest.raises(FolderBusyError, match=rf"another run \(pid {os.getpid()}\)"):
        OutputFolder(target, town="t").__enter__()
    got = threading.Event()

    def second() -> None:
        with OutputFolder(target, town="t", wait=True) as f:
            got.set()
            (f.path / "run.json").write_text(json.dumps({"town": {"name": "t"}}))
            f.commit()

    waiter = threading.Thread(target=second)
    waiter.start()
    assert not got.wait(0.3)  # held by the first
    (first.path / "map.html").write_text("first")
    first.commit()
    first.__exit__(None, None, None)
    waiter.join(30)
    assert got.is_set() and sorted(files(target)) == ["run.json"]  # the second, whole


def test_leftovers_of_dead_runs_are_removed(tmp_path):
    target = tmp_path / "t"
    make_run(target, {"vitality.gpkg": "good"})
    (target / ".vitality.x1.part.gpkg").touch()  # from a version that wrote in place
    (target / "surfaces").mkdir()
    (target / "surfaces" / ".dens.x2.part.tif").touch()
    dead = tmp_path / ".t.staging-999999-dead"
    make_run(dead, {"vitality.gpkg": "half"})
    old = tmp_path / ".t.old-999999-dead"
    make_run(old, {"vitality.gpkg": "older"})
    other = tmp_path / ".u.staging-999999-dead"  # another town's: not ours to remove
    other.mkdir()
    with OutputFolder(target, town="t"):
        pass
    assert sorted(p.name for p in tmp_path.iterdir()) == [".u.staging-999999-dead", "t"]
    assert files(target) == {"run.json": b'{"town": {"name": "t"}}', "vitality.gpkg": b"good"}


def test_a_swap_cut_between_its_two_renames_is_undone(tmp_path, monkeypatch):
    target = tmp_path / "t"
    make_run(target, {"vitality.gpkg": "old"})
    before = files(target)
    monkeypatch.setattr(folder_module, "_exchange", lambda a, b: False)
    renames, real = [], os.rename

    def rename(a, b):
        if renames:
            raise KeyboardInterrupt("killed between the renames")  # as SIGKILL would stop
        renames.append(a)
        real(a, b)

    monkeypatch.setattr(folder_module.os, "rename", rename)
    with pytest.raises(KeyboardInterrupt):
        write_new(target)
    assert not target.exists()  # the old folder is aside, the staging folder removed
    monkeypatch.setattr(folder_module.os, "rename", real)
    with OutputFolder(target, town="t"):
        assert files(target) == before  # put back before anything else
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t"]


def test_a_folder_of_another_town_or_of_other_files_is_refused(tmp_path):
    other = tmp_path / "t"
    make_run(other, {"vitality.gpkg": "a's"}, town="a")
    with pytest.raises(OutputFolderError, match=r"outputs of the town 'a' .* not 't'"):
        OutputFolder(other, town="t").__enter__()
    home = tmp_path / "home"
    home.mkdir()
    (home / "thesis.docx").write_text("years of work")
    with pytest.raises(OutputFolderError, match=r"not a run's outputs \(thesis.docx\)"):
        OutputFolder(home).__enter__()
    assert files(home) == {"thesis.docx": b"years of work"}
    assert not list(tmp_path.glob(".*staging*"))


def test_a_swallowed_interrupt_still_stops_the_commit(tmp_path):
    """A signal inside compiled code is held to the block's end; caught or not, no commit."""
    target = tmp_path / "t"
    make_run(target, {"vitality.gpkg": "old"})
    before = files(target)
    with interrupt.handling(), OutputFolder(target, town="t") as f:
        (f.path / "vitality.gpkg").write_text("new")
        try:
            with interrupt.shielded():
                os.kill(os.getpid(), signal.SIGTERM)
                assert interrupt.requested() == signal.SIGTERM  # recorded, not raised
        except KeyboardInterrupt:
            pass  # a library that swallows it
        with pytest.raises(KeyboardInterrupt):
            f.commit()
    assert files(target) == before


def test_sigterm_is_an_interrupt_and_handlers_are_restored():
    before = signal.getsignal(signal.SIGTERM)

    def terminated() -> None:
        with interrupt.handling():
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(1000):  # the handler runs between bytecodes
                pass

    with pytest.raises(KeyboardInterrupt, match="SIGTERM"):
        terminated()
    assert signal.getsignal(signal.SIGTERM) is before and interrupt.requested() is None


# ---------------------------------------------------------------------------------------
# the command line, with the computation stood in for (tests/fake_run.py)


@pytest.fixture
def fake(monkeypatch):
    monkeypatch.setattr(workflow, "_compute", lambda wf, progress, cache=None: computed(wf))


def town_file(
    write_workflow, seed: int, name: str = "testi", file: str = "a.toml", report: bool = False
) -> Path:
    return write_workflow(
        f'[town]\nname = "{name}"\n[osm]\npath = "pyrosm:test_pbf"\n'
        f"[candidates]\nseed = {seed}\n[outputs]\nreport = {str(report).lower()}\n",
        file,
    )


def test_out_is_a_parent_folder_and_runs_replace_it_whole(fake, write_workflow, tmp_path):
    runner = CliRunner()
    a = town_file(write_workflow, 0, report=True)  # once with the report (seconds)
    b = town_file(write_workflow, 1, file="b.toml")
    out = tmp_path / "out"
    assert runner.invoke(cli, ["-q", "run", str(a), "--out", str(out)]).exit_code == 0
    assert set(signature(out / "testi").values()) == {FIRST[0]}
    assert runner.invoke(cli, ["-q", "run", str(b), "--out", str(out)]).exit_code == 0
    assert set(signature(out / "testi").values()) == {FIRST[1]}
    assert not (out / "testi" / "report.html").exists()  # A's, gone with A's folder
    assert sorted(p.name for p in out.iterdir()) == ["testi"]
    result = runner.invoke(cli, ["-q", "map", str(a), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"map: {out / 'testi' / 'map.html'}" in result.output


def test_another_towns_folder_is_refused_with_exit_4(fake, write_workflow, tmp_path):
    runner = CliRunner()
    out = tmp_path / "out"
    a = town_file(write_workflow, 0, name="testi")
    assert runner.invoke(cli, ["-q", "run", str(a), "--out", str(out)]).exit_code == 0
    before = files(out / "testi")
    other = town_file(write_workflow, 1, name="muu", file="muu.toml")
    (out / "muu").mkdir()
    (out / "muu" / "run.json").write_text(json.dumps({"town": {"name": "testi"}}))
    result = runner.invoke(cli, ["-q", "run", str(other), "--out", str(out)])
    assert result.exit_code == EXIT_CODES["data"] == 4
    assert "holds the outputs of the town 'testi'" in result.output
    assert files(out / "testi") == before


def test_a_busy_folder_exits_5(fake, write_workflow, tmp_path):
    out = tmp_path / "out"
    a = town_file(write_workflow, 0)
    with OutputFolder(out / "testi", town="testi"):
        result = CliRunner().invoke(cli, ["-q", "run", str(a), "--out", str(out)])
        assert result.exit_code == EXIT_CODES["busy"] == 5
        assert "busy:" in result.output and "--wait" in result.output
        result = CliRunner().invoke(cli, ["-q", "map", str(a), "--out", str(out)])
        assert result.exit_code == EXIT_CODES["data"]  # nothing to rebuild yet
