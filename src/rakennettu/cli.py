"""The ``rakennettu`` command: argument parsing only; the work is in :mod:`rakennettu.workflow`.

Exit codes
----------
0  success
1  internal error (a bug: please report it with the traceback from ``-v``)
2  usage error (unknown command or option)
3  invalid workflow file
4  input data problem (missing, unreadable or corrupt file; CRS; empty area), also a
   missing workflow file and an output folder that holds another town's outputs
5  the output folder is busy: another run is writing it (``--wait`` queues instead)
130 interrupted (Ctrl-C or SIGTERM); the output folder is left as it was

``rakennettu batch`` exits 0 when every town has results (run now or unchanged), 1 when
any town failed with an internal error, else 4 when towns failed with data or workflow
problems; 2 (usage), 3 (two workflows name one town) and 130 as above.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from rakennettu import interrupt
from rakennettu._console import console_text
from rakennettu._version import __version__
from rakennettu.errors import ConfigError, FolderBusyError, RakennettuError
from rakennettu.i18n import logged_said, spoken

__all__ = ["EXIT_CODES", "main"]

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_CONFIG, EXIT_DATA, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130
EXIT_BUSY = 5
EXIT_CODES = {
    "ok": EXIT_OK,
    "internal": EXIT_INTERNAL,
    "usage": EXIT_USAGE,
    "config": EXIT_CONFIG,
    "data": EXIT_DATA,
    "busy": EXIT_BUSY,
    "interrupted": EXIT_INTERRUPTED,
}

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger("rakennettu")


class _Formatter(logging.Formatter):
    """Plain progress lines; warnings and errors say what (and under -v, where)."""

    def __init__(self, verbose: int = 0) -> None:
        super().__init__()
        self.verbose = verbose

    def format(self, record: logging.LogRecord) -> str:
        message = _log_message(record)
        if record.levelno == logging.INFO:
            line = message
        elif self.verbose or record.levelno < logging.WARNING:
            line = f"{record.levelname} {record.name}: {message}"
        else:
            line = f"{record.levelname.lower()}: {message}"
        if record.exc_info and self.verbose:
            line += "\n" + self.formatException(record.exc_info)
        return line


def _log_message(record: logging.LogRecord) -> str:
    """The message with no control characters: each text argument kept to one line.

    A :class:`~rakennettu.i18n.Said` message (a run's warning) is said in the run's
    language (:func:`~rakennettu.i18n.spoken`).
    """
    said = logged_said(record)
    if said is not None:
        return console_text(said.in_(spoken()), one_line=False)
    args = record.args
    if isinstance(args, tuple) and args:
        args = tuple(console_text(a) if isinstance(a, str) else a for a in args)
    elif isinstance(args, dict):
        args = {k: console_text(v) if isinstance(v, str) else v for k, v in args.items()}
    message = str(record.msg) % args if args else str(record.msg)
    return console_text(message, one_line=False)


def _echo(text: Any, *, err: bool = False, one_line: bool = True) -> None:
    """Print a line with every control character removed.

    Text from data (a site's name, a title) cannot move the cursor, recolour the terminal
    or print a fake line; ``one_line=False`` keeps the line breaks of a message of the
    program's own.
    """
    click.echo(console_text(text, one_line=one_line), err=err)


def _setup_logging(verbose: int, quiet: int) -> None:
    """Set what the console shows from -v/-q.

    By default a run shows one line per stage and any warnings; -v every module's steps,
    -vv debug; -q errors only. The loggers themselves keep passing warnings, so the run
    record (run.json) lists them whatever the console shows.
    """
    console = logging.WARNING - 10 * verbose + 10 * quiet
    stages = quiet == 0

    def show(record: logging.LogRecord) -> bool:
        if record.levelno >= console:
            return True
        return stages and record.name == "rakennettu.workflow" and record.levelno >= logging.INFO

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter(verbose))
    handler.addFilter(show)
    root = logging.getLogger("rakennettu")
    root.handlers[:] = [handler]
    root.setLevel(max(logging.DEBUG, min(console, logging.INFO)))
    root.propagate = False


def _guard(func: F) -> F:
    """Map exceptions to exit codes and clear messages."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        try:
            with interrupt.handling():  # SIGTERM as Ctrl-C; held back in compiled kernels
                return func(*args, **kwargs)
        except ConfigError as e:
            _echo(f"invalid workflow: {e}", err=True, one_line=False)
            ctx.exit(EXIT_CONFIG)
        except FolderBusyError as e:
            _echo(f"busy: {e}", err=True, one_line=False)
            ctx.exit(EXIT_BUSY)
        except RakennettuError as e:
            _echo(f"error: {e}", err=True, one_line=False)
            ctx.exit(EXIT_DATA)
        except KeyboardInterrupt as e:
            click.echo(
                str(e)
                if str(e) == interrupt.COMMITTED
                else "interrupted; the output folder is left as it was",
                err=True,
            )
            ctx.exit(EXIT_INTERRUPTED)
        except click.exceptions.Exit:
            raise
        except click.ClickException:
            raise
        except Exception as e:
            from rakennettu._io import write_problem

            why = write_problem(e)
            if why is not None:  # a full disk or a read-only folder: not a bug
                target = getattr(e, "filename", None) or "the output folder"
                _echo(f"error: cannot write to {target}: {why} ({e})", err=True, one_line=False)
                ctx.exit(EXIT_DATA)
            if (ctx.find_root().obj or {}).get("verbose", 0) > 0:
                _echo(traceback.format_exc().rstrip(), err=True, one_line=False)
                hint = "please report it with the traceback above"
            else:
                hint = "run with -v for the traceback and report it"
            _echo(f"internal error: {type(e).__name__}: {e}\n({hint})", err=True, one_line=False)
            ctx.exit(EXIT_INTERNAL)

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper  # type: ignore[return-value]


def _workflow_arg(value: str) -> str | Path:
    """A bundled town name stays a name; anything else is a path."""
    from rakennettu._resources import bundled_workflows

    return value if value in bundled_workflows() else Path(value)


def _town_folder(wf: Any, out_dir: Path | None) -> Path:
    """A town's output folder: ``DIR/<town>`` for ``--out DIR``, else the workflow's."""
    return out_dir / wf.town.name if out_dir is not None else Path(wf.out_dir)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="rakennettu")
@click.option("-v", "--verbose", count=True, help="More output (-vv for debug).")
@click.option("-q", "--quiet", count=True, help="Errors only.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: int) -> None:
    """Find where a town should act to raise its vitality.

    WORKFLOW is a workflow file (workflows/<town>.toml) or a bundled town's name.
    """
    _setup_logging(verbose, quiet)
    ctx.obj = {"quiet": quiet, "verbose": verbose}


@cli.command()
@click.argument("workflow")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write into DIR/<town> (default: the workflow's [outputs] folder, or out/<town>).",
)
@click.option(
    "--wait",
    is_flag=True,
    help="If another run is writing the same folder, wait for it (default: exit 5).",
)
@click.option(
    "--tile-size",
    type=click.FloatRange(min=0, max=100_000),
    help="Split the area into tiles of this side (metres) for the street centralities, "
    "run on Dask workers (overrides [region] tile_size; 0: no tiles).",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="With tiles: a running Dask scheduler (tcp://host:port); default: a local cluster.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="With tiles: worker processes of the local cluster (default 2).",
)
@click.option(
    "--no-cache",
    is_flag=True,
    help="Compute every stage, neither reading nor keeping the stage cache ([cache] stages).",
)
@_guard
def run(
    workflow: str,
    out_dir: Path | None,
    wait: bool,
    tile_size: float | None,
    scheduler: str | None,
    workers: int | None,
    no_cache: bool,
) -> None:
    """Run a workflow and write its outputs (the folder is replaced as a whole at the end)."""
    from rakennettu.config import resolve_workflow
    from rakennettu.workflow import run as run_workflow
    from rakennettu.workflow import summary_lines

    opts = click.get_current_context().find_root().obj
    if scheduler is not None and workers is not None:
        raise click.UsageError("--workers sets the size of the local cluster; not with --scheduler")
    wf = resolve_workflow(_workflow_arg(workflow))
    if tile_size is not None:
        wf = wf.updated({"region.tile_size": tile_size})
    extra: dict[str, Any] = {"cache": False} if no_cache else {}
    result = run_workflow(
        wf,
        out_dir=_town_folder(wf, out_dir),
        progress=not opts["quiet"],
        wait=wait,
        scheduler=scheduler,
        workers=workers,
        **extra,
    )
    if not opts["quiet"]:
        for line in summary_lines(result, verbose=opts["verbose"] > 0):
            _echo(line)


@cli.command("map")
@click.argument("workflow")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="The run's outputs are in DIR/<town> (as written by run --out DIR; default: the "
    "workflow's folder).",
)
@click.option("--tiles/--no-tiles", default=None, help="OpenStreetMap tiles under the map.")
@click.option("--wait", is_flag=True, help="Wait for a run writing the folder (default: exit 5).")
@_guard
def map_command(workflow: str, out_dir: Path | None, tiles: bool | None, wait: bool) -> None:
    """Rebuild map.html and report.html from a run's outputs, without recomputing."""
    from rakennettu._io import output_errors
    from rakennettu.config import resolve_workflow
    from rakennettu.outputs.pages import rebuild

    wf = resolve_workflow(_workflow_arg(workflow))
    folder = _town_folder(wf, out_dir)
    with output_errors(folder):
        files = rebuild(
            folder,
            tiles=wf.outputs.tiles if tiles is None else tiles,
            town=wf.town.name,
            wait=wait,
        )
    for name, path in files.items():
        _echo(f"{name}: {path}")


@cli.command()
@click.argument("workflows", nargs=-1, required=True)
@_guard
def validate(workflows: tuple[str, ...]) -> None:
    """Check workflow files and their inputs without running them."""
    from rakennettu.workflow import validate as validate_workflow

    for wf in workflows:
        for line in validate_workflow(_workflow_arg(wf)):
            _echo(line)
        _echo(f"{wf}: OK")


@cli.command()
@click.argument("workflows", nargs=-1, required=True)
@click.option(
    "--out",
    "out_root",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output root: towns in DIR/<town>, the comparison in DIR/batch (default: each "
    "workflow's folder, and out/batch).",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="A running Dask scheduler (tcp://host:port); default: a local cluster.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Worker processes of the local cluster (default 2, one thread each).",
)
@click.option("--force", is_flag=True, help="Run every town, also the unchanged ones.")
@_guard
def batch(
    workflows: tuple[str, ...],
    out_root: Path | None,
    scheduler: str | None,
    workers: int | None,
    force: bool,
) -> None:
    """Run several workflows on Dask distributed and compare the towns.

    Towns are printed as each one ends; a failed town does not stop the others. Towns
    whose inputs and settings are unchanged since their last batch are skipped.
    """
    from rakennettu.batch import run_batch

    if scheduler is not None and workers is not None:
        raise click.UsageError("--workers sets the size of the local cluster; not with --scheduler")
    result = run_batch(
        [_workflow_arg(w) for w in workflows],
        out_root=out_root,
        scheduler=scheduler,
        workers=workers,
        force=force,
        on_result=lambda town: _echo(town.line()),
    )
    n_ok = len(result.towns) - len(result.failed)
    click.echo(
        f"{n_ok} of {len(result.towns)} towns have results ({len(result.ran)} ran, "
        f"{len(result.skipped)} unchanged) in {result.seconds:.1f} s on {result.cluster}"
    )
    for name, path in result.files.items():
        _echo(f"{name}: {path}")
    if result.failed:
        opts = click.get_current_context().find_root().obj or {}
        kinds = {t.error_kind for t in result.failed}
        for town in result.failed:
            if town.error_kind == "internal" and opts.get("verbose", 0) > 0:
                _echo(town.traceback, err=True, one_line=False)
        _echo(
            f"{len(result.failed)} town(s) failed: "
            + ", ".join(t.name for t in result.failed)
            + (
                ""
                if "internal" not in kinds
                else " (internal errors: run with -v for the traceback)"
            ),
            err=True,
        )
        click.get_current_context().exit(EXIT_INTERNAL if "internal" in kinds else EXIT_DATA)


@cli.command()
def towns() -> None:
    """List the bundled towns (they run offline)."""
    from rakennettu._resources import bundled_workflows
    from rakennettu.config import load_workflow

    for name, path in bundled_workflows().items():
        wf = load_workflow(path)
        _echo(f"{name:<20} {wf.title:<24} {path}")


def main() -> None:
    """Entry point of the ``rakennettu`` command."""
    cli(prog_name="rakennettu")
