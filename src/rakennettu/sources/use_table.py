"""The building use table (``data/taxonomy/building_use.toml``): read and validated.

The table fixes the use vocabulary (:data:`USES`), maps OpenStreetMap tags to uses and
lists the code schemes of building registers. :func:`load_building_use` reads it through
a pydantic schema, so every problem is reported at once with its line, section and key::

    building_use.toml, line 47, [osm.building] offices: 'offices' is not a use; ...
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainValidator, ValidationError, field_validator

from rakennettu._resources import taxonomy_dir
from rakennettu._toml import Loc, find_line, key_lines, read_toml
from rakennettu.errors import ConfigError, did_you_mean

__all__ = ["USES", "BuildingUse", "CodeClass", "CodeScheme", "load_building_use"]

#: The building use vocabulary, fixed: layers and outputs rely on these names.
USES: tuple[str, ...] = (
    "residential",
    "commercial",
    "office",
    "industrial",
    "public",
    "religious",
    "education",
    "health",
    "culture",
    "sport",
    "parking",
    "other",
    "unknown",
)


@dataclass(frozen=True)
class CodeClass:
    """One code of a register: its use and labels."""

    use: str
    label_fi: str
    label_en: str = ""


@dataclass(frozen=True)
class CodeScheme:
    """A register's code list: ``classes`` maps the code (text) to its use."""

    name: str
    label: str
    source: str
    classes: Mapping[str, CodeClass]
    width: int = 0
    note: str = ""

    def key(self, value: object) -> str | None:
        """Write a code as this scheme does: text, zero-padded to ``width`` if numeric."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = str(value).strip()
        if not text:
            return None
        if self.width and text.isdigit():
            text = text.zfill(self.width)
        return text


@dataclass(frozen=True)
class BuildingUse:
    """The building use table: vocabulary, OSM mapping and register code lists.

    Build it with :func:`load_building_use`.
    """

    labels: Mapping[str, tuple[str, str]]
    osm_order: tuple[str, ...]
    osm_values: Mapping[str, Mapping[str, str]]
    osm_any: Mapping[str, str]
    schemes: Mapping[str, CodeScheme]
    source: Path | None = None

    def osm_use(self, key: str, value: str) -> str | None:
        """Return the use an OSM ``key=value`` gives, or None; ``a;b`` tries each part."""
        table = self.osm_values.get(key, {})
        candidates = [value]
        if ";" in value:
            candidates += [p.strip() for p in value.split(";")]
        for candidate in candidates:
            if candidate in table:
                return table[candidate]
        return self.osm_any.get(key)


# ---------------------------------------------------------------------------------------
# The file's schema: pydantic checks the structure; these validators give the messages.


def _check_use(value: object) -> str:
    if value not in USES:
        hint = did_you_mean(str(value), USES)
        raise ValueError(f"{value!r} is not a use{hint}; uses: {', '.join(USES)}")
    return str(value)


def _check_text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("needs a non-empty text")
    return value


def _check_values(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("must be a list of values")
    return tuple(value)


def _check_width(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"width must be a whole number >= 0, not {value!r}")
    return value


def _check_order(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(k, str) for k in value):
        raise ValueError("must be a non-empty list of OSM keys")
    return tuple(value)


def _check_vocabulary_use(value: object) -> str:
    if value not in USES:
        raise ValueError(f"not a use{did_you_mean(str(value), USES)}; the vocabulary is fixed")
    return str(value)


_Use = Annotated[str, PlainValidator(_check_use)]
_Text = Annotated[str, PlainValidator(_check_text)]
_Values = Annotated[tuple[str, ...], PlainValidator(_check_values)]
_SCHEMA = ConfigDict(extra="forbid", frozen=True)


class _Label(BaseModel):
    model_config = _SCHEMA
    label_fi: _Text
    label_en: _Text
    description: str = ""


class _CodeEntry(BaseModel):
    model_config = _SCHEMA
    use: _Use
    label_fi: _Text
    label_en: str = ""


class _Scheme(BaseModel):
    model_config = _SCHEMA
    label: _Text
    source: _Text
    note: str = ""
    width: Annotated[int, PlainValidator(_check_width)] = 0
    classes: dict[str, _CodeEntry]

    @field_validator("classes")
    @classmethod
    def _some(cls, v: dict[str, _CodeEntry]) -> dict[str, _CodeEntry]:
        if not v:
            raise ValueError("has no classes")
        return v


class _Osm(BaseModel):
    """``order``, ``same_as`` and one ``[osm.<key>]`` table per OSM key (the extras)."""

    model_config = ConfigDict(extra="allow", frozen=True)
    __pydantic_extra__: dict[str, dict[_Use, _Values]]
    order: Annotated[tuple[str, ...], PlainValidator(_check_order)]
    same_as: dict[str, str] = {}


class _UseFile(BaseModel):
    model_config = _SCHEMA
    vocabulary: dict[Annotated[str, PlainValidator(_check_vocabulary_use)], _Label]
    osm: _Osm
    codes: dict[str, _Scheme] = {}


_SECTIONS = tuple(_UseFile.model_fields)


# ---------------------------------------------------------------------------------------
# Reading


def load_building_use(path: str | Path | None = None) -> BuildingUse:
    """Read and check the building use table.

    Parameters
    ----------
    path
        A ``building_use.toml``; default the bundled one in ``data/taxonomy``.

    Returns
    -------
    BuildingUse
        Frozen.

    Raises
    ------
    SourceError
        The file is missing or unreadable.
    ConfigError
        The table is invalid; every problem is listed with its line, section and key.

    Examples
    --------
    >>> table = load_building_use()
    >>> table.schemes["nls_mtk"].classes["8"]
    CodeClass(use='religious', label_fi='Kirkko', label_en='Church')
    >>> table.osm_use("building", "apartments"), table.osm_use("shop", "bakery")
    ('residential', 'commercial')
    """
    if path is None:
        return _bundled_use()
    return _load_use(Path(path))


@functools.lru_cache(maxsize=1)
def _bundled_use() -> BuildingUse:
    return _load_use(taxonomy_dir() / "building_use.toml")


def _load_use(path: Path) -> BuildingUse:
    data, text = read_toml(path, "building use table")
    problems = _Problems(path, text)
    vocabulary = data.get("vocabulary")
    for use in USES:
        if isinstance(vocabulary, dict) and use not in vocabulary:
            problems.add_at(
                ("vocabulary",), f"missing use {use!r}; the vocabulary is fixed: {USES}"
            )
    spec = None
    try:
        spec = _UseFile.model_validate(data)
    except ValidationError as e:
        for err in e.errors():
            problems.add(err)
    problems.raise_if_any()
    assert spec is not None
    osm_values, osm_any = _osm_mapping(spec.osm, problems)
    problems.raise_if_any()
    schemes = {
        name: CodeScheme(
            name=name,
            label=s.label,
            source=s.source,
            classes=MappingProxyType(
                {code: CodeClass(c.use, c.label_fi, c.label_en) for code, c in s.classes.items()}
            ),
            width=s.width,
            note=s.note,
        )
        for name, s in spec.codes.items()
    }
    return BuildingUse(
        labels=MappingProxyType(
            {u: (spec.vocabulary[u].label_fi, spec.vocabulary[u].label_en) for u in USES}
        ),
        osm_order=spec.osm.order,
        osm_values=MappingProxyType({k: MappingProxyType(v) for k, v in osm_values.items()}),
        osm_any=MappingProxyType(osm_any),
        schemes=MappingProxyType(schemes),
        source=path,
    )


def _osm_mapping(
    osm: _Osm, problems: _Problems
) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """Value → use per OSM key, and the use of ``key=*``; a value mapped twice is a problem."""
    values: dict[str, dict[str, str]] = {}
    any_value: dict[str, str] = {}
    for key, mapping in (osm.__pydantic_extra__ or {}).items():
        table = values.setdefault(key, {})
        for use, listed in mapping.items():
            for v in listed:
                if v == "*":
                    any_value[key] = use
                elif table.get(v, use) != use:
                    problems.add_at(
                        ("osm", key, use), f"value {v!r} is already mapped to {table[v]!r}"
                    )
                else:
                    table[v] = use
    for key in osm.order:
        target = osm.same_as.get(key, key)
        if target not in values:
            problems.add_at(
                ("osm", "order"), f"key {key!r} has no [osm.{target}] table (nor a same_as)"
            )
    for key, target in osm.same_as.items():
        if target in values:
            values[key] = values[target]
            if target in any_value:
                any_value[key] = any_value[target]
    return values, any_value


class _Problems:
    """Every problem in the file, each said with its line, section and key."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = key_lines(text)
        self.items: list[str] = []

    def add(self, err: Any) -> None:
        """Add a pydantic error."""
        loc = tuple(k for k in err["loc"] if k != "[key]")
        kind, key = err["type"], str(loc[-1]) if loc else ""
        if kind == "extra_forbidden" and len(loc) == 1:
            message = (
                f"unknown section{did_you_mean(key, _SECTIONS)}; sections: {', '.join(_SECTIONS)}"
            )
        elif kind == "extra_forbidden":
            message = f"unknown key {key!r}{did_you_mean(key, _allowed(loc))}"
        elif kind == "missing":
            message = f"needs {key}"
        else:
            message = str(err["msg"]).removeprefix("Value error, ")
        self.add_at(loc, message)

    def add_at(self, loc: Loc, message: str) -> None:
        """Add a problem at a location of the file."""
        line = find_line(self.lines, loc)
        # a key of an inline entry (a code class, a use's labels) is said at its entry
        entry = loc[:4] if loc[:1] == ("codes",) and len(loc) > 4 else loc
        entry = entry[:2] if entry[:1] == ("vocabulary",) and len(entry) > 2 else entry
        where = (
            f"[{'.'.join(map(str, entry))}]"
            if len(entry) == 1
            else (f"[{'.'.join(map(str, entry[:-1]))}] {entry[-1]}")
        )
        head = f"{self.path}, line {line}" if line else str(self.path)
        self.items.append(f"{head}, {where}: {message}")

    def raise_if_any(self) -> None:
        if self.items:
            raise ConfigError("\n".join(self.items))


def _allowed(loc: Loc) -> tuple[str, ...]:
    """The keys allowed beside the unknown one at ``loc``."""
    if loc[:1] == ("codes",):
        return tuple((_Scheme if len(loc) == 3 else _CodeEntry).model_fields)
    if loc[:1] == ("vocabulary",):
        return tuple(_Label.model_fields)
    return ()
