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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import geopandas as gpd
import numpy as np
import pandas as pd
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    PlainValidator,
    Tag,
    ValidationError,
    field_validator,
)

from rakennettu._resources import taxonomy_dir
from rakennettu._toml import Loc, find_line, key_lines, read_toml
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


def _parse_expression(text: object) -> tuple[Expression | None, list[str]]:
    """Parse ``key=a|b & key2!=* ...``; return the expression or the problems found."""
    if not isinstance(text, str):
        return None, [
            f"expected a tag expression such as 'amenity=cafe', got {type(text).__name__} {text!r}"
        ]
    problems: list[str] = []
    conditions: list[Condition] = []
    for raw in text.split("&"):
        condition, problem = _parse_condition(raw.strip(), text)
        if problem:
            problems.append(problem)
        elif condition is not None:
            conditions.append(condition)
    if not problems and not any(not c.negate for c in conditions):
        problems.append(
            f"{text!r} has only negative conditions, which would match almost every "
            "feature; add a positive one such as key=value or key=*"
        )
    if problems:
        return None, problems
    return Expression(text=text.strip(), conditions=tuple(conditions)), []


def _parse_condition(part: str, text: str) -> tuple[Condition | None, str]:
    """Parse one condition of an expression; return it or the problem with it."""
    if not part:
        return None, f"{text!r} has an empty condition; join conditions with ' & '"
    op = "!=" if "!=" in part else "=" if "=" in part else ""
    if not op:
        return None, (
            f"{part!r} is not a condition; write key=value, key=a|b, key=*, key!=value or key!=*"
        )
    key, _, vals = (s.strip() for s in part.partition(op))
    if not _OSM_KEY.match(key):
        return None, f"{key!r} in {part!r} is not an OSM key (letters, digits, '_', ':', '.', '-')"
    if vals == "*":
        return Condition(key, None, op == "!="), ""
    items = [v.strip() for v in vals.split("|")]
    if not vals or any(not v for v in items):
        return None, f"{part!r} has an empty value; write {key}=value or {key}=*"
    if "*" in items:
        return None, f"{part!r} mixes '*' with values; use {key}=* alone"
    bad = [v for v in items if any(c in v for c in _BAD_VALUE_CHARS)]
    if bad:
        return None, (
            f"{part!r}: value {bad[0]!r} may not contain '=', ';', '!' or '&'; "
            "separate alternatives with '|'"
        )
    return Condition(key, frozenset(items), op == "!="), ""


# The file's schema. pydantic checks the structure (unknown and missing keys, every
# problem at once, each at its location); the validators below give the messages.


def _expressions(what: str, *, allow_empty: bool = True) -> PlainValidator:
    def check(value: object) -> tuple[Expression, ...]:
        if not isinstance(value, str | list):
            raise ValueError(
                f"{what} must be a tag expression or a list of them, not {type(value).__name__}"
            )
        items = [value] if isinstance(value, str) else value
        if not items and not allow_empty:
            raise ValueError(
                f"{what} is empty; give at least one tag expression such as 'amenity=cafe'"
            )
        parsed = [_parse_expression(item) for item in items]
        problems = [p for _, found in parsed for p in found]
        if problems:
            raise ValueError("; ".join(problems))
        return tuple(e for e, _ in parsed if e is not None)

    return PlainValidator(check)


def _text(field: str) -> PlainValidator:
    def check(value: object) -> str:
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{field} must be a non-empty text")
        return value.strip()

    return PlainValidator(check)


def _check_weight(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"weight must be a number, not {value!r}")
    if value < 0:
        raise ValueError(f"weight must be zero or more, not {value}")
    return float(value)


def _check_id(value: object) -> str:
    if not isinstance(value, str) or not _ID.match(value):
        raise ValueError(
            f"id must be lower-case letters, digits and '_', starting with a letter; got {value!r}"
        )
    if value in RESERVED_NAMES:
        raise ValueError(f"id {value!r} is reserved (a column of the results); choose another")
    return value


def _check_kind(value: object) -> str:
    if not isinstance(value, str) or not _ID.match(value):
        raise ValueError(
            "a rule name (the kind) must be lower-case letters, digits and '_', starting "
            "with a letter"
        )
    return value


_Exprs = tuple[Expression, ...]
_Match = Annotated[_Exprs, _expressions("match", allow_empty=False)]
_Exclude = Annotated[_Exprs, _expressions("exclude")]
_ShortRule = Annotated[_Exprs, _expressions("the rule", allow_empty=False)]
_LabelFi = Annotated[str, _text("label_fi")]
_LabelEn = Annotated[str, _text("label_en")]
_Description = Annotated[str, _text("description")]
_Weight = Annotated[float, PlainValidator(_check_weight)]
_SCHEMA = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class _RuleSpec(BaseModel):
    """A rule written in full: ``cafe = { match = "amenity=cafe", weight = 2 }``."""

    model_config = _SCHEMA
    match: _Match
    exclude: _Exclude = ()
    weight: _Weight | None = None


_Rule = Annotated[
    Annotated[_RuleSpec, Tag("full")] | Annotated[_ShortRule, Tag("short")],
    Discriminator(lambda v: "full" if isinstance(v, dict) else "short"),
]


class _CategorySpec(BaseModel):
    model_config = _SCHEMA
    id: Annotated[str, PlainValidator(_check_id)]
    label_fi: _LabelFi
    label_en: _LabelEn
    description: _Description = ""
    weight: _Weight = 1.0
    exclude: _Exclude = ()
    rules: dict[Annotated[str, PlainValidator(_check_kind)], _Rule]

    @field_validator("rules")
    @classmethod
    def _some_rules(cls, v: dict[str, Any]) -> dict[str, Any]:
        if not v:
            raise ValueError(_NO_RULES)
        return v


class _TableHead(BaseModel):
    model_config = _SCHEMA
    label_fi: _LabelFi
    label_en: _LabelEn
    description: _Description = ""
    exclude: _Exclude = ()


class _TableFile(BaseModel):
    model_config = _SCHEMA
    table: _TableHead
    category: list[_CategorySpec]

    @field_validator("category")
    @classmethod
    def _some_categories(cls, v: list[_CategorySpec]) -> list[_CategorySpec]:
        if not v:
            raise ValueError(_NO_CATEGORY)
        return v


_NO_RULES = 'no rules; add a [category.rules] table such as: cafe = "amenity=cafe"'
_NO_CATEGORY = "no [[category]]; a table needs at least one category with rules"
_MISSING = {
    ("table",): "missing [table] with label_fi and label_en",
    ("category",): _NO_CATEGORY,
    ("rules",): _NO_RULES,
    ("match",): 'missing match; write { match = "key=value", weight = ... }',
}
_ALLOWED = {
    0: ("table", "category"),
    1: tuple(_TableHead.model_fields),
    2: tuple(_CategorySpec.model_fields),
    4: tuple(_RuleSpec.model_fields),
}


def _load_table(path: Path) -> Table:
    data, text = read_toml(path, "taxonomy table")
    problems = _Problems(path, text, data)
    spec = None
    try:
        spec = _TableFile.model_validate(data)
    except ValidationError as e:
        for err in e.errors():
            problems.add(err)
    raw = data.get("category")
    seen: dict[str, int] = {}
    for i, c in enumerate(raw if isinstance(raw, list) else []):
        cid = c.get("id") if isinstance(c, dict) else None
        if isinstance(cid, str) and cid in seen:
            problems.add_at(
                ("category", i, "id"),
                f"id {cid!r} is used again (first by category #{seen[cid] + 1})",
            )
        elif isinstance(cid, str):
            seen[cid] = i
    problems.raise_if_any()
    assert spec is not None
    return _table_from(path, spec)


def _table_from(path: Path, spec: _TableFile) -> Table:
    categories = tuple(
        Category(
            id=c.id,
            label_fi=c.label_fi,
            label_en=c.label_en,
            description=c.description,
            weight=c.weight,
            exclude=c.exclude,
            rules=tuple(
                Rule(kind, r.match, r.exclude, c.weight if r.weight is None else r.weight)
                if isinstance(r, _RuleSpec)
                else Rule(kind, r, (), c.weight)
                for kind, r in c.rules.items()
            ),
        )
        for c in spec.category
    )
    head = spec.table
    return Table(
        name=path.stem,
        label_fi=head.label_fi,
        label_en=head.label_en,
        description=head.description,
        categories=categories,
        exclude=head.exclude,
        source=path,
    )


class _Problems:
    """Every problem in one table file, each said with its line, category, rule and key."""

    def __init__(self, path: Path, text: str, data: dict[str, Any]) -> None:
        self.path, self.data = path, data
        self.lines = key_lines(text)
        self.items: list[str] = []

    def add(self, err: Any) -> None:
        """Add a pydantic error."""
        # drop the tags of the rule's two forms and pydantic's mark on a dict key
        loc = tuple(k for k in err["loc"] if k not in ("full", "short", "[key]"))
        if err["type"] == "missing":
            self.add_at(loc, _MISSING.get(loc[-1:]) or _missing_label(loc))
        elif err["type"] == "extra_forbidden":
            self.add_at(loc, self._unknown(loc))
        else:
            self.add_at(loc, str(err["msg"]).removeprefix("Value error, "))

    def _unknown(self, loc: Loc) -> str:
        key = str(loc[-1])
        if len(loc) == 1:
            return (
                f"unknown table [{key}]{did_you_mean(key, _ALLOWED[0])}; a tag table has "
                "one [table] and one or more [[category]]"
            )
        allowed = _ALLOWED.get(len(loc) - 1, ())
        where = (
            "[table]" if loc[0] == "table" else f"rule {loc[3]!r}" if len(loc) > 4 else "a category"
        )
        hint = did_you_mean(key, allowed)
        return f"unknown key {key!r} in {where}{hint}; allowed: {', '.join(allowed)}"

    def add_at(self, loc: Loc, message: str) -> None:
        """Add a problem at a location of the file."""
        line = find_line(self.lines, loc) if len(loc) > 1 or loc[:1] != ("category",) else None
        parts = [f"{self.path}, line {line}" if line else str(self.path)]
        if loc[:1] == ("category",) and len(loc) > 1:
            cid = self._category_id(int(loc[1]))
            parts.append(f"category {cid!r}" if cid else f"category #{int(loc[1]) + 1}")
        elif loc[:1] == ("table",) and len(loc) > 1:
            parts.append("[table]")
        if loc[2:3] == ("rules",) and len(loc) > 3:
            parts.append(f"rule {loc[3]!r}")
        elif len(loc) > 2 or (loc[:1] == ("table",) and len(loc) == 2):
            parts.append(f"key {loc[-1]!r}")
        self.items.append(", ".join(parts) + ": " + message)

    def _category_id(self, i: int) -> str | None:
        raw = self.data.get("category")
        cid = raw[i].get("id") if isinstance(raw, list) and isinstance(raw[i], dict) else None
        return cid if isinstance(cid, str) and _ID.match(cid) else None

    def raise_if_any(self) -> None:
        if not self.items:
            return
        if len(self.items) == 1:
            raise ConfigError(self.items[0])
        raise ConfigError(
            f"{self.path}: {len(self.items)} problems in this taxonomy table:\n"
            + "\n".join(f"  {p}" for p in self.items)
        )


def _missing_label(loc: Loc) -> str:
    whose = "category" if loc[:1] == ("category",) else "table"
    return f"missing {loc[-1]}; every {whose} needs label_fi and label_en"


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
    >>> features = osm_features()  # a library, a bench and a park (see conftest.py)
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
    >>> features = osm_features()  # a library, a bench and a park (see conftest.py)
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
    >>> features = osm_features()  # a library, a bench and a park (see conftest.py)
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
    >>> features = osm_features()  # a library, a bench and a park (see conftest.py)
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
