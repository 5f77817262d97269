"""rakennettu: where should a town act to raise its vitality?

The public API for notebooks and scripts. Every stage is a plain function; the CLI and
the batch runner only chain them.
"""

from rakennettu._resources import bundled_workflow, bundled_workflows
from rakennettu._version import __version__
from rakennettu.config import Workflow, load_workflow
from rakennettu.errors import (
    ConfigError,
    CRSError,
    EmptyDataError,
    RakennettuError,
    SourceError,
)

__all__ = [
    "CRSError",
    "ConfigError",
    "EmptyDataError",
    "RakennettuError",
    "SourceError",
    "Workflow",
    "__version__",
    "bundled_workflow",
    "bundled_workflows",
    "load_workflow",
]
