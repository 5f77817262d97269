"""Interrupted and concurrent runs, as separate processes: the folder is the old run or the new.

Each process is ``tests/fake_run.py``: the real command line and output writing, with the
computation stood in for and a pause at a chosen moment (no sleeps racing the timing:
the test signals once the process says it is there). The processes of a test run side
by side.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import rakennettu.workflow as workflow
from fake_run import FIRST, computed, signature, stand_in
from rakennettu.cli import cli

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*")
            if p.is_file()}  # fmt: skip


def start(pause: str, flags: Path, *args: str) -> subprocess.Popen:
    flags.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), str(HERE)])}
    return subprocess.Popen(
        [sys.executable, str(HERE / "fake_run.py"), pause, str(flags), "--", "-q", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(path: Path, procs: list[subprocess.Popen], timeout: float = 120) -> None:
    end = time.monotonic() + timeout
    while not path.exists():
        dead = [p for p in procs if p.poll() is not None]
        assert not dead, dead[0].communicate()
        assert time.monotonic() < end, f"no {path}"
        time.sleep(0.02)


def town_file(folder: Path, seed: int, name: str) -> Path:
    path = folder / name
    path.write_text(
        '[town]\nname = "testi"\n[osm]\npath = "pyrosm:test_pbf"\n'
        f"[candidates]\nseed = {seed}\n[outputs]\nreport = false  # its figures take seconds\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def old_run(tmp_path, monkeypatch):
    """A finished run of workflow A (C2 first) in out/testi; workflow B ranks C4 first."""
    a, b = town_file(tmp_path, 0, "a.toml"), town_file(tmp_path, 1, "b.toml")
    with monkeypatch.context() as m:
        m.setattr(workflow, "_compute", lambda wf, progress, cache=None: computed(wf))
        out = tmp_path / "out"
        result = CliRunner().invoke(cli, ["-q", "run", str(a), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert set(signature(out / "testi").values()) == {FIRST[0]}
    return a, b, out


# before, during and after the GeoPackage is written, and at the swap
MOMENTS = [("compute", signal.SIGINT), ("gpkg", signal.SIGTERM), ("csv", signal.SIGINT),
           ("commit", signal.SIGTERM)]  # fmt: skip


@pytest.mark.parametrize(("pause", "sig"), MOMENTS)
def test_a_signal_leaves_the_old_folder_whole(old_run, monkeypatch, pause, sig):
    """In this process: the signal comes at the moment, from the run's own code."""
    _, b, out = old_run
    old = files(out / "testi")
    stand_in(pause, lambda: os.kill(os.getpid(), sig), monkeypatch.setattr)
    result = CliRunner().invoke(cli, ["-q", "run", str(b), "--out", str(out)])
    assert result.exit_code == 130, result.output
    assert "interrupted; the output folder is left as it was" in result.output
    assert files(out / "testi") == old
    assert sorted(p.name for p in out.iterdir()) == ["testi"]


KILLS = [("gpkg", signal.SIGKILL), ("commit", signal.SIGKILL), ("csv", signal.SIGINT)]


def test_a_killed_run_leaves_the_old_folder_whole(old_run, tmp_path, monkeypatch):
    """Separate processes, side by side, signalled from outside; then a run that ends."""
    _, b, out = old_run
    old = files(out / "testi")
    procs = []
    for k, (pause, _) in enumerate(KILLS):
        root = tmp_path / f"case{k}"
        shutil.copytree(out, root)
        procs.append(start(pause, tmp_path / f"flags{k}", "run", str(b), "--out", str(root)))
    for k, (_, sig) in enumerate(KILLS):
        wait_for(tmp_path / f"flags{k}" / "ready", [procs[k]])
        procs[k].send_signal(sig)
    for k, (pause, sig) in enumerate(KILLS):
        _, err = procs[k].communicate(timeout=60)
        root = tmp_path / f"case{k}"
        case = f"{signal.Signals(sig).name} at {pause}"
        if sig == signal.SIGKILL:
            assert procs[k].returncode == -signal.SIGKILL, case
            assert len(list(root.glob(".testi.staging-*"))) == 1, case  # the dead run's
        else:
            assert procs[k].returncode == 130, (case, err)
            assert "interrupted; the output folder is left as it was" in err, case
            assert "Traceback" not in err, (case, err)
            assert sorted(p.name for p in root.iterdir()) == ["testi"], case
        assert files(root / "testi") == old, case
    # the next run cleans up after the killed one and puts the new run in place, whole
    stand_in("none", None, monkeypatch.setattr)
    root = tmp_path / "case0"
    result = CliRunner().invoke(cli, ["-q", "run", str(b), "--out", str(root)])
    assert result.exit_code == 0, result.output
    assert set(signature(root / "testi").values()) == {FIRST[1]}
    assert sorted(p.name for p in root.iterdir()) == ["testi"]


def test_concurrent_runs_into_one_folder(old_run, tmp_path, monkeypatch):
    """B while A writes: fails at once (exit 5), or with --wait runs after A; never mixed."""
    a, b, out = old_run
    first = start("csv", tmp_path / "a", "run", str(b), "--out", str(out))
    wait_for(tmp_path / "a" / "ready", [first])  # A holds the folder, half-way
    with monkeypatch.context() as m:
        stand_in("none", None, m.setattr)
        busy = CliRunner().invoke(cli, ["-q", "run", str(a), "--out", str(out)])
    assert busy.exit_code == 5, busy.output
    assert f"another run (pid {first.pid}) is writing this output folder" in busy.output
    queued = start("compute", tmp_path / "c", "run", str(a), "--wait", "--out", str(out))
    (tmp_path / "a" / "go").touch()
    _, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    wait_for(tmp_path / "c" / "ready", [queued])  # it got the lock once A was done
    assert set(signature(out / "testi").values()) == {FIRST[1]}  # A's run, whole
    (tmp_path / "c" / "go").touch()
    _, err = queued.communicate(timeout=120)
    assert queued.returncode == 0, err
    assert set(signature(out / "testi").values()) == {FIRST[0]}  # the queued run's, whole


def test_ctrl_c_inside_a_compiled_kernel(old_run, tmp_path):
    """SIGINT during the centrality kernel: exit 130 within seconds, no SystemError."""
    _, b, out = old_run
    before = files(out / "testi")
    proc = start("kernel", tmp_path / "k", "run", str(b), "--out", str(out))
    wait_for(tmp_path / "k" / "ready", [proc], timeout=300)
    time.sleep(0.5)  # inside the kernel, which runs until the signal
    proc.send_signal(signal.SIGINT)
    sent = time.monotonic()
    _, err = proc.communicate(timeout=60)
    took = time.monotonic() - sent
    assert proc.returncode == 130, err
    assert "SystemError" not in err and "Traceback" not in err, err
    print(f"exit {took:.1f} s after SIGINT")
    assert took < 15, took  # about 1 s per kernel call on 2 cores at a load of 15
    assert files(out / "testi") == before
    assert sorted(p.name for p in out.iterdir()) == ["testi"]
