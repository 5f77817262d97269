"""The tag tables' model: expressions, rules, categories, tables (frozen)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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
    >>> from rakennettu.sources.taxonomy import load_taxonomy
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
