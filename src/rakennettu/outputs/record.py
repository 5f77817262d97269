"""The run record (``run.json``): what produced a run's outputs, so it can be repeated.

A record holds the versions of rakennettu, its dependencies and the geospatial C
libraries; the resolved workflow; a hash of every input file; timings per stage; counts
per layer; warnings; the ranking's robustness figures; and the data sources with their
licences. It is plain JSON (schema 1): dicts, lists, strings, numbers and null.

The map and the report read it back (:func:`read_record`), so ``map.html`` and
``report.html`` can be rebuilt from an output folder without recomputing anything.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib.metadata
import json
import logging
import platform
import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from rakennettu._io import atomic_path, file_hash
from rakennettu._io import json_plain as _jsonable
from rakennettu._version import __version__
from rakennettu.errors import SourceError
from rakennettu.i18n import Said, logged_said

__all__ = [
    "SCHEMA",
    "collect_warnings",
    "read_record",
    "run_record",
    "sensitivity_frame",
    "warning_source",
    "write_record",
]

log = logging.getLogger(__name__)

#: The version of the record's layout; bumped when a key changes meaning.
SCHEMA = 1

# Recorded even where rakennettu is not installed as a distribution (a source checkout).
_CORE = (
    "numpy", "pandas", "scipy", "numba", "networkx", "shapely", "pyproj", "geopandas",
    "pyogrio", "pyarrow", "rasterio", "osmnx", "momepy", "libpysal", "pyrosm", "osmium",
    "folium", "branca", "jinja2", "matplotlib", "pydantic", "click", "tqdm", "dask",
    "distributed",
)  # fmt: skip
_REQ_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _dependency_names() -> list[str]:
    try:
        reqs = importlib.metadata.requires("rakennettu") or []
    except importlib.metadata.PackageNotFoundError:
        reqs = []
    names = [m.group(1) for r in reqs if "extra ==" not in r and (m := _REQ_NAME.match(r))]
    return sorted({*names, *_CORE}, key=str.lower)


def versions() -> dict[str, str | None]:
    """Installed versions of rakennettu's runtime dependencies (None when absent)."""
    out: dict[str, str | None] = {}
    for name in _dependency_names():
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def library_versions() -> dict[str, str | None]:
    """Versions of the C libraries beneath the geospatial stack: GEOS, PROJ, GDAL."""
    out: dict[str, str | None] = {"GEOS": None, "PROJ": None, "GDAL": None}
    with contextlib.suppress(Exception):
        import shapely

        out["GEOS"] = shapely.geos_version_string
    with contextlib.suppress(Exception):
        import pyproj

        out["PROJ"] = pyproj.proj_version_str
    with contextlib.suppress(Exception):
        import pyogrio

        out["GDAL"] = pyogrio.__gdal_version_string__
    return out


def _frame_json(frame: pd.DataFrame) -> dict[str, Any]:
    return {
        "index": [str(i) for i in frame.index],
        "columns": [str(c) for c in frame.columns],
        "data": _jsonable(frame.to_numpy(dtype=object).tolist()),
    }


def sensitivity_frame(record: Mapping[str, Any]) -> pd.DataFrame | None:
    """The ranking's sensitivity table of a record, as a DataFrame (None if absent).

    Examples
    --------
    >>> rec = run_record(sensitivity=pd.DataFrame({"rank": [1, 2]}, index=["C1", "C2"]))
    >>> sensitivity_frame(rec)["rank"].tolist()
    [1, 2]
    """
    sens = (record.get("ranking") or {}).get("sensitivity")
    if not sens:
        return None
    frame = pd.DataFrame(sens["data"], index=sens["index"], columns=sens["columns"])
    return _numeric(frame)


def _numeric(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        with contextlib.suppress(ValueError, TypeError):
            out[col] = pd.to_numeric(out[col])
    return out


def _hash_inputs(
    inputs: Mapping[str, str | Path], sources: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    seen: set[Path] = set()
    out: list[dict[str, Any]] = []
    candidates: list[tuple[str, str]] = [(k, str(v)) for k, v in inputs.items()]
    candidates += [(str(s.get("role", "")), str(s.get("source", ""))) for s in sources]
    for name, where in candidates:
        if not where or "://" in where:
            continue
        path = Path(where).expanduser()
        if not path.is_file():
            continue
        path = path.resolve()
        if path in seen:
            continue
        seen.add(path)
        out.append(
            {
                "name": name,
                "path": str(path),
                "bytes": path.stat().st_size,
                "sha256": file_hash(path),
            }
        )
    return out


def run_record(
    *,
    workflow: Any = None,
    title: str | None = None,
    inputs: Mapping[str, str | Path] | None = None,
    sources: Sequence[Mapping[str, Any]] = (),
    timings: Mapping[str, float] | None = None,
    counts: Mapping[str, int] | None = None,
    warnings: Sequence[str] = (),
    stability: float | None = None,
    sensitivity: pd.DataFrame | None = None,
    ranking_extra: Mapping[str, Any] | None = None,
    area_km2: float | None = None,
    crs: str | None = None,
    created: dt.datetime | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Put together the record of a run.

    Parameters
    ----------
    workflow
        The resolved :class:`rakennettu.config.Workflow` (dumped with
        ``model_dump(mode="json")``), or its dict.
    title
        The town's display name (by default the workflow's).
    inputs
        Name -> input file to hash (sha256), besides the sources' local files.
    sources
        The data sources (``Town.sources``): dicts with ``role``, ``source`` and
        ``licence``; each local file among them is hashed.
    timings
        Seconds per stage.
    counts
        Rows per output layer.
    warnings
        Warnings raised during the run, as text (English); the :class:`~rakennettu.i18n.Said`
        ones also as message and values (``warning_messages``), to say in a language.
    stability
        The ranking's top-ten stability (0-1).
    sensitivity
        The ranking's sensitivity table (rows: the top sites and ``kept_in_top``).
    ranking_extra
        More keys of the ``ranking`` section (dimensions left out, assumptions drawn).
    area_km2, crs
        The study area's size (km²) and the town's CRS.
    created
        When the run ended (default: now, UTC).
    extra
        More keys to record as they are.

    Returns
    -------
    dict
        Plain JSON values only.

    Examples
    --------
    >>> rec = run_record(timings={"load": 1.5}, counts={"cells": 537}, stability=0.9)
    >>> rec["schema"], rec["timings_s"], rec["ranking"]["stability"]
    (1, {'load': 1.5}, 0.9)
    """
    wf: dict[str, Any] | None = None
    source_file: str | None = None
    name: str | None = None
    if workflow is not None:
        if hasattr(workflow, "model_dump"):
            wf = workflow.model_dump(mode="json")
            sf = getattr(workflow, "source_file", None)
            source_file = str(sf) if sf is not None else None
            title = title or getattr(workflow, "title", None)
        else:
            wf = dict(workflow)
        name = (wf.get("town") or {}).get("name")
        title = title or (wf.get("town") or {}).get("title") or name
    when = created or dt.datetime.now(dt.UTC)
    record: dict[str, Any] = {
        "schema": SCHEMA,
        "created": when.isoformat(timespec="seconds"),
        "rakennettu": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions(),
        "libraries": library_versions(),
        "town": {"name": name, "title": title, "area_km2": area_km2, "crs": crs},
        "workflow": wf,
        "workflow_file": source_file,
        "inputs": _hash_inputs(inputs or {}, sources),
        "sources": [dict(s) for s in sources],
        "timings_s": dict(timings or {}),
        "counts": dict(counts or {}),
        "warnings": [str(w) for w in warnings],
        "warning_messages": [w.record() if isinstance(w, Said) else None for w in warnings],
        "ranking": {
            "stability": stability,
            "sensitivity": _frame_json(sensitivity) if sensitivity is not None else None,
            **dict(ranking_extra or {}),
        },
    }
    if extra:
        record.update(extra)
    out: dict[str, Any] = _jsonable(record)
    return out


def write_record(record: Mapping[str, Any], path: str | Path) -> Path:
    """Write a run record as JSON (UTF-8, indented), atomically.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = write_record(run_record(), pathlib.Path(tempfile.mkdtemp()) / "run.json")
    >>> read_record(p)["schema"]
    1
    """
    path = Path(path)
    text = json.dumps(_jsonable(record), indent=2, ensure_ascii=False, allow_nan=False)
    with atomic_path(path) as tmp:
        tmp.write_text(text + "\n", encoding="utf-8")
    return path


def read_record(path: str | Path) -> dict[str, Any]:
    """Read a run record back.

    Raises
    ------
    SourceError
        The file is missing or is not a record.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourceError(
            f"{path}: no run record here; run the workflow first (rakennettu run WORKFLOW)"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise SourceError(f"{path}: not a readable run record ({err}); run again") from None
    if not isinstance(data, dict) or "schema" not in data:
        raise SourceError(f"{path}: not a rakennettu run record (no 'schema' key)")
    if data["schema"] > SCHEMA:
        log.warning("%s: record schema %s is newer than this rakennettu's (%s)",
                    path, data["schema"], SCHEMA)  # fmt: skip
    return data


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):
            said = logged_said(record)
            if said is None:
                self.messages.append(f"{record.name}: {record.getMessage()}")
            else:  # English as before, sayable in the run's language
                self.messages.append(Said("{source}: {text}", source=record.name, text=said))


def warning_source(filename: str) -> str:
    """The module a warning was raised in, from its file name.

    Examples
    --------
    >>> warning_source("/venv/lib/python3.11/site-packages/momepy/functional/_shape.py")
    'momepy.functional._shape'
    >>> warning_source("/work/src/rakennettu/layers/form.py")
    'rakennettu.layers.form'
    """
    parts = Path(filename).with_suffix("").parts
    for anchor in ("site-packages", "dist-packages", "src"):
        if anchor in parts:
            rest = parts[len(parts) - parts[::-1].index(anchor) :]
            if rest:
                return ".".join(p for p in rest if p != "__init__")
    return Path(filename).stem


class _ThirdParty:
    """Python warnings (numpy, shapely, momepy, pyogrio...) as log records, each once."""

    def __init__(self, logger: logging.Logger) -> None:
        self.log = logger
        self.seen: set[tuple[str, str, str]] = set()

    def __call__(self, message: Any, category: type[Warning], filename: str,
                 lineno: int, file: Any = None, line: str | None = None) -> None:  # fmt: skip
        source = warning_source(filename)
        text = str(message).strip().splitlines()[0] if str(message).strip() else ""
        key = (source, category.__name__, text)
        if key in self.seen:
            return
        self.seen.add(key)
        self.log.warning("%s (%s, %s:%d): %s", category.__name__, source,
                         Path(filename).name, lineno, text)  # fmt: skip


@contextlib.contextmanager
def collect_warnings(logger: str = "rakennettu") -> Iterator[list[str]]:
    """Collect the warnings logged under ``logger`` during a block, for the record.

    The messages still reach the other handlers as usual. Python warnings raised in the
    block (numpy's RuntimeWarning, shapely's, momepy's UserWarning...) are logged as
    ``<logger>.warnings`` records instead of printed raw to stderr, each distinct one
    once, with the module it came from; the warning filters stay as they are (a filter
    that turns a warning into an error still does).

    Examples
    --------
    >>> with collect_warnings() as caught:
    ...     logging.getLogger("rakennettu.test").warning("3 sites have no access")
    >>> caught
    ['rakennettu.test: 3 sites have no access']
    """
    handler = _Collect()
    lg = logging.getLogger(logger)
    lg.addHandler(handler)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _ThirdParty(logging.getLogger(f"{logger}.warnings"))
            yield handler.messages
    finally:
        lg.removeHandler(handler)
