"""The pages' Jinja2 templates: files shipped with the package, HTML escaped by default.

Templates live in ``outputs/templates/`` (package data). Text from data (OSM names, a
planner's file, the run record) is passed to them as *values*, never as template source,
and the environment escapes every value once (``autoescape``); an undefined name is an
error (``StrictUndefined``), not an empty string.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from rakennettu.i18n import Language, language

__all__ = ["environment", "render", "words"]


def words(lang: Language) -> dict[str, Callable[..., Markup]]:
    """The templates' ``_`` and ``ngettext`` in ``lang``.

    ``_(message, **values)`` is the message's translation, escaped, with its ``{fields}``
    filled with the values, each escaped once. ``ngettext(singular, plural, n, **values)``
    picks the form for ``n`` and fills ``{n}`` with ``n`` in the locale's format. A value
    is never read as a message or a format string: data stays data.

    Examples
    --------
    >>> _ = words(language("fi"))["_"]
    >>> str(_("Data files: {folder}", folder="<b>x</b>"))
    'Aineistotiedostot: &lt;b&gt;x&lt;/b&gt;'
    >>> str(words(language("en"))["ngettext"]("{n} file", "{n} files", 1200))
    '1,200 files'
    """

    def gettext(message: str, **values: Any) -> Markup:
        text = escape(lang.gettext(message))
        return text.format(**values) if values else text

    def ngettext(singular: str, plural: str, n: int, **values: Any) -> Markup:
        text = escape(lang.ngettext(singular, plural, n))
        return text.format(n=lang.integer(n), **values)

    return {"_": gettext, "ngettext": ngettext}


@cache
def environment() -> Environment:
    """The environment of the pages' templates (built once).

    Examples
    --------
    >>> environment().from_string("<b>{{ name }}</b>").render(name="<i>x</i>")
    '<b>&lt;i&gt;x&lt;/i&gt;</b>'
    """
    env = Environment(
        loader=PackageLoader("rakennettu.outputs", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(words(language("en")))  # a page's context gives its own language
    return env


def render(name: str, **context: Any) -> str:
    """Render the template file ``name`` with ``context`` (values are escaped).

    Examples
    --------
    >>> "<th>rank</th>" in render("_macros.html.j2")
    False
    """
    return environment().get_template(name).render(**context)
