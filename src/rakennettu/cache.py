"""The stage cache: a run's expensive stages kept between runs, keyed by what made them.

A stage's key is a SHA-256 of the keys of its inputs (the loaded town's content hash at
the root, see :func:`town_key`), the workflow sections it reads (:class:`Stage`), and the
package's code (version and the source of every module). So a run that changes only the
synthesis weights finds every layer in the cache, and a change to a layer's settings
recomputes that layer and what depends on it.

An entry is a folder ``<cache>/stages/<stage>/<key>/``: every table of the result as a
(Geo)Parquet file, and the rest (small records, rasters, lists of geometries) in
``entry.pickle``, which refers to the Parquet files by number. A table is stored as
Parquet only when it reads back identical (values, dtypes, index, CRS, geometry bytes);
otherwise it stays in the pickle (the loaded town is pickled whole: faster, and only
the package reads it). An entry is written to a temporary folder and renamed
into place, so concurrent runs never see half an entry; an entry that cannot be read
is ignored with a warning and computed again.

The cache folder is ``[cache] folder`` of the workflow, else ``$RAKENNETTU_CACHE``, else
``~/.cache/rakennettu``; stages go to its ``stages/`` subfolder. ``[cache] stages =
false`` (or ``rakennettu run --no-cache``) turns the stage cache off. The pickle is read
back, so keep the cache folder writable by you only (as the default is).
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import logging
import os
import pickle
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from rakennettu._version import __version__
from rakennettu.i18n import logged_said

__all__ = [
    "Stage",
    "StageCache",
    "cached_town",
    "code_hash",
    "load_key",
    "settings_of",
    "town_key",
]

log = logging.getLogger(__name__)

_ENTRY = "entry.pickle"


@dataclass(frozen=True)
class Stage:
    """One cached stage of a run, as :data:`rakennettu.workflow.STAGES` declares it.

    Attributes
    ----------
    name
        The stage (``"morphology"``).
    inputs
        The stages whose results it reads (``"load"`` is the town).
    settings
        The workflow sections it reads: ``"form"`` (the whole section) or
        ``"synthesis.cell_size"`` (one key).
    without
        Keys of those sections it does not read (``"candidates.draws"``).
    """

    name: str
    inputs: tuple[str, ...]
    settings: tuple[str, ...]
    without: tuple[str, ...] = ()


def settings_of(workflow: Any, stage: Stage) -> dict[str, Any]:
    """The workflow settings a stage reads, as plain JSON values.

    Examples
    --------
    >>> from rakennettu import bundled_workflow, load_workflow
    >>> wf = load_workflow(bundled_workflow("kotka-karhula"))
    >>> s = settings_of(wf, Stage("x", (), ("form", "synthesis.cell_size")))
    >>> sorted(s), s["synthesis.cell_size"]
    (['form', 'synthesis.cell_size'], 62.0)
    """
    out: dict[str, Any] = {}
    for name in stage.settings:
        section, _, key = name.partition(".")
        value = getattr(workflow, section)
        if key:
            value = getattr(value, key)
        data = value.model_dump(mode="json") if hasattr(value, "model_dump") else value
        if isinstance(data, dict):
            for drop in stage.without:
                sec, _, k = drop.partition(".")
                if sec == name:
                    data.pop(k, None)
        out[name] = data
    return json.loads(json.dumps(out, sort_keys=True, default=str))


@functools.cache
def code_hash() -> str:
    """SHA-256 of the package version and the source of every module of the package."""
    h = hashlib.sha256(__version__.encode())
    root = Path(__file__).parent
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _digest(obj: Any) -> str:
    h = hashlib.sha256()
    pickle.dump(obj, _HashWriter(h), protocol=5)
    return h.hexdigest()


class _HashWriter(io.RawIOBase):
    def __init__(self, h: Any) -> None:
        self.h = h

    def write(self, b: Any) -> int:
        view = memoryview(b)
        self.h.update(view)
        return view.nbytes


def town_key(town: Any) -> str:
    """The content hash of a loaded town: its frames, area, CRS and rasters.

    Two loads of the same data give the same key (timings and other run facts in
    ``town.report`` are left out).
    """
    parts = {
        "name": town.name,
        "crs": town.crs.to_wkt(),
        "area": town.area.wkb,
        "context": town.context.wkb,
        "sources": json.dumps(town.sources, sort_keys=True, default=str),
    }
    h = hashlib.sha256(json.dumps({k: str(v) for k, v in parts.items()}).encode())
    for name in ("nodes", "edges", "buildings", "activities", "third_places", "landmarks",
                 "green_blue", "candidates", "barriers", "features", "population"):  # fmt: skip
        frame = getattr(town, name)
        h.update(name.encode())
        h.update(b"none" if frame is None else _frame_digest(frame).encode())
    if town.dem is not None:
        h.update(_digest((town.dem.array.tobytes(), tuple(town.dem.transform))).encode())
    return h.hexdigest()


#: What a loaded town does not depend on: left out of :func:`load_key`, so that a run
#: with new weights or other outputs reads the town from the cache.
LOAD_WITHOUT = {
    "outputs": None,
    "cache": None,
    "region": None,
    "form": None,
    "completeness": None,
    "synthesis": ("weights", "normalise"),
    "candidates": ("context_weight", "draws", "kappa", "seed"),
}

#: The libraries whose results are in a loaded town (a new version may read differently).
_LOAD_LIBRARIES = ("geopandas", "networkx", "numpy", "osmium", "osmnx", "pandas", "pyogrio",
                   "pyproj", "pyrosm", "rasterio", "shapely")  # fmt: skip


def load_key(workflow: Any) -> str | None:
    """The cache key of a town before it is loaded: what :func:`~rakennettu.load_town` reads.

    A SHA-256 of the content of every input file (the OSM extract, the area polygon, the
    municipal layers and rasters) with their paths, the workflow's settings (all but
    :data:`LOAD_WITHOUT`), the tag tables, the package's code (:func:`code_hash`) and
    the versions of the libraries that read the data. None when
    a source is online (an Overpass query or a WFS layer: their own caches decide what is
    new), or an input file cannot be read (the load reports it).

    Examples
    --------
    >>> from rakennettu import bundled_workflow, load_workflow
    >>> wf = load_workflow(bundled_workflow("kotka-karhula"))
    >>> key = load_key(wf)
    >>> len(key), load_key(wf.updated({"synthesis.weights.cult": 3})) == key
    (64, True)
    >>> load_key(wf.updated({"network.radii": [400]})) == key
    False
    """
    from importlib.metadata import PackageNotFoundError, version

    from rakennettu._io import file_hash
    from rakennettu._resources import taxonomy_dir

    if workflow.osm.source != "file" or any(lay.url is not None for lay in workflow.layers):
        return None
    settings = workflow.model_dump(mode="json")
    for section, keys in LOAD_WITHOUT.items():
        if keys is None:
            settings.pop(section, None)
        else:
            for k in keys:
                settings.get(section, {}).pop(k, None)
    inputs: dict[str, Any] = {}
    try:
        for role, path in workflow.input_files().items():
            files = sorted(q for q in path.rglob("*") if q.is_file()) if path.is_dir() else [path]
            inputs[role] = [str(path), *(f"{q.name}:{file_hash(q)}" for q in files)]
    except OSError:
        return None
    libraries: dict[str, str | None] = {}
    for name in _LOAD_LIBRARIES:
        try:
            libraries[name] = version(name)
        except PackageNotFoundError:
            libraries[name] = None
    data = {
        "stage": "load",
        "settings": settings,
        "inputs": inputs,
        "tables": {p.name: file_hash(p) for p in sorted(taxonomy_dir().iterdir()) if p.is_file()},
        "libraries": libraries,
        "code": code_hash(),
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def cached_town(
    workflow: Any, cache: StageCache, load: Callable[[], Any]
) -> tuple[Any, str | None]:
    """A workflow's town from the cache's ``load`` entry, or ``load()`` ed and kept there.

    The entry is keyed by :func:`load_key` (the input files' content, the settings, the
    code) and holds the town with its content key (:func:`town_key`); a town read back
    has no load timings (``report["timings_s"]`` is empty), as a cached stage has none.
    Without a cache folder, or for an online source (no key), the town is loaded.

    Returns
    -------
    (Town, str or None)
        The town and its content key (None without a cache folder).
    """
    key = load_key(workflow) if cache.folder is not None else None
    if key is None:
        town = load()
        cache.status["load"] = {"status": "computed", "key": None}
        return town, (town_key(town) if cache.folder is not None else None)

    def compute() -> tuple[Any, str]:
        town = load()
        return town, town_key(town)

    town, content = cache.get_or_compute("load", key, compute, tables=False)
    if cache.status["load"]["status"] == "cached":
        town = replace(town, report={**town.report, "timings_s": {}})
    return town, content


def _frame_digest(frame: pd.DataFrame) -> str:
    h = hashlib.sha256(repr((list(frame.columns), [str(t) for t in frame.dtypes])).encode())
    h.update(repr(list(frame.index.names)).encode())
    if isinstance(frame, gpd.GeoDataFrame):
        geo = frame.geometry.name
        h.update(b"".join(g or b"" for g in frame.geometry.to_wkb()))
        frame = pd.DataFrame(frame.drop(columns=geo))
    try:
        h.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    except TypeError:  # unhashable cells (lists, dicts): their pickle
        h.update(_digest(frame).encode())
    return h.hexdigest()


def stage_key(stage: Stage, workflow: Any, inputs: Mapping[str, str]) -> str:
    """The cache key of a stage from its inputs' keys, its settings and the code."""
    data = {
        "stage": stage.name,
        "inputs": {k: inputs[k] for k in stage.inputs},
        "settings": settings_of(workflow, stage),
        "code": code_hash(),
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


class _Capture(logging.Handler):
    """The warnings logged by this thread (another may compute another stage meanwhile)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[tuple[str, int, str]] = []
        self.thread = threading.get_ident()

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != self.thread:
            return
        # a Said warning is kept whole, so that a cached run says it in its language too
        said = logged_said(record)
        self.records.append((record.name, record.levelno, said or record.getMessage()))


@contextmanager
def _captured() -> Iterator[list[tuple[str, int, str]]]:
    handler = _Capture()
    lg = logging.getLogger("rakennettu")
    lg.addHandler(handler)
    try:
        yield handler.records
    finally:
        lg.removeHandler(handler)


@dataclass
class StageCache:
    """Read and write the results of stages (see the module's description).

    Parameters
    ----------
    folder
        The cache root (entries go to ``folder/stages``); None: no cache, every stage
        is computed.

    Attributes
    ----------
    status
        Per stage run through :meth:`get_or_compute`: ``{"status": "computed" |
        "cached", "key": ..., "seconds": ...}``, for the run record.

    Examples
    --------
    >>> import tempfile
    >>> cache = StageCache(Path(tempfile.mkdtemp()))
    >>> frame = pd.DataFrame({"a": [1.5, 2.0]}, index=pd.Index([3, 4], name="node_id"))
    >>> first = cache.get_or_compute("demo", "k1", lambda: {"t": frame, "n": 2})
    >>> again = cache.get_or_compute("demo", "k1", lambda: 1 / 0)
    >>> again["t"].equals(frame), cache.status["demo"]["status"]
    (True, 'cached')
    """

    folder: Path | None
    status: dict[str, dict[str, Any]] = field(default_factory=dict)

    def path(self, name: str, key: str) -> Path | None:
        """The folder of an entry (None without a cache)."""
        return None if self.folder is None else self.folder / "stages" / name / key

    def get_or_compute(
        self, name: str, key: str, compute: Callable[[], Any], *, tables: bool = True
    ) -> Any:
        """The stage's result from the cache, or computed (and stored) when absent.

        Warnings logged while the stage was computed are stored with it and logged
        again when it is read, so a cached run warns as a fresh one does. ``tables=False``
        keeps the tables in the pickle too (faster to write and read back than Parquet,
        for a result read only by the package: the loaded town).
        """
        started = time.perf_counter()
        hit = self._read(name, key)
        if hit is not None:
            return self._replay(name, key, *hit)
        with self._computing(name, key):
            hit = self._read(name, key)  # written meanwhile by a run that held the lock
            if hit is not None:
                return self._replay(name, key, *hit)
            with _captured() as records:
                value = compute()
            self._write(name, key, value, records, tables=tables)
        self.status[name] = {"status": "computed", "key": key}
        log.debug("stage %s: %.2f s", name, time.perf_counter() - started)
        return value

    def _replay(self, name: str, key: str, value: Any, records: list[Any]) -> Any:
        """A stored result, with the warnings logged when it was computed."""
        for logger, level, message in records:
            logging.getLogger(logger).log(level, "%s", message)
        self.status[name] = {"status": "cached", "key": key}
        return value

    @contextmanager
    def _computing(self, name: str, key: str) -> Iterator[None]:
        """Hold the entry's lock while computing it.

        Another process (or thread) that needs the same entry meanwhile waits for it and
        then reads it, instead of computing it a second time. The operating system
        releases the lock of a process that dies. Without a writable cache, or where
        ``fcntl`` is missing (Windows), there is no lock.
        """
        where = self.path(name, key)
        try:
            import fcntl

            assert where is not None
            where.parent.mkdir(parents=True, exist_ok=True)
            fh = open(where.parent / f".{key}.lock", "ab")  # noqa: SIM115
        except (ImportError, AssertionError, OSError):
            yield
            return
        with fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            yield

    def read(self, name: str, key: str) -> Any | None:
        """A stage's stored result, or None when absent or unreadable (then with a warning)."""
        hit = self._read(name, key)
        return None if hit is None else hit[0]

    def _read(self, name: str, key: str) -> tuple[Any, list[Any]] | None:
        where = self.path(name, key)
        if where is None or not (where / _ENTRY).is_file():
            return None
        try:
            with open(where / _ENTRY, "rb") as fh:
                data = _Unpickler(fh, where).load()
            return data["value"], data["records"]
        except Exception as e:  # a corrupt or foreign entry: compute again
            log.warning(
                "stage cache: the entry %s could not be read (%s: %s); computing %s again",
                where, type(e).__name__, str(e)[:200], name,
            )  # fmt: skip
            _discard(where)
            return None

    def _write(
        self, name: str, key: str, value: Any, records: list[Any], *, tables: bool = True
    ) -> None:
        where = self.path(name, key)
        if where is None:
            return
        try:
            where.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=f".{key[:12]}.", dir=where.parent))
            try:
                with open(tmp / _ENTRY, "wb") as fh:
                    pickler = _Pickler(fh, tmp) if tables else pickle.Pickler(fh, protocol=5)
                    pickler.dump({"value": value, "records": records})
                _publish(tmp, where)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        except Exception as e:  # a full disk or a read-only cache must not stop a run
            log.warning("stage cache: could not store %s (%s: %s)", name, type(e).__name__, e)


def _discard(where: Path) -> None:
    """Move an entry out of the way (atomically) and delete it."""
    old = where.with_name(f".old-{uuid.uuid4().hex}")
    try:
        os.rename(where, old)
    except OSError:
        return
    shutil.rmtree(old, ignore_errors=True)


def _publish(tmp: Path, where: Path) -> None:
    """Rename a finished entry into place; a concurrent writer's identical entry wins."""
    try:
        os.rename(tmp, where)
    except OSError:
        if not (where / _ENTRY).is_file():  # an incomplete leftover: replace it
            _discard(where)
            os.rename(tmp, where)


def _same(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Whether a table read back is the table written: values, dtypes, index, CRS, geometry."""
    try:
        if type(a) is not type(b) or a.attrs != b.attrs:
            return False
        if list(a.columns.names) != list(b.columns.names):
            return False
        if isinstance(a, gpd.GeoDataFrame):
            if a.geometry.name != b.geometry.name or a.crs != b.crs:
                return False
            if list(a.geometry.to_wkb()) != list(b.geometry.to_wkb()):
                return False
            a, b = (
                pd.DataFrame(a.drop(columns=a.geometry.name)),
                pd.DataFrame(b.drop(columns=b.geometry.name)),
            )
        pd.testing.assert_frame_equal(a, b, check_exact=True, check_flags=True)
        return True
    except Exception:
        return False


class _Pickler(pickle.Pickler):
    """Pickle a result, with its tables as (Geo)Parquet files beside it where exact."""

    def __init__(self, fh: Any, folder: Path) -> None:
        super().__init__(fh, protocol=5)
        self.folder = folder
        self.n = 0

    def persistent_id(self, obj: Any) -> Any:
        if type(obj) not in (pd.DataFrame, gpd.GeoDataFrame) or not len(obj.columns):
            return None
        if _has_containers(obj):  # never read back the same: not worth the try (seconds)
            return None
        path = self.folder / f"table-{self.n}.parquet"
        try:
            obj.to_parquet(path)
            back = _read_table(path, geo=isinstance(obj, gpd.GeoDataFrame))
        except Exception:
            back = None
        if back is None or not _same(obj, back):
            path.unlink(missing_ok=True)
            return None
        self.n += 1
        return ("parquet", path.name, isinstance(obj, gpd.GeoDataFrame))


def _has_containers(frame: pd.DataFrame) -> bool:
    """Whether a column holds dicts, lists, tuples or sets (judged by its first value).

    Parquet stores them as structs and lists, which read back as other objects (a dict
    gains every other row's keys), so such a table stays in the pickle.
    """
    for _, column in frame.items():
        if column.dtype == object:
            values = column.dropna()
            if len(values) and isinstance(values.iloc[0], dict | list | tuple | set):
                return True
    return False


def _read_table(path: Path, *, geo: bool) -> pd.DataFrame:
    return gpd.read_parquet(path) if geo else pd.read_parquet(path)


class _Unpickler(pickle.Unpickler):
    def __init__(self, fh: Any, folder: Path) -> None:
        super().__init__(fh)
        self.folder = folder

    def persistent_load(self, pid: Any) -> Any:
        kind, name, geo = pid
        if kind != "parquet" or "/" in name or "\\" in name:
            raise pickle.UnpicklingError(f"unknown table reference {pid!r}")
        return _read_table(self.folder / name, geo=bool(geo))
