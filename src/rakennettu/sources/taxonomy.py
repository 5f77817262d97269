"""Tag tables: turn raw OpenStreetMap features into the categories every layer uses.

The tables live in ``data/taxonomy/*.toml`` (see the README there), not in code, so a
planner can read and change them. Each table is a list of categories; each category a list
of named rules (the rule's name is the feature's ``kind``); each rule one or more tag
expressions such as ``"amenity=cafe"``, ``"shop=*"`` or ``"amenity=parking & parking!=*"``.

:func:`load_taxonomy` reads and validates the tables into frozen objects;
:func:`classify` says which categories each feature belongs to, and its primary category,
kind and weight; :func:`activities`, :func:`third_places`, :func:`landmarks`,
:func:`green_blue` and :func:`candidate_sites` return the matching features themselves.

Features are a (Geo)DataFrame with a ``tags`` column of dicts holding every OSM tag of the
feature (see :func:`rakennettu.sources.osm_tags.features_from_pyrosm`).
"""

from __future__ import annotations

import functools
import logging
import math
import re
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from rakennettu._resources import taxonomy_dir
from rakennettu.errors import ConfigError, SourceError, did_you_mean
from rakennettu.sources.osm_tags import tag_values

__all__ = [
    "FEATURE_COLUMNS",
    "RESERVED_NAMES",
    "TABLE_NAMES",
    "Category",
    "Condition",
    "Expression",
    "Rule",
    "Table",
    "Taxonomy",
    "activities",
    "candidate_sites",
    "classify",
    "green_blue",
    "landmarks",
    "load_taxonomy",
    "rule_matches",
    "third_places",
]

log = logging.getLogger(__name__)

#: The tag tables that ship with rakennettu, by file name (without ``.toml``).
TABLE_NAMES: tuple[str, ...] = (
    "activities",
    "third_places",
    "landmarks",
    "green_blue",
    "candidates",
    "ground",
    "site_context",
)

#: The columns of a features frame (the input contract of the convenience functions).
FEATURE_COLUMNS: tuple[str, ...] = ("osm_type", "osm_id", "name", "tags", "geometry")

#: Names a category may not take, because they are columns of the results.
RESERVED_NAMES: frozenset[str] = frozenset({"category", "kind", "weight", *FEATURE_COLUMNS})

# Files in a taxonomy folder that are not tag tables.
_NOT_TABLES = frozenset({"building_use", "road_widths"})

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_OSM_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_:.\-]*$")
_BAD_VALUE_CHARS = ("=", ";", "!", "&")

_TABLE_FIELDS = ("label_fi", "label_en", "description", "exclude")
_CATEGORY_FIELDS = ("id", "label_fi", "label_en", "description", "weight", "exclude", "rules")
_RULE_FIELDS = ("match", "weight", "exclude")


# ---------------------------------------------------------------------------------------
# The model


@dataclass(frozen=True)
class Condition:
    """One tag condition: ``key=a|b``, ``key=*``, ``key!=a|b`` or ``key!=*``.

    ``values`` is None for the wildcard ``*``. A negated condition holds when the key is
    absent or (for a value list) when none of the feature's values is in the list.
    """

    key: str
    values: frozenset[str] | None
    negate: bool = False

    def __str__(self) -> str:
        op = "!=" if self.negate else "="
        vals = "*" if self.values is None else "|".join(sorted(self.values))
        return f"{self.key}{op}{vals}"


@dataclass(frozen=True)
class Expression:
    """Conditions joined by ``&``: all must hold. ``text`` is as written in the table."""

    text: str
    conditions: tuple[Condition, ...]

    @property
    def selecting_key(self) -> str:
        """The key a feature must carry to match: the first positive condition with values.

        Falls back to the first positive wildcard condition. A loader that keeps every
        feature with this key (for every expression) misses no match.
        """
        positive = [c for c in self.conditions if not c.negate]
        with_values = [c for c in positive if c.values is not None]
        return (with_values or positive)[0].key


@dataclass(frozen=True)
class Rule:
    """A named rule: the name is the ``kind`` of the features it matches.

    A feature matches when any ``match`` expression holds and no ``exclude`` expression
    does. ``weight`` is the rule's own weight or, when it gives none, its category's.
    """

    kind: str
    match: tuple[Expression, ...]
    exclude: tuple[Expression, ...]
    weight: float


@dataclass(frozen=True)
class Category:
    """A category of a table: its rules, in precedence order, and its exclusions."""

    id: str
    label_fi: str
    label_en: str
    description: str
    weight: float
    rules: tuple[Rule, ...]
    exclude: tuple[Expression, ...]

    @property
    def kinds(self) -> tuple[str, ...]:
        """The rule names (kinds) in precedence order."""
        return tuple(r.kind for r in self.rules)


@dataclass(frozen=True)
class Table:
    """One tag table, e.g. ``activities``: categories in precedence order."""

    name: str
    label_fi: str
    label_en: str
    description: str
    categories: tuple[Category, ...]
    exclude: tuple[Expression, ...]
    source: Path | None = None

    @property
    def ids(self) -> tuple[str, ...]:
        """The category ids in precedence order."""
        return tuple(c.id for c in self.categories)

    def category(self, id: str) -> Category:
        """Return the category with this id; KeyError names the ids there are."""
        for c in self.categories:
            if c.id == id:
                return c
        raise KeyError(f"table {self.name!r} has no category {id!r}; it has {list(self.ids)}")

    def expressions(self) -> Iterator[Expression]:
        """Every expression of the table: matches and exclusions."""
        yield from self.exclude
        for c in self.categories:
            yield from c.exclude
            for r in c.rules:
                yield from r.match
                yield from r.exclude

    @property
    def keys(self) -> tuple[str, ...]:
        """Every OSM key the table reads, sorted."""
        return tuple(sorted({c.key for e in self.expressions() for c in e.conditions}))

    @property
    def request_keys(self) -> tuple[str, ...]:
        """The keys a loader must keep features by, so that no rule misses a match.

        One per match expression (:attr:`Expression.selecting_key`), sorted.
        """
        keys = {e.selecting_key for c in self.categories for r in c.rules for e in r.match}
        return tuple(sorted(keys))


@dataclass(frozen=True)
class Taxonomy:
    """A set of tag tables by name. Build it with :func:`load_taxonomy`.

    Examples
    --------
    >>> tax = load_taxonomy()
    >>> tax.names  # doctest: +NORMALIZE_WHITESPACE
    ('activities', 'candidates', 'green_blue', 'ground', 'landmarks', 'site_context',
     'third_places')
    >>> tax["activities"].ids[:3]
    ('daily_needs', 'food_drink', 'health')
    """

    tables: tuple[Table, ...]
    source: Path | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """The table names."""
        return tuple(t.name for t in self.tables)

    def __getitem__(self, name: str) -> Table:
        for t in self.tables:
            if t.name == name:
                return t
        where = f" in {self.source}" if self.source else ""
        raise KeyError(f"no taxonomy table {name!r}{where}; tables: {list(self.names)}")

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def __iter__(self) -> Iterator[Table]:
        return iter(self.tables)

    def __len__(self) -> int:
        return len(self.tables)

    @property
    def request_keys(self) -> tuple[str, ...]:
        """The keys a loader must keep features by for all tables (sorted, unique)."""
        return tuple(sorted({k for t in self.tables for k in t.request_keys}))


# ---------------------------------------------------------------------------------------
# Reading and validating


def load_taxonomy(name_or_path: str | Path | None = None) -> Taxonomy:
    """Read and validate tag tables.

    Parameters
    ----------
    name_or_path
        None for the bundled tables (``data/taxonomy``); the name of one bundled table
        (``"activities"``); a folder of tables (every ``*.toml`` but ``building_use.toml``);
        or one table file. A table's name is its file name without ``.toml``.

    Returns
    -------
    Taxonomy
        Frozen; index it by table name.

    Raises
    ------
    SourceError
        A file or folder is missing or unreadable.
    ConfigError
        A table is invalid. Every problem is listed, each with the file, line, category,
        rule and key it concerns.

    Examples
    --------
    >>> load_taxonomy("landmarks")["landmarks"].category("memorial").kinds
    ('monument', 'memorial_structure', 'plaque', 'named_memorial')
    """
    if name_or_path is None:
        return _bundled()
    path = Path(name_or_path)
    if isinstance(name_or_path, str) and not path.exists() and _ID.match(name_or_path):
        bundled = taxonomy_dir() / f"{name_or_path}.toml"
        if name_or_path in _NOT_TABLES or not bundled.is_file():
            raise SourceError(
                f"no bundled taxonomy table {name_or_path!r}; bundled tables: "
                + ", ".join(_table_files(taxonomy_dir()))
            )
        return Taxonomy(tables=(_load_table(bundled),), source=bundled)
    if path.is_dir():
        return _load_folder(path)
    if path.is_file():
        return Taxonomy(tables=(_load_table(path),), source=path)
    raise SourceError(
        f"{path}: no such taxonomy table or folder; give a .toml table, a folder of "
        f"tables, or a bundled table name ({', '.join(TABLE_NAMES)})"
    )


@functools.lru_cache(maxsize=1)
def _bundled() -> Taxonomy:
    return _load_folder(taxonomy_dir())


def _table_files(folder: Path) -> dict[str, Path]:
    return {
        p.stem: p
        for p in sorted(folder.glob("*.toml"))
        if p.stem not in _NOT_TABLES and not p.name.startswith("_")
    }


def _load_folder(folder: Path) -> Taxonomy:
    files = _table_files(folder)
    if not files:
        raise SourceError(f"{folder}: no taxonomy tables (*.toml) in this folder")
    problems: list[str] = []
    tables = []
    for path in files.values():
        try:
            tables.append(_load_table(path))
        except ConfigError as e:
            problems.append(str(e))
    if problems:
        raise ConfigError("\n".join(problems))
    log.debug("loaded %d taxonomy tables from %s", len(tables), folder)
    return Taxonomy(tables=tuple(tables), source=folder)


class _Locator:
    """Best-effort line numbers (1-based) of the parts of a table file."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.headers = [
            (n, line.split("#", 1)[0].strip())
            for n, line in enumerate(self.lines, start=1)
            if line.lstrip().startswith("[")
        ]
        self.category_lines = [n for n, h in self.headers if h.replace(" ", "") == "[[category]]"]

    def _block(self, category: int | None) -> tuple[int, int]:
        if category is None:
            starts = [n for n, h in self.headers if h.replace(" ", "") == "[table]"]
            if not starts:
                return (0, 0)
            start = starts[0]
        elif category < len(self.category_lines):
            start = self.category_lines[category]
        else:
            return (0, 0)
        later = [n for n, h in self.headers if n > start and h.startswith("[[")]
        if category is None:
            later = [n for n, h in self.headers if n > start]
        return start, (later[0] if later else len(self.lines) + 1)

    def header(self, name: str) -> int:
        """Return the line of the first ``[name]``, ``[[name]]`` or ``[name.x]`` header (or 0)."""
        for n, h in self.headers:
            inner = h.strip("[] ").split(".")[0].strip().strip("\"'")
            if inner == name:
                return n
        return 0

    def line(self, category: int | None, key: str | None = None, rule: str | None = None) -> int:
        start, end = self._block(category)
        if not start:
            return 0
        name = rule if rule is not None else key
        if name is None:
            return start
        pattern = re.compile(rf"^\s*[\"']?{re.escape(name)}[\"']?\s*=")
        in_rules = False
        for n in range(start + 1, end):
            text = self.lines[n - 1]
            if text.lstrip().startswith("["):
                in_rules = text.split("#", 1)[0].replace(" ", "").strip() == "[category.rules]"
                continue
            if pattern.match(text) and (in_rules == (rule is not None) or key == "rules"):
                return n
        return start


class _Problems:
    """Collects every problem in one file, each with where it is."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.where = _Locator(text)
        self.items: list[str] = []

    def add(
        self,
        message: str,
        *,
        category: int | None = None,
        category_id: str | None = None,
        key: str | None = None,
        rule: str | None = None,
        line: int | None = None,
    ) -> None:
        if line is None:
            top = category is None and key is None and rule is None
            line = 0 if top else self.where.line(category, key=key, rule=rule)
        parts = [str(self.path) + (f", line {line}" if line else "")]
        if category is not None:
            parts.append(
                f"category {category_id!r}" if category_id else f"category #{category + 1}"
            )
        elif key is not None:
            parts.append("[table]")
        if rule is not None:
            parts.append(f"rule {rule!r}")
        if key is not None and rule is None:
            parts.append(f"key {key!r}")
        self.items.append(", ".join(parts) + ": " + message)

    def raise_if_any(self) -> None:
        if not self.items:
            return
        if len(self.items) == 1:
            raise ConfigError(self.items[0])
        raise ConfigError(
            f"{self.path}: {len(self.items)} problems in this taxonomy table:\n"
            + "\n".join(f"  {p}" for p in self.items)
        )


def _parse_expression(text: object) -> tuple[Expression | None, list[str]]:
    """Parse ``key=a|b & key2!=* ...``; return the expression or the problems found."""
    if not isinstance(text, str):
        return None, [
            f"expected a tag expression such as 'amenity=cafe', got {type(text).__name__} {text!r}"
        ]
    problems: list[str] = []
    conditions: list[Condition] = []
    for raw in text.split("&"):
        part = raw.strip()
        if not part:
            problems.append(f"{text!r} has an empty condition; join conditions with ' & '")
            continue
        if "!=" in part:
            key, _, vals = part.partition("!=")
            negate = True
        elif "=" in part:
            key, _, vals = part.partition("=")
            negate = False
        else:
            problems.append(
                f"{part!r} is not a condition; write key=value, key=a|b, key=*, "
                "key!=value or key!=*"
            )
            continue
        key, vals = key.strip(), vals.strip()
        if not _OSM_KEY.match(key):
            problems.append(
                f"{key!r} in {part!r} is not an OSM key (letters, digits, '_', ':', '.', '-')"
            )
            continue
        if vals == "*":
            conditions.append(Condition(key, None, negate))
            continue
        items = [v.strip() for v in vals.split("|")]
        if not vals or any(not v for v in items):
            problems.append(f"{part!r} has an empty value; write {key}=value or {key}=*")
            continue
        if "*" in items:
            problems.append(f"{part!r} mixes '*' with values; use {key}=* alone")
            continue
        bad = [v for v in items if any(c in v for c in _BAD_VALUE_CHARS)]
        if bad:
            problems.append(
                f"{part!r}: value {bad[0]!r} may not contain '=', ';', '!' or '&'; "
                "separate alternatives with '|'"
            )
            continue
        conditions.append(Condition(key, frozenset(items), negate))
    if not problems and not any(not c.negate for c in conditions):
        problems.append(
            f"{text!r} has only negative conditions, which would match almost every "
            "feature; add a positive one such as key=value or key=*"
        )
    if problems:
        return None, problems
    return Expression(text=text.strip(), conditions=tuple(conditions)), []


def _expressions(
    value: object,
    report: _Problems,
    what: str,
    *,
    category: int | None = None,
    category_id: str | None = None,
    key: str | None = None,
    rule: str | None = None,
    allow_empty: bool = True,
) -> tuple[Expression, ...]:
    """Parse and check an expression or a list of them, as written in a table."""
    items: list[object]
    if isinstance(value, str):
        items = [value]
    elif isinstance(value, list):
        items = list(value)
    else:
        report.add(
            f"{what} must be a tag expression or a list of them, not {type(value).__name__}",
            category=category,
            category_id=category_id,
            key=key,
            rule=rule,
        )
        return ()
    if not items and not allow_empty:
        report.add(
            f"{what} is empty; give at least one tag expression such as 'amenity=cafe'",
            category=category,
            category_id=category_id,
            key=key,
            rule=rule,
        )
    out = []
    for item in items:
        expr, problems = _parse_expression(item)
        for p in problems:
            report.add(p, category=category, category_id=category_id, key=key, rule=rule)
        if expr is not None:
            out.append(expr)
    return tuple(out)


def _label(
    data: dict[str, Any],
    field: str,
    report: _Problems,
    *,
    category: int | None = None,
    category_id: str | None = None,
    required: bool = True,
) -> str:
    value = data.get(field)
    if value is None:
        if required:
            report.add(
                f"missing {field}; every "
                + ("category" if category is not None else "table")
                + " needs label_fi and label_en",
                category=category,
                category_id=category_id,
                key=field if category is not None else None,
            )
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        report.add(
            f"{field} must be a non-empty text",
            category=category,
            category_id=category_id,
            key=field,
        )
        return ""
    return value.strip()


def _weight(
    value: object,
    report: _Problems,
    *,
    category: int | None,
    category_id: str | None,
    rule: str | None = None,
) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        report.add(
            f"weight must be a number, not {value!r}",
            category=category,
            category_id=category_id,
            key="weight",
            rule=rule,
        )
        return None
    if value < 0:
        report.add(
            f"weight must be zero or more, not {value}",
            category=category,
            category_id=category_id,
            key="weight",
            rule=rule,
        )
        return None
    return float(value)


def _unknown_fields(
    data: dict[str, Any],
    allowed: Sequence[str],
    report: _Problems,
    *,
    category: int | None = None,
    category_id: str | None = None,
    rule: str | None = None,
    where: str,
) -> None:
    for field in data:
        if field not in allowed:
            report.add(
                f"unknown key {field!r} in {where}{did_you_mean(field, allowed)}; "
                f"allowed: {', '.join(allowed)}",
                category=category,
                category_id=category_id,
                key=field if rule is None else None,
                rule=rule,
            )


def _load_table(path: Path) -> Table:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SourceError(f"{path}: taxonomy table not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise SourceError(f"{path}: cannot read taxonomy table: {e}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None

    report = _Problems(path, text)
    for top in data:
        if top not in ("table", "category"):
            report.add(
                f"unknown table [{top}]{did_you_mean(top, ['table', 'category'])}; a tag "
                "table has one [table] and one or more [[category]]",
                line=report.where.header(top),
            )
    head = data.get("table")
    if not isinstance(head, dict):
        report.add("missing [table] with label_fi and label_en")
        head = {}
    _unknown_fields(head, _TABLE_FIELDS, report, where="[table]")
    label_fi = _label(head, "label_fi", report)
    label_en = _label(head, "label_en", report)
    description = _label(head, "description", report, required=False)
    table_exclude = _expressions(
        head.get("exclude", []), report, "exclude", key="exclude", allow_empty=True
    )

    raw_categories = data.get("category")
    if not isinstance(raw_categories, list) or not raw_categories:
        report.add("no [[category]]; a table needs at least one category with rules")
        raw_categories = []
    categories: list[Category] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(raw_categories):
        category = _load_category(i, raw, report)
        if category is None:
            continue
        if category.id in seen:
            report.add(
                f"id {category.id!r} is used again (first by category #{seen[category.id] + 1})",
                category=i,
                category_id=category.id,
                key="id",
            )
            continue
        seen[category.id] = i
        categories.append(category)
    report.raise_if_any()
    return Table(
        name=path.stem,
        label_fi=label_fi,
        label_en=label_en,
        description=description,
        categories=tuple(categories),
        exclude=table_exclude,
        source=path,
    )


def _load_category(i: int, raw: object, report: _Problems) -> Category | None:
    if not isinstance(raw, dict):
        report.add("a [[category]] must be a table of keys", category=i)
        return None
    cid = raw.get("id")
    if not isinstance(cid, str) or not _ID.match(cid):
        report.add(
            f"id must be lower-case letters, digits and '_', starting with a letter; got {cid!r}",
            category=i,
            key="id",
        )
        cid = None
    elif cid in RESERVED_NAMES:
        report.add(
            f"id {cid!r} is reserved (a column of the results); choose another",
            category=i,
            category_id=cid,
            key="id",
        )
    _unknown_fields(raw, _CATEGORY_FIELDS, report, category=i, category_id=cid, where="a category")
    label_fi = _label(raw, "label_fi", report, category=i, category_id=cid)
    label_en = _label(raw, "label_en", report, category=i, category_id=cid)
    description = _label(raw, "description", report, category=i, category_id=cid, required=False)
    weight = _weight(raw.get("weight"), report, category=i, category_id=cid)
    weight = 1.0 if weight is None else weight
    exclude = _expressions(
        raw.get("exclude", []), report, "exclude", category=i, category_id=cid, key="exclude"
    )
    raw_rules = raw.get("rules")
    if not isinstance(raw_rules, dict) or not raw_rules:
        report.add(
            'no rules; add a [category.rules] table such as: cafe = "amenity=cafe"',
            category=i,
            category_id=cid,
            key="rules",
        )
        raw_rules = {}
    rules = []
    for kind, spec in raw_rules.items():
        rule = _load_rule(i, cid, kind, spec, weight, report)
        if rule is not None:
            rules.append(rule)
    if cid is None:
        return None
    return Category(
        id=cid,
        label_fi=label_fi,
        label_en=label_en,
        description=description,
        weight=weight,
        rules=tuple(rules),
        exclude=exclude,
    )


def _load_rule(
    i: int, cid: str | None, kind: str, spec: object, default_weight: float, report: _Problems
) -> Rule | None:
    where: dict[str, Any] = {"category": i, "category_id": cid, "rule": kind}
    if not _ID.match(kind):
        report.add(
            "a rule name (the kind) must be lower-case letters, digits and '_', starting "
            "with a letter",
            **where,
        )
    weight: float | None = None
    if isinstance(spec, dict):
        _unknown_fields(spec, _RULE_FIELDS, report, **where, where=f"rule {kind!r}")
        if "match" not in spec:
            report.add('missing match; write { match = "key=value", weight = ... }', **where)
        match = _expressions(spec.get("match", []), report, "match", **where, allow_empty=False)
        exclude = _expressions(spec.get("exclude", []), report, "exclude", **where)
        weight = _weight(spec.get("weight"), report, category=i, category_id=cid, rule=kind)
    else:
        match = _expressions(spec, report, "the rule", **where, allow_empty=False)
        exclude = ()
    if not match:
        return None
    return Rule(
        kind=kind,
        match=match,
        exclude=exclude,
        weight=default_weight if weight is None else weight,
    )


# ---------------------------------------------------------------------------------------
# Matching


class _Tags:
    """Column-wise access to a Series of tag dicts, one key at a time, cached."""

    def __init__(self, tags: pd.Series) -> None:
        self.n = len(tags)
        self._tags = tags.reset_index(drop=True)
        self._cache: dict[str, pd.Series] = {}

    def values(self, key: str) -> pd.Series:
        """Return the text value of ``key`` per feature, None where absent or empty."""
        if key not in self._cache:
            self._cache[key] = tag_values(self._tags, key)
        return self._cache[key]

    def has(self, key: str, values: frozenset[str] | None) -> np.ndarray:
        """Flag the features that have ``key`` (with one of ``values``; None: any value).

        A value list ``a;b`` (OSM's multiple values) matches when any part matches.
        """
        s = self.values(key)
        present = s.notna().to_numpy()
        if values is None:
            return present
        uniques = s[present].unique()
        hits = [
            u
            for u in uniques
            if u in values or (";" in u and any(p.strip() in values for p in u.split(";")))
        ]
        return s.isin(hits).to_numpy()

    def holds(self, expr: Expression) -> np.ndarray:
        out = np.ones(self.n, dtype=bool)
        for c in expr.conditions:
            hit = self.has(c.key, c.values)
            out &= ~hit if c.negate else hit
        return out

    def any_of(self, exprs: Sequence[Expression]) -> np.ndarray:
        out = np.zeros(self.n, dtype=bool)
        for e in exprs:
            out |= self.holds(e)
        return out


def _tags_of(features: pd.DataFrame, where: str) -> pd.Series:
    """Return the ``tags`` column, checked: dicts (or None for a feature without tags)."""
    if "tags" not in features.columns:
        raise SourceError(
            f"{where}: the features have no 'tags' column (a dict of OSM tags per feature); "
            "build them with rakennettu.sources.osm_tags.features_from_pyrosm"
        )
    tags = features["tags"]
    kinds = tags.map(
        lambda t: "dict" if isinstance(t, dict) else "none" if _is_missing(t) else "other"
    )
    bad = kinds == "other"
    if bad.any():
        first = tags[bad].iloc[0]
        hint = (
            "; it looks like pyrosm's JSON text column: convert it with "
            "rakennettu.sources.osm_tags.tags_from_pyrosm"
            if isinstance(first, str)
            else ""
        )
        raise SourceError(
            f"{where}: 'tags' must hold a dict of OSM tags per feature, but {int(bad.sum())} "
            f"of {len(tags)} rows hold {type(first).__name__} (first: {str(first)[:60]!r})" + hint
        )
    return tags


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _resolve(table: Table | str, taxonomy: Taxonomy | None) -> Table:
    if isinstance(table, Table):
        return table
    tax = taxonomy if taxonomy is not None else _bundled()
    return tax[table]


def rule_matches(
    features: pd.DataFrame, table: Table | str, *, taxonomy: Taxonomy | None = None
) -> pd.DataFrame:
    """Which rules each feature matches, exclusions applied.

    Parameters
    ----------
    features
        A frame with a ``tags`` column of dicts.
    table
        A :class:`Table`, or a table name looked up in ``taxonomy``.
    taxonomy
        Where to look a table name up; default the bundled tables.

    Returns
    -------
    pandas.DataFrame
        One boolean column per rule, labelled ``(category, kind)``, on the features' index.
        A feature can match several rules; :func:`classify` picks the primary one.

    Examples
    --------
    >>> import pandas as pd
    >>> features = pd.DataFrame({"tags": [{"amenity": "cafe"}, {"shop": "bakery"}]})
    >>> m = rule_matches(features, "activities")
    >>> m[("food_drink", "cafe")].tolist(), m[("daily_needs", "bakery")].tolist()
    ([True, False], [False, True])
    """
    table = _resolve(table, taxonomy)
    tags = _Tags(_tags_of(features, f"rule_matches(table={table.name!r})"))
    blocked = tags.any_of(table.exclude)
    columns: dict[tuple[str, str], np.ndarray] = {}
    for category in table.categories:
        cat_blocked = blocked | tags.any_of(category.exclude)
        for rule in category.rules:
            columns[(category.id, rule.kind)] = (
                tags.any_of(rule.match) & ~tags.any_of(rule.exclude) & ~cat_blocked
            )
    index = pd.MultiIndex.from_tuples(
        [(c.id, r.kind) for c in table.categories for r in c.rules], names=["category", "kind"]
    )
    return pd.DataFrame(
        {k: v for k, v in columns.items()}, index=features.index, columns=index, dtype=bool
    )


def classify(
    features: pd.DataFrame, table: Table | str, *, taxonomy: Taxonomy | None = None
) -> pd.DataFrame:
    """Classify features by a tag table.

    Parameters
    ----------
    features
        A frame with a ``tags`` column of dicts (all of each feature's OSM tags); other
        columns are ignored and the frame is not modified.
    table
        A :class:`Table`, or a table name looked up in ``taxonomy``.
    taxonomy
        Where to look a table name up; default the bundled tables.

    Returns
    -------
    pandas.DataFrame
        On the features' index: one boolean column per category (named by its id; a
        feature may be in several), then ``category``, the primary category (the first
        matching one in the table's order, None if none), ``kind``, the first matching
        rule of that category, and ``weight``, that rule's weight (0.0 where nothing
        matched).

    Raises
    ------
    SourceError
        The features have no ``tags`` column of dicts.

    Examples
    --------
    >>> import pandas as pd
    >>> features = pd.DataFrame(
    ...     {"tags": [{"amenity": "cafe"}, {"shop": "supermarket"}, {"amenity": "bench"}]},
    ...     index=[10, 11, 12],
    ... )
    >>> out = classify(features, "activities")
    >>> out[["daily_needs", "retail", "category", "kind", "weight"]]
        daily_needs  retail     category         kind  weight
    10        False   False   food_drink         cafe     1.0
    11         True    True  daily_needs  supermarket     1.0
    12        False   False         None         None     0.0
    """
    table = _resolve(table, taxonomy)
    matches = rule_matches(features, table)
    n = len(features)
    primary = np.full(n, None, dtype=object)
    kind = np.full(n, None, dtype=object)
    weight = np.zeros(n, dtype=float)
    members: dict[str, np.ndarray] = {}
    for category in table.categories:
        in_category = np.zeros(n, dtype=bool)
        category_kind = np.full(n, None, dtype=object)
        category_weight = np.zeros(n, dtype=float)
        for rule in category.rules:
            hit = matches[(category.id, rule.kind)].to_numpy()
            new = hit & ~in_category
            category_kind[new] = rule.kind
            category_weight[new] = rule.weight
            in_category |= hit
        first = in_category & (primary == None)  # noqa: E711 (elementwise on object array)
        primary[first] = category.id
        kind[first] = category_kind[first]
        weight[first] = category_weight[first]
        members[category.id] = in_category
    out = pd.DataFrame(members, index=features.index, columns=list(table.ids), dtype=bool)
    out["category"] = pd.Series(primary, index=features.index, dtype=object)
    out["kind"] = pd.Series(kind, index=features.index, dtype=object)
    out["weight"] = pd.Series(weight, index=features.index, dtype=float)
    if log.isEnabledFor(logging.DEBUG):
        counts = out["category"].value_counts().to_dict()
        log.debug("classified %d features by %r: %s", n, table.name, counts)
    return out


# ---------------------------------------------------------------------------------------
# The classified feature layers


def _layer(
    features: gpd.GeoDataFrame, table_name: str, taxonomy: Taxonomy | None, caller: str
) -> gpd.GeoDataFrame:
    missing = [c for c in FEATURE_COLUMNS if c not in features.columns]
    if missing:
        raise SourceError(
            f"{caller}: the features lack column(s) {missing}; they need "
            f"{list(FEATURE_COLUMNS)} (build them with "
            "rakennettu.sources.osm_tags.features_from_pyrosm)"
        )
    if not isinstance(features, gpd.GeoDataFrame):
        raise SourceError(f"{caller}: expected a GeoDataFrame, got {type(features).__name__}")
    table = _resolve(table_name, taxonomy)
    classes = classify(features, table)
    keep = classes["category"].notna().to_numpy()
    added = ["category", "kind", "weight", *table.ids]
    geometry = features.geometry.name
    carried = [c for c in features.columns if c not in ("tags", geometry, *added)]
    out = pd.DataFrame(features.loc[keep, carried])
    for column in added:  # by position: the index may repeat labels
        out[column] = classes[column].to_numpy()[keep]
    result = gpd.GeoDataFrame(out, geometry=features.geometry[keep], crs=features.crs)
    log.info(
        "%s: %d of %d features (%s)",
        table.name,
        int(keep.sum()),
        len(features),
        ", ".join(f"{k} {v}" for k, v in result["category"].value_counts().items()) or "none",
    )
    return result


def activities(features: gpd.GeoDataFrame, *, taxonomy: Taxonomy | None = None) -> gpd.GeoDataFrame:
    """Return the activities (everyday destinations) among OSM features.

    Classified by the ``activities`` table: daily needs, food and drink, health,
    education, culture, sport, services, retail and work.

    Parameters
    ----------
    features
        OSM features: a GeoDataFrame with ``osm_type``, ``osm_id``, ``name``, ``tags`` (a
        dict of all the feature's tags) and ``geometry``, in any CRS. Not modified.
    taxonomy
        The tag tables; default the bundled ones (``data/taxonomy``).

    Returns
    -------
    geopandas.GeoDataFrame
        The matching rows, index, CRS and geometry kept: the input's columns but
        ``tags`` (``osm_type``, ``osm_id``, ``name`` and any others, such as ``in_area``),
        then ``category``, ``kind``, ``weight``, one boolean column per category, and
        ``geometry``. Join back on the index for the tags. Empty, with the same columns,
        when nothing matches. Input columns named like an added one are replaced.

    Raises
    ------
    SourceError
        A required column is missing or ``tags`` does not hold dicts.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> features = gpd.GeoDataFrame(
    ...     {
    ...         "osm_type": ["node", "node", "way"],
    ...         "osm_id": [1, 2, 3],
    ...         "name": ["Kallion kirjasto", None, "Karhupuisto"],
    ...         "tags": [
    ...             {"amenity": "library", "name": "Kallion kirjasto", "heritage": "2"},
    ...             {"amenity": "bench"},
    ...             {"leisure": "park", "name": "Karhupuisto"},
    ...         ],
    ...     },
    ...     geometry=[Point(386000, 6674000), Point(386010, 6674000), Point(386020, 6674000)],
    ...     crs="EPSG:3067",
    ... )
    >>> activities(features)[["name", "category", "kind", "weight"]]
                   name category     kind  weight
    0  Kallion kirjasto  culture  library     1.0
    """
    return _layer(features, "activities", taxonomy, "activities")


def third_places(
    features: gpd.GeoDataFrame, *, taxonomy: Taxonomy | None = None
) -> gpd.GeoDataFrame:
    """Return the third places (informal public gathering places) among OSM features.

    Classified by the ``third_places`` table: cafés, pubs and bars (``hospitality``);
    libraries, community and social centres, public bookcases (``civic``); markets,
    squares, parks and playgrounds (``public_space``).

    Parameters
    ----------
    features
        OSM features: ``osm_type``, ``osm_id``, ``name``, ``tags`` (dicts), ``geometry``.
    taxonomy
        The tag tables; default the bundled ones.

    Returns
    -------
    geopandas.GeoDataFrame
        The matching rows with ``category``, ``kind``, ``weight`` and one boolean column
        per category; see :func:`activities` for the layout.

    Raises
    ------
    SourceError
        A required column is missing or ``tags`` does not hold dicts.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> features = gpd.GeoDataFrame(
    ...     {
    ...         "osm_type": ["node", "node", "way"],
    ...         "osm_id": [1, 2, 3],
    ...         "name": ["Kallion kirjasto", None, "Karhupuisto"],
    ...         "tags": [
    ...             {"amenity": "library", "name": "Kallion kirjasto", "heritage": "2"},
    ...             {"amenity": "bench"},
    ...             {"leisure": "park", "name": "Karhupuisto"},
    ...         ],
    ...     },
    ...     geometry=[Point(386000, 6674000), Point(386010, 6674000), Point(386020, 6674000)],
    ...     crs="EPSG:3067",
    ... )
    >>> third_places(features)[["name", "category", "kind"]]
                   name      category     kind
    0  Kallion kirjasto         civic  library
    2       Karhupuisto  public_space     park
    """
    return _layer(features, "third_places", taxonomy, "third_places")


def landmarks(features: gpd.GeoDataFrame, *, taxonomy: Taxonomy | None = None) -> gpd.GeoDataFrame:
    """Return the landmarks and heritage among OSM features, with a weight.

    Classified by the ``landmarks`` table: listed and historic heritage, religious
    buildings, attractions, monuments and memorials, towers, public art. ``weight`` runs
    from 3.0 for listed heritage to 0.25 for a plaque; the scale is documented at the top
    of ``data/taxonomy/landmarks.toml``.

    Parameters
    ----------
    features
        OSM features: ``osm_type``, ``osm_id``, ``name``, ``tags`` (dicts), ``geometry``.
    taxonomy
        The tag tables; default the bundled ones.

    Returns
    -------
    geopandas.GeoDataFrame
        The matching rows with ``category``, ``kind``, ``weight`` and one boolean column
        per category; see :func:`activities` for the layout.

    Raises
    ------
    SourceError
        A required column is missing or ``tags`` does not hold dicts.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> features = gpd.GeoDataFrame(
    ...     {
    ...         "osm_type": ["node", "node", "way"],
    ...         "osm_id": [1, 2, 3],
    ...         "name": ["Kallion kirjasto", None, "Karhupuisto"],
    ...         "tags": [
    ...             {"amenity": "library", "name": "Kallion kirjasto", "heritage": "2"},
    ...             {"amenity": "bench"},
    ...             {"leisure": "park", "name": "Karhupuisto"},
    ...         ],
    ...     },
    ...     geometry=[Point(386000, 6674000), Point(386010, 6674000), Point(386020, 6674000)],
    ...     crs="EPSG:3067",
    ... )
    >>> landmarks(features)[["name", "category", "kind", "weight"]]
                   name  category    kind  weight
    0  Kallion kirjasto  heritage  listed     3.0
    """
    return _layer(features, "landmarks", taxonomy, "landmarks")


def green_blue(features: gpd.GeoDataFrame, *, taxonomy: Taxonomy | None = None) -> gpd.GeoDataFrame:
    """Return the green and blue spaces among OSM features.

    Classified by the ``green_blue`` table: ``green`` (parks, woods, meadows, ...),
    ``blue`` (sea, lakes, rivers, streams, ...) and ``cemetery``, kept apart from green.
    ``weight`` is the recreational value relative to 1.0 for a public park.

    Parameters
    ----------
    features
        OSM features: ``osm_type``, ``osm_id``, ``name``, ``tags`` (dicts), ``geometry``.
    taxonomy
        The tag tables; default the bundled ones.

    Returns
    -------
    geopandas.GeoDataFrame
        The matching rows with ``category``, ``kind``, ``weight`` and one boolean column
        per category; see :func:`activities` for the layout.

    Raises
    ------
    SourceError
        A required column is missing or ``tags`` does not hold dicts.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> features = gpd.GeoDataFrame(
    ...     {
    ...         "osm_type": ["node", "node", "way"],
    ...         "osm_id": [1, 2, 3],
    ...         "name": ["Kallion kirjasto", None, "Karhupuisto"],
    ...         "tags": [
    ...             {"amenity": "library", "name": "Kallion kirjasto", "heritage": "2"},
    ...             {"amenity": "bench"},
    ...             {"leisure": "park", "name": "Karhupuisto"},
    ...         ],
    ...     },
    ...     geometry=[Point(386000, 6674000), Point(386010, 6674000), Point(386020, 6674000)],
    ...     crs="EPSG:3067",
    ... )
    >>> green_blue(features)[["name", "category", "kind", "weight"]]
              name category  kind  weight
    2  Karhupuisto    green  park     1.0
    """
    return _layer(features, "green_blue", taxonomy, "green_blue")


def candidate_sites(
    features: gpd.GeoDataFrame, *, taxonomy: Taxonomy | None = None
) -> gpd.GeoDataFrame:
    """Return the candidate development sites among OSM features.

    Classified by the ``candidates`` table: brownfield, vacant land, disused and abandoned
    buildings, surface parking, greenfield, construction sites and vacant premises. Tags
    only: the candidates layer decides what geometry a site needs (a car park mapped as a
    point matches like one mapped as an area).

    Parameters
    ----------
    features
        OSM features: ``osm_type``, ``osm_id``, ``name``, ``tags`` (dicts), ``geometry``.
    taxonomy
        The tag tables; default the bundled ones.

    Returns
    -------
    geopandas.GeoDataFrame
        The matching rows with ``category``, ``kind``, ``weight`` and one boolean column
        per category; see :func:`activities` for the layout.

    Raises
    ------
    SourceError
        A required column is missing or ``tags`` does not hold dicts.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> lots = gpd.GeoDataFrame(
    ...     {
    ...         "osm_type": ["way", "way"],
    ...         "osm_id": [10, 11],
    ...         "name": [None, None],
    ...         "tags": [
    ...             {"amenity": "parking"},
    ...             {"amenity": "parking", "parking": "underground"},
    ...         ],
    ...     },
    ...     geometry=[box(0, 0, 50, 40), box(100, 0, 150, 40)],
    ...     crs="EPSG:3067",
    ... )
    >>> candidate_sites(lots)[["osm_id", "category", "kind"]]
       osm_id         category      kind
    0      10  surface_parking  untagged
    """
    return _layer(features, "candidates", taxonomy, "candidate_sites")
