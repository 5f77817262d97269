"""The pages' Jinja2 templates: files shipped with the package, HTML escaped by default.

Templates live in ``outputs/templates/`` (package data). Text from data (OSM names, a
planner's file, the run record) is passed to them as *values*, never as template source,
and the environment escapes every value once (``autoescape``); an undefined name is an
error (``StrictUndefined``), not an empty string.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

__all__ = ["environment", "render"]


@cache
def environment() -> Environment:
    """The environment of the pages' templates (built once).

    Examples
    --------
    >>> environment().from_string("<b>{{ name }}</b>").render(name="<i>x</i>")
    '<b>&lt;i&gt;x&lt;/i&gt;</b>'
    """
    return Environment(
        loader=PackageLoader("rakennettu.outputs", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(name: str, **context: Any) -> str:
    """Render the template file ``name`` with ``context`` (values are escaped).

    Examples
    --------
    >>> "<th>rank</th>" in render("_macros.html.j2")
    False
    """
    return environment().get_template(name).render(**context)
