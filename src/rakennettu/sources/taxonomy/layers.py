"""The classified feature layers: activities, third places, landmarks, green and blue, sites."""

from __future__ import annotations

import logging

import geopandas as gpd
import pandas as pd

from rakennettu.errors import SourceError
from rakennettu.sources.taxonomy.match import (
    _classify_tags,
    _resolve,
    _Tags,
    _tags_of,
    _where,
    classify,
)
from rakennettu.sources.taxonomy.model import FEATURE_COLUMNS, Taxonomy

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------
# The classified feature layers


def _check(features: gpd.GeoDataFrame, caller: str) -> None:
    missing = [c for c in FEATURE_COLUMNS if c not in features.columns]
    if missing:
        raise SourceError(
            f"{caller}: the features lack column(s) {missing}; they need "
            f"{list(FEATURE_COLUMNS)} (build them with "
            "rakennettu.sources.osm_tags.features_from_pyrosm)"
        )
    if not isinstance(features, gpd.GeoDataFrame):
        raise SourceError(f"{caller}: expected a GeoDataFrame, got {type(features).__name__}")


def _layer(
    features: gpd.GeoDataFrame,
    table_name: str,
    taxonomy: Taxonomy | None,
    caller: str,
    tags: _Tags | None = None,
) -> gpd.GeoDataFrame:
    """The features a table classifies; ``tags``: their tags already read (else read here)."""
    _check(features, caller)
    table = _resolve(table_name, taxonomy)
    if tags is None:
        classes = classify(features, table)
    else:
        classes = _classify_tags(tags, table, features.index)
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


#: The classified layers of :func:`feature_layers`: name, table, and the function that
#: gives it alone.
LAYER_TABLES = (
    ("activities", "activities", "activities"),
    ("third_places", "third_places", "third_places"),
    ("landmarks", "landmarks", "landmarks"),
    ("green_blue", "green_blue", "green_blue"),
    ("candidates", "candidates", "candidate_sites"),
)


def feature_layers(
    features: gpd.GeoDataFrame, *, taxonomy: Taxonomy | None = None
) -> dict[str, gpd.GeoDataFrame]:
    """Every classified layer of the features, their tags read once for all the tables.

    The same layers as :func:`activities`, :func:`third_places`, :func:`landmarks`,
    :func:`green_blue` and :func:`candidate_sites` each give (and the same errors).

    Returns
    -------
    dict
        ``activities``, ``third_places``, ``landmarks``, ``green_blue``, ``candidates``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> f = gpd.GeoDataFrame({"osm_type": ["node"], "osm_id": [1], "name": ["Kahvila"],
    ...     "tags": [{"amenity": "cafe"}]}, geometry=[Point(0, 0)], crs="EPSG:3067")
    >>> {k: len(v) for k, v in feature_layers(f).items()}
    {'activities': 1, 'third_places': 1, 'landmarks': 0, 'green_blue': 0, 'candidates': 0}
    """
    _check(features, LAYER_TABLES[0][2])
    tags = _Tags(_tags_of(features, _where(_resolve(LAYER_TABLES[0][1], taxonomy))))
    return {
        name: _layer(features, table, taxonomy, caller, tags)
        for name, table, caller in LAYER_TABLES
    }
