"""Shared fixtures: bundled towns, ../shared/data, a network guard."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("RAKENNETTU_SHARED_DATA", REPO.parent / "shared" / "data"))


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


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Each test session gets its own rakennettu cache folder."""
    monkeypatch.setenv("RAKENNETTU_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="session")
def kotka():
    """The bundled Kotka, Karhula town, loaded once."""
    from rakennettu import load_town

    return load_town("kotka-karhula")


@pytest.fixture(scope="session")
def helsinki():
    """The bundled central Helsinki town, loaded once."""
    from rakennettu import load_town

    return load_town("helsinki-keskusta")


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
    """`rakennettu run kotka-karhula` once for the session: (CLI result, output folder)."""
    from click.testing import CliRunner

    from rakennettu.cli import cli

    out = tmp_path_factory.mktemp("kotka-run")
    result = CliRunner().invoke(cli, ["-q", "run", "kotka-karhula", "--out", str(out)])
    return result, out
