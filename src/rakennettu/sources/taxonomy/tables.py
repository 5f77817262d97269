"""Reading and validating the tag tables (``data/taxonomy/*.toml``) through a pydantic schema."""

from __future__ import annotations

import functools
import logging
import math
import re
from pathlib import Path
from typing import Annotated, Any

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
from rakennettu.sources.taxonomy.model import (
    RESERVED_NAMES,
    TABLE_NAMES,
    Category,
    Condition,
    Expression,
    Rule,
    Table,
    Taxonomy,
)

log = logging.getLogger(__name__)

# Files in a taxonomy folder that are not tag tables.
_NOT_TABLES = frozenset({"building_use", "road_widths"})

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_OSM_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_:.\-]*$")
_BAD_VALUE_CHARS = ("=", ";", "!", "&")


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
