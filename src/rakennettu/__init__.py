"""rakennettu: find where a town should act to raise its vitality.

The public API for notebooks and scripts. Every stage is a plain function; the CLI and
the batch runner only chain them::

    import rakennettu as rk

    wf = rk.load_workflow("workflows/helsinki-keskusta.toml")
    town = rk.load_town(wf)
"""

from rakennettu._resources import bundled_workflow, bundled_workflows
from rakennettu._version import __version__
from rakennettu.batch import BatchResult, run_batch
from rakennettu.config import Workflow, load_workflow
from rakennettu.errors import (
    ConfigError,
    CRSError,
    EmptyDataError,
    RakennettuError,
    SourceError,
)
from rakennettu.town import Town, load_town
from rakennettu.workflow import RunResult, run, validate

__all__ = [
    "BatchResult",
    "CRSError",
    "ConfigError",
    "EmptyDataError",
    "RakennettuError",
    "RunResult",
    "SourceError",
    "Town",
    "Workflow",
    "__version__",
    "bundled_workflow",
    "bundled_workflows",
    "load_town",
    "load_workflow",
    "run",
    "run_batch",
    "validate",
]
