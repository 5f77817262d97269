"""Which rules of a tag table each OSM feature matches, and its category, kind and weight."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from rakennettu.errors import SourceError
from rakennettu.sources.osm_tags import tag_text
from rakennettu.sources.taxonomy.model import Expression, Table, Taxonomy
from rakennettu.sources.taxonomy.tables import load_taxonomy

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------
# Matching


class _Tags:
    """Column-wise access to a Series of tag dicts, one key at a time, cached.

    The dicts are read once, into the positions and values of each key, so that a
    table's hundred-odd keys do not each go over every feature.
    """

    def __init__(self, tags: pd.Series) -> None:
        self.n = len(tags)
        self._index = pd.RangeIndex(self.n)
        self._by_key: dict[str, tuple[list[int], list[Any]]] = {}
        for i, t in enumerate(tags):
            if isinstance(t, dict):
                for k, v in t.items():
                    at, values = self._by_key.setdefault(k, ([], []))
                    at.append(i)
                    values.append(v)
        self._cache: dict[str, pd.Series] = {}

    def values(self, key: str) -> pd.Series:
        """Return the text value of ``key`` per feature, None where absent or empty.

        As :func:`rakennettu.sources.osm_tags.tag_values` (tested against it).
        """
        if key not in self._cache:
            out = np.full(self.n, None, dtype=object)
            at, values = self._by_key.get(key, ([], []))
            if at:
                out[np.asarray(at)] = [tag_text(v) for v in values]
            self._cache[key] = pd.Series(out, index=self._index, dtype=object, name=key)
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
    tax = taxonomy if taxonomy is not None else load_taxonomy()
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
    return _rule_matches(table, _Tags(_tags_of(features, _where(table))), features.index)


def _where(table: Table) -> str:
    return f"rule_matches(table={table.name!r})"


def _rule_matches(table: Table, tags: _Tags, index: pd.Index) -> pd.DataFrame:
    """:func:`rule_matches` of features whose tags ``tags`` holds, on their ``index``."""
    blocked = tags.any_of(table.exclude)
    columns: dict[tuple[str, str], np.ndarray] = {}
    for category in table.categories:
        cat_blocked = blocked | tags.any_of(category.exclude)
        for rule in category.rules:
            columns[(category.id, rule.kind)] = (
                tags.any_of(rule.match) & ~tags.any_of(rule.exclude) & ~cat_blocked
            )
    labels = pd.MultiIndex.from_tuples(
        [(c.id, r.kind) for c in table.categories for r in c.rules], names=["category", "kind"]
    )
    return pd.DataFrame({k: v for k, v in columns.items()}, index=index, columns=labels, dtype=bool)


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
    return _classify_tags(_Tags(_tags_of(features, _where(table))), table, features.index)


def _classify_tags(tags: _Tags, table: Table, index: pd.Index) -> pd.DataFrame:
    """:func:`classify` of features whose tags ``tags`` holds (read once for several tables).

    ``index`` is the features' index (the rows of ``tags`` in order).
    """
    matches = _rule_matches(table, tags, index)
    n = len(index)
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
    out = pd.DataFrame(members, index=index, columns=list(table.ids), dtype=bool)
    out["category"] = pd.Series(primary, index=index, dtype=object)
    out["kind"] = pd.Series(kind, index=index, dtype=object)
    out["weight"] = pd.Series(weight, index=index, dtype=float)
    if log.isEnabledFor(logging.DEBUG):
        counts = out["category"].value_counts().to_dict()
        log.debug("classified %d features by %r: %s", n, table.name, counts)
    return out


def classify_each(
    features: pd.DataFrame, tables: Sequence[str], *, taxonomy: Taxonomy | None = None
) -> dict[str, pd.DataFrame]:
    """:func:`classify` by each of several tables, the features' tags read once.

    Examples
    --------
    >>> import pandas as pd
    >>> features = pd.DataFrame({"tags": [{"leisure": "park"}, {"shop": "bakery"}]})
    >>> out = classify_each(features, ["ground", "site_context"])
    >>> out["ground"]["open_space"].tolist(), out["site_context"]["occupied"].tolist()
    ([True, False], [False, True])
    """
    resolved = [_resolve(t, taxonomy) for t in tables]
    if not resolved:
        return {}
    tags = _Tags(_tags_of(features, _where(resolved[0])))
    return {
        name: _classify_tags(tags, t, features.index)
        for name, t in zip(tables, resolved, strict=True)
    }
