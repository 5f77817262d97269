"""rakennettu: find where a town should act to raise its vitality.

The public API for notebooks and scripts. Every stage is a plain function; the CLI and
the batch runner only chain them::

    import rakennettu as rk

    wf = rk.load_workflow("workflows/helsinki-keskusta.toml")
    town = rk.load_town(wf)
    nodes, edges = rk.centrality(town, radii=[500, 1000])
    result = rk.run(wf)                      # writes out/helsinki-keskusta/
    done = rk.open_run("out/helsinki-keskusta")
    done.rerank(weights={"cult": 2})         # the sites with other weights, in seconds
"""

from rakennettu._resources import bundled_workflow, bundled_workflows
from rakennettu._version import __version__
from rakennettu.api import Run, centrality, open_run
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
from rakennettu.workflow import RunResult, find_sites, run, validate

__all__ = [
    "BatchResult",
    "CRSError",
    "ConfigError",
    "EmptyDataError",
    "RakennettuError",
    "Run",
    "RunResult",
    "SourceError",
    "Town",
    "Workflow",
    "__version__",
    "bundled_workflow",
    "bundled_workflows",
    "centrality",
    "find_sites",
    "load_town",
    "load_workflow",
    "open_run",
    "run",
    "run_batch",
    "validate",
]
