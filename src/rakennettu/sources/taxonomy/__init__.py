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

from rakennettu.sources.taxonomy.layers import (
    activities,
    candidate_sites,
    feature_layers,
    green_blue,
    landmarks,
    third_places,
)
from rakennettu.sources.taxonomy.match import classify, classify_each, rule_matches
from rakennettu.sources.taxonomy.model import (
    FEATURE_COLUMNS,
    RESERVED_NAMES,
    TABLE_NAMES,
    Category,
    Condition,
    Expression,
    Rule,
    Table,
    Taxonomy,
)
from rakennettu.sources.taxonomy.tables import load_taxonomy

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
    "classify_each",
    "feature_layers",
    "green_blue",
    "landmarks",
    "load_taxonomy",
    "rule_matches",
    "third_places",
]
